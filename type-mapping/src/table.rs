//! Shared shapes of the per-system type tables.

use crate::DataType;

/// The result of mapping one native type to the interim type system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The interim type.
    pub data_type: DataType,
    /// Whether every value of the native type is represented exactly.
    pub lossless: bool,
    /// Why the mapping is what it is, or what to watch for.
    pub note: &'static str,
}

/// One row of a system's type table: a native type name and what it maps to.
///
/// Parameterised types (decimals) show the mapping for the parameters given in
/// `example_params`; [`Mapping`] for other parameters comes from the system's mapping
/// function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRow {
    /// The native type's name as the system spells it.
    pub native: &'static str,
    /// A short description of the interim type (`Decimal(precision, scale)`).
    pub interim: &'static str,
    /// Whether the mapping is lossless.
    pub lossless: bool,
    /// Why.
    pub note: &'static str,
}
