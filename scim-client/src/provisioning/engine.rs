//! The provisioning job: cycles, actions, safety nets, on-demand provisioning.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use connector_core::state::StreamState;
use connector_core::{Partition, ReadRequest, Source, SourceEvent, StreamInfo, SyncMode};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ProvisioningError;
use super::log::{
    Action, LogEntry, LogError, ModifiedProperty, NoLog, NoNotifier, Notification, Notifier,
    ObjectKind, Phase, Progress, ProvisioningLog, Status,
};
use super::mapping::{Mappings, ObjectMapping};
use super::state::{
    Escrow, ObjectState, ObjectStatus, ProvisioningState, ProvisioningStore, Quarantine,
    QuarantineReason,
};
use crate::client::{ListQuery, ScimClient};
use crate::error::ScimError;
use crate::model::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA};
use crate::resource_path::{FieldPath, as_boolean, item_of, patch_ops, same, same_item};

/// Which source users are provisioned, before the scoping filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Assignment {
    /// Every user of the source ("sync all users and groups").
    #[default]
    All,
    /// Only members of a provisioned group ("sync only assigned users and groups",
    /// assignment through groups).
    GroupMembers,
    /// Only users whose field is true (`true`, `yes`, `1`): an assignment flag.
    Attribute(String),
}

/// Where groups come from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupSource {
    /// No groups.
    #[default]
    None,
    /// A stream of the source whose records are groups; its `members` mapping gives
    /// the members' source ids (a list, or text separated by `;` or `,`).
    Stream(String),
    /// One group per distinct value of a user field (a Zoho CRM role, a department):
    /// records `{ id, displayName, members }` with the value as id and name and the
    /// in-scope users holding it as members. Reads every user each cycle.
    UserAttribute(String),
}

/// Entra's escrow schedule: a failed object is retried after each delay in turn,
/// then every `then_every`, and given up `give_up_after` its first failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowPolicy {
    /// The first retries (6 h, 12 h, 24 h).
    pub retries: Vec<Duration>,
    /// Afterwards (24 h).
    pub then_every: Duration,
    /// When the escrow entry is dropped (28 days).
    pub give_up_after: Duration,
}

impl Default for EscrowPolicy {
    fn default() -> Self {
        const HOUR: u64 = 3_600;
        Self {
            retries: vec![
                Duration::from_secs(6 * HOUR),
                Duration::from_secs(12 * HOUR),
                Duration::from_secs(24 * HOUR),
            ],
            then_every: Duration::from_secs(24 * HOUR),
            give_up_after: Duration::from_secs(28 * 24 * HOUR),
        }
    }
}

impl EscrowPolicy {
    /// Retries at every cycle (tests, demos).
    pub fn immediate() -> Self {
        Self {
            retries: Vec::new(),
            then_every: Duration::ZERO,
            give_up_after: Duration::from_secs(28 * 24 * 3_600),
        }
    }

    fn delay(&self, attempts: u32) -> Duration {
        let i = attempts.saturating_sub(1) as usize;
        self.retries.get(i).copied().unwrap_or(self.then_every)
    }
}

/// When failures put the job in quarantine. Entra's defaults: evaluated from 5,000
/// failed objects on; quarantined when more than 40 % of the objects failed or more
/// than 40,000 did.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarantinePolicy {
    /// Failures before the rule is evaluated.
    pub min_failures: usize,
    /// The failed share that quarantines.
    pub max_failure_ratio: f64,
    /// The failed count that quarantines.
    pub max_failures: usize,
}

impl Default for QuarantinePolicy {
    fn default() -> Self {
        Self {
            min_failures: 5_000,
            max_failure_ratio: 0.4,
            max_failures: 40_000,
        }
    }
}

/// How a job runs. The defaults are Entra's.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProvisioningSettings {
    /// Between cycles (40 minutes).
    pub interval: Duration,
    /// Which users are assigned.
    pub assignment: Assignment,
    /// Disabled objects are deleted this long after they were disabled; `None`
    /// (the default) never deletes, as Entra does for unassigned users.
    pub delete_after: Option<Duration>,
    /// A cycle planning more disables and deletes than this stops before writing
    /// anything (500; `None` turns the check off).
    pub deletion_threshold: Option<usize>,
    /// Retries of failed objects.
    pub escrow: EscrowPolicy,
    /// Quarantine thresholds.
    pub quarantine: QuarantinePolicy,
    /// Objects written at once (8).
    pub concurrency: usize,
    /// Members per membership PATCH (50; the client caps it at its own limit).
    pub member_batch_size: usize,
    /// Sources with a cursor are read incrementally, and in full this often to see
    /// deletions (24 hours).
    pub full_cycle_every: Duration,
    /// Plans and logs without writing anything to the target or the state.
    pub dry_run: bool,
    /// The state is saved after this many objects (200), and at the end.
    pub save_every: usize,
    /// When a phase creates more objects than listing the target takes pages, the
    /// target is listed once and new objects are matched against that listing
    /// instead of one filter request each (true). Turn it off for a target whose
    /// listing is incomplete or costly.
    pub list_to_match: bool,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(40 * 60),
            assignment: Assignment::All,
            delete_after: None,
            deletion_threshold: Some(500),
            escrow: EscrowPolicy::default(),
            quarantine: QuarantinePolicy::default(),
            concurrency: 8,
            member_batch_size: 50,
            full_cycle_every: Duration::from_secs(24 * 3_600),
            dry_run: false,
            save_every: 200,
            list_to_match: true,
        }
    }
}

/// What kind of cycle ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleKind {
    /// The first: every source object.
    Initial,
    /// Only what changed since the last cycle (sources with a cursor).
    Incremental,
    /// Every source object, to see removals.
    Full,
}

/// How a cycle ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum CycleOutcome {
    /// Every planned action ran (some may have failed into escrow).
    Completed,
    /// More disables and deletes were planned than the threshold allows; nothing was
    /// written. Call [`ProvisioningJob::allow_deletes`] to let the next cycle pass.
    StoppedAtDeletionThreshold {
        /// Disables and deletes planned.
        planned: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The target refused the credentials; the job is in quarantine.
    Quarantined {
        /// The target's answer.
        detail: String,
    },
}

/// Counts of one object kind in a cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCounts {
    /// Created.
    pub created: usize,
    /// Updated (including linked to an existing match and re-enabled).
    pub updated: usize,
    /// Disabled.
    pub disabled: usize,
    /// Deleted.
    pub deleted: usize,
    /// Nothing to do.
    pub unchanged: usize,
    /// Out of scope, never provisioned.
    pub out_of_scope: usize,
    /// Waiting for an escrow retry.
    pub waiting: usize,
    /// Failed (now in escrow).
    pub failed: usize,
    /// Held back by the deletion threshold.
    pub staged: usize,
    /// Planned, in a dry run.
    pub planned: usize,
}

impl ActionCounts {
    fn count(&mut self, entry: &LogEntry) {
        match (entry.status, entry.action) {
            (Status::Failure, _) => self.failed += 1,
            (Status::Planned, _) => self.planned += 1,
            (_, Action::Create) => self.created += 1,
            (_, Action::Update) => self.updated += 1,
            (_, Action::Disable) => self.disabled += 1,
            (_, Action::Delete) => self.deleted += 1,
            (_, Action::StagedDelete) => self.staged += 1,
            (_, Action::None) => match entry.reason.as_deref() {
                Some(r) if r.starts_with(OUT_OF_SCOPE) => self.out_of_scope += 1,
                Some(r) if r.starts_with(ESCROWED) => self.waiting += 1,
                _ => self.unchanged += 1,
            },
        }
    }

    /// Writes sent (creates, updates, disables, deletes).
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.disabled + self.deleted
    }
}

const OUT_OF_SCOPE: &str = "out of scope";
const ESCROWED: &str = "escrowed";

/// What a cycle did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CycleReport {
    /// The cycle number.
    pub cycle: u64,
    /// Its kind.
    pub kind: CycleKind,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it finished.
    pub finished: DateTime<Utc>,
    /// Source records read (users and groups).
    pub read: usize,
    /// Users.
    pub users: ActionCounts,
    /// Groups.
    pub groups: ActionCounts,
    /// Objects in escrow after the cycle.
    pub escrowed: usize,
    /// How it ended.
    pub outcome: CycleOutcome,
}

/// One step of an on-demand provisioning, with what was sent and received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `test_connection`, `import`, `scope`, `match`, `action`.
    pub name: String,
    /// What happened, for a person.
    pub summary: String,
    /// Details: the source record, the filter evaluated, the request and the
    /// response.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}

/// The result of provisioning one user, or one group with its members, on demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnDemandReport {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The provisioning-log entries written (the members first, then the group).
    pub entries: Vec<LogEntry>,
}

/// The state file of a job built without [`ProvisioningJobBuilder::store`].
pub const DEFAULT_STATE_FILE: &str = "provisioning-state.json";

/// The most members an on-demand group may have (Entra's limit).
pub const ON_DEMAND_MAX_MEMBERS: usize = 5;

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Builds a [`ProvisioningJob`].
pub struct ProvisioningJobBuilder {
    source: Arc<dyn Source>,
    client: ScimClient,
    mappings: Mappings,
    users_stream: String,
    groups: GroupSource,
    settings: ProvisioningSettings,
    store: Option<Arc<dyn ProvisioningStore>>,
    log: Arc<dyn ProvisioningLog>,
    notifier: Arc<dyn Notifier>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for ProvisioningJobBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisioningJobBuilder")
            .field("users_stream", &self.users_stream)
            .field("groups", &self.groups)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ProvisioningJobBuilder {
    /// The source stream holding users (`users`).
    #[must_use]
    pub fn users_stream(mut self, name: impl Into<String>) -> Self {
        self.users_stream = name.into();
        self
    }

    /// Where groups come from (none by default).
    #[must_use]
    pub fn groups(mut self, groups: GroupSource) -> Self {
        self.groups = groups;
        self
    }

    /// The settings.
    #[must_use]
    pub fn settings(mut self, settings: ProvisioningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Changes some settings.
    #[must_use]
    pub fn configure(mut self, f: impl FnOnce(&mut ProvisioningSettings)) -> Self {
        f(&mut self.settings);
        self
    }

    /// Where the state is kept: by default a [`FileStore`](super::FileStore) at
    /// [`DEFAULT_STATE_FILE`] in the current directory.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn ProvisioningStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where the provisioning log goes (besides `tracing`).
    #[must_use]
    pub fn log(mut self, log: Arc<dyn ProvisioningLog>) -> Self {
        self.log = log;
        self
    }

    /// Who hears about failures, deletion-threshold stops and quarantine.
    #[must_use]
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Called as a cycle progresses.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The job. The mappings' targets are checked here; their source fields are
    /// checked against the source's schema before the first request of each cycle.
    pub fn build(self) -> Result<ProvisioningJob, ProvisioningError> {
        let store = self.store.unwrap_or_else(|| {
            Arc::new(super::state::FileStore::new(DEFAULT_STATE_FILE)) as Arc<dyn ProvisioningStore>
        });
        if matches!(self.groups, GroupSource::None)
            && self.settings.assignment == Assignment::GroupMembers
        {
            return Err(ProvisioningError::Config(
                "assignment through group membership needs a group source".into(),
            ));
        }
        if !matches!(self.groups, GroupSource::None) && self.mappings.groups.is_none() {
            return Err(ProvisioningError::Config(
                "a group source is set but the mappings have no `groups` section".into(),
            ));
        }
        let mut paths = HashMap::new();
        let objects = std::iter::once(&self.mappings.users).chain(self.mappings.groups.as_ref());
        for mapping in objects {
            for m in &mapping.attributes {
                let path = FieldPath::parse(&m.target).map_err(|e| {
                    ProvisioningError::Config(format!("mapping target `{}`: {e}", m.target))
                })?;
                paths.insert(m.target.clone(), path);
            }
        }
        Ok(ProvisioningJob {
            inner: Arc::new(Inner {
                source: self.source,
                client: self.client,
                mappings: self.mappings,
                users_stream: self.users_stream,
                groups: self.groups,
                settings: self.settings,
                store,
                log: self.log,
                notifier: self.notifier,
                progress: self.progress,
                paths,
                allow_deletes: AtomicBool::new(false),
                running: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

/// Keeps a SCIM service in sync with the users (and groups) of a source, the way
/// Microsoft Entra's provisioning service does. See the [module](super) docs.
#[derive(Clone)]
pub struct ProvisioningJob {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProvisioningJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisioningJob")
            .field("users_stream", &self.inner.users_stream)
            .field("groups", &self.inner.groups)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

struct Inner {
    source: Arc<dyn Source>,
    client: ScimClient,
    mappings: Mappings,
    users_stream: String,
    groups: GroupSource,
    settings: ProvisioningSettings,
    store: Arc<dyn ProvisioningStore>,
    log: Arc<dyn ProvisioningLog>,
    notifier: Arc<dyn Notifier>,
    progress: Option<ProgressFn>,
    paths: HashMap<String, FieldPath>,
    allow_deletes: AtomicBool,
    running: tokio::sync::Mutex<()>,
}

/// The source objects of one kind read in a cycle.
struct Imported {
    rows: Vec<Map<String, Value>>,
    /// Records the source could not read, as failed log entries.
    invalid: Vec<LogError>,
    watermark: Option<StreamState>,
}

/// A planned write.
#[derive(Clone, Debug)]
struct Plan {
    kind: ObjectKind,
    source_id: String,
    op: Op,
    prev: Option<ObjectState>,
    source: Map<String, Value>,
    reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Disable,
    Delete,
}

impl Op {
    fn action(self) -> Action {
        match self {
            Op::Create => Action::Create,
            Op::Update => Action::Update,
            Op::Disable => Action::Disable,
            Op::Delete => Action::Delete,
        }
    }

    fn removes(self) -> bool {
        matches!(self, Op::Disable | Op::Delete)
    }
}

/// The result of one planned write.
struct Done {
    /// The object's new state; `None` forgets it (deleted).
    state: Option<ObjectState>,
    entry: LogEntry,
    /// The target refused the credentials: stop the cycle.
    stop: Option<ScimError>,
}

/// What every write of a phase shares.
struct Ctx {
    /// Source user id to SCIM id, for group members.
    user_ids: HashMap<String, String>,
    /// The target's objects by matching attribute and value, when listing them was
    /// cheaper than one lookup per new object.
    index: Option<MatchIndex>,
}

/// Matching target, then the value folded to lower case, then the objects having it.
type MatchIndex = HashMap<String, HashMap<String, Vec<Value>>>;

/// Matching values compare ignoring case, as SCIM compares `userName`, e-mails and
/// group names (`caseExact: false`).
fn fold(value: &str) -> String {
    value.to_lowercase()
}

/// Requests and responses of an on-demand run.
type Trace = Option<Arc<std::sync::Mutex<Vec<Step>>>>;

fn trace(trace: &Trace, name: &str, summary: impl Into<String>, detail: Value) {
    if let Some(t) = trace
        && let Ok(mut steps) = t.lock()
    {
        steps.push(Step {
            name: name.to_owned(),
            summary: summary.into(),
            detail,
        });
    }
}

/// A failure of one object, or a reason to stop.
enum Problem {
    Object(LogError),
    Stop(ScimError),
}

impl From<ScimError> for Problem {
    fn from(e: ScimError) -> Self {
        if matches!(e.status(), Some(401 | 403)) {
            return Problem::Stop(e);
        }
        Problem::Object(error_of(&e))
    }
}

fn error_of(e: &ScimError) -> LogError {
    let code = e
        .scim_type()
        .map(|t| t.to_string())
        .or_else(|| e.status().map(|s| format!("HTTP_{s}")))
        .unwrap_or_else(|| "SCIM_ERROR".to_owned());
    LogError {
        code,
        message: e.detail().map_or_else(|| e.to_string(), str::to_owned),
    }
}

fn is_not_found(e: &ScimError) -> bool {
    e.status() == Some(404)
}

impl ProvisioningJob {
    /// A job provisioning the users (and groups) of `source` into `client`'s service
    /// with `mappings`.
    pub fn builder(
        source: Arc<dyn Source>,
        client: ScimClient,
        mappings: Mappings,
    ) -> ProvisioningJobBuilder {
        ProvisioningJobBuilder {
            source,
            client,
            mappings,
            users_stream: "users".to_owned(),
            groups: GroupSource::None,
            settings: ProvisioningSettings::default(),
            store: None,
            log: Arc::new(NoLog),
            notifier: Arc::new(NoNotifier),
            progress: None,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ProvisioningSettings {
        &self.inner.settings
    }

    /// Entra's Test Connection: a filter on a random `userName` must return an empty
    /// list.
    pub async fn test_connection(&self) -> Result<(), ProvisioningError> {
        self.inner
            .client
            .test_connection()
            .await
            .map_err(|e| ProvisioningError::Target(Box::new(e)))
    }

    /// The saved state (empty before the first cycle).
    pub async fn state(&self) -> Result<ProvisioningState, ProvisioningError> {
        Ok(self
            .inner
            .store
            .load()
            .await?
            .unwrap_or_else(ProvisioningState::new))
    }

    /// Lets the next cycle pass the accidental-deletion threshold (Entra's "allow
    /// deletes").
    pub fn allow_deletes(&self) {
        self.inner.allow_deletes.store(true, Ordering::SeqCst);
    }

    /// Entra's restart: clears escrows, quarantine and watermarks, so the next cycle
    /// reads everything again. Objects already provisioned stay linked.
    pub async fn restart(&self) -> Result<(), ProvisioningError> {
        let _running = self.inner.running.lock().await;
        let mut state = self.state().await?;
        for object in state.users.values_mut().chain(state.groups.values_mut()) {
            object.escrow = None;
        }
        let was_quarantined = state.quarantine.take().is_some();
        state.watermarks.clear();
        state.last_full_cycle = None;
        self.inner.store.save(&state).await?;
        if was_quarantined {
            self.inner
                .notifier
                .notify(&Notification::QuarantineLeft)
                .await;
        }
        Ok(())
    }

    /// Runs cycles until `shutdown` completes: one now, then one per interval. In
    /// quarantine the interval doubles each cycle, up to a day. A cycle in progress
    /// finishes before the loop ends; errors of a cycle are logged and the loop goes
    /// on.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut quarantined_cycles: u32 = 0;
        loop {
            match self.run_cycle().await {
                Ok(report) => {
                    tracing::info!(
                        target: "scim_client::provisioning",
                        cycle = report.cycle,
                        created = report.users.created + report.groups.created,
                        updated = report.users.updated + report.groups.updated,
                        disabled = report.users.disabled,
                        failed = report.users.failed + report.groups.failed,
                        "cycle finished"
                    );
                }
                Err(e) => {
                    tracing::error!(target: "scim_client::provisioning", error = %e, "cycle failed");
                }
            }
            let quarantined = self
                .state()
                .await
                .map(|s| s.quarantine.is_some())
                .unwrap_or(false);
            quarantined_cycles = if quarantined {
                quarantined_cycles.saturating_add(1)
            } else {
                0
            };
            let base = self.inner.settings.interval;
            let wait = if quarantined_cycles == 0 {
                base
            } else {
                base.saturating_mul(1 << quarantined_cycles.min(16))
                    .min(Duration::from_secs(24 * 3_600))
                    .max(base)
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Runs one cycle: reads the source (incrementally when it can), plans, checks
    /// the deletion threshold, writes, and saves the state.
    pub async fn run_cycle(&self) -> Result<CycleReport, ProvisioningError> {
        let _running = self.inner.running.lock().await;
        self.inner.cycle().await
    }

    /// Provisions one user now, by source id, and returns every step (Entra's
    /// "provision on demand"). The state is updated as a cycle would.
    pub async fn provision_user(
        &self,
        source_id: &str,
    ) -> Result<OnDemandReport, ProvisioningError> {
        let _running = self.inner.running.lock().await;
        self.inner.on_demand(ObjectKind::User, source_id).await
    }

    /// Provisions one group and its members (at most [`ON_DEMAND_MAX_MEMBERS`]) now.
    pub async fn provision_group(
        &self,
        source_id: &str,
    ) -> Result<OnDemandReport, ProvisioningError> {
        let _running = self.inner.running.lock().await;
        self.inner.on_demand(ObjectKind::Group, source_id).await
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Text of a JSON value as a source id or a member reference.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "yes" | "1" | "y"
        ),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn lookup<'a>(row: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    row.get(field).or_else(|| {
        row.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| v)
    })
}

/// Member references of a `members` value: a list, or text separated by `;` or `,`.
fn member_refs(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::Object(o) => o.get("value").and_then(text_of),
                other => text_of(other),
            })
            .collect(),
        Value::String(s) => s
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        other => text_of(other).into_iter().collect(),
    }
}

impl Inner {
    /// When an escrowed object is due, by the job's current escrow policy.
    fn retry_at(&self, escrow: &Escrow) -> DateTime<Utc> {
        escrow.last_failure + chrono_duration(self.settings.escrow.delay(escrow.attempts))
    }

    fn mapping(&self, kind: ObjectKind) -> Option<&ObjectMapping> {
        match kind {
            ObjectKind::User => Some(&self.mappings.users),
            ObjectKind::Group => self.mappings.groups.as_ref(),
        }
    }

    fn report_progress(&self, cycle: u64, phase: Phase, done: usize, total: usize) {
        if let Some(f) = &self.progress {
            f(&Progress {
                cycle,
                phase,
                done: done as u64,
                total: total as u64,
            });
        }
    }

    fn record(&self, entry: &LogEntry) -> Result<(), ProvisioningError> {
        let changed: Vec<&str> = entry.changed.iter().map(|c| c.name.as_str()).collect();
        match entry.status {
            Status::Failure => tracing::warn!(
                target: "scim_client::provisioning",
                cycle = entry.cycle,
                object = ?entry.object,
                source_id = %entry.source_id,
                target_id = entry.target_id.as_deref(),
                action = ?entry.action,
                code = entry.error.as_ref().map(|e| e.code.as_str()),
                error = entry.error.as_ref().map(|e| e.message.as_str()),
                "provisioning failed"
            ),
            _ => tracing::info!(
                target: "scim_client::provisioning",
                cycle = entry.cycle,
                object = ?entry.object,
                source_id = %entry.source_id,
                target_id = entry.target_id.as_deref(),
                action = ?entry.action,
                status = ?entry.status,
                changed = ?changed,
                reason = entry.reason.as_deref(),
                "provisioned"
            ),
        }
        self.log.record(entry)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "a log entry's fields, private, named at every call"
    )]
    fn entry(
        &self,
        cycle: u64,
        kind: ObjectKind,
        source_id: &str,
        target_id: Option<String>,
        action: Action,
        status: Status,
        reason: impl Into<String>,
    ) -> LogEntry {
        let reason: String = reason.into();
        LogEntry {
            cycle,
            timestamp: now(),
            object: kind,
            source_id: source_id.to_owned(),
            target_id,
            action,
            status,
            changed: Vec::new(),
            reason: (!reason.is_empty()).then_some(reason),
            error: None,
        }
    }

    // ---- reading ----------------------------------------------------------------

    async fn stream_info(&self, name: &str) -> Result<StreamInfo, ProvisioningError> {
        let catalog = self
            .source
            .discover()
            .await
            .map_err(|e| ProvisioningError::Source(Box::new(e)))?;
        catalog
            .streams
            .into_iter()
            .find(|s| s.id.name == name)
            .ok_or_else(|| ProvisioningError::Config(format!("the source has no stream `{name}`")))
    }

    async fn import(
        &self,
        info: &StreamInfo,
        incremental: Option<&StreamState>,
        cycle: u64,
    ) -> Result<Imported, ProvisioningError> {
        let mut req = ReadRequest::new(info.id.clone());
        if let Some(state) = incremental {
            req = req.incremental(Some(state.clone()));
        }
        let partitions = self
            .source
            .plan(&req)
            .await
            .map_err(|e| ProvisioningError::Source(Box::new(e)))?;
        let mut watermark = match (&req.mode, incremental) {
            (SyncMode::Incremental, Some(s)) => s.clone(),
            _ => StreamState::default(),
        };
        for p in &partitions {
            watermark.register(&p.id, p.window.clone());
        }
        let mut rows = Vec::new();
        let mut invalid = Vec::new();
        for partition in partitions {
            self.read_partition(partition, &mut rows, &mut invalid, &mut watermark, cycle)
                .await?;
        }
        Ok(Imported {
            rows,
            invalid,
            watermark: info.cursor.as_ref().map(|_| watermark),
        })
    }

    async fn read_partition(
        &self,
        partition: Partition,
        rows: &mut Vec<Map<String, Value>>,
        invalid: &mut Vec<LogError>,
        watermark: &mut StreamState,
        cycle: u64,
    ) -> Result<(), ProvisioningError> {
        let mut events = self.source.read(partition);
        while let Some(event) = events.next().await {
            match event.map_err(|e| ProvisioningError::Source(Box::new(e)))? {
                SourceEvent::Batch(batch) => {
                    for record in &batch.records {
                        let mut row = Map::with_capacity(batch.schema.len());
                        for (field, value) in batch.schema.fields.iter().zip(&record.values) {
                            row.insert(
                                field.name.clone(),
                                type_mapping::json::to_json(value, &field.data_type),
                            );
                        }
                        rows.push(row);
                    }
                    self.report_progress(cycle, Phase::Import, rows.len(), rows.len());
                }
                SourceEvent::Checkpoint(c) => watermark.apply(&c.partition, c.progress),
                SourceEvent::Invalid(bad) => {
                    let at = bad
                        .origin
                        .as_ref()
                        .map(|o| format!(" ({o:?})"))
                        .unwrap_or_default();
                    invalid.push(LogError {
                        code: bad.error.code.clone(),
                        message: format!("{}{at}", bad.error.message),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    // ---- evaluating ---------------------------------------------------------------

    /// The attributes a source object asserts, by SCIM path; booleans coerced.
    fn desired(
        &self,
        kind: ObjectKind,
        row: &Map<String, Value>,
        creating: bool,
    ) -> Result<BTreeMap<String, Value>, LogError> {
        let Some(mapping) = self.mapping(kind) else {
            return Err(LogError {
                code: "MAPPING".into(),
                message: "no mapping for this object type".into(),
            });
        };
        let pairs = mapping.evaluate(row, creating).map_err(|e| LogError {
            code: "MAPPING".into(),
            message: e.to_string(),
        })?;
        let mut out = BTreeMap::new();
        for (target, value) in pairs {
            let value = match self.paths.get(&target) {
                Some(path) if path.is_boolean() => as_boolean(value).map_err(|text| LogError {
                    code: "invalidValue".into(),
                    message: format!("`{target}` is a boolean; {text:?} is not"),
                })?,
                _ => value,
            };
            out.insert(target, value);
        }
        Ok(out)
    }

    fn in_scope(
        &self,
        kind: ObjectKind,
        row: &Map<String, Value>,
        assigned: bool,
    ) -> Result<bool, LogError> {
        let Some(mapping) = self.mapping(kind) else {
            return Ok(false);
        };
        if !assigned {
            return Ok(false);
        }
        mapping.in_scope(row).map_err(|e| LogError {
            code: "SCOPE".into(),
            message: e.to_string(),
        })
    }

    // ---- a cycle ----------------------------------------------------------------

    async fn cycle(&self) -> Result<CycleReport, ProvisioningError> {
        let started = now();
        let mut state = self
            .store
            .load()
            .await?
            .unwrap_or_else(ProvisioningState::new);
        let cycle = state.cycles_completed + 1;
        let dry_run = self.settings.dry_run;

        let users_info = self.stream_info(&self.users_stream).await?;
        self.mappings
            .users
            .validate(&users_info.schema)
            .map_err(|e| ProvisioningError::Mapping(Box::new(e)))?;
        let group_info = match &self.groups {
            GroupSource::Stream(name) => Some(self.stream_info(name).await?),
            _ => None,
        };
        if let (Some(info), Some(mapping)) = (&group_info, &self.mappings.groups) {
            mapping
                .validate(&info.schema)
                .map_err(|e| ProvisioningError::Mapping(Box::new(e)))?;
        }
        if let GroupSource::UserAttribute(attr) = &self.groups {
            self.check_derived_groups(attr, &users_info.schema)?;
        }

        // The mappings fit the source; now the target: bad credentials quarantine the
        // job.
        if let Err(e) = self.client.test_connection().await {
            if matches!(e.status(), Some(401 | 403)) {
                return self.quarantine_credentials(state, cycle, started, &e).await;
            }
            return Err(ProvisioningError::Target(Box::new(e)));
        }

        let full_due = state
            .last_full_cycle
            .is_none_or(|at| now() - at >= chrono_duration(self.settings.full_cycle_every));
        let derived_groups = matches!(self.groups, GroupSource::UserAttribute(_));
        let kind = if state.cycles_completed == 0 {
            CycleKind::Initial
        } else if users_info.cursor.is_some()
            && users_info.sync_modes.contains(&SyncMode::Incremental)
            && !full_due
            && !derived_groups
            && self.settings.assignment != Assignment::GroupMembers
        {
            CycleKind::Incremental
        } else {
            CycleKind::Full
        };
        let incremental = kind == CycleKind::Incremental;
        self.report_progress(cycle, Phase::Import, 0, 0);
        let users = self
            .import(
                &users_info,
                if incremental {
                    state.watermarks.get(&self.users_stream)
                } else {
                    None
                },
                cycle,
            )
            .await?;
        let mut groups_read = match &group_info {
            Some(info) => {
                let inc = if incremental {
                    state.watermarks.get(info.id.name.as_str())
                } else {
                    None
                };
                Some(self.import(info, inc, cycle).await?)
            }
            None => None,
        };

        let mut report = CycleReport {
            cycle,
            kind,
            dry_run,
            started,
            finished: started,
            read: users.rows.len() + groups_read.as_ref().map_or(0, |g| g.rows.len()),
            users: ActionCounts::default(),
            groups: ActionCounts::default(),
            escrowed: 0,
            outcome: CycleOutcome::Completed,
        };
        for bad in users
            .invalid
            .iter()
            .chain(groups_read.iter().flat_map(|g| &g.invalid))
        {
            let mut entry = self.entry(
                cycle,
                ObjectKind::User,
                "",
                None,
                Action::None,
                Status::Failure,
                "the source could not read the record",
            );
            entry.error = Some(bad.clone());
            report.users.count(&entry);
            self.record(&entry)?;
        }

        // Group rows (derived ones need the users' scope first).
        let users_full = !incremental;
        let group_rows: Option<Vec<Map<String, Value>>> = match &self.groups {
            GroupSource::None => None,
            GroupSource::Stream(_) => groups_read.as_mut().map(|g| std::mem::take(&mut g.rows)),
            GroupSource::UserAttribute(attr) => Some(self.derive_groups(attr, &users.rows)),
        };
        // Assignment through groups: members of any in-scope group.
        let assigned_by_groups: Option<HashSet<String>> = match (
            &self.settings.assignment,
            &group_rows,
            &self.mappings.groups,
        ) {
            (Assignment::GroupMembers, Some(rows), Some(gm)) => Some(
                rows.iter()
                    .filter(|r| gm.in_scope(r).unwrap_or(false))
                    .flat_map(|r| {
                        self.desired(ObjectKind::Group, r, false)
                            .ok()
                            .and_then(|d| d.get("members").map(member_refs))
                            .unwrap_or_default()
                    })
                    .collect(),
            ),
            _ => None,
        };

        // Plan the users.
        let now_ = now();
        let mut plans = Vec::new();
        let mut skipped = Vec::new();
        let mut seen = HashSet::new();
        for row in &users.rows {
            let Some(source_id) = self.mappings.users.source_id(row) else {
                let mut entry = self.entry(
                    cycle,
                    ObjectKind::User,
                    "",
                    None,
                    Action::None,
                    Status::Failure,
                    "",
                );
                entry.error = Some(LogError {
                    code: "MISSING_SOURCE_ID".into(),
                    message: format!(
                        "the record has no `{}`: {}",
                        self.mappings.users.source_id,
                        Value::Object(row.clone())
                    ),
                });
                skipped.push(entry);
                continue;
            };
            seen.insert(source_id.clone());
            let assigned = match (&self.settings.assignment, &assigned_by_groups) {
                (Assignment::All, _) => true,
                (Assignment::GroupMembers, Some(set)) => set.contains(&source_id),
                (Assignment::GroupMembers, None) => false,
                (Assignment::Attribute(field), _) => truthy(lookup(row, field)),
            };
            let prev = state.users.get(&source_id).cloned();
            match self.plan_object(
                cycle,
                ObjectKind::User,
                &source_id,
                row,
                prev,
                assigned,
                now_,
            ) {
                Ok(Some(plan)) => plans.push(plan),
                Ok(None) => {}
                Err(entry) => skipped.push(*entry),
            }
        }
        self.plan_unseen(
            ObjectKind::User,
            &state.users,
            &seen,
            users_full,
            now_,
            &mut plans,
        );

        // Plan the groups (their membership is resolved when they are written).
        let mut group_plans = Vec::new();
        if let Some(rows) = &group_rows {
            let mut seen_groups = HashSet::new();
            for row in rows {
                let Some(source_id) = self.mappings.groups.as_ref().and_then(|m| m.source_id(row))
                else {
                    let mut entry = self.entry(
                        cycle,
                        ObjectKind::Group,
                        "",
                        None,
                        Action::None,
                        Status::Failure,
                        "",
                    );
                    entry.error = Some(LogError {
                        code: "MISSING_SOURCE_ID".into(),
                        message: format!(
                            "the group record has no id: {}",
                            Value::Object(row.clone())
                        ),
                    });
                    skipped.push(entry);
                    continue;
                };
                seen_groups.insert(source_id.clone());
                let prev = state.groups.get(&source_id).cloned();
                match self.plan_object(cycle, ObjectKind::Group, &source_id, row, prev, true, now_)
                {
                    Ok(Some(plan)) => group_plans.push(plan),
                    Ok(None) => {
                        // Unchanged attributes: membership may still have changed.
                        group_plans.push(Plan {
                            kind: ObjectKind::Group,
                            source_id: source_id.clone(),
                            op: Op::Update,
                            prev: state.groups.get(&source_id).cloned(),
                            source: row.clone(),
                            reason: "membership check".into(),
                        });
                    }
                    Err(entry) => skipped.push(*entry),
                }
            }
            let groups_full = !incremental || derived_groups;
            self.plan_unseen(
                ObjectKind::Group,
                &state.groups,
                &seen_groups,
                groups_full,
                now_,
                &mut group_plans,
            );
        }

        // Accidental deletions.
        let removals = plans
            .iter()
            .chain(&group_plans)
            .filter(|p| p.op.removes())
            .count();
        if let Some(threshold) = self.settings.deletion_threshold
            && removals > threshold
            && !self.allow_deletes.load(Ordering::SeqCst)
        {
            for plan in plans.iter().chain(&group_plans).filter(|p| p.op.removes()) {
                let entry = self.entry(
                    cycle,
                    plan.kind,
                    &plan.source_id,
                    plan.prev.as_ref().and_then(|p| p.target_id.clone()),
                    Action::StagedDelete,
                    Status::Skipped,
                    format!("{}; held back: {removals} disables and deletes exceed the threshold of {threshold}", plan.reason),
                );
                match plan.kind {
                    ObjectKind::User => report.users.count(&entry),
                    ObjectKind::Group => report.groups.count(&entry),
                }
                self.record(&entry)?;
            }
            self.notifier
                .notify(&Notification::DeletionThresholdExceeded {
                    cycle,
                    planned: removals,
                    threshold,
                })
                .await;
            report.outcome = CycleOutcome::StoppedAtDeletionThreshold {
                planned: removals,
                threshold,
            };
            report.escrowed = state.escrowed();
            report.finished = now();
            self.log.flush()?;
            return Ok(report);
        }

        for entry in &skipped {
            match entry.object {
                ObjectKind::User => report.users.count(entry),
                ObjectKind::Group => report.groups.count(entry),
            }
            self.record(entry)?;
        }

        // Write users, then groups.
        let stop = self
            .execute(
                cycle,
                ObjectKind::User,
                plans,
                &mut state,
                &mut report,
                None,
                None,
            )
            .await?;
        let stop = match stop {
            Some(e) => Some(e),
            None => {
                self.execute(
                    cycle,
                    ObjectKind::Group,
                    group_plans,
                    &mut state,
                    &mut report,
                    None,
                    None,
                )
                .await?
            }
        };
        if let Some(e) = stop {
            return self.quarantine_credentials(state, cycle, started, &e).await;
        }

        if !dry_run {
            if let Some(w) = users.watermark {
                state.watermarks.insert(self.users_stream.clone(), w);
            }
            if let (
                Some(info),
                Some(Imported {
                    watermark: Some(w), ..
                }),
            ) = (&group_info, groups_read)
            {
                state.watermarks.insert(info.id.name.clone(), w);
            }
            state.cycles_completed = cycle;
            if kind != CycleKind::Incremental {
                state.last_full_cycle = Some(started);
            }
            self.evaluate_quarantine(&mut state, &report).await;
            self.store.save(&state).await?;
            self.allow_deletes.store(false, Ordering::SeqCst);
        }
        self.log.flush()?;
        report.escrowed = state.escrowed();
        report.finished = now();
        self.report_progress(cycle, Phase::Done, 1, 1);
        Ok(report)
    }

    /// Groups derived from a user field need that field, and a group mapping that
    /// reads only `id`, `displayName` and `members`.
    fn check_derived_groups(
        &self,
        attr: &str,
        users: &type_mapping::Schema,
    ) -> Result<(), ProvisioningError> {
        let known = users.fields.iter().any(|f| {
            f.name.eq_ignore_ascii_case(attr)
                || attr
                    .split_once('.')
                    .is_some_and(|(head, _)| f.name.eq_ignore_ascii_case(head))
        });
        if !known {
            return Err(ProvisioningError::Config(format!(
                "groups come from the user field `{attr}`, which the users stream does not have"
            )));
        }
        if let Some(mapping) = &self.mappings.groups {
            use type_mapping::{DataType, Field, Schema};
            let derived = Schema::new(vec![
                Field::new("id", DataType::String),
                Field::new("displayName", DataType::String),
                Field::new("members", DataType::Json),
            ]);
            mapping
                .validate(&derived)
                .map_err(|e| ProvisioningError::Mapping(Box::new(e)))?;
        }
        Ok(())
    }

    /// Groups derived from a user field: one per distinct value, with the in-scope
    /// users holding it as members.
    fn derive_groups(&self, attr: &str, users: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for row in users {
            let Some(value) = lookup(row, attr).and_then(text_of) else {
                continue;
            };
            let members = groups.entry(value).or_default();
            let Some(sid) = self.mappings.users.source_id(row) else {
                continue;
            };
            let assigned = match &self.settings.assignment {
                Assignment::Attribute(field) => truthy(lookup(row, field)),
                _ => true,
            };
            if self
                .in_scope(ObjectKind::User, row, assigned)
                .unwrap_or(false)
            {
                members.push(Value::String(sid));
            }
        }
        groups
            .into_iter()
            .map(|(name, members)| {
                let mut row = Map::new();
                row.insert("id".into(), Value::String(name.clone()));
                row.insert("displayName".into(), Value::String(name));
                row.insert("members".into(), Value::Array(members));
                row
            })
            .collect()
    }

    /// What to do with one source object; `Err` is a log entry for an object with no
    /// write (unchanged, out of scope, waiting, or failed to evaluate).
    #[allow(clippy::too_many_arguments, reason = "one call site, all distinct")]
    fn plan_object(
        &self,
        cycle: u64,
        kind: ObjectKind,
        source_id: &str,
        row: &Map<String, Value>,
        prev: Option<ObjectState>,
        assigned: bool,
        now_: DateTime<Utc>,
    ) -> Result<Option<Plan>, Box<LogEntry>> {
        let target_id = prev.as_ref().and_then(|p| p.target_id.clone());
        let fail = |error: LogError| {
            let mut entry = self.entry(
                cycle,
                kind,
                source_id,
                target_id.clone(),
                Action::None,
                Status::Failure,
                "",
            );
            entry.error = Some(error);
            Box::new(entry)
        };
        let in_scope = self.in_scope(kind, row, assigned).map_err(fail)?;
        let plan = |op: Op, reason: &str| {
            Ok(Some(Plan {
                kind,
                source_id: source_id.to_owned(),
                op,
                prev: prev.clone(),
                source: row.clone(),
                reason: reason.to_owned(),
            }))
        };
        let skip = |reason: String| {
            Err(Box::new(self.entry(
                cycle,
                kind,
                source_id,
                target_id.clone(),
                Action::None,
                Status::Skipped,
                reason,
            )))
        };
        if let Some(escrow) = prev.as_ref().and_then(|p| p.escrow.as_ref())
            && self.retry_at(escrow) > now_
        {
            return skip(format!(
                "{ESCROWED} until {} after {} failures: {}",
                self.retry_at(escrow),
                escrow.attempts,
                escrow.message
            ));
        }
        if !in_scope {
            return match &prev {
                Some(p) if p.target_id.is_some() && p.status == ObjectStatus::Active => {
                    match kind {
                        ObjectKind::User => plan(Op::Disable, "left scope"),
                        ObjectKind::Group => plan(Op::Delete, "left scope"),
                    }
                }
                Some(p) if p.target_id.is_some() => {
                    skip(format!("{OUT_OF_SCOPE}, already disabled"))
                }
                _ => skip(OUT_OF_SCOPE.to_owned()),
            };
        }
        let desired = self.desired(kind, row, false).map_err(fail)?;
        match &prev {
            None => plan(Op::Create, "new in scope"),
            Some(p) if p.target_id.is_none() => plan(Op::Create, "retry of a failed create"),
            Some(p) if p.status != ObjectStatus::Active => plan(Op::Update, "back in scope"),
            Some(p) if attributes_differ(&p.attributes, &desired, kind) => {
                plan(Op::Update, "changed in the source")
            }
            Some(p) if p.escrow.is_some() => plan(Op::Update, "escrow retry"),
            Some(_) => match kind {
                ObjectKind::User => skip("no change".to_owned()),
                ObjectKind::Group => Ok(None),
            },
        }
    }

    /// Objects known to the state but not read: removed from the source (only when
    /// every object was read), escrow retries that are due, and disabled objects
    /// past the grace period.
    fn plan_unseen(
        &self,
        kind: ObjectKind,
        known: &BTreeMap<String, ObjectState>,
        seen: &HashSet<String>,
        full: bool,
        now_: DateTime<Utc>,
        plans: &mut Vec<Plan>,
    ) {
        let grace = self.settings.delete_after.map(chrono_duration);
        for (sid, object) in known {
            if seen.contains(sid) {
                continue;
            }
            let make = |op: Op, reason: &str, source: Map<String, Value>| Plan {
                kind,
                source_id: sid.clone(),
                op,
                prev: Some(object.clone()),
                source,
                reason: reason.to_owned(),
            };
            match (&object.status, &object.target_id) {
                (ObjectStatus::Disabled { since, .. }, Some(_)) => {
                    if let Some(grace) = grace
                        && now_ - *since >= grace
                    {
                        plans.push(make(
                            Op::Delete,
                            "disabled longer than the grace period",
                            Map::new(),
                        ));
                    }
                }
                (ObjectStatus::Active, Some(_)) if full => {
                    let op = match kind {
                        ObjectKind::User => Op::Disable,
                        ObjectKind::Group => Op::Delete,
                    };
                    plans.push(make(op, "removed from the source", Map::new()));
                }
                (ObjectStatus::Active, _) => {
                    // An escrowed object the incremental read did not return.
                    if let Some(escrow) = &object.escrow
                        && self.retry_at(escrow) <= now_
                        && !escrow.source.is_empty()
                    {
                        let op = if object.target_id.is_some() {
                            Op::Update
                        } else {
                            Op::Create
                        };
                        plans.push(make(op, "escrow retry", escrow.source.clone()));
                    }
                }
                _ => {}
            }
        }
        // Disabled objects that were read this cycle but stayed out of scope.
        if let Some(grace) = grace {
            for (sid, object) in known {
                if !seen.contains(sid) {
                    continue;
                }
                if let (ObjectStatus::Disabled { since, .. }, Some(_)) =
                    (&object.status, &object.target_id)
                    && now_ - *since >= grace
                    && !plans.iter().any(|p| &p.source_id == sid && p.kind == kind)
                {
                    plans.push(Plan {
                        kind,
                        source_id: sid.clone(),
                        op: Op::Delete,
                        prev: Some(object.clone()),
                        source: Map::new(),
                        reason: "disabled longer than the grace period".into(),
                    });
                }
            }
        }
    }

    /// Runs `plans` with bounded concurrency, folding each result into the state and
    /// the log as it arrives. Returns the error that stops the cycle, if any.
    #[allow(
        clippy::too_many_arguments,
        reason = "private; the cycle and on-demand runs pass different traces and collectors"
    )]
    async fn execute(
        &self,
        cycle: u64,
        kind: ObjectKind,
        plans: Vec<Plan>,
        state: &mut ProvisioningState,
        report: &mut CycleReport,
        trace_to: Trace,
        mut collect: Option<&mut Vec<LogEntry>>,
    ) -> Result<Option<ScimError>, ProvisioningError> {
        let total = plans.len();
        let phase = match kind {
            ObjectKind::User => Phase::Users,
            ObjectKind::Group => Phase::Groups,
        };
        self.report_progress(cycle, phase, 0, total);
        // Group membership needs the users' SCIM ids.
        let user_ids = state
            .users
            .iter()
            .filter(|(_, o)| o.status == ObjectStatus::Active)
            .filter_map(|(sid, o)| Some((sid.clone(), o.target_id.clone()?)))
            .collect();
        let creates = plans
            .iter()
            .filter(|p| {
                p.op == Op::Create || p.prev.as_ref().is_some_and(|o| o.target_id.is_none())
            })
            .count();
        let index = if creates > 0 && trace_to.is_none() && self.settings.list_to_match {
            self.match_index(kind, creates).await
        } else {
            None
        };
        let ctx = Arc::new(Ctx { user_ids, index });
        let mut results = futures::stream::iter(plans)
            .map(|plan| {
                let ctx = ctx.clone();
                let trace_to = trace_to.clone();
                async move { self.write(cycle, plan, &ctx, &trace_to).await }
            })
            .buffer_unordered(self.settings.concurrency.max(1));
        let mut done = 0usize;
        let mut unsaved = 0usize;
        let mut stop = None;
        while let Some(result) = results.next().await {
            done += 1;
            let Done {
                state: object,
                entry,
                stop: halt,
            } = result;
            if let Some(e) = halt {
                stop.get_or_insert(e);
                continue;
            }
            if entry.status == Status::Failure
                && let Some(error) = &entry.error
            {
                self.notifier
                    .notify(&Notification::ObjectFailed {
                        cycle,
                        object: kind,
                        source_id: entry.source_id.clone(),
                        error: error.clone(),
                    })
                    .await;
            }
            match kind {
                ObjectKind::User => report.users.count(&entry),
                ObjectKind::Group => report.groups.count(&entry),
            }
            self.record(&entry)?;
            if let Some(c) = collect.as_deref_mut() {
                c.push(entry.clone());
            }
            if !self.settings.dry_run {
                let map = match kind {
                    ObjectKind::User => &mut state.users,
                    ObjectKind::Group => &mut state.groups,
                };
                match object {
                    Some(o) => {
                        map.insert(entry.source_id.clone(), o);
                    }
                    None => {
                        map.remove(&entry.source_id);
                    }
                }
                unsaved += 1;
                if unsaved >= self.settings.save_every.max(1) {
                    self.store.save(state).await?;
                    unsaved = 0;
                }
            }
            self.report_progress(cycle, phase, done, total);
        }
        if unsaved > 0 {
            self.store.save(state).await?;
        }
        Ok(stop)
    }

    /// Writes one object and says what became of it.
    async fn write(&self, cycle: u64, plan: Plan, ctx: &Ctx, trace_to: &Trace) -> Done {
        let result = match plan.op {
            Op::Create => self.create(&plan, ctx, trace_to).await,
            Op::Update => self.update(&plan, ctx, trace_to).await,
            Op::Disable => self.disable(&plan, trace_to).await,
            Op::Delete => self.delete(&plan, trace_to).await,
        };
        let target_id = plan.prev.as_ref().and_then(|p| p.target_id.clone());
        match result {
            Ok((state, mut entry)) => {
                entry.cycle = cycle;
                Done {
                    state,
                    entry,
                    stop: None,
                }
            }
            Err(Problem::Stop(e)) => Done {
                state: plan.prev.clone(),
                entry: self.entry(
                    cycle,
                    plan.kind,
                    &plan.source_id,
                    target_id,
                    plan.op.action(),
                    Status::Failure,
                    "",
                ),
                stop: Some(e),
            },
            Err(Problem::Object(error)) => {
                let now_ = now();
                let mut object = plan.prev.clone().unwrap_or_default();
                let (attempts, first_failure) = match &object.escrow {
                    Some(e) => (e.attempts + 1, e.first_failure),
                    None => (1, now_),
                };
                let expired =
                    now_ - first_failure >= chrono_duration(self.settings.escrow.give_up_after);
                let mut entry = self.entry(
                    cycle,
                    plan.kind,
                    &plan.source_id,
                    target_id,
                    plan.op.action(),
                    Status::Failure,
                    if expired {
                        "escrow given up after its last retry"
                    } else {
                        plan.reason.as_str()
                    },
                );
                entry.error = Some(error.clone());
                object.escrow = (!expired).then(|| Escrow {
                    attempts,
                    first_failure,
                    next_retry: now_ + chrono_duration(self.settings.escrow.delay(attempts)),
                    last_failure: now_,
                    code: error.code,
                    message: error.message,
                    source: plan.source.clone(),
                });
                Done {
                    state: Some(object),
                    entry,
                    stop: None,
                }
            }
        }
    }

    fn endpoint(&self, kind: ObjectKind) -> crate::client::Resources<Value> {
        match kind {
            ObjectKind::User => self.client.resources("Users"),
            ObjectKind::Group => self.client.resources("Groups"),
        }
    }

    /// The resource JSON for a create.
    fn resource(&self, kind: ObjectKind, attributes: &BTreeMap<String, Value>) -> Value {
        let mut schemas = vec![match kind {
            ObjectKind::User => USER_SCHEMA.to_owned(),
            ObjectKind::Group => GROUP_SCHEMA.to_owned(),
        }];
        let mut resource = Map::new();
        for (target, value) in attributes {
            let Some(path) = self.paths.get(target) else {
                continue;
            };
            if let Some(urn) = &path.urn
                && !schemas.iter().any(|s| s.eq_ignore_ascii_case(urn))
            {
                schemas.push(if urn.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
                    ENTERPRISE_USER_SCHEMA.to_owned()
                } else {
                    urn.clone()
                });
            }
            path.set(&mut resource, value.clone());
        }
        resource.insert("schemas".to_owned(), json!(schemas));
        Value::Object(resource)
    }

    /// Desired attributes without the group `members` (handled apart), and the
    /// members' SCIM ids.
    fn split_members(
        &self,
        kind: ObjectKind,
        mut attributes: BTreeMap<String, Value>,
        user_ids: &HashMap<String, String>,
    ) -> (BTreeMap<String, Value>, Option<BTreeSet<String>>) {
        if kind != ObjectKind::Group {
            return (attributes, None);
        }
        let members = attributes.remove("members").map(|v| {
            member_refs(&v)
                .into_iter()
                .filter_map(|sid| user_ids.get(&sid).cloned())
                .collect::<BTreeSet<_>>()
        });
        (attributes, Some(members.unwrap_or_default()))
    }

    /// Lists the target's objects once and indexes them by every matching attribute,
    /// when that takes fewer requests than one lookup per new object (an initial
    /// cycle). `None` when it would not pay, or when listing fails (each object is
    /// then looked up on its own).
    async fn match_index(&self, kind: ObjectKind, creates: usize) -> Option<MatchIndex> {
        const PAGE: u64 = 500;
        let mapping = self.mapping(kind)?;
        let total = self.endpoint(kind).count(None).await.ok()?;
        let pages = usize::try_from(total.div_ceil(PAGE)).unwrap_or(usize::MAX);
        if creates <= pages.saturating_add(1) {
            return None;
        }
        let mut query = ListQuery::new().page_size(PAGE);
        if kind == ObjectKind::Group {
            query = query.excluded_attributes(["members"]);
        }
        let all: Vec<Value> = match self.endpoint(kind).list(query).try_collect().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(target: "scim_client::provisioning", error = %e, "listing the target to match failed; matching one by one");
                return None;
            }
        };
        let mut index = MatchIndex::new();
        for m in mapping.matching() {
            let Some(path) = self.paths.get(&m.target) else {
                continue;
            };
            let by = index.entry(m.target.clone()).or_default();
            for resource in &all {
                if let Some(value) = path.get(resource).and_then(text_of) {
                    by.entry(fold(&value)).or_default().push(resource.clone());
                }
            }
        }
        tracing::debug!(target: "scim_client::provisioning", objects = all.len(), "matching against a listing of the target");
        Some(index)
    }

    /// Finds the target object matching `desired` on the matching attributes, in
    /// precedence order.
    async fn find_match(
        &self,
        kind: ObjectKind,
        desired: &BTreeMap<String, Value>,
        ctx: &Ctx,
        trace_to: &Trace,
    ) -> Result<Option<(Value, String)>, Problem> {
        let Some(mapping) = self.mapping(kind) else {
            return Ok(None);
        };
        let mut tried = false;
        for m in mapping.matching() {
            let Some(value) = desired.get(&m.target).and_then(text_of) else {
                continue;
            };
            tried = true;
            if let Some(index) = &ctx.index {
                match index.get(&m.target).and_then(|by| by.get(&fold(&value))) {
                    None => continue,
                    Some(found) if found.len() == 1 => {
                        return Ok(Some((found[0].clone(), m.target.clone())));
                    }
                    Some(found) => {
                        return Err(Problem::Object(LogError {
                            code: "AMBIGUOUS_MATCH".into(),
                            message: format!(
                                "{} target objects have {} {value:?}",
                                found.len(),
                                m.target
                            ),
                        }));
                    }
                }
            }
            let filter = format!("{} eq {}", m.target, json!(value));
            let mut query = ListQuery::new().filter(&filter).page_size(2);
            if kind == ObjectKind::Group {
                query = query.excluded_attributes(["members"]);
            }
            let page = self.endpoint(kind).page(&query, 1).await?;
            trace(
                trace_to,
                "match",
                format!("{} result(s) for {filter}", page.resources.len()),
                json!({ "request": { "method": "GET", "filter": filter }, "response": { "totalResults": page.total_results, "Resources": page.resources } }),
            );
            match page.resources.len() {
                0 => continue,
                1 => {
                    return Ok(page
                        .resources
                        .into_iter()
                        .next()
                        .map(|r| (r, m.target.clone())));
                }
                n => {
                    return Err(Problem::Object(LogError {
                        code: "AMBIGUOUS_MATCH".into(),
                        message: format!("{n} target objects have {} {value:?}", m.target),
                    }));
                }
            }
        }
        if !tried {
            return Err(Problem::Object(LogError {
                code: "MISSING_MATCH_ATTRIBUTE".into(),
                message: "the object has no value for any matching attribute".into(),
            }));
        }
        Ok(None)
    }

    async fn create(
        &self,
        plan: &Plan,
        ctx: &Ctx,
        trace_to: &Trace,
    ) -> Result<(Option<ObjectState>, LogEntry), Problem> {
        let kind = plan.kind;
        let on_create = self
            .desired(kind, &plan.source, true)
            .map_err(Problem::Object)?;
        let always = self
            .desired(kind, &plan.source, false)
            .map_err(Problem::Object)?;
        let (on_create, members) = self.split_members(kind, on_create, &ctx.user_ids);
        let (always, _) = self.split_members(kind, always, &ctx.user_ids);
        if let Some((existing, matched_on)) =
            self.find_match(kind, &on_create, ctx, trace_to).await?
        {
            let id = existing
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            // Linked: write what differs from what the target has.
            let mut changed = Vec::new();
            let mut pending = Vec::new();
            for (target, want) in &on_create {
                let Some(path) = self.paths.get(target) else {
                    continue;
                };
                let have = path.get(&existing);
                if !same(want, have) {
                    changed.push(ModifiedProperty {
                        name: target.clone(),
                        old: have.cloned(),
                        new: Some(want.clone()),
                    });
                    pending.push((path, Some(want)));
                }
            }
            let mut ops = patch_ops(&pending, |p| item_of(p).get(&existing).is_some());
            if kind == ObjectKind::User
                && !on_create.contains_key("active")
                && existing.get("active").is_some_and(|a| !truthy(Some(a)))
            {
                changed.push(ModifiedProperty {
                    name: "active".into(),
                    old: existing.get("active").cloned(),
                    new: Some(json!(true)),
                });
                ops.push(json!({ "op": "replace", "path": "active", "value": true }));
            }
            let mut member_state = None;
            if let Some(want) = members {
                let full = if existing.get("members").is_some() {
                    existing.clone()
                } else {
                    self.endpoint(kind).get(&id).await?
                };
                let have: BTreeSet<String> = full
                    .get("members")
                    .map(member_refs)
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                self.sync_members(&id, &have, &want, &mut changed, trace_to)
                    .await?;
                member_state = Some(want);
            }
            if !ops.is_empty() && !self.settings.dry_run {
                self.patch(kind, &id, ops, trace_to).await?;
            }
            let action = if changed.is_empty() {
                Action::None
            } else {
                Action::Update
            };
            let mut entry = self.entry(
                0,
                kind,
                &plan.source_id,
                Some(id.clone()),
                action,
                self.status_for(Status::Success),
                format!("linked to the existing object matched on {matched_on}"),
            );
            entry.changed = changed;
            let state = ObjectState {
                target_id: Some(id),
                attributes: always,
                members: member_state,
                status: ObjectStatus::Active,
                escrow: None,
            };
            return Ok((Some(state), entry));
        }
        let resource = self.resource(kind, &on_create);
        let changed = on_create
            .iter()
            .map(|(k, v)| ModifiedProperty {
                name: k.clone(),
                old: None,
                new: Some(v.clone()),
            })
            .collect();
        let id = if self.settings.dry_run {
            None
        } else {
            let created = self.endpoint(kind).create(&resource).await?;
            trace(
                trace_to,
                "action",
                "created",
                json!({ "request": { "method": "POST", "body": resource }, "response": created }),
            );
            created.get("id").and_then(Value::as_str).map(str::to_owned)
        };
        let mut changed_list: Vec<ModifiedProperty> = changed;
        let mut member_state = None;
        if let (Some(want), Some(id)) = (members, &id) {
            self.sync_members(id, &BTreeSet::new(), &want, &mut changed_list, trace_to)
                .await?;
            member_state = Some(want);
        }
        let mut entry = self.entry(
            0,
            kind,
            &plan.source_id,
            id.clone(),
            Action::Create,
            self.status_for(Status::Success),
            plan.reason.clone(),
        );
        entry.changed = changed_list;
        let state = ObjectState {
            target_id: id,
            attributes: always,
            members: member_state,
            status: ObjectStatus::Active,
            escrow: None,
        };
        Ok((Some(state), entry))
    }

    fn status_for(&self, status: Status) -> Status {
        if self.settings.dry_run {
            Status::Planned
        } else {
            status
        }
    }

    async fn patch(
        &self,
        kind: ObjectKind,
        id: &str,
        ops: Vec<Value>,
        trace_to: &Trace,
    ) -> Result<(), ScimError> {
        let body = json!({ "schemas": [PATCH_OP_SCHEMA], "Operations": ops });
        let response = self.endpoint(kind).patch_raw(id, body.clone()).await?;
        // A target without PATCH was written with GET and PUT (see `updates_with_put`).
        let method = self.write_method();
        trace(
            trace_to,
            "action",
            format!(
                "{method} {} operation(s)",
                body["Operations"].as_array().map_or(0, Vec::len)
            ),
            json!({ "request": { "method": method, "id": id, "body": body }, "response": response }),
        );
        Ok(())
    }

    /// How updates reached the target: `PATCH`, or `PUT` for a target without PATCH.
    fn write_method(&self) -> &'static str {
        if self.client.updates_with_put() {
            "PUT"
        } else {
            "PATCH"
        }
    }

    /// Adds and removes members in batches.
    async fn sync_members(
        &self,
        group_id: &str,
        have: &BTreeSet<String>,
        want: &BTreeSet<String>,
        changed: &mut Vec<ModifiedProperty>,
        trace_to: &Trace,
    ) -> Result<(), ScimError> {
        let add: Vec<&str> = want.difference(have).map(String::as_str).collect();
        let remove: Vec<&str> = have.difference(want).map(String::as_str).collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        changed.push(ModifiedProperty {
            name: "members".into(),
            old: (!remove.is_empty()).then(|| json!(remove)),
            new: (!add.is_empty()).then(|| json!(add)),
        });
        if self.settings.dry_run {
            return Ok(());
        }
        let groups = self.client.groups();
        let batch = self.settings.member_batch_size.max(1);
        for chunk in add.chunks(batch) {
            groups.add_members(group_id, chunk).await?;
            trace(
                trace_to,
                "action",
                format!("added {} member(s)", chunk.len()),
                json!({ "request": { "method": self.write_method(), "id": group_id, "add": chunk } }),
            );
        }
        for chunk in remove.chunks(batch) {
            groups.remove_members(group_id, chunk).await?;
            trace(
                trace_to,
                "action",
                format!("removed {} member(s)", chunk.len()),
                json!({ "request": { "method": self.write_method(), "id": group_id, "remove": chunk } }),
            );
        }
        Ok(())
    }

    async fn update(
        &self,
        plan: &Plan,
        ctx: &Ctx,
        trace_to: &Trace,
    ) -> Result<(Option<ObjectState>, LogEntry), Problem> {
        let kind = plan.kind;
        let Some(prev) = plan.prev.clone() else {
            return self.create(plan, ctx, trace_to).await;
        };
        let Some(id) = prev.target_id.clone() else {
            return self.create(plan, ctx, trace_to).await;
        };
        let desired = self
            .desired(kind, &plan.source, false)
            .map_err(Problem::Object)?;
        let (desired, members) = self.split_members(kind, desired, &ctx.user_ids);
        let mut changed = Vec::new();
        let mut pending = Vec::new();
        let reenable = prev.status != ObjectStatus::Active;
        for (target, want) in &desired {
            let old = prev.attributes.get(target);
            let unchanged = old.is_some_and(|o| same(want, Some(o)));
            if unchanged && !(reenable && target == "active") {
                continue;
            }
            let Some(path) = self.paths.get(target) else {
                continue;
            };
            changed.push(ModifiedProperty {
                name: target.clone(),
                old: old.cloned(),
                new: Some(want.clone()),
            });
            pending.push((path, Some(want)));
        }
        for (target, old) in &prev.attributes {
            if desired.contains_key(target) {
                continue;
            }
            let Some(path) = self.paths.get(target) else {
                continue;
            };
            changed.push(ModifiedProperty {
                name: target.clone(),
                old: Some(old.clone()),
                new: None,
            });
            pending.push((path, None));
        }
        let had_item = |p: &FieldPath| {
            prev.attributes
                .keys()
                .filter_map(|k| self.paths.get(k))
                .any(|q| same_item(p, q))
        };
        let mut ops = patch_ops(&pending, had_item);
        if kind == ObjectKind::User && reenable && !desired.contains_key("active") {
            changed.push(ModifiedProperty {
                name: "active".into(),
                old: Some(json!(false)),
                new: Some(json!(true)),
            });
            ops.push(json!({ "op": "replace", "path": "active", "value": true }));
        }
        if !ops.is_empty()
            && !self.settings.dry_run
            && let Err(e) = self.patch(kind, &id, ops, trace_to).await
        {
            if is_not_found(&e) {
                // Deleted in the target behind our back: provision it again.
                let mut again = plan.clone();
                again.prev = None;
                return self.create(&again, ctx, trace_to).await;
            }
            return Err(e.into());
        }
        let mut member_state = prev.members.clone();
        if let Some(want) = members {
            let have = prev.members.clone().unwrap_or_default();
            if let Err(e) = self
                .sync_members(&id, &have, &want, &mut changed, trace_to)
                .await
            {
                if is_not_found(&e) {
                    let mut again = plan.clone();
                    again.prev = None;
                    return self.create(&again, ctx, trace_to).await;
                }
                return Err(e.into());
            }
            member_state = Some(want);
        }
        let action = if changed.is_empty() {
            Action::None
        } else {
            Action::Update
        };
        let status = if changed.is_empty() {
            Status::Skipped
        } else {
            self.status_for(Status::Success)
        };
        let reason = if changed.is_empty() {
            "no change".to_owned()
        } else {
            plan.reason.clone()
        };
        let mut entry = self.entry(
            0,
            kind,
            &plan.source_id,
            Some(id.clone()),
            action,
            status,
            reason,
        );
        entry.changed = changed;
        let state = ObjectState {
            target_id: Some(id),
            attributes: desired,
            members: member_state,
            status: ObjectStatus::Active,
            escrow: None,
        };
        Ok((Some(state), entry))
    }

    async fn disable(
        &self,
        plan: &Plan,
        trace_to: &Trace,
    ) -> Result<(Option<ObjectState>, LogEntry), Problem> {
        let Some(prev) = plan.prev.clone() else {
            return Err(Problem::Object(LogError {
                code: "NOT_PROVISIONED".into(),
                message: "nothing to disable".into(),
            }));
        };
        let id = prev.target_id.clone().unwrap_or_default();
        let mut status = self.status_for(Status::Success);
        let mut reason = plan.reason.clone();
        if !self.settings.dry_run {
            match self.client.users().deactivate(&id).await {
                Ok(_) => trace(
                    trace_to,
                    "action",
                    "disabled",
                    json!({ "request": { "method": self.write_method(), "id": id, "active": false } }),
                ),
                Err(e) if is_not_found(&e) => {
                    status = Status::Warning;
                    reason = format!("{reason}; the target object was already gone");
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut entry = self.entry(
            0,
            plan.kind,
            &plan.source_id,
            Some(id),
            Action::Disable,
            status,
            reason.clone(),
        );
        entry.changed = vec![ModifiedProperty {
            name: "active".into(),
            old: Some(json!(true)),
            new: Some(json!(false)),
        }];
        let state = ObjectState {
            status: ObjectStatus::Disabled {
                since: now(),
                reason,
            },
            escrow: None,
            ..prev
        };
        Ok((Some(state), entry))
    }

    async fn delete(
        &self,
        plan: &Plan,
        trace_to: &Trace,
    ) -> Result<(Option<ObjectState>, LogEntry), Problem> {
        let id = plan
            .prev
            .as_ref()
            .and_then(|p| p.target_id.clone())
            .unwrap_or_default();
        let mut status = self.status_for(Status::Success);
        let mut reason = plan.reason.clone();
        if !self.settings.dry_run {
            match self.endpoint(plan.kind).delete(&id).await {
                Ok(()) => trace(
                    trace_to,
                    "action",
                    "deleted",
                    json!({ "request": { "method": "DELETE", "id": id } }),
                ),
                Err(e) if is_not_found(&e) => {
                    status = Status::Warning;
                    reason = format!("{reason}; the target object was already gone");
                }
                Err(e) => return Err(e.into()),
            }
        }
        let entry = self.entry(
            0,
            plan.kind,
            &plan.source_id,
            Some(id),
            Action::Delete,
            status,
            reason,
        );
        Ok((None, entry))
    }

    // ---- quarantine -------------------------------------------------------------

    async fn quarantine_credentials(
        &self,
        mut state: ProvisioningState,
        cycle: u64,
        started: DateTime<Utc>,
        e: &ScimError,
    ) -> Result<CycleReport, ProvisioningError> {
        let detail = e.to_string();
        if state.quarantine.is_none() {
            state.quarantine = Some(Quarantine {
                since: now(),
                reason: QuarantineReason::Credentials,
                detail: detail.clone(),
            });
            self.notifier
                .notify(&Notification::QuarantineEntered {
                    reason: QuarantineReason::Credentials,
                    detail: detail.clone(),
                })
                .await;
        }
        if !self.settings.dry_run {
            self.store.save(&state).await?;
        }
        self.log.flush()?;
        Ok(CycleReport {
            cycle,
            kind: if state.cycles_completed == 0 {
                CycleKind::Initial
            } else {
                CycleKind::Full
            },
            dry_run: self.settings.dry_run,
            started,
            finished: now(),
            read: 0,
            users: ActionCounts::default(),
            groups: ActionCounts::default(),
            escrowed: state.escrowed(),
            outcome: CycleOutcome::Quarantined { detail },
        })
    }

    /// Enters or leaves quarantine by the escrow thresholds.
    async fn evaluate_quarantine(&self, state: &mut ProvisioningState, report: &CycleReport) {
        let policy = &self.settings.quarantine;
        let failed = state.escrowed();
        let total = (state.users.len() + state.groups.len())
            .max(report.read)
            .max(1);
        let ratio = failed as f64 / total as f64;
        let over = failed >= policy.min_failures
            && (ratio > policy.max_failure_ratio || failed > policy.max_failures);
        match (&state.quarantine, over) {
            (None, true) => {
                let detail = format!(
                    "{failed} of {total} objects failed ({:.0} %)",
                    ratio * 100.0
                );
                state.quarantine = Some(Quarantine {
                    since: now(),
                    reason: QuarantineReason::EscrowThreshold,
                    detail: detail.clone(),
                });
                self.notifier
                    .notify(&Notification::QuarantineEntered {
                        reason: QuarantineReason::EscrowThreshold,
                        detail,
                    })
                    .await;
            }
            (Some(_), false) => {
                state.quarantine = None;
                self.notifier.notify(&Notification::QuarantineLeft).await;
            }
            _ => {}
        }
    }

    // ---- on demand --------------------------------------------------------------

    async fn on_demand(
        &self,
        kind: ObjectKind,
        source_id: &str,
    ) -> Result<OnDemandReport, ProvisioningError> {
        let steps: Arc<std::sync::Mutex<Vec<Step>>> = Arc::default();
        let trace_to: Trace = Some(steps.clone());
        let mut state = self
            .store
            .load()
            .await?
            .unwrap_or_else(ProvisioningState::new);
        let cycle = state.cycles_completed + 1;
        match self.client.test_connection().await {
            Ok(()) => trace(
                &trace_to,
                "test_connection",
                "the target answered a filter on a random userName with an empty list",
                Value::Null,
            ),
            Err(e) => return Err(ProvisioningError::Target(Box::new(e))),
        }
        let users_info = self.stream_info(&self.users_stream).await?;
        self.mappings
            .users
            .validate(&users_info.schema)
            .map_err(|e| ProvisioningError::Mapping(Box::new(e)))?;
        let users = self.import(&users_info, None, cycle).await?;
        let find_user = |sid: &str| {
            users
                .rows
                .iter()
                .find(|r| self.mappings.users.source_id(r).as_deref() == Some(sid))
                .cloned()
        };
        let mut user_plans = Vec::new();
        let mut group_plans = Vec::new();
        let mut report = CycleReport {
            cycle,
            kind: CycleKind::Full,
            dry_run: self.settings.dry_run,
            started: now(),
            finished: now(),
            read: 0,
            users: ActionCounts::default(),
            groups: ActionCounts::default(),
            escrowed: 0,
            outcome: CycleOutcome::Completed,
        };
        let mut entries = Vec::new();
        let plan_user = |sid: &str,
                         row: &Map<String, Value>,
                         plans: &mut Vec<Plan>,
                         entries: &mut Vec<LogEntry>|
         -> Result<(), ProvisioningError> {
            trace(
                &trace_to,
                "import",
                format!("read user {sid} from the source"),
                Value::Object(row.clone()),
            );
            let assigned = match &self.settings.assignment {
                Assignment::Attribute(field) => truthy(lookup(row, field)),
                _ => true,
            };
            let in_scope = self
                .in_scope(ObjectKind::User, row, assigned)
                .unwrap_or(false);
            trace(
                &trace_to,
                "scope",
                if in_scope { "in scope" } else { "out of scope" },
                json!({ "assigned": assigned, "scope": self.mappings.users.scope }),
            );
            let mut prev = state.users.get(sid).cloned();
            if let Some(p) = &mut prev {
                p.escrow = None; // on demand ignores the escrow schedule
            }
            match self.plan_object(cycle, ObjectKind::User, sid, row, prev, assigned, now()) {
                Ok(Some(plan)) => plans.push(plan),
                Ok(None) => {}
                Err(entry) => {
                    trace(
                        &trace_to,
                        "action",
                        entry.reason.clone().unwrap_or_default(),
                        Value::Null,
                    );
                    self.record(&entry)?;
                    entries.push(*entry);
                }
            }
            Ok(())
        };
        match kind {
            ObjectKind::User => {
                let row = find_user(source_id).ok_or_else(|| ProvisioningError::NotFound {
                    object: kind,
                    source_id: source_id.to_owned(),
                })?;
                plan_user(source_id, &row, &mut user_plans, &mut entries)?;
            }
            ObjectKind::Group => {
                let rows = match &self.groups {
                    GroupSource::None => {
                        return Err(ProvisioningError::Config(
                            "the job has no group source".into(),
                        ));
                    }
                    GroupSource::Stream(name) => {
                        let info = self.stream_info(name).await?;
                        self.import(&info, None, cycle).await?.rows
                    }
                    GroupSource::UserAttribute(attr) => self.derive_groups(attr, &users.rows),
                };
                let mapping = self
                    .mappings
                    .groups
                    .as_ref()
                    .ok_or_else(|| ProvisioningError::Config("no group mapping".into()))?;
                let row = rows
                    .into_iter()
                    .find(|r| mapping.source_id(r).as_deref() == Some(source_id))
                    .ok_or_else(|| ProvisioningError::NotFound {
                        object: kind,
                        source_id: source_id.to_owned(),
                    })?;
                trace(
                    &trace_to,
                    "import",
                    format!("read group {source_id} from the source"),
                    Value::Object(row.clone()),
                );
                let members = self
                    .desired(ObjectKind::Group, &row, false)
                    .ok()
                    .and_then(|d| d.get("members").map(member_refs))
                    .unwrap_or_default();
                if members.len() > ON_DEMAND_MAX_MEMBERS {
                    return Err(ProvisioningError::TooManyMembers {
                        group: source_id.to_owned(),
                        members: members.len(),
                        limit: ON_DEMAND_MAX_MEMBERS,
                    });
                }
                for sid in &members {
                    if let Some(user) = find_user(sid) {
                        plan_user(sid, &user, &mut user_plans, &mut entries)?;
                    }
                }
                let mut prev = state.groups.get(source_id).cloned();
                if let Some(p) = &mut prev {
                    p.escrow = None;
                }
                let op = if prev.as_ref().is_some_and(|p| p.target_id.is_some()) {
                    Op::Update
                } else {
                    Op::Create
                };
                group_plans.push(Plan {
                    kind,
                    source_id: source_id.to_owned(),
                    op,
                    prev,
                    source: row,
                    reason: "on demand".into(),
                });
            }
        }
        let stop = self
            .execute(
                cycle,
                ObjectKind::User,
                user_plans,
                &mut state,
                &mut report,
                trace_to.clone(),
                Some(&mut entries),
            )
            .await?;
        if let Some(e) = stop {
            return Err(ProvisioningError::Target(Box::new(e)));
        }
        let stop = self
            .execute(
                cycle,
                ObjectKind::Group,
                group_plans,
                &mut state,
                &mut report,
                trace_to.clone(),
                Some(&mut entries),
            )
            .await?;
        if let Some(e) = stop {
            return Err(ProvisioningError::Target(Box::new(e)));
        }
        self.log.flush()?;
        let steps = steps.lock().map(|s| s.clone()).unwrap_or_default();
        Ok(OnDemandReport { steps, entries })
    }
}

/// Whether what a source object asserts differs from what was last written.
fn attributes_differ(
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
    kind: ObjectKind,
) -> bool {
    let relevant = |k: &&String| kind != ObjectKind::Group || k.as_str() != "members";
    let a: Vec<_> = old.iter().filter(|(k, _)| relevant(k)).collect();
    let b: Vec<_> = new.iter().filter(|(k, _)| relevant(k)).collect();
    a.len() != b.len()
        || a.iter()
            .zip(&b)
            .any(|((ka, va), (kb, vb))| ka != kb || !same(vb, Some(va)))
}
