//! Errors: [`ZohoError`], carrying Zoho's own `code`, `message` and `details`.

use connector_core::{ConnectorError, ErrorKind};
use serde_json::Value;

/// An error of the Zoho CRM client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZohoError {
    /// The API answered with an error envelope (`{"code","details","message","status"}`).
    #[error(
        "{operation}: HTTP {status} {code}: {message}{}",
        details_suffix(details)
    )]
    Api {
        /// What was being done (`zoho.list_records`).
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// Zoho's code (`INVALID_DATA`, `OAUTH_SCOPE_MISMATCH`, `INVALID_MODULE`).
        code: String,
        /// Zoho's message.
        message: String,
        /// Zoho's details (the field, the limit, ...). Boxed: errors are rare, results
        /// are everywhere.
        details: Box<Value>,
    },
    /// A success response whose body is not what Zoho documents.
    #[error("{operation}: unexpected response: {message}")]
    InvalidResponse {
        /// What was being done.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A query or request this client refuses before sending (invalid COQL, too many
    /// records in one call).
    #[error("{operation}: {message}")]
    InvalidRequest {
        /// What was being done.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The configuration is invalid; detected before any request.
    #[error("invalid Zoho CRM configuration: {0}")]
    Config(String),
    /// Network, TLS, retries exhausted, or the accounts server refused the credentials.
    #[error(transparent)]
    Transport(#[from] ConnectorError),
}

fn details_suffix(details: &Value) -> String {
    match details {
        Value::Object(map) if !map.is_empty() => format!(" (details: {details})"),
        _ => String::new(),
    }
}

impl ZohoError {
    /// Zoho's error code, if the API sent one.
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
    /// connection), even if retries were exhausted: the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => {
                code == "TOO_MANY_REQUESTS" || *status == 429 || *status >= 500
            }
            Self::Transport(e) => {
                matches!(
                    e.status(),
                    connector_core::ErrorStatus::Temporary
                        | connector_core::ErrorStatus::Persistent
                )
            }
            _ => false,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Api { status, code, .. } => match code.as_str() {
                "INVALID_TOKEN" | "AUTHENTICATION_FAILURE" => ErrorKind::Unauthenticated,
                "OAUTH_SCOPE_MISMATCH" | "NO_PERMISSION" => ErrorKind::PermissionDenied,
                "TOO_MANY_REQUESTS" => ErrorKind::RateLimited,
                "INVALID_MODULE" | "INVALID_URL_PATTERN" | "NOT_FOUND" => ErrorKind::NotFound,
                "DUPLICATE_DATA" | "RECORD_LOCKED" => ErrorKind::Conflict,
                _ => connector_core::http::error_kind_for_status(*status),
            },
            Self::InvalidResponse { .. } => ErrorKind::Unexpected,
            Self::InvalidRequest { .. } => ErrorKind::InvalidInput,
            Self::Config(_) => ErrorKind::InvalidConfig,
            Self::Transport(e) => e.kind(),
        }
    }
}

impl From<ZohoError> for ConnectorError {
    fn from(err: ZohoError) -> Self {
        let kind = err.kind();
        match err {
            ZohoError::Transport(e) => e,
            ZohoError::Api {
                operation,
                status,
                code,
                message,
                details,
            } => {
                let mut e = ConnectorError::new(kind, operation, "Zoho CRM refused the request")
                    .with_remote(Some(status), Some(code), Some(message));
                if !details.is_null() && *details != Value::Object(Default::default()) {
                    e = e.with_context("details", details.to_string());
                }
                e
            }
            ZohoError::InvalidResponse { operation, .. }
            | ZohoError::InvalidRequest { operation, .. } => {
                ConnectorError::new(kind, operation, err.to_string())
            }
            ZohoError::Config(_) => ConnectorError::new(kind, "zoho.config", err.to_string()),
        }
    }
}

/// `Result` with [`ZohoError`].
pub type Result<T, E = ZohoError> = std::result::Result<T, E>;
