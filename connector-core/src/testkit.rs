//! The sink conformance kit (feature `testkit`): proves that a [`Sink`] gives every
//! record exactly one outcome, including when it fails midway.
//!
//! ```
//! # async fn demo() -> Result<(), connector_core::testkit::ConformanceFailure> {
//! use connector_core::memory::MemorySink;
//! use connector_core::testkit::{run_conformance, sample_records, sample_stream};
//!
//! let report = run_conformance(|| MemorySink::new(), sample_stream(), sample_records(200)).await?;
//! assert_eq!(report.records, 200);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use type_mapping::{DataType, Field, Schema, Value};

use crate::copy::{CopyOptions, copy};
use crate::memory::MemorySource;
use crate::{
    ConnectorError, ErrorKind, Record, RecordBatch, RecordId, RecordOutcome, Result, Sink,
    SinkCapabilities, StreamInfo, StreamWriter, WriteMode, WriteReport,
};

/// A broken promise, with what was seen.
#[derive(Debug, thiserror::Error)]
#[error("sink conformance: {check}: {detail}")]
pub struct ConformanceFailure {
    /// Which check failed.
    pub check: &'static str,
    /// What was seen.
    pub detail: String,
}

fn fail(check: &'static str, detail: impl Into<String>) -> ConformanceFailure {
    ConformanceFailure {
        check,
        detail: detail.into(),
    }
}

/// What the kit observed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    /// Records written per run.
    pub records: usize,
    /// Written outcomes in the plain run.
    pub written: usize,
    /// Rejected outcomes in the plain run.
    pub rejected: usize,
    /// Failed outcomes in the plain run.
    pub failed: usize,
    /// Fault runs checked (a write failing midway, a flush failing).
    pub fault_runs: usize,
}

/// A stream of five typed fields with `id` as primary key, for sinks that accept any
/// schema.
pub fn sample_stream() -> StreamInfo {
    StreamInfo::new(
        "conformance",
        Schema::new(vec![
            Field::new("id", DataType::Int64).with_nullable(false),
            Field::new("name", DataType::String),
            Field::new("amount", DataType::decimal(18, 2)),
            Field::new("active", DataType::Boolean),
            Field::new("created", DataType::Date),
        ]),
    )
    .with_primary_key(["id"])
}

/// `n` records of [`sample_stream`], with awkward text (quotes, commas, newlines,
/// non-ASCII) and nulls.
pub fn sample_records(n: usize) -> Vec<Record> {
    let names = [
        "plain",
        "with, comma",
        "with \"quotes\"",
        "multi\nline",
        "ünïcödé ✓",
        "",
    ];
    (0..n)
        .map(|i| {
            let amount = type_mapping::rust_decimal::Decimal::new(i as i64 * 101, 2);
            let date =
                chrono::NaiveDate::from_ymd_opt(2024, 1 + (i % 12) as u32, 1 + (i % 28) as u32);
            Record::new(vec![
                Value::Int64(i as i64),
                if i % 7 == 6 {
                    Value::Null
                } else {
                    Value::String(format!("{} {i}", names[i % names.len()]))
                },
                Value::Decimal(amount),
                Value::Boolean(i % 2 == 0),
                date.map_or(Value::Null, Value::Date),
            ])
        })
        .collect()
}

/// Runs every check against sinks made by `make_sink` (called once per run, so file
/// sinks can use a fresh path each time), writing `records` of `stream` with
/// [`WriteMode::Insert`].
pub async fn run_conformance<S, F>(
    make_sink: F,
    stream: StreamInfo,
    records: Vec<Record>,
) -> std::result::Result<ConformanceReport, ConformanceFailure>
where
    S: Sink + 'static,
    F: Fn() -> S,
{
    run_conformance_with_mode(make_sink, stream, records, WriteMode::Insert).await
}

/// [`run_conformance`] with another write mode.
pub async fn run_conformance_with_mode<S, F>(
    make_sink: F,
    stream: StreamInfo,
    records: Vec<Record>,
    mode: WriteMode,
) -> std::result::Result<ConformanceReport, ConformanceFailure>
where
    S: Sink + 'static,
    F: Fn() -> S,
{
    let mut report = ConformanceReport {
        records: records.len(),
        ..Default::default()
    };
    let sink = make_sink();
    sink.check()
        .await
        .map_err(|e| fail("check", e.to_string()))?;
    let caps = sink.capabilities();
    if !caps.modes.contains(&mode.kind()) {
        return Err(fail(
            "capabilities",
            format!("the sink does not advertise {mode:?}: {:?}", caps.modes),
        ));
    }

    // 1. Every id gets exactly one outcome, over batches of uneven sizes.
    let outcomes = write_all(&sink, &stream, &mode, &records, &caps).await?;
    for outcome in outcomes.values() {
        match outcome {
            RecordOutcome::Written { .. } => report.written += 1,
            RecordOutcome::Rejected { .. } => report.rejected += 1,
            RecordOutcome::Failed { .. } => report.failed += 1,
        }
    }

    // 2. A flush with nothing written reports nothing.
    let sink = make_sink();
    let mut writer = sink
        .open(&stream, &mode)
        .await
        .map_err(|e| fail("open", e.to_string()))?;
    let empty = writer
        .flush()
        .await
        .map_err(|e| fail("empty flush", e.to_string()))?;
    if !empty.outcomes.is_empty() {
        return Err(fail(
            "empty flush",
            format!("{} outcomes for no records", empty.outcomes.len()),
        ));
    }
    writer
        .close()
        .await
        .map_err(|e| fail("close", e.to_string()))?;

    // 3. A failure midway: every record read is still counted exactly once, and the
    //    undelivered ones are counted as failed, not as written.
    for fault in [Fault::WriteMidway, Fault::Flush] {
        let faulty = FaultySink {
            inner: make_sink(),
            fault,
            writes: Arc::new(AtomicUsize::new(0)),
        };
        let source = MemorySource::new().with_stream(stream.clone(), records.clone());
        let options = CopyOptions::new()
            .write_mode(mode.clone())
            .batch_size(records.len().div_ceil(4).max(1))
            .retry_failed(0);
        let run = copy(&source, &faulty, options).await;
        let copy_report = match run {
            Ok(r) if records.len() > 1 => {
                return Err(fail(
                    "fault",
                    format!("{fault:?}: the copy succeeded despite the injected failure: {r}"),
                ));
            }
            Ok(r) => r,
            Err(e) => *e.report,
        };
        let t = copy_report.totals();
        if !t.is_balanced() {
            return Err(fail(
                "fault accounting",
                format!(
                    "{fault:?}: read {} != written {} + rejected {} + failed {}",
                    t.read, t.written, t.rejected, t.failed
                ),
            ));
        }
        // A failed write always leaves records undelivered; a failed flush only does
        // for sinks that decide outcomes on flush.
        let must_fail = matches!(fault, Fault::WriteMidway) || caps.deferred_outcomes;
        if records.len() > 1 && must_fail && t.failed == 0 {
            return Err(fail(
                "fault accounting",
                format!("{fault:?}: undelivered records were not counted as failed"),
            ));
        }
        report.fault_runs += 1;
    }
    Ok(report)
}

async fn write_all<S: Sink>(
    sink: &S,
    stream: &StreamInfo,
    mode: &WriteMode,
    records: &[Record],
    caps: &SinkCapabilities,
) -> std::result::Result<HashMap<RecordId, RecordOutcome>, ConformanceFailure> {
    let mut writer = sink
        .open(stream, mode)
        .await
        .map_err(|e| fail("open", e.to_string()))?;
    let max = caps.max_batch_records.unwrap_or(usize::MAX).max(1);
    let mut seen: HashMap<RecordId, RecordOutcome> = HashMap::new();
    let mut record =
        |report: WriteReport, submitted: u64| -> std::result::Result<(), ConformanceFailure> {
            for (id, outcome) in report.outcomes {
                if id >= submitted {
                    return Err(fail(
                        "outcome ids",
                        format!("outcome for record {id}, but only {submitted} were submitted"),
                    ));
                }
                if seen.insert(id, outcome).is_some() {
                    return Err(fail(
                        "exactly once",
                        format!("record {id} got two outcomes"),
                    ));
                }
            }
            Ok(())
        };
    let sizes = [1usize, 3, 64];
    let mut next = 0usize;
    let mut i = 0usize;
    while next < records.len() {
        let size = sizes
            .get(i)
            .copied()
            .unwrap_or(usize::MAX)
            .min(max)
            .min(records.len() - next);
        i += 1;
        let batch = Arc::new(RecordBatch::new(
            stream.id.clone(),
            stream.schema.clone(),
            records[next..next + size].to_vec(),
        ));
        let report = writer
            .write(next as u64, batch)
            .await
            .map_err(|e| fail("write", e.to_string()))?;
        next += size;
        record(report, next as u64)?;
    }
    let report = writer
        .flush()
        .await
        .map_err(|e| fail("flush", e.to_string()))?;
    record(report, next as u64)?;
    writer
        .close()
        .await
        .map_err(|e| fail("close", e.to_string()))?;
    let missing: Vec<u64> = (0..records.len() as u64)
        .filter(|id| !seen.contains_key(id))
        .take(10)
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            "exactly once",
            format!("no outcome after flush for records {missing:?}"),
        ));
    }
    Ok(seen)
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The second write hands half its batch to the sink, then fails.
    WriteMidway,
    /// Writes succeed; the first flush fails.
    Flush,
}

#[derive(Debug)]
struct FaultySink<S> {
    inner: S,
    fault: Fault,
    writes: Arc<AtomicUsize>,
}

#[async_trait]
impl<S: Sink> Sink for FaultySink<S> {
    async fn check(&self) -> Result<()> {
        self.inner.check().await
    }

    fn capabilities(&self) -> SinkCapabilities {
        self.inner.capabilities()
    }

    async fn open(&self, stream: &StreamInfo, mode: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        let inner = self.inner.open(stream, mode).await?;
        Ok(Box::new(FaultyWriter {
            inner,
            fault: self.fault,
            writes: self.writes.clone(),
        }))
    }
}

struct FaultyWriter {
    inner: Box<dyn StreamWriter>,
    fault: Fault,
    writes: Arc<AtomicUsize>,
}

fn injected(what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Unavailable,
        "testkit.fault",
        format!("injected failure: {what}"),
    )
}

#[async_trait]
impl StreamWriter for FaultyWriter {
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        if matches!(self.fault, Fault::WriteMidway) && n == 1 {
            let half = batch.len() / 2;
            if half > 0 {
                let part = RecordBatch::new(
                    batch.stream.clone(),
                    batch.schema.clone(),
                    batch.records[..half].to_vec(),
                );
                // The outcomes of the half that reached the sink are lost with the
                // connection: those records count as not delivered.
                let _lost = self.inner.write(first_id, Arc::new(part)).await;
            }
            return Err(injected("connection dropped in the middle of a write"));
        }
        self.inner.write(first_id, batch).await
    }

    async fn flush(&mut self) -> Result<WriteReport> {
        if matches!(self.fault, Fault::Flush) {
            return Err(injected("flush failed"));
        }
        self.inner.flush().await
    }

    async fn close(self: Box<Self>) -> Result<()> {
        self.inner.close().await
    }
}
