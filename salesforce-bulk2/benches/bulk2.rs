//! Bulk API 2.0 against the emulator on loopback (the `salesforce-emulator` binary in a
//! process of its own), each figure a ratio against a baseline measured in the same
//! run:
//!
//! a. a 10-column query of N Accounts streamed into typed batches: records/s against
//!    the raw download of the same pages (bytes counted, nothing parsed) and against
//!    plain pages (compression off), and the peak RSS of N rows against N/10 rows (each
//!    in a child process of its own);
//! b. the same query through simple-salesforce's `SFBulk2Handler` (each page parsed
//!    with `csv.reader`): throughput and peak RSS ratios, for this crate reading the
//!    locator chain and reading `resultPages` 4 at once;
//! c. parallel `resultPages` (5 at once) against the sequential locator chain, with
//!    per-page latency injected in the emulator;
//! d. an upsert of N rows from a CSV file by external id (`copy(CsvSource,
//!    SalesforceSink)`): records/s against reading the same file alone, and peak RSS.
//!
//! ```sh
//! cargo bench -p salesforce-bulk2 --features emulator --bench bulk2
//! SF_BENCH_ROWS=200000 cargo bench -p salesforce-bulk2 --features emulator --bench bulk2
//! ```
//!
//! Python with simple-salesforce is `SF_BENCH_PYTHON`, else `.venv-bench/bin/python`
//! of the workspace; without it comparison b is skipped (create it with
//! `python3 -m venv .venv-bench && .venv-bench/bin/pip install simple-salesforce==1.12.10`).

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_core::file::CsvSource;
use connector_core::memory::DiscardSink;
use connector_core::tls::TlsOptions;
use connector_core::{CopyOptions, WriteMode, copy};
use futures::TryStreamExt;
use salesforce_bulk2::auth::Credentials;
use salesforce_bulk2::emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use salesforce_bulk2::query::{QueryRequest, ResultOptions};
use salesforce_bulk2::sink::SalesforceSink;
use salesforce_bulk2::{PollOptions, SalesforceClient};
use secrecy::SecretString;
use type_mapping::ConversionPolicy;

type Res<T> = Result<T, Box<dyn Error>>;

/// The ten columns queried.
const COLUMNS: [&str; 10] = [
    "Id",
    "Name",
    "Type",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "Website",
    "Description",
    "Active__c",
    "CreatedDate",
];

/// `maxRecords` per page, simple-salesforce's default.
const PAGE: u64 = 50_000;

const PYTHON: &str = r#"
import csv, io, sys, time
import requests
from simple_salesforce.bulk2 import SFBulk2Handler
base, client_id, secret, version, soql, page = sys.argv[1:7]
token = requests.post(f"{base}/services/oauth2/token", data={
    "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
}).json()["access_token"]
handler = SFBulk2Handler(token, f"{base}/services/data/v{version}/jobs/")
started = time.monotonic()
rows = 0
for text in handler.Account.query(soql, max_records=int(page), wait=0.05):
    reader = csv.reader(io.StringIO(text))
    next(reader)
    for row in reader:
        rows += 1
secs = time.monotonic() - started
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(rows, f"{secs:.3f}", hwm, f"{time.process_time():.2f}")
"#;

struct Emulator {
    child: Child,
    base: String,
    version: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator(args: &[String]) -> Res<Emulator> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_salesforce-emulator"))
        .args(["--port", &port.to_string()])
        .args(args)
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
        base: get("base URL")?,
        version: get("api version")?,
        child,
    })
}

fn client(base: &str) -> Res<SalesforceClient> {
    Ok(SalesforceClient::builder()
        .instance_url(base)
        .credentials(Credentials::ClientCredentials {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(DEFAULT_CLIENT_SECRET.to_owned()),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .poll(PollOptions {
            initial: Duration::from_millis(20),
            max_interval: Duration::from_millis(100),
            timeout: Duration::from_secs(3600),
        })
        .build()?)
}

fn soql(limit: Option<u64>) -> String {
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    format!("SELECT {} FROM Account{limit}", COLUMNS.join(", "))
}

/// CPU seconds (user and system, every thread) process `pid` has used so far.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state (field 3) ... utime (14), stime (15),
    // in clock ticks of 10 ms.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
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

/// Child: the query streamed into typed batches; prints `rows seconds peak_kib cpu_secs`.
async fn child_typed(
    base: &str,
    limit: Option<u64>,
    concurrent: usize,
    compression: bool,
) -> Res<()> {
    let c = client(base)?;
    let schema = Arc::new(c.describe("Account").await?.schema().project(&COLUMNS)?);
    let started = Instant::now();
    let jobs = c.query_jobs();
    let job = jobs.create(&QueryRequest::new(soql(limit))).await?;
    let job = jobs.wait(&job.id).await?;
    let options = ResultOptions {
        max_records: Some(PAGE),
        max_concurrent: concurrent,
        compression,
        ..ResultOptions::default()
    };
    let mut batches = jobs.records(&job, schema, ConversionPolicy::default(), options);
    let (mut rows, mut invalid) = (0u64, 0usize);
    while let Some(batch) = batches.try_next().await? {
        rows += batch.records.len() as u64;
        invalid += batch.invalid.len();
    }
    if invalid > 0 {
        return Err(format!("{invalid} rows did not fit their types").into());
    }
    println!(
        "{rows} {:.3} {} {:.2}",
        started.elapsed().as_secs_f64(),
        peak_rss_kib(),
        cpu_secs(std::process::id())
    );
    Ok(())
}

/// Child: the same pages downloaded with plain reqwest, bytes counted, nothing parsed.
async fn child_raw(base: &str, version: &str) -> Res<()> {
    connector_core::http::install_crypto_provider();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"].as_str().ok_or("no token")?.to_owned();
    let jobs = format!("{base}/services/data/v{version}/jobs/query");
    let started = Instant::now();
    let job: serde_json::Value = http
        .post(&jobs)
        .bearer_auth(&token)
        .json(&serde_json::json!({"operation": "query", "query": soql(None)}))
        .send()
        .await?
        .json()
        .await?;
    let id = job["id"].as_str().ok_or("no job id")?.to_owned();
    loop {
        let info: serde_json::Value = http
            .get(format!("{jobs}/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if info["state"] == "JobComplete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut rows, mut bytes) = (0u64, 0u64);
    let mut locator: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{jobs}/{id}/results"))
            .bearer_auth(&token)
            .query(&[("maxRecords", PAGE.to_string())]);
        if let Some(l) = &locator {
            request = request.query(&[("locator", l)]);
        }
        let mut response = request.send().await?.error_for_status()?;
        let header = |n: &str| {
            response
                .headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        rows += header("sforce-numberofrecords")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        locator = header("sforce-locator").filter(|l| l != "null" && !l.is_empty());
        while let Some(chunk) = response.chunk().await? {
            bytes += chunk.len() as u64;
        }
        if locator.is_none() {
            break;
        }
    }
    println!(
        "{rows} {:.3} {} {bytes}",
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    Ok(())
}

/// Child: upsert a CSV file of invoices (or only read it, `read-only`).
async fn child_upsert(base: &str, file: &str, read_only: bool) -> Res<()> {
    let source = CsvSource::new(file).with_stream_name("Invoice__c");
    let started = Instant::now();
    let report = if read_only {
        copy(&source, &DiscardSink, CopyOptions::new()).await?
    } else {
        let sink = SalesforceSink::new(client(base)?).max_concurrent_connections(2);
        let options = CopyOptions::new()
            .batch_size(10_000)
            .write_mode(WriteMode::Upsert {
                key: vec!["External_Id__c".into()],
            });
        copy(&source, &sink, options).await?
    };
    let t = report.totals();
    if t.written != t.read || t.read == 0 {
        return Err(format!("upsert was not clean: {report}").into());
    }
    println!(
        "{} {:.3} {}",
        t.written,
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    Ok(())
}

/// Runs this binary as a child: `(rows, seconds, peak KiB)`.
fn run_child(args: &[&str]) -> Res<(f64, f64, f64)> {
    let out = Command::new(std::env::current_exe()?)
        .arg("child")
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    parse_three(&String::from_utf8(out.stdout)?)
}

/// The fourth figure of a child's output: its CPU seconds.
fn cpu_of(text: &str) -> Res<f64> {
    Ok(text
        .split_whitespace()
        .nth(3)
        .ok_or("no CPU figure in the child's output")?
        .parse()?)
}

/// Runs this binary as a child that prints `rows seconds peak_kib cpu_secs`.
fn run_child_cpu(args: &[&str]) -> Res<(f64, f64, f64, f64)> {
    let out = Command::new(std::env::current_exe()?)
        .arg("child")
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    let (rows, secs, kib) = parse_three(&text)?;
    Ok((rows, secs, kib, cpu_of(&text)?))
}

fn parse_three(text: &str) -> Res<(f64, f64, f64)> {
    let mut it = text.split_whitespace();
    let mut next = || -> Res<f64> { Ok(it.next().ok_or("short child output")?.parse()?) };
    Ok((next()?, next()?, next()?))
}

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("SF_BENCH_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-bench/bin/python"),
        PathBuf::from,
    );
    let ok = Command::new(&candidate)
        .args(["-c", "import simple_salesforce.bulk2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn write_invoices(path: &Path, n: usize) -> Res<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "External_Id__c,Name,Amount__c,Quantity__c,Paid__c,Issue_Date__c"
    )?;
    for i in 0..n {
        writeln!(
            w,
            "INV-{i:08},\"Invoice {i}, monthly\",{}.{:02},{},{},2024-{:02}-{:02}",
            i % 100_000,
            i % 100,
            i % 17,
            i % 2 == 0,
            1 + i % 12,
            1 + i % 28
        )?;
    }
    w.flush()?;
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "child") {
        let rest: Vec<&str> = args[i + 1..].iter().map(String::as_str).collect();
        return match rest.as_slice() {
            ["typed", base, limit, concurrent, rest @ ..] => {
                let limit = limit.parse::<u64>().ok().filter(|n| *n > 0);
                let compression = rest.first() != Some(&"plain");
                child_typed(base, limit, concurrent.parse()?, compression).await
            }
            ["raw", base, version] => child_raw(base, version).await,
            ["upsert", base, file] => child_upsert(base, file, false).await,
            ["read", base, file] => child_upsert(base, file, true).await,
            other => Err(format!("bad child arguments {other:?}").into()),
        };
    }
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let rows = env("SF_BENCH_ROWS", 1_000_000);
    let upsert_rows = env("SF_BENCH_UPSERT_ROWS", rows);
    let latency_ms = env("SF_BENCH_LATENCY_MS", 200);
    let tenth = (rows / 10).max(1);

    println!("a. {rows} Accounts x 10 columns, pages of {PAGE}, emulator in its own process");
    let emulator = start_emulator(&[format!("--seed=Account={rows}")])?;
    let base = emulator.base.clone();
    let (raw_rows, raw_secs, _) = {
        let out = Command::new(std::env::current_exe()?)
            .args(["child", "raw", &base, &emulator.version])
            .output()?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
        }
        parse_three(&String::from_utf8(out.stdout)?)?
    };
    let emulator_pid = emulator.child.id();
    let emulator_before = cpu_secs(emulator_pid);
    let (n, secs, hwm, cpu) = run_child_cpu(&["typed", &base, "0", "1"])?;
    let emulator_cpu = cpu_secs(emulator_pid) - emulator_before;
    let (n10, _, hwm10) = run_child(&["typed", &base, &tenth.to_string(), "1"])?;
    if n as u64 != rows || n10 as u64 != tenth || raw_rows as u64 != rows {
        return Err(
            format!("row counts {n} / {n10} / {raw_rows}, expected {rows} / {tenth}").into(),
        );
    }
    let rate = n / secs;
    let raw_rate = raw_rows / raw_secs;
    println!(
        "   typed batches: {rate:>10.0} records/s ({secs:.2} s); raw page download {raw_rate:.0} records/s: {:.2}x of raw",
        rate / raw_rate
    );
    let (np, secs_plain, _) = run_child(&["typed", &base, "0", "1", "plain"])?;
    if np as u64 != rows {
        return Err(format!("plain pages gave {np} rows, expected {rows}").into());
    }
    println!(
        "   typed batches, compression off (ResultOptions::compression false): {:>10.0} records/s ({secs_plain:.2} s): {:.2}x of gzip",
        np / secs_plain,
        secs / secs_plain
    );
    // Microseconds per row, so that a ratio's ceiling can be read off.
    let per_row = |cpu_secs: f64, rows: f64| cpu_secs * 1e6 / rows;
    println!(
        "   CPU per row: this crate {:.2} us, the emulator (running the job, serving its pages) {:.2} us",
        per_row(cpu, n),
        per_row(emulator_cpu, n)
    );
    println!(
        "   peak RSS: {:.1} MiB for {rows} rows, {:.1} MiB for {tenth}: {:.2}x (target <= 1.5x)",
        mib(hwm),
        mib(hwm10),
        hwm / hwm10
    );

    println!("b. the same query through simple-salesforce's SFBulk2Handler");
    match python() {
        None => println!(
            "   skipped: no Python with simple-salesforce (set SF_BENCH_PYTHON, or run \
             `python3 -m venv .venv-bench && .venv-bench/bin/pip install simple-salesforce==1.12.10` \
             in the workspace)"
        ),
        Some(python) => {
            let script = std::env::temp_dir().join(format!("sf-bench-{}.py", std::process::id()));
            std::fs::write(&script, PYTHON)?;
            let out = Command::new(&python)
                .arg(&script)
                .args([
                    base.as_str(),
                    DEFAULT_CLIENT_ID,
                    DEFAULT_CLIENT_SECRET,
                    emulator.version.as_str(),
                    &soql(None),
                    &PAGE.to_string(),
                ])
                .output()?;
            let _ = std::fs::remove_file(&script);
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
            }
            let py_text = String::from_utf8(out.stdout)?;
            let (py_rows, py_secs, py_hwm) = parse_three(&py_text)?;
            let py_cpu = cpu_of(&py_text)?;
            if py_rows as u64 != rows {
                return Err(format!("simple-salesforce read {py_rows} rows").into());
            }
            println!(
                "   simple-salesforce: {:>10.0} records/s ({py_secs:.2} s), peak RSS {:.1} MiB, CPU per row {:.2} us",
                py_rows / py_secs,
                mib(py_hwm),
                per_row(py_cpu, py_rows)
            );
            let py_rate = py_rows / py_secs;
            println!(
                "   this crate, locator chain:   {:.1}x the throughput (aim >= 10x), {:.2}x the memory (aim <= 0.2x)",
                rate / py_rate,
                hwm / py_hwm
            );
            let (n4, secs4, hwm4) = run_child(&["typed", &base, "0", "4"])?;
            if n4 as u64 != rows {
                return Err(format!("resultPages read {n4} rows").into());
            }
            println!(
                "   this crate, resultPages 4 at once: {:>10.0} records/s ({secs4:.2} s), peak RSS {:.1} MiB: {:.1}x the throughput, {:.2}x the memory",
                n4 / secs4,
                mib(hwm4),
                (n4 / secs4) / py_rate,
                hwm4 / py_hwm
            );
        }
    }
    drop(emulator);

    let pages_rows = 10 * 5_000;
    println!(
        "c. {pages_rows} Accounts in 10 pages of 5000, {latency_ms} ms latency per page: resultPages (5 at once) vs the locator chain"
    );
    let slow = start_emulator(&[
        format!("--seed=Account={pages_rows}"),
        format!("--page-latency-ms={latency_ms}"),
    ])?;
    let c = client(&slow.base)?;
    let schema = Arc::new(c.describe("Account").await?.schema().project(&COLUMNS)?);
    let jobs = c.query_jobs();
    let job = jobs.create(&QueryRequest::new(soql(None))).await?;
    let job = jobs.wait(&job.id).await?;
    let mut timed = Vec::new();
    for concurrent in [1usize, 5] {
        let options = ResultOptions {
            max_records: Some(5_000),
            max_concurrent: concurrent,
            ..ResultOptions::default()
        };
        let started = Instant::now();
        let got: u64 = jobs
            .records(&job, schema.clone(), ConversionPolicy::default(), options)
            .map_ok(|b| b.records.len() as u64)
            .try_fold(0, |a, n| async move { Ok(a + n) })
            .await?;
        if got != pages_rows {
            return Err(format!("{got} rows with {concurrent} at once").into());
        }
        timed.push(started.elapsed().as_secs_f64());
    }
    println!(
        "   sequential {:.2} s, parallel {:.2} s: {:.2}x (aim >= 1.8x)",
        timed[0],
        timed[1],
        timed[0] / timed[1]
    );
    drop(slow);

    println!(
        "d. upsert {upsert_rows} invoices from a CSV file by External_Id__c (jobs of 100,000 rows, 2 at once)"
    );
    let dir = std::env::temp_dir().join(format!("sf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("invoices.csv");
    write_invoices(&file, upsert_rows as usize)?;
    let target = start_emulator(&[])?;
    let path = file.to_string_lossy().into_owned();
    let (read_n, read_secs, read_hwm) = run_child(&["read", &target.base, &path])?;
    let (n, secs, hwm) = run_child(&["upsert", &target.base, &path])?;
    drop(target);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "   upsert: {:>10.0} records/s ({secs:.2} s), peak RSS {:.1} MiB; reading the file alone {:.0} records/s, {:.1} MiB: {:.2}x of it",
        n / secs,
        mib(hwm),
        read_n / read_secs,
        mib(read_hwm),
        (n / secs) / (read_n / read_secs)
    );
    Ok(())
}
