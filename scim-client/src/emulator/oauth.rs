//! The OAuth 2.0 endpoints (RFC 6749): `/oauth/authorize` (authorization code) and
//! `/oauth/token` (grants `client_credentials`, `authorization_code`, `refresh_token`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::config::OAuthClient;
use super::query::random_token;

/// How long an authorization code may be exchanged.
const CODE_TTL: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Code {
    redirect_uri: String,
    expires: Instant,
}

/// Issued codes and tokens.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    codes: HashMap<String, Code>,
    access_tokens: HashMap<String, Instant>,
    refresh_tokens: HashMap<String, ()>,
}

/// An OAuth response: status, JSON body and extra headers.
#[derive(Debug)]
pub(crate) struct OAuthResponse {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    pub(crate) location: Option<String>,
    pub(crate) www_authenticate: bool,
}

fn error(status: u16, code: &str, description: &str) -> OAuthResponse {
    OAuthResponse {
        status,
        body: Some(json!({"error": code, "error_description": description})),
        location: None,
        www_authenticate: status == 401,
    }
}

/// Decodes standard base64 (with or without padding); `None` if malformed.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0u32;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buf >> bits) & 0xFF).ok()?);
        }
    }
    Some(out)
}

/// Decodes `application/x-www-form-urlencoded` into pairs.
pub(crate) fn form_pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

impl OAuthState {
    /// Whether `token` is an unexpired access token issued here.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        self.access_tokens
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }

    /// Forgets every issued access token (refresh tokens stay valid).
    pub(crate) fn expire_access_tokens(&mut self) {
        self.access_tokens.clear();
    }

    fn issue(&mut self, ttl: Duration, with_refresh: Option<String>) -> Value {
        let now = Instant::now();
        self.access_tokens.retain(|_, exp| *exp > now);
        let token = format!("emu_at_{}", random_token(32));
        self.access_tokens.insert(token.clone(), now + ttl);
        let mut body = json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
        });
        if let (Some(refresh), Some(obj)) = (with_refresh, body.as_object_mut()) {
            obj.insert("refresh_token".into(), json!(refresh));
        }
        body
    }

    /// `GET /oauth/authorize?response_type=code&client_id=..&redirect_uri=..&state=..`.
    pub(crate) fn authorize(
        &mut self,
        client: &OAuthClient,
        query: &[(String, String)],
    ) -> OAuthResponse {
        if param(query, "client_id") != Some(client.client_id.as_str()) {
            return error(400, "invalid_client", "unknown client_id");
        }
        let Some(redirect_uri) = param(query, "redirect_uri") else {
            return error(400, "invalid_request", "redirect_uri is required");
        };
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        let mut location = String::from(redirect_uri);
        location.push(separator);
        let state = param(query, "state");
        if let Some(rt) = param(query, "response_type")
            && rt != "code"
        {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            ser.append_pair("error", "unsupported_response_type");
            if let Some(state) = state {
                ser.append_pair("state", state);
            }
            location.push_str(&ser.finish());
            return OAuthResponse {
                status: 302,
                body: None,
                location: Some(location),
                www_authenticate: false,
            };
        }
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        let code = random_token(32);
        self.codes.insert(
            code.clone(),
            Code {
                redirect_uri: redirect_uri.to_owned(),
                expires: now + CODE_TTL,
            },
        );
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.append_pair("code", &code);
        if let Some(state) = state {
            ser.append_pair("state", state);
        }
        location.push_str(&ser.finish());
        OAuthResponse {
            status: 302,
            body: None,
            location: Some(location),
            www_authenticate: false,
        }
    }

    /// `POST /oauth/token` with a form body; client authentication by HTTP Basic or
    /// `client_id`/`client_secret` in the body.
    pub(crate) fn token(
        &mut self,
        client: &OAuthClient,
        authorization: Option<&str>,
        form: &[(String, String)],
        ttl: Duration,
    ) -> OAuthResponse {
        let basic = authorization
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, b64)| base64_decode(b64.trim()))
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pair| {
                pair.split_once(':').map(|(id, secret)| {
                    let decode = |s: &str| {
                        url::form_urlencoded::parse(format!("x={s}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    };
                    (decode(id), decode(secret))
                })
            });
        let (id, secret) = match basic {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                param(form, "client_id").map(str::to_owned),
                param(form, "client_secret").map(str::to_owned),
            ),
        };
        let Some(grant_type) = param(form, "grant_type") else {
            return error(400, "invalid_request", "grant_type is required");
        };
        let client_ok = id.as_deref() == Some(client.client_id.as_str())
            && secret.as_deref() == Some(client.client_secret.expose_secret());
        if !matches!(
            grant_type,
            "client_credentials" | "authorization_code" | "refresh_token"
        ) {
            return error(
                400,
                "unsupported_grant_type",
                "supported: client_credentials, authorization_code, refresh_token",
            );
        }
        if !client_ok {
            return error(401, "invalid_client", "client authentication failed");
        }
        let body = match grant_type {
            "client_credentials" => self.issue(ttl, None),
            "authorization_code" => {
                let Some(code) = param(form, "code") else {
                    return error(400, "invalid_request", "code is required");
                };
                let Some(issued) = self.codes.remove(code) else {
                    return error(
                        400,
                        "invalid_grant",
                        "unknown, used or expired authorization code",
                    );
                };
                if issued.expires <= Instant::now() {
                    return error(400, "invalid_grant", "the authorization code has expired");
                }
                if let Some(uri) = param(form, "redirect_uri")
                    && uri != issued.redirect_uri
                {
                    return error(
                        400,
                        "invalid_grant",
                        "redirect_uri does not match the authorization request",
                    );
                }
                let refresh = format!("emu_rt_{}", random_token(32));
                self.refresh_tokens.insert(refresh.clone(), ());
                self.issue(ttl, Some(refresh))
            }
            _ => {
                let Some(refresh) = param(form, "refresh_token") else {
                    return error(400, "invalid_request", "refresh_token is required");
                };
                if !self.refresh_tokens.contains_key(refresh) {
                    return error(400, "invalid_grant", "unknown or revoked refresh token");
                }
                let refresh = refresh.to_owned();
                self.issue(ttl, Some(refresh))
            }
        };
        OAuthResponse {
            status: 200,
            body: Some(body),
            location: None,
            www_authenticate: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("aWQ6c2VjcmV0").as_deref(),
            Some(&b"id:secret"[..])
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("*"), None);
    }
}
