//! The exact requests of the Zoho CRM client, and how it reads Zoho's answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::time::Duration;

use connector_core::ErrorKind;
use connector_core::retry::{Backoff, RetryPolicy};
use connector_core::tls::TlsOptions;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};
use zoho_crm::auth::Credentials;
use zoho_crm::dc::{DataCentre, Endpoints};
use zoho_crm::{ListRecords, UserChange, UserType, WriteOperation, WriteResult, ZohoClient};

fn credentials() -> Credentials {
    Credentials::RefreshToken {
        client_id: "1000.CLIENT".into(),
        client_secret: SecretString::from("client-secret"),
        refresh_token: SecretString::from("1000.refresh"),
    }
}

fn endpoints(server: &MockServer) -> Endpoints {
    Endpoints::custom(server.uri(), "http://127.0.0.1:9")
}

fn client(server: &MockServer) -> ZohoClient {
    ZohoClient::builder()
        .endpoints(endpoints(server))
        .credentials(credentials())
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Backoff::new(
                    Duration::from_millis(5),
                    Duration::from_millis(20),
                    2.0,
                )),
        )
        .token_throttle_retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A token endpoint that names the mock server as the API domain.
async fn token_endpoint(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=1000.refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "1000.access", "api_domain": server.uri(), "token_type": "Bearer", "expires_in": 3600
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn calls_go_to_the_api_domain_of_the_token_with_the_zoho_header() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/users/actions/count"))
        .and(header("authorization", "Zoho-oauthtoken 1000.access"))
        .and(query_param("type", "ActiveUsers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 7})))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.users().count(UserType::ActiveUsers).await.unwrap(), 7);
    assert_eq!(
        c.users().count(UserType::ActiveUsers).await.unwrap(),
        7,
        "the token is cached"
    );
    assert_eq!(c.api_domain().await.unwrap(), server.uri());
}

#[tokio::test]
async fn token_errors_in_http_200_bodies_are_classified() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    let endpoints = Endpoints {
        data_centre: Some(DataCentre::Eu),
        ..endpoints(&server)
    };
    let c = ZohoClient::builder()
        .endpoints(endpoints)
        .credentials(credentials())
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .token_throttle_retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = connector_core::ConnectorError::from(
        c.users().count(UserType::AllUsers).await.unwrap_err(),
    );
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.remote_code(), Some("invalid_client"));
    assert!(
        err.to_string().contains("data centre EU")
            && err.to_string().contains("another data centre"),
        "{err}"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "Access Denied",
            "error_description": "You have made too many requests continuously. Please try again after some time."
        })))
        .mount(&server).await;
    let err = connector_core::ConnectorError::from(
        client(&server)
            .users()
            .count(UserType::AllUsers)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
}

#[tokio::test]
async fn an_invalid_token_is_refreshed_once_but_a_scope_mismatch_is_not() {
    let server = MockServer::start().await;
    token_endpoint(&server, 2).await;
    Mock::given(method("GET")).and(path("/crm/v8/users/actions/count"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"})))
        .up_to_n_times(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/users/actions/count"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 3})))
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/crm/v8/settings/modules"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL", "status": "error"})))
        .mount(&server).await;
    let c = client(&server);
    assert_eq!(c.users().count(UserType::AllUsers).await.unwrap(), 3);
    let err = c.modules().await.unwrap_err();
    assert_eq!(err.code(), Some("OAUTH_SCOPE_MISMATCH"), "{err}");
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    Mock::given(method("GET")).and(path("/crm/v8/users/actions/count"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"code": "TOO_MANY_REQUESTS", "details": {}, "message": "too many", "status": "error"})))
        .up_to_n_times(2).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/users/actions/count"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 1})))
        .mount(&server)
        .await;
    assert_eq!(
        client(&server)
            .users()
            .count(UserType::AllUsers)
            .await
            .unwrap(),
        1
    );
}

fn lead(id: u64, fields: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id.to_string()));
    for f in fields {
        m.insert((*f).to_owned(), json!(format!("{f}-{id}")));
    }
    Value::Object(m)
}

#[tokio::test]
async fn listing_switches_from_page_to_page_token_at_2000_records_and_joins_field_groups() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    let fields: Vec<String> = (0..60).map(|i| format!("F{i}")).collect();
    Mock::given(method("GET")).and(path("/crm/v8/Leads"))
        .respond_with(move |req: &Request| {
            let q: std::collections::HashMap<String, String> = req.url.query_pairs().into_owned().collect();
            let names: Vec<String> = q["fields"].split(',').map(str::to_owned).collect();
            assert!(names.len() <= 50, "at most 50 fields per call");
            assert_eq!(q.get("per_page").map(String::as_str), Some("200"));
            let wanted: Vec<&str> = names.iter().map(String::as_str).filter(|n| *n != "id").collect();
            let (page, more, token) = match (q.get("page"), q.get("page_token")) {
                (Some(p), None) => {
                    let p: u64 = p.parse().unwrap();
                    assert!(p <= 10, "page beyond 2,000 records");
                    (p, true, format!("tok{p}"))
                }
                (None, Some(t)) => {
                    assert_eq!(t, "tok10");
                    (11, false, String::new())
                }
                other => panic!("{other:?}"),
            };
            let n = if page == 11 { 50 } else { 200 };
            let data: Vec<Value> = (0..n).map(|i| lead(page * 1000 + i, &wanted)).collect();
            ResponseTemplate::new(200).set_body_json(json!({"data": data, "info": {"per_page": 200, "count": n, "page": page, "more_records": more, "next_page_token": token}}))
        })
        .mount(&server).await;
    let rows: Vec<Map<String, Value>> = client(&server)
        .records("Leads")
        .list(ListRecords::fields(fields))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2_050);
    assert_eq!(rows[0].len(), 61, "id and 60 fields joined from two calls");
    assert_eq!(rows[2_049]["F59"], json!("F59-11049"));
}

#[tokio::test]
async fn writes_go_in_calls_of_100_with_one_result_per_record() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    Mock::given(method("POST")).and(path("/crm/v8/Leads/upsert"))
        .and(body_string_contains("\"duplicate_check_fields\":[\"Email\"]"))
        .respond_with(|req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let data = body["data"].as_array().unwrap();
            assert!(data.len() <= 100);
            let results: Vec<Value> = data.iter().map(|r| {
                if r["Last_Name"] == "bad" {
                    json!({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Company"}, "message": "required field not found", "status": "error"})
                } else {
                    json!({"code": "SUCCESS", "details": {"id": "555"}, "message": "record added", "status": "success", "action": "insert"})
                }
            }).collect();
            let all_failed = results.iter().all(|r| r["status"] == "error");
            ResponseTemplate::new(if all_failed { 400 } else { 200 }).set_body_json(json!({"data": results}))
        })
        .expect(3)
        .mount(&server).await;
    let records: Vec<Map<String, Value>> = (0..150)
        .map(|i| {
            let mut m = Map::new();
            m.insert("Last_Name".into(), json!(if i == 7 { "bad" } else { "ok" }));
            m
        })
        .collect();
    let op = WriteOperation::Upsert {
        duplicate_check_fields: vec!["Email".into()],
    };
    let c = client(&server);
    let results = c.records("Leads").write(&op, &records).await.unwrap();
    assert_eq!(results.len(), 150);
    assert!(
        matches!(&results[7], WriteResult::Error { code, details, .. } if code == "MANDATORY_NOT_FOUND" && details["api_name"] == "Company")
    );
    assert!(matches!(&results[8], WriteResult::Success { id: Some(id), .. } if id == "555"));
    // Every record refused: HTTP 400, still one result each.
    let bad: Vec<Map<String, Value>> = (0..2)
        .map(|_| {
            let mut m = Map::new();
            m.insert("Last_Name".into(), json!("bad"));
            m
        })
        .collect();
    let results = c.records("Leads").write(&op, &bad).await.unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r, WriteResult::Error { .. }))
    );
}

#[tokio::test]
async fn the_watcher_reports_added_changed_and_removed_users() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    let user = |id: &str, role: &str, modified: &str| {
        json!({"id": id, "email": format!("{id}@x.example"), "status": "active",
        "role": {"id": role, "name": role}, "profile": {"id": "p1", "name": "Standard"}, "Modified_Time": modified})
    };
    Mock::given(method("GET")).and(path("/crm/v8/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [user("1", "r1", "t1"), user("2", "r1", "t1")], "info": {"more_records": false}})))
        .up_to_n_times(1).mount(&server).await;
    Mock::given(method("GET")).and(path("/crm/v8/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [user("1", "r2", "t2"), user("3", "r1", "t1")], "info": {"more_records": false}})))
        .mount(&server).await;
    let c = client(&server);
    let mut watcher = c.users().watcher(UserType::AllUsers, Default::default());
    assert_eq!(
        watcher.poll().await.unwrap().len(),
        2,
        "first poll: everyone is new"
    );
    let saved = serde_json::to_string(watcher.state()).unwrap();
    // Resume from the saved state in a new watcher, as a restarted process would.
    let mut resumed = c
        .users()
        .watcher(UserType::AllUsers, serde_json::from_str(&saved).unwrap());
    let changes = resumed.poll().await.unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.iter().any(|c| matches!(c, UserChange::Changed { user, role_changed: true, profile_changed: false, .. } if user.id == "1")));
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, UserChange::Added(u) if u.id == "3"))
    );
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, UserChange::Removed { id } if id == "2"))
    );
}

#[tokio::test]
async fn coql_star_is_expanded_from_the_field_metadata() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    Mock::given(method("GET")).and(path("/crm/v8/settings/fields")).and(query_param("module", "Accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"fields": [
            {"api_name": "Account_Name", "data_type": "text", "json_type": "string"},
            {"api_name": "Annual_Revenue", "data_type": "currency", "json_type": "double", "decimal_place": 2},
            {"api_name": "Attachments", "data_type": "fileupload", "json_type": "jsonarray"}
        ]})))
        .mount(&server).await;
    Mock::given(method("POST")).and(path("/crm/v8/coql"))
        .and(body_string_contains("select id, Account_Name, Annual_Revenue from Accounts order by id asc limit 0, 2000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "1", "Account_Name": "Acme", "Annual_Revenue": 10.5}], "info": {"count": 1, "more_records": false}})))
        .expect(1).mount(&server).await;
    let rows: Vec<Map<String, Value>> = client(&server)
        .coql("SELECT * FROM Accounts")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Account_Name"], "Acme");
}

#[tokio::test]
async fn configuration_errors_come_before_any_request() {
    let err = ZohoClient::builder().build().unwrap_err();
    assert!(err.to_string().contains("no credentials"), "{err}");
    let err = ZohoClient::builder()
        .endpoints(Endpoints::custom(
            "http://accounts.example",
            "https://api.example",
        ))
        .credentials(credentials())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("useEncryptedEndpoints"), "{err}");
    let c = ZohoClient::builder()
        .data_centre(DataCentre::Eu)
        .credentials(credentials())
        .build()
        .unwrap();
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("client-secret") && !debug.contains("1000.refresh"),
        "{debug}"
    );
    assert!(debug.contains("accounts.zoho.eu"));
}
