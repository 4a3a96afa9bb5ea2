//! The copy driver: outcomes, dead letters, checkpoint gating, retries, state.

use std::sync::{Arc, Mutex};

use connector_core::dead_letter::{DeadLetterStage, MemoryDeadLetter};
use connector_core::memory::{MemorySink, MemorySource};
use connector_core::state::{CursorValue, MemoryStateStore, StateStore};
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{
    CopyOptions, ErrorKind, Progress, Record, RecordError, StreamInfo, SyncMode, WriteMode, copy,
};

fn stream() -> StreamInfo {
    StreamInfo::new(
        "contacts",
        Schema::new(vec![
            Field::new("id", DataType::Int64).with_nullable(false),
            Field::new("email", DataType::String),
            Field::new("modified", DataType::Int64),
        ]),
    )
    .with_primary_key(["id"])
    .with_cursor("modified")
}

fn records(range: std::ops::Range<i64>) -> Vec<Record> {
    range
        .map(|i| {
            Record::new(vec![
                Value::Int64(i),
                Value::String(format!("user{i}@example.com")),
                Value::Int64(i * 10),
            ])
        })
        .collect()
}

#[tokio::test]
async fn every_record_is_written_and_counted() {
    let source = MemorySource::new()
        .with_stream(stream(), records(0..2_500))
        .with_partitions(3);
    let sink = MemorySink::new();
    let report = copy(&source, &sink, CopyOptions::new().batch_size(100))
        .await
        .unwrap();
    let t = report.totals();
    assert_eq!(
        (t.read, t.written, t.created, t.rejected, t.failed),
        (2_500, 2_500, 2_500, 0, 0)
    );
    assert!(report.is_clean());
    let mut ids: Vec<i64> = sink
        .records("contacts")
        .iter()
        .filter_map(|r| r.get(0).as_i64())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (0..2_500).collect::<Vec<_>>(),
        "no record lost or duplicated across partitions"
    );
}

#[tokio::test]
async fn rejected_records_go_to_the_dead_letter_output_and_the_copy_goes_on() {
    let source = MemorySource::new().with_stream(stream(), records(0..50));
    let sink = MemorySink::new().reject_when(|_, r| {
        (r.get(0).as_i64()? % 10 == 3)
            .then(|| RecordError::new("INVALID_EMAIL", "bad address").with_fields(["email"]))
    });
    let dead = MemoryDeadLetter::new();
    let report = copy(
        &source,
        &sink,
        CopyOptions::new()
            .batch_size(7)
            .dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    let t = report.totals();
    assert_eq!((t.read, t.written, t.rejected), (50, 45, 5));
    assert!(t.is_balanced());
    assert_eq!(report.dead_letter.as_deref(), Some("memory"));
    let entries = dead.entries();
    assert_eq!(entries.len(), 5);
    assert!(
        entries
            .iter()
            .all(|e| e.stage == DeadLetterStage::Sink && e.error.code == "INVALID_EMAIL")
    );
    assert_eq!(
        entries[0].record.as_ref().unwrap()["id"],
        serde_json::json!(3)
    );
}

#[tokio::test]
async fn deferred_outcomes_are_resolved_on_flush_and_memory_is_bounded_by_forced_flushes() {
    let source = MemorySource::new().with_stream(stream(), records(0..1_000));
    let sink = MemorySink::new().deferred();
    let store = MemoryStateStore::new();
    let options = CopyOptions::new()
        .batch_size(50)
        .max_unresolved_records(200)
        .sync_mode(SyncMode::Incremental)
        .state_store(Arc::new(store.clone()));
    let report = copy(&source, &sink, options).await.unwrap();
    let t = report.totals();
    assert_eq!((t.read, t.written), (1_000, 1_000));
    assert_eq!(
        t.checkpoints, 21,
        "20 batch checkpoints and the final one, each saved once resolved"
    );
    assert_eq!(
        store.get().unwrap().streams["contacts"].cursor,
        Some(CursorValue::Integer(9_990))
    );
}

#[tokio::test]
async fn the_sink_contract_is_enforced() {
    // A writer that reports the same record twice breaks the contract: the copy stops.
    #[derive(Debug)]
    struct Twice;
    struct TwiceWriter;
    #[async_trait::async_trait]
    impl connector_core::Sink for Twice {
        async fn check(&self) -> connector_core::Result<()> {
            Ok(())
        }
        fn capabilities(&self) -> connector_core::SinkCapabilities {
            connector_core::SinkCapabilities::default()
        }
        async fn open(
            &self,
            _: &StreamInfo,
            _: &WriteMode,
        ) -> connector_core::Result<Box<dyn connector_core::StreamWriter>> {
            Ok(Box::new(TwiceWriter))
        }
    }
    #[async_trait::async_trait]
    impl connector_core::StreamWriter for TwiceWriter {
        async fn write(
            &mut self,
            first: u64,
            batch: Arc<connector_core::RecordBatch>,
        ) -> connector_core::Result<connector_core::WriteReport> {
            let mut r = connector_core::WriteReport::all_written(
                first,
                batch.len(),
                connector_core::WriteAction::Created,
            );
            r.outcomes.push(r.outcomes[0].clone());
            Ok(r)
        }
        async fn flush(&mut self) -> connector_core::Result<connector_core::WriteReport> {
            Ok(Default::default())
        }
    }
    let source = MemorySource::new().with_stream(stream(), records(0..10));
    let err = copy(&source, &Twice, CopyOptions::new()).await.unwrap_err();
    assert!(
        err.to_string().contains("second outcome for record 0"),
        "{err}"
    );
    assert!(
        err.report.totals().is_balanced(),
        "{:?}",
        err.report.totals()
    );
}

#[tokio::test]
async fn a_source_failure_keeps_what_was_delivered_and_saves_state_up_to_it() {
    let source = MemorySource::new()
        .with_stream(stream(), records(0..100))
        .fail_after(45);
    let sink = MemorySink::new();
    let store = MemoryStateStore::new();
    let options = CopyOptions::new()
        .batch_size(10)
        .sync_mode(SyncMode::Incremental)
        .state_store(Arc::new(store.clone()));
    let err = copy(&source, &sink, options).await.unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::Unavailable);
    let t = err.report.totals();
    assert_eq!((t.read, t.written, t.failed), (45, 45, 0));
    let saved = store.load().await.unwrap().unwrap();
    let cursor = saved.streams["contacts"]
        .partitions
        .values()
        .next()
        .and_then(|p| p.cursor.clone());
    assert_eq!(
        cursor,
        Some(CursorValue::Integer(440)),
        "state covers exactly the 45 delivered records"
    );

    // The next run resumes after them: nothing duplicated, nothing missed.
    let source = MemorySource::new().with_stream(stream(), records(0..100));
    let options = CopyOptions::new()
        .batch_size(10)
        .sync_mode(SyncMode::Incremental)
        .state_store(Arc::new(store.clone()));
    let report = copy(&source, &sink, options).await.unwrap();
    assert_eq!(report.totals().read, 55);
    assert_eq!(sink.len("contacts"), 100);
    assert_eq!(
        store.get().unwrap().streams["contacts"].cursor,
        Some(CursorValue::Integer(990))
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_a_final_failure_withholds_the_state() {
    // Record 5 fails twice, record 7 fails every time.
    let attempts = Arc::new(Mutex::new(std::collections::HashMap::<i64, u32>::new()));
    let seen = attempts.clone();
    let sink = MemorySink::new();
    let failing = FailingSink {
        inner: sink.clone(),
        attempts: seen,
    };
    let store = MemoryStateStore::new();
    let source = MemorySource::new().with_stream(stream(), records(0..20));
    let dead = MemoryDeadLetter::new();
    let options = CopyOptions::new()
        .batch_size(4)
        .retry_failed(2)
        .sync_mode(SyncMode::Incremental)
        .dead_letter(Arc::new(dead.clone()))
        .state_store(Arc::new(store.clone()));
    let report = copy(&source, &failing, options).await.unwrap();
    let t = report.totals();
    assert_eq!((t.read, t.written, t.failed), (20, 19, 1));
    assert!(t.state_withheld);
    assert_eq!(attempts.lock().unwrap()[&5], 3, "first try and two retries");
    assert_eq!(dead.entries().len(), 1);
    assert_eq!(dead.entries()[0].stage, DeadLetterStage::SinkFailed);
    let state = store.get().unwrap_or_default();
    let cursor = state.streams.get("contacts").and_then(|s| {
        s.cursor
            .clone()
            .or_else(|| s.partitions.values().filter_map(|p| p.cursor.clone()).max())
    });
    assert!(
        cursor
            .as_ref()
            .is_none_or(|c| *c < CursorValue::Integer(70)),
        "state must not pass the undelivered record 7: {cursor:?}"
    );

    #[derive(Debug)]
    struct FailingSink {
        inner: MemorySink,
        attempts: Arc<Mutex<std::collections::HashMap<i64, u32>>>,
    }
    struct FailingWriter {
        inner: Box<dyn connector_core::StreamWriter>,
        attempts: Arc<Mutex<std::collections::HashMap<i64, u32>>>,
    }
    #[async_trait::async_trait]
    impl connector_core::Sink for FailingSink {
        async fn check(&self) -> connector_core::Result<()> {
            Ok(())
        }
        fn capabilities(&self) -> connector_core::SinkCapabilities {
            self.inner.capabilities()
        }
        async fn open(
            &self,
            s: &StreamInfo,
            m: &WriteMode,
        ) -> connector_core::Result<Box<dyn connector_core::StreamWriter>> {
            Ok(Box::new(FailingWriter {
                inner: self.inner.open(s, m).await?,
                attempts: self.attempts.clone(),
            }))
        }
    }
    #[async_trait::async_trait]
    impl connector_core::StreamWriter for FailingWriter {
        async fn write(
            &mut self,
            first: u64,
            batch: Arc<connector_core::RecordBatch>,
        ) -> connector_core::Result<connector_core::WriteReport> {
            let mut report = connector_core::WriteReport::new();
            let mut pass = Vec::new();
            for (i, r) in batch.records.iter().enumerate() {
                let id = r.get(0).as_i64().unwrap();
                let n = {
                    let mut a = self.attempts.lock().unwrap();
                    let n = a.entry(id).or_default();
                    *n += 1;
                    *n
                };
                if id == 7 || (id == 5 && n < 3) {
                    let error = RecordError::new("UNABLE_TO_LOCK_ROW", "row locked");
                    report.push(
                        first + i as u64,
                        connector_core::RecordOutcome::Failed { error },
                    );
                } else {
                    pass.push((first + i as u64, r.clone()));
                }
            }
            for (id, r) in pass {
                let one = connector_core::RecordBatch::new(
                    batch.stream.clone(),
                    batch.schema.clone(),
                    vec![r],
                );
                report.extend(self.inner.write(id, Arc::new(one)).await?);
            }
            Ok(report)
        }
        async fn flush(&mut self) -> connector_core::Result<connector_core::WriteReport> {
            self.inner.flush().await
        }
    }
}

#[tokio::test]
async fn upsert_reports_created_updated_and_unchanged() {
    let sink = MemorySink::new();
    let mode = WriteMode::Upsert {
        key: vec!["id".into()],
    };
    let first = MemorySource::new().with_stream(stream(), records(0..10));
    let r = copy(&first, &sink, CopyOptions::new().write_mode(mode.clone()))
        .await
        .unwrap();
    assert_eq!(r.totals().created, 10);
    let mut changed = records(0..12);
    changed[2].values[1] = Value::String("new@example.com".into());
    let second = MemorySource::new().with_stream(stream(), changed);
    let r = copy(&second, &sink, CopyOptions::new().write_mode(mode))
        .await
        .unwrap();
    let t = r.totals();
    assert_eq!((t.created, t.updated, t.unchanged), (2, 1, 9));
    assert_eq!(sink.len("contacts"), 12);
}

#[tokio::test]
async fn progress_events_describe_the_run() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let source = MemorySource::new().with_stream(stream(), records(0..30));
    let options = CopyOptions::new()
        .batch_size(10)
        .on_progress(move |p| seen.lock().unwrap().push(p.clone()));
    let report = copy(&source, &MemorySink::new(), options).await.unwrap();
    let events = events.lock().unwrap();
    assert!(matches!(
        events.first(),
        Some(Progress::StreamStarted { partitions: 1, .. })
    ));
    let counts: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Counts { counts, .. } => Some(counts.written),
            _ => None,
        })
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]) && counts.contains(&30),
        "{counts:?}"
    );
    assert!(matches!(
        events.last(),
        Some(Progress::Counts { .. }) | Some(Progress::StreamFinished { .. })
    ));
    assert_eq!(report.totals().written, 30);
}

#[tokio::test]
async fn configuration_errors_come_before_any_write() {
    let source = MemorySource::new().with_stream(stream(), records(0..3));
    let sink = MemorySink::new();
    let err = copy(&source, &sink, CopyOptions::new().stream("nope"))
        .await
        .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("nope") && err.error.context_value("streams") == Some("contacts"),
        "{err}"
    );

    let file_sink =
        connector_core::file::CsvSink::new(std::env::temp_dir().join("never-written.csv"));
    let err = copy(
        &source,
        &file_sink,
        CopyOptions::new().write_mode(WriteMode::Update),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidConfig);
    assert!(sink.is_empty("contacts"));
}

#[tokio::test]
async fn state_never_passes_a_window_that_has_not_reported() {
    use connector_core::source::{Checkpoint, Partition, ReadRequest, Source, SourceEvent};
    use connector_core::state::CursorWindow;
    use futures::stream::{self, BoxStream, StreamExt};

    /// Window (0, 10] hangs and then fails; window (10, 20] finishes at once.
    #[derive(Debug)]
    struct TwoWindows;
    #[async_trait::async_trait]
    impl Source for TwoWindows {
        async fn check(&self) -> connector_core::Result<()> {
            Ok(())
        }
        async fn discover(&self) -> connector_core::Result<connector_core::Catalog> {
            Ok(connector_core::Catalog::new(vec![stream()]))
        }
        async fn plan(&self, req: &ReadRequest) -> connector_core::Result<Vec<Partition>> {
            let window = |a: i64, b: i64| CursorWindow {
                start: Some(CursorValue::Integer(a)),
                end: Some(CursorValue::Integer(b)),
            };
            let p = |id: &str, w| Partition {
                id: id.into(),
                window: w,
                ..Partition::whole(req)
            };
            Ok(vec![p("early", window(0, 10)), p("late", window(10, 20))])
        }
        fn read(
            &self,
            partition: Partition,
        ) -> BoxStream<'static, connector_core::Result<SourceEvent>> {
            if partition.id == "early" {
                return stream::once(async {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    Err(connector_core::ConnectorError::new(
                        ErrorKind::Unavailable,
                        "test",
                        "early window failed",
                    ))
                })
                .boxed();
            }
            let batch =
                connector_core::RecordBatch::new(stream().id, stream().schema, records(11..16));
            let cp = Checkpoint::new(&partition, Some(CursorValue::Integer(150)), None, true);
            stream::iter(vec![
                Ok(SourceEvent::Batch(batch)),
                Ok(SourceEvent::Checkpoint(cp)),
            ])
            .boxed()
        }
    }

    for mode in [SyncMode::FullRefresh, SyncMode::Incremental] {
        let store = MemoryStateStore::new();
        let options = CopyOptions::new()
            .sync_mode(mode)
            .state_store(Arc::new(store.clone()));
        let err = copy(&TwoWindows, &MemorySink::new(), options)
            .await
            .unwrap_err();
        assert_eq!(err.error.kind(), ErrorKind::Unavailable);
        assert_eq!(
            err.report.totals().written,
            5,
            "the late window's records were delivered"
        );
        let saved = store.get().unwrap();
        let cursor = saved.streams["contacts"].cursor.clone();
        assert!(
            cursor
                .as_ref()
                .is_none_or(|c| *c <= CursorValue::Integer(0)),
            "{mode:?}: the cursor passed the early window, which never reported: {saved:?}"
        );
        assert!(
            saved.streams["contacts"].partitions.contains_key("late"),
            "the late window is kept for later"
        );
    }
}
