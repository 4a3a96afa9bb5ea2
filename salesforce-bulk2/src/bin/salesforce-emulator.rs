//! `salesforce-emulator`: the in-memory Salesforce org of
//! `salesforce_bulk2::emulator`, as a standalone program to point applications at.
//!
//! ```text
//! salesforce-emulator [--port N] [--seed OBJECT=N]... [--page-latency-ms N]
//!                     [--page-size N] [--tls [--cert-out PATH]]
//! ```
//!
//! It listens on 127.0.0.1 only, prints the base URL and the connected app's
//! credentials, and serves until Ctrl-C (or SIGTERM).

use std::process::ExitCode;
use std::time::Duration;

use salesforce_bulk2::emulator::{Emulator, EmulatorConfig};

const DEFAULT_PORT: u16 = 8093;

const USAGE: &str = "\
salesforce-emulator: an in-memory Salesforce org (OAuth, Bulk API 2.0, describe, limits, reports)

USAGE:
    salesforce-emulator [OPTIONS]

OPTIONS:
    --port N                 port on 127.0.0.1 (default 8093; 0 = any free port)
    --seed OBJECT=N          generate N records of OBJECT (Account, Contact,
                             Invoice__c, User); repeatable, applied in order
    --page-latency-ms N      delay every query-result page by N milliseconds
    --page-size N            records per result page without maxRecords (default 100000)
    --job-processing-ms N    jobs show InProgress for N milliseconds
    --tls                    serve HTTPS with a generated self-signed certificate
    --cert-out PATH          where to write that certificate (PEM; default
                             salesforce-emulator-cert.pem)
    -h, --help               print this help
";

#[derive(Debug)]
struct Args {
    port: u16,
    seed: Vec<(String, usize)>,
    page_latency_ms: u64,
    page_size: Option<usize>,
    job_processing_ms: u64,
    tls: bool,
    cert_out: String,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    use connector_core::emulator::{flag_error, parse_name_count, parse_positive};
    let mut flags = pico_args::Arguments::from_vec(args.map(Into::into).collect());
    if flags.contains(["-h", "--help"]) {
        return Ok(None);
    }
    let parsed = Args {
        port: flags
            .opt_value_from_str("--port")
            .map_err(flag_error("--port"))?
            .unwrap_or(DEFAULT_PORT),
        seed: flags
            .values_from_fn("--seed", parse_name_count)
            .map_err(flag_error("--seed"))?,
        page_latency_ms: flags
            .opt_value_from_str("--page-latency-ms")
            .map_err(flag_error("--page-latency-ms"))?
            .unwrap_or(0),
        page_size: flags
            .opt_value_from_fn("--page-size", parse_positive)
            .map_err(flag_error("--page-size"))?,
        job_processing_ms: flags
            .opt_value_from_str("--job-processing-ms")
            .map_err(flag_error("--job-processing-ms"))?
            .unwrap_or(0),
        tls: flags.contains("--tls"),
        cert_out: flags
            .opt_value_from_str("--cert-out")
            .map_err(flag_error("--cert-out"))?
            .unwrap_or_else(|| "salesforce-emulator-cert.pem".to_owned()),
    };
    match flags.finish().first() {
        Some(other) => Err(format!("unknown argument {other:?}")),
        None => Ok(Some(parsed)),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("salesforce-emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut config = EmulatorConfig::new()
        .port(args.port)
        .tls(args.tls)
        .page_latency(Duration::from_millis(args.page_latency_ms))
        .job_processing_time(Duration::from_millis(args.job_processing_ms));
    if let Some(n) = args.page_size {
        config = config.page_size(n);
    }
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("salesforce-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (object, n) in &args.seed {
        if let Err(e) = emulator.seed_records(object, *n) {
            eprintln!("salesforce-emulator: --seed: {e}");
            return ExitCode::from(2);
        }
    }
    if let Some(pem) = emulator.certificate_pem()
        && let Err(e) = std::fs::write(&args.cert_out, pem)
    {
        eprintln!("salesforce-emulator: cannot write {}: {e}", args.cert_out);
        return ExitCode::FAILURE;
    }

    println!("Salesforce emulator listening");
    println!("  base URL:      {}", emulator.base_url());
    println!("  token URL:     {}", emulator.token_url());
    println!("  bulk 2.0 URL:  {}", emulator.bulk2_url());
    println!("  api version:   {}", emulator.api_version());
    println!("  client id:     {}", emulator.client_id());
    println!("  client secret: {}", emulator.client_secret());
    println!("  username:      {}", emulator.username());
    println!("  refresh token: {}", emulator.refresh_token());
    if emulator.certificate_pem().is_some() {
        println!("  certificate:   {}", args.cert_out);
    }
    let counts: Vec<String> = emulator
        .objects()
        .iter()
        .map(|o| format!("{} {o}", emulator.record_count(o)))
        .collect();
    println!("  records:       {}", counts.join(", "));
    println!("Press Ctrl-C to stop.");

    connector_core::emulator::shutdown_signal().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_flags() {
        let args = parse(&[
            "--port",
            "0",
            "--seed",
            "Account=100",
            "--seed=Contact=3",
            "--page-latency-ms",
            "5",
            "--tls",
            "--cert-out=/tmp/c.pem",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(
            args.seed,
            vec![("Account".to_owned(), 100), ("Contact".to_owned(), 3)]
        );
        assert_eq!(args.page_latency_ms, 5);
        assert!(args.tls);
        assert_eq!(args.cert_out, "/tmp/c.pem");
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--seed", "Account"]).is_err());
        assert!(parse(&["--page-size", "0"]).is_err());
    }
}
