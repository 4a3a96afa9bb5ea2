//! Provision the people of an HR export (CSV) into a SCIM 2.0 service, with one group
//! per department, the way Microsoft Entra's provisioning service would: a first
//! cycle creates everyone in scope, a second one writes only what changed.
//!
//! Against the in-process SCIM emulator:
//!
//! ```sh
//! cargo run -p examples --bin provision_csv_scim
//! ```
//!
//! Against a real service, with your own file and mapping:
//!
//! ```sh
//! SCIM_URL=https://scim.example.com/scim/v2 SCIM_TOKEN=... \
//!   cargo run -p examples --bin provision_csv_scim -- people.csv mapping.toml
//! ```
//!
//! The state (`out/provisioning-csv/state.json`) makes the next run incremental; the
//! provisioning log is `out/provisioning-csv/log.jsonl`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::file::CsvSource;
use indicatif::{ProgressBar, ProgressStyle};
use scim_client::ScimClientBuilder;
use scim_client::emulator::{Emulator, EmulatorConfig};
use scim_client::provisioning::{
    CycleReport, FileStore, GroupSource, JsonlLog, Mappings, ProvisioningJob,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut args = std::env::args().skip(1);
    let people = args
        .next()
        .map_or_else(|| data.join("hr_people.csv"), PathBuf::from);
    let mapping = args
        .next()
        .map_or_else(|| data.join("hr_to_scim.toml"), PathBuf::from);
    let out = PathBuf::from("out/provisioning-csv");
    std::fs::create_dir_all(&out)?;

    // A real service when SCIM_URL and SCIM_TOKEN are set, else a fresh emulator
    // (and then a fresh state too: the emulator starts empty).
    let (client, emulator) = match ScimClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            let _ = std::fs::remove_file(out.join("state.json"));
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    println!(
        "Provisioning {} into {}",
        people.display(),
        client.base_url()
    );

    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "  {msg:12} [{bar:30}] {pos}/{len}",
    )?);
    let progress = bar.clone();
    let job = ProvisioningJob::builder(
        Arc::new(CsvSource::new(&people).with_stream_name("users")),
        client,
        Mappings::from_path(&mapping)?,
    )
    .groups(GroupSource::UserAttribute("department".into()))
    .store(Arc::new(FileStore::new(out.join("state.json"))))
    .log(Arc::new(JsonlLog::append(out.join("log.jsonl"))?))
    .on_progress(move |p| {
        progress.set_message(format!("{:?}", p.phase));
        progress.set_length(p.total);
        progress.set_position(p.done);
    })
    .build()?;

    job.test_connection().await?;
    for name in ["first", "second"] {
        let report = job.run_cycle().await?;
        bar.finish_and_clear();
        print_cycle(name, &report);
    }
    if let Some(emulator) = &emulator {
        println!("The service now holds {} users.", emulator.user_count());
    }
    println!("Provisioning log: {}", out.join("log.jsonl").display());
    Ok(())
}

fn print_cycle(name: &str, r: &CycleReport) {
    println!(
        "{name} cycle ({:?}, {} records read): users {} created, {} updated, {} unchanged, {} out of scope, {} failed; groups {} created, {} updated",
        r.kind,
        r.read,
        r.users.created,
        r.users.updated,
        r.users.unchanged,
        r.users.out_of_scope,
        r.users.failed,
        r.groups.created,
        r.groups.updated,
    );
}
