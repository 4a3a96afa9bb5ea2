//! Ingest jobs: `/jobs/ingest`, uploads, processing with validation, and the three
//! result files.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::jobs::{self, Jobs, settled, write_row};
use super::schema::F_ID;
use super::server::{Req, Shared, csv_response, empty_response, json_response, lock};
use super::store::{Column, WriteOp, format_job_datetime, now, resolve_column};

/// Records per internal batch (each counts against `DailyBulkApiBatches`).
const RECORDS_PER_BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Closed,
    Aborted,
}

#[derive(Debug, Clone)]
enum RowOutcome {
    Written {
        id: Box<str>,
        created: bool,
    },
    Rejected {
        id: Option<Box<str>>,
        error: Box<str>,
    },
    Unprocessed,
}

#[derive(Debug)]
struct Outcome {
    failed: Option<String>,
    rows: Vec<RowOutcome>,
    processing_ms: u64,
}

/// An ingest job.
#[derive(Debug)]
pub(crate) struct IngestJob {
    id: String,
    object: usize,
    object_name: String,
    op: WriteOp,
    op_name: &'static str,
    external_id: Option<(String, usize)>,
    delimiter: String,
    line_ending: String,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    version: u32,
    uploads: Vec<Bytes>,
    bytes: usize,
    phase: Phase,
    fail: bool,
    started: Instant,
    done_at: Option<Instant>,
    outcome: Option<Outcome>,
}

impl IngestJob {
    fn state(&self, shared: &Shared) -> &'static str {
        match self.phase {
            Phase::Open => "Open",
            Phase::Aborted => "Aborted",
            Phase::Closed => {
                if !settled(
                    self.started,
                    self.done_at,
                    shared.config.job_processing_time,
                ) {
                    return "InProgress";
                }
                match &self.outcome {
                    Some(o) if o.failed.is_some() => "Failed",
                    Some(_) => "JobComplete",
                    None => "InProgress",
                }
            }
        }
    }

    fn info(&self, shared: &Shared, state: &'static str, full: bool) -> Value {
        let user = shared.user_id.clone();
        let mut v = json!({
            "id": self.id,
            "operation": self.op_name,
            "object": self.object_name,
            "createdById": user,
            "createdDate": format_job_datetime(self.created),
            "systemModstamp": format_job_datetime(self.modified),
            "state": state,
        });
        let Value::Object(map) = &mut v else { return v };
        if let Some((name, _)) = &self.external_id {
            map.insert("externalIdFieldName".to_owned(), json!(name));
        }
        map.insert("concurrencyMode".to_owned(), json!("Parallel"));
        map.insert("contentType".to_owned(), json!("CSV"));
        map.insert("apiVersion".to_owned(), json!(f64::from(self.version)));
        if state == "Open" || !full {
            map.insert(
                "contentUrl".to_owned(),
                json!(format!(
                    "services/data/v{}.0/jobs/ingest/{}/batches",
                    self.version, self.id
                )),
            );
        }
        map.insert("lineEnding".to_owned(), json!(self.line_ending));
        map.insert("columnDelimiter".to_owned(), json!(self.delimiter));
        if full {
            let settled_outcome = self
                .outcome
                .as_ref()
                .filter(|_| matches!(state, "JobComplete" | "Failed" | "Aborted"));
            let (processed, failed) = settled_outcome.map_or((0, 0), |o| {
                let failed = o
                    .rows
                    .iter()
                    .filter(|r| matches!(r, RowOutcome::Rejected { .. }))
                    .count();
                let written = o
                    .rows
                    .iter()
                    .filter(|r| matches!(r, RowOutcome::Written { .. }))
                    .count();
                (written + failed, failed)
            });
            let ms = settled_outcome.map_or(0, |o| o.processing_ms);
            map.insert("jobType".to_owned(), json!("V2Ingest"));
            map.insert("numberRecordsProcessed".to_owned(), json!(processed));
            map.insert("numberRecordsFailed".to_owned(), json!(failed));
            map.insert("retries".to_owned(), json!(0));
            map.insert("totalProcessingTime".to_owned(), json!(ms));
            map.insert("apiActiveProcessingTime".to_owned(), json!(ms));
            map.insert("apexProcessingTime".to_owned(), json!(0));
            if state == "Failed"
                && let Some(Some(message)) = settled_outcome.map(|o| &o.failed)
            {
                map.insert("errorMessage".to_owned(), json!(message));
            }
        }
        v
    }
}

fn job_not_found() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "Job not found")
}

/// `POST /jobs/ingest`.
pub(crate) fn create(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    let body = req.json_body()?;
    let Some(object_name) = body["object"].as_str() else {
        return Err(ApiError::invalid_job("InvalidJob : object is required"));
    };
    let object = shared.schema.object(object_name).ok_or_else(|| {
        ApiError::invalid_job(format!("InvalidJob : Unable to find object: {object_name}"))
    })?;
    let def = &shared.schema.objects[object];
    let (op, op_name) = match body["operation"].as_str() {
        Some("insert") => (WriteOp::Insert, "insert"),
        Some("update") => (WriteOp::Update, "update"),
        Some("upsert") => (WriteOp::Upsert, "upsert"),
        Some("delete") => (WriteOp::Delete, "delete"),
        Some("hardDelete") => (WriteOp::HardDelete, "hardDelete"),
        Some(other) => {
            return Err(ApiError::invalid_job(format!(
                "InvalidJob : Invalid operation: {other}"
            )));
        }
        None => return Err(ApiError::invalid_job("InvalidJob : operation is required")),
    };
    let external_id = if op == WriteOp::Upsert {
        let name = body["externalIdFieldName"].as_str().unwrap_or("");
        if name.is_empty() {
            return Err(ApiError::invalid_job(format!(
                "InvalidJob : External ID was blank for {}. An External ID must be specified for upsert.",
                def.name
            )));
        }
        let field = def
            .field(name)
            .filter(|f| *f == F_ID || def.fields[*f].external_id || def.fields[*f].id_lookup)
            .ok_or_else(|| {
                ApiError::invalid_job(format!(
                    "InvalidJob : Field name provided, {name} does not match an External ID, Salesforce Id, or indexed field for {}",
                    def.name
                ))
            })?;
        Some((def.fields[field].name.clone(), field))
    } else {
        None
    };
    let (delimiter, line_ending) = jobs::csv_options(&body)?;
    let mut jobs = lock(&shared.jobs);
    let id = jobs.next_id();
    let created = now();
    let job = IngestJob {
        id: id.clone(),
        object,
        object_name: def.name.clone(),
        op,
        op_name,
        external_id,
        delimiter,
        line_ending,
        created,
        modified: created,
        version: req.version,
        uploads: Vec::new(),
        bytes: 0,
        phase: Phase::Open,
        fail: false,
        started: Instant::now(),
        done_at: None,
        outcome: None,
    };
    let info = job.info(shared, "Open", false);
    jobs.ingest.insert(id, job);
    Ok(json_response(200, &info))
}

/// `GET /jobs/ingest/{id}`.
pub(crate) fn info(shared: &Shared, _req: &Req, id: &str) -> Result<Response, ApiError> {
    let jobs = lock(&shared.jobs);
    let job = jobs
        .ingest
        .get(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    Ok(json_response(
        200,
        &job.info(shared, job.state(shared), true),
    ))
}

/// `PUT /jobs/ingest/{id}/batches`.
pub(crate) fn upload(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    let mut jobs = lock(&shared.jobs);
    let job = jobs
        .ingest
        .get_mut(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    if job.phase != Phase::Open {
        return Err(ApiError::invalid_job_state(format!(
            "Unable to upload data for a job in state {}: the job must be Open",
            job.state(shared)
        )));
    }
    if job.bytes.saturating_add(req.body.len()) > shared.config.max_upload_bytes {
        return Err(ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            format!(
                "Exceeded max size limit of {} bytes of CSV data per job",
                shared.config.max_upload_bytes
            ),
        ));
    }
    if !req.body.is_empty() {
        job.bytes += req.body.len();
        job.uploads.push(req.body.clone());
    }
    job.modified = now();
    Ok(empty_response(201))
}

/// `PATCH /jobs/ingest/{id}` with `{"state":"UploadComplete"}` or `{"state":"Aborted"}`.
pub(crate) fn patch(shared: &Arc<Shared>, req: &Req, id: &str) -> Result<Response, ApiError> {
    let body = req.json_body()?;
    let id = Jobs::canonical(id);
    let mut jobs = lock(&shared.jobs);
    let job = jobs.ingest.get_mut(&id).ok_or_else(job_not_found)?;
    let state = job.state(shared);
    match body["state"].as_str() {
        Some("UploadComplete") => {
            if job.phase != Phase::Open {
                return Err(ApiError::invalid_job_state(format!(
                    "Closing a job in state {state} is not allowed"
                )));
            }
            job.phase = Phase::Closed;
            job.fail = shared.faults.take_job_failure();
            job.started = Instant::now();
            job.modified = now();
            let info = job.info(shared, "UploadComplete", false);
            drop(jobs);
            let worker = Arc::clone(shared);
            tokio::task::spawn_blocking(move || process(&worker, &id));
            Ok(json_response(200, &info))
        }
        Some("Aborted") => {
            if matches!(state, "JobComplete" | "Failed" | "Aborted") {
                return Err(ApiError::invalid_job_state(format!(
                    "Aborting a job in state {state} is not allowed"
                )));
            }
            job.phase = Phase::Aborted;
            job.modified = now();
            Ok(json_response(200, &job.info(shared, "Aborted", false)))
        }
        other => Err(ApiError::invalid_job_state(format!(
            "Invalid state: {}; set UploadComplete or Aborted",
            other.unwrap_or("null")
        ))),
    }
}

/// `DELETE /jobs/ingest/{id}`.
pub(crate) fn delete(shared: &Shared, id: &str) -> Result<Response, ApiError> {
    let id = Jobs::canonical(id);
    let mut jobs = lock(&shared.jobs);
    let state = jobs
        .ingest
        .get(&id)
        .ok_or_else(job_not_found)?
        .state(shared);
    if matches!(state, "Open" | "InProgress") {
        return Err(ApiError::invalid_job_state(format!(
            "Deleting a job in state {state} is not allowed"
        )));
    }
    jobs.ingest.remove(&id);
    jobs.order.retain(|j| *j != id);
    Ok(empty_response(204))
}

/// `GET /jobs/ingest`.
pub(crate) fn list(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    let jobs = lock(&shared.jobs);
    let all: Vec<&IngestJob> = jobs
        .order
        .iter()
        .filter_map(|id| jobs.ingest.get(id))
        .collect();
    jobs::list_page(req, "ingest", "V2Ingest", all.len(), |i| {
        all.get(i)
            .map_or(Value::Null, |j| j.info(shared, j.state(shared), false))
    })
}

/// Every uploaded row (header rows excluded), or why the uploads are not valid.
fn parse_uploads(
    uploads: &[Bytes],
    delimiter: u8,
    crlf: bool,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for upload in uploads {
        let first_line_end = upload.iter().position(|b| *b == b'\n');
        if let Some(i) = first_line_end {
            let has_cr = i > 0 && upload[i - 1] == b'\r';
            if has_cr != crlf {
                return Err(format!(
                    "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {}",
                    if crlf { "CRLF" } else { "LF" }
                ));
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(upload.as_ref());
        let mut first = true;
        for record in reader.records() {
            let record = record.map_err(|e| format!("ClientInputError : Invalid CSV: {e}"))?;
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if first {
                first = false;
                match &header {
                    None => header = Some(cells),
                    Some(h) if *h == cells => {}
                    Some(_) => {
                        return Err(
                            "InvalidBatch : Every upload of a job must have the same header row"
                                .to_owned(),
                        );
                    }
                }
                continue;
            }
            rows.push(cells);
        }
    }
    Ok((header.unwrap_or_default(), rows))
}

fn process(shared: &Shared, id: &str) {
    let started = Instant::now();
    let (uploads, object, op, key, delimiter, crlf, fail) = {
        let jobs = lock(&shared.jobs);
        let Some(job) = jobs.ingest.get(id) else {
            return;
        };
        (
            job.uploads.clone(),
            job.object,
            job.op,
            job.external_id.as_ref().map(|(_, f)| *f),
            jobs::delimiter(&job.delimiter).unwrap_or(b','),
            job.line_ending == "CRLF",
            job.fail,
        )
    };
    let outcome = run(shared, &uploads, object, op, key, delimiter, crlf, fail);
    let mut jobs = lock(&shared.jobs);
    if let Some(job) = jobs.ingest.get_mut(id) {
        job.outcome = Some(Outcome {
            processing_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ..outcome
        });
        job.done_at = Some(Instant::now());
        job.modified = now();
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one job's settings, unpacked from under its lock"
)]
fn run(
    shared: &Shared,
    uploads: &[Bytes],
    object: usize,
    op: WriteOp,
    key: Option<usize>,
    delimiter: u8,
    crlf: bool,
    fail: bool,
) -> Outcome {
    let failed = |message: String, n: usize| Outcome {
        failed: Some(message),
        rows: vec![RowOutcome::Unprocessed; n],
        processing_ms: 0,
    };
    let (header, rows) = match parse_uploads(uploads, delimiter, crlf) {
        Ok(parsed) => parsed,
        Err(message) => return failed(message, 0),
    };
    if fail {
        return failed(
            "InternalServerError : Unexpected exception encountered in processing (fault injected by the emulator)".to_owned(),
            rows.len(),
        );
    }
    if header.is_empty() {
        return failed(
            "InvalidBatch : No data was uploaded for the job".to_owned(),
            0,
        );
    }
    let schema = &shared.schema;
    let mut columns = Vec::with_capacity(header.len());
    for name in &header {
        match resolve_column(schema, object, name.trim()) {
            Some(c) => columns.push(c),
            None => {
                return failed(
                    format!("InvalidBatch : Field name not found : {name}"),
                    rows.len(),
                );
            }
        }
    }
    for (i, name) in header.iter().enumerate() {
        if header[..i]
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(name.trim()))
        {
            return failed(
                format!("InvalidBatch : Duplicate field name: {name}"),
                rows.len(),
            );
        }
    }
    if matches!(op, WriteOp::Delete | WriteOp::HardDelete)
        && !matches!(columns.as_slice(), [Column::Field(F_ID)])
    {
        let name = if op == WriteOp::Delete {
            "delete"
        } else {
            "hardDelete"
        };
        return failed(
            format!("InvalidBatch : The '{name}' batch must contain only 'Id' field"),
            rows.len(),
        );
    }
    let batches = u64::try_from(rows.len().div_ceil(RECORDS_PER_BATCH).max(1)).unwrap_or(u64::MAX);
    {
        let mut limits = lock(&shared.limits);
        if limits.batches == 0 {
            return failed(
                "ExceededQuota : You have exceeded your daily limit of Bulk API batches".to_owned(),
                rows.len(),
            );
        }
        limits.batches = limits.batches.saturating_sub(batches);
    }
    // A key given more than once in one job fails every row that carries it.
    let key_field = match op {
        WriteOp::Upsert => key,
        WriteOp::Update | WriteOp::Delete | WriteOp::HardDelete => Some(F_ID),
        WriteOp::Insert => None,
    };
    let key_col = key_field.and_then(|k| {
        columns
            .iter()
            .position(|c| matches!(c, Column::Field(f) if *f == k))
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    if let Some(kc) = key_col {
        for row in &rows {
            if let Some(v) = row.get(kc).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                let norm = if key_field == Some(F_ID) {
                    super::store::normalize_id(v).unwrap_or_else(|| v.to_owned())
                } else {
                    v.to_lowercase()
                };
                *seen.entry(norm).or_insert(0) += 1;
            }
        }
    }
    let def = &schema.objects[object];
    let key_name = key_field
        .map(|k| def.fields[k].name.clone())
        .unwrap_or_default();
    let mut store = shared.write();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id_cell = columns
            .iter()
            .position(|c| matches!(c, Column::Field(F_ID)))
            .and_then(|i| row.get(i))
            .and_then(|v| super::store::normalize_id(v.trim()))
            .map(String::into_boxed_str);
        if row.len() != header.len() {
            out.push(RowOutcome::Rejected {
                id: id_cell,
                error: format!(
                    "INVALID_FIELD:The row has {} fields but the header has {}:--",
                    row.len(),
                    header.len()
                )
                .into(),
            });
            continue;
        }
        if let Some(kc) = key_col {
            let v = row[kc].trim();
            let norm = if key_field == Some(F_ID) {
                super::store::normalize_id(v).unwrap_or_else(|| v.to_owned())
            } else {
                v.to_lowercase()
            };
            if !v.is_empty() && seen.get(&norm).copied().unwrap_or(0) > 1 {
                let error = if key_field == Some(F_ID) {
                    format!("DUPLICATE_VALUE:Duplicate id in list: {v}:--")
                } else {
                    format!("DUPLICATE_VALUE:Duplicate external id specified: {v}:{key_name} --")
                };
                out.push(RowOutcome::Rejected {
                    id: id_cell,
                    error: error.into(),
                });
                continue;
            }
        }
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        match store.write(schema, object, op, key, &columns, &cells) {
            Ok((id, created)) => out.push(RowOutcome::Written {
                id: id.into(),
                created,
            }),
            Err(e) => out.push(RowOutcome::Rejected {
                id: id_cell,
                error: e.sf_error().into(),
            }),
        }
    }
    Outcome {
        failed: None,
        rows: out,
        processing_ms: 0,
    }
}

/// `GET /jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords`.
pub(crate) fn results(
    shared: &Shared,
    req: &Req,
    id: &str,
    kind: &str,
) -> Result<Response, ApiError> {
    #[derive(PartialEq)]
    enum Kind {
        Successful,
        Failed,
        Unprocessed,
    }
    let kind = match kind.to_ascii_lowercase().as_str() {
        "successfulresults" => Kind::Successful,
        "failedresults" => Kind::Failed,
        "unprocessedrecords" => Kind::Unprocessed,
        _ => return Err(ApiError::not_found()),
    };
    let jobs = lock(&shared.jobs);
    let job = jobs
        .ingest
        .get(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    let state = job.state(shared);
    if matches!(state, "Open" | "InProgress" | "UploadComplete") && kind != Kind::Unprocessed {
        return Err(ApiError::invalid_job_state(format!(
            "Results are available once the job is complete; it is {state}"
        )));
    }
    let delimiter = jobs::delimiter(&job.delimiter).unwrap_or(b',');
    let crlf = job.line_ending == "CRLF";
    let (header, rows) = parse_uploads(&job.uploads, delimiter, crlf).unwrap_or_default();
    let outcomes: Vec<RowOutcome> = match &job.outcome {
        Some(o) if state != "InProgress" => o.rows.clone(),
        _ => vec![RowOutcome::Unprocessed; rows.len()],
    };
    let mut out = Vec::new();
    let prefix: &[&str] = match kind {
        Kind::Successful => &["sf__Id", "sf__Created"],
        Kind::Failed => &["sf__Id", "sf__Error"],
        Kind::Unprocessed => &[],
    };
    write_row(
        &mut out,
        prefix
            .iter()
            .map(|s| Some(*s))
            .chain(header.iter().map(|h| Some(h.as_str()))),
        delimiter,
        crlf,
    );
    let empty = String::new();
    for (i, row) in rows.iter().enumerate() {
        let outcome = outcomes.get(i).unwrap_or(&RowOutcome::Unprocessed);
        let first: Vec<Option<&str>> = match (&kind, outcome) {
            (Kind::Successful, RowOutcome::Written { id, created }) => {
                vec![Some(id), Some(if *created { "true" } else { "false" })]
            }
            (Kind::Failed, RowOutcome::Rejected { id, error }) => {
                vec![Some(id.as_deref().unwrap_or("")), Some(error)]
            }
            (Kind::Unprocessed, RowOutcome::Unprocessed) => Vec::new(),
            _ => continue,
        };
        let cells = (0..header.len()).map(|c| Some(row.get(c).unwrap_or(&empty).as_str()));
        write_row(&mut out, first.into_iter().chain(cells), delimiter, crlf);
    }
    Ok(csv_response(req, out))
}
