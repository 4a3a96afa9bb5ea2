//! The emulated Zoho accounts server: every grant and its errors, throttling,
//! revocation, token expiry and scopes on the CRM API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::time::Duration;

use emulator_common::{Api, no_redirect_client, read};
use serde_json::json;
use zoho_crm::emulator::{EmulatorConfig, Endpoint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_grant_and_its_errors() {
    let api = Api::default().await;
    let (id, secret, rt) = (
        api.emu.client_id().to_owned(),
        api.emu.client_secret().to_owned(),
        api.emu.refresh_token().to_owned(),
    );
    let ok = api
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("refresh_token", &rt),
        ])
        .await;
    assert_eq!(ok.status, 200);
    let keys: Vec<&str> = ok
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "api_domain", "token_type", "expires_in"]
    );
    assert_eq!(ok.body["api_domain"], api.emu.api_domain());
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 3600);
    let access = ok.body["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("1000.") && access.len() > 60);

    // The new token works on the API.
    let users = api
        .send_as(api.http.get(api.url("/crm/v8/users")), &access)
        .await;
    assert_eq!(users.status, 200);

    // Zoho's errors are HTTP 200 with an `error` member.
    let cases = [
        (("x", secret.as_str(), rt.as_str()), "invalid_client"),
        ((id.as_str(), "wrong", rt.as_str()), "invalid_client_secret"),
        (
            (id.as_str(), secret.as_str(), "1000.nope.nope"),
            "invalid_code",
        ),
    ];
    for ((cid, csecret, crt), error) in cases {
        let r = api
            .token_request(&[
                ("grant_type", "refresh_token"),
                ("client_id", cid),
                ("client_secret", csecret),
                ("refresh_token", crt),
            ])
            .await;
        assert_eq!(r.status, 200, "{error}");
        assert_eq!(r.body, json!({ "error": error }));
    }
    let r = api
        .token_request(&[("grant_type", "password"), ("client_id", &id)])
        .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");

    // Parameters in the query string work too.
    let r = read(
        api.http
            .post(api.emu.token_url())
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("refresh_token", rt.as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(r.body["access_token"].is_string());
    assert_eq!(api.emu.stats().count("POST", Endpoint::OAuthToken), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_are_throttled_per_refresh_token() {
    let api = Api::start(EmulatorConfig::new().token_rate_limit(3, Duration::from_secs(600))).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", api.emu.client_id()),
        ("client_secret", api.emu.client_secret()),
        ("refresh_token", api.emu.refresh_token()),
    ];
    for _ in 0..3 {
        assert!(api.token_request(&form).await.body["access_token"].is_string());
    }
    let denied = api.token_request(&form).await;
    assert_eq!(denied.status, 400);
    assert_eq!(
        denied.body,
        json!({
            "error": "Access Denied",
            "error_description": "You have made too many requests continuously. Please try again after some time."
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_ten_access_tokens_live_per_refresh_token() {
    let api =
        Api::start(EmulatorConfig::new().token_rate_limit(100, Duration::from_secs(600))).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", api.emu.client_id()),
        ("client_secret", api.emu.client_secret()),
        ("refresh_token", api.emu.refresh_token()),
    ];
    let mut tokens = Vec::new();
    for _ in 0..11 {
        tokens.push(
            api.token_request(&form).await.body["access_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = api
        .send_as(api.http.get(api.url("/crm/v8/org")), &tokens[0])
        .await;
    assert_eq!(first.status, 401);
    assert_eq!(first.code(), "INVALID_TOKEN");
    let second = api
        .send_as(api.http.get(api.url("/crm/v8/org")), &tokens[1])
        .await;
    assert_eq!(second.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_flow() {
    let api = Api::default().await;
    let browser = no_redirect_client();
    let auth = format!("{}/oauth/v2/auth", api.emu.accounts_url());
    let redirect = read(
        browser
            .get(&auth)
            .query(&[
                ("client_id", api.emu.client_id()),
                ("response_type", "code"),
                ("redirect_uri", "https://app.example.com/callback?x=1"),
                ("scope", "ZohoCRM.modules.ALL,ZohoCRM.users.READ"),
                ("access_type", "offline"),
                ("prompt", "consent"),
                ("state", "s t&ate"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(redirect.status, 302);
    let location = url::Url::parse(redirect.header("location").unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("app.example.com"));
    let params: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(params["x"], "1");
    assert_eq!(params["location"], "us");
    assert_eq!(params["accounts-server"], api.emu.accounts_url());
    assert_eq!(params["state"], "s t&ate");
    let code = params["code"].clone();

    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", api.emu.client_id()),
        ("client_secret", api.emu.client_secret()),
        ("redirect_uri", "https://app.example.com/callback?x=1"),
        ("code", code.as_str()),
    ];
    let tokens = api.token_request(&exchange).await;
    assert_eq!(tokens.status, 200);
    let keys: Vec<&str> = tokens
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "refresh_token",
            "api_domain",
            "token_type",
            "expires_in"
        ]
    );
    // Single use.
    assert_eq!(
        api.token_request(&exchange).await.body,
        json!({"error": "invalid_code"})
    );

    // The new refresh token works, with the scopes asked for.
    let rt = tokens.body["refresh_token"].as_str().unwrap();
    let refreshed = api
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("refresh_token", rt),
        ])
        .await;
    let access = refreshed.body["access_token"].as_str().unwrap();
    let users = api
        .send_as(api.http.get(api.url("/crm/v8/users")), access)
        .await;
    assert_eq!(users.status, 200);
    let coql = api
        .send_as(
            api.http
                .post(api.url("/crm/v8/coql"))
                .json(&json!({"select_query": "select Last_Name from Leads"})),
            access,
        )
        .await;
    assert_eq!(coql.status, 401);
    assert_eq!(coql.code(), "OAUTH_SCOPE_MISMATCH");

    // access_type=online: no refresh token.
    let online = read(
        browser
            .get(&auth)
            .query(&[
                ("client_id", api.emu.client_id()),
                ("response_type", "code"),
                ("redirect_uri", "https://app.example.com/cb"),
                ("scope", "ZohoCRM.modules.ALL"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let location = url::Url::parse(online.header("location").unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = api
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("redirect_uri", "https://app.example.com/other"),
            ("code", code.as_str()),
        ])
        .await;
    assert_eq!(tokens.body, json!({"error": "invalid_redirect_uri"}));

    // Unknown client at /auth.
    let bad = read(
        browser
            .get(&auth)
            .query(&[("client_id", "1000.WRONG"), ("response_type", "code")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"], "invalid_client");

    // A self-client code, exchanged without redirect_uri.
    let code = api.emu.authorization_code("ZohoCRM.users.READ");
    let tokens = api
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("code", code.as_str()),
        ])
        .await;
    assert!(tokens.body["refresh_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_codes_expire() {
    let api = Api::start(EmulatorConfig::new().code_ttl(Duration::from_millis(50))).await;
    let code = api.emu.authorization_code("ZohoCRM.modules.ALL");
    tokio::time::sleep(Duration::from_millis(120)).await;
    let r = api
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("code", code.as_str()),
        ])
        .await;
    assert_eq!(r.body, json!({"error": "invalid_code"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_grant() {
    let api = Api::default().await;
    let soid = format!("ZohoCRM.{}", api.emu.soid());
    let base = [
        ("grant_type", "client_credentials"),
        ("client_id", api.emu.client_id()),
        ("client_secret", api.emu.client_secret()),
        ("scope", "ZohoCRM.modules.READ"),
    ];
    let missing = api.token_request(&base).await;
    assert_eq!(missing.status, 200);
    assert_eq!(missing.body, json!({"error": "missing_org_info"}));
    let mut wrong = base.to_vec();
    wrong.push(("soid", "ZohoCRM.1"));
    assert_eq!(
        api.token_request(&wrong).await.body["error"],
        "missing_org_info"
    );

    let mut form = base.to_vec();
    form.push(("soid", soid.as_str()));
    let ok = api.token_request(&form).await;
    assert!(ok.body.get("refresh_token").is_none());
    let access = ok.body["access_token"].as_str().unwrap();
    let leads = api
        .send_as(
            api.http
                .get(api.url("/crm/v8/Leads"))
                .query(&[("fields", "Last_Name")]),
            access,
        )
        .await;
    assert_eq!(leads.status, 204);
    let insert = api
        .send_as(
            api.http
                .post(api.url("/crm/v8/Leads"))
                .json(&json!({"data": [{"Last_Name": "X"}]})),
            access,
        )
        .await;
    assert_eq!(insert.status, 401);
    assert_eq!(insert.code(), "OAUTH_SCOPE_MISMATCH");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_missing_and_expired_tokens() {
    let api = Api::default().await;
    let expected = json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"});
    let none = read(api.http.get(api.url("/crm/v8/users")).send().await.unwrap()).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body, expected);
    let wrong = api
        .send_as(api.http.get(api.url("/crm/v8/users")), "1000.abc.def")
        .await;
    assert_eq!((wrong.status, wrong.body.clone()), (401, expected.clone()));

    assert_eq!(api.get("/crm/v8/users", &[]).await.status, 200);
    api.emu.expire_access_tokens();
    let expired = api.get("/crm/v8/users", &[]).await;
    assert_eq!((expired.status, expired.body), (401, expected.clone()));

    // A short TTL expires by itself. (Two seconds: long enough that a loaded machine
    // still uses the token in time, short enough to wait out.)
    let short = Api::start(EmulatorConfig::new().token_ttl(Duration::from_secs(2))).await;
    assert_eq!(short.get("/crm/v8/org", &[]).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(short.get("/crm/v8/org", &[]).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke() {
    let api = Api::default().await;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", api.emu.client_id()),
        ("client_secret", api.emu.client_secret()),
        ("refresh_token", api.emu.refresh_token()),
    ];
    let access = api.token_request(&form).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = format!("{}/oauth/v2/token/revoke", api.emu.accounts_url());
    let r = read(
        api.http
            .post(&revoke)
            .query(&[("token", api.emu.refresh_token())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (200, json!({"status": "success"}))
    );
    // The refresh token and its access tokens are gone.
    assert_eq!(
        api.token_request(&form).await.body,
        json!({"error": "invalid_code"})
    );
    let gone = api
        .send_as(api.http.get(api.url("/crm/v8/org")), &access)
        .await;
    assert_eq!(gone.status, 401);
    let again = read(
        api.http
            .post(&revoke)
            .query(&[("token", api.emu.refresh_token())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(api.emu.stats().count("POST", Endpoint::OAuthRevoke), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_are_enforced_per_area() {
    let api = Api::default().await;
    api.emu.seed_records("Leads", 3).unwrap();
    let leads_read = api
        .emu
        .access_token_with_scopes("ZohoCRM.modules.leads.READ");
    let get_leads = || {
        api.http
            .get(api.url("/crm/v8/Leads"))
            .query(&[("fields", "Last_Name")])
    };
    assert_eq!(api.send_as(get_leads(), &leads_read).await.status, 200);
    let contacts = api
        .send_as(
            api.http
                .get(api.url("/crm/v8/Contacts"))
                .query(&[("fields", "Last_Name")]),
            &leads_read,
        )
        .await;
    assert_eq!(
        (contacts.status, contacts.code()),
        (401, "OAUTH_SCOPE_MISMATCH")
    );
    for (path, scope_ok) in [
        ("/crm/v8/users", "ZohoCRM.users.READ"),
        ("/crm/v8/settings/modules", "ZohoCRM.settings.modules.READ"),
        ("/crm/v8/org", "ZohoCRM.org.READ"),
    ] {
        let denied = api.send_as(api.http.get(api.url(path)), &leads_read).await;
        assert_eq!(
            (denied.status, denied.code()),
            (401, "OAUTH_SCOPE_MISMATCH"),
            "{path}"
        );
        let allowed = api.emu.access_token_with_scopes(scope_ok);
        assert_eq!(
            api.send_as(api.http.get(api.url(path)), &allowed)
                .await
                .status,
            200,
            "{path}"
        );
    }
    let fields = || {
        api.http
            .get(api.url("/crm/v8/settings/fields"))
            .query(&[("module", "Leads")])
    };
    let modules_only = api
        .emu
        .access_token_with_scopes("ZohoCRM.settings.modules.READ");
    assert_eq!(api.send_as(fields(), &modules_only).await.status, 401);
    let settings_all = api.emu.access_token_with_scopes("ZohoCRM.settings.ALL");
    assert_eq!(api.send_as(fields(), &settings_all).await.status, 200);

    // COQL needs the coql scope and the module's read scope.
    let coql = json!({"select_query": "select Last_Name from Leads"});
    let coql_only = api.emu.access_token_with_scopes("ZohoCRM.coql.READ");
    let both = api
        .emu
        .access_token_with_scopes("ZohoCRM.coql.READ,ZohoCRM.modules.leads.READ");
    for (token, status) in [(&leads_read, 401), (&coql_only, 401), (&both, 200)] {
        let r = api
            .send_as(api.http.post(api.url("/crm/v8/coql")).json(&coql), token)
            .await;
        assert_eq!(r.status, status);
    }

    // Bulk read needs ZohoCRM.bulk.read (or ALL) and the module's read scope.
    let job = json!({"query": {"module": {"api_name": "Leads"}}});
    let bulk_ok = api
        .emu
        .access_token_with_scopes("ZohoCRM.bulk.read,ZohoCRM.modules.READ");
    for (token, status) in [(&leads_read, 401), (&bulk_ok, 201)] {
        let r = api
            .send_as(
                api.http.post(api.url("/crm/bulk/v8/read")).json(&job),
                token,
            )
            .await;
        assert_eq!(r.status, status);
    }

    // WRITE covers create and update, not delete.
    let write = api
        .emu
        .access_token_with_scopes("ZohoCRM.modules.leads.WRITE");
    let created = api
        .send_as(
            api.http
                .post(api.url("/crm/v8/Leads"))
                .json(&json!({"data": [{"Last_Name": "W"}]})),
            &write,
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = api
        .send_as(
            api.http
                .delete(api.url("/crm/v8/Leads"))
                .query(&[("ids", id.as_str())]),
            &write,
        )
        .await;
    assert_eq!(deleted.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_scopes_apply_to_the_registered_refresh_token() {
    let api = Api::start(EmulatorConfig::new().scopes("ZohoCRM.users.READ")).await;
    let access = api
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
            ("refresh_token", api.emu.refresh_token()),
        ])
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.send_as(api.http.get(api.url("/crm/v8/users")), &access)
            .await
            .status,
        200
    );
    assert_eq!(
        api.send_as(api.http.get(api.url("/crm/v8/org")), &access)
            .await
            .status,
        401
    );
    // Test tokens carry the configured scopes too.
    assert_eq!(api.get("/crm/v8/org", &[]).await.status, 401);
}
