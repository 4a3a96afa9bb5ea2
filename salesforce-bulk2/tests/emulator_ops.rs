//! Metadata, limits, reports, faults, statistics and TLS of the emulator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::time::{Duration, Instant};

use emulator_common::{Api, read};
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig, Endpoint, Fault, ReportDefinition};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_sobjects_and_describe() {
    let api = Api::default().await;
    let versions = read(
        api.http
            .get(format!("{}/services/data/", api.emu.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(versions.status, 200);
    let list = versions.body.as_array().unwrap();
    assert_eq!(list.last().unwrap()["version"], "62.0");
    assert_eq!(list.last().unwrap()["url"], "/services/data/v62.0");
    let unknown_version = api
        .send(
            api.http
                .get(format!("{}/services/data/v99.0/limits", api.emu.base_url())),
        )
        .await;
    assert_eq!(unknown_version.status, 404);

    let sobjects = api.get("/sobjects").await;
    let names: Vec<&str> = sobjects.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User", "Account", "Contact", "Invoice__c"]);

    let d = api.get("/sobjects/invoice__c/describe").await;
    assert_eq!(d.status, 200);
    assert_eq!(d.body["name"], "Invoice__c");
    assert_eq!(d.body["keyPrefix"], "a01");
    assert_eq!(d.body["custom"], true);
    let field = |name: &str| {
        d.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("Id")["type"], "id");
    assert_eq!(field("Amount__c")["type"], "currency");
    assert_eq!(
        (
            field("Amount__c")["precision"].clone(),
            field("Amount__c")["scale"].clone()
        ),
        (json!(16), json!(2))
    );
    assert_eq!(field("Tax_Rate__c")["type"], "percent");
    assert_eq!(field("Quantity__c")["type"], "double");
    assert_eq!(field("Line_Count__c")["type"], "int");
    assert_eq!(field("External_Id__c")["externalId"], true);
    assert_eq!(field("External_Id__c")["unique"], true);
    assert_eq!(field("Name")["nillable"], false);
    assert_eq!(field("Name")["createable"], true);
    assert_eq!(field("CreatedDate")["createable"], false);
    assert_eq!(field("Account__c")["referenceTo"], json!(["Account"]));
    assert_eq!(field("Account__c")["relationshipName"], "Account__r");
    assert_eq!(field("Pickup_Time__c")["type"], "time");
    assert_eq!(field("Sent_At__c")["soapType"], "xsd:dateTime");
    assert_eq!(
        field("Status__c")["picklistValues"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    for t in [
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "boolean",
        "date",
        "reference",
        "picklist",
    ] {
        assert!(
            d.body["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["type"] == t),
            "{t}"
        );
    }
    let contact = api.get("/sobjects/Contact/describe").await;
    assert!(
        contact.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "AccountId" && f["referenceTo"] == json!(["Account"]))
    );
    let missing = api.get("/sobjects/Nope/describe").await;
    assert_eq!((missing.status, missing.code()), (404, "NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_count_down() {
    let api = Api::default().await;
    let before = api.get("/limits").await;
    assert_eq!(
        before.body["DailyBulkV2QueryJobs"],
        json!({"Max": 10000, "Remaining": 10000})
    );
    assert_eq!(before.body["DailyBulkApiBatches"]["Max"], 15000);
    assert!(
        before.body["DailyApiRequests"]["Remaining"]
            .as_u64()
            .unwrap()
            < 100_000
    );
    api.query_job(json!({"operation": "query", "query": "SELECT Id FROM Account"}))
        .await;
    let csv: String = std::iter::once("Name\n".to_owned())
        .chain((0..10_001).map(|i| format!("N{i}\n")))
        .collect();
    let (_, info) = api
        .ingest(json!({"object": "Account", "operation": "insert"}), &csv)
        .await;
    assert_eq!(info["numberRecordsProcessed"], 10_001);
    let after = api.get("/limits").await;
    assert_eq!(after.body["DailyBulkV2QueryJobs"]["Remaining"], 9_999);
    assert_eq!(
        after.body["DailyBulkApiBatches"]["Remaining"], 14_998,
        "two internal batches"
    );
    assert_eq!(api.emu.record_count("Account"), 10_001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_run_with_the_row_cap() {
    let api = Api::start(EmulatorConfig::new().report_row_limit(5)).await;
    api.emu.seed_records("Account", 8).unwrap();
    let id = api
        .emu
        .add_report(ReportDefinition::new(
            "All accounts",
            "Account",
            &["Name", "AnnualRevenue", "Active__c"],
        ))
        .unwrap();
    assert!(id.starts_with("00O"));
    let run = api
        .get(&format!("/analytics/reports/{id}?includeDetails=true"))
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.body["allData"], false);
    assert_eq!(run.body["hasExceededTabularRowLimit"], true);
    let rows = run.body["factMap"]["T!T"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(run.body["factMap"]["T!T"]["aggregates"][0]["value"], 8);
    assert_eq!(rows[0]["dataCells"][0]["label"], "Account 0000001");
    assert!(rows[0]["dataCells"][1]["value"]["amount"].is_number());
    assert!(rows[0]["dataCells"][2]["value"].is_boolean());
    assert_eq!(
        run.body["reportMetadata"]["detailColumns"],
        json!(["Account.Name", "Account.AnnualRevenue", "Account.Active__c"])
    );
    assert_eq!(run.body["reportMetadata"]["reportFormat"], "TABULAR");
    // Runtime filters through POST.
    let filtered = api
        .post(
            &format!("/analytics/reports/{id}"),
            &json!({"reportMetadata": {"reportFilters": [{"column": "Account.Name", "operator": "equals", "value": "Account 0000003"}]}}),
        )
        .await;
    assert_eq!(filtered.body["allData"], true);
    assert_eq!(
        filtered.body["factMap"]["T!T"]["rows"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/analytics/reports").await.body[0]["id"],
        id.as_str()
    );
    assert_eq!(
        api.get(&format!("/analytics/reports/{id}/describe"))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get("/analytics/reports/00O000000000000AAA")
            .await
            .status,
        404
    );
    assert!(
        api.emu
            .add_report(ReportDefinition::new("Bad", "Account", &["Nope"]))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_switchable_and_counted() {
    let api = Api::default().await;
    let faults = api.emu.faults();
    faults.inject(Fault::rate_limited(7).times(1));
    faults.inject(Fault::server_error(503).times(1).on_path("/limits"));
    faults.inject(Fault::html_error(502).times(1).on_path("/limits"));
    faults.inject(Fault::empty_error(500).times(1).on_path("/limits"));
    let limited = api.get("/limits").await;
    assert_eq!(
        (limited.status, limited.code()),
        (429, "REQUEST_LIMIT_EXCEEDED")
    );
    assert_eq!(limited.header("retry-after"), Some("7"));
    let unavailable = api.get("/limits").await;
    assert_eq!(
        (unavailable.status, unavailable.code()),
        (503, "SERVER_UNAVAILABLE")
    );
    let html = api.get("/limits").await;
    assert_eq!(html.status, 502);
    assert!(html.text.starts_with("<html>"));
    assert_eq!(html.header("content-type"), Some("text/html"));
    let empty = api.get("/limits").await;
    assert_eq!((empty.status, empty.text.as_str()), (500, ""));
    assert_eq!(api.get("/limits").await.status, 200);
    assert_eq!(faults.pending(), 0);
    let stats = api.emu.stats();
    assert_eq!(stats.count("GET", Endpoint::Limits), 5);
    assert_eq!(stats.status(429), 1);
    api.emu.reset_stats();
    assert_eq!(api.emu.stats().total(), 0);

    // The next job fails.
    faults.fail_next_jobs(1);
    let failed = api
        .query_job(json!({"operation": "query", "query": "SELECT Id FROM Account"}))
        .await;
    assert_eq!(failed["state"], "Failed");
    assert!(
        failed["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Unexpected exception")
    );
    faults.fail_next_jobs(1);
    let (id, info) = api
        .ingest(
            json!({"object": "Account", "operation": "insert"}),
            "Name\nA\nB\n",
        )
        .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        api.get(&format!("/jobs/ingest/{id}/unprocessedrecords"))
            .await
            .csv()
            .1
            .len(),
        2
    );
    assert_eq!(api.emu.record_count("Account"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_page_cut_off_midway_can_be_fetched_again() {
    let api = Api::default().await;
    api.emu.seed_records("Account", 200).unwrap();
    let info = api
        .query_job(
            json!({"operation": "query", "query": "SELECT Id, Name, Description FROM Account"}),
        )
        .await;
    let id = info["id"].as_str().unwrap();
    api.emu
        .faults()
        .inject(Fault::drop_connection().times(1).on_path("/results"));
    let url = api.url(&format!("/jobs/query/{id}/results?maxRecords=150"));
    let response = api
        .http
        .get(&url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body is cut off");
    // The same locator again: complete.
    let page = api.send(api.http.get(&url)).await;
    assert_eq!(page.csv().1.len(), 150);
    assert_eq!(api.emu.stats().records_returned(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_latency_makes_parallel_pages_pay_off() {
    let api = Api::start(EmulatorConfig::new().page_latency(Duration::from_millis(150))).await;
    api.emu.seed_records("Account", 40).unwrap();
    let info = api
        .query_job(json!({"operation": "query", "query": "SELECT Id FROM Account"}))
        .await;
    let id = info["id"].as_str().unwrap();
    let pages = api
        .get(&format!("/jobs/query/{id}/resultPages?maxRecords=10"))
        .await;
    let urls: Vec<String> = pages.body["resultPages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}{}", api.emu.base_url(), p["resultUrl"].as_str().unwrap()))
        .collect();
    assert_eq!(urls.len(), 4);
    let started = Instant::now();
    let all = futures::future::join_all(urls.iter().map(|u| api.send(api.http.get(u)))).await;
    let parallel = started.elapsed();
    assert_eq!(all.iter().map(|p| p.csv().1.len()).sum::<usize>(), 40);
    assert!(
        parallel < Duration::from_millis(550),
        "{parallel:?}: pages were served one at a time"
    );
    assert!(parallel >= Duration::from_millis(150));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_generated_certificate() {
    let emu = Emulator::start(EmulatorConfig::new().tls(true))
        .await
        .unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let pem = emu.certificate_pem().unwrap();
    connector_core::http::install_crypto_provider();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let token = read(
        http.post(emu.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", emu.client_id()),
                ("client_secret", emu.client_secret()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.text);
    assert_eq!(token.body["instance_url"], emu.base_url());
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(emu.token_url()).send().await.is_err());
    emu.shutdown().await;
}
