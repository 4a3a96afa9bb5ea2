//! A Salesforce Bulk API 2.0 client, a connector-core Source and Sink, and an emulator
//! of a Salesforce org (feature `emulator`).

pub mod auth;
mod client;
pub mod config;
mod csv_stream;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod ingest;
pub mod job;
pub mod metadata;
pub mod query;
pub mod reports;
pub mod sink;
pub mod soql;
pub mod source;

pub use client::{ApiUsage, ApiVersion, PollOptions, SalesforceClient, SalesforceClientBuilder};
pub use error::SalesforceError;

#[doc(no_inline)]
pub use connector_core;
#[doc(no_inline)]
pub use type_mapping;
