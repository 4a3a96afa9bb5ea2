//! SCIM attribute paths (RFC 7644 §3.10 and the `attrPath` rule of §3.4.2.2).
//!
//! An attribute path names an attribute, optionally qualified by the schema URI
//! it belongs to, and optionally one sub-attribute of a complex attribute:
//!
//! ```text
//! attrPath = [URI ":"] ATTRNAME *1subAttr
//! ATTRNAME = ALPHA *(nameChar)          nameChar = "-" / "_" / DIGIT / ALPHA
//! subAttr  = "." ATTRNAME
//! ```
//!
//! ```
//! use scim_client::path::AttrPath;
//!
//! let path: AttrPath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
//!     .parse()?;
//! assert_eq!(path.uri.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
//! assert_eq!(path.name, "manager");
//! assert_eq!(path.sub_attr.as_deref(), Some("value"));
//! assert_eq!(
//!     path.to_string(),
//!     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
//! );
//!
//! let err = "name.givenName.extra".parse::<AttrPath>().unwrap_err();
//! assert_eq!(err.position(), 14);
//! assert_eq!(err.scim_type(), "invalidPath");
//! # Ok::<(), scim_client::path::PathError>(())
//! ```
//!
//! Two liberties are taken with the ABNF, both documented by the RFCs themselves:
//! an `ATTRNAME` may start with `$` (RFC 7643 §2.4 names the `$ref` sub-attribute),
//! and the URI prefix is whatever precedes the last `:` (a schema URN such as
//! `urn:ietf:params:scim:schemas:core:2.0:User` contains both `:` and `.`).
//!
//! Attribute names are case-insensitive in SCIM; [`AttrPath`]'s `==` compares
//! exactly (what was written), [`AttrPath::eq_ignore_case`] compares the SCIM way.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The scimType of every [`PathError`] (RFC 7644 §3.12, Table 9).
pub const INVALID_PATH: &str = "invalidPath";

/// A SCIM attribute path: `[URI ":"] name ["." subAttr]`.
///
/// The fields are public so a path can be built directly; [`AttrPath::is_valid`]
/// tells whether such a path would print as a valid `attrPath`. Paths produced by
/// [`AttrPath::parse`] are always valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URI qualifying the attribute, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub uri: Option<String>,
    /// The attribute name, e.g. `userName` or `name`.
    pub name: String,
    /// The sub-attribute of a complex attribute, e.g. `givenName` in `name.givenName`.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A path naming one attribute, without URI or sub-attribute.
    ///
    /// The name is not checked; see [`AttrPath::is_valid`].
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            uri: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// A path naming the sub-attribute `sub_attr` of the complex attribute `name`.
    pub fn with_sub_attr(name: impl Into<String>, sub_attr: impl Into<String>) -> Self {
        Self {
            uri: None,
            name: name.into(),
            sub_attr: Some(sub_attr.into()),
        }
    }

    /// This path, qualified by the schema URI `uri`.
    #[must_use]
    pub fn in_schema(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    /// Parses a complete attribute path; surrounding whitespace is allowed.
    ///
    /// # Errors
    ///
    /// A [`PathError`] (scimType `invalidPath`) with the byte position of the problem.
    pub fn parse(input: &str) -> Result<Self, PathError> {
        let mut cursor = crate::filter::Cursor::new(input);
        cursor.skip_ws();
        let path = cursor.attr_path().map_err(PathError::from)?;
        cursor.skip_ws();
        cursor
            .expect_end("end of attribute path")
            .map_err(PathError::from)?;
        Ok(path)
    }

    /// Whether this path prints as a valid `attrPath`: every name is an `ATTRNAME`
    /// and the URI, if any, starts with a letter and contains only URI characters.
    pub fn is_valid(&self) -> bool {
        is_attr_name(&self.name)
            && self.sub_attr.as_deref().is_none_or(is_attr_name)
            && self.uri.as_deref().is_none_or(is_uri)
    }

    /// Compares two paths the SCIM way: names, sub-attributes and URIs ignore ASCII case.
    pub fn eq_ignore_case(&self, other: &AttrPath) -> bool {
        fn opt_eq(a: Option<&str>, b: Option<&str>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
        }
        self.name.eq_ignore_ascii_case(&other.name)
            && opt_eq(self.sub_attr.as_deref(), other.sub_attr.as_deref())
            && opt_eq(self.uri.as_deref(), other.uri.as_deref())
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl FromStr for AttrPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<&str> for AttrPath {
    /// Parses `text` as an attribute path. Text that is not one is kept verbatim as
    /// the name, so it prints as written and [`AttrPath::is_valid`] reports it; use
    /// [`AttrPath::parse`] to get the error instead.
    fn from(text: &str) -> Self {
        AttrPath::parse(text).unwrap_or_else(|_| AttrPath::new(text))
    }
}

impl From<String> for AttrPath {
    /// As `From<&str>`.
    fn from(text: String) -> Self {
        AttrPath::from(text.as_str())
    }
}

impl From<&AttrPath> for AttrPath {
    fn from(path: &AttrPath) -> Self {
        path.clone()
    }
}

impl Serialize for AttrPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttrPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A syntax error in an attribute path or a PATCH `path`; its scimType is
/// `invalidPath` (RFC 7644 §3.5.2, §3.12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SCIM path: expected {expected} at byte {position}, found {found}")]
pub struct PathError {
    position: usize,
    expected: String,
    found: String,
}

impl PathError {
    /// The byte offset in the input where the problem was found.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What the parser expected at [`position`](Self::position), in words.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What it found there instead (a short excerpt, or `end of input`).
    pub fn found(&self) -> &str {
        &self.found
    }

    /// The SCIM error type for this error: always `invalidPath`.
    pub fn scim_type(&self) -> &'static str {
        INVALID_PATH
    }
}

impl From<crate::filter::SyntaxError> for PathError {
    fn from(e: crate::filter::SyntaxError) -> Self {
        Self {
            position: e.position,
            expected: e.expected,
            found: e.found,
        }
    }
}

/// Whether `s` is an RFC 7644 `ATTRNAME` (a letter, or `$` for `$ref`, then letters,
/// digits, `-` or `_`).
pub(crate) fn is_attr_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'$')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Characters an attribute-path token may contain (names, `.`, `:` and the URI
/// characters seen in schema URIs).
pub(crate) fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'$' | b'/' | b'%' | b'~')
}

fn is_uri(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) && s.bytes().all(is_path_byte)
}

/// The prefix of every core schema URI defined by RFC 7643.
const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:";

/// Whether `uri` names the core schema of `resource`, so that a path qualified by
/// it addresses top-level attributes (`urn:...:core:2.0:User:userName` is
/// `userName`) rather than an extension object.
///
/// The rule: a URI starting with `urn:ietf:params:scim:schemas:core:` is core; so
/// is the first entry of the resource's `schemas` when the resource has no member
/// of that name. Every other URI names an extension, whose attributes live in the
/// object stored under the URI.
pub(crate) fn is_core_uri(resource: &Value, uri: &str) -> bool {
    if uri.len() >= CORE_SCHEMA_PREFIX.len()
        && uri.is_char_boundary(CORE_SCHEMA_PREFIX.len())
        && uri[..CORE_SCHEMA_PREFIX.len()].eq_ignore_ascii_case(CORE_SCHEMA_PREFIX)
    {
        return true;
    }
    let Some(obj) = resource.as_object() else {
        return false;
    };
    if find_key(obj, uri).is_some() {
        return false;
    }
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array())
        .and_then(|schemas| schemas.first())
        .and_then(Value::as_str)
        .is_some_and(|first| first.eq_ignore_ascii_case(uri))
}

/// The key of `map` equal to `name` ignoring ASCII case (an exact match wins).
pub(crate) fn find_key<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m String> {
    if let Some((k, _)) = map.get_key_value(name) {
        return Some(k);
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

/// The member of `map` named `name`, ignoring ASCII case.
pub(crate) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    find_key(map, name).and_then(|k| map.get(k))
}
