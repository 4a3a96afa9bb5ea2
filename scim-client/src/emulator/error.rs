//! SCIM error responses (RFC 7644 §3.12) and the emulator's own error type.

use serde_json::{Value, json};

use super::schema::ERROR_SCHEMA;

/// Why an emulator could not be started or a direct call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot bind the SCIM emulator to {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A resource given to a direct call (e.g. [`create_user`](super::RunningEmulator::create_user))
    /// was refused, as the HTTP endpoint would have refused it.
    #[error("the SCIM emulator refused the resource: {status} {scim_type:?}: {detail}")]
    Rejected {
        /// The HTTP status the endpoint would have answered.
        status: u16,
        /// The scimType, if any.
        scim_type: Option<String>,
        /// What was wrong.
        detail: String,
    },
}

/// A SCIM error: HTTP status, optional scimType and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    pub(crate) status: u16,
    pub(crate) scim_type: Option<&'static str>,
    pub(crate) detail: String,
}

impl ScimError {
    pub(crate) fn new(
        status: u16,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 with a scimType.
    pub(crate) fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub(crate) fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad("invalidValue", detail)
    }

    pub(crate) fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad("invalidSyntax", detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    pub(crate) fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    pub(crate) fn precondition_failed() -> Self {
        Self::new(412, None, "the resource's version does not match If-Match")
    }

    /// The RFC 7644 §3.12 body; `status` is a string.
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(t) = self.scim_type {
                obj.insert("scimType".into(), json!(t));
            }
            obj.insert("detail".into(), json!(self.detail));
        }
        v
    }
}

impl From<ScimError> for EmulatorError {
    fn from(e: ScimError) -> Self {
        EmulatorError::Rejected {
            status: e.status,
            scim_type: e.scim_type.map(str::to_owned),
            detail: e.detail,
        }
    }
}
