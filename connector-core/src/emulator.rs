//! What the connector crates' emulators share (feature `emulator`): an axum app served
//! on 127.0.0.1 until it is shut down or dropped ([`LoopbackServer`]), the signal their
//! standalone binaries stop on ([`shutdown_signal`]), the flag values those binaries
//! read ([`parse_name_count`], [`parse_positive`]), and the request counts tests assert
//! on ([`RequestStats`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use connector_core::emulator::{LoopbackServer, bind_loopback};
//!
//! let (listener, addr) = bind_loopback(0).await?;
//! let app = axum::Router::new().fallback(|| async { "hello" });
//! let server = LoopbackServer::spawn(listener, addr, app, "demo");
//! println!("listening on http://{}", server.addr());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`LoopbackServer::shutdown`] lets requests in flight finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds 127.0.0.1 on `port` (0: a free one), returning the listener and the address
/// it got.
///
/// # Errors
///
/// The bind's I/O error (the port is taken, or not allowed).
pub async fn bind_loopback(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// An axum app served in a task of its own until [`shutdown`](Self::shutdown), or
/// until it is dropped (then gracefully, in the background).
pub struct LoopbackServer {
    addr: SocketAddr,
    name: &'static str,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for LoopbackServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackServer")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LoopbackServer {
    /// Serves `app` on `listener` (a TCP listener from [`bind_loopback`], or anything
    /// axum serves, such as a TLS listener around it) in a spawned task. `addr` is
    /// where clients reach it; `name` labels its log events.
    pub fn spawn<L>(listener: L, addr: SocketAddr, app: axum::Router, name: &'static str) -> Self
    where
        L: axum::serve::Listener,
        L::Addr: fmt::Debug,
    {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, emulator = name, "the emulator stopped with an error");
            }
        });
        tracing::debug!(%addr, emulator = name, "emulator listening");
        Self {
            addr,
            name,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully: new connections are refused and requests in flight finish,
    /// for at most [`SHUTDOWN_GRACE`]; then the server task is aborted.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                tracing::warn!(
                    emulator = self.name,
                    "requests still in flight after the grace period; aborted"
                );
                abort.abort();
            }
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix (how `kill` and service managers stop a
/// process): what an emulator binary waits for before shutting down.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Request counts since an emulator started or its stats were reset: by HTTP method and
/// endpoint `E` (each emulator's own enum of the paths it serves), by response status,
/// and how many records responses carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStats<E> {
    total: u64,
    requests: BTreeMap<(String, E), u64>,
    statuses: BTreeMap<u16, u64>,
    records_returned: u64,
}

impl<E> Default for RequestStats<E> {
    fn default() -> Self {
        Self {
            total: 0,
            requests: BTreeMap::new(),
            statuses: BTreeMap::new(),
            records_returned: 0,
        }
    }
}

impl<E: Copy + Ord> RequestStats<E> {
    /// Counts a request (for emulator implementations).
    pub fn record_request(&mut self, method: &str, endpoint: E) {
        self.total += 1;
        *self
            .requests
            .entry((method.to_ascii_uppercase(), endpoint))
            .or_insert(0) += 1;
    }

    /// Counts a response status (for emulator implementations).
    pub fn record_status(&mut self, status: u16) {
        *self.statuses.entry(status).or_insert(0) += 1;
    }

    /// Counts records a response carried (for emulator implementations).
    pub fn record_records(&mut self, n: usize) {
        self.records_returned = self
            .records_returned
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Requests with this method (`"GET"`, `"POST"`, ...; any case) to this endpoint.
    pub fn count(&self, method: &str, endpoint: E) -> u64 {
        self.requests
            .get(&(method.to_ascii_uppercase(), endpoint))
            .copied()
            .unwrap_or(0)
    }

    /// Requests with this method, to any endpoint.
    pub fn by_method(&self, method: &str) -> u64 {
        self.requests
            .iter()
            .filter(|((m, _), _)| m.eq_ignore_ascii_case(method))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests to this endpoint, with any method.
    pub fn by_endpoint(&self, endpoint: E) -> u64 {
        self.matching(|e| e == endpoint)
    }

    /// Requests, with any method, to the endpoints `pick` accepts.
    pub fn matching(&self, pick: impl Fn(E) -> bool) -> u64 {
        self.requests
            .iter()
            .filter(|((_, e), _)| pick(*e))
            .map(|(_, n)| n)
            .sum()
    }

    /// Responses with this HTTP status.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Records responses carried (a page fetched twice counts twice).
    pub fn records_returned(&self) -> u64 {
        self.records_returned
    }

    /// Every (method, endpoint, count), sorted.
    pub fn requests(&self) -> impl Iterator<Item = (&str, E, u64)> + '_ {
        self.requests.iter().map(|((m, e), n)| (m.as_str(), *e, *n))
    }

    /// Every (status, count), sorted.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses.iter().map(|(s, n)| (*s, *n))
    }
}

/// Reads a `NAME=N` flag value, such as `--seed Account=100`: the name (trimmed) and
/// the count.
///
/// # Errors
///
/// A message naming what is wrong with `spec`.
pub fn parse_name_count(spec: &str) -> Result<(String, usize), String> {
    let Some((name, n)) = spec
        .split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
    else {
        return Err(format!("expected NAME=N, got {spec:?}"));
    };
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("{:?} in {spec:?} is not a count", n.trim()))?;
    Ok((name.trim().to_owned(), n))
}

/// Turns a flag parser's error into a message naming the flag (`--port: ...`), for
/// `map_err` in an emulator binary's argument parsing.
pub fn flag_error<E: std::fmt::Display>(flag: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{flag}: {e}")
}

/// Reads a count of at least 1 (page sizes, concurrency).
///
/// # Errors
///
/// A message naming `text` when it is not a number or is 0.
pub fn parse_positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a count")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_stats_count_by_method_endpoint_and_status() {
        let mut stats = super::RequestStats::<u8>::default();
        stats.record_request("get", 1);
        stats.record_request("GET", 1);
        stats.record_request("post", 2);
        stats.record_status(200);
        stats.record_status(200);
        stats.record_status(429);
        stats.record_records(7);
        assert_eq!(stats.total(), 3);
        assert_eq!(stats.count("Get", 1), 2);
        assert_eq!(stats.by_method("POST"), 1);
        assert_eq!(stats.by_endpoint(1), 2);
        assert_eq!(stats.matching(|e| e > 0), 3);
        assert_eq!(
            (stats.status(200), stats.status(429), stats.status(500)),
            (2, 1, 0)
        );
        assert_eq!(stats.records_returned(), 7);
        assert_eq!(
            stats.requests().collect::<Vec<_>>(),
            [("GET", 1, 2), ("POST", 2, 1)]
        );
    }

    #[test]
    fn flag_values() {
        assert_eq!(
            super::parse_name_count(" Account = 5"),
            Ok(("Account".into(), 5))
        );
        assert!(super::parse_name_count("Account").is_err());
        assert!(super::parse_name_count(" =5").is_err());
        assert!(super::parse_name_count("Account=x").is_err());
        assert_eq!(super::parse_positive("3"), Ok(3));
        assert!(super::parse_positive("0").is_err());
        assert!(super::parse_positive("-1").is_err());
    }

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_until_shut_down_and_then_refuses_connections() {
        let (listener, addr) = bind_loopback(0).await.unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let app = axum::Router::new().fallback(|| async { "pong" });
        let server = LoopbackServer::spawn(listener, addr, app, "test");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("pong"), "{response}");
        server.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_it_stops_the_server() {
        let (listener, addr) = bind_loopback(0).await.unwrap();
        let server = LoopbackServer::spawn(listener, addr, axum::Router::new(), "test");
        drop(server);
        let mut refused = false;
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            refused,
            "the port still accepted connections after the drop"
        );
    }
}
