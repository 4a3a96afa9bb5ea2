//! The client's token flows against the emulator's token endpoint: a JWT bearer
//! assertion signed by the client (RS256) and verified by the emulator against the
//! public key, and a rotating refresh token handed to the caller's store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly by design"
)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use salesforce_bulk2::auth::{Credentials, PRODUCTION_AUDIENCE, RefreshTokenStore};
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig, Endpoint};
use secrecy::{ExposeSecret, SecretString};

const KEY: &str = include_str!("emulator_common/jwt_test_key.pem");
const PUBLIC_KEY: &str = include_str!("emulator_common/jwt_test_key.pub.pem");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_signed_by_the_client_is_accepted_and_a_wrong_key_is_refused() {
    let emu = Emulator::start(EmulatorConfig::new().jwt_public_key_pem(PUBLIC_KEY))
        .await
        .unwrap();
    let jwt = |user: &str| Credentials::JwtBearer {
        client_id: emu.client_id().to_owned(),
        username: user.to_owned(),
        private_key_pem: SecretString::from(KEY.to_owned()),
        audience: PRODUCTION_AUDIENCE.to_owned(),
    };
    let client = emu
        .client_builder()
        .credentials(jwt(emu.username()))
        .build()
        .unwrap();
    let account = client.describe("Account").await.unwrap();
    assert_eq!(account.name, "Account");
    assert_eq!(emu.stats().by_endpoint(Endpoint::Token), 1);

    // Someone the org does not know: Salesforce's invalid_grant, typed.
    let stranger = emu
        .client_builder()
        .credentials(jwt("nobody@example.com"))
        .build()
        .unwrap();
    let err = stranger.describe("Account").await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_grant"), "{err}");
}

#[derive(Debug, Default)]
struct Saved(Mutex<Vec<String>>);

#[async_trait]
impl RefreshTokenStore for Saved {
    async fn save(&self, refresh_token: SecretString) -> connector_core::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push(refresh_token.expose_secret().to_owned());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_reaches_the_store_and_is_used_next() {
    let emu = Emulator::start(EmulatorConfig::new().rotate_refresh_tokens(true))
        .await
        .unwrap();
    let saved = Arc::new(Saved::default());
    let client = emu
        .client_builder()
        .credentials(Credentials::RefreshToken {
            client_id: emu.client_id().to_owned(),
            client_secret: Some(SecretString::from(emu.client_secret().to_owned())),
            refresh_token: SecretString::from(emu.refresh_token().to_owned()),
            store: Some(saved.clone()),
        })
        .build()
        .unwrap();
    client.limits().await.unwrap();
    let first: Vec<String> = saved.0.lock().unwrap().clone();
    assert_eq!(first.len(), 1);
    assert_ne!(first[0], emu.refresh_token(), "rotated");

    // The access token expires: the client refreshes with the rotated token (the
    // emulator revokes the grant if the old one is replayed).
    emu.faults().expire_tokens();
    client.limits().await.unwrap();
    let saved_now = saved.0.lock().unwrap().clone();
    assert_eq!(saved_now.len(), 2, "{saved_now:?}");
    assert_ne!(saved_now[1], saved_now[0]);
}
