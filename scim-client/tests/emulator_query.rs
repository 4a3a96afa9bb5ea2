//! The SCIM emulator's queries: filters, index and cursor paging, sorting,
//! projection, `.search`.

#![allow(
    clippy::unwrap_used,
    reason = "integration tests: a failure should panic"
)]

use std::collections::HashSet;
use std::time::Duration;

use scim_client::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn start(config: EmulatorConfig) -> (RunningEmulator, Api) {
        connector_core::http::install_crypto_provider();
        let emulator = Emulator::start(config).await.unwrap();
        let api = Api {
            http: reqwest::Client::new(),
            base: emulator.base_url().to_owned(),
            token: emulator.token().unwrap().to_owned(),
        };
        (emulator, api)
    }

    /// GET `path` with query parameters; returns (status, body).
    async fn list(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn users(&self, query: &[(&str, &str)]) -> Value {
        let (status, body) = self.list("/Users", query).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn search(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }
}

fn user_names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn filter_count(list: &Value) -> u64 {
    list["totalResults"].as_u64().unwrap()
}

#[tokio::test]
async fn filters_with_value_paths_logic_and_case_rules() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    emulator.seed_users(30);
    emulator
        .create_user(json!({
            "schemas": [USER, ENTERPRISE],
            "userName": "Bjensen",
            "externalId": "Case-Exact",
            "emails": [
                {"value": "bj@home.example", "type": "home"},
                {"value": "bjensen@work.example", "type": "work", "primary": true}
            ],
            ENTERPRISE: {"department": "Tour Operations"}
        }))
        .unwrap();

    let found = |f: &'static str| {
        let api = &api;
        async move { filter_count(&api.users(&[("filter", f)]).await) }
    };
    assert_eq!(found(r#"userName eq "user7@example.com""#).await, 1);
    assert_eq!(
        found(r#"userName eq "BJENSEN""#).await,
        1,
        "userName is caseExact=false"
    );
    assert_eq!(
        found(r#"externalId eq "case-exact""#).await,
        0,
        "externalId is caseExact"
    );
    assert_eq!(found(r#"externalId eq "Case-Exact""#).await, 1);
    assert_eq!(
        found(r#"emails[type eq "work" and value co "@work.example"]"#).await,
        1
    );
    assert_eq!(
        found(r#"emails[type eq "home"].value eq "bj@home.example""#).await,
        1
    );
    assert_eq!(found(r#"emails[type eq "home"]"#).await, 1);
    assert_eq!(found(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tour Operations""#).await, 1);
    assert_eq!(
        found(r#"userName sw "user1" and active eq true"#).await,
        10,
        "user1, user11..user19 minus user10"
    );
    assert_eq!(found(r#"active eq false"#).await, 3);
    assert_eq!(
        found(r#"not (active eq false) and userName sw "user""#).await,
        27
    );
    assert_eq!(
        found(r#"userName eq "user1@example.com" or userName eq "user2@example.com""#).await,
        2
    );
    assert_eq!(found(r#"title pr"#).await, 30);
    assert_eq!(
        found(r#"userName eq "5f1d54a1-5e0a-4b57-a4ec-ea96d6b15a0b""#).await,
        0
    );

    // Entra's Test Connection: a random GUID → 200 with an empty ListResponse.
    let empty = api
        .users(&[(
            "filter",
            r#"userName eq "0d6f7b86-9a1a-4d5f-9a47-5a3e0c7b4d11""#,
        )])
        .await;
    assert_eq!(empty["totalResults"], 0);
    assert_eq!(empty["Resources"], json!([]));
    assert_eq!(
        empty["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );

    for bad in [r#"userName eq"#, r#"userName xx "a""#, r#"active gt true"#] {
        let (status, body) = api.list("/Users", &[("filter", bad)]).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["scimType"], "invalidFilter");
    }
}

#[tokio::test]
async fn incremental_reads_with_meta_last_modified() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    emulator.seed_users(5);
    let watermark = emulator.users().last().unwrap()["meta"]["lastModified"]
        .as_str()
        .unwrap()
        .to_owned();
    let filter = format!("meta.lastModified gt \"{watermark}\"");
    assert_eq!(filter_count(&api.users(&[("filter", &filter)]).await), 0);

    emulator.seed_users(2);
    let changed = api.users(&[("filter", &filter)]).await;
    assert_eq!(
        user_names(&changed),
        ["user6@example.com", "user7@example.com"]
    );
    // A coarser watermark (seconds, other offset) compares as an instant.
    assert_eq!(
        filter_count(
            &api.users(&[(
                "filter",
                r#"meta.lastModified gt "2000-01-01T01:00:00+01:00""#
            )])
            .await
        ),
        7
    );
    assert_eq!(
        filter_count(
            &api.users(&[("filter", r#"meta.created lt "2000-01-01T00:00:00Z""#)])
                .await
        ),
        0
    );
}

#[tokio::test]
async fn index_paging_caps_count_and_returns_short_pages() {
    let (emulator, api) = Api::start(EmulatorConfig::new().max_results(10)).await;
    emulator.seed_users(25);

    let page = api.users(&[("count", "1000")]).await;
    assert_eq!(page["totalResults"], 25);
    assert_eq!(
        page["itemsPerPage"], 10,
        "count is capped at filter.maxResults"
    );
    assert_eq!(page["startIndex"], 1);

    let default = api.users(&[]).await;
    assert_eq!(
        default["itemsPerPage"], 10,
        "the default page size is the cap"
    );

    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let s = start.to_string();
        let page = api
            .users(&[("startIndex", s.as_str()), ("count", "7")])
            .await;
        let names = user_names(&page);
        assert_eq!(page["itemsPerPage"].as_u64().unwrap() as usize, names.len());
        assert_eq!(page["startIndex"], start);
        if names.is_empty() {
            break;
        }
        start += names.len();
        seen.extend(names);
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
    assert_eq!(
        seen[0], "user1@example.com",
        "default order is creation order"
    );

    let last = api.users(&[("startIndex", "22"), ("count", "7")]).await;
    assert_eq!(last["itemsPerPage"], 4, "a short last page");

    let zero = api.users(&[("count", "0")]).await;
    assert_eq!(zero["totalResults"], 25);
    assert!(zero.get("Resources").is_none(), "{zero}");

    let low = api.users(&[("startIndex", "-3"), ("count", "2")]).await;
    assert_eq!(low["startIndex"], 1, "startIndex < 1 is 1");
    let negative = api.users(&[("count", "-5")]).await;
    assert!(negative.get("Resources").is_none(), "a negative count is 0");

    let (status, body) = api.list("/Users", &[("count", "ten")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidValue");
}

#[tokio::test]
async fn cursor_paging_rfc_9865() {
    let (emulator, api) = Api::start(EmulatorConfig::new().max_results(10)).await;
    emulator.seed_users(23);

    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = api
            .users(&[("cursor", cursor.as_str()), ("count", "10")])
            .await;
        pages += 1;
        assert_eq!(page["totalResults"], 23);
        assert!(page.get("startIndex").is_none());
        seen.extend(user_names(&page));
        if pages > 1 {
            assert!(page["previousCursor"].is_string());
        }
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => {
                assert!(
                    next.chars().all(|c| c.is_ascii_alphanumeric()),
                    "unreserved characters only"
                );
                cursor = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 23);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);

    // previousCursor goes back one page.
    let first = api.users(&[("cursor", ""), ("count", "5")]).await;
    let second = api
        .users(&[
            ("cursor", first["nextCursor"].as_str().unwrap()),
            ("count", "5"),
        ])
        .await;
    let back = api
        .users(&[
            ("cursor", second["previousCursor"].as_str().unwrap()),
            ("count", "5"),
        ])
        .await;
    assert_eq!(user_names(&back), user_names(&first));

    let (status, body) = api.list("/Users", &[("cursor", "garbage")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidCursor");
    let (status, _) = api
        .list("/Users", &[("cursor", ""), ("startIndex", "1")])
        .await;
    assert_eq!(status, 400);
    // A cursor belongs to its query.
    let next = first["nextCursor"].as_str().unwrap();
    let (status, body) = api
        .list("/Users", &[("cursor", next), ("filter", "active eq true")])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidCursor");
}

#[tokio::test]
async fn cursors_expire() {
    let (emulator, api) = Api::start(
        EmulatorConfig::new()
            .max_results(2)
            .cursor_timeout(Duration::from_millis(50)),
    )
    .await;
    emulator.seed_users(5);
    let first = api.users(&[("cursor", "")]).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (status, body) = api
        .list(
            "/Users",
            &[("cursor", first["nextCursor"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "expiredCursor");
}

#[tokio::test]
async fn sorting() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    for (name, family) in [
        ("c", Some("beta")),
        ("A", Some("Alpha")),
        ("b", None),
        ("D", Some("gamma")),
    ] {
        let mut user = json!({"schemas": [USER], "userName": name});
        if let Some(f) = family {
            user["name"] = json!({"familyName": f});
        }
        emulator.create_user(user).unwrap();
    }
    let asc = api.users(&[("sortBy", "userName")]).await;
    assert_eq!(
        user_names(&asc),
        ["A", "b", "c", "D"],
        "case-insensitive for caseExact=false"
    );
    let desc = api
        .users(&[("sortBy", "userName"), ("sortOrder", "descending")])
        .await;
    assert_eq!(user_names(&desc), ["D", "c", "b", "A"]);
    let by_family = api.users(&[("sortBy", "name.familyName")]).await;
    assert_eq!(
        user_names(&by_family),
        ["A", "c", "D", "b"],
        "unassigned values last when ascending"
    );
    let by_family = api
        .users(&[("sortBy", "name.familyName"), ("sortOrder", "descending")])
        .await;
    assert_eq!(user_names(&by_family)[0], "b", "and first when descending");
    let (status, _) = api
        .list(
            "/Users",
            &[("sortBy", "userName"), ("sortOrder", "sideways")],
        )
        .await;
    assert_eq!(status, 400);

    // Sorting composes with paging.
    let page = api
        .users(&[("sortBy", "userName"), ("startIndex", "2"), ("count", "2")])
        .await;
    assert_eq!(user_names(&page), ["b", "c"]);
}

#[tokio::test]
async fn projection_with_attributes_and_excluded_attributes() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let ids = emulator.seed_users(1);
    let id = &ids[0];
    emulator.seed_groups(1, 1);

    let (_, user) = api
        .list(
            &format!("/Users/{id}"),
            &[("attributes", "userName,name.givenName,emails.value")],
        )
        .await;
    let keys: HashSet<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["schemas", "id", "userName", "name", "emails"]),
        "{user}"
    );
    assert_eq!(
        user["name"],
        json!({"givenName": user["name"]["givenName"]})
    );
    assert_eq!(user["emails"], json!([{"value": "user1@example.com"}]));

    let dept = format!("{ENTERPRISE}:department");
    let (_, user) = api
        .list(&format!("/Users/{id}"), &[("attributes", dept.as_str())])
        .await;
    assert_eq!(user[ENTERPRISE].as_object().unwrap().len(), 1);
    assert!(user.get("userName").is_none());

    let (_, user) = api
        .list(
            &format!("/Users/{id}"),
            &[("excludedAttributes", "emails,groups,meta,id")],
        )
        .await;
    assert!(
        user.get("emails").is_none() && user.get("groups").is_none() && user.get("meta").is_none()
    );
    assert_eq!(user["id"], json!(id), "id is returned always");
    assert!(user.get("userName").is_some());

    let list = api.users(&[("attributes", "userName")]).await;
    assert_eq!(list["Resources"][0].as_object().unwrap().len(), 3);

    let (_, group) = api
        .list("/Groups", &[("excludedAttributes", "members")])
        .await;
    assert!(group["Resources"][0].get("members").is_none());
    assert!(group["Resources"][0].get("displayName").is_some());
}

#[tokio::test]
async fn search_requests() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    emulator.seed_users(12);
    emulator.seed_groups(2, 3);

    let (status, body) = api
        .search(
            "/Users/.search",
            json!({"schemas": [SEARCH], "filter": "userName sw \"user1\"", "attributes": ["userName"],
                   "sortBy": "userName", "sortOrder": "descending", "startIndex": 1, "count": 2}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalResults"], 4);
    // Code-point order: '@' sorts after the digits.
    assert_eq!(
        user_names(&body),
        ["user1@example.com", "user12@example.com"]
    );

    let (status, body) = api
        .search(
            "/.search",
            json!({"schemas": [SEARCH], "filter": "displayName pr or userName pr"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["totalResults"], 14,
        "root search spans users and groups"
    );
    let types: HashSet<&str> = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, HashSet::from(["User", "Group"]));

    let (status, body) = api
        .search(
            "/Groups/.search",
            json!({"schemas": [SEARCH], "filter": "members pr"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["totalResults"], 2);

    let (status, body) = api
        .search("/Users/.search", json!({"filter": "userName pr"}))
        .await;
    assert_eq!(status, 400, "strict: the SearchRequest schema is required");
    assert_eq!(body["scimType"], "invalidSyntax");
    let (status, _) = api
        .search(
            "/Users/.search",
            json!({"schemas": [SEARCH], "filter": "userName eq"}),
        )
        .await;
    assert_eq!(status, 400);

    // The computed groups attribute is filterable.
    let group_id = emulator.groups()[0]["id"].as_str().unwrap().to_owned();
    let filter = format!("groups[value eq \"{group_id}\"]");
    assert_eq!(
        filter_count(&api.users(&[("filter", filter.as_str())]).await),
        3
    );
}

#[tokio::test]
async fn ten_thousand_users_and_concurrent_clients() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let ids = emulator.seed_users(10_000);
    assert_eq!(ids.len(), 10_000);
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for i in 0..32 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("user{}@example.com", i * 300 + 1);
            let filter = format!("userName eq \"{name}\"");
            let body = api.users(&[("filter", filter.as_str())]).await;
            assert_eq!(user_names(&body), [name]);
            let page = api.users(&[("startIndex", "9901"), ("count", "200")]).await;
            assert_eq!(page["itemsPerPage"], 100);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
