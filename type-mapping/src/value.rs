//! Typed values.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::DataType;

/// One typed value. Records hold their values in schema order.
///
/// `Null` is distinct from an empty string: a CSV cell that is empty is read as `Null`,
/// and written back as the target system's null marker.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// No value.
    Null,
    /// A boolean.
    Boolean(bool),
    /// An 8-bit integer.
    Int8(i8),
    /// A 16-bit integer.
    Int16(i16),
    /// A 32-bit integer.
    Int32(i32),
    /// A 64-bit integer.
    Int64(i64),
    /// A double.
    Float64(f64),
    /// An exact decimal.
    Decimal(Decimal),
    /// Text.
    String(String),
    /// Bytes.
    Binary(Vec<u8>),
    /// A calendar date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// A date and time without offset.
    DateTime(NaiveDateTime),
    /// A date and time with its UTC offset.
    DateTimeOffset(DateTime<FixedOffset>),
    /// A UUID.
    Uuid(Uuid),
    /// Any JSON. Boxed: JSON is rare in tabular data, and keeping it out of line keeps
    /// every `Value` 32 bytes instead of 72.
    Json(Box<serde_json::Value>),
    /// A list of values.
    List(Vec<Value>),
    /// A struct's values, in the order of its [`DataType::Struct`] fields.
    Struct(Vec<Value>),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The text, for [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64`, for every integer variant.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::Int8(v) => Some(v.into()),
            Self::Int16(v) => Some(v.into()),
            Self::Int32(v) => Some(v.into()),
            Self::Int64(v) => Some(v),
            _ => None,
        }
    }

    /// The boolean, for [`Value::Boolean`].
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Boolean(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this value is of the given type (`Null` is of every type).
    pub fn conforms_to(&self, data_type: &DataType) -> bool {
        match (self, data_type) {
            (Self::Null, _) => true,
            (Self::Boolean(_), DataType::Boolean)
            | (Self::Int8(_), DataType::Int8)
            | (Self::Int16(_), DataType::Int16)
            | (Self::Int32(_), DataType::Int32)
            | (Self::Int64(_), DataType::Int64)
            | (Self::Float64(_), DataType::Float64)
            | (Self::String(_), DataType::String)
            | (Self::Binary(_), DataType::Binary)
            | (Self::Date(_), DataType::Date)
            | (Self::Time(_), DataType::Time)
            | (Self::DateTime(_), DataType::DateTime)
            | (Self::DateTimeOffset(_), DataType::DateTimeOffset)
            | (Self::Uuid(_), DataType::Uuid)
            | (Self::Json(_), DataType::Json) => true,
            (Self::Decimal(d), DataType::Decimal { scale, .. }) => d.scale() <= u32::from(*scale),
            (Self::List(items), DataType::List(item)) => items.iter().all(|v| v.conforms_to(item)),
            (Self::Struct(values), DataType::Struct(fields)) => {
                values.len() == fields.len()
                    && values
                        .iter()
                        .zip(fields)
                        .all(|(v, f)| v.conforms_to(&f.data_type))
            }
            _ => false,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Null => "Null",
            Self::Boolean(_) => "Boolean",
            Self::Int8(_) => "Int8",
            Self::Int16(_) => "Int16",
            Self::Int32(_) => "Int32",
            Self::Int64(_) => "Int64",
            Self::Float64(_) => "Float64",
            Self::Decimal(_) => "Decimal",
            Self::String(_) => "String",
            Self::Binary(_) => "Binary",
            Self::Date(_) => "Date",
            Self::Time(_) => "Time",
            Self::DateTime(_) => "DateTime",
            Self::DateTimeOffset(_) => "DateTimeOffset",
            Self::Uuid(_) => "Uuid",
            Self::Json(_) => "Json",
            Self::List(_) => "List",
            Self::Struct(_) => "Struct",
        }
    }
}

impl fmt::Display for Value {
    /// A short, human-readable rendering for messages (not a wire format: use the
    /// `text` and `json` modules for that).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Boolean(v) => write!(f, "{v}"),
            Self::Int8(v) => write!(f, "{v}"),
            Self::Int16(v) => write!(f, "{v}"),
            Self::Int32(v) => write!(f, "{v}"),
            Self::Int64(v) => write!(f, "{v}"),
            Self::Float64(v) => write!(f, "{v}"),
            Self::Decimal(v) => write!(f, "{v}"),
            Self::String(v) => write!(f, "{v:?}"),
            Self::Binary(v) => write!(f, "<{} bytes>", v.len()),
            Self::Date(v) => write!(f, "{v}"),
            Self::Time(v) => write!(f, "{v}"),
            Self::DateTime(v) => write!(f, "{v}"),
            Self::DateTimeOffset(v) => write!(f, "{}", v.to_rfc3339()),
            Self::Uuid(v) => write!(f, "{v}"),
            Self::Json(v) => write!(f, "{v}"),
            Self::List(v) => write!(f, "[{} items]", v.len()),
            Self::Struct(v) => write!(f, "{{{} fields}}", v.len()),
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Self::$variant(v.into())
            }
        })*
    };
}

from_impl! {
    bool => Boolean,
    i8 => Int8,
    i16 => Int16,
    i32 => Int32,
    i64 => Int64,
    f64 => Float64,
    Decimal => Decimal,
    String => String,
    &str => String,
    Vec<u8> => Binary,
    NaiveDate => Date,
    NaiveTime => Time,
    NaiveDateTime => DateTime,
    DateTime<FixedOffset> => DateTimeOffset,
    Uuid => Uuid,
    serde_json::Value => Json,
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
