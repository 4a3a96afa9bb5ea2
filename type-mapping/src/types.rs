//! The interim type system: [`DataType`], [`Field`], [`Schema`] and [`NativeType`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The largest decimal precision a [`DataType::Decimal`] may declare.
///
/// Values are held as [`rust_decimal::Decimal`], which carries 28 significant digits
/// exactly (a few 29-digit values too); a declared precision above that is accepted so
/// that schemas from other systems can be described, but a value that needs more digits
/// than the representation holds is a conversion error, never a rounded number.
pub const MAX_DECIMAL_PRECISION: u8 = 38;

/// An interim data type: the common language every connector's native types map into.
///
/// Physical representations are chosen so that nothing is lost on the way through:
/// dates stay dates (Azure Data Factory turns them into date-times), decimals keep their
/// precision and scale, 64-bit ids stay exact, and offsets of date-times are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DataType {
    /// `true` or `false`.
    Boolean,
    /// Signed 8-bit integer.
    Int8,
    /// Signed 16-bit integer.
    Int16,
    /// Signed 32-bit integer.
    Int32,
    /// Signed 64-bit integer.
    Int64,
    /// IEEE 754 double precision floating point.
    Float64,
    /// An exact decimal number with at most `precision` significant digits, `scale` of
    /// them after the decimal point.
    Decimal {
        /// Total number of significant digits.
        precision: u8,
        /// Digits after the decimal point.
        scale: u8,
    },
    /// UTF-8 text.
    String,
    /// Bytes; written as base64 in text and JSON.
    Binary,
    /// A calendar date without time or zone.
    Date,
    /// A time of day without date or zone.
    Time,
    /// A date and time without an offset (a "local" or "naive" timestamp).
    DateTime,
    /// An instant together with the UTC offset it was expressed in.
    DateTimeOffset,
    /// A 128-bit UUID.
    Uuid,
    /// Any JSON value: the escape hatch for semi-structured data and unknown types.
    Json,
    /// A list whose items all have the given type.
    List(Box<DataType>),
    /// A record of named fields.
    Struct(Vec<Field>),
}

impl DataType {
    /// A decimal type. `scale` may not exceed `precision`.
    pub fn decimal(precision: u8, scale: u8) -> Self {
        Self::Decimal { precision, scale }
    }

    /// A list of `item`.
    pub fn list(item: DataType) -> Self {
        Self::List(Box::new(item))
    }

    /// Whether values of this type are integers of any width.
    pub fn is_integer(&self) -> bool {
        matches!(self, Self::Int8 | Self::Int16 | Self::Int32 | Self::Int64)
    }

    /// Whether values of this type are numbers (integer, float or decimal).
    pub fn is_numeric(&self) -> bool {
        self.is_integer() || matches!(self, Self::Float64 | Self::Decimal { .. })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean => f.write_str("Boolean"),
            Self::Int8 => f.write_str("Int8"),
            Self::Int16 => f.write_str("Int16"),
            Self::Int32 => f.write_str("Int32"),
            Self::Int64 => f.write_str("Int64"),
            Self::Float64 => f.write_str("Float64"),
            Self::Decimal { precision, scale } => write!(f, "Decimal({precision}, {scale})"),
            Self::String => f.write_str("String"),
            Self::Binary => f.write_str("Binary"),
            Self::Date => f.write_str("Date"),
            Self::Time => f.write_str("Time"),
            Self::DateTime => f.write_str("DateTime"),
            Self::DateTimeOffset => f.write_str("DateTimeOffset"),
            Self::Uuid => f.write_str("Uuid"),
            Self::Json => f.write_str("Json"),
            Self::List(item) => write!(f, "List<{item}>"),
            Self::Struct(fields) => {
                f.write_str("Struct{")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.data_type)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The type a field has in the system it came from, kept beside the interim type so
/// that round trips and debugging can see the original (`salesforce` / `currency(18,2)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NativeType {
    /// The system: `salesforce`, `zoho_crm`, `scim`, `csv`, ...
    pub system: String,
    /// The type's name in that system, as the system spells it (`currency`, `bigint`).
    pub name: String,
    /// Declared precision, where the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u32>,
    /// Declared scale (decimal places), where the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Declared maximum length, where the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
}

impl NativeType {
    /// A native type with no parameters.
    pub fn new(system: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            name: name.into(),
            precision: None,
            scale: None,
            length: None,
        }
    }
}

impl fmt::Display for NativeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.name)?;
        match (self.precision, self.scale) {
            (Some(p), Some(s)) => write!(f, "({p},{s})")?,
            (Some(p), None) => write!(f, "({p})")?,
            _ => {}
        }
        if let Some(len) = self.length {
            write!(f, "[{len}]")?;
        }
        Ok(())
    }
}

/// A named, typed column of a [`Schema`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    /// The field's name as the source system spells it.
    pub name: String,
    /// The interim type.
    pub data_type: DataType,
    /// Whether the field may hold [`Value::Null`](crate::Value::Null).
    pub nullable: bool,
    /// The type in the system the field came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeType>,
    /// The values a picklist-like field accepts, when the system restricts them.
    /// A value outside this list is a conversion error under the strict policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<String>>,
    /// Free-form annotations (labels, max length, help text).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Field {
    /// A nullable field with no native type.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        Self {
            name: name.into(),
            data_type,
            nullable: true,
            native: None,
            allowed_values: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Sets whether the field may be null.
    #[must_use]
    pub fn with_nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// Records the type the field has in its source system.
    #[must_use]
    pub fn with_native(mut self, native: NativeType) -> Self {
        self.native = Some(native);
        self
    }

    /// Restricts the field to the given picklist values.
    #[must_use]
    pub fn with_allowed_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_values = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// Adds one metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// An ordered list of fields. Records carry their values in the same order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schema {
    /// The fields, in record order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// A schema of the given fields.
    pub fn new(fields: Vec<Field>) -> Self {
        Self { fields }
    }

    /// The schema wrapped in an [`Arc`], the way batches share it.
    pub fn into_arc(self) -> Arc<Self> {
        Arc::new(self)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the schema has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Position of the field called `name` (exact match first, then ASCII
    /// case-insensitive, since Salesforce and SCIM names are case-insensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name).or_else(|| {
            self.fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// The field called `name`, see [`Schema::index_of`].
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.index_of(name).map(|i| &self.fields[i])
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// A schema with only the named fields, in the order given; an unknown name is an
    /// error naming it.
    pub fn project(&self, names: &[impl AsRef<str>]) -> Result<Schema, crate::UnknownField> {
        let mut fields = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            match self.field(name) {
                Some(f) => fields.push(f.clone()),
                None => {
                    return Err(crate::UnknownField {
                        field: name.to_owned(),
                        known: self.names().map(str::to_owned).collect(),
                    });
                }
            }
        }
        Ok(Schema { fields })
    }
}

impl FromIterator<Field> for Schema {
    fn from_iter<T: IntoIterator<Item = Field>>(iter: T) -> Self {
        Self {
            fields: iter.into_iter().collect(),
        }
    }
}
