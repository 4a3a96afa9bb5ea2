//! Zoho's error envelope (`{"code","details","message","status":"error"}`) and the
//! emulator's own error type.

use serde_json::{Value, json};

/// Why an emulator could not be started or a direct call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot bind the Zoho CRM emulator to {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The module is not one the emulator holds records for (Leads, Contacts,
    /// Accounts, Deals).
    #[error("the Zoho CRM emulator has no module {0:?}")]
    UnknownModule(String),
    /// No record with this id in this module.
    #[error("the Zoho CRM emulator has no {module} record with id {id}")]
    NotFound {
        /// The module's API name.
        module: String,
        /// The id asked for.
        id: String,
    },
    /// A record given to a direct call was refused, as the API would have refused it.
    #[error("the Zoho CRM emulator refused the record: {code}: {message} ({details})")]
    Rejected {
        /// Zoho's error code, e.g. `MANDATORY_NOT_FOUND`.
        code: String,
        /// Zoho's message.
        message: String,
        /// Zoho's `details` object.
        details: Value,
    },
}

/// A top-level API error: HTTP status plus Zoho's error envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) details: Value,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        details: Value,
    ) -> Self {
        Self {
            status,
            code,
            details,
            message: message.into(),
        }
    }

    /// `{"code","details","message","status":"error"}`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "code": self.code,
            "details": self.details,
            "message": self.message,
            "status": "error",
        })
    }

    pub(crate) fn invalid_token() -> Self {
        Self::new(401, "INVALID_TOKEN", "invalid oauth token", json!({}))
    }

    pub(crate) fn scope_mismatch() -> Self {
        Self::new(
            401,
            "OAUTH_SCOPE_MISMATCH",
            "invalid oauth scope to access this URL",
            json!({}),
        )
    }

    pub(crate) fn required_param(name: &str) -> Self {
        Self::new(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": name}),
        )
    }

    pub(crate) fn invalid_param(name: &str, message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_DATA", message, json!({"param_name": name}))
    }

    pub(crate) fn invalid_data(message: impl Into<String>, details: Value) -> Self {
        Self::new(400, "INVALID_DATA", message, details)
    }

    pub(crate) fn limit_exceeded(message: impl Into<String>, details: Value) -> Self {
        Self::new(400, "LIMIT_EXCEEDED", message, details)
    }

    pub(crate) fn invalid_module_in_path() -> Self {
        Self::new(
            400,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"resource_path_index": 0}),
        )
    }

    pub(crate) fn invalid_module_param(param: &str) -> Self {
        Self::new(
            400,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"param_name": param}),
        )
    }

    pub(crate) fn invalid_url() -> Self {
        Self::new(
            404,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            json!({}),
        )
    }

    pub(crate) fn invalid_method() -> Self {
        Self::new(
            400,
            "INVALID_REQUEST_METHOD",
            "The http request method type is not a valid one",
            json!({}),
        )
    }

    pub(crate) fn too_many_requests(message: &str) -> Self {
        Self::new(429, "TOO_MANY_REQUESTS", message, json!({}))
    }

    pub(crate) fn internal() -> Self {
        Self::new(500, "INTERNAL_ERROR", "Internal Server Error", json!({}))
    }

    pub(crate) fn body_not_json(detail: &str) -> Self {
        Self::new(
            400,
            "INVALID_DATA",
            format!("the request body is not valid JSON: {detail}"),
            json!({}),
        )
    }
}
