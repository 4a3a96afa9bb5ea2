//! [`Faults`]: failures switched on at runtime.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::server::lock;

/// What a faulted request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// HTTP 429 `[{"errorCode":"REQUEST_LIMIT_EXCEEDED",...}]` with `Retry-After`.
    RateLimited {
        /// The `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// A server error with Salesforce's JSON body: 500 `UNKNOWN_EXCEPTION`,
    /// 503 `SERVER_UNAVAILABLE`, others `UNKNOWN_EXCEPTION` too.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// An HTML error page, as an edge proxy sends it.
    HtmlError {
        /// The HTTP status.
        status: u16,
    },
    /// A status with an empty body.
    EmptyError {
        /// The HTTP status.
        status: u16,
    },
    /// The request is answered normally, but the connection is dropped after half
    /// of the response body was sent (a cut-off result page).
    DropConnection,
}

/// One fault to inject: what happens, how often, and to which requests.
///
/// Without [`on_path`](Self::on_path) a fault hits requests under `/services/data/`
/// only (not the token endpoint); with it, any request whose path matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    times: Option<u64>,
    path: Option<String>,
    method: Option<String>,
}

impl Fault {
    /// A fault of this kind, on every matching request until cleared.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            times: None,
            path: None,
            method: None,
        }
    }

    /// 429 `REQUEST_LIMIT_EXCEEDED` with `Retry-After: retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(FaultKind::RateLimited { retry_after_secs })
    }

    /// A 5xx with Salesforce's JSON error body.
    pub fn server_error(status: u16) -> Self {
        Self::new(FaultKind::ServerError { status })
    }

    /// A status with an HTML body.
    pub fn html_error(status: u16) -> Self {
        Self::new(FaultKind::HtmlError { status })
    }

    /// A status with an empty body.
    pub fn empty_error(status: u16) -> Self {
        Self::new(FaultKind::EmptyError { status })
    }

    /// Half a response body, then the connection is dropped.
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::DropConnection)
    }

    /// Hits only the next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Hits only requests whose path contains `pattern` (`*` matches any run of
    /// characters), e.g. `/results` or `/jobs/ingest/*/batches`.
    #[must_use]
    pub fn on_path(mut self, pattern: impl Into<String>) -> Self {
        self.path = Some(pattern.into());
        self
    }

    /// Hits only requests with this method (`GET`, `PUT`, ...).
    #[must_use]
    pub fn on_method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// What it does.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match &self.path {
            None => path.starts_with("/services/data/"),
            Some(p) => glob_contains(path, p),
        }
    }
}

/// Whether `text` contains `pattern`, where `*` in the pattern matches anything.
fn glob_contains(text: &str, pattern: &str) -> bool {
    let mut rest = text;
    for piece in pattern.split('*').filter(|p| !p.is_empty()) {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Debug, Default)]
struct FaultState {
    faults: Vec<Fault>,
    failing_jobs: u64,
    token_epoch: u64,
    page_latency: Option<Duration>,
}

/// A handle to switch faults on and off while the emulator runs; cheap to clone.
///
/// Faults are tried in the order they were injected; the first that matches a
/// request is used (and counted down). A faulted request is still counted in
/// [`Stats`](super::Stats).
///
/// ```no_run
/// # fn demo(emulator: &salesforce_bulk2::emulator::RunningEmulator) {
/// use salesforce_bulk2::emulator::Fault;
///
/// let faults = emulator.faults();
/// faults.inject(Fault::rate_limited(2).times(1)); // next API call: 429, Retry-After: 2
/// faults.inject(Fault::server_error(503).times(2).on_path("/results"));
/// faults.inject(Fault::drop_connection().times(1).on_path("/results"));
/// faults.fail_next_jobs(1); // the next query or ingest job ends Failed
/// faults.expire_tokens(); // every access token issued so far is now invalid
/// faults.clear();
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
}

impl Faults {
    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        if fault.times != Some(0) {
            lock(&self.state).faults.push(fault);
        }
    }

    /// The next `n` API calls get 429 `REQUEST_LIMIT_EXCEEDED` (`Retry-After: 1`).
    pub fn rate_limit_next(&self, n: u64) {
        self.inject(Fault::rate_limited(1).times(n));
    }

    /// The next `n` API calls get `status` with Salesforce's JSON error body.
    pub fn fail_next(&self, n: u64, status: u16) {
        self.inject(Fault::server_error(status).times(n));
    }

    /// The next `n` jobs (query or ingest) end `Failed` with an `errorMessage`; an
    /// ingest job's rows all become unprocessed records.
    pub fn fail_next_jobs(&self, n: u64) {
        lock(&self.state).failing_jobs = n;
    }

    /// Invalidates every access token issued so far (refresh tokens stay valid): the
    /// next API call with one gets 401 `INVALID_SESSION_ID`.
    pub fn expire_tokens(&self) {
        lock(&self.state).token_epoch += 1;
    }

    /// Overrides the configured per-page latency of query results; `None` goes back
    /// to the configured one.
    pub fn set_page_latency(&self, latency: Option<Duration>) {
        lock(&self.state).page_latency = latency;
    }

    /// How many injected faults are still armed.
    pub fn pending(&self) -> usize {
        lock(&self.state).faults.len()
    }

    /// Removes every injected fault, pending job failures and the latency override.
    /// Expired tokens stay expired.
    pub fn clear(&self) {
        let mut s = lock(&self.state);
        s.faults.clear();
        s.failing_jobs = 0;
        s.page_latency = None;
    }

    /// The fault for this request, if any (counts it down).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut s = lock(&self.state);
        let i = s.faults.iter().position(|f| f.matches(method, path))?;
        let kind = s.faults[i].kind;
        if let Some(n) = &mut s.faults[i].times {
            *n -= 1;
            if *n == 0 {
                s.faults.remove(i);
            }
        }
        Some(kind)
    }

    /// Whether the job being created or closed must fail (counts it down).
    pub(crate) fn take_job_failure(&self) -> bool {
        let mut s = lock(&self.state);
        if s.failing_jobs > 0 {
            s.failing_jobs -= 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn token_epoch(&self) -> u64 {
        lock(&self.state).token_epoch
    }

    pub(crate) fn page_latency(&self) -> Option<Duration> {
        lock(&self.state).page_latency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_and_count_down() {
        let f = Faults::default();
        f.inject(Fault::server_error(503).times(2).on_path("/jobs/*/results"));
        assert_eq!(f.take("GET", "/services/data/v62.0/jobs/query"), None);
        assert_eq!(
            f.take("GET", "/services/data/v62.0/jobs/query/750/results"),
            Some(FaultKind::ServerError { status: 503 })
        );
        assert!(
            f.take("GET", "/services/data/v62.0/jobs/query/750/results")
                .is_some()
        );
        assert_eq!(
            f.take("GET", "/services/data/v62.0/jobs/query/750/results"),
            None
        );
        f.rate_limit_next(1);
        assert_eq!(f.take("POST", "/services/oauth2/token"), None);
        assert!(f.take("GET", "/services/data/v62.0/limits").is_some());
        assert_eq!(f.pending(), 0);
    }
}
