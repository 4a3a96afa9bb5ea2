//! `scim-emulator`: the in-memory SCIM 2.0 server of `scim_client::emulator`, as a
//! standalone program to point applications and conformance tools at.
//!
//! ```text
//! scim-emulator [--port N] [--token T | --no-auth] [--seed-users N]
//!               [--seed-groups N] [--members-per-group N] [--entra] [--okta] [--no-patch]
//!               [--latency-ms N] [--max-results N]
//!               [--oauth-client-id ID --oauth-client-secret SECRET]
//! ```
//!
//! It listens on 127.0.0.1 only, prints the base URL and the token, and serves
//! until Ctrl-C (or SIGTERM).

use std::process::ExitCode;
use std::time::Duration;

use scim_client::emulator::{DEFAULT_TOKEN, Emulator, EmulatorConfig};

const DEFAULT_PORT: u16 = 8089;

const USAGE: &str = "\
scim-emulator: an in-memory SCIM 2.0 server (RFC 7643/7644, RFC 9865 cursors)

USAGE:
    scim-emulator [OPTIONS]

OPTIONS:
    --port N                    port on 127.0.0.1 (default 8089; 0 = any free port)
    --token T                   static bearer token (default \"emulator-token\")
    --no-auth                   accept requests without a token
    --seed-users N              generate N users (user1@example.com, ...)
    --seed-groups N             generate N groups
    --members-per-group N       members of each generated group (default 10)
    --entra                     tolerate Microsoft Entra's legacy dialect
    --okta                      tolerate Okta's dialect
    --no-patch                  no PATCH: advertise patch.supported false, answer 501
    --latency-ms N              delay every SCIM request by N milliseconds
    --max-results N             page cap (filter.maxResults, default 200)
    --oauth-client-id ID        enable /oauth/token and /oauth/authorize for this client
    --oauth-client-secret S     the OAuth client's secret
    -h, --help                  print this help
";

#[derive(Debug)]
struct Args {
    port: u16,
    token: Option<String>,
    seed_users: usize,
    seed_groups: usize,
    members_per_group: usize,
    entra: bool,
    okta: bool,
    no_patch: bool,
    latency_ms: u64,
    max_results: Option<usize>,
    oauth_client_id: Option<String>,
    oauth_client_secret: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        port: DEFAULT_PORT,
        token: Some(DEFAULT_TOKEN.to_owned()),
        seed_users: 0,
        seed_groups: 0,
        members_per_group: 10,
        entra: false,
        okta: false,
        no_patch: false,
        latency_ms: 0,
        max_results: None,
        oauth_client_id: None,
        oauth_client_secret: None,
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
            "--token" => parsed.token = Some(value(&flag, inline, &mut args)?),
            "--no-auth" => parsed.token = None,
            "--seed-users" => parsed.seed_users = number(&flag, &value(&flag, inline, &mut args)?)?,
            "--seed-groups" => {
                parsed.seed_groups = number(&flag, &value(&flag, inline, &mut args)?)?
            }
            "--members-per-group" => {
                parsed.members_per_group = number(&flag, &value(&flag, inline, &mut args)?)?
            }
            "--entra" => parsed.entra = true,
            "--okta" => parsed.okta = true,
            "--no-patch" => parsed.no_patch = true,
            "--latency-ms" => parsed.latency_ms = number(&flag, &value(&flag, inline, &mut args)?)?,
            "--max-results" => {
                parsed.max_results = Some(number(&flag, &value(&flag, inline, &mut args)?)?)
            }
            "--oauth-client-id" => parsed.oauth_client_id = Some(value(&flag, inline, &mut args)?),
            "--oauth-client-secret" => {
                parsed.oauth_client_secret = Some(value(&flag, inline, &mut args)?)
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if parsed.oauth_client_id.is_some() != parsed.oauth_client_secret.is_some() {
        return Err("--oauth-client-id and --oauth-client-secret go together".to_owned());
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
            eprintln!("scim-emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let mut config = EmulatorConfig::new()
        .port(args.port)
        .entra(args.entra)
        .okta(args.okta)
        .patch(!args.no_patch);
    config = match &args.token {
        Some(token) => config.token(token.clone()),
        None => config.without_token(),
    };
    if args.latency_ms > 0 {
        config = config.latency(Duration::from_millis(args.latency_ms));
    }
    if let Some(max) = args.max_results {
        config = config.max_results(max);
    }
    if let (Some(id), Some(secret)) = (&args.oauth_client_id, &args.oauth_client_secret) {
        config = config.oauth_client(id.clone(), secret.clone());
    }

    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("scim-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.seed_users > 0 {
        emulator.seed_users(args.seed_users);
    }
    if args.seed_groups > 0 {
        emulator.seed_groups(args.seed_groups, args.members_per_group);
    }

    println!("SCIM emulator listening");
    println!("  base URL: {}", emulator.base_url());
    match emulator.token() {
        Some(token) => println!("  token:    {token}"),
        None => println!("  token:    (none: authentication is off)"),
    }
    if let Some(id) = &args.oauth_client_id {
        println!("  OAuth:    {} (client_id {id})", emulator.token_url());
    }
    let mut dialects = Vec::new();
    if args.entra {
        dialects.push("entra");
    }
    if args.okta {
        dialects.push("okta");
    }
    println!(
        "  dialect:  {}",
        if dialects.is_empty() {
            "strict".to_owned()
        } else {
            dialects.join(" + ")
        }
    );
    println!(
        "  seeded:   {} users, {} groups",
        emulator.user_count(),
        emulator.group_count()
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
            "--token=t",
            "--seed-users",
            "5",
            "--entra",
            "--latency-ms",
            "3",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(args.token.as_deref(), Some("t"));
        assert_eq!(args.seed_users, 5);
        assert!(args.entra && !args.okta);
        assert_eq!(args.latency_ms, 3);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--oauth-client-id", "x"]).is_err());
        assert!(parse(&["--no-auth"]).unwrap().unwrap().token.is_none());
    }
}
