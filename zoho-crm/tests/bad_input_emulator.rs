//! Bad input against the emulator: each a typed error or a per-record rejection carrying
//! Zoho's code, message and details, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use connector_core::ErrorKind;
use connector_core::retry::RetryPolicy;
use connector_core::tls::TlsOptions;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::{Map, json};
use zoho_crm::auth::Credentials;
use zoho_crm::dc::Endpoints;
use zoho_crm::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use zoho_crm::{ListRecords, UserType, WriteOperation, WriteResult, ZohoClient};

fn client_with(e: &RunningEmulator, refresh: &str) -> ZohoClient {
    ZohoClient::builder()
        .endpoints(Endpoints::custom(e.accounts_url(), e.api_domain()))
        .credentials(Credentials::RefreshToken {
            client_id: e.client_id().into(),
            client_secret: SecretString::from(e.client_secret().to_owned()),
            refresh_token: SecretString::from(refresh.to_owned()),
        })
        .tls(TlsOptions::default().with_encrypted_endpoints(false))
        .token_throttle_retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_revoked_refresh_token_is_unauthenticated() {
    let e = Emulator::start(EmulatorConfig::new()).await.unwrap();
    assert!(e.revoke_token(e.refresh_token()));
    let err = client_with(&e, e.refresh_token())
        .users()
        .count(UserType::AllUsers)
        .await
        .unwrap_err();
    let err = connector_core::ConnectorError::from(err);
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.remote_code(), Some("invalid_code"), "{err}");
}

#[tokio::test]
async fn unknown_modules_and_fields_name_what_was_wrong() {
    let e = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let c = client_with(&e, e.refresh_token());
    let err = c.fields("Spaceships").await.unwrap_err();
    assert_eq!(err.code(), Some("INVALID_MODULE"), "{err}");
    let err = c
        .records("Leads")
        .list(ListRecords::fields(["Last_Name", "Warp_Factor"]))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("INVALID_DATA"), "{err}");
    assert!(err.to_string().contains("Warp_Factor"), "{err}");
}

#[tokio::test]
async fn invalid_coql_is_refused_locally_or_with_zohos_code() {
    let e = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let c = client_with(&e, e.refresh_token());
    let err = c
        .coql("select from Leads")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no columns"), "{err}");
    let err = c
        .coql("select Last_Name from Leads where Last_Name ==== 'x'")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(err.code(), Some("SYNTAX_ERROR" | "INVALID_QUERY")),
        "{err}"
    );
}

#[tokio::test]
async fn records_zoho_refuses_get_its_code_and_field() {
    let e = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let c = client_with(&e, e.refresh_token());
    let rec = |pairs: serde_json::Value| -> Map<String, serde_json::Value> {
        pairs.as_object().unwrap().clone()
    };
    let first = c
        .records("Leads")
        .write(
            &WriteOperation::Insert,
            &[rec(json!({"Last_Name": "A", "Email": "a@example.com"}))],
        )
        .await
        .unwrap();
    assert!(matches!(first[0], WriteResult::Success { .. }), "{first:?}");
    let results = c
        .records("Leads")
        .write(
            &WriteOperation::Insert,
            &[
                rec(json!({"Last_Name": "B", "No_of_Employees": "many"})),
                rec(json!({"First_Name": "no last name"})),
                rec(json!({"Last_Name": "C", "Email": "not an email"})),
            ],
        )
        .await
        .unwrap();
    let codes: Vec<&str> = results
        .iter()
        .map(|r| match r {
            WriteResult::Error { code, .. } => code.as_str(),
            WriteResult::Success { .. } => "SUCCESS",
        })
        .collect();
    assert_eq!(
        codes,
        ["INVALID_DATA", "MANDATORY_NOT_FOUND", "INVALID_DATA"]
    );
    match &results[1] {
        WriteResult::Error { details, .. } => assert_eq!(details["api_name"], "Last_Name"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_duplicate_of_a_unique_field_is_duplicate_data_naming_the_field() {
    let e = Emulator::start(EmulatorConfig::new()).await.unwrap();
    let c = client_with(&e, e.refresh_token());
    let contact = |name: &str| {
        json!({"Last_Name": name, "Email": "same@example.com"})
            .as_object()
            .unwrap()
            .clone()
    };
    let results = c
        .records("Contacts")
        .write(
            &WriteOperation::Insert,
            &[contact("First"), contact("Second")],
        )
        .await
        .unwrap();
    assert!(
        matches!(results[0], WriteResult::Success { .. }),
        "{results:?}"
    );
    match &results[1] {
        WriteResult::Error { code, details, .. } => {
            assert_eq!(code, "DUPLICATE_DATA");
            assert_eq!(details["api_name"], "Email");
        }
        other => panic!("{other:?}"),
    }
}
