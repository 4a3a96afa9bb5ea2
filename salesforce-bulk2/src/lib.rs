//! A Salesforce Bulk API 2.0 client, a connector-core Source and Sink, and an emulator
//! of a Salesforce org (feature `emulator`).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use salesforce_bulk2::auth::Credentials;
//! use salesforce_bulk2::query::{QueryRequest, ResultOptions};
//! use salesforce_bulk2::SalesforceClient;
//! use secrecy::SecretString;
//!
//! # async fn demo() -> Result<(), salesforce_bulk2::SalesforceError> {
//! let client = SalesforceClient::builder()
//!     .instance_url("https://myco.my.salesforce.com")
//!     .credentials(Credentials::ClientCredentials {
//!         client_id: "3MVG9...".into(),
//!         client_secret: SecretString::from("secret"),
//!     })
//!     .build()?;
//! let jobs = client.query_jobs();
//! let job = jobs.create(&QueryRequest::new("SELECT Id, Name FROM Account")).await?;
//! let job = jobs.wait(&job.id).await?;
//! let schema = std::sync::Arc::new(client.describe("Account").await?.schema().project(&["Id", "Name"]).unwrap_or_default());
//! let pages: Vec<_> = jobs
//!     .records(&job, schema, Default::default(), ResultOptions::default())
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! - [`SalesforceClient`]: instance URL, API version (below 47.0 refused at build),
//!   retries, token cache with one re-authentication on `INVALID_SESSION_ID`,
//!   `from_env` ([`SalesforceClientBuilder::from_env`]); [`auth`]: client credentials,
//!   JWT bearer (RS256), refresh token with rotation store, static token.
//! - [`soql`]: what Bulk API 2.0 rejects, refused before submission.
//! - [`query`]: query jobs, results streamed page by page (incremental CSV parsing,
//!   gzip, every delimiter, page retry without duplicates, parallel pages kept in order)
//!   as text rows, typed records, or typed columns ([`query::QueryJobs::columns`]).
//! - [`ingest`]: ingest jobs, one outcome per input row; [`metadata`]: describe,
//!   sObjects, limits; [`reports`]: synchronous report runs, truncation reported.
//! - [`source::SalesforceSource`], [`sink::SalesforceSink`], [`config`] (Azure Data
//!   Factory SalesforceV2 JSON).

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
