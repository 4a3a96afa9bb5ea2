//! The SCIM emulator over HTTP: discovery, CRUD, uniqueness, ETags, auth, errors.

#![allow(
    clippy::unwrap_used,
    reason = "integration tests: a failure should panic"
)]

use reqwest::Method;
use scim_client::emulator::{Emulator, EmulatorConfig, Endpoint, RunningEmulator};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    async fn start(config: EmulatorConfig) -> (RunningEmulator, Api) {
        connector_core::http::install_crypto_provider();
        let emulator = Emulator::start(config).await.unwrap();
        let api = Api {
            http: reqwest::Client::new(),
            base: emulator.base_url().to_owned(),
            token: emulator.token().map(str::to_owned),
        };
        (emulator, api)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }
    async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[]).await
    }
}

fn alice() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "alice@example.com",
        "externalId": "A-1",
        "name": {"givenName": "Alice", "familyName": "Jensen"},
        "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
        "active": true,
        "password": "s3cret!",
        ENTERPRISE: {"department": "R&D", "employeeNumber": "42"}
    })
}

fn assert_scim_error(resp: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(resp.status, status, "{}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/scim+json"));
    assert_eq!(resp.body["schemas"], json!([ERROR]));
    assert_eq!(
        resp.body["status"],
        json!(status.to_string()),
        "status must be a string"
    );
    assert_eq!(resp.body["scimType"].as_str(), scim_type, "{}", resp.body);
    assert!(resp.body["detail"].is_string());
}

#[tokio::test]
async fn user_lifecycle_create_read_replace_delete() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;

    let created = api.post("/Users", alice()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    let location = format!("{}/Users/{id}", api.base);
    assert_eq!(created.header("location"), Some(location.as_str()));
    let etag = created.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""));
    let meta = &created.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], json!(location));
    assert_eq!(meta["version"], json!(etag));
    assert_eq!(meta["created"], meta["lastModified"]);
    assert!(
        created.body.get("password").is_none(),
        "password is never returned"
    );
    assert_eq!(created.body[ENTERPRISE]["department"], "R&D");
    assert_eq!(created.body["schemas"], json!([USER, ENTERPRISE]));

    let read = api.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), Some(etag.as_str()));

    // The password is stored (visible to test assertions), not returned.
    assert_eq!(emulator.user(&id).unwrap()["password"], "s3cret!");

    // PUT replaces: attributes left out are cleared; readOnly id/meta in the body ignored.
    let mut replacement = read.body.clone();
    replacement["id"] = json!("something-else");
    replacement["title"] = json!("Engineer");
    replacement.as_object_mut().unwrap().remove("name");
    let replaced = api.put(&format!("/Users/{id}"), replacement).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["id"], json!(id));
    assert_eq!(replaced.body["title"], "Engineer");
    assert!(replaced.body.get("name").is_none());
    assert_ne!(replaced.header("etag"), Some(etag.as_str()));
    assert_eq!(
        replaced.body["meta"]["created"],
        created.body["meta"]["created"]
    );
    assert!(
        replaced.body["meta"]["lastModified"].as_str()
            > created.body["meta"]["lastModified"].as_str()
    );
    // GET-then-PUT cannot carry the write-only password: it is kept.
    assert_eq!(emulator.user(&id).unwrap()["password"], "s3cret!");

    let deleted = api.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert_scim_error(&api.get(&format!("/Users/{id}")).await, 404, None);
    assert_scim_error(&api.delete(&format!("/Users/{id}")).await, 404, None);
    assert!(emulator.users().is_empty());
}

#[tokio::test]
async fn user_name_is_required_and_unique_ignoring_case() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    assert_eq!(api.post("/Users", alice()).await.status, 201);

    let mut dup = alice();
    dup["userName"] = json!("ALICE@example.com");
    assert_scim_error(&api.post("/Users", dup).await, 409, Some("uniqueness"));

    let missing = json!({"schemas": [USER], "displayName": "No Name"});
    assert_scim_error(
        &api.post("/Users", missing).await,
        400,
        Some("invalidValue"),
    );

    // Renaming onto an existing userName via PUT is a conflict too.
    let bob = api
        .post("/Users", json!({"schemas": [USER], "userName": "bob"}))
        .await;
    let bob_id = bob.body["id"].as_str().unwrap();
    let rename = json!({"schemas": [USER], "userName": "Alice@Example.com"});
    assert_scim_error(
        &api.put(&format!("/Users/{bob_id}"), rename).await,
        409,
        Some("uniqueness"),
    );

    assert_eq!(emulator.user_count(), 2);
    assert!(emulator.user_by_user_name("ALICE@EXAMPLE.COM").is_some());
}

#[tokio::test]
async fn strict_bodies_are_validated() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    // Unknown schema URN.
    let body = json!({"schemas": [USER, "urn:example:custom"], "userName": "x"});
    assert_scim_error(&api.post("/Users", body).await, 400, Some("invalidSyntax"));
    // Missing schemas.
    assert_scim_error(
        &api.post("/Users", json!({"userName": "x"})).await,
        400,
        Some("invalidSyntax"),
    );
    // Wrong type.
    let body = json!({"schemas": [USER], "userName": "x", "active": "yes"});
    assert_scim_error(&api.post("/Users", body).await, 400, Some("invalidValue"));
    let body = json!({"schemas": [USER], "userName": "x", "emails": {"value": "a"}});
    assert_scim_error(&api.post("/Users", body).await, 400, Some("invalidValue"));
    // Unknown attribute.
    let body = json!({"schemas": [USER], "userName": "x", "favouriteColour": "blue"});
    assert_scim_error(&api.post("/Users", body).await, 400, Some("invalidSyntax"));
    // Not JSON.
    let resp = api
        .http
        .post(format!("{}/Users", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Wrong media type.
    let resp = api
        .http
        .post(format!("{}/Users", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header("Content-Type", "text/plain")
        .body(json!({"schemas": [USER], "userName": "x"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // application/json is accepted as well as application/scim+json; names are case-insensitive.
    let resp = api
        .http
        .post(format!("{}/Users", api.base))
        .bearer_auth(api.token.as_deref().unwrap())
        .header("Content-Type", "application/json; charset=utf-8")
        .body(json!({"Schemas": [USER], "USERNAME": "x", "Name": {"GIVENNAME": "X"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["userName"], "x");
    assert_eq!(body["name"], json!({"givenName": "X"}));
}

#[tokio::test]
async fn groups_and_computed_user_groups() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let alice = api.post("/Users", alice()).await.body;
    let alice_id = alice["id"].as_str().unwrap();

    assert_scim_error(
        &api.post("/Groups", json!({"schemas": [GROUP]})).await,
        400,
        Some("invalidValue"),
    );
    let group = api
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Admins", "members": [{"value": alice_id}]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    assert_eq!(group.body["meta"]["resourceType"], "Group");

    let user = api.get(&format!("/Users/{alice_id}")).await.body;
    assert_eq!(user["groups"][0]["value"], json!(group_id));
    assert_eq!(user["groups"][0]["display"], "Admins");
    assert_eq!(user["groups"][0]["type"], "direct");

    // `groups` is read-only: ignored in a PUT body.
    let mut put = user.clone();
    put["groups"] = json!([]);
    assert_eq!(
        api.put(&format!("/Users/{alice_id}"), put).await.body["groups"][0]["value"],
        json!(group_id)
    );

    // Deleting the user removes it from the group.
    assert_eq!(api.delete(&format!("/Users/{alice_id}")).await.status, 204);
    let group = api.get(&format!("/Groups/{group_id}")).await.body;
    assert!(group.get("members").is_none(), "{group}");
    assert!(emulator.group_by_display_name("admins").is_some());
}

#[tokio::test]
async fn etags_give_412_and_304() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let created = api.post("/Users", alice()).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.header("etag").unwrap().to_owned();
    let path = format!("/Users/{id}");

    let not_modified = api
        .send(Method::GET, &path, None, &[("If-None-Match", &etag)])
        .await;
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(
        api.send(Method::GET, &path, None, &[("If-None-Match", "W/\"999\"")])
            .await
            .status,
        200
    );

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Boss"}]});
    let ok = api
        .send(
            Method::PATCH,
            &path,
            Some(patch.clone()),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(ok.status, 204);
    let new_etag = ok.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);

    let stale = api
        .send(Method::PATCH, &path, Some(patch), &[("If-Match", &etag)])
        .await;
    assert_scim_error(&stale, 412, None);
    let stale = api
        .send(Method::PUT, &path, Some(alice()), &[("If-Match", &etag)])
        .await;
    assert_scim_error(&stale, 412, None);
    let stale = api
        .send(Method::DELETE, &path, None, &[("If-Match", &etag)])
        .await;
    assert_scim_error(&stale, 412, None);

    let put = api
        .send(
            Method::PUT,
            &path,
            Some(alice()),
            &[("If-Match", &new_etag)],
        )
        .await;
    assert_eq!(put.status, 200);
    let latest = put.header("etag").unwrap().to_owned();
    assert_eq!(
        api.send(Method::DELETE, &path, None, &[("If-Match", &latest)])
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn resource_endpoints_need_the_token_discovery_does_not() {
    let (emulator, api) = Api::start(EmulatorConfig::new().token("sesame")).await;
    let anonymous = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        token: None,
    };
    let wrong = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        token: Some("nope".into()),
    };

    let resp = anonymous.get("/Users").await;
    assert_scim_error(&resp, 401, None);
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert_scim_error(&wrong.post("/Users", alice()).await, 401, None);
    assert_scim_error(&anonymous.post("/Bulk", json!({})).await, 401, None);
    assert_eq!(anonymous.get("/ServiceProviderConfig").await.status, 200);
    assert_eq!(anonymous.get("/Schemas").await.status, 200);
    assert_eq!(api.get("/Users").await.status, 200);
    assert_eq!(emulator.token(), Some("sesame"));
    assert_eq!(emulator.stats().status(401), 3);

    // Without any token configured, everything is open.
    let (_open, open_api) = Api::start(EmulatorConfig::new().without_token()).await;
    let anonymous = Api {
        token: None,
        ..open_api
    };
    assert_eq!(anonymous.get("/Users").await.status, 200);
}

#[tokio::test]
async fn discovery_endpoints() {
    let (_emulator, api) = Api::start(
        EmulatorConfig::new()
            .max_results(50)
            .bulk_max_operations(10),
    )
    .await;
    let spc = api.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 10, "maxPayloadSize": 1048576})
    );
    assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 50}));
    assert_eq!(spc["sort"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["changePassword"]["supported"], false);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(
        spc["pagination"],
        json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
               "defaultPageSize": 50, "maxPageSize": 50, "cursorTimeout": 3600})
    );

    let types = api.get("/ResourceTypes").await.body;
    assert_eq!(types["totalResults"], 2);
    let user_type = api.get("/ResourceTypes/User").await.body;
    assert_eq!(user_type["endpoint"], "/Users");
    assert_eq!(
        user_type["schemaExtensions"][0],
        json!({"schema": ENTERPRISE, "required": false})
    );
    assert_scim_error(&api.get("/ResourceTypes/Nope").await, 404, None);

    let schemas = api.get("/Schemas").await.body;
    assert_eq!(schemas["totalResults"], 3);
    let user_schema = api.get(&format!("/Schemas/{USER}")).await.body;
    let attrs = user_schema["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(password["returned"], "never");
    let groups = attrs.iter().find(|a| a["name"] == "groups").unwrap();
    assert_eq!(groups["mutability"], "readOnly");
    assert_eq!(groups["multiValued"], true);
    let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
    assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
    let group_schema = api.get(&format!("/Schemas/{GROUP}")).await.body;
    assert_eq!(group_schema["attributes"][1]["name"], "members");

    let resp = api
        .send(Method::POST, "/Schemas", Some(json!({})), &[])
        .await;
    assert_scim_error(&resp, 405, None);
}

#[tokio::test]
async fn unknown_paths_are_scim_404s_and_me_is_501() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    assert_scim_error(&api.get("/Nope").await, 404, None);
    assert_scim_error(&api.get("/Users/a/b").await, 404, None);
    assert_scim_error(&api.get("/Me").await, 501, None);
    let outside = api
        .http
        .get(api.base.replace("/v2", "/elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    assert_scim_error(
        &api.send(Method::DELETE, "/Users", None, &[]).await,
        405,
        None,
    );
}

#[tokio::test]
async fn stats_count_requests_by_method_and_endpoint() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let id = api.post("/Users", alice()).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.get(&format!("/Users/{id}")).await;
    api.get("/Users").await;
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    api.send(Method::PATCH, &format!("/Users/{id}"), Some(patch), &[])
        .await;
    api.post(
        "/Users/.search",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    )
    .await;
    api.get("/Schemas").await;

    let stats = emulator.stats();
    assert_eq!(stats.total(), 6);
    assert_eq!(stats.count("PATCH", Endpoint::Users), 1);
    assert_eq!(stats.count("patch", Endpoint::Users), 1);
    assert_eq!(stats.count("POST", Endpoint::Users), 1);
    assert_eq!(stats.count("GET", Endpoint::Users), 2);
    assert_eq!(stats.count("POST", Endpoint::Search), 1);
    assert_eq!(stats.by_endpoint(Endpoint::Schemas), 1);
    assert_eq!(stats.by_method("GET"), 3);
    assert_eq!(stats.status(201), 1);
    assert_eq!(stats.status(204), 1);
    assert_eq!(stats.requests().count(), 5);

    emulator.reset_stats();
    assert_eq!(emulator.stats().total(), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn direct_access_for_test_setup_and_assertions() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let ids = emulator.seed_users(25);
    assert_eq!(ids.len(), 25);
    let groups = emulator.seed_groups(3, 4);
    assert_eq!(groups.len(), 3);

    let u1 = emulator.user_by_user_name("user1@example.com").unwrap();
    assert_eq!(
        u1["emails"][0],
        json!({"value": "user1@example.com", "type": "work", "primary": true})
    );
    assert_eq!(u1[ENTERPRISE]["employeeNumber"], "000001");
    assert!(u1[ENTERPRISE]["department"].is_string());
    assert!(u1["phoneNumbers"][0]["value"].is_string());
    assert!(u1["title"].is_string());
    assert_eq!(u1["groups"][0]["value"], json!(groups[0]));
    assert_eq!(
        emulator.user_by_user_name("user10@example.com").unwrap()["active"],
        false
    );
    assert_eq!(
        emulator.group(&groups[0]).unwrap()["members"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(emulator.stats().total(), 0, "seeding sends no requests");

    // Seeding continues the numbering.
    emulator.seed_users(1);
    assert!(emulator.user_by_user_name("user26@example.com").is_some());

    let created = emulator
        .create_user(json!({"schemas": [USER], "userName": "direct"}))
        .unwrap();
    let fetched = api
        .get(&format!("/Users/{}", created["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched.status, 200);
    let err = emulator
        .create_user(json!({"schemas": [USER], "userName": "DIRECT"}))
        .unwrap_err();
    assert!(err.to_string().contains("409"), "{err}");

    emulator.clear();
    assert_eq!(emulator.user_count(), 0);
    assert_eq!(emulator.group_count(), 0);
}

#[tokio::test]
async fn config_debug_hides_secrets() {
    let config = EmulatorConfig::new()
        .token("super-secret-token")
        .oauth_client("cid", "client-secret-value");
    let debug = format!("{config:?}");
    assert!(!debug.contains("super-secret-token"), "{debug}");
    assert!(!debug.contains("client-secret-value"), "{debug}");
    assert!(debug.contains("cid"));
    let emulator = Emulator::start(config).await.unwrap();
    let debug = format!("{emulator:?}");
    assert!(
        !debug.contains("super-secret-token") && !debug.contains("client-secret-value"),
        "{debug}"
    );
}
