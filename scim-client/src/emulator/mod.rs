//! An in-memory SCIM 2.0 server to run tests and demos against, as one would run
//! LocalStack: strict RFC 7643/7644 (+ RFC 9865 cursors) by default, with
//! switchable Microsoft Entra and Okta tolerance and switchable faults.
//!
//! Enabled by the `emulator` feature; also runnable as the `scim-emulator` binary
//! (`cargo run -p scim-client --features emulator --bin scim-emulator -- --help`).
//!
//! ```no_run
//! use scim_client::emulator::{Emulator, EmulatorConfig, Endpoint};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start(EmulatorConfig::new()).await?;
//! emulator.seed_users(100);
//! emulator.seed_groups(5, 10);
//!
//! // Point the code under test at it.
//! let http = reqwest::Client::new();
//! let page: serde_json::Value = http
//!     .get(format!("{}/Users", emulator.base_url()))
//!     .bearer_auth(emulator.token().unwrap_or_default())
//!     .query(&[("filter", r#"userName eq "user7@example.com""#)])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(page["totalResults"], 1);
//!
//! // Assert on what it was asked and what it holds.
//! assert_eq!(emulator.stats().count("GET", Endpoint::Users), 1);
//! assert!(emulator.user_by_user_name("USER7@example.com").is_some());
//!
//! // Make the next request fail, as a busy service would.
//! emulator.faults().rate_limit_next(1);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! Under the base path (`/v2` by default; the base URL is e.g.
//! `http://127.0.0.1:PORT/v2`):
//!
//! - `GET /ServiceProviderConfig`, `/ResourceTypes[/{id}]`, `/Schemas[/{id}]`:
//!   discovery, served without authentication (as scim2-server does); other methods
//!   get 405. The schemas carry the full RFC 7643 §8.7.1 attribute metadata for core
//!   User, Enterprise User and Group.
//! - `/Users`, `/Groups`: `GET` lists (filter, `startIndex`/`count` capped at
//!   `filter.maxResults`, `sortBy`/`sortOrder`, `attributes`/`excludedAttributes`,
//!   RFC 9865 `cursor` with `nextCursor`/`previousCursor`, `count=0` → only
//!   `totalResults`); `POST` creates (201, `Location`, `ETag`).
//! - `/Users/{id}`, `/Groups/{id}`: `GET` (`If-None-Match` → 304), `PUT`, `PATCH`
//!   (204, or 200 with the resource when `attributes`/`excludedAttributes` is given),
//!   `DELETE` (204); `If-Match` on writes → 412 when stale.
//! - `POST /.search`, `/Users/.search`, `/Groups/.search` (SearchRequest).
//! - `POST /Bulk`: `bulkId:` references resolved anywhere in `data` and in paths, in
//!   dependency order (unresolvable or circular references → 409 for that
//!   operation), `failOnErrors`, 413 over `maxOperations` or `maxPayloadSize`.
//! - `/Me` → 501.
//!
//! With [`EmulatorConfig::oauth_client`], `/oauth/token` and `/oauth/authorize` (at
//! the server root) issue access tokens accepted next to the static token.
//!
//! Every response body is `application/scim+json`; request bodies may be
//! `application/scim+json` or `application/json`. Every error is an RFC 7644
//! §3.12 Error with `status` as a string. Resource endpoints without a valid
//! bearer token get 401.
//!
//! # Behaviour
//!
//! Resources are stored as JSON. Ids are random UUID-shaped strings; `meta` has
//! `resourceType`, `created`, `lastModified` (strictly increasing, microseconds),
//! `location` and `version` (`W/"n"` from a global counter, also the `ETag`).
//! Bodies are validated against the schemas: attribute names take the schema's
//! spelling, types are checked (a wrong type is 400 `invalidValue`), read-only
//! attributes (`id`, `meta`, `groups`, ...) in a POST/PUT body are ignored and
//! changing them with PATCH is 400 `mutability`, `userName` is required and
//! unique ignoring case (409 `uniqueness`), a group needs `displayName`,
//! `password` is stored but never returned. A user's `groups` is computed from
//! group memberships; deleting a user or group removes it from every group.
//! Filters use [`crate::filter`] with each attribute's `caseExact`; PATCH uses
//! [`crate::patch`].
//!
//! # Dialects
//!
//! Strict (the default) refuses what RFC 7643/7644 do not allow: a `schemas`
//! member missing or naming an unknown URN (400 `invalidSyntax`), unknown
//! attributes, `"True"`/`"False"` strings for booleans (400 `invalidValue`), PATCH
//! `remove` with a `value` (400 `invalidValue`), PATCH `replace` on a value path
//! matching nothing (400 `noTarget`). Okta's no-path `replace` and GET-then-PUT
//! flows are RFC-conformant and accepted in every mode.
//!
//! - [`EmulatorConfig::entra`]: `"True"`/`"False"` become booleans; the legacy
//!   `{"op":"Remove","path":"members","value":[{"value":"id"}]}` removes those
//!   members; `replace` on an unmatched value path (`emails[type eq "work"].value`)
//!   creates the entry; unknown schema URNs (the ADSCIM Group URN) and attributes are
//!   kept.
//! - [`EmulatorConfig::okta`]: unknown (custom) schema URNs and attributes are kept;
//!   `schemas` may be missing (resources, PATCH, search and bulk requests).
//!
//! With either tolerance on, a single value is also accepted where a multi-valued
//! attribute expects an array.
//!
//! Both can also be switched at runtime ([`RunningEmulator::set_entra`],
//! [`RunningEmulator::set_okta`]).
//!
//! # Faults, latency and statistics
//!
//! [`RunningEmulator::faults`] returns a [`Faults`] handle: the next N requests
//! answer 429 with `Retry-After`, or 500/503; a per-request latency can be set.
//! [`RunningEmulator::stats`] counts requests by method and [`Endpoint`], and
//! responses by status, so a test can assert "exactly one PATCH was sent".
//!
//! # Performance
//!
//! Users are indexed by id and lowercase `userName`, group memberships by member;
//! list filters scan. One `RwLock` guards the store: reads run in parallel. Ten
//! thousand users and 32 concurrent clients are the intended scale.

mod bulk;
mod config;
mod error;
mod faults;
mod oauth;
mod query;
mod resource;
mod schema;
mod seed;
mod server;
mod stats;
mod store;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use connector_core::emulator::{LoopbackServer, bind_loopback};
use serde_json::Value;

pub use config::{
    DEFAULT_BASE_PATH, DEFAULT_BULK_MAX_OPERATIONS, DEFAULT_BULK_MAX_PAYLOAD_SIZE,
    DEFAULT_CURSOR_TIMEOUT, DEFAULT_MAX_RESULTS, DEFAULT_TOKEN, DEFAULT_TOKEN_TTL, EmulatorConfig,
    OAuthClient,
};
pub use error::EmulatorError;
pub use faults::Faults;
pub use schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
pub use stats::{Endpoint, Stats};

use schema::{Kind, Schemas};
use server::{Shared, lock};

/// Starts emulators; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct Emulator;

impl Emulator {
    /// Binds 127.0.0.1 on the configured port (0: a free one) and serves the
    /// emulator in a spawned task until [`RunningEmulator::shutdown`] or drop.
    ///
    /// Must be called inside a tokio runtime.
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
        let base_url = format!("http://{addr}{}", config.base_path);
        let shared = Arc::new(Shared {
            entra: AtomicBool::new(config.entra),
            okta: AtomicBool::new(config.okta),
            config,
            base_url,
            schemas: Schemas::new(),
            store: Default::default(),
            cursors: Default::default(),
            oauth: Default::default(),
            stats: Default::default(),
            faults: Faults::default(),
            started: DateTime::<Utc>::from(SystemTime::now())
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        Ok(RunningEmulator {
            shared,
            server: LoopbackServer::spawn(listener, addr, app, "SCIM"),
        })
    }
}

/// A running emulator: its address, runtime switches and stored resources.
/// Dropping it stops the server (gracefully, in the background).
pub struct RunningEmulator {
    shared: Arc<Shared>,
    server: LoopbackServer,
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("base_url", &self.shared.base_url)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// A client builder pointed at this emulator, with its bearer token and plain HTTP
    /// allowed (the emulator serves loopback without TLS).
    pub fn client_builder(&self) -> crate::ScimClientBuilder {
        let builder = crate::ScimClient::builder(self.base_url())
            .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false));
        match self.token() {
            Some(token) => builder.bearer_token(token),
            None => builder,
        }
    }

    /// The SCIM base URL, e.g. `http://127.0.0.1:41234/v2` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The server root URL, e.g. `http://127.0.0.1:41234`, where `/oauth/token` lives.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The token URL, `{root}/oauth/token` (served only with an OAuth client configured).
    pub fn token_url(&self) -> String {
        format!("http://{}/oauth/token", self.server.addr())
    }

    /// The authorization URL, `{root}/oauth/authorize`.
    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth/authorize", self.server.addr())
    }

    /// The static bearer token, if one is configured.
    pub fn token(&self) -> Option<&str> {
        self.shared.config.get_token()
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
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

    /// Switches Entra tolerance on or off (see the [module docs](self#dialects)).
    pub fn set_entra(&self, on: bool) {
        self.shared.entra.store(on, Ordering::Release);
    }

    /// Switches Okta tolerance on or off (see the [module docs](self#dialects)).
    pub fn set_okta(&self, on: bool) {
        self.shared.okta.store(on, Ordering::Release);
    }

    /// Forgets every OAuth access token issued so far (refresh tokens stay valid),
    /// so the next request with one gets 401 and the client must refresh.
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.oauth).expire_access_tokens();
    }

    /// Adds `n` generated users; returns their ids. The i-th seeded user (counting
    /// from 1 across calls) has `userName` `user{i}@example.com`, `externalId`
    /// `ext-{i:06}`, a name, displayName, title, a primary work email (the userName),
    /// a work phone number, and the enterprise extension (`employeeNumber` `{i:06}`,
    /// `department`, `organization`, `costCenter`); every tenth is `active: false`.
    pub fn seed_users(&self, n: usize) -> Vec<String> {
        let ctx = store::Ctx {
            tol: resource::Tolerance::default(),
            ..self.shared.ctx()
        };
        let mut store = self.shared.write();
        let mut ids = Vec::with_capacity(n);
        while ids.len() < n {
            store.seeded_users += 1;
            let i = store.seeded_users;
            match store.create(ctx, Kind::User, &seed::user(i)) {
                Ok(id) => ids.push(id),
                Err(e) if e.status == 409 => continue,
                Err(e) => {
                    tracing::warn!(detail = %e.detail, "seeding a user failed");
                    break;
                }
            }
        }
        ids
    }

    /// Adds `n` generated groups (`displayName` `Group {i}`, counting from 1 across
    /// calls), each with `members_per_group` existing users as members, taken in
    /// creation order and wrapping around; returns their ids.
    pub fn seed_groups(&self, n: usize, members_per_group: usize) -> Vec<String> {
        let ctx = store::Ctx {
            tol: resource::Tolerance::default(),
            ..self.shared.ctx()
        };
        let mut store = self.shared.write();
        let users: Vec<(String, Option<String>)> = store
            .collection(Kind::User)
            .iter()
            .map(|r| {
                let display = r
                    .value
                    .get("displayName")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (r.id().to_owned(), display)
            })
            .collect();
        let per_group = members_per_group.min(users.len());
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            store.seeded_groups += 1;
            let i = store.seeded_groups;
            let start = usize::try_from(i - 1)
                .unwrap_or(0)
                .saturating_mul(per_group);
            let members: Vec<(String, Option<String>)> = (0..per_group)
                .map(|j| users[(start + j) % users.len()].clone())
                .collect();
            match store.create(
                ctx,
                Kind::Group,
                &seed::group(i, &members, &self.shared.base_url),
            ) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    tracing::warn!(detail = %e.detail, "seeding a group failed");
                    break;
                }
            }
        }
        ids
    }

    fn create(&self, kind: Kind, body: &Value) -> Result<Value, EmulatorError> {
        let ctx = self.shared.ctx();
        let mut store = self.shared.write();
        let id = store.create(ctx, kind, body)?;
        Ok(store
            .get(kind, &id)
            .map(|r| store.inspect(ctx, kind, r))
            .unwrap_or_default())
    }

    /// Creates a user directly (no HTTP request, not counted), validated as a POST
    /// would be; returns it as stored.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Rejected`] with the status and scimType a POST would get.
    pub fn create_user(&self, body: Value) -> Result<Value, EmulatorError> {
        self.create(Kind::User, &body)
    }

    /// Creates a group directly, as [`create_user`](Self::create_user) does a user.
    ///
    /// # Errors
    ///
    /// [`EmulatorError::Rejected`] with the status and scimType a POST would get.
    pub fn create_group(&self, body: Value) -> Result<Value, EmulatorError> {
        self.create(Kind::Group, &body)
    }

    fn all(&self, kind: Kind) -> Vec<Value> {
        let ctx = self.shared.ctx();
        let store = self.shared.read();
        store
            .collection(kind)
            .iter()
            .map(|r| store.inspect(ctx, kind, r))
            .collect()
    }

    fn one(&self, kind: Kind, id: &str) -> Option<Value> {
        let ctx = self.shared.ctx();
        let store = self.shared.read();
        store.get(kind, id).map(|r| store.inspect(ctx, kind, r))
    }

    /// Every user, in creation order, as stored: with the computed `groups` and the
    /// write-only `password` (which the HTTP API never returns).
    pub fn users(&self) -> Vec<Value> {
        self.all(Kind::User)
    }

    /// Every group, in creation order.
    pub fn groups(&self) -> Vec<Value> {
        self.all(Kind::Group)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<Value> {
        self.one(Kind::User, id)
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<Value> {
        self.one(Kind::Group, id)
    }

    /// The user with this `userName`, ignoring case.
    pub fn user_by_user_name(&self, user_name: &str) -> Option<Value> {
        let ctx = self.shared.ctx();
        let store = self.shared.read();
        store
            .user_by_name(user_name)
            .map(|r| store.inspect(ctx, Kind::User, r))
    }

    /// The first group (in creation order) with this `displayName`, ignoring case.
    pub fn group_by_display_name(&self, display_name: &str) -> Option<Value> {
        let ctx = self.shared.ctx();
        let store = self.shared.read();
        store
            .collection(Kind::Group)
            .iter()
            .find(|r| {
                r.value
                    .get("displayName")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.to_lowercase() == display_name.to_lowercase())
            })
            .map(|r| store.inspect(ctx, Kind::Group, r))
    }

    /// How many users are stored.
    pub fn user_count(&self) -> usize {
        self.shared.read().collection(Kind::User).len()
    }

    /// How many groups are stored.
    pub fn group_count(&self) -> usize {
        self.shared.read().collection(Kind::Group).len()
    }

    /// Deletes every user and group (statistics and faults are kept).
    pub fn clear(&self) {
        self.shared.write().clear();
    }

    /// Stops the server gracefully: new connections are refused, requests in flight
    /// finish (waiting at most five seconds).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
