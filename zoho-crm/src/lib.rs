//! A Zoho CRM client (API v8) for every data centre, a connector-core Source and Sink,
//! and an emulator of Zoho's accounts server and CRM API (feature `emulator`).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use secrecy::SecretString;
//! use zoho_crm::auth::Credentials;
//! use zoho_crm::dc::DataCentre;
//! use zoho_crm::{ListRecords, UserType, ZohoClient};
//!
//! # async fn demo() -> Result<(), zoho_crm::ZohoError> {
//! let client = ZohoClient::builder()
//!     .data_centre(DataCentre::Eu)
//!     .credentials(Credentials::ClientCredentials {
//!         client_id: "1000.CLIENT".into(),
//!         client_secret: SecretString::from("secret"),
//!         scope: "ZohoCRM.users.ALL,ZohoCRM.modules.ALL".into(),
//!         soid: "20081234567".into(),
//!     })
//!     .build()?;
//! let active: Vec<_> = client.users().list(UserType::ActiveUsers).try_collect().await?;
//! let leads: Vec<_> = client
//!     .records("Leads")
//!     .list(ListRecords::fields(["Last_Name", "Email", "Company"]))
//!     .try_collect()
//!     .await?;
//! let accounts: Vec<_> = client.coql("SELECT * FROM Accounts").try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! - [`dc`]: the nine data centres, sandbox and developer environments, custom
//!   endpoints, and Azure Data Factory's legacy `crm.zoho.com/crm/private` endpoint. The
//!   `api_domain` of the token response always wins.
//! - [`auth`]: refresh token, Self Client client credentials (`soid`), authorization
//!   code (with the consent URL), a static access token, and revocation; token errors
//!   that Zoho sends as HTTP 200 are classified (`invalid_client` names the data centre
//!   used); one refresh at a time; `INVALID_TOKEN` refreshes once.
//! - [`ZohoClient`]: `Zoho-oauthtoken` authentication, a concurrency limit by edition,
//!   429 backoff, errors carrying Zoho's `code`, `message` and `details` ([`error`]).
//! - [`users`]: list by type, get, count, create, update, deactivate, delete, and a
//!   resumable [`UserWatcher`] of added, changed and removed users.
//! - [`records`]: lists with more than 50 fields and beyond 2,000 records
//!   (`page`, then `page_token`), `If-Modified-Since`, deleted records, and writes in
//!   calls of 100 with one result per record.
//! - [`coql`]: `SELECT *` expanded, the 50-column limit and the 100,000-row offset cap
//!   handled. [`bulk`]: bulk read jobs and their ZIP results.
//! - [`metadata`]: modules and fields into a typed schema (decimal places kept, ids
//!   and bigints exact).
//! - [`ZohoSource`] (users, modules incrementally by `Modified_Time`, COQL queries,
//!   bulk read for large full reads) and [`ZohoSink`] (insert, update, upsert, delete).
//! - [`config`]: Azure Data Factory's linked service, dataset and copy source JSON.

pub mod auth;
pub mod bulk;
mod client;
pub mod config;
pub mod coql;
pub mod dc;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod metadata;
pub mod records;
pub mod sink;
pub mod source;
pub mod users;

pub use client::{Edition, ZohoClient, ZohoClientBuilder};
pub use error::ZohoError;
pub use records::{ListRecords, Records, WriteOperation, WriteResult};
pub use sink::ZohoSink;
pub use source::{ZohoSource, ZohoStream};
pub use users::{UserChange, UserType, UserWatcher, Users, ZohoUser};

#[doc(no_inline)]
pub use connector_core;
#[doc(no_inline)]
pub use type_mapping;
