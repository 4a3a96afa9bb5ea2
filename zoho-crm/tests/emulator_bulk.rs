//! The emulated Bulk Read API: the job's life (`ADDED` → `IN PROGRESS` →
//! `COMPLETED`), the ZIP holding one CSV, paging with `page` and `page_token`, and
//! errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::collections::HashSet;
use std::io::Read;
use std::time::Duration;

use emulator_common::{Api, Resp};
use serde_json::{Value, json};
use zoho_crm::emulator::{EmulatorConfig, Endpoint};

/// Polls until the job is COMPLETED; returns every state seen and the last body.
async fn wait(api: &Api, id: &str) -> (Vec<String>, Value) {
    let mut states = Vec::new();
    for _ in 0..200 {
        let r = api.get(&format!("/crm/bulk/v8/read/{id}"), &[]).await;
        assert_eq!(r.status, 200);
        let job = r.body["data"][0].clone();
        let state = job["state"].as_str().unwrap().to_owned();
        if states.last() != Some(&state) {
            states.push(state.clone());
        }
        if state == "COMPLETED" {
            return (states, job);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the job never completed: {states:?}");
}

/// The single CSV of a result ZIP, as rows of cells.
fn unzip(resp: &Resp) -> (String, Vec<Vec<String>>) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(resp.bytes.clone())).unwrap();
    assert_eq!(archive.len(), 1);
    let mut file = archive.by_index(0).unwrap();
    let name = file.name().unwrap().into_owned();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (name, rows)
}

async fn create(api: &Api, body: Value) -> String {
    let r = api.post("/crm/bulk/v8/read", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_lifecycle_and_csv() {
    let api = Api::start(EmulatorConfig::new().bulk_job_delay(Duration::from_millis(300))).await;
    api.emu.seed_records("Leads", 120).unwrap();
    let special = api
        .emu
        .insert_record(
            "Leads",
            json!({
                "Last_Name": "O'Hara, \"Scarlett\"",
                "Description": "line one\nline two",
                "Preferred_Channels": ["Email", "SMS"],
                "Last_Demo_At": "2025-02-28T10:00:00+05:30",
                "Email_Opt_Out": true,
                "External_Ref": "987654321",
            }),
        )
        .unwrap();

    let created = api
        .post(
            "/crm/bulk/v8/read",
            &json!({
                "callback": {"url": "https://app.example.com/callback", "method": "post"},
                "query": {
                    "module": {"api_name": "Leads"},
                    "fields": ["Last_Name", "Email", "Owner", "Description", "Preferred_Channels", "Last_Demo_At", "Email_Opt_Out", "External_Ref", "Annual_Revenue"],
                    "page": 1,
                },
            }),
        )
        .await;
    assert_eq!(created.status, 201);
    let item = &created.body["data"][0];
    assert_eq!(item["status"], "success");
    assert_eq!(item["code"], "ADDED_SUCCESSFULLY");
    assert_eq!(item["message"], "Added successfully.");
    assert_eq!(item["details"]["operation"], "read");
    assert_eq!(item["details"]["state"], "ADDED");
    assert!(item["details"]["created_by"]["id"].is_string());
    assert_eq!(created.body["info"], json!({}));
    let id = item["details"]["id"].as_str().unwrap().to_owned();

    let early = api
        .get(&format!("/crm/bulk/v8/read/{id}/result"), &[])
        .await;
    assert_eq!(early.status, 400);

    let (states, job) = wait(&api, &id).await;
    assert_eq!(states, ["ADDED", "IN PROGRESS", "COMPLETED"]);
    assert_eq!(job["query"]["module"]["api_name"], "Leads");
    let result = &job["result"];
    assert_eq!(result["page"], 1);
    assert_eq!(result["per_page"], 200_000);
    assert_eq!(result["count"], 121);
    assert_eq!(result["more_records"], false);
    let download = result["download_url"].as_str().unwrap();
    assert_eq!(download, format!("/crm/bulk/v8/read/{id}/result"));

    let zip = api.get(download, &[]).await;
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    let (name, rows) = unzip(&zip);
    assert_eq!(name, format!("{id}.csv"));
    assert_eq!(
        rows[0],
        [
            "id",
            "Last_Name",
            "Email",
            "Owner",
            "Description",
            "Preferred_Channels",
            "Last_Demo_At",
            "Email_Opt_Out",
            "External_Ref",
            "Annual_Revenue"
        ]
    );
    assert_eq!(rows.len(), 122);
    let ids: HashSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 121);
    let row = rows.iter().find(|r| r[0] == special).unwrap();
    assert_eq!(row[1], "O'Hara, \"Scarlett\"");
    assert_eq!(row[3], api.emu.current_user_id());
    assert_eq!(row[4], "line one\nline two");
    assert_eq!(row[5], "Email;SMS");
    assert_eq!(row[6], "2025-02-28T04:30:00+00:00");
    assert!(chrono::DateTime::parse_from_rfc3339(&row[6]).is_ok());
    assert_eq!(row[7], "true");
    assert_eq!(row[8], "987654321");
    assert_eq!(row[9], "");
    // Every value is quoted.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
    let mut raw = String::new();
    archive
        .by_index(0)
        .unwrap()
        .read_to_string(&mut raw)
        .unwrap();
    assert!(raw.starts_with("\"id\",\"Last_Name\","));

    let stats = api.emu.stats();
    assert_eq!(stats.count("POST", Endpoint::BulkRead), 1);
    assert_eq!(stats.count("GET", Endpoint::BulkReadResult), 2);
    assert!(stats.count("GET", Endpoint::BulkRead) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn criteria_and_default_fields() {
    let api = Api::start(EmulatorConfig::new().bulk_job_delay(Duration::ZERO)).await;
    let ids = api.emu.seed_records("Accounts", 30).unwrap();
    for id in &ids[..5] {
        api.emu
            .update_record("Accounts", id, json!({"Tier": "Platinum", "Employees": 10}))
            .unwrap();
    }
    let id = create(
        &api,
        json!({"query": {
            "module": {"api_name": "Accounts"},
            "fields": ["Account_Name", "Tier", "Employees"],
            "criteria": {"group_operator": "and", "group": [
                {"field": {"api_name": "Tier"}, "comparator": "equal", "value": "Platinum"},
                {"field": {"api_name": "Employees"}, "comparator": "less_equal", "value": 10},
                {"group_operator": "or", "group": [
                    {"field": {"api_name": "Account_Name"}, "comparator": "contains", "value": "#"},
                    {"field": {"api_name": "Account_Name"}, "comparator": "starts_with", "value": "zzz"},
                ]},
            ]},
        }}),
    )
    .await;
    let (_, job) = wait(&api, &id).await;
    assert_eq!(job["result"]["count"], 5);
    let (_, rows) = unzip(
        &api.get(&format!("/crm/bulk/v8/read/{id}/result"), &[])
            .await,
    );
    assert!(rows[1..].iter().all(|r| r[2] == "Platinum" && r[3] == "10"));

    // Without fields: id and every field.
    let id = create(&api, json!({"query": {"module": "Accounts", "criteria": {"field": {"api_name": "id"}, "comparator": "in", "value": [ids[0], ids[1]]}}})).await;
    let (_, job) = wait(&api, &id).await;
    assert_eq!(job["result"]["count"], 2);
    let (_, rows) = unzip(
        &api.get(&format!("/crm/bulk/v8/read/{id}/result"), &[])
            .await,
    );
    assert_eq!(rows[0][0], "id");
    assert!(rows[0].len() > 30);
    assert!(rows[0].iter().any(|c| c == "Modified_Time"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_page_tokens() {
    let api = Api::start(
        EmulatorConfig::new()
            .bulk_job_delay(Duration::ZERO)
            .bulk_page_size(1_000)
            .bulk_downloads_per_minute(100),
    )
    .await;
    api.emu.seed_records("Leads", 2_500).unwrap();
    let query = |extra: Value| {
        let mut q = json!({"module": {"api_name": "Leads"}, "fields": ["Last_Name"]});
        if let (Some(q), Some(extra)) = (q.as_object_mut(), extra.as_object()) {
            q.extend(extra.clone());
        }
        json!({ "query": q })
    };
    let mut seen = HashSet::new();
    let first = create(&api, query(json!({}))).await;
    let (_, job) = wait(&api, &first).await;
    assert_eq!(job["result"]["per_page"], 1_000);
    assert_eq!(job["result"]["count"], 1_000);
    assert_eq!(job["result"]["more_records"], true);
    let token = job["result"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, rows) = unzip(
        &api.get(&format!("/crm/bulk/v8/read/{first}/result"), &[])
            .await,
    );
    seen.extend(rows[1..].iter().map(|r| r[0].clone()));

    let second = create(&api, query(json!({"page_token": token}))).await;
    let (_, job) = wait(&api, &second).await;
    assert_eq!(job["result"]["page"], 2);
    let (_, rows) = unzip(
        &api.get(&format!("/crm/bulk/v8/read/{second}/result"), &[])
            .await,
    );
    seen.extend(rows[1..].iter().map(|r| r[0].clone()));

    let third = create(&api, query(json!({"page": 3}))).await;
    let (_, job) = wait(&api, &third).await;
    assert_eq!(job["result"]["count"], 500);
    assert_eq!(job["result"]["more_records"], false);
    assert!(job["result"]["next_page_token"].is_null());
    let (_, rows) = unzip(
        &api.get(&format!("/crm/bulk/v8/read/{third}/result"), &[])
            .await,
    );
    seen.extend(rows[1..].iter().map(|r| r[0].clone()));
    assert_eq!(seen.len(), 2_500);

    // A token from another query is refused.
    let other = api
        .post(
            "/crm/bulk/v8/read",
            &json!({"query": {"module": {"api_name": "Leads"}, "fields": ["Email"], "page_token": token}}),
        )
        .await;
    assert_eq!(
        (other.status, other.code()),
        (400, "TOKEN_BOUND_DATA_MISMATCH")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_download_limit() {
    let api = Api::start(
        EmulatorConfig::new()
            .bulk_job_delay(Duration::ZERO)
            .bulk_downloads_per_minute(2),
    )
    .await;
    api.emu.seed_records("Deals", 3).unwrap();
    let bad = |body: Value, code: &'static str| {
        let api = &api;
        async move {
            let r = api.post("/crm/bulk/v8/read", &body).await;
            assert_eq!((r.status, r.code()), (400, code), "{}", r.body);
        }
    };
    bad(json!({}), "REQUIRED_PARAM_MISSING").await;
    bad(json!({"query": {}}), "REQUIRED_PARAM_MISSING").await;
    bad(
        json!({"query": {"module": {"api_name": "Widgets"}}}),
        "INVALID_MODULE",
    )
    .await;
    bad(
        json!({"query": {"module": {"api_name": "Deals"}, "fields": ["Nope"]}}),
        "INVALID_DATA",
    )
    .await;
    bad(
        json!({"query": {"module": {"api_name": "Deals"}, "criteria": {"field": {"api_name": "Amount"}, "comparator": "roughly", "value": 1}}}),
        "INVALID_DATA",
    )
    .await;
    bad(
        json!({"query": {"module": {"api_name": "Deals"}, "criteria": {"field": {"api_name": "Amount"}, "comparator": "equal", "value": "lots"}}}),
        "INVALID_DATA",
    )
    .await;
    bad(
        json!({"query": {"module": {"api_name": "Deals"}}, "file_type": "ics"}),
        "INVALID_DATA",
    )
    .await;

    let unknown = api.get("/crm/bulk/v8/read/5725767000000000042", &[]).await;
    assert_eq!(unknown.status, 400);

    let id = create(&api, json!({"query": {"module": {"api_name": "Deals"}}})).await;
    wait(&api, &id).await;
    let url = format!("/crm/bulk/v8/read/{id}/result");
    assert_eq!(api.get(&url, &[]).await.status, 200);
    assert_eq!(api.get(&url, &[]).await.status, 200);
    let limited = api.get(&url, &[]).await;
    assert_eq!((limited.status, limited.code()), (429, "TOO_MANY_REQUESTS"));
}
