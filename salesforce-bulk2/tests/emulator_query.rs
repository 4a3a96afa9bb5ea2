//! Bulk API 2.0 query jobs against the emulator: SOQL evaluation, paging, CSV
//! shape, job life cycle and the errors of what Bulk refuses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::time::Duration;

use emulator_common::{Api, parse_csv};
use salesforce_bulk2::emulator::EmulatorConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_repeat_the_header_and_end_with_null_locator() {
    let api = Api::default().await;
    assert_eq!(api.emu.seed_records("Account", 25).unwrap(), 25);
    let info = api
        .query_job(json!({"operation": "query", "query": "SELECT Id, Name, AnnualRevenue, Description FROM Account"}))
        .await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["numberRecordsProcessed"], 25);
    assert_eq!(info["jobType"], "V2Query");
    assert_eq!(info["object"], "Account");
    let id = info["id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("750"));
    let (headers, rows) = api.all_pages(id, 10).await;
    assert_eq!(headers.len(), 3, "10 + 10 + 5 rows");
    for h in &headers {
        assert_eq!(h, &["Id", "Name", "AnnualRevenue", "Description"]);
    }
    assert_eq!(rows.len(), 25);
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names[0], "Account 0000001");
    assert_eq!(names[24], "Account 0000025");
    // Embedded comma, quotes and newline survive a real CSV parser.
    assert!(
        rows.iter()
            .any(|r| r[3].contains("\"quotes\"\nand a second line"))
    );
    // Ids are 18-character Account ids.
    assert!(
        rows.iter()
            .all(|r| r[0].len() == 18 && r[0].starts_with("001"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_order_by_limit_and_parent_fields() {
    let api = Api::default().await;
    let accounts = api
        .emu
        .insert_records(
            "Account",
            &[
                json!({"Name": "Acme", "AnnualRevenue": 5_000_000, "Industry": "Energy", "Customer_Since__c": "2020-05-01"}),
                json!({"Name": "Globex", "AnnualRevenue": 200, "Industry": "Retail"}),
                json!({"Name": "Initech", "Industry": "Technology", "Active__c": true}),
            ],
        )
        .unwrap();
    api.emu
        .insert_records(
            "Contact",
            &[
                json!({"LastName": "Smith", "FirstName": "Ann", "AccountId": accounts[0], "Email": "ann@acme.example"}),
                json!({"LastName": "Smythe", "AccountId": accounts[1]}),
                json!({"LastName": "Jones", "FirstName": "Bob"}),
            ],
        )
        .unwrap();
    let run = |soql: &'static str| {
        let api = &api;
        async move {
            let info = api
                .query_job(json!({"operation": "query", "query": soql}))
                .await;
            assert_eq!(info["state"], "JobComplete", "{soql}");
            api.all_pages(info["id"].as_str().unwrap(), 1000).await.1
        }
    };
    let rows =
        run("SELECT Name FROM Account WHERE AnnualRevenue > 1000 OR Industry = 'retail'").await;
    assert_eq!(rows, vec![vec!["Acme"], vec!["Globex"]]);
    let rows = run("SELECT Name FROM Account WHERE AnnualRevenue = null").await;
    assert_eq!(rows, vec![vec!["Initech"]]);
    let rows = run("SELECT Name FROM Account WHERE NOT (Industry IN ('Energy', 'Retail')) AND Active__c = true").await;
    assert_eq!(rows, vec![vec!["Initech"]]);
    let rows = run("SELECT Name FROM Account WHERE Customer_Since__c >= 2020-01-01 AND CreatedDate > 2001-01-01T00:00:00Z").await;
    assert_eq!(rows, vec![vec!["Acme"]]);
    let rows =
        run("SELECT Name FROM Account WHERE CreatedDate = TODAY ORDER BY Name DESC LIMIT 2").await;
    assert_eq!(rows, vec![vec!["Initech"], vec!["Globex"]]);
    let rows = run("SELECT LastName, Name, Account.Name FROM Contact WHERE LastName LIKE 'Sm%' ORDER BY LastName").await;
    assert_eq!(
        rows,
        vec![
            vec!["Smith", "Ann Smith", "Acme"],
            vec!["Smythe", "Smythe", "Globex"]
        ]
    );
    // A null parent and a null field are empty cells; every other value is quoted.
    let info = api
        .query_job(json!({"operation": "query", "query": "SELECT LastName, Account.Name, Email FROM Contact WHERE LastName = 'Jones'"}))
        .await;
    let page = api
        .get(&format!(
            "/jobs/query/{}/results",
            info["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        page.text,
        "\"LastName\",\"Account.Name\",\"Email\"\n\"Jones\",,\n"
    );
    assert_eq!(page.header("content-type"), Some("text/csv"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delimiters_line_endings_and_gzip() {
    let api = Api::default().await;
    api.emu
        .insert_records("Account", &[json!({"Name": "Semi;colon \"and\" quote"})])
        .unwrap();
    let info = api
        .query_job(json!({"operation": "query", "query": "SELECT Name, Type FROM Account", "columnDelimiter": "SEMICOLON", "lineEnding": "CRLF"}))
        .await;
    assert_eq!(info["columnDelimiter"], "SEMICOLON");
    assert_eq!(info["lineEnding"], "CRLF");
    let id = info["id"].as_str().unwrap();
    let page = api.get(&format!("/jobs/query/{id}/results")).await;
    assert_eq!(
        page.text,
        "\"Name\";\"Type\"\r\n\"Semi;colon \"\"and\"\" quote\";\r\n"
    );
    let (header, rows) = parse_csv(&page.text, b';');
    assert_eq!(header, ["Name", "Type"]);
    assert_eq!(rows[0][0], "Semi;colon \"and\" quote");

    // Gzip when asked (reqwest decompresses transparently; check the raw header with a
    // client that does not).
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = raw
        .get(api.url(&format!("/jobs/query/{id}/results")))
        .bearer_auth(&api.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);

    let bad = api
        .post("/jobs/query", &json!({"operation": "query", "query": "SELECT Id FROM Account", "columnDelimiter": "DOT"}))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "INVALIDJOB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_all_sees_soft_deleted_records() {
    let api = Api::default().await;
    let ids = api
        .emu
        .insert_records(
            "Account",
            &[json!({"Name": "Keep"}), json!({"Name": "Gone"})],
        )
        .unwrap();
    let (_, info) = api
        .ingest(
            json!({"object": "Account", "operation": "delete"}),
            &format!("Id\n{}\n", ids[1]),
        )
        .await;
    assert_eq!(info["numberRecordsProcessed"], 1);
    let soql = "SELECT Name, IsDeleted FROM Account ORDER BY Name";
    let live = api
        .query_job(json!({"operation": "query", "query": soql}))
        .await;
    let rows = api.all_pages(live["id"].as_str().unwrap(), 100).await.1;
    assert_eq!(rows, vec![vec!["Keep", "false"]]);
    let all = api
        .query_job(json!({"operation": "queryAll", "query": soql}))
        .await;
    assert_eq!(all["operation"], "queryAll");
    let rows = api.all_pages(all["id"].as_str().unwrap(), 100).await.1;
    assert_eq!(rows, vec![vec!["Gone", "true"], vec!["Keep", "false"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soql_bulk_refuses_gets_salesforce_errors() {
    let api = Api::default().await;
    for (soql, code) in [
        ("SELECT COUNT() FROM Account", "API_ERROR"),
        (
            "SELECT Industry FROM Account GROUP BY Industry",
            "API_ERROR",
        ),
        ("SELECT Name FROM Account LIMIT 10 OFFSET 5", "API_ERROR"),
        (
            "SELECT Name, (SELECT LastName FROM Contacts) FROM Account",
            "API_ERROR",
        ),
        (
            "SELECT TYPEOF Owner WHEN User THEN Name END FROM Account",
            "API_ERROR",
        ),
        ("SELECT Nope__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity__x", "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD"),
    ] {
        let r = api
            .post("/jobs/query", &json!({"operation": "query", "query": soql}))
            .await;
        assert_eq!(r.status, 400, "{soql}");
        assert_eq!(r.code(), code, "{soql}: {}", r.text);
        assert!(r.body[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = api
        .post(
            "/jobs/query",
            &json!({"operation": "query", "query": "SELECT Nope__c FROM Account"}),
        )
        .await;
    let message = r.body[0]["message"].as_str().unwrap();
    assert!(
        message.contains("No such column 'Nope__c' on entity 'Account'"),
        "{message}"
    );
    assert!(message.contains("ERROR at Row:1:Column:8"), "{message}");
    // A refused job consumed no daily query job.
    assert_eq!(
        api.emu.limit_remaining("DailyBulkV2QueryJobs"),
        Some(10_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_life_cycle_versions_and_listing() {
    let api =
        Api::start(EmulatorConfig::new().job_processing_time(Duration::from_millis(300))).await;
    api.emu.seed_records("Account", 3).unwrap();
    let created = api
        .post(
            "/jobs/query",
            &json!({"operation": "query", "query": "SELECT Id FROM Account"}),
        )
        .await;
    assert_eq!(created.body["state"], "UploadComplete");
    assert_eq!(created.body["apiVersion"], 62.0);
    assert_eq!(created.body["concurrencyMode"], "Parallel");
    let created_date = created.body["createdDate"].as_str().unwrap();
    assert!(created_date.ends_with("+0000"), "{created_date}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let early = api.get(&format!("/jobs/query/{id}")).await;
    assert_eq!(early.body["state"], "InProgress");
    let premature = api.get(&format!("/jobs/query/{id}/results")).await;
    assert_eq!(premature.status, 412);
    assert_eq!(premature.code(), "JOB_NOT_COMPLETE");
    let done = api.wait(&format!("/jobs/query/{id}")).await;
    assert_eq!(done["state"], "JobComplete");
    // Results must be fetched with the version that created the job.
    let other_version = api
        .send(api.http.get(format!(
            "{}/services/data/v61.0/jobs/query/{id}/results",
            api.emu.base_url()
        )))
        .await;
    assert_eq!(other_version.status, 409);
    // Aborting a finished job is refused; a running one is aborted.
    let abort = api
        .patch(&format!("/jobs/query/{id}"), &json!({"state": "Aborted"}))
        .await;
    assert_eq!(abort.status, 400);
    assert_eq!(abort.code(), "INVALIDJOBSTATE");
    let second = api
        .post(
            "/jobs/query",
            &json!({"operation": "query", "query": "SELECT Id FROM Account"}),
        )
        .await;
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let aborted = api
        .patch(
            &format!("/jobs/query/{second_id}"),
            &json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(aborted.body["state"], "Aborted");
    let list = api.get("/jobs/query").await;
    assert_eq!(list.body["done"], true);
    assert_eq!(list.body["records"].as_array().unwrap().len(), 2);
    assert_eq!(api.delete(&format!("/jobs/query/{id}")).await.status, 204);
    assert_eq!(api.get(&format!("/jobs/query/{id}")).await.status, 404);
    assert_eq!(
        api.get("/jobs/query").await.body["records"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.emu.limit_remaining("DailyBulkV2QueryJobs"), Some(9_998));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_pages_list_parallel_fetchable_urls() {
    let api = Api::default().await;
    api.emu.seed_records("Invoice__c", 130).unwrap();
    let info = api
        .query_job(json!({"operation": "query", "query": "SELECT External_Id__c, Amount__c FROM Invoice__c"}))
        .await;
    let id = info["id"].as_str().unwrap();
    let first = api
        .get(&format!("/jobs/query/{id}/resultPages?maxRecords=20"))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["done"], false);
    let pages = first.body["resultPages"].as_array().unwrap();
    assert_eq!(pages.len(), 5);
    let next = first.body["nextRecordsUrl"].as_str().unwrap();
    let second = api
        .send(api.http.get(format!("{}{next}", api.emu.base_url())))
        .await;
    assert_eq!(second.body["done"], true);
    assert!(second.body["nextRecordsUrl"].is_null());
    let urls: Vec<String> = pages
        .iter()
        .chain(second.body["resultPages"].as_array().unwrap())
        .map(|p| p["resultUrl"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 7);
    // Fetch them all at once; together they hold every record exactly once.
    let fetches = urls
        .iter()
        .map(|u| api.send(api.http.get(format!("{}{u}", api.emu.base_url()))));
    let mut ext_ids: Vec<String> = futures::future::join_all(fetches)
        .await
        .into_iter()
        .flat_map(|page| {
            assert_eq!(page.status, 200);
            page.csv().1.into_iter().map(|r| r[0].clone())
        })
        .collect();
    ext_ids.sort();
    ext_ids.dedup();
    assert_eq!(ext_ids.len(), 130);

    // Older API versions have no resultPages.
    let old = api
        .send(api.http.get(format!(
            "{}/services/data/v57.0/jobs/query/{id}/resultPages",
            api.emu.base_url()
        )))
        .await;
    assert_eq!(old.status, 404);
}
