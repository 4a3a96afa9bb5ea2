//! The exact requests the client sends, and how it reads what comes back (wiremock).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use std::time::Duration;

use connector_core::retry::{Backoff, RetryPolicy};
use connector_core::tls::TlsOptions;
use futures::TryStreamExt;
use scim_client::auth::{RefreshTokenProvider, ScimAuth};
use scim_client::bulk::{BulkOperation, BulkRequest};
use scim_client::discovery::CapabilityOverrides;
use scim_client::{
    Conditional, Dialect, GetOptions, ListQuery, Paging, ScimClient, ScimError, ScimType, User,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{
    body_json, body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "s3cr3t-t0ken";

fn plain() -> TlsOptions {
    TlsOptions::default().with_encrypted_endpoints(false)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            2.0,
        ))
}

fn client(server: &MockServer) -> ScimClient {
    builder(server).build().unwrap()
}

fn builder(server: &MockServer) -> scim_client::ScimClientBuilder {
    ScimClient::builder(format!("{}/v2", server.uri()))
        .bearer_token(TOKEN)
        .tls(plain())
        .retry(fast_retry())
        // No discovery mock unless a test mounts one.
        .overrides(CapabilityOverrides::new().cursor(false))
}

fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

fn error(status: u16, scim_type: &str, detail: &str) -> ResponseTemplate {
    scim(
        status,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "scimType": scim_type, "detail": detail
        }),
    )
}

#[tokio::test]
async fn create_sends_scim_json_with_the_bearer_token_and_keeps_the_etag() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/Users"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/scim+json"))
        .and(body_json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bjensen@example.com",
            "active": true
        })))
        .respond_with(
            scim(201, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2819c223", "userName": "bjensen@example.com", "active": true}))
                .insert_header("etag", "W/\"1\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut user = User::new("bjensen@example.com");
    user.active = scim_client::Attr::Value(true.into());
    // Read-only attributes a caller left in are not sent.
    user.meta = Some(scim_client::model::Meta {
        version: Some("W/\"0\"".into()),
        ..Default::default()
    });
    let created = client(&server).users().create(&user).await.unwrap();
    assert_eq!(created.id.as_deref(), Some("2819c223"));
    assert_eq!(
        created.meta.and_then(|m| m.version).as_deref(),
        Some("W/\"1\"")
    );
}

#[tokio::test]
async fn errors_are_typed_by_scim_type_and_tolerate_non_scim_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/Users"))
        .respond_with(error(409, "uniqueness", "userName exists"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/missing"))
        .respond_with(scim(404, json!({"status": 404, "detail": "not found"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/html"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_raw("<html><body>Bad gateway config</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users"))
        .respond_with(error(400, "invalidFilter", "bad filter at column 10"))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.users().create(&User::new("dup")).await.unwrap_err();
    assert_eq!(err.scim_type(), Some(&ScimType::Uniqueness));
    assert_eq!(err.status(), Some(409));
    assert!(
        err.to_string().contains("uniqueness: userName exists"),
        "{err}"
    );
    let connector = connector_core::ConnectorError::from(err);
    assert_eq!(connector.kind(), connector_core::ErrorKind::Conflict);
    assert_eq!(connector.remote_code(), Some("uniqueness"));

    let err = c.users().get("missing").await.unwrap_err();
    assert!(
        err.is_not_found() && err.detail() == Some("not found"),
        "{err}"
    );
    let err = c.users().get("html").await.unwrap_err();
    assert!(
        matches!(&err, ScimError::Http { body, .. } if body.contains("HTML")),
        "{err}"
    );
    // A filter the client accepts but the server refuses: the server's scimType.
    let err = c
        .users()
        .page(&ListQuery::new().filter("nickName co \"x\""), 1)
        .await
        .unwrap_err();
    assert_eq!(err.scim_type(), Some(&ScimType::InvalidFilter));
    assert!(matches!(err, ScimError::Scim { .. }));
    // One that does not parse never leaves the client, and says where it breaks.
    let err = c
        .users()
        .page(&ListQuery::new().filter("userName eq"), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ScimError::InvalidFilter(m) if m.contains("byte 11")),
        "{err}"
    );
    assert_eq!(err.scim_type(), Some(&ScimType::InvalidFilter));
    let err = c
        .users()
        .patch(
            "u1",
            &scim_client::patch::PatchRequest::new().replace("emails[type eq]", "x"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ScimError::InvalidPatch(m) if m.contains("emails[type eq]")),
        "{err}"
    );
    let err = c.users().get("a/b").await.unwrap_err();
    assert!(matches!(err, ScimError::Config(_)));
}

#[tokio::test]
async fn lists_page_by_what_came_back_drop_duplicates_and_stop_at_the_total() {
    let server = MockServer::start().await;
    let user = |i: u32| json!({"id": format!("u{i}"), "userName": format!("user{i}")});
    // The server caps pages at 2 whatever `count` says, and page 2 repeats u2.
    for (start, ids) in [("1", vec![1, 2]), ("3", vec![2, 3]), ("5", vec![4])] {
        Mock::given(method("GET"))
            .and(path("/v2/Users"))
            .and(query_param("startIndex", start))
            .and(query_param("count", "10"))
            .and(query_param("filter", "active eq true"))
            .respond_with(scim(200, json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 5, "startIndex": start.parse::<u32>().unwrap(), "itemsPerPage": ids.len(),
                "Resources": ids.into_iter().map(user).collect::<Vec<_>>()
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let users: Vec<User> = client(&server)
        .users()
        .list(
            ListQuery::new()
                .filter("active eq true")
                .page_size(10)
                .paging(Paging::Index),
        )
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["user1", "user2", "user3", "user4"]);
}

#[tokio::test]
async fn cursor_paging_follows_next_cursor() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/v2/Users")).and(query_param("cursor", ""))
        .respond_with(scim(200, json!({"totalResults": 3, "Resources": [{"id": "a", "userName": "a"}, {"id": "b", "userName": "b"}], "nextCursor": "VZUT"})))
        .expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/v2/Users"))
        .and(query_param("cursor", "VZUT"))
        .and(query_param_is_missing("startIndex"))
        .respond_with(scim(
            200,
            json!({"totalResults": 3, "Resources": [{"id": "c", "userName": "c"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let users: Vec<User> = client(&server)
        .users()
        .list(ListQuery::new().paging(Paging::Cursor))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(users.len(), 3);
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_servers_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .respond_with(error(429, "tooMany", "slow down").insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .respond_with(scim(200, json!({"id": "u1", "userName": "a"})))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let user = client(&server).users().get("u1").await.unwrap();
    assert_eq!(user.user_name, "a");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn patch_reads_204_and_200_and_sends_if_match() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u1"))
        .and(header("if-match", "W/\"3\""))
        .respond_with(error(412, "", "version mismatch"))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u2"))
        .respond_with(scim(
            200,
            json!({"id": "u2", "userName": "b", "title": "Boss"}),
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    let patch = scim_client::patch::PatchRequest::new().replace("title", "Boss");
    assert!(c.users().patch("u1", &patch).await.unwrap().is_none());
    let updated = c.users().patch("u2", &patch).await.unwrap().unwrap();
    assert_eq!(updated.title.as_ref().map(String::as_str), Some("Boss"));
    let err = c
        .users()
        .patch_if_match("u1", &patch, "W/\"3\"")
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed(), "{err}");
}

#[tokio::test]
async fn conditional_get_reads_304_as_not_modified() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .and(header("if-none-match", "W/\"7\""))
        .and(query_param("excludedAttributes", "groups"))
        .respond_with(ResponseTemplate::new(304))
        .expect(1)
        .mount(&server)
        .await;
    let options = GetOptions {
        if_none_match: Some("W/\"7\"".into()),
        excluded_attributes: vec!["groups".into()],
        ..Default::default()
    };
    assert_eq!(
        client(&server)
            .users()
            .get_with("u1", &options)
            .await
            .unwrap(),
        Conditional::NotModified
    );
}

#[tokio::test]
async fn dialects_write_what_entra_and_okta_send() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u1"))
        .and(body_json(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u2"))
        .and(body_json(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Groups/g1"))
        .and(body_json(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": "members[value eq \"u9\"]"}]}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    builder(&server)
        .dialect(Dialect::Entra)
        .build()
        .unwrap()
        .users()
        .deactivate("u1")
        .await
        .unwrap();
    builder(&server)
        .dialect(Dialect::Okta)
        .build()
        .unwrap()
        .users()
        .deactivate("u2")
        .await
        .unwrap();
    client(&server)
        .groups()
        .remove_members("g1", &["u9"])
        .await
        .unwrap();
}

#[tokio::test]
async fn bulk_is_split_to_the_servers_limit_and_bulk_ids_cross_the_split() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/ServiceProviderConfig"))
        .respond_with(scim(
            200,
            json!({"bulk": {"supported": true, "maxOperations": 2, "maxPayloadSize": 1048576},
            "patch": {"supported": true}, "filter": {"supported": true, "maxResults": 200}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/ResourceTypes"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/v2/Bulk")).and(body_string_contains("\"bulkId\":\"u1\""))
        .respond_with(scim(200, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], "Operations": [
            {"method": "POST", "bulkId": "u1", "status": "201", "location": format!("{}/v2/Users/id-1", server.uri())},
            {"method": "POST", "bulkId": "u2", "status": "201", "location": format!("{}/v2/Users/id-2", server.uri())}]})))
        .expect(1).mount(&server).await;
    // The second part refers to u1, which the first part created as id-1.
    Mock::given(method("POST")).and(path("/v2/Bulk")).and(body_string_contains("\"value\":\"id-1\""))
        .respond_with(scim(200, json!({"Operations": [{"method": "POST", "bulkId": "g1", "status": 201, "location": "/v2/Groups/g-1"}]})))
        .expect(1).mount(&server).await;
    let c = ScimClient::builder(format!("{}/v2", server.uri()))
        .bearer_token(TOKEN)
        .tls(plain())
        .build()
        .unwrap();
    let request = BulkRequest::new()
        .operation(BulkOperation::create(
            "/Users",
            "u1",
            json!({"userName": "a"}),
        ))
        .operation(BulkOperation::create(
            "/Users",
            "u2",
            json!({"userName": "b"}),
        ))
        .operation(BulkOperation::create(
            "/Groups",
            "g1",
            json!({"displayName": "G", "members": [{"value": "bulkId:u1"}]}),
        ));
    let response = c.bulk(request).await.unwrap();
    assert_eq!((response.requests, response.operations.len()), (2, 3));
    assert_eq!(response.operations[2].id(), Some("g-1"));
    assert_eq!(response.errors().count(), 0);
}

#[tokio::test]
async fn an_expired_oauth_token_is_refreshed_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "fresh", "expires_in": 3600, "refresh_token": "rotated"}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(error(401, "", "token expired"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(scim(200, json!({"id": "u1", "userName": "a"})))
        .mount(&server)
        .await;
    let http = connector_core::http::HttpClientBuilder::new()
        .with_tls(plain())
        .build()
        .unwrap();
    let rotated = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = rotated.clone();
    let provider = RefreshTokenProvider::new(
        http.clone(),
        format!("{}/oauth/token", server.uri()),
        "client-id",
        SecretString::from("client-secret"),
        SecretString::from("refresh-1"),
    )
    .on_rotate(std::sync::Arc::new(move |t: &SecretString| {
        use secrecy::ExposeSecret;
        seen.lock().unwrap().push(t.expose_secret().to_owned());
    }));
    let c = ScimClient::builder(format!("{}/v2", server.uri()))
        .auth(ScimAuth::oauth(provider))
        .reqwest_client(http)
        .tls(plain())
        .build()
        .unwrap();
    assert_eq!(c.users().get("u1").await.unwrap().user_name, "a");
    assert_eq!(rotated.lock().unwrap().as_slice(), ["rotated", "rotated"]);
}

#[tokio::test]
async fn configuration_errors_come_before_any_request() {
    let err = ScimClient::builder("http://scim.example.com/v2")
        .bearer_token(TOKEN)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("useEncryptedEndpoints") || err.to_string().contains("http://"),
        "{err}"
    );
    let err = ScimClient::builder("not a url").build().unwrap_err();
    assert!(matches!(err, ScimError::Config(_)), "{err}");
    let c = ScimClient::builder("https://scim.example.com/v2")
        .bearer_token(TOKEN)
        .build()
        .unwrap();
    assert!(
        !format!("{c:?}").contains(TOKEN),
        "the token must not reach Debug"
    );
}

#[tokio::test]
async fn test_connection_filters_on_a_random_user_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/Users"))
        .respond_with(|req: &Request| {
            let filter = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            assert!(
                filter.starts_with("userName eq \"connection-test-"),
                "{filter}"
            );
            scim(200, json!({"totalResults": 0, "Resources": []}))
        })
        .expect(1)
        .mount(&server)
        .await;
    client(&server).test_connection().await.unwrap();
}

#[tokio::test]
async fn a_501_to_patch_becomes_a_get_and_a_put_conditional_on_the_version_read() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/v2/Users/u1"))
        .respond_with(error(501, "", "PATCH is not implemented"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/Users/u1"))
        .respond_with(scim(
            200,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1",
                   "userName": "ada", "title": "Engineer", "displayName": "Ada",
                   "meta": {"resourceType": "User", "version": "W/\"7\""}}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    // The whole resource, the change applied, `meta` left to the server, and If-Match
    // carrying the version the GET returned.
    Mock::given(method("PUT"))
        .and(path("/v2/Users/u1"))
        .and(header("if-match", "W/\"7\""))
        .and(body_json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1",
            "userName": "ada", "title": "Boss", "displayName": "Ada"})))
        .respond_with(scim(
            200,
            json!({"id": "u1", "userName": "ada", "title": "Boss", "displayName": "Ada"}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let patch = scim_client::patch::PatchRequest::new().replace("title", "Boss");
    let users = c.resources("Users");
    let written = users.patch("u1", &patch).await.unwrap().unwrap();
    assert_eq!(written["title"], "Boss");
    assert!(c.updates_with_put());
    // Learned: the second update goes straight to GET and PUT (the PATCH mock expects 1).
    users.patch("u1", &patch).await.unwrap();
    // Rediscovery forgets it.
    c.rediscover().await;
    assert!(!c.updates_with_put());
}
