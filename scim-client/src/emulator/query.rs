//! Queries: filter, sort, index and cursor paging (RFC 7644 §3.4.2, RFC 9865), and
//! attribute projection (§3.4.2.5, §3.9).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::schema::{Kind, LIST_RESPONSE, Returned, Schemas, USER_SCHEMA};
use super::store::{Ctx, Resource, Store};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, get_ci};

/// The parameters of a list or search request.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListParams {
    pub(crate) filter: Option<String>,
    pub(crate) start_index: Option<i64>,
    pub(crate) count: Option<i64>,
    pub(crate) sort_by: Option<String>,
    pub(crate) sort_order: Option<String>,
    pub(crate) attributes: Option<Vec<String>>,
    pub(crate) excluded: Option<Vec<String>>,
    pub(crate) cursor: Option<String>,
}

fn parse_int(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, not {text:?}")))
}

/// Splits a comma-separated attribute list.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ListParams {
    /// From URL query parameters (names compared ignoring ASCII case).
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Result<Self, ScimError> {
        let mut p = ListParams::default();
        for (name, value) in pairs {
            match name.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(value.clone()),
                "startindex" => p.start_index = Some(parse_int("startIndex", value)?),
                "count" => p.count = Some(parse_int("count", value)?),
                "sortby" => p.sort_by = Some(value.clone()),
                "sortorder" => p.sort_order = Some(value.clone()),
                "attributes" => p.attributes = Some(split_list(value)),
                "excludedattributes" => p.excluded = Some(split_list(value)),
                "cursor" => p.cursor = Some(value.clone()),
                _ => {}
            }
        }
        Ok(p)
    }

    /// From a SearchRequest body (RFC 7644 §3.4.3).
    pub(crate) fn from_search_request(body: &Value, strict: bool) -> Result<Self, ScimError> {
        let Value::Object(obj) = body else {
            return Err(ScimError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        };
        if strict {
            let listed = get_ci(obj, "schemas")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter().any(|u| {
                        u.as_str()
                            .is_some_and(|u| u.eq_ignore_ascii_case(super::schema::SEARCH_REQUEST))
                    })
                });
            if !listed {
                return Err(ScimError::invalid_syntax(format!(
                    "a SearchRequest must list {} in schemas",
                    super::schema::SEARCH_REQUEST
                )));
            }
        }
        let string = |name: &str| -> Result<Option<String>, ScimError> {
            match get_ci(obj, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(ScimError::invalid_value(format!(
                    "{name} must be a string, not {other}"
                ))),
            }
        };
        let int = |name: &str| -> Result<Option<i64>, ScimError> {
            match get_ci(obj, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer"))),
                Some(Value::String(s)) if !strict => parse_int(name, s).map(Some),
                Some(other) => Err(ScimError::invalid_value(format!(
                    "{name} must be an integer, not {other}"
                ))),
            }
        };
        let list = |name: &str| -> Result<Option<Vec<String>>, ScimError> {
            match get_ci(obj, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(split_list(s))),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_owned).ok_or_else(|| {
                            ScimError::invalid_value(format!("{name} must hold strings"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(other) => Err(ScimError::invalid_value(format!(
                    "{name} must be an array of strings, not {other}"
                ))),
            }
        };
        Ok(ListParams {
            filter: string("filter")?,
            start_index: int("startIndex")?,
            count: int("count")?,
            sort_by: string("sortBy")?,
            sort_order: string("sortOrder")?,
            attributes: list("attributes")?,
            excluded: list("excludedAttributes")?,
            cursor: string("cursor")?,
        })
    }
}

/// Parsed `attributes` / `excludedAttributes`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Projection {
    attributes: Option<Vec<AttrPath>>,
    excluded: Option<Vec<AttrPath>>,
}

/// Parses an attribute name for projection or sorting. A bare schema URN (e.g. the
/// enterprise extension's) is returned as a path whose `uri` is the URN and whose
/// name is empty.
fn parse_attr(text: &str, schemas: &Schemas) -> Result<AttrPath, ScimError> {
    for kind in Kind::ALL {
        for ext in schemas.extensions(kind) {
            if text.eq_ignore_ascii_case(ext.id) {
                return Ok(AttrPath {
                    uri: Some(ext.id.to_owned()),
                    name: String::new(),
                    sub_attr: None,
                });
            }
        }
    }
    AttrPath::parse(text)
        .map_err(|e| ScimError::bad("invalidPath", format!("attribute {text:?}: {e}")))
}

impl Projection {
    pub(crate) fn new(
        schemas: &Schemas,
        attributes: Option<&[String]>,
        excluded: Option<&[String]>,
    ) -> Result<Self, ScimError> {
        let parse = |list: Option<&[String]>| -> Result<Option<Vec<AttrPath>>, ScimError> {
            list.filter(|l| !l.is_empty())
                .map(|l| {
                    l.iter()
                        .map(|a| parse_attr(a, schemas))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
        };
        Ok(Self {
            attributes: parse(attributes)?,
            excluded: parse(excluded)?,
        })
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.attributes.is_none() && self.excluded.is_none()
    }

    /// Applies the projection to a rendered resource of `kind`.
    pub(crate) fn apply(&self, schemas: &Schemas, kind: Kind, resource: Value) -> Value {
        let Value::Object(obj) = resource else {
            return resource;
        };
        if let Some(attributes) = &self.attributes {
            let mut out = Map::new();
            for (key, value) in &obj {
                let keep = if is_always(schemas, kind, key) {
                    Some(value.clone())
                } else {
                    select(schemas, kind, key, value, attributes)
                };
                if let Some(v) = keep {
                    out.insert(key.clone(), v);
                }
            }
            return Value::Object(out);
        }
        let mut out = obj;
        if let Some(excluded) = &self.excluded {
            for path in excluded {
                exclude(schemas, kind, &mut out, path);
            }
        }
        Value::Object(out)
    }
}

/// `schemas` and attributes whose `returned` is `always` (`id`).
fn is_always(schemas: &Schemas, kind: Kind, key: &str) -> bool {
    if key == "schemas" || key == "id" {
        return true;
    }
    schemas
        .core(kind)
        .attr(key)
        .is_some_and(|a| a.returned == Returned::Always)
}

fn is_extension_key(schemas: &Schemas, kind: Kind, key: &str) -> bool {
    schemas.extension(kind, key).is_some()
}

/// What of the top-level member `key` = `value` the `attributes` list selects.
fn select(
    schemas: &Schemas,
    kind: Kind,
    key: &str,
    value: &Value,
    attributes: &[AttrPath],
) -> Option<Value> {
    if is_extension_key(schemas, kind, key) {
        let Value::Object(ext) = value else {
            return None;
        };
        let mut out = Map::new();
        for path in attributes {
            let Some(uri) = &path.uri else { continue };
            if !uri.eq_ignore_ascii_case(key) {
                continue;
            }
            if path.name.is_empty() {
                return Some(value.clone());
            }
            if let Some((k, v)) = ext.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path.name)) {
                let picked = match &path.sub_attr {
                    None => Some(v.clone()),
                    Some(sub) => pick_sub(v, sub),
                };
                if let Some(p) = picked {
                    merge_into(&mut out, k, p);
                }
            }
        }
        return if out.is_empty() {
            None
        } else {
            Some(Value::Object(out))
        };
    }
    let mut result: Option<Value> = None;
    for path in attributes {
        if let Some(uri) = &path.uri
            && !uri.eq_ignore_ascii_case(kind.core_schema_id())
        {
            continue;
        }
        if !path.name.eq_ignore_ascii_case(key) {
            continue;
        }
        match &path.sub_attr {
            None => return Some(value.clone()),
            Some(sub) => {
                if let Some(picked) = pick_sub(value, sub) {
                    result = Some(match result {
                        None => picked,
                        Some(prev) => merge_values(prev, picked),
                    });
                }
            }
        }
    }
    result
}

fn merge_into(out: &mut Map<String, Value>, key: &str, value: Value) {
    let merged = match out.remove(key) {
        Some(prev) => merge_values(prev, value),
        None => value,
    };
    out.insert(key.to_owned(), merged);
}

/// Merges two projections of the same attribute (e.g. `emails.value` and `emails.type`).
fn merge_values(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            a.extend(b);
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => Value::Array(
            a.into_iter()
                .zip(b)
                .map(|(x, y)| merge_values(x, y))
                .collect(),
        ),
        (_, b) => b,
    }
}

/// The sub-attribute `sub` of a complex value (or of each value of a multi-valued one).
fn pick_sub(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(o) => {
            let (k, v) = o.iter().find(|(k, _)| k.eq_ignore_ascii_case(sub))?;
            let mut m = Map::new();
            m.insert(k.clone(), v.clone());
            Some(Value::Object(m))
        }
        Value::Array(items) => {
            let picked: Vec<Value> = items
                .iter()
                .map(|i| pick_sub(i, sub).unwrap_or_else(|| json!({})))
                .collect();
            if picked
                .iter()
                .all(|p| p.as_object().is_some_and(Map::is_empty))
            {
                None
            } else {
                Some(Value::Array(picked))
            }
        }
        _ => None,
    }
}

fn exclude(schemas: &Schemas, kind: Kind, obj: &mut Map<String, Value>, path: &AttrPath) {
    let target: &mut Map<String, Value> = match &path.uri {
        Some(uri) if !uri.eq_ignore_ascii_case(kind.core_schema_id()) => {
            let Some(key) = obj.keys().find(|k| k.eq_ignore_ascii_case(uri)).cloned() else {
                return;
            };
            if path.name.is_empty() {
                obj.remove(&key);
                return;
            }
            match obj.get_mut(&key) {
                Some(Value::Object(ext)) => ext,
                _ => return,
            }
        }
        _ => {
            if is_always(schemas, kind, &path.name) {
                return;
            }
            obj
        }
    };
    let Some(key) = target
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&path.name))
        .cloned()
    else {
        return;
    };
    match &path.sub_attr {
        None => {
            target.remove(&key);
        }
        Some(sub) => {
            if let Some(value) = target.get_mut(&key) {
                remove_sub(value, sub);
            }
        }
    }
}

fn remove_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| k.eq_ignore_ascii_case(sub)).cloned() {
                o.remove(&k);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| remove_sub(i, sub)),
        _ => {}
    }
}

/// A sort key extracted from a resource.
#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Bool(bool),
    Number(f64),
    Text(String),
}

fn sort_key(value: &Value, path: &AttrPath, case_exact: bool) -> Option<SortKey> {
    let obj = value.as_object()?;
    let base = match &path.uri {
        Some(uri)
            if !uri
                .to_ascii_lowercase()
                .starts_with("urn:ietf:params:scim:schemas:core:") =>
        {
            get_ci(obj, uri)?.as_object()?
        }
        _ => obj,
    };
    let mut v = get_ci(base, &path.name)?;
    // Multi-valued: the primary value, else the first (RFC 7644 §3.4.2.3).
    if let Value::Array(items) = v {
        v = items
            .iter()
            .find(|i| i.get("primary") == Some(&Value::Bool(true)))
            .or_else(|| items.first())?;
    }
    if let Some(sub) = &path.sub_attr {
        v = get_ci(v.as_object()?, sub)?;
    } else if let Value::Object(o) = v {
        v = get_ci(o, "value")?;
    }
    match v {
        Value::Bool(b) => Some(SortKey::Bool(*b)),
        Value::Number(n) => n.as_f64().map(SortKey::Number),
        Value::String(s) if case_exact => Some(SortKey::Text(s.clone())),
        Value::String(s) => Some(SortKey::Text(s.to_lowercase())),
        _ => None,
    }
}

fn compare_keys(a: &Option<SortKey>, b: &Option<SortKey>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        // Unassigned values sort last in ascending order (and so first in descending).
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(SortKey::Bool(x)), Some(SortKey::Bool(y))) => x.cmp(y),
        (Some(SortKey::Number(x)), Some(SortKey::Number(y))) => {
            x.partial_cmp(y).unwrap_or(Ordering::Equal)
        }
        (Some(SortKey::Text(x)), Some(SortKey::Text(y))) => x.cmp(y),
        (Some(x), Some(y)) => rank(x).cmp(&rank(y)),
    }
}

fn rank(k: &SortKey) -> u8 {
    match k {
        SortKey::Bool(_) => 0,
        SortKey::Number(_) => 1,
        SortKey::Text(_) => 2,
    }
}

/// Server-side cursor state (RFC 9865).
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    entries: HashMap<String, CursorEntry>,
}

#[derive(Debug, Clone)]
struct CursorEntry {
    offset: usize,
    query: String,
    expires: Instant,
}

const MAX_CURSORS: usize = 100_000;

impl Cursors {
    fn issue(&mut self, offset: usize, query: &str, timeout: Duration) -> String {
        let now = Instant::now();
        if self.entries.len() >= MAX_CURSORS {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= MAX_CURSORS {
                self.entries.clear();
            }
        }
        let token = random_token(24);
        self.entries.insert(
            token.clone(),
            CursorEntry {
                offset,
                query: query.to_owned(),
                expires: now + timeout,
            },
        );
        token
    }

    fn resolve(&self, cursor: &str, query: &str) -> Result<usize, ScimError> {
        let Some(entry) = self.entries.get(cursor) else {
            return Err(ScimError::bad(
                "invalidCursor",
                format!("unknown cursor {cursor:?}"),
            ));
        };
        if entry.query != query {
            return Err(ScimError::bad(
                "invalidCursor",
                "the cursor was issued for a different query",
            ));
        }
        if entry.expires <= Instant::now() {
            return Err(ScimError::bad(
                "expiredCursor",
                "the cursor has expired (cursorTimeout)",
            ));
        }
        Ok(entry.offset)
    }
}

/// A random string of RFC 3986 unreserved characters.
pub(crate) fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Limits the list endpoint works with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_results: usize,
    pub(crate) cursor_timeout: Duration,
}

/// Runs a list or search over `kinds` and builds the ListResponse.
pub(crate) fn list(
    ctx: Ctx<'_>,
    store: &Store,
    cursors: &std::sync::Mutex<Cursors>,
    kinds: &[Kind],
    params: &ListParams,
    limits: Limits,
) -> Result<Value, ScimError> {
    let schemas = ctx.schemas;
    let filter = params
        .filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| Filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", e.to_string())))
        .transpose()?;
    let projection = Projection::new(
        schemas,
        params.attributes.as_deref(),
        params.excluded.as_deref(),
    )?;
    let sort_path = params
        .sort_by
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            AttrPath::parse(s)
                .map_err(|e| ScimError::bad("invalidPath", format!("sortBy {s:?}: {e}")))
        })
        .transpose()?;
    let descending = match params
        .sort_order
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("ascending") => false,
        Some("descending") => true,
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "sortOrder must be \"ascending\" or \"descending\", not {other:?}"
            )));
        }
    };

    let needs_groups = params
        .filter
        .as_deref()
        .is_some_and(|f| f.to_ascii_lowercase().contains("groups"));
    let mut matched: Vec<(Kind, &Resource)> = Vec::new();
    // The lookup identity providers send all the time, answered from the index.
    let by_user_name = match (&filter, kinds) {
        (
            Some(Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(name),
            }),
            [Kind::User],
        ) if path.sub_attr.is_none()
            && path.name.eq_ignore_ascii_case("userName")
            && path
                .uri
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(USER_SCHEMA)) =>
        {
            Some(name.as_str())
        }
        _ => None,
    };
    if let Some(name) = by_user_name {
        matched.extend(store.user_by_name(name).map(|r| (Kind::User, r)));
    }
    for &kind in kinds.iter().filter(|_| by_user_name.is_none()) {
        let case_exact = |p: &AttrPath| schemas.case_exact(kind, p);
        for resource in store.collection(kind).iter() {
            let keep = match &filter {
                None => true,
                Some(f) => {
                    if needs_groups && kind == Kind::User && store.has_groups(resource.id()) {
                        f.matches_with(&store.render(ctx, kind, resource), &case_exact)
                    } else {
                        f.matches_with(&public_view(&resource.value), &case_exact)
                    }
                }
            };
            if keep {
                matched.push((kind, resource));
            }
        }
    }
    if let Some(path) = &sort_path {
        let mut keyed: Vec<(Option<SortKey>, (Kind, &Resource))> = matched
            .into_iter()
            .map(|(kind, r)| {
                (
                    sort_key(&r.value, path, schemas.case_exact(kind, path)),
                    (kind, r),
                )
            })
            .collect();
        keyed.sort_by(|a, b| {
            let ord = compare_keys(&a.0, &b.0);
            if descending { ord.reverse() } else { ord }
        });
        matched = keyed.into_iter().map(|(_, r)| r).collect();
    }

    let total = matched.len();
    let requested = params
        .count
        .map(|c| usize::try_from(c.max(0)).unwrap_or(usize::MAX));
    let count = requested
        .unwrap_or(limits.max_results)
        .min(limits.max_results);
    let render = |(kind, r): &(Kind, &Resource)| {
        let full = store.render(ctx, *kind, r);
        if projection.is_identity() {
            full
        } else {
            projection.apply(schemas, *kind, full)
        }
    };

    if let Some(cursor) = &params.cursor {
        if params.start_index.is_some() {
            return Err(ScimError::invalid_value(
                "use either cursor or startIndex, not both",
            ));
        }
        let fingerprint = format!(
            "{kinds:?}|{}|{}|{descending}",
            params.filter.as_deref().unwrap_or(""),
            params.sort_by.as_deref().unwrap_or("")
        );
        let mut cursors = cursors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let offset = if cursor.is_empty() {
            0
        } else {
            cursors.resolve(cursor, &fingerprint)?
        };
        let end = offset.saturating_add(count).min(total);
        let page: Vec<Value> = matched
            .get(offset.min(total)..end)
            .unwrap_or_default()
            .iter()
            .map(render)
            .collect();
        let mut out = Map::new();
        out.insert("schemas".into(), json!([LIST_RESPONSE]));
        out.insert("totalResults".into(), json!(total));
        out.insert("itemsPerPage".into(), json!(page.len()));
        if end < total {
            out.insert(
                "nextCursor".into(),
                json!(cursors.issue(end, &fingerprint, limits.cursor_timeout)),
            );
        }
        if offset > 0 {
            let previous = offset.saturating_sub(count.max(1));
            out.insert(
                "previousCursor".into(),
                json!(cursors.issue(previous, &fingerprint, limits.cursor_timeout)),
            );
        }
        out.insert("Resources".into(), Value::Array(page));
        return Ok(Value::Object(out));
    }

    let start_index = usize::try_from(params.start_index.unwrap_or(1).max(1)).unwrap_or(usize::MAX);
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_RESPONSE]));
    out.insert("totalResults".into(), json!(total));
    if count == 0 && requested == Some(0) {
        return Ok(Value::Object(out));
    }
    let offset = (start_index - 1).min(total);
    let end = offset.saturating_add(count).min(total);
    let page: Vec<Value> = matched[offset..end].iter().map(render).collect();
    out.insert("startIndex".into(), json!(start_index));
    out.insert("itemsPerPage".into(), json!(page.len()));
    out.insert("Resources".into(), Value::Array(page));
    Ok(Value::Object(out))
}

/// What a filter may see of a stored resource: everything but the write-only
/// `password`. Borrowed when there is no password, to keep list scans cheap.
fn public_view(value: &Value) -> std::borrow::Cow<'_, Value> {
    match value.as_object() {
        Some(obj) if obj.contains_key("password") => {
            let mut copy = obj.clone();
            copy.remove("password");
            std::borrow::Cow::Owned(Value::Object(copy))
        }
        _ => std::borrow::Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_attributes_and_excluded() {
        let schemas = Schemas::new();
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1",
            "userName": "a",
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R", "division": "D"},
            "meta": {"resourceType": "User"}
        });
        let p = Projection::new(
            &schemas,
            Some(&[
                "name.givenName".into(),
                "emails.value".into(),
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".into(),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            p.apply(&schemas, Kind::User, user.clone()),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "1",
                "name": {"givenName": "A"},
                "emails": [{"value": "a@x"}, {"value": "b@x"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R"}
            })
        );
        let p = Projection::new(
            &schemas,
            None,
            Some(&["emails".into(), "id".into(), "meta".into()]),
        )
        .unwrap();
        let out = p.apply(&schemas, Kind::User, user);
        assert!(out.get("emails").is_none());
        assert!(out.get("meta").is_none());
        assert_eq!(out["id"], json!("1"));
    }

    #[test]
    fn sort_keys_missing_last() {
        let a = Some(SortKey::Text("a".into()));
        assert_eq!(compare_keys(&a, &None), Ordering::Less);
        assert_eq!(compare_keys(&None, &a), Ordering::Greater);
    }
}
