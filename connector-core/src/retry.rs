//! Retrying with backoff, for any client: [`RetryPolicy`], [`Backoff`] and [`retry`].
//!
//! The policy follows `object_store` (10 attempts, a 3-minute budget, decorrelated-jitter
//! backoff from 100 ms to 15 s) and google-cloud-rust (the policy knows whether the
//! operation is idempotent):
//!
//! - only errors whose [`ConnectorError::is_retryable`] is true are retried;
//! - a [`NonIdempotent`](Idempotency::NonIdempotent) operation (a plain `POST` insert) is
//!   retried only when the request is known not to have been processed: it was never sent
//!   ([`ConnectorError::was_not_sent`]) or the server throttled it
//!   ([`ErrorKind::RateLimited`], HTTP 429);
//! - a server's `Retry-After` ([`ConnectorError::retry_after`]) is honoured, capped at
//!   [`RetryPolicy::max_retry_after`]; if the wait would run past the time budget the
//!   policy gives up at once instead of sleeping for nothing;
//! - when it gives up after at least one retry, the last error is returned
//!   [`persistent`](ConnectorError::persistent).
//!
//! ```
//! use std::time::Duration;
//! use connector_core::retry::{retry, Idempotency, RetryPolicy};
//! use connector_core::{ConnectorError, ErrorKind};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> connector_core::Result<()> {
//! let policy = RetryPolicy::default()
//!     .with_max_attempts(5)
//!     .with_max_elapsed(Duration::from_secs(30));
//! let value = retry(&policy, Idempotency::Idempotent, |attempt| async move {
//!     if attempt < 2 {
//!         // The first attempt fails with a temporary error and is retried.
//!         Err(ConnectorError::new(ErrorKind::Unavailable, "example.fetch", "busy"))
//!     } else {
//!         Ok(42)
//!     }
//! })
//! .await?;
//! assert_eq!(value, 42);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use crate::error::{ConnectorError, ErrorKind, Result};

/// Exponential backoff with decorrelated jitter, as in `object_store`'s `client/backoff.rs`.
///
/// The first delay is [`initial`](Self::initial); each following delay is drawn uniformly
/// from `initial..previous * base` and capped at [`max`](Self::max). Holds its own state:
/// clone a configured `Backoff` (or call [`reset`](Self::reset)) for each operation.
///
/// ```
/// use std::time::Duration;
/// use connector_core::retry::Backoff;
///
/// let mut backoff = Backoff::default().with_initial(Duration::from_millis(10));
/// assert_eq!(backoff.next_delay(), Duration::from_millis(10));
/// let second = backoff.next_delay();
/// assert!(second >= Duration::from_millis(10) && second <= Duration::from_millis(20));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    base: f64,
    /// The next delay, in seconds.
    next_secs: f64,
}

impl Default for Backoff {
    /// 100 ms initial, 15 s max, base 2.0 (`object_store`'s defaults).
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(15), 2.0)
    }
}

impl Backoff {
    /// A backoff starting at `initial`, never above `max`, growing by up to `base` times
    /// per step. A `base` below 1.0 (or not a number) is treated as 1.0; an `initial`
    /// above `max` is lowered to `max`.
    pub fn new(initial: Duration, max: Duration, base: f64) -> Self {
        let initial = initial.min(max);
        let base = if base.is_finite() && base >= 1.0 {
            base
        } else {
            1.0
        };
        Self {
            initial,
            max,
            base,
            next_secs: initial.as_secs_f64(),
        }
    }

    /// Sets the first delay (and resets the state).
    #[must_use]
    pub fn with_initial(self, initial: Duration) -> Self {
        Self::new(initial, self.max, self.base)
    }

    /// Sets the largest delay (and resets the state).
    #[must_use]
    pub fn with_max(self, max: Duration) -> Self {
        Self::new(self.initial, max, self.base)
    }

    /// Sets the growth factor (and resets the state).
    #[must_use]
    pub fn with_base(self, base: f64) -> Self {
        Self::new(self.initial, self.max, base)
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The largest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The growth factor.
    pub fn base(&self) -> f64 {
        self.base
    }

    /// Starts over from the initial delay.
    pub fn reset(&mut self) {
        self.next_secs = self.initial.as_secs_f64();
    }

    /// The delay before the next attempt; advances the state.
    pub fn next_delay(&mut self) -> Duration {
        let low = self.initial.as_secs_f64();
        let high = self.next_secs * self.base;
        let max = self.max.as_secs_f64();
        let drawn = if high > low {
            rand::random_range(low..high)
        } else {
            low
        };
        let next = drawn.min(max);
        let current = std::mem::replace(&mut self.next_secs, next);
        Duration::try_from_secs_f64(current.min(max)).unwrap_or(self.max)
    }
}

/// Whether repeating an operation is safe when it is not known whether the first attempt
/// was processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Repeating it has the same effect as doing it once: reads, `PUT`, `DELETE`, an upsert
    /// on an external-id key, a `PATCH` that sets fields.
    Idempotent,
    /// Repeating it may do it twice: a plain `POST` insert, a job creation. Retried only
    /// when the request is known not to have been processed (never sent, or HTTP 429).
    NonIdempotent,
}

/// What a [`RetryPolicy`] decided about a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Stop and return the error.
    GiveUp,
}

/// How often and for how long to retry (attempt budget, time budget, backoff, and a cap
/// on the server's `Retry-After`).
///
/// ```
/// use std::time::Duration;
/// use connector_core::retry::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)
///     .with_max_elapsed(Duration::from_secs(60))
///     .with_backoff(Backoff::default().with_initial(Duration::from_millis(50)))
///     .with_max_retry_after(Duration::from_secs(30));
/// assert_eq!(policy.max_attempts(), 3);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    max_elapsed: Duration,
    backoff: Backoff,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 10 attempts, 3 minutes, the default [`Backoff`], `Retry-After` capped at 5 minutes.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            max_elapsed: Duration::from_secs(180),
            backoff: Backoff::default(),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: one attempt.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the total number of attempts, the first one included (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the time budget, measured from the start of the first attempt; no retry
    /// starts after it.
    #[must_use]
    pub fn with_max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// Sets the backoff used when the server gave no `Retry-After`.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the longest `Retry-After` honoured; longer requests are cut to this.
    #[must_use]
    pub fn with_max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// The total number of attempts, the first one included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time budget.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The backoff configuration.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// The cap on a server's `Retry-After`.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Decides whether to retry after attempt number `attempt` (1-based) failed with
    /// `err`, `elapsed` after the first attempt started.
    ///
    /// Gives up when the error is not retryable; when the operation is
    /// [`NonIdempotent`](Idempotency::NonIdempotent) and the request may have been
    /// processed (it was sent and not throttled); when the attempt budget is spent; when
    /// the time budget is spent; or when the server's `Retry-After` (capped at
    /// [`max_retry_after`](Self::max_retry_after)) would end past the time budget.
    /// Otherwise waits for the `Retry-After`, or the next `backoff` delay cut to the time
    /// left.
    pub fn decide(
        &self,
        attempt: u32,
        elapsed: Duration,
        idempotency: Idempotency,
        err: &ConnectorError,
        backoff: &mut Backoff,
    ) -> RetryDecision {
        if !err.is_retryable() {
            return RetryDecision::GiveUp;
        }
        if idempotency == Idempotency::NonIdempotent
            && !err.was_not_sent()
            && err.kind() != ErrorKind::RateLimited
        {
            return RetryDecision::GiveUp;
        }
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        let remaining = self.max_elapsed.saturating_sub(elapsed);
        if remaining.is_zero() {
            return RetryDecision::GiveUp;
        }
        match err.retry_after() {
            Some(after) => {
                let after = after.min(self.max_retry_after);
                if after > remaining {
                    RetryDecision::GiveUp
                } else {
                    RetryDecision::Retry(after)
                }
            }
            None => RetryDecision::Retry(backoff.next_delay().min(remaining)),
        }
    }
}

/// Runs `operation` until it succeeds or `policy` gives up.
///
/// `operation` gets the attempt number, starting at 1. Between attempts it sleeps with
/// [`tokio::time::sleep`] for the delay [`RetryPolicy::decide`] chose, logging each retry
/// with `tracing` (operation, kind, HTTP status and delay; never payloads). When it gives
/// up after at least one retry, the last error is returned
/// [`persistent`](ConnectorError::persistent).
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    mut operation: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = tokio::time::Instant::now();
    let mut backoff = policy.backoff.clone();
    backoff.reset();
    let mut attempt: u32 = 1;
    loop {
        let err = match operation(attempt).await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let elapsed = start.elapsed();
        match policy.decide(attempt, elapsed, idempotency, &err, &mut backoff) {
            RetryDecision::Retry(delay) => {
                if attempt < 3 {
                    tracing::debug!(
                        operation = err.operation(),
                        kind = %err.kind(),
                        http_status = err.http_status(),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        message = err.message(),
                        "retrying after a temporary error"
                    );
                } else {
                    tracing::warn!(
                        operation = err.operation(),
                        kind = %err.kind(),
                        http_status = err.http_status(),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        message = err.message(),
                        "retrying after a temporary error"
                    );
                }
                tokio::time::sleep(delay).await;
                attempt = attempt.saturating_add(1);
            }
            RetryDecision::GiveUp => {
                if attempt > 1 {
                    tracing::warn!(
                        operation = err.operation(),
                        kind = %err.kind(),
                        http_status = err.http_status(),
                        attempts = attempt,
                        elapsed_ms = elapsed.as_millis() as u64,
                        "giving up after retries"
                    );
                    return Err(err.persistent());
                }
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::ErrorStatus;

    fn unavailable() -> ConnectorError {
        ConnectorError::new(ErrorKind::Unavailable, "test.op", "HTTP 503")
    }

    fn fast_policy() -> RetryPolicy {
        RetryPolicy::default().with_backoff(
            Backoff::default()
                .with_initial(Duration::from_millis(10))
                .with_max(Duration::from_millis(100)),
        )
    }

    /// Fails with the errors from `errors` in order, then succeeds; counts calls.
    async fn run(
        policy: &RetryPolicy,
        idempotency: Idempotency,
        errors: Vec<ConnectorError>,
    ) -> (Result<u32>, u32) {
        let calls = Arc::new(AtomicU32::new(0));
        let errors = std::sync::Mutex::new(errors.into_iter());
        let c = calls.clone();
        let result = retry(policy, idempotency, |attempt| {
            c.fetch_add(1, Ordering::SeqCst);
            let next = errors.lock().unwrap().next();
            async move {
                match next {
                    Some(err) => Err(err),
                    None => Ok(attempt),
                }
            }
        })
        .await;
        (result, calls.load(Ordering::SeqCst))
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 2.0);
        assert_eq!(b.next_delay(), Duration::from_millis(100));
        let mut prev = Duration::from_millis(100);
        for _ in 0..50 {
            let d = b.next_delay();
            assert!(d >= Duration::from_millis(100), "{d:?}");
            assert!(d <= Duration::from_secs(1), "{d:?}");
            assert!(
                d <= prev * 2 + Duration::from_millis(1),
                "{d:?} after {prev:?}"
            );
            prev = d;
        }
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn backoff_sanitizes_odd_settings() {
        let mut b = Backoff::new(Duration::ZERO, Duration::ZERO, f64::NAN);
        assert_eq!(b.next_delay(), Duration::ZERO);
        assert_eq!(b.next_delay(), Duration::ZERO);
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(1), 0.5);
        assert_eq!(b.initial(), Duration::from_secs(1));
        assert_eq!(b.base(), 1.0);
        assert_eq!(b.next_delay(), Duration::from_secs(1));
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn defaults() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts(), 10);
        assert_eq!(p.max_elapsed(), Duration::from_secs(180));
        assert_eq!(p.max_retry_after(), Duration::from_secs(300));
        assert_eq!(p.backoff().initial(), Duration::from_millis(100));
        assert_eq!(p.backoff().max(), Duration::from_secs(15));
        assert_eq!(p.backoff().base(), 2.0);
        assert_eq!(RetryPolicy::none().max_attempts(), 1);
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
    }

    #[test]
    fn decide_rules() {
        let p = fast_policy();
        let mut b = p.backoff().clone();
        let ni = Idempotency::NonIdempotent;
        let id = Idempotency::Idempotent;
        let zero = Duration::ZERO;
        assert!(matches!(
            p.decide(1, zero, id, &unavailable(), &mut b),
            RetryDecision::Retry(_)
        ));
        assert_eq!(
            p.decide(1, zero, ni, &unavailable(), &mut b),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            p.decide(1, zero, ni, &unavailable().not_sent(), &mut b),
            RetryDecision::Retry(_)
        ));
        let throttled = ConnectorError::new(ErrorKind::RateLimited, "t", "429")
            .with_retry_after(Duration::from_secs(2));
        assert_eq!(
            p.decide(1, zero, ni, &throttled, &mut b),
            RetryDecision::Retry(Duration::from_secs(2))
        );
        let permanent = ConnectorError::new(ErrorKind::InvalidInput, "t", "400");
        assert_eq!(
            p.decide(1, zero, id, &permanent, &mut b),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(10, zero, id, &unavailable(), &mut b),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(1, Duration::from_secs(180), id, &unavailable(), &mut b),
            RetryDecision::GiveUp
        );
        // Retry-After capped at max_retry_after.
        let long = unavailable().with_retry_after(Duration::from_secs(3600));
        let p2 = p.clone().with_max_retry_after(Duration::from_secs(10));
        assert_eq!(
            p2.decide(1, zero, id, &long, &mut b),
            RetryDecision::Retry(Duration::from_secs(10))
        );
        // ...but never past the time budget.
        assert_eq!(
            p2.decide(1, Duration::from_secs(175), id, &long, &mut b),
            RetryDecision::GiveUp
        );
        // A backoff delay is cut to the time left.
        let slow = RetryPolicy::default().with_backoff(Backoff::new(
            Duration::from_secs(10),
            Duration::from_secs(10),
            2.0,
        ));
        let mut sb = slow.backoff().clone();
        assert_eq!(
            slow.decide(1, Duration::from_secs(178), id, &unavailable(), &mut sb),
            RetryDecision::Retry(Duration::from_secs(2))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_success_and_counts_attempts() {
        let (result, calls) = run(
            &fast_policy(),
            Idempotency::Idempotent,
            vec![unavailable(), unavailable()],
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(calls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_exactly() {
        let start = tokio::time::Instant::now();
        let err = ConnectorError::new(ErrorKind::RateLimited, "t", "429")
            .with_retry_after(Duration::from_secs(7));
        let (result, calls) = run(&fast_policy(), Idempotency::Idempotent, vec![err]).await;
        assert_eq!(result.unwrap(), 2);
        assert_eq!(calls, 2);
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn non_idempotent_not_retried_on_5xx() {
        let (result, calls) = run(
            &fast_policy(),
            Idempotency::NonIdempotent,
            vec![unavailable()],
        )
        .await;
        let err = result.unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        // Not retried, so not "persistent": the caller may still decide to retry.
        assert_eq!(err.status(), ErrorStatus::Temporary);
    }

    #[tokio::test(start_paused = true)]
    async fn non_idempotent_retried_when_rate_limited_or_not_sent() {
        let throttled = ConnectorError::new(ErrorKind::RateLimited, "t", "429");
        let (result, calls) = run(
            &fast_policy(),
            Idempotency::NonIdempotent,
            vec![throttled, unavailable().not_sent()],
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(calls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn attempt_budget_gives_persistent_error() {
        let policy = fast_policy().with_max_attempts(3);
        let errors = (0..10).map(|_| unavailable()).collect();
        let (result, calls) = run(&policy, Idempotency::Idempotent, errors).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 3);
        assert_eq!(err.status(), ErrorStatus::Persistent);
        assert!(!err.is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn time_budget_is_respected() {
        let start = tokio::time::Instant::now();
        let policy = RetryPolicy::default()
            .with_max_attempts(1000)
            .with_max_elapsed(Duration::from_secs(10))
            .with_backoff(Backoff::new(
                Duration::from_secs(1),
                Duration::from_secs(1),
                1.0,
            ));
        let errors = (0..1000).map(|_| unavailable()).collect();
        let (result, calls) = run(&policy, Idempotency::Idempotent, errors).await;
        assert_eq!(result.unwrap_err().status(), ErrorStatus::Persistent);
        // Attempts at t = 0, 1, ..., 10 s: the one at 10 s is the last.
        assert_eq!(calls, 11);
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_past_budget_gives_up_without_sleeping() {
        let start = tokio::time::Instant::now();
        let policy = fast_policy().with_max_elapsed(Duration::from_secs(5));
        let err = unavailable().with_retry_after(Duration::from_secs(60));
        let (result, calls) = run(&policy, Idempotency::Idempotent, vec![err]).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(err.status(), ErrorStatus::Temporary);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let err = ConnectorError::new(ErrorKind::InvalidInput, "t", "bad");
        let (result, calls) = run(&fast_policy(), Idempotency::Idempotent, vec![err]).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(err.status(), ErrorStatus::Permanent);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_error_after_retries_stays_permanent() {
        let errors = vec![
            unavailable(),
            ConnectorError::new(ErrorKind::NotFound, "t", "gone"),
        ];
        let (result, calls) = run(&fast_policy(), Idempotency::Idempotent, errors).await;
        let err = result.unwrap_err();
        assert_eq!(calls, 2);
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.status(), ErrorStatus::Permanent);
    }
}
