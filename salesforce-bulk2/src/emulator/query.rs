//! Query jobs: `/jobs/query`, results with locator paging, `resultPages`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::HeaderValue;
use serde_json::{Value, json};

use super::error::ApiError;
use super::jobs::{self, Jobs, decode_locator, encode_locator, settled, write_row};
use super::schema::Schema;
use super::server::{Req, Shared, empty_response, json_response, lock};
use super::soql;
use super::store::{Store, format_job_datetime, now};

/// A query's result file, written when the job ran (as Salesforce stores a job's
/// results before they are downloaded): a page is a slice of it, so reading results
/// costs the emulator a copy, not a query, and a record changed after the job does not
/// change its results.
#[derive(Debug)]
pub(crate) struct QueryResult {
    /// The header row.
    header: Bytes,
    /// Every row, one after the other.
    rows: Bytes,
    /// Where each row ends in `rows`.
    ends: Vec<usize>,
}

impl QueryResult {
    /// Evaluates `parsed`'s columns for `slots` into CSV.
    fn write(
        store: &Store,
        schema: &Schema,
        parsed: &soql::Query,
        slots: &[usize],
        delimiter: u8,
        crlf: bool,
    ) -> Self {
        let mut header = Vec::new();
        write_row(
            &mut header,
            parsed.fields.iter().map(|f| Some(f.name.as_str())),
            delimiter,
            crlf,
        );
        let mut rows = Vec::with_capacity(64 * slots.len());
        let mut ends = Vec::with_capacity(slots.len());
        for slot in slots {
            write_row(
                &mut rows,
                parsed
                    .fields
                    .iter()
                    .map(|f| f.value(store, schema, parsed.object, *slot)),
                delimiter,
                crlf,
            );
            ends.push(rows.len());
        }
        Self {
            header: Bytes::from(header),
            rows: Bytes::from(rows),
            ends,
        }
    }

    /// The number of rows.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Rows `from..to`, without the header.
    fn rows(&self, from: usize, to: usize) -> Bytes {
        let start = from.checked_sub(1).map_or(0, |i| self.ends[i]);
        let end = to.checked_sub(1).map_or(0, |i| self.ends[i]);
        self.rows.slice(start..end.max(start))
    }
}

/// A query job.
#[derive(Debug)]
pub(crate) struct QueryJob {
    id: String,
    operation: &'static str,
    object: String,
    created: DateTime<Utc>,
    version: u32,
    delimiter: String,
    line_ending: String,
    started: Instant,
    aborted: bool,
    outcome: Option<Result<Arc<QueryResult>, String>>,
    done_at: Option<Instant>,
    processing_ms: u64,
}

impl QueryJob {
    fn state(&self, shared: &Shared) -> &'static str {
        if self.aborted {
            return "Aborted";
        }
        if !settled(
            self.started,
            self.done_at,
            shared.config.job_processing_time,
        ) {
            return "InProgress";
        }
        match &self.outcome {
            Some(Ok(_)) => "JobComplete",
            Some(Err(_)) => "Failed",
            None => "InProgress",
        }
    }

    fn info(&self, shared: &Shared, state: &'static str, full: bool) -> Value {
        let user = shared.user_id.clone();
        let created = format_job_datetime(self.created);
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": user,
            "createdDate": created,
            "systemModstamp": created,
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": f64::from(self.version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
        });
        if full && let Value::Object(map) = &mut v {
            let processed = match (&self.outcome, state) {
                (Some(Ok(r)), "JobComplete") => r.len(),
                _ => 0,
            };
            map.insert("jobType".to_owned(), json!("V2Query"));
            map.insert("numberRecordsProcessed".to_owned(), json!(processed));
            map.insert("retries".to_owned(), json!(0));
            map.insert("totalProcessingTime".to_owned(), json!(self.processing_ms));
            map.insert("isPkChunkingSupported".to_owned(), json!(true));
            if state == "Failed"
                && let Some(Err(message)) = &self.outcome
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

/// `POST /jobs/query`.
pub(crate) async fn create(shared: &Arc<Shared>, req: &Req) -> Result<Response, ApiError> {
    let body = req.json_body()?;
    let operation = match body["operation"].as_str() {
        Some("query") => "query",
        Some("queryAll") => "queryAll",
        Some(other) => {
            return Err(ApiError::new(
                400,
                "INVALIDJOB",
                format!(
                    "InvalidJob : Invalid operation: {other}. Query jobs take query or queryAll"
                ),
            ));
        }
        None => {
            return Err(ApiError::new(
                400,
                "INVALIDJOB",
                "InvalidJob : operation is required",
            ));
        }
    };
    let Some(soql_text) = body["query"].as_str() else {
        return Err(ApiError::new(
            400,
            "INVALIDJOB",
            "InvalidJob : query is required",
        ));
    };
    let (delimiter, line_ending) = jobs::csv_options(&body)?;
    let delimiter_byte = jobs::delimiter(&delimiter).unwrap_or(b',');
    let crlf = line_ending == "CRLF";
    let parsed = soql::parse(soql_text, &shared.schema)?;
    {
        let mut limits = lock(&shared.limits);
        if limits.query_jobs == 0 {
            return Err(ApiError::new(
                400,
                "LIMIT_EXCEEDED",
                "You have exceeded the daily limit of Bulk API 2.0 query jobs",
            ));
        }
        limits.query_jobs -= 1;
    }
    let fail = shared.faults.take_job_failure();
    let id = {
        let mut jobs = lock(&shared.jobs);
        let id = jobs.next_id();
        let job = QueryJob {
            id: id.clone(),
            operation,
            object: parsed.object_name(&shared.schema).to_owned(),
            created: now(),
            version: req.version,
            delimiter,
            line_ending,
            started: Instant::now(),
            aborted: false,
            outcome: None,
            done_at: None,
            processing_ms: 0,
        };
        jobs.query.insert(id.clone(), job);
        id
    };
    let worker = Arc::clone(shared);
    let job_id = id.clone();
    let run = move || {
        let started = Instant::now();
        let outcome = if fail {
            Err("Unexpected exception encountered in query processing. Please contact support with the following id: 1234567890-12345 (fault injected by the emulator)".to_owned())
        } else {
            let store = worker.read();
            let slots = parsed.execute(&store, &worker.schema, operation == "queryAll");
            Ok(Arc::new(QueryResult::write(
                &store,
                &worker.schema,
                &parsed,
                &slots,
                delimiter_byte,
                crlf,
            )))
        };
        let mut jobs = lock(&worker.jobs);
        if let Some(job) = jobs.query.get_mut(&job_id) {
            job.outcome = Some(outcome);
            job.done_at = Some(Instant::now());
            job.processing_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        }
    };
    if tokio::task::spawn_blocking(run).await.is_err() {
        tracing::warn!("a query job's worker panicked");
    }
    let jobs = lock(&shared.jobs);
    let job = jobs.query.get(&id).ok_or_else(job_not_found)?;
    Ok(json_response(
        200,
        &job.info(shared, "UploadComplete", false),
    ))
}

/// `GET /jobs/query/{id}`.
pub(crate) fn info(shared: &Shared, _req: &Req, id: &str) -> Result<Response, ApiError> {
    let jobs = lock(&shared.jobs);
    let job = jobs
        .query
        .get(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    Ok(json_response(
        200,
        &job.info(shared, job.state(shared), true),
    ))
}

/// `PATCH /jobs/query/{id}` with `{"state":"Aborted"}`.
pub(crate) fn abort(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    let body = req.json_body()?;
    let mut jobs = lock(&shared.jobs);
    let job = jobs
        .query
        .get_mut(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    match body["state"].as_str() {
        Some("Aborted") => {}
        other => {
            return Err(ApiError::invalid_job_state(format!(
                "Invalid state for a query job: {}; only Aborted can be set",
                other.unwrap_or("null")
            )));
        }
    }
    let state = job.state(shared);
    if matches!(state, "JobComplete" | "Failed" | "Aborted") {
        return Err(ApiError::invalid_job_state(format!(
            "Aborting a job in state {state} is not allowed"
        )));
    }
    job.aborted = true;
    Ok(json_response(200, &job.info(shared, "Aborted", false)))
}

/// `DELETE /jobs/query/{id}`.
pub(crate) fn delete(shared: &Shared, id: &str) -> Result<Response, ApiError> {
    let id = Jobs::canonical(id);
    let mut jobs = lock(&shared.jobs);
    let state = jobs.query.get(&id).ok_or_else(job_not_found)?.state(shared);
    if state == "InProgress" {
        return Err(ApiError::invalid_job_state(
            "Deleting a job in progress is not allowed: abort it first",
        ));
    }
    jobs.query.remove(&id);
    jobs.order.retain(|j| *j != id);
    Ok(empty_response(204))
}

/// `GET /jobs/query` (`queryLocator` pages of 1,000).
pub(crate) fn list(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    let jobs = lock(&shared.jobs);
    let all: Vec<&QueryJob> = jobs
        .order
        .iter()
        .filter_map(|id| jobs.query.get(id))
        .collect();
    jobs::list_page(req, "query", "V2Query", all.len(), |i| {
        all.get(i)
            .map_or(Value::Null, |j| j.info(shared, j.state(shared), false))
    })
}

/// The finished result of a job, checked for version and state.
fn completed(shared: &Shared, req: &Req, id: &str) -> Result<Arc<QueryResult>, ApiError> {
    let jobs = lock(&shared.jobs);
    let job = jobs
        .query
        .get(&Jobs::canonical(id))
        .ok_or_else(job_not_found)?;
    if job.version != req.version {
        return Err(ApiError::new(
            409,
            "API_VERSION_MISMATCH",
            format!(
                "The job was created with API version {}.0; fetch its results with the same version, not {}.0",
                job.version, req.version
            ),
        ));
    }
    let state = job.state(shared);
    match (&job.outcome, state) {
        (Some(Ok(result)), "JobComplete") => Ok(Arc::clone(result)),
        _ => {
            let shown = match state {
                "InProgress" => "IN_PROGRESS",
                "Failed" => "FAILED",
                "Aborted" => "ABORTED",
                _ => "UPLOAD_COMPLETE",
            };
            Err(ApiError::new(
                412,
                "JOB_NOT_COMPLETE",
                format!(
                    "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {shown}"
                ),
            ))
        }
    }
}

fn page_size(shared: &Shared, req: &Req) -> Result<usize, ApiError> {
    match req.param("maxRecords") {
        None | Some("") => Ok(shared.config.page_size),
        Some(n) => n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_MAX_RECORDS",
                format!("Invalid maxRecords: {n}"),
            )
        }),
    }
}

/// `GET /jobs/query/{id}/results?locator=&maxRecords=`.
pub(crate) async fn results(
    shared: &Arc<Shared>,
    req: &Req,
    id: &str,
) -> Result<Response, ApiError> {
    let result = completed(shared, req, id)?;
    let size = page_size(shared, req)?;
    let from = match req.param("locator") {
        Some(l) if !l.is_empty() && l != "null" => decode_locator(l)?,
        _ => 0,
    };
    let latency = shared
        .faults
        .page_latency()
        .unwrap_or(shared.config.page_latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let total = result.len();
    let from = from.min(total);
    let to = from.saturating_add(size).min(total);
    let page = [result.header.clone(), result.rows(from, to)];
    let gzip = req.wants_gzip();
    let body = if gzip {
        // Compressed in chunks while earlier ones are on the wire.
        const CHUNK: usize = 64 * 1024;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            for part in &page {
                for piece in part.chunks(CHUNK) {
                    if let Err(e) = encoder.write_all(piece) {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() && tx.blocking_send(Ok(Bytes::from(out))).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.blocking_send(encoder.finish().map(Bytes::from));
        });
        Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    } else {
        Body::from_stream(futures::stream::iter(
            page.into_iter().map(Ok::<Bytes, std::io::Error>),
        ))
    };
    let mut builder = Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "text/csv");
    if gzip {
        builder = builder.header(http::header::CONTENT_ENCODING, "gzip");
    }
    let mut response = builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()));
    lock(&shared.stats).record_records(to - from);
    let locator = if to < total {
        encode_locator(to)
    } else {
        "null".to_owned()
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&locator) {
        headers.insert("sforce-locator", v);
    }
    headers.insert("sforce-numberofrecords", HeaderValue::from(to - from));
    Ok(response)
}

/// `GET /jobs/query/{id}/resultPages?locator=&maxRecords=`: up to five page URLs.
pub(crate) fn result_pages(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    const URLS_PER_CALL: usize = 5;
    let result = completed(shared, req, id)?;
    let id = Jobs::canonical(id);
    let size = page_size(shared, req)?;
    let mut from = match req.param("locator") {
        Some(l) if !l.is_empty() && l != "null" => decode_locator(l)?,
        _ => 0,
    };
    let total = result.len();
    let base = format!("/services/data/v{}.0/jobs/query/{id}", req.version);
    let mut pages = Vec::new();
    loop {
        pages.push(json!({
            "resultUrl": format!("{base}/results?locator={}&maxRecords={size}", encode_locator(from)),
        }));
        from = from.saturating_add(size);
        if from >= total || pages.len() == URLS_PER_CALL {
            break;
        }
    }
    let done = from >= total;
    let next = (!done).then(|| {
        format!(
            "{base}/resultPages?locator={}&maxRecords={size}",
            encode_locator(from)
        )
    });
    Ok(json_response(
        200,
        &json!({"resultPages": pages, "nextRecordsUrl": next, "done": done}),
    ))
}
