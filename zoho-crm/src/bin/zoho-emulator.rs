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

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        port: DEFAULT_PORT,
        seed_users: 0,
        seed_records: Vec::new(),
        latency_ms: 0,
        concurrency: None,
    };
    fn value(
        flag: &str,
        inline: Option<String>,
        args: &mut dyn Iterator<Item = String>,
    ) -> Result<String, String> {
        inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))
    }
    fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
        text.parse()
            .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
    }
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => parsed.port = number(&flag, &value(&flag, inline, &mut args)?)?,
            "--seed-users" => {
                parsed.seed_users = number(&flag, &value(&flag, inline, &mut args)?)?;
            }
            "--seed-records" => {
                let spec = value(&flag, inline, &mut args)?;
                let Some((module, n)) = spec.split_once('=') else {
                    return Err(format!("{flag}: expected MODULE=N, got {spec:?}"));
                };
                parsed
                    .seed_records
                    .push((module.trim().to_owned(), number(&flag, n.trim())?));
            }
            "--latency-ms" => {
                parsed.latency_ms = number(&flag, &value(&flag, inline, &mut args)?)?;
            }
            "--concurrency" => {
                let n: usize = number(&flag, &value(&flag, inline, &mut args)?)?;
                if n == 0 {
                    return Err(format!("{flag} must be at least 1"));
                }
                parsed.concurrency = Some(n);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(parsed))
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
