//! How conversions treat values that do not fit: [`ConversionPolicy`], [`Change`] and
//! [`ConversionError`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DataType;

/// What to do with a value that does not fit its field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionMode {
    /// A value that does not fit (more decimals than the scale, an integer overflow, a
    /// bad date, a value outside the picklist) is a [`ConversionError`]. The default.
    #[default]
    Strict,
    /// The value is made to fit (rounded, truncated or nulled) and every such change is
    /// recorded as a [`Change`] on the record, so nothing is lost silently.
    Lenient,
}

/// Options for converting text and JSON into typed values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversionPolicy {
    /// Strict (the default) or lenient.
    pub mode: ConversionMode,
    /// Whether an empty text cell is read as null (the CSV convention Salesforce and
    /// Zoho both use). Default `true`. When `false`, an empty cell is an empty string
    /// for text fields and an error for others.
    pub empty_is_null: bool,
    /// Further cell texts read as null, such as Salesforce's `#N/A`. Compared exactly.
    pub null_markers: Vec<String>,
}

impl Default for ConversionPolicy {
    fn default() -> Self {
        Self {
            mode: ConversionMode::Strict,
            empty_is_null: true,
            null_markers: Vec::new(),
        }
    }
}

impl ConversionPolicy {
    /// The strict policy (the default).
    pub fn strict() -> Self {
        Self::default()
    }

    /// The lenient policy: values are made to fit and each change is recorded.
    pub fn lenient() -> Self {
        Self {
            mode: ConversionMode::Lenient,
            ..Self::default()
        }
    }

    /// Whether the mode is [`ConversionMode::Lenient`].
    pub fn is_lenient(&self) -> bool {
        self.mode == ConversionMode::Lenient
    }

    /// Whether `cell` is a null marker under this policy.
    pub fn is_null_text(&self, cell: &str) -> bool {
        (cell.is_empty() && self.empty_is_null) || self.null_markers.iter().any(|m| m == cell)
    }
}

/// What a lenient conversion did to a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Digits beyond the scale were rounded away (half away from zero).
    Rounded,
    /// Text or bytes were cut to the field's length.
    Truncated,
    /// The value could not be represented at all and was replaced by null.
    Nulled,
}

/// One change a lenient conversion made, recorded on the record
/// (Airbyte's `meta.changes`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// The field whose value changed.
    pub field: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The original value, as text.
    pub original: String,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {}: {} (was {:?})",
            self.kind, self.field, self.reason, self.original
        )
    }
}

/// A value that does not fit its field, under the strict policy (or one that cannot be
/// read at all). Names the field, the value and the target type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: value {value:?} does not fit {target}: {reason}")]
pub struct ConversionError {
    /// The field's name.
    pub field: String,
    /// The offending value as text (cut to 200 characters).
    pub value: String,
    /// The type it was converted to.
    pub target: DataType,
    /// Why it does not fit.
    pub reason: String,
}

impl ConversionError {
    /// A conversion error; the value is cut to 200 characters for the message.
    pub fn new(
        field: impl Into<String>,
        value: impl AsRef<str>,
        target: &DataType,
        reason: impl Into<String>,
    ) -> Self {
        let value = value.as_ref();
        let value = match value.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        };
        Self {
            field: field.into(),
            value,
            target: target.clone(),
            reason: reason.into(),
        }
    }
}

/// A field name that is not in the schema.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{field}` (known fields: {})", known.join(", "))]
pub struct UnknownField {
    /// The name asked for.
    pub field: String,
    /// The names the schema has.
    pub known: Vec<String>,
}
