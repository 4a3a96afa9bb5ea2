//! The SCIM client: [`ScimClient`] and the per-resource-type [`Resources`] API.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use connector_core::ConnectorError;
use connector_core::http::{HttpClientBuilder, send_with_retry};
use connector_core::retry::{Idempotency, RetryPolicy};
use connector_core::tls::TlsOptions;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::ScimAuth;
use crate::dialect::Dialect;
use crate::discovery::{
    Capabilities, CapabilityOverrides, ListOrArray, ResourceType, SchemaDef, ServiceProviderConfig,
};
use crate::error::{Result, ScimError, ScimType};
use crate::model::{ErrorBody, Group, ListResponse, Resource, SEARCH_REQUEST_SCHEMA, User};
use crate::patch::PatchRequest;

const SCIM_JSON: &str = "application/scim+json";
const ACCEPT: &str = "application/scim+json, application/json;q=0.9";

/// Builds a [`ScimClient`].
///
/// ```
/// use scim_client::{Dialect, ScimClient};
///
/// let client = ScimClient::builder("https://scim.example.com/v2")
///     .bearer_token("token-from-the-app")
///     .dialect(Dialect::Entra)
///     .build()?;
/// # Ok::<(), scim_client::ScimError>(())
/// ```
#[derive(Debug)]
pub struct ScimClientBuilder {
    base_url: String,
    auth: ScimAuth,
    dialect: Dialect,
    http: HttpClientBuilder,
    client: Option<reqwest::Client>,
    retry: RetryPolicy,
    overrides: CapabilityOverrides,
    page_size: u64,
}

impl ScimClientBuilder {
    /// A builder from the environment, or `None` when `SCIM_URL` is not set:
    /// `SCIM_URL` (the tenant URL) and `SCIM_TOKEN` (a bearer token). Plain `http://`
    /// is allowed only for loopback addresses.
    pub fn from_env() -> Result<Option<Self>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let Some(url) = var("SCIM_URL") else {
            return Ok(None);
        };
        let token = var("SCIM_TOKEN")
            .ok_or_else(|| ScimError::Config("SCIM_URL is set but SCIM_TOKEN is not".into()))?;
        let loopback = ["http://127.", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| url.starts_with(p));
        Ok(Some(ScimClient::builder(url).bearer_token(token).tls(
            TlsOptions::default().with_encrypted_endpoints(!loopback),
        )))
    }

    /// Authenticates with a static bearer token.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.auth = ScimAuth::Bearer(SecretString::from(token.into()));
        self
    }

    /// Sets how the client authenticates.
    #[must_use]
    pub fn auth(mut self, auth: ScimAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the request dialect (RFC by default).
    #[must_use]
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sets TLS options (`useEncryptedEndpoints` and friends).
    #[must_use]
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.http = self.http.with_tls(tls);
        self
    }

    /// Replaces the HTTP client settings.
    #[must_use]
    pub fn http(mut self, http: HttpClientBuilder) -> Self {
        self.http = http;
        self
    }

    /// Uses an existing `reqwest` client (its TLS and timeouts are used as they are).
    /// Build it after [`connector_core::http::install_crypto_provider`], or with
    /// [`HttpClientBuilder`], which installs it.
    #[must_use]
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Sets the retry policy for 429, 5xx and timeouts.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Corrects what discovery reports.
    #[must_use]
    pub fn overrides(mut self, overrides: CapabilityOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Sets the page size of lists (default 100; capped by the server's
    /// `filter.maxResults`).
    #[must_use]
    pub fn page_size(mut self, n: u64) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Builds the client. An `http://` base URL while encrypted endpoints are required
    /// is an error here, before any request.
    pub fn build(self) -> Result<ScimClient> {
        let base = self.base_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base)
            .map_err(|e| ScimError::Config(format!("the base URL {base:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ScimError::Config(format!(
                "the base URL {base:?} is not http(s)"
            )));
        }
        self.http.tls().check_endpoint(&base)?;
        let http = match self.client {
            Some(c) => c,
            None => self.http.build()?,
        };
        Ok(ScimClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth: self.auth,
                dialect: self.dialect,
                retry: self.retry,
                overrides: self.overrides,
                page_size: self.page_size,
                capabilities: tokio::sync::RwLock::new(None),
                patch_refused: AtomicBool::new(false),
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: String,
    auth: ScimAuth,
    dialect: Dialect,
    retry: RetryPolicy,
    overrides: CapabilityOverrides,
    page_size: u64,
    capabilities: tokio::sync::RwLock<Option<Capabilities>>,
    /// Set once a PATCH was answered 501: updates go through GET and PUT.
    patch_refused: AtomicBool,
}

/// A SCIM 2.0 client. Cheap to clone: clones share one connection pool, token cache
/// and discovered capabilities.
#[derive(Clone)]
pub struct ScimClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimClient")
            .field("base", &self.inner.base)
            .field("auth", &self.inner.auth)
            .field("dialect", &self.inner.dialect)
            .finish_non_exhaustive()
    }
}

/// A request, before authentication and retries.
struct Request {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    headers: Vec<(header::HeaderName, String)>,
    idempotency: Idempotency,
    operation: &'static str,
}

impl Request {
    fn new(method: Method, path: impl Into<String>, operation: &'static str) -> Self {
        let idempotency = if method == Method::POST || method == Method::PATCH {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotency,
            operation,
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }
}

impl ScimClient {
    /// A builder for a client of the SCIM service at `base_url` (the tenant URL, e.g.
    /// `https://scim.example.com/v2`; an opaque prefix to which `/Users` is appended).
    pub fn builder(base_url: impl Into<String>) -> ScimClientBuilder {
        ScimClientBuilder {
            base_url: base_url.into(),
            auth: ScimAuth::None,
            dialect: Dialect::Rfc,
            http: HttpClientBuilder::new(),
            client: None,
            retry: RetryPolicy::default(),
            overrides: CapabilityOverrides::default(),
            page_size: 100,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The request dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// Users (`/Users`).
    pub fn users(&self) -> Resources<User> {
        Resources::at(self.clone(), User::ENDPOINT)
    }

    /// Groups (`/Groups`).
    pub fn groups(&self) -> Resources<Group> {
        Resources::at(self.clone(), Group::ENDPOINT)
    }

    /// Any other resource type, as JSON, at `endpoint` (from
    /// [`ResourceType::endpoint`], e.g. `/Devices`).
    pub fn resources(&self, endpoint: &str) -> Resources<Value> {
        Resources::at(self.clone(), endpoint.trim_start_matches('/'))
    }

    fn url(&self, path: &str) -> String {
        if path.is_empty() {
            self.inner.base.clone()
        } else {
            format!("{}/{}", self.inner.base, path.trim_start_matches('/'))
        }
    }

    /// Sends a request: retries 429/5xx as the policy allows, authenticates (refreshing
    /// an OAuth token once on 401), and turns error responses into [`ScimError`]s.
    async fn send(&self, req: Request) -> Result<reqwest::Response> {
        let url = self.url(&req.path);
        let body = match &req.body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| ScimError::Config(format!("unserializable body: {e}")))?,
            ),
            None => None,
        };
        let build = |token: Option<&SecretString>| {
            let mut r = self
                .inner
                .http
                .request(req.method.clone(), &url)
                .header(header::ACCEPT, ACCEPT)
                .query(&req.query);
            for (name, value) in &req.headers {
                r = r.header(name.clone(), value.as_str());
            }
            if let Some(body) = &body {
                r = r.header(header::CONTENT_TYPE, SCIM_JSON).body(body.clone());
            }
            if let Some(token) = token {
                r = r.bearer_auth(token.expose_secret());
            }
            r
        };
        let retry = &self.inner.retry;
        let response = match &self.inner.auth {
            ScimAuth::None => {
                send_with_retry(retry, req.idempotency, req.operation, || build(None)).await?
            }
            ScimAuth::Bearer(token) => {
                send_with_retry(retry, req.idempotency, req.operation, || build(Some(token)))
                    .await?
            }
            ScimAuth::OAuth(cache) => {
                cache
                    .with_token(|token| {
                        let build = &build;
                        async move {
                            let response =
                                send_with_retry(retry, req.idempotency, req.operation, || {
                                    build(Some(&token.access_token))
                                })
                                .await?;
                            if response.status() == StatusCode::UNAUTHORIZED {
                                // Invalidate and try once more with a fresh token.
                                let err = error_from(response, req.operation).await;
                                return Err(ConnectorError::from(err).with_operation(req.operation));
                            }
                            Ok(response)
                        }
                    })
                    .await?
            }
        };
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            Ok(response)
        } else {
            Err(error_from(response, req.operation).await)
        }
    }

    async fn send_json<T: serde::de::DeserializeOwned>(&self, req: Request) -> Result<T> {
        let operation = req.operation;
        let response = self.send(req).await?;
        read_json(response, operation).await
    }

    /// `GET /ServiceProviderConfig`.
    pub async fn service_provider_config(&self) -> Result<ServiceProviderConfig> {
        self.send_json(Request::new(
            Method::GET,
            "ServiceProviderConfig",
            "scim.service_provider_config",
        ))
        .await
    }

    /// `GET /ResourceTypes`.
    pub async fn resource_types(&self) -> Result<Vec<ResourceType>> {
        let list: ListOrArray<ResourceType> = self
            .send_json(Request::new(
                Method::GET,
                "ResourceTypes",
                "scim.resource_types",
            ))
            .await?;
        Ok(list.into_vec())
    }

    /// `GET /Schemas`.
    pub async fn schemas(&self) -> Result<Vec<SchemaDef>> {
        let list: ListOrArray<SchemaDef> = self
            .send_json(Request::new(Method::GET, "Schemas", "scim.schemas"))
            .await?;
        Ok(list.into_vec())
    }

    /// What the server can do, from discovery (fetched once, then cached) with the
    /// builder's overrides applied. A server without `/ResourceTypes` is fine.
    pub async fn capabilities(&self) -> Result<Capabilities> {
        if let Some(caps) = self.inner.capabilities.read().await.as_ref() {
            return Ok(caps.clone());
        }
        let config = self.service_provider_config().await?;
        let types = match self.resource_types().await {
            Ok(types) => types,
            Err(e) if matches!(e.status(), Some(404 | 501)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let caps = Capabilities::new(config, types, &self.inner.overrides);
        *self.inner.capabilities.write().await = Some(caps.clone());
        Ok(caps)
    }

    /// Capabilities, or the overrides over defaults when the server has no discovery.
    async fn capabilities_or_default(&self) -> Capabilities {
        match self.capabilities().await {
            Ok(caps) => caps,
            Err(e) => {
                tracing::debug!(error = %e, "no discovery; using defaults and overrides");
                Capabilities::new(
                    ServiceProviderConfig::default(),
                    Vec::new(),
                    &self.inner.overrides,
                )
            }
        }
    }

    /// Whether updates are sent as a `GET` and a whole-resource `PUT` instead of
    /// `PATCH`: when [`CapabilityOverrides::patch`] says so, or once a `PATCH` was
    /// answered 501 Not Implemented (RFC 7644 §3.5.2), until [`rediscover`](Self::rediscover).
    ///
    /// What discovery advertises is not used for this on its own: a missing `patch`
    /// section reads as unsupported, and a needless switch to PUT would cost a read per
    /// write and rewrite whole resources. The first PATCH answered 501 is one round trip.
    pub fn updates_with_put(&self) -> bool {
        match self.inner.overrides.patch {
            Some(patch) => !patch,
            None => self.inner.patch_refused.load(Ordering::Relaxed),
        }
    }

    /// Forgets the cached capabilities, so the next call discovers again, and that a
    /// PATCH was refused (the next update tries PATCH again).
    pub async fn rediscover(&self) {
        *self.inner.capabilities.write().await = None;
        self.inner.patch_refused.store(false, Ordering::Relaxed);
    }

    /// Microsoft Entra's "Test Connection": a filter on a random `userName` must return
    /// 200 with an empty list. Proves the URL, the credentials and filtering at once.
    pub async fn test_connection(&self) -> Result<()> {
        let probe = format!("connection-test-{:032x}", rand::random::<u128>());
        let filter = format!("userName eq {}", json!(probe));
        let page = self
            .users()
            .page(&ListQuery::new().filter(filter).page_size(1), 1)
            .await?;
        if page.total_results != 0 || !page.resources.is_empty() {
            return Err(ScimError::InvalidResponse {
                operation: "scim.test_connection",
                message: format!(
                    "a filter on a random userName returned {} results",
                    page.total_results
                ),
            });
        }
        Ok(())
    }

    /// `POST /.search` across every resource type: each result is JSON carrying its
    /// `schemas` and `meta.resourceType`.
    pub fn search_all(&self, query: ListQuery) -> BoxStream<'static, Result<Value>> {
        Resources::<Value>::at(self.clone(), "").search(query)
    }

    /// Sends a bulk request, split to the server's advertised limits (operations and
    /// bytes per request). `bulkId` references to resources created by an earlier
    /// part are resolved before the later part is sent, and `failOnErrors` counts
    /// across the parts.
    pub async fn bulk(
        &self,
        request: crate::bulk::BulkRequest,
    ) -> Result<crate::bulk::BulkResponse> {
        let caps = self.capabilities_or_default().await;
        crate::bulk::send(self, request, &caps).await
    }

    pub(crate) async fn post_bulk(&self, body: Value) -> Result<Value> {
        self.send_json(Request::new(Method::POST, "Bulk", "scim.bulk").body(body))
            .await
    }
}

/// Sort order of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending.
    Ascending,
    /// Descending.
    Descending,
}

/// How a list is paged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Paging {
    /// Cursor paging when the server advertises it (RFC 9865), else index paging.
    #[default]
    Auto,
    /// `startIndex`/`count`.
    Index,
    /// `cursor`/`nextCursor` (RFC 9865).
    Cursor,
}

/// A list or search query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<SortOrder>,
    attributes: Vec<String>,
    excluded_attributes: Vec<String>,
    page_size: Option<u64>,
    paging: Paging,
}

impl ListQuery {
    /// Everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only resources matching `filter` (a [`Filter`](crate::filter::Filter), or a
    /// string, which is sent as it is).
    #[must_use]
    pub fn filter(mut self, filter: impl fmt::Display) -> Self {
        self.filter = Some(filter.to_string());
        self
    }

    /// Sorts by an attribute.
    #[must_use]
    pub fn sort_by(mut self, attribute: impl Into<String>, order: SortOrder) -> Self {
        self.sort_by = Some(attribute.into());
        self.sort_order = Some(order);
        self
    }

    /// Returns only these attributes (and those always returned).
    #[must_use]
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.attributes = attributes.into_iter().map(Into::into).collect();
        self
    }

    /// Leaves these attributes out (`members` of large groups).
    #[must_use]
    pub fn excluded_attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.excluded_attributes = attributes.into_iter().map(Into::into).collect();
        self
    }

    /// Results per request.
    #[must_use]
    pub fn page_size(mut self, n: u64) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// Chooses the paging method.
    #[must_use]
    pub fn paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// Refuses a filter that does not parse, before any request.
    fn check(&self) -> Result<()> {
        match &self.filter {
            Some(f) => crate::filter::Filter::parse(f)
                .map(|_| ())
                .map_err(|e| ScimError::InvalidFilter(e.to_string())),
            None => Ok(()),
        }
    }

    fn apply(&self, mut req: Request) -> Request {
        if let Some(f) = &self.filter {
            req = req.query("filter", f.clone());
        }
        if let Some(s) = &self.sort_by {
            req = req.query("sortBy", s.clone());
        }
        if let Some(o) = self.sort_order {
            req = req.query("sortOrder", sort_order(o));
        }
        if !self.attributes.is_empty() {
            req = req.query("attributes", self.attributes.join(","));
        }
        if !self.excluded_attributes.is_empty() {
            req = req.query("excludedAttributes", self.excluded_attributes.join(","));
        }
        req
    }

    fn search_body(&self, start_index: Option<u64>, cursor: Option<&str>, count: u64) -> Value {
        let mut body = json!({ "schemas": [SEARCH_REQUEST_SCHEMA], "count": count });
        let obj = body.as_object_mut();
        if let Some(obj) = obj {
            if let Some(f) = &self.filter {
                obj.insert("filter".into(), json!(f));
            }
            if let Some(s) = &self.sort_by {
                obj.insert("sortBy".into(), json!(s));
            }
            if let Some(o) = self.sort_order {
                obj.insert("sortOrder".into(), json!(sort_order(o)));
            }
            if !self.attributes.is_empty() {
                obj.insert("attributes".into(), json!(self.attributes));
            }
            if !self.excluded_attributes.is_empty() {
                obj.insert("excludedAttributes".into(), json!(self.excluded_attributes));
            }
            if let Some(i) = start_index {
                obj.insert("startIndex".into(), json!(i));
            }
            if let Some(c) = cursor {
                obj.insert("cursor".into(), json!(c));
            }
        }
        body
    }
}

fn sort_order(o: SortOrder) -> &'static str {
    match o {
        SortOrder::Ascending => "ascending",
        SortOrder::Descending => "descending",
    }
}

/// Options of a single-resource read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Return only these attributes.
    pub attributes: Vec<String>,
    /// Leave these attributes out.
    pub excluded_attributes: Vec<String>,
    /// Send `If-None-Match` with this ETag: an unchanged resource is not sent again.
    pub if_none_match: Option<String>,
}

/// The answer to a conditional read.
#[derive(Clone, Debug, PartialEq)]
pub enum Conditional<T> {
    /// The resource changed (or no ETag was given): here it is.
    Modified(T),
    /// 304: the resource still has the given ETag.
    NotModified,
}

/// The operations on one resource type.
pub struct Resources<T> {
    client: ScimClient,
    endpoint: String,
    _resource: PhantomData<fn() -> T>,
}

impl<T> Clone for Resources<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            endpoint: self.endpoint.clone(),
            _resource: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Resources<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

struct PageState {
    start_index: u64,
    cursor: Option<String>,
    seen: HashSet<String>,
    done: bool,
}

impl<T: Resource> Resources<T> {
    fn at(client: ScimClient, endpoint: &str) -> Self {
        Self {
            client,
            endpoint: endpoint.trim_matches('/').to_owned(),
            _resource: PhantomData,
        }
    }

    fn item(&self, id: &str) -> Result<String> {
        if id.is_empty() || id.contains('/') || id.contains('?') || id.contains('#') {
            return Err(ScimError::Config(format!("{id:?} is not a resource id")));
        }
        Ok(format!("{}/{}", self.endpoint, id))
    }

    /// `POST`: creates the resource and returns it as stored (with `id` and `meta`).
    /// A duplicate is [`ScimType::Uniqueness`] (409).
    pub async fn create(&self, resource: &T) -> Result<T> {
        let body = to_body(resource)?;
        let req = Request::new(Method::POST, self.endpoint.clone(), "scim.create").body(body);
        let response = self.client.send(req).await?;
        read_resource(response, "scim.create").await
    }

    /// `GET` by id. A missing resource is an error with status 404.
    pub async fn get(&self, id: &str) -> Result<T> {
        match self.get_with(id, &GetOptions::default()).await? {
            Conditional::Modified(r) => Ok(r),
            Conditional::NotModified => Err(ScimError::InvalidResponse {
                operation: "scim.get",
                message: "304 Not Modified to an unconditional read".into(),
            }),
        }
    }

    /// `GET` by id with projection and `If-None-Match`.
    pub async fn get_with(&self, id: &str, options: &GetOptions) -> Result<Conditional<T>> {
        let mut req = Request::new(Method::GET, self.item(id)?, "scim.get");
        if !options.attributes.is_empty() {
            req = req.query("attributes", options.attributes.join(","));
        }
        if !options.excluded_attributes.is_empty() {
            req = req.query("excludedAttributes", options.excluded_attributes.join(","));
        }
        if let Some(etag) = &options.if_none_match {
            req = req.header(header::IF_NONE_MATCH, etag.clone());
        }
        let response = self.client.send(req).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        read_resource(response, "scim.get")
            .await
            .map(Conditional::Modified)
    }

    /// `PUT`: replaces the resource. Absent attributes are left alone by the server;
    /// null ones are cleared.
    pub async fn replace(&self, id: &str, resource: &T) -> Result<T> {
        self.replace_inner(id, resource, None).await
    }

    /// `PUT` only if the resource still has `etag` (else 412).
    pub async fn replace_if_match(&self, id: &str, resource: &T, etag: &str) -> Result<T> {
        self.replace_inner(id, resource, Some(etag)).await
    }

    async fn replace_inner(&self, id: &str, resource: &T, etag: Option<&str>) -> Result<T> {
        let mut req =
            Request::new(Method::PUT, self.item(id)?, "scim.replace").body(to_body(resource)?);
        if let Some(etag) = etag {
            req = req.header(header::IF_MATCH, etag);
        }
        let response = self.client.send(req).await?;
        read_resource(response, "scim.replace").await
    }

    /// `PATCH` with a [`PatchRequest`], written in the client's dialect. Returns the
    /// resource when the server sends it (200), `None` when it answers 204. A path that
    /// is not a valid SCIM path is refused before any request, naming it.
    ///
    /// A server without PATCH ([`ScimClient::updates_with_put`]) gets the operations
    /// applied with [`patch_with_put`](Self::patch_with_put) instead, and the resource
    /// as written is returned.
    pub async fn patch(&self, id: &str, patch: &PatchRequest) -> Result<Option<T>> {
        self.patch_json(id, patch_body_of(patch)?, None).await
    }

    /// `PATCH` only if the resource still has `etag` (else 412).
    pub async fn patch_if_match(
        &self,
        id: &str,
        patch: &PatchRequest,
        etag: &str,
    ) -> Result<Option<T>> {
        self.patch_json(id, patch_body_of(patch)?, Some(etag)).await
    }

    /// `PATCH` with a body exactly as given (it is still rewritten into the client's
    /// dialect), for operations a [`PatchRequest`] cannot express.
    pub async fn patch_raw(&self, id: &str, body: Value) -> Result<Option<T>> {
        self.patch_json(id, body, None).await
    }

    async fn patch_json(&self, id: &str, body: Value, etag: Option<&str>) -> Result<Option<T>> {
        let rendered = self.client.dialect().render_patch(body.clone());
        self.send_patch(id, rendered, &body, etag, "scim.patch", true)
            .await
    }

    /// Sends a PATCH already `rendered` in the client's dialect, or, when the server
    /// does not implement PATCH ([`ScimClient::updates_with_put`]), applies `rfc` (the
    /// same operations as RFC 7644 writes them) with [`Self::patch_with_put`]. A 501
    /// answer to the PATCH switches the client to PUT and applies it that way. The
    /// answer's body is read as the resource only when `read_answer`.
    async fn send_patch(
        &self,
        id: &str,
        rendered: Value,
        rfc: &Value,
        etag: Option<&str>,
        operation: &'static str,
        read_answer: bool,
    ) -> Result<Option<T>> {
        if self.client.updates_with_put() {
            return self.put_instead(id, rfc, etag).await.map(Some);
        }
        let mut req = Request::new(Method::PATCH, self.item(id)?, operation).body(rendered);
        if let Some(etag) = etag {
            req = req.header(header::IF_MATCH, etag);
        }
        match self.client.send(req).await {
            Ok(response) if read_answer => patch_answer(response).await,
            Ok(_) => Ok(None),
            Err(e) if e.status() == Some(501) && self.client.inner.overrides.patch.is_none() => {
                tracing::info!(
                    error = %e,
                    "the service provider does not implement PATCH; updating with GET and PUT from now on"
                );
                self.client
                    .inner
                    .patch_refused
                    .store(true, Ordering::Relaxed);
                self.put_instead(id, rfc, etag).await.map(Some)
            }
            Err(e) => Err(e),
        }
    }

    /// Applies `patch` without the PATCH method: reads the resource, applies the
    /// operations to it locally ([`PatchRequest::apply`]) and writes it back whole with
    /// `PUT`, conditional on the version read (`If-Match` with `meta.version`) when
    /// the server reports one, so that a change made in between is a 412, not a lost
    /// update. What [`patch`](Self::patch) falls back to for servers without PATCH.
    ///
    /// A group read without `members` is read again asking for them, so that the PUT
    /// cannot clear a membership the server leaves out of plain reads. Other
    /// attributes a server returns only on request are not known to the client and
    /// may be cleared by the PUT, as RFC 7644 §3.5.1 allows.
    pub async fn patch_with_put(&self, id: &str, patch: &PatchRequest) -> Result<T> {
        self.put_instead(id, &patch_body_of(patch)?, None).await
    }

    async fn put_instead(&self, id: &str, rfc: &Value, etag: Option<&str>) -> Result<T> {
        let patch = PatchRequest::from_json(rfc)
            .map_err(|e| ScimError::InvalidPatch(format!("{e} (in {rfc})")))?;
        let to_json = |resource: &T| {
            serde_json::to_value(resource).map_err(|e| ScimError::InvalidResponse {
                operation: "scim.get",
                message: format!("the resource {id} does not serialize back to JSON: {e}"),
            })
        };
        let mut doc = to_json(&self.get(id).await?)?;
        if self.endpoint.eq_ignore_ascii_case("Groups")
            && doc.get("members").is_none()
            && let Conditional::Modified(with_members) = self
                .get_with(
                    id,
                    &GetOptions {
                        attributes: vec!["members".to_owned()],
                        ..GetOptions::default()
                    },
                )
                .await?
            && let Some(members) = to_json(&with_members)?.get("members")
            && let Some(object) = doc.as_object_mut()
        {
            object.insert("members".to_owned(), members.clone());
        }
        let version = etag.map(str::to_owned).or_else(|| {
            doc.pointer("/meta/version")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        patch.apply(&mut doc).map_err(|e| {
            ScimError::InvalidPatch(format!(
                "the operations do not apply to {id} as read, so no PUT was sent: {e}"
            ))
        })?;
        if let Some(object) = doc.as_object_mut() {
            // Read-only: the server keeps its own.
            object.remove("meta");
        }
        let resource: T = serde_json::from_value(doc).map_err(|e| ScimError::InvalidResponse {
            operation: "scim.get",
            message: format!(
                "the resource {id} with the operations applied does not read back: {e}"
            ),
        })?;
        match version {
            Some(v) => self.replace_if_match(id, &resource, &v).await,
            None => self.replace(id, &resource).await,
        }
    }

    /// `DELETE`.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client
            .send(Request::new(Method::DELETE, self.item(id)?, "scim.delete"))
            .await
            .map(|_| ())
    }

    /// `DELETE` only if the resource still has `etag` (else 412).
    pub async fn delete_if_match(&self, id: &str, etag: &str) -> Result<()> {
        let req = Request::new(Method::DELETE, self.item(id)?, "scim.delete")
            .header(header::IF_MATCH, etag);
        self.client.send(req).await.map(|_| ())
    }

    /// One page of a list, from `start_index` (1-based).
    pub async fn page(&self, query: &ListQuery, start_index: u64) -> Result<ListResponse<T>> {
        query.check()?;
        let count = self.page_size(query).await;
        let req = query
            .apply(Request::new(
                Method::GET,
                self.endpoint.clone(),
                "scim.list",
            ))
            .query("startIndex", start_index.max(1).to_string())
            .query("count", count.to_string());
        self.client.send_json(req).await
    }

    /// How many resources match `filter` (`count=0`: no resources are sent).
    pub async fn count(&self, filter: Option<&str>) -> Result<u64> {
        if let Some(f) = filter {
            ListQuery::new().filter(f).check()?;
        }
        let mut req =
            Request::new(Method::GET, self.endpoint.clone(), "scim.count").query("count", "0");
        if let Some(f) = filter {
            req = req.query("filter", f);
        }
        let page: ListResponse<Value> = self.client.send_json(req).await?;
        Ok(page.total_results)
    }

    /// The single resource matching `filter`, if any; more than one is an error.
    pub async fn find_one(&self, filter: impl fmt::Display) -> Result<Option<T>> {
        let page = self
            .page(&ListQuery::new().filter(filter).page_size(2), 1)
            .await?;
        if page.resources.len() > 1 || page.total_results > 1 {
            return Err(ScimError::InvalidResponse {
                operation: "scim.find_one",
                message: format!(
                    "{} resources match where one was expected",
                    page.total_results.max(2)
                ),
            });
        }
        Ok(page.resources.into_iter().next())
    }

    async fn page_size(&self, query: &ListQuery) -> u64 {
        let wanted = query.page_size.unwrap_or(self.client.inner.page_size);
        let caps = self.client.capabilities_or_default().await;
        caps.max_results
            .map_or(wanted, |cap| wanted.min(cap))
            .max(1)
    }

    /// Every resource matching `query`, fetched page by page as the stream is polled.
    ///
    /// Index paging moves `startIndex` by what each page really returned (servers may
    /// return fewer than asked), stops at `totalResults` or an empty page, and drops
    /// results already seen (without snapshot isolation, results can shift between
    /// pages). Cursor paging (RFC 9865) follows `nextCursor`.
    pub fn list(&self, query: ListQuery) -> BoxStream<'static, Result<T>> {
        self.pages(query, false)
    }

    /// Like [`Resources::list`], but with `POST …/.search`, which keeps the filter out
    /// of URLs and logs (RFC 7644 §3.4.3: use it for sensitive values).
    pub fn search(&self, query: ListQuery) -> BoxStream<'static, Result<T>> {
        self.pages(query, true)
    }

    fn pages(&self, query: ListQuery, search: bool) -> BoxStream<'static, Result<T>> {
        if let Err(e) = query.check() {
            return stream::once(async move { Err(e) }).boxed();
        }
        let this = self.clone();
        let state = PageState {
            start_index: 1,
            cursor: None,
            seen: HashSet::new(),
            done: false,
        };
        let query = Arc::new(query);
        stream::try_unfold(state, move |mut st| {
            let this = this.clone();
            let query = query.clone();
            async move {
                if st.done {
                    return Ok::<_, ScimError>(None);
                }
                let count = this.page_size(&query).await;
                let caps = this.client.capabilities_or_default().await;
                let cursor_mode = match query.paging {
                    Paging::Cursor => true,
                    Paging::Index => false,
                    Paging::Auto => caps.cursor,
                };
                let cursor = cursor_mode.then(|| st.cursor.clone().unwrap_or_default());
                let page: ListResponse<T> = if search {
                    let path = if this.endpoint.is_empty() { ".search".to_owned() } else { format!("{}/.search", this.endpoint) };
                    let body = query.search_body((!cursor_mode).then_some(st.start_index), cursor.as_deref(), count);
                    let req = Request::new(Method::POST, path, "scim.search").body(body).idempotent();
                    this.client.send_json(req).await?
                } else {
                    let mut req = query.apply(Request::new(Method::GET, this.endpoint.clone(), "scim.list"));
                    req = match &cursor {
                        Some(c) => req.query("cursor", c.clone()),
                        None => req.query("startIndex", st.start_index.to_string()),
                    };
                    this.client.send_json(req.query("count", count.to_string())).await?
                };
                let returned = page.resources.len() as u64;
                let mut fresh = Vec::with_capacity(page.resources.len());
                for resource in page.resources {
                    match resource.id() {
                        Some(id) if !st.seen.insert(id.to_owned()) => {}
                        _ => fresh.push(resource),
                    }
                }
                if cursor_mode {
                    st.cursor = page.next_cursor.filter(|c| !c.is_empty());
                    st.done = st.cursor.is_none() || returned == 0;
                } else {
                    let first = page.start_index.unwrap_or(st.start_index).max(1);
                    st.start_index = first + returned;
                    st.done = returned == 0 || first - 1 + returned >= page.total_results;
                }
                if returned > 0 && fresh.is_empty() {
                    // A page of nothing new: the server is ignoring the paging
                    // parameters. Stop rather than loop.
                    tracing::warn!(endpoint = %this.endpoint, "a page repeated earlier results; stopping");
                    st.done = true;
                }
                Ok(Some((fresh, st)))
            }
        })
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}

impl Resources<User> {
    /// The user with this `userName` (compared case-insensitively by the server).
    pub async fn find_by_user_name(&self, user_name: &str) -> Result<Option<User>> {
        self.find_one(format!("userName eq {}", json!(user_name)))
            .await
    }

    /// Sets `active` in the client's dialect (Entra: `"False"` strings; Okta: a
    /// path-less replace).
    pub async fn set_active(&self, id: &str, active: bool) -> Result<Option<User>> {
        // Already rendered in the dialect; not rendered twice.
        let body = self.client.dialect().set_active_patch(active);
        let rfc = Dialect::Rfc.set_active_patch(active);
        self.send_patch(id, body, &rfc, None, "scim.patch", true)
            .await
    }

    /// Disables the user (`active=false`): how provisioning removes access without
    /// deleting.
    pub async fn deactivate(&self, id: &str) -> Result<Option<User>> {
        self.set_active(id, false).await
    }
}

impl Resources<Group> {
    /// The group with this `displayName`, without its members.
    pub async fn find_by_display_name(&self, display_name: &str) -> Result<Option<Group>> {
        let query = ListQuery::new()
            .filter(format!("displayName eq {}", json!(display_name)))
            .excluded_attributes(["members"])
            .page_size(2);
        let page = self.page(&query, 1).await?;
        Ok(page.resources.into_iter().next())
    }

    /// Adds members, in PATCH requests of at most [`MEMBERS_PER_PATCH`] members (or
    /// one GET and PUT for a server without PATCH).
    pub async fn add_members(&self, id: &str, member_ids: &[&str]) -> Result<()> {
        self.change_members(
            id,
            member_ids,
            Dialect::add_members_patch,
            "scim.add_members",
        )
        .await
    }

    /// Removes members, in PATCH requests of at most [`MEMBERS_PER_PATCH`] members (or
    /// one GET and PUT for a server without PATCH).
    pub async fn remove_members(&self, id: &str, member_ids: &[&str]) -> Result<()> {
        self.change_members(
            id,
            member_ids,
            Dialect::remove_members_patch,
            "scim.remove_members",
        )
        .await
    }

    async fn change_members(
        &self,
        id: &str,
        member_ids: &[&str],
        patch_of: fn(Dialect, &[&str]) -> Value,
        operation: &'static str,
    ) -> Result<()> {
        if member_ids.is_empty() {
            return Ok(());
        }
        if self.client.updates_with_put() {
            // One PUT carries every change: the chunks only bound PATCH bodies.
            self.put_instead(id, &patch_of(Dialect::Rfc, member_ids), None)
                .await?;
            return Ok(());
        }
        for chunk in member_ids.chunks(MEMBERS_PER_PATCH) {
            let body = patch_of(self.client.dialect(), chunk);
            let rfc = patch_of(Dialect::Rfc, chunk);
            self.send_patch(id, body, &rfc, None, operation, false)
                .await?;
        }
        Ok(())
    }
}

/// The most members one membership PATCH carries (AWS IAM Identity Center's limit, the
/// lowest known).
pub const MEMBERS_PER_PATCH: usize = 100;

async fn patch_answer<T: Resource>(response: reqwest::Response) -> Result<Option<T>> {
    if response.status() == StatusCode::NO_CONTENT {
        return Ok(None);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, "scim.patch"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ScimError::InvalidResponse {
            operation: "scim.patch",
            message: format!("PATCH answered with a body that is not a resource: {e}"),
        })
}

/// The body of a PATCH request, after checking every path.
fn patch_body_of(patch: &PatchRequest) -> Result<Value> {
    if patch.operations.is_empty() {
        return Err(ScimError::InvalidPatch(
            "a PATCH request needs at least one operation".into(),
        ));
    }
    for op in &patch.operations {
        if let Some(path) = &op.path
            && !path.is_valid()
        {
            let detail = crate::patch::PatchPath::parse(&path.to_string())
                .err()
                .map_or_else(|| "not a valid SCIM path".to_owned(), |e| e.to_string());
            return Err(ScimError::InvalidPatch(format!(
                "path {:?}: {detail}",
                path.to_string()
            )));
        }
    }
    serde_json::to_value(patch).map_err(|e| ScimError::InvalidPatch(e.to_string()))
}

fn to_body<T: Serialize>(resource: &T) -> Result<Value> {
    let mut body = serde_json::to_value(resource)
        .map_err(|e| ScimError::Config(format!("unserializable resource: {e}")))?;
    if let Value::Object(map) = &mut body {
        // Read-only attributes are never sent (some servers reject them).
        map.remove("meta");
        map.remove("groups");
    }
    Ok(body)
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    operation: &'static str,
) -> Result<T> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
    serde_json::from_slice(&bytes).map_err(|e| ScimError::InvalidResponse {
        operation,
        message: format!("{e} (body starts {:?})", snippet(&bytes)),
    })
}

async fn read_resource<T: Resource>(
    response: reqwest::Response,
    operation: &'static str,
) -> Result<T> {
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resource: T = read_json(response, operation).await?;
    if let Some(etag) = etag
        && resource.version().is_none()
    {
        resource.set_version(etag);
    }
    Ok(resource)
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    text.into_owned()
}

/// Turns an error response into a [`ScimError`]: a SCIM error body when there is one,
/// else a description of what came back.
async fn error_from(response: reqwest::Response, operation: &'static str) -> ScimError {
    let status = response.status().as_u16();
    let retry_after = connector_core::http::retry_after(response.headers());
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return ScimError::Transport(connector_core::http::from_reqwest(e, operation)),
    };
    if let Ok(body) = serde_json::from_slice::<ErrorBody>(&bytes)
        && (body.scim_type.is_some() || body.detail.is_some() || body.status.is_some())
    {
        return ScimError::Scim {
            operation,
            status,
            scim_type: body.scim_type.as_deref().map(ScimType::parse),
            detail: body.detail,
            retry_after,
        };
    }
    let trimmed = String::from_utf8_lossy(&bytes).trim().to_owned();
    let body = if trimmed.is_empty() {
        "empty body".to_owned()
    } else if trimmed.starts_with('<') {
        "an HTML page, not a SCIM error".to_owned()
    } else {
        trimmed.chars().take(300).collect()
    };
    ScimError::Http {
        operation,
        status,
        body,
        retry_after,
    }
}
