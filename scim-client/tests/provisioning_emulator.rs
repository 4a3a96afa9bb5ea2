//! The provisioning engine against the SCIM emulator: cycles, scope, groups, crash
//! and resume, the deletion threshold, escrow and quarantine, dry runs, on demand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use std::sync::Arc;
use std::time::Duration;

use connector_core::memory::MemorySource;
use connector_core::retry::{Backoff, RetryPolicy};
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{Record, StreamInfo};
use scim_client::ScimClient;
use scim_client::emulator::{Emulator, EmulatorConfig, Endpoint, RunningEmulator, Stats};
use scim_client::provisioning::{
    Action, CycleKind, CycleOutcome, EscrowPolicy, GroupSource, JsonlLog, LogEntry, Mappings,
    MemoryLog, MemoryNotifier, MemoryStore, Notification, ProvisioningError, ProvisioningJob,
    ProvisioningStore, QuarantinePolicy, Status,
};

const MAPPING: &str = r#"
[users]
source_id = "id"

[[users.attributes]]
target = "userName"
source = "email"
matching = 1
required = true

[[users.attributes]]
target = "displayName"
expression = 'Join(" ", [first], [last])'

[[users.attributes]]
target = "title"
source = "title"

[[users.attributes]]
target = "emails[type eq \"work\"].value"
source = "email"

[[users.attributes]]
target = "active"
expression = 'Switch([status], "False", "active", "True")'

[[users.attributes]]
target = "externalId"
source = "id"

[users.scope]
attribute = "status"
operator = "NOT EQUALS"
value = "contractor"

[groups]
source_id = "id"

[[groups.attributes]]
target = "displayName"
source = "displayName"
matching = 1
required = true

[[groups.attributes]]
target = "members"
source = "members"
"#;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::String).with_nullable(false),
        Field::new("email", DataType::String),
        Field::new("first", DataType::String),
        Field::new("last", DataType::String),
        Field::new("title", DataType::String),
        Field::new("department", DataType::String),
        Field::new("status", DataType::String),
    ])
}

#[derive(Clone)]
struct Person {
    id: usize,
    title: String,
    department: String,
    status: &'static str,
}

fn people(n: usize) -> Vec<Person> {
    (0..n)
        .map(|id| Person {
            id,
            title: "Engineer".into(),
            department: ["Sales", "Support", "R&D"][id % 3].into(),
            status: "active",
        })
        .collect()
}

fn user_records(people: &[Person]) -> Vec<Record> {
    people
        .iter()
        .map(|p| {
            Record::new(vec![
                Value::String(format!("{}", p.id)),
                Value::String(format!("user{}@example.com", p.id)),
                Value::String(format!("First{}", p.id)),
                Value::String(format!("Last{}", p.id)),
                Value::String(p.title.clone()),
                Value::String(p.department.clone()),
                Value::String(p.status.into()),
            ])
        })
        .collect()
}

fn source(people: &[Person]) -> Arc<MemorySource> {
    Arc::new(
        MemorySource::new().with_stream(StreamInfo::new("users", schema()), user_records(people)),
    )
}

fn client(emulator: &RunningEmulator) -> ScimClient {
    emulator
        .client_builder()
        .retry(
            RetryPolicy::default()
                .with_max_attempts(1)
                .with_backoff(Backoff::new(
                    Duration::from_millis(1),
                    Duration::from_millis(2),
                    2.0,
                )),
        )
        .build()
        .unwrap()
}

fn writes(stats: &Stats) -> u64 {
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .map(|m| stats.by_method(m))
        .sum()
}

struct Setup {
    emulator: RunningEmulator,
    store: Arc<MemoryStore>,
    log: Arc<MemoryLog>,
    notes: Arc<MemoryNotifier>,
}

impl Setup {
    async fn new() -> Self {
        Self {
            emulator: Emulator::start(EmulatorConfig::default()).await.unwrap(),
            store: Arc::new(MemoryStore::new()),
            log: Arc::new(MemoryLog::new()),
            notes: Arc::new(MemoryNotifier::new()),
        }
    }

    fn job(&self, people: &[Person]) -> scim_client::provisioning::ProvisioningJobBuilder {
        ProvisioningJob::builder(
            source(people),
            client(&self.emulator),
            Mappings::from_toml_str(MAPPING).unwrap(),
        )
        .store(self.store.clone())
        .log(self.log.clone())
        .notifier(self.notes.clone())
    }

    fn user(&self, id: usize) -> serde_json::Value {
        self.emulator
            .user_by_user_name(&format!("user{id}@example.com"))
            .unwrap_or_else(|| panic!("user{id} is not in the target"))
    }
}

#[tokio::test]
async fn cycles_create_then_patch_only_what_changed_and_disable_on_leaving_scope() {
    let s = Setup::new().await;
    let mut folks = people(20);
    folks[3].status = "contractor"; // out of scope from the start
    let job = s.job(&folks).build().unwrap();

    let first = job.run_cycle().await.unwrap();
    // The target is listed once to match against, not looked up 19 times.
    let stats = s.emulator.stats();
    assert_eq!(stats.count("POST", Endpoint::Users), 19, "{stats:?}");
    assert!(stats.count("GET", Endpoint::Users) <= 4, "{stats:?}");
    assert_eq!(first.kind, CycleKind::Initial);
    assert_eq!(first.outcome, CycleOutcome::Completed);
    assert_eq!(first.users.created, 19);
    assert_eq!(first.users.out_of_scope, 1);
    assert_eq!(s.emulator.users().len(), 19);
    let u0 = s.user(0);
    assert_eq!(u0["displayName"], "First0 Last0");
    assert_eq!(u0["emails"][0]["value"], "user0@example.com");
    assert_eq!(u0["emails"][0]["type"], "work");
    assert_eq!(u0["active"], true);
    assert_eq!(u0["externalId"], "0");
    assert!(s.emulator.user_by_user_name("user3@example.com").is_none());

    // Nothing changed: no write at all, and no read per user either.
    s.emulator.reset_stats();
    let second = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(second.users.unchanged, 19);
    let stats = s.emulator.stats();
    assert_eq!(writes(&stats), 0, "{stats:?}");
    assert_eq!(
        stats.count("GET", Endpoint::Users),
        1,
        "only the connection test reads users: {stats:?}"
    );

    // One title changes: exactly one PATCH, of exactly that attribute.
    folks[5].title = "Staff Engineer".into();
    s.emulator.reset_stats();
    let third = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    let stats = s.emulator.stats();
    assert_eq!(third.users.updated, 1);
    assert_eq!(stats.count("PATCH", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(writes(&stats), 1, "{stats:?}");
    assert_eq!(s.user(5)["title"], "Staff Engineer");
    let entry: Vec<LogEntry> = s
        .log
        .cycle(third.cycle)
        .into_iter()
        .filter(|e| e.action == Action::Update)
        .collect();
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0].source_id, "5");
    assert_eq!(entry[0].changed.len(), 1);
    assert_eq!(entry[0].changed[0].name, "title");
    assert_eq!(entry[0].changed[0].old, Some("Engineer".into()));

    // A user leaves scope: disabled, not deleted.
    folks[7].status = "contractor";
    let fourth = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(fourth.users.disabled, 1);
    assert_eq!(s.user(7)["active"], false);
    // And comes back: enabled again.
    folks[7].status = "active";
    let fifth = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(fifth.users.updated, 1);
    assert_eq!(s.user(7)["active"], true);
    // A newcomer is looked up on its own (one GET) and created.
    folks.push(Person {
        id: 20,
        title: "Intern".into(),
        department: "Sales".into(),
        status: "active",
    });
    s.emulator.reset_stats();
    let newcomer = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(newcomer.users.created, 1);
    let stats = s.emulator.stats();
    assert_eq!(stats.count("POST", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(writes(&stats), 1, "{stats:?}");
    // A user removed from the source is disabled too.
    folks.remove(9);
    let sixth = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(sixth.users.disabled, 1);
    assert_eq!(s.user(9)["active"], false);
}

#[tokio::test]
async fn an_existing_target_user_is_matched_and_linked_not_created_twice() {
    let s = Setup::new().await;
    let folks = people(3);
    client(&s.emulator)
        .resources("Users")
        .create(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "user1@example.com",
            "title": "Old title"
        }))
        .await
        .unwrap();
    let report = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(report.users.created, 2, "{:?}", s.log.entries());
    assert_eq!(report.users.updated, 1, "{:?}", s.log.entries());
    assert_eq!(s.emulator.users().len(), 3);
    assert_eq!(s.user(1)["title"], "Engineer");
    let linked = s
        .log
        .entries()
        .into_iter()
        .find(|e| e.source_id == "1")
        .unwrap();
    assert!(
        linked
            .reason
            .as_deref()
            .unwrap()
            .contains("matched on userName"),
        "{linked:?}"
    );
}

#[tokio::test]
async fn groups_from_a_user_attribute_and_membership_moves() {
    let s = Setup::new().await;
    let mut folks = people(9);
    let job = s
        .job(&folks)
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap();
    let first = job.run_cycle().await.unwrap();
    assert_eq!(first.groups.created, 3);
    let sales = s.emulator.group_by_display_name("Sales").unwrap();
    assert_eq!(sales["members"].as_array().unwrap().len(), 3);

    // Quiet cycle: no write for groups either.
    s.emulator.reset_stats();
    let quiet = s
        .job(&folks)
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(writes(&s.emulator.stats()), 0);
    assert_eq!(quiet.groups.unchanged, 3);

    // User 0 moves from Sales to Support: one removal, one addition.
    folks[0].department = "Support".into();
    s.emulator.reset_stats();
    let moved = s
        .job(&folks)
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(moved.groups.updated, 2);
    assert_eq!(s.emulator.stats().count("PATCH", Endpoint::Groups), 2);
    let support = s.emulator.group_by_display_name("Support").unwrap();
    assert_eq!(support["members"].as_array().unwrap().len(), 4);
    let sales = s.emulator.group_by_display_name("Sales").unwrap();
    assert_eq!(
        sales["members"].as_array().map_or(0, Vec::len),
        2,
        "{sales}"
    );
}

#[tokio::test]
async fn a_cycle_killed_midway_resumes_without_duplicates() {
    let s = Setup::new().await;
    let folks = people(60);
    s.emulator
        .faults()
        .set_latency(Some(Duration::from_millis(15)));
    let job = s
        .job(&folks)
        .configure(|c| {
            c.concurrency = 2;
            c.save_every = 5;
        })
        .build()
        .unwrap();
    let running = tokio::spawn(async move { job.run_cycle().await });
    // Kill it once some users exist.
    for _ in 0..400 {
        if s.emulator.users().len() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
    let _ = running.await;
    let created_before = s.emulator.users().len();
    assert!(
        (12..60).contains(&created_before),
        "killed midway: {created_before}"
    );
    let saved = s.store.load().await.unwrap().unwrap();
    assert_eq!(saved.cycles_completed, 0);

    s.emulator.faults().set_latency(None);
    let resumed = s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    assert_eq!(resumed.users.failed, 0);
    assert_eq!(s.emulator.users().len(), 60, "no duplicate, none missing");
    assert_eq!(
        resumed.users.created + resumed.users.updated + resumed.users.unchanged,
        60
    );
    assert!(
        resumed.users.created <= 60 - created_before + 2,
        "users written before the kill are not created again: {resumed:?}"
    );
}

#[tokio::test]
async fn the_deletion_threshold_stops_a_cycle_before_any_write() {
    let s = Setup::new().await;
    let mut folks = people(10);
    s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    folks.truncate(6); // four users gone
    folks[0].title = "Changed".into();
    s.emulator.reset_stats();
    let job = s
        .job(&folks)
        .configure(|c| c.deletion_threshold = Some(3))
        .build()
        .unwrap();
    let stopped = job.run_cycle().await.unwrap();
    assert_eq!(
        stopped.outcome,
        CycleOutcome::StoppedAtDeletionThreshold {
            planned: 4,
            threshold: 3
        }
    );
    assert_eq!(stopped.users.staged, 4);
    assert_eq!(writes(&s.emulator.stats()), 0);
    assert!(
        s.notes
            .notifications()
            .contains(&Notification::DeletionThresholdExceeded {
                cycle: 2,
                planned: 4,
                threshold: 3
            })
    );
    // Allowed once: the next cycle goes through.
    job.allow_deletes();
    let allowed = job.run_cycle().await.unwrap();
    assert_eq!(allowed.outcome, CycleOutcome::Completed);
    assert_eq!(allowed.users.disabled, 4);
    assert_eq!(allowed.users.updated, 1);
}

#[tokio::test]
async fn failures_go_to_escrow_and_quarantine_past_the_threshold() {
    let s = Setup::new().await;
    let folks = people(10);
    // The connection test passes; then every request fails for a while.
    let job = s
        .job(&folks)
        .configure(|c| {
            c.concurrency = 1;
            c.quarantine = QuarantinePolicy {
                min_failures: 3,
                max_failure_ratio: 0.2,
                max_failures: 1_000,
            };
        })
        .build()
        .unwrap();
    // A connection test that fails is an error of the cycle, not a quarantine.
    s.emulator.faults().fail_next(5, 503);
    let refused = job.run_cycle().await;
    assert!(
        matches!(refused, Err(ProvisioningError::Target(_))),
        "{refused:?}"
    );
    s.emulator.faults().clear();
    // Six writes fail: with one object at a time, six creates fail and four
    // succeed.
    s.emulator.faults().fail_next_writes(6, 500);
    let report = job.run_cycle().await.unwrap();
    assert_eq!(report.users.failed, 6, "{report:?}");
    assert_eq!(report.users.created, 4, "{report:?}");
    assert!(report.users.failed > 0, "{report:?}");
    assert_eq!(report.escrowed, report.users.failed);
    assert!(
        s.notes
            .notifications()
            .iter()
            .any(|n| matches!(n, Notification::ObjectFailed { .. }))
    );
    let state = job.state().await.unwrap();
    let escrowed: Vec<_> = state
        .users
        .values()
        .filter(|u| u.escrow.is_some())
        .collect();
    assert_eq!(escrowed.len(), report.users.failed);
    assert!(
        state.quarantine.is_some(),
        "{} failures of 10 quarantine",
        report.users.failed
    );
    assert!(
        s.notes
            .notifications()
            .iter()
            .any(|n| matches!(n, Notification::QuarantineEntered { .. }))
    );

    // Default escrow: not retried before 6 hours.
    let waiting = job.run_cycle().await.unwrap();
    assert_eq!(waiting.users.waiting, report.users.failed);
    assert_eq!(waiting.users.created, 0);

    // A job whose escrow retries at once: they all succeed, and quarantine ends.
    let retry = s
        .job(&folks)
        .configure(|c| c.escrow = EscrowPolicy::immediate())
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(retry.users.created, report.users.failed);
    assert_eq!(retry.escrowed, 0);
    assert_eq!(s.emulator.users().len(), 10);
    assert!(
        s.notes
            .notifications()
            .contains(&Notification::QuarantineLeft)
    );
}

#[tokio::test]
async fn refused_credentials_quarantine_the_job() {
    let s = Setup::new().await;
    let bad = ScimClient::builder(s.emulator.base_url())
        .bearer_token("wrong")
        .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap();
    let job = ProvisioningJob::builder(
        source(&people(2)),
        bad,
        Mappings::from_toml_str(MAPPING).unwrap(),
    )
    .store(s.store.clone())
    .notifier(s.notes.clone())
    .build()
    .unwrap();
    let report = job.run_cycle().await.unwrap();
    assert!(
        matches!(report.outcome, CycleOutcome::Quarantined { .. }),
        "{report:?}"
    );
    assert!(s.store.get().unwrap().quarantine.is_some());
    assert!(matches!(
        s.notes.notifications().as_slice(),
        [Notification::QuarantineEntered { .. }]
    ));
    assert!(s.emulator.users().is_empty());
}

#[tokio::test]
async fn a_dry_run_plans_and_writes_nothing() {
    let s = Setup::new().await;
    let job = s
        .job(&people(5))
        .configure(|c| c.dry_run = true)
        .build()
        .unwrap();
    let report = job.run_cycle().await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.users.planned, 5);
    assert_eq!(writes(&s.emulator.stats()), 0);
    assert!(s.emulator.users().is_empty());
    assert_eq!(s.store.save_count(), 0);
    assert!(s.log.entries().iter().all(|e| e.status == Status::Planned));
}

#[tokio::test]
async fn an_unknown_source_field_is_refused_before_any_write() {
    let s = Setup::new().await;
    let mapping = MAPPING.replace("source = \"title\"", "source = \"job_title\"");
    let job = ProvisioningJob::builder(
        source(&people(3)),
        client(&s.emulator),
        Mappings::from_toml_str(&mapping).unwrap(),
    )
    .store(s.store.clone())
    .build()
    .unwrap();
    let err = job.run_cycle().await.unwrap_err().to_string();
    assert!(err.contains("job_title"), "{err}");
    assert_eq!(s.emulator.stats().total(), 0, "not a single request");
}

#[tokio::test]
async fn on_demand_provisioning_traces_every_step() {
    let s = Setup::new().await;
    let folks = people(12);
    let job = s
        .job(&folks)
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap();
    let report = job.provision_user("4").await.unwrap();
    let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["test_connection", "import", "scope", "match", "action"]
    );
    assert_eq!(report.steps[4].detail["request"]["method"], "POST");
    assert_eq!(report.entries.len(), 1);
    assert_eq!(report.entries[0].action, Action::Create);
    assert_eq!(s.emulator.users().len(), 1);
    // The state knows it: the next cycle does not create it again.
    let cycle = job.run_cycle().await.unwrap();
    assert_eq!(cycle.users.created, 11);
    // A group of four members works; the missing id is a typed error.
    let err = job.provision_user("nope").await.unwrap_err();
    assert!(matches!(err, ProvisioningError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn on_demand_groups_take_at_most_five_members() {
    let s = Setup::new().await;
    let job = s
        .job(&people(18)) // six per department
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap();
    let err = job.provision_group("Sales").await.unwrap_err();
    assert!(
        matches!(
            err,
            ProvisioningError::TooManyMembers {
                members: 6,
                limit: 5,
                ..
            }
        ),
        "{err}"
    );
    let job = s
        .job(&people(12)) // four per department
        .groups(GroupSource::UserAttribute("department".into()))
        .build()
        .unwrap();
    let report = job.provision_group("Sales").await.unwrap();
    assert_eq!(report.entries.len(), 5, "four members and the group");
    let sales = s.emulator.group_by_display_name("Sales").unwrap();
    assert_eq!(sales["members"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn disabled_users_are_deleted_after_the_grace_period() {
    let s = Setup::new().await;
    let mut folks = people(4);
    s.job(&folks).build().unwrap().run_cycle().await.unwrap();
    folks[2].status = "contractor";
    let job = s
        .job(&folks)
        .configure(|c| c.delete_after = Some(Duration::ZERO))
        .build()
        .unwrap();
    assert_eq!(job.run_cycle().await.unwrap().users.disabled, 1);
    assert_eq!(job.run_cycle().await.unwrap().users.deleted, 1);
    assert!(s.emulator.user_by_user_name("user2@example.com").is_none());
    assert!(!job.state().await.unwrap().users.contains_key("2"));
}

#[tokio::test]
async fn the_log_is_written_as_json_lines() {
    let s = Setup::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("provisioning.jsonl");
    let job = ProvisioningJob::builder(
        source(&people(3)),
        client(&s.emulator),
        Mappings::from_toml_str(MAPPING).unwrap(),
    )
    .store(s.store.clone())
    .log(Arc::new(JsonlLog::append(&path).unwrap()))
    .build()
    .unwrap();
    job.run_cycle().await.unwrap();
    let lines: Vec<LogEntry> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|e| e.action == Action::Create && e.target_id.is_some())
    );
}

/// A source with a cursor (`modified`): cycles after the first read only what changed.
fn incremental_source(people: &[(usize, &str, i64)]) -> Arc<MemorySource> {
    let schema = Schema::new(vec![
        Field::new("id", DataType::String),
        Field::new("email", DataType::String),
        Field::new("first", DataType::String),
        Field::new("last", DataType::String),
        Field::new("title", DataType::String),
        Field::new("status", DataType::String),
        Field::new("modified", DataType::Int64),
    ]);
    let records = people
        .iter()
        .map(|(id, title, modified)| {
            Record::new(vec![
                Value::String(id.to_string()),
                Value::String(format!("user{id}@example.com")),
                Value::String(format!("First{id}")),
                Value::String(format!("Last{id}")),
                Value::String((*title).into()),
                Value::String("active".into()),
                Value::Int64(*modified),
            ])
        })
        .collect();
    Arc::new(MemorySource::new().with_stream(
        StreamInfo::new("users", schema).with_cursor("modified"),
        records,
    ))
}

#[tokio::test]
async fn a_source_with_a_cursor_is_read_incrementally_after_the_first_cycle() {
    let s = Setup::new().await;
    let mut people: Vec<(usize, &str, i64)> = (0..10).map(|i| (i, "Engineer", i as i64)).collect();
    let job = |people: &[(usize, &str, i64)]| {
        ProvisioningJob::builder(
            incremental_source(people),
            client(&s.emulator),
            Mappings::from_toml_str(MAPPING).unwrap(),
        )
        .store(s.store.clone())
        .build()
        .unwrap()
    };
    let first = job(&people).run_cycle().await.unwrap();
    assert_eq!(
        (first.kind, first.read, first.users.created),
        (CycleKind::Initial, 10, 10)
    );
    people[3] = (3, "Architect", 42);
    let second = job(&people).run_cycle().await.unwrap();
    assert_eq!(second.kind, CycleKind::Incremental);
    assert_eq!(second.read, 1, "only the changed record is read");
    assert_eq!(second.users.updated, 1);
    assert_eq!(s.user(3)["title"], "Architect");
    let third = job(&people).run_cycle().await.unwrap();
    assert_eq!((third.read, third.users.writes()), (0, 0));
}

#[tokio::test]
async fn run_keeps_cycling_until_shut_down() {
    let s = Setup::new().await;
    let job = s
        .job(&people(3))
        .configure(|c| c.interval = Duration::from_millis(20))
        .build()
        .unwrap();
    job.run(tokio::time::sleep(Duration::from_millis(400)))
        .await;
    let state = job.state().await.unwrap();
    assert!(state.cycles_completed >= 2, "{}", state.cycles_completed);
    assert_eq!(s.emulator.users().len(), 3);
}

#[tokio::test]
async fn groups_from_an_unknown_user_field_are_refused_before_any_write() {
    let s = Setup::new().await;
    let err = s
        .job(&people(3))
        .groups(GroupSource::UserAttribute("team".into()))
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProvisioningError::Config(ref m) if m.contains("`team`")),
        "{err}"
    );
    assert_eq!(s.emulator.stats().total(), 0, "not a single request");
}

#[tokio::test]
async fn groups_from_a_source_stream_with_members_by_source_id() {
    let s = Setup::new().await;
    let folks = people(6);
    let groups_schema = Schema::new(vec![
        Field::new("id", DataType::String),
        Field::new("displayName", DataType::String),
        Field::new("members", DataType::String),
    ]);
    let group = |id: &str, name: &str, members: &str| {
        Record::new(vec![
            Value::String(id.into()),
            Value::String(name.into()),
            Value::String(members.into()),
        ])
    };
    let with_groups = |rows: Vec<Record>| {
        // The users stream of `source`, plus a groups stream.
        Arc::new(
            MemorySource::new()
                .with_stream(StreamInfo::new("users", schema()), user_records(&folks))
                .with_stream(StreamInfo::new("groups", groups_schema.clone()), rows),
        )
    };
    let job = |rows: Vec<Record>| {
        ProvisioningJob::builder(
            with_groups(rows),
            client(&s.emulator),
            Mappings::from_toml_str(MAPPING).unwrap(),
        )
        .groups(GroupSource::Stream("groups".into()))
        .store(s.store.clone())
        .build()
        .unwrap()
    };
    let first = job(vec![
        group("g1", "Admins", "0;1"),
        group("g2", "Everyone", "0;1;2;3;4;5"),
    ])
    .run_cycle()
    .await
    .unwrap();
    assert_eq!((first.users.created, first.groups.created), (6, 2));
    let admins = s.emulator.group_by_display_name("Admins").unwrap();
    let ids: Vec<&str> = admins["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = ["0", "1"]
        .iter()
        .map(|i| {
            s.user(i.parse().unwrap())["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        expected.iter().all(|e| ids.contains(&e.as_str())),
        "{ids:?}"
    );

    // Admins loses user 1 and gains user 2; Everyone leaves the source: deleted.
    s.emulator.reset_stats();
    let second = job(vec![group("g1", "Admins", "0;2")])
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(second.groups.updated, 1, "{second:?}");
    assert_eq!(second.groups.deleted, 1, "{second:?}");
    assert_eq!(s.emulator.stats().count("PATCH", Endpoint::Groups), 2);
    assert!(s.emulator.group_by_display_name("Everyone").is_none());
    let admins = s.emulator.group_by_display_name("Admins").unwrap();
    assert_eq!(admins["members"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_target_without_patch_is_kept_in_sync_through_put() {
    let s = Setup {
        emulator: Emulator::start(EmulatorConfig::default().patch(false))
            .await
            .unwrap(),
        ..Setup::new().await
    };
    let mut folks = people(6);
    let job = |folks: &[Person]| {
        s.job(folks)
            .groups(GroupSource::UserAttribute("department".into()))
            .build()
            .unwrap()
    };
    let first = job(&folks).run_cycle().await.unwrap();
    assert_eq!((first.users.created, first.groups.created), (6, 3));

    // A new title and a move from Sales to Support for user 0; user 1 leaves scope.
    folks[0].title = "Staff Engineer".into();
    folks[0].department = "Support".into();
    folks[1].status = "contractor";
    s.emulator.reset_stats();
    let second = job(&folks).run_cycle().await.unwrap();
    assert_eq!(
        (
            second.users.updated,
            second.users.disabled,
            second.users.failed
        ),
        (1, 1, 0)
    );
    assert_eq!(second.groups.failed, 0);
    let stats = s.emulator.stats();
    // Writes run concurrently: each of the two user updates in flight before the first
    // 501 came back may try PATCH once; every PATCH was answered 501.
    assert!(stats.by_method("PATCH") <= 2, "{stats:?}");
    assert_eq!(stats.by_method("PATCH"), stats.status(501), "{stats:?}");
    assert!(stats.count("PUT", Endpoint::Users) >= 2, "{stats:?}");
    assert!(stats.count("PUT", Endpoint::Groups) >= 2, "{stats:?}");
    let u0 = s.user(0);
    assert_eq!(u0["title"], "Staff Engineer");
    assert_eq!(s.user(1)["active"], false);
    let member_of = |group: &str| {
        s.emulator.group_by_display_name(group).unwrap()["members"]
            .as_array()
            .map(|m| m.iter().any(|m| m["value"] == u0["id"]))
            .unwrap_or(false)
    };
    assert!(member_of("Support") && !member_of("Sales"));

    // And a quiet cycle after it writes nothing.
    s.emulator.reset_stats();
    job(&folks).run_cycle().await.unwrap();
    assert_eq!(writes(&s.emulator.stats()), 0);
}
