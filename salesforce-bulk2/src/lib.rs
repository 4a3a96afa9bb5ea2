//! A Salesforce Bulk API 2.0 client, a connector-core Source and Sink, and an emulator
//! of a Salesforce org (feature `emulator`).
//!
//! Work in progress: the modules below are being built.

#[cfg(feature = "emulator")]
pub mod emulator;

#[doc(no_inline)]
pub use connector_core;
#[doc(no_inline)]
pub use type_mapping;
