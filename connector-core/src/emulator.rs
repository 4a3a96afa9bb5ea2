//! What the connector crates' emulators share (feature `emulator`): an axum app served
//! on 127.0.0.1 until it is shut down or dropped ([`LoopbackServer`]), the signal their
//! standalone binaries stop on ([`shutdown_signal`]), and the flag values those binaries
//! read ([`parse_name_count`], [`parse_positive`]).
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
