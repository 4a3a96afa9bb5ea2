//! The built-in sinks pass the conformance kit, and the kit catches broken sinks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use connector_core::file::{CsvSink, JsonlSink};
use connector_core::memory::MemorySink;
use connector_core::testkit::{
    run_conformance, run_conformance_with_mode, sample_records, sample_stream,
};
use connector_core::{RecordError, WriteMode};

#[tokio::test]
async fn memory_sink_conforms() {
    let report = run_conformance(MemorySink::new, sample_stream(), sample_records(300))
        .await
        .unwrap();
    assert_eq!(
        (report.records, report.written, report.fault_runs),
        (300, 300, 2)
    );
}

#[tokio::test]
async fn deferred_memory_sink_with_rejects_conforms() {
    let make = || {
        MemorySink::new()
            .deferred()
            .with_max_batch_records(50)
            .reject_when(|_, r| {
                (r.get(0).as_i64()? % 9 == 0)
                    .then(|| RecordError::new("INVALID", "multiple of nine"))
            })
    };
    let report = run_conformance(make, sample_stream(), sample_records(200))
        .await
        .unwrap();
    assert_eq!((report.written, report.rejected), (177, 23));
}

#[tokio::test]
async fn memory_sink_upsert_conforms() {
    let mode = WriteMode::Upsert {
        key: vec!["id".into()],
    };
    run_conformance_with_mode(MemorySink::new, sample_stream(), sample_records(100), mode)
        .await
        .unwrap();
}

#[tokio::test]
async fn csv_sink_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    let make = || {
        CsvSink::new(
            dir.path()
                .join(format!("run{}.csv", n.fetch_add(1, Ordering::SeqCst))),
        )
    };
    let report = run_conformance(make, sample_stream(), sample_records(250))
        .await
        .unwrap();
    assert_eq!(report.written, 250);
}

#[tokio::test]
async fn jsonl_sink_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    let make = || {
        JsonlSink::new(
            dir.path()
                .join(format!("run{}.jsonl", n.fetch_add(1, Ordering::SeqCst))),
        )
    };
    let report = run_conformance(make, sample_stream(), sample_records(250))
        .await
        .unwrap();
    assert_eq!(report.written, 250);
}

/// A sink that forgets the outcome of every 10th record must fail the kit.
#[tokio::test]
async fn the_kit_catches_a_sink_that_drops_outcomes() {
    #[derive(Debug, Default)]
    struct Forgetful(MemorySink);
    struct ForgetfulWriter(Box<dyn connector_core::StreamWriter>);
    #[async_trait::async_trait]
    impl connector_core::Sink for Forgetful {
        async fn check(&self) -> connector_core::Result<()> {
            Ok(())
        }
        fn capabilities(&self) -> connector_core::SinkCapabilities {
            self.0.capabilities()
        }
        async fn open(
            &self,
            s: &connector_core::StreamInfo,
            m: &WriteMode,
        ) -> connector_core::Result<Box<dyn connector_core::StreamWriter>> {
            Ok(Box::new(ForgetfulWriter(self.0.open(s, m).await?)))
        }
    }
    #[async_trait::async_trait]
    impl connector_core::StreamWriter for ForgetfulWriter {
        async fn write(
            &mut self,
            first: u64,
            batch: Arc<connector_core::RecordBatch>,
        ) -> connector_core::Result<connector_core::WriteReport> {
            let mut r = self.0.write(first, batch).await?;
            r.outcomes.retain(|(id, _)| id % 10 != 9);
            Ok(r)
        }
        async fn flush(&mut self) -> connector_core::Result<connector_core::WriteReport> {
            self.0.flush().await
        }
    }
    let err = run_conformance(Forgetful::default, sample_stream(), sample_records(50))
        .await
        .unwrap_err();
    assert_eq!(err.check, "exactly once");
    assert!(
        err.detail
            .contains("no outcome after flush for records [9, 19"),
        "{err}"
    );
}
