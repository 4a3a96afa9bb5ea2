//! Errors: [`SalesforceError`], carrying Salesforce's own `errorCode` and `message`.
//!
//! Salesforce answers errors with a JSON array (`[{"errorCode":"INVALID_FIELD",
//! "message":"..."}]`), sometimes with `statusCode` instead of `errorCode` or a `fields`
//! array; the OAuth endpoint answers `{"error","error_description"}`; proxies and the
//! edge answer HTML or nothing at all. All of them become [`SalesforceError::Api`] with
//! a code (`HTTP_<status>` when there was none) and a message that never contains
//! markup.

use connector_core::{ConnectorError, ErrorKind, ErrorStatus};
use serde_json::Value;

/// An error of the Salesforce client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SalesforceError {
    /// Salesforce refused a request.
    #[error("{operation}: HTTP {status} {code}: {message}")]
    Api {
        /// What was being done (`salesforce.create_query_job`).
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// Salesforce's `errorCode` (`INVALID_FIELD`, `INVALID_SESSION_ID`), or
        /// `HTTP_<status>` when the body carried none.
        code: String,
        /// Salesforce's message, or a description of a body that was not an error
        /// (`empty body`, `an HTML page`).
        message: String,
    },
    /// A SOQL query Bulk API 2.0 would reject, refused before submission.
    #[error("SOQL not supported by Bulk API 2.0: {clause}: {message}")]
    UnsupportedSoql {
        /// The clause or construct (`GROUP BY`, `OFFSET`, `COUNT()`, `BillingAddress`).
        clause: String,
        /// Why, and what to do instead.
        message: String,
    },
    /// A job ended `Failed` or `Aborted`, or did not finish in time.
    #[error("job {job_id} ({operation}) ended {state}: {message}")]
    Job {
        /// What was being done.
        operation: &'static str,
        /// The job id.
        job_id: String,
        /// The job's final state (`Failed`, `Aborted`), or `Timeout`.
        state: String,
        /// The job's `errorMessage`, or what happened.
        message: String,
    },
    /// A request this client refuses before sending (a missing `externalIdFieldName`,
    /// a field the object does not have, a value that does not fit).
    #[error("{operation}: {message}")]
    InvalidRequest {
        /// What was being done.
        operation: &'static str,
        /// What is wrong, naming the field, row or value.
        message: String,
    },
    /// A success response whose body is not what Salesforce documents (a result CSV
    /// cut off, JSON that does not parse).
    #[error("{operation}: unexpected response: {message}")]
    InvalidResponse {
        /// What was being done.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The configuration is invalid; detected before any request.
    #[error("invalid Salesforce configuration: {0}")]
    Config(String),
    /// Network, TLS, retries exhausted, token endpoint failures.
    #[error(transparent)]
    Transport(#[from] ConnectorError),
}

impl SalesforceError {
    /// Salesforce's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            Self::Transport(e) => e.remote_code(),
            _ => None,
        }
    }

    /// The HTTP status, if there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Transport(e) => e.http_status(),
            _ => None,
        }
    }

    /// Whether the failure is transient (throttling, a server error, a dropped
    /// connection, a locked row): the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => {
                matches!(*status, 406 | 420 | 429 | 500..=599)
                    || matches!(code.as_str(), "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE")
            }
            Self::Transport(e) => {
                matches!(e.status(), ErrorStatus::Temporary | ErrorStatus::Persistent)
            }
            _ => false,
        }
    }

    /// The connector-core kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api { status, code, .. } => match code.as_str() {
                "INVALID_SESSION_ID" | "invalid_grant" | "invalid_client" | "invalid_client_id" => {
                    ErrorKind::Unauthenticated
                }
                "REQUEST_LIMIT_EXCEEDED" | "TOO_MANY_REQUESTS" => ErrorKind::RateLimited,
                "INSUFFICIENT_ACCESS"
                | "INSUFFICIENT_ACCESS_OR_READONLY"
                | "API_DISABLED_FOR_ORG" => ErrorKind::PermissionDenied,
                "NOT_FOUND" | "INVALID_TYPE" | "INVALIDENTITY" | "INVALID_JOB" => {
                    ErrorKind::NotFound
                }
                "INVALID_FIELD" | "MALFORMED_QUERY" | "INVALID_QUERY_FILTER_OPERATOR" => {
                    ErrorKind::InvalidInput
                }
                "QUERY_TIMEOUT" => ErrorKind::Timeout,
                "JOB_NOT_COMPLETE" | "DUPLICATE_VALUE" | "UNABLE_TO_LOCK_ROW" => {
                    ErrorKind::Conflict
                }
                "FEATURE_NOT_ENABLED" | "API_CURRENTLY_DISABLED" => ErrorKind::Unsupported,
                _ => connector_core::http::error_kind_for_status(*status),
            },
            Self::UnsupportedSoql { .. } => ErrorKind::Unsupported,
            Self::Job { state, .. } if state == "Timeout" => ErrorKind::Timeout,
            Self::Job { .. } => ErrorKind::Unexpected,
            Self::InvalidRequest { .. } => ErrorKind::InvalidInput,
            Self::InvalidResponse { .. } => ErrorKind::Unexpected,
            Self::Config(_) => ErrorKind::InvalidConfig,
            Self::Transport(e) => e.kind(),
        }
    }

    pub(crate) fn invalid_request(operation: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            operation,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_response(operation: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            operation,
            message: message.into(),
        }
    }
}

impl From<SalesforceError> for ConnectorError {
    fn from(err: SalesforceError) -> Self {
        let kind = err.kind();
        let transient = err.is_transient();
        match err {
            SalesforceError::Transport(e) => e,
            SalesforceError::Api {
                operation,
                status,
                code,
                message,
            } => {
                let e = ConnectorError::new(kind, operation, "Salesforce refused the request")
                    .with_remote(Some(status), Some(code), Some(message));
                if transient {
                    e.temporary()
                } else {
                    e.permanent()
                }
            }
            SalesforceError::UnsupportedSoql { ref clause, .. } => {
                let clause = clause.clone();
                ConnectorError::new(kind, "salesforce.soql", err.to_string())
                    .with_context("clause", clause)
            }
            SalesforceError::Job {
                operation,
                ref job_id,
                ..
            } => {
                let job_id = job_id.clone();
                ConnectorError::new(kind, operation, err.to_string()).with_context("job", job_id)
            }
            SalesforceError::InvalidRequest { operation, .. }
            | SalesforceError::InvalidResponse { operation, .. } => {
                ConnectorError::new(kind, operation, err.to_string())
            }
            SalesforceError::Config(_) => {
                ConnectorError::new(kind, "salesforce.config", err.to_string())
            }
        }
    }
}

/// `Result` with [`SalesforceError`].
pub type Result<T, E = SalesforceError> = std::result::Result<T, E>;

/// The code and message of an error body: Salesforce's JSON array or object, the OAuth
/// endpoint's `{"error","error_description"}`, or a description of anything else
/// (`empty body`, `an HTML page (N bytes, not shown)`, the first 300 characters).
pub(crate) fn parse_error_body(status: u16, bytes: &[u8]) -> (String, String) {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let first = match &value {
            Value::Array(items) => items.first().cloned(),
            Value::Object(_) => Some(value.clone()),
            _ => None,
        };
        if let Some(obj) = first.as_ref().and_then(Value::as_object) {
            let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
            let code = text("errorCode")
                .or_else(|| text("statusCode"))
                .or_else(|| text("error"));
            let mut message = text("message")
                .or_else(|| text("error_description"))
                .unwrap_or_default();
            if let Some(fields) = obj.get("fields").and_then(Value::as_array) {
                let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
                if !names.is_empty() {
                    message = format!("{message} (fields: {})", names.join(", "));
                }
            }
            if let Some(code) = code {
                return (code, message);
            }
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim();
    let message = if trimmed.is_empty() {
        "empty body".to_owned()
    } else if trimmed.starts_with('<') {
        format!("an HTML page ({} bytes, not shown)", bytes.len())
    } else {
        trimmed.chars().take(300).collect()
    };
    (format!("HTTP_{status}"), message)
}

/// [`SalesforceError::Api`] from a status and body.
pub(crate) fn api_error(operation: &'static str, status: u16, bytes: &[u8]) -> SalesforceError {
    let (code, message) = parse_error_body(status, bytes);
    SalesforceError::Api {
        operation,
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_every_shape() {
        let (c, m) = parse_error_body(
            400,
            br#"[{"message":"No such column 'Foo' on entity 'Account'","errorCode":"INVALID_FIELD"}]"#,
        );
        assert_eq!(c, "INVALID_FIELD");
        assert!(m.contains("Foo"));
        let (c, m) = parse_error_body(
            400,
            br#"[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required","fields":["Name"]}]"#,
        );
        assert_eq!(
            (c.as_str(), m.as_str()),
            ("REQUIRED_FIELD_MISSING", "Required (fields: Name)")
        );
        let (c, m) = parse_error_body(
            400,
            br#"{"error":"invalid_grant","error_description":"expired"}"#,
        );
        assert_eq!((c.as_str(), m.as_str()), ("invalid_grant", "expired"));
        let (c, m) = parse_error_body(503, b"");
        assert_eq!((c.as_str(), m.as_str()), ("HTTP_503", "empty body"));
        let (c, m) = parse_error_body(431, b"<html><body>Bad Message 431</body></html>");
        assert_eq!(c, "HTTP_431");
        assert!(m.starts_with("an HTML page") && !m.contains("<"));
    }

    #[test]
    fn kinds_and_conversion() {
        let e = api_error(
            "op",
            401,
            br#"[{"errorCode":"INVALID_SESSION_ID","message":"Session expired"}]"#,
        );
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        let c = ConnectorError::from(e);
        assert_eq!(c.remote_code(), Some("INVALID_SESSION_ID"));
        assert_eq!(c.http_status(), Some(401));
        let e = api_error("op", 503, b"<html/>");
        assert!(e.is_transient());
        assert!(ConnectorError::from(e).is_retryable());
        assert!(std::mem::size_of::<SalesforceError>() <= 128);
    }
}
