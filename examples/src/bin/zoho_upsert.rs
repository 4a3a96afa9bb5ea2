//! Upsert a CSV file into a Zoho CRM module, matching on `Email`; rows Zoho refuses
//! go to a dead-letter file with Zoho's code, message and field.
//!
//! ```sh
//! cargo run -p examples --bin zoho_upsert                 # examples/data/zoho_leads.csv into Leads
//! cargo run -p examples --bin zoho_upsert -- contacts.csv Contacts
//! ```
//!
//! With `ZOHO_REGION`, `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` and `ZOHO_REFRESH_TOKEN`
//! (see `ZohoClientBuilder::from_env`) it writes to a real org; otherwise to the
//! emulator.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::dead_letter::JsonlDeadLetter;
use connector_core::file::CsvSource;
use connector_core::{CopyOptions, WriteMode, copy};
use zoho_crm::emulator::{Emulator, EmulatorConfig};
use zoho_crm::{ZohoClientBuilder, ZohoSink};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A real org when ZOHO_* variables are set, else the emulator.
    let (client, _emulator) = match ZohoClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let input = args.first().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("data/zoho_leads.csv"),
        PathBuf::from,
    );
    let module = args.get(1).cloned().unwrap_or_else(|| "Leads".into());
    let out = PathBuf::from("out/zoho");
    std::fs::create_dir_all(&out)?;
    let dead = out.join("upsert-rejected.jsonl");
    for run in ["first", "second"] {
        let source = CsvSource::new(&input).with_stream_name(module.clone());
        let options = CopyOptions::new()
            .write_mode(WriteMode::Upsert {
                key: vec!["Email".into()],
            })
            .dead_letter(Arc::new(JsonlDeadLetter::new(&dead)));
        let t = copy(&source, &ZohoSink::new(client.clone()), options)
            .await?
            .totals();
        println!(
            "{run} run: {} rows, {} created, {} updated, {} rejected (see {})",
            t.read,
            t.created,
            t.updated,
            t.rejected,
            dead.display()
        );
    }
    Ok(())
}
