//! Interop with a real SCIM server: scim2-server (PyPI), the reference server of the
//! python-scim project, started by `.ci/scim-interop.sh` on 127.0.0.1 with a bearer
//! token and dynamic tenants (each test gets a tenant of its own).
//!
//! These tests need that server, so they are ignored by a plain `cargo test`;
//! `.ci/run` runs them with `--ignored` and `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use connector_core::memory::MemorySource;
use connector_core::tls::TlsOptions;
use connector_core::type_mapping::{DataType, Field, Schema, Value as V};
use connector_core::{CopyOptions, Record, StreamInfo, WriteMode, copy};
use futures::TryStreamExt;
use scim_client::bulk::{BulkOperation, BulkRequest};
use scim_client::filter::Filter;
use scim_client::model::{EnterpriseUser, MultiValue};
use scim_client::patch::PatchRequest;
use scim_client::{
    Attr, Conditional, GetOptions, Group, ListQuery, Member, ScimClient, ScimSink, ScimType, User,
};
use serde_json::json;

/// A client of a fresh tenant of the running scim2-server.
fn tenant() -> ScimClient {
    let url =
        std::env::var("SCIM2_SERVER_URL").expect("SCIM2_SERVER_URL (e.g. http://127.0.0.1:18080)");
    let token = std::env::var("SCIM2_SERVER_TOKEN").expect("SCIM2_SERVER_TOKEN");
    let tenant = format!("t{:016x}", rand::random::<u64>());
    ScimClient::builder(format!("{}/{tenant}/v2", url.trim_end_matches('/')))
        .bearer_token(token)
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap()
}

fn alice() -> User {
    let mut u = User::new("alice@example.com");
    u.display_name = Attr::Value("Alice Liddell".into());
    u.title = Attr::Value("Engineer".into());
    u.active = Attr::Value(true.into());
    u.emails = Attr::Value(vec![
        MultiValue::typed("work", "alice@example.com").primary(),
    ]);
    u.phone_numbers = Attr::Value(vec![
        MultiValue::typed("work", "+1 555 0100"),
        MultiValue::typed("mobile", "+1 555 0199"),
    ]);
    u.with_enterprise(EnterpriseUser {
        department: Attr::Value("R&D".into()),
        ..Default::default()
    })
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn user_lifecycle_create_get_replace_patch_delete() {
    let users = tenant().users();
    let created = users.create(&alice()).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.user_name, "alice@example.com");
    assert!(
        created
            .meta
            .as_ref()
            .and_then(|m| m.version.as_ref())
            .is_some(),
        "ETag kept"
    );

    let got = users.get(&id).await.unwrap();
    assert_eq!(got.email("work"), Some("alice@example.com"));
    assert_eq!(
        got.enterprise
            .as_ref()
            .and_then(|e| e.department.as_ref())
            .map(String::as_str),
        Some("R&D")
    );

    let mut replacement = got.clone();
    replacement.title = Attr::Value("Principal Engineer".into());
    let replaced = users.replace(&id, &replacement).await.unwrap();
    assert_eq!(
        replaced.title.as_ref().map(String::as_str),
        Some("Principal Engineer")
    );

    // PATCH with value paths: replace the work e-mail, remove the mobile phone, add a
    // nick name and set the department in the extension.
    let patch = PatchRequest::new()
        .replace("emails[type eq \"work\"].value", "alice@work.example")
        .remove("phoneNumbers[type eq \"mobile\"]")
        .add("nickName", "Al")
        .replace(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "Research",
        );
    users.patch(&id, &patch).await.unwrap();
    let patched = users.get(&id).await.unwrap();
    assert_eq!(patched.email("work"), Some("alice@work.example"));
    assert_eq!(patched.phone_numbers.as_ref().map(Vec::len), Some(1));
    assert_eq!(patched.nick_name.as_ref().map(String::as_str), Some("Al"));
    assert_eq!(
        patched
            .enterprise
            .as_ref()
            .and_then(|e| e.department.as_ref())
            .map(String::as_str),
        Some("Research")
    );

    users.deactivate(&id).await.unwrap();
    assert_eq!(users.get(&id).await.unwrap().is_active(), Some(false));

    users.delete(&id).await.unwrap();
    assert!(users.get(&id).await.unwrap_err().is_not_found());
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn filters_built_and_written_by_the_client_select_the_right_users() {
    let users = tenant().users();
    for (name, title, dept) in [
        ("ann", "Engineer", "R&D"),
        ("bob", "Manager", "Sales"),
        ("cy", "Engineer", "Sales"),
    ] {
        let mut u = User::new(format!("{name}@example.com"));
        u.title = Attr::Value(title.into());
        u.emails = Attr::Value(vec![MultiValue::typed(
            "work",
            format!("{name}@corp.example"),
        )]);
        users
            .create(&u.with_enterprise(EnterpriseUser {
                department: Attr::Value(dept.into()),
                ..Default::default()
            }))
            .await
            .unwrap();
    }
    let names = |q: Filter| {
        let users = users.clone();
        async move {
            let mut v: Vec<String> = users
                .list(ListQuery::new().filter(q))
                .map_ok(|u| u.user_name)
                .try_collect()
                .await
                .unwrap();
            v.sort();
            v
        }
    };
    assert_eq!(
        names(Filter::eq("title", "Engineer")).await,
        ["ann@example.com", "cy@example.com"]
    );
    assert_eq!(
        names(Filter::eq("title", "Engineer").and(Filter::eq(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "Sales"
        )))
        .await,
        ["cy@example.com"]
    );
    assert_eq!(
        names(Filter::value_path(
            "emails",
            Filter::eq("type", "work").and(Filter::sw("value", "b"))
        ))
        .await,
        ["bob@example.com"]
    );
    assert_eq!(
        names(Filter::eq("userName", "ANN@EXAMPLE.COM")).await,
        ["ann@example.com"],
        "userName is caseExact=false"
    );
    assert_eq!(
        names(Filter::not(Filter::eq("title", "Engineer"))).await,
        ["bob@example.com"]
    );
    assert_eq!(
        names(Filter::gt("meta.lastModified", "2000-01-01T00:00:00Z"))
            .await
            .len(),
        3
    );
    assert_eq!(users.count(Some("title pr")).await.unwrap(), 3);
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn paging_returns_every_user_exactly_once() {
    let client = tenant();
    let users = client.users();
    for i in 0..23 {
        users
            .create(&User::new(format!("user{i:02}@example.com")))
            .await
            .unwrap();
    }
    let all: Vec<User> = users
        .list(ListQuery::new().page_size(5))
        .try_collect()
        .await
        .unwrap();
    let mut names: Vec<String> = all.into_iter().map(|u| u.user_name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 23);
    let searched: Vec<User> = users
        .search(
            ListQuery::new()
                .filter("userName sw \"user1\"")
                .page_size(4),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(searched.len(), 10);
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn groups_and_membership_changes() {
    let client = tenant();
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(
            client
                .users()
                .create(&User::new(format!("{name}@example.com")))
                .await
                .unwrap()
                .id
                .unwrap(),
        );
    }
    let mut group = Group::new("Engineering");
    group.members = Attr::Value(vec![Member::new(ids[0].clone())]);
    let group = client.groups().create(&group).await.unwrap();
    let gid = group.id.unwrap();
    client
        .groups()
        .add_members(&gid, &[&ids[1], &ids[2]])
        .await
        .unwrap();
    client
        .groups()
        .remove_members(&gid, &[&ids[0]])
        .await
        .unwrap();
    let group = client.groups().get(&gid).await.unwrap();
    let mut members: Vec<String> = group
        .members
        .into_option()
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.value)
        .collect();
    members.sort();
    let mut expected = vec![ids[1].clone(), ids[2].clone()];
    expected.sort();
    assert_eq!(members, expected);
    let found = client
        .groups()
        .find_by_display_name("engineering")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_deref(), Some(gid.as_str()));
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn bulk_with_bulk_id_references_and_fail_on_errors() {
    let client = tenant();
    let request = BulkRequest::new()
        .operation(BulkOperation::create("/Users", "u1", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk1@example.com"})))
        .operation(BulkOperation::create("/Groups", "g1", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk", "members": [{"value": "bulkId:u1"}]})));
    let response = client.bulk(request).await.unwrap();
    assert_eq!(response.errors().count(), 0, "{response:?}");
    let group = client
        .groups()
        .get(response.operations[1].id().unwrap())
        .await
        .unwrap();
    let user_id = response.operations[0].id().unwrap();
    assert_eq!(group.members.as_ref().unwrap()[0].value, user_id);

    let failing = BulkRequest::new()
        .fail_on_errors(1)
        .operation(BulkOperation::create("/Users", "d1", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk1@example.com"})))
        .operation(BulkOperation::create("/Users", "d2", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "never@example.com"})));
    let response = client.bulk(failing).await.unwrap();
    let first = &response.operations[0];
    assert_eq!(first.status, 409);
    assert_eq!(
        first.error().and_then(|e| e.scim_type).as_deref(),
        Some("uniqueness")
    );
    assert!(
        client
            .users()
            .find_by_user_name("never@example.com")
            .await
            .unwrap()
            .is_none(),
        "failOnErrors stopped it"
    );
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn etags_and_the_error_cases() {
    let users = tenant().users();
    let created = users.create(&alice()).await.unwrap();
    let id = created.id.clone().unwrap();
    let etag = created
        .meta
        .as_ref()
        .and_then(|m| m.version.clone())
        .unwrap();
    let unchanged = users
        .get_with(
            &id,
            &GetOptions {
                if_none_match: Some(etag.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(unchanged, Conditional::NotModified);
    users
        .patch_if_match(&id, &PatchRequest::new().replace("title", "Lead"), &etag)
        .await
        .unwrap();
    let err = users
        .patch_if_match(&id, &PatchRequest::new().replace("title", "Again"), &etag)
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "stale ETag: {err}");

    let err = users.create(&alice()).await.unwrap_err();
    assert_eq!(err.scim_type(), Some(&ScimType::Uniqueness), "{err}");
    let err = users
        .page(&ListQuery::new().filter("userName eq"), 1)
        .await
        .unwrap_err();
    assert_eq!(err.scim_type(), Some(&ScimType::InvalidFilter), "{err}");
    let err = users
        .patch(&id, &PatchRequest::new().replace("id", "other"))
        .await
        .unwrap_err();
    assert_eq!(err.scim_type(), Some(&ScimType::Mutability), "{err}");
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn the_sink_creates_then_updates_only_what_changed() {
    let client = tenant();
    let schema = Schema::new(vec![
        Field::new("userName", DataType::String).with_nullable(false),
        Field::new("title", DataType::String),
        Field::new("active", DataType::Boolean),
        Field::new("emails[type eq \"work\"].value", DataType::String),
        Field::new("name.givenName", DataType::String),
    ]);
    let info = StreamInfo::new("users", schema).with_primary_key(["userName"]);
    let rows = |title: &str| -> Vec<Record> {
        (0..12)
            .map(|i| {
                Record::new(vec![
                    V::String(format!("sink{i}@example.com")),
                    V::String(if i == 3 {
                        title.to_owned()
                    } else {
                        "Staff".to_owned()
                    }),
                    V::Boolean(true),
                    V::String(format!("sink{i}@corp.example")),
                    V::String(format!("Given{i}")),
                ])
            })
            .collect()
    };
    let sink = ScimSink::new(client.clone());
    let mode = WriteMode::Upsert {
        key: vec!["userName".into()],
    };
    let run = |records: Vec<Record>| {
        let source = MemorySource::new().with_stream(info.clone(), records);
        let sink = sink.clone();
        let mode = mode.clone();
        async move {
            copy(
                &source,
                &sink,
                CopyOptions::new().write_mode(mode).batch_size(5),
            )
            .await
            .unwrap()
            .totals()
        }
    };
    let first = run(rows("Staff")).await;
    assert_eq!((first.created, first.rejected, first.failed), (12, 0, 0));
    let second = run(rows("Staff")).await;
    assert_eq!(
        (second.unchanged, second.updated),
        (12, 0),
        "nothing changed, nothing written"
    );
    let third = run(rows("Director")).await;
    assert_eq!((third.updated, third.unchanged), (1, 11));
    let u3 = client
        .users()
        .find_by_user_name("sink3@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u3.title.as_ref().map(String::as_str), Some("Director"));
    assert_eq!(u3.email("work"), Some("sink3@corp.example"));
}
