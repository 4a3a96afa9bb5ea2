//! Ingest jobs and the Sink against a wiremock org that keeps uploads and answers
//! result files (rows echoed in reverse order, names `bad*` rejected): the connector-core
//! conformance kit, and the exact request sequence.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_core::testkit::{run_conformance, sample_records, sample_stream};
use connector_core::{RecordOutcome, WriteAction};
use salesforce_bulk2::auth::Credentials;
use salesforce_bulk2::ingest::{IngestOperation, IngestOptions};
use salesforce_bulk2::sink::SalesforceSink;
use salesforce_bulk2::{PollOptions, SalesforceClient};
use secrecy::SecretString;
use type_mapping::{DataType, Field, Schema, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Default)]
struct Org {
    next: AtomicUsize,
    uploads: Mutex<HashMap<String, String>>,
    creates: Mutex<Vec<serde_json::Value>>,
}

struct Handler(Arc<Org>);

fn job_id(req: &Request) -> String {
    let p = req.url.path();
    p.split("/jobs/ingest/")
        .nth(1)
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

fn parse(csv: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn write(rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

impl Respond for Handler {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let org = &self.0;
        let p = req.url.path().to_owned();
        let m = req.method.as_str();
        if m == "POST" && p.ends_with("/jobs/ingest") {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            org.creates.lock().unwrap().push(body.clone());
            let id = format!("750I{}", org.next.fetch_add(1, Ordering::SeqCst));
            return ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": id, "state": "Open", "object": body["object"], "operation": body["operation"],
                "columnDelimiter": "COMMA", "lineEnding": "LF",
                "contentUrl": format!("services/data/v62.0/jobs/ingest/{id}/batches")}));
        }
        let id = job_id(req);
        if m == "PUT" && p.ends_with("/batches") {
            org.uploads
                .lock()
                .unwrap()
                .insert(id, String::from_utf8(req.body.clone()).unwrap());
            return ResponseTemplate::new(201);
        }
        if m == "PATCH" || m == "GET" && p.ends_with(&id) {
            return ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": id, "state": if m == "PATCH" { "UploadComplete" } else { "JobComplete" },
                "columnDelimiter": "COMMA", "lineEnding": "LF", "numberRecordsProcessed": "0"}));
        }
        let uploads = org.uploads.lock().unwrap();
        let rows = parse(uploads.get(&id).map_or("", String::as_str));
        let Some((header, data)) = rows.split_first() else {
            return ResponseTemplate::new(404);
        };
        let name_col = header.iter().position(|h| h == "name");
        let bad = |r: &Vec<String>| name_col.is_some_and(|i| r[i].starts_with("bad"));
        let mut out = Vec::new();
        if p.contains("successfulResults") {
            out.push(
                [
                    vec!["sf__Id".to_owned(), "sf__Created".to_owned()],
                    header.clone(),
                ]
                .concat(),
            );
            for (i, r) in data.iter().enumerate().rev().filter(|(_, r)| !bad(r)) {
                out.push([vec![format!("001{i:012}"), "true".to_owned()], r.clone()].concat());
            }
        } else if p.contains("failedResults") {
            out.push(
                [
                    vec!["sf__Id".to_owned(), "sf__Error".to_owned()],
                    header.clone(),
                ]
                .concat(),
            );
            for r in data.iter().filter(|r| bad(r)) {
                out.push(
                    [
                        vec![
                            String::new(),
                            "FIELD_CUSTOM_VALIDATION_EXCEPTION:bad name\nsecond line:name --"
                                .to_owned(),
                        ],
                        r.clone(),
                    ]
                    .concat(),
                );
            }
        } else {
            out.push(header.clone());
        }
        ResponseTemplate::new(200).set_body_string(write(&out))
    }
}

async fn org() -> (MockServer, Arc<Org>) {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path_regex("^/services/oauth2/token$"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "tok", "instance_url": uri}))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("/limits$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    let org = Arc::new(Org::default());
    Mock::given(path_regex("/jobs/ingest"))
        .respond_with(Handler(org.clone()))
        .mount(&server)
        .await;
    (server, org)
}

fn client(server: &MockServer) -> SalesforceClient {
    SalesforceClient::builder()
        .instance_url(server.uri())
        .credentials(Credentials::ClientCredentials {
            client_id: "key".into(),
            client_secret: SecretString::from("secret"),
        })
        .tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
        .poll(PollOptions {
            initial: Duration::from_millis(1),
            max_interval: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_sink_passes_the_conformance_kit() {
    let (server, org) = org().await;
    let client = client(&server);
    let report = run_conformance(
        || {
            SalesforceSink::new(client.clone())
                .write_batch_size(37)
                .max_concurrent_connections(3)
        },
        sample_stream(),
        sample_records(200),
    )
    .await
    .unwrap();
    assert_eq!(report.written, 200);
    // 37 rows per job: several jobs for 200 records.
    assert!(org.creates.lock().unwrap().len() >= 6);
}

#[tokio::test]
async fn every_row_gets_its_own_outcome_in_input_order() {
    let (server, org) = org().await;
    let client = client(&server);
    let schema = Arc::new(Schema::new(vec![
        Field::new("Ext__c", DataType::String),
        Field::new("name", DataType::String),
        Field::new("Amount__c", DataType::decimal(10, 2)),
    ]));
    let records: Vec<connector_core::Record> = (0..25)
        .map(|i| {
            connector_core::Record::new(vec![
                Value::String(format!("E{i}")),
                Value::String(if i % 7 == 3 {
                    format!("bad{i}")
                } else {
                    format!("ok \"{i}\",\n")
                }),
                if i % 2 == 0 {
                    Value::Null
                } else {
                    Value::Decimal(rust_decimal::Decimal::new(i, 1))
                },
            ])
        })
        .collect();
    let options = IngestOptions {
        write_batch_size: 10,
        max_concurrent_jobs: 2,
        ..IngestOptions::default()
    };
    let op = IngestOperation::Upsert {
        external_id_field_name: "Ext__c".into(),
    };
    let outcomes = client
        .ingest_jobs()
        .run("Account", &op, schema, &records, &options)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 25);
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            RecordOutcome::Rejected { error } => {
                assert_eq!(i % 7, 3);
                assert_eq!(error.code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
                assert_eq!(error.fields, ["name"]);
            }
            RecordOutcome::Written { action, remote_id } => {
                assert_ne!(i % 7, 3);
                assert_eq!(*action, WriteAction::Created);
                assert_eq!(
                    remote_id.as_deref(),
                    Some(format!("001{:012}", i % 10).as_str())
                );
            }
            other => panic!("row {i}: {other:?}"),
        }
    }
    let creates = org.creates.lock().unwrap().clone();
    assert_eq!(creates.len(), 3);
    assert_eq!(creates[0]["externalIdFieldName"], "Ext__c");
    assert_eq!(creates[0]["operation"], "upsert");
    let uploads = org.uploads.lock().unwrap();
    let first = uploads.values().find(|u| u.contains("\"E0\"")).unwrap();
    assert!(
        first.starts_with(
            "\"Ext__c\",\"name\",\"Amount__c\"\n\"E0\",\"ok \"\"0\"\",\n\",\"#N/A\"\n"
        ),
        "{first}"
    );
}

#[tokio::test]
async fn upsert_without_external_id_is_refused_before_any_job() {
    let (server, org) = org().await;
    let client = client(&server);
    let sink =
        SalesforceSink::new(client).write_behavior(salesforce_bulk2::sink::WriteBehavior::Upsert);
    let err =
        connector_core::Sink::open(&sink, &sample_stream(), &connector_core::WriteMode::Insert)
            .await
            .err()
            .unwrap();
    assert!(err.to_string().contains("externalIdFieldName"), "{err}");
    assert!(org.creates.lock().unwrap().is_empty());
}
