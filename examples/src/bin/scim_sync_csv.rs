//! Sync a CSV of users and a CSV of groups into a SCIM 2.0 service: users are matched
//! on `userName` and created or updated with exactly the attributes that changed;
//! groups are matched on `displayName` and their members (named by `userName`) added
//! or removed. Running it twice changes nothing the second time.
//!
//! ```sh
//! cargo run -p examples --bin scim_sync_csv
//! SCIM_URL=https://scim.example.com/v2 SCIM_TOKEN=... cargo run -p examples --bin scim_sync_csv
//! ```
//!
//! The CSV headers are SCIM attribute paths (`name.givenName`,
//! `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:department`). Rows that
//! cannot be written go to `out/scim_sync/rejected.jsonl` with the reason.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::dead_letter::JsonlDeadLetter;
use connector_core::file::CsvSource;
use connector_core::{CopyOptions, WriteMode, copy};
use scim_client::emulator::{Emulator, EmulatorConfig};
use scim_client::sink::{MemberKey, ScimResourceKind};
use scim_client::{ScimClientBuilder, ScimSink, ScimSinkConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The service named by SCIM_URL and SCIM_TOKEN, else a local emulator.
    let (client, _emulator) = match ScimClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let url = client.base_url().to_owned();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let out = PathBuf::from("out/scim_sync");
    std::fs::create_dir_all(&out)?;
    println!("SCIM service: {url}");

    for run in 1..=2 {
        println!("\nRun {run}");
        // The headers name SCIM attributes; the sink writes each value in its SCIM type.
        let users = CsvSource::new(data.join("scim_users.csv")).with_stream_name("users");
        let options = CopyOptions::new()
            .write_mode(WriteMode::Upsert {
                key: vec!["userName".into()],
            })
            .dead_letter(Arc::new(JsonlDeadLetter::new(
                out.join(format!("rejected-{run}.jsonl")),
            )));
        let report = copy(&users, &ScimSink::new(client.clone()), options).await?;
        let t = report.totals();
        println!(
            "  users : {} read, {} created, {} updated, {} unchanged, {} not written",
            t.read + t.malformed,
            t.created,
            t.updated,
            t.unchanged,
            t.malformed + t.rejected + t.failed
        );
        if let Some(dead) = &report.dead_letter {
            println!("          rows not written, with the reason: {dead}");
        }

        let groups = CsvSource::new(data.join("scim_groups.csv")).with_stream_name("groups");
        let config = ScimSinkConfig {
            resource: Some(ScimResourceKind::Groups),
            member_key: MemberKey::UserName,
            ..ScimSinkConfig::default()
        };
        let report = copy(
            &groups,
            &ScimSink::with_config(client.clone(), config),
            CopyOptions::new().write_mode(WriteMode::Upsert {
                key: vec!["displayName".into()],
            }),
        )
        .await?;
        let t = report.totals();
        println!(
            "  groups: {} read, {} created, {} updated, {} unchanged",
            t.read, t.created, t.updated, t.unchanged
        );
    }
    let research = client.groups().find_by_display_name("Research").await?;
    if let Some(id) = research.and_then(|g| g.id) {
        let group = client.groups().get(&id).await?;
        println!(
            "\nResearch has {} members",
            group.members.as_ref().map_or(0, Vec::len)
        );
    }
    Ok(())
}
