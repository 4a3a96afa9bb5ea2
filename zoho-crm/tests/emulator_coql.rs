//! The emulated COQL endpoint: clauses, operators, relations, paging limits, and
//! Zoho's error codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::collections::HashSet;

use emulator_common::Api;
use serde_json::json;
use zoho_crm::emulator::Endpoint;

async fn fixture() -> (Api, Vec<String>) {
    let api = Api::default().await;
    api.emu.seed_users(3);
    let acme = api
        .emu
        .insert_record(
            "Accounts",
            json!({"Account_Name": "Acme", "Phone": "+1 555 0100"}),
        )
        .unwrap();
    let globex = api
        .emu
        .insert_record("Accounts", json!({"Account_Name": "Globex"}))
        .unwrap();
    let rows = [
        json!({"Last_Name": "Smith", "First_Name": "Anna", "Email": "anna@acme.example", "Account_Name": {"id": acme}, "Email_Opt_Out": true, "Date_of_Birth": "1980-05-01", "Loyalty_Points": "900000000000000001", "Lifetime_Value": 100.5}),
        json!({"Last_Name": "Smithers", "First_Name": "Bob", "Email": "bob@acme.example", "Account_Name": {"id": acme}, "Email_Opt_Out": false, "Date_of_Birth": "1990-01-15", "Loyalty_Points": "5", "Lifetime_Value": 2000}),
        json!({"Last_Name": "Jones", "First_Name": "Cara", "Email": "cara@globex.example", "Account_Name": {"id": globex}, "Date_of_Birth": "2000-12-31", "Preferred_Channels": ["SMS", "Email"]}),
        json!({"Last_Name": "Brown", "Title": "CTO"}),
    ];
    let ids = rows
        .into_iter()
        .map(|r| api.emu.insert_record("Contacts", r).unwrap())
        .collect();
    (api, ids)
}

fn names(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["Last_Name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_where_order_limit() {
    let (api, ids) = fixture().await;
    let r = api
        .coql("select Last_Name, First_Name, Account_Name, Account_Name.Account_Name, Owner, Owner.email from Contacts where Last_Name like 'Smith%' order by Last_Name desc")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(names(&r.body), ["Smithers", "Smith"]);
    assert_eq!(r.body["info"], json!({"count": 2, "more_records": false}));
    let row = r.body["data"][1].as_object().unwrap();
    assert_eq!(row["id"], ids[0].as_str());
    assert_eq!(row["Account_Name"]["name"], "Acme");
    assert!(row["Account_Name"]["id"].is_string());
    assert_eq!(row["Account_Name.Account_Name"], "Acme");
    assert_eq!(
        row["Owner"],
        json!({"name": "Boyle", "id": api.emu.current_user_id()})
    );
    assert_eq!(row["Owner.email"], "patricia.boyle@zylker.example");
    assert_eq!(row.len(), 7, "the columns plus id");

    // Keywords in any case, aliases, `limit offset, n` and `limit n offset m`.
    let r = api
        .coql("SELECT Last_Name AS surname FROM Contacts WHERE Last_Name IS NOT NULL ORDER BY Last_Name ASC LIMIT 1, 2")
        .await;
    assert_eq!(r.body["data"][0]["surname"], "Jones");
    assert_eq!(r.body["data"][1]["surname"], "Smith");
    assert_eq!(r.body["info"]["more_records"], true);
    let r = api
        .coql("select Last_Name from Contacts order by Last_Name limit 2 offset 3")
        .await;
    assert_eq!(names(&r.body), ["Smithers"]);
    assert_eq!(r.body["info"]["more_records"], false);

    // No match: 204.
    let none = api
        .coql("select Last_Name from Contacts where Last_Name = 'Nobody'")
        .await;
    assert_eq!((none.status, none.bytes.len()), (204, 0));
    assert_eq!(api.emu.stats().count("POST", Endpoint::Coql), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators() {
    let (api, _) = fixture().await;
    let q = |criteria: &str| {
        format!("select Last_Name from Contacts where {criteria} order by Last_Name")
    };
    let cases = [
        ("Last_Name = 'smith'", vec!["Smith"]),
        ("Last_Name != 'Smith'", vec!["Brown", "Jones", "Smithers"]),
        ("Last_Name like '%ers'", vec!["Smithers"]),
        ("Email like '%acme%'", vec!["Smith", "Smithers"]),
        ("Email not like '%acme%'", vec!["Jones"]),
        ("Last_Name in ('Jones', 'Brown')", vec!["Brown", "Jones"]),
        (
            "Last_Name not in ('Jones', 'Brown')",
            vec!["Smith", "Smithers"],
        ),
        ("Title is null", vec!["Jones", "Smith", "Smithers"]),
        ("Title is not null", vec!["Brown"]),
        ("Email_Opt_Out = 'true'", vec!["Smith"]),
        ("Email_Opt_Out = false", vec!["Smithers"]),
        ("Date_of_Birth > '1985-01-01'", vec!["Jones", "Smithers"]),
        (
            "Date_of_Birth between '1980-01-01' and '1990-01-15'",
            vec!["Smith", "Smithers"],
        ),
        (
            "Date_of_Birth not between '1980-01-01' and '1990-01-15'",
            vec!["Jones"],
        ),
        ("Lifetime_Value >= 100.5", vec!["Smith", "Smithers"]),
        ("Lifetime_Value < 1000", vec!["Smith"]),
        ("Loyalty_Points > '6'", vec!["Smith"]),
        ("Loyalty_Points <= 5", vec!["Smithers"]),
        ("Account_Name.Account_Name = 'Globex'", vec!["Jones"]),
        ("Preferred_Channels = 'SMS'", vec!["Jones"]),
        (
            "Created_Time > '2000-01-01T00:00:00+05:30'",
            vec!["Brown", "Jones", "Smith", "Smithers"],
        ),
        ("Created_Time < '2000-01-01T00:00:00Z'", vec![]),
        (
            "(Last_Name like 'S%' and Email_Opt_Out = 'false') or Last_Name = 'Brown'",
            vec!["Brown", "Smithers"],
        ),
        (
            "Last_Name like 'S%' and (Email_Opt_Out = 'false' or Email_Opt_Out = 'true')",
            vec!["Smith", "Smithers"],
        ),
        (
            "((Last_Name != 'A' and Last_Name != 'B') and Last_Name != 'Brown')",
            vec!["Jones", "Smith", "Smithers"],
        ),
    ];
    for (criteria, expected) in cases {
        let r = api.coql(&q(criteria)).await;
        let got = names(&r.body);
        assert_eq!(got, expected, "{criteria}: {}", r.body);
    }
    let acme = api.emu.records("Accounts")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_lookup = api.coql(&q(&format!("Account_Name = '{acme}'"))).await;
    assert_eq!(names(&by_lookup.body), ["Smith", "Smithers"]);
    let owner = api.emu.current_user_id();
    let by_owner = api.coql(&q(&format!("Owner = '{owner}'"))).await;
    assert_eq!(by_owner.body["info"]["count"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_paging_over_2500_records() {
    let api = Api::default().await;
    api.emu.seed_records("Leads", 2_500).unwrap();
    let mut last = String::from("0");
    let mut seen = HashSet::new();
    let mut calls = 0;
    loop {
        let r = api
            .coql(&format!(
                "select Last_Name, Modified_Time from Leads where id > '{last}' order by id asc limit 2000"
            ))
            .await;
        calls += 1;
        if r.status == 204 {
            break;
        }
        let ids = Api::ids(&r.body);
        last = ids.last().unwrap().clone();
        seen.extend(ids);
        if r.body["info"]["more_records"] == false {
            break;
        }
    }
    assert_eq!(seen.len(), 2_500);
    assert_eq!(calls, 2);

    // Incremental by Modified_Time, newest first.
    let newest = api
        .coql("select Modified_Time from Leads where Modified_Time is not null order by Modified_Time desc limit 3")
        .await;
    let times: Vec<&str> = newest.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Modified_Time"].as_str().unwrap())
        .collect();
    assert!(times[0] > times[1] && times[1] > times[2]);
    let since = api
        .coql(&format!(
            "select Modified_Time from Leads where Modified_Time >= '{}' order by Modified_Time asc",
            times[2]
        ))
        .await;
    assert_eq!(since.body["info"]["count"], 3);

    // The default limit is 200; offsets reach past it.
    let default = api.coql("select Last_Name from Leads").await;
    assert_eq!(
        default.body["info"],
        json!({"count": 200, "more_records": true})
    );
    let tail = api
        .coql("select Last_Name from Leads limit 2400, 200")
        .await;
    assert_eq!(
        tail.body["info"],
        json!({"count": 100, "more_records": false})
    );
    // Sorting on a non-indexed field.
    let by_score = api
        .coql("select Lead_Score from Leads where Lead_Score is not null order by Lead_Score desc, id asc limit 5")
        .await;
    let scores: Vec<u64> = by_score.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Lead_Score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors() {
    let (api, _) = fixture().await;
    let check = |query: String, status: u16, code: &'static str| {
        let api = &api;
        async move {
            let r = api.coql(&query).await;
            assert_eq!((r.status, r.code()), (status, code), "{query}: {}", r.body);
            if status != 204 {
                assert_eq!(r.body["status"], "error");
            }
            r.body
        }
    };
    let star = check("select * from Contacts".into(), 400, "SYNTAX_ERROR").await;
    assert_eq!(star["details"], json!({"clause": "select", "near": "*"}));
    check(
        "update Contacts set Last_Name = 'x'".into(),
        400,
        "SYNTAX_ERROR",
    )
    .await;
    check("select Last_Name".into(), 400, "SYNTAX_ERROR").await;
    check(
        "select Last_Name from Contacts where".into(),
        400,
        "SYNTAX_ERROR",
    )
    .await;
    check(
        "select Last_Name from Contacts where (Last_Name = 'a'".into(),
        400,
        "SYNTAX_ERROR",
    )
    .await;
    check(
        "select Last_Name from Contacts where Last_Name = 'unterminated".into(),
        400,
        "SYNTAX_ERROR",
    )
    .await;
    check(
        "select Last_Name from Contacts where Last_Name = 'a' and Title = 'b' and Email = 'c'"
            .into(),
        400,
        "SYNTAX_ERROR",
    )
    .await;
    let column = check(
        "select Last_Name, Shoe_Size from Contacts".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_eq!(column["details"]["column_name"], "Shoe_Size");
    assert_eq!(column["details"]["clause"], "select");
    let in_where = check(
        "select Last_Name from Contacts where Shoe_Size = 1".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    assert_eq!(in_where["details"]["clause"], "where");
    check("select Last_Name from Widgets".into(), 400, "INVALID_QUERY").await;
    check(
        "select Last_Name from Contacts where Days_Visited = 'many'".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    check(
        "select Last_Name from Contacts where Last_Name > 'a'".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    check(
        "select Last_Name from Contacts where Description = 'a'".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    check(
        "select Last_Name from Contacts where Date_of_Birth = '01/02/2000'".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    check(
        "select Last_Name, Last_Name from Contacts".into(),
        400,
        "DUPLICATE_DATA",
    )
    .await;
    check(
        "select COUNT(id) from Contacts".into(),
        400,
        "INVALID_QUERY",
    )
    .await;
    check(
        "select Last_Name from Contacts limit 2001".into(),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    check(
        "select Last_Name from Contacts limit 98001, 2000".into(),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    check(
        "select Last_Name from Contacts limit 98000, 2000".into(),
        204,
        "",
    )
    .await;
    check(
        "select Account_Name.Parent_Account.Parent_Account.Account_Name from Contacts".into(),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    let meta = api
        .get("/crm/v8/settings/fields", &[("module", "Leads")])
        .await;
    let columns: Vec<&str> = meta.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["api_name"].as_str().unwrap())
        .collect();
    let fifty = format!("select {} from Leads", columns[..50].join(", "));
    check(fifty, 204, "").await;
    let many = format!("select {} from Leads", columns[..51].join(", "));
    check(many, 400, "LIMIT_EXCEEDED").await;
    let values: Vec<String> = (0..51).map(|i| format!("'v{i}'")).collect();
    check(
        format!(
            "select Last_Name from Contacts where Last_Name in ({})",
            values.join(",")
        ),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;
    let mut criteria = String::from("Last_Name != 'x0'");
    for i in 1..26 {
        criteria = format!("({criteria} and Last_Name != 'x{i}')");
    }
    check(
        format!("select Last_Name from Contacts where {criteria}"),
        400,
        "LIMIT_EXCEEDED",
    )
    .await;

    let missing = api
        .post(
            "/crm/v8/coql",
            &json!({"query": "select Last_Name from Contacts"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "REQUIRED_PARAM_MISSING")
    );
    let get = api.get("/crm/v8/coql", &[]).await;
    assert_eq!(get.code(), "INVALID_REQUEST_METHOD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_meta_fields() {
    let (api, _) = fixture().await;
    let r = api
        .post(
            "/crm/v8/coql",
            &json!({"select_query": "select Last_Name, Email from Contacts where Last_Name = 'Jones'", "include_meta": ["fields"]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["fields"]["Last_Name"]["data_type"], "text");
    assert_eq!(r.body["fields"]["Email"]["json_type"], "string");
}
