//! SCIM attribute paths as record field names and mapping targets: `title`,
//! `name.givenName`, `emails[type eq "work"].value`, extension URNs. Shared by the
//! [`ScimSink`](crate::ScimSink) and the provisioning engine.

use serde_json::{Map, Value, json};

/// A record field name read as a SCIM path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldPath {
    /// The extension URN, if any.
    pub(crate) urn: Option<String>,
    pub(crate) attr: String,
    /// `type eq "work"` of a multi-valued attribute.
    pub(crate) type_filter: Option<String>,
    pub(crate) sub: Option<String>,
}

impl FieldPath {
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        let (urn, rest) = match name.rfind(':') {
            Some(i) if name[..i].to_ascii_lowercase().starts_with("urn:") => {
                (Some(name[..i].to_owned()), &name[i + 1..])
            }
            _ => (None, name),
        };
        let (head, sub_after_filter, type_filter) = match rest.find('[') {
            Some(open) => {
                let close = rest
                    .find(']')
                    .ok_or_else(|| format!("`{name}`: `[` without `]`"))?;
                let inner = rest[open + 1..close].trim();
                let value = parse_type_filter(inner).ok_or_else(|| {
                    format!("`{name}`: only filters of the form `type eq \"…\"` can name a field")
                })?;
                let after = rest[close + 1..].strip_prefix('.').map(str::to_owned);
                (&rest[..open], after, Some(value))
            }
            None => (rest, None, None),
        };
        let (attr, sub) = match head.split_once('.') {
            Some((a, s)) if sub_after_filter.is_none() => (a.to_owned(), Some(s.to_owned())),
            _ => (head.to_owned(), sub_after_filter),
        };
        if attr.is_empty() {
            return Err(format!("`{name}` is not a SCIM attribute path"));
        }
        Ok(Self {
            urn,
            attr,
            type_filter,
            sub,
        })
    }

    /// Whether the RFC 7643 core schema makes this attribute a boolean (`active`, and
    /// `primary` of every multi-valued attribute).
    pub(crate) fn is_boolean(&self) -> bool {
        if self.urn.is_some() {
            return false;
        }
        match &self.sub {
            None => self.type_filter.is_none() && self.attr.eq_ignore_ascii_case("active"),
            Some(sub) => sub.eq_ignore_ascii_case("primary"),
        }
    }

    pub(crate) fn is_plain(&self, attr: &str) -> bool {
        self.urn.is_none()
            && self.type_filter.is_none()
            && self.sub.is_none()
            && self.attr.eq_ignore_ascii_case(attr)
    }

    /// The object this path's attribute lives in: the resource, or its extension.
    fn container<'a>(
        &self,
        resource: &'a mut Map<String, Value>,
    ) -> Option<&'a mut Map<String, Value>> {
        let Some(urn) = &self.urn else {
            return Some(resource);
        };
        let slot = resource
            .entry(urn.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
    }

    /// Writes `value` at this path.
    pub(crate) fn set(&self, resource: &mut Map<String, Value>, value: Value) {
        let Some(container) = self.container(resource) else {
            return;
        };
        match (&self.type_filter, &self.sub) {
            (None, None) => {
                container.insert(self.attr.clone(), value);
            }
            (None, Some(sub)) => {
                let slot = container
                    .entry(self.attr.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(obj) = slot {
                    obj.insert(sub.clone(), value);
                }
            }
            (Some(kind), sub) => {
                let slot = container
                    .entry(self.attr.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(items) = slot else { return };
                let position = items.iter().position(|i| type_matches(i, kind));
                let item = match position {
                    Some(p) => &mut items[p],
                    None => {
                        items.push(json!({ "type": kind }));
                        let last = items.len() - 1;
                        &mut items[last]
                    }
                };
                if let Value::Object(obj) = item {
                    match sub {
                        Some(sub) => {
                            obj.insert(sub.clone(), value);
                        }
                        None => {
                            if let Value::Object(fields) = value {
                                obj.extend(fields);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads the value at this path.
    pub(crate) fn get<'a>(&self, resource: &'a Value) -> Option<&'a Value> {
        let container = match &self.urn {
            Some(urn) => resource.get(urn)?,
            None => resource,
        };
        let attr = get_ci(container, &self.attr)?;
        let target = match &self.type_filter {
            Some(kind) => attr.as_array()?.iter().find(|i| type_matches(i, kind))?,
            None => attr,
        };
        match &self.sub {
            Some(sub) => get_ci(target, sub),
            None => Some(target),
        }
    }

    /// The path as a PATCH path.
    pub(crate) fn patch_path(&self) -> String {
        let mut p = String::new();
        if let Some(urn) = &self.urn {
            p.push_str(urn);
            p.push(':');
        }
        p.push_str(&self.attr);
        if let Some(kind) = &self.type_filter {
            p.push_str(&format!("[type eq {}]", json!(kind)));
        }
        if let Some(sub) = &self.sub {
            p.push('.');
            p.push_str(sub);
        }
        p
    }
}

/// A JSON boolean from a boolean or text (`true`, `False`, `1`, `no`, as CSV files
/// write them); the text back when it is not one.
pub(crate) fn as_boolean(value: Value) -> Result<Value, String> {
    match value {
        Value::Bool(_) => Ok(value),
        Value::String(s) => type_mapping::text::parse(
            &type_mapping::Field::new("b", type_mapping::DataType::Boolean),
            &s,
            &type_mapping::ConversionPolicy::strict(),
            &mut Vec::new(),
        )
        .ok()
        .and_then(|v| v.as_bool())
        .map(Value::Bool)
        .ok_or(s),
        other => Err(other.to_string()),
    }
}

fn parse_type_filter(inner: &str) -> Option<String> {
    let mut parts = inner.splitn(3, char::is_whitespace);
    let (attr, op, value) = (parts.next()?, parts.next()?, parts.next()?.trim());
    if !attr.eq_ignore_ascii_case("type") || !op.eq_ignore_ascii_case("eq") {
        return None;
    }
    serde_json::from_str::<String>(value).ok()
}

pub(crate) fn type_matches(item: &Value, kind: &str) -> bool {
    get_ci(item, "type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

pub(crate) fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Compares what a record asserts with what the server has: strings ignoring case
/// where SCIM does (`userName`), booleans read leniently.
pub(crate) fn same(desired: &Value, current: Option<&Value>) -> bool {
    let Some(current) = current else {
        return desired.is_null();
    };
    match (desired, current) {
        (Value::Bool(a), Value::String(b)) => {
            b.eq_ignore_ascii_case(if *a { "true" } else { "false" })
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// The multi-valued item a path's value lives in (`emails[type eq "work"]`).
pub(crate) fn item_of(path: &FieldPath) -> FieldPath {
    FieldPath {
        sub: None,
        ..path.clone()
    }
}

/// Whether two paths write into the same typed item.
pub(crate) fn same_item(a: &FieldPath, b: &FieldPath) -> bool {
    a.type_filter.is_some()
        && a.urn == b.urn
        && a.attr.eq_ignore_ascii_case(&b.attr)
        && a.type_filter.as_deref().map(str::to_ascii_lowercase)
            == b.type_filter.as_deref().map(str::to_ascii_lowercase)
}

/// PATCH operations setting (or, for `None`, removing) each path. A value inside a
/// typed item that does not exist yet (`emails[type eq "work"].value` on a user
/// without a work e-mail) is added as a new item: RFC 7644 answers `replace` on a
/// filter that matches nothing with `noTarget`. Values of one new item go together.
pub(crate) fn patch_ops(
    changes: &[(&FieldPath, Option<&Value>)],
    item_exists: impl Fn(&FieldPath) -> bool,
) -> Vec<Value> {
    let mut ops = Vec::new();
    let mut new_items: Vec<(&FieldPath, Map<String, Value>)> = Vec::new();
    for (path, value) in changes {
        match value {
            Some(value) if path.type_filter.is_some() && !item_exists(path) => {
                let at = match new_items.iter().position(|(p, _)| same_item(p, path)) {
                    Some(i) => i,
                    None => {
                        let mut item = Map::new();
                        item.insert(
                            "type".into(),
                            Value::String(path.type_filter.clone().unwrap_or_default()),
                        );
                        new_items.push((path, item));
                        new_items.len() - 1
                    }
                };
                let Some((_, slot)) = new_items.get_mut(at) else {
                    continue;
                };
                match (&path.sub, value) {
                    (Some(sub), v) => {
                        slot.insert(sub.clone(), (*v).clone());
                    }
                    (None, Value::Object(fields)) => slot.extend(fields.clone()),
                    (None, _) => {}
                }
            }
            Some(value) => {
                ops.push(json!({ "op": "replace", "path": path.patch_path(), "value": value }));
            }
            None => ops.push(json!({ "op": "remove", "path": path.patch_path() })),
        }
    }
    for (path, item) in new_items {
        let mut target = String::new();
        if let Some(urn) = &path.urn {
            target.push_str(urn);
            target.push(':');
        }
        target.push_str(&path.attr);
        ops.push(json!({ "op": "add", "path": target, "value": [item] }));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ENTERPRISE_USER_SCHEMA;

    #[test]
    fn field_paths() {
        let p = FieldPath::parse("emails[type eq \"work\"].value").unwrap();
        assert_eq!(p.type_filter.as_deref(), Some("work"));
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert_eq!(p.patch_path(), "emails[type eq \"work\"].value");
        let p = FieldPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        assert_eq!(p.urn.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(p.attr, "department");
        let p = FieldPath::parse("name.givenName").unwrap();
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("name", Some("givenName"))
        );
        assert!(FieldPath::parse("emails[value co \"x\"]").is_err());
    }

    #[test]
    fn set_and_get_round_trip() {
        let paths = [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "phoneNumbers[type eq \"mobile\"].value",
            "phoneNumbers[type eq \"fax\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ];
        let mut resource = Map::new();
        for (i, p) in paths.iter().enumerate() {
            FieldPath::parse(p)
                .unwrap()
                .set(&mut resource, json!(format!("v{i}")));
        }
        let v = Value::Object(resource);
        assert_eq!(v["phoneNumbers"].as_array().unwrap().len(), 2);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(
                FieldPath::parse(p).unwrap().get(&v),
                Some(&json!(format!("v{i}"))),
                "{p}"
            );
        }
    }

    #[test]
    fn booleans_from_text() {
        assert!(FieldPath::parse("active").unwrap().is_boolean());
        assert!(
            FieldPath::parse("emails[type eq \"work\"].primary")
                .unwrap()
                .is_boolean()
        );
        assert!(!FieldPath::parse("title").unwrap().is_boolean());
        assert_eq!(as_boolean(json!("False")), Ok(json!(false)));
        assert_eq!(as_boolean(json!("1")), Ok(json!(true)));
        assert_eq!(as_boolean(json!("maybe")), Err("maybe".to_owned()));
    }

    #[test]
    fn comparison_is_lenient_where_servers_are() {
        assert!(same(&json!(false), Some(&json!("False"))));
        assert!(same(&json!(1), Some(&json!(1.0))));
        assert!(!same(&json!("a"), None));
    }

    #[test]
    fn patch_ops_add_a_missing_typed_item_and_replace_an_existing_one() {
        let existing = json!({
            "userName": "a",
            "emails": [{ "type": "work", "value": "old@example.com" }]
        });
        let email = FieldPath::parse("emails[type eq \"work\"].value").unwrap();
        let street = FieldPath::parse("addresses[type eq \"work\"].streetAddress").unwrap();
        let city = FieldPath::parse("addresses[type eq \"work\"].locality").unwrap();
        let title = FieldPath::parse("title").unwrap();
        let (e, st, c, t) = (
            json!("new@example.com"),
            json!("1 Main St"),
            json!("Springfield"),
            json!("Boss"),
        );
        let ops = patch_ops(
            &[
                (&email, Some(&e)),
                (&street, Some(&st)),
                (&city, Some(&c)),
                (&title, Some(&t)),
            ],
            |p| item_of(p).get(&existing).is_some(),
        );
        assert_eq!(
            ops,
            vec![
                json!({ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com" }),
                json!({ "op": "replace", "path": "title", "value": "Boss" }),
                json!({ "op": "add", "path": "addresses", "value": [
                    { "type": "work", "streetAddress": "1 Main St", "locality": "Springfield" }
                ] }),
            ]
        );
        let removed = patch_ops(&[(&title, None)], |_| true);
        assert_eq!(removed, vec![json!({ "op": "remove", "path": "title" })]);
    }
}
