//! The provisioning engine against the SCIM emulator: an initial cycle of 10,000
//! users, then an incremental cycle with 1 % of them changed. Wall time and requests
//! sent, beside a baseline measured in the same run: the same changed file written
//! with the `ScimSink` (which, like a copy activity, looks every user up in the
//! target before deciding).
//!
//! ```sh
//! cargo bench -p scim-client --features emulator --bench provisioning
//! PROVISIONING_BENCH_USERS=50000 cargo bench -p scim-client --features emulator --bench provisioning
//! ```
//!
//! The emulator runs in this process on a runtime of its own (one worker thread), so
//! its request counts can be read.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::memory::MemorySource;
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{CopyOptions, Record, StreamInfo, WriteMode, copy};
use scim_client::emulator::{Emulator, EmulatorConfig, RunningEmulator, Stats};
use scim_client::provisioning::{Mappings, MemoryStore, ProvisioningJob};
use scim_client::{ScimClient, ScimSink};

type Res<T> = Result<T, Box<dyn Error>>;

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
target = "name.givenName"
source = "first"
[[users.attributes]]
target = "name.familyName"
source = "last"
[[users.attributes]]
target = "title"
source = "title"
[[users.attributes]]
target = 'emails[type eq "work"].value'
source = "email"
[[users.attributes]]
target = "active"
expression = 'Switch([status], "False", "active", "True")'
[[users.attributes]]
target = "externalId"
source = "id"
"#;

struct Person {
    id: usize,
    title: String,
}

fn source(people: &[Person]) -> Arc<MemorySource> {
    let schema = Schema::new(
        ["id", "email", "first", "last", "title", "status"]
            .into_iter()
            .map(|n| Field::new(n, DataType::String))
            .collect(),
    );
    let records = people
        .iter()
        .map(|p| {
            Record::new(vec![
                Value::String(p.id.to_string()),
                Value::String(format!("user{}@example.com", p.id)),
                Value::String(format!("First{}", p.id)),
                Value::String(format!("Last{}", p.id)),
                Value::String(p.title.clone()),
                Value::String("active".into()),
            ])
        })
        .collect();
    Arc::new(MemorySource::new().with_stream(StreamInfo::new("users", schema), records))
}

/// The same people as records named by SCIM paths, for the `ScimSink` baseline.
fn sink_source(people: &[Person]) -> MemorySource {
    let names = [
        "userName",
        "displayName",
        "name.givenName",
        "name.familyName",
        "title",
        "emails[type eq \"work\"].value",
        "active",
        "externalId",
    ];
    let schema = Schema::new(
        names
            .into_iter()
            .map(|n| Field::new(n, DataType::String))
            .collect(),
    );
    let records = people
        .iter()
        .map(|p| {
            Record::new(vec![
                Value::String(format!("user{}@example.com", p.id)),
                Value::String(format!("First{} Last{}", p.id, p.id)),
                Value::String(format!("First{}", p.id)),
                Value::String(format!("Last{}", p.id)),
                Value::String(p.title.clone()),
                Value::String(format!("user{}@example.com", p.id)),
                Value::String("true".into()),
                Value::String(p.id.to_string()),
            ])
        })
        .collect();
    MemorySource::new().with_stream(StreamInfo::new("users", schema), records)
}

fn writes(stats: &Stats) -> u64 {
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .map(|m| stats.by_method(m))
        .sum()
}

struct Figures {
    wall: Duration,
    requests: u64,
    writes: u64,
}

async fn cycle(emulator: &RunningEmulator, job: &ProvisioningJob) -> Res<Figures> {
    emulator.reset_stats();
    let start = Instant::now();
    let report = job.run_cycle().await?;
    let wall = start.elapsed();
    if report.users.failed > 0 {
        return Err(format!("{} users failed", report.users.failed).into());
    }
    let stats = emulator.stats();
    Ok(Figures {
        wall,
        requests: stats.total(),
        writes: writes(&stats),
    })
}

fn main() -> Res<()> {
    let users: usize = std::env::var("PROVISIONING_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let changed = (users / 100).max(1);

    // The emulator on a runtime of its own.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emulator = server.block_on(Emulator::start(EmulatorConfig::new()))?;
    let fresh = server.block_on(Emulator::start(EmulatorConfig::new()))?;
    let client: ScimClient = emulator.client_builder().build()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut people: Vec<Person> = (0..users)
            .map(|id| Person {
                id,
                title: "Engineer".into(),
            })
            .collect();
        let store = Arc::new(MemoryStore::new());
        let job = |people: &[Person]| -> Res<ProvisioningJob> {
            Ok(ProvisioningJob::builder(
                source(people),
                client.clone(),
                Mappings::from_toml_str(MAPPING)?,
            )
            .store(store.clone())
            .configure(|c| c.deletion_threshold = None)
            .build()?)
        };

        let initial = cycle(&emulator, &job(&people)?).await?;
        // Baseline of the initial cycle: the same, matching every user with its own
        // filter request (what Entra does), into an empty emulator of its own.
        let one_by_one = ProvisioningJob::builder(
            source(&people),
            fresh.client_builder().build()?,
            Mappings::from_toml_str(MAPPING)?,
        )
        .store(Arc::new(MemoryStore::new()))
        .configure(|c| {
            c.deletion_threshold = None;
            c.list_to_match = false;
        })
        .build()?;
        let initial_one_by_one = cycle(&fresh, &one_by_one).await?;
        for p in people.iter_mut().step_by(users / changed) {
            p.title = "Staff Engineer".into();
        }
        let incremental = cycle(&emulator, &job(&people)?).await?;

        // Baseline: the same changed people written by the ScimSink (upsert).
        for p in people.iter_mut().step_by(users / changed) {
            p.title = "Principal Engineer".into();
        }
        emulator.reset_stats();
        let start = Instant::now();
        let report = copy(
            &sink_source(&people),
            &ScimSink::new(client.clone()),
            CopyOptions::new().write_mode(WriteMode::Upsert {
                key: vec!["userName".into()],
            }),
        )
        .await?;
        let baseline_wall = start.elapsed();
        let stats = emulator.stats();
        let baseline = Figures {
            wall: baseline_wall,
            requests: stats.total(),
            writes: writes(&stats),
        };
        let t = report.totals();

        println!("provisioning bench: {users} users, {changed} changed (1 %)");
        println!(
            "  initial cycle      {:>8.2} s  {:>7.0} users/s  {:>6} requests  {:>6} writes",
            initial.wall.as_secs_f64(),
            users as f64 / initial.wall.as_secs_f64(),
            initial.requests,
            initial.writes
        );
        println!(
            "  baseline: initial cycle matching one by one  {:>8.2} s  {:>6} requests  ({:.1}x the time, {:.1}x the requests)",
            initial_one_by_one.wall.as_secs_f64(),
            initial_one_by_one.requests,
            initial_one_by_one.wall.as_secs_f64() / initial.wall.as_secs_f64(),
            initial_one_by_one.requests as f64 / initial.requests as f64
        );
        println!(
            "  incremental cycle  {:>8.3} s  {:>6} requests  {:>6} writes  ({:.2} writes per change)",
            incremental.wall.as_secs_f64(),
            incremental.requests,
            incremental.writes,
            incremental.writes as f64 / changed as f64
        );
        println!(
            "  baseline: ScimSink upsert of the same change  {:>8.3} s  {:>6} requests  {:>6} writes  ({} updated, {} unchanged)",
            baseline.wall.as_secs_f64(),
            baseline.requests,
            baseline.writes,
            t.updated,
            t.unchanged
        );
        println!(
            "  incremental cycle vs baseline: {:.1}x faster, {:.1}x fewer requests",
            baseline.wall.as_secs_f64() / incremental.wall.as_secs_f64(),
            baseline.requests as f64 / incremental.requests.max(1) as f64
        );
        Ok::<_, Box<dyn Error>>(())
    })?;
    server.block_on(emulator.shutdown());
    server.block_on(fresh.shutdown());
    Ok(())
}
