//! [`EmulatorConfig`]: how an emulator is started.

use std::fmt;
use std::time::Duration;

/// The consumer key of the pre-registered connected app.
pub const DEFAULT_CLIENT_ID: &str = "3MVG9EMULATOR0CONSUMER0KEY0salesforce0bulk2";
/// The consumer secret of the pre-registered connected app.
pub const DEFAULT_CLIENT_SECRET: &str = "E8F1C0FFEE5EC12E7A0B1C2D3E4F5061728394A5B6C7D8E9";
/// The username of the integration user (the client-credentials "run as" user, and
/// the `sub` a JWT bearer assertion must name).
pub const DEFAULT_USERNAME: &str = "integration@emulator.example.com";
/// The pre-registered refresh token (redeemable with the `refresh_token` grant).
pub const DEFAULT_REFRESH_TOKEN: &str =
    "5Aep861EMULATOR.REFRESH.TOKEN.0000000000000000000000000000";
/// The organization id (18 characters, key prefix `00D`).
pub const DEFAULT_ORG_ID: &str = "00DEM0000000001AAA";
/// The newest API version the emulator serves (`/services/data/` lists 31.0 up to it).
pub const DEFAULT_LATEST_API_VERSION: u32 = 62;
/// The first API version with `GET /jobs/query/{id}/resultPages`.
pub const DEFAULT_RESULT_PAGES_SINCE: u32 = 58;
/// Records per query-result page when the request gives no `maxRecords`.
pub const DEFAULT_PAGE_SIZE: usize = 100_000;
/// Access-token lifetime: Salesforce's default session timeout of two hours.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(2 * 3600);
/// Raw CSV bytes one ingest job accepts (Salesforce: 100 MB raw, 150 MB base64).
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;
/// Rows an Analytics report run returns at most (Salesforce: the first 2,000).
pub const DEFAULT_REPORT_ROW_LIMIT: usize = 2_000;
/// `DailyBulkV2QueryJobs` maximum.
pub const DEFAULT_DAILY_QUERY_JOBS: u64 = 10_000;
/// `DailyBulkApiBatches` maximum (shared with Bulk API 1.0).
pub const DEFAULT_DAILY_BULK_BATCHES: u64 = 15_000;
/// `DailyApiRequests` maximum.
pub const DEFAULT_DAILY_API_REQUESTS: u64 = 100_000;

/// How to start an [`Emulator`](super::Emulator); a builder.
///
/// The defaults: a free port on 127.0.0.1, plain HTTP, the connected app
/// [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`], user [`DEFAULT_USERNAME`], refresh
/// token [`DEFAULT_REFRESH_TOKEN`] (not rotated), two-hour access tokens, API versions
/// up to [`DEFAULT_LATEST_API_VERSION`] with `resultPages` from
/// [`DEFAULT_RESULT_PAGES_SINCE`], jobs that finish as soon as they are polled, no
/// page latency, 100,000 records per result page, 100 MB per ingest job, 2,000 report
/// rows, JWT assertions checked for their claims only (no public key).
///
/// `Debug` never shows the client secret or the refresh token.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub(crate) port: u16,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) username: String,
    pub(crate) refresh_token: String,
    pub(crate) rotate_refresh_tokens: bool,
    pub(crate) org_id: String,
    pub(crate) jwt_public_key_pem: Option<String>,
    pub(crate) token_ttl: Duration,
    pub(crate) latest_api_version: u32,
    pub(crate) result_pages_since: u32,
    pub(crate) page_size: usize,
    pub(crate) page_latency: Duration,
    pub(crate) job_processing_time: Duration,
    pub(crate) max_upload_bytes: usize,
    pub(crate) report_row_limit: usize,
    pub(crate) daily_query_jobs: u64,
    pub(crate) daily_bulk_batches: u64,
    pub(crate) daily_api_requests: u64,
    pub(crate) tls: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("refresh_token", &"<redacted>")
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .field("org_id", &self.org_id)
            .field("jwt_public_key", &self.jwt_public_key_pem.is_some())
            .field("token_ttl", &self.token_ttl)
            .field("latest_api_version", &self.latest_api_version)
            .field("result_pages_since", &self.result_pages_since)
            .field("page_size", &self.page_size)
            .field("page_latency", &self.page_latency)
            .field("job_processing_time", &self.job_processing_time)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("report_row_limit", &self.report_row_limit)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl EmulatorConfig {
    /// The default configuration (see the type's docs).
    pub fn new() -> Self {
        Self {
            port: 0,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            username: DEFAULT_USERNAME.to_owned(),
            refresh_token: DEFAULT_REFRESH_TOKEN.to_owned(),
            rotate_refresh_tokens: false,
            org_id: DEFAULT_ORG_ID.to_owned(),
            jwt_public_key_pem: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            latest_api_version: DEFAULT_LATEST_API_VERSION,
            result_pages_since: DEFAULT_RESULT_PAGES_SINCE,
            page_size: DEFAULT_PAGE_SIZE,
            page_latency: Duration::ZERO,
            job_processing_time: Duration::ZERO,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            report_row_limit: DEFAULT_REPORT_ROW_LIMIT,
            daily_query_jobs: DEFAULT_DAILY_QUERY_JOBS,
            daily_bulk_batches: DEFAULT_DAILY_BULK_BATCHES,
            daily_api_requests: DEFAULT_DAILY_API_REQUESTS,
            tls: false,
        }
    }

    /// The port to listen on, on 127.0.0.1; `0` (the default) picks a free port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The pre-registered connected app's consumer key and secret.
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

    /// The integration user's username.
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// The pre-registered refresh token.
    #[must_use]
    pub fn refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh_token = refresh_token.into();
        self
    }

    /// Refresh Token Rotation: each `refresh_token` grant answers a new refresh token
    /// and the redeemed one stops working.
    #[must_use]
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// The certificate or public key (PEM: `CERTIFICATE`, `PUBLIC KEY` or
    /// `RSA PUBLIC KEY`) JWT bearer assertions must be signed for (RS256). Without
    /// one, only the assertion's claims are checked.
    #[must_use]
    pub fn jwt_public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.jwt_public_key_pem = Some(pem.into());
        self
    }

    /// How long an access token stays valid.
    #[must_use]
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// The newest API version served (e.g. `62` for v62.0); older ones down to v31.0
    /// are served too.
    #[must_use]
    pub fn latest_api_version(mut self, major: u32) -> Self {
        self.latest_api_version = major;
        self
    }

    /// The first API version with `resultPages` (paths of older versions answer 404).
    #[must_use]
    pub fn result_pages_since(mut self, major: u32) -> Self {
        self.result_pages_since = major;
        self
    }

    /// Records per result page when a request gives no `maxRecords` (at least 1).
    #[must_use]
    pub fn page_size(mut self, records: usize) -> Self {
        self.page_size = records.max(1);
        self
    }

    /// A delay before every query-result page is served (for parallel-download
    /// benchmarks).
    #[must_use]
    pub fn page_latency(mut self, latency: Duration) -> Self {
        self.page_latency = latency;
        self
    }

    /// How long a job stays `InProgress` after it was created (query) or closed
    /// (ingest) before it reaches its final state.
    #[must_use]
    pub fn job_processing_time(mut self, duration: Duration) -> Self {
        self.job_processing_time = duration;
        self
    }

    /// The raw CSV bytes one ingest job accepts over all its uploads.
    #[must_use]
    pub fn max_upload_bytes(mut self, bytes: usize) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    /// The most rows a report run returns.
    #[must_use]
    pub fn report_row_limit(mut self, rows: usize) -> Self {
        self.report_row_limit = rows;
        self
    }

    /// The daily allocations `/limits` starts from: query jobs, bulk batches, API
    /// requests.
    #[must_use]
    pub fn daily_limits(mut self, query_jobs: u64, bulk_batches: u64, api_requests: u64) -> Self {
        self.daily_query_jobs = query_jobs;
        self.daily_bulk_batches = bulk_batches;
        self.daily_api_requests = api_requests;
        self
    }

    /// Serve HTTPS with a freshly generated self-signed certificate for `127.0.0.1`
    /// and `localhost` (see [`RunningEmulator::certificate_pem`](super::RunningEmulator::certificate_pem)).
    #[must_use]
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }
}
