//! [`Stats`]: what the emulator was asked.

use std::collections::BTreeMap;
use std::fmt;

/// The endpoint a request was sent to, as counted by [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/Users` and `/Users/{id}` (not `/Users/.search`).
    Users,
    /// `/Groups` and `/Groups/{id}` (not `/Groups/.search`).
    Groups,
    /// `/.search`, `/Users/.search` and `/Groups/.search`.
    Search,
    /// `/Bulk`.
    Bulk,
    /// `/ServiceProviderConfig`.
    ServiceProviderConfig,
    /// `/ResourceTypes` and `/ResourceTypes/{id}`.
    ResourceTypes,
    /// `/Schemas` and `/Schemas/{id}`.
    Schemas,
    /// `/Me`.
    Me,
    /// `/oauth/token`.
    OAuthToken,
    /// `/oauth/authorize`.
    OAuthAuthorize,
    /// Anything else (answered 404).
    Other,
}

impl Endpoint {
    /// A short name: `Users`, `Groups`, `.search`, `Bulk`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Users => "Users",
            Endpoint::Groups => "Groups",
            Endpoint::Search => ".search",
            Endpoint::Bulk => "Bulk",
            Endpoint::ServiceProviderConfig => "ServiceProviderConfig",
            Endpoint::ResourceTypes => "ResourceTypes",
            Endpoint::Schemas => "Schemas",
            Endpoint::Me => "Me",
            Endpoint::OAuthToken => "oauth/token",
            Endpoint::OAuthAuthorize => "oauth/authorize",
            Endpoint::Other => "other",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request counts since the emulator started or [`reset_stats`](super::RunningEmulator::reset_stats)
/// was called: by HTTP method and endpoint, and by response status.
///
/// Every request is counted once, including those answered with a fault, a 401 or
/// a 404; operations inside a bulk request are not counted separately.
///
/// ```no_run
/// # async fn demo(emulator: &scim_client::emulator::RunningEmulator) {
/// use scim_client::emulator::Endpoint;
///
/// let stats = emulator.stats();
/// assert_eq!(stats.count("PATCH", Endpoint::Users), 1);
/// assert_eq!(stats.count("POST", Endpoint::Users), 0);
/// assert_eq!(stats.status(429), 0);
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub(crate) total: u64,
    pub(crate) requests: BTreeMap<(String, Endpoint), u64>,
    pub(crate) statuses: BTreeMap<u16, u64>,
}

impl Stats {
    pub(crate) fn record_request(&mut self, method: &str, endpoint: Endpoint) {
        self.total += 1;
        *self
            .requests
            .entry((method.to_ascii_uppercase(), endpoint))
            .or_insert(0) += 1;
    }

    pub(crate) fn record_status(&mut self, status: u16) {
        *self.statuses.entry(status).or_insert(0) += 1;
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Requests with this method (`"GET"`, `"PATCH"`, ...; any case) to this endpoint.
    pub fn count(&self, method: &str, endpoint: Endpoint) -> u64 {
        self.requests
            .get(&(method.to_ascii_uppercase(), endpoint))
            .copied()
            .unwrap_or(0)
    }

    /// Requests with this method, to any endpoint.
    pub fn by_method(&self, method: &str) -> u64 {
        self.requests
            .iter()
            .filter(|((m, _), _)| m.eq_ignore_ascii_case(method))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests to this endpoint, with any method.
    pub fn by_endpoint(&self, endpoint: Endpoint) -> u64 {
        self.requests
            .iter()
            .filter(|((_, e), _)| *e == endpoint)
            .map(|(_, n)| n)
            .sum()
    }

    /// Responses with this HTTP status.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Every (method, endpoint, count), sorted.
    pub fn requests(&self) -> impl Iterator<Item = (&str, Endpoint, u64)> + '_ {
        self.requests.iter().map(|((m, e), n)| (m.as_str(), *e, *n))
    }

    /// Every (status, count), sorted.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses.iter().map(|(s, n)| (*s, *n))
    }
}
