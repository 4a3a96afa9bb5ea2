//! Export a Zoho CRM module, or a COQL query, to a file.
//!
//! ```sh
//! cargo run -p examples --bin zoho_export                                   # Leads to out/zoho/Leads.jsonl
//! cargo run -p examples --bin zoho_export -- "SELECT Account_Name, Industry FROM Accounts" accounts.csv
//! ```
//!
//! With `ZOHO_REGION`, `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` and `ZOHO_REFRESH_TOKEN`
//! (see `ZohoClientBuilder::from_env`) it reads a real org; otherwise it starts the
//! emulator with generated records.

use std::error::Error;
use std::path::PathBuf;

use connector_core::file::{CsvSink, JsonlSink};
use connector_core::{CopyOptions, Sink, copy};
use zoho_crm::emulator::{Emulator, EmulatorConfig};
use zoho_crm::{ZohoClientBuilder, ZohoSource, ZohoStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A real org when ZOHO_* variables are set, else the emulator with generated data.
    let (client, _emulator) = match ZohoClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            emulator.seed_records("Leads", 500)?;
            emulator.seed_records("Accounts", 50)?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };
    let what = args.first().cloned().unwrap_or_else(|| "Leads".into());
    let stream = if what.trim_start().to_ascii_lowercase().starts_with("select") {
        ZohoStream::Coql {
            name: "query".into(),
            query: what.clone(),
        }
    } else {
        ZohoStream::Module(what.clone())
    };
    let out = PathBuf::from("out/zoho");
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
    let report = copy(
        &ZohoSource::new(client, vec![stream]),
        sink.as_ref(),
        CopyOptions::new(),
    )
    .await?;
    let name = match &what {
        q if q.trim_start().to_ascii_lowercase().starts_with("select") => "query",
        module => module.as_str(),
    };
    println!(
        "{what} -> {}\n{report}",
        file.display().to_string().replace("{stream}", name)
    );
    Ok(())
}
