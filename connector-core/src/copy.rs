//! The copy driver: [`copy`] moves every selected stream of a [`Source`] into a
//! [`Sink`], with bounded memory, checkpoint gating and a dead-letter output.
//!
//! How it works, per stream:
//!
//! 1. `plan` splits the read into partitions; up to
//!    [`CopyOptions::max_partitions`] are read at once by a reader task that forwards
//!    events through a channel of [`CopyOptions::max_in_flight_batches`] slots. The
//!    channel is the back-pressure: a slow sink fills it and the reader stops pulling.
//! 2. Every batch is registered in a delivery ledger and handed to the writer. Each
//!    outcome the writer reports resolves one record. Rejected records go to the
//!    dead-letter output; failed (transient) ones are written again up to
//!    [`CopyOptions::retry_failed`] times.
//! 3. A checkpoint is saved only once every record before it is resolved as written or
//!    dead-lettered. A record that failed for good withholds every later checkpoint
//!    of its stream, so the next incremental run reads it again.
//! 4. When too many records wait for an outcome (bulk sinks decide on `flush`), the
//!    driver flushes, which bounds memory whatever the sink does.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tracing::Instrument;

use crate::dead_letter::{DeadLetter, DeadLetterEntry, DeadLetterStage, MemoryDeadLetter};
use crate::ledger::{Applied, Ledger};
use crate::source::{Checkpoint, InvalidRecord, ReadRequest, Source, SourceEvent};
use crate::state::{StateStore, SyncState};
use crate::{
    ConnectorError, ErrorKind, RecordBatch, RecordError, Result, Sink, StreamId, StreamInfo,
    StreamWriter, SyncMode, WriteMode,
};

/// A progress event, for progress bars and logs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// A stream's read was planned.
    StreamStarted {
        /// The stream.
        stream: StreamId,
        /// How many partitions it was split into.
        partitions: usize,
    },
    /// Counts changed (after every batch and every flush).
    Counts {
        /// The stream.
        stream: StreamId,
        /// The counts so far.
        counts: StreamReport,
    },
    /// A checkpoint was saved.
    CheckpointSaved {
        /// The stream.
        stream: StreamId,
    },
    /// A stream is done.
    StreamFinished {
        /// The stream.
        stream: StreamId,
        /// Its final counts.
        counts: StreamReport,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Options of [`copy`].
#[derive(Clone)]
pub struct CopyOptions {
    /// The streams to copy; `None` copies every stream the source offers.
    pub streams: Option<Vec<StreamId>>,
    /// Full refresh or incremental.
    pub sync_mode: SyncMode,
    /// How the sink writes.
    pub write_mode: WriteMode,
    /// Records per batch requested from the source.
    pub batch_size: usize,
    /// Partitions read at once.
    pub max_partitions: usize,
    /// Batches read ahead of the sink.
    pub max_in_flight_batches: usize,
    /// Records awaiting an outcome before the driver forces a flush.
    pub max_unresolved_records: usize,
    /// How many times a record that failed transiently is written again.
    pub retry_failed: u32,
    /// Where state is loaded from and saved to; `None` keeps it only in the report.
    pub state_store: Option<Arc<dyn StateStore>>,
    /// At most one state save per interval (the last is always saved).
    pub state_save_interval: Duration,
    /// Where rejected records go (memory by default).
    pub dead_letter: Arc<dyn DeadLetter>,
    /// Called on progress.
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("streams", &self.streams)
            .field("sync_mode", &self.sync_mode)
            .field("write_mode", &self.write_mode)
            .field("batch_size", &self.batch_size)
            .field("max_partitions", &self.max_partitions)
            .field("max_in_flight_batches", &self.max_in_flight_batches)
            .field("max_unresolved_records", &self.max_unresolved_records)
            .field("retry_failed", &self.retry_failed)
            .field("state_store", &self.state_store)
            .field("dead_letter", &self.dead_letter)
            .field("progress", &self.progress.as_ref().map(|_| "<callback>"))
            .finish()
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            streams: None,
            sync_mode: SyncMode::FullRefresh,
            write_mode: WriteMode::Insert,
            batch_size: ReadRequest::DEFAULT_BATCH_SIZE,
            max_partitions: 4,
            max_in_flight_batches: 4,
            max_unresolved_records: 100_000,
            retry_failed: 2,
            state_store: None,
            state_save_interval: Duration::from_secs(1),
            dead_letter: Arc::new(MemoryDeadLetter::new()),
            progress: None,
        }
    }
}

impl CopyOptions {
    /// The defaults: full refresh, insert, every stream, memory dead letter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies only `stream` (call again to add more).
    #[must_use]
    pub fn stream(mut self, stream: impl Into<StreamId>) -> Self {
        self.streams
            .get_or_insert_with(Vec::new)
            .push(stream.into());
        self
    }

    /// Sets the sync mode.
    #[must_use]
    pub fn sync_mode(mut self, mode: SyncMode) -> Self {
        self.sync_mode = mode;
        self
    }

    /// Sets the write mode.
    #[must_use]
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }

    /// Sets the batch size.
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets how many partitions are read at once.
    #[must_use]
    pub fn max_partitions(mut self, n: usize) -> Self {
        self.max_partitions = n.max(1);
        self
    }

    /// Sets how many batches may be read ahead of the sink.
    #[must_use]
    pub fn max_in_flight_batches(mut self, n: usize) -> Self {
        self.max_in_flight_batches = n.max(1);
        self
    }

    /// Sets how many records may await an outcome before a flush is forced.
    #[must_use]
    pub fn max_unresolved_records(mut self, n: usize) -> Self {
        self.max_unresolved_records = n.max(1);
        self
    }

    /// Sets how many times failed records are written again.
    #[must_use]
    pub fn retry_failed(mut self, n: u32) -> Self {
        self.retry_failed = n;
        self
    }

    /// Loads state from and saves it to `store`.
    #[must_use]
    pub fn state_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.state_store = Some(store);
        self
    }

    /// Sends rejected records to `dead_letter`.
    #[must_use]
    pub fn dead_letter(mut self, dead_letter: Arc<dyn DeadLetter>) -> Self {
        self.dead_letter = dead_letter;
        self
    }

    /// Calls `f` on progress.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// Counts for one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamReport {
    /// Records read from the source.
    pub read: u64,
    /// Source rows that could not be read (dead-lettered).
    pub malformed: u64,
    /// Records the sink wrote (created + updated + deleted + unchanged).
    pub written: u64,
    /// Of `written`: created.
    pub created: u64,
    /// Of `written`: updated.
    pub updated: u64,
    /// Of `written`: deleted.
    pub deleted: u64,
    /// Of `written`: already up to date.
    pub unchanged: u64,
    /// Records the sink rejected (dead-lettered).
    pub rejected: u64,
    /// Records not delivered for a transient reason, after retries.
    pub failed: u64,
    /// Records whose values a lenient conversion changed.
    pub changed: u64,
    /// Checkpoints saved.
    pub checkpoints: u64,
    /// Whether a failed record kept later checkpoints from being saved.
    pub state_withheld: bool,
}

impl StreamReport {
    /// Whether every record read was resolved: `read == written + rejected + failed`.
    pub fn is_balanced(&self) -> bool {
        self.read == self.written + self.rejected + self.failed
    }
}

/// What a copy did. Look at it: records can be rejected or fail without the copy
/// failing.
#[must_use = "a copy can reject or fail records without returning an error: check the report"]
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CopyReport {
    /// Counts per stream, by stream name.
    pub streams: BTreeMap<String, StreamReport>,
    /// The state after the copy (also saved to the state store, if any).
    pub state: SyncState,
    /// Where dead-lettered records went, if any were.
    pub dead_letter: Option<String>,
    /// How long the copy took.
    pub elapsed: Duration,
}

impl CopyReport {
    /// The sum over every stream.
    pub fn totals(&self) -> StreamReport {
        let mut t = StreamReport::default();
        for s in self.streams.values() {
            t.read += s.read;
            t.malformed += s.malformed;
            t.written += s.written;
            t.created += s.created;
            t.updated += s.updated;
            t.deleted += s.deleted;
            t.unchanged += s.unchanged;
            t.rejected += s.rejected;
            t.failed += s.failed;
            t.changed += s.changed;
            t.checkpoints += s.checkpoints;
            t.state_withheld |= s.state_withheld;
        }
        t
    }

    /// Whether every record was written (nothing malformed, rejected or failed).
    pub fn is_clean(&self) -> bool {
        let t = self.totals();
        t.malformed == 0 && t.rejected == 0 && t.failed == 0
    }
}

impl fmt::Display for CopyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "stream", "read", "written", "rejected", "malformed", "failed"
        )?;
        for (name, s) in &self.streams {
            writeln!(
                f,
                "{:<24} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name, s.read, s.written, s.rejected, s.malformed, s.failed
            )?;
        }
        write!(f, "in {:.2?}", self.elapsed)?;
        if let Some(dl) = &self.dead_letter {
            write!(f, "; dead letters: {dl}")?;
        }
        Ok(())
    }
}

/// A copy that stopped on an error, with what it had done until then.
#[derive(Debug, thiserror::Error)]
#[error("copy stopped: {error}")]
pub struct CopyError {
    /// Why it stopped.
    #[source]
    pub error: ConnectorError,
    /// The counts and state up to the stop. Records handed to the sink without an
    /// outcome are counted as failed.
    pub report: Box<CopyReport>,
}

impl From<CopyError> for ConnectorError {
    fn from(e: CopyError) -> Self {
        e.error
    }
}

/// Aborts the reader task when the copy is dropped or finishes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copies every selected stream of `source` into `sink`.
///
/// Returns the report; a copy that stopped on an error (source or sink unavailable,
/// credentials refused, a broken sink contract) returns a [`CopyError`] carrying the
/// report up to that point. Records the sink rejected do not stop the copy: they are
/// dead-lettered and counted.
pub async fn copy<S, K>(source: &S, sink: &K, options: CopyOptions) -> Result<CopyReport, CopyError>
where
    S: Source + ?Sized,
    K: Sink + ?Sized,
{
    let started = Instant::now();
    let mut report = CopyReport::default();
    let outcome = copy_inner(source, sink, &options, &mut report).await;
    report.elapsed = started.elapsed();
    if let Err(e) = options.dead_letter.flush().await {
        tracing::warn!(error = %e, "dead-letter flush failed");
    }
    match outcome {
        Ok(()) => Ok(report),
        Err(error) => Err(CopyError {
            error,
            report: Box::new(report),
        }),
    }
}

async fn copy_inner<S, K>(
    source: &S,
    sink: &K,
    options: &CopyOptions,
    report: &mut CopyReport,
) -> Result<()>
where
    S: Source + ?Sized,
    K: Sink + ?Sized,
{
    let catalog = source.discover().await?;
    let selected: Vec<StreamInfo> = match &options.streams {
        None => catalog.streams.clone(),
        Some(ids) => ids
            .iter()
            .map(|id| {
                catalog.stream(id).cloned().ok_or_else(|| {
                    ConnectorError::new(
                        ErrorKind::NotFound,
                        "copy",
                        format!("the source has no stream `{id}`"),
                    )
                    .with_context("streams", catalog.names().join(", "))
                })
            })
            .collect::<Result<_>>()?,
    };
    let capabilities = sink.capabilities();
    if !capabilities.modes.contains(&options.write_mode.kind()) {
        return Err(ConnectorError::config(
            "copy",
            format!(
                "the sink does not support {:?} (it supports {:?})",
                options.write_mode, capabilities.modes
            ),
        ));
    }
    let mut state = match &options.state_store {
        Some(store) => store.load().await?.unwrap_or_default(),
        None => SyncState::default(),
    };
    for info in selected {
        if options.sync_mode == SyncMode::Incremental && !info.supports(SyncMode::Incremental) {
            return Err(ConnectorError::config(
                "copy",
                format!(
                    "stream `{}` cannot be read incrementally (it has no cursor)",
                    info.id
                ),
            ));
        }
        let span = tracing::info_span!("copy_stream", stream = %info.id);
        let mut run = StreamRun::new(&info, sink, options, &capabilities, &mut state, report);
        let result = run.run(source).instrument(span).await;
        report.state = state.clone();
        result?;
    }
    report.state = state;
    Ok(())
}

struct StreamRun<'a, K: ?Sized> {
    info: &'a StreamInfo,
    sink: &'a K,
    options: &'a CopyOptions,
    max_batch: usize,
    state: &'a mut SyncState,
    report: &'a mut CopyReport,
    counts: StreamReport,
    ledger: Ledger,
    checkpoints: VecDeque<(u64, Checkpoint)>,
    last_save: Option<Instant>,
    dirty: bool,
}

impl<'a, K: Sink + ?Sized> StreamRun<'a, K> {
    fn new(
        info: &'a StreamInfo,
        sink: &'a K,
        options: &'a CopyOptions,
        capabilities: &crate::SinkCapabilities,
        state: &'a mut SyncState,
        report: &'a mut CopyReport,
    ) -> Self {
        Self {
            info,
            sink,
            options,
            max_batch: capabilities.max_batch_records.unwrap_or(usize::MAX).max(1),
            state,
            report,
            counts: StreamReport::default(),
            ledger: Ledger::new(
                format!("{sink:?}").chars().take(80).collect(),
                options.retry_failed,
            ),
            checkpoints: VecDeque::new(),
            last_save: None,
            dirty: false,
        }
    }

    fn progress(&self, event: Progress) {
        if let Some(f) = &self.options.progress {
            f(&event);
        }
    }

    fn publish(&mut self) {
        self.report
            .streams
            .insert(self.info.id.to_string(), self.counts.clone());
        self.progress(Progress::Counts {
            stream: self.info.id.clone(),
            counts: self.counts.clone(),
        });
    }

    async fn run<S: Source + ?Sized>(&mut self, source: &S) -> Result<()> {
        let mut req =
            ReadRequest::new(self.info.id.clone()).with_batch_size(self.options.batch_size);
        if self.options.sync_mode == SyncMode::Incremental {
            req = req.incremental(self.state.stream(&self.info.id).cloned());
        }
        let partitions = source.plan(&req).await?;
        // Every planned partition is registered, so the watermark cannot pass a window
        // that has not reported yet. A full refresh starts the stream's state afresh:
        // it reads everything, and its state is what the next incremental run resumes.
        let state = self.state.stream_mut(&self.info.id);
        if self.options.sync_mode == SyncMode::Incremental {
            state.retain_partitions(partitions.iter().map(|p| p.id.as_str()));
        } else {
            *state = crate::state::StreamState::default();
        }
        for p in &partitions {
            state.register(&p.id, p.window.clone());
        }
        self.progress(Progress::StreamStarted {
            stream: self.info.id.clone(),
            partitions: partitions.len(),
        });
        let streams: Vec<_> = partitions.into_iter().map(|p| source.read(p)).collect();
        let (tx, mut rx) = tokio::sync::mpsc::channel(self.options.max_in_flight_batches);
        let slots = Arc::new(tokio::sync::Semaphore::new(self.options.max_partitions));
        // Each partition is read on a task of its own (at most `max_partitions` at once),
        // so sources that parse and convert as they read use every core; all feed one
        // bounded channel, which is the back-pressure.
        let reader = AbortOnDrop(tokio::spawn(async move {
            let mut tasks = Vec::new();
            for mut events in streams {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                if tx.is_closed() {
                    break;
                }
                let tx = tx.clone();
                tasks.push(AbortOnDrop(tokio::spawn(async move {
                    let _slot = slot;
                    while let Some(event) = events.next().await {
                        let stop = event.is_err();
                        if tx.send(event).await.is_err() || stop {
                            break;
                        }
                    }
                })));
            }
            drop(tx);
            for task in &mut tasks {
                let _ = (&mut task.0).await;
            }
        }));
        let mut writer = self.sink.open(self.info, &self.options.write_mode).await?;
        let pumped = self.pump(&mut rx, writer.as_mut()).await;
        drop(reader);
        // Whatever happened, resolve what can be resolved and save what is safe.
        let result = match pumped {
            Ok(()) => match self.finish(writer).await {
                Ok(()) => Ok(()),
                Err(error) => Err(self.stop(error).await),
            },
            Err(stop) => {
                if !stop.from_sink {
                    // A source error leaves the sink healthy: flush, so the records
                    // already handed to it count and their checkpoints are saved.
                    if let Err(e) = self.drain(writer.as_mut()).await {
                        tracing::warn!(error = %e, "flush after a source error failed");
                    }
                }
                Err(self.stop(stop.error).await)
            }
        };
        self.progress(Progress::StreamFinished {
            stream: self.info.id.clone(),
            counts: self.counts.clone(),
        });
        self.publish();
        result
    }

    /// Counts every record without an outcome as failed, saves the state that is
    /// still safe, and hands the error back.
    async fn stop(&mut self, error: ConnectorError) -> ConnectorError {
        self.fail_unresolved(RecordError::new("NOT_DELIVERED", error.to_string()))
            .await;
        if let Err(e) = self.commit_checkpoints().await {
            tracing::warn!(error = %e, "could not save state after an error");
        }
        if let Err(e) = self.save_state(true).await {
            tracing::warn!(error = %e, "could not save state after an error");
        }
        error
    }

    async fn pump(
        &mut self,
        rx: &mut tokio::sync::mpsc::Receiver<Result<SourceEvent>>,
        writer: &mut dyn StreamWriter,
    ) -> Result<(), Stop> {
        while let Some(event) = rx.recv().await {
            match event.map_err(Stop::source)? {
                SourceEvent::Batch(batch) => {
                    if batch.is_empty() {
                        continue;
                    }
                    self.counts.read += batch.len() as u64;
                    self.counts.changed += batch
                        .records
                        .iter()
                        .filter(|r| !r.meta.changes.is_empty())
                        .count() as u64;
                    for part in split(batch, self.max_batch) {
                        let part = Arc::new(part);
                        let first = self.ledger.register(part.clone());
                        let written = writer.write(first, part).await.map_err(Stop::sink)?;
                        self.apply(written.outcomes).await.map_err(Stop::sink)?;
                    }
                    if self.ledger.unresolved() >= self.options.max_unresolved_records {
                        self.drain(writer).await.map_err(Stop::sink)?;
                    }
                    self.commit_checkpoints().await.map_err(Stop::sink)?;
                    self.publish();
                }
                SourceEvent::Checkpoint(checkpoint) => {
                    self.checkpoints
                        .push_back((self.ledger.next_id(), checkpoint));
                    self.commit_checkpoints().await.map_err(Stop::sink)?;
                }
                SourceEvent::Invalid(invalid) => {
                    self.counts.malformed += 1;
                    self.dead_letter_invalid(invalid)
                        .await
                        .map_err(Stop::sink)?;
                }
            }
        }
        Ok(())
    }

    async fn finish(&mut self, mut writer: Box<dyn StreamWriter>) -> Result<()> {
        self.drain(writer.as_mut()).await?;
        if self.ledger.unresolved() > 0 {
            let n = self.ledger.unresolved();
            tracing::error!(
                records = n,
                "sink left records without an outcome after flush"
            );
            self.fail_unresolved(RecordError::new(
                "NO_OUTCOME",
                "the sink returned from flush without an outcome for this record",
            ))
            .await;
        }
        writer.close().await?;
        self.commit_checkpoints().await?;
        self.save_state(true).await
    }

    /// Flushes, then writes failed records again while retries remain.
    async fn drain(&mut self, writer: &mut dyn StreamWriter) -> Result<()> {
        loop {
            let flushed = writer.flush().await?;
            self.apply(flushed.outcomes).await?;
            let retries = self.ledger.take_retry_batches();
            if retries.is_empty() {
                break;
            }
            for (first, batch) in retries {
                tracing::debug!(records = batch.len(), "writing failed records again");
                let written = writer.write(first, batch).await?;
                self.apply(written.outcomes).await?;
            }
        }
        self.commit_checkpoints().await
    }

    async fn apply(&mut self, outcomes: Vec<(u64, crate::RecordOutcome)>) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        // Count what was applied even when the sink broke its contract midway.
        let (applied, violation) = self.ledger.apply(outcomes);
        self.record(applied).await?;
        violation
    }

    async fn record(&mut self, applied: Applied) -> Result<()> {
        self.counts.created += applied.created;
        self.counts.updated += applied.updated;
        self.counts.deleted += applied.deleted;
        self.counts.unchanged += applied.unchanged;
        self.counts.written +=
            applied.created + applied.updated + applied.deleted + applied.unchanged;
        self.counts.rejected += applied.rejected.len() as u64;
        self.counts.failed += applied.failed.len() as u64;
        let entries: Vec<DeadLetterEntry> =
            applied
                .rejected
                .into_iter()
                .map(|(batch, i, error)| self.entry(&batch, i, error, DeadLetterStage::Sink))
                .chain(applied.failed.into_iter().map(|(batch, i, error)| {
                    self.entry(&batch, i, error, DeadLetterStage::SinkFailed)
                }))
                .collect();
        if !entries.is_empty() {
            self.options.dead_letter.write(&entries).await?;
            self.report.dead_letter = Some(self.options.dead_letter.location());
        }
        Ok(())
    }

    fn entry(
        &self,
        batch: &RecordBatch,
        i: usize,
        error: RecordError,
        stage: DeadLetterStage,
    ) -> DeadLetterEntry {
        let record = &batch.records[i];
        DeadLetterEntry {
            stream: self.info.id.clone(),
            stage,
            origin: batch.origin(i),
            record: Some(record.to_json(&batch.schema)),
            raw: None,
            error,
        }
    }

    async fn dead_letter_invalid(&mut self, invalid: InvalidRecord) -> Result<()> {
        let entry = DeadLetterEntry {
            stream: invalid.stream,
            stage: DeadLetterStage::Source,
            origin: invalid.origin,
            record: None,
            raw: invalid.raw,
            error: invalid.error,
        };
        self.options
            .dead_letter
            .write(std::slice::from_ref(&entry))
            .await?;
        self.report.dead_letter = Some(self.options.dead_letter.location());
        Ok(())
    }

    async fn fail_unresolved(&mut self, error: RecordError) {
        let failed = self.ledger.fail_all_unresolved(&error);
        if failed.is_empty() {
            return;
        }
        let applied = Applied {
            failed,
            ..Applied::default()
        };
        if let Err(e) = self.record(applied).await {
            tracing::warn!(error = %e, "could not dead-letter undelivered records");
        }
    }

    /// Saves every checkpoint whose records are all resolved.
    async fn commit_checkpoints(&mut self) -> Result<()> {
        while let Some((barrier, _)) = self.checkpoints.front() {
            let barrier = *barrier;
            if self.ledger.failed_below(barrier) {
                // A record before this checkpoint was not delivered: neither this nor
                // any later checkpoint of the stream may be saved.
                self.counts.state_withheld = true;
                self.checkpoints.clear();
                break;
            }
            if !self.ledger.resolved_below(barrier) {
                break;
            }
            if let Some((_, checkpoint)) = self.checkpoints.pop_front() {
                self.state
                    .stream_mut(&self.info.id)
                    .apply(&checkpoint.partition, checkpoint.progress);
                self.counts.checkpoints += 1;
                self.dirty = true;
            }
        }
        self.save_state(false).await
    }

    async fn save_state(&mut self, force: bool) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let due = self
            .last_save
            .is_none_or(|t| t.elapsed() >= self.options.state_save_interval);
        if !(force || due) {
            return Ok(());
        }
        if let Some(store) = &self.options.state_store {
            // Dead letters first: a saved state must never cover a reject that is not
            // durably recorded.
            self.options.dead_letter.flush().await?;
            store.save(self.state).await?;
            self.progress(Progress::CheckpointSaved {
                stream: self.info.id.clone(),
            });
        }
        self.last_save = Some(Instant::now());
        self.dirty = false;
        Ok(())
    }
}

/// Why a stream's pump stopped, and on which side (a failed writer is not flushed).
struct Stop {
    error: ConnectorError,
    from_sink: bool,
}

impl Stop {
    fn source(error: ConnectorError) -> Self {
        Self {
            error,
            from_sink: false,
        }
    }

    fn sink(error: ConnectorError) -> Self {
        Self {
            error,
            from_sink: true,
        }
    }
}

fn split(batch: RecordBatch, max: usize) -> Vec<RecordBatch> {
    if batch.len() <= max {
        return vec![batch];
    }
    let RecordBatch {
        stream,
        schema,
        records,
        location,
    } = batch;
    let mut out = Vec::with_capacity(records.len().div_ceil(max));
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<_> = records.by_ref().take(max).collect();
        out.push(RecordBatch {
            stream: stream.clone(),
            schema: schema.clone(),
            records: chunk,
            location: location.clone(),
        });
    }
    out
}
