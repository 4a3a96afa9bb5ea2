//! Automatic provisioning: the users (and groups) of any connector-core
//! [`Source`](connector_core::Source) kept in sync with a SCIM 2.0 service, the way
//! Microsoft Entra's provisioning service does it for Zoho One and every other
//! gallery app.
//!
//! ```no_run
//! use std::sync::Arc;
//! use scim_client::ScimClient;
//! use scim_client::provisioning::{
//!     FileStore, GroupSource, JsonlLog, Mappings, ProvisioningJob,
//! };
//!
//! # async fn demo(source: Arc<dyn connector_core::Source>) -> Result<(), Box<dyn std::error::Error>> {
//! let client = ScimClient::builder("https://scim.example.com/scim/v2")
//!     .bearer_token("token")
//!     .build()?;
//! let job = ProvisioningJob::builder(source, client, Mappings::zoho_one_from_zoho_crm())
//!     .groups(GroupSource::UserAttribute("role.name".into()))
//!     .store(Arc::new(FileStore::new("provisioning-state.json")))
//!     .log(Arc::new(JsonlLog::append("provisioning-log.jsonl")?))
//!     .build()?;
//! let first = job.run_cycle().await?; // the initial cycle: creates everyone in scope
//! let second = job.run_cycle().await?; // only what changed
//! assert_eq!(second.users.writes(), 0);
//! # Ok(()) }
//! ```
//!
//! # How a cycle works
//!
//! 1. **Test connection**: a filter on a random `userName` must return an empty list.
//!    A 401 or 403 puts the job in quarantine.
//! 2. **Import**: the source's users stream (and groups stream) is read; in full on the
//!    first cycle and for sources without a cursor, incrementally from the saved
//!    watermark otherwise (and in full every
//!    [`full_cycle_every`](ProvisioningSettings::full_cycle_every), to see removals).
//! 3. **Scope**: [`Assignment`] and the mapping's [`ScopeFilter`](scope::ScopeFilter).
//! 4. **Plan**: each object's mapped attributes ([`mapping`], [`expr`]) are compared
//!    with what was last written (kept in the state), so an unchanged object costs no
//!    request. New objects are created; changed ones get one PATCH of exactly the
//!    changed attributes; objects leaving scope or the source are disabled
//!    (`active=false`; groups are deleted); disabled objects are deleted after
//!    [`delete_after`](ProvisioningSettings::delete_after), if set.
//! 5. **Safety**: more disables and deletes than the
//!    [`deletion_threshold`](ProvisioningSettings::deletion_threshold) stop the cycle
//!    before any write ([`CycleOutcome::StoppedAtDeletionThreshold`]).
//! 6. **Write**: creates first look for an existing object on the matching attributes
//!    (in precedence order) and link to it, so nothing is created twice, even after a
//!    crash. Failed objects go into escrow and are retried on Entra's schedule
//!    ([`EscrowPolicy`]); too many failures quarantine the job ([`QuarantinePolicy`]).
//!    Groups and their membership are written after the users, members in batches.
//! 7. **Log**: one [`LogEntry`] per object (a JSON Lines file with [`JsonlLog`], and
//!    `tracing` events), [`Progress`] as it goes, a [`CycleReport`] at the end, and
//!    [`Notification`]s for failures, deletion-threshold stops and quarantine.
//!
//! The state ([`ProvisioningState`]) is saved every few hundred objects and at the end
//! of the cycle; the source watermark only advances when a cycle completes, so a run
//! killed midway reads the same changes again and finishes with no duplicate and no
//! missed change.
//!
//! [`ProvisioningJob::provision_user`] and [`ProvisioningJob::provision_group`]
//! provision one object now and return every step with its request and response.
//! [`ProvisioningSettings::dry_run`] plans and logs without writing.

mod engine;
pub mod expr;
pub mod log;
pub mod mapping;
pub mod scope;
pub mod state;

pub use engine::{
    ActionCounts, Assignment, CycleKind, CycleOutcome, CycleReport, DEFAULT_STATE_FILE,
    EscrowPolicy, GroupSource, ON_DEMAND_MAX_MEMBERS, OnDemandReport, ProvisioningJob,
    ProvisioningJobBuilder, ProvisioningSettings, QuarantinePolicy, Step,
};
pub use log::{
    Action, JsonlLog, LogEntry, LogError, MemoryLog, MemoryNotifier, ModifiedProperty, NoLog,
    NoNotifier, Notification, Notifier, ObjectKind, Phase, Progress, ProvisioningLog, Status,
};
pub use mapping::{AttributeMapping, Mappings, ObjectMapping};
pub use state::{FileStore, MemoryStore, ProvisioningState, ProvisioningStore};

/// Why a provisioning job could not run (a single object's failure is not an error:
/// it is logged, escrowed and counted in the [`CycleReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisioningError {
    /// The job's configuration is wrong.
    #[error("provisioning configuration: {0}")]
    Config(String),
    /// A mapping does not fit the source (an unknown field, a bad expression).
    #[error("provisioning mapping: {0}")]
    Mapping(Box<mapping::MappingError>),
    /// The source failed.
    #[error("provisioning source: {0}")]
    Source(Box<connector_core::ConnectorError>),
    /// The SCIM service failed in a way that stops the job.
    #[error("provisioning target: {0}")]
    Target(Box<crate::ScimError>),
    /// The state store failed.
    #[error("provisioning state: {0}")]
    State(String),
    /// The provisioning log failed.
    #[error("provisioning log: {0}")]
    Log(String),
    /// On demand: no source object has this id.
    #[error("no source {object:?} has the id {source_id:?}")]
    NotFound {
        /// User or group.
        object: ObjectKind,
        /// The id asked for.
        source_id: String,
    },
    /// On demand: the group has more members than on-demand provisioning takes.
    #[error("group {group:?} has {members} members; on-demand provisioning takes at most {limit}")]
    TooManyMembers {
        /// The group's source id.
        group: String,
        /// Its members.
        members: usize,
        /// The limit.
        limit: usize,
    },
}
