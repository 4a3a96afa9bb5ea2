//! A SCIM 2.0 client (RFC 7643, RFC 7644, RFC 9865) for Rust: the side of SCIM that
//! Microsoft Entra's and Okta's provisioning services speak, to provision users and
//! groups into any SCIM service (Zoho One, and every app Entra or Okta would
//! provision), plus a [`Sink`](connector_core::Sink) for the saas-connectors `copy`
//! driver and an in-memory emulator of a SCIM server (feature `emulator`).
//!
//! ```no_run
//! use scim_client::filter::Filter;
//! use scim_client::patch::PatchRequest;
//! use scim_client::{ListQuery, ScimClient, User};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), scim_client::ScimError> {
//! let client = ScimClient::builder("https://scim.example.com/v2").bearer_token("token").build()?;
//!
//! let created = client.users().create(&User::new("bjensen@example.com")).await?;
//! let id = created.id.unwrap_or_default();
//! let engineers: Vec<User> = client
//!     .users()
//!     .list(ListQuery::new().filter(Filter::eq("title", "Engineer")))
//!     .try_collect()
//!     .await?;
//! client.users().patch(&id, &PatchRequest::new().replace("emails[type eq \"work\"].value", "b@example.com")).await?;
//! client.users().deactivate(&id).await?;
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! - [`ScimClient`]: create, get (with `If-None-Match`), replace, patch and delete
//!   (with `If-Match`); lists as streams with `startIndex`/`count` paging that survives
//!   short pages and shifting results, or RFC 9865 cursor paging when the server has
//!   it; `sortBy`, `attributes`/`excludedAttributes`, `POST /.search`; bulk requests
//!   split to the server's limits with `bulkId` references resolved across the split;
//!   discovery ([`discovery`]) with overrides for servers that advertise wrongly; 429
//!   and 5xx retried after `Retry-After`.
//! - [`model`]: typed [`User`] (with the enterprise extension) and [`Group`], open to
//!   any other attribute, with absent, null and value kept apart ([`Attr`]); any
//!   other resource type as JSON through [`ScimClient::resources`].
//! - [`filter`]: the full filter grammar, a builder that escapes values, and an
//!   evaluator; [`patch`]: PATCH requests with value paths, and their application.
//! - [`dialect`]: strict RFC requests by default, or what Entra or Okta send, for
//!   servers built around them. Responses are read leniently whatever the dialect.
//! - [`auth`]: a bearer token, or OAuth 2.0 (authorization code with refresh token,
//!   the Zoho One way, and client credentials) through connector-core's token cache.
//! - [`error`]: errors typed by the server's `scimType`, tolerant of non-SCIM bodies.
//! - [`sink`]: users and groups as a connector-core `Sink`, matched on an attribute
//!   and updated with only what changed.
//! - [`provisioning`]: an automatic provisioning engine like Microsoft Entra's: the
//!   users and groups of any connector-core `Source` kept in sync with a SCIM service,
//!   with attribute mappings and expressions (from code, JSON or TOML), matching and
//!   scoping, incremental cycles, escrow, quarantine, an accidental-deletion threshold,
//!   dry runs, on-demand provisioning and a provisioning log.
//! - `emulator` (feature `emulator`, also the `scim-emulator` binary): a SCIM server in
//!   memory, strict by default, with switchable Entra and Okta tolerance and faults.

pub mod auth;
pub mod bulk;
mod client;
pub mod dialect;
pub mod discovery;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod filter;
pub mod model;
pub mod patch;
pub mod path;
pub mod provisioning;
mod resource_path;
pub mod sink;

pub use auth::ScimAuth;
pub use client::{
    Conditional, GetOptions, ListQuery, MEMBERS_PER_PATCH, Paging, Resources, ScimClient,
    ScimClientBuilder, SortOrder,
};
pub use dialect::Dialect;
pub use error::{ScimError, ScimType};
pub use model::{Attr, Group, Member, User};
pub use sink::{ScimSink, ScimSinkConfig};

#[doc(no_inline)]
pub use connector_core;
#[doc(no_inline)]
pub use type_mapping;
