//! `POST /Bulk` (RFC 7644 §3.7): operations with `bulkId` references resolved in
//! dependency order, `failOnErrors`, per-operation status.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::schema::{BULK_REQUEST, BULK_RESPONSE, Kind};
use super::store::{Ctx, Store, parse_patch};
use crate::path::get_ci;

const PREFIX: &str = "bulkId:";

#[derive(Debug)]
struct Op {
    method: String,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
}

fn parse_op(value: &Value) -> Result<Op, ScimError> {
    let Value::Object(obj) = value else {
        return Err(ScimError::invalid_syntax(
            "a bulk operation must be a JSON object",
        ));
    };
    let string = |name: &str| get_ci(obj, name).and_then(Value::as_str).map(str::to_owned);
    let method = string("method")
        .ok_or_else(|| ScimError::invalid_syntax("a bulk operation needs a \"method\""))?;
    let path = string("path")
        .ok_or_else(|| ScimError::invalid_syntax("a bulk operation needs a \"path\""))?;
    Ok(Op {
        method: method.to_ascii_uppercase(),
        bulk_id: string("bulkId"),
        version: string("version"),
        path,
        data: get_ci(obj, "data").cloned(),
    })
}

/// The bulkIds a string refers to: `bulkId:x`, or a URL ending in `/bulkId:x`.
fn reference_in(s: &str) -> Option<&str> {
    if let Some(id) = s.strip_prefix(PREFIX) {
        return Some(id);
    }
    let (_, last) = s.rsplit_once('/')?;
    last.strip_prefix(PREFIX)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = reference_in(s) {
                out.push(id.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Object(members) => members.values().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn substitute_str(s: &str, resolved: &HashMap<String, String>) -> Option<String> {
    let id = reference_in(s)?;
    let new_id = resolved.get(id)?;
    let reference = format!("{PREFIX}{id}");
    let prefix = s.strip_suffix(&reference)?;
    Some(format!("{prefix}{new_id}"))
}

fn substitute(value: &mut Value, resolved: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(new) = substitute_str(s, resolved) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, resolved)),
        Value::Object(members) => members.values_mut().for_each(|v| substitute(v, resolved)),
        _ => {}
    }
}

/// `/Users` → (User, None); `/Users/abc` → (User, Some("abc")).
fn parse_path(path: &str) -> Result<(Kind, Option<String>), ScimError> {
    let trimmed = path.trim_start_matches('/');
    let mut parts = trimmed.splitn(2, '/');
    let endpoint = parts.next().unwrap_or_default();
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.endpoint().eq_ignore_ascii_case(endpoint))
        .ok_or_else(|| {
            ScimError::invalid_value(format!("bulk path {path:?} names no resource type"))
        })?;
    let id = parts
        .next()
        .map(|s| s.trim_end_matches('/').to_owned())
        .filter(|s| !s.is_empty());
    Ok((kind, id))
}

/// The outcome of one operation.
struct Outcome {
    status: u16,
    location: Option<String>,
    version: Option<String>,
    error: Option<ScimError>,
}

fn execute(
    ctx: Ctx<'_>,
    store: &mut Store,
    op: &Op,
    strict: bool,
) -> Result<(Outcome, Option<String>), ScimError> {
    let (kind, id) = parse_path(&op.path)?;
    let data = || {
        op.data
            .as_ref()
            .ok_or_else(|| ScimError::invalid_syntax(format!("{} needs \"data\"", op.method)))
    };
    let location = |id: &str| format!("{}/{}/{id}", ctx.base_url, kind.endpoint());
    let version = |store: &Store, id: &str| store.get(kind, id).map(super::store::Resource::etag);
    match (op.method.as_str(), id) {
        ("POST", None) => {
            if strict && op.bulk_id.is_none() {
                return Err(ScimError::invalid_syntax("bulkId is required for POST"));
            }
            let new_id = store.create(ctx, kind, data()?)?;
            let outcome = Outcome {
                status: 201,
                location: Some(location(&new_id)),
                version: version(store, &new_id),
                error: None,
            };
            Ok((outcome, Some(new_id)))
        }
        ("PUT", Some(id)) => {
            store.replace(ctx, kind, &id, data()?, op.version.as_deref())?;
            Ok((
                Outcome {
                    status: 200,
                    location: Some(location(&id)),
                    version: version(store, &id),
                    error: None,
                },
                None,
            ))
        }
        ("PATCH", Some(id)) => {
            let request = parse_patch(ctx, data()?)?;
            store.patch(ctx, kind, &id, &request, op.version.as_deref())?;
            Ok((
                Outcome {
                    status: 200,
                    location: Some(location(&id)),
                    version: version(store, &id),
                    error: None,
                },
                None,
            ))
        }
        ("DELETE", Some(id)) => {
            store.delete(ctx, kind, &id, op.version.as_deref())?;
            Ok((
                Outcome {
                    status: 204,
                    location: Some(location(&id)),
                    version: None,
                    error: None,
                },
                None,
            ))
        }
        ("POST", Some(_)) => Err(ScimError::invalid_value(
            "a bulk POST path names a resource type, e.g. /Users",
        )),
        ("PUT" | "PATCH" | "DELETE", None) => Err(ScimError::invalid_value(format!(
            "a bulk {} path names a resource, e.g. /Users/{{id}}",
            op.method
        ))),
        (other, _) => Err(ScimError::invalid_value(format!(
            "bulk method {other:?} is not supported (POST, PUT, PATCH or DELETE)"
        ))),
    }
}

/// Runs a BulkRequest; returns the BulkResponse body. Errors are request-level
/// (400 for a malformed request, 413 over `maxOperations`).
pub(crate) fn run(
    ctx: Ctx<'_>,
    store: &mut Store,
    body: &Value,
    max_operations: usize,
    strict: bool,
) -> Result<Value, ScimError> {
    let Value::Object(obj) = body else {
        return Err(ScimError::invalid_syntax(
            "a BulkRequest must be a JSON object",
        ));
    };
    if strict {
        let listed = get_ci(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST))
                })
            });
        if !listed {
            return Err(ScimError::invalid_syntax(format!(
                "a BulkRequest must list {BULK_REQUEST} in schemas"
            )));
        }
    }
    let Some(Value::Array(raw_ops)) = get_ci(obj, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "a BulkRequest needs an \"Operations\" array",
        ));
    };
    if raw_ops.len() > max_operations {
        return Err(ScimError::new(
            413,
            None,
            format!(
                "the bulk request has {} operations; maxOperations is {max_operations}",
                raw_ops.len()
            ),
        ));
    }
    let fail_on_errors = match get_ci(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if n >= 1 => Some(n),
            _ => {
                return Err(ScimError::invalid_value(
                    "failOnErrors must be a positive integer",
                ));
            }
        },
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "failOnErrors must be an integer, not {other}"
            )));
        }
    };

    let ops: Vec<Result<Op, ScimError>> = raw_ops.iter().map(parse_op).collect();
    // bulkIds defined by POST operations; a repeated one is an error on the repeat.
    let mut defined: HashSet<String> = HashSet::new();
    let mut duplicate: HashSet<usize> = HashSet::new();
    for (i, op) in ops.iter().enumerate() {
        if let Ok(op) = op
            && op.method == "POST"
            && let Some(b) = &op.bulk_id
            && !defined.insert(b.clone())
        {
            duplicate.insert(i);
        }
    }

    let mut results: Vec<Value> = Vec::new();
    let mut resolved: HashMap<String, String> = HashMap::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut errors: u64 = 0;
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let mut stop = false;

    let record = |results: &mut Vec<Value>, errors: &mut u64, op: Option<&Op>, outcome: Outcome| {
        let mut entry = Map::new();
        if let Some(op) = op {
            entry.insert("method".into(), json!(op.method));
            if let Some(b) = &op.bulk_id {
                entry.insert("bulkId".into(), json!(b));
            }
        }
        if let Some(v) = outcome.version {
            entry.insert("version".into(), json!(v));
        }
        if let Some(l) = outcome.location {
            entry.insert("location".into(), json!(l));
        }
        entry.insert("status".into(), json!(outcome.status.to_string()));
        if let Some(e) = outcome.error {
            *errors += 1;
            entry.insert("response".into(), e.to_json());
        }
        results.push(Value::Object(entry));
        fail_on_errors.is_some_and(|n| *errors >= n)
    };
    let failure = |e: ScimError| Outcome {
        status: e.status,
        location: None,
        version: None,
        error: Some(e),
    };

    while !pending.is_empty() && !stop {
        let mut progressed = false;
        let mut deferred = Vec::new();
        for &i in &pending {
            if stop {
                break;
            }
            let op = match &ops[i] {
                Ok(op) => op,
                Err(e) => {
                    progressed = true;
                    stop = record(&mut results, &mut errors, None, failure(e.clone()));
                    continue;
                }
            };
            let mark_failed = |failed: &mut HashSet<String>| {
                if op.method == "POST"
                    && let Some(b) = &op.bulk_id
                {
                    failed.insert(b.clone());
                }
            };
            if duplicate.contains(&i) {
                progressed = true;
                let e = ScimError::invalid_value(format!(
                    "bulkId {:?} is used twice",
                    op.bulk_id.as_deref().unwrap_or("")
                ));
                stop = record(&mut results, &mut errors, Some(op), failure(e));
                continue;
            }
            let mut refs = Vec::new();
            if let Some(id) = reference_in(&op.path) {
                refs.push(id.to_owned());
            }
            if let Some(data) = &op.data {
                collect_refs(data, &mut refs);
            }
            if let Some(bad) = refs
                .iter()
                .find(|r| !defined.contains(*r) || failed.contains(*r))
            {
                progressed = true;
                mark_failed(&mut failed);
                let e = ScimError::new(
                    409,
                    Some("invalidValue"),
                    format!("bulkId {bad:?} cannot be resolved"),
                );
                stop = record(&mut results, &mut errors, Some(op), failure(e));
                continue;
            }
            if refs.iter().any(|r| !resolved.contains_key(r)) {
                deferred.push(i);
                continue;
            }
            progressed = true;
            let mut path = op.path.clone();
            if let Some(new) = substitute_str(&path, &resolved) {
                path = new;
            }
            let mut data = op.data.clone();
            if let Some(d) = &mut data {
                substitute(d, &resolved);
            }
            let concrete = Op {
                method: op.method.clone(),
                bulk_id: op.bulk_id.clone(),
                version: op.version.clone(),
                path,
                data,
            };
            let outcome = match execute(ctx, store, &concrete, strict) {
                Ok((outcome, new_id)) => {
                    if let (Some(b), Some(id)) = (&op.bulk_id, new_id) {
                        resolved.insert(b.clone(), id);
                    }
                    outcome
                }
                Err(e) => {
                    mark_failed(&mut failed);
                    let location = parse_path(&concrete.path).ok().and_then(|(kind, id)| {
                        id.map(|id| format!("{}/{}/{id}", ctx.base_url, kind.endpoint()))
                    });
                    Outcome {
                        location,
                        ..failure(e)
                    }
                }
            };
            stop = record(&mut results, &mut errors, Some(op), outcome);
        }
        if !progressed {
            // Every remaining operation waits for another: circular references.
            for &i in &deferred {
                if stop {
                    break;
                }
                if let Ok(op) = &ops[i] {
                    let e = ScimError::new(
                        409,
                        Some("invalidValue"),
                        "circular bulkId references cannot be resolved",
                    );
                    stop = record(&mut results, &mut errors, Some(op), failure(e));
                }
            }
            break;
        }
        pending = deferred;
    }

    Ok(json!({
        "schemas": [BULK_RESPONSE],
        "Operations": results,
    }))
}
