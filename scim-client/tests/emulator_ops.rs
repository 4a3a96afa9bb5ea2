//! The SCIM emulator's bulk endpoint, fault injection, latency and OAuth endpoints.

#![allow(
    clippy::unwrap_used,
    reason = "integration tests: a failure should panic"
)]

use std::time::{Duration, Instant};

use scim_client::emulator::{Emulator, EmulatorConfig, Endpoint, RunningEmulator};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn start(config: EmulatorConfig) -> (RunningEmulator, reqwest::Client) {
    connector_core::http::install_crypto_provider();
    let emulator = Emulator::start(config).await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (emulator, http)
}

async fn bulk(emulator: &RunningEmulator, http: &reqwest::Client, body: &Value) -> (u16, Value) {
    let resp = http
        .post(format!("{}/Bulk", emulator.base_url()))
        .bearer_auth(emulator.token().unwrap())
        .header("Content-Type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn get(emulator: &RunningEmulator, http: &reqwest::Client, path: &str) -> reqwest::Response {
    http.get(format!("{}{path}", emulator.base_url()))
        .bearer_auth(emulator.token().unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bulk_with_bulk_id_references() {
    let (emulator, http) = start(EmulatorConfig::new()).await;
    // The group is listed first but references users created later in the request.
    let body = json!({
        "schemas": [BULK],
        "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g1",
             "data": {"schemas": [GROUP], "displayName": "Tour Guides",
                      "members": [{"type": "User", "value": "bulkId:u1"}, {"type": "User", "value": "bulkId:u2"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": [USER], "userName": "alice"}},
            {"method": "POST", "path": "/Users", "bulkId": "u2", "data": {"schemas": [USER], "userName": "bob"}},
            {"method": "PATCH", "path": "/Users/bulkId:u2",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "title", "value": "Guide"}]}}
        ]
    });
    let (status, response) = bulk(&emulator, &http, &body).await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        response["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    let ops = response["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 4);
    for op in ops {
        assert!(op["status"].is_string(), "status is a string: {op}");
        assert!(op["location"].is_string());
    }
    let by_bulk_id = |id: &str| ops.iter().find(|o| o["bulkId"] == id).unwrap().clone();
    assert_eq!(by_bulk_id("u1")["status"], "201");
    assert!(
        by_bulk_id("u1")["version"]
            .as_str()
            .unwrap()
            .starts_with("W/")
    );
    assert_eq!(by_bulk_id("g1")["status"], "201");

    let alice = emulator.user_by_user_name("alice").unwrap();
    let bob = emulator.user_by_user_name("bob").unwrap();
    assert_eq!(bob["title"], "Guide");
    let group = emulator.group_by_display_name("Tour Guides").unwrap();
    assert_eq!(group["members"][0]["value"], alice["id"]);
    assert_eq!(group["members"][1]["value"], bob["id"]);
    assert_eq!(alice["groups"][0]["value"], group["id"]);
    assert_eq!(by_bulk_id("u1")["location"], alice["meta"]["location"]);

    let stats = emulator.stats();
    assert_eq!(stats.count("POST", Endpoint::Bulk), 1);
    assert_eq!(
        stats.total(),
        1,
        "operations inside a bulk request are not counted as requests"
    );

    // PUT and DELETE by id, with version preconditions.
    let alice_id = alice["id"].as_str().unwrap();
    let body = json!({"schemas": [BULK], "Operations": [
        {"method": "PUT", "path": format!("/Users/{alice_id}"), "version": alice["meta"]["version"],
         "data": {"schemas": [USER], "userName": "alice", "title": "Lead"}},
        {"method": "DELETE", "path": format!("/Users/{alice_id}"), "version": "W/\"1\""},
    ]});
    let (_, response) = bulk(&emulator, &http, &body).await;
    assert_eq!(response["Operations"][0]["status"], "200");
    assert_eq!(response["Operations"][1]["status"], "412");
    assert_eq!(response["Operations"][1]["response"]["status"], "412");
    assert_eq!(emulator.user(alice_id).unwrap()["title"], "Lead");
}

#[tokio::test]
async fn bulk_fail_on_errors_and_unresolvable_references() {
    let (emulator, http) = start(EmulatorConfig::new()).await;
    emulator
        .create_user(json!({"schemas": [USER], "userName": "taken"}))
        .unwrap();
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "taken"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "fresh"}},
        {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER], "userName": "fresh2"}},
    ]);
    let (status, response) = bulk(
        &emulator,
        &http,
        &json!({"schemas": [BULK], "failOnErrors": 1, "Operations": ops}),
    )
    .await;
    assert_eq!(status, 200);
    let results = response["Operations"].as_array().unwrap();
    assert_eq!(
        results.len(),
        1,
        "processing stops at the first error: {response}"
    );
    assert_eq!(results[0]["status"], "409");
    assert_eq!(results[0]["response"]["scimType"], "uniqueness");
    assert!(emulator.user_by_user_name("fresh").is_none());

    // Without failOnErrors every operation runs.
    let (_, response) = bulk(
        &emulator,
        &http,
        &json!({"schemas": [BULK], "Operations": ops}),
    )
    .await;
    let statuses: Vec<&str> = response["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["409", "201", "201"]);

    // References to an unknown bulkId, a failed POST, and circular references.
    let ops = json!([
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [GROUP], "displayName": "G", "members": [{"value": "bulkId:nope"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"schemas": [USER]}},
        {"method": "POST", "path": "/Groups", "bulkId": "h", "data": {"schemas": [GROUP], "displayName": "H", "members": [{"value": "bulkId:bad"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "x", "data": {"schemas": [GROUP], "displayName": "X", "members": [{"value": "bulkId:y"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "y", "data": {"schemas": [GROUP], "displayName": "Y", "members": [{"value": "bulkId:x"}]}},
    ]);
    let (_, response) = bulk(
        &emulator,
        &http,
        &json!({"schemas": [BULK], "Operations": ops}),
    )
    .await;
    let results = response["Operations"].as_array().unwrap();
    let status_of = |b: &str| {
        results.iter().find(|o| o["bulkId"] == b).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status_of("g"), "409");
    assert_eq!(status_of("bad"), "400");
    assert_eq!(status_of("h"), "409");
    assert_eq!(status_of("x"), "409");
    assert_eq!(status_of("y"), "409");
    assert_eq!(emulator.group_count(), 0);
}

#[tokio::test]
async fn bulk_limits_give_413() {
    let (emulator, http) = start(
        EmulatorConfig::new()
            .bulk_max_operations(2)
            .bulk_max_payload_size(2048),
    )
    .await;
    let op = json!({"method": "POST", "path": "/Users", "bulkId": "1", "data": {"schemas": [USER], "userName": "a"}});
    let (status, body) = bulk(
        &emulator,
        &http,
        &json!({"schemas": [BULK], "Operations": [op, op, op]}),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["status"], "413");
    let big = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "1", "data": {"schemas": [USER], "userName": "a".repeat(4096)}}
    ]});
    let (status, body) = bulk(&emulator, &http, &big).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    let (status, body) = bulk(&emulator, &http, &json!({"Operations": []})).await;
    assert_eq!(status, 400, "strict: the BulkRequest schema is required");
    assert_eq!(body["scimType"], "invalidSyntax");
}

#[tokio::test]
async fn faults_rate_limits_and_server_errors() {
    let (emulator, http) = start(EmulatorConfig::new()).await;
    let faults = emulator.faults();

    faults.rate_limit_next(2);
    for _ in 0..2 {
        let resp = get(&emulator, &http, "/Users").await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "1");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "429");
    }
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);

    faults.fail_next(1, 503);
    let resp = get(&emulator, &http, "/Users").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    faults.fail_next(2, 500);
    assert_eq!(faults.pending_failures(), 2);
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 500);
    // Faults apply to discovery too, and to any method.
    assert_eq!(
        get(&emulator, &http, "/ServiceProviderConfig")
            .await
            .status(),
        500
    );
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);

    faults.rate_limit_next_with_retry_after(1, 7);
    assert_eq!(
        get(&emulator, &http, "/Users").await.headers()["retry-after"],
        "7"
    );

    faults.rate_limit_next(5);
    faults.clear();
    assert_eq!(faults.pending_rate_limits(), 0);
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);

    let stats = emulator.stats();
    assert_eq!(stats.status(429), 3);
    assert_eq!(stats.status(503), 1);
    assert_eq!(stats.status(500), 2);
    assert_eq!(
        stats.count("GET", Endpoint::Users),
        8,
        "faulted requests are counted"
    );
}

#[tokio::test]
async fn latency_configured_and_switched_at_runtime() {
    let (emulator, http) = start(EmulatorConfig::new().latency(Duration::from_millis(60))).await;
    let t = Instant::now();
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(60));

    emulator
        .faults()
        .set_latency(Some(Duration::from_millis(150)));
    let t = Instant::now();
    get(&emulator, &http, "/Users").await;
    assert!(t.elapsed() >= Duration::from_millis(150));

    emulator.faults().set_latency(Some(Duration::ZERO));
    let t = Instant::now();
    get(&emulator, &http, "/Users").await;
    assert!(t.elapsed() < Duration::from_millis(150));
}

async fn token_request(
    emulator: &RunningEmulator,
    http: &reqwest::Client,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = http.post(emulator.token_url()).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["content-type"], "application/json");
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn oauth_client_credentials_and_errors() {
    let (emulator, http) = start(
        EmulatorConfig::new()
            .without_token()
            .oauth_client("my-client", "my-secret"),
    )
    .await;

    // Resource endpoints need a token now.
    let resp = http
        .get(format!("{}/Users", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let (status, body) = token_request(
        &emulator,
        &http,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "my-client"),
            ("client_secret", "my-secret"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let resp = http
        .get(format!("{}/Users", emulator.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // HTTP Basic client authentication works too.
    let (status, _) = token_request(
        &emulator,
        &http,
        &[("grant_type", "client_credentials")],
        Some(("my-client", "my-secret")),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = token_request(
        &emulator,
        &http,
        &[("grant_type", "client_credentials")],
        Some(("my-client", "wrong")),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_request(&emulator, &http, &[("grant_type", "password")], None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token_request(&emulator, &http, &[("client_id", "my-client")], None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = token_request(
        &emulator,
        &http,
        &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
        Some(("my-client", "my-secret")),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Expiring tokens forces a 401.
    emulator.expire_access_tokens();
    let resp = http
        .get(format!("{}/Users", emulator.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(emulator.stats().by_endpoint(Endpoint::OAuthToken), 6);
}

#[tokio::test]
async fn oauth_authorization_code_and_refresh() {
    let (emulator, http) = start(
        EmulatorConfig::new()
            .oauth_client("zoho-one", "s3cret")
            .oauth_token_ttl(Duration::from_secs(60)),
    )
    .await;
    let resp = http
        .get(emulator.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", "zoho-one"),
            ("redirect_uri", "http://localhost:9999/callback"),
            ("state", "xyz 1"),
            ("access_type", "offline"),
            ("prompt", "consent"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz 1");
    let code = params["code"].clone();

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost:9999/callback"),
    ];
    let (status, body) = token_request(&emulator, &http, &form, Some(("zoho-one", "s3cret"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 60);
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();

    // A code is single-use.
    let (status, body) = token_request(&emulator, &http, &form, Some(("zoho-one", "s3cret"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (status, body) = token_request(
        &emulator,
        &http,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
        Some(("zoho-one", "s3cret")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let refreshed = body["access_token"].as_str().unwrap();
    assert_ne!(refreshed, access);
    let resp = http
        .get(format!("{}/Users", emulator.base_url()))
        .bearer_auth(refreshed)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The static token still works next to OAuth.
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);

    // An unknown client is not redirected.
    let resp = http
        .get(emulator.authorize_url())
        .query(&[
            ("client_id", "other"),
            ("redirect_uri", "http://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn oauth_endpoints_are_absent_without_a_client() {
    let (emulator, http) = start(EmulatorConfig::new()).await;
    let resp = http
        .post(emulator.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let (emulator, http) = start(EmulatorConfig::new()).await;
    let url = format!("{}/ServiceProviderConfig", emulator.base_url());
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    emulator.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test]
async fn a_given_port_and_base_path() {
    let (first, _http) = start(EmulatorConfig::new()).await;
    let port = first.addr().port();
    first.shutdown().await;
    let (emulator, http) = start(EmulatorConfig::new().port(port).base_path("/scim/v2/")).await;
    assert_eq!(
        emulator.base_url(),
        format!("http://127.0.0.1:{port}/scim/v2")
    );
    assert_eq!(get(&emulator, &http, "/Users").await.status(), 200);
    let busy = Emulator::start(EmulatorConfig::new().port(port)).await;
    assert!(busy.is_err());
}
