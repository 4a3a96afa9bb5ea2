//! The HTTP side: one axum fallback handler that counts, limits concurrency, delays,
//! injects faults, authenticates and routes every request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use super::bulk::{self, BulkState};
use super::config::EmulatorConfig;
use super::error::ApiError;
use super::faults::{Fault, Faults};
use super::meta::Meta;
use super::oauth::{OAuth, Op, Reply, TokenInfo};
use super::records::{self, PageTokens};
use super::settings;
use super::stats::{Endpoint, Stats};
use super::store::Store;
use super::{coql, time, users};

/// Request bodies larger than this are refused.
const MAX_BODY: usize = 32 << 20;

/// The state every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: EmulatorConfig,
    /// `http://127.0.0.1:PORT`: accounts server and API domain in one.
    pub(crate) origin: String,
    pub(crate) meta: Meta,
    pub(crate) store: RwLock<Store>,
    pub(crate) oauth: Mutex<OAuth>,
    pub(crate) page_tokens: Mutex<PageTokens>,
    pub(crate) bulk: Mutex<BulkState>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) faults: Faults,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) concurrency: AtomicUsize,
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

    fn authenticate(&self, headers: &HeaderMap) -> Option<TokenInfo> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !(scheme.eq_ignore_ascii_case("Zoho-oauthtoken")
            || scheme.eq_ignore_ascii_case("Bearer"))
        {
            return None;
        }
        lock(&self.oauth).validate(token.trim(), self.faults.token_epoch())
    }
}

/// A request as handlers see it, after authentication.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) token: TokenInfo,
}

impl Req {
    /// A query parameter (first occurrence, exact name).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Fails with `OAUTH_SCOPE_MISMATCH` unless the token allows `op` on `area`.
    pub(crate) fn need(&self, area: &str, sub: Option<&str>, op: Op) -> Result<(), ApiError> {
        if self.token.scopes.allows(area, sub, op) {
            Ok(())
        } else {
            Err(ApiError::scope_mismatch())
        }
    }

    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::new(
                400,
                "INVALID_DATA",
                "the request body is empty",
                json!({}),
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| ApiError::body_not_json(&e.to_string()))
    }

    /// The `If-Modified-Since` header, in seconds.
    pub(crate) fn if_modified_since(&self) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.headers.get(header::IF_MODIFIED_SINCE) else {
            return Ok(None);
        };
        let text = value.to_str().unwrap_or("");
        time::parse_if_modified_since(text)
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_DATA",
                    "the If-Modified-Since header is not a valid date-time",
                    json!({"header_name": "If-Modified-Since"}),
                )
            })
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

fn redirect(location: &str) -> Response {
    let mut response = empty_response(302);
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
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

/// Which endpoint a path addresses, for [`Stats`].
pub(crate) fn classify(segs: &[&str]) -> Endpoint {
    match segs {
        ["oauth", "v2", "auth"] => Endpoint::OAuthAuthorize,
        ["oauth", "v2", "token"] => Endpoint::OAuthToken,
        ["oauth", "v2", "token", "revoke"] => Endpoint::OAuthRevoke,
        ["oauth", "serverinfo"] => Endpoint::OAuthServerInfo,
        ["crm", "bulk", "v8", "read"] | ["crm", "bulk", "v8", "read", _] => Endpoint::BulkRead,
        ["crm", "bulk", "v8", "read", _, "result"] => Endpoint::BulkReadResult,
        ["crm", "v8", rest @ ..] => match rest {
            ["users", "actions", "count"] => Endpoint::UsersCount,
            ["users"] | ["users", _] => Endpoint::Users,
            ["org"] => Endpoint::Org,
            ["settings", "modules"] | ["settings", "modules", _] => Endpoint::Modules,
            ["settings", "fields"] | ["settings", "fields", _] => Endpoint::Fields,
            ["settings", "roles" | "profiles"] | ["settings", "roles" | "profiles", _] => {
                Endpoint::Settings
            }
            ["coql"] => Endpoint::Coql,
            ["settings", ..] | ["users", ..] => Endpoint::Other,
            [_, "upsert"] => Endpoint::Upsert,
            [_, "deleted"] => Endpoint::DeletedRecords,
            [_, "actions", "count"] => Endpoint::RecordCount,
            [_] | [_, _] => Endpoint::Records,
            _ => Endpoint::Other,
        },
        _ => Endpoint::Other,
    }
}

// ---------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------

/// Every request goes through here.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let endpoint = classify(&segs);
    lock(&shared.stats).record_request(parts.method.as_str(), endpoint);
    let response = if endpoint.is_accounts() {
        accounts(&shared, &parts, body, endpoint).await
    } else if endpoint == Endpoint::Other {
        error_response(&ApiError::invalid_url())
    } else {
        api(&shared, parts, body, &segs).await
    };
    lock(&shared.stats).record_status(response.status().as_u16());
    response
}

struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn api(
    shared: &Arc<Shared>,
    parts: http::request::Parts,
    body: Body,
    segs: &[&str],
) -> Response {
    let in_flight = shared.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
    let _slot = Slot(&shared.in_flight);
    if in_flight > shared.concurrency.load(Ordering::Acquire) {
        return error_response(&ApiError::too_many_requests(
            "The number of concurrent requests exceeds the limit for your organization",
        ));
    }
    if let Some(latency) = shared.faults.latency().or(shared.config.latency) {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.next_fault() {
        Some(Fault::RateLimited) => {
            return error_response(&ApiError::too_many_requests(
                "You have exceeded the API request limit (fault injected by the emulator)",
            ));
        }
        Some(Fault::Failure { status }) => {
            let mut e = ApiError::internal();
            e.status = status;
            return error_response(&e);
        }
        None => {}
    }
    let Some(token) = shared.authenticate(&parts.headers) else {
        return error_response(&ApiError::invalid_token());
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::new(
                400,
                "INVALID_DATA",
                "the request body is too large",
                json!({}),
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
        token,
    };
    let result = match segs {
        ["crm", "bulk", "v8", rest @ ..] => bulk_route(shared, &req, rest),
        ["crm", "v8", rest @ ..] => route(shared, &req, rest),
        _ => Err(ApiError::invalid_url()),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn route(shared: &Arc<Shared>, req: &Req, segs: &[&str]) -> Result<Response, ApiError> {
    let m = &req.method;
    match segs {
        ["users"] => match *m {
            Method::GET => users::list(shared, req),
            Method::POST => users::create(shared, req),
            Method::PUT => users::update(shared, req, None),
            _ => Err(ApiError::invalid_method()),
        },
        ["users", "actions", "count"] => match *m {
            Method::GET => users::count(shared, req),
            _ => Err(ApiError::invalid_method()),
        },
        ["users", id] => match *m {
            Method::GET => users::get(shared, req, id),
            Method::PUT => users::update(shared, req, Some(id)),
            Method::DELETE => users::delete(shared, req, id),
            _ => Err(ApiError::invalid_method()),
        },
        ["org"] => match *m {
            Method::GET => settings::org(shared, req),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", "modules"] => match *m {
            Method::GET => settings::modules(shared, req, None),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", "modules", name] => match *m {
            Method::GET => settings::modules(shared, req, Some(name)),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", "fields"] => match *m {
            Method::GET => settings::fields(shared, req, None),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", "fields", id] => match *m {
            Method::GET => settings::fields(shared, req, Some(id)),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", kind @ ("roles" | "profiles")] => match *m {
            Method::GET => settings::roles_or_profiles(shared, req, kind, None),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", kind @ ("roles" | "profiles"), id] => match *m {
            Method::GET => settings::roles_or_profiles(shared, req, kind, Some(id)),
            _ => Err(ApiError::invalid_method()),
        },
        ["coql"] => match *m {
            Method::POST => coql::handle(shared, req),
            _ => Err(ApiError::invalid_method()),
        },
        ["settings", ..] | ["users", ..] => Err(ApiError::invalid_url()),
        [module, rest @ ..] => {
            let Some(meta) = shared.meta.module(module) else {
                return Err(ApiError::invalid_module_in_path());
            };
            let module = meta.api_name;
            match (rest, m) {
                ([], &Method::GET) => records::list(shared, req, module),
                ([], &Method::POST) => records::insert(shared, req, module),
                ([], &Method::PUT) => records::update(shared, req, module, None),
                ([], &Method::DELETE) => records::delete(shared, req, module, None),
                (["upsert"], &Method::POST) => records::upsert(shared, req, module),
                (["deleted"], &Method::GET) => records::deleted(shared, req, module),
                (["actions", "count"], &Method::GET) => records::count(shared, req, module),
                ([id], &Method::GET) => records::get(shared, req, module, id),
                ([id], &Method::PUT) => records::update(shared, req, module, Some(id)),
                ([id], &Method::DELETE) => records::delete(shared, req, module, Some(id)),
                ([] | ["upsert"] | ["deleted"] | ["actions", "count"] | [_], _) => {
                    Err(ApiError::invalid_method())
                }
                _ => Err(ApiError::invalid_url()),
            }
        }
        [] => Err(ApiError::invalid_url()),
    }
}

fn bulk_route(shared: &Arc<Shared>, req: &Req, segs: &[&str]) -> Result<Response, ApiError> {
    match (segs, &req.method) {
        (["read"], &Method::POST) => bulk::create(shared, req),
        (["read", id], &Method::GET) => bulk::status(shared, req, id),
        (["read", id, "result"], &Method::GET) => bulk::download(shared, req, id),
        (["read"] | ["read", _] | ["read", _, "result"], _) => Err(ApiError::invalid_method()),
        _ => Err(ApiError::invalid_url()),
    }
}

async fn accounts(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: Body,
    endpoint: Endpoint,
) -> Response {
    let mut pairs = parts
        .uri
        .query()
        .map(|q| form_pairs(q.as_bytes()))
        .unwrap_or_default();
    if parts.method == Method::POST {
        match axum::body::to_bytes(body, 64 << 10).await {
            Ok(bytes) => pairs.extend(form_pairs(&bytes)),
            Err(_) => return json_response(400, &json!({"error": "invalid_request"})),
        }
    }
    let reply = match (endpoint, &parts.method) {
        (Endpoint::OAuthAuthorize, &Method::GET) => {
            lock(&shared.oauth).authorize(&shared.config, &shared.origin, &pairs)
        }
        (Endpoint::OAuthToken, &Method::POST) => lock(&shared.oauth).token(
            &shared.config,
            &shared.origin,
            &pairs,
            shared.faults.token_epoch(),
        ),
        (Endpoint::OAuthRevoke, &Method::POST) => {
            let token = pairs
                .iter()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            if !token.is_empty() && lock(&shared.oauth).revoke(token) {
                Reply::Json(200, json!({"status": "success"}))
            } else {
                Reply::Json(400, json!({"status": "failure", "error": "invalid_token"}))
            }
        }
        (Endpoint::OAuthServerInfo, &Method::GET) => {
            let mut locations = serde_json::Map::new();
            locations.insert(
                shared.config.location.clone(),
                Value::String(shared.origin.clone()),
            );
            Reply::Json(200, json!({"result": "success", "locations": locations}))
        }
        _ => Reply::Json(405, json!({"error": "invalid_request"})),
    };
    match reply {
        Reply::Json(status, body) => json_response(status, &body),
        Reply::Redirect(location) => redirect(&location),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        assert_eq!(classify(&["crm", "v8", "Leads"]), Endpoint::Records);
        assert_eq!(classify(&["crm", "v8", "Leads", "123"]), Endpoint::Records);
        assert_eq!(
            classify(&["crm", "v8", "Leads", "upsert"]),
            Endpoint::Upsert
        );
        assert_eq!(
            classify(&["crm", "v8", "Leads", "actions", "count"]),
            Endpoint::RecordCount
        );
        assert_eq!(
            classify(&["crm", "v8", "users", "actions", "count"]),
            Endpoint::UsersCount
        );
        assert_eq!(classify(&["crm", "v8", "users", "1"]), Endpoint::Users);
        assert_eq!(classify(&["crm", "v8", "coql"]), Endpoint::Coql);
        assert_eq!(
            classify(&["crm", "bulk", "v8", "read", "1", "result"]),
            Endpoint::BulkReadResult
        );
        assert_eq!(
            classify(&["oauth", "v2", "token", "revoke"]),
            Endpoint::OAuthRevoke
        );
        assert_eq!(classify(&["crm", "v7", "Leads"]), Endpoint::Other);
        assert_eq!(percent_decode("a%20b+c"), "a b+c");
    }
}
