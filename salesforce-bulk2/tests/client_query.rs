//! Query jobs against wiremock: the exact requests, paging, retries of a page cut off,
//! re-authentication, and typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use salesforce_bulk2::auth::Credentials;
use salesforce_bulk2::query::{QueryRequest, ResultOptions};
use salesforce_bulk2::{ApiVersion, PollOptions, SalesforceClient, SalesforceError};
use secrecy::SecretString;
use type_mapping::{ConversionPolicy, DataType, Field, Schema, Value};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn client(server: &MockServer) -> SalesforceClient {
    SalesforceClient::builder()
        .instance_url(server.uri())
        .credentials(Credentials::ClientCredentials {
            client_id: "key".into(),
            client_secret: SecretString::from("secret"),
        })
        .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
        .poll(PollOptions {
            initial: Duration::from_millis(5),
            max_interval: Duration::from_millis(20),
            timeout: Duration::from_secs(10),
        })
        .retry(connector_core::retry::RetryPolicy::default().with_backoff(
            connector_core::retry::Backoff::default().with_initial(Duration::from_millis(5)),
        ))
        .build()
        .unwrap()
}

async fn token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "00Dxx!tok", "instance_url": server.uri(), "token_type": "Bearer",
            "issued_at": "1700000000000", "id": "https://login.salesforce.com/id/00D/005"
        })))
        .mount(server)
        .await;
}

const V: &str = "/services/data/v62.0";

#[tokio::test]
async fn old_versions_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let err = SalesforceClient::builder()
        .instance_url(server.uri())
        .credentials(Credentials::AccessToken(SecretString::from("t")))
        .api_version(ApiVersion::new(46, 0))
        .build()
        .unwrap_err();
    assert!(matches!(err, SalesforceError::Config(_)));
    assert!(err.to_string().contains("46.0"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unsupported_soql_never_reaches_the_server() {
    let server = MockServer::start().await;
    let err = client(&server)
        .query_jobs()
        .create(&QueryRequest::new(
            "SELECT Name, COUNT(Id) FROM Account GROUP BY Name",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SalesforceError::UnsupportedSoql { .. }),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

fn job(state: &str, delimiter: &str) -> serde_json::Value {
    serde_json::json!({"id": "750Q", "operation": "queryAll", "object": "Account", "state": state,
        "createdDate": "2024-01-02T17:38:59.000+0000", "apiVersion": 62.0, "lineEnding": "CRLF",
        "columnDelimiter": delimiter, "concurrencyMode": "Parallel"})
}

/// Reads the results of the completed job `750Q` from `server` as text rows.
async fn read_results(
    server: &MockServer,
    options: ResultOptions,
) -> Result<Vec<salesforce_bulk2::query::RawRows>, SalesforceError> {
    let job: salesforce_bulk2::job::JobInfo =
        serde_json::from_value(job("JobComplete", "COMMA")).unwrap();
    client(server)
        .query_jobs()
        .raw_results(&job, options)
        .try_collect()
        .await
}

#[tokio::test]
async fn pages_follow_the_locator_with_repeated_headers_and_quoted_newlines() {
    let server = MockServer::start().await;
    token(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{V}/jobs/query")))
        .and(header("authorization", "Bearer 00Dxx!tok"))
        .and(body_partial_json(serde_json::json!({
            "operation": "queryAll", "query": "SELECT Id, Name, Amount__c FROM Account",
            "contentType": "CSV", "columnDelimiter": "SEMICOLON", "lineEnding": "CRLF"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("UploadComplete", "SEMICOLON")))
        .expect(1)
        .mount(&server)
        .await;
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    Mock::given(method("GET"))
        .and(path(format!("{V}/jobs/query/750Q")))
        .respond_with(move |_: &Request| {
            let n = p.fetch_add(1, Ordering::SeqCst);
            let state = if n < 2 { "InProgress" } else { "JobComplete" };
            ResponseTemplate::new(200).set_body_json(job(state, "SEMICOLON"))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/jobs/query/750Q/results")))
        .and(query_param("locator", "MTAwMDA"))
        .and(query_param("maxRecords", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Locator", "null")
                .insert_header("Sforce-NumberOfRecords", "1")
                .set_body_string(
                    "\"Id\";\"Name\";\"Amount__c\"\r\n\"003\";\"semi;colon\";\"\"\r\n",
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/jobs/query/750Q/results")))
        .and(query_param("maxRecords", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Locator", "MTAwMDA")
                .insert_header("Sforce-NumberOfRecords", "2")
                .set_body_string(
                    "\"Id\";\"Name\";\"Amount__c\"\r\n\"001\";\"multi\r\nline \"\"quoted\"\"\";\"10.50\"\r\n\"002\";\"b\";\"1E+3\"\r\n",
                ),
        )
        .with_priority(10)
        .mount(&server)
        .await;

    let client = client(&server);
    let jobs = client.query_jobs();
    let created = jobs
        .create(
            &QueryRequest::new("SELECT Id, Name, Amount__c FROM Account")
                .include_deleted(true)
                .column_delimiter(salesforce_bulk2::job::ColumnDelimiter::Semicolon)
                .line_ending(salesforce_bulk2::job::LineEnding::Crlf),
        )
        .await
        .unwrap();
    let done = jobs.wait(&created.id).await.unwrap();
    assert!(polls.load(Ordering::SeqCst) >= 3);
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::String),
        Field::new("Name", DataType::String),
        Field::new("Amount__c", DataType::decimal(18, 2)),
    ]));
    let options = ResultOptions {
        max_records: Some(2),
        ..ResultOptions::default()
    };
    let chunks: Vec<_> = jobs
        .records(&done, schema, ConversionPolicy::default(), options)
        .try_collect()
        .await
        .unwrap();
    let records: Vec<_> = chunks.iter().flat_map(|c| c.records.clone()).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[0].values[1],
        Value::String("multi\r\nline \"quoted\"".into())
    );
    assert_eq!(records[0].values[2].to_string(), "10.50");
    assert_eq!(records[1].values[2].to_string(), "1000");
    assert_eq!(records[2].values[1], Value::String("semi;colon".into()));
    assert_eq!(records[2].values[2], Value::Null);
}

/// Answers the first request with a page cut short (two rows of the three announced),
/// every later one with the whole page.
struct CutOnce(AtomicUsize);

impl Respond for CutOnce {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let full = "\"Id\"\n\"1\"\n\"2\"\n\"3\"\n";
        let body = if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            "\"Id\"\n\"1\"\n\"2\"\n"
        } else {
            full
        };
        ResponseTemplate::new(200)
            .insert_header("Sforce-Locator", "null")
            .insert_header("Sforce-NumberOfRecords", "3")
            .set_body_string(body)
    }
}

#[tokio::test]
async fn a_page_cut_off_is_fetched_again_without_duplicates() {
    let server = MockServer::start().await;
    token(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/jobs/query/750Q/results")))
        .respond_with(CutOnce(AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;
    let options = ResultOptions {
        batch_size: 1,
        ..ResultOptions::default()
    };
    let pages = read_results(&server, options).await.unwrap();
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(|r| r[0].clone()))
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

/// Answers request `n` (from 0) with the header and the first `n + 1` of 4 rows, or
/// always with the first row only when `stuck`.
struct CutShorter {
    calls: AtomicUsize,
    stuck: bool,
}

impl Respond for CutShorter {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let rows = if self.stuck { 1 } else { (n + 1).min(4) };
        let mut body = String::from("\"Id\"\n");
        for i in 1..=rows {
            body.push_str(&format!("\"{i}\"\n"));
        }
        ResponseTemplate::new(200)
            .insert_header("Sforce-Locator", "null")
            .insert_header("Sforce-NumberOfRecords", "4")
            .set_body_string(body)
    }
}

#[tokio::test]
async fn a_page_that_fails_while_moving_is_retried_until_done_one_that_is_stuck_is_not() {
    for stuck in [false, true] {
        let server = MockServer::start().await;
        token(&server).await;
        Mock::given(method("GET"))
            .and(path(format!("{V}/jobs/query/750Q/results")))
            .respond_with(CutShorter {
                calls: AtomicUsize::new(0),
                stuck,
            })
            .mount(&server)
            .await;
        // One retry in a row: 4 attempts are needed, each cut short one row further.
        let options = ResultOptions {
            batch_size: 1,
            page_retries: 1,
            ..ResultOptions::default()
        };
        let read = read_results(&server, options).await;
        let requests = server.received_requests().await.unwrap();
        let pages = requests
            .iter()
            .filter(|r| r.url.path().ends_with("/results"))
            .count();
        if stuck {
            let err = read.unwrap_err();
            assert!(err.to_string().contains("cut off"), "{err}");
            assert_eq!(pages, 2, "the page and one retry");
        } else {
            let ids: Vec<String> = read
                .unwrap()
                .iter()
                .flat_map(|p| p.rows.iter().map(|r| r[0].clone()))
                .collect();
            assert_eq!(ids, ["1", "2", "3", "4"], "every row once, in order");
            assert_eq!(pages, 4);
        }
    }
}

#[tokio::test]
async fn an_expired_session_is_renewed_once() {
    let server = MockServer::start().await;
    let tokens = Arc::new(AtomicUsize::new(0));
    let t = tokens.clone();
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(move |_: &Request| {
            let n = t.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": format!("tok{n}"), "instance_url": uri }))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/limits")))
        .and(header("authorization", "Bearer tok0"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!([
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/limits")))
        .and(header("authorization", "Bearer tok1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Limit-Info", "api-usage=18/15000")
                .set_body_json(serde_json::json!({
                    "DailyBulkApiBatches": {"Max": 15000, "Remaining": 14999, "App": {"Max": 1, "Remaining": 1}},
                    "NewLimit2030": {"Max": 5, "Remaining": 5}})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let limits = client.limits().await.unwrap();
    assert_eq!(limits.bulk_batches_remaining(), Some(14999));
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.max)),
        Some((18, 15000))
    );
}

#[tokio::test]
async fn errors_carry_salesforce_codes_whatever_the_body() {
    let server = MockServer::start().await;
    token(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/sobjects/Nope__c/describe")))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!([
            {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/sobjects/Html/describe")))
        .respond_with(
            ResponseTemplate::new(431).set_body_string("<html><body>Bad Message 431</body></html>"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/jobs/query/750F")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "750F", "state": "Failed", "errorMessage": "Unexpected exception encountered in query processing."})))
        .mount(&server)
        .await;
    let client = client(&server);
    let e = client.describe("Nope__c").await.unwrap_err();
    assert_eq!((e.code(), e.status()), (Some("NOT_FOUND"), Some(404)));
    let e = client.describe("Html").await.unwrap_err();
    assert_eq!(e.code(), Some("HTTP_431"));
    assert!(!e.to_string().contains('<'), "{e}");
    let e = client.query_jobs().wait("750F").await.unwrap_err();
    assert!(
        matches!(&e, SalesforceError::Job { state, message, .. } if state == "Failed" && message.contains("Unexpected")),
        "{e}"
    );
}

#[tokio::test]
async fn job_listings_follow_next_records_url_to_the_last_page() {
    let server = MockServer::start().await;
    token(&server).await;
    for kind in ["query", "ingest"] {
        let job = |id: &str| serde_json::json!({"id": id, "operation": "insert", "object": "Account", "state": "JobComplete"});
        Mock::given(method("GET"))
            .and(path(format!("{V}/jobs/{kind}")))
            .and(query_param("queryLocator", "page-2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "done": true, "records": [job("750-3")], "nextRecordsUrl": null
            })))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{V}/jobs/{kind}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "done": false, "records": [job("750-1"), job("750-2")],
                "nextRecordsUrl": format!("{V}/jobs/{kind}?queryLocator=page-2")
            })))
            .with_priority(2)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    let queries = c.query_jobs().list().await.unwrap();
    let ingests = c.ingest_jobs().list().await.unwrap();
    for jobs in [queries, ingests] {
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["750-1", "750-2", "750-3"]);
    }
}

#[tokio::test]
async fn results_ask_for_gzip_unless_compression_is_off() {
    let server = MockServer::start().await;
    token(&server).await;
    for (encoding, body) in [
        ("gzip", "\"Id\"\n\"gz\"\n"),
        ("identity", "\"Id\"\n\"plain\"\n"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{V}/jobs/query/750Q/results")))
            .and(header("accept-encoding", encoding))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("Sforce-Locator", "null")
                    .insert_header("Sforce-NumberOfRecords", "1")
                    .set_body_string(body),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    for (compression, want) in [(true, "gz"), (false, "plain")] {
        let options = ResultOptions {
            compression,
            ..ResultOptions::default()
        };
        let pages = read_results(&server, options).await.unwrap();
        assert_eq!(pages[0].rows, [[want]], "compression {compression}");
    }
}
