//! The [`Source`] trait: check, discover, plan partitions, read a partition.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::state::{CursorValue, CursorWindow, PartitionState, StreamState};
use crate::{Catalog, RecordBatch, RecordOrigin, Result, StreamId, SyncMode};

/// What to read: one stream, in one mode, from a saved state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadRequest {
    /// The stream to read.
    pub stream: StreamId,
    /// Only these fields, in this order (projection pushdown); `None` for all.
    #[serde(default)]
    pub projection: Option<Vec<String>>,
    /// Full refresh or incremental.
    #[serde(default)]
    pub mode: SyncMode,
    /// The state the last run saved for this stream.
    #[serde(default)]
    pub state: Option<StreamState>,
    /// Records per batch the caller would like (sources may differ).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_batch_size() -> usize {
    ReadRequest::DEFAULT_BATCH_SIZE
}

impl ReadRequest {
    /// The batch size used unless set: 1,000 records.
    pub const DEFAULT_BATCH_SIZE: usize = 1_000;

    /// A full-refresh read of `stream`.
    pub fn new(stream: impl Into<StreamId>) -> Self {
        Self {
            stream: stream.into(),
            projection: None,
            mode: SyncMode::FullRefresh,
            state: None,
            batch_size: Self::DEFAULT_BATCH_SIZE,
        }
    }

    /// An incremental read from `state`.
    #[must_use]
    pub fn incremental(mut self, state: Option<StreamState>) -> Self {
        self.mode = SyncMode::Incremental;
        self.state = state;
        self
    }

    /// Sets the batch size.
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Reads only the named fields.
    #[must_use]
    pub fn with_projection<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.projection = Some(fields.into_iter().map(Into::into).collect());
        self
    }
}

/// An independently readable slice of a stream. Plain data: no clients, no secrets,
/// so it can be serialized and shipped to another machine (Flink's split, Spark's
/// input partition).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// The stream.
    pub stream: StreamId,
    /// Stable id, unique within the stream (it keys the partition's saved state).
    pub id: String,
    /// Source-specific description (a time window, a job id, a byte range).
    #[serde(default)]
    pub spec: serde_json::Value,
    /// The cursor window this partition covers, for incremental reads.
    #[serde(default)]
    pub window: CursorWindow,
    /// Where to resume inside the partition, from a saved checkpoint.
    #[serde(default)]
    pub resume: Option<serde_json::Value>,
    /// Records per batch.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Fields to read, `None` for all.
    #[serde(default)]
    pub projection: Option<Vec<String>>,
}

impl Partition {
    /// The single partition of an unsplittable read.
    pub fn whole(req: &ReadRequest) -> Self {
        Self {
            stream: req.stream.clone(),
            id: "all".to_owned(),
            spec: serde_json::Value::Null,
            window: CursorWindow {
                start: req.state.as_ref().and_then(|s| s.cursor.clone()),
                end: None,
            },
            resume: req
                .state
                .as_ref()
                .and_then(|s| s.partitions.get("all"))
                .filter(|p| !p.finished)
                .and_then(|p| p.resume.clone()),
            batch_size: req.batch_size,
            projection: req.projection.clone(),
        }
    }
}

/// A checkpoint: everything the partition delivered up to here is covered by this
/// progress. The copy driver saves it only once the sink resolved every record before
/// it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The partition's id.
    pub partition: String,
    /// Its progress.
    pub progress: PartitionState,
}

impl Checkpoint {
    /// A checkpoint of `partition` after reading up to `cursor`, resumable at `resume`.
    pub fn new(
        partition: &Partition,
        cursor: Option<CursorValue>,
        resume: Option<serde_json::Value>,
        finished: bool,
    ) -> Self {
        Self {
            partition: partition.id.clone(),
            progress: PartitionState {
                window: partition.window.clone(),
                resume,
                cursor,
                finished,
            },
        }
    }
}

/// A source row that could not be read into a record (malformed CSV or JSON, a value
/// that does not fit its field). It is dead-lettered and counted; the copy goes on.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidRecord {
    /// The stream.
    pub stream: StreamId,
    /// Where the row is.
    pub origin: Option<RecordOrigin>,
    /// The raw row, as far as it could be read.
    pub raw: Option<String>,
    /// What is wrong with it.
    pub error: crate::RecordError,
}

/// What reading a partition yields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SourceEvent {
    /// Records.
    Batch(RecordBatch),
    /// Progress covering every batch before it.
    Checkpoint(Checkpoint),
    /// A row that could not be read.
    Invalid(InvalidRecord),
}

/// A system records are read from.
///
/// `plan` splits a read into serializable [`Partition`]s; `read` turns one partition
/// into a pull-based stream: nothing is fetched until the stream is polled, so a slow
/// consumer slows the reading and memory stays bounded.
#[async_trait]
pub trait Source: Send + Sync + std::fmt::Debug {
    /// A cheap probe of connectivity and credentials.
    async fn check(&self) -> Result<()>;

    /// The streams this source offers, with schemas, keys and cursors.
    async fn discover(&self) -> Result<Catalog>;

    /// Splits a read into partitions; a single partition is always valid.
    async fn plan(&self, req: &ReadRequest) -> Result<Vec<Partition>>;

    /// Reads one partition.
    fn read(&self, partition: Partition) -> BoxStream<'static, Result<SourceEvent>>;
}
