//! Operating the emulator: the per-org concurrency limit, injected faults and
//! latency, request statistics, redaction and shutdown.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::time::{Duration, Instant};

use emulator_common::Api;
use serde_json::json;
use zoho_crm::emulator::{EmulatorConfig, Endpoint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_answers_429() {
    let api = Api::start(
        EmulatorConfig::new()
            .concurrency(2)
            .latency(Duration::from_millis(300)),
    )
    .await;
    let calls = (0..5).map(|_| api.get("/crm/v8/org", &[]));
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok, 2);
    assert_eq!(limited.len(), 3);
    assert_eq!(limited[0].code(), "TOO_MANY_REQUESTS");
    assert_eq!(limited[0].body["status"], "error");
    assert_eq!(limited[0].body["details"], json!({}));
    // Slots are released: the next call succeeds.
    assert_eq!(api.get("/crm/v8/org", &[]).await.status, 200);

    api.emu.set_concurrency(10);
    let calls = (0..5).map(|_| api.get("/crm/v8/org", &[]));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|r| r.status == 200));
    let stats = api.emu.stats();
    assert_eq!(stats.status(429), 3);
    assert_eq!(stats.count("GET", Endpoint::Org), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_and_latency() {
    let api = Api::default().await;
    let faults = api.emu.faults();
    faults.rate_limit_next(2);
    faults.fail_next(1);
    assert_eq!(
        (faults.pending_rate_limits(), faults.pending_failures()),
        (2, 1)
    );
    let statuses = [
        api.get("/crm/v8/org", &[]).await,
        api.get("/crm/v8/org", &[]).await,
        api.get("/crm/v8/org", &[]).await,
        api.get("/crm/v8/org", &[]).await,
    ];
    assert_eq!(
        statuses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 429, 500, 200]
    );
    assert_eq!(statuses[0].code(), "TOO_MANY_REQUESTS");
    assert_eq!(
        statuses[2].body,
        json!({"code": "INTERNAL_ERROR", "details": {}, "message": "Internal Server Error", "status": "error"})
    );

    // Faults hit the API only: the accounts server keeps answering.
    faults.fail_next_with_status(1, 503);
    let token = api
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("refresh_token", api.emu.refresh_token()),
        ])
        .await;
    assert!(token.body["access_token"].is_string());
    assert_eq!(api.get("/crm/v8/org", &[]).await.status, 503);

    faults.set_latency(Some(Duration::from_millis(150)));
    let started = Instant::now();
    assert_eq!(api.get("/crm/v8/org", &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    faults.rate_limit_next(5);
    faults.clear();
    assert_eq!(faults.pending_rate_limits(), 0);
    assert_eq!(api.get("/crm/v8/org", &[]).await.status, 200);

    // Expiring tokens through the faults handle.
    faults.expire_access_tokens();
    let expired = api.get("/crm/v8/org", &[]).await;
    assert_eq!((expired.status, expired.code()), (401, "INVALID_TOKEN"));
    let fresh = api.emu.access_token_for_tests();
    assert_eq!(
        api.send_as(api.http.get(api.url("/crm/v8/org")), &fresh)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics() {
    let api = Api::default().await;
    api.emu.seed_records("Leads", 10).unwrap();
    api.get("/crm/v8/Leads", &[("fields", "Last_Name")]).await;
    api.get("/crm/v8/Leads", &[]).await;
    api.post("/crm/v8/Leads", &json!({"data": [{"Last_Name": "X"}]}))
        .await;
    api.coql("select Last_Name from Leads limit 3").await;
    api.get("/crm/v8/nowhere/at/all/really", &[]).await;
    api.get("/crm/v7/Leads", &[]).await;
    api.token_request(&[("grant_type", "refresh_token")]).await;

    let stats = api.emu.stats();
    assert_eq!(stats.total(), 7);
    assert_eq!(stats.count("GET", Endpoint::Records), 2);
    assert_eq!(stats.count("post", Endpoint::Records), 1);
    assert_eq!(stats.by_method("GET"), 4);
    assert_eq!(stats.by_endpoint(Endpoint::Coql), 1);
    assert_eq!(stats.by_endpoint(Endpoint::Other), 2);
    assert_eq!(stats.matching(|e| !e.is_accounts()), 6, "CRM API calls");
    assert_eq!(stats.status(200), 3);
    assert_eq!(stats.status(201), 1);
    assert_eq!(stats.status(400), 1);
    assert_eq!(stats.status(404), 2);
    assert_eq!(stats.records_returned(), 10 + 3);
    let listed: Vec<(String, Endpoint, u64)> = stats
        .requests()
        .map(|(m, e, n)| (m.to_owned(), e, n))
        .collect();
    assert!(listed.contains(&("POST".to_owned(), Endpoint::OAuthToken, 1)));
    assert_eq!(Endpoint::Records.to_string(), "records");
    api.emu.reset_stats();
    assert_eq!(api.emu.stats().total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_redacted_and_shutdown_stops_serving() {
    let api = Api::default().await;
    let debug = format!("{:?} {:?}", api.emu, api.emu.config());
    assert!(!debug.contains(api.emu.client_secret()));
    assert!(!debug.contains(api.emu.refresh_token()));
    assert!(debug.contains("[REDACTED]"));
    assert_eq!(api.emu.accounts_url(), api.emu.api_domain());
    assert!(api.emu.accounts_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        api.emu.token_url(),
        format!("{}/oauth/v2/token", api.emu.accounts_url())
    );

    let url = api.url("/crm/v8/org");
    let Api { emu, http, .. } = api;
    emu.shutdown().await;
    assert!(http.get(&url).send().await.is_err());
}
