//! A slow sink slows the reading: the source is never more than a bounded number of
//! batches ahead of the sink, whatever the number of records.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use connector_core::source::{Checkpoint, Partition, ReadRequest, Source, SourceEvent};
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{
    Catalog, CopyOptions, Record, RecordBatch, Result, Sink, SinkCapabilities, StreamInfo,
    StreamWriter, WriteAction, WriteMode, WriteReport, copy,
};
use futures::stream::{self, BoxStream, StreamExt};

#[derive(Debug, Clone)]
struct CountingSource {
    produced: Arc<AtomicUsize>,
    batches_per_partition: usize,
    partitions: usize,
}

fn info() -> StreamInfo {
    StreamInfo::new(
        "numbers",
        Schema::new(vec![Field::new("n", DataType::Int64)]),
    )
}

#[async_trait]
impl Source for CountingSource {
    async fn check(&self) -> Result<()> {
        Ok(())
    }
    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::new(vec![info()]))
    }
    async fn plan(&self, req: &ReadRequest) -> Result<Vec<Partition>> {
        Ok((0..self.partitions)
            .map(|i| {
                let mut p = Partition::whole(req);
                p.id = i.to_string();
                p
            })
            .collect())
    }
    fn read(&self, partition: Partition) -> BoxStream<'static, Result<SourceEvent>> {
        let produced = self.produced.clone();
        let schema = info().schema;
        let n = self.batches_per_partition;
        stream::iter(0..n)
            .map(move |i| {
                // Counted when the stream is polled for the batch: lazily.
                produced.fetch_add(1, Ordering::SeqCst);
                let records = (0..100)
                    .map(|j| Record::new(vec![Value::Int64((i * 100 + j) as i64)]))
                    .collect();
                Ok(SourceEvent::Batch(RecordBatch::new(
                    info().id,
                    schema.clone(),
                    records,
                )))
            })
            .chain(stream::once(futures::future::ready(Ok(
                SourceEvent::Checkpoint(Checkpoint::new(&partition, None, None, true)),
            ))))
            .boxed()
    }
}

#[derive(Debug)]
struct SlowSink {
    produced: Arc<AtomicUsize>,
    consumed: Arc<AtomicUsize>,
    max_lead: Arc<AtomicUsize>,
}

struct SlowWriter {
    produced: Arc<AtomicUsize>,
    consumed: Arc<AtomicUsize>,
    max_lead: Arc<AtomicUsize>,
}

#[async_trait]
impl Sink for SlowSink {
    async fn check(&self) -> Result<()> {
        Ok(())
    }
    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities::default()
    }
    async fn open(&self, _: &StreamInfo, _: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        Ok(Box::new(SlowWriter {
            produced: self.produced.clone(),
            consumed: self.consumed.clone(),
            max_lead: self.max_lead.clone(),
        }))
    }
}

#[async_trait]
impl StreamWriter for SlowWriter {
    async fn write(&mut self, first: u64, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let consumed = self.consumed.fetch_add(1, Ordering::SeqCst) + 1;
        let lead = self
            .produced
            .load(Ordering::SeqCst)
            .saturating_sub(consumed);
        self.max_lead.fetch_max(lead, Ordering::SeqCst);
        Ok(WriteReport::all_written(
            first,
            batch.len(),
            WriteAction::Created,
        ))
    }
    async fn flush(&mut self) -> Result<WriteReport> {
        Ok(WriteReport::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_stays_a_bounded_number_of_batches_ahead() {
    let produced = Arc::new(AtomicUsize::new(0));
    let source = CountingSource {
        produced: produced.clone(),
        batches_per_partition: 60,
        partitions: 3,
    };
    let sink = SlowSink {
        produced: produced.clone(),
        consumed: Arc::default(),
        max_lead: Arc::default(),
    };
    let in_flight = 4;
    let options = CopyOptions::new()
        .max_in_flight_batches(in_flight)
        .max_partitions(3);
    let report = copy(&source, &sink, options).await.unwrap();
    assert_eq!(report.totals().written, 180 * 100);
    let lead = sink.max_lead.load(Ordering::SeqCst);
    // The channel holds `in_flight` batches; each of the 3 partition readers holds one
    // more it is trying to send, and the writer one it is writing: bounded, whatever
    // the 180 batches that went through.
    assert!(
        lead <= in_flight + 3 + 1,
        "the source ran {lead} batches ahead of the sink"
    );
    assert!(lead >= 1, "reading and writing overlap");
}
