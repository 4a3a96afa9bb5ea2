//! In-memory endpoints: [`MemorySource`] and [`MemorySink`], for tests, demos and
//! small lookups.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use type_mapping::Schema;

use crate::source::{Checkpoint, Partition, ReadRequest, SourceEvent};
use crate::state::{CursorValue, CursorWindow};
use crate::{
    Catalog, ConnectorError, ErrorKind, Record, RecordBatch, RecordError, RecordId, RecordOutcome,
    Result, Sink, SinkCapabilities, Source, StreamInfo, StreamWriter, SyncMode, WriteAction,
    WriteMode, WriteModeKind, WriteReport,
};

#[derive(Debug, Clone)]
struct MemoryStream {
    info: StreamInfo,
    records: Arc<Vec<Record>>,
}

/// A source over records held in memory.
///
/// Incremental streams (with a cursor) are kept sorted by the cursor; an incremental
/// read returns the records whose cursor is above the saved state's, split into
/// [`MemorySource::with_partitions`] partitions that each cover a cursor window.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    streams: Vec<MemoryStream>,
    partitions: usize,
    fail_after: Option<usize>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self {
            streams: Vec::new(),
            partitions: 1,
            fail_after: None,
        }
    }

    /// Adds a stream. Records of a stream with a cursor are sorted by it.
    #[must_use]
    pub fn with_stream(mut self, info: StreamInfo, mut records: Vec<Record>) -> Self {
        if let Some(i) = info
            .cursor
            .as_ref()
            .and_then(|c| info.schema.index_of(&c.field))
        {
            records.sort_by_cached_key(|r| cursor_of(r, i));
        }
        self.streams.push(MemoryStream {
            info,
            records: Arc::new(records),
        });
        self
    }

    /// Splits each read into `n` partitions.
    #[must_use]
    pub fn with_partitions(mut self, n: usize) -> Self {
        self.partitions = n.max(1);
        self
    }

    /// Makes every read fail with an `Unavailable` error after `n` records (fault
    /// injection for tests).
    #[must_use]
    pub fn fail_after(mut self, n: usize) -> Self {
        self.fail_after = Some(n);
        self
    }

    fn stream(&self, id: &crate::StreamId) -> Result<&MemoryStream> {
        self.streams
            .iter()
            .find(|s| s.info.id == *id)
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::NotFound,
                    "memory.read",
                    format!("no stream `{id}`"),
                )
            })
    }
}

fn cursor_of(record: &Record, index: usize) -> Option<CursorValue> {
    CursorValue::from_value(record.get(index))
}

#[async_trait]
impl Source for MemorySource {
    async fn check(&self) -> Result<()> {
        Ok(())
    }

    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::new(
            self.streams.iter().map(|s| s.info.clone()).collect(),
        ))
    }

    async fn plan(&self, req: &ReadRequest) -> Result<Vec<Partition>> {
        let stream = self.stream(&req.stream)?;
        let cursor_index = stream
            .info
            .cursor
            .as_ref()
            .and_then(|c| stream.info.schema.index_of(&c.field));
        let records = &stream.records;
        let (from, start) = match (
            req.mode,
            cursor_index,
            req.state.as_ref().and_then(|s| s.cursor.clone()),
        ) {
            (SyncMode::Incremental, Some(i), Some(after)) => (
                records.partition_point(|r| cursor_of(r, i).is_some_and(|c| c <= after)),
                Some(after),
            ),
            _ => (0, None),
        };
        let total = records.len() - from;
        let n = self.partitions.min(total.max(1));
        let per = total.div_ceil(n).max(1);
        let mut partitions = Vec::with_capacity(n);
        let mut lo = from;
        let mut window_start = start;
        for p in 0..n {
            let hi = if p + 1 == n {
                records.len()
            } else {
                (lo + per).min(records.len())
            };
            let end = match (cursor_index, hi) {
                (Some(i), hi) if hi > 0 && p + 1 < n => {
                    records.get(hi - 1).and_then(|r| cursor_of(r, i))
                }
                _ => None,
            };
            let id = format!("{lo}-{hi}");
            let resume = req
                .state
                .as_ref()
                .and_then(|s| s.partitions.get(&id))
                .filter(|s| !s.finished)
                .and_then(|s| s.resume.clone());
            partitions.push(Partition {
                stream: req.stream.clone(),
                id,
                spec: serde_json::json!({ "from": lo, "to": hi }),
                window: CursorWindow {
                    start: window_start.clone(),
                    end: end.clone(),
                },
                resume,
                batch_size: req.batch_size,
                projection: req.projection.clone(),
            });
            window_start = end;
            lo = hi;
        }
        Ok(partitions)
    }

    fn read(&self, partition: Partition) -> BoxStream<'static, Result<SourceEvent>> {
        let stream = match self.stream(&partition.stream) {
            Ok(s) => s.clone(),
            Err(e) => return stream::once(async move { Err(e) }).boxed(),
        };
        let spec = |key: &str| {
            partition
                .spec
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .map(|v| v as usize)
        };
        let from = partition
            .resume
            .as_ref()
            .and_then(|r| r.get("offset"))
            .and_then(serde_json::Value::as_u64)
            .map(|v| v as usize)
            .or_else(|| spec("from"))
            .unwrap_or(0);
        let to = spec("to")
            .unwrap_or(stream.records.len())
            .min(stream.records.len());
        let cursor_index = stream
            .info
            .cursor
            .as_ref()
            .and_then(|c| stream.info.schema.index_of(&c.field));
        let fail_after = self.fail_after;
        let batch_size = partition.batch_size.max(1);
        // Each step yields a batch and the checkpoint that resumes after it.
        stream::unfold((from, 0usize, false), move |(pos, emitted, done)| {
            let stream = stream.clone();
            let partition = partition.clone();
            async move {
                if done {
                    return None;
                }
                let cursor_at = |end: usize| {
                    let last = end.checked_sub(1).and_then(|i| stream.records.get(i));
                    cursor_index.and_then(|i| last.and_then(|r| cursor_of(r, i)))
                };
                if pos >= to {
                    let cp = Checkpoint::new(&partition, cursor_at(pos), None, true);
                    return Some((vec![Ok(SourceEvent::Checkpoint(cp))], (pos, emitted, true)));
                }
                if fail_after.is_some_and(|n| emitted >= n) {
                    let err = ConnectorError::new(
                        ErrorKind::Unavailable,
                        "memory.read",
                        "injected failure",
                    );
                    return Some((vec![Err(err)], (pos, emitted, true)));
                }
                let mut end = (pos + batch_size).min(to);
                if let Some(n) = fail_after {
                    end = end.min(pos + (n - emitted).max(1));
                }
                let records = stream.records[pos..end].to_vec();
                let batch =
                    RecordBatch::new(stream.info.id.clone(), stream.info.schema.clone(), records);
                let resume = serde_json::json!({ "offset": end });
                let cp = Checkpoint::new(&partition, cursor_at(end), Some(resume), false);
                let events = vec![
                    Ok(SourceEvent::Batch(batch)),
                    Ok(SourceEvent::Checkpoint(cp)),
                ];
                Some((events, (end, emitted + (end - pos), false)))
            }
        })
        .flat_map(stream::iter)
        .boxed()
    }
}

/// A predicate that rejects records: returns the error for a record to reject.
pub type RejectFn = Arc<dyn Fn(&Schema, &Record) -> Option<RecordError> + Send + Sync>;

#[derive(Debug, Default)]
struct Table {
    schema: Option<Arc<Schema>>,
    rows: Vec<Record>,
    by_key: HashMap<String, usize>,
}

/// A sink that keeps records in memory, per stream.
///
/// Insert appends; upsert, update and delete match on the key (the upsert key, or the
/// stream's primary key). A reject predicate makes it refuse chosen records, and
/// deferred mode reports outcomes only on `flush`, like a bulk API.
#[derive(Clone, Default)]
pub struct MemorySink {
    tables: Arc<Mutex<BTreeMap<String, Table>>>,
    reject: Option<RejectFn>,
    deferred: bool,
    max_batch_records: Option<usize>,
}

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink")
            .field("deferred", &self.deferred)
            .finish_non_exhaustive()
    }
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects every record for which `f` returns an error.
    #[must_use]
    pub fn reject_when(
        mut self,
        f: impl Fn(&Schema, &Record) -> Option<RecordError> + Send + Sync + 'static,
    ) -> Self {
        self.reject = Some(Arc::new(f));
        self
    }

    /// Reports outcomes only on `flush`, as bulk APIs do.
    #[must_use]
    pub fn deferred(mut self) -> Self {
        self.deferred = true;
        self
    }

    /// Advertises a maximum batch size.
    #[must_use]
    pub fn with_max_batch_records(mut self, n: usize) -> Self {
        self.max_batch_records = Some(n);
        self
    }

    /// The records of `stream` written so far, in order.
    pub fn records(&self, stream: &str) -> Vec<Record> {
        self.tables
            .lock()
            .map(|t| t.get(stream).map(|t| t.rows.clone()).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The number of records of `stream`.
    pub fn len(&self, stream: &str) -> usize {
        self.tables
            .lock()
            .map(|t| t.get(stream).map_or(0, |t| t.rows.len()))
            .unwrap_or(0)
    }

    /// Whether nothing was written to `stream`.
    pub fn is_empty(&self, stream: &str) -> bool {
        self.len(stream) == 0
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn check(&self) -> Result<()> {
        Ok(())
    }

    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            modes: vec![
                WriteModeKind::Insert,
                WriteModeKind::Upsert,
                WriteModeKind::Update,
                WriteModeKind::Delete,
            ],
            max_batch_records: self.max_batch_records,
            deferred_outcomes: self.deferred,
        }
    }

    async fn open(&self, stream: &StreamInfo, mode: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        let key_names = match mode {
            WriteMode::Upsert { key } => key.clone(),
            WriteMode::Insert => stream.primary_key.clone(),
            _ => stream.primary_key.clone(),
        };
        if key_names.is_empty() && !matches!(mode, WriteMode::Insert) {
            return Err(ConnectorError::config(
                "memory.open",
                format!(
                    "{mode:?} on stream `{}` needs a key: set an upsert key or a primary key",
                    stream.id
                ),
            ));
        }
        let key = key_names
            .iter()
            .map(|k| {
                stream.schema.index_of(k).ok_or_else(|| {
                    ConnectorError::config(
                        "memory.open",
                        format!("key field `{k}` is not in stream `{}`", stream.id),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if let Ok(mut tables) = self.tables.lock() {
            tables.entry(stream.id.to_string()).or_default().schema = Some(stream.schema.clone());
        }
        Ok(Box::new(MemoryWriter {
            sink: self.clone(),
            stream: stream.id.to_string(),
            mode: mode.kind(),
            key,
            pending: WriteReport::new(),
        }))
    }
}

struct MemoryWriter {
    sink: MemorySink,
    stream: String,
    mode: WriteModeKind,
    key: Vec<usize>,
    pending: WriteReport,
}

impl MemoryWriter {
    fn key_of(&self, record: &Record) -> String {
        let mut k = String::new();
        for &i in &self.key {
            k.push_str(&record.get(i).to_string());
            k.push('\u{1f}');
        }
        k
    }

    fn apply(&self, table: &mut Table, schema: &Schema, record: &Record) -> RecordOutcome {
        if let Some(error) = self.sink.reject.as_ref().and_then(|f| f(schema, record)) {
            return RecordOutcome::Rejected { error };
        }
        let written = |action| RecordOutcome::Written {
            action,
            remote_id: None,
        };
        let not_found = || RecordOutcome::Rejected {
            error: RecordError::new("NOT_FOUND", "no record with this key"),
        };
        match self.mode {
            WriteModeKind::Insert => {
                if !self.key.is_empty() {
                    let key = self.key_of(record);
                    if table.by_key.contains_key(&key) {
                        return RecordOutcome::Rejected {
                            error: RecordError::new(
                                "DUPLICATE_VALUE",
                                "a record with this key exists",
                            ),
                        };
                    }
                    table.by_key.insert(key, table.rows.len());
                }
                table.rows.push(record.clone());
                written(WriteAction::Created)
            }
            WriteModeKind::Upsert | WriteModeKind::Update => {
                let key = self.key_of(record);
                match table.by_key.get(&key) {
                    Some(&i) if table.rows[i] == *record => written(WriteAction::Unchanged),
                    Some(&i) => {
                        table.rows[i] = record.clone();
                        written(WriteAction::Updated)
                    }
                    None if self.mode == WriteModeKind::Upsert => {
                        table.by_key.insert(key, table.rows.len());
                        table.rows.push(record.clone());
                        written(WriteAction::Created)
                    }
                    None => not_found(),
                }
            }
            WriteModeKind::Delete => {
                let key = self.key_of(record);
                match table.by_key.remove(&key) {
                    Some(i) => {
                        table.rows.remove(i);
                        for v in table.by_key.values_mut() {
                            if *v > i {
                                *v -= 1;
                            }
                        }
                        written(WriteAction::Deleted)
                    }
                    None => not_found(),
                }
            }
        }
    }
}

#[async_trait]
impl StreamWriter for MemoryWriter {
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        let mut report = WriteReport::new();
        {
            let mut tables = self.sink.tables.lock().map_err(|_| {
                ConnectorError::new(
                    ErrorKind::Unexpected,
                    "memory.write",
                    "memory sink lock poisoned",
                )
            })?;
            let table = tables.entry(self.stream.clone()).or_default();
            for (i, record) in batch.records.iter().enumerate() {
                let outcome = self.apply(table, &batch.schema, record);
                report.push(first_id + i as u64, outcome);
            }
        }
        if self.sink.deferred {
            self.pending.extend(report);
            return Ok(WriteReport::new());
        }
        Ok(report)
    }

    async fn flush(&mut self) -> Result<WriteReport> {
        Ok(std::mem::take(&mut self.pending))
    }
}

/// A sink that writes nothing and reports every record written: for benchmarks and
/// dry runs, where a sink that keeps records would measure itself.
#[derive(Clone, Debug, Default)]
pub struct DiscardSink;

#[async_trait]
impl Sink for DiscardSink {
    async fn check(&self) -> Result<()> {
        Ok(())
    }

    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            modes: vec![
                WriteModeKind::Insert,
                WriteModeKind::Upsert,
                WriteModeKind::Update,
                WriteModeKind::Delete,
            ],
            max_batch_records: None,
            deferred_outcomes: false,
        }
    }

    async fn open(&self, _: &StreamInfo, _: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        Ok(Box::new(DiscardWriter))
    }
}

struct DiscardWriter;

#[async_trait]
impl StreamWriter for DiscardWriter {
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        Ok(WriteReport::all_written(
            first_id,
            batch.len(),
            WriteAction::Unchanged,
        ))
    }

    async fn flush(&mut self) -> Result<WriteReport> {
        Ok(WriteReport::new())
    }
}
