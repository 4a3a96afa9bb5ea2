//! The vocabulary every connector of the saas-connectors family speaks: [`Source`],
//! [`Sink`] and the [`copy()`] driver that joins them, file and memory endpoints, and the
//! HTTP plumbing every client shares.
//!
//! ```
//! use std::sync::Arc;
//!
//! use connector_core::dead_letter::MemoryDeadLetter;
//! use connector_core::file::{CsvSource, JsonlSink};
//! use connector_core::type_mapping::{DataType, Field, Schema};
//! use connector_core::{CopyOptions, copy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let input = dir.path().join("accounts.csv");
//! # std::fs::write(&input, "Id,Revenue\n001A,10.50\n001B,1.005\n")?;
//! # let output = dir.path().join("{stream}.jsonl");
//! // A CSV file, typed by a schema: decimals keep their scale, nothing is rounded.
//! let source = CsvSource::new(&input).with_schema(Schema::new(vec![
//!     Field::new("Id", DataType::String).with_nullable(false),
//!     Field::new("Revenue", DataType::decimal(18, 2)),
//! ]));
//! let dead_letters = MemoryDeadLetter::new();
//! let report = copy(
//!     &source,
//!     &JsonlSink::new(&output),
//!     CopyOptions::new().dead_letter(Arc::new(dead_letters.clone())),
//! )
//! .await?;
//!
//! // One row fits, one has three decimals: it is dead-lettered with its row number.
//! assert_eq!((report.totals().written, report.totals().malformed), (1, 1));
//! assert_eq!(dead_letters.entries()[0].origin.as_ref().map(|o| o.row), Some(3));
//! # Ok(()) }
//! ```
//!
//! # The pieces
//!
//! - [`Source`]: `check`, `discover` a [`Catalog`] of streams (schema, primary key,
//!   cursor, sync modes), `plan` serializable, secret-free [`Partition`]s, and `read` a
//!   partition as a pull-based `Send + 'static` stream of batches and checkpoints.
//! - [`Sink`]: `check`, `capabilities`, and `open` a [`StreamWriter`] whose `write` and
//!   `flush` give every record exactly one [`RecordOutcome`]: written, rejected
//!   (dead-lettered) or failed (transient). A record without an outcome counts as not
//!   delivered. The [`testkit`] (feature `testkit`) proves a sink keeps this promise.
//! - [`copy()`]: partitions read with bounded concurrency through a bounded channel (a
//!   slow sink slows the reading), checkpoints saved only once every record before
//!   them is resolved, rejected rows dead-lettered ([`dead_letter`]), incremental state
//!   merged across partitions ([`state`]), [`Progress`] events, and a `#[must_use]`
//!   [`CopyReport`].
//! - [`lookup()`]: the first row, or the first N rows, of a stream, for control flow.
//! - Endpoints: [`file`](mod@file) (CSV and JSON Lines, streaming, constant memory) and
//!   [`memory`].
//! - Plumbing for HTTP clients: [`retry`] (exponential backoff with jitter,
//!   `Retry-After`, idempotency-aware, attempt and time budgets), [`auth`] (a token
//!   cache that refreshes before expiry, one refresh at a time, and retries once on a
//!   401), [`secret`] (`SecretString` end to end, resolved from literals, environment
//!   variables, files or a vault, including Azure Data Factory's `SecureString` and
//!   `AzureKeyVaultSecret` shapes), [`tls`] (`useEncryptedEndpoints`,
//!   `useHostVerification`, `usePeerVerification`, extra roots) and, with feature
//!   `http` (on by default), [`http`] (a configured `reqwest` client and a retrying
//!   `send`).
//! - [`ConnectorError`]: a kind, whether a retry can help, the operation, and the
//!   remote system's own code and message.
//!
//! # Features
//!
//! - `http` (default): the [`http`] module and its `reqwest`/`rustls` dependencies.
//! - `testkit`: the sink conformance kit.
//! - `emulator`: what the connector crates' emulators share (`emulator` module: a
//!   loopback axum server that shuts down gracefully, the binaries' shutdown signal and
//!   flag values).
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod catalog;
pub mod copy;
pub mod dead_letter;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod file;
#[cfg(feature = "http")]
pub mod http;
mod ledger;
pub mod lookup;
pub mod memory;
mod record;
pub mod retry;
pub mod secret;
mod sink;
pub mod source;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tls;

pub use catalog::{Catalog, CursorSpec, StreamInfo, SyncMode};
pub use copy::{CopyError, CopyOptions, CopyReport, Progress, StreamReport, copy};
pub use error::{ConnectorError, ErrorKind, ErrorStatus, RemoteError, Result};
pub use lookup::{lookup, lookup_all, lookup_first};
pub use record::{Record, RecordBatch, RecordId, RecordMeta, RecordOrigin, StreamId};
pub use sink::{
    RecordError, RecordOutcome, Sink, SinkCapabilities, StreamWriter, WriteAction, WriteMode,
    WriteModeKind, WriteReport,
};
pub use source::{Partition, ReadRequest, Source, SourceEvent};

pub use type_mapping;
