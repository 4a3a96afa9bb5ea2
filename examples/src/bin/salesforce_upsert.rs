//! Upsert a CSV file into a Salesforce object by an external id field, through Bulk
//! API 2.0; rows Salesforce refuses go to a dead-letter file with its status code,
//! message and field.
//!
//! ```sh
//! cargo run -p examples --bin salesforce_upsert      # examples/data/salesforce_accounts.csv into Account by Account_Code__c
//! cargo run -p examples --bin salesforce_upsert -- invoices.csv Invoice__c External_Id__c
//! ```
//!
//! With `SF_INSTANCE_URL` and `SF_ACCESS_TOKEN`, or `SF_CLIENT_ID` and
//! `SF_CLIENT_SECRET` (see `SalesforceClientBuilder::from_env`), it writes to a real
//! org; otherwise to the emulator.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::dead_letter::JsonlDeadLetter;
use connector_core::file::CsvSource;
use connector_core::{CopyOptions, WriteMode, copy};
use salesforce_bulk2::SalesforceClientBuilder;
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig};
use salesforce_bulk2::sink::SalesforceSink;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A real org when SF_* variables are set, else the emulator.
    let (client, _emulator) = match SalesforceClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let input = args.first().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("data/salesforce_accounts.csv"),
        PathBuf::from,
    );
    let object = args.get(1).cloned().unwrap_or_else(|| "Account".into());
    let key = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "Account_Code__c".into());
    let out = PathBuf::from("out/salesforce");
    std::fs::create_dir_all(&out)?;
    let dead = out.join("upsert-rejected.jsonl");
    for run in ["first", "second"] {
        let source = CsvSource::new(&input).with_stream_name(object.clone());
        let options = CopyOptions::new()
            .write_mode(WriteMode::Upsert {
                key: vec![key.clone()],
            })
            .dead_letter(Arc::new(JsonlDeadLetter::new(&dead)));
        let t = copy(&source, &SalesforceSink::new(client.clone()), options)
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
