//! SCIM filters (RFC 7644 §3.4.2.2): an AST, a parser for the full grammar, a
//! builder that escapes values, and an evaluator over JSON resources.
//!
//! ```
//! use scim_client::filter::Filter;
//! use serde_json::json;
//!
//! // Build: values are quoted and escaped, precedence is kept with parentheses.
//! let f = Filter::eq("userName", "bjensen").or(Filter::value_path(
//!     "emails",
//!     Filter::eq("type", "work").and(Filter::co("value", "@example.com")),
//! ));
//! assert_eq!(
//!     f.to_string(),
//!     r#"userName eq "bjensen" or emails[type eq "work" and value co "@example.com"]"#
//! );
//!
//! // Parse: operators and attribute names are case-insensitive; `and` binds tighter than `or`.
//! let parsed = Filter::parse(r#"USERNAME Eq "bjensen" OR emails[type eq "work" and value co "@example.com"]"#)?;
//! assert!(parsed.matches(&json!({"userName": "BJensen"})));
//!
//! // Evaluate against a resource: attribute names and (by default) strings ignore case,
//! // a multi-valued attribute matches if any of its values does.
//! let user = json!({
//!     "userName": "someone",
//!     "emails": [
//!         {"type": "home", "value": "bj@home.example"},
//!         {"type": "work", "value": "bjensen@EXAMPLE.com"}
//!     ]
//! });
//! assert!(f.matches(&user));
//!
//! // Errors carry the byte position and what was expected; the scimType is invalidFilter.
//! let err = Filter::parse(r#"userName eq"#).unwrap_err();
//! assert_eq!(err.position(), 11);
//! assert_eq!(err.scim_type(), "invalidFilter");
//! # Ok::<(), scim_client::filter::FilterError>(())
//! ```
//!
//! # Grammar
//!
//! The parser accepts the ABNF of RFC 7644 figure 1 ("ABNF Specification of SCIM
//! Filters") with grouping, `not`, value paths, `and` binding tighter than `or`
//! (both left-associative), case-insensitive operators and attribute names,
//! schema-URI-qualified attribute paths and JSON values with every JSON string
//! escape. It is liberal where that cannot change a filter's meaning:
//!
//! - any run of spaces, tabs or line breaks may stand where the ABNF has one `SP`,
//!   and around parentheses and brackets; leading and trailing whitespace is ignored;
//!   the space between an operator and a quoted value may be missing (RFC 7644
//!   §3.5.2.2 itself writes `members[value eq"2819c223..."]`);
//! - `not(...)` and `not (...)` are both accepted;
//! - `true`, `false` and `null` are accepted in any case;
//! - `$ref` is accepted as an attribute name (RFC 7643 §2.4);
//! - the non-ABNF form `emails[type eq "work"].value eq "x"`, which Microsoft Entra
//!   sends, is read as `emails[type eq "work" and value eq "x"]` (the same meaning).
//!
//! It rejects, with scimType `invalidFilter`: nested value paths inside brackets
//! (RFC 7644 errata 4690 and 7322), `gt`/`ge`/`lt`/`le` with a boolean or `null`
//! value (RFC 7644 Table 3 makes these a 400 `invalidFilter`), more than
//! [`MAX_DEPTH`] levels of nesting and more than [`MAX_TERMS`] comparisons. The
//! parser never panics and its recursion is bounded by [`MAX_DEPTH`].
//!
//! # Evaluation
//!
//! [`Filter::matches`] follows RFC 7644 §3.4.2.2 and RFC 7643 §2: see its docs for
//! the exact rules (case-exactness, multi-valued attributes, `pr`, dateTime, numbers,
//! `null`). The SCIM emulator uses it to answer `GET /Users?filter=...`.
//!
//! # Why not `scim_v2`
//!
//! The `scim_v2` crate (1.0.0, MIT, actively maintained, a complete LALRPOP-generated
//! filter and PATCH-path parser with a depth guard) was evaluated first, as the issue
//! asked. It was not adopted for this module because, probed with the cases in this
//! crate's tests, it:
//!
//! - does not keep a number's text (`1.50` prints back as `1.5`, `1e3` as `1000.0`),
//!   so a filter cannot be parsed and re-sent unchanged;
//! - rejects `not(title pr)` (the ABNF has no `SP` after `not`), `$ref` as an attribute
//!   name, and Entra's `emails[type eq "work"].value eq "x"`;
//! - has no evaluator and no PATCH application (its docs leave both to the user),
//!   which are most of the work here and need their own types anyway;
//! - adds `lalrpop-util` (with `regex-automata`), `fluent-uri` and the `ref-cast`
//!   proc-macro to the build, plus a 15,000-line generated parser, for what is
//!   about 500 lines of recursive descent.
//!
//! Its typed resource models (`User`, `Group`, `Asserted<T>`, `ListResponse<R>`) are
//! a separate question, to be decided when this crate grows its client.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::path::{AttrPath, get_ci, is_attr_name, is_core_uri, is_path_byte};

/// The scimType of every [`FilterError`] (RFC 7644 §3.12, Table 9).
pub const INVALID_FILTER: &str = "invalidFilter";

/// The deepest nesting of parentheses, `not (...)` and value-path brackets the
/// parser accepts.
pub const MAX_DEPTH: usize = 64;

/// The largest number of attribute expressions (comparisons and `pr`) one filter may
/// hold; more are rejected by the parser, which keeps every walk over a parsed filter
/// shallow enough for any thread's stack.
pub const MAX_TERMS: usize = 1000;

/// A SCIM filter expression.
///
/// `And` and `Or` are binary and left-associative, as the parser builds them:
/// `a or b or c` is `Or(Or(a, b), c)`. Parentheses leave no trace in the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`, e.g. `userName eq "bjensen"`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The comparison operator.
        op: CompareOp,
        /// The JSON value compared with.
        value: CompValue,
    },
    /// `attrPath pr`: the attribute has a non-empty value.
    Present {
        /// The attribute tested.
        path: AttrPath,
    },
    /// `left and right`.
    And(Box<Filter>, Box<Filter>),
    /// `left or right`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (inner)`.
    Not(Box<Filter>),
    /// `attrPath[filter]`: some value of a (multi-valued, complex) attribute
    /// matches `filter`, whose paths name sub-attributes of that value.
    ValuePath {
        /// The attribute whose values are filtered, e.g. `emails`.
        path: AttrPath,
        /// The filter over each value's sub-attributes, e.g. `type eq "work"`.
        filter: Box<Filter>,
    },
}

/// A comparison operator (RFC 7644 Table 3). `pr` is [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

impl CompareOp {
    /// Every operator, in RFC order.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator's keyword, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator for `keyword`, ignoring ASCII case (`pr` is not a [`CompareOp`]).
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(keyword))
    }

    /// Whether this is an ordering operator (`gt`, `ge`, `lt`, `le`).
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison value: a JSON `null`, boolean, number or string.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, its text kept exactly as written.
    Number(JsonNumber),
    /// A string, unescaped.
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => f.write_str(n.as_str()),
            CompValue::String(s) => write_json_string(f, s),
        }
    }
}

impl From<&str> for CompValue {
    fn from(s: &str) -> Self {
        CompValue::String(s.to_owned())
    }
}

impl From<String> for CompValue {
    fn from(s: String) -> Self {
        CompValue::String(s)
    }
}

impl From<&String> for CompValue {
    fn from(s: &String) -> Self {
        CompValue::String(s.clone())
    }
}

impl From<bool> for CompValue {
    fn from(b: bool) -> Self {
        CompValue::Bool(b)
    }
}

impl From<JsonNumber> for CompValue {
    fn from(n: JsonNumber) -> Self {
        CompValue::Number(n)
    }
}

macro_rules! int_conversions {
    ($($t:ty),*) => {$(
        impl From<$t> for JsonNumber {
            fn from(n: $t) -> Self {
                JsonNumber(n.to_string())
            }
        }
        impl From<$t> for CompValue {
            fn from(n: $t) -> Self {
                CompValue::Number(JsonNumber::from(n))
            }
        }
    )*};
}
int_conversions!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

/// The text of a JSON number (RFC 8259 §6), kept exactly as written (`1.50` stays
/// `1.50`), so a parsed filter prints back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonNumber(String);

impl JsonNumber {
    /// The number whose text is `text`, if `text` is a JSON number.
    pub fn parse(text: &str) -> Option<Self> {
        let mut cursor = Cursor::new(text);
        let n = cursor.number().ok()?;
        cursor.at_end().then_some(n)
    }

    /// A finite `f64` as a JSON number (`None` for NaN and infinities).
    pub fn from_f64(n: f64) -> Option<Self> {
        n.is_finite().then(|| JsonNumber(format!("{n:?}")))
    }

    /// The number's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as an `f64` (possibly rounded).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for JsonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for JsonNumber {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut cursor = Cursor::new(s);
        let n = cursor.number()?;
        cursor.expect_end("end of number")?;
        Ok(n)
    }
}

/// A filter that does not parse; its scimType is `invalidFilter` (RFC 7644 §3.4.2.2,
/// §3.12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SCIM filter: expected {expected} at byte {position}, found {found}")]
pub struct FilterError {
    position: usize,
    expected: String,
    found: String,
}

impl FilterError {
    /// The byte offset in the filter where the problem was found.
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

    /// The SCIM error type for this error: always `invalidFilter`.
    pub fn scim_type(&self) -> &'static str {
        INVALID_FILTER
    }
}

impl From<SyntaxError> for FilterError {
    fn from(e: SyntaxError) -> Self {
        Self {
            position: e.position,
            expected: e.expected,
            found: e.found,
        }
    }
}

// ---------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------

impl Filter {
    /// Parses a filter.
    ///
    /// # Errors
    ///
    /// A [`FilterError`] (scimType `invalidFilter`) with the byte position of the
    /// first problem and what was expected there.
    pub fn parse(input: &str) -> Result<Self, FilterError> {
        let mut cursor = Cursor::new(input);
        cursor.skip_ws();
        let filter = cursor.or_expr(false)?;
        cursor.skip_ws();
        cursor.expect_end("'and', 'or' or the end of the filter")?;
        Ok(filter)
    }

    /// `path op value`. The path is parsed from text; see `From<&str> for AttrPath`.
    pub fn compare(path: impl Into<AttrPath>, op: CompareOp, value: impl Into<CompValue>) -> Self {
        Filter::Compare {
            path: path.into(),
            op,
            value: value.into(),
        }
    }

    /// `path eq value`.
    pub fn eq(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Eq, value)
    }

    /// `path ne value`.
    pub fn ne(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Ne, value)
    }

    /// `path co value`.
    pub fn co(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Co, value)
    }

    /// `path sw value`.
    pub fn sw(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Sw, value)
    }

    /// `path ew value`.
    pub fn ew(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Ew, value)
    }

    /// `path gt value`.
    pub fn gt(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Gt, value)
    }

    /// `path ge value`.
    pub fn ge(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Ge, value)
    }

    /// `path lt value`.
    pub fn lt(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Lt, value)
    }

    /// `path le value`.
    pub fn le(path: impl Into<AttrPath>, value: impl Into<CompValue>) -> Self {
        Self::compare(path, CompareOp::Le, value)
    }

    /// `path pr`.
    pub fn present(path: impl Into<AttrPath>) -> Self {
        Filter::Present { path: path.into() }
    }

    /// `path[filter]`, e.g. `emails[type eq "work"]`.
    pub fn value_path(path: impl Into<AttrPath>, filter: Filter) -> Self {
        Filter::ValuePath {
            path: path.into(),
            filter: Box::new(filter),
        }
    }

    /// `not (filter)`.
    #[allow(
        clippy::should_implement_trait,
        reason = "a constructor named after the SCIM keyword, like `eq` and `and`"
    )]
    pub fn not(filter: Filter) -> Self {
        Filter::Not(Box::new(filter))
    }

    /// `self and other`.
    #[must_use]
    pub fn and(self, other: Filter) -> Self {
        Filter::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    #[must_use]
    pub fn or(self, other: Filter) -> Self {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// All of `filters` joined with `and` (`None` when there are none).
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Option<Self> {
        filters.into_iter().reduce(Filter::and)
    }

    /// Any of `filters` joined with `or` (`None` when there are none), e.g. a lookup
    /// of several ids.
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Option<Self> {
        filters.into_iter().reduce(Filter::or)
    }

    /// Whether [`Display`](fmt::Display) prints this filter as text that
    /// [`Filter::parse`] accepts and turns back into an equal filter: every attribute
    /// path [is valid](AttrPath::is_valid), no value path is nested inside another,
    /// and no ordering operator compares with a boolean or `null`. Always true for
    /// parsed filters, and for built ones whose attribute names are valid.
    ///
    /// Attribute names cannot be escaped in SCIM, so build paths from trusted names
    /// (configuration, discovered schemas) or check this before sending.
    pub fn is_valid(&self) -> bool {
        self.is_valid_in(false)
    }

    /// [`is_valid`](Self::is_valid), inside a value path's brackets or not.
    pub(crate) fn is_valid_in(&self, in_value_path: bool) -> bool {
        match self {
            Filter::Compare { path, op, value } => {
                path.is_valid()
                    && !(op.is_ordering() && matches!(value, CompValue::Null | CompValue::Bool(_)))
            }
            Filter::Present { path } => path.is_valid(),
            Filter::And(l, r) | Filter::Or(l, r) => {
                l.is_valid_in(in_value_path) && r.is_valid_in(in_value_path)
            }
            Filter::Not(inner) => inner.is_valid_in(in_value_path),
            Filter::ValuePath { path, filter } => {
                !in_value_path && path.is_valid() && filter.is_valid_in(true)
            }
        }
    }

    fn level(&self) -> u8 {
        match self {
            Filter::Or(..) => 0,
            Filter::And(..) => 1,
            _ => 2,
        }
    }

    fn write_at_least(&self, f: &mut fmt::Formatter<'_>, level: u8) -> fmt::Result {
        if self.level() < level {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Filter {
    /// Prints the filter in the RFC syntax: lowercase operators, single spaces, JSON
    /// string escapes, and parentheses exactly where precedence needs them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present { path } => write!(f, "{path} pr"),
            Filter::And(l, r) => {
                l.write_at_least(f, 1)?;
                f.write_str(" and ")?;
                r.write_at_least(f, 2)
            }
            Filter::Or(l, r) => {
                l.write_at_least(f, 0)?;
                f.write_str(" or ")?;
                r.write_at_least(f, 1)
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Writes `s` as a JSON string literal: `"` and `\` escaped, control characters as
/// `\n`, `\t`, ... or `\u00XX`, everything else as is.
pub(crate) fn write_json_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/// The default case-exactness rule of [`Filter::matches`]: `id` and `externalId`
/// are case-exact (RFC 7643 §3.1), every other string attribute is not (the RFC
/// 7643 default for `caseExact` is false).
pub fn default_case_exact(path: &AttrPath) -> bool {
    path.sub_attr.is_none()
        && (path.name.eq_ignore_ascii_case("id") || path.name.eq_ignore_ascii_case("externalId"))
}

impl Filter {
    /// Whether `resource` (a SCIM resource as JSON) matches this filter, with
    /// [`default_case_exact`] deciding which string attributes are case-exact.
    ///
    /// See [`matches_with`](Self::matches_with) for the rules.
    pub fn matches(&self, resource: &Value) -> bool {
        self.matches_with(resource, &default_case_exact)
    }

    /// Whether `resource` matches this filter; `case_exact` tells, for an attribute
    /// path, whether its string values compare case-sensitively (RFC 7643 `caseExact`).
    /// Inside a value path it receives the full path, e.g. `emails.value`.
    ///
    /// The rules (RFC 7644 §3.4.2.2 where it says, documented choices where it doesn't):
    ///
    /// - Attribute names match ignoring ASCII case. A path qualified by a core schema
    ///   URI (`urn:ietf:params:scim:schemas:core:...`, or the resource's first
    ///   `schemas` entry) addresses top-level attributes; any other URI addresses the
    ///   extension object stored under it.
    /// - A multi-valued attribute matches if any of its values matches; `emails.value`
    ///   collects the `value` of every email. Comparing a complex value without a
    ///   sub-attribute (`emails co "example.com"`) compares its `value` sub-attribute.
    /// - `pr`: the attribute has a value that is not `null`, `""`, `[]`, or an object
    ///   with no present member.
    /// - Strings: if both sides parse as RFC 3339 date-times, `eq`, `ne` and the
    ///   ordering operators compare instants; otherwise they compare strings, ignoring
    ///   case (Unicode lowercase) unless the attribute is case-exact; `gt`/`lt`/...
    ///   compare lexicographically by code point.
    /// - Numbers compare numerically (exactly for integers); `co`/`sw`/`ew` never match
    ///   a number. Booleans support `eq` and `ne` only.
    /// - No type coercion: a string never equals a number or boolean (`"True"` is not
    ///   `true`); values of different types are `ne`.
    /// - `eq null` matches when the attribute is absent or `null`; `ne null` when it
    ///   has a non-null value. `ne` with any other value also matches an absent
    ///   attribute (nothing equals the value).
    /// - In `path[filter]`, `filter` is evaluated against each value of `path`; a value
    ///   that is not an object (a multi-valued string attribute) is seen as
    ///   `{"value": v}`.
    pub fn matches_with(&self, resource: &Value, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
        Eval {
            root: resource,
            case_exact,
        }
        .eval(self, resource, None)
    }
}

/// Whether one value of the multi-valued attribute `parent` matches `filter` (the
/// filter of a value path `parent[filter]`), with the default case-exactness.
pub(crate) fn element_matches(filter: &Filter, element: &Value, parent: &AttrPath) -> bool {
    Eval {
        root: element,
        case_exact: &default_case_exact,
    }
    .eval_element(filter, element, parent)
}

struct Eval<'a> {
    root: &'a Value,
    case_exact: &'a dyn Fn(&AttrPath) -> bool,
}

impl Eval<'_> {
    fn eval(&self, filter: &Filter, node: &Value, parent: Option<&AttrPath>) -> bool {
        match filter {
            Filter::And(l, r) => self.eval(l, node, parent) && self.eval(r, node, parent),
            Filter::Or(l, r) => self.eval(l, node, parent) || self.eval(r, node, parent),
            Filter::Not(inner) => !self.eval(inner, node, parent),
            Filter::Present { path } => self.values(node, path, parent).into_iter().any(is_present),
            Filter::Compare { path, op, value } => {
                let values = self.values(node, path, parent);
                let exact = matches!(value, CompValue::String(_))
                    && (self.case_exact)(&full_path(path, parent));
                compare_any(&values, *op, value, exact)
            }
            Filter::ValuePath { path, filter } => {
                let full = full_path(path, parent);
                self.values(node, path, parent)
                    .into_iter()
                    .any(|element| self.eval_element(filter, element, &full))
            }
        }
    }

    /// `filter` (the inside of `parent[...]`) against one value of `parent`.
    fn eval_element(&self, filter: &Filter, element: &Value, parent: &AttrPath) -> bool {
        match element {
            Value::Object(_) => self.eval(filter, element, Some(parent)),
            Value::Null => false,
            other => {
                let wrapped =
                    Value::Object(std::iter::once(("value".to_owned(), other.clone())).collect());
                self.eval(filter, &wrapped, Some(parent))
            }
        }
    }

    /// The values `path` selects in `node`, multi-valued attributes flattened.
    fn values<'v>(
        &self,
        node: &'v Value,
        path: &AttrPath,
        parent: Option<&AttrPath>,
    ) -> Vec<&'v Value> {
        let mut base = node;
        if parent.is_none()
            && let Some(uri) = &path.uri
            && !is_core_uri(self.root, uri)
        {
            match node.as_object().and_then(|o| get_ci(o, uri)) {
                Some(extension) => base = extension,
                None => return Vec::new(),
            }
        }
        let Some(value) = base.as_object().and_then(|o| get_ci(o, &path.name)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match (&path.sub_attr, value) {
            (None, v) => push_flat(v, &mut out),
            (Some(sub), Value::Array(items)) => {
                for item in items {
                    if let Some(v) = item.as_object().and_then(|o| get_ci(o, sub)) {
                        push_flat(v, &mut out);
                    }
                }
            }
            (Some(sub), Value::Object(o)) => {
                if let Some(v) = get_ci(o, sub) {
                    push_flat(v, &mut out);
                }
            }
            (Some(_), _) => {}
        }
        out
    }
}

fn full_path(path: &AttrPath, parent: Option<&AttrPath>) -> AttrPath {
    match parent {
        Some(parent) => AttrPath {
            uri: parent.uri.clone(),
            name: parent.name.clone(),
            sub_attr: Some(path.name.clone()),
        },
        None => path.clone(),
    }
}

fn push_flat<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Array(items) => out.extend(items.iter()),
        other => out.push(other),
    }
}

/// RFC 7644 Table 3 `pr`: a non-empty, non-null value, or a complex value with a
/// present member.
pub(crate) fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_any(values: &[&Value], op: CompareOp, literal: &CompValue, exact: bool) -> bool {
    let mut non_null = values.iter().filter(|v| !v.is_null()).peekable();
    if let CompValue::Null = literal {
        let has_value = non_null.peek().is_some();
        return match op {
            CompareOp::Eq => !has_value,
            CompareOp::Ne => has_value,
            _ => false,
        };
    }
    if op == CompareOp::Ne && non_null.peek().is_none() {
        return true;
    }
    non_null.any(|v| compare_one(v, op, literal, exact))
}

fn compare_one(value: &Value, op: CompareOp, literal: &CompValue, exact: bool) -> bool {
    let value = match value {
        Value::Object(o) => match get_ci(o, "value") {
            Some(inner) => inner,
            None => return op == CompareOp::Ne,
        },
        other => other,
    };
    match (value, literal) {
        (Value::String(s), CompValue::String(lit)) => compare_str(s, op, lit, exact),
        (Value::Number(n), CompValue::Number(lit)) => {
            compare_numbers(n, lit).is_some_and(|ord| ordering_matches(op, ord))
        }
        (Value::Bool(b), CompValue::Bool(lit)) => match op {
            CompareOp::Eq => b == lit,
            CompareOp::Ne => b != lit,
            _ => false,
        },
        _ => op == CompareOp::Ne,
    }
}

fn compare_str(value: &str, op: CompareOp, literal: &str, exact: bool) -> bool {
    if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
        && let (Ok(a), Ok(b)) = (
            chrono::DateTime::parse_from_rfc3339(value),
            chrono::DateTime::parse_from_rfc3339(literal),
        )
    {
        return ordering_matches(op, a.cmp(&b));
    }
    let (a, b): (Cow<'_, str>, Cow<'_, str>) = if exact {
        (Cow::Borrowed(value), Cow::Borrowed(literal))
    } else {
        (
            Cow::Owned(value.to_lowercase()),
            Cow::Owned(literal.to_lowercase()),
        )
    };
    match op {
        CompareOp::Co => a.contains(b.as_ref()),
        CompareOp::Sw => a.starts_with(b.as_ref()),
        CompareOp::Ew => a.ends_with(b.as_ref()),
        _ => ordering_matches(op, a.cmp(&b)),
    }
}

fn compare_numbers(value: &serde_json::Number, literal: &JsonNumber) -> Option<Ordering> {
    let int = value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from));
    if let (Some(a), Ok(b)) = (int, literal.as_str().parse::<i128>()) {
        return Some(a.cmp(&b));
    }
    value.as_f64()?.partial_cmp(&literal.as_f64()?)
}

fn ordering_matches(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

// ---------------------------------------------------------------------------
// Parser (shared with `path` and `patch`)
// ---------------------------------------------------------------------------

/// A syntax error from [`Cursor`], turned into [`FilterError`] or
/// [`PathError`](crate::path::PathError) by the caller.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) position: usize,
    pub(crate) expected: String,
    pub(crate) found: String,
}

const OPERATOR_EXPECTED: &str = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)";
const VALUE_EXPECTED: &str = "a value (a quoted string, a number, true, false or null)";
const OPERAND_EXPECTED: &str = "an attribute path, 'not' or '('";

/// A recursive-descent parser over the filter and path grammar. Every position is
/// a char boundary; every byte access is checked, so no input can make it panic.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
            terms: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Skips whitespace; returns whether there was any.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos > start
    }

    pub(crate) fn error(&self, at: usize, expected: impl Into<String>) -> SyntaxError {
        let found = match self.src.get(at..) {
            None => "input".to_owned(),
            Some("") => "end of input".to_owned(),
            Some(rest) => {
                let mut excerpt: String = rest
                    .chars()
                    .enumerate()
                    .take_while(|(i, c)| *i == 0 || !c.is_whitespace())
                    .map(|(_, c)| c)
                    .take(16)
                    .collect();
                if excerpt.chars().count() == 16
                    && rest.chars().nth(16).is_some_and(|c| !c.is_whitespace())
                {
                    excerpt.push('…');
                }
                format!("{excerpt:?}")
            }
        };
        SyntaxError {
            position: at,
            expected: expected.into(),
            found,
        }
    }

    pub(crate) fn expect_end(&self, expected: &str) -> Result<(), SyntaxError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error(self.pos, expected))
        }
    }

    /// Consumes `byte` if it is next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_byte(&mut self, byte: u8, expected: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(self.pos, expected))
        }
    }

    /// Whether the keyword `kw` (ASCII, any case) starts here and is not the start of
    /// a longer name.
    fn keyword_ahead(&self, kw: &str) -> bool {
        let bytes = self.src.as_bytes();
        bytes
            .get(self.pos..self.pos + kw.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(kw.as_bytes()))
            && !bytes
                .get(self.pos + kw.len())
                .copied()
                .is_some_and(is_path_byte)
    }

    /// Consumes a run of ASCII letters and digits.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        self.src.get(start..self.pos).unwrap_or_default()
    }

    fn enter(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(at, format!("at most {MAX_DEPTH} levels of nesting")));
        }
        Ok(())
    }

    fn count_term(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.error(at, format!("at most {MAX_TERMS} comparisons in one filter")));
        }
        Ok(())
    }

    /// `[URI ":"] ATTRNAME ["." ATTRNAME]`.
    pub(crate) fn attr_path(&mut self) -> Result<AttrPath, SyntaxError> {
        let start = self.pos;
        while self.peek().is_some_and(is_path_byte) {
            self.pos += 1;
        }
        let token = self.src.get(start..self.pos).unwrap_or_default();
        if token.is_empty() {
            return Err(self.error(start, "an attribute path"));
        }
        let (uri, rest, rest_start) = match token.rfind(':') {
            Some(i) => (Some(&token[..i]), &token[i + 1..], start + i + 1),
            None => (None, token, start),
        };
        if let Some(uri) = uri
            && !uri.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        {
            return Err(self.error(start, "a schema URI (starting with a letter) before ':'"));
        }
        let (name, sub) = match rest.find('.') {
            Some(j) => (&rest[..j], Some((&rest[j + 1..], rest_start + j + 1))),
            None => (rest, None),
        };
        if !is_attr_name(name) {
            return Err(self.error(
                rest_start,
                "an attribute name (a letter, then letters, digits, '-' or '_')",
            ));
        }
        let sub_attr = match sub {
            None => None,
            Some((sub, sub_start)) => {
                let dot = sub.find('.');
                if !is_attr_name(&sub[..dot.unwrap_or(sub.len())]) {
                    return Err(self.error(
                        sub_start,
                        "a sub-attribute name (a letter, then letters, digits, '-' or '_')",
                    ));
                }
                if let Some(k) = dot {
                    return Err(self.error(
                        sub_start + k,
                        "the end of the attribute path (at most one sub-attribute)",
                    ));
                }
                Some(sub.to_owned())
            }
        };
        Ok(AttrPath {
            uri: uri.map(str::to_owned),
            name: name.to_owned(),
            sub_attr,
        })
    }

    /// A bare `ATTRNAME` (the sub-attribute after a value path's `]`).
    pub(crate) fn attr_name(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$'))
        {
            self.pos += 1;
        }
        let name = self.src.get(start..self.pos).unwrap_or_default();
        if is_attr_name(name) {
            Ok(name.to_owned())
        } else {
            Err(self.error(
                start,
                "a sub-attribute name (a letter, then letters, digits, '-' or '_')",
            ))
        }
    }

    /// `FILTER = term ("or" term)*`.
    pub(crate) fn or_expr(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.and_expr(in_value_path)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword_ahead("or") {
                self.pos += 2;
                self.skip_ws();
                let right = self.and_expr(in_value_path)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.unary(in_value_path)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword_ahead("and") {
                self.pos += 3;
                self.skip_ws();
                let right = self.unary(in_value_path)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'(') {
            self.pos += 1;
            return self.group(start, in_value_path);
        }
        if self.keyword_ahead("not") {
            self.pos += 3;
            self.skip_ws();
            if self.peek() == Some(b'(') {
                let open = self.pos;
                self.pos += 1;
                return Ok(Filter::Not(Box::new(self.group(open, in_value_path)?)));
            }
            // An attribute that happens to be called "not".
            self.pos = start;
        }
        if self.peek().is_some_and(is_path_byte) {
            return self.attr_exp(in_value_path);
        }
        Err(self.error(start, OPERAND_EXPECTED))
    }

    /// The rest of `"(" FILTER ")"`, after the `(` at `open`.
    fn group(&mut self, open: usize, in_value_path: bool) -> Result<Filter, SyntaxError> {
        self.enter(open)?;
        self.skip_ws();
        let inner = self.or_expr(in_value_path)?;
        self.skip_ws();
        self.expect_byte(b')', "'and', 'or' or ')'")?;
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_exp(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let start = self.pos;
        let path = self.attr_path()?;
        let had_ws = self.skip_ws();
        if self.peek() == Some(b'[') {
            if in_value_path {
                return Err(self.error(self.pos, "an operator (value paths cannot be nested)"));
            }
            let filter = self.bracket_filter()?;
            if self.peek() == Some(b'.') {
                // Entra's `emails[type eq "work"].value eq "x"`: the same as
                // `emails[type eq "work" and value eq "x"]`.
                self.pos += 1;
                let sub = AttrPath::new(self.attr_name()?);
                let had_ws = self.skip_ws();
                let comparison = self.operator_and_value(sub, had_ws, start)?;
                return Ok(Filter::ValuePath {
                    path,
                    filter: Box::new(Filter::And(Box::new(filter), Box::new(comparison))),
                });
            }
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        self.operator_and_value(path, had_ws, start)
    }

    /// `"[" valFilter "]"`, starting at the `[`.
    pub(crate) fn bracket_filter(&mut self) -> Result<Filter, SyntaxError> {
        let open = self.pos;
        self.expect_byte(b'[', "'['")?;
        self.enter(open)?;
        self.skip_ws();
        let filter = self.or_expr(true)?;
        self.skip_ws();
        self.expect_byte(b']', "'and', 'or' or ']'")?;
        self.depth -= 1;
        Ok(filter)
    }

    fn operator_and_value(
        &mut self,
        path: AttrPath,
        had_ws: bool,
        term_start: usize,
    ) -> Result<Filter, SyntaxError> {
        if !had_ws {
            return Err(self.error(self.pos, format!("a space, then {OPERATOR_EXPECTED}")));
        }
        let op_start = self.pos;
        let word = self.word();
        if word.eq_ignore_ascii_case("pr") && !self.peek().is_some_and(is_path_byte) {
            self.count_term(term_start)?;
            return Ok(Filter::Present { path });
        }
        let op = match CompareOp::from_keyword(word) {
            Some(op) if !self.peek().is_some_and(is_path_byte) => op,
            _ if path.uri.is_none()
                && path.sub_attr.is_none()
                && path.name.eq_ignore_ascii_case("not") =>
            {
                return Err(
                    self.error(op_start, format!("{OPERATOR_EXPECTED}, or '(' after 'not'"))
                );
            }
            _ => return Err(self.error(op_start, OPERATOR_EXPECTED)),
        };
        self.skip_ws();
        let value_start = self.pos;
        let value = self.comp_value()?;
        if op.is_ordering() && matches!(value, CompValue::Null | CompValue::Bool(_)) {
            return Err(self.error(
                value_start,
                format!("a string or number ({op} cannot compare booleans or null)"),
            ));
        }
        self.count_term(term_start)?;
        Ok(Filter::Compare { path, op, value })
    }

    fn comp_value(&mut self) -> Result<CompValue, SyntaxError> {
        match self.peek() {
            Some(b'"') => Ok(CompValue::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(CompValue::Number(self.number()?)),
            Some(b) if b.is_ascii_alphabetic() => {
                let start = self.pos;
                let word = self.word();
                let value = if word.eq_ignore_ascii_case("true") {
                    CompValue::Bool(true)
                } else if word.eq_ignore_ascii_case("false") {
                    CompValue::Bool(false)
                } else if word.eq_ignore_ascii_case("null") {
                    CompValue::Null
                } else {
                    return Err(self.error(start, VALUE_EXPECTED));
                };
                if self.peek().is_some_and(is_path_byte) {
                    return Err(self.error(start, VALUE_EXPECTED));
                }
                Ok(value)
            }
            _ => Err(self.error(self.pos, VALUE_EXPECTED)),
        }
    }

    /// A JSON number (RFC 8259 §6), kept as text.
    pub(crate) fn number(&mut self) -> Result<JsonNumber, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error(self.pos, "a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.error(self.pos, "a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.error(self.pos, "a digit in the exponent"));
            }
            self.digits();
        }
        if self.peek().is_some_and(is_path_byte) {
            return Err(self.error(self.pos, "the end of the number"));
        }
        Ok(JsonNumber(
            self.src.get(start..self.pos).unwrap_or_default().to_owned(),
        ))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A JSON string (RFC 8259 §7), unescaped.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.expect_byte(b'"', "'\"'")?;
        let mut out = String::new();
        loop {
            let Some(c) = self
                .src
                .get(self.pos..)
                .and_then(|rest| rest.chars().next())
            else {
                return Err(self.error(
                    self.pos,
                    format!("'\"' to close the string opened at byte {open}"),
                ));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let escape = self.pos;
                    self.pos += 1;
                    let decoded = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            out.push(self.unicode_escape(escape)?);
                            continue;
                        }
                        _ => {
                            return Err(self.error(
                                escape,
                                r#"a JSON escape (\" \\ \/ \b \f \n \r \t or \uXXXX)"#,
                            ));
                        }
                    };
                    self.pos += 1;
                    out.push(decoded);
                }
                c if u32::from(c) < 0x20 => {
                    return Err(
                        self.error(self.pos, "a character (control characters must be escaped)")
                    );
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The `XXXX` of `\uXXXX` (after the `u`), with a following low surrogate if the
    /// first is a high one.
    fn unicode_escape(&mut self, escape: usize) -> Result<char, SyntaxError> {
        let first = self.hex4(escape)?;
        let code = match first {
            0xD800..=0xDBFF => {
                let low_escape = self.pos;
                let bytes = self.src.as_bytes();
                if bytes.get(self.pos) != Some(&b'\\') || bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(
                        self.error(low_escape, r"a \uXXXX low surrogate after a high surrogate")
                    );
                }
                self.pos += 2;
                let second = self.hex4(low_escape)?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(
                        self.error(low_escape, r"a \uXXXX low surrogate after a high surrogate")
                    );
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error(escape, "a \\u escape that is not a lone low surrogate"));
            }
            other => other,
        };
        char::from_u32(code).ok_or_else(|| self.error(escape, "a valid \\u escape"))
    }

    fn hex4(&mut self, escape: usize) -> Result<u32, SyntaxError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            match digit {
                Some(d) => {
                    code = code * 16 + d;
                    self.pos += 1;
                }
                None => return Err(self.error(escape, r"four hex digits after \u")),
            }
        }
        Ok(code)
    }
}
