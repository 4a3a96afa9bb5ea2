//! The Zoho accounts server: `/oauth/v2/auth`, `/oauth/v2/token` (grants
//! `authorization_code`, `refresh_token`, `client_credentials`),
//! `/oauth/v2/token/revoke`; and OAuth scopes.
//!
//! Errors are Zoho's: HTTP 200 with `{"error":"..."}`, except throttling (HTTP 400
//! `Access Denied`) and revoking an unknown token (HTTP 400).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::config::EmulatorConfig;

/// The operation an API call needs a scope for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    area: String,
    sub: Option<String>,
    op: String,
}

/// The scopes a token carries, e.g. `ZohoCRM.modules.ALL,ZohoCRM.users.READ`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    grants: Vec<Grant>,
    text: String,
}

impl Scopes {
    /// Parses comma- or space-separated scopes; scopes of other services are kept in
    /// the text but grant nothing here.
    pub(crate) fn parse(text: &str) -> Self {
        let mut grants = Vec::new();
        for scope in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let parts: Vec<String> = scope.split('.').map(str::to_ascii_lowercase).collect();
            if parts.len() < 3 || parts[0] != "zohocrm" {
                continue;
            }
            let op = parts[parts.len() - 1].clone();
            let area = parts[1].clone();
            let sub = if parts.len() > 3 {
                Some(parts[2..parts.len() - 1].join("."))
            } else {
                None
            };
            grants.push(Grant { area, sub, op });
        }
        Self {
            grants,
            text: text.to_owned(),
        }
    }

    /// Whether these scopes allow `op` on `area` (`modules`, `users`, `settings`,
    /// `coql`, `bulk`, `org`), optionally a sub-area (a module name, `fields`, ...).
    pub(crate) fn allows(&self, area: &str, sub: Option<&str>, op: Op) -> bool {
        let sub = sub.map(str::to_ascii_lowercase);
        self.grants.iter().any(|g| {
            g.area == area
                && match (&g.sub, &sub) {
                    (None, _) => true,
                    (Some(gs), Some(s)) => gs == s,
                    (Some(_), None) => false,
                }
                && op_covers(&g.op, op)
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }
}

fn op_covers(granted: &str, op: Op) -> bool {
    match granted {
        "all" => true,
        "read" => op == Op::Read,
        "create" => op == Op::Create,
        "update" => op == Op::Update,
        "delete" => op == Op::Delete,
        "write" => matches!(op, Op::Create | Op::Update),
        _ => false,
    }
}

#[derive(Debug)]
struct Code {
    client_id: String,
    redirect_uri: Option<String>,
    scopes: Arc<Scopes>,
    offline: bool,
    expires: Instant,
}

#[derive(Debug)]
struct RefreshToken {
    client_id: String,
    scopes: Arc<Scopes>,
    user_id: u64,
    requests: VecDeque<Instant>,
    active: VecDeque<String>,
}

#[derive(Debug)]
struct AccessToken {
    scopes: Arc<Scopes>,
    user_id: u64,
    expires: Instant,
    epoch: u64,
    refresh: Option<String>,
}

/// Who an access token belongs to and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) user_id: u64,
    pub(crate) scopes: Arc<Scopes>,
}

/// What the accounts server answers: status and JSON body, or a redirect.
#[derive(Debug)]
pub(crate) enum Reply {
    Json(u16, Value),
    Redirect(String),
}

/// Issued codes and tokens.
#[derive(Debug)]
pub(crate) struct OAuth {
    codes: HashMap<String, Code>,
    refresh_tokens: HashMap<String, RefreshToken>,
    access_tokens: HashMap<String, AccessToken>,
    admin_id: u64,
}

/// `1000.<32 hex>.<32 hex>`.
pub(crate) fn random_token() -> String {
    format!(
        "1000.{:016x}{:016x}.{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn error(code: &str) -> Reply {
    Reply::Json(200, json!({ "error": code }))
}

impl OAuth {
    pub(crate) fn new(config: &EmulatorConfig, admin_id: u64) -> Self {
        let mut oauth = Self {
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            admin_id,
        };
        oauth.refresh_tokens.insert(
            config.refresh_token.clone(),
            RefreshToken {
                client_id: config.client_id.clone(),
                scopes: Arc::new(Scopes::parse(&config.scopes)),
                user_id: admin_id,
                requests: VecDeque::new(),
                active: VecDeque::new(),
            },
        );
        oauth
    }

    /// Mints an access token directly (tests), valid for `ttl`.
    pub(crate) fn mint(&mut self, scopes: &str, ttl: Duration, epoch: u64) -> String {
        let token = random_token();
        self.access_tokens.insert(
            token.clone(),
            AccessToken {
                scopes: Arc::new(Scopes::parse(scopes)),
                user_id: self.admin_id,
                expires: Instant::now() + ttl,
                epoch,
                refresh: None,
            },
        );
        token
    }

    /// Issues an authorization code directly, as a Self Client's "Generate Code" does.
    pub(crate) fn issue_code(&mut self, config: &EmulatorConfig, scopes: &str) -> String {
        let code = random_token();
        self.codes.insert(
            code.clone(),
            Code {
                client_id: config.client_id.clone(),
                redirect_uri: None,
                scopes: Arc::new(Scopes::parse(scopes)),
                offline: true,
                expires: Instant::now() + config.code_ttl,
            },
        );
        code
    }

    /// The token's owner and scopes if it is valid now.
    pub(crate) fn validate(&self, token: &str, epoch: u64) -> Option<TokenInfo> {
        let t = self.access_tokens.get(token)?;
        if t.epoch != epoch || Instant::now() >= t.expires {
            return None;
        }
        Some(TokenInfo {
            user_id: t.user_id,
            scopes: Arc::clone(&t.scopes),
        })
    }

    /// Revokes a refresh token (and its access tokens) or an access token.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        if let Some(rt) = self.refresh_tokens.remove(token) {
            for at in rt.active {
                self.access_tokens.remove(&at);
            }
            self.access_tokens
                .retain(|_, t| t.refresh.as_deref() != Some(token));
            return true;
        }
        self.access_tokens.remove(token).is_some()
    }

    /// `GET /oauth/v2/auth`.
    pub(crate) fn authorize(
        &mut self,
        config: &EmulatorConfig,
        accounts_url: &str,
        pairs: &[(String, String)],
    ) -> Reply {
        match param(pairs, "client_id") {
            Some(id) if id == config.client_id => {}
            _ => return Reply::Json(400, json!({"error": "invalid_client"})),
        }
        if param(pairs, "response_type") != Some("code") {
            return Reply::Json(400, json!({"error": "unsupported_response_type"}));
        }
        let Some(redirect_uri) = param(pairs, "redirect_uri") else {
            return Reply::Json(400, json!({"error": "invalid_redirect_uri"}));
        };
        let Ok(mut url) = url::Url::parse(redirect_uri) else {
            return Reply::Json(400, json!({"error": "invalid_redirect_uri"}));
        };
        let Some(scope) = param(pairs, "scope") else {
            return Reply::Json(400, json!({"error": "invalid_scope"}));
        };
        let scopes = Scopes::parse(scope);
        if scopes.is_empty() {
            return Reply::Json(400, json!({"error": "invalid_scope"}));
        }
        let offline =
            param(pairs, "access_type").is_some_and(|a| a.eq_ignore_ascii_case("offline"));
        let code = random_token();
        self.codes.retain(|_, c| c.expires > Instant::now());
        self.codes.insert(
            code.clone(),
            Code {
                client_id: config.client_id.clone(),
                redirect_uri: Some(redirect_uri.to_owned()),
                scopes: Arc::new(scopes),
                offline,
                expires: Instant::now() + config.code_ttl,
            },
        );
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("code", &code);
            query.append_pair("location", &config.location);
            query.append_pair("accounts-server", accounts_url);
            if let Some(state) = param(pairs, "state") {
                query.append_pair("state", state);
            }
        }
        Reply::Redirect(url.to_string())
    }

    /// `POST /oauth/v2/token`.
    pub(crate) fn token(
        &mut self,
        config: &EmulatorConfig,
        api_domain: &str,
        pairs: &[(String, String)],
        epoch: u64,
    ) -> Reply {
        let grant = param(pairs, "grant_type").unwrap_or("");
        if !matches!(
            grant,
            "authorization_code" | "refresh_token" | "client_credentials"
        ) {
            return error("unsupported_grant_type");
        }
        match param(pairs, "client_id") {
            Some(id) if id == config.client_id => {}
            _ => return error("invalid_client"),
        }
        match param(pairs, "client_secret") {
            Some(secret) if secret == config.client_secret => {}
            _ => return error("invalid_client_secret"),
        }
        let ttl = config.token_ttl;
        match grant {
            "refresh_token" => {
                let Some(rt_value) = param(pairs, "refresh_token") else {
                    return error("invalid_code");
                };
                let now = Instant::now();
                let Some(rt) = self.refresh_tokens.get_mut(rt_value) else {
                    return error("invalid_code");
                };
                if rt.client_id != config.client_id {
                    return error("invalid_code");
                }
                while rt
                    .requests
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= config.token_window)
                {
                    rt.requests.pop_front();
                }
                if rt.requests.len() >= config.token_requests_per_window {
                    return Reply::Json(
                        400,
                        json!({
                            "error": "Access Denied",
                            "error_description": "You have made too many requests continuously. Please try again after some time.",
                        }),
                    );
                }
                rt.requests.push_back(now);
                let scopes = Arc::clone(&rt.scopes);
                let user_id = rt.user_id;
                let token = random_token();
                rt.active.push_back(token.clone());
                let mut evicted = Vec::new();
                while rt.active.len() > config.active_tokens_per_refresh_token {
                    if let Some(old) = rt.active.pop_front() {
                        evicted.push(old);
                    }
                }
                for old in evicted {
                    self.access_tokens.remove(&old);
                }
                self.access_tokens.insert(
                    token.clone(),
                    AccessToken {
                        scopes,
                        user_id,
                        expires: now + ttl,
                        epoch,
                        refresh: Some(rt_value.to_owned()),
                    },
                );
                Reply::Json(200, token_body(&token, None, api_domain, ttl))
            }
            "authorization_code" => {
                let Some(code_value) = param(pairs, "code") else {
                    return error("invalid_code");
                };
                // Single use: the code is gone whatever happens next.
                let Some(code) = self.codes.remove(code_value) else {
                    return error("invalid_code");
                };
                if code.expires <= Instant::now() || code.client_id != config.client_id {
                    return error("invalid_code");
                }
                if let (Some(expected), Some(given)) =
                    (&code.redirect_uri, param(pairs, "redirect_uri"))
                    && expected != given
                {
                    return error("invalid_redirect_uri");
                }
                let refresh = if code.offline {
                    let rt = random_token();
                    self.refresh_tokens.insert(
                        rt.clone(),
                        RefreshToken {
                            client_id: code.client_id.clone(),
                            scopes: Arc::clone(&code.scopes),
                            user_id: self.admin_id,
                            requests: VecDeque::new(),
                            active: VecDeque::new(),
                        },
                    );
                    Some(rt)
                } else {
                    None
                };
                let token = random_token();
                if let Some(rt) = refresh
                    .as_ref()
                    .and_then(|rt| self.refresh_tokens.get_mut(rt))
                {
                    rt.active.push_back(token.clone());
                }
                self.access_tokens.insert(
                    token.clone(),
                    AccessToken {
                        scopes: code.scopes,
                        user_id: self.admin_id,
                        expires: Instant::now() + ttl,
                        epoch,
                        refresh: refresh.clone(),
                    },
                );
                Reply::Json(200, token_body(&token, refresh.as_deref(), api_domain, ttl))
            }
            _ => {
                let Some(scope) = param(pairs, "scope") else {
                    return error("invalid_scope");
                };
                let Some(soid) = param(pairs, "soid") else {
                    return error("missing_org_info");
                };
                let org = soid.rsplit('.').next().unwrap_or(soid);
                let service_ok =
                    !soid.contains('.') || soid.to_ascii_lowercase().starts_with("zohocrm.");
                if org != config.org_id || !service_ok {
                    return error("missing_org_info");
                }
                let scopes = Scopes::parse(scope);
                if scopes.is_empty() {
                    return error("invalid_scope");
                }
                let token = random_token();
                self.access_tokens.insert(
                    token.clone(),
                    AccessToken {
                        scopes: Arc::new(scopes),
                        user_id: self.admin_id,
                        expires: Instant::now() + ttl,
                        epoch,
                        refresh: None,
                    },
                );
                Reply::Json(200, token_body(&token, None, api_domain, ttl))
            }
        }
    }
}

fn token_body(token: &str, refresh: Option<&str>, api_domain: &str, ttl: Duration) -> Value {
    let mut body = json!({ "access_token": token });
    if let (Some(rt), Some(map)) = (refresh, body.as_object_mut()) {
        map.insert("refresh_token".to_owned(), Value::String(rt.to_owned()));
    }
    if let Some(map) = body.as_object_mut() {
        map.insert(
            "api_domain".to_owned(),
            Value::String(api_domain.to_owned()),
        );
        map.insert("token_type".to_owned(), Value::String("Bearer".to_owned()));
        map.insert("expires_in".to_owned(), json!(ttl.as_secs()));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_semantics() {
        let s = Scopes::parse("ZohoCRM.modules.ALL,ZohoCRM.users.READ");
        assert!(s.allows("modules", Some("Leads"), Op::Read));
        assert!(s.allows("modules", Some("Deals"), Op::Delete));
        assert!(s.allows("users", None, Op::Read));
        assert!(!s.allows("users", None, Op::Create));
        assert!(!s.allows("coql", None, Op::Read));
        let s = Scopes::parse(
            "ZohoCRM.modules.leads.READ ZohoCRM.settings.fields.READ ZohoCRM.bulk.read",
        );
        assert!(s.allows("modules", Some("Leads"), Op::Read));
        assert!(!s.allows("modules", Some("Leads"), Op::Create));
        assert!(!s.allows("modules", Some("Contacts"), Op::Read));
        assert!(s.allows("settings", Some("fields"), Op::Read));
        assert!(!s.allows("settings", Some("modules"), Op::Read));
        assert!(s.allows("bulk", None, Op::Read));
        let s = Scopes::parse("ZohoCRM.settings.ALL,ZohoCRM.modules.WRITE");
        assert!(s.allows("settings", Some("modules"), Op::Read));
        assert!(s.allows("modules", Some("Leads"), Op::Create));
        assert!(!s.allows("modules", Some("Leads"), Op::Read));
        assert!(Scopes::parse("AaaServer.profile.READ").is_empty());
    }
}
