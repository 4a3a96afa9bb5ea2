//! Configuration, including Azure Data Factory's JSON for its Salesforce (SalesforceV2)
//! connector: linked service, dataset, copy source and copy sink, so an existing
//! definition can be reused as is. Secrets are [`SecretRef`]s (`SecureString`,
//! `AzureKeyVaultSecret`, environment, file) resolved into `SecretString`s.
//!
//! ```
//! use salesforce_bulk2::config::{
//!     SalesforceCopySink, SalesforceCopySource, SalesforceDataset, SalesforceLinkedService,
//! };
//!
//! let linked = SalesforceLinkedService::from_adf_json(&serde_json::json!({
//!     "name": "SalesforceLinkedService",
//!     "properties": {
//!         "type": "SalesforceV2",
//!         "typeProperties": {
//!             "environmentUrl": "https://myco.my.salesforce.com",
//!             "authenticationType": "OAuth2ClientCredential",
//!             "clientId": "3MVG9...",
//!             "clientSecret": { "type": "SecureString", "value": "secret" },
//!             "apiVersion": "60.0"
//!         },
//!         "connectVia": { "referenceName": "AutoResolveIntegrationRuntime", "type": "IntegrationRuntimeReference" }
//!     }
//! }))?;
//! assert_eq!(linked.api_version()?.to_string(), "60.0");
//! assert!(!format!("{linked:?}").contains("secret\""));
//!
//! let dataset = SalesforceDataset::from_adf_json(&serde_json::json!({
//!     "properties": { "type": "SalesforceV2Object", "typeProperties": { "objectApiName": "Account" } }
//! }))?;
//! assert_eq!(dataset.object_api_name.as_deref(), Some("Account"));
//!
//! let source = SalesforceCopySource::from_adf_json(&serde_json::json!({
//!     "type": "SalesforceV2Source", "SOQLQuery": "SELECT Id FROM Account", "includeDeletedObjects": true
//! }))?;
//! assert!(source.include_deleted_objects);
//!
//! let sink = SalesforceCopySink::from_adf_json(&serde_json::json!({
//!     "type": "SalesforceV2Sink", "writeBehavior": "Upsert", "externalIdFieldName": "Ext__c",
//!     "writeBatchSize": 10000, "ignoreNullValues": true
//! }))?;
//! assert_eq!(sink.write_batch_size, Some(10_000));
//! # Ok::<(), salesforce_bulk2::SalesforceError>(())
//! ```

use connector_core::secret::{SecretRef, SecretResolver};
use connector_core::tls::TlsOptions;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::auth::{Credentials, PRODUCTION_AUDIENCE};
use crate::client::{ApiVersion, SalesforceClient};
use crate::error::{Result, SalesforceError};
use crate::sink::{SalesforceSink, WriteBehavior};
use crate::source::{Dataset, SalesforceSource};

/// Azure Data Factory's `authenticationType`, plus the flows it lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum AuthenticationType {
    /// OAuth 2.0 client credentials (ADF's only SalesforceV2 flow).
    #[serde(rename = "OAuth2ClientCredential", alias = "OAuth2ClientCredentials")]
    ClientCredentials,
    /// JWT bearer with `clientId`, `username` and `privateKey`.
    #[serde(rename = "OAuth2JwtBearer", alias = "JwtBearer")]
    JwtBearer,
    /// A refresh token (`refreshToken`).
    #[serde(rename = "OAuth2RefreshToken", alias = "RefreshToken")]
    RefreshToken,
    /// A static `accessToken`.
    #[serde(rename = "AccessToken")]
    AccessToken,
}

/// A number ADF may write as a string (`"60.0"`, `"100000"`) or a number.
fn lenient_string<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_usize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<usize>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// A SalesforceV2 linked service's `typeProperties`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceLinkedService {
    /// The org's My Domain URL.
    pub environment_url: String,
    /// How to authenticate.
    pub authentication_type: AuthenticationType,
    /// The connected app's consumer key.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The consumer secret.
    #[serde(default)]
    pub client_secret: Option<SecretRef>,
    /// The API version (`"60.0"`); the client's default when absent.
    #[serde(default, deserialize_with = "lenient_string")]
    pub api_version: Option<String>,
    /// JWT bearer: the user to act as.
    #[serde(default)]
    pub username: Option<String>,
    /// JWT bearer: the RSA private key, PEM.
    #[serde(default)]
    pub private_key: Option<SecretRef>,
    /// JWT bearer: the audience (default `https://login.salesforce.com`).
    #[serde(default)]
    pub audience: Option<String>,
    /// Refresh token flow: the refresh token.
    #[serde(default)]
    pub refresh_token: Option<SecretRef>,
    /// Access token flow: the token.
    #[serde(default)]
    pub access_token: Option<SecretRef>,
    /// Another token endpoint host (`https://login.salesforce.com`).
    #[serde(default)]
    pub token_url: Option<String>,
    /// `useEncryptedEndpoints`, `useHostVerification`, `usePeerVerification`.
    #[serde(flatten)]
    pub tls: TlsOptions,
}

/// Finds the object holding `key` at the top level or under ADF's wrappers.
fn unwrap_adf<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    if value.get(key).is_some() {
        return Some(value);
    }
    ["properties", "typeProperties"]
        .into_iter()
        .filter_map(|w| value.get(w))
        .find_map(|inner| unwrap_adf(inner, key))
}

impl SalesforceLinkedService {
    /// Reads ADF's linked-service JSON (the whole definition or any level of it).
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "environmentUrl").ok_or_else(|| {
            SalesforceError::Config("no `environmentUrl` in the linked service".into())
        })?;
        serde_json::from_value(inner.clone())
            .map_err(|e| SalesforceError::Config(format!("linked service: {e}")))
    }

    /// The API version, default [`ApiVersion::DEFAULT`].
    pub fn api_version(&self) -> Result<ApiVersion> {
        self.api_version
            .as_deref()
            .map_or(Ok(ApiVersion::DEFAULT), str::parse)
    }

    /// Resolves the secrets and builds a client. A missing property or secret is an
    /// error naming it, before any request; so is an API version below 47.0.
    pub async fn client(&self, secrets: &SecretResolver) -> Result<SalesforceClient> {
        let need_id = || {
            self.client_id.clone().ok_or_else(|| {
                SalesforceError::Config(format!(
                    "clientId is required for {:?} authentication",
                    self.authentication_type
                ))
            })
        };
        let need = |r: &Option<SecretRef>, name: &str| {
            r.clone().ok_or_else(|| {
                SalesforceError::Config(format!(
                    "{name} is required for {:?} authentication",
                    self.authentication_type
                ))
            })
        };
        let credentials = match self.authentication_type {
            AuthenticationType::ClientCredentials => Credentials::ClientCredentials {
                client_id: need_id()?,
                client_secret: secrets
                    .resolve(&need(&self.client_secret, "clientSecret")?)
                    .await?,
            },
            AuthenticationType::JwtBearer => Credentials::JwtBearer {
                client_id: need_id()?,
                username: self.username.clone().ok_or_else(|| {
                    SalesforceError::Config("username is required for JWT bearer".into())
                })?,
                private_key_pem: secrets
                    .resolve(&need(&self.private_key, "privateKey")?)
                    .await?,
                audience: self
                    .audience
                    .clone()
                    .unwrap_or_else(|| PRODUCTION_AUDIENCE.to_owned()),
            },
            AuthenticationType::RefreshToken => {
                let secret: Option<SecretString> = match &self.client_secret {
                    Some(s) => Some(secrets.resolve(s).await?),
                    None => None,
                };
                Credentials::RefreshToken {
                    client_id: need_id()?,
                    client_secret: secret,
                    refresh_token: secrets
                        .resolve(&need(&self.refresh_token, "refreshToken")?)
                        .await?,
                    store: None,
                }
            }
            AuthenticationType::AccessToken => Credentials::AccessToken(
                secrets
                    .resolve(&need(&self.access_token, "accessToken")?)
                    .await?,
            ),
        };
        let mut builder = SalesforceClient::builder()
            .instance_url(self.environment_url.clone())
            .api_version(self.api_version()?)
            .credentials(credentials)
            .tls(self.tls.clone());
        if let Some(t) = &self.token_url {
            builder = builder.token_url(t.clone());
        }
        builder.build()
    }
}

/// A SalesforceV2 dataset: `objectApiName` or `reportId`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceDataset {
    /// The sObject (`Account`, `MyTable__c`).
    #[serde(default)]
    pub object_api_name: Option<String>,
    /// An Analytics report id.
    #[serde(default)]
    pub report_id: Option<String>,
}

impl SalesforceDataset {
    /// Reads ADF's dataset JSON.
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "objectApiName")
            .or_else(|| unwrap_adf(value, "reportId"))
            .unwrap_or(value);
        let d: Self = serde_json::from_value(inner.clone())
            .map_err(|e| SalesforceError::Config(format!("dataset: {e}")))?;
        Ok(d)
    }

    /// The dataset as the source reads it; neither or both set is an error.
    pub fn dataset(&self) -> Result<Dataset> {
        match (&self.object_api_name, &self.report_id) {
            (Some(o), None) => Ok(Dataset::Object(o.clone())),
            (None, Some(r)) => Ok(Dataset::Report(r.clone())),
            (Some(_), Some(_)) => Err(SalesforceError::Config(
                "the dataset sets both objectApiName and reportId".into(),
            )),
            (None, None) => Err(SalesforceError::Config(
                "the dataset sets neither objectApiName nor reportId".into(),
            )),
        }
    }
}

/// A SalesforceV2 copy source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct SalesforceCopySource {
    /// A SOQL query (Bulk API 2.0 restrictions apply).
    #[serde(default, rename = "SOQLQuery", alias = "soqlQuery", alias = "query")]
    pub soql_query: Option<String>,
    /// `queryAll`: deleted and archived records too.
    #[serde(
        default,
        rename = "includeDeletedObjects",
        deserialize_with = "lenient_bool"
    )]
    pub include_deleted_objects: bool,
}

impl SalesforceCopySource {
    /// Reads ADF's copy-source JSON.
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "SOQLQuery")
            .or_else(|| unwrap_adf(value, "includeDeletedObjects"))
            .unwrap_or(value);
        serde_json::from_value(inner.clone())
            .map_err(|e| SalesforceError::Config(format!("copy source: {e}")))
    }

    /// The source of `dataset` this copy source describes. A SOQL query is checked
    /// here for what Bulk API 2.0 rejects.
    pub fn source(
        &self,
        client: SalesforceClient,
        dataset: &SalesforceDataset,
    ) -> Result<SalesforceSource> {
        let source = match (&self.soql_query, dataset.dataset()) {
            (Some(q), Ok(Dataset::Object(o))) => {
                crate::soql::SoqlQuery::parse(q)?;
                SalesforceSource::object(client, o).with_soql(q.clone())
            }
            (Some(q), _) => SalesforceSource::query(client, q.clone())?,
            (None, Ok(d)) => SalesforceSource::new(client, d),
            (None, Err(e)) => return Err(e),
        };
        Ok(source.include_deleted_objects(self.include_deleted_objects))
    }
}

/// A SalesforceV2 copy sink.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCopySink {
    /// `Insert` (ADF's default), `Upsert`, `Update`, `Delete`, `HardDelete`.
    #[serde(default = "default_behavior")]
    pub write_behavior: WriteBehavior,
    /// The external id field of upserts.
    #[serde(default)]
    pub external_id_field_name: Option<String>,
    /// Rows per job.
    #[serde(default, deserialize_with = "lenient_usize")]
    pub write_batch_size: Option<usize>,
    /// Leave fields unchanged where values are null.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub ignore_null_values: bool,
    /// Jobs in flight at once.
    #[serde(default, deserialize_with = "lenient_usize")]
    pub max_concurrent_connections: Option<usize>,
}

fn default_behavior() -> WriteBehavior {
    WriteBehavior::Insert
}

impl SalesforceCopySink {
    /// Reads ADF's copy-sink JSON. `Upsert` without `externalIdFieldName` is an error.
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "writeBehavior").unwrap_or(value);
        let sink: Self = serde_json::from_value(inner.clone())
            .map_err(|e| SalesforceError::Config(format!("copy sink: {e}")))?;
        if sink.write_behavior == WriteBehavior::Upsert
            && sink
                .external_id_field_name
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
        {
            return Err(SalesforceError::Config(
                "copy sink: writeBehavior Upsert needs externalIdFieldName".into(),
            ));
        }
        Ok(sink)
    }

    /// The sink this copy sink describes, writing to `dataset`'s object.
    pub fn sink(
        &self,
        client: SalesforceClient,
        dataset: &SalesforceDataset,
    ) -> Result<SalesforceSink> {
        let mut sink = SalesforceSink::new(client)
            .write_behavior(self.write_behavior)
            .ignore_null_values(self.ignore_null_values);
        if let Some(o) = &dataset.object_api_name {
            sink = sink.object(o.clone());
        } else if dataset.report_id.is_some() {
            return Err(SalesforceError::Config(
                "a report cannot be written to".into(),
            ));
        }
        if let Some(k) = &self.external_id_field_name {
            sink = sink.external_id_field_name(k.clone());
        }
        if let Some(n) = self.write_batch_size {
            sink = sink.write_batch_size(n);
        }
        if let Some(n) = self.max_concurrent_connections {
            sink = sink.max_concurrent_connections(n);
        }
        Ok(sink)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn key_vault_secret_and_old_version() {
        let json = serde_json::json!({
            "name": "SalesforceLinkedService",
            "type": "Microsoft.DataFactory/factories/linkedservices",
            "properties": {
                "type": "SalesforceV2",
                "typeProperties": {
                    "environmentUrl": "https://myco.my.salesforce.com",
                    "authenticationType": "OAuth2ClientCredential",
                    "clientId": "3MVG9abc",
                    "clientSecret": {
                        "type": "AzureKeyVaultSecret",
                        "store": { "referenceName": "vault", "type": "LinkedServiceReference" },
                        "secretName": "sf-secret"
                    },
                    "apiVersion": 46.0
                }
            }
        });
        let linked = SalesforceLinkedService::from_adf_json(&json).unwrap();
        let store =
            connector_core::secret::MapSecretStore::new().with_secret("sf-secret", "s3cr3t");
        let resolver = SecretResolver::new().with_store("vault", Arc::new(store));
        let err = linked.client(&resolver).await.unwrap_err();
        assert!(err.to_string().contains("47.0"), "{err}");
        let mut ok = json.clone();
        ok["properties"]["typeProperties"]["apiVersion"] = Value::from("62.0");
        let client = SalesforceLinkedService::from_adf_json(&ok)
            .unwrap()
            .client(&resolver)
            .await
            .unwrap();
        assert_eq!(client.api_version().to_string(), "62.0");
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }

    #[test]
    fn datasets_and_sinks() {
        let d = SalesforceDataset::from_adf_json(&serde_json::json!({
            "name": "R", "properties": {"type": "SalesforceV2Object", "typeProperties": {"reportId": "00O5g000"},
            "linkedServiceName": {"referenceName": "SF", "type": "LinkedServiceReference"}}
        }))
        .unwrap();
        assert_eq!(d.dataset().unwrap(), Dataset::Report("00O5g000".into()));
        let e = SalesforceCopySink::from_adf_json(
            &serde_json::json!({"type": "SalesforceV2Sink", "writeBehavior": "Upsert"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("externalIdFieldName"));
        let s = SalesforceCopySink::from_adf_json(&serde_json::json!({"type": "SalesforceV2Sink", "writeBehavior": "HardDelete", "maxConcurrentConnections": "4"}))
            .unwrap();
        assert_eq!(
            (s.write_behavior, s.max_concurrent_connections),
            (WriteBehavior::HardDelete, Some(4))
        );
        let s = SalesforceCopySink::from_adf_json(&serde_json::json!({"type": "SalesforceV2Sink"}))
            .unwrap();
        assert_eq!(s.write_behavior, WriteBehavior::Insert);
    }
}
