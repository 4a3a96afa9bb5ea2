//! The OAuth 2.0 token endpoint (`/services/oauth2/token`): client credentials,
//! refresh token (optionally rotating) and JWT bearer grants, and access-token
//! validation.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::config::EmulatorConfig;

/// The audiences a JWT bearer assertion may name (besides the emulator's origin).
const AUDIENCES: [&str; 2] = [
    "https://login.salesforce.com",
    "https://test.salesforce.com",
];

#[derive(Debug, Clone, Copy)]
struct Issued {
    at: Instant,
    epoch: u64,
}

/// Issued tokens.
#[derive(Debug, Default)]
pub(crate) struct OAuth {
    access: HashMap<String, Issued>,
    refresh: HashSet<String>,
    revoked_refresh: HashSet<String>,
    counter: u64,
    rsa_public_key: Option<Vec<u8>>,
}

/// A token-endpoint answer: status and JSON body.
pub(crate) type Reply = (u16, Value);

fn error(error: &str, description: &str) -> Reply {
    (
        400,
        json!({"error": error, "error_description": description}),
    )
}

fn random_token(len: usize) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The body of a PEM block of one of these labels.
fn pem_body(pem: &str, labels: &[&str]) -> Option<(String, Vec<u8>)> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = pem.find(&begin) {
            let rest = &pem[start + begin.len()..];
            let stop = rest.find(&end)?;
            let b64: String = rest[..stop]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            return STANDARD.decode(b64).ok().map(|d| ((*label).to_owned(), d));
        }
    }
    None
}

/// One DER element: (tag, content, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for b in &rest[..n] {
            len = (len << 8) | usize::from(*b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 RSAPublicKey inside a SubjectPublicKeyInfo.
fn spki_to_pkcs1(spki: &[u8]) -> Option<Vec<u8>> {
    let (0x30, seq, _) = der(spki)? else {
        return None;
    };
    let (0x30, _alg, rest) = der(seq)? else {
        return None;
    };
    let (0x03, bits, _) = der(rest)? else {
        return None;
    };
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then(|| key.to_vec())
}

/// The SubjectPublicKeyInfo of an X.509 certificate.
fn certificate_spki(cert: &[u8]) -> Option<Vec<u8>> {
    let (0x30, cert, _) = der(cert)? else {
        return None;
    };
    let (0x30, tbs, _) = der(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // [0] version (optional), serial, signature, issuer, validity, subject, spki
    if rest.first() == Some(&0xa0) {
        rest = der(rest)?.2;
    }
    for _ in 0..5 {
        rest = der(rest)?.2;
    }
    let (tag, _, after) = der(rest)?;
    if tag != 0x30 {
        return None;
    }
    Some(rest[..rest.len() - after.len()].to_vec())
}

/// The RSA public key (PKCS#1 DER) of a PEM certificate or public key.
pub(crate) fn rsa_public_key(pem: &str) -> Option<Vec<u8>> {
    let (label, body) = pem_body(pem, &["CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY"])?;
    match label.as_str() {
        "CERTIFICATE" => spki_to_pkcs1(&certificate_spki(&body)?),
        "PUBLIC KEY" => spki_to_pkcs1(&body),
        _ => Some(body),
    }
}

impl OAuth {
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        let mut oauth = Self::default();
        oauth.refresh.insert(config.refresh_token.clone());
        oauth.rsa_public_key = config
            .jwt_public_key_pem
            .as_deref()
            .and_then(rsa_public_key);
        oauth
    }

    /// A new access token, `00D…!` + random, as Salesforce session ids look.
    pub(crate) fn mint(&mut self, org_id: &str, epoch: u64) -> String {
        self.counter += 1;
        let token = format!(
            "{}!AQ{}{}",
            &org_id[..org_id.len().min(15)],
            self.counter,
            random_token(90)
        );
        self.access.insert(
            token.clone(),
            Issued {
                at: Instant::now(),
                epoch,
            },
        );
        token
    }

    pub(crate) fn validate(&self, token: &str, ttl: Duration, epoch: u64) -> bool {
        self.access
            .get(token)
            .is_some_and(|i| i.epoch == epoch && i.at.elapsed() < ttl)
    }

    /// Answers a token request.
    pub(crate) fn token(
        &mut self,
        config: &EmulatorConfig,
        origin: &str,
        user_id: &str,
        pairs: &[(String, String)],
        basic: Option<(String, String)>,
        epoch: u64,
    ) -> Reply {
        let param = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let (client_id, client_secret) = match &basic {
            Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
            None => (param("client_id"), param("client_secret")),
        };
        let grant = param("grant_type").unwrap_or("");
        let mut refresh_out = None;
        match grant {
            "client_credentials" => {
                if client_id != Some(config.client_id.as_str()) {
                    return error("invalid_client_id", "client identifier invalid");
                }
                if client_secret != Some(config.client_secret.as_str()) {
                    return error("invalid_client", "invalid client credentials");
                }
            }
            "refresh_token" => {
                if client_id != Some(config.client_id.as_str()) {
                    return error("invalid_client_id", "client identifier invalid");
                }
                if client_secret.is_some_and(|s| s != config.client_secret) {
                    return error("invalid_client", "invalid client credentials");
                }
                let Some(token) = param("refresh_token") else {
                    return error("invalid_request", "refresh token missing");
                };
                if self.revoked_refresh.contains(token) {
                    // Redeeming a rotated-out token revokes the whole grant.
                    let live: Vec<String> = self.refresh.drain().collect();
                    self.revoked_refresh.extend(live);
                    return error("invalid_grant", "expired access/refresh token");
                }
                if !self.refresh.contains(token) {
                    return error("invalid_grant", "expired access/refresh token");
                }
                if config.rotate_refresh_tokens {
                    self.refresh.remove(token);
                    self.revoked_refresh.insert(token.to_owned());
                    let next = format!("5Aep861{}", random_token(80));
                    self.refresh.insert(next.clone());
                    refresh_out = Some(next);
                }
            }
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                let Some(assertion) = param("assertion") else {
                    return error("invalid_request", "assertion missing");
                };
                if let Err(reply) = self.check_jwt(config, origin, assertion) {
                    return reply;
                }
            }
            "password" | "authorization_code" => {
                return error("unsupported_grant_type", "grant type not supported");
            }
            _ => return error("unsupported_grant_type", "grant type not supported"),
        }
        let access = self.mint(&config.org_id, epoch);
        let issued_at = super::store::now().timestamp_millis().to_string();
        let signature = STANDARD.encode(format!("{access}{issued_at}").as_bytes());
        let mut body = json!({
            "access_token": access,
            "signature": signature,
            "scope": "api",
            "instance_url": origin,
            "id": format!("{origin}/id/{}/{user_id}", config.org_id),
            "token_type": "Bearer",
            "issued_at": issued_at,
        });
        if let (Some(r), Value::Object(map)) = (refresh_out, &mut body) {
            map.insert("refresh_token".to_owned(), Value::String(r));
        }
        (200, body)
    }

    fn check_jwt(
        &self,
        config: &EmulatorConfig,
        origin: &str,
        assertion: &str,
    ) -> Result<(), Reply> {
        let invalid = || error("invalid_grant", "invalid assertion");
        let mut parts = assertion.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let decode = |part: &str| -> Option<Value> {
            let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        let (Some(header), Some(claims)) = (decode(h), decode(p)) else {
            return Err(invalid());
        };
        if header["alg"] != "RS256" {
            return Err(error(
                "invalid_grant",
                "invalid assertion: the algorithm must be RS256",
            ));
        }
        if claims["iss"].as_str() != Some(config.client_id.as_str()) {
            return Err(error("invalid_client_id", "client identifier invalid"));
        }
        if claims["sub"].as_str() != Some(config.username.as_str()) {
            return Err(error("invalid_grant", "user hasn't approved this consumer"));
        }
        let aud_ok = |a: &str| {
            let a = a.trim_end_matches('/');
            AUDIENCES.contains(&a) || a == origin.trim_end_matches('/')
        };
        let aud = match &claims["aud"] {
            Value::String(a) => aud_ok(a),
            Value::Array(list) => list.iter().filter_map(Value::as_str).any(aud_ok),
            _ => false,
        };
        if !aud {
            return Err(error("invalid_grant", "audience is invalid"));
        }
        let now = super::store::now().timestamp();
        match claims["exp"].as_i64() {
            Some(exp) if exp > now => {}
            Some(_) => return Err(error("invalid_grant", "expired authorization code")),
            None => return Err(invalid()),
        }
        if let Some(key) = &self.rsa_public_key {
            let Ok(sig) = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')) else {
                return Err(invalid());
            };
            let message = format!("{h}.{p}");
            let verifier = ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                key,
            );
            if verifier.verify(message.as_bytes(), &sig).is_err() {
                return Err(error(
                    "invalid_grant",
                    "invalid assertion: signature verification failed",
                ));
            }
        }
        Ok(())
    }
}
