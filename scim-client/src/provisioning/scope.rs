//! Attribute scoping filters: which source objects are provisioned at all.
//!
//! Entra's shape — clauses AND-ed inside a filter, filters OR-ed — is
//! `ScopeFilter::Any(vec![ScopeFilter::All(..), ScopeFilter::All(..)])`; any nesting of
//! [`ScopeFilter::All`] and [`ScopeFilter::Any`] is allowed.
//!
//! # File format
//!
//! ```toml
//! [users.scope]
//! any = [
//!   { all = [
//!     { attribute = "status", operator = "EQUALS", value = "active" },
//!     { attribute = "role.name", operator = "NOT EQUALS", value = "Guest" },
//!   ] },
//!   { attribute = "email", operator = "REGEX MATCH", value = '@example\.com$' },
//! ]
//! ```
//!
//! A filter is `{ all = [...] }` (alias `and`), `{ any = [...] }` (alias `or`) or a
//! clause `{ attribute, operator, value }`. Operators are written in Entra's spelling
//! (`EQUALS`, `NOT EQUALS`, `IS TRUE`, `IS FALSE`, `IS NULL`, `IS NOT NULL`,
//! `REGEX MATCH`, `NOT REGEX MATCH`, `Includes`, `Greater_Than`,
//! `Greater_Than_OR_EQUALS`, `Less_Than`, `Less_Than_OR_EQUALS`, `STARTS_WITH`,
//! `ENDS_WITH`) and read ignoring case, spaces, `_` and `-` (`greaterThan`, `IN`,
//! `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `sw`, `ew` work too). `value` is text, a number,
//! a boolean, or for `Includes` a list (or one text of comma-separated items).
//!
//! # Semantics
//!
//! * The attribute is looked up like an expression's `[field]`: exact name, else
//!   ignoring ASCII case, else a dotted path into nested objects.
//! * **Null**: a missing attribute, JSON null and the empty string are null. A null
//!   attribute makes every clause false except `IS NULL` (true) — including
//!   `NOT EQUALS` and `NOT REGEX MATCH`, as Entra documents ("null → false").
//! * Arrays and objects (multi-valued attributes, which Entra does not scope on) only
//!   answer `IS NULL` / `IS NOT NULL` (an empty array is null); every other clause on
//!   them is false.
//! * `EQUALS` / `NOT EQUALS` compare text case-sensitively; a boolean attribute is
//!   compared as a boolean when the value reads as one (`true`, `False`), a number as a
//!   number when the value is numeric (`3` equals `3.0`).
//! * `IS TRUE` / `IS FALSE`: a JSON boolean or the text `true` / `false` in any case;
//!   anything else is false for both.
//! * `REGEX MATCH`: the pattern may match anywhere (anchor it with `^…$`), case-sensitive
//!   unless it starts with `(?i)`. Patterns are compiled once, by [`ScopeFilter::check`]
//!   (which the mapping validation calls) or on first use.
//! * `Includes`: the attribute's text equals one of the listed values (case-sensitive).
//! * `Greater_Than` and the other comparisons compare numbers (integers or decimals);
//!   the clause value must be a number (a [`ScopeError`] at validation), and an attribute
//!   that is not a number (or numeric text) makes the clause false.
//! * `STARTS_WITH` / `ENDS_WITH`: case-sensitive.
//! * An empty `all` or `any` is a validation error.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::expr::{as_bool, lookup, scalar_text};

/// A scoping filter: a tree of clauses combined with AND ([`All`](Self::All)) and OR
/// ([`Any`](Self::Any)).
#[derive(Clone, Debug, PartialEq)]
pub enum ScopeFilter {
    /// True when every filter is (AND).
    All(Vec<ScopeFilter>),
    /// True when at least one filter is (OR).
    Any(Vec<ScopeFilter>),
    /// One test on one attribute.
    Clause(ScopeClause),
}

/// One scoping clause: `attribute operator value`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeClause {
    /// The source attribute tested.
    pub attribute: String,
    /// The test.
    pub operator: ScopeOperator,
    /// The value compared with; none for `IS TRUE`, `IS FALSE`, `IS NULL`, `IS NOT NULL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ScopeValue>,
    /// The compiled pattern of a regex clause.
    #[serde(skip)]
    regex: OnceLock<Result<Regex, String>>,
}

impl PartialEq for ScopeClause {
    fn eq(&self, other: &Self) -> bool {
        self.attribute == other.attribute
            && self.operator == other.operator
            && self.value == other.value
    }
}

/// The value of a [`ScopeClause`]: one text, or a list for `Includes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ScopeValue {
    /// One value (numbers and booleans in a file are read as their text).
    One(String),
    /// A list of values.
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for ScopeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        fn scalar<E: serde::de::Error>(v: Value) -> Result<String, E> {
            match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(E::custom(format!(
                    "a scope value is text, a number, a boolean or a list of them, not {other}"
                ))),
            }
        }
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .into_iter()
                .map(scalar)
                .collect::<Result<_, _>>()
                .map(ScopeValue::List),
            v => scalar(v).map(ScopeValue::One),
        }
    }
}

impl From<&str> for ScopeValue {
    fn from(s: &str) -> Self {
        Self::One(s.to_owned())
    }
}

impl From<String> for ScopeValue {
    fn from(s: String) -> Self {
        Self::One(s)
    }
}

impl From<Vec<String>> for ScopeValue {
    fn from(list: Vec<String>) -> Self {
        Self::List(list)
    }
}

/// A scoping operator. See the [module documentation](self) for the semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopeOperator {
    /// `EQUALS` (case-sensitive).
    Equals,
    /// `NOT EQUALS`.
    NotEquals,
    /// `IS TRUE`.
    IsTrue,
    /// `IS FALSE`.
    IsFalse,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `REGEX MATCH`.
    RegexMatch,
    /// `NOT REGEX MATCH`.
    NotRegexMatch,
    /// `Includes` (alias `IN`): the value is one of a list.
    In,
    /// `Greater_Than`.
    GreaterThan,
    /// `Greater_Than_OR_EQUALS`.
    GreaterThanOrEquals,
    /// `Less_Than`.
    LessThan,
    /// `Less_Than_OR_EQUALS`.
    LessThanOrEquals,
    /// `STARTS_WITH`.
    StartsWith,
    /// `ENDS_WITH`.
    EndsWith,
}

impl ScopeOperator {
    /// Every operator.
    pub const ALL: [ScopeOperator; 15] = [
        Self::Equals,
        Self::NotEquals,
        Self::IsTrue,
        Self::IsFalse,
        Self::IsNull,
        Self::IsNotNull,
        Self::RegexMatch,
        Self::NotRegexMatch,
        Self::In,
        Self::GreaterThan,
        Self::GreaterThanOrEquals,
        Self::LessThan,
        Self::LessThanOrEquals,
        Self::StartsWith,
        Self::EndsWith,
    ];

    /// Entra's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Equals => "EQUALS",
            Self::NotEquals => "NOT EQUALS",
            Self::IsTrue => "IS TRUE",
            Self::IsFalse => "IS FALSE",
            Self::IsNull => "IS NULL",
            Self::IsNotNull => "IS NOT NULL",
            Self::RegexMatch => "REGEX MATCH",
            Self::NotRegexMatch => "NOT REGEX MATCH",
            Self::In => "Includes",
            Self::GreaterThan => "Greater_Than",
            Self::GreaterThanOrEquals => "Greater_Than_OR_EQUALS",
            Self::LessThan => "Less_Than",
            Self::LessThanOrEquals => "Less_Than_OR_EQUALS",
            Self::StartsWith => "STARTS_WITH",
            Self::EndsWith => "ENDS_WITH",
        }
    }

    /// Whether the operator takes a value.
    pub fn takes_value(self) -> bool {
        !matches!(
            self,
            Self::IsTrue | Self::IsFalse | Self::IsNull | Self::IsNotNull
        )
    }

    fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::GreaterThan | Self::GreaterThanOrEquals | Self::LessThan | Self::LessThanOrEquals
        )
    }
}

impl fmt::Display for ScopeOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScopeOperator {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Ok(match key.as_str() {
            "EQUALS" | "EQ" => Self::Equals,
            "NOTEQUALS" | "NE" => Self::NotEquals,
            "ISTRUE" => Self::IsTrue,
            "ISFALSE" => Self::IsFalse,
            "ISNULL" => Self::IsNull,
            "ISNOTNULL" => Self::IsNotNull,
            "REGEXMATCH" => Self::RegexMatch,
            "NOTREGEXMATCH" => Self::NotRegexMatch,
            "INCLUDES" | "IN" => Self::In,
            "GREATERTHAN" | "GT" => Self::GreaterThan,
            "GREATERTHANOREQUALS" | "GE" => Self::GreaterThanOrEquals,
            "LESSTHAN" | "LT" => Self::LessThan,
            "LESSTHANOREQUALS" | "LE" => Self::LessThanOrEquals,
            "STARTSWITH" | "SW" => Self::StartsWith,
            "ENDSWITH" | "EW" => Self::EndsWith,
            _ => {
                return Err(ScopeError::UnknownOperator {
                    operator: s.to_owned(),
                });
            }
        })
    }
}

impl Serialize for ScopeOperator {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ScopeOperator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(D::Error::custom)
    }
}

/// A scoping filter that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An operator name that is not known.
    #[error(
        "unknown scoping operator `{operator}` (expected EQUALS, NOT EQUALS, IS TRUE, IS FALSE, IS NULL, IS NOT NULL, REGEX MATCH, NOT REGEX MATCH, Includes, Greater_Than, Greater_Than_OR_EQUALS, Less_Than, Less_Than_OR_EQUALS, STARTS_WITH or ENDS_WITH)"
    )]
    UnknownOperator {
        /// The name given.
        operator: String,
    },
    /// An operator that needs a value has none, or one that takes none has one.
    #[error("scoping clause on `{attribute}`: {operator} {problem}")]
    Value {
        /// The clause's attribute.
        attribute: String,
        /// The clause's operator.
        operator: ScopeOperator,
        /// What is wrong (`needs a value`, `takes no value`, ...).
        problem: String,
    },
    /// A `REGEX MATCH` pattern that does not compile.
    #[error("scoping clause on `{attribute}`: invalid regular expression `{pattern}`: {message}")]
    InvalidRegex {
        /// The clause's attribute.
        attribute: String,
        /// The pattern.
        pattern: String,
        /// The regex engine's message.
        message: String,
    },
    /// An `all` or `any` without filters.
    #[error("an empty `{0}` scoping filter")]
    Empty(&'static str),
}

impl ScopeClause {
    /// A clause; check it with [`ScopeFilter::check`].
    pub fn new(
        attribute: impl Into<String>,
        operator: ScopeOperator,
        value: Option<ScopeValue>,
    ) -> Self {
        Self {
            attribute: attribute.into(),
            operator,
            value,
            regex: OnceLock::new(),
        }
    }

    fn value_error(&self, problem: impl Into<String>) -> ScopeError {
        ScopeError::Value {
            attribute: self.attribute.clone(),
            operator: self.operator,
            problem: problem.into(),
        }
    }

    fn one_value(&self) -> Option<&str> {
        match &self.value {
            Some(ScopeValue::One(s)) => Some(s),
            _ => None,
        }
    }

    fn check(&self) -> Result<(), ScopeError> {
        let op = self.operator;
        match (&self.value, op) {
            (Some(_), op) if !op.takes_value() => return Err(self.value_error("takes no value")),
            (None, op) if op.takes_value() => return Err(self.value_error("needs a value")),
            (Some(ScopeValue::List(_)), op) if op != ScopeOperator::In => {
                return Err(self.value_error("takes one value, not a list"));
            }
            _ => {}
        }
        if op.is_comparison() {
            let v = self.one_value().unwrap_or_default();
            if parse_number(v).is_none() {
                return Err(self.value_error(format!("needs a number, not `{v}`")));
            }
        }
        if let Some(Err(message)) = self.compiled_regex() {
            return Err(ScopeError::InvalidRegex {
                attribute: self.attribute.clone(),
                pattern: self.one_value().unwrap_or_default().to_owned(),
                message: message.clone(),
            });
        }
        Ok(())
    }

    fn compiled_regex(&self) -> Option<&Result<Regex, String>> {
        if !matches!(
            self.operator,
            ScopeOperator::RegexMatch | ScopeOperator::NotRegexMatch
        ) {
            return None;
        }
        let pattern = self.one_value()?;
        Some(
            self.regex
                .get_or_init(|| Regex::new(pattern).map_err(|e| e.to_string())),
        )
    }

    /// Whether the clause holds for a source record (see the module documentation).
    pub fn matches(&self, source: &Map<String, Value>) -> bool {
        let value = lookup(source, &self.attribute).unwrap_or(&Value::Null);
        let null = match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        match self.operator {
            ScopeOperator::IsNull => return null,
            ScopeOperator::IsNotNull => return !null,
            _ if null => return false,
            ScopeOperator::IsTrue => return as_bool(value) == Some(true),
            ScopeOperator::IsFalse => return as_bool(value) == Some(false),
            _ => {}
        }
        let Ok(Some(text)) = scalar_text(value) else {
            return false;
        };
        let one = self.one_value().unwrap_or_default();
        match self.operator {
            ScopeOperator::Equals => equals(value, &text, one),
            ScopeOperator::NotEquals => !equals(value, &text, one),
            ScopeOperator::RegexMatch => {
                matches!(self.compiled_regex(), Some(Ok(re)) if re.is_match(&text))
            }
            ScopeOperator::NotRegexMatch => {
                matches!(self.compiled_regex(), Some(Ok(re)) if !re.is_match(&text))
            }
            ScopeOperator::In => match &self.value {
                Some(ScopeValue::List(items)) => items.contains(&text),
                Some(ScopeValue::One(s)) => s.split(',').map(str::trim).any(|i| i == text),
                None => false,
            },
            ScopeOperator::StartsWith => text.starts_with(one),
            ScopeOperator::EndsWith => text.ends_with(one),
            op => {
                let (Some(a), Some(b)) = (parse_number(&text), parse_number(one)) else {
                    return false;
                };
                match op {
                    ScopeOperator::GreaterThan => a > b,
                    ScopeOperator::GreaterThanOrEquals => a >= b,
                    ScopeOperator::LessThan => a < b,
                    _ => a <= b,
                }
            }
        }
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn equals(value: &Value, text: &str, expected: &str) -> bool {
    match value {
        Value::Bool(b) => match as_bool(&Value::String(expected.to_owned())) {
            Some(e) => *b == e,
            None => text == expected,
        },
        Value::Number(n) => match (n.as_f64(), parse_number(expected)) {
            (Some(a), Some(b)) => a == b,
            _ => text == expected,
        },
        _ => text == expected,
    }
}

impl ScopeFilter {
    /// A clause.
    pub fn clause(
        attribute: impl Into<String>,
        operator: ScopeOperator,
        value: Option<ScopeValue>,
    ) -> Self {
        Self::Clause(ScopeClause::new(attribute, operator, value))
    }

    fn with_value(attribute: impl Into<String>, op: ScopeOperator, v: impl fmt::Display) -> Self {
        Self::clause(attribute, op, Some(ScopeValue::One(v.to_string())))
    }

    /// `attribute EQUALS value`.
    pub fn equals(attribute: impl Into<String>, value: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::Equals, value)
    }

    /// `attribute NOT EQUALS value`.
    pub fn not_equals(attribute: impl Into<String>, value: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::NotEquals, value)
    }

    /// `attribute IS TRUE`.
    pub fn is_true(attribute: impl Into<String>) -> Self {
        Self::clause(attribute, ScopeOperator::IsTrue, None)
    }

    /// `attribute IS FALSE`.
    pub fn is_false(attribute: impl Into<String>) -> Self {
        Self::clause(attribute, ScopeOperator::IsFalse, None)
    }

    /// `attribute IS NULL`.
    pub fn is_null(attribute: impl Into<String>) -> Self {
        Self::clause(attribute, ScopeOperator::IsNull, None)
    }

    /// `attribute IS NOT NULL`.
    pub fn is_not_null(attribute: impl Into<String>) -> Self {
        Self::clause(attribute, ScopeOperator::IsNotNull, None)
    }

    /// `attribute REGEX MATCH pattern`.
    pub fn regex_match(attribute: impl Into<String>, pattern: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::RegexMatch, pattern)
    }

    /// `attribute NOT REGEX MATCH pattern`.
    pub fn not_regex_match(attribute: impl Into<String>, pattern: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::NotRegexMatch, pattern)
    }

    /// `attribute Includes [values]`: the attribute is one of `values`.
    pub fn one_of<I, S>(attribute: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = values.into_iter().map(Into::into).collect();
        Self::clause(attribute, ScopeOperator::In, Some(ScopeValue::List(list)))
    }

    /// `attribute Greater_Than number`.
    pub fn greater_than(attribute: impl Into<String>, number: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::GreaterThan, number)
    }

    /// `attribute Greater_Than_OR_EQUALS number`.
    pub fn greater_than_or_equals(attribute: impl Into<String>, number: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::GreaterThanOrEquals, number)
    }

    /// `attribute Less_Than number`.
    pub fn less_than(attribute: impl Into<String>, number: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::LessThan, number)
    }

    /// `attribute Less_Than_OR_EQUALS number`.
    pub fn less_than_or_equals(attribute: impl Into<String>, number: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::LessThanOrEquals, number)
    }

    /// `attribute STARTS_WITH prefix`.
    pub fn starts_with(attribute: impl Into<String>, prefix: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::StartsWith, prefix)
    }

    /// `attribute ENDS_WITH suffix`.
    pub fn ends_with(attribute: impl Into<String>, suffix: impl fmt::Display) -> Self {
        Self::with_value(attribute, ScopeOperator::EndsWith, suffix)
    }

    /// `self AND other` (flattened into an existing [`All`](Self::All)).
    #[must_use]
    pub fn and(self, other: ScopeFilter) -> Self {
        match self {
            Self::All(mut filters) => {
                filters.push(other);
                Self::All(filters)
            }
            first => Self::All(vec![first, other]),
        }
    }

    /// `self OR other` (flattened into an existing [`Any`](Self::Any)).
    #[must_use]
    pub fn or(self, other: ScopeFilter) -> Self {
        match self {
            Self::Any(mut filters) => {
                filters.push(other);
                Self::Any(filters)
            }
            first => Self::Any(vec![first, other]),
        }
    }

    /// Validates the filter and compiles its regular expressions, once: values present
    /// where needed, numbers where compared, patterns that compile, no empty group.
    /// Returns the first problem found.
    pub fn check(&self) -> Result<(), ScopeError> {
        match self {
            Self::All(filters) | Self::Any(filters) => {
                if filters.is_empty() {
                    return Err(ScopeError::Empty(if matches!(self, Self::All(_)) {
                        "all"
                    } else {
                        "any"
                    }));
                }
                filters.iter().try_for_each(Self::check)
            }
            Self::Clause(clause) => clause.check(),
        }
    }

    /// Whether a source record is in scope. A clause whose value is invalid (see
    /// [`check`](Self::check)) is false.
    pub fn matches(&self, source: &Map<String, Value>) -> bool {
        match self {
            Self::All(filters) => filters.iter().all(|f| f.matches(source)),
            Self::Any(filters) => filters.iter().any(|f| f.matches(source)),
            Self::Clause(clause) => clause.matches(source),
        }
    }

    /// Every attribute the filter reads, in order (repeats included).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_attributes(&mut out);
        out
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::All(filters) | Self::Any(filters) => {
                filters.iter().for_each(|f| f.collect_attributes(out));
            }
            Self::Clause(clause) => out.push(&clause.attribute),
        }
    }
}

impl Serialize for ScopeFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All(filters) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("all", filters)?;
                map.end()
            }
            Self::Any(filters) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("any", filters)?;
                map.end()
            }
            Self::Clause(clause) => clause.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ScopeFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const SHAPE: &str = "a scope filter is `{ all = [...] }`, `{ any = [...] }` or a clause `{ attribute = \"...\", operator = \"EQUALS\", value = \"...\" }`";
        let Value::Object(mut map) = Value::deserialize(deserializer)? else {
            return Err(D::Error::custom(SHAPE));
        };
        let group = ["all", "and", "any", "or"]
            .into_iter()
            .find(|k| map.contains_key(*k));
        match group {
            Some(key) => {
                if map.len() > 1 {
                    return Err(D::Error::custom(format!(
                        "`{key}` stands alone in a scope filter; {SHAPE}"
                    )));
                }
                let list = map.remove(key).unwrap_or(Value::Null);
                let filters: Vec<ScopeFilter> =
                    serde_json::from_value(list).map_err(D::Error::custom)?;
                Ok(if matches!(key, "all" | "and") {
                    Self::All(filters)
                } else {
                    Self::Any(filters)
                })
            }
            None if map.contains_key("attribute") => serde_json::from_value(Value::Object(map))
                .map(Self::Clause)
                .map_err(D::Error::custom),
            None => Err(D::Error::custom(SHAPE)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Map<String, Value> {
        json!({
            "status": "active",
            "email": "ada@example.com",
            "empty": "",
            "nothing": null,
            "enabled": true,
            "disabledText": "FALSE",
            "age": 42,
            "score": "7.5",
            "role": { "name": "CEO" },
            "tags": ["a", "b"],
            "noTags": [],
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn holds(f: &ScopeFilter) -> bool {
        f.check().unwrap_or_else(|e| panic!("{e}"));
        f.matches(&record())
    }

    #[test]
    fn equals_and_not_equals() {
        assert!(holds(&ScopeFilter::equals("status", "active")));
        assert!(
            !holds(&ScopeFilter::equals("status", "Active")),
            "case-sensitive"
        );
        assert!(
            holds(&ScopeFilter::equals("STATUS", "active")),
            "attribute name ignores case"
        );
        assert!(holds(&ScopeFilter::equals("role.name", "CEO")));
        assert!(holds(&ScopeFilter::equals("enabled", "True")));
        assert!(holds(&ScopeFilter::equals("enabled", "true")));
        assert!(holds(&ScopeFilter::equals("age", "42.0")));
        assert!(holds(&ScopeFilter::not_equals("status", "inactive")));
        assert!(!holds(&ScopeFilter::not_equals("status", "active")));
        assert!(
            !holds(&ScopeFilter::equals("tags", "a")),
            "multi-valued: false"
        );
    }

    #[test]
    fn null_makes_every_clause_false_but_is_null() {
        for attr in ["missing", "nothing", "empty", "noTags"] {
            assert!(holds(&ScopeFilter::is_null(attr)), "{attr}");
            assert!(!holds(&ScopeFilter::is_not_null(attr)), "{attr}");
            for f in [
                ScopeFilter::equals(attr, "x"),
                ScopeFilter::not_equals(attr, "x"),
                ScopeFilter::not_regex_match(attr, "x"),
                ScopeFilter::is_false(attr),
                ScopeFilter::is_true(attr),
                ScopeFilter::less_than(attr, 5),
                ScopeFilter::one_of(attr, ["x"]),
                ScopeFilter::starts_with(attr, ""),
            ] {
                assert!(!holds(&f), "{attr}: {f:?}");
            }
        }
        assert!(holds(&ScopeFilter::is_not_null("status")));
        assert!(holds(&ScopeFilter::is_not_null("tags")));
        assert!(!holds(&ScopeFilter::is_null("status")));
    }

    #[test]
    fn booleans() {
        assert!(holds(&ScopeFilter::is_true("enabled")));
        assert!(!holds(&ScopeFilter::is_false("enabled")));
        assert!(holds(&ScopeFilter::is_false("disabledText")));
        assert!(!holds(&ScopeFilter::is_true("status")));
        assert!(!holds(&ScopeFilter::is_false("status")));
    }

    #[test]
    fn regexes_lists_prefixes() {
        assert!(holds(&ScopeFilter::regex_match("email", r"@example\.com$")));
        assert!(!holds(&ScopeFilter::regex_match("email", r"^example")));
        assert!(holds(&ScopeFilter::regex_match("email", "(?i)EXAMPLE")));
        assert!(holds(&ScopeFilter::not_regex_match(
            "email",
            r"@other\.com$"
        )));
        assert!(!holds(&ScopeFilter::not_regex_match("email", "ada")));
        assert!(holds(&ScopeFilter::regex_match("age", "^4[0-9]$")));
        assert!(holds(&ScopeFilter::one_of(
            "status",
            ["inactive", "active"]
        )));
        assert!(!holds(&ScopeFilter::one_of("status", ["Active"])));
        assert!(holds(&ScopeFilter::clause(
            "status",
            ScopeOperator::In,
            Some("deleted, active".into())
        )));
        assert!(holds(&ScopeFilter::starts_with("email", "ada@")));
        assert!(!holds(&ScopeFilter::starts_with("email", "Ada@")));
        assert!(holds(&ScopeFilter::ends_with("email", ".com")));
        assert!(!holds(&ScopeFilter::ends_with("email", ".org")));
    }

    #[test]
    fn comparisons_are_numeric() {
        assert!(holds(&ScopeFilter::greater_than("age", 41)));
        assert!(!holds(&ScopeFilter::greater_than("age", 42)));
        assert!(holds(&ScopeFilter::greater_than_or_equals("age", 42)));
        assert!(holds(&ScopeFilter::less_than("age", "100")));
        assert!(!holds(&ScopeFilter::less_than("age", 42)));
        assert!(holds(&ScopeFilter::less_than_or_equals("age", 42)));
        assert!(
            holds(&ScopeFilter::greater_than("score", 7)),
            "numeric text"
        );
        assert!(holds(&ScopeFilter::less_than("score", 7.6)));
        assert!(
            !holds(&ScopeFilter::greater_than("status", 1)),
            "not a number: false"
        );
        assert!(
            !holds(&ScopeFilter::less_than("status", 1)),
            "not a number: false"
        );
    }

    #[test]
    fn and_or() {
        let f = ScopeFilter::equals("status", "active").and(ScopeFilter::is_true("enabled"));
        assert!(holds(&f));
        let f = f.and(ScopeFilter::equals("role.name", "CTO"));
        assert!(matches!(&f, ScopeFilter::All(v) if v.len() == 3));
        assert!(!holds(&f));
        let f = f.or(ScopeFilter::is_null("missing"));
        assert!(holds(&f));
        let f = ScopeFilter::is_null("status")
            .or(ScopeFilter::is_null("email"))
            .or(ScopeFilter::is_null("age"));
        assert!(matches!(&f, ScopeFilter::Any(v) if v.len() == 3));
        assert!(!holds(&f));
        assert_eq!(f.attributes(), vec!["status", "email", "age"]);
    }

    #[test]
    fn check_reports_bad_filters() {
        let e = ScopeFilter::regex_match("email", "(unclosed")
            .check()
            .unwrap_err();
        assert!(
            matches!(&e, ScopeError::InvalidRegex { attribute, pattern, .. } if attribute == "email" && pattern == "(unclosed")
        );
        assert!(e.to_string().contains("(unclosed"), "{e}");
        assert!(!ScopeFilter::regex_match("email", "(unclosed").matches(&record()));
        let e = ScopeFilter::greater_than("age", "old").check().unwrap_err();
        assert!(e.to_string().contains("needs a number, not `old`"), "{e}");
        let e = ScopeFilter::clause("status", ScopeOperator::Equals, None)
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("EQUALS needs a value"), "{e}");
        let e = ScopeFilter::clause("status", ScopeOperator::IsNull, Some("x".into()))
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("takes no value"), "{e}");
        let e = ScopeFilter::clause(
            "status",
            ScopeOperator::Equals,
            Some(vec!["a".to_owned()].into()),
        )
        .check()
        .unwrap_err();
        assert!(e.to_string().contains("not a list"), "{e}");
        assert_eq!(
            ScopeFilter::Any(vec![]).check(),
            Err(ScopeError::Empty("any"))
        );
        let nested = ScopeFilter::is_null("a").and(ScopeFilter::regex_match("b", "["));
        assert!(matches!(
            nested.check(),
            Err(ScopeError::InvalidRegex { .. })
        ));
    }

    #[test]
    fn operator_names() {
        for op in ScopeOperator::ALL {
            assert_eq!(op.name().parse::<ScopeOperator>().unwrap(), op);
            assert_eq!(
                op.name().to_lowercase().parse::<ScopeOperator>().unwrap(),
                op
            );
            assert_eq!(format!("{op:?}").parse::<ScopeOperator>().unwrap(), op);
        }
        assert_eq!("IN".parse::<ScopeOperator>().unwrap(), ScopeOperator::In);
        assert_eq!(
            "ge".parse::<ScopeOperator>().unwrap(),
            ScopeOperator::GreaterThanOrEquals
        );
        assert_eq!(
            "Greater Than Or Equals".parse::<ScopeOperator>().unwrap(),
            ScopeOperator::GreaterThanOrEquals
        );
        let e = "LIKE".parse::<ScopeOperator>().unwrap_err();
        assert!(e.to_string().contains("`LIKE`"), "{e}");
    }

    #[test]
    fn serde_shapes() {
        let toml_text = r#"
any = [
  { all = [
    { attribute = "status", operator = "EQUALS", value = "active" },
    { attribute = "age", operator = "Greater_Than", value = 18 },
  ] },
  { attribute = "email", operator = "regex match", value = '@example\.com$' },
  { attribute = "status", operator = "IN", value = ["a", "b"] },
  { attribute = "enabled", operator = "IS TRUE" },
]
"#;
        let f: ScopeFilter = toml::from_str(toml_text).unwrap();
        let expected = ScopeFilter::Any(vec![
            ScopeFilter::equals("status", "active").and(ScopeFilter::greater_than("age", 18)),
            ScopeFilter::regex_match("email", r"@example\.com$"),
            ScopeFilter::one_of("status", ["a", "b"]),
            ScopeFilter::is_true("enabled"),
        ]);
        assert_eq!(f, expected);
        assert!(holds(&f));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["any"][0]["all"][1]["operator"], "Greater_Than");
        assert_eq!(json["any"][0]["all"][1]["value"], "18");
        assert!(json["any"][3].get("value").is_none());
        assert_eq!(serde_json::from_value::<ScopeFilter>(json).unwrap(), f);
        let toml_back = toml::to_string(&f).unwrap();
        assert_eq!(toml::from_str::<ScopeFilter>(&toml_back).unwrap(), f);

        let e = serde_json::from_value::<ScopeFilter>(
            json!({"attribute": "a", "operator": "LIKE", "value": "x"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("LIKE"), "{e}");
        let e = serde_json::from_value::<ScopeFilter>(
            json!({"attribute": "a", "operator": "EQUALS", "valeu": "x"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("valeu"), "{e}");
        let e = serde_json::from_value::<ScopeFilter>(json!({"neither": 1})).unwrap_err();
        assert!(e.to_string().contains("all = [...]"), "{e}");
        let e = serde_json::from_value::<ScopeFilter>(json!({"all": [], "any": []})).unwrap_err();
        assert!(e.to_string().contains("stands alone"), "{e}");
        let f: ScopeFilter =
            serde_json::from_value(json!({"and": [{"attribute": "a", "operator": "IS NULL"}]}))
                .unwrap();
        assert!(matches!(f, ScopeFilter::All(_)));
    }
}
