//! Salesforce objects as a connector-core [`Sink`], through Bulk API 2.0 ingest jobs.
//!
//! Records are encoded as they are written; a job is sealed every `writeBatchSize` rows
//! (default 100,000) or before its CSV would pass 100 MB, and runs in the background
//! while more records arrive, up to `maxConcurrentConnections` jobs at once. Outcomes are
//! deferred: each job's rows are resolved from its result files when it finishes (see
//! [`crate::ingest`] for how result rows are matched to input rows), and `flush` waits
//! for every job. A job that cannot run for a transient reason marks its rows failed
//! (the copy driver may retry them); a permanent job error (an unknown field, a missing
//! permission) is returned as the error it is.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::{
    ConnectorError, RecordBatch, RecordError, RecordId, RecordOutcome, Sink, SinkCapabilities,
    StreamInfo, StreamWriter, WriteMode, WriteModeKind, WriteReport,
};
use tokio::task::JoinHandle;

use crate::client::SalesforceClient;
use crate::error::SalesforceError;
use crate::ingest::{CsvEncoder, IngestJobs, IngestOperation, IngestOptions, JobBuffer};

/// Azure Data Factory's `writeBehavior`, plus the operations it lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[non_exhaustive]
pub enum WriteBehavior {
    /// Create records.
    #[serde(alias = "insert")]
    Insert,
    /// Update or create by `externalIdFieldName`.
    #[serde(alias = "upsert")]
    Upsert,
    /// Update by `Id`.
    #[serde(alias = "update")]
    Update,
    /// Delete by `Id`.
    #[serde(alias = "delete")]
    Delete,
    /// Delete by `Id` permanently.
    #[serde(alias = "hardDelete", alias = "harddelete")]
    HardDelete,
}

/// Writes records to an sObject (the stream's name, unless set).
#[derive(Clone, Debug)]
pub struct SalesforceSink {
    client: SalesforceClient,
    object: Option<String>,
    write_behavior: Option<WriteBehavior>,
    external_id_field_name: Option<String>,
    options: IngestOptions,
}

impl SalesforceSink {
    /// A sink writing each stream to the object of the same name, with the copy's
    /// write mode.
    pub fn new(client: SalesforceClient) -> Self {
        Self {
            client,
            object: None,
            write_behavior: None,
            external_id_field_name: None,
            options: IngestOptions::default(),
        }
    }

    /// Writes every stream to `object` (`objectApiName`).
    #[must_use]
    pub fn object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Uses this operation whatever the copy's write mode.
    #[must_use]
    pub fn write_behavior(mut self, behavior: WriteBehavior) -> Self {
        self.write_behavior = Some(behavior);
        self
    }

    /// The external id field of upserts (when the write mode names no key).
    #[must_use]
    pub fn external_id_field_name(mut self, name: impl Into<String>) -> Self {
        self.external_id_field_name = Some(name.into());
        self
    }

    /// Rows per job (default 100,000).
    #[must_use]
    pub fn write_batch_size(mut self, rows: usize) -> Self {
        self.options.write_batch_size = rows.max(1);
        self
    }

    /// Leaves fields unchanged where values are null, instead of clearing them.
    #[must_use]
    pub fn ignore_null_values(mut self, yes: bool) -> Self {
        self.options.ignore_null_values = yes;
        self
    }

    /// Jobs in flight at once (default 1).
    #[must_use]
    pub fn max_concurrent_connections(mut self, n: usize) -> Self {
        self.options.max_concurrent_jobs = n.max(1);
        self
    }

    /// Raw bytes per job (default 100 MB).
    #[must_use]
    pub fn max_upload_bytes(mut self, bytes: usize) -> Self {
        self.options.max_upload_bytes = bytes.max(1);
        self
    }

    fn operation(&self, mode: &WriteMode, object: &str) -> connector_core::Result<IngestOperation> {
        let key_of = |key: &[String]| {
            key.first()
                .cloned()
                .or_else(|| self.external_id_field_name.clone())
                .filter(|k| !k.trim().is_empty())
                .ok_or_else(|| {
                    ConnectorError::from(SalesforceError::invalid_request(
                        "salesforce.sink.open",
                        format!("upsert on `{object}` needs externalIdFieldName"),
                    ))
                })
        };
        Ok(match (self.write_behavior, mode) {
            (Some(WriteBehavior::Insert), _) => IngestOperation::Insert,
            (Some(WriteBehavior::Update), _) => IngestOperation::Update,
            (Some(WriteBehavior::Delete), _) => IngestOperation::Delete,
            (Some(WriteBehavior::HardDelete), _) => IngestOperation::HardDelete,
            (Some(WriteBehavior::Upsert), WriteMode::Upsert { key }) => IngestOperation::Upsert {
                external_id_field_name: key_of(key)?,
            },
            (Some(WriteBehavior::Upsert), _) => IngestOperation::Upsert {
                external_id_field_name: key_of(&[])?,
            },
            (None, WriteMode::Insert) => IngestOperation::Insert,
            (None, WriteMode::Update) => IngestOperation::Update,
            (None, WriteMode::Delete) => IngestOperation::Delete,
            (None, WriteMode::Upsert { key }) => IngestOperation::Upsert {
                external_id_field_name: key_of(key)?,
            },
            (None, other) => {
                return Err(ConnectorError::config(
                    "salesforce.sink.open",
                    format!("{other:?} is not supported"),
                ));
            }
        })
    }
}

#[async_trait]
impl Sink for SalesforceSink {
    async fn check(&self) -> connector_core::Result<()> {
        self.client
            .limits()
            .await
            .map(|_| ())
            .map_err(ConnectorError::from)
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
            deferred_outcomes: true,
        }
    }

    async fn open(
        &self,
        stream: &StreamInfo,
        mode: &WriteMode,
    ) -> connector_core::Result<Box<dyn StreamWriter>> {
        let object = self
            .object
            .clone()
            .unwrap_or_else(|| stream.id.name.clone());
        let operation = self.operation(mode, &object)?;
        let encoder = CsvEncoder::new(stream.schema.clone(), &operation, &self.options, &object)
            .map_err(ConnectorError::from)?;
        let current = encoder.new_buffer();
        Ok(Box::new(SalesforceWriter {
            jobs: self.client.ingest_jobs(),
            object,
            operation,
            options: self.options.clone(),
            encoder,
            current,
            in_flight: Vec::new(),
        }))
    }
}

type JobTask = JoinHandle<crate::error::Result<Vec<(u64, RecordOutcome)>>>;

struct SalesforceWriter {
    jobs: IngestJobs,
    object: String,
    operation: IngestOperation,
    options: IngestOptions,
    encoder: CsvEncoder,
    current: JobBuffer,
    /// Running jobs, oldest first, with the ids of their rows.
    in_flight: Vec<(Vec<RecordId>, JobTask)>,
}

impl SalesforceWriter {
    fn seal(&mut self) {
        if self.current.is_empty() {
            return;
        }
        let buffer = std::mem::replace(&mut self.current, self.encoder.new_buffer());
        let ids = buffer.rows.iter().map(|(id, _)| *id).collect();
        let jobs = self.jobs.clone();
        let object = self.object.clone();
        let operation = self.operation.clone();
        let options = self.options.clone();
        let task =
            tokio::spawn(
                async move { jobs.run_buffer(&object, &operation, &options, buffer).await },
            );
        self.in_flight.push((ids, task));
    }

    async fn settle_oldest(&mut self, report: &mut WriteReport) -> connector_core::Result<()> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let (ids, task) = self.in_flight.remove(0);
        let outcome = task.await.map_err(|e| {
            ConnectorError::new(
                connector_core::ErrorKind::Unexpected,
                "salesforce.sink",
                format!("an ingest job task failed: {e}"),
            )
        })?;
        match outcome {
            Ok(outcomes) => {
                for (id, o) in outcomes {
                    report.push(id, o);
                }
                Ok(())
            }
            Err(e) if e.is_transient() => {
                let error = RecordError::new(e.code().unwrap_or("UNAVAILABLE"), e.to_string());
                for id in ids {
                    report.push(
                        id,
                        RecordOutcome::Failed {
                            error: error.clone(),
                        },
                    );
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl StreamWriter for SalesforceWriter {
    async fn write(
        &mut self,
        first_id: RecordId,
        batch: Arc<RecordBatch>,
    ) -> connector_core::Result<WriteReport> {
        let mut report = WriteReport::new();
        for (i, record) in batch.records.iter().enumerate() {
            let cells = self.encoder.cells(record);
            let line = self.encoder.line(&cells);
            if self.current.len() >= self.options.write_batch_size
                || self
                    .current
                    .would_exceed(line.len(), self.options.max_upload_bytes)
            {
                self.seal();
                while self.in_flight.len() > self.options.max_concurrent_jobs.max(1) {
                    self.settle_oldest(&mut report).await?;
                }
            }
            self.current.push(first_id + i as u64, &cells, &line);
        }
        // Collect the jobs that already finished, without waiting.
        while self.in_flight.first().is_some_and(|(_, t)| t.is_finished()) {
            self.settle_oldest(&mut report).await?;
        }
        Ok(report)
    }

    async fn flush(&mut self) -> connector_core::Result<WriteReport> {
        self.seal();
        let mut report = WriteReport::new();
        let mut first_err = None;
        while !self.in_flight.is_empty() {
            if let Err(e) = self.settle_oldest(&mut report).await
                && first_err.is_none()
            {
                first_err = Some(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

impl Drop for SalesforceWriter {
    fn drop(&mut self) {
        // Jobs already submitted keep running on the server; the local tasks stop.
        for (_, task) in &self.in_flight {
            task.abort();
        }
    }
}
