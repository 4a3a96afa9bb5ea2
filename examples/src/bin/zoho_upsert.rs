//! Upsert a CSV file into a Zoho CRM module, matching on `Email`; rows Zoho refuses
//! go to a dead-letter file with Zoho's code, message and field.
//!
//! ```sh
//! cargo run -p examples --bin zoho_upsert                 # examples/data/zoho_leads.csv into Leads
//! cargo run -p examples --bin zoho_upsert -- contacts.csv Contacts
//! ```
//!
//! With `ZOHO_REGION`, `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` and `ZOHO_REFRESH_TOKEN`
//! it writes to a real org; otherwise to the emulator.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::dead_letter::JsonlDeadLetter;
use connector_core::file::CsvSource;
use connector_core::tls::TlsOptions;
use connector_core::{CopyOptions, WriteMode, copy};
use secrecy::SecretString;
use zoho_crm::auth::Credentials;
use zoho_crm::dc::{DataCentre, Endpoints, Environment};
use zoho_crm::emulator::{Emulator, EmulatorConfig};
use zoho_crm::{ZohoClient, ZohoSink};

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
