//! Secrets from configuration to the HTTP header: [`SecretRef`], [`SecretStore`],
//! [`SecretResolver`].
//!
//! Any secret property of a configuration (a client secret, a password, a refresh token)
//! is a [`SecretRef`], which accepts these JSON shapes:
//!
//! | JSON | Meaning |
//! |------|---------|
//! | `"s3cr3t"` | the value itself |
//! | `{"type": "SecureString", "value": "s3cr3t"}` | the value itself (Azure Data Factory) |
//! | `{"type": "AzureKeyVaultSecret", "store": {"referenceName": "myKeyVault", "type": "LinkedServiceReference"}, "secretName": "sf-client-secret", "secretVersion": "optional"}` | a secret in a store registered under `myKeyVault` (Azure Data Factory) |
//! | `{"env": "VAR_NAME"}` | the environment variable `VAR_NAME` |
//! | `{"file": "/run/secrets/x"}` | the file's contents, trailing newline removed |
//!
//! A [`SecretResolver`] turns a reference into a [`SecretString`]; key-vault references go to
//! the [`SecretStore`] registered under the reference's `referenceName`, so any vault can
//! be plugged in. Secret values never appear in `Debug` output, error messages or logs:
//! `Debug` shows only what is not secret (the variable name, the path, the store and
//! secret name).
//!
//! ```
//! use std::sync::Arc;
//! use connector_core::secret::{MapSecretStore, SecretRef, SecretResolver};
//! use secrecy::ExposeSecret;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> connector_core::Result<()> {
//! let reference: SecretRef = serde_json::from_str(
//!     r#"{"type": "AzureKeyVaultSecret",
//!         "store": {"referenceName": "myKeyVault", "type": "LinkedServiceReference"},
//!         "secretName": "sf-client-secret"}"#,
//! )
//! .expect("valid JSON");
//! assert_eq!(
//!     format!("{reference:?}"),
//!     r#"SecretRef::KeyVault { store: "myKeyVault", secret_name: "sf-client-secret", secret_version: None }"#
//! );
//!
//! let vault = MapSecretStore::new().with_secret("sf-client-secret", "s3cr3t");
//! let resolver = SecretResolver::new().with_store("myKeyVault", Arc::new(vault));
//! let secret = resolver.resolve(&reference).await?;
//! assert_eq!(secret.expose_secret(), "s3cr3t");
//! # Ok(())
//! # }
//! ```

// `ConnectorError` is the crate's fixed, rich error type; boxing it per call would not help.
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ConnectorError, ErrorKind, Result};

const RESOLVE: &str = "secret.resolve";

/// Where a secret comes from. See the [module docs](self) for the JSON shapes.
///
/// `Debug` and `Display` never show a literal value. Serializing a
/// [`Literal`](Self::Literal) fails on purpose (a configuration written back out must not
/// carry the secret); the other variants serialize to the shapes they were read from.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecretRef {
    /// The secret itself (a plain string or an ADF `SecureString`).
    Literal(SecretString),
    /// An environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A file's contents, trailing newline removed.
    File {
        /// The file's path.
        path: PathBuf,
    },
    /// A secret in a [`SecretStore`] (ADF `AzureKeyVaultSecret`).
    KeyVault {
        /// The name the store is registered under (`store.referenceName`).
        store: String,
        /// The secret's name in the store (`secretName`).
        secret_name: String,
        /// The secret's version (`secretVersion`); the latest when absent.
        secret_version: Option<String>,
    },
}

impl SecretRef {
    /// The secret itself.
    pub fn literal(value: impl Into<String>) -> Self {
        Self::Literal(SecretString::from(value.into()))
    }

    /// The environment variable `var`.
    pub fn env(var: impl Into<String>) -> Self {
        Self::Env { var: var.into() }
    }

    /// The contents of the file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File { path: path.into() }
    }

    /// The secret `secret_name` (at `secret_version`, or the latest) in the store
    /// registered as `store`.
    pub fn key_vault(
        store: impl Into<String>,
        secret_name: impl Into<String>,
        secret_version: Option<String>,
    ) -> Self {
        Self::KeyVault {
            store: store.into(),
            secret_name: secret_name.into(),
            secret_version,
        }
    }
}

impl From<SecretString> for SecretRef {
    fn from(secret: SecretString) -> Self {
        Self::Literal(secret)
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(_) => f.write_str("SecretRef::Literal(\"********\")"),
            Self::Env { var } => f.debug_struct("SecretRef::Env").field("var", var).finish(),
            Self::File { path } => f
                .debug_struct("SecretRef::File")
                .field("path", path)
                .finish(),
            Self::KeyVault {
                store,
                secret_name,
                secret_version,
            } => f
                .debug_struct("SecretRef::KeyVault")
                .field("store", store)
                .field("secret_name", secret_name)
                .field("secret_version", secret_version)
                .finish(),
        }
    }
}

impl fmt::Display for SecretRef {
    /// Describes the reference for messages, never showing a literal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(_) => f.write_str("literal secret"),
            Self::Env { var } => write!(f, "environment variable `{var}`"),
            Self::File { path } => write!(f, "file `{}`", path.display()),
            Self::KeyVault {
                store,
                secret_name,
                secret_version,
            } => {
                write!(f, "secret `{secret_name}`")?;
                if let Some(version) = secret_version {
                    write!(f, " version `{version}`")?;
                }
                write!(f, " in store `{store}`")
            }
        }
    }
}

impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap};
        match self {
            Self::Literal(_) => Err(S::Error::custom(
                "a literal secret is not serialized; use an env, file or key-vault reference",
            )),
            Self::Env { var } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("env", var)?;
                map.end()
            }
            Self::File { path } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("file", path)?;
                map.end()
            }
            Self::KeyVault {
                store,
                secret_name,
                secret_version,
            } => {
                let len = if secret_version.is_some() { 4 } else { 3 };
                let mut map = serializer.serialize_map(Some(len))?;
                map.serialize_entry("type", "AzureKeyVaultSecret")?;
                map.serialize_entry(
                    "store",
                    &StoreReference {
                        reference_name: store.clone(),
                        kind: Some("LinkedServiceReference".to_owned()),
                    },
                )?;
                map.serialize_entry("secretName", secret_name)?;
                if let Some(version) = secret_version {
                    map.serialize_entry("secretVersion", version)?;
                }
                map.end()
            }
        }
    }
}

/// ADF's `LinkedServiceReference`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreReference {
    reference_name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    // Other keys (`parameters`) are ignored.
}

/// Deserializes a secret string without ever echoing a non-string value in the error.
struct SecretValue(SecretString);

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SecretValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(SecretValue(SecretString::from(v)))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(SecretValue(SecretString::from(v)))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
                Err(E::custom("a secret must be a string, not a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
                Err(E::custom("a secret must be a string, not a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
                Err(E::custom("a secret must be a string, not a number"))
            }
        }
        // `deserialize_any`, not `deserialize_str`: serde_json's `deserialize_str` reports a
        // number by value ("invalid type: integer `1234`"), which could be a PIN.
        deserializer.deserialize_any(V)
    }
}

const SHAPES: &str = r#"a string, {"type": "SecureString", "value": ...}, {"type": "AzureKeyVaultSecret", "store": {"referenceName": ...}, "secretName": ...}, {"env": ...} or {"file": ...}"#;

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SHAPES)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(SecretRef::Literal(SecretString::from(v)))
            }

            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(SecretRef::Literal(SecretString::from(v)))
            }

            // Numbers are rejected without echoing them (serde's default error would).
            fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a secret must be {SHAPES}, not a number"
                )))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a secret must be {SHAPES}, not a number"
                )))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a secret must be {SHAPES}, not a number"
                )))
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut kind: Option<String> = None;
                let mut value: Option<SecretString> = None;
                let mut store: Option<StoreReference> = None;
                let mut secret_name: Option<String> = None;
                let mut secret_version: Option<String> = None;
                let mut env: Option<String> = None;
                let mut file: Option<PathBuf> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => kind = Some(map.next_value()?),
                        "value" => value = Some(map.next_value::<SecretValue>()?.0),
                        "store" => store = Some(map.next_value()?),
                        "secretName" => secret_name = Some(map.next_value()?),
                        "secretVersion" => secret_version = map.next_value()?,
                        "env" => env = Some(map.next_value()?),
                        "file" => file = Some(map.next_value()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &[
                                    "type",
                                    "value",
                                    "store",
                                    "secretName",
                                    "secretVersion",
                                    "env",
                                    "file",
                                ],
                            ));
                        }
                    }
                }
                let vault_keys =
                    store.is_some() || secret_name.is_some() || secret_version.is_some();
                let mixed = |what: &str| {
                    de::Error::custom(format!(
                        "a secret reference has exactly one shape ({what}); expected {SHAPES}"
                    ))
                };
                match kind.as_deref() {
                    Some("SecureString") => {
                        if vault_keys || env.is_some() || file.is_some() {
                            return Err(mixed("SecureString takes only `value`"));
                        }
                        value
                            .map(SecretRef::Literal)
                            .ok_or_else(|| de::Error::missing_field("value"))
                    }
                    Some("AzureKeyVaultSecret") => {
                        if value.is_some() || env.is_some() || file.is_some() {
                            return Err(mixed(
                                "AzureKeyVaultSecret takes `store`, `secretName` and `secretVersion`",
                            ));
                        }
                        let store = store.ok_or_else(|| de::Error::missing_field("store"))?;
                        if let Some(kind) = store.kind.as_deref()
                            && kind != "LinkedServiceReference"
                        {
                            return Err(de::Error::custom(format!(
                                "`store.type` is `{kind}`; expected `LinkedServiceReference`"
                            )));
                        }
                        let secret_name =
                            secret_name.ok_or_else(|| de::Error::missing_field("secretName"))?;
                        Ok(SecretRef::KeyVault {
                            store: store.reference_name,
                            secret_name,
                            secret_version,
                        })
                    }
                    Some(other) => Err(de::Error::custom(format!(
                        "unsupported secret type `{other}`; expected `SecureString` or `AzureKeyVaultSecret`"
                    ))),
                    None => {
                        if value.is_some() || vault_keys {
                            return Err(de::Error::custom(
                                "a secret object with `value`, `store` or `secretName` needs `type` \
                                 (`SecureString` or `AzureKeyVaultSecret`)",
                            ));
                        }
                        match (env, file) {
                            (Some(var), None) => Ok(SecretRef::Env { var }),
                            (None, Some(path)) => Ok(SecretRef::File { path }),
                            (Some(_), Some(_)) => Err(mixed("`env` or `file`, not both")),
                            (None, None) => Err(de::Error::custom(format!(
                                "empty secret reference; expected {SHAPES}"
                            ))),
                        }
                    }
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A source of named secrets: Azure Key Vault, HashiCorp Vault, AWS Secrets Manager, or
/// an in-memory map. Register one with [`SecretResolver::with_store`].
#[async_trait]
pub trait SecretStore: fmt::Debug + Send + Sync {
    /// The secret `name`, at `version` or the latest. A missing secret should be
    /// [`ErrorKind::NotFound`]; the error must not contain any secret value.
    async fn get_secret(&self, name: &str, version: Option<&str>) -> Result<SecretString>;
}

/// An in-memory [`SecretStore`], for tests and simple applications. `Debug` lists the
/// secret names only.
#[derive(Clone, Default)]
pub struct MapSecretStore {
    secrets: BTreeMap<(String, Option<String>), SecretString>,
}

impl MapSecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the latest (unversioned) value of secret `name`.
    #[must_use]
    pub fn with_secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets
            .insert((name.into(), None), SecretString::from(value.into()));
        self
    }

    /// Adds value of secret `name` at `version`.
    #[must_use]
    pub fn with_secret_version(
        mut self,
        name: impl Into<String>,
        version: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.secrets.insert(
            (name.into(), Some(version.into())),
            SecretString::from(value.into()),
        );
        self
    }
}

impl fmt::Debug for MapSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .secrets
            .keys()
            .map(|(name, version)| match version {
                Some(v) => format!("{name}@{v}"),
                None => name.clone(),
            })
            .collect();
        f.debug_struct("MapSecretStore")
            .field("secrets", &names)
            .finish()
    }
}

#[async_trait]
impl SecretStore for MapSecretStore {
    async fn get_secret(&self, name: &str, version: Option<&str>) -> Result<SecretString> {
        self.secrets
            .get(&(name.to_owned(), version.map(str::to_owned)))
            .cloned()
            .ok_or_else(|| {
                let what = match version {
                    Some(v) => format!("secret `{name}` version `{v}`"),
                    None => format!("secret `{name}`"),
                };
                ConnectorError::new(
                    ErrorKind::NotFound,
                    "secret.get",
                    format!("{what} not found in the store"),
                )
            })
    }
}

/// Resolves [`SecretRef`]s: literals, environment variables, files, and key-vault
/// references through the [`SecretStore`]s registered by name.
#[derive(Clone, Default)]
pub struct SecretResolver {
    stores: BTreeMap<String, Arc<dyn SecretStore>>,
}

impl fmt::Debug for SecretResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretResolver")
            .field("stores", &self.stores)
            .finish()
    }
}

impl SecretResolver {
    /// A resolver with no stores (literals, environment variables and files only).
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `store` under `name`, the `store.referenceName` key-vault references use.
    #[must_use]
    pub fn with_store(mut self, name: impl Into<String>, store: Arc<dyn SecretStore>) -> Self {
        self.stores.insert(name.into(), store);
        self
    }

    /// The names stores are registered under.
    pub fn store_names(&self) -> impl Iterator<Item = &str> {
        self.stores.keys().map(String::as_str)
    }

    /// Resolves `reference` to its secret.
    ///
    /// Errors name the reference (never a value): an unset, non-Unicode or empty
    /// environment variable, and an unreadable or empty file, are
    /// [`ErrorKind::InvalidConfig`]; so is a key-vault reference to a store that is not
    /// registered (the message lists the registered ones). A store's own error is passed
    /// through with the reference added as `secret_ref` context.
    pub async fn resolve(&self, reference: &SecretRef) -> Result<SecretString> {
        match reference {
            SecretRef::Literal(secret) => Ok(secret.clone()),
            SecretRef::Env { var } => resolve_env(var, reference),
            SecretRef::File { path } => resolve_file(path, reference).await,
            SecretRef::KeyVault {
                store,
                secret_name,
                secret_version,
            } => {
                let Some(backend) = self.stores.get(store) else {
                    let registered = if self.stores.is_empty() {
                        "none".to_owned()
                    } else {
                        self.store_names()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(ConnectorError::config(
                        RESOLVE,
                        format!(
                            "cannot resolve {reference}: no secret store is registered as `{store}` \
                             (registered: {registered})"
                        ),
                    )
                    .with_context("secret_ref", reference.to_string()));
                };
                backend
                    .get_secret(secret_name, secret_version.as_deref())
                    .await
                    .map_err(|e| e.with_context("secret_ref", reference.to_string()))
            }
        }
    }
}

fn resolve_env(var: &str, reference: &SecretRef) -> Result<SecretString> {
    match std::env::var(var) {
        Ok(value) if value.is_empty() => Err(ConnectorError::config(
            RESOLVE,
            format!("cannot resolve {reference}: the variable is empty"),
        )),
        Ok(value) => Ok(SecretString::from(value)),
        Err(std::env::VarError::NotPresent) => Err(ConnectorError::config(
            RESOLVE,
            format!("cannot resolve {reference}: the variable is not set"),
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConnectorError::config(
            RESOLVE,
            format!("cannot resolve {reference}: the variable is not valid Unicode"),
        )),
    }
}

async fn resolve_file(path: &Path, reference: &SecretRef) -> Result<SecretString> {
    let mut text = tokio::fs::read_to_string(path).await.map_err(|e| {
        // The I/O error names the failure (not found, permission denied, not UTF-8), never
        // the contents.
        ConnectorError::config(
            RESOLVE,
            format!("cannot resolve {reference}: cannot read it: {e}"),
        )
    })?;
    let trimmed = text.trim_end_matches(['\r', '\n']).len();
    text.truncate(trimmed);
    if text.is_empty() {
        return Err(ConnectorError::config(
            RESOLVE,
            format!("cannot resolve {reference}: the file is empty"),
        ));
    }
    Ok(SecretString::from(text))
}

/// Compares two secrets for equality without exposing them to the caller.
pub(crate) fn secrets_equal(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    // Constant time in the length of the shorter value; lengths are not secret enough to
    // matter for an in-process comparison.
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
