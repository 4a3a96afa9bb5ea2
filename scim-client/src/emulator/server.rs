//! The HTTP side: one axum fallback handler that counts, delays, injects faults,
//! authenticates and routes every request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::bulk;
use super::config::EmulatorConfig;
use super::error::ScimError;
use super::faults::{Fault, Faults};
use super::oauth::{OAuthResponse, OAuthState, form_pairs};
use super::query::{self, Cursors, Limits, ListParams, Projection};
use super::resource::Tolerance;
use super::schema::{Kind, LIST_RESPONSE, SPC_SCHEMA, Schemas};
use super::stats::{Endpoint, Stats};
use super::store::{Ctx, Store, parse_patch};

/// The media type of every SCIM response.
pub(crate) const SCIM_JSON: &str = "application/scim+json";

/// Request bodies larger than this are refused (bulk has its own limit).
const MAX_BODY: usize = 16 << 20;

/// The state every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: EmulatorConfig,
    pub(crate) base_url: String,
    pub(crate) schemas: Schemas,
    pub(crate) store: RwLock<Store>,
    pub(crate) cursors: Mutex<Cursors>,
    pub(crate) oauth: Mutex<OAuthState>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) faults: Faults,
    pub(crate) entra: AtomicBool,
    pub(crate) okta: AtomicBool,
    pub(crate) started: String,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn tol(&self) -> Tolerance {
        Tolerance {
            entra: self.entra.load(Ordering::Acquire),
            okta: self.okta.load(Ordering::Acquire),
        }
    }

    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            schemas: &self.schemas,
            base_url: &self.base_url,
            tol: self.tol(),
        }
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_results: self.config.max_results,
            cursor_timeout: self.config.cursor_timeout,
        }
    }

    fn auth_required(&self) -> bool {
        self.config.token.is_some() || self.config.oauth.is_some()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        if !self.auth_required() {
            return true;
        }
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
        else {
            return false;
        };
        if self
            .config
            .token
            .as_ref()
            .is_some_and(|t| t.expose_secret() == token)
        {
            return true;
        }
        self.config.oauth.is_some() && lock(&self.oauth).accepts(token)
    }
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

fn respond(
    status: u16,
    body: Option<&Value>,
    headers: &[(header::HeaderName, String)],
) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            builder = builder.header(name, v);
        }
    }
    let body = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, SCIM_JSON);
            Body::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn json_response(status: u16, body: &Value) -> Response {
    respond(status, Some(body), &[])
}

fn error_response(e: &ScimError) -> Response {
    let mut headers = Vec::new();
    if e.status == 401 {
        headers.push((
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"scim-emulator\"".to_owned(),
        ));
    }
    respond(e.status, Some(&e.to_json()), &headers)
}

/// RFC 7644 §3.5.2: a service provider without PATCH answers 501.
pub(crate) fn patch_not_implemented() -> ScimError {
    ScimError::new(
        501,
        None,
        "PATCH is not implemented by this service provider (EmulatorConfig::patch(false)); use PUT",
    )
}

fn method_not_allowed(allow: &str) -> Response {
    let e = ScimError::new(405, None, format!("method not allowed; allowed: {allow}"));
    respond(
        405,
        Some(&e.to_json()),
        &[(header::ALLOW, allow.to_owned())],
    )
}

fn not_found(path: &str) -> Response {
    error_response(&ScimError::not_found(format!("no SCIM endpoint at {path}")))
}

// ---------------------------------------------------------------------------
// Request helpers
// ---------------------------------------------------------------------------

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the Content-Type and parses a JSON body.
fn json_body(headers: &HeaderMap, bytes: &Bytes) -> Result<Value, ScimError> {
    if let Some(ct) = header_str(headers, header::CONTENT_TYPE) {
        let media = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !(media == "application/scim+json"
            || media == "application/json"
            || media.ends_with("+json"))
        {
            return Err(ScimError::new(
                415,
                None,
                format!(
                    "unsupported Content-Type {ct:?}: send application/scim+json or application/json"
                ),
            ));
        }
    }
    if bytes.is_empty() {
        return Err(ScimError::invalid_syntax("the request needs a JSON body"));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| form_pairs(q.as_bytes())).unwrap_or_default()
}

fn projection_params(pairs: &[(String, String)]) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let find = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| query::split_list(v))
    };
    (find("attributes"), find("excludedAttributes"))
}

/// Which endpoint a path addresses, for [`Stats`], and its segments under the base path.
fn classify(base_path: &str, path: &str) -> (Endpoint, Option<Vec<String>>) {
    match path {
        "/oauth/token" => return (Endpoint::OAuthToken, None),
        "/oauth/authorize" => return (Endpoint::OAuthAuthorize, None),
        _ => {}
    }
    let rest = if base_path.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(base_path)
            .filter(|r| r.is_empty() || r.starts_with('/'))
    };
    let Some(rest) = rest else {
        return (Endpoint::Other, None);
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let endpoint = match segments.first().map(String::as_str) {
        Some(".search") => Endpoint::Search,
        Some("Users") | Some("Groups")
            if segments.get(1).map(String::as_str) == Some(".search") =>
        {
            Endpoint::Search
        }
        Some("Users") => Endpoint::Users,
        Some("Groups") => Endpoint::Groups,
        Some("Bulk") => Endpoint::Bulk,
        Some("ServiceProviderConfig") => Endpoint::ServiceProviderConfig,
        Some("ResourceTypes") => Endpoint::ResourceTypes,
        Some("Schemas") => Endpoint::Schemas,
        Some("Me") => Endpoint::Me,
        _ => Endpoint::Other,
    };
    (endpoint, Some(segments))
}

// ---------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------

/// Every request goes through here.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let (endpoint, segments) = classify(&shared.config.base_path, &path);
    lock(&shared.stats).record_request(parts.method.as_str(), endpoint);
    let response = dispatch(&shared, &parts, body, endpoint, segments).await;
    lock(&shared.stats).record_status(response.status().as_u16());
    response
}

async fn dispatch(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: Body,
    endpoint: Endpoint,
    segments: Option<Vec<String>>,
) -> Response {
    let method = &parts.method;
    let headers = &parts.headers;
    let query = parts.uri.query();
    match endpoint {
        Endpoint::OAuthToken | Endpoint::OAuthAuthorize => {
            return oauth(shared, method, headers, query, body, endpoint).await;
        }
        _ => {}
    }
    let Some(segments) = segments else {
        return not_found(parts.uri.path());
    };

    if let Some(latency) = shared.faults.latency().or(shared.config.latency) {
        tokio::time::sleep(latency).await;
    }
    let write = matches!(
        *method,
        http::Method::POST | http::Method::PUT | http::Method::PATCH | http::Method::DELETE
    );
    if let Some(fault) = shared.faults.next_fault(write) {
        return match fault {
            Fault::RateLimited { retry_after_secs } => {
                let e = ScimError::new(
                    429,
                    None,
                    "too many requests (fault injected by the emulator)",
                );
                respond(
                    429,
                    Some(&e.to_json()),
                    &[(header::RETRY_AFTER, retry_after_secs.to_string())],
                )
            }
            Fault::Failure { status } => {
                let e = ScimError::new(
                    status,
                    None,
                    "service failure (fault injected by the emulator)",
                );
                let headers = if status == 503 {
                    vec![(header::RETRY_AFTER, "1".to_owned())]
                } else {
                    Vec::new()
                };
                respond(status, Some(&e.to_json()), &headers)
            }
        };
    }

    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    // Discovery: no authentication, GET only (RFC 7644 §4).
    match segs.as_slice() {
        ["ServiceProviderConfig"]
        | ["ResourceTypes"]
        | ["ResourceTypes", _]
        | ["Schemas"]
        | ["Schemas", _] => {
            if method != Method::GET {
                return method_not_allowed("GET");
            }
            return discovery(shared, &segs);
        }
        _ => {}
    }
    if !shared.authorized(headers) {
        return error_response(&ScimError::new(
            401,
            None,
            "missing or invalid bearer token",
        ));
    }

    let limit = if endpoint == Endpoint::Bulk {
        shared.config.bulk_max_payload_size
    } else {
        MAX_BODY
    };
    let declared_len =
        header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        error_response(&ScimError::new(
            413,
            None,
            format!("the request body exceeds {limit} bytes (maxPayloadSize)"),
        ))
    };
    if declared_len.is_some_and(|n| n > limit) {
        return too_large();
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let pairs = query_pairs(query);

    let result = match segs.as_slice() {
        [] => Err(ScimError::not_found(
            "no SCIM endpoint at the base path itself",
        )),
        [".search"] => match *method {
            Method::POST => search(shared, headers, &bytes, &Kind::ALL),
            _ => return method_not_allowed("POST"),
        },
        ["Bulk"] => match *method {
            Method::POST => run_bulk(shared, headers, &bytes),
            _ => return method_not_allowed("POST"),
        },
        ["Me", ..] => Err(ScimError::new(
            501,
            None,
            "/Me is not implemented by the emulator",
        )),
        [collection, rest @ ..] => {
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.endpoint() == *collection) else {
                return not_found(parts.uri.path());
            };
            match rest {
                [] => match *method {
                    Method::GET => ListParams::from_query(&pairs)
                        .and_then(|p| list(shared, &[kind], &p))
                        .map(|v| json_response(200, &v)),
                    Method::POST => create(shared, kind, headers, &bytes, &pairs),
                    _ => return method_not_allowed("GET, POST"),
                },
                [".search"] => match *method {
                    Method::POST => search(shared, headers, &bytes, &[kind]),
                    _ => return method_not_allowed("POST"),
                },
                [id] => match *method {
                    Method::GET => get(shared, kind, id, headers, &pairs),
                    Method::PUT => replace(shared, kind, id, headers, &bytes, &pairs),
                    Method::PATCH if !shared.config.patch => Err(patch_not_implemented()),
                    Method::PATCH => patch(shared, kind, id, headers, &bytes, &pairs),
                    Method::DELETE => delete(shared, kind, id, headers),
                    _ => return method_not_allowed("GET, PUT, PATCH, DELETE"),
                },
                _ => return not_found(parts.uri.path()),
            }
        }
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn discovery(shared: &Shared, segs: &[&str]) -> Response {
    let base = &shared.base_url;
    match segs {
        ["ServiceProviderConfig"] => json_response(200, &service_provider_config(shared)),
        ["ResourceTypes"] => {
            let items: Vec<Value> = Kind::ALL
                .iter()
                .map(|k| shared.schemas.resource_type_json(*k, base))
                .collect();
            json_response(200, &list_response(items))
        }
        ["ResourceTypes", id] => match Kind::ALL.into_iter().find(|k| k.name() == *id) {
            Some(kind) => json_response(200, &shared.schemas.resource_type_json(kind, base)),
            None => error_response(&ScimError::not_found(format!(
                "resource type {id:?} not found"
            ))),
        },
        ["Schemas"] => {
            let items: Vec<Value> = shared
                .schemas
                .all()
                .iter()
                .map(|s| s.to_json(base))
                .collect();
            json_response(200, &list_response(items))
        }
        ["Schemas", id] => match shared.schemas.all().into_iter().find(|s| s.id == *id) {
            Some(schema) => json_response(200, &schema.to_json(base)),
            None => error_response(&ScimError::not_found(format!("schema {id:?} not found"))),
        },
        _ => not_found(segs.join("/").as_str()),
    }
}

fn list_response(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

fn service_provider_config(shared: &Shared) -> Value {
    let c = &shared.config;
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
        "patch": {"supported": c.patch},
        "bulk": {
            "supported": true,
            "maxOperations": c.bulk_max_operations,
            "maxPayloadSize": c.bulk_max_payload_size,
        },
        "filter": {"supported": true, "maxResults": c.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token (RFC 6750)",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": c.max_results,
            "maxPageSize": c.max_results,
            "cursorTimeout": c.cursor_timeout.as_secs(),
        },
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", shared.base_url),
            "created": shared.started,
            "lastModified": shared.started,
        },
    })
}

fn list(shared: &Shared, kinds: &[Kind], params: &ListParams) -> Result<Value, ScimError> {
    let store = shared.read();
    query::list(
        shared.ctx(),
        &store,
        &shared.cursors,
        kinds,
        params,
        shared.limits(),
    )
}

fn search(
    shared: &Shared,
    headers: &HeaderMap,
    bytes: &Bytes,
    kinds: &[Kind],
) -> Result<Response, ScimError> {
    let body = json_body(headers, bytes)?;
    let params = ListParams::from_search_request(&body, !shared.tol().unknown_ok())?;
    list(shared, kinds, &params).map(|v| json_response(200, &v))
}

/// Renders a resource with the request's projection, with `ETag` (and `Location`).
fn resource_response(
    shared: &Shared,
    store: &Store,
    kind: Kind,
    id: &str,
    status: u16,
    pairs: &[(String, String)],
    with_location: bool,
) -> Result<Response, ScimError> {
    let resource = store
        .get(kind, id)
        .ok_or_else(|| ScimError::not_found(format!("{} {id:?} not found", kind.name())))?;
    let (attributes, excluded) = projection_params(pairs);
    let projection = Projection::new(&shared.schemas, attributes.as_deref(), excluded.as_deref())?;
    let full = store.render(shared.ctx(), kind, resource);
    let body = if projection.is_identity() {
        full
    } else {
        projection.apply(&shared.schemas, kind, full)
    };
    let mut headers = vec![(header::ETAG, resource.etag())];
    if with_location {
        headers.push((
            header::LOCATION,
            format!("{}/{}/{id}", shared.base_url, kind.endpoint()),
        ));
    }
    Ok(respond(status, Some(&body), &headers))
}

fn create(
    shared: &Shared,
    kind: Kind,
    headers: &HeaderMap,
    bytes: &Bytes,
    pairs: &[(String, String)],
) -> Result<Response, ScimError> {
    let body = json_body(headers, bytes)?;
    let mut store = shared.write();
    let id = store.create(shared.ctx(), kind, &body)?;
    resource_response(shared, &store, kind, &id, 201, pairs, true)
}

fn get(
    shared: &Shared,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Result<Response, ScimError> {
    let store = shared.read();
    let resource = store
        .get(kind, id)
        .ok_or_else(|| ScimError::not_found(format!("{} {id:?} not found", kind.name())))?;
    if let Some(tags) = header_str(headers, header::IF_NONE_MATCH)
        && super::store::if_match_accepts(tags, resource.version)
    {
        return Ok(respond(304, None, &[(header::ETAG, resource.etag())]));
    }
    resource_response(shared, &store, kind, id, 200, pairs, false)
}

fn replace(
    shared: &Shared,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
    bytes: &Bytes,
    pairs: &[(String, String)],
) -> Result<Response, ScimError> {
    let body = json_body(headers, bytes)?;
    let mut store = shared.write();
    store.replace(
        shared.ctx(),
        kind,
        id,
        &body,
        header_str(headers, header::IF_MATCH),
    )?;
    resource_response(shared, &store, kind, id, 200, pairs, false)
}

fn patch(
    shared: &Shared,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
    bytes: &Bytes,
    pairs: &[(String, String)],
) -> Result<Response, ScimError> {
    let body = json_body(headers, bytes)?;
    let ctx = shared.ctx();
    let request = parse_patch(ctx, &body)?;
    let mut store = shared.write();
    store.patch(
        ctx,
        kind,
        id,
        &request,
        header_str(headers, header::IF_MATCH),
    )?;
    let (attributes, excluded) = projection_params(pairs);
    if attributes.is_some() || excluded.is_some() {
        return resource_response(shared, &store, kind, id, 200, pairs, false);
    }
    let etag = store
        .get(kind, id)
        .map(super::store::Resource::etag)
        .unwrap_or_default();
    Ok(respond(204, None, &[(header::ETAG, etag)]))
}

fn delete(
    shared: &Shared,
    kind: Kind,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, ScimError> {
    let mut store = shared.write();
    store.delete(
        shared.ctx(),
        kind,
        id,
        header_str(headers, header::IF_MATCH),
    )?;
    Ok(respond(204, None, &[]))
}

fn run_bulk(shared: &Shared, headers: &HeaderMap, bytes: &Bytes) -> Result<Response, ScimError> {
    let body = json_body(headers, bytes)?;
    let mut store = shared.write();
    let strict = !shared.tol().unknown_ok();
    let response = bulk::run(
        shared.ctx(),
        &mut store,
        &body,
        shared.config.bulk_max_operations,
        strict,
    )?;
    Ok(json_response(200, &response))
}

async fn oauth(
    shared: &Shared,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
    endpoint: Endpoint,
) -> Response {
    let Some(client) = &shared.config.oauth else {
        return not_found(match endpoint {
            Endpoint::OAuthToken => "/oauth/token",
            _ => "/oauth/authorize",
        });
    };
    let reply = match (endpoint, method) {
        (Endpoint::OAuthAuthorize, &Method::GET) => {
            lock(&shared.oauth).authorize(client, &query_pairs(query))
        }
        (Endpoint::OAuthToken, &Method::POST) => {
            let Ok(bytes) = axum::body::to_bytes(body, 64 << 10).await else {
                return oauth_response(&OAuthResponse {
                    status: 400,
                    body: Some(
                        json!({"error": "invalid_request", "error_description": "body too large"}),
                    ),
                    location: None,
                    www_authenticate: false,
                });
            };
            let form = form_pairs(&bytes);
            let authorization = header_str(headers, header::AUTHORIZATION);
            lock(&shared.oauth).token(client, authorization, &form, shared.config.token_ttl)
        }
        (Endpoint::OAuthAuthorize, _) => return method_not_allowed("GET"),
        _ => return method_not_allowed("POST"),
    };
    oauth_response(&reply)
}

fn oauth_response(reply: &OAuthResponse) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_REQUEST));
    if let Some(location) = &reply.location {
        builder = builder.header(header::LOCATION, location.as_str());
    }
    if reply.www_authenticate {
        builder = builder.header(header::WWW_AUTHENTICATE, "Basic realm=\"scim-emulator\"");
    }
    let body = match &reply.body {
        Some(v) => {
            builder = builder
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-store")
                .header(header::PRAGMA, "no-cache");
            Body::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        assert_eq!(classify("/v2", "/v2/Users").0, Endpoint::Users);
        assert_eq!(classify("/v2", "/v2/Users/.search").0, Endpoint::Search);
        assert_eq!(classify("/v2", "/v2/.search").0, Endpoint::Search);
        assert_eq!(classify("/v2", "/v2x/Users").0, Endpoint::Other);
        assert_eq!(classify("/v2", "/oauth/token").0, Endpoint::OAuthToken);
        assert_eq!(
            classify("", "/Groups/1").1,
            Some(vec!["Groups".to_owned(), "1".to_owned()])
        );
        assert_eq!(percent_decode("a%3Ab%2"), "a:b%2");
    }
}
