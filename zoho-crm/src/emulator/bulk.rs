//! Bulk read: `POST /crm/bulk/v8/read` creates a job, `GET /crm/bulk/v8/read/{id}`
//! shows it moving `ADDED` → `IN PROGRESS` → `COMPLETED`, and
//! `GET /crm/bulk/v8/read/{id}/result` downloads a ZIP holding one CSV.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use http::header;
use serde_json::{Value, json};

use super::criteria::{self, CmpOp, Column, CompileError, Expr, RawLit};
use super::error::ApiError;
use super::meta::{Meta, ModuleMeta};
use super::oauth::Op;
use super::server::{Req, Shared, json_response, lock};
use super::store::{Store, parse_id};
use super::time;

/// Jobs, page tokens and the download rate window.
#[derive(Debug, Default)]
pub(crate) struct BulkState {
    jobs: HashMap<u64, Job>,
    tokens: HashMap<String, BulkToken>,
    downloads: VecDeque<Instant>,
}

#[derive(Debug)]
struct Job {
    query: Value,
    file_type: String,
    created: Instant,
    created_time: i64,
    created_by: u64,
    result: Option<Arc<JobResult>>,
}

#[derive(Debug)]
struct JobResult {
    zip: Vec<u8>,
    page: usize,
    count: usize,
    more: bool,
    next_token: Option<String>,
}

#[derive(Debug, Clone)]
struct BulkToken {
    binding: String,
    offset: usize,
    page: usize,
}

fn invalid(message: &str, details: Value) -> ApiError {
    ApiError::invalid_data(message, details)
}

fn criteria_error(e: &CompileError) -> ApiError {
    let (name, message) = match e {
        CompileError::UnknownColumn(c) => (c.as_str(), "invalid field given in criteria"),
        CompileError::TooManyRelations(c) => (c.as_str(), "too many relations in criteria"),
        CompileError::BadValue(c) => (c.as_str(), "invalid value given in criteria"),
        CompileError::BadOperator(c, _) => (c.as_str(), "invalid comparator given in criteria"),
        CompileError::TooManyValues(c) => (c.as_str(), "too many values given in criteria"),
    };
    invalid(
        message,
        json!({"api_name": name, "json_path": "$.query.criteria"}),
    )
}

/// Compiles a bulk read criteria object (`group_operator` + `group`, or one
/// `field`/`comparator`/`value` condition).
fn compile_criteria(meta: &Meta, module: &ModuleMeta, criteria: &Value) -> Result<Expr, ApiError> {
    let Some(obj) = criteria.as_object() else {
        return Err(invalid(
            "invalid data",
            json!({"api_name": "criteria", "json_path": "$.query.criteria"}),
        ));
    };
    if let Some(group) = obj.get("group") {
        let Some(items) = group.as_array().filter(|g| !g.is_empty()) else {
            return Err(invalid(
                "invalid data",
                json!({"api_name": "group", "json_path": "$.query.criteria.group"}),
            ));
        };
        let parts = items
            .iter()
            .map(|item| compile_criteria(meta, module, item))
            .collect::<Result<Vec<_>, _>>()?;
        let op = obj
            .get("group_operator")
            .and_then(Value::as_str)
            .unwrap_or("and");
        return if op.eq_ignore_ascii_case("and") {
            Ok(Expr::And(parts))
        } else if op.eq_ignore_ascii_case("or") {
            Ok(Expr::Or(parts))
        } else {
            Err(invalid(
                "invalid group_operator",
                json!({"api_name": "group_operator", "json_path": "$.query.criteria.group_operator"}),
            ))
        };
    }
    let name = obj
        .get("field")
        .and_then(|f| f.get("api_name").or(Some(f)))
        .or_else(|| obj.get("api_name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let column = criteria::resolve(meta, module, name).map_err(|e| criteria_error(&e))?;
    let comparator = obj.get("comparator").and_then(Value::as_str).unwrap_or("");
    let value = obj.get("value").cloned().unwrap_or(Value::Null);
    let empty = value.as_str() == Some("${EMPTY}");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let (op, raw): (CmpOp, Vec<RawLit>) = match comparator {
        "equal" if empty => (CmpOp::IsNull, Vec::new()),
        "not_equal" if empty => (CmpOp::IsNotNull, Vec::new()),
        "equal" => (CmpOp::Eq, vec![RawLit::from_json(&value)]),
        "not_equal" => (CmpOp::Ne, vec![RawLit::from_json(&value)]),
        "less_than" => (CmpOp::Lt, vec![RawLit::from_json(&value)]),
        "less_equal" => (CmpOp::Le, vec![RawLit::from_json(&value)]),
        "greater_than" => (CmpOp::Gt, vec![RawLit::from_json(&value)]),
        "greater_equal" => (CmpOp::Ge, vec![RawLit::from_json(&value)]),
        "contains" => (
            CmpOp::Like,
            vec![RawLit::Str(format!("%{}%", text(&value)))],
        ),
        "not_contains" => (
            CmpOp::NotLike,
            vec![RawLit::Str(format!("%{}%", text(&value)))],
        ),
        "starts_with" => (CmpOp::Like, vec![RawLit::Str(format!("{}%", text(&value)))]),
        "ends_with" => (CmpOp::Like, vec![RawLit::Str(format!("%{}", text(&value)))]),
        "in" | "not_in" | "between" | "not_between" => {
            let Some(items) = value.as_array() else {
                return Err(invalid(
                    "invalid data",
                    json!({"api_name": name, "json_path": "$.query.criteria.value"}),
                ));
            };
            let op = match comparator {
                "in" => CmpOp::In,
                "not_in" => CmpOp::NotIn,
                "between" => CmpOp::Between,
                _ => CmpOp::NotBetween,
            };
            if matches!(op, CmpOp::Between | CmpOp::NotBetween) && items.len() != 2 {
                return Err(invalid(
                    "between needs two values",
                    json!({"api_name": name, "json_path": "$.query.criteria.value"}),
                ));
            }
            (op, items.iter().map(RawLit::from_json).collect())
        }
        _ => {
            return Err(invalid(
                "invalid comparator given in criteria",
                json!({"api_name": "comparator", "json_path": "$.query.criteria.comparator"}),
            ));
        }
    };
    criteria::condition(column, op, &raw, 500)
        .map(Expr::Cond)
        .map_err(|e| criteria_error(&e))
}

fn job_json(store: &Store, id: u64, job: &Job, state: &str) -> Value {
    json!({
        "id": id.to_string(),
        "operation": "read",
        "state": state,
        "query": job.query,
        "created_by": {
            "id": job.created_by.to_string(),
            "name": store.users.get(&job.created_by).map(|u| u.str("full_name").to_owned()),
        },
        "created_time": store.fmt_time(job.created_time),
        "file_type": job.file_type,
    })
}

fn state(job: &Job, delay: Duration) -> &'static str {
    let elapsed = job.created.elapsed();
    if elapsed < delay / 3 {
        "ADDED"
    } else if job.result.is_none() || elapsed < delay {
        "IN PROGRESS"
    } else {
        "COMPLETED"
    }
}

pub(crate) fn create(shared: &Arc<Shared>, req: &Req) -> Result<Response, ApiError> {
    req.need("bulk", None, Op::Read)?;
    let body = req.json_body()?;
    let Some(query) = body.get("query").and_then(Value::as_object) else {
        return Err(ApiError::required_param("query"));
    };
    let module_name = query
        .get("module")
        .and_then(|m| m.get("api_name").or(Some(m)))
        .and_then(Value::as_str);
    let Some(module_name) = module_name else {
        return Err(ApiError::new(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"api_name": "module", "json_path": "$.query.module"}),
        ));
    };
    let meta = &shared.meta;
    let Some(module) = meta.module(module_name) else {
        return Err(ApiError::new(
            400,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({"api_name": "module", "json_path": "$.query.module.api_name"}),
        ));
    };
    req.need("modules", Some(module.api_name), Op::Read)?;
    let file_type = body
        .get("file_type")
        .and_then(Value::as_str)
        .unwrap_or("csv");
    if file_type != "csv" {
        return Err(invalid(
            "only csv is supported for this module",
            json!({"api_name": "file_type", "json_path": "$.file_type"}),
        ));
    }
    let mut columns: Vec<Column> = Vec::new();
    let id_column = criteria::resolve(meta, module, "id").map_err(|e| criteria_error(&e))?;
    columns.push(id_column);
    match query.get("fields") {
        None | Some(Value::Null) => {
            for f in &module.fields {
                columns.push(
                    criteria::resolve(meta, module, f.api_name).map_err(|e| criteria_error(&e))?,
                );
            }
        }
        Some(Value::Array(names)) => {
            for name in names {
                let Some(name) = name.as_str() else {
                    return Err(invalid(
                        "invalid data",
                        json!({"api_name": "fields", "json_path": "$.query.fields"}),
                    ));
                };
                let column = criteria::resolve(meta, module, name).map_err(|_| {
                    invalid(
                        "invalid field given",
                        json!({"api_name": name, "json_path": "$.query.fields"}),
                    )
                })?;
                if !columns.iter().any(|c| c.key == column.key) {
                    columns.push(column);
                }
            }
        }
        Some(_) => {
            return Err(invalid(
                "invalid data",
                json!({"api_name": "fields", "json_path": "$.query.fields"}),
            ));
        }
    }
    let filter = match query.get("criteria") {
        None | Some(Value::Null) => None,
        Some(c) => Some(compile_criteria(meta, module, c)?),
    };
    let per_page = shared.config.bulk_page_size;
    let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
    let binding = format!(
        "{}|{}|{}",
        module.api_name,
        keys.join(","),
        query
            .get("criteria")
            .map(Value::to_string)
            .unwrap_or_default()
    );
    let (offset, page) = match query.get("page_token").and_then(Value::as_str) {
        Some(token) => {
            let state = lock(&shared.bulk).tokens.get(token).cloned();
            match state {
                Some(t) if t.binding == binding => (t.offset, t.page),
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "TOKEN_BOUND_DATA_MISMATCH",
                        "the page_token is bound to a different query",
                        json!({"api_name": "page_token", "json_path": "$.query.page_token"}),
                    ));
                }
                None => {
                    return Err(invalid(
                        "invalid page_token",
                        json!({"api_name": "page_token", "json_path": "$.query.page_token"}),
                    ));
                }
            }
        }
        None => {
            let page = match query.get("page") {
                None | Some(Value::Null) => 1,
                Some(p) => p
                    .as_u64()
                    .and_then(|p| usize::try_from(p).ok())
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| {
                        invalid(
                            "invalid data",
                            json!({"api_name": "page", "json_path": "$.query.page"}),
                        )
                    })?,
            };
            ((page - 1).saturating_mul(per_page), page)
        }
    };

    let mut echo = serde_json::Map::new();
    echo.insert(
        "module".to_owned(),
        json!({"id": module.id.to_string(), "api_name": module.api_name}),
    );
    echo.insert("page".to_owned(), json!(page));
    if let Some(fields) = query.get("fields") {
        echo.insert("fields".to_owned(), fields.clone());
    }
    if let Some(c) = query.get("criteria") {
        echo.insert("criteria".to_owned(), c.clone());
    }
    let now = time::now_secs();
    let (id, details) = {
        let mut store = shared.write();
        let id = store.next_id();
        let job = Job {
            query: Value::Object(echo),
            file_type: file_type.to_owned(),
            created: Instant::now(),
            created_time: now,
            created_by: req.token.user_id,
            result: None,
        };
        let details = job_json(&store, id, &job, "ADDED");
        lock(&shared.bulk).jobs.insert(id, job);
        (id, details)
    };

    let worker = Arc::clone(shared);
    let module_name = module.api_name;
    tokio::task::spawn_blocking(move || {
        let slice = Slice {
            job: id,
            offset,
            page,
            binding,
        };
        let result = build(&worker, module_name, &columns, filter.as_ref(), slice);
        if let Some(job) = lock(&worker.bulk).jobs.get_mut(&id) {
            job.result = Some(Arc::new(result));
        }
    });

    let body = json!({
        "data": [{
            "status": "success",
            "code": "ADDED_SUCCESSFULLY",
            "message": "Added successfully.",
            "details": details,
        }],
        "info": {},
    });
    Ok(json_response(201, &body))
}

/// Which page of the matching records a job exports.
#[derive(Debug)]
struct Slice {
    job: u64,
    offset: usize,
    page: usize,
    binding: String,
}

/// Runs the job: the CSV of one page of matching records, zipped.
fn build(
    shared: &Shared,
    module: &'static str,
    columns: &[Column],
    filter: Option<&Expr>,
    slice: Slice,
) -> JobResult {
    let Slice {
        job,
        offset,
        page,
        binding,
    } = slice;
    let per_page = shared.config.bulk_page_size;
    let mut csv_bytes = Vec::new();
    let (count, more) = {
        let store = shared.read();
        let mut writer = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(&mut csv_bytes);
        let _ = writer.write_record(columns.iter().map(|c| c.key.as_str()));
        let mut count = 0;
        let mut more = false;
        if let Some(data) = store.module(module) {
            let matching = data
                .records
                .values()
                .filter(|r| filter.is_none_or(|f| f.eval(&store, r)))
                .skip(offset);
            for record in matching {
                if count == per_page {
                    more = true;
                    break;
                }
                let row: Vec<String> = columns
                    .iter()
                    .map(|c| criteria::csv_value(&store, record, c))
                    .collect();
                let _ = writer.write_record(&row);
                count += 1;
            }
        }
        let _ = writer.flush();
        (count, more)
    };
    let next_token = more.then(|| {
        let token = super::oauth::random_token().replace('.', "");
        lock(&shared.bulk).tokens.insert(
            token.clone(),
            BulkToken {
                binding,
                offset: offset + count,
                page: page + 1,
            },
        );
        token
    });
    JobResult {
        zip: zip_csv(&format!("{job}.csv"), &csv_bytes),
        page,
        count,
        more,
        next_token,
    }
}

fn zip_csv(name: &str, csv_bytes: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let written = zip.start_file(name, options).is_ok() && zip.write_all(csv_bytes).is_ok();
    match zip.finish() {
        Ok(cursor) if written => cursor.into_inner(),
        _ => Vec::new(),
    }
}

fn unknown_job(id: &str) -> ApiError {
    ApiError::new(
        400,
        "INVALID_DATA",
        "the job id given seems to be invalid",
        json!({"api_name": "id", "id": id}),
    )
}

pub(crate) fn status(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    req.need("bulk", None, Op::Read)?;
    let Some(job_id) = parse_id(id) else {
        return Err(unknown_job(id));
    };
    let store = shared.read();
    let bulk = lock(&shared.bulk);
    let Some(job) = bulk.jobs.get(&job_id) else {
        return Err(unknown_job(id));
    };
    let state = state(job, shared.config.bulk_job_delay);
    let mut value = job_json(&store, job_id, job, state);
    if state == "COMPLETED"
        && let (Some(result), Some(map)) = (&job.result, value.as_object_mut())
    {
        map.insert(
            "result".to_owned(),
            json!({
                "page": result.page,
                "per_page": shared.config.bulk_page_size,
                "count": result.count,
                "download_url": format!("/crm/bulk/v8/read/{job_id}/result"),
                "more_records": result.more,
                "next_page_token": result.next_token,
            }),
        );
    }
    Ok(json_response(200, &json!({ "data": [value] })))
}

pub(crate) fn download(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    req.need("bulk", None, Op::Read)?;
    let Some(job_id) = parse_id(id) else {
        return Err(unknown_job(id));
    };
    let result = {
        let mut bulk = lock(&shared.bulk);
        let Some(job) = bulk.jobs.get(&job_id) else {
            return Err(unknown_job(id));
        };
        if state(job, shared.config.bulk_job_delay) != "COMPLETED" {
            return Err(ApiError::new(
                400,
                "INVALID_REQUEST",
                "the job is not completed yet; download its result once its state is COMPLETED",
                json!({"id": id}),
            ));
        }
        let result = job.result.clone();
        let now = Instant::now();
        while bulk
            .downloads
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            bulk.downloads.pop_front();
        }
        if bulk.downloads.len() >= shared.config.bulk_downloads_per_minute {
            return Err(ApiError::too_many_requests(
                "You have exceeded the maximum number of downloads allowed per minute",
            ));
        }
        bulk.downloads.push_back(now);
        result
    };
    let Some(result) = result else {
        return Err(ApiError::internal());
    };
    lock(&shared.stats).record_records(result.count);
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{job_id}.zip\""),
        )
        .body(Body::from(result.zip.clone()))
        .map_err(|_| ApiError::internal())
}
