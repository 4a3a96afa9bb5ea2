//! [`Stats`]: what the emulator was asked.

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
pub type Stats = connector_core::emulator::RequestStats<Endpoint>;
