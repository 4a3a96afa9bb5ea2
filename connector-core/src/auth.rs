//! Access tokens: [`Token`], the [`TokenProvider`] trait, and [`TokenCache`], which
//! refreshes ahead of expiry with a single refresh in flight.
//!
//! A vendor crate implements [`TokenProvider`] for its OAuth flow (Zoho's refresh-token
//! grant, Salesforce's client-credentials or JWT bearer flow) and wraps it in a
//! [`TokenCache`]; requests then go through [`TokenCache::with_token`], which refreshes
//! and tries once more when the server answers
//! [`Unauthenticated`](ErrorKind::Unauthenticated) (an expired or revoked token).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_trait::async_trait;
//! use connector_core::auth::{Token, TokenCache, TokenProvider};
//! use secrecy::{ExposeSecret, SecretString};
//!
//! #[derive(Debug)]
//! struct MyOAuth; // would hold a client and the refresh token (as a SecretString)
//!
//! #[async_trait]
//! impl TokenProvider for MyOAuth {
//!     async fn fetch_token(&self) -> connector_core::Result<Token> {
//!         // POST to the token endpoint here.
//!         Ok(Token::bearer(SecretString::from("abc"), Some(Duration::from_secs(3600)))
//!             .with_extra("api_domain", "https://www.zohoapis.eu"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> connector_core::Result<()> {
//! let tokens = TokenCache::new(Arc::new(MyOAuth));
//! let status = tokens
//!     .with_token(|token| async move {
//!         let header = token.authorization_value("Zoho-oauthtoken");
//!         assert_eq!(header.expose_secret(), "Zoho-oauthtoken abc");
//!         // send the request with the header here
//!         Ok(200)
//!     })
//!     .await?;
//! assert_eq!(status, 200);
//! # Ok(())
//! # }
//! ```

// `ConnectorError` is the crate's fixed, rich error type; boxing it per call would not help.
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{ConnectorError, ErrorKind, Result};
use crate::secret::secrets_equal;

/// The current time on the clock tokens are measured with.
///
/// `tokio::time::Instant::now()` is `std::time::Instant::now()` outside tests; under
/// tokio's paused test clock it follows the virtual time, so expiry can be tested without
/// waiting.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// An access token, with when it expires and what else the token endpoint returned.
///
/// `expires_at` is a monotonic [`Instant`] rather than a `SystemTime`: token endpoints
/// give a lifetime (`expires_in` seconds), not a date, and a monotonic clock is not fooled
/// by wall-clock jumps. `Debug` never shows the token.
#[derive(Clone)]
#[non_exhaustive]
pub struct Token {
    /// The token itself.
    pub access_token: SecretString,
    /// When it expires; `None` when the server did not say (Salesforce's session tokens),
    /// in which case it is used until a request is rejected as unauthenticated.
    pub expires_at: Option<Instant>,
    /// The token type the server reported (`Bearer`).
    pub token_type: Option<String>,
    /// Other, non-secret, values of the token response the client needs: Zoho's
    /// `api_domain`, Salesforce's `instance_url`. Never put secrets here.
    pub extra: BTreeMap<String, String>,
}

impl Token {
    /// A token that expires `expires_in` from now (never, if `None`).
    pub fn new(access_token: SecretString, expires_in: Option<Duration>) -> Self {
        Self {
            access_token,
            expires_at: expires_in.map(|d| now() + d),
            token_type: None,
            extra: BTreeMap::new(),
        }
    }

    /// A `Bearer` token that expires `expires_in` from now (never, if `None`).
    pub fn bearer(access_token: SecretString, expires_in: Option<Duration>) -> Self {
        Self::new(access_token, expires_in).with_token_type("Bearer")
    }

    /// Sets the token type.
    #[must_use]
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.token_type = Some(token_type.into());
        self
    }

    /// Sets the expiry instant.
    #[must_use]
    pub fn with_expires_at(mut self, expires_at: Option<Instant>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// Adds a non-secret value from the token response (`api_domain`, `instance_url`).
    #[must_use]
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// A value from [`extra`](Self::extra).
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extra.get(key).map(String::as_str)
    }

    /// How long until it expires (zero if it has); `None` if no expiry is known.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_at
            .map(|at| at.saturating_duration_since(now()))
    }

    /// Whether it has expired.
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= now())
    }

    /// The `Authorization` header value `"<scheme> <token>"`, still wrapped: `Bearer` for
    /// most APIs, `Zoho-oauthtoken` for Zoho.
    pub fn authorization_value(&self, scheme: &str) -> SecretString {
        SecretString::from(format!("{scheme} {}", self.access_token.expose_secret()))
    }

    /// The `Authorization` header value `"<scheme> <token>"` as an
    /// [`http::HeaderValue`] marked sensitive (so `http` and `reqwest` redact it in
    /// `Debug` and HTTP/2 header compression does not index it). An
    /// [`InvalidInput`](ErrorKind::InvalidInput) error if the token has characters a
    /// header cannot carry; the message does not show it.
    pub fn header_value(&self, scheme: &str) -> Result<http::HeaderValue> {
        let value = self.authorization_value(scheme);
        let mut header = http::HeaderValue::from_str(value.expose_secret()).map_err(|_| {
            ConnectorError::new(
                ErrorKind::InvalidInput,
                "auth.header_value",
                "the access token contains characters not allowed in an HTTP header",
            )
        })?;
        header.set_sensitive(true);
        Ok(header)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"********")
            .field("expires_in", &self.expires_in())
            .field("token_type", &self.token_type)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Fetches a new access token: one OAuth flow.
///
/// The `Debug` implementation must not show secrets (client secret, refresh token): hold
/// them as [`SecretString`]s, whose `Debug` is redacted.
///
/// Implementations do the request and nothing else: [`TokenCache`] decides when to call,
/// and makes sure only one call runs at a time. Wrap the request in
/// [`retry`](crate::retry::retry) if the token endpoint should be retried.
#[async_trait]
pub trait TokenProvider: fmt::Debug + Send + Sync {
    /// Fetches a new token.
    async fn fetch_token(&self) -> Result<Token>;
}

/// A [`TokenProvider`] that always returns the same token (an API key, a personal access
/// token, a SCIM bearer token from the identity provider's admin page).
#[derive(Clone)]
pub struct StaticTokenProvider {
    token: Token,
}

impl StaticTokenProvider {
    /// Always returns `token`.
    pub fn new(token: Token) -> Self {
        Self { token }
    }

    /// Always returns a `Bearer` token that never expires.
    pub fn bearer(access_token: SecretString) -> Self {
        Self::new(Token::bearer(access_token, None))
    }
}

impl fmt::Debug for StaticTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenProvider")
            .field("token", &self.token)
            .finish()
    }
}

#[async_trait]
impl TokenProvider for StaticTokenProvider {
    async fn fetch_token(&self) -> Result<Token> {
        Ok(self.token.clone())
    }
}

/// The outcome of one refresh, shared by everyone waiting for it.
type FetchOutcome = std::result::Result<(Arc<Token>, Instant), Arc<ConnectorError>>;
type Refresh = Shared<BoxFuture<'static, FetchOutcome>>;

struct Cached {
    token: Arc<Token>,
    fetched_at: Instant,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    refresh: Option<Refresh>,
}

struct Inner {
    provider: Arc<dyn TokenProvider>,
    min_ttl: Duration,
    state: Mutex<State>,
}

/// Caches a [`TokenProvider`]'s token and refreshes it ahead of expiry.
///
/// - [`get`](Self::get) returns the cached token unless it expires within `min_ttl`
///   (default 5 minutes, but never more than half the token's lifetime, so 60-second
///   tokens are not refreshed on every call);
/// - only one refresh runs at a time: concurrent callers wait for it and share its result
///   (`object_store`'s `TokenCache`, made single-flight);
/// - a failed refresh is returned to every caller waiting for it and not cached: the next
///   call tries again;
/// - [`invalidate`](Self::invalidate) drops a token the server rejected, unless it has
///   already been replaced.
///
/// Cheap to clone: clones share the cache. The internal lock is never held across an
/// `await`.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("TokenCache")
            .field("provider", &self.inner.provider)
            .field("min_ttl", &self.inner.min_ttl)
            .field("cached", &state.cached.as_ref().map(|c| &c.token))
            .field("refreshing", &state.refresh.is_some())
            .finish()
    }
}

impl TokenCache {
    /// A cache over `provider`, refreshing 5 minutes before expiry.
    pub fn new(provider: Arc<dyn TokenProvider>) -> Self {
        Self::with_min_ttl(provider, Duration::from_secs(300))
    }

    /// A cache over `provider`, refreshing `min_ttl` before expiry (or at half the
    /// token's lifetime, if that is sooner).
    pub fn with_min_ttl(provider: Arc<dyn TokenProvider>, min_ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                min_ttl,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn TokenProvider> {
        &self.inner.provider
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement, so a poisoned lock is usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn is_fresh(&self, cached: &Cached, now: Instant) -> bool {
        let Some(expires_at) = cached.token.expires_at else {
            return true;
        };
        let lifetime = expires_at.saturating_duration_since(cached.fetched_at);
        let margin = self.inner.min_ttl.min(lifetime / 2);
        expires_at.saturating_duration_since(now) > margin
    }

    /// The cached token, or a new one if there is none or it expires soon.
    ///
    /// When several callers need a new token at once, one refresh runs and all of them
    /// get its result; an error is shared the same way (a copy for each caller, with the
    /// original error's text).
    pub async fn get(&self) -> Result<Arc<Token>> {
        let refresh = {
            let mut state = self.lock();
            if let Some(cached) = &state.cached
                && self.is_fresh(cached, now())
            {
                return Ok(cached.token.clone());
            }
            match &state.refresh {
                Some(refresh) => refresh.clone(),
                None => {
                    let provider = self.inner.provider.clone();
                    let refresh = async move {
                        tracing::debug!("fetching a new access token");
                        let fetched_at = now();
                        match provider.fetch_token().await {
                            Ok(token) => Ok((Arc::new(token), fetched_at)),
                            Err(err) => Err(Arc::new(err)),
                        }
                    }
                    .boxed()
                    .shared();
                    state.refresh = Some(refresh.clone());
                    refresh
                }
            }
        };
        let outcome = refresh.clone().await;
        {
            // Whoever sees the refresh finish first records it; the others find it gone.
            let mut state = self.lock();
            if state.refresh.as_ref().is_some_and(|r| r.ptr_eq(&refresh)) {
                state.refresh = None;
                if let Ok((token, fetched_at)) = &outcome {
                    state.cached = Some(Cached {
                        token: token.clone(),
                        fetched_at: *fetched_at,
                    });
                }
            }
        }
        match outcome {
            Ok((token, _)) => Ok(token),
            Err(err) => {
                tracing::debug!(kind = %err.kind(), "fetching an access token failed");
                Err(copy_error(&err))
            }
        }
    }

    /// Drops the cached token if it is still `token` (the one a request was rejected
    /// with), so the next [`get`](Self::get) fetches a new one. A token that was already
    /// replaced by a newer one is left alone.
    pub fn invalidate(&self, token: &Token) {
        let mut state = self.lock();
        let same = state.cached.as_ref().is_some_and(|c| {
            std::ptr::eq(Arc::as_ptr(&c.token), token)
                || secrets_equal(&c.token.access_token, &token.access_token)
        });
        if same {
            state.cached = None;
        }
    }

    /// Calls `f` with a token; if it fails with
    /// [`Unauthenticated`](ErrorKind::Unauthenticated), invalidates that token and calls
    /// `f` once more with a new one.
    pub async fn with_token<T, F, Fut>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(Arc<Token>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.get().await?;
        match f(token.clone()).await {
            Err(err) if err.kind() == ErrorKind::Unauthenticated => {
                tracing::debug!(
                    operation = err.operation(),
                    "token rejected as unauthenticated; refreshing and trying once more"
                );
                self.invalidate(&token);
                let token = self.get().await?;
                f(token).await
            }
            other => other,
        }
    }
}

/// A copy of a shared error for one caller: same kind, status, operation, message, remote
/// error, context, retry-after and not-sent flag; its source is the original's source.
fn copy_error(err: &Arc<ConnectorError>) -> ConnectorError {
    let mut copy = ConnectorError::new(err.kind(), err.operation().to_owned(), err.message())
        .with_status(err.status());
    if let Some(remote) = err.remote() {
        copy = copy.with_remote(
            remote.http_status,
            remote.code.clone(),
            remote.message.clone(),
        );
    }
    for &(key, ref value) in err.context() {
        copy = copy.with_context(key, value.clone());
    }
    if let Some(after) = err.retry_after() {
        copy = copy.with_retry_after(after);
    }
    if err.was_not_sent() {
        copy = copy.not_sent();
    }
    if std::error::Error::source(err.as_ref()).is_some() {
        copy = copy.with_source(SharedSource(err.clone()));
    }
    copy
}

/// The source of a shared [`ConnectorError`], presented as if it were its own.
struct SharedSource(Arc<ConnectorError>);

impl SharedSource {
    fn inner(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0.as_ref())
    }
}

impl fmt::Display for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner() {
            Some(source) => fmt::Display::fmt(source, f),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner() {
            Some(source) => fmt::Debug::fmt(source, f),
            None => Ok(()),
        }
    }
}

impl std::error::Error for SharedSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().and_then(std::error::Error::source)
    }
}
