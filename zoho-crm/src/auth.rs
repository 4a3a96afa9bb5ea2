//! Zoho accounts: the token flows (refresh token, Self Client client credentials with
//! `soid`, authorization code, a static access token), revocation, and the consent URL.
//!
//! Tokens go through connector-core's token cache: refreshed before expiry and one at a
//! time (Zoho allows only ten access-token requests per ten minutes per refresh token,
//! so refresh storms lock an integration out). The `api_domain` a token response names
//! is kept with the token and used for every API call.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::auth::{Token, TokenProvider};
use connector_core::retry::{Backoff, Idempotency, RetryPolicy, retry};
use connector_core::{ConnectorError, ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::dc::Endpoints;

/// How the client authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A refresh token from a consent (`access_type=offline`), traded for access tokens.
    RefreshToken {
        /// The client id from the API console.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The refresh token.
        refresh_token: SecretString,
    },
    /// A Self Client's client credentials, for one org (`soid`, e.g. `ZohoCRM.600123456`
    /// or just the org id) and scopes (`ZohoCRM.users.ALL`).
    ClientCredentials {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// The scopes, comma-separated (`ZohoCRM.users.ALL,ZohoCRM.modules.READ`).
        scope: String,
        /// The org id, with or without the `ZohoCRM.` prefix.
        soid: String,
    },
    /// An access token obtained elsewhere (Azure Data Factory's "Access Token"); it is
    /// not refreshed.
    AccessToken(SecretString),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RefreshToken { client_id, .. } => f
                .debug_struct("RefreshToken")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::ClientCredentials {
                client_id,
                scope,
                soid,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("scope", scope)
                .field("soid", soid)
                .finish_non_exhaustive(),
            Self::AccessToken(_) => f.write_str("AccessToken(<redacted>)"),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    api_domain: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    expires_in_sec: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

fn seconds(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl TokenResponse {
    /// The lifetime: `expires_in_sec` when present (the legacy format had milliseconds
    /// in `expires_in`), else `expires_in` in seconds.
    fn lifetime(&self) -> Option<Duration> {
        seconds(self.expires_in_sec.as_ref())
            .or_else(|| seconds(self.expires_in.as_ref()))
            .map(Duration::from_secs)
    }
}

/// The tokens of an authorization-code exchange.
#[derive(Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token (first consent with `access_type=offline`, or `prompt=consent`).
    pub refresh_token: Option<SecretString>,
    /// The API domain to call.
    pub api_domain: Option<String>,
    /// The access token's lifetime.
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("api_domain", &self.api_domain)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Posts to the token endpoint and classifies Zoho's answers, which come back as HTTP
/// 200 even for errors.
async fn token_call(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    form: &[(&str, &str)],
    operation: &'static str,
) -> Result<TokenResponse, ConnectorError> {
    let url = format!("{}/oauth/v2/token", endpoints.accounts_url);
    let response = http
        .post(&url)
        .form(form)
        .send()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
    let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
        ConnectorError::new(
            connector_core::http::error_kind_for_status(status),
            operation,
            "the accounts server's answer is not JSON",
        )
        .with_remote(
            Some(status),
            None::<String>,
            Some(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()),
        )
        .with_context("accounts_server", endpoints.accounts_url.clone())
    })?;
    if parsed.access_token.is_some() && parsed.error.is_none() {
        return Ok(parsed);
    }
    let code = parsed
        .error
        .clone()
        .unwrap_or_else(|| "no_access_token".to_owned());
    let dc = endpoints.data_centre.map_or_else(
        || endpoints.accounts_url.clone(),
        |d| format!("{d} ({})", endpoints.accounts_url),
    );
    let (kind, message) = match code.as_str() {
        "invalid_client" => (
            ErrorKind::Unauthenticated,
            format!(
                "the accounts server of data centre {dc} does not know this client id: the org is probably in another data centre"
            ),
        ),
        "invalid_client_secret" => (
            ErrorKind::Unauthenticated,
            "the client secret is wrong".to_owned(),
        ),
        "invalid_code" => (
            ErrorKind::Unauthenticated,
            "the grant code or refresh token is invalid, expired, used or revoked".to_owned(),
        ),
        "invalid_redirect_uri" => (
            ErrorKind::InvalidConfig,
            "the redirect URI does not match the client's".to_owned(),
        ),
        "missing_org_info" => (
            ErrorKind::InvalidConfig,
            "client credentials need the org id (soid)".to_owned(),
        ),
        "invalid_scope" => (
            ErrorKind::PermissionDenied,
            "a requested scope is not valid for this client".to_owned(),
        ),
        "Access Denied" => (
            ErrorKind::RateLimited,
            "Zoho throttled token requests (at most ten per ten minutes per refresh token)"
                .to_owned(),
        ),
        other => (
            ErrorKind::Unauthenticated,
            format!("the accounts server refused the request ({other})"),
        ),
    };
    let mut err = ConnectorError::new(kind, operation, message)
        .with_remote(Some(status), Some(code), parsed.error_description)
        .with_context("accounts_server", endpoints.accounts_url.clone());
    if kind == ErrorKind::RateLimited {
        err = err.with_retry_after(Duration::from_secs(60));
    }
    Err(err)
}

/// Fetches access tokens for [`Credentials`]; plug it into a token cache.
pub struct ZohoTokenProvider {
    http: reqwest::Client,
    endpoints: Endpoints,
    credentials: Credentials,
    throttle_retry: RetryPolicy,
}

impl fmt::Debug for ZohoTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoTokenProvider")
            .field("accounts_url", &self.endpoints.accounts_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl ZohoTokenProvider {
    /// A provider for `credentials` against `endpoints`' accounts server.
    pub fn new(http: reqwest::Client, endpoints: Endpoints, credentials: Credentials) -> Self {
        Self {
            http,
            endpoints,
            credentials,
            // Zoho's throttle lasts the rest of a ten-minute window.
            throttle_retry: RetryPolicy::default()
                .with_max_attempts(4)
                .with_max_elapsed(Duration::from_secs(11 * 60))
                .with_backoff(Backoff::new(
                    Duration::from_secs(30),
                    Duration::from_secs(300),
                    2.0,
                )),
        }
    }

    /// Sets how throttled token requests are retried.
    #[must_use]
    pub fn with_throttle_retry(mut self, policy: RetryPolicy) -> Self {
        self.throttle_retry = policy;
        self
    }

    fn token(&self, response: TokenResponse) -> Token {
        let access = response.access_token.clone().unwrap_or_default();
        let api_domain = response
            .api_domain
            .clone()
            .unwrap_or_else(|| self.endpoints.api_domain.clone());
        Token::new(SecretString::from(access), response.lifetime())
            .with_extra("api_domain", api_domain)
    }
}

#[async_trait]
impl TokenProvider for ZohoTokenProvider {
    async fn fetch_token(&self) -> connector_core::Result<Token> {
        match &self.credentials {
            Credentials::AccessToken(token) => Ok(Token::new(token.clone(), None)
                .with_extra("api_domain", self.endpoints.api_domain.clone())),
            Credentials::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose_secret()),
                    ("refresh_token", refresh_token.expose_secret()),
                ];
                let response = retry(&self.throttle_retry, Idempotency::Idempotent, |_| {
                    token_call(&self.http, &self.endpoints, &form, "zoho.oauth.refresh")
                })
                .await?;
                Ok(self.token(response))
            }
            Credentials::ClientCredentials {
                client_id,
                client_secret,
                scope,
                soid,
            } => {
                let soid = if soid.contains('.') {
                    soid.clone()
                } else {
                    format!("ZohoCRM.{soid}")
                };
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose_secret()),
                    ("scope", scope.as_str()),
                    ("soid", soid.as_str()),
                ];
                let response = retry(&self.throttle_retry, Idempotency::Idempotent, |_| {
                    token_call(
                        &self.http,
                        &self.endpoints,
                        &form,
                        "zoho.oauth.client_credentials",
                    )
                })
                .await?;
                Ok(self.token(response))
            }
        }
    }
}

/// The consent URL an administrator opens to grant access, and the exchange of the code
/// it returns.
///
/// ```
/// use zoho_crm::auth::AuthorizationRequest;
/// use zoho_crm::dc::{DataCentre, Endpoints, Environment};
///
/// let request = AuthorizationRequest::new("1000.CLIENT", "https://app.example.com/callback")
///     .scope("ZohoCRM.users.ALL")
///     .scope("ZohoCRM.modules.ALL");
/// let url = request.url(&Endpoints::of(DataCentre::Eu, Environment::Production), "state-1");
/// assert!(url.starts_with("https://accounts.zoho.eu/oauth/v2/auth?"));
/// assert!(url.contains("access_type=offline") && url.contains("prompt=consent"));
/// assert!(url.contains("scope=ZohoCRM.users.ALL%2CZohoCRM.modules.ALL"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The client id.
    pub client_id: String,
    /// Where the code is sent.
    pub redirect_uri: String,
    /// Scopes.
    pub scopes: Vec<String>,
}

impl AuthorizationRequest {
    /// A request with no scopes yet.
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
        }
    }

    /// Adds a scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// The consent URL: offline access (a refresh token) and consent every time, the
    /// only way to get a new refresh token after the first.
    pub fn url(&self, endpoints: &Endpoints, state: &str) -> String {
        let scopes = self.scopes.join(",");
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", self.client_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("scope", scopes.as_str()),
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("state", state),
            ])
            .finish();
        format!("{}/oauth/v2/auth?{query}", endpoints.accounts_url)
    }

    /// Exchanges the code of the redirect for tokens, at the accounts server of the
    /// redirect's `accounts-server` (use [`Endpoints`] of that data centre).
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        endpoints: &Endpoints,
        client_secret: &SecretString,
        code: &str,
    ) -> connector_core::Result<TokenSet> {
        let response = token_call(
            http,
            endpoints,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &self.client_id),
                ("client_secret", client_secret.expose_secret()),
                ("redirect_uri", &self.redirect_uri),
                ("code", code),
            ],
            "zoho.oauth.authorization_code",
        )
        .await?;
        Ok(TokenSet {
            expires_in: response.lifetime(),
            access_token: SecretString::from(response.access_token.unwrap_or_default()),
            refresh_token: response.refresh_token.map(SecretString::from),
            api_domain: response.api_domain,
        })
    }
}

/// Revokes a refresh token (and its access tokens) or an access token.
pub async fn revoke(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    token: &SecretString,
) -> connector_core::Result<()> {
    const OP: &str = "zoho.oauth.revoke";
    let url = format!("{}/oauth/v2/token/revoke", endpoints.accounts_url);
    let response = http
        .post(&url)
        .query(&[("token", token.expose_secret())])
        .send()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, OP))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(connector_core::http::error_from_response(response, OP).await)
    }
}
