//! [`Faults`]: failures, latency and token expiry switched on at runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

/// A handle to switch faults on and off while the emulator runs; cheap to clone.
///
/// Faults apply to CRM API requests (`/crm/...`), not to the accounts server, in
/// arrival order: pending rate limits first, then pending failures. A faulted request
/// is still counted in [`Stats`](super::Stats).
///
/// ```no_run
/// # async fn demo(emulator: &zoho_crm::emulator::RunningEmulator) {
/// use std::time::Duration;
///
/// let faults = emulator.faults();
/// faults.rate_limit_next(2); // the next two API calls get 429 TOO_MANY_REQUESTS
/// faults.fail_next(1); // then one 500 INTERNAL_ERROR
/// faults.set_latency(Some(Duration::from_millis(50)));
/// faults.expire_access_tokens(); // every access token issued so far is now invalid
/// faults.clear();
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub(crate) state: Arc<FaultState>,
}

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    rate_limited: AtomicU64,
    failures: AtomicU64,
    failure_status: AtomicU16,
    /// Latency in microseconds plus one; 0 means "not set".
    latency: AtomicU64,
    /// Access tokens issued before the current epoch are invalid.
    token_epoch: AtomicU64,
}

/// A fault to answer one request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    RateLimited,
    Failure { status: u16 },
}

fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

impl Faults {
    /// Answers the next `n` API calls with HTTP 429 `TOO_MANY_REQUESTS`.
    pub fn rate_limit_next(&self, n: u64) {
        self.state.rate_limited.store(n, Ordering::Release);
    }

    /// Answers the next `n` API calls with HTTP 500 `INTERNAL_ERROR`.
    pub fn fail_next(&self, n: u64) {
        self.fail_next_with_status(n, 500);
    }

    /// Answers the next `n` API calls with `status` (500, 502, 503, 504, ...; a status
    /// outside 500..=599 is treated as 500) and an `INTERNAL_ERROR` body.
    pub fn fail_next_with_status(&self, n: u64, status: u16) {
        let status = if (500..=599).contains(&status) {
            status
        } else {
            500
        };
        self.state.failure_status.store(status, Ordering::Release);
        self.state.failures.store(n, Ordering::Release);
    }

    /// Adds `latency` to every API call (replacing the configured latency); `None`
    /// goes back to the configured latency.
    pub fn set_latency(&self, latency: Option<Duration>) {
        let encoded = latency.map_or(0, |d| {
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX - 1) + 1
        });
        self.state.latency.store(encoded, Ordering::Release);
    }

    /// Invalidates every access token issued so far (refresh tokens stay valid), so
    /// the next API call with one gets 401 `INVALID_TOKEN` and the client must refresh.
    pub fn expire_access_tokens(&self) {
        self.state.token_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// How many API calls are still to be rate limited.
    pub fn pending_rate_limits(&self) -> u64 {
        self.state.rate_limited.load(Ordering::Acquire)
    }

    /// How many API calls are still to fail.
    pub fn pending_failures(&self) -> u64 {
        self.state.failures.load(Ordering::Acquire)
    }

    /// Switches every fault off: no pending 429s or failures, configured latency.
    /// Expired tokens stay expired.
    pub fn clear(&self) {
        self.state.rate_limited.store(0, Ordering::Release);
        self.state.failures.store(0, Ordering::Release);
        self.state.latency.store(0, Ordering::Release);
    }

    /// The fault the next request must get, if any (consumes it).
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        if take_one(&self.state.rate_limited) {
            return Some(Fault::RateLimited);
        }
        if take_one(&self.state.failures) {
            return Some(Fault::Failure {
                status: self.state.failure_status.load(Ordering::Acquire),
            });
        }
        None
    }

    /// The runtime latency override, if set.
    pub(crate) fn latency(&self) -> Option<Duration> {
        match self.state.latency.load(Ordering::Acquire) {
            0 => None,
            n => Some(Duration::from_micros(n - 1)),
        }
    }

    /// The current token epoch.
    pub(crate) fn token_epoch(&self) -> u64 {
        self.state.token_epoch.load(Ordering::Acquire)
    }
}
