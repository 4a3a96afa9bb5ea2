//! The Zoho CRM client: [`ZohoClient`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use connector_core::ConnectorError;
use connector_core::auth::{Token, TokenCache};
use connector_core::http::{HttpClientBuilder, send_with_retry};
use connector_core::retry::{Idempotency, RetryPolicy};
use connector_core::tls::TlsOptions;
use reqwest::{Method, StatusCode, header};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::auth::{Credentials, ZohoTokenProvider};
use crate::dc::{DataCentre, Endpoints, Environment};
use crate::error::{Result, ZohoError};

/// A Zoho CRM edition, for the concurrency limit Zoho enforces per org and app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Edition {
    /// Free: 5 concurrent calls.
    Free,
    /// Standard (and Starter): 10.
    #[default]
    Standard,
    /// Professional: 15.
    Professional,
    /// Enterprise and Zoho One: 20.
    Enterprise,
    /// Ultimate and CRM Plus: 25.
    Ultimate,
}

impl Edition {
    /// The documented concurrency limit.
    pub fn concurrency(self) -> usize {
        match self {
            Self::Free => 5,
            Self::Standard => 10,
            Self::Professional => 15,
            Self::Enterprise => 20,
            Self::Ultimate => 25,
        }
    }
}

/// Builds a [`ZohoClient`].
#[derive(Debug)]
pub struct ZohoClientBuilder {
    endpoints: Endpoints,
    credentials: Option<Credentials>,
    http: HttpClientBuilder,
    retry: RetryPolicy,
    concurrency: usize,
    api_version: String,
    throttle_retry: Option<RetryPolicy>,
    coql_limits: (u64, u64),
}

impl ZohoClientBuilder {
    /// A builder from the environment, or `None` when `ZOHO_REGION` is not set:
    /// `ZOHO_REGION` (`us`, `eu`, `in`, `au`, `cn`, `jp`, `ca`, `sa`, `uk`),
    /// `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET`, and either `ZOHO_REFRESH_TOKEN`, or
    /// `ZOHO_SOID` with `ZOHO_SCOPE` for Self Client credentials. A variable that is
    /// missing or wrong is an error naming it.
    pub fn from_env() -> Result<Option<Self>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let Some(region) = var("ZOHO_REGION") else {
            return Ok(None);
        };
        let dc = DataCentre::from_location(&region).ok_or_else(|| {
            ZohoError::Config(format!(
                "ZOHO_REGION={region:?} is not a data centre (us, eu, in, au, cn, jp, ca, sa, uk)"
            ))
        })?;
        let need = |k: &str| {
            var(k).ok_or_else(|| ZohoError::Config(format!("ZOHO_REGION is set but {k} is not")))
        };
        let client_id = need("ZOHO_CLIENT_ID")?;
        let client_secret = secrecy::SecretString::from(need("ZOHO_CLIENT_SECRET")?);
        let credentials = match (var("ZOHO_REFRESH_TOKEN"), var("ZOHO_SOID")) {
            (Some(refresh), _) => Credentials::RefreshToken {
                client_id,
                client_secret,
                refresh_token: secrecy::SecretString::from(refresh),
            },
            (None, Some(soid)) => Credentials::ClientCredentials {
                client_id,
                client_secret,
                scope: need("ZOHO_SCOPE")?,
                soid,
            },
            (None, None) => {
                return Err(ZohoError::Config(
                    "set ZOHO_REFRESH_TOKEN, or ZOHO_SOID and ZOHO_SCOPE".into(),
                ));
            }
        };
        Ok(Some(
            ZohoClient::builder()
                .data_centre(dc)
                .credentials(credentials),
        ))
    }

    /// COQL's limits: rows per call (default 2,000) and the largest `offset + limit`
    /// (default 100,000). Older API versions had 200 and 10,000.
    #[must_use]
    pub fn coql_limits(mut self, rows_per_call: u64, offset_cap: u64) -> Self {
        self.coql_limits = (rows_per_call.max(1), offset_cap.max(1));
        self
    }

    /// Uses a data centre's production servers.
    #[must_use]
    pub fn data_centre(mut self, dc: DataCentre) -> Self {
        self.endpoints = Endpoints::of(dc, Environment::Production);
        self
    }

    /// Uses a data centre's servers of an environment (sandbox, developer).
    #[must_use]
    pub fn environment(mut self, dc: DataCentre, environment: Environment) -> Self {
        self.endpoints = Endpoints::of(dc, environment);
        self
    }

    /// Uses custom servers (a proxy, the emulator).
    #[must_use]
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Sets the credentials.
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets TLS options.
    #[must_use]
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.http = self.http.with_tls(tls);
        self
    }

    /// Sets how 429 and 5xx answers are retried.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how throttled token requests are retried.
    #[must_use]
    pub fn token_throttle_retry(mut self, retry: RetryPolicy) -> Self {
        self.throttle_retry = Some(retry);
        self
    }

    /// Limits concurrent API calls to the edition's limit.
    #[must_use]
    pub fn edition(mut self, edition: Edition) -> Self {
        self.concurrency = edition.concurrency();
        self
    }

    /// Limits concurrent API calls (default: the Standard edition's 10).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the API version (default `v8`).
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Builds the client. Plain-HTTP endpoints while encrypted endpoints are required,
    /// or missing credentials, are errors here, before any request.
    pub fn build(self) -> Result<ZohoClient> {
        let credentials = self.credentials.ok_or_else(|| {
            ZohoError::Config(
                "no credentials: set a refresh token, client credentials or an access token".into(),
            )
        })?;
        let tls = self.http.tls().clone();
        tls.check_endpoint(&self.endpoints.accounts_url)?;
        tls.check_endpoint(&self.endpoints.api_domain)?;
        let http = self.http.build()?;
        let mut provider =
            ZohoTokenProvider::new(http.clone(), self.endpoints.clone(), credentials);
        if let Some(policy) = self.throttle_retry {
            provider = provider.with_throttle_retry(policy);
        }
        Ok(ZohoClient {
            inner: Arc::new(Inner {
                http,
                endpoints: self.endpoints,
                tokens: TokenCache::new(Arc::new(provider)),
                retry: self.retry,
                limiter: tokio::sync::Semaphore::new(self.concurrency),
                api_version: self.api_version,
                tls,
                coql_limits: self.coql_limits,
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: TokenCache,
    retry: RetryPolicy,
    limiter: tokio::sync::Semaphore,
    api_version: String,
    tls: TlsOptions,
    coql_limits: (u64, u64),
}

/// A Zoho CRM client. Cheap to clone.
#[derive(Clone)]
pub struct ZohoClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for ZohoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoClient")
            .field("endpoints", &self.inner.endpoints)
            .field("tokens", self.inner.tokens.provider())
            .finish_non_exhaustive()
    }
}

/// A request to the CRM API.
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Relative to `/crm/{version}/` (or absolute from `/crm/` when it starts with `/`).
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) headers: Vec<(header::HeaderName, String)>,
    pub(crate) operation: &'static str,
    pub(crate) idempotency: Idempotency,
    /// A write whose answer lists one result per record, even when the status is 400
    /// (every record refused).
    pub(crate) per_record: bool,
}

impl Call {
    pub(crate) fn new(method: Method, path: impl Into<String>, operation: &'static str) -> Self {
        let idempotency = if method == Method::POST {
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
            operation,
            idempotency,
            per_record: false,
        }
    }

    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    pub(crate) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn per_record(mut self) -> Self {
        self.per_record = true;
        self
    }

    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }
}

/// A response: its status and JSON body (`Null` for 204 and 304).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl ZohoClient {
    /// A builder; the default endpoints are the US data centre's production servers.
    pub fn builder() -> ZohoClientBuilder {
        ZohoClientBuilder {
            endpoints: Endpoints::of(DataCentre::Us, Environment::Production),
            credentials: None,
            http: HttpClientBuilder::new(),
            retry: RetryPolicy::default(),
            concurrency: Edition::Standard.concurrency(),
            api_version: "v8".to_owned(),
            throttle_retry: None,
            coql_limits: (crate::coql::ROWS_PER_CALL, crate::coql::OFFSET_CAP),
        }
    }

    /// COQL's rows per call and offset cap.
    pub(crate) fn coql_limits(&self) -> (u64, u64) {
        self.inner.coql_limits
    }

    /// The endpoints configured (the API domain of the current token may differ).
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The API domain the current token names (fetching a token if needed).
    pub async fn api_domain(&self) -> Result<String> {
        let token = self.inner.tokens.get().await?;
        Ok(self.domain_of(&token))
    }

    fn domain_of(&self, token: &Token) -> String {
        token.extra("api_domain").map_or_else(
            || self.inner.endpoints.api_domain.clone(),
            |d| d.trim_end_matches('/').to_owned(),
        )
    }

    /// Sends a call: waits for a concurrency slot, authenticates with
    /// `Zoho-oauthtoken`, retries 429 and 5xx, refreshes the token once on
    /// `INVALID_TOKEN`, and turns error envelopes into [`ZohoError::Api`].
    pub(crate) async fn call(&self, call: Call) -> Result<Answer> {
        let _permit = self
            .inner
            .limiter
            .acquire()
            .await
            .map_err(|_| ZohoError::Config("client closed".into()))?;
        let body = match &call.body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| ZohoError::Config(e.to_string()))?),
            None => None,
        };
        let outcome = self
            .inner
            .tokens
            .with_token(|token| {
                let call = &call;
                let body = &body;
                async move {
                    let domain = self.domain_of(&token);
                    self.inner.tls.check_endpoint(&domain)?;
                    let url = if let Some(rest) = call.path.strip_prefix('/') {
                        format!("{domain}/crm/{rest}")
                    } else {
                        format!("{domain}/crm/{}/{}", self.inner.api_version, call.path)
                    };
                    let auth = format!("Zoho-oauthtoken {}", token.access_token.expose_secret());
                    let response = send_with_retry(
                        &self.inner.retry,
                        call.idempotency,
                        call.operation,
                        || {
                            let mut r = self
                                .inner
                                .http
                                .request(call.method.clone(), &url)
                                .header(header::AUTHORIZATION, auth.as_str())
                                .query(&call.query);
                            for (name, value) in &call.headers {
                                r = r.header(name.clone(), value.as_str());
                            }
                            if let Some(body) = body {
                                r = r
                                    .header(header::CONTENT_TYPE, "application/json")
                                    .body(body.clone());
                            }
                            r
                        },
                    )
                    .await?;
                    let status = response.status();
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| connector_core::http::from_reqwest(e, call.operation))?;
                    if status == StatusCode::UNAUTHORIZED {
                        let err = api_error(call.operation, status, &bytes);
                        // An expired or revoked token: the cache refreshes and the call
                        // is tried once more. Scope errors are not retried.
                        return Err(ConnectorError::from(err));
                    }
                    Ok((status, bytes))
                }
            })
            .await;
        let (status, bytes) = match outcome {
            Ok(ok) => ok,
            Err(e) => return Err(ZohoError::Transport(e)),
        };
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            return Ok(Answer {
                status,
                body: Value::Null,
            });
        }
        if !status.is_success() && status.as_u16() != 207 {
            if call.per_record
                && status == StatusCode::BAD_REQUEST
                && let Ok(body) = serde_json::from_slice::<Value>(&bytes)
                && body.get("data").is_some_and(Value::is_array)
            {
                return Ok(Answer { status, body });
            }
            return Err(api_error(call.operation, status, &bytes));
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| ZohoError::InvalidResponse {
                operation: call.operation,
                message: format!(
                    "not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            })?
        };
        Ok(Answer { status, body })
    }

    /// Downloads a file (bulk read results) to `dest`.
    pub(crate) async fn download(
        &self,
        path: &str,
        dest: &std::path::Path,
        operation: &'static str,
    ) -> Result<u64> {
        let _permit = self
            .inner
            .limiter
            .acquire()
            .await
            .map_err(|_| ZohoError::Config("client closed".into()))?;
        let token = self.inner.tokens.get().await?;
        let domain = self.domain_of(&token);
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!(
                "{domain}{}",
                if path.starts_with('/') {
                    path.to_owned()
                } else {
                    format!("/{path}")
                }
            )
        };
        self.inner.tls.check_endpoint(&url)?;
        let auth = format!("Zoho-oauthtoken {}", token.access_token.expose_secret());
        let response = send_with_retry(
            &self.inner.retry,
            Idempotency::Idempotent,
            operation,
            || {
                self.inner
                    .http
                    .get(&url)
                    .header(header::AUTHORIZATION, auth.as_str())
            },
        )
        .await?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|e| connector_core::http::from_reqwest(e, operation))?;
            return Err(api_error(operation, status, &bytes));
        }
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(ConnectorError::from)?;
        let mut response = response;
        let mut written = 0u64;
        use tokio::io::AsyncWriteExt;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| connector_core::http::from_reqwest(e, operation))?
        {
            file.write_all(&chunk).await.map_err(ConnectorError::from)?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(ConnectorError::from)?;
        Ok(written)
    }

    /// Waits `d` (for polls), on tokio's clock.
    pub(crate) async fn sleep(d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// An error envelope, or a description of a body that is not one.
pub(crate) fn api_error(operation: &'static str, status: StatusCode, bytes: &[u8]) -> ZohoError {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    // Errors come as `{"code",...}` or wrapped as `{"data":[{"code",...}]}` / `{"users":[...]}`.
    let envelope = parsed.as_ref().and_then(|v| {
        if v.get("code").is_some() {
            Some(v.clone())
        } else {
            v.as_object()?.values().find_map(|x| {
                x.as_array()?
                    .first()
                    .filter(|e| e.get("code").is_some())
                    .cloned()
            })
        }
    });
    match envelope {
        Some(e) => ZohoError::Api {
            operation,
            status: status.as_u16(),
            code: e
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN")
                .to_owned(),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details: Box::new(e.get("details").cloned().unwrap_or(Value::Null)),
        },
        None => {
            let text = String::from_utf8_lossy(bytes).trim().to_owned();
            let message = if text.is_empty() {
                "empty body".to_owned()
            } else if text.starts_with('<') {
                "an HTML page, not a Zoho error".to_owned()
            } else {
                text.chars().take(300).collect()
            };
            ZohoError::Api {
                operation,
                status: status.as_u16(),
                code: format!("HTTP_{}", status.as_u16()),
                message,
                details: Box::new(Value::Null),
            }
        }
    }
}
