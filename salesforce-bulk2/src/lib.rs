//! The Salesforce Bulk API 2.0 connector of the saas-connectors family.
//!
//! **Status: not yet built.** This crate is a placeholder in the workspace so that
//! the crate family's layout is fixed; it has no API yet. It will provide query and ingest jobs, describe, limits and reports as a typed async client, a `Source` and a `Sink`, and an emulator of the org,
//! on top of [`connector_core`] and [`type_mapping`].
//!
//! Until then, use [`connector_core`] for files and memory, and
//! [`type_mapping`] for this system's type table.

#[doc(no_inline)]
pub use connector_core;
#[doc(no_inline)]
pub use type_mapping;
