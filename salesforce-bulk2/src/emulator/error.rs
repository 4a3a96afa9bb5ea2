//! Salesforce's REST error body (`[{"message","errorCode"}]`) and the emulator's own
//! error type.

use serde_json::{Value, json};

/// Why an emulator could not be started or a direct call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot bind the Salesforce emulator to {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The self-signed certificate or the TLS configuration could not be made.
    #[error("cannot set up TLS for the Salesforce emulator: {0}")]
    Tls(String),
    /// The sObject is not one the emulator knows.
    #[error("the Salesforce emulator has no sObject {0:?}")]
    UnknownObject(String),
    /// A record or definition given to a direct call was refused, as the API would
    /// have refused it.
    #[error("the Salesforce emulator refused it: {code}: {message}")]
    Rejected {
        /// Salesforce's status code, e.g. `REQUIRED_FIELD_MISSING`.
        code: String,
        /// Salesforce's message.
        message: String,
    },
}

/// An API error: HTTP status plus Salesforce's error array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// `[{"message","errorCode"}]`.
    pub(crate) fn to_json(&self) -> Value {
        json!([{ "message": self.message, "errorCode": self.code }])
    }

    pub(crate) fn invalid_session() -> Self {
        Self::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub(crate) fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"),
        )
    }

    pub(crate) fn json_parser(detail: &str) -> Self {
        Self::new(
            400,
            "JSON_PARSER_ERROR",
            format!("Cannot deserialize instance: {detail}"),
        )
    }

    pub(crate) fn invalid_job(message: impl Into<String>) -> Self {
        Self::new(400, "INVALIDJOB", message)
    }

    pub(crate) fn invalid_job_state(message: impl Into<String>) -> Self {
        Self::new(400, "INVALIDJOBSTATE", message)
    }
}
