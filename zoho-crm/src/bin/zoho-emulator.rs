//! `zoho-emulator`: the in-memory Zoho accounts server and CRM API v8 of
//! `zoho_crm::emulator`, as a standalone program to point applications at.
//!
//! ```text
//! zoho-emulator [--port N] [--seed-users N] [--seed-records MODULE=N]...
//!               [--latency-ms N] [--concurrency N]
//! ```
//!
//! It listens on 127.0.0.1 only, prints the accounts URL, the API domain and the
//! pre-registered client's credentials, and serves until Ctrl-C (or SIGTERM).

use std::process::ExitCode;
use std::time::Duration;

use zoho_crm::emulator::{Emulator, EmulatorConfig};

const DEFAULT_PORT: u16 = 8091;

const USAGE: &str = "\
zoho-emulator: an in-memory Zoho accounts server and Zoho CRM API v8

USAGE:
    zoho-emulator [OPTIONS]

OPTIONS:
    --port N                    port on 127.0.0.1 (default 8091; 0 = any free port)
    --seed-users N              generate N users besides the primary administrator
    --seed-records MODULE=N     generate N records in MODULE (Leads, Contacts,
                                Accounts, Deals); repeatable
    --latency-ms N              delay every CRM API request by N milliseconds
    --concurrency N             concurrent CRM API requests allowed (default 10)
    -h, --help                  print this help
";

#[derive(Debug)]
struct Args {
    port: u16,
    seed_users: usize,
    seed_records: Vec<(String, usize)>,
    latency_ms: u64,
    concurrency: Option<usize>,
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
        seed_users: flags
            .opt_value_from_str("--seed-users")
            .map_err(flag_error("--seed-users"))?
            .unwrap_or(0),
        seed_records: flags
            .values_from_fn("--seed-records", parse_name_count)
            .map_err(flag_error("--seed-records"))?,
        latency_ms: flags
            .opt_value_from_str("--latency-ms")
            .map_err(flag_error("--latency-ms"))?
            .unwrap_or(0),
        concurrency: flags
            .opt_value_from_fn("--concurrency", parse_positive)
            .map_err(flag_error("--concurrency"))?,
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
            eprintln!("zoho-emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let mut config = EmulatorConfig::new().port(args.port);
    if args.latency_ms > 0 {
        config = config.latency(Duration::from_millis(args.latency_ms));
    }
    if let Some(n) = args.concurrency {
        config = config.concurrency(n);
    }
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("zoho-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.seed_users > 0 {
        emulator.seed_users(args.seed_users);
    }
    for (module, n) in &args.seed_records {
        if let Err(e) = emulator.seed_records(module, *n) {
            eprintln!("zoho-emulator: --seed-records: {e}");
            return ExitCode::from(2);
        }
    }

    println!("Zoho CRM emulator listening");
    println!("  accounts URL:  {}", emulator.accounts_url());
    println!("  token URL:     {}", emulator.token_url());
    println!("  api domain:    {}", emulator.api_domain());
    println!("  client id:     {}", emulator.client_id());
    println!("  client secret: {}", emulator.client_secret());
    println!("  refresh token: {}", emulator.refresh_token());
    println!("  soid:          ZohoCRM.{}", emulator.soid());
    let counts: Vec<String> = emulator
        .modules()
        .into_iter()
        .map(|m| format!("{} {m}", emulator.record_count(m)))
        .collect();
    println!(
        "  seeded:        {} users, {}",
        emulator.users().len(),
        counts.join(", ")
    );
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
            "--seed-users=5",
            "--seed-records",
            "Leads=100",
            "--seed-records=Accounts=3",
            "--latency-ms",
            "3",
            "--concurrency",
            "4",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(args.seed_users, 5);
        assert_eq!(
            args.seed_records,
            vec![("Leads".to_owned(), 100), ("Accounts".to_owned(), 3)]
        );
        assert_eq!(args.latency_ms, 3);
        assert_eq!(args.concurrency, Some(4));
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--seed-records", "Leads"]).is_err());
        assert!(parse(&["--concurrency", "0"]).is_err());
    }
}
