//! Query a Salesforce object, or a SOQL query, through Bulk API 2.0 into a CSV or a
//! JSON Lines file (chosen by the output's extension).
//!
//! ```sh
//! cargo run -p examples --bin salesforce_query                     # Account to out/salesforce/Account.jsonl
//! cargo run -p examples --bin salesforce_query -- Contact contacts.csv
//! cargo run -p examples --bin salesforce_query -- "SELECT Id, Name, Industry FROM Account WHERE Industry = 'Energy'" energy.csv
//! ```
//!
//! With `SF_INSTANCE_URL` and `SF_ACCESS_TOKEN`, or `SF_CLIENT_ID` and
//! `SF_CLIENT_SECRET` (see `SalesforceClientBuilder::from_env`), it reads a real org;
//! otherwise it starts the emulator with generated records.

use std::error::Error;
use std::path::PathBuf;

use connector_core::file::{CsvSink, JsonlSink};
use connector_core::{CopyOptions, Sink, copy};
use salesforce_bulk2::SalesforceClientBuilder;
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig};
use salesforce_bulk2::query::ResultOptions;
use salesforce_bulk2::source::SalesforceSource;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A real org when SF_* variables are set, else the emulator with generated data.
    let (client, _emulator) = match SalesforceClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            emulator.seed_records("Account", 500)?;
            emulator.seed_records("Contact", 200)?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let what = args.first().cloned().unwrap_or_else(|| "Account".into());
    // An object name, or a SOQL query (checked for what Bulk API 2.0 refuses).
    let source = if what.trim_start().to_ascii_lowercase().starts_with("select") {
        SalesforceSource::query(client, what.clone())?
    } else {
        SalesforceSource::object(client, what.clone())
    };
    // Up to 4 result pages download and parse at once; rows still come in the
    // query's order (an ORDER BY is kept).
    let source = source.with_result_options(ResultOptions {
        max_concurrent: 4,
        ..ResultOptions::default()
    });
    let out = PathBuf::from("out/salesforce");
    std::fs::create_dir_all(&out)?;
    let file = out.join(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "{stream}.jsonl".into()),
    );
    let sink: Box<dyn Sink> = if file.extension().is_some_and(|e| e == "csv") {
        Box::new(CsvSink::new(&file))
    } else {
        Box::new(JsonlSink::new(&file))
    };
    let report = copy(&source, sink.as_ref(), CopyOptions::new()).await?;
    // The stream is named after the object (also for a query).
    let name = report.streams.keys().next().cloned().unwrap_or_default();
    println!(
        "{what} -> {}\n{report}",
        file.display().to_string().replace("{stream}", &name)
    );
    Ok(())
}
