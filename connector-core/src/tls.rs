//! TLS options every connector accepts: [`TlsOptions`].
//!
//! The field names are Azure Data Factory's (`useEncryptedEndpoints`,
//! `useHostVerification`, `usePeerVerification`), so a linked service's JSON deserializes
//! directly. Everything defaults to the safe setting. [`TlsOptions::check_endpoint`]
//! rejects a plain `http://` URL before any request is sent unless the configuration
//! turned encryption off explicitly (as emulator and test configurations do).
//!
//! ```
//! use connector_core::tls::TlsOptions;
//! use connector_core::ErrorKind;
//!
//! let options: TlsOptions = serde_json::from_str(
//!     r#"{"useEncryptedEndpoints": true, "useHostVerification": true, "usePeerVerification": true}"#,
//! )?;
//! assert!(options.check_endpoint("https://www.zohoapis.com/crm/v8").is_ok());
//! let err = options.check_endpoint("http://www.zohoapis.com/crm/v8").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidConfig);
//!
//! let emulator = TlsOptions::default().with_encrypted_endpoints(false);
//! assert!(emulator.check_endpoint("http://127.0.0.1:8080").is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// `ConnectorError` is the crate's fixed, rich error type; boxing it per call would not help.
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ConnectorError, Result};

/// TLS settings: require `https`, verify the server's certificate and host name, and
/// trust extra root certificates.
///
/// Deserializes from camelCase JSON; every field is optional and defaults to the safe
/// setting (`true`, no extra roots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Require `https://` endpoints (ADF `useEncryptedEndpoints`). Default `true`.
    pub use_encrypted_endpoints: bool,
    /// Check that the server certificate's name matches the host (ADF
    /// `useHostVerification`). Default `true`.
    ///
    /// With rustls, turning this off while peer verification stays on is possible only
    /// against [`extra_root_certificates`](Self::extra_root_certificates), which then
    /// become the only trusted roots.
    pub use_host_verification: bool,
    /// Check that the server certificate chains to a trusted root (ADF
    /// `usePeerVerification`). Default `true`. Turning it off also skips the host check.
    pub use_peer_verification: bool,
    /// Root certificates to trust besides the system's (a private CA, a self-signed
    /// server).
    pub extra_root_certificates: Vec<CertificateSource>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            use_encrypted_endpoints: true,
            use_host_verification: true,
            use_peer_verification: true,
            extra_root_certificates: Vec::new(),
        }
    }
}

impl TlsOptions {
    /// Sets [`use_encrypted_endpoints`](Self::use_encrypted_endpoints).
    #[must_use]
    pub fn with_encrypted_endpoints(mut self, on: bool) -> Self {
        self.use_encrypted_endpoints = on;
        self
    }

    /// Sets [`use_host_verification`](Self::use_host_verification).
    #[must_use]
    pub fn with_host_verification(mut self, on: bool) -> Self {
        self.use_host_verification = on;
        self
    }

    /// Sets [`use_peer_verification`](Self::use_peer_verification).
    #[must_use]
    pub fn with_peer_verification(mut self, on: bool) -> Self {
        self.use_peer_verification = on;
        self
    }

    /// Adds a root certificate to trust.
    #[must_use]
    pub fn with_root_certificate(mut self, source: CertificateSource) -> Self {
        self.extra_root_certificates.push(source);
        self
    }

    /// Checks that `url` is an absolute `http(s)` URL allowed by these options: an
    /// `http://` URL while [`use_encrypted_endpoints`](Self::use_encrypted_endpoints) is
    /// on, an unparseable URL, or another scheme is an
    /// [`InvalidConfig`](crate::ErrorKind::InvalidConfig) error.
    ///
    /// Messages show the URL without its query string or user info, which may hold
    /// secrets.
    pub fn check_endpoint(&self, url: &str) -> Result<()> {
        const OP: &str = "tls.check_endpoint";
        let uri: http::Uri = url.trim().parse().map_err(|e: http::uri::InvalidUri| {
            ConnectorError::config(OP, format!("`{}` is not a valid URL: {e}", redact_url(url)))
        })?;
        let shown = redact_url(url);
        let Some(scheme) = uri.scheme_str() else {
            return Err(ConnectorError::config(
                OP,
                format!("`{shown}` is not an absolute URL (expected https://host/...)"),
            ));
        };
        if uri.host().is_none_or(str::is_empty) {
            return Err(ConnectorError::config(OP, format!("`{shown}` has no host")));
        }
        if scheme.eq_ignore_ascii_case("https") {
            Ok(())
        } else if scheme.eq_ignore_ascii_case("http") {
            if self.use_encrypted_endpoints {
                Err(ConnectorError::config(
                    OP,
                    format!(
                        "`{shown}` is not encrypted (http://) but useEncryptedEndpoints is true; \
                         use an https:// URL, or set useEncryptedEndpoints to false for a local \
                         emulator"
                    ),
                ))
            } else {
                Ok(())
            }
        } else {
            Err(ConnectorError::config(
                OP,
                format!("`{shown}` has scheme `{scheme}`; expected https (or http)"),
            ))
        }
    }
}

/// `url` without user info, query string or fragment, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.trim();
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    // Drop "user:password@" from the authority.
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}://{}", &url[..scheme_end], &rest[at + 1..]);
        }
    }
    url.to_owned()
}

/// Where a root certificate comes from: PEM text, or a PEM file.
///
/// Deserializes from `{"pem": "-----BEGIN CERTIFICATE-----..."}`, `{"file": "/path"}`, or
/// a plain string: PEM text if it contains `-----BEGIN`, a file path otherwise.
/// Certificates are public, so nothing here is secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateSource {
    /// One or more PEM-encoded certificates.
    Pem(String),
    /// A file holding one or more PEM-encoded certificates.
    File(PathBuf),
}

impl CertificateSource {
    /// PEM text.
    pub fn pem(pem: impl Into<String>) -> Self {
        Self::Pem(pem.into())
    }

    /// A PEM file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }
}

impl fmt::Display for CertificateSource {
    /// Names the source for messages: `file /path` or `inline PEM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(_) => f.write_str("inline PEM"),
            Self::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

impl Serialize for CertificateSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Self::Pem(pem) => map.serialize_entry("pem", pem)?,
            Self::File(path) => map.serialize_entry("file", path)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for CertificateSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CertificateSource;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"PEM text, a file path, {"pem": "..."} or {"file": "..."}"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(if v.contains("-----BEGIN") {
                    CertificateSource::Pem(v.to_owned())
                } else {
                    CertificateSource::File(PathBuf::from(v))
                })
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "pem" => CertificateSource::Pem(map.next_value()?),
                        "file" | "path" => CertificateSource::File(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["pem", "file"])),
                    };
                    if found.replace(value).is_some() {
                        return Err(de::Error::custom(
                            "a certificate source has exactly one of `pem` or `file`",
                        ));
                    }
                }
                found.ok_or_else(|| de::Error::custom("expected `pem` or `file`"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn adf_names_deserialize_and_default_true() {
        let o: TlsOptions = serde_json::from_str(
            r#"{"useEncryptedEndpoints": false, "useHostVerification": false, "usePeerVerification": false}"#,
        )
        .unwrap();
        assert!(!o.use_encrypted_endpoints && !o.use_host_verification && !o.use_peer_verification);
        let d: TlsOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(d, TlsOptions::default());
        assert!(d.use_encrypted_endpoints && d.use_host_verification && d.use_peer_verification);
    }

    #[test]
    fn certificate_sources_deserialize() {
        let o: TlsOptions = serde_json::from_str(
            r#"{"extraRootCertificates": [
                "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----",
                "/etc/ssl/private-ca.pem",
                {"pem": "-----BEGIN CERTIFICATE-----"},
                {"file": "/tmp/ca.pem"}
            ]}"#,
        )
        .unwrap();
        assert!(matches!(
            o.extra_root_certificates[0],
            CertificateSource::Pem(_)
        ));
        assert_eq!(
            o.extra_root_certificates[1],
            CertificateSource::file("/etc/ssl/private-ca.pem")
        );
        assert!(matches!(
            o.extra_root_certificates[2],
            CertificateSource::Pem(_)
        ));
        assert_eq!(
            o.extra_root_certificates[3],
            CertificateSource::file("/tmp/ca.pem")
        );
        let json = serde_json::to_string(&o).unwrap();
        let back: TlsOptions = serde_json::from_str(&json).unwrap();
        assert_eq!(back, o);
        assert!(serde_json::from_str::<CertificateSource>(r#"{"url": "x"}"#).is_err());
    }

    #[test]
    fn http_rejected_when_encryption_required() {
        let err = TlsOptions::default()
            .check_endpoint("http://user:pw@example.com/api?access_token=SECRET")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        let msg = err.to_string();
        assert!(msg.contains("http://example.com/api"), "{msg}");
        assert!(msg.contains("useEncryptedEndpoints"), "{msg}");
        assert!(!msg.contains("SECRET") && !msg.contains("pw"), "{msg}");
    }

    #[test]
    fn endpoint_checks() {
        let on = TlsOptions::default();
        let off = TlsOptions::default().with_encrypted_endpoints(false);
        assert!(on.check_endpoint("https://login.salesforce.com").is_ok());
        assert!(
            on.check_endpoint("HTTPS://login.salesforce.com/services")
                .is_ok()
        );
        assert!(off.check_endpoint("http://127.0.0.1:1234/x").is_ok());
        assert!(off.check_endpoint("https://example.com").is_ok());
        // No loopback special case.
        assert!(on.check_endpoint("http://localhost:8080").is_err());
        for bad in [
            "not a url",
            "/relative/path",
            "ftp://example.com/x",
            "https://",
            "",
        ] {
            let err = off.check_endpoint(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{bad}");
        }
    }

    #[test]
    fn redacts_urls() {
        assert_eq!(redact_url("https://a.b/c?d=e#f"), "https://a.b/c");
        assert_eq!(redact_url("https://u:p@a.b/c"), "https://a.b/c");
        assert_eq!(redact_url("https://a.b/x@y"), "https://a.b/x@y");
    }
}
