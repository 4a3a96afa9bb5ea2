//! Quickstart: copy a CSV file into JSON Lines with typed values, a progress bar, a
//! dead-letter file for the rows that do not fit, and a lookup of the result; then
//! provision an HR export into a SCIM 2.0 service (the in-process emulator) with the
//! provisioning engine, a first and a second cycle, to show that the second writes
//! nothing; then list the users of a Zoho CRM org (the in-process Zoho emulator) and
//! export a COQL query to CSV; last, query Salesforce Accounts to CSV with Bulk API 2.0
//! and upsert a CSV into Account, with the rows Salesforce rejects (the in-process
//! Salesforce emulator).
//!
//! Run it with `cargo run --release -p examples --bin quickstart`. It writes into
//! `out/quickstart/` under the current directory.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use connector_core::dead_letter::{DeadLetterEntry, JsonlDeadLetter};
use connector_core::file::{CsvSink, CsvSource, JsonlSink, JsonlSource};
use connector_core::type_mapping::{DataType, Field, Schema};
use connector_core::{CopyOptions, Progress, copy, lookup};
use indicatif::{ProgressBar, ProgressStyle};
use scim_client::emulator::{Emulator, EmulatorConfig};
use scim_client::provisioning::{FileStore, GroupSource, JsonlLog, Mappings, ProvisioningJob};
use zoho_crm::{UserType, ZohoSource, ZohoStream};

/// The columns of `data/accounts.csv`, typed the way Salesforce describes them.
fn accounts_schema() -> Schema {
    Schema::new(vec![
        Field::new("Id", DataType::String).with_nullable(false),
        Field::new("Name", DataType::String).with_nullable(false),
        Field::new("AnnualRevenue", DataType::decimal(18, 2)),
        Field::new("NumberOfEmployees", DataType::Int32),
        Field::new("Active", DataType::Boolean),
        Field::new("CreatedDate", DataType::Date),
        Field::new("LastModifiedDate", DataType::DateTimeOffset),
    ])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/accounts.csv");
    let out = PathBuf::from("out/quickstart");
    std::fs::create_dir_all(&out)?;

    println!(
        "1. Copy {} to JSON Lines, typed and checked",
        input.display()
    );
    let source = CsvSource::new(&input).with_schema(accounts_schema());
    let sink = JsonlSink::new(out.join("{stream}.jsonl"));
    let dead_letters = out.join("rejected.jsonl");
    let bar =
        ProgressBar::new_spinner().with_style(ProgressStyle::with_template("{spinner} {msg}")?);
    let progress = bar.clone();
    let options = CopyOptions::new()
        .dead_letter(Arc::new(JsonlDeadLetter::new(&dead_letters)))
        .on_progress(move |event| {
            if let Progress::Counts { stream, counts } = event {
                progress.set_message(format!(
                    "{stream}: {} read, {} written, {} dead-lettered",
                    counts.read,
                    counts.written,
                    counts.malformed + counts.rejected
                ));
            }
        });
    let report = copy(&source, &sink, options).await?;
    bar.finish_and_clear();
    println!("{report}\n");

    println!("2. Rows that did not fit, from {}:", dead_letters.display());
    for line in std::fs::read_to_string(&dead_letters)
        .unwrap_or_default()
        .lines()
    {
        let entry: DeadLetterEntry = serde_json::from_str(line)?;
        let row = entry.origin.map(|o| o.row.to_string()).unwrap_or_default();
        println!("   row {row:>3}: {}", entry.error);
    }

    println!("\n3. Look up the first two accounts of the copy:");
    let written = JsonlSource::new(out.join("accounts.jsonl")).with_schema(accounts_schema());
    let found = lookup(&written, "accounts", 2).await?;
    for row in found.to_json() {
        println!("   {row}");
    }
    println!("   (more rows: {})", found.has_more);

    println!(
        "\n4. Provision an HR export into a SCIM 2.0 service (a local emulator), the way Entra does"
    );
    let emulator = Emulator::start(EmulatorConfig::new()).await?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let _ = std::fs::remove_file(out.join("provisioning-state.json")); // a fresh emulator
    let job = ProvisioningJob::builder(
        Arc::new(CsvSource::new(data.join("hr_people.csv")).with_stream_name("users")),
        emulator.client_builder().build()?,
        Mappings::from_path(&data.join("hr_to_scim.toml"))?,
    )
    .groups(GroupSource::UserAttribute("department".into()))
    .store(Arc::new(FileStore::new(
        out.join("provisioning-state.json"),
    )))
    .log(Arc::new(JsonlLog::append(
        out.join("provisioning-log.jsonl"),
    )?))
    .build()?;
    for name in ["first", "second"] {
        let r = job.run_cycle().await?;
        println!(
            "   {name} cycle: users {} created, {} unchanged, {} out of scope; groups {} created; {} writes",
            r.users.created,
            r.users.unchanged,
            r.users.out_of_scope,
            r.groups.created,
            r.users.writes() + r.groups.writes()
        );
    }
    println!(
        "   the service now holds {} users; the log is {}",
        emulator.user_count(),
        out.join("provisioning-log.jsonl").display()
    );

    println!("\n5. Zoho CRM (a local emulator): list the users, export a COQL query");
    let zoho =
        zoho_crm::emulator::Emulator::start(zoho_crm::emulator::EmulatorConfig::new()).await?;
    zoho.seed_users(3);
    zoho.seed_records("Accounts", 250)?;
    let client = zoho.client_builder().build()?;
    let users: Vec<_> =
        futures::TryStreamExt::try_collect(client.users().list(UserType::ActiveUsers)).await?;
    for user in &users {
        println!(
            "   user {:<34} {}",
            user.email.as_deref().unwrap_or(""),
            user.role.as_ref().map_or("", |r| r.name.as_str())
        );
    }
    let query = "SELECT Account_Name, Industry, Annual_Revenue FROM Accounts WHERE Annual_Revenue > 1000000";
    let source = ZohoSource::new(
        client,
        vec![ZohoStream::Coql {
            name: "big_accounts".into(),
            query: query.into(),
        }],
    );
    let sink = CsvSink::new(out.join("{stream}.csv"));
    let t = copy(&source, &sink, CopyOptions::new()).await?.totals();
    println!(
        "   {query}\n   -> {} rows in {}",
        t.written,
        out.join("big_accounts.csv").display()
    );

    println!(
        "\n6. Salesforce (a local emulator of Bulk API 2.0): query Accounts to a file, upsert a CSV"
    );
    let salesforce = salesforce_bulk2::emulator::Emulator::start(
        salesforce_bulk2::emulator::EmulatorConfig::new(),
    )
    .await?;
    salesforce.seed_records("Account", 1_000)?;
    let client = salesforce.client_builder().build()?;
    let query = "SELECT Id, Name, Industry, AnnualRevenue FROM Account WHERE Industry = 'Energy'";
    let source = salesforce_bulk2::source::SalesforceSource::query(client.clone(), query)?;
    let energy = out.join("salesforce_energy.csv");
    let t = copy(&source, &CsvSink::new(&energy), CopyOptions::new())
        .await?
        .totals();
    println!(
        "   {query}\n   -> {} rows in {}",
        t.written,
        energy.display()
    );
    let accounts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/salesforce_accounts.csv");
    let rejected = out.join("salesforce-rejected.jsonl");
    let _ = std::fs::remove_file(&rejected); // a fresh emulator
    let options = CopyOptions::new()
        .write_mode(connector_core::WriteMode::Upsert {
            key: vec!["Account_Code__c".into()],
        })
        .dead_letter(Arc::new(JsonlDeadLetter::new(&rejected)));
    let t = copy(
        &CsvSource::new(&accounts).with_stream_name("Account"),
        &salesforce_bulk2::sink::SalesforceSink::new(client),
        options,
    )
    .await?
    .totals();
    println!(
        "   upsert {} by Account_Code__c: {} created, {} updated, {} rejected:",
        accounts.display(),
        t.created,
        t.updated,
        t.rejected
    );
    for line in std::fs::read_to_string(&rejected)
        .unwrap_or_default()
        .lines()
    {
        let entry: DeadLetterEntry = serde_json::from_str(line)?;
        let row = entry.origin.map(|o| o.row.to_string()).unwrap_or_default();
        println!("   row {row:>3}: {}", entry.error);
    }
    Ok(())
}
