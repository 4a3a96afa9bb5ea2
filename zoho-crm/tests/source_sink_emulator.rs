//! The Source and Sink over whole flows against the emulator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::sync::Arc;

use connector_core::dead_letter::MemoryDeadLetter;
use connector_core::memory::{MemorySink, MemorySource};
use connector_core::state::MemoryStateStore;
use connector_core::testkit::run_conformance_with_mode;
use connector_core::tls::TlsOptions;
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{CopyOptions, Record, StreamInfo, SyncMode, WriteMode, copy};
use futures::TryStreamExt;
use secrecy::SecretString;
use zoho_crm::auth::Credentials;
use zoho_crm::dc::Endpoints;
use zoho_crm::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use zoho_crm::{UserType, ZohoClient, ZohoSink, ZohoSource, ZohoStream};

fn client(e: &RunningEmulator) -> ZohoClient {
    ZohoClient::builder()
        .endpoints(Endpoints::custom(e.accounts_url(), e.api_domain()))
        .credentials(Credentials::RefreshToken {
            client_id: e.client_id().into(),
            client_secret: SecretString::from(e.client_secret().to_owned()),
            refresh_token: SecretString::from(e.refresh_token().to_owned()),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap()
}

async fn emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig::new()).await.unwrap()
}

#[tokio::test]
async fn a_self_client_lists_users_and_the_watcher_sees_a_new_one() {
    let e = emulator().await;
    e.seed_users(5);
    let c = ZohoClient::builder()
        .endpoints(Endpoints::custom(e.accounts_url(), e.api_domain()))
        .credentials(Credentials::ClientCredentials {
            client_id: e.client_id().into(),
            client_secret: SecretString::from(e.client_secret().to_owned()),
            scope: "ZohoCRM.users.ALL".into(),
            soid: e.soid().into(),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap();
    let mut watcher = c.users().watcher(UserType::AllUsers, Default::default());
    let first = watcher.poll().await.unwrap();
    assert!(first.len() >= 5, "{first:?}");
    assert!(watcher.poll().await.unwrap().is_empty(), "nothing changed");
    e.seed_users(1);
    let second = watcher.poll().await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(matches!(second[0], zoho_crm::UserChange::Added(_)));
}

#[tokio::test]
async fn a_module_is_read_whole_past_2000_records_then_incrementally() {
    let e = emulator().await;
    e.seed_records("Leads", 2_500).unwrap();
    let c = client(&e);
    let source = ZohoSource::new(c.clone(), vec![ZohoStream::Module("Leads".into())])
        .with_bulk_threshold(u64::MAX);
    let sink = MemorySink::new();
    let store = MemoryStateStore::new();
    let options = || {
        CopyOptions::new()
            .sync_mode(SyncMode::Incremental)
            .state_store(Arc::new(store.clone()))
    };
    let report = copy(&source, &sink, options()).await.unwrap();
    let t = report.totals();
    assert_eq!(
        (t.read, t.written, t.malformed),
        (2_500, 2_500, 0),
        "{report}"
    );
    assert!(store.get().unwrap().streams["Leads"].cursor.is_some());

    // Three records change: the next incremental read returns exactly those.
    let ids: Vec<String> = sink
        .records("Leads")
        .iter()
        .take(3)
        .map(|r| match r.get(0) {
            Value::Int64(i) => i.to_string(),
            other => other.to_string(),
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    for id in &ids {
        e.touch("Leads", id).unwrap();
    }
    let again = MemorySink::new();
    let report = copy(&source, &again, options()).await.unwrap();
    // If-Modified-Since is inclusive: the record at the saved cursor may come again
    // (at least once, never a missed change).
    let read = report.totals().read;
    assert!((3..=4).contains(&read), "{report}");
    let got: Vec<String> = again
        .records("Leads")
        .iter()
        .map(|r| match r.get(0) {
            Value::Int64(i) => i.to_string(),
            other => other.to_string(),
        })
        .collect();
    assert!(
        ids.iter().all(|id| got.contains(id)),
        "{ids:?} not all in {got:?}"
    );
}

#[tokio::test]
async fn a_coql_query_with_star_is_a_stream() {
    let e = emulator().await;
    e.seed_records("Accounts", 120).unwrap();
    let rows: Vec<_> = client(&e)
        .coql("SELECT * FROM Accounts WHERE id is not null")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 120);
    let source = ZohoSource::new(
        client(&e),
        vec![ZohoStream::Coql {
            name: "accounts".into(),
            query: "select Account_Name from Accounts".into(),
        }],
    );
    let sink = MemorySink::new();
    let report = copy(&source, &sink, CopyOptions::new()).await.unwrap();
    assert_eq!(report.totals().written, 120, "{report}");
}

#[tokio::test]
async fn a_large_full_read_goes_through_bulk_read() {
    let e = Emulator::start(
        EmulatorConfig::new()
            .bulk_page_size(400)
            .bulk_job_delay(std::time::Duration::from_millis(50)),
    )
    .await
    .unwrap();
    e.seed_records("Contacts", 1_000).unwrap();
    let source = ZohoSource::new(client(&e), vec![ZohoStream::Module("Contacts".into())])
        .with_bulk_threshold(100);
    let sink = MemorySink::new();
    let dead = MemoryDeadLetter::new();
    let report = copy(
        &source,
        &sink,
        CopyOptions::new().dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.totals().read, report.totals().malformed),
        (1_000, 0),
        "{report} {:?}",
        dead.entries().first()
    );
    let stats = format!("{:?}", e.stats());
    assert!(stats.to_ascii_lowercase().contains("bulk"), "{stats}");
}

fn leads() -> StreamInfo {
    StreamInfo::new(
        "Leads",
        Schema::new(vec![
            Field::new("Last_Name", DataType::String),
            Field::new("Email", DataType::String),
            Field::new("Company", DataType::String),
        ]),
    )
}

fn lead_rows(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::new(vec![
                Value::String(format!("Name{i}")),
                Value::String(format!("lead{i}@example.com")),
                Value::String(format!("Company {i}")),
            ])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_passes_the_conformance_kit() {
    let emulators: Vec<RunningEmulator> =
        futures::future::join_all((0..4).map(|_| emulator())).await;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let make = || {
        ZohoSink::new(client(
            &emulators[next
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                .min(3)],
        ))
    };
    let mode = WriteMode::Upsert {
        key: vec!["Email".into()],
    };
    let report = run_conformance_with_mode(make, leads(), lead_rows(230), mode)
        .await
        .unwrap();
    assert_eq!((report.written, report.rejected), (230, 0));
}

#[tokio::test]
async fn rejected_records_carry_zohos_code_and_field() {
    let e = emulator().await;
    let mut rows = lead_rows(5);
    rows[2].values[0] = Value::Null; // Last_Name is mandatory
    let dead = MemoryDeadLetter::new();
    let source = MemorySource::new().with_stream(leads(), rows);
    let report = copy(
        &source,
        &ZohoSink::new(client(&e)),
        CopyOptions::new().dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.totals().created, report.totals().rejected),
        (4, 1),
        "{report}"
    );
    let entry = &dead.entries()[0];
    assert_eq!(entry.error.code, "MANDATORY_NOT_FOUND");
    assert_eq!(entry.error.fields, vec!["Last_Name".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modified_time_windows_read_every_record_exactly_once() {
    let e = emulator().await;
    e.seed_records("Leads", 3_000).unwrap();
    let source = ZohoSource::new(client(&e), vec![ZohoStream::Module("Leads".into())])
        .with_bulk_threshold(u64::MAX)
        .with_partitions(4);
    let plan = connector_core::Source::plan(&source, &connector_core::ReadRequest::new("Leads"))
        .await
        .unwrap();
    assert_eq!(plan.len(), 4);
    let sink = MemorySink::new();
    let store = MemoryStateStore::new();
    let options = CopyOptions::new()
        .max_partitions(4)
        .sync_mode(SyncMode::Incremental)
        .state_store(Arc::new(store.clone()));
    let report = copy(&source, &sink, options).await.unwrap();
    assert_eq!(report.totals().read, 3_000, "{report}");
    let mut ids: Vec<String> = sink
        .records("Leads")
        .iter()
        .map(|r| r.get(0).to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3_000, "no record read twice");
    let state = store.get().unwrap();
    assert!(
        state.streams["Leads"].partitions.is_empty(),
        "every window folded into the cursor: {state:?}"
    );
}

#[tokio::test]
async fn coql_continues_by_id_past_the_offset_cap() {
    let e = emulator().await;
    e.seed_records("Accounts", 2_500).unwrap();
    // The limits of an older API version, scaled down: 200 rows per call, offsets up
    // to 1,000; the remaining 1,500 rows come by id.
    let c = ZohoClient::builder()
        .endpoints(Endpoints::custom(e.accounts_url(), e.api_domain()))
        .credentials(Credentials::RefreshToken {
            client_id: e.client_id().into(),
            client_secret: SecretString::from(e.client_secret().to_owned()),
            refresh_token: SecretString::from(e.refresh_token().to_owned()),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .coql_limits(200, 1_000)
        .build()
        .unwrap();
    let rows: Vec<_> = c
        .coql("select Account_Name from Accounts")
        .try_collect()
        .await
        .unwrap();
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2_500);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2_500, "no row twice");
    let err = c
        .coql("select Account_Name from Accounts order by Account_Name")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pages by id"), "{err}");
}
