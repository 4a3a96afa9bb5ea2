//! Zoho CRM modules as a connector-core [`Sink`]: insert, update, upsert
//! (`duplicate_check_fields`) and delete in calls of 100, one outcome per record with
//! Zoho's code, message and the field concerned.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::{
    ConnectorError, RecordBatch, RecordError, RecordId, RecordOutcome, Sink, SinkCapabilities,
    StreamInfo, StreamWriter, WriteAction, WriteMode, WriteModeKind, WriteReport,
};
use serde_json::{Map, Value};

use crate::client::ZohoClient;
use crate::records::{MAX_RECORDS_PER_WRITE, WriteOperation, WriteResult};

/// Writes records to a module (the stream's name, unless set).
#[derive(Clone, Debug)]
pub struct ZohoSink {
    client: ZohoClient,
    module: Option<String>,
    write_nulls: bool,
}

impl ZohoSink {
    /// A sink writing each stream to the module of the same name.
    pub fn new(client: ZohoClient) -> Self {
        Self {
            client,
            module: None,
            write_nulls: false,
        }
    }

    /// Writes every stream to `module`.
    #[must_use]
    pub fn module(mut self, module: impl Into<String>) -> Self {
        self.module = Some(module.into());
        self
    }

    /// Sends null values (clearing the field) instead of leaving them out (the
    /// default, Azure Data Factory's `ignoreNullValues`).
    #[must_use]
    pub fn write_nulls(mut self, yes: bool) -> Self {
        self.write_nulls = yes;
        self
    }
}

#[async_trait]
impl Sink for ZohoSink {
    async fn check(&self) -> connector_core::Result<()> {
        self.client
            .modules()
            .await
            .map(|_| ())
            .map_err(ConnectorError::from)
    }

    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            modes: vec![
                WriteModeKind::Insert,
                WriteModeKind::Update,
                WriteModeKind::Upsert,
                WriteModeKind::Delete,
            ],
            max_batch_records: Some(MAX_RECORDS_PER_WRITE),
            deferred_outcomes: false,
        }
    }

    async fn open(
        &self,
        stream: &StreamInfo,
        mode: &WriteMode,
    ) -> connector_core::Result<Box<dyn StreamWriter>> {
        let module = self
            .module
            .clone()
            .unwrap_or_else(|| stream.id.name.clone());
        let needs_id = matches!(mode, WriteMode::Update | WriteMode::Delete);
        if needs_id && stream.schema.index_of("id").is_none() {
            return Err(ConnectorError::config(
                "zoho.sink.open",
                format!("{mode:?} on module `{module}` needs an `id` field in the stream"),
            ));
        }
        let operation = match mode {
            WriteMode::Insert => Some(WriteOperation::Insert),
            WriteMode::Update => Some(WriteOperation::Update),
            WriteMode::Upsert { key } => Some(WriteOperation::Upsert {
                duplicate_check_fields: key.clone(),
            }),
            WriteMode::Delete => None,
            _ => {
                return Err(ConnectorError::config(
                    "zoho.sink.open",
                    format!("{mode:?} is not supported"),
                ));
            }
        };
        Ok(Box::new(ZohoWriter {
            client: self.client.clone(),
            module,
            operation,
            write_nulls: self.write_nulls,
        }))
    }
}

struct ZohoWriter {
    client: ZohoClient,
    module: String,
    /// `None` deletes.
    operation: Option<WriteOperation>,
    write_nulls: bool,
}

impl ZohoWriter {
    fn object(&self, batch: &RecordBatch, index: usize) -> Map<String, Value> {
        let mut object = Map::new();
        if let Some(record) = batch.records.get(index) {
            for (field, value) in batch.schema.fields.iter().zip(&record.values) {
                if value.is_null() && !self.write_nulls {
                    continue;
                }
                object.insert(
                    field.name.clone(),
                    type_mapping::json::to_json(value, &field.data_type),
                );
            }
        }
        object
    }
}

fn outcome(result: WriteResult, insert: bool) -> RecordOutcome {
    match result {
        WriteResult::Success { id, action } => {
            let action = match action.as_deref() {
                Some("insert") => WriteAction::Created,
                Some("update") => WriteAction::Updated,
                Some("delete") => WriteAction::Deleted,
                _ if insert => WriteAction::Created,
                _ => WriteAction::Updated,
            };
            RecordOutcome::Written {
                action,
                remote_id: id,
            }
        }
        WriteResult::Error {
            code,
            message,
            details,
        } => {
            let fields: Vec<String> = details
                .get("api_name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect();
            let error = RecordError::new(code.clone(), message).with_fields(fields);
            if code == "TOO_MANY_REQUESTS" || code == "INTERNAL_ERROR" || code == "RECORD_LOCKED" {
                RecordOutcome::Failed { error }
            } else {
                RecordOutcome::Rejected { error }
            }
        }
    }
}

#[async_trait]
impl StreamWriter for ZohoWriter {
    async fn write(
        &mut self,
        first_id: RecordId,
        batch: Arc<RecordBatch>,
    ) -> connector_core::Result<WriteReport> {
        let records = self.client.records(self.module.clone());
        let results = match &self.operation {
            Some(op) => {
                let objects: Vec<Map<String, Value>> =
                    (0..batch.len()).map(|i| self.object(&batch, i)).collect();
                records.write(op, &objects).await
            }
            None => {
                let id_at = batch.schema.index_of("id").unwrap_or(0);
                let ids: Vec<String> = batch
                    .records
                    .iter()
                    .map(|r| match r.get(id_at) {
                        type_mapping::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                records.delete(&ids).await
            }
        };
        let insert = matches!(self.operation, Some(WriteOperation::Insert));
        let mut report = WriteReport::new();
        match results {
            Ok(results) => {
                for (i, result) in results.into_iter().enumerate() {
                    let mut o = outcome(result, insert);
                    if self.operation.is_none()
                        && let RecordOutcome::Written { action, .. } = &mut o
                    {
                        *action = WriteAction::Deleted;
                    }
                    report.push(first_id + i as u64, o);
                }
                Ok(report)
            }
            // Throttled or unavailable after retries: the records may be tried again.
            Err(e) if e.is_transient() => {
                let error = RecordError::new(e.code().unwrap_or("UNAVAILABLE"), e.to_string());
                for i in 0..batch.len() {
                    report.push(
                        first_id + i as u64,
                        RecordOutcome::Failed {
                            error: error.clone(),
                        },
                    );
                }
                Ok(report)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn flush(&mut self) -> connector_core::Result<WriteReport> {
        Ok(WriteReport::new())
    }
}
