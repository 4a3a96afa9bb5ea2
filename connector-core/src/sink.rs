//! The [`Sink`] trait: every record handed to a sink gets exactly one outcome.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{RecordBatch, RecordId, Result, StreamInfo};

/// How records are written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
#[non_exhaustive]
pub enum WriteMode {
    /// Create new records (append to a file).
    #[default]
    Insert,
    /// Update the record with the same key, or create it.
    Upsert {
        /// The fields that identify a record (`externalIdFieldName`).
        key: Vec<String>,
    },
    /// Update existing records (by id).
    Update,
    /// Delete records (by id).
    Delete,
}

impl WriteMode {
    /// The mode's kind without parameters.
    pub fn kind(&self) -> WriteModeKind {
        match self {
            Self::Insert => WriteModeKind::Insert,
            Self::Upsert { .. } => WriteModeKind::Upsert,
            Self::Update => WriteModeKind::Update,
            Self::Delete => WriteModeKind::Delete,
        }
    }
}

/// [`WriteMode`] without parameters, for capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WriteModeKind {
    /// See [`WriteMode::Insert`].
    Insert,
    /// See [`WriteMode::Upsert`].
    Upsert,
    /// See [`WriteMode::Update`].
    Update,
    /// See [`WriteMode::Delete`].
    Delete,
}

/// What a sink can do (OpenDAL's `Capability` style).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkCapabilities {
    /// The write modes supported.
    pub modes: Vec<WriteModeKind>,
    /// The most records one `write` call should carry.
    pub max_batch_records: Option<usize>,
    /// Whether outcomes are only known after `flush` (bulk jobs) rather than per write.
    pub deferred_outcomes: bool,
}

impl Default for SinkCapabilities {
    fn default() -> Self {
        Self {
            modes: vec![WriteModeKind::Insert],
            max_batch_records: None,
            deferred_outcomes: false,
        }
    }
}

/// What writing did to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WriteAction {
    /// A new record was created.
    Created,
    /// An existing record was updated.
    Updated,
    /// A record was deleted.
    Deleted,
    /// The record already matched; nothing was written.
    Unchanged,
}

/// Why a record was not written, in the remote system's words.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordError {
    /// The system's error code (`INVALID_DATA`, `DUPLICATE_VALUE`, `uniqueness`), or
    /// this library's (`MALFORMED_ROW`, `CONVERSION`).
    pub code: String,
    /// The message.
    pub message: String,
    /// The fields the error concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl RecordError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Names the fields concerned.
    #[must_use]
    pub fn with_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// The outcome of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RecordOutcome {
    /// Written.
    Written {
        /// What happened.
        action: WriteAction,
        /// The remote id, when the system returns one.
        remote_id: Option<String>,
    },
    /// Permanently refused (a content problem): goes to the dead-letter output.
    Rejected {
        /// Why.
        error: RecordError,
    },
    /// Not written for a transient reason: the driver may try the record again.
    Failed {
        /// Why.
        error: RecordError,
    },
}

/// Outcomes a `write` or `flush` decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// `(record id, outcome)` pairs, in any order.
    pub outcomes: Vec<(RecordId, RecordOutcome)>,
}

impl WriteReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every id in `first..first + count` written with `action`.
    pub fn all_written(first: RecordId, count: usize, action: WriteAction) -> Self {
        Self {
            outcomes: (0..count as u64)
                .map(|i| {
                    (
                        first + i,
                        RecordOutcome::Written {
                            action,
                            remote_id: None,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Adds one outcome.
    pub fn push(&mut self, id: RecordId, outcome: RecordOutcome) {
        self.outcomes.push((id, outcome));
    }

    /// Appends another report.
    pub fn extend(&mut self, other: WriteReport) {
        self.outcomes.extend(other.outcomes);
    }
}

/// Writes one stream. Row `i` of a batch passed to `write(first_id, batch)` has the id
/// `first_id + i`.
///
/// **Contract** (checked by the conformance kit, feature `testkit`): every id submitted
/// appears in exactly one outcome by the time `flush` returns `Ok`; no outcome names an
/// id that was not submitted. An `Err` from `write` or `flush` means every id without an
/// outcome is *not delivered*.
#[async_trait]
pub trait StreamWriter: Send {
    /// Submits a batch; returns the outcomes already known (all of them for
    /// synchronous APIs, none for bulk jobs).
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport>;

    /// Makes everything submitted durable and returns the outcomes of every record
    /// still pending.
    async fn flush(&mut self) -> Result<WriteReport>;

    /// Finishes the stream after a final `flush` (closes files, jobs).
    async fn close(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// A system records are written to.
#[async_trait]
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// A cheap probe of connectivity and credentials.
    async fn check(&self) -> Result<()>;

    /// What the sink can do.
    fn capabilities(&self) -> SinkCapabilities;

    /// Opens a writer for one stream.
    async fn open(&self, stream: &StreamInfo, mode: &WriteMode) -> Result<Box<dyn StreamWriter>>;
}
