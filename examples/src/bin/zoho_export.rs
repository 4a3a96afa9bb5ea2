//! Export a Zoho CRM module, or a COQL query, to a file.
//!
//! ```sh
//! cargo run -p examples --bin zoho_export                                   # Leads to out/zoho/Leads.jsonl
//! cargo run -p examples --bin zoho_export -- "SELECT Account_Name, Industry FROM Accounts" accounts.csv
//! ```
//!
//! With `ZOHO_REGION`, `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` and `ZOHO_REFRESH_TOKEN`
//! it reads a real org; otherwise it starts the emulator with generated records.

use std::error::Error;
use std::path::PathBuf;

use connector_core::file::{CsvSink, JsonlSink};
use connector_core::tls::TlsOptions;
use connector_core::{CopyOptions, Sink, copy};
use secrecy::SecretString;
use zoho_crm::auth::Credentials;
use zoho_crm::dc::{DataCentre, Endpoints, Environment};
use zoho_crm::emulator::{Emulator, EmulatorConfig};
use zoho_crm::{ZohoClient, ZohoSource, ZohoStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |k: &str| std::env::var(k).ok();
    let (client, _emulator) = match (
        env("ZOHO_REGION"),
        env("ZOHO_CLIENT_ID"),
        env("ZOHO_CLIENT_SECRET"),
        env("ZOHO_REFRESH_TOKEN"),
    ) {
        (Some(region), Some(id), Some(secret), Some(refresh)) => {
            let dc =
                DataCentre::from_location(&region).ok_or(format!("unknown region {region:?}"))?;
            let credentials = Credentials::RefreshToken {
                client_id: id,
                client_secret: SecretString::from(secret),
                refresh_token: SecretString::from(refresh),
            };
            (
                ZohoClient::builder()
                    .environment(dc, Environment::Production)
                    .credentials(credentials)
                    .build()?,
                None,
            )
        }
        _ => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            emulator.seed_records("Leads", 500)?;
            emulator.seed_records("Accounts", 50)?;
            let credentials = Credentials::RefreshToken {
                client_id: emulator.client_id().into(),
                client_secret: SecretString::from(emulator.client_secret().to_owned()),
                refresh_token: SecretString::from(emulator.refresh_token().to_owned()),
            };
            let client = ZohoClient::builder()
                .endpoints(Endpoints::custom(
                    emulator.accounts_url(),
                    emulator.api_domain(),
                ))
                .credentials(credentials)
                .tls(TlsOptions::default().with_encrypted_endpoints(false))
                .build()?;
            (client, Some(emulator))
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
