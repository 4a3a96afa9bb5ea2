//! The Salesforce client: [`SalesforceClient`], built with [`SalesforceClientBuilder`].

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use connector_core::ConnectorError;
use connector_core::auth::{StaticTokenProvider, Token, TokenCache, TokenProvider};
use connector_core::http::{HttpClientBuilder, send_with_retry};
use connector_core::retry::{Backoff, Idempotency, RetryPolicy};
use connector_core::tls::TlsOptions;
use reqwest::{Method, StatusCode, header};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::auth::{Credentials, SalesforceTokenProvider};
use crate::error::{Result, SalesforceError, api_error};

/// A Salesforce API version (`62.0`). Bulk API 2.0 query jobs need 47.0 or later, so
/// older versions are refused when the client is built, before any request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

impl ApiVersion {
    /// The oldest version this client speaks: query jobs arrived in 47.0.
    pub const MIN: ApiVersion = ApiVersion::new(47, 0);
    /// The default: 62.0 (Winter '25), where `resultPages` is generally available.
    pub const DEFAULT: ApiVersion = ApiVersion::new(62, 0);
    /// The first version documenting `resultPages` (parallel result download).
    pub const RESULT_PAGES: ApiVersion = ApiVersion::new(58, 0);

    /// A version `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The major version (`62`).
    pub fn major(self) -> u16 {
        self.major
    }

    /// The path segment, `v62.0`.
    pub fn path(self) -> String {
        format!("v{self}")
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = SalesforceError;

    /// Reads `62.0`, `62`, `v62.0`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let (maj, min) = t.split_once('.').unwrap_or((t, "0"));
        match (maj.parse(), min.parse()) {
            (Ok(major), Ok(minor)) => Ok(Self { major, minor }),
            _ => Err(SalesforceError::Config(format!(
                "apiVersion {s:?} is not a version such as 62.0"
            ))),
        }
    }
}

/// How query and ingest jobs are polled: backoff between `initial` and `max_interval`,
/// giving up after `timeout` (default 24 hours: Salesforce jobs legitimately run for
/// hours, and a client-side timeout does not stop the job).
#[derive(Clone, Debug, PartialEq)]
pub struct PollOptions {
    /// The first wait (default 1 s).
    pub initial: Duration,
    /// The longest wait between polls (default 30 s).
    pub max_interval: Duration,
    /// How long to wait for a job in total (default 24 h).
    pub timeout: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(24 * 3600),
        }
    }
}

impl PollOptions {
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(self.initial, self.max_interval, 1.5)
    }
}

/// API usage from the `Sforce-Limit-Info` header of the latest response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiUsage {
    /// Requests used in the rolling 24 hours.
    pub used: u64,
    /// The org's allowance.
    pub max: u64,
}

/// Builds a [`SalesforceClient`].
#[derive(Debug)]
pub struct SalesforceClientBuilder {
    instance_url: Option<String>,
    token_url: Option<String>,
    credentials: Option<Credentials>,
    api_version: ApiVersion,
    http: HttpClientBuilder,
    retry: RetryPolicy,
    poll: PollOptions,
    session_lifetime: Option<Duration>,
    token_provider: Option<Arc<dyn TokenProvider>>,
}

impl SalesforceClientBuilder {
    /// A builder from the environment, or `None` when `SF_INSTANCE_URL` is not set:
    /// `SF_INSTANCE_URL` (the My Domain URL), then `SF_ACCESS_TOKEN`, or
    /// `SF_CLIENT_ID` and `SF_CLIENT_SECRET` for client credentials; `SF_API_VERSION`
    /// optionally. A variable that is missing or wrong is an error naming it.
    pub fn from_env() -> Result<Option<Self>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let Some(instance) = var("SF_INSTANCE_URL") else {
            return Ok(None);
        };
        let credentials = match (var("SF_ACCESS_TOKEN"), var("SF_CLIENT_ID")) {
            (Some(token), _) => Credentials::AccessToken(SecretString::from(token)),
            (None, Some(client_id)) => Credentials::ClientCredentials {
                client_id,
                client_secret: SecretString::from(var("SF_CLIENT_SECRET").ok_or_else(|| {
                    SalesforceError::Config(
                        "SF_CLIENT_ID is set but SF_CLIENT_SECRET is not".into(),
                    )
                })?),
            },
            (None, None) => {
                return Err(SalesforceError::Config(
                    "SF_INSTANCE_URL is set: set SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET"
                        .into(),
                ));
            }
        };
        let mut builder = SalesforceClient::builder()
            .instance_url(instance)
            .credentials(credentials);
        if let Some(v) = var("SF_API_VERSION") {
            builder = builder.api_version(v.parse::<ApiVersion>().map_err(|_| {
                SalesforceError::Config(format!(
                    "SF_API_VERSION={v:?} is not a version such as 62.0"
                ))
            })?);
        }
        Ok(Some(builder))
    }

    /// The org's URL: its My Domain (`https://MyCo.my.salesforce.com`). API calls go to
    /// the `instance_url` the token endpoint returns, this one until then.
    #[must_use]
    pub fn instance_url(mut self, url: impl Into<String>) -> Self {
        self.instance_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The host of the token endpoint, when it is not the instance URL
    /// (`https://login.salesforce.com` for JWT bearer or refresh tokens).
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Uses a token provider of your own instead of [`Credentials`].
    #[must_use]
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.token_provider = Some(provider);
        self
    }

    /// Sets the API version (default [`ApiVersion::DEFAULT`]); below 47.0 `build` fails.
    #[must_use]
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Sets TLS options.
    #[must_use]
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.http = self.http.with_tls(tls);
        self
    }

    /// Sets the request timeout (default 5 minutes: result pages can be large).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.with_timeout(timeout);
        self
    }

    /// Sets how 429, 5xx and dropped connections are retried.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how jobs are polled.
    #[must_use]
    pub fn poll(mut self, poll: PollOptions) -> Self {
        self.poll = poll;
        self
    }

    /// Treats tokens as expiring after `lifetime` (the org's session timeout) so they are
    /// renewed ahead of time rather than on the first 401.
    #[must_use]
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = Some(lifetime);
        self
    }

    /// Builds the client. A version below 47.0, a missing instance URL or credentials,
    /// an unreadable JWT key, or an `http://` URL while encrypted endpoints are
    /// required, is an error here, before any request.
    pub fn build(self) -> Result<SalesforceClient> {
        if self.api_version < ApiVersion::MIN {
            return Err(SalesforceError::Config(format!(
                "apiVersion {} is too old: Bulk API 2.0 query jobs need {} or later",
                self.api_version,
                ApiVersion::MIN
            )));
        }
        let instance_url = self.instance_url.ok_or_else(|| {
            SalesforceError::Config(
                "no instance URL: set the org's My Domain URL (environmentUrl)".into(),
            )
        })?;
        url::Url::parse(&instance_url).map_err(|e| {
            SalesforceError::Config(format!("instance URL {instance_url:?} is not a URL: {e}"))
        })?;
        let tls = self.http.tls().clone();
        tls.check_endpoint(&instance_url)?;
        let http = self.http.build()?;
        let provider: Arc<dyn TokenProvider> = match (self.token_provider, self.credentials) {
            (Some(p), _) => p,
            (None, Some(Credentials::AccessToken(token))) => {
                Arc::new(StaticTokenProvider::new(Token::bearer(token, None)))
            }
            (None, Some(credentials)) => {
                let token_base = self
                    .token_url
                    .clone()
                    .unwrap_or_else(|| instance_url.clone());
                tls.check_endpoint(&token_base)?;
                Arc::new(SalesforceTokenProvider::new(
                    http.clone(),
                    &token_base,
                    credentials,
                    self.session_lifetime,
                )?)
            }
            (None, None) => {
                return Err(SalesforceError::Config(
                    "no credentials: set client credentials, a JWT key, a refresh token or an access token"
                        .into(),
                ));
            }
        };
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                http,
                instance_url,
                tokens: TokenCache::new(provider),
                retry: self.retry,
                api_version: self.api_version,
                tls,
                poll: self.poll,
                usage: Mutex::new(None),
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    instance_url: String,
    tokens: TokenCache,
    retry: RetryPolicy,
    api_version: ApiVersion,
    tls: TlsOptions,
    poll: PollOptions,
    usage: Mutex<Option<ApiUsage>>,
}

/// A Salesforce REST and Bulk API 2.0 client. Cheap to clone.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("instance_url", &self.inner.instance_url)
            .field("api_version", &self.inner.api_version)
            .field("tokens", self.inner.tokens.provider())
            .finish_non_exhaustive()
    }
}

/// A request body.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    Json(Bytes),
    Csv(Bytes),
}

/// A request to the REST API.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Relative to `/services/data/vXX.X/`, or from the host when it starts with `/`.
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) accept: &'static str,
    /// `Accept-Encoding`: `gzip` unless a caller turned compression off.
    pub(crate) accept_encoding: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) idempotency: Idempotency,
}

impl Call {
    pub(crate) fn new(method: Method, path: impl Into<String>, operation: &'static str) -> Self {
        let idempotency = if method == Method::POST {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::None,
            accept: "application/json",
            accept_encoding: "gzip",
            operation,
            idempotency,
        }
    }

    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Body::Json(Bytes::from(body.to_string()));
        self
    }

    pub(crate) fn csv(mut self, body: Bytes) -> Self {
        self.body = Body::Csv(body);
        self
    }

    pub(crate) fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    pub(crate) fn accept_encoding(mut self, encoding: &'static str) -> Self {
        self.accept_encoding = encoding;
        self
    }
}

impl SalesforceClient {
    /// A builder.
    pub fn builder() -> SalesforceClientBuilder {
        SalesforceClientBuilder {
            instance_url: None,
            token_url: None,
            credentials: None,
            api_version: ApiVersion::DEFAULT,
            http: HttpClientBuilder::new(),
            retry: RetryPolicy::default(),
            poll: PollOptions::default(),
            session_lifetime: None,
            token_provider: None,
        }
    }

    /// The API version every request uses (results must be read with the version that
    /// created the job, or Salesforce answers 409).
    pub fn api_version(&self) -> ApiVersion {
        self.inner.api_version
    }

    /// The configured instance URL.
    pub fn configured_instance_url(&self) -> &str {
        &self.inner.instance_url
    }

    /// The instance URL the current token names (fetching a token if needed).
    pub async fn instance_url(&self) -> Result<String> {
        let token = self.inner.tokens.get().await?;
        Ok(self.instance_of(&token))
    }

    /// The polling options.
    pub fn poll_options(&self) -> &PollOptions {
        &self.inner.poll
    }

    /// API usage from the latest response's `Sforce-Limit-Info` header.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.inner.usage.lock().ok().and_then(|g| *g)
    }

    fn instance_of(&self, token: &Token) -> String {
        token
            .extra("instance_url")
            .map_or_else(|| self.inner.instance_url.clone(), str::to_owned)
    }

    fn url_of(&self, instance: &str, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if let Some(rest) = path.strip_prefix('/') {
            format!("{instance}/{rest}")
        } else {
            format!(
                "{instance}/services/data/{}/{path}",
                self.inner.api_version.path()
            )
        }
    }

    fn note_usage(&self, headers: &header::HeaderMap) {
        let Some(v) = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let usage = v
            .split(',')
            .filter_map(|p| p.trim().strip_prefix("api-usage="))
            .find_map(|u| {
                let (used, max) = u.split_once('/')?;
                Some(ApiUsage {
                    used: used.trim().parse().ok()?,
                    max: max.trim().parse().ok()?,
                })
            });
        if let (Some(u), Ok(mut g)) = (usage, self.inner.usage.lock()) {
            *g = Some(u);
        }
    }

    /// Sends a call: authenticates, retries 429/5xx/dropped connections, mints a new
    /// token once on 401, and turns unsuccessful answers into [`SalesforceError::Api`].
    /// Returns the successful response with its body unread (for streaming).
    pub(crate) async fn send(&self, call: &Call) -> Result<reqwest::Response> {
        let outcome = self
            .inner
            .tokens
            .with_token(|token| async move {
                let instance = self.instance_of(&token);
                let url = self.url_of(&instance, &call.path);
                self.inner.tls.check_endpoint(&url)?;
                let auth = token.header_value("Bearer")?;
                let response =
                    send_with_retry(&self.inner.retry, call.idempotency, call.operation, || {
                        let mut r = self
                            .inner
                            .http
                            .request(call.method.clone(), &url)
                            .header(header::AUTHORIZATION, auth.clone())
                            .header(header::ACCEPT, call.accept)
                            .header(header::ACCEPT_ENCODING, call.accept_encoding);
                        if !call.query.is_empty() {
                            r = r.query(&call.query);
                        }
                        match &call.body {
                            Body::None => r,
                            Body::Json(b) => r
                                .header(header::CONTENT_TYPE, "application/json")
                                .body(b.clone()),
                            Body::Csv(b) => {
                                r.header(header::CONTENT_TYPE, "text/csv").body(b.clone())
                            }
                        }
                    })
                    .await?;
                self.note_usage(response.headers());
                let status = response.status();
                if status.is_success() {
                    return Ok(Ok(response));
                }
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| connector_core::http::from_reqwest(e, call.operation))?;
                let err = api_error(call.operation, status.as_u16(), &bytes);
                if status == StatusCode::UNAUTHORIZED {
                    // An expired or revoked session: the cache mints a new token and the
                    // call is tried once more.
                    return Err(ConnectorError::from(err));
                }
                Ok(Err(err))
            })
            .await;
        match outcome {
            Ok(inner) => inner,
            Err(e) => Err(SalesforceError::Transport(e)),
        }
    }

    /// Sends a call and reads the JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let response = self.send(call).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| connector_core::http::from_reqwest(e, call.operation))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            SalesforceError::invalid_response(
                call.operation,
                format!(
                    "not the JSON expected ({e}): {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            )
        })
    }

    /// Sends a call whose answer body does not matter (204, 201).
    pub(crate) async fn empty(&self, call: &Call) -> Result<()> {
        let response = self.send(call).await?;
        let _ = response.bytes().await;
        Ok(())
    }

    /// A `GET` of any REST resource under `/services/data/vXX.X/` (`limits`,
    /// `sobjects/Account/describe`), as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        self.json(&Call::new(Method::GET, path, "salesforce.get"))
            .await
    }
}

#[cfg(feature = "emulator")]
impl crate::emulator::RunningEmulator {
    /// A client builder pointed at this emulator with its connected app's client
    /// credentials: plain HTTP allowed on its loopback port, or its generated
    /// certificate trusted when it serves TLS; jobs polled every 20–200 ms.
    pub fn client_builder(&self) -> SalesforceClientBuilder {
        let tls = match self.certificate_pem() {
            Some(pem) => TlsOptions::default()
                .with_root_certificate(connector_core::tls::CertificateSource::pem(pem.to_owned())),
            None => TlsOptions::default().with_encrypted_endpoints(false),
        };
        SalesforceClient::builder()
            .instance_url(self.base_url())
            .credentials(Credentials::ClientCredentials {
                client_id: self.client_id().to_owned(),
                client_secret: SecretString::from(self.client_secret().to_owned()),
            })
            .tls(tls)
            .poll(PollOptions {
                initial: Duration::from_millis(20),
                max_interval: Duration::from_millis(200),
                timeout: Duration::from_secs(3600),
            })
    }
}
