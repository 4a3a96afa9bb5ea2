//! `connector_core::secret`: every JSON shape, resolution from literals, environment
//! variables, files and stores, clear failures, and no secret ever in `Debug` or errors.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::secret::{MapSecretStore, SecretRef, SecretResolver, SecretStore};
use connector_core::{ConnectorError, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};

const SECRET: &str = "hunter2-TOP-SECRET";

#[allow(clippy::unwrap_used, reason = "test helper")]
fn parse(json: &str) -> SecretRef {
    serde_json::from_str(json).unwrap()
}

#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LinkedService {
    client_id: String,
    client_secret: SecretRef,
    refresh_token: SecretRef,
}

#[test]
fn every_shape_deserializes() {
    assert!(matches!(parse(r#""hunter2""#), SecretRef::Literal(_)));
    assert!(matches!(
        parse(r#"{"type": "SecureString", "value": "hunter2"}"#),
        SecretRef::Literal(_)
    ));
    match parse(
        r#"{"type": "AzureKeyVaultSecret",
            "store": {"referenceName": "myKeyVault", "type": "LinkedServiceReference"},
            "secretName": "sf-client-secret", "secretVersion": "v2"}"#,
    ) {
        SecretRef::KeyVault {
            store,
            secret_name,
            secret_version,
        } => {
            assert_eq!(store, "myKeyVault");
            assert_eq!(secret_name, "sf-client-secret");
            assert_eq!(secret_version.as_deref(), Some("v2"));
        }
        other => panic!("{other:?}"),
    }
    match parse(
        r#"{"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv", "parameters": {"a": 1}},
            "secretName": "s"}"#,
    ) {
        SecretRef::KeyVault {
            store,
            secret_version: None,
            ..
        } => assert_eq!(store, "kv"),
        other => panic!("{other:?}"),
    }
    match parse(r#"{"env": "ZOHO_REFRESH_TOKEN"}"#) {
        SecretRef::Env { var } => assert_eq!(var, "ZOHO_REFRESH_TOKEN"),
        other => panic!("{other:?}"),
    }
    match parse(r#"{"file": "/run/secrets/sf"}"#) {
        SecretRef::File { path } => assert_eq!(path, std::path::Path::new("/run/secrets/sf")),
        other => panic!("{other:?}"),
    }

    // As properties of a configuration.
    let config: LinkedService = serde_json::from_str(&format!(
        r#"{{"clientId": "1000.ABC", "clientSecret": {{"type": "SecureString", "value": "{SECRET}"}},
            "refreshToken": {{"env": "ZOHO_REFRESH_TOKEN"}}}}"#
    ))
    .unwrap();
    assert_eq!(config.client_id, "1000.ABC");
    assert!(matches!(config.client_secret, SecretRef::Literal(_)));
    assert!(matches!(config.refresh_token, SecretRef::Env { .. }));
    let shown = format!("{config:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("ZOHO_REFRESH_TOKEN"), "{shown}");
}

#[test]
fn malformed_shapes_are_rejected_without_echoing_values() {
    for json in [
        r#"{"type": "SecureString"}"#,
        r#"{"type": "Plaintext", "value": "x"}"#,
        r#"{"type": "AzureKeyVaultSecret", "secretName": "x"}"#,
        r#"{"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv"}}"#,
        r#"{"type": "AzureKeyVaultSecret", "store": {"referenceName": "kv", "type": "Other"}, "secretName": "s"}"#,
        r#"{"env": "A", "file": "/b"}"#,
        r#"{"value": "x"}"#,
        r#"{"vault": "x"}"#,
        r#"{}"#,
        "[]",
        "null",
    ] {
        assert!(serde_json::from_str::<SecretRef>(json).is_err(), "{json}");
    }
    // Numbers, as a PIN might be written, are not echoed in the error.
    for json in ["12345678", r#"{"type": "SecureString", "value": 12345678}"#] {
        let err = serde_json::from_str::<SecretRef>(json)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("12345678"), "{err}");
    }
}

#[test]
fn debug_and_display_never_show_a_literal() {
    let refs = [
        parse(&format!(r#""{SECRET}""#)),
        parse(&format!(
            r#"{{"type": "SecureString", "value": "{SECRET}"}}"#
        )),
        SecretRef::literal(SECRET),
        SecretRef::from(SecretString::from(SECRET)),
    ];
    for r in &refs {
        let shown = format!("{r:?} {r} {r:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
    assert_eq!(
        format!("{:?}", SecretRef::env("SF_SECRET")),
        r#"SecretRef::Env { var: "SF_SECRET" }"#
    );
    assert_eq!(
        format!("{:?}", SecretRef::file("/run/secrets/sf")),
        r#"SecretRef::File { path: "/run/secrets/sf" }"#
    );
    let store = MapSecretStore::new().with_secret("sf-client-secret", SECRET);
    let shown = format!("{store:?}");
    assert!(
        !shown.contains(SECRET) && shown.contains("sf-client-secret"),
        "{shown}"
    );
    let resolver = SecretResolver::new().with_store("kv", Arc::new(store));
    assert!(!format!("{resolver:?}").contains(SECRET));
}

#[test]
fn references_serialize_but_literals_do_not() {
    for json in [
        r#"{"env":"X"}"#,
        r#"{"file":"/a/b"}"#,
        r#"{"type":"AzureKeyVaultSecret","store":{"referenceName":"kv","type":"LinkedServiceReference"},"secretName":"s","secretVersion":"1"}"#,
    ] {
        assert_eq!(serde_json::to_string(&parse(json)).unwrap(), json);
    }
    let err = serde_json::to_string(&SecretRef::literal(SECRET))
        .unwrap_err()
        .to_string();
    assert!(!err.contains(SECRET), "{err}");
}

#[tokio::test]
async fn resolves_literals_env_files_and_stores() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let crlf = dir.path().join("crlf.txt");
    std::fs::write(&crlf, format!("{SECRET}\r\n")).unwrap();
    // `std::env::set_var` is `unsafe` in edition 2024 and `unsafe_code` is forbidden, so
    // read a variable every test environment has.
    let path_var = std::env::var("PATH").unwrap();

    let store = MapSecretStore::new()
        .with_secret("sf-client-secret", SECRET)
        .with_secret_version("sf-client-secret", "v1", "older");
    let resolver = SecretResolver::new().with_store("myKeyVault", Arc::new(store));
    let cases = [
        (SecretRef::literal(SECRET), SECRET.to_owned()),
        (
            parse(&format!(
                r#"{{"type": "SecureString", "value": "{SECRET}"}}"#
            )),
            SECRET.to_owned(),
        ),
        (SecretRef::env("PATH"), path_var),
        (SecretRef::file(&file), SECRET.to_owned()),
        (SecretRef::file(&crlf), SECRET.to_owned()),
        (
            SecretRef::key_vault("myKeyVault", "sf-client-secret", None),
            SECRET.to_owned(),
        ),
        (
            SecretRef::key_vault("myKeyVault", "sf-client-secret", Some("v1".into())),
            "older".to_owned(),
        ),
    ];
    for (reference, expected) in cases {
        let secret = resolver.resolve(&reference).await.unwrap();
        assert_eq!(secret.expose_secret(), expected, "{reference}");
    }
}

fn assert_invalid_config(err: &ConnectorError, mentions: &[&str]) {
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    let shown = format!("{err} {err:?}");
    for m in mentions {
        assert!(shown.contains(m), "`{m}` missing from: {shown}");
    }
    assert!(!shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn failures_are_invalid_config_naming_the_reference() {
    let resolver = SecretResolver::new()
        .with_store("vaultA", Arc::new(MapSecretStore::new()))
        .with_store("vaultB", Arc::new(MapSecretStore::new()));

    let err = resolver
        .resolve(&SecretRef::env("CONNECTOR_CORE_TEST_SURELY_UNSET_VAR"))
        .await
        .unwrap_err();
    assert_invalid_config(&err, &["CONNECTOR_CORE_TEST_SURELY_UNSET_VAR", "not set"]);

    let err = resolver
        .resolve(&SecretRef::file("/nonexistent/dir/secret"))
        .await
        .unwrap_err();
    assert_invalid_config(&err, &["/nonexistent/dir/secret"]);

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let err = resolver
        .resolve(&SecretRef::file(&empty))
        .await
        .unwrap_err();
    assert_invalid_config(&err, &["empty"]);

    let err = resolver
        .resolve(&SecretRef::key_vault(
            "myKeyVault",
            "sf-client-secret",
            None,
        ))
        .await
        .unwrap_err();
    assert_invalid_config(
        &err,
        &["myKeyVault", "sf-client-secret", "`vaultA`, `vaultB`"],
    );

    let err = SecretResolver::new()
        .resolve(&SecretRef::key_vault("kv", "s", None))
        .await
        .unwrap_err();
    assert_invalid_config(&err, &["kv", "registered: none"]);
}

/// A store that fails like a vault whose credentials expired, and would leak if it could.
#[derive(Debug)]
struct FailingStore;

#[async_trait]
impl SecretStore for FailingStore {
    async fn get_secret(&self, name: &str, _version: Option<&str>) -> Result<SecretString> {
        Err(ConnectorError::new(
            ErrorKind::Unauthenticated,
            "vault.get_secret",
            format!("cannot read `{name}`"),
        )
        .with_remote(Some(401), Some("Unauthorized"), None::<String>))
    }
}

#[tokio::test]
async fn store_errors_pass_through_with_context() {
    let resolver = SecretResolver::new()
        .with_store("kv", Arc::new(FailingStore))
        .with_store(
            "map",
            Arc::new(MapSecretStore::new().with_secret("other", SECRET)),
        );

    let err = resolver
        .resolve(&SecretRef::key_vault("kv", "sf-client-secret", None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(
        err.context_value("secret_ref"),
        Some("secret `sf-client-secret` in store `kv`")
    );

    let err = resolver
        .resolve(&SecretRef::key_vault("map", "missing", Some("v9".into())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("missing") && shown.contains("v9") && shown.contains("`map`"),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");
}
