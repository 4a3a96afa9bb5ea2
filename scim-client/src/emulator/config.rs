//! [`EmulatorConfig`]: how an emulator is started.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// The bearer token an emulator accepts unless configured otherwise.
pub const DEFAULT_TOKEN: &str = "emulator-token";

/// The base path the SCIM endpoints are served under unless configured otherwise,
/// as scim2-server does: the base URL is `http://127.0.0.1:PORT/v2`.
pub const DEFAULT_BASE_PATH: &str = "/v2";

/// The default page cap (`filter.maxResults`, RFC 9865 `maxPageSize`).
pub const DEFAULT_MAX_RESULTS: usize = 200;

/// The default `bulk.maxOperations`.
pub const DEFAULT_BULK_MAX_OPERATIONS: usize = 1000;

/// The default `bulk.maxPayloadSize`, in bytes (1 MiB).
pub const DEFAULT_BULK_MAX_PAYLOAD_SIZE: usize = 1 << 20;

/// How long issued OAuth access tokens live unless configured otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// How long an RFC 9865 cursor stays valid unless configured otherwise.
pub const DEFAULT_CURSOR_TIMEOUT: Duration = Duration::from_secs(3600);

/// The OAuth client the emulator's token endpoint accepts.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
}

impl OAuthClient {
    /// A client with this id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

/// How to start an [`Emulator`](super::Emulator): port, authentication, dialect
/// tolerance, limits and latency. Built in builder style from [`EmulatorConfig::new`].
///
/// The defaults: a free port on 127.0.0.1, bearer token [`DEFAULT_TOKEN`], no OAuth,
/// strict RFC 7643/7644 behaviour (no Entra or Okta tolerance), base path `/v2`,
/// `filter.maxResults` 200, bulk limits 1000 operations and 1 MiB, no latency.
///
/// `Debug` never shows the token or the OAuth client secret.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub(crate) port: u16,
    pub(crate) token: Option<SecretString>,
    pub(crate) oauth: Option<OAuthClient>,
    pub(crate) token_ttl: Duration,
    pub(crate) entra: bool,
    pub(crate) okta: bool,
    pub(crate) patch: bool,
    pub(crate) max_results: usize,
    pub(crate) bulk_max_operations: usize,
    pub(crate) bulk_max_payload_size: usize,
    pub(crate) base_path: String,
    pub(crate) latency: Option<Duration>,
    pub(crate) cursor_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl EmulatorConfig {
    /// The default configuration (see the type's docs).
    pub fn new() -> Self {
        Self {
            port: 0,
            token: Some(SecretString::from(DEFAULT_TOKEN)),
            oauth: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            entra: false,
            okta: false,
            patch: true,
            max_results: DEFAULT_MAX_RESULTS,
            bulk_max_operations: DEFAULT_BULK_MAX_OPERATIONS,
            bulk_max_payload_size: DEFAULT_BULK_MAX_PAYLOAD_SIZE,
            base_path: DEFAULT_BASE_PATH.to_owned(),
            latency: None,
            cursor_timeout: DEFAULT_CURSOR_TIMEOUT,
        }
    }

    /// The port to listen on, on 127.0.0.1; `0` (the default) picks a free port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The static bearer token resource endpoints accept.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// No static bearer token. Without an [`oauth_client`](Self::oauth_client) too,
    /// every request is accepted without authentication.
    #[must_use]
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// Enables the OAuth 2.0 endpoints `/oauth/token` (grants `client_credentials`,
    /// `authorization_code`, `refresh_token`) and `/oauth/authorize` for this client.
    /// Access tokens they issue are accepted next to the static token, if any.
    #[must_use]
    pub fn oauth_client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.oauth = Some(OAuthClient::new(client_id, client_secret));
        self
    }

    /// How long issued access tokens live (`expires_in`); default one hour.
    #[must_use]
    pub fn oauth_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Tolerates Microsoft Entra ID's legacy dialect: `"True"`/`"False"` strings for
    /// booleans, PATCH `remove` with a `value` (legacy member removal), `replace` on a
    /// value path that matches nothing (creates the entry), unknown schema URNs and
    /// attributes (e.g. the ADSCIM Group URN).
    #[must_use]
    pub fn entra(mut self, on: bool) -> Self {
        self.entra = on;
        self
    }

    /// Tolerates Okta's habits: unknown (custom) schema URNs and attributes, missing
    /// `schemas` on PUT/PATCH bodies, and single values where an array is expected.
    /// No-path `replace` and GET-then-PUT with read-only attributes are accepted in
    /// strict mode too, as RFC 7644 allows them.
    #[must_use]
    pub fn okta(mut self, on: bool) -> Self {
        self.okta = on;
        self
    }

    /// Whether PATCH is implemented (default true). Off, the emulator advertises
    /// `patch.supported: false` and answers PATCH on a resource with 501 Not
    /// Implemented, as RFC 7644 §3.5.2 has service providers without PATCH do (the
    /// `/Bulk` endpoint still applies PATCH operations).
    #[must_use]
    pub fn patch(mut self, supported: bool) -> Self {
        self.patch = supported;
        self
    }

    /// The page cap, advertised as `filter.maxResults` and RFC 9865 `maxPageSize`
    /// (at least 1); also the default page size.
    #[must_use]
    pub fn max_results(mut self, max_results: usize) -> Self {
        self.max_results = max_results.max(1);
        self
    }

    /// `bulk.maxOperations`: larger bulk requests are answered 413.
    #[must_use]
    pub fn bulk_max_operations(mut self, n: usize) -> Self {
        self.bulk_max_operations = n;
        self
    }

    /// `bulk.maxPayloadSize` in bytes: larger bulk requests are answered 413.
    #[must_use]
    pub fn bulk_max_payload_size(mut self, bytes: usize) -> Self {
        self.bulk_max_payload_size = bytes;
        self
    }

    /// The path the SCIM endpoints are served under, e.g. `/v2` (the default),
    /// `/scim/v2` or `""` for the root.
    #[must_use]
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let trimmed = path.trim_matches('/');
        self.base_path = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// A delay added to every SCIM request before it is answered.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = if latency.is_zero() {
            None
        } else {
            Some(latency)
        };
        self
    }

    /// How long an RFC 9865 cursor stays valid (`cursorTimeout`); default one hour.
    #[must_use]
    pub fn cursor_timeout(mut self, timeout: Duration) -> Self {
        self.cursor_timeout = timeout;
        self
    }

    /// The static bearer token, if any.
    pub fn get_token(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.expose_secret())
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("oauth", &self.oauth)
            .field("token_ttl", &self.token_ttl)
            .field("entra", &self.entra)
            .field("okta", &self.okta)
            .field("max_results", &self.max_results)
            .field("bulk_max_operations", &self.bulk_max_operations)
            .field("bulk_max_payload_size", &self.bulk_max_payload_size)
            .field("base_path", &self.base_path)
            .field("latency", &self.latency)
            .field("cursor_timeout", &self.cursor_timeout)
            .finish()
    }
}
