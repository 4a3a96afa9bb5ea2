//! The interim type system of the saas-connectors crate family.
//!
//! Every connector maps its system's native types into one set of interim
//! [`DataType`]s, converts cells and JSON values into typed [`Value`]s, and back. The
//! conversions never lose precision silently: under the default, strict
//! [`ConversionPolicy`] a value that does not fit its field is a [`ConversionError`]
//! naming the field and the value; the lenient policy makes it fit and records a
//! [`Change`] for every adjustment.
//!
//! This crate is pure: no async, no HTTP, no secrets. It can be used alone.
//!
//! ```
//! use type_mapping::{salesforce, text, ConversionPolicy, DataType, Field, Value};
//!
//! // A Salesforce `currency(18,2)` field from describe keeps its precision and scale.
//! let field = salesforce::describe_field("Amount", "currency", Some(18), Some(2), None, true);
//! assert_eq!(field.data_type, DataType::Decimal { precision: 18, scale: 2 });
//!
//! let mut changes = Vec::new();
//! let value = text::parse(&field, "1234.50", &ConversionPolicy::strict(), &mut changes)?;
//! assert_eq!(value.to_string(), "1234.50");
//!
//! // Three decimals do not fit a scale of two: an error that names field and value.
//! let err = text::parse(&field, "1.005", &ConversionPolicy::strict(), &mut changes).unwrap_err();
//! assert!(err.to_string().contains("Amount") && err.to_string().contains("1.005"));
//!
//! // The lenient policy rounds, and records that it did.
//! let value = text::parse(&field, "1.005", &ConversionPolicy::lenient(), &mut changes)?;
//! assert_eq!(value, Value::Decimal("1.01".parse().unwrap()));
//! assert_eq!(changes.len(), 1);
//! # Ok::<(), type_mapping::ConversionError>(())
//! ```
//!
//! # Modules
//!
//! - [`text`]: CSV cells in the formats Salesforce and Zoho use, both directions.
//! - [`json`]: JSON values, both directions.
//! - [`columnar`]: rows of CSV cells typed into one buffer per field, with no allocation
//!   per value.
//! - [`salesforce`], [`zoho`], [`scim`]: each system's type table, as data.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod columnar;
pub mod json;
mod policy;
pub mod salesforce;
pub mod scim;
mod table;
pub mod text;
mod types;
mod value;
pub mod zoho;

pub use policy::{
    Change, ChangeKind, ConversionError, ConversionMode, ConversionPolicy, UnknownField,
};
pub use table::{Mapping, TableRow};
pub use types::{DataType, Field, MAX_DECIMAL_PRECISION, NativeType, Schema};
pub use value::Value;

pub use chrono;
pub use rust_decimal;
pub use uuid;
