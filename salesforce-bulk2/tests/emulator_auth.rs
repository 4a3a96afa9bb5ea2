//! The emulator's OAuth token endpoint and session handling.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration tests: a failure should panic"
)]

mod emulator_common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use emulator_common::{Api, read};
use salesforce_bulk2::emulator::{EmulatorConfig, Endpoint};
use serde_json::json;

const KEY: &str = include_str!("emulator_common/jwt_test_key.pem");
const PUBLIC_KEY: &str = include_str!("emulator_common/jwt_test_key.pub.pem");

fn sign_jwt(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let b64: String = KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64).unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let message = format!("{header}.{payload}");
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
}

async fn token(api: &Api, form: &[(&str, &str)]) -> emulator_common::Resp {
    read(
        api.http
            .post(api.emu.token_url())
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_and_session_errors() {
    let api = Api::default().await;
    let ok = token(
        &api,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", api.emu.client_id()),
            ("client_secret", api.emu.client_secret()),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["instance_url"], api.emu.base_url());
    assert_eq!(ok.body["token_type"], "Bearer");
    assert!(
        ok.body["issued_at"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(ok.body.get("expires_in").is_none());
    assert!(ok.body.get("refresh_token").is_none());
    let access = ok.body["access_token"].as_str().unwrap();
    assert!(access.starts_with("00DEM0000000001!"));
    let limits = read(
        api.http
            .get(api.url("/limits"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(limits.status, 200);
    assert!(
        limits
            .header("sforce-limit-info")
            .unwrap()
            .starts_with("api-usage=")
    );

    // HTTP Basic client authentication works too.
    let basic = read(
        api.http
            .post(api.emu.token_url())
            .basic_auth(api.emu.client_id(), Some(api.emu.client_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(basic.status, 200);

    let bad_secret = token(
        &api,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", api.emu.client_id()),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_eq!(bad_secret.status, 400);
    assert_eq!(
        bad_secret.body,
        json!({"error": "invalid_client", "error_description": "invalid client credentials"})
    );
    let bad_client = token(
        &api,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nope"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_eq!(bad_client.body["error"], "invalid_client_id");
    let bad_grant = token(&api, &[("grant_type", "password")]).await;
    assert_eq!(bad_grant.body["error"], "unsupported_grant_type");

    // No, unknown or expired sessions.
    let none = read(api.http.get(api.url("/limits")).send().await.unwrap()).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    api.emu.faults().expire_tokens();
    let expired = read(
        api.http
            .get(api.url("/limits"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(expired.code(), "INVALID_SESSION_ID");
    assert_eq!(api.emu.stats().count("POST", Endpoint::Token), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_after_their_lifetime() {
    let api = Api::start(EmulatorConfig::new().token_ttl(Duration::from_millis(400))).await;
    assert_eq!(api.get("/limits").await.status, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = api.get("/limits").await;
    assert_eq!((r.status, r.code()), (401, "INVALID_SESSION_ID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_replay_revokes() {
    let api = Api::start(EmulatorConfig::new().rotate_refresh_tokens(true)).await;
    let refresh = |rt: String| {
        let api = &api;
        async move {
            token(
                api,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", api.emu.client_id()),
                    ("client_secret", api.emu.client_secret()),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let first = refresh(api.emu.refresh_token().to_owned()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let rotated = first.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, api.emu.refresh_token());
    let second = refresh(rotated.clone()).await;
    assert_eq!(second.status, 200);
    let newest = second.body["refresh_token"].as_str().unwrap().to_owned();
    // Replaying a rotated-out token revokes the grant, the newest token too.
    let replay = refresh(rotated).await;
    assert_eq!(replay.body["error"], "invalid_grant");
    assert_eq!(refresh(newest).await.body["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_checks_claims_and_signature() {
    let api = Api::start(EmulatorConfig::new().jwt_public_key_pem(PUBLIC_KEY)).await;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 180;
    let claims = |iss: &str, sub: &str, aud: &str, exp: u64| json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp});
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let good = sign_jwt(&claims(
        api.emu.client_id(),
        api.emu.username(),
        "https://login.salesforce.com",
        exp,
    ));
    let ok = token(&api, &[("grant_type", grant), ("assertion", &good)]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.body["access_token"].is_string());

    for (assertion, error) in [
        (
            sign_jwt(&claims(
                "someone-else",
                api.emu.username(),
                "https://login.salesforce.com",
                exp,
            )),
            "invalid_client_id",
        ),
        (
            sign_jwt(&claims(
                api.emu.client_id(),
                "nobody@example.com",
                "https://login.salesforce.com",
                exp,
            )),
            "invalid_grant",
        ),
        (
            sign_jwt(&claims(
                api.emu.client_id(),
                api.emu.username(),
                "https://example.com",
                exp,
            )),
            "invalid_grant",
        ),
        (
            sign_jwt(&claims(
                api.emu.client_id(),
                api.emu.username(),
                "https://test.salesforce.com",
                1_000,
            )),
            "invalid_grant",
        ),
    ] {
        let r = token(&api, &[("grant_type", grant), ("assertion", &assertion)]).await;
        assert_eq!(
            (r.status, r.body["error"].as_str().unwrap()),
            (400, error),
            "{}",
            r.text
        );
    }
    // A tampered payload fails the signature check.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(
        claims(
            api.emu.client_id(),
            api.emu.username(),
            "https://login.salesforce.com",
            exp + 1,
        )
        .to_string(),
    );
    let r = token(
        &api,
        &[("grant_type", grant), ("assertion", &parts.join("."))],
    )
    .await;
    assert_eq!(r.body["error"], "invalid_grant");
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
}
