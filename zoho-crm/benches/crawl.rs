//! Crawl a module against the Zoho CRM emulator with per-request latency: records per
//! second against the fastest schedule Zoho's limits allow (concurrency x 200 records
//! per request / latency), and the peak memory of a crawl against one a tenth its size.
//!
//! ```sh
//! cargo bench -p zoho-crm --features emulator --bench crawl                    # 250,000 Leads, 100 ms, concurrency 10
//! ZOHO_BENCH_RECORDS=50000 ZOHO_BENCH_LATENCY_MS=50 cargo bench -p zoho-crm --features emulator --bench crawl
//! ```
//!
//! The emulator runs as its own process (the `zoho-emulator` binary) and each crawl in a
//! child process that reports its own peak RSS, so neither measures the other. The crawl
//! is `copy(ZohoSource, DiscardSink)` of 20 fields, in `Modified_Time` windows read at
//! the client's concurrency.

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use connector_core::memory::DiscardSink;
use connector_core::tls::TlsOptions;
use connector_core::{CopyOptions, copy};
use secrecy::SecretString;
use zoho_crm::auth::Credentials;
use zoho_crm::dc::Endpoints;
use zoho_crm::{ZohoClient, ZohoSource, ZohoStream};

type Res<T> = Result<T, Box<dyn Error>>;

const FIELDS: [&str; 20] = [
    "Owner",
    "Company",
    "First_Name",
    "Last_Name",
    "Email",
    "Phone",
    "Mobile",
    "Website",
    "Lead_Source",
    "Lead_Status",
    "Industry",
    "No_of_Employees",
    "Annual_Revenue",
    "Rating",
    "Street",
    "City",
    "State",
    "Zip_Code",
    "Country",
    "Description",
];

struct Emulator {
    child: Child,
    accounts: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator(records: usize, latency_ms: u64, concurrency: usize) -> Res<Emulator> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoho-emulator"))
        .args([
            "--port",
            &port.to_string(),
            "--seed-records",
            &format!("Leads={records}"),
        ])
        .args([
            "--latency-ms",
            &latency_ms.to_string(),
            "--concurrency",
            &(concurrency + 2).to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut field = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.starts_with("Press Ctrl-C") {
            break;
        }
        if let Some((k, v)) = line.trim().split_once(':') {
            field.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    let get = |k: &str| {
        field
            .get(k)
            .cloned()
            .ok_or_else(|| format!("the emulator did not print its {k}"))
    };
    Ok(Emulator {
        accounts: get("accounts URL")?,
        client_id: get("client id")?,
        client_secret: get("client secret")?,
        refresh_token: get("refresh token")?,
        child,
    })
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Child mode: crawl and print `records seconds peak_kib`.
async fn crawl(args: &[String]) -> Res<()> {
    let [accounts, id, secret, refresh, concurrency] = args else {
        return Err("bad child arguments".into());
    };
    let concurrency: usize = concurrency.parse()?;
    let client = ZohoClient::builder()
        .endpoints(Endpoints::custom(accounts.as_str(), accounts.as_str()))
        .credentials(Credentials::RefreshToken {
            client_id: id.clone(),
            client_secret: SecretString::from(secret.clone()),
            refresh_token: SecretString::from(refresh.clone()),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .concurrency(concurrency)
        .build()?;
    let source = ZohoSource::new(client, vec![ZohoStream::Module("Leads".into())])
        .with_fields("Leads", FIELDS)
        .with_bulk_threshold(u64::MAX)
        .with_partitions(concurrency);
    let started = Instant::now();
    let report = copy(
        &source,
        &DiscardSink,
        CopyOptions::new().max_partitions(concurrency),
    )
    .await?;
    let t = report.totals();
    if t.malformed + t.failed > 0 {
        return Err(format!("crawl was not clean: {report}").into());
    }
    println!(
        "{} {:.3} {}",
        t.read,
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    Ok(())
}

fn run_child(e: &Emulator, concurrency: usize) -> Res<(u64, f64, u64)> {
    let out = Command::new(std::env::current_exe()?)
        .args([
            "child-crawl",
            &e.accounts,
            &e.client_id,
            &e.client_secret,
            &e.refresh_token,
            &concurrency.to_string(),
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!("crawl failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut it = text.split_whitespace();
    let mut next = || it.next().ok_or("short child output");
    Ok((next()?.parse()?, next()?.parse()?, next()?.parse()?))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "child-crawl") {
        return crawl(&args[i + 1..]).await;
    }
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let records = env("ZOHO_BENCH_RECORDS", 250_000) as usize;
    let latency_ms = env("ZOHO_BENCH_LATENCY_MS", 100);
    let concurrency = env("ZOHO_BENCH_CONCURRENCY", 10) as usize;
    let ideal = concurrency as f64 * 200.0 / (latency_ms as f64 / 1000.0);
    println!(
        "crawl of Leads ({} fields) with {latency_ms} ms per request, concurrency {concurrency}",
        FIELDS.len() + 2
    );
    println!(
        "fastest schedule the limits allow: {concurrency} x 200 / {latency_ms} ms = {ideal:.0} records/s"
    );

    let small = (records / 10).max(1_000);
    let mut rows = Vec::new();
    for n in [small, records] {
        let e = start_emulator(n, latency_ms, concurrency)?;
        let (read, secs, kib) = run_child(&e, concurrency)?;
        if read != n as u64 {
            return Err(format!("crawled {read} of {n} records").into());
        }
        rows.push((n, secs, kib));
        println!(
            "  {n:>8} records: {secs:>7.2} s  {:>9.0} records/s  ({:>5.1}% of the schedule)  peak RSS {:>6.1} MiB",
            n as f64 / secs,
            100.0 * n as f64 / secs / ideal,
            kib as f64 / 1024.0
        );
    }
    if let [(_, _, small_kib), (_, _, large_kib)] = rows[..] {
        println!(
            "  peak memory {records} / {small} records: {:.2}x (flat: close to 1)",
            large_kib as f64 / small_kib.max(1) as f64
        );
    }
    Ok(())
}
