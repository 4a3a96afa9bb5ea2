//! An in-memory Salesforce org to run tests and demos against, as one would run
//! LocalStack: the OAuth token endpoint, Bulk API 2.0 query and ingest jobs, sObject
//! describe, `/limits` and Analytics reports, with Salesforce's wire formats, so a
//! client written against the real API works against it unchanged.
//!
//! Enabled by the `emulator` feature; also runnable as the `salesforce-emulator`
//! binary (`cargo run -p salesforce-bulk2 --features emulator --bin salesforce-emulator -- --help`).
//!
//! ```no_run
//! use salesforce_bulk2::emulator::{Emulator, EmulatorConfig, Endpoint};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start(EmulatorConfig::new()).await?;
//! emulator.seed_records("Account", 2_500)?;
//!
//! // The client-credentials grant, exactly as against a My Domain.
//! let http = reqwest::Client::new();
//! let token: serde_json::Value = http
//!     .post(emulator.token_url())
//!     .form(&[
//!         ("grant_type", "client_credentials"),
//!         ("client_id", emulator.client_id()),
//!         ("client_secret", emulator.client_secret()),
//!     ])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let access_token = token["access_token"].as_str().unwrap_or_default();
//!
//! // A Bulk API 2.0 query job.
//! let job: serde_json::Value = http
//!     .post(format!("{}/jobs/query", emulator.data_url()))
//!     .bearer_auth(access_token)
//!     .json(&serde_json::json!({"operation": "query", "query": "SELECT Id, Name FROM Account"}))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(job["state"], "UploadComplete");
//!
//! // Assert on what it was asked, make it misbehave.
//! assert_eq!(emulator.stats().count("POST", Endpoint::QueryJobs), 1);
//! emulator.faults().rate_limit_next(1);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! One loopback port is the My Domain and the instance: `instance_url` in token
//! responses is [`RunningEmulator::base_url`].
//!
//! - `POST /services/oauth2/token` (form body; client credentials also as HTTP
//!   Basic): `client_credentials`; `refresh_token` (with
//!   [`EmulatorConfig::rotate_refresh_tokens`] each grant answers a new refresh token
//!   and redeeming a rotated-out one revokes the grant);
//!   `urn:ietf:params:oauth:grant-type:jwt-bearer` (RS256 assertion: `iss` the
//!   consumer key, `sub` the username, `aud` `https://login.salesforce.com`,
//!   `https://test.salesforce.com` or the emulator's URL, `exp` in the future; the
//!   signature is verified when [`EmulatorConfig::jwt_public_key_pem`] is set).
//!   Answers `{"access_token","signature","scope","instance_url","id","token_type",
//!   "issued_at"}` (no `expires_in`, as Salesforce); errors are HTTP 400
//!   `{"error","error_description"}` (`invalid_client_id`, `invalid_client`,
//!   `invalid_grant`, `unsupported_grant_type`).
//! - `GET /services/data/`: the versions, v31.0 up to
//!   [`EmulatorConfig::latest_api_version`] (no token needed). Any other version in
//!   a path → 404 `NOT_FOUND`.
//! - With `Authorization: Bearer <token>` (a missing, unknown or expired one → 401
//!   `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`),
//!   under `/services/data/vXX.X`: `/` (resources), `/limits`, `/sobjects`,
//!   `/sobjects/{name}`, `/sobjects/{name}/describe` (unknown → 404 `NOT_FOUND`).
//! - Query jobs (v47.0+): `POST /jobs/query` (`query` or `queryAll`,
//!   `columnDelimiter`, `lineEnding`; the SOQL is parsed at once: `MALFORMED_QUERY`,
//!   `INVALID_FIELD`, `INVALID_TYPE`, and `API_ERROR` for what Bulk API 2.0 refuses),
//!   `GET /jobs/query` (`done`, `records`, `nextRecordsUrl`), `GET`, `PATCH`
//!   (`{"state":"Aborted"}`) and `DELETE /jobs/query/{id}`,
//!   `GET /jobs/query/{id}/results?locator=&maxRecords=` (header on every page,
//!   every non-null value quoted, `Sforce-Locator` — `null` on the last page —,
//!   `Sforce-NumberOfRecords`, gzip when asked; 412 `JOB_NOT_COMPLETE` before the job
//!   completes, 409 when fetched with another API version than the job's), and from
//!   [`EmulatorConfig::result_pages_since`] `GET /jobs/query/{id}/resultPages` (five
//!   `resultUrl`s per call, `nextRecordsUrl`, `done`).
//! - Ingest jobs (v41.0+): `POST /jobs/ingest` (`insert`, `update`, `upsert` with
//!   `externalIdFieldName`, `delete`, `hardDelete`), `PUT /jobs/ingest/{id}/batches`
//!   (201; several uploads with the same header are accepted while the job is
//!   `Open`, up to [`EmulatorConfig::max_upload_bytes`] in total), `PATCH`
//!   (`UploadComplete`, `Aborted`), `GET`, `DELETE`, `GET /jobs/ingest`, and the
//!   result files `successfulResults` (`sf__Id,sf__Created,…`), `failedResults`
//!   (`sf__Id,sf__Error,…`) and `unprocessedrecords` (any case).
//! - `GET /analytics/reports`, `GET`/`POST /analytics/reports/{id}` (a synchronous
//!   tabular run: `factMap["T!T"].rows[].dataCells[]`, at most
//!   [`EmulatorConfig::report_row_limit`] rows with `allData: false` beyond),
//!   `GET /analytics/reports/{id}/describe`.
//!
//! Every API response carries `Sforce-Limit-Info: api-usage=N/MAX`.
//!
//! # Data
//!
//! sObjects User (`005`), Account (`001`), Contact (`003`, `AccountId` → Account) and
//! the custom `Invoice__c` (`a01`, external id `External_Id__c`, `Account__c` →
//! Account, `Contact__c` → Contact), with string, textarea, email, phone, url,
//! picklist (`Invoice__c.Status__c` restricted), boolean, int, double, currency and
//! percent (with precision and scale), date, datetime, time, reference and id
//! fields. Every record has `Id` (18 characters with the object's key prefix),
//! `IsDeleted`, `CreatedDate`, `CreatedById`, `LastModifiedDate`,
//! `LastModifiedById` and `SystemModstamp`, maintained by the emulator. Records
//! are stored as Salesforce's canonical text (`true`, `2024-01-31`,
//! `2024-01-31T12:00:00.000Z`, `12:30:00.000Z`, plain decimals).
//!
//! Ingest validation: unknown header field → the job ends `Failed` with
//! `InvalidBatch : Field name not found : X`; per record `REQUIRED_FIELD_MISSING`,
//! `INVALID_TYPE_ON_FIELD_IN_RECORD` (numbers, booleans, dates, datetimes, times),
//! `NUMBER_OUTSIDE_VALID_RANGE`, `STRING_TOO_LONG`, `INVALID_EMAIL_ADDRESS`,
//! `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, `MALFORMED_ID`,
//! `INVALID_CROSS_REFERENCE_KEY`, `ENTITY_IS_DELETED`,
//! `INVALID_FIELD_FOR_INSERT_UPDATE` (read-only fields), `DUPLICATE_VALUE` (unique
//! fields, and a key given twice in one job). An empty cell leaves a field
//! unchanged; `#N/A` sets it null. Relationship columns (`Account__r.External_Id__c`)
//! resolve parents by an id-lookup field.
//!
//! # Faults, limits and statistics
//!
//! [`RunningEmulator::faults`] switches on 429s with `Retry-After`, 5xx, HTML and
//! empty error bodies and cut-off bodies, per path and for N requests, jobs that end
//! `Failed`, token expiry and per-page latency. `/limits` counts
//! `DailyApiRequests`, `DailyBulkV2QueryJobs` and `DailyBulkApiBatches` down.
//! [`RunningEmulator::stats`] counts requests by method and [`Endpoint`].
//!
//! # Not emulated
//!
//! Multipart job creation, `Sforce-Call-Options`, polymorphic relationship columns
//! beyond `Type:Rel.Field` syntax, multi-select picklists, compound fields, the REST
//! sObject and SOQL query resources, async report instances, PK chunking and result
//! expiry. Jobs are processed as soon as they are created or closed; a configured
//! processing time only delays the state they show.

mod config;
mod error;
mod faults;
mod ingest;
mod jobs;
mod oauth;
mod query;
mod reports;
mod schema;
mod seed;
mod server;
mod soql;
mod stats;
mod store;
mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use connector_core::emulator::{LoopbackServer, bind_loopback};
use serde_json::{Map, Value};

pub use config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_DAILY_API_REQUESTS,
    DEFAULT_DAILY_BULK_BATCHES, DEFAULT_DAILY_QUERY_JOBS, DEFAULT_LATEST_API_VERSION,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_ORG_ID, DEFAULT_PAGE_SIZE, DEFAULT_REFRESH_TOKEN,
    DEFAULT_REPORT_ROW_LIMIT, DEFAULT_RESULT_PAGES_SINCE, DEFAULT_TOKEN_TTL, DEFAULT_USERNAME,
    EmulatorConfig,
};
pub use error::EmulatorError;
pub use faults::{Fault, FaultKind, Faults};
pub use reports::ReportDefinition;
pub use stats::{Endpoint, Stats};

use server::{Limits, Shared, lock};
use store::{Column, Store, WriteOp, resolve_column};

/// Starts emulators; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct Emulator;

impl Emulator {
    /// Binds 127.0.0.1 on the configured port (0: a free one) and serves the
    /// emulator in a spawned task until [`RunningEmulator::shutdown`] or drop.
    ///
    /// Must be called inside a multi-threaded tokio runtime (jobs are processed on
    /// its blocking threads).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Bind`] if the port cannot be bound, [`EmulatorError::Tls`]
    /// if TLS was asked for and could not be set up.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        let (listener, addr) =
            bind_loopback(config.port)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: format!("127.0.0.1:{}", config.port),
                    source,
                })?;
        let scheme = if config.tls { "https" } else { "http" };
        let origin = format!("{scheme}://{addr}");
        let schema = schema::Schema::default_org();
        let store = Store::new(&schema, &config.username);
        let limits = Limits {
            query_jobs: config.daily_query_jobs,
            batches: config.daily_bulk_batches,
            api_requests: config.daily_api_requests,
        };
        let oauth = oauth::OAuth::new(&config);
        let tls = if config.tls {
            Some(tls::SelfSigned::generate()?)
        } else {
            None
        };
        let user_id = store.user_id.clone();
        let shared = Arc::new(Shared {
            config,
            origin,
            user_id,
            schema,
            store: RwLock::new(store),
            jobs: Mutex::default(),
            oauth: Mutex::new(oauth),
            stats: Mutex::default(),
            faults: Faults::default(),
            limits: Mutex::new(limits),
            reports: Mutex::default(),
        });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        let certificate_pem = tls.as_ref().map(|t| t.certificate_pem.clone());
        let server = match tls {
            None => LoopbackServer::spawn(listener, addr, app, "Salesforce"),
            Some(tls) => LoopbackServer::spawn(
                tls::TlsListener::new(listener, tls.acceptor),
                addr,
                app,
                "Salesforce",
            ),
        };
        Ok(RunningEmulator {
            shared,
            certificate_pem,
            server,
        })
    }
}

/// A running emulator: its URLs and credentials, runtime switches and stored data.
/// Dropping it stops the server (gracefully, in the background).
pub struct RunningEmulator {
    shared: Arc<Shared>,
    certificate_pem: Option<String>,
    server: LoopbackServer,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("base_url", &self.shared.origin)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

fn rejected(code: &str, message: impl Into<String>) -> EmulatorError {
    EmulatorError::Rejected {
        code: code.to_owned(),
        message: message.into(),
    }
}

impl RunningEmulator {
    /// The org's URL, e.g. `http://127.0.0.1:41234`: the My Domain (token endpoint)
    /// and the `instance_url` in one.
    pub fn base_url(&self) -> &str {
        &self.shared.origin
    }

    /// `{base_url}/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.shared.origin)
    }

    /// `{base_url}/services/data/v{latest}`: the REST base of the newest version.
    pub fn data_url(&self) -> String {
        format!(
            "{}/services/data/v{}",
            self.shared.origin,
            self.shared.latest()
        )
    }

    /// `{base_url}/services/data/v{latest}/jobs/`: the Bulk API 2.0 base URL, as
    /// simple-salesforce's `SFBulk2Handler` takes it.
    pub fn bulk2_url(&self) -> String {
        format!("{}/jobs/", self.data_url())
    }

    /// The newest API version served, e.g. `62.0`.
    pub fn api_version(&self) -> String {
        self.shared.latest()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The connected app's consumer key.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// The connected app's consumer secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The integration user's username.
    pub fn username(&self) -> &str {
        &self.shared.config.username
    }

    /// The pre-registered refresh token.
    pub fn refresh_token(&self) -> &str {
        &self.shared.config.refresh_token
    }

    /// The organization id.
    pub fn org_id(&self) -> &str {
        &self.shared.config.org_id
    }

    /// The integration user's record id.
    pub fn user_id(&self) -> String {
        self.shared.user_id.clone()
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// The self-signed certificate (PEM) it serves HTTPS with, when started with
    /// [`EmulatorConfig::tls`]; clients trust it as a root.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// A valid access token, minted without a token request (not counted).
    pub fn access_token(&self) -> String {
        let epoch = self.shared.faults.token_epoch();
        lock(&self.shared.oauth).mint(&self.shared.config.org_id, epoch)
    }

    /// The handle to switch faults on and off.
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// A snapshot of the request statistics.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Starts the statistics afresh.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }

    /// The `Remaining` of a `/limits` entry the emulator counts
    /// (`DailyApiRequests`, `DailyBulkV2QueryJobs`, `DailyBulkApiBatches`).
    pub fn limit_remaining(&self, name: &str) -> Option<u64> {
        let l = lock(&self.shared.limits);
        match name {
            "DailyApiRequests" => Some(l.api_requests),
            "DailyBulkV2QueryJobs" => Some(l.query_jobs),
            "DailyBulkApiBatches" => Some(l.batches),
            _ => None,
        }
    }

    /// The API names of the org's sObjects.
    pub fn objects(&self) -> Vec<String> {
        self.shared
            .schema
            .objects
            .iter()
            .map(|o| o.name.clone())
            .collect()
    }

    /// Generates `n` records of `object` (realistic values of every field type,
    /// every seventh text with a comma, quotes and a newline; Contacts and Invoices
    /// point at existing Accounts). Returns how many were inserted.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownObject`].
    pub fn seed_records(&self, object: &str, n: usize) -> Result<usize, EmulatorError> {
        let mut store = self.shared.write();
        seed::seed(&mut store, &self.shared.schema, object, n)
    }

    /// Inserts records given as JSON objects of field name → value (strings in
    /// Salesforce's CSV formats, numbers, booleans; `null` sets nothing), validated as
    /// an ingest insert is. Returns their ids; stops at the first refused record.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::UnknownObject`], or [`EmulatorError::Rejected`] with the
    /// status code an ingest job would have written (`INVALID_FIELD` for a key that
    /// is not a field).
    pub fn insert_records(
        &self,
        object: &str,
        records: &[Value],
    ) -> Result<Vec<String>, EmulatorError> {
        let schema = &self.shared.schema;
        let o = schema
            .object(object)
            .ok_or_else(|| EmulatorError::UnknownObject(object.to_owned()))?;
        let mut store = self.shared.write();
        let mut ids = Vec::with_capacity(records.len());
        for record in records {
            let Value::Object(map) = record else {
                return Err(rejected("INVALID_TYPE", "a record must be a JSON object"));
            };
            let mut columns: Vec<Column> = Vec::with_capacity(map.len());
            let mut cells: Vec<String> = Vec::with_capacity(map.len());
            for (k, v) in map {
                let column = resolve_column(schema, o, k).ok_or_else(|| {
                    rejected(
                        "INVALID_FIELD",
                        format!(
                            "No such column '{k}' on entity '{}'",
                            schema.objects[o].name
                        ),
                    )
                })?;
                let text = match v {
                    Value::Null => continue,
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                columns.push(column);
                cells.push(text);
            }
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            let (id, _) = store
                .write(schema, o, WriteOp::Insert, None, &columns, &refs)
                .map_err(|e| rejected(e.code, e.sf_error()))?;
            ids.push(id);
        }
        Ok(ids)
    }

    fn render(&self, object: usize, row: &store::Row) -> Map<String, Value> {
        self.shared.schema.objects[object]
            .fields
            .iter()
            .zip(row)
            .map(|(f, v)| {
                (
                    f.name.clone(),
                    v.as_deref()
                        .map_or(Value::Null, |s| Value::String(s.to_owned())),
                )
            })
            .collect()
    }

    /// Every stored record of `object` (soft-deleted ones too, with `IsDeleted`
    /// `"true"`), in creation order, as field name → text or null.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let Some(o) = self.shared.schema.object(object) else {
            return Vec::new();
        };
        let store = self.shared.read();
        store.tables[o]
            .slots
            .iter()
            .flatten()
            .map(|r| self.render(o, r))
            .collect()
    }

    /// One record by its 15- or 18-character id, if stored (soft-deleted too).
    pub fn record(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        let o = self.shared.schema.object(object)?;
        let store = self.shared.read();
        let (found, slot) = store.locate(&self.shared.schema, id)?;
        if found != o {
            return None;
        }
        store.row(o, slot).map(|r| self.render(o, r))
    }

    /// How many live (not deleted) records `object` holds.
    pub fn record_count(&self, object: &str) -> usize {
        self.shared
            .schema
            .object(object)
            .map_or(0, |o| self.shared.read().tables[o].live())
    }

    /// Adds a report definition; returns its id (`00O…`).
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Rejected`] for an unknown object, column or filter operator.
    pub fn add_report(&self, definition: ReportDefinition) -> Result<String, EmulatorError> {
        reports::add(&self.shared, definition)
    }

    /// Stops the server gracefully: new connections are refused, requests in flight
    /// finish (waiting at most five seconds).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
