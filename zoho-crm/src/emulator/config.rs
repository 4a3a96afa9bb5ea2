//! [`EmulatorConfig`]: how an emulator is started.

use std::fmt;
use std::time::Duration;

use chrono::{FixedOffset, Offset, Utc};

/// The client id of the pre-registered OAuth client (Zoho's `1000.` + 30 characters shape).
pub const DEFAULT_CLIENT_ID: &str = "1000.EMULATORCLIENT0000000000000000";
/// The client secret of the pre-registered OAuth client.
pub const DEFAULT_CLIENT_SECRET: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e464";
/// The pre-registered refresh token (`1000.<32 hex>.<32 hex>`).
pub const DEFAULT_REFRESH_TOKEN: &str =
    "1000.5e6d1a2b3c4d5e6f708192a3b4c5d6e7.f8091a2b3c4d5e6f708192a3b4c5d6e7";
/// The organization id (`soid` is `ZohoCRM.{org id}`).
pub const DEFAULT_ORG_ID: &str = "60024517789";
/// Every scope the emulator knows, granted to the pre-registered refresh token and to
/// [`access_token_for_tests`](super::RunningEmulator::access_token_for_tests) by default.
pub const ALL_SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.users.ALL,ZohoCRM.org.ALL,ZohoCRM.settings.ALL,ZohoCRM.coql.READ,ZohoCRM.bulk.ALL";
/// Access-token lifetime (`expires_in`): one hour.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Token requests allowed per refresh token per [`DEFAULT_TOKEN_WINDOW`].
pub const DEFAULT_TOKEN_REQUESTS_PER_WINDOW: usize = 10;
/// The token-request throttling window: ten minutes.
pub const DEFAULT_TOKEN_WINDOW: Duration = Duration::from_secs(600);
/// Live access tokens per refresh token; issuing one more invalidates the oldest.
pub const DEFAULT_ACTIVE_TOKENS_PER_REFRESH_TOKEN: usize = 10;
/// How long an authorization code can be exchanged: two minutes.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(120);
/// Concurrent API requests per organization (Zoho's Standard edition).
pub const DEFAULT_CONCURRENCY: usize = 10;
/// How long a `page_token` stays valid: 24 hours.
pub const DEFAULT_PAGE_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// How many records `page_token` paging reaches before `PAGINATION_LIMIT_EXCEEDED`.
pub const DEFAULT_PAGE_TOKEN_LIMIT: usize = 100_000;
/// How long a bulk read job takes from `ADDED` to `COMPLETED`.
pub const DEFAULT_BULK_JOB_DELAY: Duration = Duration::from_millis(200);
/// Records per bulk read job (page).
pub const DEFAULT_BULK_PAGE_SIZE: usize = 200_000;
/// Bulk read result downloads allowed per minute.
pub const DEFAULT_BULK_DOWNLOADS_PER_MINUTE: usize = 10;

/// How to start an [`Emulator`](super::Emulator); a builder.
///
/// The defaults: a free port on 127.0.0.1, the pre-registered client
/// [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`] with refresh token
/// [`DEFAULT_REFRESH_TOKEN`] granted [`ALL_SCOPES`], organization
/// [`DEFAULT_ORG_ID`], data centre `us`, one-hour access tokens, 10 token requests per
/// refresh token per 10 minutes, concurrency 10, UTC, no latency, bulk read jobs
/// completing after 200 ms with 200,000 records per page.
///
/// `Debug` never shows the client secret or the refresh token.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub(crate) port: u16,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) refresh_token: String,
    pub(crate) scopes: String,
    pub(crate) org_id: String,
    pub(crate) location: String,
    pub(crate) token_ttl: Duration,
    pub(crate) token_requests_per_window: usize,
    pub(crate) token_window: Duration,
    pub(crate) active_tokens_per_refresh_token: usize,
    pub(crate) code_ttl: Duration,
    pub(crate) concurrency: usize,
    pub(crate) latency: Option<Duration>,
    pub(crate) page_token_ttl: Duration,
    pub(crate) page_token_limit: usize,
    pub(crate) bulk_job_delay: Duration,
    pub(crate) bulk_page_size: usize,
    pub(crate) bulk_downloads_per_minute: usize,
    pub(crate) time_zone: String,
    pub(crate) utc_offset: FixedOffset,
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
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            refresh_token: DEFAULT_REFRESH_TOKEN.to_owned(),
            scopes: ALL_SCOPES.to_owned(),
            org_id: DEFAULT_ORG_ID.to_owned(),
            location: "us".to_owned(),
            token_ttl: DEFAULT_TOKEN_TTL,
            token_requests_per_window: DEFAULT_TOKEN_REQUESTS_PER_WINDOW,
            token_window: DEFAULT_TOKEN_WINDOW,
            active_tokens_per_refresh_token: DEFAULT_ACTIVE_TOKENS_PER_REFRESH_TOKEN,
            code_ttl: DEFAULT_CODE_TTL,
            concurrency: DEFAULT_CONCURRENCY,
            latency: None,
            page_token_ttl: DEFAULT_PAGE_TOKEN_TTL,
            page_token_limit: DEFAULT_PAGE_TOKEN_LIMIT,
            bulk_job_delay: DEFAULT_BULK_JOB_DELAY,
            bulk_page_size: DEFAULT_BULK_PAGE_SIZE,
            bulk_downloads_per_minute: DEFAULT_BULK_DOWNLOADS_PER_MINUTE,
            time_zone: "Etc/UTC".to_owned(),
            utc_offset: Utc.fix(),
        }
    }

    /// The port to listen on, on 127.0.0.1; `0` (the default) picks a free port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The pre-registered OAuth client (Self Client and server-based client in one).
    #[must_use]
    pub fn client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.client_id = client_id.into();
        self.client_secret = client_secret.into();
        self
    }

    /// The pre-registered refresh token's value.
    #[must_use]
    pub fn refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh_token = refresh_token.into();
        self
    }

    /// The scopes (comma-separated, e.g. `ZohoCRM.modules.leads.READ,ZohoCRM.users.READ`)
    /// of the pre-registered refresh token and of test tokens; default [`ALL_SCOPES`].
    #[must_use]
    pub fn scopes(mut self, scopes: impl Into<String>) -> Self {
        self.scopes = scopes.into();
        self
    }

    /// The organization id; `soid` for the client-credentials grant is `ZohoCRM.{id}`.
    #[must_use]
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = org_id.into();
        self
    }

    /// The data-centre location reported on the authorization redirect (`location=`),
    /// default `us`.
    #[must_use]
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = location.into();
        self
    }

    /// Access-token lifetime (`expires_in`), default one hour.
    #[must_use]
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Token requests allowed per refresh token within `window` before the accounts
    /// server answers `Access Denied` (default 10 per 10 minutes).
    #[must_use]
    pub fn token_rate_limit(mut self, requests: usize, window: Duration) -> Self {
        self.token_requests_per_window = requests;
        self.token_window = window;
        self
    }

    /// Live access tokens per refresh token (default 10): issuing one more silently
    /// invalidates the oldest, as Zoho does.
    #[must_use]
    pub fn active_tokens_per_refresh_token(mut self, n: usize) -> Self {
        self.active_tokens_per_refresh_token = n.max(1);
        self
    }

    /// How long an authorization code can be exchanged (default two minutes).
    #[must_use]
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    /// Concurrent CRM API requests allowed (default 10); one more is answered 429.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// A delay added to every CRM API request (inside the concurrency slot).
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = if latency.is_zero() {
            None
        } else {
            Some(latency)
        };
        self
    }

    /// How long a `page_token` stays valid (default 24 hours; `EXPIRED_VALUE` after).
    #[must_use]
    pub fn page_token_ttl(mut self, ttl: Duration) -> Self {
        self.page_token_ttl = ttl;
        self
    }

    /// How many records `page_token` paging can reach (default 100,000; then
    /// `PAGINATION_LIMIT_EXCEEDED`). Lower it to test the limit without 100,000 records.
    #[must_use]
    pub fn page_token_limit(mut self, records: usize) -> Self {
        self.page_token_limit = records;
        self
    }

    /// How long a bulk read job takes from `ADDED` through `IN PROGRESS` to
    /// `COMPLETED` (default 200 ms).
    #[must_use]
    pub fn bulk_job_delay(mut self, delay: Duration) -> Self {
        self.bulk_job_delay = delay;
        self
    }

    /// Records per bulk read job page (`result.per_page`, default 200,000).
    #[must_use]
    pub fn bulk_page_size(mut self, records: usize) -> Self {
        self.bulk_page_size = records.max(1);
        self
    }

    /// Bulk read result downloads allowed per minute (default 10; then 429).
    #[must_use]
    pub fn bulk_downloads_per_minute(mut self, n: usize) -> Self {
        self.bulk_downloads_per_minute = n;
        self
    }

    /// The current user's time zone: its name (e.g. `Asia/Kolkata`) and the offset
    /// datetimes are rendered in (e.g. `+05:30`). Default `Etc/UTC`, `+00:00`.
    #[must_use]
    pub fn time_zone(mut self, name: impl Into<String>, offset: FixedOffset) -> Self {
        self.time_zone = name.into();
        self.utc_offset = offset;
        self
    }

    /// The configured client id.
    pub fn get_client_id(&self) -> &str {
        &self.client_id
    }

    /// The configured organization id.
    pub fn get_org_id(&self) -> &str {
        &self.org_id
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("scopes", &self.scopes)
            .field("org_id", &self.org_id)
            .field("location", &self.location)
            .field("token_ttl", &self.token_ttl)
            .field("token_requests_per_window", &self.token_requests_per_window)
            .field("token_window", &self.token_window)
            .field(
                "active_tokens_per_refresh_token",
                &self.active_tokens_per_refresh_token,
            )
            .field("code_ttl", &self.code_ttl)
            .field("concurrency", &self.concurrency)
            .field("latency", &self.latency)
            .field("page_token_ttl", &self.page_token_ttl)
            .field("page_token_limit", &self.page_token_limit)
            .field("bulk_job_delay", &self.bulk_job_delay)
            .field("bulk_page_size", &self.bulk_page_size)
            .field("bulk_downloads_per_minute", &self.bulk_downloads_per_minute)
            .field("time_zone", &self.time_zone)
            .field("utc_offset", &self.utc_offset)
            .finish()
    }
}
