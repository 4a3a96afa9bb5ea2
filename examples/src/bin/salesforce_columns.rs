//! Sum annual revenue and head count per industry over every Account, reading the
//! query's results as typed columns: each field's values in one buffer, the fastest
//! way to read a large result.
//!
//! ```sh
//! cargo run --release -p examples --bin salesforce_columns
//! cargo run --release -p examples --bin salesforce_columns -- 1000000   # accounts the emulator generates
//! ```
//!
//! With `SF_INSTANCE_URL` and `SF_ACCESS_TOKEN`, or `SF_CLIENT_ID` and
//! `SF_CLIENT_SECRET` (see `SalesforceClientBuilder::from_env`), it reads a real org;
//! otherwise it starts the emulator with generated Accounts (100,000 by default).

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use salesforce_bulk2::SalesforceClientBuilder;
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig};
use salesforce_bulk2::query::{QueryRequest, ResultOptions};
use type_mapping::ConversionPolicy;
use type_mapping::columnar::Column;
use type_mapping::rust_decimal::Decimal;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let accounts: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let (client, _emulator) = match SalesforceClientBuilder::from_env()? {
        Some(builder) => (builder.build()?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::new()).await?;
            emulator.seed_records("Account", accounts)?;
            (emulator.client_builder().build()?, Some(emulator))
        }
    };

    // The schema types the columns: describe, projected on the fields queried.
    let fields = ["Industry", "AnnualRevenue", "NumberOfEmployees"];
    let schema = Arc::new(
        client
            .describe("Account")
            .await?
            .schema()
            .project(&fields)?,
    );
    let jobs = client.query_jobs();
    let soql = format!("SELECT {} FROM Account", fields.join(", "));
    let job = jobs.create(&QueryRequest::new(soql)).await?;
    let job = jobs.wait(&job.id).await?;

    let started = Instant::now();
    let options = ResultOptions {
        max_concurrent: 4,
        ..ResultOptions::default()
    };
    let mut batches = jobs.columns(&job, schema, ConversionPolicy::default(), options);
    // industry -> (accounts, revenue, employees)
    let mut totals: BTreeMap<String, (u64, Decimal, i64)> = BTreeMap::new();
    let mut rows = 0;
    while let Some(batch) = batches.try_next().await? {
        for invalid in &batch.invalid {
            eprintln!("{} row {}: {}", batch.location, invalid.row, invalid.error);
        }
        // One column per field, typed by describe: picklist text, currency, integer.
        let [
            Column::String(industry),
            Column::Decimal(revenue),
            employees,
        ] = batch.columns.columns()
        else {
            return Err("unexpected column types".into());
        };
        for (row, (industry, revenue)) in industry.iter().zip(revenue).enumerate() {
            let entry = totals
                .entry(industry.unwrap_or("(none)").to_owned())
                .or_default();
            entry.0 += 1;
            entry.1 += revenue.unwrap_or_default();
            entry.2 += employees.value(row).as_i64().unwrap_or(0);
        }
        rows += batch.columns.len();
    }
    let secs = started.elapsed().as_secs_f64();
    jobs.delete(&job.id).await?;

    println!(
        "{:<24} {:>9} {:>22} {:>14}",
        "industry", "accounts", "annual revenue", "employees"
    );
    for (industry, (n, revenue, employees)) in &totals {
        println!("{industry:<24} {n:>9} {revenue:>22} {employees:>14}");
    }
    println!(
        "{rows} rows in {secs:.2} s ({:.0} rows/s)",
        rows as f64 / secs.max(1e-9)
    );
    Ok(())
}
