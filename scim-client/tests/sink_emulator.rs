//! `ScimSink` against the emulator: the conformance kit, faults, rejections, groups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use std::sync::Arc;

use connector_core::dead_letter::MemoryDeadLetter;
use connector_core::memory::MemorySource;
use connector_core::retry::{Backoff, RetryPolicy};
use connector_core::testkit::run_conformance_with_mode;
use connector_core::tls::TlsOptions;
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{CopyOptions, Record, StreamInfo, WriteMode, copy};
use scim_client::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use scim_client::sink::{MemberKey, ScimResourceKind};
use scim_client::{ScimClient, ScimSink, ScimSinkConfig};

fn client(emulator: &RunningEmulator) -> ScimClient {
    ScimClient::builder(emulator.base_url())
        .bearer_token(emulator.token().unwrap_or_default())
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_backoff(Backoff::new(
                    std::time::Duration::from_millis(5),
                    std::time::Duration::from_millis(10),
                    2.0,
                )),
        )
        .build()
        .unwrap()
}

/// Requests that change something.
fn writes(stats: &scim_client::emulator::Stats) -> u64 {
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .map(|m| stats.by_method(m))
        .sum()
}

fn users() -> StreamInfo {
    StreamInfo::new(
        "users",
        Schema::new(vec![
            Field::new("userName", DataType::String).with_nullable(false),
            Field::new("title", DataType::String),
            Field::new("active", DataType::Boolean),
            Field::new("emails[type eq \"work\"].value", DataType::String),
        ]),
    )
}

fn rows(n: usize, title: &str) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::new(vec![
                Value::String(format!("u{i}@example.com")),
                Value::String(title.to_owned()),
                Value::Boolean(i % 5 != 0),
                Value::String(format!("u{i}@corp.example")),
            ])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scim_sink_passes_the_conformance_kit() {
    // One emulator per sink the kit makes, so every run starts empty.
    let emulators: Vec<RunningEmulator> =
        futures::future::try_join_all((0..4).map(|_| Emulator::start(EmulatorConfig::new())))
            .await
            .unwrap();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let make = || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ScimSink::new(client(&emulators[i.min(emulators.len() - 1)]))
    };
    let mode = WriteMode::Upsert {
        key: vec!["userName".into()],
    };
    let report = run_conformance_with_mode(make, users(), rows(40, "Engineer"), mode)
        .await
        .unwrap();
    assert_eq!(
        (report.written, report.rejected, report.fault_runs),
        (40, 0, 2)
    );
    assert_eq!(emulators[0].user_count(), 40);
}

#[tokio::test]
async fn a_second_run_writes_nothing_and_a_change_is_one_patch() {
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let sink = ScimSink::new(client(&emulator));
    let mode = WriteMode::Upsert {
        key: vec!["userName".into()],
    };
    let run = |records: Vec<Record>| {
        let source = MemorySource::new().with_stream(users(), records);
        let sink = sink.clone();
        let options = CopyOptions::new().write_mode(mode.clone());
        async move { copy(&source, &sink, options).await.unwrap().totals() }
    };
    assert_eq!(run(rows(25, "Engineer")).await.created, 25);
    emulator.reset_stats();
    let second = run(rows(25, "Engineer")).await;
    assert_eq!(second.unchanged, 25);
    let stats = emulator.stats();
    assert_eq!(
        writes(&stats),
        0,
        "no write when nothing changed: {stats:?}"
    );
    let mut changed = rows(25, "Engineer");
    changed[7].values[1] = Value::String("Manager".into());
    emulator.reset_stats();
    let third = run(changed).await;
    assert_eq!((third.updated, third.unchanged), (1, 24));
    assert_eq!(writes(&emulator.stats()), 1, "exactly one write");
    assert_eq!(emulator.stats().by_method("PATCH"), 1, "and it is a PATCH");
    let u7 = emulator.user_by_user_name("u7@example.com").unwrap();
    assert_eq!(u7["title"], "Manager");
}

#[tokio::test]
async fn a_work_email_is_added_to_a_user_that_has_none() {
    // The strict emulator answers `replace` on a filter that matches nothing with
    // noTarget (RFC 7644); the sink must add the item instead.
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    client(&emulator)
        .resources("Users")
        .create(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "u1@example.com",
            "title": "Engineer"
        }))
        .await
        .unwrap();
    let source = MemorySource::new().with_stream(users(), rows(2, "Engineer"));
    let options = CopyOptions::new().write_mode(WriteMode::Upsert {
        key: vec!["userName".into()],
    });
    let t = copy(&source, &ScimSink::new(client(&emulator)), options)
        .await
        .unwrap()
        .totals();
    assert_eq!((t.created, t.updated, t.rejected), (1, 1, 0));
    let u1 = emulator.user_by_user_name("u1@example.com").unwrap();
    assert_eq!(u1["emails"][0]["type"], "work");
    assert_eq!(u1["emails"][0]["value"], "u1@corp.example");
}

#[tokio::test]
async fn rejections_carry_the_servers_scim_type_and_the_copy_goes_on() {
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let sink = ScimSink::new(client(&emulator));
    let mut records = rows(5, "Engineer");
    // An e-mail that is not a string for SCIM? Use a duplicate: insert mode refuses an
    // existing userName.
    records.push(records[0].clone());
    let dead = MemoryDeadLetter::new();
    let source = MemorySource::new().with_stream(users(), records);
    let report = copy(
        &source,
        &sink,
        CopyOptions::new()
            .batch_size(100)
            .dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    let t = report.totals();
    assert_eq!((t.created, t.rejected), (5, 1), "{report}");
    assert_eq!(dead.entries()[0].error.code, "uniqueness");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_or_counted_as_failed() {
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let sink = ScimSink::new(client(&emulator));
    emulator.faults().fail_next(3, 503);
    let source = MemorySource::new().with_stream(users(), rows(10, "Engineer"));
    let report = copy(&source, &sink, CopyOptions::new().retry_failed(3))
        .await
        .unwrap();
    let t = report.totals();
    assert!(t.is_balanced(), "{report}");
    assert_eq!(
        (t.written, t.failed),
        (10, 0),
        "transient errors were retried: {report}"
    );
    assert_eq!(emulator.user_count(), 10);
}

#[tokio::test]
async fn groups_are_matched_by_name_and_members_follow_user_names() {
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let client = client(&emulator);
    let source = MemorySource::new().with_stream(users(), rows(4, "Engineer"));
    let _ = copy(&source, &ScimSink::new(client.clone()), CopyOptions::new())
        .await
        .unwrap();
    let groups = StreamInfo::new(
        "groups",
        Schema::new(vec![
            Field::new("displayName", DataType::String).with_nullable(false),
            Field::new("members", DataType::list(DataType::String)),
        ]),
    );
    let member_list = |names: &[&str]| {
        Value::List(
            names
                .iter()
                .map(|n| Value::String((*n).to_owned()))
                .collect(),
        )
    };
    let config = ScimSinkConfig {
        resource: Some(ScimResourceKind::Groups),
        member_key: MemberKey::UserName,
        ..Default::default()
    };
    let sink = ScimSink::with_config(client.clone(), config);
    let write = |members: Value| {
        let source = MemorySource::new().with_stream(
            groups.clone(),
            vec![Record::new(vec![Value::String("Team".into()), members])],
        );
        let sink = sink.clone();
        async move {
            copy(
                &source,
                &sink,
                CopyOptions::new().write_mode(WriteMode::Upsert {
                    key: vec!["displayName".into()],
                }),
            )
            .await
            .unwrap()
            .totals()
        }
    };
    assert_eq!(
        write(member_list(&["u0@example.com", "u1@example.com"]))
            .await
            .created,
        1
    );
    assert_eq!(
        write(member_list(&[
            "u1@example.com",
            "u2@example.com",
            "u3@example.com"
        ]))
        .await
        .updated,
        1
    );
    let group = emulator.group_by_display_name("Team").unwrap();
    let mut members: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            emulator.user(m["value"].as_str().unwrap()).unwrap()["userName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    members.sort();
    assert_eq!(
        members,
        ["u1@example.com", "u2@example.com", "u3@example.com"]
    );
    let unknown = write(member_list(&["nobody@example.com"])).await;
    assert_eq!(unknown.rejected, 1);
}
