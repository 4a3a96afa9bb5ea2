//! Data centres: each has its own accounts server and API domain. The `api_domain`
//! a token response names always wins over the table.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Zoho data centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DataCentre {
    /// United States (`zoho.com`).
    Us,
    /// Europe (`zoho.eu`).
    Eu,
    /// India (`zoho.in`).
    In,
    /// Australia (`zoho.com.au`).
    Au,
    /// China (`zoho.com.cn`).
    Cn,
    /// Japan (`zoho.jp`).
    Jp,
    /// Canada (`zohocloud.ca`).
    Ca,
    /// Saudi Arabia (`zoho.sa`).
    Sa,
    /// United Kingdom (`zoho.uk`).
    Uk,
}

/// Production, or one of the test environments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// The live org.
    #[default]
    Production,
    /// A sandbox copy of the org.
    Sandbox,
    /// A developer edition org.
    Developer,
}

impl DataCentre {
    /// Every data centre.
    pub const ALL: [DataCentre; 9] = [
        Self::Us,
        Self::Eu,
        Self::In,
        Self::Au,
        Self::Cn,
        Self::Jp,
        Self::Ca,
        Self::Sa,
        Self::Uk,
    ];

    /// The domain suffix of the API (`com`, `eu`, `com.au`).
    fn api_suffix(self) -> &'static str {
        match self {
            Self::Us => "com",
            Self::Eu => "eu",
            Self::In => "in",
            Self::Au => "com.au",
            Self::Cn => "com.cn",
            Self::Jp => "jp",
            Self::Ca => "ca",
            Self::Sa => "sa",
            Self::Uk => "uk",
        }
    }

    /// The accounts server (OAuth).
    pub fn accounts_url(self) -> &'static str {
        match self {
            Self::Us => "https://accounts.zoho.com",
            Self::Eu => "https://accounts.zoho.eu",
            Self::In => "https://accounts.zoho.in",
            Self::Au => "https://accounts.zoho.com.au",
            Self::Cn => "https://accounts.zoho.com.cn",
            Self::Jp => "https://accounts.zoho.jp",
            Self::Ca => "https://accounts.zohocloud.ca",
            Self::Sa => "https://accounts.zoho.sa",
            Self::Uk => "https://accounts.zoho.uk",
        }
    }

    /// The CRM API domain of an environment.
    pub fn api_domain(self, environment: Environment) -> String {
        let host = match environment {
            Environment::Production => "www",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        };
        format!("https://{host}.zohoapis.{}", self.api_suffix())
    }

    /// The data centre of an authorization redirect's `location` parameter (`us`, `eu`).
    pub fn from_location(location: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|dc| dc.code().eq_ignore_ascii_case(location))
    }

    /// The short code (`us`, `eu`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::In => "in",
            Self::Au => "au",
            Self::Cn => "cn",
            Self::Jp => "jp",
            Self::Ca => "ca",
            Self::Sa => "sa",
            Self::Uk => "uk",
        }
    }

    /// The data centre of a host name of any Zoho service (`crm.zoho.eu`,
    /// `www.zohoapis.com.au`, `accounts.zohocloud.ca`), including Azure Data Factory's
    /// legacy endpoint `crm.zoho.com/crm/private`.
    pub fn from_host(endpoint: &str) -> Option<Self> {
        let host = endpoint
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()?
            .to_ascii_lowercase();
        if host.ends_with("zohocloud.ca") || host.ends_with("zohoapis.ca") {
            return Some(Self::Ca);
        }
        let suffix = host
            .strip_suffix(".")
            .unwrap_or(&host)
            .split_once("zoho.")
            .or_else(|| host.split_once("zohoapis."))
            .map(|(_, s)| s.to_owned())?;
        Self::ALL.into_iter().find(|dc| dc.api_suffix() == suffix)
    }
}

impl fmt::Display for DataCentre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code().to_ascii_uppercase())
    }
}

/// Where the client sends requests: an accounts server and an API domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// The accounts server (`https://accounts.zoho.eu`).
    pub accounts_url: String,
    /// The CRM API domain (`https://www.zohoapis.eu`), until a token response names
    /// another.
    pub api_domain: String,
    /// The data centre, when known (for messages).
    pub data_centre: Option<DataCentre>,
}

impl Endpoints {
    /// The endpoints of a data centre and environment.
    pub fn of(data_centre: DataCentre, environment: Environment) -> Self {
        Self {
            accounts_url: data_centre.accounts_url().to_owned(),
            api_domain: data_centre.api_domain(environment),
            data_centre: Some(data_centre),
        }
    }

    /// Custom endpoints (a proxy, the emulator).
    pub fn custom(accounts_url: impl Into<String>, api_domain: impl Into<String>) -> Self {
        Self {
            accounts_url: accounts_url.into().trim_end_matches('/').to_owned(),
            api_domain: api_domain.into().trim_end_matches('/').to_owned(),
            data_centre: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_centre_has_its_servers() {
        let table = [
            (
                DataCentre::Us,
                "https://accounts.zoho.com",
                "https://www.zohoapis.com",
            ),
            (
                DataCentre::Eu,
                "https://accounts.zoho.eu",
                "https://www.zohoapis.eu",
            ),
            (
                DataCentre::In,
                "https://accounts.zoho.in",
                "https://www.zohoapis.in",
            ),
            (
                DataCentre::Au,
                "https://accounts.zoho.com.au",
                "https://www.zohoapis.com.au",
            ),
            (
                DataCentre::Cn,
                "https://accounts.zoho.com.cn",
                "https://www.zohoapis.com.cn",
            ),
            (
                DataCentre::Jp,
                "https://accounts.zoho.jp",
                "https://www.zohoapis.jp",
            ),
            (
                DataCentre::Ca,
                "https://accounts.zohocloud.ca",
                "https://www.zohoapis.ca",
            ),
            (
                DataCentre::Sa,
                "https://accounts.zoho.sa",
                "https://www.zohoapis.sa",
            ),
            (
                DataCentre::Uk,
                "https://accounts.zoho.uk",
                "https://www.zohoapis.uk",
            ),
        ];
        for (dc, accounts, api) in table {
            assert_eq!(dc.accounts_url(), accounts);
            assert_eq!(dc.api_domain(Environment::Production), api);
            assert_eq!(DataCentre::from_host(accounts), Some(dc), "{accounts}");
            assert_eq!(DataCentre::from_host(api), Some(dc), "{api}");
            assert_eq!(DataCentre::from_location(dc.code()), Some(dc));
        }
        assert_eq!(
            DataCentre::Eu.api_domain(Environment::Sandbox),
            "https://sandbox.zohoapis.eu"
        );
        assert_eq!(
            DataCentre::Au.api_domain(Environment::Developer),
            "https://developer.zohoapis.com.au"
        );
    }

    #[test]
    fn the_legacy_adf_endpoint_maps_to_its_data_centre() {
        assert_eq!(
            DataCentre::from_host("crm.zoho.com/crm/private"),
            Some(DataCentre::Us)
        );
        assert_eq!(
            DataCentre::from_host("https://crm.zoho.eu/crm/private"),
            Some(DataCentre::Eu)
        );
        assert_eq!(
            DataCentre::from_host("crm.zoho.in/crm/private"),
            Some(DataCentre::In)
        );
        assert_eq!(DataCentre::from_host("example.com"), None);
    }
}
