//! Incremental state: cursor values, per-partition progress, the merged stream
//! watermark, and where state is kept between runs ([`StateStore`]).
//!
//! Each partition of an incremental read covers a window of cursor values
//! `(start, end]`. Partitions finish in any order; the stream's watermark only moves
//! to the end of the *contiguous* covered prefix, so a restart never skips a window
//! that had not finished (the parallel "max seen so far" bug Airbyte's interval
//! merging avoids).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use type_mapping::Value;

use crate::{ConnectorError, ErrorKind, Result, StreamId};

/// A cursor value. Values of one stream are all of one kind; across kinds the order is
/// integer < timestamp < text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorValue {
    /// An integer cursor (a sequence number, a replay id).
    Integer(i64),
    /// An instant (`SystemModstamp`, `Modified_Time`).
    Timestamp(DateTime<Utc>),
    /// Anything else compared as text.
    Text(String),
}

impl CursorValue {
    /// The cursor value of a typed value, if it can be a cursor.
    pub fn from_value(value: &Value) -> Option<Self> {
        Some(match value {
            Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => {
                Self::Integer(value.as_i64()?)
            }
            Value::DateTimeOffset(t) => Self::Timestamp(t.with_timezone(&Utc)),
            Value::DateTime(t) => Self::Timestamp(t.and_utc()),
            Value::Date(d) => Self::Timestamp(d.and_hms_opt(0, 0, 0)?.and_utc()),
            Value::String(s) => Self::Text(s.clone()),
            _ => return None,
        })
    }
}

impl std::fmt::Display for CursorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Integer(v) => write!(f, "{v}"),
            Self::Timestamp(t) => write!(f, "{}", t.to_rfc3339()),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// The cursor values a partition covers: greater than `start` (or unbounded) and at
/// most `end` (or unbounded).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CursorWindow {
    /// Exclusive lower bound; `None` is the beginning of time.
    pub start: Option<CursorValue>,
    /// Inclusive upper bound; `None` is "whatever exists when read".
    pub end: Option<CursorValue>,
}

/// A partition's progress, as saved in the state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionState {
    /// The window the partition covers.
    #[serde(default)]
    pub window: CursorWindow,
    /// The source's resume token: where to continue inside the partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<serde_json::Value>,
    /// The highest cursor value delivered so far (reads go in cursor order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<CursorValue>,
    /// Whether the partition was read to its end.
    #[serde(default)]
    pub finished: bool,
}

/// One stream's saved state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamState {
    /// Everything with a cursor at or below this value has been delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<CursorValue>,
    /// Partitions not yet folded into `cursor`: unfinished ones (to resume) and
    /// finished ones beyond a gap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partitions: BTreeMap<String, PartitionState>,
}

impl StreamState {
    /// Forgets saved partitions that are not in `planned`: a source plans from the
    /// state it is given, so a partition it did not plan again is superseded.
    pub fn retain_partitions<'a>(&mut self, planned: impl IntoIterator<Item = &'a str>) {
        let planned: std::collections::HashSet<&str> = planned.into_iter().collect();
        self.partitions
            .retain(|id, _| planned.contains(id.as_str()));
    }

    /// Registers a planned partition that has no progress yet, so that the watermark
    /// cannot pass its window before it reports (the copy driver does this for every
    /// partition it plans).
    pub fn register(&mut self, id: &str, window: CursorWindow) {
        self.partitions
            .entry(id.to_owned())
            .or_insert_with(|| PartitionState {
                window,
                ..PartitionState::default()
            });
    }

    /// Records a checkpoint of partition `id` and recomputes the watermark.
    pub fn apply(&mut self, id: &str, progress: PartitionState) {
        self.partitions.insert(id.to_owned(), progress);
        self.fold();
    }

    /// Advances `cursor` over the contiguous prefix of covered windows and drops the
    /// finished partitions it absorbed.
    fn fold(&mut self) {
        // Coverage of each partition: (start, reached], where `reached` is the window
        // end for finished partitions and the delivered cursor otherwise.
        let mut spans: Vec<(Option<&CursorValue>, Option<&CursorValue>, bool, &String)> = self
            .partitions
            .iter()
            .map(|(id, p)| {
                let reached = if p.finished {
                    p.window.end.as_ref().or(p.cursor.as_ref())
                } else {
                    p.cursor.as_ref()
                };
                (p.window.start.as_ref(), reached, p.finished, id)
            })
            .collect();
        spans.sort_by(|a, b| a.0.cmp(&b.0));
        // Without a saved cursor, coverage begins where the lowest planned window does
        // (every planned partition is registered, so no earlier one can be missing).
        let mut watermark = self
            .cursor
            .clone()
            .or_else(|| spans.first().and_then(|s| s.0.cloned()));
        let mut absorbed = Vec::new();
        for (start, reached, fully, id) in spans {
            // Contiguous when the span starts at or below what is covered already.
            let contiguous = match (start, watermark.as_ref()) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(s), Some(w)) => s <= w,
            };
            if !contiguous {
                break;
            }
            if let Some(r) = reached
                && watermark.as_ref().is_none_or(|w| r > w)
            {
                watermark = Some(r.clone());
            }
            if fully {
                absorbed.push(id.clone());
            } else {
                // An unfinished partition ends the contiguous prefix at its cursor.
                break;
            }
        }
        self.cursor = watermark;
        for id in absorbed {
            self.partitions.remove(&id);
        }
    }
}

/// The state of every stream of a sync, keyed by stream name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// Per-stream state.
    #[serde(default)]
    pub streams: BTreeMap<String, StreamState>,
}

impl SyncState {
    /// The state of `stream`, if any.
    pub fn stream(&self, stream: &StreamId) -> Option<&StreamState> {
        self.streams.get(&stream.to_string())
    }

    /// The state of `stream`, created empty if missing.
    pub fn stream_mut(&mut self, stream: &StreamId) -> &mut StreamState {
        self.streams.entry(stream.to_string()).or_default()
    }
}

/// Where sync state is kept between runs. Implement it for a database or an object
/// store; [`FileStateStore`] and [`MemoryStateStore`] are built in.
#[async_trait]
pub trait StateStore: std::fmt::Debug + Send + Sync {
    /// The saved state, or `None` before the first run.
    async fn load(&self) -> Result<Option<SyncState>>;
    /// Saves the state. Called only after the sink resolved every record the state
    /// covers.
    async fn save(&self, state: &SyncState) -> Result<()>;
}

/// Keeps state in memory (tests, one-shot copies).
#[derive(Clone, Debug, Default)]
pub struct MemoryStateStore {
    inner: Arc<Mutex<Option<SyncState>>>,
    saves: Arc<std::sync::atomic::AtomicUsize>,
}

impl MemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last saved state.
    pub fn get(&self) -> Option<SyncState> {
        self.inner.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// How many times state was saved.
    pub fn save_count(&self) -> usize {
        self.saves.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn load(&self) -> Result<Option<SyncState>> {
        Ok(self.get())
    }

    async fn save(&self, state: &SyncState) -> Result<()> {
        if let Ok(mut guard) = self.inner.lock() {
            *guard = Some(state.clone());
        }
        self.saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Keeps state in a JSON file, replaced atomically (write to a temporary file beside
/// it, then rename), so a crash mid-save leaves the previous state intact.
#[derive(Clone, Debug)]
pub struct FileStateStore {
    path: PathBuf,
}

impl FileStateStore {
    /// A store at `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl StateStore for FileStateStore {
    async fn load(&self) -> Result<Option<SyncState>> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ConnectorError::new(
                    ErrorKind::InvalidConfig,
                    "state.load",
                    format!("state file is not valid JSON: {e}"),
                )
                .with_context("file", self.path.display().to_string())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ConnectorError::from(e)
                .with_operation("state.load")
                .with_context("file", self.path.display().to_string())),
        }
    }

    async fn save(&self, state: &SyncState) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| ConnectorError::new(ErrorKind::Unexpected, "state.save", e.to_string()))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let ctx = |e: std::io::Error| {
            ConnectorError::from(e)
                .with_operation("state.save")
                .with_context("file", self.path.display().to_string())
        };
        tokio::fs::write(&tmp, &bytes).await.map_err(ctx)?;
        tokio::fs::rename(&tmp, &self.path).await.map_err(ctx)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: Option<i64>, end: Option<i64>) -> CursorWindow {
        CursorWindow {
            start: start.map(CursorValue::Integer),
            end: end.map(CursorValue::Integer),
        }
    }

    fn done(start: Option<i64>, end: i64) -> PartitionState {
        PartitionState {
            window: window(start, Some(end)),
            finished: true,
            ..Default::default()
        }
    }

    #[test]
    fn watermark_waits_for_the_gap_to_close() {
        let mut s = StreamState::default();
        s.register("p1", window(Some(0), Some(10)));
        s.register("p2", window(Some(10), Some(20)));
        s.apply("p2", done(Some(10), 20));
        assert_eq!(
            s.cursor,
            Some(CursorValue::Integer(0)),
            "second window finished first: only the start is covered"
        );
        assert!(s.partitions.contains_key("p2"));
        s.apply("p1", done(Some(0), 10));
        assert_eq!(s.cursor, Some(CursorValue::Integer(20)));
        assert!(
            s.partitions.is_empty(),
            "both windows folded into the cursor"
        );
    }

    #[test]
    fn unfinished_partition_caps_the_watermark_at_its_cursor() {
        let mut s = StreamState {
            cursor: Some(CursorValue::Integer(0)),
            ..Default::default()
        };
        s.apply("p2", done(Some(10), 20));
        s.apply(
            "p1",
            PartitionState {
                window: window(Some(0), Some(10)),
                cursor: Some(CursorValue::Integer(7)),
                resume: Some(serde_json::json!({"page": 3})),
                finished: false,
            },
        );
        assert_eq!(s.cursor, Some(CursorValue::Integer(7)));
        assert_eq!(
            s.partitions.len(),
            2,
            "p1 resumable, p2 kept beyond the gap"
        );
        s.apply("p1", done(Some(0), 10));
        assert_eq!(s.cursor, Some(CursorValue::Integer(20)));
    }

    #[test]
    fn single_open_ended_partition_advances_with_its_cursor() {
        let mut s = StreamState::default();
        let p = |c: i64, finished| PartitionState {
            window: CursorWindow::default(),
            cursor: Some(CursorValue::Integer(c)),
            resume: None,
            finished,
        };
        s.apply("all", p(5, false));
        assert_eq!(s.cursor, Some(CursorValue::Integer(5)));
        s.apply("all", p(9, true));
        assert_eq!(s.cursor, Some(CursorValue::Integer(9)));
    }

    #[test]
    fn cursor_values_round_trip_through_json() {
        let values = vec![
            CursorValue::Integer(42),
            CursorValue::Timestamp("2024-05-01T10:00:00Z".parse().unwrap()),
            CursorValue::Text("abc".into()),
        ];
        for v in values {
            let json = serde_json::to_string(&v).unwrap();
            let back: CursorValue = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v, "{json}");
        }
    }

    #[tokio::test]
    async fn file_store_round_trips_and_reports_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStateStore::new(dir.path().join("state.json"));
        assert_eq!(store.load().await.unwrap(), None);
        let mut state = SyncState::default();
        state.stream_mut(&StreamId::new("Account")).cursor = Some(CursorValue::Integer(3));
        store.save(&state).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(state));
        std::fs::write(store.path(), b"{not json").unwrap();
        let err = store.load().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("state.json"), "{err}");
    }
}
