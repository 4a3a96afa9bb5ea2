//! Service providers without PATCH (RFC 7644 §3.5.2 lets them answer 501): the client,
//! the `ScimSink` and the provisioning engine update through GET and a whole-resource
//! PUT instead, against the emulator with `EmulatorConfig::patch(false)`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use connector_core::memory::MemorySource;
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{CopyOptions, Record, StreamInfo, WriteMode, copy};
use scim_client::ScimClient;
use scim_client::discovery::CapabilityOverrides;
use scim_client::emulator::{Emulator, EmulatorConfig, Endpoint, RunningEmulator};
use scim_client::model::{GROUP_SCHEMA, USER_SCHEMA};
use scim_client::patch::PatchRequest;
use scim_client::{ScimSink, ScimSinkConfig};
use serde_json::json;

async fn without_patch() -> RunningEmulator {
    Emulator::start(EmulatorConfig::new().patch(false))
        .await
        .unwrap()
}

fn client(e: &RunningEmulator) -> ScimClient {
    e.client_builder().build().unwrap()
}

async fn create_user(c: &ScimClient, user_name: &str) -> String {
    let created = c
        .resources("Users")
        .create(&json!({
            "schemas": [USER_SCHEMA],
            "userName": user_name,
            "title": "Engineer",
            "emails": [{"type": "work", "value": user_name}],
        }))
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_501_switches_the_client_to_get_and_put_for_every_update() {
    let e = without_patch().await;
    let c = client(&e);
    let id = create_user(&c, "ada@example.com").await;
    assert!(!c.updates_with_put(), "nothing refused yet");

    e.reset_stats();
    let patched = c
        .resources("Users")
        .patch(&id, &PatchRequest::new().replace("title", "Manager"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched["title"], "Manager");
    let stats = e.stats();
    assert_eq!(
        stats.count("PATCH", Endpoint::Users),
        1,
        "answered 501: {stats:?}"
    );
    assert_eq!(stats.count("GET", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(stats.status(501), 1, "{stats:?}");
    assert!(c.updates_with_put());

    // From now on no PATCH is tried: disabling and memberships go through PUT too.
    e.reset_stats();
    c.users().deactivate(&id).await.unwrap();
    let stats = e.stats();
    assert_eq!(stats.by_method("PATCH"), 0, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Users), 1, "{stats:?}");
    let gid = c
        .resources("Groups")
        .create(&json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops"}))
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = create_user(&c, "grace@example.com").await;
    e.reset_stats();
    c.groups().add_members(&gid, &[&id, &other]).await.unwrap();
    let ops = e.group_by_display_name("Ops").unwrap();
    assert_eq!(ops["members"].as_array().unwrap().len(), 2, "{ops}");
    // The group had no members to show: read again asking for them, then one PUT.
    let stats = e.stats();
    assert_eq!(stats.count("GET", Endpoint::Groups), 2, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Groups), 1, "{stats:?}");
    c.groups().remove_members(&gid, &[&id]).await.unwrap();
    let ops = e.group_by_display_name("Ops").unwrap();
    let members: Vec<&str> = ops["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [other.as_str()]);
    let stats = e.stats();
    assert_eq!(stats.by_method("PATCH"), 0, "{stats:?}");
    assert_eq!(stats.count("GET", Endpoint::Groups), 3, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Groups), 2, "{stats:?}");

    // What the PUTs wrote kept everything else.
    let ada = e.user_by_user_name("ada@example.com").unwrap();
    assert_eq!(ada["active"], false);
    assert_eq!(ada["title"], "Manager");
    assert_eq!(ada["emails"][0]["value"], "ada@example.com");
}

#[tokio::test]
async fn discovery_alone_does_not_switch_but_an_override_does() {
    let e = without_patch().await;
    let c = client(&e);
    let id = create_user(&c, "ada@example.com").await;
    // Advertised, but not trusted on its own: the first PATCH is tried, answered 501.
    assert!(!c.capabilities().await.unwrap().patch);
    assert!(!c.updates_with_put());
    e.reset_stats();
    c.users().deactivate(&id).await.unwrap();
    let stats = e.stats();
    assert_eq!(stats.by_method("PATCH"), 1, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(
        e.user_by_user_name("ada@example.com").unwrap()["active"],
        false
    );

    // A server that has PATCH, told otherwise: PUT from the start.
    let with_patch = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let c = with_patch
        .client_builder()
        .overrides(CapabilityOverrides::new().patch(false))
        .build()
        .unwrap();
    assert!(c.updates_with_put());
    let id = create_user(&c, "grace@example.com").await;
    with_patch.reset_stats();
    c.resources("Users")
        .patch(&id, &PatchRequest::new().replace("title", "Lead"))
        .await
        .unwrap();
    let stats = with_patch.stats();
    assert_eq!(stats.by_method("PATCH"), 0, "{stats:?}");
    assert_eq!(stats.count("PUT", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(
        with_patch.user_by_user_name("grace@example.com").unwrap()["title"],
        "Lead"
    );
}

#[tokio::test]
async fn the_put_is_conditional_on_the_version_it_was_built_from() {
    let e = without_patch().await;
    let c = client(&e);
    let users = c.resources("Users");
    let id = create_user(&c, "ada@example.com").await;
    let stale = users.get(&id).await.unwrap()["meta"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    users
        .patch(&id, &PatchRequest::new().replace("title", "A"))
        .await
        .unwrap();
    let err = users
        .patch_if_match(&id, &PatchRequest::new().replace("title", "B"), &stale)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    assert_eq!(
        e.user_by_user_name("ada@example.com").unwrap()["title"],
        "A"
    );

    // Operations that do not apply to the resource as read send no PUT.
    e.reset_stats();
    let err = users
        .patch_with_put(
            &id,
            &PatchRequest::new().replace("emails[type eq \"home\"].value", "x@home.example"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no PUT was sent"), "{err}");
    assert_eq!(e.stats().by_method("PUT"), 0);
}

#[tokio::test]
async fn the_scim_sink_updates_through_put() {
    let e = without_patch().await;
    let sink = ScimSink::with_config(client(&e), ScimSinkConfig::default());
    let stream = StreamInfo::new(
        "users",
        Schema::new(vec![
            Field::new("userName", DataType::String).with_nullable(false),
            Field::new("title", DataType::String),
        ]),
    );
    let rows = |title: &str| {
        (0..10)
            .map(|i| {
                Record::new(vec![
                    Value::String(format!("u{i}@example.com")),
                    Value::String(title.to_owned()),
                ])
            })
            .collect::<Vec<_>>()
    };
    let run = |records: Vec<Record>| {
        let source = MemorySource::new().with_stream(stream.clone(), records);
        let sink = sink.clone();
        let options = CopyOptions::new().write_mode(WriteMode::Upsert {
            key: vec!["userName".into()],
        });
        async move { copy(&source, &sink, options).await.unwrap().totals() }
    };
    assert_eq!(run(rows("Engineer")).await.created, 10);
    let mut changed = rows("Engineer");
    changed[3].values[1] = Value::String("Manager".into());
    e.reset_stats();
    let totals = run(changed).await;
    assert_eq!((totals.updated, totals.unchanged, totals.failed), (1, 9, 0));
    let stats = e.stats();
    assert!(
        stats.by_method("PATCH") <= 1,
        "at most the one refused: {stats:?}"
    );
    assert_eq!(stats.count("PUT", Endpoint::Users), 1, "{stats:?}");
    assert_eq!(
        e.user_by_user_name("u3@example.com").unwrap()["title"],
        "Manager"
    );
}
