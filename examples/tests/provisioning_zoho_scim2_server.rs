//! Provisioning from Zoho CRM (its emulator) into a real SCIM server: scim2-server
//! (PyPI), started by `.ci/scim-interop.sh` on 127.0.0.1 with dynamic tenants.
//!
//! Ignored by a plain `cargo test` because it needs that server; `.ci/run` runs it
//! with `--ignored` and `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use scim_client::provisioning::scope::ScopeFilter;
use scim_client::provisioning::{
    Action, CycleOutcome, FileStore, GroupSource, Mappings, MemoryLog, ProvisioningJob,
    ProvisioningJobBuilder,
};
use scim_client::{ListQuery, ScimClient};
use serde_json::{Value, json};
use zoho_crm::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use zoho_crm::{UserType, ZohoSource, ZohoStream};

/// A client of a fresh tenant of the running scim2-server.
fn tenant() -> ScimClient {
    let url =
        std::env::var("SCIM2_SERVER_URL").expect("SCIM2_SERVER_URL (e.g. http://127.0.0.1:18080)");
    let token = std::env::var("SCIM2_SERVER_TOKEN").expect("SCIM2_SERVER_TOKEN");
    let tenant = format!("t{:016x}", rand_suffix());
    ScimClient::builder(format!("{}/{tenant}/v2", url.trim_end_matches('/')))
        .bearer_token(token)
        .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap()
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

async fn zoho(users: usize) -> RunningEmulator {
    let emulator = Emulator::start(EmulatorConfig::new()).await.unwrap();
    emulator.seed_users(users);
    emulator
}

/// The seed's Zoho One mapping, fed from Zoho CRM users, with active users in scope
/// and one group per role.
fn job(
    zoho: &RunningEmulator,
    scim: &ScimClient,
    store: &Arc<FileStore>,
    log: &Arc<MemoryLog>,
) -> ProvisioningJobBuilder {
    let source = ZohoSource::new(
        zoho.client_builder().build().unwrap(),
        vec![ZohoStream::Users(UserType::AllUsers)],
    );
    let mut mappings = Mappings::zoho_one_from_zoho_crm();
    mappings.users.scope = Some(ScopeFilter::equals("status", "active"));
    ProvisioningJob::builder(Arc::new(source), scim.clone(), mappings)
        .groups(GroupSource::UserAttribute("role.name".into()))
        .store(store.clone())
        .log(log.clone())
}

async fn target_users(scim: &ScimClient) -> Vec<Value> {
    scim.resources("Users")
        .list(ListQuery::new())
        .try_collect()
        .await
        .unwrap()
}

fn by_user_name(users: &[Value]) -> BTreeMap<String, Value> {
    users
        .iter()
        .map(|u| (u["userName"].as_str().unwrap().to_owned(), u.clone()))
        .collect()
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn zoho_users_provisioned_into_scim2_server_cycle_after_cycle() {
    let zoho = zoho(24).await;
    let scim = tenant();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("state.json")));
    let log = Arc::new(MemoryLog::new());

    // Initial cycle: every active user and every role with active users.
    let first = job(&zoho, &scim, &store, &log)
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(first.outcome, CycleOutcome::Completed);
    assert_eq!(first.users.failed, 0, "{:?}", log.entries());
    let zoho_users = zoho.users();
    let active: Vec<&Value> = zoho_users
        .iter()
        .filter(|u| u["status"] == "active")
        .collect();
    assert!(active.len() >= 20 && active.len() < zoho_users.len());
    let target = by_user_name(&target_users(&scim).await);
    assert_eq!(target.len(), active.len());
    for u in &active {
        let email = u["email"].as_str().unwrap();
        let t = &target[email];
        assert_eq!(t["active"], true);
        assert_eq!(t["title"], u["role"]["name"]);
        assert_eq!(t["displayName"], u["full_name"]);
        assert_eq!(t["externalId"], u["id"]);
        assert_eq!(t["name"]["familyName"], u["last_name"]);
        let work = t["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "work")
            .unwrap();
        assert_eq!(work["value"], email);
    }
    let mut roles: BTreeMap<String, usize> = BTreeMap::new();
    for u in &active {
        *roles
            .entry(u["role"]["name"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(first.groups.created, roles.len());
    for (role, members) in &roles {
        let group = scim
            .groups()
            .find_by_display_name(role)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no group {role}"));
        let full = scim
            .resources("Groups")
            .get(group.id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            full["members"].as_array().map_or(0, Vec::len),
            *members,
            "{role}"
        );
    }

    // Second cycle, nothing changed: no write (every resource keeps its version).
    let versions = |users: &[Value]| -> BTreeMap<String, Value> {
        users
            .iter()
            .map(|u| (u["id"].as_str().unwrap().to_owned(), u["meta"].clone()))
            .collect()
    };
    let before = versions(&target_users(&scim).await);
    let second = job(&zoho, &scim, &store, &log)
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(
        second.users.writes() + second.groups.writes(),
        0,
        "{second:?}"
    );
    assert_eq!(versions(&target_users(&scim).await), before);

    // A changed title (the Zoho role): exactly one user PATCH, of the title only.
    let mover = active
        .iter()
        .find(|u| u["role"]["name"] == "Manager")
        .expect("a manager");
    let mover_id = mover["id"].as_str().unwrap();
    let mover_email = mover["email"].as_str().unwrap();
    let zoho_client = zoho.client_builder().build().unwrap();
    let ceo = zoho.role_id("CEO").unwrap();
    let mut change = serde_json::Map::new();
    change.insert("role".into(), json!({ "id": ceo }));
    zoho_client.users().update(mover_id, change).await.unwrap();
    let third = job(&zoho, &scim, &store, &log)
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(third.users.updated, 1, "{third:?}");
    assert_eq!(third.users.created + third.users.disabled, 0);
    let updates: Vec<_> = log
        .cycle(third.cycle)
        .into_iter()
        .filter(|e| e.action == Action::Update && e.source_id == mover_id)
        .collect();
    assert_eq!(updates.len(), 1);
    let changed: Vec<&str> = updates[0].changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(changed, ["title"]);
    let after = by_user_name(&target_users(&scim).await);
    assert_eq!(after[mover_email]["title"], "CEO");
    let others_unchanged = versions(&target_users(&scim).await)
        .into_iter()
        .filter(|(id, meta)| before.get(id) != Some(meta))
        .count();
    assert_eq!(others_unchanged, 1, "only the mover's version changed");
    // Its membership moved: the Manager group lost it, the CEO group gained it.
    assert_eq!(third.groups.updated, 2, "{third:?}");

    // A user leaving scope (deactivated in Zoho) is disabled, not deleted.
    let leaver = active
        .iter()
        .find(|u| u["id"] != mover["id"] && u["role"]["name"] != "CEO")
        .unwrap();
    zoho_client
        .users()
        .deactivate(leaver["id"].as_str().unwrap())
        .await
        .unwrap();
    let fourth = job(&zoho, &scim, &store, &log)
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(fourth.users.disabled, 1, "{fourth:?}");
    let after = by_user_name(&target_users(&scim).await);
    assert_eq!(after.len(), active.len());
    assert_eq!(after[leaver["email"].as_str().unwrap()]["active"], false);
}

#[tokio::test]
#[ignore = "needs scim2-server: run by .ci/run through .ci/scim-interop.sh"]
async fn a_run_killed_midway_and_restarted_finishes_with_no_duplicate() {
    let zoho = zoho(80).await;
    let scim = tenant();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path().join("state.json")));
    let log = Arc::new(MemoryLog::new());
    let expected = zoho
        .users()
        .iter()
        .filter(|u| u["status"] == "active")
        .count();

    let killed = job(&zoho, &scim, &store, &log)
        .configure(|c| {
            c.concurrency = 1;
            c.save_every = 3;
        })
        .build()
        .unwrap();
    let running = tokio::spawn(async move { killed.run_cycle().await });
    let mut created = 0;
    for _ in 0..600 {
        created = scim.users().count(None).await.unwrap();
        if created >= 15 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    let _ = running.await;
    let created = usize::try_from(created).unwrap();
    assert!(
        created >= 15 && created < expected,
        "killed midway: {created}"
    );

    let restarted = job(&zoho, &scim, &store, &log)
        .build()
        .unwrap()
        .run_cycle()
        .await
        .unwrap();
    assert_eq!(restarted.users.failed, 0, "{:?}", log.entries());
    let users = target_users(&scim).await;
    assert_eq!(users.len(), expected, "every active user, once");
    assert_eq!(
        by_user_name(&users).len(),
        expected,
        "no duplicate userName"
    );
    assert_eq!(
        restarted.users.created + restarted.users.updated + restarted.users.unchanged,
        expected,
        "{restarted:?}"
    );
}
