//! Bulk API 2.0 against the emulator on loopback (the `salesforce-emulator` binary in a
//! process of its own), each figure a ratio against a baseline measured in the same
//! run:
//!
//! a. a 10-column query of N Accounts streamed into typed batches, gzip pages (the
//!    default) against plain pages, records against typed columns
//!    (`QueryJobs::columns`), and against the raw download of plain pages (bytes
//!    counted, nothing parsed), and the peak RSS of N rows against N/10 rows (each in a
//!    child process of its own). Records per second time the results' streaming, from
//!    the moment the job is complete: the emulator writes a job's result when it runs
//!    the job, as Salesforce does, and that time is the server's, the same for every
//!    client;
//! b. the same query through simple-salesforce's `SFBulk2Handler` (its `query` step by
//!    step, each page parsed with `csv.reader`), with plain pages and with gzip pages:
//!    throughput and peak RSS ratios like for like, for this crate reading records and
//!    typed columns, one page at a time and 4 at once (`resultPages`);
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

/// glibc told to keep freed memory instead of handing the top of the heap back to the
/// kernel after every batch (and faulting it in again for the next), and to serve
/// buffers of up to 32 MiB (a batch's columns) from the heap rather than from fresh
/// mappings.
const UNTRIMMED: &str = "glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=16777216:glibc.malloc.mmap_threshold=33554432";

/// `maxRecords` per page, simple-salesforce's default.
const PAGE: u64 = 50_000;

/// simple-salesforce's `SFBulk2Type.query` step by step (create the job, wait, read
/// the pages by locator: the same calls), so that the result's streaming is timed apart
/// from the job. `identity` asks for plain pages (requests asks for gzip by default).
const PYTHON: &str = r#"
import csv, io, sys, time
import requests
from simple_salesforce.bulk2 import SFBulk2Handler
base, client_id, secret, version, soql, page, encoding = sys.argv[1:8]
token = requests.post(f"{base}/services/oauth2/token", data={
    "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
}).json()["access_token"]
session = requests.Session()
if encoding == "identity":
    session.headers["Accept-Encoding"] = "identity"
handler = SFBulk2Handler(token, f"{base}/services/data/v{version}/jobs/", session=session)
client = handler.Account._client
started = time.monotonic()
job = client.create_job("query", soql, "COMMA", "LF")["id"]
client.wait_for_job(job, True, 0.05)
streaming = time.monotonic()
rows, locator = 0, ""
while True:
    result = client.get_query_results(job, locator, int(page))
    reader = csv.reader(io.StringIO(result["records"]))
    next(reader)
    for row in reader:
        rows += 1
    locator = result["locator"]
    if not locator:
        break
end = time.monotonic()
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(rows, f"{end - streaming:.3f}", hwm, f"{time.process_time():.2f}", f"{end - started:.3f}")
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

/// Child: the query streamed into typed batches; prints `rows seconds peak_kib cpu_secs
/// total_seconds`, `seconds` timing the results' streaming once the job is complete.
async fn child_typed(
    base: &str,
    limit: Option<u64>,
    concurrent: usize,
    compression: bool,
    in_order: bool,
    columnar: bool,
) -> Res<()> {
    let c = client(base)?;
    let schema = Arc::new(c.describe("Account").await?.schema().project(&COLUMNS)?);
    let started = Instant::now();
    let jobs = c.query_jobs();
    let job = jobs.create(&QueryRequest::new(soql(limit))).await?;
    let job = jobs.wait(&job.id).await?;
    let streaming = Instant::now();
    let options = ResultOptions {
        max_records: Some(PAGE),
        max_concurrent: concurrent,
        compression,
        in_order,
        ..ResultOptions::default()
    };
    let (mut rows, mut invalid) = (0u64, 0usize);
    if columnar {
        let mut batches = jobs.columns(&job, schema, ConversionPolicy::default(), options);
        while let Some(batch) = batches.try_next().await? {
            rows += batch.columns.len() as u64;
            invalid += batch.invalid.len();
        }
    } else {
        let mut batches = jobs.records(&job, schema, ConversionPolicy::default(), options);
        while let Some(batch) = batches.try_next().await? {
            rows += batch.records.len() as u64;
            invalid += batch.invalid.len();
        }
    }
    let secs = streaming.elapsed().as_secs_f64();
    if invalid > 0 {
        return Err(format!("{invalid} rows did not fit their types").into());
    }
    // The emulator keeps a result until its job is deleted, as Salesforce keeps it for
    // days: without this, every run would hold on to another copy.
    jobs.delete(&job.id).await?;
    println!(
        "{rows} {secs:.3} {} {:.2} {:.3}",
        peak_rss_kib(),
        cpu_secs(std::process::id()),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Child: the same pages downloaded with plain reqwest, bytes counted, nothing parsed;
/// prints `rows seconds peak_kib bytes total_seconds`.
async fn child_raw(base: &str, version: &str) -> Res<()> {
    connector_core::http::install_crypto_provider();
    // Plain pages: no gzip asked for, none to inflate.
    let http = reqwest::Client::builder().no_gzip().build()?;
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
    let streaming = Instant::now();
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
        "{rows} {:.3} {} {bytes} {:.3}",
        streaming.elapsed().as_secs_f64(),
        peak_rss_kib(),
        started.elapsed().as_secs_f64(),
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

/// What a child printed: `rows seconds peak_kib` and, where it measures them, CPU
/// seconds (or bytes, for `raw`) and the seconds from creating the job.
struct Run {
    rows: f64,
    secs: f64,
    kib: f64,
    fourth: f64,
    total: f64,
}

impl Run {
    fn parse(text: &str) -> Res<Self> {
        let mut it = text.split_whitespace();
        let mut next = |required: bool| -> Res<f64> {
            match it.next() {
                Some(v) => Ok(v.parse()?),
                None if required => Err(format!("short child output: {text:?}").into()),
                None => Ok(f64::NAN),
            }
        };
        Ok(Self {
            rows: next(true)?,
            secs: next(true)?,
            kib: next(true)?,
            fourth: next(false)?,
            total: next(false)?,
        })
    }

    fn rate(&self) -> f64 {
        self.rows / self.secs
    }

    /// Checks the row count.
    fn check_rows(self, rows: u64, what: &str) -> Res<Self> {
        if self.rows as u64 != rows {
            return Err(format!("{what} read {} rows, expected {rows}", self.rows).into());
        }
        Ok(self)
    }
}

/// Runs `program args` and parses its output.
fn run(program: &Path, args: &[&str]) -> Res<Run> {
    run_env(program, args, &[])
}

/// Runs `program args` with `env` set and parses its output.
fn run_env(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Res<Run> {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "{} {args:?} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Run::parse(&String::from_utf8(out.stdout)?)
}

/// Runs this binary as a child.
fn run_child(args: &[&str]) -> Res<Run> {
    let mut all = vec!["child"];
    all.extend_from_slice(args);
    run(&std::env::current_exe()?, &all)
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
                let compression = !rest.contains(&"plain");
                let in_order = !rest.contains(&"unordered");
                let columnar = rest.contains(&"columns");
                child_typed(
                    base,
                    limit,
                    concurrent.parse()?,
                    compression,
                    in_order,
                    columnar,
                )
                .await
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

    println!(
        "a. {rows} Accounts x 10 columns, pages of {PAGE}, emulator in its own process; \
         records/s time the results' streaming, once the job is complete"
    );
    let emulator = start_emulator(&[format!("--seed=Account={rows}")])?;
    let base = emulator.base.clone();
    let version = emulator.version.clone();
    let raw = run_child(&["raw", &base, &version])?.check_rows(rows, "the raw download")?;
    let emulator_pid = emulator.child.id();
    let emulator_before = cpu_secs(emulator_pid);
    let gzip = run_child(&["typed", &base, "0", "1"])?.check_rows(rows, "gzip pages")?;
    let emulator_cpu = cpu_secs(emulator_pid) - emulator_before;
    let small = run_child(&["typed", &base, &tenth.to_string(), "1"])?.check_rows(tenth, "N/10")?;
    let emulator_before = cpu_secs(emulator_pid);
    let plain = run_child(&["typed", &base, "0", "1", "plain"])?.check_rows(rows, "plain pages")?;
    let emulator_cpu_plain = cpu_secs(emulator_pid) - emulator_before;
    // Microseconds per row, so that a ratio's ceiling can be read off.
    let per_row = |cpu_secs: f64, rows: f64| cpu_secs * 1e6 / rows;
    let columns = run_child(&["typed", &base, "0", "1", "plain", "columns"])?
        .check_rows(rows, "typed columns")?;
    let untrimmed = run_env(
        &std::env::current_exe()?,
        &["child", "typed", &base, "0", "1", "plain"],
        &[("GLIBC_TUNABLES", UNTRIMMED)],
    )?
    .check_rows(rows, "plain pages, glibc not trimming")?;
    let columns_untrimmed = run_env(
        &std::env::current_exe()?,
        &["child", "typed", &base, "0", "1", "plain", "columns"],
        &[("GLIBC_TUNABLES", UNTRIMMED)],
    )?
    .check_rows(rows, "typed columns, glibc not trimming")?;
    println!(
        "   typed batches, gzip pages (the default): {:>10.0} records/s ({:.2} s; {:.2} s from creating the job)",
        gzip.rate(),
        gzip.secs,
        gzip.total
    );
    println!(
        "   typed batches, plain pages (ResultOptions::compression false): {:>10.0} records/s ({:.2} s): {:.2}x of gzip",
        plain.rate(),
        plain.secs,
        plain.rate() / gzip.rate()
    );
    println!(
        "   typed columns (QueryJobs::columns), plain pages: {:>10.0} records/s ({:.2} s), peak RSS {:.1} MiB, CPU per row {:.2} us: {:.2}x the records' throughput",
        columns.rate(),
        columns.secs,
        mib(columns.kib),
        per_row(columns.fourth, columns.rows),
        columns.rate() / plain.rate()
    );
    println!(
        "   plain pages, glibc's heap not trimmed (GLIBC_TUNABLES={UNTRIMMED}): {:>10.0} records/s ({:.2} s), CPU per row {:.2} us against {:.2} us: {:.2}x",
        untrimmed.rate(),
        untrimmed.secs,
        per_row(untrimmed.fourth, untrimmed.rows),
        per_row(plain.fourth, plain.rows),
        untrimmed.rate() / plain.rate()
    );
    println!(
        "   typed columns, glibc's heap not trimmed: {:>10.0} records/s ({:.2} s), CPU per row {:.2} us against {:.2} us: {:.2}x",
        columns_untrimmed.rate(),
        columns_untrimmed.secs,
        per_row(columns_untrimmed.fourth, columns_untrimmed.rows),
        per_row(columns.fourth, columns.rows),
        columns_untrimmed.rate() / columns.rate()
    );
    println!(
        "   raw download of plain pages, nothing parsed: {:>10.0} records/s ({:.2} s): typed plain is {:.2}x of it",
        raw.rate(),
        raw.secs,
        plain.rate() / raw.rate()
    );
    println!(
        "   CPU per row, gzip pages: this crate {:.2} us, the emulator {:.2} us (running the job, writing its result, compressing pages)",
        per_row(gzip.fourth, gzip.rows),
        per_row(emulator_cpu, gzip.rows)
    );
    println!(
        "   CPU per row, plain pages: this crate {:.2} us, the emulator {:.2} us (running the job, writing its result, sending pages)",
        per_row(plain.fourth, plain.rows),
        per_row(emulator_cpu_plain, plain.rows)
    );
    println!(
        "   peak RSS: {:.1} MiB for {rows} rows, {:.1} MiB for {tenth}: {:.2}x (target <= 1.5x)",
        mib(gzip.kib),
        mib(small.kib),
        gzip.kib / small.kib
    );

    println!(
        "b. the same query through simple-salesforce's SFBulk2Handler, each page parsed with csv.reader"
    );
    match python() {
        None => println!(
            "   skipped: no Python with simple-salesforce (set SF_BENCH_PYTHON, or run \
             `python3 -m venv .venv-bench && .venv-bench/bin/pip install simple-salesforce==1.12.10` \
             in the workspace)"
        ),
        Some(python) => {
            let script = std::env::temp_dir().join(format!("sf-bench-{}.py", std::process::id()));
            std::fs::write(&script, PYTHON)?;
            let script_path = script.to_string_lossy().into_owned();
            let query = soql(None);
            let page = PAGE.to_string();
            let py = |encoding: &str| {
                run(
                    &python,
                    &[
                        script_path.as_str(),
                        base.as_str(),
                        DEFAULT_CLIENT_ID,
                        DEFAULT_CLIENT_SECRET,
                        version.as_str(),
                        query.as_str(),
                        page.as_str(),
                        encoding,
                    ],
                )
                .and_then(|r| r.check_rows(rows, "simple-salesforce"))
            };
            let py_plain = py("identity");
            let py_gzip = py("gzip");
            let _ = std::fs::remove_file(&script);
            let (py_plain, py_gzip) = (py_plain?, py_gzip?);
            for (label, r) in [
                ("plain pages", &py_plain),
                ("gzip pages (its default)", &py_gzip),
            ] {
                println!(
                    "   simple-salesforce, {label}: {:>10.0} records/s ({:.2} s), peak RSS {:.1} MiB, CPU per row {:.2} us",
                    r.rate(),
                    r.secs,
                    mib(r.kib),
                    per_row(r.fourth, r.rows)
                );
            }
            println!(
                "   this crate, gzip pages one at a time:  {:.2}x its gzip throughput, {:.2}x its memory",
                gzip.rate() / py_gzip.rate(),
                gzip.kib / py_gzip.kib
            );
            let mut runs = vec![
                ("records, plain pages one at a time", plain),
                ("typed columns, plain pages one at a time", columns),
            ];
            for (label, args) in [
                (
                    "records, plain pages 4 at once in order",
                    &["4", "plain"][..],
                ),
                (
                    "records, plain pages 4 at once as they come",
                    &["4", "plain", "unordered"],
                ),
                (
                    "typed columns, plain pages 4 at once in order",
                    &["4", "plain", "columns"],
                ),
                (
                    "typed columns, plain pages 4 at once as they come",
                    &["4", "plain", "columns", "unordered"],
                ),
            ] {
                let mut child = vec!["typed", base.as_str(), "0"];
                child.extend_from_slice(args);
                runs.push((label, run_child(&child)?.check_rows(rows, label)?));
            }
            for (label, r) in &runs {
                println!(
                    "   this crate, {label}: {:>10.0} records/s ({:.2} s), peak RSS {:.1} MiB, CPU per row {:.2} us: {:.2}x its plain throughput (aim >= 10x), {:.2}x its memory (aim <= 0.2x)",
                    r.rate(),
                    r.secs,
                    mib(r.kib),
                    per_row(r.fourth, r.rows),
                    r.rate() / py_plain.rate(),
                    r.kib / py_plain.kib
                );
            }
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
    let read = run_child(&["read", &target.base, &path])?;
    let upsert = run_child(&["upsert", &target.base, &path])?;
    let (read_n, read_secs, read_hwm) = (read.rows, read.secs, read.kib);
    let (n, secs, hwm) = (upsert.rows, upsert.secs, upsert.kib);
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
