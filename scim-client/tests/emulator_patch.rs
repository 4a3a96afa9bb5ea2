//! The SCIM emulator's PATCH, and the differences between strict, Entra and Okta modes.

#![allow(
    clippy::unwrap_used,
    reason = "integration tests: a failure should panic"
)]

use scim_client::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ADSCIM_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

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

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            },
        )
    }

    /// PATCH with these operations; returns (status, body).
    async fn patch(&self, path: &str, ops: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some(json!({"schemas": [PATCH_OP], "Operations": ops})),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn user_body(name: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bj@home.example", "type": "home"},
            {"value": "bj@work.example", "type": "work", "primary": true}
        ],
        "phoneNumbers": [{"value": "555-0100", "type": "work"}]
    })
}

async fn new_user(api: &Api, name: &str) -> String {
    let (status, body) = api.post("/Users", user_body(name)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn new_group(api: &Api, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let (status, body) = api
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Team", "members": members}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn add_replace_remove_with_paths_and_value_paths() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let id = new_user(&api, "bjensen").await;
    let path = format!("/Users/{id}");

    let (status, body) = api
        .patch(
            &path,
            json!([
                {"op": "add", "path": "nickName", "value": "Babs"},
                {"op": "add", "path": "emails", "value": [{"value": "bj@other.example", "type": "other"}]},
                {"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@work.example"},
                {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Marketing"},
                {"op": "remove", "path": "phoneNumbers[type eq \"work\"]"},
            ]),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(body, Value::Null, "204 has no body");

    let user = api.get(&path).await;
    assert_eq!(user["nickName"], "Babs");
    assert_eq!(user["name"]["familyName"], "Jensen-Smith");
    assert_eq!(user["name"]["givenName"], "Barbara");
    assert_eq!(user["emails"].as_array().unwrap().len(), 3);
    assert_eq!(user["emails"][1]["value"], "barbara@work.example");
    assert_eq!(user[ENTERPRISE]["department"], "Marketing");
    assert_eq!(
        user["schemas"],
        json!([USER, ENTERPRISE]),
        "the extension URN is added to schemas"
    );
    assert!(
        user.get("phoneNumbers").is_none(),
        "an emptied attribute is removed"
    );

    // Okta's no-path replace (RFC-conformant, accepted in strict mode).
    let (status, _) = api
        .patch(
            &path,
            json!([{"op": "replace", "value": {"active": false, "name.givenName": "Babs"}}]),
        )
        .await;
    assert_eq!(status, 204);
    let user = api.get(&path).await;
    assert_eq!(user["active"], false);
    assert_eq!(user["name"]["givenName"], "Babs");

    // Removing the whole extension by its URN.
    let (status, body) = api
        .patch(&path, json!([{"op": "remove", "path": ENTERPRISE}]))
        .await;
    assert_eq!(status, 204, "{body}");
    let user = api.get(&path).await;
    assert!(user.get(ENTERPRISE).is_none());
    assert_eq!(user["schemas"], json!([USER]));

    // A new primary value demotes the old one.
    let (status, _) =
        api.patch(&path, json!([{"op": "add", "path": "emails", "value": [{"value": "new@x.example", "primary": true}]}])).await;
    assert_eq!(status, 204);
    let user = api.get(&path).await;
    let primaries = user["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == true)
        .count();
    assert_eq!(primaries, 1);
}

#[tokio::test]
async fn patch_returns_200_with_the_resource_when_attributes_are_asked_for() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let id = new_user(&api, "bjensen").await;
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
    let resp = api
        .http
        .patch(format!("{}/Users/{id}", api.base))
        .bearer_auth(&api.token)
        .query(&[("attributes", "title")])
        .header("Content-Type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("etag").is_some());
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user, json!({"schemas": [USER], "id": id, "title": "CTO"}));
}

#[tokio::test]
async fn patch_errors_in_strict_mode() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let id = new_user(&api, "bjensen").await;
    let path = format!("/Users/{id}");
    let expect = |(status, body): (u16, Value), scim_type: &str| {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["scimType"], scim_type, "{body}");
        assert_eq!(body["status"], "400");
    };
    // Entra's legacy boolean strings.
    expect(
        api.patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await,
        "invalidValue",
    );
    // replace on a value path matching nothing.
    expect(
        api.patch(
            &path,
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
        )
        .await,
        "noTarget",
    );
    expect(
        api.patch(&path, json!([{"op": "remove"}])).await,
        "noTarget",
    );
    expect(
        api.patch(
            &path,
            json!([{"op": "replace", "path": "id", "value": "other"}]),
        )
        .await,
        "mutability",
    );
    expect(
        api.patch(
            &path,
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
        )
        .await,
        "mutability",
    );
    expect(
        api.patch(
            &path,
            json!([{"op": "add", "path": "emails[type eq", "value": "x"}]),
        )
        .await,
        "invalidPath",
    );
    expect(
        api.patch(
            &path,
            json!([{"op": "add", "path": "favouriteColour", "value": "blue"}]),
        )
        .await,
        "invalidPath",
    );
    expect(
        api.patch(
            &path,
            json!([{"op": "frobnicate", "path": "title", "value": "x"}]),
        )
        .await,
        "invalidSyntax",
    );
    expect(
        api.patch(&path, json!([{"op": "replace", "path": "userName"}]))
            .await,
        "invalidValue",
    );
    expect(
        api.patch(&path, json!([{"op": "remove", "path": "userName"}]))
            .await,
        "invalidValue",
    );
    let missing_schemas = api
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"Operations": [{"op": "replace", "path": "title", "value": "x"}]})),
        )
        .await;
    expect(missing_schemas, "invalidSyntax");

    // Atomic: a failing operation leaves the resource unchanged.
    let before = api.get(&path).await;
    let (status, _) = api
        .patch(&path, json!([{"op": "replace", "path": "title", "value": "changed"}, {"op": "replace", "path": "id", "value": "x"}]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(api.get(&path).await, before);

    // Unknown resource.
    let (status, _) = api
        .patch(
            "/Users/nope",
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn group_members_add_and_remove() {
    let (emulator, api) = Api::start(EmulatorConfig::new()).await;
    let u1 = new_user(&api, "u1").await;
    let u2 = new_user(&api, "u2").await;
    let u3 = new_user(&api, "u3").await;
    let gid = new_group(&api, &[&u1]).await;
    let path = format!("/Groups/{gid}");

    let (status, _) = api
        .patch(&path, json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": u2}, {"value": u3}]}]))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        member_ids(&api.get(&path).await),
        [u1.as_str(), u2.as_str(), u3.as_str()]
    );
    assert_eq!(
        api.get(&format!("/Users/{u2}")).await["groups"][0]["value"],
        json!(gid)
    );

    // RFC form of member removal.
    let (status, _) = api
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{u1}\"]")}]),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        member_ids(&api.get(&path).await),
        [u2.as_str(), u3.as_str()]
    );
    assert!(
        api.get(&format!("/Users/{u1}"))
            .await
            .get("groups")
            .is_none()
    );

    // Entra's legacy form is refused in strict mode...
    let legacy = json!([{"op": "Remove", "path": "members", "value": [{"value": u2}]}]);
    let (status, body) = api.patch(&path, legacy.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidValue");
    // ...and accepted once Entra tolerance is switched on at runtime.
    emulator.set_entra(true);
    let (status, _) = api.patch(&path, legacy).await;
    assert_eq!(status, 204);
    assert_eq!(member_ids(&api.get(&path).await), [u3.as_str()]);

    // Replacing all members; excludedAttributes=members as Entra reads groups.
    let (status, _) = api
        .patch(
            &path,
            json!([{"op": "replace", "path": "members", "value": [{"value": u1}]}]),
        )
        .await;
    assert_eq!(status, 204);
    let (_, group) = api
        .send(
            reqwest::Method::GET,
            &format!("{path}?excludedAttributes=members"),
            None,
        )
        .await;
    assert!(group.get("members").is_none());
    assert_eq!(member_ids(&emulator.group(&gid).unwrap()), [u1.as_str()]);

    // Removing every member.
    let (status, _) = api
        .patch(&path, json!([{"op": "remove", "path": "members"}]))
        .await;
    assert_eq!(status, 204);
    assert!(api.get(&path).await.get("members").is_none());
}

#[tokio::test]
async fn entra_tolerance() {
    let (_emulator, api) = Api::start(EmulatorConfig::new().entra(true)).await;
    let id = new_user(&api, "entra-user").await;
    let path = format!("/Users/{id}");

    // "False" is a boolean; ops are capitalised.
    let (status, body) = api
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api.get(&path).await["active"], false);

    // replace on an unmatched value path creates the entry.
    let (status, body) =
        api.patch(&path, json!([{"op": "Replace", "path": "emails[type eq \"other\"].value", "value": "o@x.example"}])).await;
    assert_eq!(status, 204, "{body}");
    let emails = api.get(&path).await["emails"].clone();
    assert!(
        emails
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "other" && e["value"] == "o@x.example"),
        "{emails}"
    );

    // Entra's user create body (meta, roles: []) and its ADSCIM group URN.
    let (status, body) = api
        .post(
            "/Users",
            json!({"schemas": [USER, ENTERPRISE], "externalId": "jdoe", "userName": "jdoe@contoso.example",
                   "active": "True", "meta": {"resourceType": "User"}, "roles": [],
                   "name": {"formatted": "J Doe", "familyName": "Doe", "givenName": "J"},
                   "emails": [{"primary": true, "type": "work", "value": "jdoe@contoso.example"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["active"], true);
    assert!(body.get("roles").is_none());
    let (status, body) = api
        .post(
            "/Groups",
            json!({"schemas": [GROUP, ADSCIM_GROUP], "displayName": "Entra Group", "members": []}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn strict_mode_refuses_what_entra_mode_accepts() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let (status, body) = api
        .post(
            "/Groups",
            json!({"schemas": [GROUP, ADSCIM_GROUP], "displayName": "Entra Group"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidSyntax");
    let (status, body) = api
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "x", "active": "True"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["scimType"], "invalidValue");
}

#[tokio::test]
async fn okta_tolerance_and_get_then_put() {
    let (_emulator, api) = Api::start(EmulatorConfig::new().okta(true)).await;
    // Okta's create: a placeholder password, groups: [], a custom extension.
    let (status, body) = api
        .post(
            "/Users",
            json!({"schemas": [USER, "urn:okta:custom:1.0:user"], "userName": "okta@example.com",
                   "name": {"givenName": "O", "familyName": "K"}, "password": "Placeholder1!",
                   "emails": [{"primary": true, "value": "okta@example.com", "type": "work"}],
                   "active": true, "groups": [], "urn:okta:custom:1.0:user": {"costCode": "7"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["urn:okta:custom:1.0:user"]["costCode"], "7");
    assert!(body.get("password").is_none());

    // GET-then-PUT, echoing read-only attributes.
    let path = format!("/Users/{id}");
    let mut user = api.get(&path).await;
    user["active"] = json!(false);
    let (status, body) = api.send(reqwest::Method::PUT, &path, Some(user)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);

    // Deactivation by no-path replace.
    let (status, _) = api
        .patch(&path, json!([{"op": "replace", "value": {"active": true}}]))
        .await;
    assert_eq!(status, 204);
    assert_eq!(api.get(&path).await["active"], true);
}

#[tokio::test]
async fn put_replaces_groups_and_checks_types() {
    let (_emulator, api) = Api::start(EmulatorConfig::new()).await;
    let u1 = new_user(&api, "u1").await;
    let gid = new_group(&api, &[&u1]).await;
    let path = format!("/Groups/{gid}");
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({"schemas": [GROUP], "displayName": "Renamed"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "Renamed");
    assert!(body.get("members").is_none());
    assert!(
        api.get(&format!("/Users/{u1}"))
            .await
            .get("groups")
            .is_none()
    );
    let (status, _) = api
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({"schemas": [GROUP], "displayName": 7})),
        )
        .await;
    assert_eq!(status, 400);
}
