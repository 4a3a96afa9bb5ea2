//! Errors: [`ScimError`], typed by the server's [`ScimType`].

use std::fmt;
use std::time::Duration;

use connector_core::{ConnectorError, ErrorKind};

/// The `scimType` of a SCIM error response (RFC 7644 §3.12, RFC 9865).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScimType {
    /// The filter syntax was invalid, or the attribute and comparison are not supported.
    InvalidFilter,
    /// The filter would return more results than the server allows.
    TooMany,
    /// A value is not unique (409): a user with this `userName` exists.
    Uniqueness,
    /// The change would modify an immutable or read-only attribute.
    Mutability,
    /// The request body was not a valid SCIM message.
    InvalidSyntax,
    /// A PATCH path was invalid.
    InvalidPath,
    /// A PATCH path did not select any target.
    NoTarget,
    /// A value was invalid or missing.
    InvalidValue,
    /// The SCIM protocol version is not supported.
    InvalidVers,
    /// The request carries sensitive information in its URL (403): use `POST /.search`.
    Sensitive,
    /// A pagination cursor was invalid (RFC 9865).
    InvalidCursor,
    /// A pagination cursor expired (RFC 9865).
    ExpiredCursor,
    /// A value this library does not know, as the server sent it.
    Other(String),
}

impl ScimType {
    /// Reads a `scimType`, ignoring case.
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "invalidfilter" => Self::InvalidFilter,
            "toomany" => Self::TooMany,
            "uniqueness" => Self::Uniqueness,
            "mutability" => Self::Mutability,
            "invalidsyntax" => Self::InvalidSyntax,
            "invalidpath" => Self::InvalidPath,
            "notarget" => Self::NoTarget,
            "invalidvalue" => Self::InvalidValue,
            "invalidvers" => Self::InvalidVers,
            "sensitive" => Self::Sensitive,
            "invalidcursor" => Self::InvalidCursor,
            "expiredcursor" => Self::ExpiredCursor,
            _ => Self::Other(s.to_owned()),
        }
    }

    /// The RFC's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
            Self::InvalidCursor => "invalidCursor",
            Self::ExpiredCursor => "expiredCursor",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the SCIM client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScimError {
    /// The server answered with an error status and a SCIM error body.
    #[error("{operation}: HTTP {status}{}{}", scim_type.as_ref().map(|t| format!(" {t}")).unwrap_or_default(), detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Scim {
        /// What was being done (`scim.create_user`).
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The `scimType`, if the server sent one.
        scim_type: Option<ScimType>,
        /// The server's `detail`.
        detail: Option<String>,
        /// How long the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The server answered with an error status and a body that is not a SCIM error
    /// (an HTML page, a proxy's JSON, nothing).
    #[error("{operation}: HTTP {status}: {body}")]
    Http {
        /// What was being done.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// A description of the body (its first characters, or "empty body").
        body: String,
        /// How long the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// A success response whose body is not what SCIM promises.
    #[error("{operation}: the response is not a valid SCIM message: {message}")]
    InvalidResponse {
        /// What was being done.
        operation: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A filter string that does not parse, detected before any request.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// A PATCH path or request that is not valid, detected before any request.
    #[error("invalid PATCH: {0}")]
    InvalidPatch(String),
    /// The client's configuration is invalid; detected before any request.
    #[error("invalid SCIM client configuration: {0}")]
    Config(String),
    /// The request could not be completed (network, TLS, retries exhausted, token).
    #[error(transparent)]
    Transport(#[from] ConnectorError),
}

impl ScimError {
    /// The HTTP status, for errors the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Scim { status, .. } | Self::Http { status, .. } => Some(*status),
            Self::Transport(e) => e.http_status(),
            _ => None,
        }
    }

    /// The `scimType`: the server's, or for a filter or PATCH path refused before any
    /// request, the one the server would have sent (`invalidFilter`, `invalidPath`).
    pub fn scim_type(&self) -> Option<&ScimType> {
        static INVALID_FILTER: ScimType = ScimType::InvalidFilter;
        static INVALID_PATH: ScimType = ScimType::InvalidPath;
        match self {
            Self::Scim { scim_type, .. } => scim_type.as_ref(),
            Self::InvalidFilter(_) => Some(&INVALID_FILTER),
            Self::InvalidPatch(_) => Some(&INVALID_PATH),
            _ => None,
        }
    }

    /// The server's `detail`, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Scim { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }

    /// Whether the error says the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether the error is an ETag mismatch (412 Precondition Failed).
    pub fn is_precondition_failed(&self) -> bool {
        self.status() == Some(412)
    }

    /// Whether a later retry of the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Scim { status, .. } | Self::Http { status, .. } => {
                matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
            }
            Self::Transport(e) => e.is_retryable(),
            _ => false,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::Scim {
                status, scim_type, ..
            } => match (status, scim_type) {
                (409, _) | (412, _) | (_, Some(ScimType::Uniqueness)) => ErrorKind::Conflict,
                (s, _) => connector_core::http::error_kind_for_status(*s),
            },
            Self::Http { status, .. } => connector_core::http::error_kind_for_status(*status),
            Self::InvalidResponse { .. } => ErrorKind::Unexpected,
            Self::InvalidFilter(_) | Self::InvalidPatch(_) => ErrorKind::InvalidInput,
            Self::Config(_) => ErrorKind::InvalidConfig,
            Self::Transport(e) => e.kind(),
        }
    }
}

impl From<ScimError> for ConnectorError {
    fn from(err: ScimError) -> Self {
        let kind = err.kind();
        match err {
            ScimError::Transport(e) => e,
            ScimError::Scim {
                operation,
                status,
                scim_type,
                detail,
                retry_after,
            } => {
                let mut e =
                    ConnectorError::new(kind, operation, "the SCIM server refused the request")
                        .with_remote(Some(status), scim_type.map(|t| t.to_string()), detail);
                if let Some(after) = retry_after {
                    e = e.with_retry_after(after);
                }
                e
            }
            ScimError::Http {
                operation,
                status,
                body,
                retry_after,
            } => {
                let mut e =
                    ConnectorError::new(kind, operation, "the SCIM server answered with an error")
                        .with_remote(Some(status), None::<String>, Some(body));
                if let Some(after) = retry_after {
                    e = e.with_retry_after(after);
                }
                e
            }
            other => {
                let operation: &'static str = match &other {
                    ScimError::InvalidResponse { operation, .. } => operation,
                    _ => "scim",
                };
                ConnectorError::new(kind, operation, other.to_string())
            }
        }
    }
}

/// `Result` with [`ScimError`].
pub type Result<T, E = ScimError> = std::result::Result<T, E>;
