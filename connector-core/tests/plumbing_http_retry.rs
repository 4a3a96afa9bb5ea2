//! `connector_core::http`: retrying sends, error classification and client building,
//! against wiremock.
#![cfg(feature = "http")]

use std::time::{Duration, Instant};

use connector_core::http::{HttpClientBuilder, error_from_response, from_reqwest, send_with_retry};
use connector_core::retry::{Backoff, Idempotency, RetryPolicy};
use connector_core::tls::{CertificateSource, TlsOptions};
use connector_core::{ErrorKind, ErrorStatus};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// ISRG Root X2 (Let's Encrypt), a public root certificate.
const ISRG_ROOT_X2: &str = "-----BEGIN CERTIFICATE-----
MIICGzCCAaGgAwIBAgIQQdKd0XLq7qeAwSxs6S+HUjAKBggqhkjOPQQDAzBPMQsw
CQYDVQQGEwJVUzEpMCcGA1UEChMgSW50ZXJuZXQgU2VjdXJpdHkgUmVzZWFyY2gg
R3JvdXAxFTATBgNVBAMTDElTUkcgUm9vdCBYMjAeFw0yMDA5MDQwMDAwMDBaFw00
MDA5MTcxNjAwMDBaME8xCzAJBgNVBAYTAlVTMSkwJwYDVQQKEyBJbnRlcm5ldCBT
ZWN1cml0eSBSZXNlYXJjaCBHcm91cDEVMBMGA1UEAxMMSVNSRyBSb290IFgyMHYw
EAYHKoZIzj0CAQYFK4EEACIDYgAEzZvVn4CDCuwJSvMWSj5cz3es3mcFDR0HttwW
+1qLFNvicWDEukWVEYmO6gbf9yoWHKS5xcUy4APgHoIYOIvXRdgKam7mAHf7AlF9
ItgKbppbd9/w+kHsOdx1ymgHDB/qo0IwQDAOBgNVHQ8BAf8EBAMCAQYwDwYDVR0T
AQH/BAUwAwEB/zAdBgNVHQ4EFgQUfEKWrt5LSDv6kviejM9ti6lyN5UwCgYIKoZI
zj0EAwMDaAAwZQIwe3lORlCEwkSHRhtFcP9Ymd70/aTSVaYgLXTWNLxBo1BfASdW
tL4ndQavEi51mI38AjEAi/V3bNTIZargCyzuFJ0nN6T5U6VR5CmD1/iQMVtCnwr1
/q4AaOeMSQ+2b1tbFfLn
-----END CERTIFICATE-----
";

/// A client allowed to talk to wiremock's plain-http server.
#[allow(clippy::unwrap_used, reason = "test helper")]
fn client() -> reqwest::Client {
    HttpClientBuilder::new()
        .with_tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap()
}

/// Fast backoff so retry tests take milliseconds.
fn policy() -> RetryPolicy {
    RetryPolicy::default().with_backoff(
        Backoff::default()
            .with_initial(Duration::from_millis(10))
            .with_max(Duration::from_millis(50)),
    )
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .expect(2)
        .named("two 503s")
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .named("then 200")
        .mount(&server)
        .await;
    let client = client();
    let url = format!("{}/items", server.uri());
    let resp = send_with_retry(&policy(), Idempotency::Idempotent, "test.list", || {
        client.get(&url)
    })
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client();
    let url = server.uri();
    let start = Instant::now();
    let resp = send_with_retry(&policy(), Idempotency::Idempotent, "test.get", || {
        client.get(&url)
    })
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn non_idempotent_post_is_not_retried_on_500() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("{\"error\":\"boom\"}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client();
    let url = format!("{}/records", server.uri());
    let err = send_with_retry(&policy(), Idempotency::NonIdempotent, "test.insert", || {
        client.post(&url).body("{\"name\":\"x\"}")
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.http_status(), Some(500));
    assert_eq!(err.operation(), "test.insert");
    assert_eq!(
        err.remote().and_then(|r| r.message.as_deref()),
        Some("{\"error\":\"boom\"}")
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn non_idempotent_post_is_retried_on_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let client = client();
    let url = server.uri();
    let resp = send_with_retry(&policy(), Idempotency::NonIdempotent, "test.insert", || {
        client.post(&url).body("x")
    })
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn other_4xx_is_returned_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("{\"code\":\"NOT_FOUND\"}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client();
    let url = format!("{}/users/42", server.uri());
    let resp = send_with_retry(&policy(), Idempotency::Idempotent, "test.get_user", || {
        client.get(&url)
    })
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
    let err = error_from_response(resp, "test.get_user").await;
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status(), ErrorStatus::Permanent);
    assert_eq!(err.context_value("path"), Some("/users/42"));
    assert_eq!(
        err.remote().and_then(|r| r.message.as_deref()),
        Some("{\"code\":\"NOT_FOUND\"}")
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn attempt_budget_gives_persistent_error_with_last_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "0")
                .set_body_string("maintenance"),
        )
        .expect(3)
        .mount(&server)
        .await;
    let client = client();
    let url = server.uri();
    let err = send_with_retry(
        &policy().with_max_attempts(3),
        Idempotency::Idempotent,
        "test.get",
        || client.get(&url),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.status(), ErrorStatus::Persistent);
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert_eq!(
        err.remote().and_then(|r| r.message.as_deref()),
        Some("maintenance")
    );
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn error_bodies_are_capped_and_html_is_not_dumped() {
    let server = MockServer::start().await;
    Mock::given(path("/html"))
        .respond_with(
            ResponseTemplate::new(502)
                .insert_header("Content-Type", "text/html")
                .set_body_string("<html><body>Bad gateway</body></html>"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(400).set_body_string("x".repeat(100_000)))
        .mount(&server)
        .await;
    Mock::given(path("/empty"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = client();

    let resp = client
        .get(format!("{}/html", server.uri()))
        .send()
        .await
        .unwrap();
    let err = error_from_response(resp, "test.html").await;
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let message = err.remote().and_then(|r| r.message.clone()).unwrap();
    assert!(message.starts_with("HTML body"), "{message}");
    assert!(!err.to_string().contains("<html>"));

    let resp = client
        .get(format!("{}/big", server.uri()))
        .send()
        .await
        .unwrap();
    let err = error_from_response(resp, "test.big").await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = err.remote().and_then(|r| r.message.clone()).unwrap();
    assert!(message.len() <= 4 * 1024 + 3, "{}", message.len());
    assert!(message.ends_with("..."));

    let resp = client
        .get(format!("{}/empty", server.uri()))
        .send()
        .await
        .unwrap();
    let err = error_from_response(resp, "test.empty").await;
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(
        err.remote().and_then(|r| r.message.as_deref()),
        Some("empty body")
    );
}

#[tokio::test]
async fn http_endpoint_rejected_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let url = format!("{}/api?access_token=SECRET", server.uri());

    let err = TlsOptions::default().check_endpoint(&url).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("useEncryptedEndpoints"));
    assert!(!err.to_string().contains("SECRET"));

    // The client built with the default options refuses http:// too.
    let strict = HttpClientBuilder::new().build().unwrap();
    let err = send_with_retry(&policy(), Idempotency::Idempotent, "test.get", || {
        strict.get(&url)
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn connection_refused_is_not_sent_and_retried_even_for_post() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = client();
    let url = format!("http://127.0.0.1:{port}/records?access_token=SECRET");
    let mut attempts = 0;
    let err = send_with_retry(
        &policy().with_max_attempts(3),
        Idempotency::NonIdempotent,
        "test.insert",
        || {
            attempts += 1;
            client.post(&url).body("x")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(attempts, 3);
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.was_not_sent());
    assert_eq!(err.status(), ErrorStatus::Persistent);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("could not connect"), "{shown}");
}

#[tokio::test]
async fn timeouts_are_classified() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = HttpClientBuilder::new()
        .with_timeout(Duration::from_millis(200))
        .with_tls(TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap();
    let err = client
        .get(server.uri())
        .send()
        .await
        .map_err(|e| from_reqwest(e, "test.slow"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert!(!err.was_not_sent());
}

#[test]
fn invalid_pem_is_invalid_config_naming_the_source() {
    let garbage =
        TlsOptions::default().with_root_certificate(CertificateSource::pem("not a certificate"));
    let err = HttpClientBuilder::new()
        .with_tls(garbage)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("inline PEM"), "{err}");

    let bad_base64 = TlsOptions::default().with_root_certificate(CertificateSource::pem(
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    ));
    let err = HttpClientBuilder::new()
        .with_tls(bad_base64)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);

    let not_x509 = TlsOptions::default().with_root_certificate(CertificateSource::pem(
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    ));
    let err = HttpClientBuilder::new()
        .with_tls(not_x509)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("X.509"), "{err}");

    let missing = TlsOptions::default()
        .with_root_certificate(CertificateSource::file("/nonexistent/private-ca.pem"));
    let err = HttpClientBuilder::new()
        .with_tls(missing)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string().contains("/nonexistent/private-ca.pem"),
        "{err}"
    );
}

#[test]
fn tls_option_combinations_build() {
    // Peer verification off.
    HttpClientBuilder::new()
        .with_tls(
            TlsOptions::default()
                .with_peer_verification(false)
                .with_host_verification(false),
        )
        .build()
        .unwrap();
    // Extra roots, inline and from a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, ISRG_ROOT_X2).unwrap();
    let with_roots = TlsOptions::default()
        .with_root_certificate(CertificateSource::pem(ISRG_ROOT_X2))
        .with_root_certificate(CertificateSource::file(&file));
    HttpClientBuilder::new()
        .with_tls(with_roots.clone())
        .build()
        .unwrap();
    // Host verification off needs explicit roots with rustls.
    HttpClientBuilder::new()
        .with_tls(with_roots.with_host_verification(false))
        .build()
        .unwrap();
    let err = HttpClientBuilder::new()
        .with_tls(TlsOptions::default().with_host_verification(false))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("extraRootCertificates"), "{err}");
}
