//! The emulated Records and metadata APIs: field metadata, `fields` rules, `page`
//! versus `page_token` around 2,000 records, sorting, `If-Modified-Since`, and
//! per-record write results with each error code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::collections::HashSet;
use std::time::Duration;

use emulator_common::Api;
use serde_json::{Value, json};
use zoho_crm::emulator::{EmulatorConfig, Endpoint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_and_field_metadata() {
    let api = Api::default().await;
    let modules = api.get("/crm/v8/settings/modules", &[]).await;
    assert_eq!(modules.status, 200);
    let list = modules.body["modules"].as_array().unwrap();
    let find = |name: &str| list.iter().find(|m| m["api_name"] == name).unwrap();
    for name in ["Leads", "Contacts", "Accounts", "Deals"] {
        let m = find(name);
        assert_eq!(m["api_supported"], true);
        assert_eq!(m["viewable"], true);
        assert_eq!(m["generated_type"], "default");
        assert_eq!(m["id"].as_str().unwrap().len(), 19);
    }
    assert_eq!(find("Home")["api_supported"], false);
    assert_eq!(find("Leads")["singular_label"], "Lead");
    let one = api.get("/crm/v8/settings/modules/Deals", &[]).await;
    assert_eq!(one.body["modules"][0]["plural_label"], "Deals");

    let fields = api
        .get("/crm/v8/settings/fields", &[("module", "Leads")])
        .await;
    assert_eq!(fields.status, 200);
    let fields = fields.body["fields"].as_array().unwrap().clone();
    assert!(fields.len() > 60, "{}", fields.len());
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["api_name"] == name)
            .unwrap()
            .clone()
    };
    let types: HashSet<&str> = fields
        .iter()
        .map(|f| f["data_type"].as_str().unwrap())
        .collect();
    for t in [
        "text",
        "email",
        "phone",
        "picklist",
        "multiselectpicklist",
        "integer",
        "bigint",
        "currency",
        "double",
        "boolean",
        "date",
        "datetime",
        "lookup",
        "ownerlookup",
        "textarea",
        "website",
    ] {
        assert!(types.contains(t), "no {t} field");
    }
    let revenue = field("Annual_Revenue");
    assert_eq!(revenue["data_type"], "currency");
    assert_eq!(revenue["json_type"], "double");
    assert_eq!(revenue["decimal_place"], 2);
    let ext = field("External_Ref");
    assert_eq!(
        (ext["data_type"].clone(), ext["json_type"].clone()),
        (json!("bigint"), json!("string"))
    );
    let last = field("Last_Name");
    assert_eq!(last["system_mandatory"], true);
    assert_eq!(last["length"], 80);
    assert_eq!(field("Modified_Time")["read_only"], true);
    let source = field("Lead_Source");
    assert!(source["pick_list_values"].as_array().unwrap().len() > 5);
    assert!(source["pick_list_values"][1]["actual_value"].is_string());
    let referred = field("Referred_By");
    assert_eq!(referred["lookup"]["module"]["api_name"], "Contacts");
    assert_eq!(field("Owner")["json_type"], "jsonobject");
    assert_eq!(field("Preferred_Channels")["json_type"], "jsonarray");
    let contacts = api
        .get("/crm/v8/settings/fields", &[("module", "Contacts")])
        .await;
    let email = contacts.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["api_name"] == "Email")
        .unwrap()
        .clone();
    assert_eq!(email["unique"], json!({"casesensitive": "false"}));

    let unknown = api
        .get("/crm/v8/settings/fields", &[("module", "Widgets")])
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "INVALID_MODULE"));
    let missing = api.get("/crm/v8/settings/fields", &[]).await;
    assert_eq!(missing.code(), "REQUIRED_PARAM_MISSING");
    assert_eq!(missing.body["details"]["param_name"], "module");
    assert_eq!(
        api.get("/crm/v8/settings/fields", &[("module", "Home")])
            .await
            .status,
        204
    );
    let org = api.get("/crm/v8/org", &[]).await;
    assert_eq!(org.body["org"][0]["zgid"], api.emu.soid());
    let roles = api.get("/crm/v8/settings/roles", &[]).await;
    assert_eq!(roles.body["roles"].as_array().unwrap().len(), 3);
    let profiles = api.get("/crm/v8/settings/profiles", &[]).await;
    assert_eq!(profiles.body["profiles"][0]["name"], "Administrator");
    assert_eq!(api.emu.stats().count("GET", Endpoint::Fields), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_parameter_rules() {
    let api = Api::default().await;
    api.emu.seed_records("Leads", 5).unwrap();
    let missing = api.get("/crm/v8/Leads", &[]).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.body,
        json!({"code": "REQUIRED_PARAM_MISSING", "details": {"param_name": "fields"}, "message": "One of the expected parameter is missing", "status": "error"})
    );
    let meta = api
        .get("/crm/v8/settings/fields", &[("module", "Leads")])
        .await;
    let names: Vec<String> = meta.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["api_name"].as_str().unwrap().to_owned())
        .collect();
    let fifty = names[..50].join(",");
    let ok = api
        .get(
            "/crm/v8/Leads",
            &[("fields", fifty.as_str()), ("per_page", "1")],
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.body["data"][0].as_object().unwrap().len(),
        51,
        "50 fields and id"
    );
    let fifty_one = names[..51].join(",");
    let too_many = api
        .get("/crm/v8/Leads", &[("fields", fifty_one.as_str())])
        .await;
    assert_eq!((too_many.status, too_many.code()), (400, "LIMIT_EXCEEDED"));
    let unknown = api
        .get("/crm/v8/Leads", &[("fields", "Last_Name,Shoe_Size")])
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "INVALID_DATA"));
    assert_eq!(unknown.body["details"]["api_name"], "Shoe_Size");

    // Only the fields asked for, plus id; empty fields are null; types as Zoho's.
    let rows = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Last_Name,Owner,External_Ref,Annual_Revenue,Fax,Modified_Time,No_of_Employees,Email_Opt_Out")],
        )
        .await;
    let row = rows.body["data"][0].as_object().unwrap();
    assert_eq!(row.len(), 9);
    let id = row["id"].as_str().unwrap();
    assert!(id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit()));
    assert!(row["External_Ref"].is_string());
    assert!(row["Annual_Revenue"].is_f64() || row["Annual_Revenue"].is_u64());
    assert!(row["No_of_Employees"].is_u64());
    assert!(row["Email_Opt_Out"].is_boolean());
    assert!(row["Fax"].is_null());
    assert!(row["Owner"]["name"].is_string() && row["Owner"]["email"].is_string());
    let modified = row["Modified_Time"].as_str().unwrap();
    assert_eq!(modified.len(), "2019-07-25T15:26:49+05:30".len());
    assert_eq!(&modified[10..11], "T");
    assert!(chrono::DateTime::parse_from_rfc3339(modified).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_works_to_2000_then_page_token_is_needed() {
    let api = Api::default().await;
    api.emu.seed_records("Leads", 2_500).unwrap();
    let fields = ("fields", "Last_Name,Email");
    let mut seen = Vec::new();
    let mut last_token = None;
    for page in 1..=10 {
        let p = page.to_string();
        let r = api
            .get(
                "/crm/v8/Leads",
                &[fields, ("page", p.as_str()), ("per_page", "200")],
            )
            .await;
        assert_eq!(r.status, 200, "page {page}");
        assert_eq!(r.body["info"]["page"], page);
        assert_eq!(r.body["info"]["count"], 200);
        assert_eq!(r.body["info"]["more_records"], true);
        assert_eq!(r.body["info"]["sort_by"], "id");
        assert_eq!(r.body["info"]["sort_order"], "desc");
        assert!(r.body["info"]["next_page_token"].is_string());
        assert!(r.body["info"]["page_token_expiry"].is_string());
        seen.extend(Api::ids(&r.body));
        last_token = r.body["info"]["next_page_token"]
            .as_str()
            .map(str::to_owned);
    }
    let eleven = api
        .get(
            "/crm/v8/Leads",
            &[fields, ("page", "11"), ("per_page", "200")],
        )
        .await;
    assert_eq!(eleven.status, 400);
    assert_eq!(
        eleven.body,
        json!({
            "code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            "details": {"limit": 2000},
            "message": "You can only get the first 2000 records without using page_token param",
            "status": "error",
        })
    );
    let mixed = api
        .get(
            "/crm/v8/Leads",
            &[fields, ("page", "14"), ("per_page", "150")],
        )
        .await;
    assert_eq!(mixed.code(), "DISCRETE_PAGINATION_LIMIT_EXCEEDED");

    // Beyond 2,000 with page_token.
    let mut token = last_token.unwrap();
    let mut pages = 0;
    loop {
        let r = api
            .get(
                "/crm/v8/Leads",
                &[fields, ("per_page", "200"), ("page_token", token.as_str())],
            )
            .await;
        assert_eq!(r.status, 200);
        pages += 1;
        seen.extend(Api::ids(&r.body));
        if r.body["info"]["more_records"] == false {
            assert!(r.body["info"]["next_page_token"].is_null());
            break;
        }
        token = r.body["info"]["next_page_token"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2_500);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 2_500);
    let numeric: Vec<u64> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(numeric.windows(2).all(|w| w[0] > w[1]), "id desc");
    assert_eq!(api.emu.stats().records_returned(), 2_500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_token_rules() {
    let api = Api::start(
        EmulatorConfig::new()
            .page_token_limit(500)
            .page_token_ttl(Duration::from_millis(300)),
    )
    .await;
    api.emu.seed_records("Leads", 700).unwrap();
    let first = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Last_Name"), ("per_page", "200")],
        )
        .await;
    let token = first.body["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(first.body["info"]["previous_page_token"].is_null());

    let rebound = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Email"), ("page_token", token.as_str())],
        )
        .await;
    assert_eq!(
        (rebound.status, rebound.code()),
        (400, "TOKEN_BOUND_DATA_MISMATCH")
    );
    let resorted = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Last_Name"),
                ("sort_order", "asc"),
                ("page_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(resorted.code(), "TOKEN_BOUND_DATA_MISMATCH");
    let both = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Last_Name"),
                ("page", "2"),
                ("page_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(
        (both.status, both.code()),
        (400, "AMBIGUITY_DURING_PROCESSING")
    );
    let bogus = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Last_Name"), ("page_token", "nope")],
        )
        .await;
    assert_eq!(bogus.status, 400);

    // Reaching the page-token limit (lowered to 500 here, 100,000 by default).
    let second = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Last_Name"),
                ("per_page", "200"),
                ("page_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["info"]["previous_page_token"], Value::Null);
    let token2 = second.body["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Last_Name"),
                ("per_page", "200"),
                ("page_token", token2.as_str()),
            ],
        )
        .await;
    assert_eq!(third.body["info"]["count"], 100, "capped at the limit");
    assert_eq!(third.body["info"]["previous_page_token"], token.as_str());
    let token3 = third.body["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let fourth = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Last_Name"),
                ("per_page", "200"),
                ("page_token", token3.as_str()),
            ],
        )
        .await;
    assert_eq!(fourth.status, 400);
    assert_eq!(fourth.code(), "PAGINATION_LIMIT_EXCEEDED");
    assert_eq!(fourth.body["details"]["limit"], 500);

    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Last_Name"), ("page_token", token.as_str())],
        )
        .await;
    assert_eq!((expired.status, expired.code()), (400, "EXPIRED_VALUE"));
    assert_eq!(expired.body["details"]["param_name"], "page_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorting_ids_and_incremental_reads() {
    let api = Api::default().await;
    let empty = api.get("/crm/v8/Deals", &[("fields", "Deal_Name")]).await;
    assert_eq!((empty.status, empty.bytes.len()), (204, 0));
    let ids = api.emu.seed_records("Leads", 50).unwrap();

    let asc = api
        .get(
            "/crm/v8/Leads",
            &[
                ("fields", "Modified_Time"),
                ("sort_by", "Modified_Time"),
                ("sort_order", "asc"),
            ],
        )
        .await;
    let times: Vec<String> = asc.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Modified_Time"].as_str().unwrap().to_owned())
        .collect();
    let mut distinct = times.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        50,
        "seeded records have distinct Modified_Times"
    );
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(asc.body["info"]["sort_by"], "Modified_Time");
    let bad_sort = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Email"), ("sort_by", "Email")],
        )
        .await;
    assert_eq!(bad_sort.code(), "INVALID_DATA");

    let wanted = format!("{},{}", ids[3], ids[7]);
    let some = api
        .get(
            "/crm/v8/Leads",
            &[("fields", "Email"), ("ids", wanted.as_str())],
        )
        .await;
    assert_eq!(some.body["info"]["count"], 2);

    // Incremental: records touched after a point in time.
    let boundary = times[49].clone();
    let nothing = api
        .get_since(
            "/crm/v8/Leads",
            &[("fields", "Email")],
            "2099-01-01T00:00:00+00:00",
        )
        .await;
    assert_eq!((nothing.status, nothing.bytes.len()), (304, 0));
    let only_last = api
        .get_since("/crm/v8/Leads", &[("fields", "Email")], &boundary)
        .await;
    assert_eq!(only_last.body["info"]["count"], 1);
    let touched = api.emu.touch("Leads", &ids[10]).unwrap();
    api.emu
        .set_modified_time(
            "Leads",
            &ids[20],
            chrono::DateTime::parse_from_rfc3339("2090-05-01T10:00:00+05:30").unwrap(),
        )
        .unwrap();
    let changed = api
        .get_since(
            "/crm/v8/Leads",
            &[
                ("fields", "Email,Modified_Time"),
                ("sort_by", "Modified_Time"),
                ("sort_order", "asc"),
            ],
            &touched,
        )
        .await;
    assert_eq!(
        Api::ids(&changed.body),
        vec![ids[10].clone(), ids[20].clone()]
    );
    assert_eq!(
        changed.body["data"][1]["Modified_Time"],
        "2090-05-01T04:30:00+00:00"
    );

    // Single record, count.
    let one = api.get(&format!("/crm/v8/Leads/{}", ids[0]), &[]).await;
    let row = one.body["data"][0].as_object().unwrap();
    assert!(row.len() > 60, "every field");
    assert_eq!(row["id"], ids[0].as_str());
    assert_eq!(
        api.get("/crm/v8/Leads/5725767000009999999", &[])
            .await
            .status,
        204
    );
    let count = api.get("/crm/v8/Leads/actions/count", &[]).await;
    assert_eq!(count.body, json!({"count": 50}));

    // Routing errors.
    let module = api.get("/crm/v8/Widgets", &[("fields", "Name")]).await;
    assert_eq!((module.status, module.code()), (400, "INVALID_MODULE"));
    let url = api.get("/crm/v8/Leads/1/2/3/4", &[]).await;
    assert_eq!((url.status, url.code()), (404, "INVALID_URL_PATTERN"));
    let method = api.send(api.http.patch(api.url("/crm/v8/Leads"))).await;
    assert_eq!(
        (method.status, method.code()),
        (400, "INVALID_REQUEST_METHOD")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_results_per_record() {
    let api = Api::default().await;
    let ok = api
        .post(
            "/crm/v8/Leads",
            &json!({"data": [{
                "Last_Name": "Turing", "First_Name": "Alan", "Email": "alan@example.com",
                "Lead_Source": "A brand new source", "Annual_Revenue": 1234.5,
                "External_Ref": 123456789012345678_u64, "Preferred_Channels": ["Email", "Pigeon"],
                "Next_Follow_Up": "2025-02-28", "Last_Demo_At": "2025-02-28T10:00:00+05:30",
                "Unknown_Field": "ignored", "Created_Time": "1999-01-01T00:00:00Z",
            }], "trigger": ["workflow"]}),
        )
        .await;
    assert_eq!(ok.status, 201);
    let result = &ok.body["data"][0];
    assert_eq!(result["code"], "SUCCESS");
    assert_eq!(result["message"], "record added");
    assert_eq!(result["status"], "success");
    let details = result["details"].as_object().unwrap();
    for key in [
        "id",
        "Created_Time",
        "Modified_Time",
        "Created_By",
        "Modified_By",
    ] {
        assert!(details.contains_key(key), "{key}");
    }
    let id = details["id"].as_str().unwrap();
    let stored = api.emu.record("Leads", id).unwrap();
    assert_eq!(stored["Full_Name"], "Alan Turing");
    assert_eq!(stored["External_Ref"], "123456789012345678");
    assert_eq!(stored["Last_Demo_At"], "2025-02-28T04:30:00+00:00");
    assert_eq!(stored["Owner"]["id"], api.emu.current_user_id());
    assert!(stored.get("Unknown_Field").is_none());
    assert_ne!(stored["Created_Time"], "1999-01-01T00:00:00Z");

    // One bad value per record, in order; a partial success is 207.
    let contact = api
        .post(
            "/crm/v8/Contacts",
            &json!({"data": [{"Last_Name": "Taken", "Email": "taken@example.com"}]}),
        )
        .await;
    let taken_id = contact.body["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: Vec<(Value, &str, &str, Option<&str>)> = vec![
        (
            json!({"Last_Name": "A", "No_of_Employees": "12"}),
            "INVALID_DATA",
            "No_of_Employees",
            Some("integer"),
        ),
        (
            json!({"Last_Name": "A", "No_of_Employees": 1_000_000_000_i64}),
            "INVALID_DATA",
            "No_of_Employees",
            Some("integer"),
        ),
        (
            json!({"Last_Name": "A", "Annual_Revenue": 10.125}),
            "INVALID_DATA",
            "Annual_Revenue",
            Some("currency"),
        ),
        (
            json!({"Last_Name": "A", "Discount_Rate": 0.12345}),
            "INVALID_DATA",
            "Discount_Rate",
            Some("double"),
        ),
        (
            json!({"Last_Name": "A", "Email": "not-an-email"}),
            "INVALID_DATA",
            "Email",
            Some("email"),
        ),
        (
            json!({"Last_Name": "A", "Next_Follow_Up": "28/02/2025"}),
            "INVALID_DATA",
            "Next_Follow_Up",
            Some("date"),
        ),
        (
            json!({"Last_Name": "A", "Last_Demo_At": "2025-02-28 10:00"}),
            "INVALID_DATA",
            "Last_Demo_At",
            Some("datetime"),
        ),
        (
            json!({"Last_Name": "A", "Email_Opt_Out": "yes"}),
            "INVALID_DATA",
            "Email_Opt_Out",
            Some("boolean"),
        ),
        (
            json!({"Last_Name": "A", "External_Ref": "12x"}),
            "INVALID_DATA",
            "External_Ref",
            Some("bigint"),
        ),
        (
            json!({"Last_Name": "A", "Referred_By": {"id": "5725767000000000001"}}),
            "INVALID_DATA",
            "Referred_By",
            None,
        ),
        (
            json!({"Last_Name": "A", "Owner": {"id": "1"}}),
            "INVALID_DATA",
            "Owner",
            None,
        ),
        (
            json!({"Last_Name": "x".repeat(81)}),
            "INVALID_DATA",
            "Last_Name",
            Some("text"),
        ),
        (
            json!({"First_Name": "NoLast"}),
            "MANDATORY_NOT_FOUND",
            "Last_Name",
            None,
        ),
        (
            json!({"Last_Name": ""}),
            "MANDATORY_NOT_FOUND",
            "Last_Name",
            None,
        ),
    ];
    let data: Vec<Value> = cases.iter().map(|c| c.0.clone()).collect();
    let mut with_one_good = data.clone();
    with_one_good.push(json!({"Last_Name": "Good"}));
    let r = api
        .post("/crm/v8/Leads", &json!({ "data": with_one_good }))
        .await;
    assert_eq!(r.status, 207);
    let results = r.body["data"].as_array().unwrap();
    assert_eq!(results.len(), cases.len() + 1);
    for (i, (_, code, field, expected_type)) in cases.iter().enumerate() {
        let e = &results[i];
        assert_eq!(e["code"], *code, "case {i}: {e}");
        assert_eq!(e["status"], "error");
        assert_eq!(e["details"]["api_name"], *field, "case {i}");
        assert_eq!(e["details"]["json_path"], format!("$.data[{i}].{field}"));
        if let Some(t) = expected_type {
            assert_eq!(e["details"]["expected_data_type"], *t, "case {i}");
        }
    }
    assert_eq!(results[cases.len()]["code"], "SUCCESS");

    // All failed: 400.
    let all_bad = api.post("/crm/v8/Leads", &json!({"data": data})).await;
    assert_eq!(all_bad.status, 400);

    // Unique fields.
    let dup = api
        .post(
            "/crm/v8/Contacts",
            &json!({"data": [{"Last_Name": "Again", "Email": "TAKEN@example.com"}]}),
        )
        .await;
    assert_eq!(dup.status, 400);
    let e = &dup.body["data"][0];
    assert_eq!(e["code"], "DUPLICATE_DATA");
    assert_eq!(e["details"]["api_name"], "Email");
    assert_eq!(e["details"]["id"], taken_id.as_str());

    // Limits and envelopes.
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"Last_Name": format!("L{i}")}))
        .collect();
    let too_many = api.post("/crm/v8/Leads", &json!({"data": many})).await;
    assert_eq!((too_many.status, too_many.code()), (400, "LIMIT_EXCEEDED"));
    let hundred: Vec<Value> = (0..100)
        .map(|i| json!({"Last_Name": format!("L{i}")}))
        .collect();
    assert_eq!(
        api.post("/crm/v8/Leads", &json!({"data": hundred}))
            .await
            .status,
        201
    );
    let no_data = api.post("/crm/v8/Leads", &json!({"records": []})).await;
    assert_eq!(no_data.code(), "REQUIRED_PARAM_MISSING");
    let not_json = api
        .send(api.http.post(api.url("/crm/v8/Leads")).body("{nope"))
        .await;
    assert_eq!(not_json.status, 400);
    assert_eq!(api.emu.record_count("Leads"), 1 + 1 + 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_upsert_delete() {
    let api = Api::default().await;
    let ids = api.emu.seed_records("Leads", 3).unwrap();
    let before = api.emu.record("Leads", &ids[0]).unwrap();

    let updated = api
        .put(
            "/crm/v8/Leads",
            &json!({"data": [
                {"id": ids[0], "Lead_Status": "Contacted", "First_Name": "Grace", "Fax": null},
                {"Lead_Status": "Contacted"},
                {"id": "5725767000009999999", "Lead_Status": "Contacted"},
                {"id": ids[1], "Last_Name": null},
            ]}),
        )
        .await;
    assert_eq!(updated.status, 207);
    let r = updated.body["data"].as_array().unwrap();
    assert_eq!(r[0]["code"], "SUCCESS");
    assert_eq!(r[0]["message"], "record updated");
    assert_eq!(r[1]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(r[1]["details"]["api_name"], "id");
    assert_eq!(r[2]["code"], "INVALID_DATA");
    assert_eq!(r[2]["details"]["api_name"], "id");
    assert_eq!(r[3]["code"], "MANDATORY_NOT_FOUND");
    let after = api.emu.record("Leads", &ids[0]).unwrap();
    assert_eq!(after["Lead_Status"], "Contacted");
    assert_eq!(
        after["Full_Name"],
        format!("Grace {}", before["Last_Name"].as_str().unwrap())
    );
    assert!(after["Modified_Time"].as_str().unwrap() > before["Modified_Time"].as_str().unwrap());

    let single = api
        .put(
            &format!("/crm/v8/Leads/{}", ids[2]),
            &json!({"data": [{"Rating": "Active"}]}),
        )
        .await;
    assert_eq!(single.status, 200);
    assert_eq!(
        api.emu.record("Leads", &ids[2]).unwrap()["Rating"],
        "Active"
    );

    // Upsert on the default duplicate check field (Email for Leads).
    let email = before["Email"].as_str().unwrap().to_uppercase();
    let upserted = api
        .post(
            "/crm/v8/Leads/upsert",
            &json!({"data": [
                {"Last_Name": "Existing", "Email": email},
                {"Last_Name": "Brand New", "Email": "new@example.com"},
            ]}),
        )
        .await;
    assert_eq!(upserted.status, 200);
    let r = upserted.body["data"].as_array().unwrap();
    assert_eq!(
        (r[0]["action"].clone(), r[0]["duplicate_field"].clone()),
        (json!("update"), json!("Email"))
    );
    assert_eq!(r[0]["details"]["id"], ids[0].as_str());
    assert_eq!(r[0]["message"], "record updated");
    assert_eq!(
        (r[1]["action"].clone(), r[1]["duplicate_field"].clone()),
        (json!("insert"), Value::Null)
    );
    assert_eq!(r[1]["message"], "record added");
    assert_eq!(api.emu.record_count("Leads"), 4);

    // Explicit duplicate_check_fields; a field that cannot be used is refused.
    let accounts = api
        .post(
            "/crm/v8/Accounts/upsert",
            &json!({"data": [{"Account_Name": "Zylker"}], "duplicate_check_fields": ["Account_Name"]}),
        )
        .await;
    assert_eq!(accounts.body["data"][0]["action"], "insert");
    let again = api
        .post(
            "/crm/v8/Accounts/upsert",
            &json!({"data": [{"Account_Name": "zylker", "Phone": "+1 555 0100"}], "duplicate_check_fields": ["Account_Name"]}),
        )
        .await;
    assert_eq!(again.body["data"][0]["action"], "update");
    let bad = api
        .post(
            "/crm/v8/Accounts/upsert",
            &json!({"data": [{"Account_Name": "X"}], "duplicate_check_fields": ["Phone"]}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (400, "INVALID_DATA"));
    assert_eq!(api.emu.stats().count("POST", Endpoint::Upsert), 4);

    // Delete: per-id results, the recycle bin.
    let joined = format!("{},{},123", ids[1], ids[2]);
    let deleted = api
        .delete("/crm/v8/Leads", &[("ids", joined.as_str())])
        .await;
    assert_eq!(deleted.status, 207);
    let r = deleted.body["data"].as_array().unwrap();
    assert_eq!(
        r[0],
        json!({"code": "SUCCESS", "details": {"id": ids[1]}, "message": "record deleted", "status": "success"})
    );
    assert_eq!(r[2]["code"], "INVALID_DATA");
    let single = api.delete(&format!("/crm/v8/Leads/{}", ids[0]), &[]).await;
    assert_eq!(single.status, 200);
    assert_eq!(api.emu.record_count("Leads"), 1);
    let bin = api
        .get("/crm/v8/Leads/deleted", &[("type", "recycle")])
        .await;
    assert_eq!(bin.body["info"]["count"], 3);
    let entry = &bin.body["data"][0];
    assert_eq!(entry["type"], "recycle");
    assert!(entry["deleted_by"]["name"].is_string());
    assert!(entry["deleted_time"].is_string());
    assert_eq!(
        api.get("/crm/v8/Leads/deleted", &[("type", "permanent")])
            .await
            .status,
        204
    );
    let many: Vec<String> = (0..101)
        .map(|i| (5_725_767_000_000_000_000_u64 + i).to_string())
        .collect();
    let too_many = api
        .delete("/crm/v8/Leads", &[("ids", many.join(",").as_str())])
        .await;
    assert_eq!((too_many.status, too_many.code()), (400, "LIMIT_EXCEEDED"));
    let none = api.delete("/crm/v8/Leads", &[]).await;
    assert_eq!(none.code(), "REQUIRED_PARAM_MISSING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_access_helpers() {
    let api = Api::default().await;
    let account = api
        .emu
        .insert_record("Accounts", json!({"Account_Name": "Acme"}))
        .unwrap();
    let contact = api
        .emu
        .insert_record(
            "Contacts",
            json!({"Last_Name": "Coyote", "Account_Name": {"id": account}}),
        )
        .unwrap();
    let stored = api.emu.record("Contacts", &contact).unwrap();
    assert_eq!(
        stored["Account_Name"],
        json!({"name": "Acme", "id": account})
    );
    let err = api
        .emu
        .insert_record("Contacts", json!({"First_Name": "x"}))
        .unwrap_err();
    assert!(err.to_string().contains("MANDATORY_NOT_FOUND"), "{err}");
    api.emu
        .update_record("Contacts", &contact, json!({"Title": "Genius"}))
        .unwrap();
    assert_eq!(api.emu.records("Contacts")[0]["Title"], "Genius");
    assert!(api.emu.update_record("Contacts", "1", json!({})).is_err());
    assert!(api.emu.seed_records("Widgets", 1).is_err());
    api.emu.delete_record("Contacts", &contact).unwrap();
    assert_eq!(api.emu.record_count("Contacts"), 0);
    assert_eq!(
        api.emu.modules(),
        ["Leads", "Contacts", "Accounts", "Deals"]
    );
    // Seeded deals link to seeded accounts and contacts.
    api.emu.seed_records("Contacts", 5).unwrap();
    api.emu.seed_records("Deals", 5).unwrap();
    let deal = &api.emu.records("Deals")[0];
    assert!(deal["Account_Name"]["name"].is_string());
    assert!(deal["Contact_Name"]["id"].is_string());
    assert!(deal["Stage"].is_string());
}
