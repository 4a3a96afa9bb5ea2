//! Create and then list users against the SCIM emulator at concurrency 1, 8 and 32:
//! requests per second and client CPU per request, beside the Python `scim2-client`
//! against the same emulator in the same run.
//!
//! ```sh
//! cargo bench -p scim-client --features emulator --bench users
//! SCIM_BENCH_USERS=2000 SCIM_BENCH_PYTHON=.venv/bin/python cargo bench -p scim-client --features emulator --bench users
//! ```
//!
//! The emulator runs as a separate process (the `scim-emulator` binary) started fresh
//! for every run, so the CPU time measured is the client's alone. `SCIM_BENCH_PYTHON`
//! names a Python with `scim2-client[httpx2]` installed; without it only the Rust
//! figures are printed.

use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use connector_core::tls::TlsOptions;
use futures::{StreamExt, TryStreamExt};
use scim_client::model::{MultiValue, Name};
use scim_client::{Attr, ListQuery, ScimClient, User};

type Res<T> = Result<T, Box<dyn Error>>;

const TOKEN: &str = "bench-token";

struct Emulator(Child, String);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_emulator() -> Res<Emulator> {
    let port = free_port()?;
    let child = Command::new(env!("CARGO_BIN_EXE_scim-emulator"))
        .args(["--port", &port.to_string(), "--token", TOKEN])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}/v2");
    let emulator = Emulator(child, base.clone());
    connector_core::http::install_crypto_provider();
    let client = reqwest::Client::builder().build()?;
    for _ in 0..200 {
        if client
            .get(format!("{base}/ServiceProviderConfig"))
            .send()
            .await
            .is_ok()
        {
            return Ok(emulator);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("the emulator did not start".into())
}

/// CPU time of this process so far, all threads, in nanoseconds (`schedstat`; the
/// tick counts of `/proc/self/stat` are too coarse for short phases).
fn cpu_time() -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            total += stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(total)
}

#[derive(Clone, Copy, Debug, Default)]
struct Phase {
    wall: f64,
    cpu: f64,
    requests: u64,
}

impl Phase {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.wall.max(1e-9)
    }
    fn cpu_us(&self) -> f64 {
        self.cpu * 1e6 / self.requests.max(1) as f64
    }
}

fn user(i: usize) -> User {
    let mut u = User::new(format!("rs{i:06}@example.com"));
    u.name = Attr::Value(Name {
        given_name: Attr::Value(format!("Given{i}")),
        family_name: Attr::Value(format!("Family{i}")),
        ..Default::default()
    });
    u.display_name = Attr::Value(format!("User {i}"));
    u.title = Attr::Value("Engineer".into());
    u.active = Attr::Value(true.into());
    u.emails = Attr::Value(vec![
        MultiValue::typed("work", format!("rs{i:06}@example.com")).primary(),
    ]);
    u
}

async fn rust_run(users: usize, concurrency: usize) -> Res<(Phase, Phase)> {
    let emulator = start_emulator().await?;
    let client = ScimClient::builder(&emulator.1)
        .bearer_token(TOKEN)
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()?;
    client.capabilities().await?;
    let api = client.users();
    let (cpu, wall) = (cpu_time(), Instant::now());
    futures::stream::iter(0..users)
        .map(|i| {
            let api = api.clone();
            async move { api.create(&user(i)).await }
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let create = Phase {
        wall: wall.elapsed().as_secs_f64(),
        cpu: (cpu_time() - cpu).as_secs_f64(),
        requests: users as u64,
    };
    let page = 100u64;
    let pages = (users as u64).div_ceil(page);
    let (cpu, wall) = (cpu_time(), Instant::now());
    let seen: usize = futures::stream::iter(0..pages)
        .map(|p| {
            let api = api.clone();
            async move {
                api.page(&ListQuery::new().page_size(page), 1 + p * page)
                    .await
                    .map(|r| r.resources.len())
            }
        })
        .buffer_unordered(concurrency)
        .try_fold(0, |acc, n| async move { Ok(acc + n) })
        .await?;
    if seen != users {
        return Err(format!("listed {seen} users of {users}").into());
    }
    let list = Phase {
        wall: wall.elapsed().as_secs_f64(),
        cpu: (cpu_time() - cpu).as_secs_f64(),
        requests: pages,
    };
    Ok((create, list))
}

fn python_run(python: &str, users: usize, concurrency: usize, base: &str) -> Res<(Phase, Phase)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scim2_client_bench.py");
    let out = Command::new(python)
        .args([
            script,
            base,
            TOKEN,
            &users.to_string(),
            &concurrency.to_string(),
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!("python failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let phase = |k: &str| Phase {
        wall: v[k]["wall"].as_f64().unwrap_or(0.0),
        cpu: v[k]["cpu"].as_f64().unwrap_or(0.0),
        requests: v[k]["requests"].as_u64().unwrap_or(0),
    };
    Ok((phase("create"), phase("list")))
}

#[tokio::main]
async fn main() -> Res<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let users: usize = std::env::var("SCIM_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let python = std::env::var("SCIM_BENCH_PYTHON").ok();
    println!("{users} users, pages of 100; emulator in its own process, fresh for every run");
    println!(
        "{:<7} {:>4} | {:>10} {:>12} | {:>10} {:>12} | {:>9} {:>9}",
        "phase", "conc", "rust req/s", "rust CPU/req", "py req/s", "py CPU/req", "req/s x", "CPU x"
    );
    for concurrency in [1usize, 8, 32] {
        let (rc, rl) = rust_run(users, concurrency).await?;
        let py = match &python {
            Some(p) => {
                let emulator = start_emulator().await?;
                Some(python_run(p, users, concurrency, &emulator.1)?)
            }
            None => None,
        };
        for (name, r, p) in [
            ("create", rc, py.map(|x| x.0)),
            ("list", rl, py.map(|x| x.1)),
        ] {
            match p {
                Some(p) => println!(
                    "{name:<7} {concurrency:>4} | {:>10.0} {:>10.0}us | {:>10.0} {:>10.0}us | {:>8.1}x {:>8.1}x",
                    r.rps(),
                    r.cpu_us(),
                    p.rps(),
                    p.cpu_us(),
                    r.rps() / p.rps().max(1e-9),
                    p.cpu_us() / r.cpu_us().max(1e-9)
                ),
                None => println!(
                    "{name:<7} {concurrency:>4} | {:>10.0} {:>10.0}us |",
                    r.rps(),
                    r.cpu_us()
                ),
            }
        }
    }
    Ok(())
}
