//! Validation and normalization of resource bodies against the schemas.
//!
//! A body sent to POST or PUT (or a resource after a PATCH) becomes the stored
//! attribute map: attribute names take the schema's spelling, values are checked
//! against the attribute's type, read-only attributes are dropped (or, after a
//! PATCH, refused if changed), `null` and `[]` mean "unassigned" and are dropped.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::schema::{Attr, Kind, Mutability, Schema, Schemas, Ty};

/// Which dialect deviations are tolerated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tolerance {
    pub(crate) entra: bool,
    pub(crate) okta: bool,
}

impl Tolerance {
    /// Whether unknown schema URNs and attributes are kept rather than refused.
    pub(crate) fn unknown_ok(self) -> bool {
        self.entra || self.okta
    }
}

/// Why a body is normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Create,
    Replace,
    Patch,
}

/// Normalizes `body` (a resource of `kind`) into the stored attribute map: `schemas`
/// first, then `externalId` and the other attributes. `id` and `meta` are left out
/// (the store sets them). `old` is the stored resource for PUT and PATCH.
pub(crate) fn normalize(
    schemas: &Schemas,
    kind: Kind,
    body: &Value,
    tol: Tolerance,
    purpose: Purpose,
    old: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(obj) = body else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object",
        ));
    };
    let core = schemas.core(kind);
    let core_id = kind.core_schema_id();

    // `schemas`
    let mut declared: Vec<String> = Vec::new();
    match obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
    {
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => declared.push(s.clone()),
                    other => {
                        return Err(ScimError::invalid_syntax(format!(
                            "schemas must hold strings, not {other}"
                        )));
                    }
                }
            }
        }
        Some(other) => {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must be an array, not {other}"
            )));
        }
        None => {
            if purpose != Purpose::Patch && !tol.unknown_ok() {
                return Err(ScimError::invalid_syntax(format!(
                    "the resource must have \"schemas\" listing {core_id}"
                )));
            }
        }
    }
    let strict_schemas = purpose != Purpose::Patch && !tol.unknown_ok();
    if strict_schemas
        && !declared.is_empty()
        && !declared.iter().any(|s| s.eq_ignore_ascii_case(core_id))
    {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must list {core_id}"
        )));
    }
    let mut extra_schemas: Vec<String> = Vec::new();
    let mut known_extensions: Vec<&'static str> = Vec::new();
    for s in &declared {
        if s.eq_ignore_ascii_case(core_id) {
            continue;
        }
        if let Some(ext) = schemas.extension(kind, s) {
            if !known_extensions.contains(&ext.id) {
                known_extensions.push(ext.id);
            }
        } else if tol.unknown_ok() {
            if !extra_schemas.iter().any(|e| e.eq_ignore_ascii_case(s)) {
                extra_schemas.push(s.clone());
            }
        } else {
            let detail = format!(
                "unknown schema {s:?}: {} resources use {core_id}{}",
                kind.name(),
                schemas
                    .extensions(kind)
                    .iter()
                    .map(|e| format!(" and {}", e.id))
                    .collect::<String>()
            );
            return Err(match purpose {
                Purpose::Patch => ScimError::bad("invalidPath", detail),
                _ => ScimError::invalid_syntax(detail),
            });
        }
    }

    let mut out = Map::new();
    let mut extensions: Vec<(&'static str, Map<String, Value>)> = Vec::new();
    let mut unknown: Vec<(String, Value)> = Vec::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas")
            || key.eq_ignore_ascii_case("id")
            || key.eq_ignore_ascii_case("meta")
        {
            continue;
        }
        if key.eq_ignore_ascii_case("externalId") {
            match value {
                Value::Null => {}
                Value::String(_) => {
                    out.insert("externalId".into(), value.clone());
                }
                other => {
                    return Err(ScimError::invalid_value(format!(
                        "externalId must be a string, not {other}"
                    )));
                }
            }
            continue;
        }
        if let Some(def) = core.attr(key) {
            let old_value = old.and_then(|o| o.get(def.name));
            if let Some(v) = attribute(def, def.name, value, old_value, tol, purpose)? {
                out.insert(def.name.into(), v);
            }
            continue;
        }
        if let Some(ext) = schemas.extension(kind, key) {
            let Value::Object(members) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    ext.id
                )));
            };
            let old_ext = old.and_then(|o| o.get(ext.id)).and_then(Value::as_object);
            let normalized = extension(ext, members, old_ext, tol, purpose)?;
            if !normalized.is_empty() {
                if !known_extensions.contains(&ext.id) {
                    known_extensions.push(ext.id);
                }
                extensions.push((ext.id, normalized));
            }
            continue;
        }
        if tol.unknown_ok() {
            unknown.push((key.clone(), value.clone()));
            continue;
        }
        return Err(unknown_attribute(kind, key, purpose));
    }

    for def in &core.attributes {
        if def.required && !out.contains_key(def.name) {
            return Err(ScimError::invalid_value(format!(
                "{} is required",
                def.name
            )));
        }
    }

    let mut list = vec![Value::String(core_id.to_owned())];
    for ext in schemas.extensions(kind) {
        if known_extensions.contains(&ext.id) {
            list.push(Value::String(ext.id.to_owned()));
        }
    }
    list.extend(extra_schemas.into_iter().map(Value::String));

    let mut result = Map::new();
    result.insert("schemas".into(), Value::Array(list));
    result.extend(out);
    for (id, members) in extensions {
        result.insert(id.to_owned(), Value::Object(members));
    }
    result.extend(unknown);
    Ok(result)
}

fn unknown_attribute(kind: Kind, key: &str, purpose: Purpose) -> ScimError {
    let detail = format!("{} has no attribute {key:?}", kind.name());
    match purpose {
        Purpose::Patch => ScimError::bad("invalidPath", detail),
        _ => ScimError::invalid_syntax(detail),
    }
}

fn extension(
    schema: &Schema,
    members: &Map<String, Value>,
    old: Option<&Map<String, Value>>,
    tol: Tolerance,
    purpose: Purpose,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in members {
        // Some clients (scim2-models) serialize an extension object with its own
        // `schemas` member: it says nothing the key does not.
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        match schema.attr(key) {
            Some(def) => {
                let name = format!("{}:{}", schema.id, def.name);
                let old_value = old.and_then(|o| o.get(def.name));
                if let Some(v) = attribute(def, &name, value, old_value, tol, purpose)? {
                    out.insert(def.name.into(), v);
                }
            }
            None if tol.unknown_ok() => {
                out.insert(key.clone(), value.clone());
            }
            None => {
                let detail = format!("{} has no attribute {key:?}", schema.id);
                return Err(match purpose {
                    Purpose::Patch => ScimError::bad("invalidPath", detail),
                    _ => ScimError::invalid_syntax(detail),
                });
            }
        }
    }
    Ok(out)
}

/// Checks one top-level (or extension) attribute; `None` when it is unassigned
/// or read-only (and so not stored).
fn attribute(
    def: &Attr,
    name: &str,
    value: &Value,
    old: Option<&Value>,
    tol: Tolerance,
    purpose: Purpose,
) -> Result<Option<Value>, ScimError> {
    if def.mutability == Mutability::ReadOnly {
        if purpose == Purpose::Patch && !value.is_null() && Some(value) != old {
            return Err(ScimError::bad("mutability", format!("{name} is read-only")));
        }
        return Ok(None);
    }
    let normalized = checked(def, name, value, tol, purpose)?;
    if def.mutability == Mutability::Immutable
        && purpose != Purpose::Create
        && let Some(old) = old
        && normalized.as_ref() != Some(old)
    {
        return Err(ScimError::bad("mutability", format!("{name} is immutable")));
    }
    Ok(normalized)
}

/// Checks a value against its definition (single- or multi-valued).
fn checked(
    def: &Attr,
    name: &str,
    value: &Value,
    tol: Tolerance,
    purpose: Purpose,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if def.multi {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other if tol.unknown_ok() => vec![other],
            other => {
                return Err(ScimError::invalid_value(format!(
                    "{name} is multi-valued: expected an array, not {other}"
                )));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = single(def, name, item, tol, purpose)? {
                out.push(v);
            }
        }
        if def.ty == Ty::Complex {
            fix_primary(&mut out);
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    if value.is_array() {
        return Err(ScimError::invalid_value(format!(
            "{name} is single-valued: an array is not allowed"
        )));
    }
    single(def, name, value, tol, purpose)
}

/// At most one value of a multi-valued attribute may be primary (RFC 7643 §2.4):
/// the last one marked primary wins.
fn fix_primary(values: &mut [Value]) {
    let last = values
        .iter()
        .rposition(|v| v.get("primary") == Some(&Value::Bool(true)));
    if let Some(last) = last {
        for (i, v) in values.iter_mut().enumerate() {
            if i != last
                && let Some(obj) = v.as_object_mut()
                && obj.get("primary") == Some(&Value::Bool(true))
            {
                obj.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

fn single(
    def: &Attr,
    name: &str,
    value: &Value,
    tol: Tolerance,
    purpose: Purpose,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    let type_error = |expected: &str| {
        ScimError::invalid_value(format!("{name} must be {expected}, not {value}"))
    };
    match def.ty {
        Ty::String | Ty::Reference | Ty::Binary => match value {
            Value::String(_) => Ok(Some(value.clone())),
            _ => Err(type_error("a string")),
        },
        Ty::Boolean => match value {
            Value::Bool(_) => Ok(Some(value.clone())),
            Value::String(s) if tol.entra && s.eq_ignore_ascii_case("true") => {
                Ok(Some(Value::Bool(true)))
            }
            Value::String(s) if tol.entra && s.eq_ignore_ascii_case("false") => {
                Ok(Some(Value::Bool(false)))
            }
            _ => Err(type_error("a boolean (true or false)")),
        },
        Ty::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(value.clone())),
            _ => Err(type_error("an integer")),
        },
        Ty::Decimal => match value {
            Value::Number(_) => Ok(Some(value.clone())),
            _ => Err(type_error("a number")),
        },
        Ty::DateTime => match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                Ok(Some(value.clone()))
            }
            _ => Err(type_error("an RFC 3339 date-time string")),
        },
        Ty::Complex => {
            let Value::Object(members) = value else {
                return Err(type_error("an object"));
            };
            let mut out = Map::new();
            for (key, v) in members {
                match def.sub_attr(key) {
                    Some(sub) if sub.mutability == Mutability::ReadOnly => {}
                    Some(sub) => {
                        let sub_name = format!("{name}.{}", sub.name);
                        if let Some(v) = checked(sub, &sub_name, v, tol, purpose)? {
                            out.insert(sub.name.into(), v);
                        }
                    }
                    None if tol.unknown_ok() => {
                        out.insert(key.clone(), v.clone());
                    }
                    None => {
                        let detail = format!("{name} has no sub-attribute {key:?}");
                        return Err(match purpose {
                            Purpose::Patch => ScimError::bad("invalidPath", detail),
                            _ => ScimError::invalid_syntax(detail),
                        });
                    }
                }
            }
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn strict() -> Tolerance {
        Tolerance::default()
    }

    #[test]
    fn canonical_names_and_schemas() {
        let s = Schemas::new();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "USERNAME": "a@example.com",
            "Name": {"GivenName": "A"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "R&D"},
            "id": "ignored",
            "groups": [{"value": "x"}]
        });
        let out = normalize(&s, Kind::User, &body, strict(), Purpose::Create, None).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": "a@example.com",
                "name": {"givenName": "A"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
            })
        );
    }

    #[test]
    fn strict_rejects_string_booleans_entra_accepts() {
        let s = Schemas::new();
        let body = json!({"schemas": [USER], "userName": "a", "active": "False"});
        let err = normalize(&s, Kind::User, &body, strict(), Purpose::Create, None).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
        let entra = Tolerance {
            entra: true,
            okta: false,
        };
        let out = normalize(&s, Kind::User, &body, entra, Purpose::Create, None).unwrap();
        assert_eq!(out["active"], json!(false));
    }

    #[test]
    fn unknown_schema_and_required() {
        let s = Schemas::new();
        let body = json!({"schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"], "displayName": "G"});
        let err = normalize(&s, Kind::Group, &body, strict(), Purpose::Create, None).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidSyntax"));
        let entra = Tolerance {
            entra: true,
            okta: false,
        };
        assert!(normalize(&s, Kind::Group, &body, entra, Purpose::Create, None).is_ok());
        let err = normalize(
            &s,
            Kind::Group,
            &json!({"schemas": [GROUP]}),
            strict(),
            Purpose::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
    }

    #[test]
    fn one_primary() {
        let s = Schemas::new();
        let body = json!({"schemas": [USER], "userName": "a", "emails": [
            {"value": "a", "primary": true}, {"value": "b", "primary": true}
        ]});
        let out = normalize(&s, Kind::User, &body, strict(), Purpose::Create, None).unwrap();
        assert_eq!(
            out["emails"],
            json!([{"value": "a", "primary": false}, {"value": "b", "primary": true}])
        );
    }

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
}
