//! Salesforce OAuth 2.0: client credentials against the org's My Domain, JWT bearer
//! (RS256, signed here with `ring` from a PEM key), refresh token (with the rotated
//! refresh token handed to a [`RefreshTokenStore`]), and a static access token.
//!
//! Tokens go through connector-core's [`TokenCache`](connector_core::auth::TokenCache):
//! one request to the token endpoint at a time, and a 401 `INVALID_SESSION_ID` mints a
//! new token once. Salesforce's token responses carry no `expires_in` (the session
//! lifetime is an org setting, 2 hours by default), so tokens are used until rejected
//! unless [`SalesforceClientBuilder::session_lifetime`](crate::SalesforceClientBuilder::session_lifetime)
//! says otherwise. The `instance_url` of the response is kept with the token and used
//! for every API call.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use connector_core::auth::{Token, TokenProvider};
use connector_core::http::send_with_retry;
use connector_core::retry::{Idempotency, RetryPolicy};
use connector_core::{ConnectorError, ErrorKind};
use ring::signature::RsaKeyPair;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::{Result, SalesforceError};

/// The JWT bearer audience of production orgs.
pub const PRODUCTION_AUDIENCE: &str = "https://login.salesforce.com";
/// The JWT bearer audience of sandboxes.
pub const SANDBOX_AUDIENCE: &str = "https://test.salesforce.com";

/// Where a rotated refresh token is kept. With Refresh Token Rotation on, every refresh
/// returns a new single-use refresh token and the old one stops working: it must be
/// persisted before the next refresh, or the grant is lost.
#[async_trait]
pub trait RefreshTokenStore: fmt::Debug + Send + Sync {
    /// Saves the new refresh token. An error fails the token request (the new access
    /// token is not used), so that a rotation is never silently lost.
    async fn save(&self, refresh_token: SecretString) -> connector_core::Result<()>;
}

/// How the client authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// OAuth 2.0 client credentials of a connected app (runs as its "run as" user). The
    /// token endpoint must be the org's My Domain, not login.salesforce.com.
    ClientCredentials {
        /// The consumer key.
        client_id: String,
        /// The consumer secret.
        client_secret: SecretString,
    },
    /// OAuth 2.0 JWT bearer: an assertion signed with the private key whose certificate
    /// is uploaded to the connected app.
    JwtBearer {
        /// The consumer key (`iss`).
        client_id: String,
        /// The user to act as (`sub`).
        username: String,
        /// The RSA private key, PEM (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA
        /// PRIVATE KEY`).
        private_key_pem: SecretString,
        /// The audience: [`PRODUCTION_AUDIENCE`], [`SANDBOX_AUDIENCE`] or a community URL.
        audience: String,
    },
    /// A refresh token traded for access tokens.
    RefreshToken {
        /// The consumer key.
        client_id: String,
        /// The consumer secret, when the connected app requires it.
        client_secret: Option<SecretString>,
        /// The refresh token.
        refresh_token: SecretString,
        /// Where a rotated refresh token is saved.
        store: Option<Arc<dyn RefreshTokenStore>>,
    },
    /// An access token obtained elsewhere; never refreshed.
    AccessToken(SecretString),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::JwtBearer {
                client_id,
                username,
                audience,
                ..
            } => f
                .debug_struct("JwtBearer")
                .field("client_id", client_id)
                .field("username", username)
                .field("audience", audience)
                .finish_non_exhaustive(),
            Self::RefreshToken {
                client_id, store, ..
            } => f
                .debug_struct("RefreshToken")
                .field("client_id", client_id)
                .field("store", store)
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
    instance_url: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// The parsed signing key of a JWT bearer flow.
struct JwtKey(RsaKeyPair);

impl JwtKey {
    fn from_pem(pem: &str) -> Result<Self> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
            SalesforceError::Config(format!("JWT bearer: the private key is not a PEM key: {e}"))
        })?;
        let pair = match &der {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(SalesforceError::Config(
                    "JWT bearer: the private key must be an RSA key (RS256)".into(),
                ));
            }
        }
        .map_err(|e| {
            SalesforceError::Config(format!("JWT bearer: the RSA private key is invalid: {e}"))
        })?;
        Ok(Self(pair))
    }

    /// `header.claims.signature`, RS256.
    fn sign(&self, claims: &serde_json::Value) -> Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{body}");
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SalesforceError::Config("JWT bearer: signing failed".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The assertion a JWT bearer flow posts, valid for three minutes (as simple-salesforce
/// does). Public so that an application can check its key and claims offline.
pub fn jwt_assertion(
    private_key_pem: &SecretString,
    client_id: &str,
    username: &str,
    audience: &str,
) -> Result<String> {
    let key = JwtKey::from_pem(private_key_pem.expose_secret())?;
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + 180;
    key.sign(&serde_json::json!({
        "iss": client_id,
        "sub": username,
        "aud": audience,
        "exp": exp,
    }))
}

/// A [`TokenProvider`] posting to `{token_base}/services/oauth2/token`.
pub struct SalesforceTokenProvider {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    /// The current refresh token (rotated ones replace it).
    refresh_token: Mutex<Option<SecretString>>,
    jwt_key: Option<Arc<JwtKey>>,
    lifetime: Option<Duration>,
    retry: RetryPolicy,
}

impl fmt::Debug for SalesforceTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceTokenProvider")
            .field("token_url", &self.token_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl SalesforceTokenProvider {
    /// A provider for `credentials` at `token_base` (the My Domain URL, or
    /// login/test.salesforce.com for JWT bearer and refresh tokens). A JWT key that
    /// cannot be read is an error here, before any request.
    pub fn new(
        http: reqwest::Client,
        token_base: &str,
        credentials: Credentials,
        lifetime: Option<Duration>,
    ) -> Result<Self> {
        let jwt_key = match &credentials {
            Credentials::JwtBearer {
                private_key_pem, ..
            } => Some(Arc::new(JwtKey::from_pem(private_key_pem.expose_secret())?)),
            _ => None,
        };
        let refresh_token = match &credentials {
            Credentials::RefreshToken { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        };
        Ok(Self {
            http,
            token_url: format!("{}/services/oauth2/token", token_base.trim_end_matches('/')),
            credentials,
            refresh_token: Mutex::new(refresh_token),
            jwt_key,
            lifetime,
            retry: RetryPolicy::default().with_max_attempts(3),
        })
    }

    fn current_refresh_token(&self) -> Option<SecretString> {
        self.refresh_token.lock().map(|g| g.clone()).unwrap_or(None)
    }
}

const TOKEN_OP: &str = "salesforce.oauth_token";

#[async_trait]
impl TokenProvider for SalesforceTokenProvider {
    async fn fetch_token(&self) -> connector_core::Result<Token> {
        let mut form: Vec<(&str, String)> = Vec::new();
        let idempotency = match &self.credentials {
            Credentials::AccessToken(token) => {
                return Ok(Token::bearer(token.clone(), None));
            }
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_id", client_id.clone()));
                form.push(("client_secret", client_secret.expose_secret().to_owned()));
                Idempotency::Idempotent
            }
            Credentials::JwtBearer {
                client_id,
                username,
                audience,
                ..
            } => {
                let key = self
                    .jwt_key
                    .as_ref()
                    .ok_or_else(|| ConnectorError::config(TOKEN_OP, "JWT bearer without a key"))?;
                let exp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs()
                    + 180;
                let assertion = key
                    .sign(&serde_json::json!({
                        "iss": client_id, "sub": username, "aud": audience, "exp": exp,
                    }))
                    .map_err(ConnectorError::from)?;
                form.push((
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                ));
                form.push(("assertion", assertion));
                Idempotency::Idempotent
            }
            Credentials::RefreshToken {
                client_id,
                client_secret,
                ..
            } => {
                let refresh = self
                    .current_refresh_token()
                    .ok_or_else(|| ConnectorError::config(TOKEN_OP, "no refresh token"))?;
                form.push(("grant_type", "refresh_token".into()));
                form.push(("client_id", client_id.clone()));
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose_secret().to_owned()));
                }
                form.push(("refresh_token", refresh.expose_secret().to_owned()));
                // Under rotation, redeeming a refresh token twice revokes the grant.
                Idempotency::NonIdempotent
            }
        };
        let response = send_with_retry(&self.retry, idempotency, TOKEN_OP, || {
            self.http
                .post(&self.token_url)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        })
        .await?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| connector_core::http::from_reqwest(e, TOKEN_OP))?;
        if !(200..300).contains(&status) {
            let (code, message) = crate::error::parse_error_body(status, &body);
            let kind = match code.as_str() {
                "invalid_grant"
                | "invalid_client"
                | "invalid_client_id"
                | "unauthorized_client" => ErrorKind::Unauthenticated,
                "unsupported_grant_type" | "invalid_request" => ErrorKind::InvalidConfig,
                _ => connector_core::http::error_kind_for_status(status),
            };
            let hint = match (&self.credentials, code.as_str()) {
                (
                    Credentials::ClientCredentials { .. },
                    "unsupported_grant_type" | "invalid_grant",
                ) => {
                    " (client credentials need the org's My Domain URL and a connected app with the flow enabled and a run-as user)"
                }
                _ => "",
            };
            return Err(ConnectorError::new(
                kind,
                TOKEN_OP,
                format!("the token endpoint refused the credentials{hint}"),
            )
            .with_remote(Some(status), Some(code), Some(message))
            .with_context("token_url", self.token_url.clone()));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            ConnectorError::new(
                ErrorKind::Unexpected,
                TOKEN_OP,
                format!("the token response is not JSON: {e}"),
            )
        })?;
        let access = parsed.access_token.ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Unexpected,
                TOKEN_OP,
                "no access_token in the token response",
            )
        })?;
        if let (Credentials::RefreshToken { store, .. }, Some(rotated)) =
            (&self.credentials, parsed.refresh_token)
        {
            let rotated = SecretString::from(rotated);
            if let Some(store) = store {
                store.save(rotated.clone()).await?;
            }
            if let Ok(mut guard) = self.refresh_token.lock() {
                *guard = Some(rotated);
            }
        }
        let mut token = Token::bearer(SecretString::from(access), self.lifetime);
        if let Some(t) = parsed.token_type {
            token = token.with_token_type(t);
        }
        if let Some(url) = parsed.instance_url {
            token = token.with_extra("instance_url", url.trim_end_matches('/'));
        }
        if let Some(id) = parsed.id {
            token = token.with_extra("id", id);
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::ClientCredentials {
            client_id: "key".into(),
            client_secret: SecretString::from("hunter2"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = Credentials::AccessToken(SecretString::from("00Dxx!token"));
        assert!(!format!("{c:?}").contains("token"));
    }

    #[test]
    fn bad_pem_is_a_config_error() {
        let e = jwt_assertion(
            &SecretString::from("not a key"),
            "a",
            "b",
            PRODUCTION_AUDIENCE,
        )
        .unwrap_err();
        assert!(matches!(e, SalesforceError::Config(_)), "{e}");
    }
}
