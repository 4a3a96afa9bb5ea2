//! The HTTP side: one axum fallback handler that counts, injects faults,
//! authenticates and routes every request; the metadata resources (versions,
//! sObjects, describe, limits).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use super::config::EmulatorConfig;
use super::error::ApiError;
use super::faults::{FaultKind, Faults};
use super::ingest;
use super::jobs::Jobs;
use super::oauth::OAuth;
use super::query;
use super::reports::{self, Report};
use super::schema::Schema;
use super::stats::{Endpoint, Stats};
use super::store::Store;

/// The oldest API version served.
pub(crate) const OLDEST_VERSION: u32 = 31;

/// The daily allocations left.
#[derive(Debug)]
pub(crate) struct Limits {
    pub(crate) query_jobs: u64,
    pub(crate) batches: u64,
    pub(crate) api_requests: u64,
}

/// The state every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: EmulatorConfig,
    pub(crate) origin: String,
    /// The integration user's id (fixed at start).
    pub(crate) user_id: String,
    pub(crate) schema: Schema,
    pub(crate) store: RwLock<Store>,
    pub(crate) jobs: Mutex<Jobs>,
    pub(crate) oauth: Mutex<OAuth>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) faults: Faults,
    pub(crate) limits: Mutex<Limits>,
    pub(crate) reports: Mutex<Vec<Report>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// `62.0`.
    pub(crate) fn latest(&self) -> String {
        format!("{}.0", self.config.latest_api_version)
    }

    fn authenticated(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !(scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth")) {
            return false;
        }
        lock(&self.oauth).validate(
            token.trim(),
            self.config.token_ttl,
            self.faults.token_epoch(),
        )
    }
}

/// A request as handlers see it, after authentication.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Bytes,
    /// The API version of the path (major).
    pub(crate) version: u32,
}

impl Req {
    /// A query parameter (first occurrence, exact name).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::json_parser(&e.to_string()))
    }

    pub(crate) fn wants_gzip(&self) -> bool {
        self.headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
    }
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from(serde_json::to_vec(body).unwrap_or_default()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn empty_response(status: u16) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT))
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn error_response(e: &ApiError) -> Response {
    json_response(e.status, &e.to_json())
}

/// A CSV body, gzipped when the client accepts it.
pub(crate) fn csv_response(req: &Req, body: Vec<u8>) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv");
    let body = if req.wants_gzip() {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        match enc.write_all(&body).and_then(|()| enc.finish()) {
            Ok(gz) => {
                builder = builder.header(header::CONTENT_ENCODING, "gzip");
                gz
            }
            Err(_) => body,
        }
    } else {
        body
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn fault_response(kind: FaultKind) -> Response {
    match kind {
        FaultKind::RateLimited { retry_after_secs } => {
            let mut r = error_response(&ApiError::new(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded. (fault injected by the emulator)",
            ));
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        FaultKind::ServerError { status } => {
            let e = if status == 503 {
                ApiError::new(503, "SERVER_UNAVAILABLE", "Server is unavailable (fault injected by the emulator)")
            } else {
                ApiError::new(
                    status,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
                )
            };
            error_response(&e)
        }
        FaultKind::HtmlError { status } => Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(format!(
                "<html><head><title>Error {status}</title></head><body><h2>HTTP ERROR {status}</h2><p>Bad Message {status}</p><hr/></body></html>"
            )))
            .unwrap_or_else(|_| Response::new(Body::empty())),
        FaultKind::EmptyError { status } => empty_response(status),
        FaultKind::DropConnection => empty_response(200),
    }
}

/// Sends half of the response body, then fails the stream (the connection drops).
async fn cut_off(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let half = bytes.slice(..bytes.len() / 2);
    // The first half goes out (headers included) before the stream fails.
    let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(half) });
    let fail = futures::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped (fault injected by the emulator)",
        ))
    });
    let stream = futures::StreamExt::chain(first, fail);
    Response::from_parts(parts, Body::from_stream(stream))
}

// ---------------------------------------------------------------------------
// Request helpers
// ---------------------------------------------------------------------------

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `v62.0` → 62.
fn parse_version(seg: &str) -> Option<u32> {
    let (major, minor) = seg.strip_prefix('v')?.split_once('.')?;
    (minor == "0").then_some(())?;
    major.parse().ok()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((percent_decode(id), percent_decode(secret)))
}

// ---------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------

/// Every request goes through here.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let endpoint = match segs.as_slice() {
        ["services", "oauth2", "token"] => Endpoint::Token,
        ["services", "data"] => Endpoint::Versions,
        ["services", "data", v, rest @ ..] if parse_version(v).is_some() => {
            Endpoint::classify(rest)
        }
        _ => Endpoint::Other,
    };
    lock(&shared.stats).record_request(parts.method.as_str(), endpoint);
    let fault = shared.faults.take(parts.method.as_str(), &path);
    let response = match fault {
        Some(kind) if kind != FaultKind::DropConnection => fault_response(kind),
        _ => {
            let r = dispatch(&shared, parts, body, &segs).await;
            if fault == Some(FaultKind::DropConnection) {
                cut_off(r).await
            } else {
                r
            }
        }
    };
    lock(&shared.stats).record_status(response.status().as_u16());
    response
}

async fn dispatch(
    shared: &Arc<Shared>,
    parts: http::request::Parts,
    body: Body,
    segs: &[&str],
) -> Response {
    match segs {
        ["services", "oauth2", "token"] => {
            if parts.method != Method::POST {
                return json_response(
                    405,
                    &json!({"error": "invalid_request", "error_description": "must use HTTP POST"}),
                );
            }
            let mut pairs = parts
                .uri
                .query()
                .map(|q| form_pairs(q.as_bytes()))
                .unwrap_or_default();
            match axum::body::to_bytes(body, 1 << 20).await {
                Ok(bytes) => pairs.extend(form_pairs(&bytes)),
                Err(_) => return json_response(400, &json!({"error": "invalid_request"})),
            }
            let user_id = shared.user_id.clone();
            let (status, body) = lock(&shared.oauth).token(
                &shared.config,
                &shared.origin,
                &user_id,
                &pairs,
                basic_auth(&parts.headers),
                shared.faults.token_epoch(),
            );
            json_response(status, &body)
        }
        ["services", "data"] => {
            if parts.method != Method::GET {
                return error_response(&ApiError::method_not_allowed(parts.method.as_str()));
            }
            let versions: Vec<Value> = (OLDEST_VERSION..=shared.config.latest_api_version)
                .map(|v| {
                    json!({
                        "label": release_label(v),
                        "url": format!("/services/data/v{v}.0"),
                        "version": format!("{v}.0"),
                    })
                })
                .collect();
            json_response(200, &Value::Array(versions))
        }
        ["services", "data", v, rest @ ..] => {
            let version = match parse_version(v) {
                Some(n) if (OLDEST_VERSION..=shared.config.latest_api_version).contains(&n) => n,
                _ => return error_response(&ApiError::not_found()),
            };
            api(shared, parts, body, version, rest).await
        }
        _ => error_response(&ApiError::not_found()),
    }
}

fn release_label(version: u32) -> String {
    // v62 is Winter '25; three releases a year.
    let seasons = ["Winter", "Spring", "Summer"];
    let offset = i64::from(version) - 62;
    let index = (offset.rem_euclid(3)) as usize;
    let year = 25 + offset.div_euclid(3);
    format!("{} '{:02}", seasons[index], year.rem_euclid(100))
}

async fn api(
    shared: &Arc<Shared>,
    parts: http::request::Parts,
    body: Body,
    version: u32,
    segs: &[&str],
) -> Response {
    if !shared.authenticated(&parts.headers) {
        return error_response(&ApiError::invalid_session());
    }
    let used = {
        let mut limits = lock(&shared.limits);
        if limits.api_requests == 0 {
            None
        } else {
            limits.api_requests -= 1;
            Some(shared.config.daily_api_requests - limits.api_requests)
        }
    };
    let Some(used) = used else {
        return error_response(&ApiError::new(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ));
    };
    let limit = if matches!(segs, ["jobs", "ingest", _, "batches"]) {
        shared.config.max_upload_bytes.saturating_add(1)
    } else {
        32 << 20
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::new(
                400,
                "LIMIT_EXCEEDED",
                format!(
                    "Exceeded max size limit of {} bytes of CSV data per job",
                    shared.config.max_upload_bytes
                ),
            ));
        }
    };
    let req = Req {
        query: parts
            .uri
            .query()
            .map(|q| form_pairs(q.as_bytes()))
            .unwrap_or_default(),
        method: parts.method,
        headers: parts.headers,
        body: bytes,
        version,
    };
    let result = route(shared, &req, segs).await;
    let mut response = result.unwrap_or_else(|e| error_response(&e));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "api-usage={used}/{}",
        shared.config.daily_api_requests
    )) {
        response.headers_mut().insert("sforce-limit-info", v);
    }
    response
}

async fn route(shared: &Arc<Shared>, req: &Req, segs: &[&str]) -> Result<Response, ApiError> {
    let m = &req.method;
    let get_only = |r: Result<Response, ApiError>| -> Result<Response, ApiError> {
        if *m == Method::GET {
            r
        } else {
            Err(ApiError::method_not_allowed(m.as_str()))
        }
    };
    let min = |v: u32| {
        if req.version < v {
            Err(ApiError::not_found())
        } else {
            Ok(())
        }
    };
    match segs {
        [] => get_only(Ok(resources(shared, req))),
        ["limits"] => get_only(Ok(limits(shared))),
        ["sobjects"] => get_only(Ok(sobjects(shared, req))),
        ["sobjects", name] => get_only(sobject(shared, req, name, false)),
        ["sobjects", name, "describe"] => get_only(sobject(shared, req, name, true)),
        ["jobs", "query", rest @ ..] => {
            min(47)?;
            match (rest, m) {
                ([], &Method::POST) => query::create(shared, req).await,
                ([], &Method::GET) => query::list(shared, req),
                ([id], &Method::GET) => query::info(shared, req, id),
                ([id], &Method::PATCH) => query::abort(shared, req, id),
                ([id], &Method::DELETE) => query::delete(shared, id),
                ([id, "results"], &Method::GET) => query::results(shared, req, id).await,
                ([id, "resultPages"], &Method::GET) => {
                    min(shared.config.result_pages_since)?;
                    query::result_pages(shared, req, id)
                }
                ([] | [_] | [_, "results" | "resultPages"], _) => {
                    Err(ApiError::method_not_allowed(m.as_str()))
                }
                _ => Err(ApiError::not_found()),
            }
        }
        ["jobs", "ingest", rest @ ..] => {
            min(41)?;
            match (rest, m) {
                ([], &Method::POST) => ingest::create(shared, req),
                ([], &Method::GET) => ingest::list(shared, req),
                ([id], &Method::GET) => ingest::info(shared, req, id),
                ([id], &Method::PATCH) => ingest::patch(shared, req, id),
                ([id], &Method::DELETE) => ingest::delete(shared, id),
                ([id, "batches"], &Method::PUT) => ingest::upload(shared, req, id),
                ([id, kind], &Method::GET) => ingest::results(shared, req, id, kind),
                ([] | [_] | [_, "batches"], _) => Err(ApiError::method_not_allowed(m.as_str())),
                _ => Err(ApiError::not_found()),
            }
        }
        ["analytics", "reports"] => get_only(Ok(reports::list(shared, req))),
        ["analytics", "reports", id] => match *m {
            Method::GET | Method::POST => reports::run(shared, req, id),
            _ => Err(ApiError::method_not_allowed(m.as_str())),
        },
        ["analytics", "reports", id, "describe"] => get_only(reports::describe(shared, req, id)),
        _ => Err(ApiError::not_found()),
    }
}

fn resources(shared: &Shared, req: &Req) -> Response {
    let base = format!("/services/data/v{}.0", req.version);
    let _ = shared;
    json_response(
        200,
        &json!({
            "sobjects": format!("{base}/sobjects"),
            "limits": format!("{base}/limits"),
            "jobs": format!("{base}/jobs"),
            "analytics": format!("{base}/analytics"),
            "query": format!("{base}/query"),
        }),
    )
}

fn limits(shared: &Shared) -> Response {
    let l = lock(&shared.limits);
    let c = &shared.config;
    let pair = |max: u64, remaining: u64| json!({"Max": max, "Remaining": remaining});
    json_response(
        200,
        &json!({
            "ConcurrentAsyncGetReportInstances": pair(200, 200),
            "ConcurrentSyncReportRuns": pair(20, 20),
            "DailyApiRequests": {
                "Max": c.daily_api_requests,
                "Remaining": l.api_requests,
                "Salesforce CLI": pair(0, 0),
                "Emulator Connected App": pair(0, 0),
            },
            "DailyAsyncApexExecutions": pair(250_000, 250_000),
            "DailyBulkApiBatches": {
                "Max": c.daily_bulk_batches,
                "Remaining": l.batches,
                "Emulator Connected App": pair(0, 0),
            },
            "DailyBulkV2QueryFileStorageMB": pair(976_562, 976_562),
            "DailyBulkV2QueryJobs": pair(c.daily_query_jobs, l.query_jobs),
            "DataStorageMB": pair(5, 5),
            "FileStorageMB": pair(20, 20),
            "HourlyAsyncReportRuns": pair(1_200, 1_200),
            "HourlySyncReportRuns": pair(500, 500),
        }),
    )
}

fn sobjects(shared: &Shared, req: &Req) -> Response {
    let version = format!("{}.0", req.version);
    let list: Vec<Value> = shared
        .schema
        .objects
        .iter()
        .map(|o| o.global_describe(&version))
        .collect();
    json_response(
        200,
        &json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
    )
}

fn sobject(shared: &Shared, req: &Req, name: &str, full: bool) -> Result<Response, ApiError> {
    let object = shared
        .schema
        .object(name)
        .ok_or_else(|| ApiError::new(404, "NOT_FOUND", "The requested resource does not exist"))?;
    let def = &shared.schema.objects[object];
    let version = format!("{}.0", req.version);
    if full {
        Ok(json_response(200, &def.describe(&version)))
    } else {
        Ok(json_response(
            200,
            &json!({"objectDescribe": def.global_describe(&version), "recentItems": []}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_labels() {
        assert_eq!(parse_version("v62.0"), Some(62));
        assert_eq!(parse_version("v62.1"), None);
        assert_eq!(parse_version("62.0"), None);
        assert_eq!(release_label(62), "Winter '25");
        assert_eq!(release_label(63), "Spring '25");
        assert_eq!(release_label(61), "Summer '24");
    }
}
