//! Configuration, including Azure Data Factory's JSON for its Zoho connector (linked
//! service, dataset, copy source), so an existing definition can be reused as is.
//!
//! ```
//! use zoho_crm::config::{ZohoCopySource, ZohoDataset, ZohoLinkedService};
//!
//! let linked = ZohoLinkedService::from_adf_json(&serde_json::json!({
//!     "name": "ZohoLinkedService",
//!     "properties": {
//!         "type": "Zoho",
//!         "typeProperties": {
//!             "connectionProperties": {
//!                 "endpoint": "crm.zoho.eu/crm/private",
//!                 "authenticationType": "OAuth_2.0",
//!                 "clientId": "1000.CLIENT",
//!                 "clientSecrect": { "type": "SecureString", "value": "secret" },
//!                 "refreshToken": { "type": "AzureKeyVaultSecret", "secretName": "zoho-refresh",
//!                                   "store": { "referenceName": "vault", "type": "LinkedServiceReference" } }
//!             }
//!         }
//!     }
//! }))?;
//! assert_eq!(linked.data_centre()?, zoho_crm::dc::DataCentre::Eu);
//! let dataset = ZohoDataset::from_adf_json(&serde_json::json!({"properties": {"type": "ZohoObject", "typeProperties": {"tableName": "Accounts"}}}))?;
//! assert_eq!(dataset.table_name, "Accounts");
//! let source = ZohoCopySource::from_adf_json(&serde_json::json!({"type": "ZohoSource", "query": "SELECT * FROM Accounts"}))?;
//! assert_eq!(source.query.as_deref(), Some("SELECT * FROM Accounts"));
//! # Ok::<(), zoho_crm::ZohoError>(())
//! ```

use connector_core::secret::{SecretRef, SecretResolver};
use connector_core::tls::TlsOptions;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Credentials;
use crate::client::ZohoClient;
use crate::dc::{DataCentre, Endpoints, Environment};
use crate::error::{Result, ZohoError};

/// Azure Data Factory's `authenticationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum AuthenticationType {
    /// OAuth 2.0 with a refresh token (or, with `soid`, Self Client credentials).
    #[serde(rename = "OAuth_2.0", alias = "OAuth2", alias = "oauth2")]
    OAuth2,
    /// A static access token.
    #[serde(rename = "Access Token", alias = "AccessToken")]
    AccessToken,
}

/// A Zoho linked service: ADF's `connectionProperties`, plus `soid` and `scope` for
/// Self Client credentials and `apiDomain`/`accountsUrl` to override the data centre's.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZohoLinkedService {
    /// The endpoint: ADF's legacy `crm.zoho.com/crm/private`, or any Zoho host naming
    /// the data centre (`crm.zoho.eu`, `www.zohoapis.com.au`).
    pub endpoint: String,
    /// How to authenticate.
    pub authentication_type: AuthenticationType,
    /// The client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret (ADF spells it `clientSecrect`).
    #[serde(default, alias = "clientSecrect")]
    pub client_secret: Option<SecretRef>,
    /// The refresh token.
    #[serde(default)]
    pub refresh_token: Option<SecretRef>,
    /// The access token, for `Access Token` authentication.
    #[serde(default)]
    pub access_token: Option<SecretRef>,
    /// The org id, for Self Client client credentials.
    #[serde(default)]
    pub soid: Option<String>,
    /// The scopes of client credentials (`ZohoCRM.users.ALL,ZohoCRM.modules.ALL`).
    #[serde(default)]
    pub scope: Option<String>,
    /// `sandbox` or `developer` instead of production.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// Overrides the accounts server (a proxy, the emulator).
    #[serde(default)]
    pub accounts_url: Option<String>,
    /// Overrides the API domain.
    #[serde(default)]
    pub api_domain: Option<String>,
    /// `useEncryptedEndpoints`, `useHostVerification`, `usePeerVerification`.
    #[serde(flatten)]
    pub tls: TlsOptions,
}

/// Finds the object holding `key` at the top level or under ADF's wrappers
/// (`properties`, `typeProperties`, `connectionProperties`).
fn unwrap_adf<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    if value.get(key).is_some() {
        return Some(value);
    }
    ["properties", "typeProperties", "connectionProperties"]
        .into_iter()
        .filter_map(|w| value.get(w))
        .find_map(|inner| unwrap_adf(inner, key))
}

impl ZohoLinkedService {
    /// Reads ADF's linked-service JSON (the whole definition or any level of it).
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "endpoint")
            .ok_or_else(|| ZohoError::Config("no `endpoint` in the linked service".into()))?;
        serde_json::from_value(inner.clone())
            .map_err(|e| ZohoError::Config(format!("linked service: {e}")))
    }

    /// The data centre the endpoint names.
    pub fn data_centre(&self) -> Result<DataCentre> {
        DataCentre::from_host(&self.endpoint).ok_or_else(|| {
            ZohoError::Config(format!(
                "endpoint {:?} does not name a Zoho data centre (expected a host such as crm.zoho.eu)",
                self.endpoint
            ))
        })
    }

    /// The endpoints to use.
    pub fn endpoints(&self) -> Result<Endpoints> {
        let mut endpoints = match (&self.accounts_url, &self.api_domain) {
            (Some(a), Some(d)) => Endpoints::custom(a, d),
            _ => Endpoints::of(self.data_centre()?, self.environment.unwrap_or_default()),
        };
        if let Some(a) = &self.accounts_url {
            endpoints.accounts_url = a.trim_end_matches('/').to_owned();
        }
        if let Some(d) = &self.api_domain {
            endpoints.api_domain = d.trim_end_matches('/').to_owned();
        }
        Ok(endpoints)
    }

    /// Resolves the secrets and builds a client. A missing secret or an invalid
    /// combination is an error naming it, before any request.
    pub async fn client(&self, secrets: &SecretResolver) -> Result<ZohoClient> {
        let need = |r: &Option<SecretRef>, name: &str| {
            r.clone().ok_or_else(|| {
                ZohoError::Config(format!(
                    "{name} is required for {:?} authentication",
                    self.authentication_type
                ))
            })
        };
        let credentials = match self.authentication_type {
            AuthenticationType::AccessToken => Credentials::AccessToken(
                secrets
                    .resolve(&need(&self.access_token, "accessToken")?)
                    .await?,
            ),
            AuthenticationType::OAuth2 => {
                let client_id = self.client_id.clone().ok_or_else(|| {
                    ZohoError::Config("clientId is required for OAuth_2.0".into())
                })?;
                let client_secret = secrets
                    .resolve(&need(&self.client_secret, "clientSecret")?)
                    .await?;
                match (&self.soid, &self.refresh_token) {
                    (Some(soid), _) => Credentials::ClientCredentials {
                        client_id,
                        client_secret,
                        scope: self.scope.clone().ok_or_else(|| {
                            ZohoError::Config(
                                "scope is required with soid (client credentials)".into(),
                            )
                        })?,
                        soid: soid.clone(),
                    },
                    (None, Some(refresh)) => Credentials::RefreshToken {
                        client_id,
                        client_secret,
                        refresh_token: secrets.resolve(refresh).await?,
                    },
                    (None, None) => {
                        return Err(ZohoError::Config("OAuth_2.0 needs a refreshToken, or soid and scope for client credentials".into()));
                    }
                }
            }
        };
        ZohoClient::builder()
            .endpoints(self.endpoints()?)
            .credentials(credentials)
            .tls(self.tls.clone())
            .build()
    }
}

/// ADF's Zoho dataset.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZohoDataset {
    /// The module (`Accounts`).
    pub table_name: String,
}

impl ZohoDataset {
    /// Reads ADF's dataset JSON.
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "tableName")
            .ok_or_else(|| ZohoError::Config("no `tableName` in the dataset".into()))?;
        serde_json::from_value(inner.clone())
            .map_err(|e| ZohoError::Config(format!("dataset: {e}")))
    }
}

/// ADF's Zoho copy source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ZohoCopySource {
    /// A query (`SELECT * FROM Accounts`), run as COQL.
    #[serde(default)]
    pub query: Option<String>,
}

impl ZohoCopySource {
    /// Reads ADF's copy-source JSON.
    pub fn from_adf_json(value: &Value) -> Result<Self> {
        let inner = unwrap_adf(value, "query").unwrap_or(value);
        serde_json::from_value(inner.clone())
            .map_err(|e| ZohoError::Config(format!("copy source: {e}")))
    }
}
