//! The error every connector converts into: [`ConnectorError`].
//!
//! Modelled on OpenDAL's error (a kind, a permanent/temporary/persistent status, the
//! operation, key/value context) with the remote system's own code and message always
//! kept and shown, because "service error" is not a message anyone can act on.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// What went wrong, independent of the system it went wrong in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials were missing, wrong or expired (HTTP 401, `INVALID_SESSION_ID`).
    Unauthenticated,
    /// The credentials are valid but lack a permission or scope (HTTP 403).
    PermissionDenied,
    /// The object, record or endpoint does not exist (HTTP 404).
    NotFound,
    /// The remote system throttled the request (HTTP 429, daily limits).
    RateLimited,
    /// The configuration is invalid; detected before any request was sent.
    InvalidConfig,
    /// A request or value the remote system (or this library) rejected as malformed.
    InvalidInput,
    /// The operation is not supported by this system or this version.
    Unsupported,
    /// A conflicting state (duplicate, precondition failed, version mismatch).
    Conflict,
    /// The request timed out.
    Timeout,
    /// The remote system is unavailable (5xx, connection refused or dropped).
    Unavailable,
    /// A local I/O failure (file not found, disk full).
    Io,
    /// Anything else, including a response this library could not understand.
    Unexpected,
}

impl ErrorKind {
    /// The status an error of this kind has unless said otherwise.
    pub fn default_status(self) -> ErrorStatus {
        match self {
            Self::RateLimited | Self::Timeout | Self::Unavailable => ErrorStatus::Temporary,
            _ => ErrorStatus::Permanent,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission denied",
            Self::NotFound => "not found",
            Self::RateLimited => "rate limited",
            Self::InvalidConfig => "invalid configuration",
            Self::InvalidInput => "invalid input",
            Self::Unsupported => "unsupported",
            Self::Conflict => "conflict",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::Io => "I/O error",
            Self::Unexpected => "unexpected",
        };
        f.write_str(s)
    }
}

/// Whether trying again can help (OpenDAL's error status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorStatus {
    /// Trying again will fail the same way.
    Permanent,
    /// Trying again may succeed.
    Temporary,
    /// It was temporary, but it kept failing after every retry the policy allowed.
    Persistent,
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Permanent => "permanent",
            Self::Temporary => "temporary",
            Self::Persistent => "persistent",
        })
    }
}

/// The remote system's own account of an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RemoteError {
    /// The HTTP status, when there was a response.
    pub http_status: Option<u16>,
    /// The system's error code (`INVALID_FIELD`, `OAUTH_SCOPE_MISMATCH`, `uniqueness`).
    pub code: Option<String>,
    /// The system's error message, as it sent it.
    pub message: Option<String>,
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(status) = self.http_status {
            write!(f, "HTTP {status}")?;
            sep = " ";
        }
        if let Some(code) = &self.code {
            write!(f, "{sep}{code}")?;
            sep = ": ";
        }
        if let Some(message) = &self.message {
            if sep == " " {
                sep = ": ";
            }
            write!(f, "{sep}{message}")?;
        }
        Ok(())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from any connector: what kind, whether a retry can help, during which
/// operation, and what the remote system said.
///
/// ```
/// use connector_core::{ConnectorError, ErrorKind};
///
/// let err = ConnectorError::new(ErrorKind::InvalidInput, "zoho.insert_records", "record rejected")
///     .with_remote(Some(400), Some("INVALID_DATA"), Some("invalid data"))
///     .with_context("module", "Leads");
/// assert!(!err.is_retryable());
/// assert_eq!(
///     err.to_string(),
///     "invalid input (permanent) during zoho.insert_records: record rejected \
///      [remote: HTTP 400 INVALID_DATA: invalid data] {module: Leads}"
/// );
/// ```
pub struct ConnectorError {
    // Boxed so that `Result<T, ConnectorError>` stays one pointer wide on the error
    // side: errors are rare, results are everywhere.
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    status: ErrorStatus,
    operation: Cow<'static, str>,
    message: String,
    remote: Option<RemoteError>,
    context: Vec<(&'static str, String)>,
    retry_after: Option<Duration>,
    not_sent: bool,
    source: Option<BoxError>,
}

impl ConnectorError {
    /// An error of `kind` during `operation` (`"salesforce.create_query_job"`).
    pub fn new(
        kind: ErrorKind,
        operation: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                status: kind.default_status(),
                operation: operation.into(),
                message: message.into(),
                remote: None,
                context: Vec::new(),
                retry_after: None,
                not_sent: false,
                source: None,
            }),
        }
    }

    /// A configuration error, detected before any request.
    pub fn config(operation: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, operation, message)
    }

    /// Records the remote system's HTTP status, error code and message.
    #[must_use]
    pub fn with_remote(
        mut self,
        http_status: Option<u16>,
        code: Option<impl Into<String>>,
        message: Option<impl Into<String>>,
    ) -> Self {
        self.inner.remote = Some(RemoteError {
            http_status,
            code: code.map(Into::into),
            message: message.map(Into::into),
        });
        self
    }

    /// Adds a key/value pair of context (`object`, `field`, `row`, `file`).
    #[must_use]
    pub fn with_context(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.inner.context.push((key, value.into()));
        self
    }

    /// Sets the status explicitly.
    #[must_use]
    pub fn with_status(mut self, status: ErrorStatus) -> Self {
        self.inner.status = status;
        self
    }

    /// Marks the error temporary: a retry may help.
    #[must_use]
    pub fn temporary(self) -> Self {
        self.with_status(ErrorStatus::Temporary)
    }

    /// Marks the error permanent: a retry will not help.
    #[must_use]
    pub fn permanent(self) -> Self {
        self.with_status(ErrorStatus::Permanent)
    }

    /// Marks a temporary error as persistent: retries were exhausted.
    #[must_use]
    pub fn persistent(mut self) -> Self {
        if self.inner.status == ErrorStatus::Temporary {
            self.inner.status = ErrorStatus::Persistent;
        }
        self
    }

    /// How long the remote system asked callers to wait (`Retry-After`).
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.inner.retry_after = Some(after);
        self
    }

    /// Records that the request never reached the remote system (the connection could
    /// not be made), so repeating even a non-idempotent request is safe.
    #[must_use]
    pub fn not_sent(mut self) -> Self {
        self.inner.not_sent = true;
        self
    }

    /// Whether the request is known never to have reached the remote system.
    pub fn was_not_sent(&self) -> bool {
        self.inner.not_sent
    }

    /// Keeps the underlying error as the [`source`](std::error::Error::source).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Replaces the operation name (when a lower layer did not know it).
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.inner.operation = operation.into();
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether a retry can help.
    pub fn status(&self) -> ErrorStatus {
        self.inner.status
    }

    /// Whether trying the same operation again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.inner.status == ErrorStatus::Temporary
    }

    /// The operation that failed.
    pub fn operation(&self) -> &str {
        &self.inner.operation
    }

    /// This library's description of the failure.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// What the remote system said, if it said anything.
    pub fn remote(&self) -> Option<&RemoteError> {
        self.inner.remote.as_ref()
    }

    /// The remote system's error code (`INVALID_FIELD`, `uniqueness`), if any.
    pub fn remote_code(&self) -> Option<&str> {
        self.inner.remote.as_ref().and_then(|r| r.code.as_deref())
    }

    /// The HTTP status of the failed response, if any.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.remote.as_ref().and_then(|r| r.http_status)
    }

    /// The key/value context.
    pub fn context(&self) -> &[(&'static str, String)] {
        &self.inner.context
    }

    /// The context value for `key`, if set.
    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.inner
            .context
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// How long the remote system asked callers to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) during {}: {}",
            self.inner.kind, self.inner.status, self.inner.operation, self.inner.message
        )?;
        if let Some(remote) = &self.inner.remote {
            write!(f, " [remote: {remote}]")?;
        }
        if !self.inner.context.is_empty() {
            f.write_str(" {")?;
            for (i, (k, v)) in self.inner.context.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v}")?;
            }
            f.write_str("}")?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ConnectorError");
        d.field("kind", &self.inner.kind)
            .field("status", &self.inner.status)
            .field("operation", &self.inner.operation)
            .field("message", &self.inner.message);
        if let Some(remote) = &self.inner.remote {
            d.field("remote", remote);
        }
        if !self.inner.context.is_empty() {
            d.field("context", &self.inner.context);
        }
        if let Some(after) = &self.inner.retry_after {
            d.field("retry_after", after);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for ConnectorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<type_mapping::ConversionError> for ConnectorError {
    fn from(err: type_mapping::ConversionError) -> Self {
        Self::new(ErrorKind::InvalidInput, "convert", err.to_string())
            .with_context("field", err.field.clone())
    }
}

impl From<std::io::Error> for ConnectorError {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        Self::new(kind, "io", err.to_string()).with_source(err)
    }
}

/// `Result` with [`ConnectorError`] as the error.
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;
