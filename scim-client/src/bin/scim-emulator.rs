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

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    use connector_core::emulator::flag_error;
    let mut flags = pico_args::Arguments::from_vec(args.map(Into::into).collect());
    if flags.contains(["-h", "--help"]) {
        return Ok(None);
    }
    let token: Option<String> = flags
        .opt_value_from_str("--token")
        .map_err(flag_error("--token"))?;
    let no_auth = flags.contains("--no-auth");
    let parsed = Args {
        port: flags
            .opt_value_from_str("--port")
            .map_err(flag_error("--port"))?
            .unwrap_or(DEFAULT_PORT),
        token: if no_auth {
            None
        } else {
            Some(token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned()))
        },
        seed_users: flags
            .opt_value_from_str("--seed-users")
            .map_err(flag_error("--seed-users"))?
            .unwrap_or(0),
        seed_groups: flags
            .opt_value_from_str("--seed-groups")
            .map_err(flag_error("--seed-groups"))?
            .unwrap_or(0),
        members_per_group: flags
            .opt_value_from_str("--members-per-group")
            .map_err(flag_error("--members-per-group"))?
            .unwrap_or(10),
        entra: flags.contains("--entra"),
        okta: flags.contains("--okta"),
        no_patch: flags.contains("--no-patch"),
        latency_ms: flags
            .opt_value_from_str("--latency-ms")
            .map_err(flag_error("--latency-ms"))?
            .unwrap_or(0),
        max_results: flags
            .opt_value_from_str("--max-results")
            .map_err(flag_error("--max-results"))?,
        oauth_client_id: flags
            .opt_value_from_str("--oauth-client-id")
            .map_err(flag_error("--oauth-client-id"))?,
        oauth_client_secret: flags
            .opt_value_from_str("--oauth-client-secret")
            .map_err(flag_error("--oauth-client-secret"))?,
    };
    if let Some(other) = flags.finish().first() {
        return Err(format!("unknown argument {other:?}"));
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
            "--no-patch",
            "--latency-ms",
            "3",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.port, 0);
        assert_eq!(args.token.as_deref(), Some("t"));
        assert_eq!(args.seed_users, 5);
        assert!(args.entra && !args.okta && args.no_patch);
        assert_eq!(args.latency_ms, 3);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--oauth-client-id", "x"]).is_err());
        assert!(parse(&["--no-auth"]).unwrap().unwrap().token.is_none());
    }
}
