//! File benchmarks of connector-core, printed as figures and ratios against a baseline
//! measured in the same run.
//!
//! ```sh
//! cargo bench -p connector-core --bench file_copy            # 1,000,000 rows
//! BENCH_ROWS=200000 cargo bench -p connector-core --bench file_copy
//! ```
//!
//! 1. Text to typed rows: a generated 10-column CSV read by `CsvSource` into typed
//!    batches, against the raw `csv` crate `ByteRecord` parse of the same file.
//! 2. Peak memory of a file-to-file `copy` (CSV to JSON Lines) of the large file against
//!    a 10,000-row one, each copy in a child process that reports its own peak RSS.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use connector_core::file::{CsvSource, JsonlSink};
use connector_core::type_mapping::{DataType, Field, Schema};
use connector_core::{CopyOptions, Partition, ReadRequest, Source, SourceEvent, copy};
use futures::StreamExt;

type Res<T> = Result<T, Box<dyn Error>>;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64).with_nullable(false),
        Field::new("name", DataType::String),
        Field::new("email", DataType::String),
        Field::new("amount", DataType::decimal(18, 2)),
        Field::new("quantity", DataType::Int32),
        Field::new("active", DataType::Boolean),
        Field::new("created", DataType::Date),
        Field::new("modified", DataType::DateTimeOffset),
        Field::new("score", DataType::Float64),
        Field::new("note", DataType::String),
    ])
}

fn generate(path: &Path, rows: usize) -> Res<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(
        w,
        "id,name,email,amount,quantity,active,created,modified,score,note"
    )?;
    for i in 0..rows {
        writeln!(
            w,
            "{i},Customer {i},user{i}@example.com,{}.{:02},{},{},2024-{:02}-{:02},2024-05-{:02}T{:02}:{:02}:{:02}.000+0000,{}.{},\"note, with comma {i}\"",
            i % 100_000,
            i % 100,
            i % 5_000,
            i % 2 == 0,
            1 + i % 12,
            1 + i % 28,
            1 + i % 28,
            i % 24,
            i % 60,
            (i * 7) % 60,
            i % 1000,
            i % 10,
        )?;
    }
    w.flush()?;
    Ok(())
}

fn raw_parse(path: &Path) -> Res<(usize, Duration)> {
    let start = Instant::now();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)?;
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader.read_byte_record(&mut record)? {
        fields += record.len();
    }
    Ok((fields / 10, start.elapsed()))
}

async fn typed_parse(path: &Path) -> Res<(usize, Duration)> {
    let start = Instant::now();
    let source = CsvSource::new(path).with_schema(schema());
    let req = ReadRequest::new(connector_core::StreamId::new(
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    ))
    .with_batch_size(4_096);
    let mut rows = 0usize;
    let mut invalid = 0usize;
    let mut events = source.read(Partition::whole(&req));
    while let Some(event) = events.next().await {
        match event? {
            SourceEvent::Batch(b) => rows += b.len(),
            SourceEvent::Invalid(_) => invalid += 1,
            _ => {}
        }
    }
    if invalid > 0 {
        return Err(format!("{invalid} rows did not convert").into());
    }
    Ok((rows, start.elapsed()))
}

/// CPU time (user + system) of this process so far, all threads.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of /proc/[pid]/stat; 11 and 12 after ')'.
    let total = ticks(11) + ticks(12);
    Duration::from_secs_f64(total as f64 / 100.0)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Child mode: copy `input` to JSON Lines and print `rows peak_kib seconds`.
async fn child_copy(input: &Path, output: &Path) -> Res<()> {
    let start = Instant::now();
    let source = CsvSource::new(input).with_schema(schema());
    let report = copy(&source, &JsonlSink::new(output), CopyOptions::new()).await?;
    let t = report.totals();
    if !report.is_clean() {
        return Err(format!("copy was not clean: {report}").into());
    }
    println!(
        "{} {} {:.3}",
        t.written,
        peak_rss_kib().unwrap_or(0),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_child(input: &Path, output: &Path) -> Res<(u64, u64, f64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("child-copy")
        .arg(input)
        .arg(output)
        .output()?;
    if !out.status.success() {
        return Err(format!("child failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut parts = text.split_whitespace();
    let mut next = || parts.next().ok_or("short child output");
    Ok((next()?.parse()?, next()?.parse()?, next()?.parse()?))
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "child-copy") {
        let input = PathBuf::from(args.get(i + 1).ok_or("missing input")?);
        let output = PathBuf::from(args.get(i + 2).ok_or("missing output")?);
        return child_copy(&input, &output).await;
    }
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let large = dir.path().join("large.csv");
    let small = dir.path().join("small.csv");
    generate(&large, rows)?;
    generate(&small, 10_000)?;
    let size = std::fs::metadata(&large)?.len();
    println!(
        "file: {rows} rows x 10 columns, {:.1} MiB",
        size as f64 / (1 << 20) as f64
    );

    // Warm the page cache, then take the best of three of each.
    raw_parse(&large)?;
    let mut raw = Duration::MAX;
    let mut typed = Duration::MAX;
    let (mut raw_cpu, mut typed_cpu) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..3 {
        let cpu = cpu_time();
        let (n, t) = raw_parse(&large)?;
        raw_cpu += cpu_time().saturating_sub(cpu);
        assert_eq!(n, rows);
        raw = raw.min(t);
        let cpu = cpu_time();
        let (n, t) = typed_parse(&large).await?;
        typed_cpu += cpu_time().saturating_sub(cpu);
        assert_eq!(n, rows);
        typed = typed.min(t);
    }
    let per_sec = |d: Duration| rows as f64 / d.as_secs_f64();
    println!("\n1. text -> typed rows (best of 3)");
    println!(
        "   raw csv ByteRecord parse : {:>8.3} s  {:>12.0} rows/s",
        raw.as_secs_f64(),
        per_sec(raw)
    );
    println!(
        "   CsvSource typed batches  : {:>8.3} s  {:>12.0} rows/s",
        typed.as_secs_f64(),
        per_sec(typed)
    );
    println!(
        "   ratio typed / raw        : {:>8.2}x  (target: within 3x; wall clock)",
        typed.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "   CPU time typed / raw     : {:>8.2}x  (all threads, summed over the 3 runs; {} cores)",
        typed_cpu.as_secs_f64() / raw_cpu.as_secs_f64().max(1e-9),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    if std::env::var_os("BENCH_SKIP_MEMORY").is_some() {
        return Ok(());
    }
    println!("\n2. peak memory of a CSV -> JSON Lines copy (child processes)");
    let (n_small, kib_small, s_small) = run_child(&small, &dir.path().join("small.jsonl"))?;
    let (n_large, kib_large, s_large) = run_child(&large, &dir.path().join("large.jsonl"))?;
    println!(
        "   {n_small:>9} rows: peak RSS {:>8.1} MiB in {s_small:.2} s",
        kib_small as f64 / 1024.0
    );
    println!(
        "   {n_large:>9} rows: peak RSS {:>8.1} MiB in {s_large:.2} s ({:.0} rows/s)",
        kib_large as f64 / 1024.0,
        n_large as f64 / s_large
    );
    println!(
        "   ratio large / small      : {:>8.2}x  (target: within 2x)",
        kib_large as f64 / kib_small.max(1) as f64
    );
    Ok(())
}
