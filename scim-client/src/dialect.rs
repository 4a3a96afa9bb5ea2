//! Dialects: how requests are written for servers built around a particular client.
//!
//! Requests are strict RFC 7644 by default. Many SCIM servers were built and tested
//! only against Microsoft Entra's provisioning service or Okta, and expect exactly what
//! those send; a dialect makes the client send that. Responses are read leniently
//! whatever the dialect.

use serde_json::{Value, json};

/// The request dialect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// RFC 7644 as written: lowercase PATCH ops, JSON booleans, member removal by a
    /// value-path filter (`members[value eq "…"]`), disable by
    /// `{"op":"replace","path":"active","value":false}`.
    #[default]
    Rfc,
    /// What Microsoft Entra's provisioning service sends by default (its "legacy"
    /// PATCH): capitalised ops (`Add`, `Replace`, `Remove`), `active` as the strings
    /// `"True"`/`"False"`, and member removal as
    /// `{"op":"Remove","path":"members","value":[{"value":"…"}]}`.
    Entra,
    /// What Okta sends: disable and enable by a path-less replace
    /// (`{"op":"replace","value":{"active":false}}`); everything else as RFC.
    Okta,
}

impl Dialect {
    /// Rewrites a PATCH request body (RFC form) into this dialect.
    pub fn render_patch(self, mut body: Value) -> Value {
        if self != Self::Entra {
            return body;
        }
        let Some(ops) = body.get_mut("Operations").and_then(Value::as_array_mut) else {
            return body;
        };
        for op in ops.iter_mut() {
            let Some(obj) = op.as_object_mut() else {
                continue;
            };
            let name = obj
                .get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let path = obj.get("path").and_then(Value::as_str).map(str::to_owned);
            // Member removal by filter becomes Entra's value-list form.
            if name.as_deref() == Some("remove")
                && let Some(id) = path.as_deref().and_then(member_filter_value)
            {
                obj.insert("path".to_owned(), json!("members"));
                obj.insert("value".to_owned(), json!([{ "value": id }]));
            }
            if path
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("active"))
                && let Some(Value::Bool(b)) = obj.get("value")
            {
                let text = if *b { "True" } else { "False" };
                obj.insert("value".to_owned(), json!(text));
            }
            if let Some(name) = name {
                let mut chars = name.chars();
                let capitalised: String = chars
                    .next()
                    .map(|c| c.to_ascii_uppercase())
                    .into_iter()
                    .chain(chars)
                    .collect();
                obj.insert("op".to_owned(), Value::String(capitalised));
            }
        }
        body
    }

    /// The PATCH body that sets a user's `active` flag.
    pub fn set_active_patch(self, active: bool) -> Value {
        let op = match self {
            Self::Okta => json!({ "op": "replace", "value": { "active": active } }),
            _ => json!({ "op": "replace", "path": "active", "value": active }),
        };
        self.render_patch(patch_body(vec![op]))
    }

    /// The PATCH body that adds members to a group.
    pub fn add_members_patch(self, ids: &[&str]) -> Value {
        let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
        self.render_patch(patch_body(vec![
            json!({ "op": "add", "path": "members", "value": members }),
        ]))
    }

    /// The PATCH body that removes members from a group.
    pub fn remove_members_patch(self, ids: &[&str]) -> Value {
        let ops = ids
            .iter()
            .map(|id| json!({ "op": "remove", "path": format!("members[value eq {}]", json!(id)) }))
            .collect();
        self.render_patch(patch_body(ops))
    }
}

/// A PATCH request body around `ops`.
pub(crate) fn patch_body(ops: Vec<Value>) -> Value {
    json!({ "schemas": [crate::model::PATCH_OP_SCHEMA], "Operations": ops })
}

/// The id in `members[value eq "<id>"]`, if the path is exactly that.
fn member_filter_value(path: &str) -> Option<String> {
    let inner = path
        .trim()
        .strip_prefix("members[")?
        .strip_suffix(']')?
        .trim();
    let (attr, rest) = inner.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !attr.eq_ignore_ascii_case("value") || !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    serde_json::from_str::<String>(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_is_left_alone() {
        let body = Dialect::Rfc.remove_members_patch(&["a\"b"]);
        assert_eq!(
            body["Operations"][0],
            json!({"op": "remove", "path": "members[value eq \"a\\\"b\"]"})
        );
        assert_eq!(
            Dialect::Rfc.set_active_patch(false)["Operations"][0]["value"],
            json!(false)
        );
    }

    #[test]
    fn entra_gets_its_legacy_forms() {
        let body = Dialect::Entra.set_active_patch(false);
        assert_eq!(
            body["Operations"][0],
            json!({"op": "Replace", "path": "active", "value": "False"})
        );
        let body = Dialect::Entra.remove_members_patch(&["u1", "u2"]);
        assert_eq!(
            body["Operations"][1],
            json!({"op": "Remove", "path": "members", "value": [{"value": "u2"}]})
        );
        let body = Dialect::Entra.add_members_patch(&["u1"]);
        assert_eq!(body["Operations"][0]["op"], "Add");
    }

    #[test]
    fn okta_disables_without_a_path() {
        let body = Dialect::Okta.set_active_patch(false);
        assert_eq!(
            body["Operations"][0],
            json!({"op": "replace", "value": {"active": false}})
        );
    }
}
