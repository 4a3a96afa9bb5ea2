//! [`Stats`]: what the emulator was asked.

use std::fmt;

/// The kind of path a request was sent to, as counted by [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/oauth/v2/auth` (authorization request).
    OAuthAuthorize,
    /// `/oauth/v2/token` (every grant).
    OAuthToken,
    /// `/oauth/v2/token/revoke`.
    OAuthRevoke,
    /// `/oauth/serverinfo`.
    OAuthServerInfo,
    /// `/crm/v8/users`, `/crm/v8/users/{id}`.
    Users,
    /// `/crm/v8/users/actions/count`.
    UsersCount,
    /// `/crm/v8/org`.
    Org,
    /// `/crm/v8/settings/modules[/{module}]`.
    Modules,
    /// `/crm/v8/settings/fields`.
    Fields,
    /// `/crm/v8/settings/roles`, `/crm/v8/settings/profiles`.
    Settings,
    /// `/crm/v8/{module}` and `/crm/v8/{module}/{id}` (list, get, insert, update, delete).
    Records,
    /// `/crm/v8/{module}/upsert`.
    Upsert,
    /// `/crm/v8/{module}/deleted`.
    DeletedRecords,
    /// `/crm/v8/{module}/actions/count`.
    RecordCount,
    /// `/crm/v8/coql`.
    Coql,
    /// `/crm/bulk/v8/read` and `/crm/bulk/v8/read/{id}` (create, status).
    BulkRead,
    /// `/crm/bulk/v8/read/{id}/result` (download).
    BulkReadResult,
    /// Anything else (answered 404 `INVALID_URL_PATTERN`).
    Other,
}

impl Endpoint {
    /// A short name: `oauth/token`, `users`, `records`, `coql`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::OAuthAuthorize => "oauth/auth",
            Endpoint::OAuthToken => "oauth/token",
            Endpoint::OAuthRevoke => "oauth/revoke",
            Endpoint::OAuthServerInfo => "oauth/serverinfo",
            Endpoint::Users => "users",
            Endpoint::UsersCount => "users/count",
            Endpoint::Org => "org",
            Endpoint::Modules => "settings/modules",
            Endpoint::Fields => "settings/fields",
            Endpoint::Settings => "settings",
            Endpoint::Records => "records",
            Endpoint::Upsert => "upsert",
            Endpoint::DeletedRecords => "deleted",
            Endpoint::RecordCount => "records/count",
            Endpoint::Coql => "coql",
            Endpoint::BulkRead => "bulk/read",
            Endpoint::BulkReadResult => "bulk/read/result",
            Endpoint::Other => "other",
        }
    }

    /// Whether this is an accounts-server endpoint (`/oauth/...`). The CRM API calls
    /// of a run are `stats.matching(|e| !e.is_accounts())`.
    pub fn is_accounts(self) -> bool {
        matches!(
            self,
            Endpoint::OAuthAuthorize
                | Endpoint::OAuthToken
                | Endpoint::OAuthRevoke
                | Endpoint::OAuthServerInfo
        )
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request counts since the emulator started or
/// [`reset_stats`](super::RunningEmulator::reset_stats) was called: by HTTP method and
/// [`Endpoint`], by response status, and how many records list, COQL and bulk
/// responses carried.
///
/// Every request is counted once, including those answered with a fault, a 401, a
/// 429 or a 404.
///
/// ```no_run
/// # async fn demo(emulator: &zoho_crm::emulator::RunningEmulator) {
/// use zoho_crm::emulator::Endpoint;
///
/// let stats = emulator.stats();
/// assert_eq!(stats.count("POST", Endpoint::OAuthToken), 1);
/// assert_eq!(stats.count("GET", Endpoint::Records), 13);
/// assert_eq!(stats.status(429), 0);
/// println!("{} records served", stats.records_returned());
/// # }
/// ```
pub type Stats = connector_core::emulator::RequestStats<Endpoint>;
