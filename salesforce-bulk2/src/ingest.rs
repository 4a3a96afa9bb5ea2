//! Bulk API 2.0 ingest jobs: insert, update, upsert, delete, hardDelete.
//!
//! One CSV upload per job (as every peer does: ≤100 MB raw, Salesforce's limit is 150 MB
//! base64). [`IngestJobs::run`] writes typed records as CSV (every value quoted,
//! date-times as `YYYY-MM-DDTHH:MM:SS.sssZ`, dates `YYYY-MM-DD`, multi-select picklists
//! `A;B`; null as `#N/A` to clear the field, or empty to leave it unchanged with
//! `ignore_null_values`), uploads it, closes the job, waits for it, and reads
//! `successfulResults`, `failedResults` and `unprocessedrecords`, so that every input
//! row gets exactly one outcome.
//!
//! # Matching results to input rows
//!
//! Salesforce's result files echo each row's original columns but are not in input
//! order, and there is no hidden column that could carry a row number. Rows are matched
//! by their content: each input row's cells, exactly as uploaded, key a queue of the
//! input rows that had them (identical rows are interchangeable, so they are taken in
//! order). A result row whose echoed cells match no remaining input row (were the
//! server to normalise a value) is given to the first input row still without an
//! outcome, in input order; an input row that no result file mentions is
//! [`RecordOutcome::Failed`] (`NO_RESULT`). Either way no row is left without an
//! outcome, and none gets two.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use connector_core::{Record, RecordError, RecordOutcome, WriteAction};
use reqwest::Method;
use type_mapping::text::{self, TextDialect};
use type_mapping::{Schema, Value};

use crate::client::{Call, SalesforceClient};
use crate::csv_stream::{CsvFeeder, Span, cells};
use crate::error::{Result, SalesforceError};
use crate::job::{self, ColumnDelimiter, JobInfo, JobState, LineEnding};

/// Salesforce's raw upload limit per job, as every peer uses it: 100 MB.
pub const MAX_UPLOAD_BYTES: usize = 100_000_000;

/// Azure Data Factory's default `writeBatchSize`: 100,000 rows per job.
pub const DEFAULT_WRITE_BATCH_SIZE: usize = 100_000;

/// What an ingest job does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IngestOperation {
    /// Create records.
    Insert,
    /// Update records by `Id`.
    Update,
    /// Update or create by an external id field.
    Upsert {
        /// The external id field (`externalIdFieldName`).
        external_id_field_name: String,
    },
    /// Delete records by `Id` (to the recycle bin).
    Delete,
    /// Delete records by `Id` permanently ("Bulk API Hard Delete" permission).
    HardDelete,
}

impl IngestOperation {
    /// The operation as Salesforce spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert { .. } => "upsert",
            Self::Delete => "delete",
            Self::HardDelete => "hardDelete",
        }
    }

    fn deletes(&self) -> bool {
        matches!(self, Self::Delete | Self::HardDelete)
    }
}

/// How records are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOptions {
    /// Leave fields whose value is null unchanged (an empty cell) instead of clearing
    /// them (`#N/A`). Azure Data Factory's `ignoreNullValues`.
    pub ignore_null_values: bool,
    /// Rows per job (`writeBatchSize`, default 100,000).
    pub write_batch_size: usize,
    /// Raw bytes per job before a new one is opened (default [`MAX_UPLOAD_BYTES`]).
    pub max_upload_bytes: usize,
    /// Jobs in flight at once (`maxConcurrentConnections`, default 1).
    pub max_concurrent_jobs: usize,
    /// The CSV column delimiter.
    pub column_delimiter: ColumnDelimiter,
    /// The CSV line ending.
    pub line_ending: LineEnding,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            ignore_null_values: false,
            write_batch_size: DEFAULT_WRITE_BATCH_SIZE,
            max_upload_bytes: MAX_UPLOAD_BYTES,
            max_concurrent_jobs: 1,
            column_delimiter: ColumnDelimiter::Comma,
            line_ending: LineEnding::Lf,
        }
    }
}

/// One row of a result file: the columns and the cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultRow {
    /// `sf__Id`, `sf__Created` or `sf__Error`, then the original columns.
    pub cells: Vec<String>,
}

/// The three result files of a job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobResults {
    /// `successfulResults`: header, then rows.
    pub successful: Vec<Vec<String>>,
    /// `failedResults`.
    pub failed: Vec<Vec<String>>,
    /// `unprocessedrecords`.
    pub unprocessed: Vec<Vec<String>>,
}

/// Bulk API 2.0 ingest jobs of a client.
#[derive(Clone, Debug)]
pub struct IngestJobs {
    client: SalesforceClient,
}

impl SalesforceClient {
    /// Ingest jobs.
    pub fn ingest_jobs(&self) -> IngestJobs {
        IngestJobs {
            client: self.clone(),
        }
    }
}

/// Reads `sf__Error` (`REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`)
/// into a record error with code, message and fields.
pub fn parse_sf_error(text: &str) -> RecordError {
    let t = text.trim();
    let t = t.strip_suffix("--").unwrap_or(t).trim_end();
    let Some((code, rest)) = t.split_once(':') else {
        return RecordError::new("UNKNOWN", t);
    };
    let code = code.trim();
    let valid_code = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid_code {
        return RecordError::new("UNKNOWN", t);
    }
    if let Some((message, fields)) = rest.rsplit_once(':') {
        let names: Vec<&str> = fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        if names.iter().all(|f| {
            f.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        }) {
            return RecordError::new(code, message.trim()).with_fields(names);
        }
    }
    RecordError::new(code, rest.trim())
}

/// Transient per-row errors: the same row may succeed later.
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "UNABLE_TO_LOCK_ROW"
            | "REQUEST_RUNNING_TOO_LONG"
            | "SERVER_UNAVAILABLE"
            | "UNKNOWN_EXCEPTION"
    )
}

fn row_key(cells: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in cells {
        c.hash(&mut h);
        0xffu8.hash(&mut h);
    }
    h.finish()
}

/// The CSV of one job being built, and the key of each row.
#[derive(Debug)]
pub(crate) struct JobBuffer {
    pub(crate) buf: Vec<u8>,
    /// `(caller's id, key of the row's cells)`, in input order.
    pub(crate) rows: Vec<(u64, u64)>,
    header_len: usize,
}

/// Writes records of a schema as Salesforce CSV.
#[derive(Clone, Debug)]
pub(crate) struct CsvEncoder {
    /// Schema positions written, in order.
    positions: Vec<usize>,
    header: Vec<u8>,
    schema: Arc<Schema>,
    delimiter: u8,
    line_ending: &'static [u8],
    ignore_nulls: bool,
}

fn push_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

impl CsvEncoder {
    /// An encoder of `schema`'s fields (only `Id` for deletes). Fails naming the field
    /// when the operation's key column is missing.
    pub(crate) fn new(
        schema: Arc<Schema>,
        operation: &IngestOperation,
        options: &IngestOptions,
        object: &str,
    ) -> Result<Self> {
        const OP: &str = "salesforce.ingest";
        let id = schema
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case("Id"));
        let positions: Vec<usize> = match operation {
            IngestOperation::Delete | IngestOperation::HardDelete => vec![id.ok_or_else(|| {
                SalesforceError::invalid_request(
                    OP,
                    format!(
                        "{} on `{object}` needs an `Id` field in the records",
                        operation.as_str()
                    ),
                )
            })?],
            IngestOperation::Update => {
                if id.is_none() {
                    return Err(SalesforceError::invalid_request(
                        OP,
                        format!("update on `{object}` needs an `Id` field in the records"),
                    ));
                }
                (0..schema.len()).collect()
            }
            IngestOperation::Upsert {
                external_id_field_name,
            } => {
                if external_id_field_name.trim().is_empty() {
                    return Err(SalesforceError::invalid_request(
                        OP,
                        format!("upsert on `{object}` needs externalIdFieldName"),
                    ));
                }
                if !schema
                    .fields
                    .iter()
                    .any(|f| f.name.eq_ignore_ascii_case(external_id_field_name))
                {
                    return Err(SalesforceError::invalid_request(
                        OP,
                        format!(
                            "upsert on `{object}`: the records have no field `{external_id_field_name}` (externalIdFieldName)"
                        ),
                    ));
                }
                (0..schema.len()).collect()
            }
            IngestOperation::Insert => (0..schema.len()).collect(),
        };
        let delimiter = options.column_delimiter.byte();
        let line_ending = options.line_ending.bytes();
        let mut header = Vec::new();
        for (i, &p) in positions.iter().enumerate() {
            if i > 0 {
                header.push(delimiter);
            }
            push_quoted(&mut header, &schema.fields[p].name);
        }
        header.extend_from_slice(line_ending);
        Ok(Self {
            positions,
            header,
            schema,
            delimiter,
            line_ending,
            ignore_nulls: options.ignore_null_values,
        })
    }

    pub(crate) fn new_buffer(&self) -> JobBuffer {
        JobBuffer {
            buf: self.header.clone(),
            rows: Vec::new(),
            header_len: self.header.len(),
        }
    }

    /// The row's cells as they will be uploaded.
    pub(crate) fn cells(&self, record: &Record) -> Vec<String> {
        self.positions
            .iter()
            .map(|&p| {
                let value = record.values.get(p).unwrap_or(&Value::Null);
                if value.is_null() {
                    return if self.ignore_nulls {
                        String::new()
                    } else {
                        "#N/A".to_owned()
                    };
                }
                let mut s = String::new();
                text::format(
                    value,
                    &self.schema.fields[p].data_type,
                    TextDialect::Salesforce,
                    &mut s,
                );
                s
            })
            .collect()
    }

    /// The encoded line of `cells`.
    pub(crate) fn line(&self, cells: &[String]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            push_quoted(&mut out, c);
        }
        out.extend_from_slice(self.line_ending);
        out
    }
}

impl JobBuffer {
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn push(&mut self, id: u64, cells: &[String], line: &[u8]) {
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        self.rows.push((id, row_key(&refs)));
        self.buf.extend_from_slice(line);
    }

    pub(crate) fn would_exceed(&self, line: usize, max: usize) -> bool {
        self.buf.len() > self.header_len && self.buf.len() + line > max
    }
}

impl IngestJobs {
    /// Creates a job. An upsert without `externalIdFieldName` is refused here.
    pub async fn create(
        &self,
        object: &str,
        operation: &IngestOperation,
        delimiter: ColumnDelimiter,
        line_ending: LineEnding,
    ) -> Result<JobInfo> {
        let mut body = serde_json::json!({
            "object": object,
            "operation": operation.as_str(),
            "contentType": "CSV",
            "columnDelimiter": delimiter.as_str(),
            "lineEnding": line_ending.as_str(),
        });
        if let IngestOperation::Upsert {
            external_id_field_name,
        } = operation
        {
            if external_id_field_name.trim().is_empty() {
                return Err(SalesforceError::invalid_request(
                    "salesforce.create_ingest_job",
                    format!("upsert on `{object}` needs externalIdFieldName"),
                ));
            }
            body["externalIdFieldName"] = serde_json::Value::from(external_id_field_name.as_str());
        }
        self.client
            .json(
                &Call::new(Method::POST, "jobs/ingest", "salesforce.create_ingest_job").json(&body),
            )
            .await
    }

    /// Uploads the job's CSV (one upload per job).
    pub async fn upload(&self, job: &JobInfo, csv: Bytes) -> Result<()> {
        let path = match job.content_url.as_deref() {
            Some(u) if !u.is_empty() => {
                if u.starts_with('/') || u.starts_with("http") {
                    u.to_owned()
                } else {
                    format!("/{u}")
                }
            }
            _ => format!("jobs/ingest/{}/batches", job.id),
        };
        self.client
            .empty(&Call::new(Method::PUT, path, "salesforce.upload_job_data").csv(csv))
            .await
    }

    /// Marks the upload complete: Salesforce starts processing.
    pub async fn close(&self, job_id: &str) -> Result<JobInfo> {
        self.set_state(job_id, "UploadComplete", "salesforce.close_ingest_job")
            .await
    }

    /// Aborts a job.
    pub async fn abort(&self, job_id: &str) -> Result<JobInfo> {
        self.set_state(job_id, "Aborted", "salesforce.abort_ingest_job")
            .await
    }

    async fn set_state(&self, job_id: &str, state: &str, op: &'static str) -> Result<JobInfo> {
        self.client
            .json(
                &Call::new(Method::PATCH, format!("jobs/ingest/{job_id}"), op)
                    .json(&serde_json::json!({ "state": state })),
            )
            .await
    }

    /// A job's info.
    pub async fn get(&self, job_id: &str) -> Result<JobInfo> {
        self.client
            .json(&Call::new(
                Method::GET,
                format!("jobs/ingest/{job_id}"),
                "salesforce.get_ingest_job",
            ))
            .await
    }

    /// Polls until `JobComplete`; `Failed`, `Aborted` and the timeout are errors.
    pub async fn wait(&self, job_id: &str) -> Result<JobInfo> {
        job::wait(&self.client, "ingest", job_id, "salesforce.wait_ingest_job").await
    }

    /// Deletes a job.
    pub async fn delete(&self, job_id: &str) -> Result<()> {
        self.client
            .empty(&Call::new(
                Method::DELETE,
                format!("jobs/ingest/{job_id}"),
                "salesforce.delete_ingest_job",
            ))
            .await
    }

    /// Every ingest job of the org, following `nextRecordsUrl`.
    pub async fn list(&self) -> Result<Vec<JobInfo>> {
        job::list(&self.client, "ingest", "salesforce.list_ingest_jobs").await
    }

    async fn result_file(&self, job: &JobInfo, which: &str) -> Result<Vec<Vec<String>>> {
        let response = self
            .client
            .send(
                &Call::new(
                    Method::GET,
                    format!("jobs/ingest/{}/{which}/", job.id),
                    "salesforce.ingest_results",
                )
                .accept("text/csv"),
            )
            .await?;
        let bytes = response.bytes().await.map_err(|e| {
            SalesforceError::from(connector_core::http::from_reqwest(
                e,
                "salesforce.ingest_results",
            ))
        })?;
        let delimiter = ColumnDelimiter::from_name(job.column_delimiter.as_deref()).byte();
        let mut feeder = CsvFeeder::new(delimiter);
        let mut rows = Vec::new();
        let mut on = |b: &[u8], spans: &[Span]| -> Result<()> {
            let mut v = Vec::with_capacity(spans.len());
            if !cells(b, spans, &mut v) {
                return Err(SalesforceError::invalid_response(
                    "salesforce.ingest_results",
                    format!("{which}: a row is not UTF-8"),
                ));
            }
            rows.push(v.iter().map(|s| (*s).to_owned()).collect());
            Ok(())
        };
        let plain = if bytes.starts_with(&[0x1f, 0x8b]) {
            use std::io::Read as _;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .map_err(|e| {
                    SalesforceError::invalid_response("salesforce.ingest_results", e.to_string())
                })?;
            Bytes::from(out)
        } else {
            bytes
        };
        feeder.feed(&plain, &mut on)?;
        feeder.feed(&[], &mut on)?;
        Ok(rows)
    }

    /// The three result files of a finished job (each with its header row first).
    pub async fn results(&self, job: &JobInfo) -> Result<JobResults> {
        Ok(JobResults {
            successful: self.result_file(job, "successfulResults").await?,
            failed: self.result_file(job, "failedResults").await?,
            unprocessed: self.result_file(job, "unprocessedrecords").await?,
        })
    }

    /// Runs one job over an encoded buffer: create, upload, close, wait, read the
    /// results, and give every row of `buffer` one outcome.
    pub(crate) async fn run_buffer(
        &self,
        object: &str,
        operation: &IngestOperation,
        options: &IngestOptions,
        buffer: JobBuffer,
    ) -> Result<Vec<(u64, RecordOutcome)>> {
        let job = self
            .create(
                object,
                operation,
                options.column_delimiter,
                options.line_ending,
            )
            .await?;
        let uploaded = self.upload(&job, Bytes::from(buffer.buf)).await;
        if let Err(e) = uploaded {
            let _ = self.abort(&job.id).await;
            return Err(e);
        }
        self.close(&job.id).await?;
        let info = match self.wait(&job.id).await {
            Ok(info) => info,
            // A failed or aborted job still reports what it processed.
            Err(SalesforceError::Job { state, .. }) if state == "Failed" || state == "Aborted" => {
                self.get(&job.id).await?
            }
            Err(e) => return Err(e),
        };
        let results = self.results(&info).await?;
        Ok(assign_outcomes(
            &buffer.rows,
            &results,
            operation,
            info.state == JobState::Failed,
            info.error_message.as_deref(),
        ))
    }

    /// Writes `records` of `schema` to `object`: as many jobs as the batch size and the
    /// upload limit need, up to `max_concurrent_jobs` at once. Returns one outcome per
    /// record, in input order.
    pub async fn run(
        &self,
        object: &str,
        operation: &IngestOperation,
        schema: Arc<Schema>,
        records: &[Record],
        options: &IngestOptions,
    ) -> Result<Vec<RecordOutcome>> {
        let encoder = CsvEncoder::new(schema, operation, options, object)?;
        let mut buffers = Vec::new();
        let mut current = encoder.new_buffer();
        for (i, record) in records.iter().enumerate() {
            let cells = encoder.cells(record);
            let line = encoder.line(&cells);
            if current.len() >= options.write_batch_size.max(1)
                || current.would_exceed(line.len(), options.max_upload_bytes)
            {
                buffers.push(std::mem::replace(&mut current, encoder.new_buffer()));
            }
            current.push(i as u64, &cells, &line);
        }
        if !current.is_empty() {
            buffers.push(current);
        }
        let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; records.len()];
        let results = futures::stream::iter(buffers.into_iter().map(|b| {
            let this = self.clone();
            let object = object.to_owned();
            let operation = operation.clone();
            let options = options.clone();
            async move { this.run_buffer(&object, &operation, &options, b).await }
        }))
        .buffer_unordered(options.max_concurrent_jobs.max(1));
        use futures::StreamExt as _;
        let mut results = std::pin::pin!(results);
        while let Some(r) = results.next().await {
            for (id, outcome) in r? {
                if let Some(slot) = outcomes.get_mut(id as usize) {
                    *slot = Some(outcome);
                }
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| RecordOutcome::Failed {
                    error: RecordError::new("NO_RESULT", "no result reported for this row"),
                })
            })
            .collect())
    }
}

/// Gives every row of `rows` exactly one outcome from the result files (see the
/// [module documentation](self)).
pub(crate) fn assign_outcomes(
    rows: &[(u64, u64)],
    results: &JobResults,
    operation: &IngestOperation,
    job_failed: bool,
    job_error: Option<&str>,
) -> Vec<(u64, RecordOutcome)> {
    let mut by_key: HashMap<u64, VecDeque<usize>> = HashMap::new();
    for (i, (_, key)) in rows.iter().enumerate() {
        by_key.entry(*key).or_default().push_back(i);
    }
    let mut outcome: Vec<Option<RecordOutcome>> = vec![None; rows.len()];
    let mut unmatched: Vec<RecordOutcome> = Vec::new();
    let mut place =
        |echo: &[String], o: RecordOutcome, outcome: &mut Vec<Option<RecordOutcome>>| {
            let refs: Vec<&str> = echo.iter().map(String::as_str).collect();
            let slot = by_key
                .get_mut(&row_key(&refs))
                .and_then(VecDeque::pop_front);
            match slot {
                Some(i) => outcome[i] = Some(o),
                None => unmatched.push(o),
            }
        };
    // Successful: sf__Id, sf__Created, original columns.
    for row in results.successful.iter().skip(1) {
        let id = row.first().cloned().filter(|s| !s.is_empty());
        let created = row.get(1).is_some_and(|c| c.eq_ignore_ascii_case("true"));
        let action = if operation.deletes() {
            WriteAction::Deleted
        } else if created {
            WriteAction::Created
        } else {
            WriteAction::Updated
        };
        let o = RecordOutcome::Written {
            action,
            remote_id: id,
        };
        place(row.get(2..).unwrap_or_default(), o, &mut outcome);
    }
    // Failed: sf__Id, sf__Error, original columns.
    for row in results.failed.iter().skip(1) {
        let error = parse_sf_error(row.get(1).map_or("", String::as_str));
        let o = if is_transient_code(&error.code) {
            RecordOutcome::Failed { error }
        } else {
            RecordOutcome::Rejected { error }
        };
        place(row.get(2..).unwrap_or_default(), o, &mut outcome);
    }
    // Unprocessed: original columns only.
    for row in results.unprocessed.iter().skip(1) {
        let msg = match job_error {
            Some(m) if !m.is_empty() => format!("not processed: the job failed: {m}"),
            _ => "not processed (the job failed or was aborted)".to_owned(),
        };
        place(
            row,
            RecordOutcome::Failed {
                error: RecordError::new("UNPROCESSED", msg),
            },
            &mut outcome,
        );
    }
    let mut unmatched = unmatched.into_iter();
    rows.iter()
        .zip(outcome)
        .map(|((id, _), o)| {
            let o = o
                .or_else(|| unmatched.next())
                .unwrap_or_else(|| RecordOutcome::Failed {
                    error: RecordError::new(
                        if job_failed {
                            "UNPROCESSED"
                        } else {
                            "NO_RESULT"
                        },
                        match job_error {
                            Some(m) if !m.is_empty() => {
                                format!("no result for this row; the job failed: {m}")
                            }
                            _ => "no result reported for this row".to_owned(),
                        },
                    ),
                });
            (*id, o)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use type_mapping::{DataType, Field};

    #[test]
    fn sf_error_forms() {
        let e =
            parse_sf_error("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --");
        assert_eq!(e.code, "REQUIRED_FIELD_MISSING");
        assert_eq!(e.message, "Required fields are missing: [Name]");
        assert_eq!(e.fields, ["Name"]);
        let e = parse_sf_error(
            "DUPLICATE_VALUE:duplicate value found: Ext__c duplicates value on record with id: 001:--",
        );
        assert_eq!(e.code, "DUPLICATE_VALUE");
        let e = parse_sf_error("something odd\nwith a newline");
        assert_eq!(e.code, "UNKNOWN");
    }

    #[test]
    fn csv_quoting_nulls_and_dates() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("Name", DataType::String),
            Field::new("When__c", DataType::DateTimeOffset),
            Field::new("Day__c", DataType::Date),
            Field::new("Note__c", DataType::String),
        ]));
        let enc = CsvEncoder::new(
            schema.clone(),
            &IngestOperation::Insert,
            &IngestOptions::default(),
            "X",
        )
        .unwrap();
        let when = chrono::DateTime::parse_from_rfc3339("2024-02-29T10:00:00+02:00").unwrap();
        let rec = Record::new(vec![
            Value::String("a \"b\",\nc".into()),
            Value::DateTimeOffset(when),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            Value::Null,
        ]);
        let cells = enc.cells(&rec);
        assert_eq!(
            String::from_utf8(enc.line(&cells)).unwrap(),
            "\"a \"\"b\"\",\nc\",\"2024-02-29T08:00:00.000Z\",\"2024-02-29\",\"#N/A\"\n"
        );
        let opts = IngestOptions {
            ignore_null_values: true,
            ..Default::default()
        };
        let enc = CsvEncoder::new(schema.clone(), &IngestOperation::Insert, &opts, "X").unwrap();
        assert_eq!(enc.cells(&rec)[3], "");
        let e = CsvEncoder::new(
            schema.clone(),
            &IngestOperation::Upsert {
                external_id_field_name: String::new(),
            },
            &opts,
            "Account",
        )
        .unwrap_err();
        assert!(e.to_string().contains("externalIdFieldName"), "{e}");
        let e = CsvEncoder::new(schema, &IngestOperation::Delete, &opts, "Account").unwrap_err();
        assert!(e.to_string().contains("`Id`"), "{e}");
    }

    #[test]
    fn every_row_gets_one_outcome() {
        let key = |cells: &[&str]| row_key(cells);
        let rows = vec![
            (10, key(&["a"])),
            (11, key(&["b"])),
            (12, key(&["a"])),
            (13, key(&["c"])),
            (14, key(&["d"])),
        ];
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let results = JobResults {
            successful: vec![
                s(&["sf__Id", "sf__Created", "Name"]),
                s(&["001B", "true", "b"]),
                s(&["001A", "true", "a"]),
                s(&["001Z", "true", "A-normalised"]),
            ],
            failed: vec![
                s(&["sf__Id", "sf__Error", "Name"]),
                s(&[
                    "",
                    "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --",
                    "c",
                ]),
            ],
            unprocessed: vec![s(&["Name"])],
        };
        let out = assign_outcomes(&rows, &results, &IngestOperation::Insert, false, None);
        assert_eq!(out.len(), 5);
        let ids: Vec<u64> = out.iter().map(|(i, _)| *i).collect();
        assert_eq!(ids, [10, 11, 12, 13, 14]);
        assert!(
            matches!(&out[0].1, RecordOutcome::Written { remote_id: Some(id), .. } if id == "001A")
        );
        assert!(
            matches!(&out[1].1, RecordOutcome::Written { remote_id: Some(id), .. } if id == "001B")
        );
        // The unmatched success goes to the first row without an outcome.
        assert!(
            matches!(&out[2].1, RecordOutcome::Written { remote_id: Some(id), .. } if id == "001Z")
        );
        assert!(
            matches!(&out[3].1, RecordOutcome::Rejected { error } if error.code == "REQUIRED_FIELD_MISSING")
        );
        assert!(matches!(&out[4].1, RecordOutcome::Failed { error } if error.code == "NO_RESULT"));
    }
}
