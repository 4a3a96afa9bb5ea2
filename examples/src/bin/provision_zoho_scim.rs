//! Provision Zoho CRM users into a SCIM 2.0 service with the seed's Zoho One mapping
//! (userName, name, title, work e-mail, address, phones, externalId; one group per
//! role), as Microsoft Entra's provisioning service does: an initial cycle, then
//! incremental cycles that write only what changed.
//!
//! Against the in-process emulators of both sides:
//!
//! ```sh
//! cargo run -p examples --bin provision_zoho_scim
//! ```
//!
//! Against a real org and a real SCIM service (a Zoho One tenant URL, say):
//!
//! ```sh
//! ZOHO_REGION=eu ZOHO_CLIENT_ID=1000.XXX ZOHO_CLIENT_SECRET=... ZOHO_REFRESH_TOKEN=... \
//! SCIM_URL=https://... SCIM_TOKEN=... \
//!   cargo run -p examples --bin provision_zoho_scim -- --watch
//! ```
//!
//! `--watch` keeps running a cycle every 40 minutes until Ctrl-C.

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;

use scim_client::ScimClientBuilder;
use scim_client::provisioning::scope::ScopeFilter;
use scim_client::provisioning::{
    CycleReport, FileStore, GroupSource, JsonlLog, Mappings, ProvisioningJob,
};
use zoho_crm::{UserType, ZohoClientBuilder, ZohoSource, ZohoStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let watch = std::env::args().any(|a| a == "--watch");
    let out = PathBuf::from("out/provisioning-zoho");
    std::fs::create_dir_all(&out)?;

    // Real services when configured, else the emulators (with a fresh state).
    let (zoho, zoho_emulator) = match ZohoClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let e = zoho_crm::emulator::Emulator::start(Default::default()).await?;
            e.seed_users(12);
            (e.client_builder().build()?, Some(e))
        }
    };
    let (scim, scim_emulator) = match ScimClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let e = scim_client::emulator::Emulator::start(Default::default()).await?;
            (e.client_builder().build()?, Some(e))
        }
    };
    if scim_emulator.is_some() {
        let _ = std::fs::remove_file(out.join("state.json"));
    }

    // The seed's Zoho One mapping; active Zoho users are in scope.
    let mut mappings = Mappings::zoho_one_from_zoho_crm();
    mappings.users.scope = Some(ScopeFilter::equals("status", "active"));
    let source = ZohoSource::new(zoho.clone(), vec![ZohoStream::Users(UserType::AllUsers)]);
    let job = ProvisioningJob::builder(Arc::new(source), scim, mappings)
        .groups(GroupSource::UserAttribute("role.name".into()))
        .store(Arc::new(FileStore::new(out.join("state.json"))))
        .log(Arc::new(JsonlLog::append(out.join("log.jsonl"))?))
        .build()?;

    job.test_connection().await?;
    print_cycle(&job.run_cycle().await?);
    if let Some(e) = &zoho_emulator {
        // Someone is promoted in Zoho CRM: the next cycle sends one PATCH for them.
        let user = e
            .users()
            .into_iter()
            .find(|u| u["status"] == "active" && u["role"]["name"] == "Manager");
        if let (Some(user), Some(ceo)) = (user, e.role_id("CEO")) {
            let mut change = serde_json::Map::new();
            change.insert("role".into(), serde_json::json!({ "id": ceo }));
            let id = user["id"].as_str().unwrap_or_default();
            zoho.users().update(id, change).await?;
            println!("  (in Zoho CRM, {} became CEO)", user["email"]);
        }
    }
    print_cycle(&job.run_cycle().await?);
    println!("Provisioning log: {}", out.join("log.jsonl").display());

    if watch {
        println!(
            "Watching: a cycle every {:?}; Ctrl-C stops.",
            job.settings().interval
        );
        job.run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    }
    Ok(())
}

fn print_cycle(r: &CycleReport) {
    println!(
        "cycle {} ({:?}): users {} created, {} updated, {} disabled, {} unchanged, {} out of scope, {} failed; groups {} created, {} updated",
        r.cycle,
        r.kind,
        r.users.created,
        r.users.updated,
        r.users.disabled,
        r.users.unchanged,
        r.users.out_of_scope,
        r.users.failed,
        r.groups.created,
        r.groups.updated,
    );
}
