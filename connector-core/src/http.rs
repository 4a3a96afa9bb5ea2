//! The shared HTTP plumbing (feature `http`): [`HttpClientBuilder`] for a configured
//! `reqwest::Client` (rustls with ring, gzip, timeouts, [`TlsOptions`]),
//! [`send_with_retry`], and the helpers that turn statuses, `Retry-After` headers,
//! responses and `reqwest` errors into [`ConnectorError`]s.
//!
//! [`send_with_retry`] retries the statuses that mean "try again" (408, 429, 500, 502,
//! 503, 504) and transport failures under a [`RetryPolicy`], honouring `Retry-After`;
//! every other response, success or not, is returned for the vendor crate to read with
//! its own error-body parser ([`error_from_response`] is the generic fallback).
//!
//! ```no_run
//! use connector_core::http::{HttpClientBuilder, error_from_response, send_with_retry};
//! use connector_core::retry::{Idempotency, RetryPolicy};
//! use connector_core::tls::TlsOptions;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> connector_core::Result<()> {
//! let tls = TlsOptions::default();
//! let url = "https://www.zohoapis.com/crm/v8/users";
//! tls.check_endpoint(url)?;
//! let client = HttpClientBuilder::new().with_tls(tls).build()?;
//! let response = send_with_retry(
//!     &RetryPolicy::default(),
//!     Idempotency::Idempotent,
//!     "zoho.list_users",
//!     || client.get(url),
//! )
//! .await?;
//! if !response.status().is_success() {
//!     return Err(error_from_response(response, "zoho.list_users").await);
//! }
//! # Ok(())
//! # }
//! ```

// `ConnectorError` is the crate's fixed, rich error type; boxing it per call would not help.
use std::time::{Duration, SystemTime};

use reqwest::{Certificate, Response};

use crate::error::{ConnectorError, ErrorKind, Result};
use crate::retry::{Idempotency, RetryPolicy, retry};
use crate::tls::{CertificateSource, TlsOptions};

/// How much of an error body is kept as the remote message.
pub const ERROR_BODY_LIMIT: usize = 4 * 1024;

/// Installs rustls' `ring` crypto provider as the process default, if no provider is
/// installed yet. [`HttpClientBuilder::build`] calls it; call it yourself before
/// building a `reqwest::Client` of your own (reqwest is compiled without a built-in
/// provider here, to avoid the C build of `aws-lc-rs`, and panics without one).
pub fn install_crypto_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the `reqwest::Client` every connector uses: rustls with the ring provider,
/// gzip, timeouts, a user agent and [`TlsOptions`].
///
/// ```
/// use std::time::Duration;
/// use connector_core::http::HttpClientBuilder;
/// use connector_core::tls::TlsOptions;
///
/// let client = HttpClientBuilder::new()
///     .with_timeout(Duration::from_secs(60))
///     .with_user_agent("my-app/1.0")
///     .with_tls(TlsOptions::default().with_peer_verification(false))
///     .build()?;
/// # drop(client);
/// # Ok::<(), connector_core::ConnectorError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HttpClientBuilder {
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    pool_idle_timeout: Option<Duration>,
    tls: TlsOptions,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClientBuilder {
    /// Defaults: a 5-minute request timeout (Salesforce result pages can be large), a
    /// 30-second connect timeout, user agent `saas-connectors/<version>`, idle pooled
    /// connections closed after 90 seconds, default [`TlsOptions`].
    pub fn new() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            user_agent: concat!("saas-connectors/", env!("CARGO_PKG_VERSION")).to_owned(),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            tls: TlsOptions::default(),
        }
    }

    /// Sets the total timeout of a request, from sending to reading the whole body.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the timeout for establishing a connection.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets how long an idle pooled connection is kept (`None`: forever).
    #[must_use]
    pub fn with_pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Sets the TLS options.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// The TLS options.
    pub fn tls(&self) -> &TlsOptions {
        &self.tls
    }

    /// Builds the client.
    ///
    /// Installs rustls's ring provider as the process default if no provider is installed
    /// yet (an application that installed another one keeps it). With
    /// `use_encrypted_endpoints` the client refuses `http://` URLs (redirects included);
    /// with `use_peer_verification` off it accepts any certificate; with only
    /// `use_host_verification` off it trusts only `extra_root_certificates` and ignores
    /// the host name (rustls cannot skip the host check against the system roots, so that
    /// combination without extra roots is an error).
    ///
    /// Synchronous, and reads certificate files and the system trust store: call it when
    /// setting up, not on a hot path.
    ///
    /// Every failure is [`ErrorKind::InvalidConfig`]; a bad certificate names its source.
    pub fn build(self) -> Result<reqwest::Client> {
        const OP: &str = "http.build_client";
        // Err means a provider is already installed, which is what we need.
        install_crypto_provider();

        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.as_str())
            .pool_idle_timeout(self.pool_idle_timeout)
            .gzip(true)
            .https_only(self.tls.use_encrypted_endpoints);

        let mut roots = Vec::new();
        for source in &self.tls.extra_root_certificates {
            roots.extend(load_certificates(source)?);
        }

        if !self.tls.use_peer_verification {
            tracing::warn!("TLS peer verification is off: any server certificate is accepted");
            builder = builder
                .tls_danger_accept_invalid_certs(true)
                .tls_certs_merge(roots);
        } else if !self.tls.use_host_verification {
            if roots.is_empty() {
                return Err(ConnectorError::config(
                    OP,
                    "useHostVerification is false but usePeerVerification is true and no \
                     extraRootCertificates are given: skipping only the host-name check is \
                     supported against explicit root certificates; add the server's CA to \
                     extraRootCertificates, or set usePeerVerification to false",
                ));
            }
            tracing::warn!(
                "TLS host verification is off: certificates are not matched to host names"
            );
            builder = builder
                .tls_certs_only(roots)
                .tls_danger_accept_invalid_hostnames(true);
        } else if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }

        builder.build().map_err(|e| {
            ConnectorError::config(
                OP,
                format!("cannot build the HTTP client: {}", error_chain(&e)),
            )
            .with_source(e.without_url())
        })
    }
}

/// Reads and checks the certificates of one source; errors name the source.
fn load_certificates(source: &CertificateSource) -> Result<Vec<Certificate>> {
    const OP: &str = "http.build_client";
    let pem = match source {
        CertificateSource::Pem(pem) => pem.as_bytes().to_vec(),
        CertificateSource::File(path) => std::fs::read(path).map_err(|e| {
            ConnectorError::config(OP, format!("cannot read root certificate {source}: {e}"))
        })?,
    };
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut certificates = Vec::new();
    for der in CertificateDer::pem_slice_iter(&pem) {
        let der = der.map_err(|e| {
            ConnectorError::config(
                OP,
                format!("root certificate {source} is not valid PEM: {e}"),
            )
        })?;
        // Parse it now, so a bad certificate is reported with its source.
        rustls::RootCertStore::empty()
            .add(der.clone())
            .map_err(|e| {
                ConnectorError::config(
                    OP,
                    format!("root certificate {source} is not a usable X.509 certificate: {e}"),
                )
            })?;
        certificates.push(Certificate::from_der(&der).map_err(|e| {
            ConnectorError::config(OP, format!("root certificate {source} was rejected: {e}"))
        })?);
    }
    if certificates.is_empty() {
        return Err(ConnectorError::config(
            OP,
            format!("root certificate {source} contains no PEM `CERTIFICATE` block"),
        ));
    }
    Ok(certificates)
}

/// The `Retry-After` header as a duration: delta-seconds (`120`) or an HTTP date (a date
/// in the past gives zero). `None` when absent or unparseable.
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        // Not standard, but some servers send fractions.
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The [`ErrorKind`] for an HTTP error status.
///
/// 401 unauthenticated; 403 permission denied; 404 and 410 not found; 405 and 501
/// unsupported; 408 and 504 timeout; 409, 412 and 428 conflict; 429 rate limited; 400,
/// 413, 414, 415 and 422 invalid input; other 5xx unavailable; anything else unexpected.
pub fn error_kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        405 | 501 => ErrorKind::Unsupported,
        408 | 504 => ErrorKind::Timeout,
        409 | 412 | 428 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        400 | 413 | 414 | 415 | 422 => ErrorKind::InvalidInput,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Unexpected,
    }
}

/// Whether a response with this status is retried by [`send_with_retry`]: 408, 429, 500,
/// 502, 503, 504.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// `err`'s own text followed by its sources', joined with `": "`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Converts a `reqwest` error into a [`ConnectorError`] for `operation`.
///
/// The URL is removed first ([`reqwest::Error::without_url`]: query strings can hold
/// tokens). Connection failures are [`Unavailable`](ErrorKind::Unavailable) and
/// [`not_sent`](ConnectorError::not_sent) (safe to retry even for non-idempotent requests);
/// timeouts are [`Timeout`](ErrorKind::Timeout) (not-sent only when connecting timed
/// out); other send and body failures are temporary `Unavailable`; builder errors (a bad
/// URL, `http://` refused by `https_only`) are [`InvalidConfig`](ErrorKind::InvalidConfig);
/// undecodable bodies and redirect loops are [`Unexpected`](ErrorKind::Unexpected);
/// status errors map by [`error_kind_for_status`]. The message carries the underlying
/// causes (`tcp connect error: Connection refused`).
pub fn from_reqwest(err: reqwest::Error, operation: &'static str) -> ConnectorError {
    let err = err.without_url();
    let causes = {
        let mut parts = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            parts.push(s.to_string());
            source = s.source();
        }
        parts.join(": ")
    };
    let describe = |what: &str| {
        if causes.is_empty() {
            what.to_owned()
        } else {
            format!("{what} ({causes})")
        }
    };
    let status = err.status().map(|s| s.as_u16());
    let connect = err.is_connect();
    let (kind, message, not_sent) = if err.is_builder() {
        let mut message = describe("invalid request");
        if causes.contains("scheme is not allowed") {
            message.push_str(
                "; the client only sends to https:// URLs because useEncryptedEndpoints is true",
            );
        }
        (ErrorKind::InvalidConfig, message, false)
    } else if err.is_timeout() {
        (
            ErrorKind::Timeout,
            describe(if connect {
                "connecting timed out"
            } else {
                "request timed out"
            }),
            connect,
        )
    } else if connect {
        (ErrorKind::Unavailable, describe("could not connect"), true)
    } else if let Some(code) = status {
        (
            error_kind_for_status(code),
            describe(&format!("server answered HTTP {code}")),
            false,
        )
    } else if err.is_redirect() {
        (ErrorKind::Unexpected, describe("redirect failed"), false)
    } else if err.is_decode() {
        (
            ErrorKind::Unexpected,
            describe("could not decode the response body"),
            false,
        )
    } else if err.is_body() {
        (
            ErrorKind::Unavailable,
            describe("request or response body failed"),
            false,
        )
    } else if err.is_request() {
        (
            ErrorKind::Unavailable,
            describe("sending the request failed"),
            false,
        )
    } else {
        (ErrorKind::Unexpected, describe("HTTP error"), false)
    };
    let mut out = ConnectorError::new(kind, operation, message);
    if let Some(code) = status {
        out = out.with_remote(Some(code), None::<String>, None::<String>);
    }
    if not_sent {
        out = out.not_sent();
    }
    out.with_source(err)
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of the body and describes it for a message:
/// the text itself, `"empty body"`, or `"HTML body (N bytes, not shown)"`.
async fn body_snippet(resp: &mut Response) -> String {
    let is_html = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = ERROR_BODY_LIMIT - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
                if body.len() == ERROR_BODY_LIMIT {
                    truncated = resp
                        .content_length()
                        .is_none_or(|len| len > body.len() as u64);
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e.without_url(), "reading an error body failed");
                truncated = !body.is_empty();
                break;
            }
        }
    }
    describe_body(&body, truncated, is_html)
}

fn describe_body(body: &[u8], truncated: bool, is_html: bool) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "empty body".to_owned();
    }
    let head = trimmed
        .get(..trimmed.len().min(64))
        .unwrap_or("")
        .to_ascii_lowercase();
    if is_html || head.starts_with("<!doctype html") || head.starts_with("<html") {
        let more = if truncated { " or more" } else { "" };
        return format!("HTML body ({} bytes{more}, not shown)", body.len());
    }
    let mut out = trimmed.to_owned();
    if truncated {
        // from_utf8_lossy may have replaced a cut multi-byte character at the end.
        out = out.trim_end_matches('\u{FFFD}').to_owned();
        out.push_str("...");
    }
    out
}

/// The generic classification of an unsuccessful response: the kind from
/// [`error_kind_for_status`], the first 4 KiB of the body as the remote message (`empty
/// body` or `HTML body` rather than markup), `Retry-After`, and the URL path as `path`
/// context. Vendor crates use their own error-body parser first and this as a fallback.
pub async fn error_from_response(mut resp: Response, operation: &'static str) -> ConnectorError {
    let status = resp.status();
    let after = retry_after(resp.headers());
    let path = resp.url().path().to_owned();
    let snippet = body_snippet(&mut resp).await;
    let message = match status.canonical_reason() {
        Some(reason) => format!("server answered HTTP {} {reason}", status.as_u16()),
        None => format!("server answered HTTP {}", status.as_u16()),
    };
    let mut err = ConnectorError::new(error_kind_for_status(status.as_u16()), operation, message)
        .with_remote(Some(status.as_u16()), None::<String>, Some(snippet))
        .with_context("path", path);
    if let Some(after) = after {
        err = err.with_retry_after(after);
    }
    err
}

/// Sends the request `make_request` builds, retrying under `policy`.
///
/// `make_request` is called once per attempt (a request body cannot be sent twice).
/// Transport failures are converted by [`from_reqwest`]; responses with a status
/// [`is_retryable_status`] become temporary errors (with `Retry-After` and the first
/// 4 KiB of the body) and are retried by [`retry`] as `policy` and `idempotency` allow. A
/// 408 is marked [`not_sent`](ConnectorError::not_sent): the server says it did not
/// receive the whole request, so even a non-idempotent request may be repeated. When the
/// policy gives up, the last error is returned (persistent if it was retried). Every other
/// response, including other 4xx, is returned `Ok` for the caller to classify.
pub async fn send_with_retry(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    operation: &'static str,
    mut make_request: impl FnMut() -> reqwest::RequestBuilder,
) -> Result<Response> {
    retry(policy, idempotency, |attempt| {
        let request = make_request();
        async move {
            let resp = request
                .send()
                .await
                .map_err(|e| from_reqwest(e, operation))?;
            let status = resp.status().as_u16();
            if !is_retryable_status(status) {
                return Ok(resp);
            }
            tracing::debug!(operation, status, attempt, "retryable HTTP status");
            let err = error_from_response(resp, operation).await.temporary();
            Err(if status == 408 { err.not_sent() } else { err })
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_for_statuses() {
        assert_eq!(error_kind_for_status(401), ErrorKind::Unauthenticated);
        assert_eq!(error_kind_for_status(403), ErrorKind::PermissionDenied);
        assert_eq!(error_kind_for_status(404), ErrorKind::NotFound);
        assert_eq!(error_kind_for_status(410), ErrorKind::NotFound);
        assert_eq!(error_kind_for_status(408), ErrorKind::Timeout);
        assert_eq!(error_kind_for_status(409), ErrorKind::Conflict);
        assert_eq!(error_kind_for_status(412), ErrorKind::Conflict);
        assert_eq!(error_kind_for_status(429), ErrorKind::RateLimited);
        assert_eq!(error_kind_for_status(400), ErrorKind::InvalidInput);
        assert_eq!(error_kind_for_status(422), ErrorKind::InvalidInput);
        assert_eq!(error_kind_for_status(500), ErrorKind::Unavailable);
        assert_eq!(error_kind_for_status(503), ErrorKind::Unavailable);
        assert_eq!(error_kind_for_status(501), ErrorKind::Unsupported);
        assert_eq!(error_kind_for_status(418), ErrorKind::Unexpected);
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
            assert!(error_kind_for_status(s).default_status() == crate::ErrorStatus::Temporary);
        }
        assert!(!is_retryable_status(501) && !is_retryable_status(404));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("120"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1.5"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("-3"),
        );
        assert_eq!(retry_after(&h), None);
        let future = SystemTime::now() + Duration::from_secs(60);
        let date = httpdate::fmt_http_date(future);
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_str(&date).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(55) && d <= Duration::from_secs(60),
            "{d:?}"
        );
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn bodies_are_described() {
        assert_eq!(describe_body(b"", false, false), "empty body");
        assert_eq!(describe_body(b"  \n", false, false), "empty body");
        assert_eq!(
            describe_body(b"{\"code\":\"X\"}", false, false),
            "{\"code\":\"X\"}"
        );
        assert_eq!(
            describe_body(b"<!DOCTYPE html><html>..</html>", false, false),
            "HTML body (30 bytes, not shown)"
        );
        assert_eq!(
            describe_body(b"<p>x</p>", true, true),
            "HTML body (8 bytes or more, not shown)"
        );
        assert_eq!(
            describe_body("abc\u{e9}".as_bytes()[..4].as_ref(), true, false),
            "abc..."
        );
    }
}
