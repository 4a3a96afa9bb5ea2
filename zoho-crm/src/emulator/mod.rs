//! An in-memory Zoho accounts server and Zoho CRM API v8 to run tests and demos
//! against, as one would run LocalStack: the wire formats are Zoho's, so a client
//! written against the real API works against it unchanged.
//!
//! Enabled by the `emulator` feature; also runnable as the `zoho-emulator` binary
//! (`cargo run -p zoho-crm --features emulator --bin zoho-emulator -- --help`).
//!
//! ```no_run
//! use zoho_crm::emulator::{Emulator, EmulatorConfig, Endpoint};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start(EmulatorConfig::new()).await?;
//! emulator.seed_users(5);
//! emulator.seed_records("Leads", 2_500)?;
//!
//! // The refresh-token grant, exactly as against accounts.zoho.com.
//! let http = reqwest::Client::new();
//! let token: serde_json::Value = http
//!     .post(format!("{}/oauth/v2/token", emulator.accounts_url()))
//!     .form(&[
//!         ("grant_type", "refresh_token"),
//!         ("client_id", emulator.client_id()),
//!         ("client_secret", emulator.client_secret()),
//!         ("refresh_token", emulator.refresh_token()),
//!     ])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let api_domain = token["api_domain"].as_str().unwrap_or_default();
//! let access_token = token["access_token"].as_str().unwrap_or_default();
//!
//! // A page of Leads, exactly as against www.zohoapis.com.
//! let page: serde_json::Value = http
//!     .get(format!("{api_domain}/crm/v8/Leads"))
//!     .header("Authorization", format!("Zoho-oauthtoken {access_token}"))
//!     .query(&[("fields", "Last_Name,Email,Modified_Time"), ("per_page", "200")])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(page["info"]["more_records"], true);
//!
//! // Assert on what it was asked, make it misbehave.
//! assert_eq!(emulator.stats().count("GET", Endpoint::Records), 1);
//! emulator.faults().rate_limit_next(1);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! One loopback port serves both hosts: [`RunningEmulator::accounts_url`] and
//! [`RunningEmulator::api_domain`] are the same origin.
//!
//! Accounts server (Zoho's HTTP-200 error bodies):
//!
//! - `GET /oauth/v2/auth?client_id&response_type=code&redirect_uri&scope&access_type&state`
//!   → 302 to `redirect_uri?code=…&location=us&accounts-server=…&state=…`. Codes are
//!   single-use and live two minutes ([`EmulatorConfig::code_ttl`]).
//! - `POST /oauth/v2/token` (form body or query string): `refresh_token`
//!   (`{"access_token","api_domain","token_type":"Bearer","expires_in"}`),
//!   `authorization_code` (adds `refresh_token` when the code was requested with
//!   `access_type=offline`, as Zoho does), `client_credentials` (`scope`, `soid` =
//!   `ZohoCRM.{org id}`). Errors are HTTP 200 `{"error":"invalid_client"}` (unknown
//!   client id: the wrong-data-centre symptom), `invalid_client_secret`,
//!   `invalid_code` (unknown, used or expired code; unknown or revoked refresh token),
//!   `invalid_redirect_uri`, `missing_org_info` (no or wrong `soid`),
//!   `invalid_scope`, `unsupported_grant_type`. More than 10 token requests per
//!   refresh token in 10 minutes ([`EmulatorConfig::token_rate_limit`]) → HTTP 400
//!   `{"error":"Access Denied","error_description":"You have made too many requests
//!   continuously. Please try again after some time."}`. At most 10 access tokens per
//!   refresh token live at once; an 11th invalidates the oldest.
//! - `POST /oauth/v2/token/revoke?token=` → `{"status":"success"}`; an unknown token
//!   → HTTP 400. Revoking a refresh token revokes its access tokens.
//! - `GET /oauth/serverinfo` → `{"result":"success","locations":{"us": …}}`.
//!
//! CRM API v8 (`Authorization: Zoho-oauthtoken <token>`; `Bearer` is accepted too):
//! a missing, unknown, revoked or expired token → 401
//! `{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}`;
//! a token without the scope → 401 `OAUTH_SCOPE_MISMATCH`. Scopes follow Zoho's
//! grammar: `ZohoCRM.modules.ALL`, `ZohoCRM.modules.READ`,
//! `ZohoCRM.modules.leads.CREATE`, `ZohoCRM.users.READ`, `ZohoCRM.settings.fields.READ`,
//! `ZohoCRM.settings.ALL`, `ZohoCRM.coql.READ`, `ZohoCRM.bulk.read`, `ZohoCRM.org.READ`;
//! `ALL` covers every operation and `WRITE` covers create and update.
//!
//! - `GET /crm/v8/users?type&page&per_page&ids` (+ `If-Modified-Since`),
//!   `GET /users/{id}`, `GET /users/actions/count?type`, `POST /users` (one user),
//!   `PUT /users[/{id}]`, `DELETE /users/{id}`.
//! - `GET /crm/v8/org`, `/settings/modules[/{module}]`, `/settings/fields?module=`,
//!   `/settings/roles`, `/settings/profiles`.
//! - `GET /crm/v8/{module}` (`fields` required, at most 50; `page`/`per_page` for the
//!   first 2,000 records, `page_token` beyond, up to 100,000; `sort_by`,
//!   `sort_order`, `ids`, `If-Modified-Since`), `GET /{module}/{id}`,
//!   `GET /{module}/deleted`, `GET /{module}/actions/count`; `POST /{module}`,
//!   `PUT /{module}[/{id}]`, `POST /{module}/upsert`, `DELETE /{module}?ids=` (at
//!   most 100 records per call; per-record results; 201/200, 207 when some failed,
//!   400 when all did).
//! - `POST /crm/v8/coql`.
//! - `POST /crm/bulk/v8/read`, `GET /crm/bulk/v8/read/{id}`,
//!   `GET /crm/bulk/v8/read/{id}/result` (a ZIP holding one CSV).
//!
//! Anything else → 404 `INVALID_URL_PATTERN`; a known path with the wrong method →
//! 400 `INVALID_REQUEST_METHOD`; an unknown module → 400 `INVALID_MODULE`.
//!
//! # Data
//!
//! Modules with records: Leads (over 60 fields, so the 50-field limit matters),
//! Contacts, Accounts, Deals, with realistic metadata (text, email, phone, website,
//! picklist, multiselectpicklist, integer, bigint, currency, double, percent,
//! boolean, date, datetime, lookup, ownerlookup, textarea). Home, Reports and
//! Dashboards are listed but not `api_supported`. Ids are 19-digit numeric strings;
//! bigint values are strings; datetimes are `yyyy-MM-ddTHH:mm:ss±HH:mm` in the
//! current user's time zone ([`EmulatorConfig::time_zone`], UTC by default); dates
//! are `yyyy-MM-dd`. Records are stored as JSON maps; see
//! [`RunningEmulator::records`].
//!
//! Writes are validated against the field metadata: types (integers within their
//! digits, currency and double within `decimal_place`, e-mail and phone formats,
//! `yyyy-MM-dd` dates, ISO-8601 datetimes, existing lookup targets and active
//! owners), lengths, `system_mandatory` fields (`MANDATORY_NOT_FOUND`), unique fields
//! (`DUPLICATE_DATA`: Contacts' `Email`, Accounts' `Account_Name`). Picklists accept
//! new values, as Zoho does. Keys that are not fields, and read-only fields, are
//! ignored. Upsert matches on `duplicate_check_fields` (default: Leads and Contacts
//! `Email`, Accounts `Account_Name`, Deals `Deal_Name`); the oldest match is updated.
//!
//! `If-Modified-Since` (ISO-8601, or an HTTP date) is inclusive: records modified at
//! or after it; 304 when there are none. An empty list is 204 with no body, as is
//! `GET /{module}/{id}` for an unknown id.
//!
//! # Limits, faults and statistics
//!
//! At most [`EmulatorConfig::concurrency`] CRM API requests run at once (default 10,
//! [`RunningEmulator::set_concurrency`] at runtime); one more is answered 429
//! `TOO_MANY_REQUESTS`. [`RunningEmulator::faults`] returns a [`Faults`] handle: the
//! next N API calls answer 429 or 500, a latency is added per request, access tokens
//! expire. [`RunningEmulator::stats`] counts requests by method and [`Endpoint`],
//! responses by status, and records returned.
//!
//! # Not emulated
//!
//! API credits, sub-concurrency for heavy calls, custom views (`cvid` is ignored),
//! `converted`/`approved`/territory filters, search, related lists, notes,
//! attachments, subforms, COQL aggregates and `group by`, bulk write, bulk read
//! callbacks and ICS exports, If-Unmodified-Since.

mod bulk;
mod config;
mod coql;
mod criteria;
mod error;
mod faults;
mod meta;
mod oauth;
mod records;
mod seed;
mod server;
mod settings;
mod stats;
mod store;
mod time;
mod users;

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, FixedOffset};
use connector_core::emulator::{LoopbackServer, bind_loopback};
use serde_json::Value;

pub use config::{
    ALL_SCOPES, DEFAULT_ACTIVE_TOKENS_PER_REFRESH_TOKEN, DEFAULT_BULK_DOWNLOADS_PER_MINUTE,
    DEFAULT_BULK_JOB_DELAY, DEFAULT_BULK_PAGE_SIZE, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_CODE_TTL, DEFAULT_CONCURRENCY, DEFAULT_ORG_ID, DEFAULT_PAGE_TOKEN_LIMIT,
    DEFAULT_PAGE_TOKEN_TTL, DEFAULT_REFRESH_TOKEN, DEFAULT_TOKEN_REQUESTS_PER_WINDOW,
    DEFAULT_TOKEN_TTL, DEFAULT_TOKEN_WINDOW, EmulatorConfig,
};
pub use error::EmulatorError;
pub use faults::Faults;
pub use stats::{Endpoint, Stats};

use meta::{Meta, ModuleMeta};
use records::Stamp;
use server::{Shared, lock};

/// Starts emulators; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct Emulator;

impl Emulator {
    /// Binds 127.0.0.1 on the configured port (0: a free one) and serves the
    /// emulator in a spawned task until [`RunningEmulator::shutdown`] or drop.
    ///
    /// Must be called inside a tokio runtime (bulk read jobs run on its blocking
    /// threads).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Bind`] if the port cannot be bound.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        let (listener, addr) =
            bind_loopback(config.port)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: format!("127.0.0.1:{}", config.port),
                    source,
                })?;
        let origin = format!("http://{addr}");
        let meta = Meta::new();
        let store = store::Store::new(&meta, config.utc_offset, &config.time_zone);
        let oauth = oauth::OAuth::new(&config, store.admin_id);
        let shared = Arc::new(Shared {
            concurrency: AtomicUsize::new(config.concurrency),
            config,
            origin,
            meta,
            store: RwLock::new(store),
            oauth: Mutex::new(oauth),
            page_tokens: Mutex::default(),
            bulk: Mutex::default(),
            stats: Mutex::default(),
            faults: Faults::default(),
            in_flight: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        Ok(RunningEmulator {
            shared,
            server: LoopbackServer::spawn(listener, addr, app, "Zoho CRM"),
        })
    }
}

/// A running emulator: its URLs and credentials, runtime switches and stored data.
/// Dropping it stops the server (gracefully, in the background).
pub struct RunningEmulator {
    shared: Arc<Shared>,
    server: LoopbackServer,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("origin", &self.shared.origin)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// A client builder pointed at this emulator, with its client's refresh token and
    /// plain HTTP allowed (the emulator serves loopback without TLS).
    pub fn client_builder(&self) -> crate::ZohoClientBuilder {
        crate::ZohoClient::builder()
            .endpoints(crate::dc::Endpoints::custom(
                self.accounts_url(),
                self.api_domain(),
            ))
            .credentials(crate::auth::Credentials::RefreshToken {
                client_id: self.client_id().to_owned(),
                client_secret: secrecy::SecretString::from(self.client_secret().to_owned()),
                refresh_token: secrecy::SecretString::from(self.refresh_token().to_owned()),
            })
            .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
    }

    /// The accounts server URL, e.g. `http://127.0.0.1:41234` (the token endpoint is
    /// `{accounts_url}/oauth/v2/token`).
    pub fn accounts_url(&self) -> &str {
        &self.shared.origin
    }

    /// The API domain, as the token response's `api_domain` gives it (the same origin
    /// as the accounts server): API calls go to `{api_domain}/crm/v8/...`.
    pub fn api_domain(&self) -> &str {
        &self.shared.origin
    }

    /// `{accounts_url}/oauth/v2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/v2/token", self.shared.origin)
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The pre-registered client's id.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// The pre-registered client's secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The pre-registered refresh token (granted the configured scopes).
    pub fn refresh_token(&self) -> &str {
        &self.shared.config.refresh_token
    }

    /// The organization id; the client-credentials grant takes `soid=ZohoCRM.{soid}`.
    pub fn soid(&self) -> &str {
        &self.shared.config.org_id
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// A valid access token with the configured scopes (default [`ALL_SCOPES`]),
    /// minted without a token request (not counted, not throttled).
    pub fn access_token_for_tests(&self) -> String {
        let scopes = self.shared.config.scopes.clone();
        self.access_token_with_scopes(&scopes)
    }

    /// A valid access token with exactly these scopes (comma-separated).
    pub fn access_token_with_scopes(&self, scopes: &str) -> String {
        let epoch = self.shared.faults.token_epoch();
        lock(&self.shared.oauth).mint(scopes, self.shared.config.token_ttl, epoch)
    }

    /// An authorization code for these scopes, as a Self Client's "Generate Code"
    /// gives one (exchange it without `redirect_uri`); it yields a refresh token.
    pub fn authorization_code(&self, scopes: &str) -> String {
        lock(&self.shared.oauth).issue_code(&self.shared.config, scopes)
    }

    /// Invalidates every access token issued so far (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        self.shared.faults.expire_access_tokens();
    }

    /// Revokes a refresh or access token, as `/oauth/v2/token/revoke` does; `false`
    /// if it was unknown.
    pub fn revoke_token(&self, token: &str) -> bool {
        lock(&self.shared.oauth).revoke(token)
    }

    /// The handle to switch faults and latency on and off.
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// A snapshot of the request counts.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Sets every request count back to zero.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }

    /// Changes the concurrency limit (at least 1).
    pub fn set_concurrency(&self, n: usize) {
        self.shared.concurrency.store(n.max(1), Ordering::Release);
    }

    /// The id of the current user (the primary administrator every token belongs to).
    pub fn current_user_id(&self) -> String {
        self.shared.read().admin_id.to_string()
    }

    /// The id of the role with this name (`CEO`, `Manager`, `Sales Representative`).
    pub fn role_id(&self, name: &str) -> Option<String> {
        let store = self.shared.read();
        store
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .map(|r| r.id.to_string())
    }

    /// The id of the profile with this name (`Administrator`, `Standard`, `Sales`).
    pub fn profile_id(&self, name: &str) -> Option<String> {
        let store = self.shared.read();
        store
            .profiles
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.id.to_string())
    }

    /// Adds `n` generated users (besides the primary administrator); returns their
    /// ids. Every tenth is inactive, every seventh unconfirmed, every fifth an
    /// administrator; each has a distinct, older `Modified_Time`.
    pub fn seed_users(&self, n: usize) -> Vec<String> {
        let mut store = self.shared.write();
        seed::users(&mut store, n)
            .into_iter()
            .map(|id| id.to_string())
            .collect()
    }

    /// Adds `n` generated records to a module (Leads, Contacts, Accounts, Deals);
    /// returns their ids in creation order. Each has a distinct `Modified_Time` (one
    /// second after the previous seeded one, all in the past), so incremental reads
    /// are testable; owners are taken from the active users, Contacts and Deals link
    /// to existing Accounts (and Contacts). 250,000 records take about a second in a
    /// release build.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`] for any other module.
    pub fn seed_records(&self, module: &str, n: usize) -> Result<Vec<String>, EmulatorError> {
        let mmeta = self.module_meta(module)?;
        let mut store = self.shared.write();
        Ok(
            seed::records(&self.shared.meta, &mut store, mmeta.api_name, n)
                .into_iter()
                .map(|id| id.to_string())
                .collect(),
        )
    }

    fn module_meta(&self, module: &str) -> Result<&ModuleMeta, EmulatorError> {
        self.shared
            .meta
            .module(module)
            .ok_or_else(|| EmulatorError::UnknownModule(module.to_owned()))
    }

    fn stamp(&self, store: &store::Store) -> Stamp {
        Stamp {
            user: store.admin_id,
            now: time::now_secs(),
        }
    }

    /// Inserts a record directly (no HTTP request, not counted), validated as
    /// `POST /{module}` would; returns its id.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`], or [`EmulatorError::Rejected`] with the
    /// per-record error the API would answer.
    pub fn insert_record(&self, module: &str, record: Value) -> Result<String, EmulatorError> {
        let mmeta = self.module_meta(module)?;
        let mut store = self.shared.write();
        let stamp = self.stamp(&store);
        records::insert_one(&self.shared.meta, &mut store, mmeta, &record, 0, stamp)
            .map(|id| id.to_string())
            .map_err(rejected)
    }

    /// Updates a record directly, validated as `PUT /{module}` would; its
    /// `Modified_Time` becomes now.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`], [`EmulatorError::NotFound`], or
    /// [`EmulatorError::Rejected`].
    pub fn update_record(
        &self,
        module: &str,
        id: &str,
        changes: Value,
    ) -> Result<(), EmulatorError> {
        let mmeta = self.module_meta(module)?;
        let mut store = self.shared.write();
        let rid = self.existing(&store, mmeta, id)?;
        let Some(map) = changes.as_object() else {
            return Err(EmulatorError::Rejected {
                code: "INVALID_DATA".to_owned(),
                message: "the changes must be a JSON object".to_owned(),
                details: Value::Null,
            });
        };
        let stamp = self.stamp(&store);
        records::update_one(&self.shared.meta, &mut store, mmeta, rid, map, 0, stamp)
            .map_err(rejected)
    }

    /// Deletes a record directly (into the recycle bin).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`] or [`EmulatorError::NotFound`].
    pub fn delete_record(&self, module: &str, id: &str) -> Result<(), EmulatorError> {
        let mmeta = self.module_meta(module)?;
        let mut store = self.shared.write();
        let rid = self.existing(&store, mmeta, id)?;
        let stamp = self.stamp(&store);
        records::delete_one(&mut store, mmeta, rid, stamp);
        Ok(())
    }

    fn existing(
        &self,
        store: &store::Store,
        mmeta: &ModuleMeta,
        id: &str,
    ) -> Result<u64, EmulatorError> {
        store::parse_id(id)
            .filter(|rid| {
                store
                    .module(mmeta.api_name)
                    .is_some_and(|d| d.records.contains_key(rid))
            })
            .ok_or_else(|| EmulatorError::NotFound {
                module: mmeta.api_name.to_owned(),
                id: id.to_owned(),
            })
    }

    /// Sets a record's `Modified_Time` (kept in the indexes paging and incremental
    /// reads use), without changing anything else.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`] or [`EmulatorError::NotFound`].
    pub fn set_modified_time(
        &self,
        module: &str,
        id: &str,
        modified: DateTime<FixedOffset>,
    ) -> Result<(), EmulatorError> {
        let mmeta = self.module_meta(module)?;
        let mut store = self.shared.write();
        let rid = self.existing(&store, mmeta, id)?;
        let secs = modified.timestamp();
        let text = store.fmt_time(secs);
        if let Some(data) = store.module_mut(mmeta.api_name)
            && let Some(mut record) = data.remove(rid)
        {
            record.modified = secs;
            record
                .value
                .insert("Modified_Time".to_owned(), Value::String(text));
            data.insert(record);
        }
        Ok(())
    }

    /// Sets a record's `Modified_Time` to now, as an edit in the CRM UI would;
    /// returns the new value.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownModule`] or [`EmulatorError::NotFound`].
    pub fn touch(&self, module: &str, id: &str) -> Result<String, EmulatorError> {
        let now = time::now_secs();
        let offset = self.shared.config.utc_offset;
        let when = DateTime::from_timestamp(now, 0)
            .map(|t| t.with_timezone(&offset))
            .ok_or_else(|| EmulatorError::NotFound {
                module: module.to_owned(),
                id: id.to_owned(),
            })?;
        self.set_modified_time(module, id, when)?;
        Ok(time::format(now, offset))
    }

    /// A record as stored, lookups rendered as the API shows them (`{"name","id"}`,
    /// owners with `email`); empty fields are absent.
    pub fn record(&self, module: &str, id: &str) -> Option<Value> {
        let mmeta = self.shared.meta.module(module)?;
        let store = self.shared.read();
        let rid = store::parse_id(id)?;
        let record = store.module(mmeta.api_name)?.records.get(&rid)?;
        Some(store.render_stored(&self.shared.meta, mmeta, record))
    }

    /// Every record of a module, in id (creation) order, as [`record`](Self::record)
    /// shows them.
    pub fn records(&self, module: &str) -> Vec<Value> {
        let Some(mmeta) = self.shared.meta.module(module) else {
            return Vec::new();
        };
        let store = self.shared.read();
        store
            .module(mmeta.api_name)
            .map(|d| {
                d.records
                    .values()
                    .map(|r| store.render_stored(&self.shared.meta, mmeta, r))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many records a module holds.
    pub fn record_count(&self, module: &str) -> usize {
        let Some(mmeta) = self.shared.meta.module(module) else {
            return 0;
        };
        self.shared
            .read()
            .module(mmeta.api_name)
            .map_or(0, |d| d.records.len())
    }

    /// Every user (the primary administrator first), as `GET /users` shows them.
    pub fn users(&self) -> Vec<Value> {
        self.shared
            .read()
            .users
            .values()
            .map(|u| Value::Object(u.value.clone()))
            .collect()
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<Value> {
        let rid = store::parse_id(id)?;
        self.shared
            .read()
            .users
            .get(&rid)
            .map(|u| Value::Object(u.value.clone()))
    }

    /// The API names of the modules that hold records.
    pub fn modules(&self) -> Vec<&'static str> {
        self.shared
            .meta
            .modules
            .iter()
            .filter(|m| m.has_records())
            .map(|m| m.api_name)
            .collect()
    }

    /// Stops the server gracefully: new connections are refused, requests in flight
    /// finish (waiting at most five seconds).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

fn rejected(error: Value) -> EmulatorError {
    let field = |k: &str| {
        error
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    EmulatorError::Rejected {
        code: field("code"),
        message: field("message"),
        details: error.get("details").cloned().unwrap_or(Value::Null),
    }
}
