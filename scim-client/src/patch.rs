//! SCIM PATCH (RFC 7644 §3.5.2): the `PatchOp` request document, its paths, a
//! builder, lenient reading, and application to a JSON resource.
//!
//! ```
//! use scim_client::filter::Filter;
//! use scim_client::patch::{PatchPath, PatchRequest};
//! use serde_json::json;
//!
//! // Build what a client sends: lowercase ops, typed paths, values escaped in filters.
//! let request = PatchRequest::new()
//!     .replace("active", false)
//!     .replace(r#"emails[type eq "work"].value"#, "bjensen@example.com")
//!     .remove(PatchPath::value_path("members", Filter::eq("value", "2819c223")));
//! assert_eq!(
//!     serde_json::to_value(&request)?,
//!     json!({
//!         "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!         "Operations": [
//!             {"op": "replace", "path": "active", "value": false},
//!             {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"},
//!             {"op": "remove", "path": "members[value eq \"2819c223\"]"}
//!         ]
//!     })
//! );
//!
//! // Read what a client sent (ops in any case, as Entra sends them) and apply it.
//! let incoming: PatchRequest = serde_json::from_value(json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [{"op": "Add", "path": "members", "value": [{"value": "u2"}]}]
//! }))?;
//! let mut group = json!({"displayName": "Admins", "members": [{"value": "u1"}]});
//! incoming.apply(&mut group)?;
//! assert_eq!(group["members"], json!([{"value": "u1"}, {"value": "u2"}]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Paths
//!
//! `PATH = attrPath / valuePath [subAttr]` (RFC 7644 figure 7): `members`,
//! `name.familyName`, `addresses[type eq "work"]`,
//! `members[value eq "2819c223"].displayName`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
//! A path that does not parse is a [`PathError`] / [`PatchError::InvalidPath`], both
//! scimType `invalidPath`.
//!
//! # Reading leniently
//!
//! [`PatchRequest::from_json`] (and `Deserialize`) accept `op` in any case (`Add`,
//! `REPLACE`), member names in any case, a missing `schemas`, and an empty `path`
//! (read as no path). Values are kept exactly as sent: Entra's `"value": "False"`
//! stays the string `"False"`; deciding what it means is the caller's business.
//!
//! # Applying
//!
//! [`PatchRequest::apply`] implements RFC 7644 §3.5.2.1–3, atomically: on error the
//! resource is left unchanged. See [`PatchRequest::apply_with`] for the rules and
//! the choices made where the RFC leaves room.

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::filter::{CompValue, CompareOp, Cursor, Filter, element_matches};
use crate::path::{AttrPath, PathError, find_key, get_ci, is_core_uri};

/// The schema URI of a PATCH request body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The kind of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add` (RFC 7644 §3.5.2.1).
    Add,
    /// `replace` (RFC 7644 §3.5.2.3).
    Replace,
    /// `remove` (RFC 7644 §3.5.2.2).
    Remove,
}

impl PatchOpKind {
    /// The kind's name as sent on the wire: lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Replace => "replace",
            PatchOpKind::Remove => "remove",
        }
    }

    /// The kind named `name`, ignoring ASCII case (`Add`, `REPLACE`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PatchOpKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PatchOpKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown PATCH op {name:?} (expected add, replace or remove)"
            ))
        })
    }
}

/// The `path` of a PATCH operation: `attrPath / valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// An attribute path: `members`, `name.familyName`, `urn:...:User:manager.value`.
    Attr(AttrPath),
    /// A value path selecting values of a multi-valued attribute, optionally one
    /// sub-attribute of them: `emails[type eq "work"].value`.
    ValuePath {
        /// The multi-valued attribute, e.g. `emails`.
        attr: AttrPath,
        /// The filter selecting its values, over their sub-attributes.
        filter: Filter,
        /// The sub-attribute of the selected values, e.g. `value`.
        sub_attr: Option<String>,
    },
}

impl PatchPath {
    /// Parses a PATCH path; surrounding whitespace is allowed.
    ///
    /// # Errors
    ///
    /// A [`PathError`] (scimType `invalidPath`) with the byte position of the problem,
    /// also for a malformed filter inside the brackets.
    pub fn parse(input: &str) -> Result<Self, PathError> {
        let mut cursor = Cursor::new(input);
        cursor.skip_ws();
        let attr = cursor.attr_path()?;
        cursor.skip_ws();
        if cursor.peek() != Some(b'[') {
            cursor.expect_end("'[' or the end of the path")?;
            return Ok(PatchPath::Attr(attr));
        }
        let filter = cursor.bracket_filter()?;
        let sub_attr = if cursor.eat(b'.') {
            Some(cursor.attr_name()?)
        } else {
            None
        };
        cursor.skip_ws();
        cursor.expect_end(if sub_attr.is_some() {
            "the end of the path"
        } else {
            "'.' or the end of the path"
        })?;
        Ok(PatchPath::ValuePath {
            attr,
            filter,
            sub_attr,
        })
    }

    /// `attr[filter]`, e.g. `members[value eq "2819c223"]`.
    pub fn value_path(attr: impl Into<AttrPath>, filter: Filter) -> Self {
        PatchPath::ValuePath {
            attr: attr.into(),
            filter,
            sub_attr: None,
        }
    }

    /// This path narrowed to the sub-attribute `sub_attr`: `emails[type eq "work"]`
    /// becomes `emails[type eq "work"].value`, `name` becomes `name.givenName`.
    #[must_use]
    pub fn with_sub_attr(self, sub_attr: impl Into<String>) -> Self {
        match self {
            PatchPath::Attr(mut attr) => {
                attr.sub_attr = Some(sub_attr.into());
                PatchPath::Attr(attr)
            }
            PatchPath::ValuePath { attr, filter, .. } => PatchPath::ValuePath {
                attr,
                filter,
                sub_attr: Some(sub_attr.into()),
            },
        }
    }

    /// The attribute the path starts from.
    pub fn attr(&self) -> &AttrPath {
        match self {
            PatchPath::Attr(attr) | PatchPath::ValuePath { attr, .. } => attr,
        }
    }

    /// Whether the path prints as a valid `PATH` (see [`AttrPath::is_valid`] and
    /// [`Filter::is_valid`]; no value path may be nested in the filter).
    pub fn is_valid(&self) -> bool {
        match self {
            PatchPath::Attr(attr) => attr.is_valid(),
            PatchPath::ValuePath {
                attr,
                filter,
                sub_attr,
            } => {
                attr.is_valid()
                    && filter.is_valid_in(true)
                    && sub_attr.as_deref().is_none_or(crate::path::is_attr_name)
            }
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(attr) => write!(f, "{attr}"),
            PatchPath::ValuePath {
                attr,
                filter,
                sub_attr,
            } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(sub) = sub_attr {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for PatchPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<AttrPath> for PatchPath {
    fn from(attr: AttrPath) -> Self {
        PatchPath::Attr(attr)
    }
}

impl From<&str> for PatchPath {
    /// Parses `text` as a PATCH path. Text that is not one is kept verbatim, so the
    /// request serializes exactly as written and the server answers `invalidPath`;
    /// [`PatchPath::is_valid`] reports it, [`PatchRequest::apply`] rejects it, and
    /// [`PatchPath::parse`] gives the error up front.
    fn from(text: &str) -> Self {
        PatchPath::parse(text).unwrap_or_else(|_| PatchPath::Attr(AttrPath::new(text)))
    }
}

impl From<String> for PatchPath {
    /// As `From<&str>`.
    fn from(text: String) -> Self {
        PatchPath::from(text.as_str())
    }
}

impl Serialize for PatchPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PatchPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One PATCH operation: `{"op": ..., "path": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    /// What to do.
    pub op: PatchOpKind,
    /// Where; `None` means the resource itself (`add` and `replace` only).
    pub path: Option<PatchPath>,
    /// The value; required by `add` and `replace`, not part of the RFC's `remove`.
    /// `Some(Value::Null)` is an explicit `"value": null`.
    pub value: Option<Value>,
}

impl PatchOp {
    /// `{"op": "add", "path": path, "value": value}`.
    pub fn add(path: impl Into<PatchPath>, value: impl Into<Value>) -> Self {
        Self {
            op: PatchOpKind::Add,
            path: Some(path.into()),
            value: Some(value.into()),
        }
    }

    /// `{"op": "replace", "path": path, "value": value}`.
    pub fn replace(path: impl Into<PatchPath>, value: impl Into<Value>) -> Self {
        Self {
            op: PatchOpKind::Replace,
            path: Some(path.into()),
            value: Some(value.into()),
        }
    }

    /// `{"op": "remove", "path": path}`.
    pub fn remove(path: impl Into<PatchPath>) -> Self {
        Self {
            op: PatchOpKind::Remove,
            path: Some(path.into()),
            value: None,
        }
    }

    /// Reads one operation leniently (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`PatchError::InvalidSyntax`] for a wrong shape or unknown `op`,
    /// [`PatchError::InvalidPath`] for a `path` that does not parse.
    pub fn from_json(json: &Value) -> Result<Self, PatchError> {
        let Value::Object(obj) = json else {
            return Err(PatchError::syntax("an operation must be a JSON object"));
        };
        let op = match get_ci(obj, "op") {
            Some(Value::String(name)) => PatchOpKind::from_name(name).ok_or_else(|| {
                PatchError::syntax(format!(
                    "unknown op {name:?} (expected add, replace or remove)"
                ))
            })?,
            Some(other) => {
                return Err(PatchError::syntax(format!(
                    "op must be a string, not {other}"
                )));
            }
            None => return Err(PatchError::syntax("an operation needs an \"op\"")),
        };
        let path = match get_ci(obj, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => {
                Some(PatchPath::parse(text).map_err(|e| PatchError::InvalidPath {
                    detail: format!("path {text:?}: {e}"),
                })?)
            }
            Some(other) => {
                return Err(PatchError::InvalidPath {
                    detail: format!("path must be a string, not {other}"),
                });
            }
        };
        Ok(Self {
            op,
            path,
            value: get_ci(obj, "value").cloned(),
        })
    }
}

impl fmt::Display for PatchOp {
    /// `op path` (the value is left out: it may hold personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} {path}", self.op),
            None => write!(f, "{} (no path)", self.op),
        }
    }
}

impl Serialize for PatchOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 1 + usize::from(self.path.is_some()) + usize::from(self.value.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("op", &self.op)?;
        if let Some(path) = &self.path {
            map.serialize_entry("path", path)?;
        }
        if let Some(value) = &self.value {
            map.serialize_entry("value", value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PatchOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Value::deserialize(deserializer)?;
        Self::from_json(&json).map_err(serde::de::Error::custom)
    }
}

/// A PATCH request body (RFC 7644 §3.5.2): serializes as
/// `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [...]}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchRequest {
    /// The operations, applied in order.
    pub operations: Vec<PatchOp>,
}

impl PatchRequest {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `op`.
    #[must_use]
    pub fn op(mut self, op: PatchOp) -> Self {
        self.operations.push(op);
        self
    }

    /// Appends `add` of `value` at `path`. A `&str` path is parsed; see
    /// `From<&str> for PatchPath` for what happens to one that does not parse.
    #[must_use]
    pub fn add(self, path: impl Into<PatchPath>, value: impl Into<Value>) -> Self {
        self.op(PatchOp::add(path, value))
    }

    /// Appends `replace` of the value at `path` with `value`.
    #[must_use]
    pub fn replace(self, path: impl Into<PatchPath>, value: impl Into<Value>) -> Self {
        self.op(PatchOp::replace(path, value))
    }

    /// Appends `remove` of the value(s) at `path`.
    #[must_use]
    pub fn remove(self, path: impl Into<PatchPath>) -> Self {
        self.op(PatchOp::remove(path))
    }

    /// Appends a no-path `add`: `attributes` is an object of attribute paths to values.
    #[must_use]
    pub fn add_attributes(self, attributes: impl Into<Value>) -> Self {
        self.op(PatchOp {
            op: PatchOpKind::Add,
            path: None,
            value: Some(attributes.into()),
        })
    }

    /// Appends a no-path `replace`: `attributes` is an object of attribute paths to
    /// values, e.g. `{"active": false}` (how Okta deactivates a user).
    #[must_use]
    pub fn replace_attributes(self, attributes: impl Into<Value>) -> Self {
        self.op(PatchOp {
            op: PatchOpKind::Replace,
            path: None,
            value: Some(attributes.into()),
        })
    }

    /// Reads a request leniently (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`PatchError::InvalidSyntax`] when the body is not a PATCH request (not an
    /// object, `schemas` present without the PatchOp URI, `Operations` missing or not
    /// an array, an operation malformed), [`PatchError::InvalidPath`] for a bad `path`.
    pub fn from_json(json: &Value) -> Result<Self, PatchError> {
        let Value::Object(obj) = json else {
            return Err(PatchError::syntax("a PATCH request must be a JSON object"));
        };
        if let Some(schemas) = get_ci(obj, "schemas") {
            let listed = schemas.as_array().is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
                })
            });
            if !listed {
                return Err(PatchError::syntax(format!(
                    "schemas must list {PATCH_OP_SCHEMA}"
                )));
            }
        }
        let operations = match get_ci(obj, "Operations") {
            Some(Value::Array(ops)) => ops,
            Some(_) => return Err(PatchError::syntax("Operations must be an array")),
            None => return Err(PatchError::syntax("a PATCH request needs \"Operations\"")),
        };
        let operations = operations
            .iter()
            .enumerate()
            .map(|(i, op)| PatchOp::from_json(op).map_err(|e| e.in_operation(i, None)))
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }

    /// Applies the operations to `resource` with the default (strict) [`ApplyOptions`].
    ///
    /// # Errors
    ///
    /// As [`apply_with`](Self::apply_with).
    pub fn apply(&self, resource: &mut Value) -> Result<(), PatchError> {
        self.apply_with(resource, &ApplyOptions::default())
    }

    /// Applies the operations to `resource` (a SCIM resource as a JSON object), in
    /// order and atomically: if one fails, `resource` is left as it was.
    ///
    /// Rules (RFC 7644 §3.5.2; the choices where it leaves room are marked *choice*):
    ///
    /// - Attribute names match existing members ignoring ASCII case; new members take
    ///   the name as written. A URI-qualified path addresses top-level attributes for
    ///   a core schema URI and the extension object under the URI otherwise, which is
    ///   created when needed and its URI added to `schemas` (§3.5.2).
    /// - No path (`add`/`replace`): `value` must be an object; each member is applied
    ///   as if it were an operation on that path (keys may be paths such as
    ///   `name.givenName` or `urn:...:User:employeeNumber`). A key that is a schema
    ///   URI with an object value — listed in `schemas`, already a member, or shaped
    ///   like `...:2.0:User` (*choice*) — has its members applied inside that schema.
    /// - `add`: to a multi-valued attribute, appends each new value not already
    ///   there (a value is already there if equal, or if both are objects with equal
    ///   `value` and no different `type`); to a complex attribute with an object,
    ///   sets the given sub-attributes; otherwise sets the value.
    /// - `replace`: a complex attribute with an object value gets the given
    ///   sub-attributes set and keeps the others; anything else is replaced whole;
    ///   a missing attribute is added.
    /// - A sub-attribute of a multi-valued attribute without a filter (`emails.type`)
    ///   addresses that sub-attribute of every value (*choice*); `add`/`replace` on
    ///   an attribute with no values is `noTarget`.
    /// - `remove` needs a path (else `noTarget`); removing what is not there
    ///   succeeds without change (*choice*, matching the RFC's member-removal
    ///   example). Entra's legacy `remove` of `members` with a `value` list removes
    ///   just those members (*choice*, lenient).
    /// - Value paths: `add`/`replace` change every matching value (with a sub-attribute:
    ///   that sub-attribute of each; without: `replace` swaps each value, `add` merges
    ///   into it); no match is `noTarget`, unless
    ///   [`ApplyOptions::create_unmatched`] is set. `remove` deletes the matching
    ///   values (or their sub-attribute); an emptied attribute is removed.
    /// - A value written with `"primary": true` makes every other value of the
    ///   attribute `"primary": false` (§3.5.2).
    /// - `id` and `meta` cannot be changed or removed (`mutability`); writing the
    ///   value they already have is allowed, so a client may echo them back.
    ///
    /// # Errors
    ///
    /// A [`PatchError`] whose [`scim_type`](PatchError::scim_type) is `noTarget`,
    /// `invalidPath`, `invalidValue` or `mutability`, naming the failed operation.
    pub fn apply_with(
        &self,
        resource: &mut Value,
        options: &ApplyOptions,
    ) -> Result<(), PatchError> {
        if !resource.is_object() {
            return Err(PatchError::InvalidValue {
                detail: "the resource is not a JSON object".to_owned(),
            });
        }
        let mut work = resource.clone();
        for (i, op) in self.operations.iter().enumerate() {
            apply_op(&mut work, op, options).map_err(|e| e.in_operation(i, Some(op)))?;
        }
        *resource = work;
        Ok(())
    }
}

impl Serialize for PatchRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("schemas", &[PATCH_OP_SCHEMA])?;
        map.serialize_entry("Operations", &self.operations)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for PatchRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Value::deserialize(deserializer)?;
        Self::from_json(&json).map_err(serde::de::Error::custom)
    }
}

/// Tolerances for [`PatchRequest::apply_with`]; the default is strict RFC 7644.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// When an `add` or `replace` value path matches no value, create one instead of
    /// failing with `noTarget`, if the filter is `eq` comparisons joined by `and`:
    /// `replace emails[type eq "work"].value` then adds `{"type": "work", "value": ...}`.
    /// Microsoft Entra expects this (RFC 7644 §3.5.2.3 says `noTarget`).
    pub create_unmatched: bool,
}

impl ApplyOptions {
    /// Strict RFC 7644 behaviour (the default).
    pub fn strict() -> Self {
        Self::default()
    }

    /// Sets [`create_unmatched`](Self::create_unmatched).
    #[must_use]
    pub fn create_unmatched(mut self, yes: bool) -> Self {
        self.create_unmatched = yes;
        self
    }
}

/// Why a PATCH request could not be read or applied; each variant is one SCIM
/// `scimType` (RFC 7644 §3.12), returned with HTTP status 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The body is not a valid PATCH request (`invalidSyntax`).
    #[error("invalidSyntax: {detail}")]
    InvalidSyntax {
        /// What was wrong.
        detail: String,
    },
    /// A path does not parse or names something that cannot be patched (`invalidPath`).
    #[error("invalidPath: {detail}")]
    InvalidPath {
        /// What was wrong.
        detail: String,
    },
    /// A `remove` without a path, or a value path that matches nothing (`noTarget`).
    #[error("noTarget: {detail}")]
    NoTarget {
        /// What was wrong.
        detail: String,
    },
    /// A missing or unsuitable `value` (`invalidValue`).
    #[error("invalidValue: {detail}")]
    InvalidValue {
        /// What was wrong.
        detail: String,
    },
    /// An attempt to change a read-only attribute such as `id` or `meta` (`mutability`).
    #[error("mutability: {detail}")]
    Mutability {
        /// What was wrong.
        detail: String,
    },
}

impl PatchError {
    /// The SCIM error type: `invalidSyntax`, `invalidPath`, `noTarget`,
    /// `invalidValue` or `mutability`.
    pub fn scim_type(&self) -> &'static str {
        match self {
            PatchError::InvalidSyntax { .. } => "invalidSyntax",
            PatchError::InvalidPath { .. } => "invalidPath",
            PatchError::NoTarget { .. } => "noTarget",
            PatchError::InvalidValue { .. } => "invalidValue",
            PatchError::Mutability { .. } => "mutability",
        }
    }

    /// The human-readable detail (for the error response's `detail`).
    pub fn detail(&self) -> &str {
        match self {
            PatchError::InvalidSyntax { detail }
            | PatchError::InvalidPath { detail }
            | PatchError::NoTarget { detail }
            | PatchError::InvalidValue { detail }
            | PatchError::Mutability { detail } => detail,
        }
    }

    fn syntax(detail: impl Into<String>) -> Self {
        PatchError::InvalidSyntax {
            detail: detail.into(),
        }
    }

    fn detail_mut(&mut self) -> &mut String {
        match self {
            PatchError::InvalidSyntax { detail }
            | PatchError::InvalidPath { detail }
            | PatchError::NoTarget { detail }
            | PatchError::InvalidValue { detail }
            | PatchError::Mutability { detail } => detail,
        }
    }

    fn in_operation(mut self, index: usize, op: Option<&PatchOp>) -> Self {
        let detail = self.detail_mut();
        *detail = match op {
            Some(op) => format!("operation {index} ({op}): {detail}"),
            None => format!("operation {index}: {detail}"),
        };
        self
    }
}

impl From<PathError> for PatchError {
    fn from(e: PathError) -> Self {
        PatchError::InvalidPath {
            detail: e.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------
// Application
// ---------------------------------------------------------------------------

fn no_target(detail: impl Into<String>) -> PatchError {
    PatchError::NoTarget {
        detail: detail.into(),
    }
}

fn invalid_path(detail: impl Into<String>) -> PatchError {
    PatchError::InvalidPath {
        detail: detail.into(),
    }
}

fn invalid_value(detail: impl Into<String>) -> PatchError {
    PatchError::InvalidValue {
        detail: detail.into(),
    }
}

fn apply_op(root: &mut Value, op: &PatchOp, options: &ApplyOptions) -> Result<(), PatchError> {
    let Some(path) = &op.path else {
        let Some(value) = &op.value else {
            return Err(match op.op {
                PatchOpKind::Remove => no_target("remove needs a path"),
                kind => invalid_value(format!("{kind} without a path needs a value")),
            });
        };
        if op.op == PatchOpKind::Remove {
            return Err(no_target("remove needs a path"));
        }
        let Value::Object(attributes) = value else {
            return Err(invalid_value(format!(
                "{} without a path needs an object of attributes as its value",
                op.op
            )));
        };
        return apply_attributes(root, op.op, attributes);
    };
    if !path.is_valid() {
        return Err(match PatchPath::parse(&path.to_string()) {
            Err(e) => PatchError::from(e),
            Ok(_) => invalid_path(format!("{path} is not a valid path")),
        });
    }
    let value = op.value.as_ref();
    if op.op != PatchOpKind::Remove && value.is_none() {
        return Err(invalid_value(format!("{} needs a value", op.op)));
    }
    match path {
        PatchPath::Attr(attr) => apply_attr(root, op.op, attr, value),
        PatchPath::ValuePath {
            attr,
            filter,
            sub_attr,
        } => apply_value_path(
            root,
            op.op,
            attr,
            filter,
            sub_attr.as_deref(),
            value,
            options,
        ),
    }
}

/// A no-path `add`/`replace`.
fn apply_attributes(
    root: &mut Value,
    kind: PatchOpKind,
    attributes: &Map<String, Value>,
) -> Result<(), PatchError> {
    for (key, value) in attributes {
        if let Value::Object(members) = value
            && is_schema_key(root, key)
        {
            for (member, member_value) in members {
                let path = AttrPath::parse(member)
                    .map_err(|e| invalid_path(format!("{key:?} member {member:?}: {e}")))?;
                if path.uri.is_some() {
                    return Err(invalid_path(format!(
                        "{key:?} member {member:?} must not name a schema"
                    )));
                }
                apply_attr(
                    root,
                    kind,
                    &path.in_schema(key.as_str()),
                    Some(member_value),
                )?;
            }
            if !is_core_uri(root, key) {
                add_schema(root, key);
            }
            continue;
        }
        let path =
            AttrPath::parse(key).map_err(|e| invalid_path(format!("attribute {key:?}: {e}")))?;
        apply_attr(root, kind, &path, Some(value))?;
    }
    Ok(())
}

/// Whether a no-path value's `key` names a whole schema (whose value holds that
/// schema's attributes) rather than an attribute.
fn is_schema_key(root: &Value, key: &str) -> bool {
    let Some(obj) = root.as_object() else {
        return false;
    };
    if !key.contains(':') {
        return false;
    }
    if find_key(obj, key).is_some() {
        return true;
    }
    let listed = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(key)))
        });
    if listed {
        return true;
    }
    // `urn:...:2.0:User` (a schema) versus `urn:...:2.0:User:manager` (an attribute):
    // the segment before the last one is a version.
    let mut segments = key.rsplit(':');
    segments.next();
    segments
        .next()
        .is_some_and(|s| s.bytes().next().is_some_and(|b| b.is_ascii_digit()))
}

fn add_schema(root: &mut Value, uri: &str) {
    let Some(obj) = root.as_object_mut() else {
        return;
    };
    let Some(key) = find_key(obj, "schemas").cloned() else {
        return;
    };
    if let Some(Value::Array(schemas)) = obj.get_mut(&key)
        && !schemas
            .iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(uri)))
    {
        schemas.push(Value::String(uri.to_owned()));
    }
}

/// `id` and `meta` are read-only: they may only be "changed" to what they are.
fn check_mutability(
    root: &Value,
    attr: &AttrPath,
    kind: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    if attr
        .uri
        .as_deref()
        .is_some_and(|uri| !is_core_uri(root, uri))
    {
        return Ok(());
    }
    if !(attr.name.eq_ignore_ascii_case("id") || attr.name.eq_ignore_ascii_case("meta")) {
        return Ok(());
    }
    let current = root.as_object().and_then(|o| get_ci(o, &attr.name));
    let current = match &attr.sub_attr {
        None => current,
        Some(sub) => current
            .and_then(Value::as_object)
            .and_then(|o| get_ci(o, sub)),
    };
    if kind != PatchOpKind::Remove && current.is_some() && current == value {
        return Ok(());
    }
    Err(PatchError::Mutability {
        detail: format!("{attr} is read-only"),
    })
}

/// The object holding the attributes of `attr`'s schema: the resource itself, or
/// the extension object (created if `create`). `None` when it does not exist.
fn schema_container<'v>(
    root: &'v mut Value,
    attr: &AttrPath,
    create: bool,
) -> Result<Option<&'v mut Map<String, Value>>, PatchError> {
    let extension = attr
        .uri
        .as_deref()
        .filter(|uri| !is_core_uri(root, uri))
        .map(str::to_owned);
    let Some(obj) = root.as_object_mut() else {
        return Err(invalid_value("the resource is not a JSON object"));
    };
    let Some(uri) = extension else {
        return Ok(Some(obj));
    };
    let key = match find_key(obj, &uri).cloned() {
        Some(key) => key,
        None if create => {
            obj.insert(uri.clone(), Value::Object(Map::new()));
            uri
        }
        None => return Ok(None),
    };
    match obj.get_mut(&key) {
        Some(slot @ Value::Null) if create => {
            *slot = Value::Object(Map::new());
            Ok(slot.as_object_mut())
        }
        Some(Value::Object(members)) => Ok(Some(members)),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(invalid_path(format!("{key} is not an extension object"))),
    }
}

fn apply_attr(
    root: &mut Value,
    kind: PatchOpKind,
    attr: &AttrPath,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    check_mutability(root, attr, kind, value)?;
    let create = kind != PatchOpKind::Remove;
    let Some(container) = schema_container(root, attr, create)? else {
        return Ok(()); // removing from an extension the resource does not have
    };
    match &attr.sub_attr {
        None => apply_member(container, &attr.name, kind, value)?,
        Some(sub) => {
            let key = find_key(container, &attr.name).cloned();
            let parent = match key {
                Some(key) => container.get_mut(&key),
                None if create => {
                    container.insert(attr.name.clone(), Value::Object(Map::new()));
                    container.get_mut(&attr.name)
                }
                None => None,
            };
            match parent {
                None => {}
                Some(Value::Null) if !create => {}
                Some(slot @ Value::Null) => {
                    *slot = Value::Object(Map::new());
                    if let Value::Object(members) = slot {
                        apply_member(members, sub, kind, value)?;
                    }
                }
                Some(Value::Object(members)) => apply_member(members, sub, kind, value)?,
                Some(Value::Array(items)) => {
                    // `emails.type` without a filter: every value's sub-attribute.
                    if items.is_empty() && create {
                        return Err(no_target(format!("{attr}: {} has no values", attr.name)));
                    }
                    for item in items.iter_mut() {
                        if let Value::Object(members) = item {
                            apply_member(members, sub, kind, value)?;
                        }
                    }
                }
                Some(_) => {
                    return Err(invalid_path(format!(
                        "{attr}: {} is not a complex attribute",
                        attr.name
                    )));
                }
            }
        }
    }
    if create
        && let Some(uri) = &attr.uri
        && !is_core_uri(root, uri)
    {
        add_schema(root, uri);
    }
    Ok(())
}

/// `add`/`replace`/`remove` of the member `name` of `map`.
fn apply_member(
    map: &mut Map<String, Value>,
    name: &str,
    kind: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let key = find_key(map, name).cloned();
    match kind {
        PatchOpKind::Remove => {
            let Some(key) = key else { return Ok(()) };
            if let (Some(Value::Array(items)), Some(value)) = (map.get_mut(&key), value) {
                // Entra's legacy form: remove these values only.
                let doomed: Vec<&Value> = match value {
                    Value::Array(list) => list.iter().collect(),
                    single => vec![single],
                };
                items.retain(|item| !doomed.iter().any(|d| same_value(item, d)));
                if !items.is_empty() {
                    return Ok(());
                }
            }
            map.shift_remove(&key);
        }
        PatchOpKind::Add | PatchOpKind::Replace => {
            let Some(value) = value else {
                return Err(invalid_value(format!("{kind} needs a value")));
            };
            let Some(slot) = key.and_then(|k| map.get_mut(&k)) else {
                map.insert(name.to_owned(), value.clone());
                return Ok(());
            };
            match (slot, value) {
                (Value::Array(items), value) if kind == PatchOpKind::Add => {
                    let new: Vec<&Value> = match value {
                        Value::Array(list) => list.iter().collect(),
                        single => vec![single],
                    };
                    let mut written = Vec::new();
                    for item in new {
                        if !items.iter().any(|existing| same_value(existing, item)) {
                            items.push(item.clone());
                            written.push(items.len() - 1);
                        }
                    }
                    normalize_primary(items, &written);
                }
                (Value::Object(members), Value::Object(given)) => merge(members, given),
                (slot, value) => *slot = value.clone(),
            }
        }
    }
    Ok(())
}

/// Sets each member of `given` in `members` (names matched ignoring case).
fn merge(members: &mut Map<String, Value>, given: &Map<String, Value>) {
    for (name, value) in given {
        match find_key(members, name).cloned() {
            Some(key) => {
                members.insert(key, value.clone());
            }
            None => {
                members.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Whether two values of a multi-valued attribute are the same value: equal, or
/// objects with equal `value` and no different `type`.
fn same_value(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return false;
    };
    let (Some(va), Some(vb)) = (get_ci(a, "value"), get_ci(b, "value")) else {
        return false;
    };
    if va != vb {
        return false;
    }
    match (get_ci(a, "type"), get_ci(b, "type")) {
        (Some(ta), Some(tb)) => ta == tb,
        _ => true,
    }
}

/// After values at `written` were set: if one of them is `"primary": true`, no other
/// value may be (the last written wins).
fn normalize_primary(items: &mut [Value], written: &[usize]) {
    let is_primary =
        |v: &Value| v.as_object().and_then(|o| get_ci(o, "primary")) == Some(&Value::Bool(true));
    let Some(&keep) = written
        .iter()
        .rev()
        .find(|&&i| items.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Value::Object(members) = item
            && let Some(key) = find_key(members, "primary").cloned()
        {
            members.insert(key, Value::Bool(false));
        }
    }
}

fn apply_value_path(
    root: &mut Value,
    kind: PatchOpKind,
    attr: &AttrPath,
    filter: &Filter,
    sub_attr: Option<&str>,
    value: Option<&Value>,
    options: &ApplyOptions,
) -> Result<(), PatchError> {
    // No value path into `id` or `meta` is a no-op.
    check_mutability(root, attr, PatchOpKind::Remove, None)?;
    let create = kind != PatchOpKind::Remove;
    let described = || match sub_attr {
        Some(sub) => format!("{attr}[{filter}].{sub}"),
        None => format!("{attr}[{filter}]"),
    };
    let Some(mut container) = schema_container(root, attr, create)? else {
        return Ok(());
    };
    // `x.y[...]`: the multi-valued attribute is the sub-attribute `y` of `x`.
    let mut name = attr.name.as_str();
    if let Some(sub) = &attr.sub_attr {
        let parent = match find_key(container, name).cloned() {
            Some(key) => container.get_mut(&key),
            None if create => {
                container.insert(name.to_owned(), Value::Object(Map::new()));
                container.get_mut(name)
            }
            None => None,
        };
        container = match parent {
            Some(Value::Object(members)) => members,
            None | Some(Value::Null) if !create => return Ok(()),
            _ => {
                return Err(invalid_path(format!(
                    "{}: {name} is not a complex attribute",
                    described()
                )));
            }
        };
        name = sub;
    }
    let key = find_key(container, name).cloned();
    let parent_path = AttrPath {
        uri: attr.uri.clone(),
        name: name.to_owned(),
        sub_attr: None,
    };
    let items = match key.as_ref().and_then(|k| container.get_mut(k)) {
        Some(Value::Array(items)) => Some(items),
        None | Some(Value::Null) => None,
        Some(_) => {
            return Err(invalid_path(format!(
                "{}: {name} is not multi-valued",
                described()
            )));
        }
    };
    let matched: Vec<usize> = items
        .as_ref()
        .map(|items| {
            items
                .iter()
                .enumerate()
                .filter(|(_, item)| element_matches(filter, item, &parent_path))
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();

    if kind == PatchOpKind::Remove {
        let (Some(items), Some(key)) = (items, key) else {
            return Ok(());
        };
        match sub_attr {
            Some(sub) => {
                for &i in &matched {
                    if let Some(Value::Object(members)) = items.get_mut(i)
                        && let Some(k) = find_key(members, sub).cloned()
                    {
                        members.shift_remove(&k);
                    }
                }
            }
            None => {
                let mut index = 0;
                items.retain(|_| {
                    let keep = !matched.contains(&index);
                    index += 1;
                    keep
                });
                if items.is_empty() {
                    container.shift_remove(&key);
                }
            }
        }
        return Ok(());
    }

    let Some(value) = value else {
        return Err(invalid_value(format!("{kind} needs a value")));
    };
    if matched.is_empty() {
        if !options.create_unmatched {
            return Err(no_target(format!("no value matches {}", described())));
        }
        let Some(mut created) = equalities(filter) else {
            return Err(no_target(format!(
                "no value matches {}, and the filter is not eq comparisons joined by and",
                described()
            )));
        };
        match (sub_attr, value) {
            (Some(sub), value) => {
                created.insert(sub.to_owned(), value.clone());
            }
            (None, Value::Object(given)) => merge(&mut created, given),
            (None, _) => {
                return Err(invalid_value(format!(
                    "{}: the value must be an object",
                    described()
                )));
            }
        }
        let items = match key {
            Some(key) => container.get_mut(&key),
            None => {
                container.insert(name.to_owned(), Value::Array(Vec::new()));
                container.get_mut(name)
            }
        };
        let Some(slot) = items else { return Ok(()) };
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(Value::Object(created));
            let last = items.len() - 1;
            normalize_primary(items, &[last]);
        }
    } else if let Some(items) = items {
        for &i in &matched {
            let Some(item) = items.get_mut(i) else {
                continue;
            };
            match sub_attr {
                Some(sub) => {
                    let Value::Object(members) = item else {
                        return Err(invalid_path(format!(
                            "{}: the matched value is not complex",
                            described()
                        )));
                    };
                    apply_member(members, sub, kind, Some(value))?;
                }
                None => match (kind, &mut *item, value) {
                    (PatchOpKind::Add, Value::Object(members), Value::Object(given)) => {
                        merge(members, given)
                    }
                    _ => *item = value.clone(),
                },
            }
        }
        normalize_primary(items, &matched);
    }
    if let Some(uri) = &attr.uri
        && !is_core_uri(root, uri)
    {
        add_schema(root, uri);
    }
    Ok(())
}

/// The sub-attribute values a filter of `eq` comparisons joined by `and` asserts,
/// e.g. `{"type": "work"}` for `type eq "work"`.
fn equalities(filter: &Filter) -> Option<Map<String, Value>> {
    fn collect(filter: &Filter, out: &mut Map<String, Value>) -> Option<()> {
        match filter {
            Filter::And(l, r) => {
                collect(l, out)?;
                collect(r, out)
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.sub_attr.is_none() => {
                let json = match value {
                    CompValue::Null => Value::Null,
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => serde_json::from_str(n.as_str()).ok()?,
                    CompValue::String(s) => Value::String(s.clone()),
                };
                out.insert(path.name.clone(), json);
                Some(())
            }
            _ => None,
        }
    }
    let mut out = Map::new();
    collect(filter, &mut out)?;
    Some(out)
}
