//! [`Faults`]: failures and latency switched on at runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

/// A handle to switch faults on and off while the emulator runs; cheap to clone.
///
/// Faults apply to requests under the SCIM base path (discovery included), in
/// arrival order: pending rate limits are served first, then pending failures.
/// Requests answered with a fault are still counted in [`Stats`](super::Stats).
///
/// ```no_run
/// # async fn demo(emulator: &scim_client::emulator::RunningEmulator) {
/// use std::time::Duration;
///
/// let faults = emulator.faults();
/// faults.rate_limit_next(2); // the next two requests get 429 + Retry-After: 1
/// faults.fail_next(1, 503); // then one 503
/// faults.set_latency(Some(Duration::from_millis(50)));
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
    write_failures: AtomicU64,
    write_failure_status: AtomicU16,
    retry_after_secs: AtomicU64,
    /// Latency in microseconds plus one; 0 means "not set".
    latency: AtomicU64,
}

/// A fault to answer one request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    RateLimited { retry_after_secs: u64 },
    Failure { status: u16 },
}

fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

impl Faults {
    /// Answers the next `n` requests with `429 Too Many Requests` and `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: u64) {
        self.rate_limit_next_with_retry_after(n, 1);
    }

    /// Answers the next `n` requests with `429 Too Many Requests` and a
    /// `Retry-After` of `retry_after_secs` seconds.
    pub fn rate_limit_next_with_retry_after(&self, n: u64, retry_after_secs: u64) {
        self.state
            .retry_after_secs
            .store(retry_after_secs, Ordering::Release);
        self.state.rate_limited.store(n, Ordering::Release);
    }

    /// Answers the next `n` requests with `status` (500, 502, 503, 504, ... ; a
    /// status outside 400..=599 is treated as 500) and a SCIM error body. A 503
    /// also carries `Retry-After: 1`.
    pub fn fail_next(&self, n: u64, status: u16) {
        let status = if (400..=599).contains(&status) {
            status
        } else {
            500
        };
        self.state.failure_status.store(status, Ordering::Release);
        self.state.failures.store(n, Ordering::Release);
    }

    /// Adds `latency` to every SCIM request (replacing the configured latency);
    /// `None` goes back to the configured latency.
    pub fn set_latency(&self, latency: Option<Duration>) {
        let encoded = latency.map_or(0, |d| {
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX - 1) + 1
        });
        self.state.latency.store(encoded, Ordering::Release);
    }

    /// How many requests are still to be rate limited.
    pub fn pending_rate_limits(&self) -> u64 {
        self.state.rate_limited.load(Ordering::Acquire)
    }

    /// How many requests are still to fail.
    pub fn pending_failures(&self) -> u64 {
        self.state.failures.load(Ordering::Acquire)
    }

    /// Answers the next `n` requests that change something (`POST`, `PUT`, `PATCH`,
    /// `DELETE`) with `status`; reads are served. A status outside 400-599 becomes
    /// 500.
    pub fn fail_next_writes(&self, n: u64, status: u16) {
        let status = if (400..=599).contains(&status) {
            status
        } else {
            500
        };
        self.state
            .write_failure_status
            .store(status, Ordering::Release);
        self.state.write_failures.store(n, Ordering::Release);
    }

    /// Write failures not yet served.
    pub fn pending_write_failures(&self) -> u64 {
        self.state.write_failures.load(Ordering::Acquire)
    }

    /// Switches every fault off: no pending 429s or failures, configured latency.
    pub fn clear(&self) {
        self.state.rate_limited.store(0, Ordering::Release);
        self.state.failures.store(0, Ordering::Release);
        self.state.write_failures.store(0, Ordering::Release);
        self.state.latency.store(0, Ordering::Release);
    }

    /// The fault the next request must get, if any (consumes it).
    pub(crate) fn next_fault(&self, write: bool) -> Option<Fault> {
        if write && take_one(&self.state.write_failures) {
            return Some(Fault::Failure {
                status: self.state.write_failure_status.load(Ordering::Acquire),
            });
        }
        if take_one(&self.state.rate_limited) {
            return Some(Fault::RateLimited {
                retry_after_secs: self.state.retry_after_secs.load(Ordering::Acquire),
            });
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
}
