//! [`Stats`]: what the emulator was asked.

use std::fmt;

/// The kind of path a request was sent to, as counted by [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/services/oauth2/token`.
    Token,
    /// `/services/data/` (the versions list).
    Versions,
    /// `/services/data/vXX.X/` (the resources of a version).
    Resources,
    /// `/limits`.
    Limits,
    /// `/sobjects` (the global describe).
    SObjects,
    /// `/sobjects/{name}` and `/sobjects/{name}/describe`.
    Describe,
    /// `/jobs/query` (create, list).
    QueryJobs,
    /// `/jobs/query/{id}` (info, abort, delete).
    QueryJob,
    /// `/jobs/query/{id}/results`.
    QueryResults,
    /// `/jobs/query/{id}/resultPages`.
    QueryResultPages,
    /// `/jobs/ingest` (create, list).
    IngestJobs,
    /// `/jobs/ingest/{id}` (info, close, abort, delete).
    IngestJob,
    /// `/jobs/ingest/{id}/batches` (upload).
    IngestBatches,
    /// `/jobs/ingest/{id}/successfulResults`, `failedResults`, `unprocessedrecords`.
    IngestResults,
    /// `/analytics/reports` and everything under it.
    Reports,
    /// Anything else.
    Other,
}

impl Endpoint {
    /// A short name: `token`, `jobs/query/{id}/results`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Versions => "versions",
            Endpoint::Resources => "resources",
            Endpoint::Limits => "limits",
            Endpoint::SObjects => "sobjects",
            Endpoint::Describe => "sobjects/{name}/describe",
            Endpoint::QueryJobs => "jobs/query",
            Endpoint::QueryJob => "jobs/query/{id}",
            Endpoint::QueryResults => "jobs/query/{id}/results",
            Endpoint::QueryResultPages => "jobs/query/{id}/resultPages",
            Endpoint::IngestJobs => "jobs/ingest",
            Endpoint::IngestJob => "jobs/ingest/{id}",
            Endpoint::IngestBatches => "jobs/ingest/{id}/batches",
            Endpoint::IngestResults => "jobs/ingest/{id}/{results}",
            Endpoint::Reports => "analytics/reports",
            Endpoint::Other => "other",
        }
    }

    /// Which endpoint the path segments after `/services/data/vXX.X/` address.
    pub(crate) fn classify(segs: &[&str]) -> Endpoint {
        match segs {
            [] => Endpoint::Resources,
            ["limits"] => Endpoint::Limits,
            ["sobjects"] => Endpoint::SObjects,
            ["sobjects", _] | ["sobjects", _, "describe"] => Endpoint::Describe,
            ["jobs", "query"] => Endpoint::QueryJobs,
            ["jobs", "query", _] => Endpoint::QueryJob,
            ["jobs", "query", _, "results"] => Endpoint::QueryResults,
            ["jobs", "query", _, "resultPages"] => Endpoint::QueryResultPages,
            ["jobs", "ingest"] => Endpoint::IngestJobs,
            ["jobs", "ingest", _] => Endpoint::IngestJob,
            ["jobs", "ingest", _, "batches"] => Endpoint::IngestBatches,
            ["jobs", "ingest", _, kind]
                if ["successfulresults", "failedresults", "unprocessedrecords"]
                    .contains(&kind.to_ascii_lowercase().as_str()) =>
            {
                Endpoint::IngestResults
            }
            ["analytics", "reports", ..] => Endpoint::Reports,
            _ => Endpoint::Other,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request counts since the emulator started or
/// [`reset_stats`](super::RunningEmulator::reset_stats) was called: by HTTP method and
/// [`Endpoint`], by response status, and how many query-result records were served.
///
/// Every request is counted once, including those answered with a fault or a 401.
pub type Stats = connector_core::emulator::RequestStats<Endpoint>;
