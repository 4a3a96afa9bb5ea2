//! Authentication: a static bearer token, OAuth 2.0 authorization code with refresh
//! token (how Zoho One's SCIM endpoint is reached), or client credentials. OAuth tokens
//! go through connector-core's [`TokenCache`]: refreshed before expiry, one refresh at a
//! time, and a 401 refreshes once and retries.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use connector_core::auth::{Token, TokenCache, TokenProvider};
use connector_core::{ConnectorError, ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How the client authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum ScimAuth {
    /// No `Authorization` header (servers that need none, or a proxy that adds it).
    None,
    /// A static bearer token (Entra non-gallery apps, Okta, most SaaS SCIM endpoints).
    Bearer(SecretString),
    /// OAuth 2.0 access tokens from a provider, cached and refreshed.
    OAuth(TokenCache),
}

impl fmt::Debug for ScimAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::OAuth(cache) => f.debug_tuple("OAuth").field(cache.provider()).finish(),
        }
    }
}

impl ScimAuth {
    /// A static bearer token.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Self::Bearer(token.into())
    }

    /// OAuth tokens from `provider`, cached.
    pub fn oauth(provider: impl TokenProvider + 'static) -> Self {
        Self::OAuth(TokenCache::new(Arc::new(provider)))
    }
}

/// Where a rotated refresh token is handed, so the caller can store it.
pub type RefreshTokenSink = Arc<dyn Fn(&SecretString) + Send + Sync>;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The tokens of an authorization-code exchange.
#[derive(Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token (present with `access_type=offline`).
    pub refresh_token: Option<SecretString>,
    /// Its lifetime.
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

async fn token_request(
    http: &reqwest::Client,
    token_url: &str,
    form: &[(&str, &str)],
    operation: &'static str,
) -> Result<TokenResponse, ConnectorError> {
    let response = http
        .post(token_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
    let status = response.status().as_u16();
    let retry_after = connector_core::http::retry_after(response.headers());
    let body = response
        .bytes()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
    let parsed: Option<TokenResponse> = serde_json::from_slice(&body).ok();
    match parsed {
        // Some servers (Zoho among them) answer token errors with HTTP 200.
        Some(t)
            if t.error.is_none() && (200..300).contains(&status) && t.access_token.is_some() =>
        {
            Ok(t)
        }
        Some(t) => {
            let code = t.error.unwrap_or_else(|| "no_access_token".to_owned());
            let kind = match (status, code.as_str()) {
                (429, _) => ErrorKind::RateLimited,
                (s, _) if s >= 500 => ErrorKind::Unavailable,
                (
                    _,
                    "invalid_client" | "invalid_grant" | "unauthorized_client" | "invalid_code",
                ) => ErrorKind::Unauthenticated,
                (_, "invalid_scope") => ErrorKind::PermissionDenied,
                _ => ErrorKind::Unauthenticated,
            };
            let mut e =
                ConnectorError::new(kind, operation, "the token endpoint refused the request")
                    .with_remote(Some(status), Some(code), t.error_description)
                    .with_context("token_url", token_url.to_owned());
            if let Some(after) = retry_after {
                e = e.with_retry_after(after);
            }
            Err(e)
        }
        None => Err(ConnectorError::new(
            connector_core::http::error_kind_for_status(status),
            operation,
            "the token endpoint's answer is not JSON",
        )
        .with_remote(
            Some(status),
            None::<String>,
            Some(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()),
        )
        .with_context("token_url", token_url.to_owned())),
    }
}

fn expires_in(v: Option<&serde_json::Value>) -> Option<Duration> {
    let secs = match v? {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

fn into_token(t: &TokenResponse, operation: &'static str) -> Result<Token, ConnectorError> {
    let access = t.access_token.clone().ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Unexpected,
            operation,
            "the token response has no access_token",
        )
    })?;
    let mut token = Token::new(
        SecretString::from(access),
        expires_in(t.expires_in.as_ref()),
    );
    if let Some(kind) = &t.token_type {
        token = token.with_token_type(kind.clone());
    }
    Ok(token)
}

/// OAuth 2.0 refresh-token grant: trades a long-lived refresh token for access tokens.
/// A rotated refresh token is kept and handed to the optional sink.
pub struct RefreshTokenProvider {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    refresh_token: Mutex<SecretString>,
    on_rotate: Option<RefreshTokenSink>,
}

impl fmt::Debug for RefreshTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenProvider")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl RefreshTokenProvider {
    /// A provider for the token endpoint `token_url`.
    pub fn new(
        http: reqwest::Client,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
        refresh_token: SecretString,
    ) -> Self {
        Self {
            http,
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            refresh_token: Mutex::new(refresh_token),
            on_rotate: None,
        }
    }

    /// Calls `sink` with every new refresh token the server rotates in.
    #[must_use]
    pub fn on_rotate(mut self, sink: RefreshTokenSink) -> Self {
        self.on_rotate = Some(sink);
        self
    }
}

#[async_trait]
impl TokenProvider for RefreshTokenProvider {
    async fn fetch_token(&self) -> connector_core::Result<Token> {
        let refresh = self.refresh_token.lock().map(|t| t.clone()).map_err(|_| {
            ConnectorError::new(
                ErrorKind::Unexpected,
                "scim.oauth.refresh",
                "token lock poisoned",
            )
        })?;
        let response = token_request(
            &self.http,
            &self.token_url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose_secret()),
                ("client_id", &self.client_id),
                ("client_secret", self.client_secret.expose_secret()),
            ],
            "scim.oauth.refresh",
        )
        .await?;
        if let Some(rotated) = &response.refresh_token {
            let rotated = SecretString::from(rotated.clone());
            if let Ok(mut slot) = self.refresh_token.lock() {
                *slot = rotated.clone();
            }
            if let Some(sink) = &self.on_rotate {
                sink(&rotated);
            }
        }
        into_token(&response, "scim.oauth.refresh")
    }
}

/// OAuth 2.0 client-credentials grant.
pub struct ClientCredentialsProvider {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    scope: Option<String>,
}

impl fmt::Debug for ClientCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsProvider")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ClientCredentialsProvider {
    /// A provider for the token endpoint `token_url`.
    pub fn new(
        http: reqwest::Client,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
        scope: Option<String>,
    ) -> Self {
        Self {
            http,
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            scope,
        }
    }
}

#[async_trait]
impl TokenProvider for ClientCredentialsProvider {
    async fn fetch_token(&self) -> connector_core::Result<Token> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let response = token_request(
            &self.http,
            &self.token_url,
            &form,
            "scim.oauth.client_credentials",
        )
        .await?;
        into_token(&response, "scim.oauth.client_credentials")
    }
}

/// The OAuth 2.0 authorization-code flow: the consent URL to send an administrator to,
/// and the exchange of the code it returns for tokens.
///
/// ```
/// use scim_client::auth::AuthorizationCodeFlow;
///
/// let flow = AuthorizationCodeFlow::zoho_one(
///     scim_client::auth::ZohoRegion::Eu,
///     "1000.CLIENTID",
///     "https://app.example.com/oauth/callback",
/// );
/// let url = flow.authorize_url("state-123");
/// assert!(url.starts_with("https://accounts.zoho.eu/oauth/v2/auth?"));
/// assert!(url.contains("scope=ZohoOne.SCIM.ALL") && url.contains("access_type=offline"));
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizationCodeFlow {
    /// The authorization endpoint.
    pub authorize_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// Where the authorization server sends the code.
    pub redirect_uri: String,
    /// The scope requested.
    pub scope: String,
}

/// Zoho's data centres, each with its own accounts server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZohoRegion {
    /// United States (`accounts.zoho.com`).
    Us,
    /// Europe.
    Eu,
    /// India.
    In,
    /// Australia.
    Au,
    /// Japan.
    Jp,
    /// Canada.
    Ca,
    /// Saudi Arabia.
    Sa,
    /// United Kingdom.
    Uk,
    /// China.
    Cn,
}

impl ZohoRegion {
    /// The accounts server of the region.
    pub fn accounts_url(self) -> &'static str {
        match self {
            Self::Us => "https://accounts.zoho.com",
            Self::Eu => "https://accounts.zoho.eu",
            Self::In => "https://accounts.zoho.in",
            Self::Au => "https://accounts.zoho.com.au",
            Self::Jp => "https://accounts.zoho.jp",
            Self::Ca => "https://accounts.zohocloud.ca",
            Self::Sa => "https://accounts.zoho.sa",
            Self::Uk => "https://accounts.zoho.uk",
            Self::Cn => "https://accounts.zoho.com.cn",
        }
    }
}

impl AuthorizationCodeFlow {
    /// A flow against any authorization server.
    pub fn new(
        authorize_url: impl Into<String>,
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        Self {
            authorize_url: authorize_url.into(),
            token_url: token_url.into(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope: scope.into(),
        }
    }

    /// Zoho One's SCIM consent in `region`, with scope `ZohoOne.SCIM.ALL`.
    pub fn zoho_one(
        region: ZohoRegion,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        let base = region.accounts_url();
        Self::new(
            format!("{base}/oauth/v2/auth"),
            format!("{base}/oauth/v2/token"),
            client_id,
            redirect_uri,
            "ZohoOne.SCIM.ALL",
        )
    }

    /// The URL to send the administrator to: asks for offline access (a refresh token)
    /// and for consent every time, as Zoho requires for a new refresh token.
    pub fn authorize_url(&self, state: &str) -> String {
        let query = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", self.scope.as_str()),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("state", state),
        ];
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let separator = if self.authorize_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}{query}", self.authorize_url)
    }

    /// Exchanges the code from the redirect for tokens.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        client_secret: &SecretString,
        code: &str,
    ) -> connector_core::Result<TokenSet> {
        let response = token_request(
            http,
            &self.token_url,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", &self.client_id),
                ("client_secret", client_secret.expose_secret()),
                ("redirect_uri", &self.redirect_uri),
            ],
            "scim.oauth.authorization_code",
        )
        .await?;
        let token = into_token(&response, "scim.oauth.authorization_code")?;
        Ok(TokenSet {
            access_token: token.access_token.clone(),
            refresh_token: response.refresh_token.map(SecretString::from),
            expires_in: expires_in(response.expires_in.as_ref()),
        })
    }
}
