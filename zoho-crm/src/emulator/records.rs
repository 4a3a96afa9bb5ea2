//! The Records API: list (with `page` and `page_token` paging), get, insert,
//! update, upsert, delete, deleted records and counts; field-value validation.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::time::Instant;

use axum::response::Response;
use serde_json::{Map, Number, Value, json};

use super::error::ApiError;
use super::meta::{DataType, FieldMeta, Meta, ModuleMeta};
use super::oauth::{Op, random_token};
use super::server::{Req, Shared, empty_response, json_response, lock};
use super::store::{Deleted, ModuleData, Record, Store, lookup_id, parse_id};
use super::time;
use super::users::{ids_param, paging};

/// Records `page` can reach; beyond it a `page_token` is needed.
pub(crate) const DISCRETE_PAGE_LIMIT: usize = 2000;
/// Records per write call.
pub(crate) const WRITE_LIMIT: usize = 100;
/// Fields per list call.
pub(crate) const FIELDS_LIMIT: usize = 50;

// ---------------------------------------------------------------------------
// Value validation
// ---------------------------------------------------------------------------

/// `local@domain.tld`, no spaces.
pub(crate) fn valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
        !host.is_empty() && tld.len() >= 2 && tld.chars().all(char::is_alphanumeric)
    });
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && !domain.starts_with('.')
        && !domain.contains("..")
        && tld_ok
}

fn valid_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    digits > 0
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().xX#/".contains(c))
}

fn valid_website(text: &str) -> bool {
    !text.chars().any(char::is_whitespace) && text.contains('.') && !text.starts_with('.')
}

/// Digits before and after the decimal point of a JSON number.
fn number_shape(n: &Number) -> Option<(usize, usize)> {
    if let Some(i) = n.as_i64() {
        return Some((i.unsigned_abs().to_string().len(), 0));
    }
    if let Some(u) = n.as_u64() {
        return Some((u.to_string().len(), 0));
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    let text = format!("{}", f.abs());
    Some(match text.split_once('.') {
        Some((int, frac)) => (int.trim_start_matches('0').len().max(1), frac.len()),
        None => (text.len(), 0),
    })
}

/// A per-record error object.
pub(crate) fn record_error(code: &str, message: &str, details: Value) -> Value {
    json!({"code": code, "details": details, "message": message, "status": "error"})
}

fn invalid(field: &FieldMeta, path: &str, extra: Option<(&str, Value)>) -> Value {
    let mut details = json!({
        "expected_data_type": field.data_type.api(),
        "api_name": field.api_name,
        "json_path": path,
    });
    if let (Some((k, v)), Some(map)) = (extra, details.as_object_mut()) {
        map.insert(k.to_owned(), v);
    }
    record_error("INVALID_DATA", "invalid data", details)
}

/// Validates one value; `Ok(None)` clears the field.
fn validate_value(
    meta: &Meta,
    store: &Store,
    field: &FieldMeta,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Value> {
    if value.is_null() {
        return Ok(None);
    }
    let max_len = usize::try_from(field.length).unwrap_or(usize::MAX);
    match field.data_type {
        DataType::Text
        | DataType::TextArea
        | DataType::Email
        | DataType::Phone
        | DataType::Website
        | DataType::Picklist => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, path, None));
            };
            if text.is_empty() {
                return Ok(None);
            }
            if text.chars().count() > max_len {
                return Err(invalid(
                    field,
                    path,
                    Some(("maximum_length", json!(field.length))),
                ));
            }
            let ok = match field.data_type {
                DataType::Email => valid_email(text),
                DataType::Phone => valid_phone(text),
                DataType::Website => valid_website(text),
                _ => true,
            };
            if ok {
                Ok(Some(value.clone()))
            } else {
                Err(invalid(field, path, None))
            }
        }
        DataType::MultiSelectPicklist => {
            let Some(items) = value.as_array() else {
                return Err(invalid(field, path, None));
            };
            if items
                .iter()
                .any(|v| v.as_str().is_none_or(|s| s.chars().count() > 255))
            {
                return Err(invalid(field, path, None));
            }
            if items.is_empty() {
                return Ok(None);
            }
            Ok(Some(value.clone()))
        }
        DataType::Integer => {
            let limit = 10_i64.checked_pow(field.length).map_or(i64::MAX, |l| l - 1);
            match value.as_i64() {
                Some(i) if i.abs() <= limit => Ok(Some(value.clone())),
                Some(_) => Err(invalid(
                    field,
                    path,
                    Some(("maximum_length", json!(field.length))),
                )),
                None => Err(invalid(field, path, None)),
            }
        }
        DataType::BigInt => {
            let text = match value {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                _ => return Err(invalid(field, path, None)),
            };
            if text.is_empty() {
                return Ok(None);
            }
            let digits = text.strip_prefix('-').unwrap_or(&text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(field, path, None));
            }
            if digits.len() > max_len {
                return Err(invalid(
                    field,
                    path,
                    Some(("maximum_length", json!(field.length))),
                ));
            }
            Ok(Some(Value::String(text)))
        }
        DataType::Currency | DataType::Double | DataType::Percent => {
            let Value::Number(n) = value else {
                return Err(invalid(field, path, None));
            };
            let Some((int_digits, decimals)) = number_shape(n) else {
                return Err(invalid(field, path, None));
            };
            let places = usize::try_from(field.decimal_place.unwrap_or(2)).unwrap_or(usize::MAX);
            if decimals > places {
                return Err(invalid(
                    field,
                    path,
                    Some(("maximum_decimal_places", json!(field.decimal_place))),
                ));
            }
            if int_digits > max_len {
                return Err(invalid(
                    field,
                    path,
                    Some(("maximum_length", json!(field.length))),
                ));
            }
            Ok(Some(value.clone()))
        }
        DataType::Boolean => match value {
            Value::Bool(_) => Ok(Some(value.clone())),
            _ => Err(invalid(field, path, None)),
        },
        DataType::Date => match value.as_str() {
            Some("") => Ok(None),
            Some(text) if time::valid_date(text) => Ok(Some(value.clone())),
            _ => Err(invalid(field, path, None)),
        },
        DataType::DateTime => match value.as_str() {
            Some("") => Ok(None),
            Some(text) => match time::parse_datetime(text) {
                Some(secs) => Ok(Some(Value::String(store.fmt_time(secs)))),
                None => Err(invalid(field, path, None)),
            },
            None => Err(invalid(field, path, None)),
        },
        DataType::Lookup => {
            let target = field.lookup.and_then(|m| meta.module(m));
            let id = lookup_id(value);
            let exists = match (target, id) {
                (Some(t), Some(id)) => store
                    .module(t.api_name)
                    .is_some_and(|d| d.records.contains_key(&id)),
                _ => false,
            };
            match id {
                Some(id) if exists => Ok(Some(Value::String(id.to_string()))),
                _ => Err(record_error(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    json!({
                        "expected_data_type": field.data_type.json_type(),
                        "api_name": field.api_name,
                        "json_path": path,
                    }),
                )),
            }
        }
        DataType::OwnerLookup => {
            let id = lookup_id(value);
            match id {
                Some(id) if store.users.get(&id).is_some_and(|u| u.status() == "active") => {
                    Ok(Some(Value::String(id.to_string())))
                }
                _ => Err(record_error(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    json!({
                        "expected_data_type": field.data_type.json_type(),
                        "api_name": field.api_name,
                        "json_path": path,
                    }),
                )),
            }
        }
    }
}

/// Validated changes of one input record: field → new value (`None` clears).
fn validate_record(
    meta: &Meta,
    store: &Store,
    module: &ModuleMeta,
    data: &Map<String, Value>,
    index: usize,
) -> Result<Vec<(&'static str, Option<Value>)>, Value> {
    let mut changes = Vec::new();
    for (key, value) in data {
        let Some(field) = module.field(key) else {
            // Zoho ignores keys that are not fields (and `$`-prefixed properties).
            continue;
        };
        if field.read_only {
            continue;
        }
        let path = format!("$.data[{index}].{}", field.api_name);
        let normalized = validate_value(meta, store, field, value, &path)?;
        changes.push((field.api_name, normalized));
    }
    Ok(changes)
}

fn apply_changes(value: &mut Map<String, Value>, changes: Vec<(&'static str, Option<Value>)>) {
    for (key, new) in changes {
        match new {
            Some(v) => {
                value.insert(key.to_owned(), v);
            }
            None => {
                value.remove(key);
            }
        }
    }
}

fn compute_full_name(module: &ModuleMeta, value: &mut Map<String, Value>) {
    if module.field("Full_Name").is_none() {
        return;
    }
    let first = value
        .get("First_Name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let last = value.get("Last_Name").and_then(Value::as_str).unwrap_or("");
    let full = match (first.is_empty(), last.is_empty()) {
        (true, true) => None,
        (true, false) => Some(last.to_owned()),
        (false, true) => Some(first.to_owned()),
        (false, false) => Some(format!("{first} {last}")),
    };
    match full {
        Some(f) => {
            value.insert("Full_Name".to_owned(), Value::String(f));
        }
        None => {
            value.remove("Full_Name");
        }
    }
}

fn check_mandatory(
    module: &ModuleMeta,
    value: &Map<String, Value>,
    index: usize,
) -> Result<(), Value> {
    for field in module.fields.iter().filter(|f| f.mandatory) {
        let present = value
            .get(field.api_name)
            .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
        if !present {
            return Err(record_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({
                    "api_name": field.api_name,
                    "json_path": format!("$.data[{index}].{}", field.api_name),
                }),
            ));
        }
    }
    Ok(())
}

fn check_unique(
    module: &ModuleMeta,
    data: &ModuleData,
    value: &Map<String, Value>,
    own_id: Option<u64>,
    index: usize,
) -> Result<(), Value> {
    for field in module.fields.iter().filter(|f| f.unique) {
        let Some(v) = value.get(field.api_name) else {
            continue;
        };
        if let Some(dup) = data
            .find(field.api_name, v)
            .and_then(|ids| ids.iter().find(|id| Some(**id) != own_id))
        {
            return Err(record_error(
                "DUPLICATE_DATA",
                "duplicate data",
                json!({
                    "api_name": field.api_name,
                    "json_path": format!("$.data[{index}].{}", field.api_name),
                    "id": dup.to_string(),
                    "duplicate_record": {
                        "id": dup.to_string(),
                        "module": {"api_name": module.api_name, "id": module.id.to_string()},
                    },
                }),
            ));
        }
    }
    Ok(())
}

fn success_details(store: &Store, record: &Record) -> Value {
    let created_by = record
        .value
        .get("Created_By")
        .and_then(lookup_id)
        .unwrap_or(store.admin_id);
    let modified_by = record
        .value
        .get("Modified_By")
        .and_then(lookup_id)
        .unwrap_or(store.admin_id);
    json!({
        "Modified_Time": store.fmt_time(record.modified),
        "Modified_By": store.user_ref(modified_by),
        "Created_Time": store.fmt_time(record.created),
        "id": record.id.to_string(),
        "Created_By": store.user_ref(created_by),
    })
}

/// Who writes, and when (seconds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub(crate) user: u64,
    pub(crate) now: i64,
}

/// Inserts one record as `POST /{module}` would; returns the new record's id.
pub(crate) fn insert_one(
    meta: &Meta,
    store: &mut Store,
    module: &ModuleMeta,
    data: &Value,
    index: usize,
    stamp: Stamp,
) -> Result<u64, Value> {
    let Stamp { user, now } = stamp;
    let Some(data) = data.as_object() else {
        return Err(record_error(
            "INVALID_DATA",
            "invalid data",
            json!({"expected_data_type": "jsonobject", "json_path": format!("$.data[{index}]")}),
        ));
    };
    let changes = validate_record(meta, store, module, data, index)?;
    let mut value = Map::new();
    apply_changes(&mut value, changes);
    compute_full_name(module, &mut value);
    check_mandatory(module, &value, index)?;
    let Some(mdata) = store.module(module.api_name) else {
        return Err(record_error(
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({}),
        ));
    };
    check_unique(module, mdata, &value, None, index)?;
    let id = store.next_id();
    let stamp = Value::String(store.fmt_time(now));
    let user_ref = Value::String(user.to_string());
    let mut full = Map::with_capacity(value.len() + 6);
    full.insert("id".to_owned(), Value::String(id.to_string()));
    if !value.contains_key("Owner") && module.field("Owner").is_some() {
        full.insert("Owner".to_owned(), user_ref.clone());
    }
    full.extend(value);
    full.insert("Created_By".to_owned(), user_ref.clone());
    full.insert("Modified_By".to_owned(), user_ref);
    full.insert("Created_Time".to_owned(), stamp.clone());
    full.insert("Modified_Time".to_owned(), stamp);
    let record = Record {
        id,
        created: now,
        modified: now,
        value: full,
    };
    if let Some(mdata) = store.module_mut(module.api_name) {
        mdata.insert(record);
    }
    Ok(id)
}

/// Updates one record as `PUT /{module}` would.
pub(crate) fn update_one(
    meta: &Meta,
    store: &mut Store,
    module: &ModuleMeta,
    id: u64,
    data: &Map<String, Value>,
    index: usize,
    stamp: Stamp,
) -> Result<(), Value> {
    let Stamp { user, now } = stamp;
    let changes = validate_record(meta, store, module, data, index)?;
    let Some(mdata) = store.module(module.api_name) else {
        return Err(record_error(
            "INVALID_MODULE",
            "the module name given seems to be invalid",
            json!({}),
        ));
    };
    let Some(existing) = mdata.records.get(&id) else {
        return Err(invalid_id(index));
    };
    let mut value = existing.value.clone();
    apply_changes(&mut value, changes);
    compute_full_name(module, &mut value);
    check_mandatory(module, &value, index)?;
    check_unique(module, mdata, &value, Some(id), index)?;
    let stamp = Value::String(store.fmt_time(now));
    value.insert("Modified_By".to_owned(), Value::String(user.to_string()));
    value.insert("Modified_Time".to_owned(), stamp);
    if let Some(mdata) = store.module_mut(module.api_name)
        && let Some(mut record) = mdata.remove(id)
    {
        record.value = value;
        record.modified = now;
        mdata.insert(record);
    }
    Ok(())
}

fn invalid_id(index: usize) -> Value {
    record_error(
        "INVALID_DATA",
        "the id given seems to be invalid",
        json!({
            "expected_data_type": "bigint",
            "api_name": "id",
            "json_path": format!("$.data[{index}].id"),
        }),
    )
}

/// Deletes a record into the recycle bin.
pub(crate) fn delete_one(store: &mut Store, module: &ModuleMeta, id: u64, stamp: Stamp) -> bool {
    let Stamp { user, now } = stamp;
    let Some(mdata) = store.module_mut(module.api_name) else {
        return false;
    };
    let Some(record) = mdata.remove(id) else {
        return false;
    };
    let created_by = record
        .value
        .get("Created_By")
        .and_then(lookup_id)
        .unwrap_or(user);
    mdata.deleted.push(Deleted {
        id,
        display_name: record
            .value
            .get(module.display_field)
            .cloned()
            .unwrap_or(Value::Null),
        deleted_time: now,
        deleted_by: user,
        created_by,
        permanent: false,
    });
    true
}

// ---------------------------------------------------------------------------
// Writes over HTTP
// ---------------------------------------------------------------------------

/// The `data` array of a write body, at most 100 records.
fn data_array(body: &Value) -> Result<&Vec<Value>, ApiError> {
    let Some(data) = body.get("data") else {
        return Err(ApiError::required_param("data"));
    };
    let Some(items) = data.as_array() else {
        return Err(ApiError::invalid_data(
            "invalid data",
            json!({"expected_data_type": "jsonarray", "api_name": "data", "json_path": "$.data"}),
        ));
    };
    if items.is_empty() {
        return Err(ApiError::invalid_data(
            "the data array is empty",
            json!({"expected_data_type": "jsonarray", "api_name": "data", "json_path": "$.data"}),
        ));
    }
    if items.len() > WRITE_LIMIT {
        return Err(ApiError::limit_exceeded(
            "the number of records exceeds the limit of 100",
            json!({"api_name": "data", "limit": WRITE_LIMIT}),
        ));
    }
    Ok(items)
}

fn write_response(results: Vec<Value>, all_ok_status: u16) -> Response {
    let failed = results
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_str) != Some("success"))
        .count();
    let status = if failed == 0 {
        all_ok_status
    } else if failed == results.len() {
        400
    } else {
        207
    };
    json_response(status, &json!({ "data": results }))
}

fn success(message: &str, details: Value) -> Value {
    json!({"code": "SUCCESS", "details": details, "message": message, "status": "success"})
}

pub(crate) fn insert(shared: &Shared, req: &Req, module: &str) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Create)?;
    let body = req.json_body()?;
    let items = data_array(&body)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let stamp = Stamp {
        user: req.token.user_id,
        now: time::now_secs(),
    };
    let mut store = shared.write();
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match insert_one(meta, &mut store, mmeta, item, i, stamp) {
            Ok(id) => {
                let details = store
                    .module(mmeta.api_name)
                    .and_then(|d| d.records.get(&id))
                    .map(|r| success_details(&store, r))
                    .unwrap_or_default();
                results.push(success("record added", details));
            }
            Err(e) => results.push(e),
        }
    }
    Ok(write_response(results, 201))
}

pub(crate) fn update(
    shared: &Shared,
    req: &Req,
    module: &str,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Update)?;
    let body = req.json_body()?;
    let items = data_array(&body)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let stamp = Stamp {
        user: req.token.user_id,
        now: time::now_secs(),
    };
    let mut store = shared.write();
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(data) = item.as_object() else {
            results.push(record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"expected_data_type": "jsonobject", "json_path": format!("$.data[{i}]")}),
            ));
            continue;
        };
        let id_value = match (path_id, data.get("id")) {
            (Some(p), _) if i == 0 => Some(Value::String(p.to_owned())),
            (_, Some(v)) => Some(v.clone()),
            _ => None,
        };
        let Some(id_value) = id_value.filter(|v| !v.is_null()) else {
            results.push(record_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": "id", "json_path": format!("$.data[{i}].id")}),
            ));
            continue;
        };
        let exists = lookup_id(&id_value).filter(|id| {
            store
                .module(mmeta.api_name)
                .is_some_and(|d| d.records.contains_key(id))
        });
        let Some(id) = exists else {
            results.push(invalid_id(i));
            continue;
        };
        match update_one(meta, &mut store, mmeta, id, data, i, stamp) {
            Ok(()) => {
                let details = store
                    .module(mmeta.api_name)
                    .and_then(|d| d.records.get(&id))
                    .map(|r| success_details(&store, r))
                    .unwrap_or_default();
                results.push(success("record updated", details));
            }
            Err(e) => results.push(e),
        }
    }
    Ok(write_response(results, 200))
}

pub(crate) fn upsert(shared: &Shared, req: &Req, module: &str) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Create)?;
    let body = req.json_body()?;
    let items = data_array(&body)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let dup_fields: Vec<&'static str> = match body.get("duplicate_check_fields") {
        None | Some(Value::Null) => mmeta.dup_check.to_vec(),
        Some(Value::Array(names)) => {
            let mut fields = Vec::new();
            for name in names {
                let field = name
                    .as_str()
                    .and_then(|n| mmeta.field(n))
                    .filter(|f| mmeta.dup_checkable(f));
                match field {
                    Some(f) => fields.push(f.api_name),
                    None => {
                        return Err(ApiError::invalid_data(
                            "invalid data",
                            json!({
                                "api_name": name,
                                "json_path": "$.duplicate_check_fields",
                                "param_name": "duplicate_check_fields",
                            }),
                        ));
                    }
                }
            }
            fields
        }
        Some(_) => {
            return Err(ApiError::invalid_data(
                "invalid data",
                json!({"expected_data_type": "jsonarray", "param_name": "duplicate_check_fields"}),
            ));
        }
    };
    let stamp = Stamp {
        user: req.token.user_id,
        now: time::now_secs(),
    };
    let mut store = shared.write();
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(data) = item.as_object() else {
            results.push(record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"expected_data_type": "jsonobject", "json_path": format!("$.data[{i}]")}),
            ));
            continue;
        };
        let mut matched = None;
        if let Some(mdata) = store.module(mmeta.api_name) {
            for field in &dup_fields {
                let Some(v) = data.get(*field).filter(|v| !v.is_null()) else {
                    continue;
                };
                if let Some(id) = mdata.find(field, v).and_then(|ids| ids.iter().next()) {
                    matched = Some((*id, *field));
                    break;
                }
            }
        }
        let outcome = match matched {
            Some((id, field)) => update_one(meta, &mut store, mmeta, id, data, i, stamp)
                .map(|()| (id, "update", Value::String(field.to_owned()))),
            None => insert_one(meta, &mut store, mmeta, item, i, stamp)
                .map(|id| (id, "insert", Value::Null)),
        };
        match outcome {
            Ok((id, action, duplicate_field)) => {
                let details = store
                    .module(mmeta.api_name)
                    .and_then(|d| d.records.get(&id))
                    .map(|r| success_details(&store, r))
                    .unwrap_or_default();
                let message = if action == "insert" {
                    "record added"
                } else {
                    "record updated"
                };
                results.push(json!({
                    "code": "SUCCESS",
                    "duplicate_field": duplicate_field,
                    "action": action,
                    "details": details,
                    "message": message,
                    "status": "success",
                }));
            }
            Err(e) => results.push(e),
        }
    }
    Ok(write_response(results, 200))
}

pub(crate) fn delete(
    shared: &Shared,
    req: &Req,
    module: &str,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Delete)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let ids: Vec<String> = match path_id {
        Some(id) => vec![id.to_owned()],
        None => {
            let Some(text) = req.param("ids").filter(|s| !s.trim().is_empty()) else {
                return Err(ApiError::required_param("ids"));
            };
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }
    };
    if ids.len() > WRITE_LIMIT {
        return Err(ApiError::limit_exceeded(
            "the number of records exceeds the limit of 100",
            json!({"param_name": "ids", "limit": WRITE_LIMIT}),
        ));
    }
    let stamp = Stamp {
        user: req.token.user_id,
        now: time::now_secs(),
    };
    let mut store = shared.write();
    let mut results = Vec::with_capacity(ids.len());
    for text in &ids {
        let deleted = parse_id(text).is_some_and(|id| delete_one(&mut store, mmeta, id, stamp));
        if deleted {
            results.push(success("record deleted", json!({"id": text})));
        } else {
            results.push(record_error(
                "INVALID_DATA",
                "the related id given seems to be invalid",
                json!({"id": text}),
            ));
        }
    }
    Ok(write_response(results, 200))
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// What `sort_by` orders on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortBy {
    Id,
    Created,
    Modified,
}

impl SortBy {
    pub(crate) fn api(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::Created => "Created_Time",
            SortBy::Modified => "Modified_Time",
        }
    }

    pub(crate) fn key(self, record: &Record) -> (i64, u64) {
        match self {
            SortBy::Id => (0, record.id),
            SortBy::Created => (record.created, record.id),
            SortBy::Modified => (record.modified, record.id),
        }
    }
}

/// The module's records in `sort` order, strictly after `after` (a sort key), and
/// (ascending) starting at `from` or (descending) ending at `to` when given.
pub(crate) fn ordered<'a>(
    data: &'a ModuleData,
    sort: SortBy,
    asc: bool,
    after: Option<(i64, u64)>,
    from: Option<(i64, u64)>,
    to: Option<(i64, u64)>,
) -> Box<dyn Iterator<Item = &'a Record> + 'a> {
    let lower = match (after, from) {
        (Some(a), Some(f)) if asc && f > a => Bound::Included(f),
        (Some(a), _) if asc => Bound::Excluded(a),
        (None, Some(f)) if asc => Bound::Included(f),
        _ => Bound::Unbounded,
    };
    let upper = match (after, to) {
        (Some(a), Some(t)) if !asc && t < a => Bound::Included(t),
        (Some(a), _) if !asc => Bound::Excluded(a),
        (None, Some(t)) if !asc => Bound::Included(t),
        _ => Bound::Unbounded,
    };
    match sort {
        SortBy::Id => {
            let map = |b: Bound<(i64, u64)>| match b {
                Bound::Included((_, id)) => Bound::Included(id),
                Bound::Excluded((_, id)) => Bound::Excluded(id),
                Bound::Unbounded => Bound::Unbounded,
            };
            let range = data.records.range((map(lower), map(upper))).map(|(_, r)| r);
            if asc {
                Box::new(range)
            } else {
                Box::new(range.rev())
            }
        }
        SortBy::Created | SortBy::Modified => {
            let set = if sort == SortBy::Created {
                &data.by_created
            } else {
                &data.by_modified
            };
            let range = set.range((lower, upper));
            let lookup = move |(_, id): &(i64, u64)| data.records.get(id);
            if asc {
                Box::new(range.filter_map(lookup))
            } else {
                Box::new(range.rev().filter_map(lookup))
            }
        }
    }
}

/// Issued page tokens.
#[derive(Debug, Default)]
pub(crate) struct PageTokens {
    map: HashMap<String, PageToken>,
}

#[derive(Debug, Clone)]
struct PageToken {
    binding: String,
    after: (i64, u64),
    served: usize,
    page: usize,
    expires: Instant,
    prev: Option<String>,
}

/// Resolves `fields=` into field metadata (`id` is always returned and skipped here).
pub(crate) fn fields_param<'m>(
    module: &'m ModuleMeta,
    req: &Req,
    required: bool,
) -> Result<Option<Vec<&'m FieldMeta>>, ApiError> {
    let Some(text) = req.param("fields").filter(|s| !s.trim().is_empty()) else {
        return if required {
            Err(ApiError::required_param("fields"))
        } else {
            Ok(None)
        };
    };
    let mut seen = HashSet::new();
    let names: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(|s| seen.insert(s.to_ascii_lowercase()))
        .collect();
    if names.len() > FIELDS_LIMIT {
        return Err(ApiError::limit_exceeded(
            "the number of fields exceeds the limit of 50",
            json!({"param_name": "fields", "limit": FIELDS_LIMIT}),
        ));
    }
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        if name.eq_ignore_ascii_case("id") {
            continue;
        }
        match module.field(name) {
            Some(f) => fields.push(f),
            None => {
                return Err(ApiError::invalid_data(
                    format!("the field {name} is not a valid field of the module"),
                    json!({"api_name": name, "param_name": "fields"}),
                ));
            }
        }
    }
    Ok(Some(fields))
}

fn binding(req: &Req, module: &str, fields: &[&FieldMeta]) -> String {
    let mut names: Vec<&str> = fields.iter().map(|f| f.api_name).collect();
    names.sort_unstable();
    let mut pairs: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "page_token" | "fields"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    let ims = req
        .headers
        .get(http::header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    format!(
        "{module}|{}|{}|{}|{ims}",
        req.token.user_id,
        names.join(","),
        pairs.join("&")
    )
}

fn token_error(code: &'static str, message: &str) -> ApiError {
    ApiError::new(400, code, message, json!({"param_name": "page_token"}))
}

pub(crate) fn list(shared: &Shared, req: &Req, module: &str) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Read)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let fields = fields_param(mmeta, req, true)?.unwrap_or_default();
    let sort = match req.param("sort_by") {
        None | Some("") => SortBy::Id,
        Some(s) if s.eq_ignore_ascii_case("id") => SortBy::Id,
        Some(s) if s.eq_ignore_ascii_case("Created_Time") => SortBy::Created,
        Some(s) if s.eq_ignore_ascii_case("Modified_Time") => SortBy::Modified,
        Some(_) => return Err(ApiError::invalid_param("sort_by", "invalid data")),
    };
    let asc = match req.param("sort_order") {
        None | Some("") => false,
        Some(s) if s.eq_ignore_ascii_case("asc") => true,
        Some(s) if s.eq_ignore_ascii_case("desc") => false,
        Some(_) => return Err(ApiError::invalid_param("sort_order", "invalid data")),
    };
    let (page, per_page) = paging(req)?;
    let ids: Option<BTreeSet<u64>> = ids_param(req)?.map(|v| v.into_iter().collect());
    let since = req.if_modified_since()?;
    let token_param = req.param("page_token").filter(|t| !t.is_empty());
    let page_given = req.param("page").is_some_and(|p| !p.is_empty());
    if token_param.is_some() && page_given {
        return Err(ApiError::new(
            400,
            "AMBIGUITY_DURING_PROCESSING",
            "You cannot use both page and page_token",
            json!({"ambiguity_due_to": ["page", "page_token"]}),
        ));
    }
    let bound_to = binding(req, mmeta.api_name, &fields);
    let config = &shared.config;

    let (after, skip, served_before, page_no, token_used) = match token_param {
        Some(t) => {
            let tokens = lock(&shared.page_tokens);
            let Some(state) = tokens.map.get(t) else {
                return Err(token_error("INVALID_DATA", "invalid page_token"));
            };
            if Instant::now() >= state.expires {
                return Err(token_error("EXPIRED_VALUE", "the page_token has expired"));
            }
            if state.binding != bound_to {
                return Err(token_error(
                    "TOKEN_BOUND_DATA_MISMATCH",
                    "the page_token is bound to different request parameters",
                ));
            }
            if state.served >= config.page_token_limit {
                return Err(ApiError::new(
                    400,
                    "PAGINATION_LIMIT_EXCEEDED",
                    format!(
                        "You can only get up to first {} records using page_token param.",
                        config.page_token_limit
                    ),
                    json!({"limit": config.page_token_limit}),
                ));
            }
            (
                Some(state.after),
                0,
                state.served,
                state.page + 1,
                Some(t.to_owned()),
            )
        }
        None => {
            if page.saturating_mul(per_page) > DISCRETE_PAGE_LIMIT {
                return Err(ApiError::new(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "You can only get the first 2000 records without using page_token param",
                    json!({"limit": DISCRETE_PAGE_LIMIT}),
                ));
            }
            let skip = (page - 1) * per_page;
            (None, skip, skip, page, None)
        }
    };
    let per_page = match token_param {
        Some(_) => per_page.min(config.page_token_limit.saturating_sub(served_before).max(1)),
        None => per_page,
    };

    let store = shared.read();
    let Some(data) = store.module(mmeta.api_name) else {
        return Err(ApiError::invalid_module_in_path());
    };
    // Sorted by Modified_Time ascending, If-Modified-Since is where the index range
    // starts: no scan of the records before it.
    let from = match (sort, asc, since) {
        (SortBy::Modified, true, Some(s)) => Some((s, 0)),
        _ => None,
    };
    let mut page_records: Vec<&Record> = ordered(data, sort, asc, after, from, None)
        .filter(|r| ids.as_ref().is_none_or(|ids| ids.contains(&r.id)))
        .filter(|r| since.is_none_or(|s| r.modified >= s))
        .skip(skip)
        .take(per_page + 1)
        .collect();
    let more = page_records.len() > per_page;
    page_records.truncate(per_page);
    if page_records.is_empty() {
        return Ok(empty_response(if since.is_some() { 304 } else { 204 }));
    }
    let rows: Vec<Value> = page_records
        .iter()
        .map(|r| store.render_selected(meta, &fields, r))
        .collect();
    let count = rows.len();
    let served = served_before + count;
    let expiry_secs =
        time::now_secs() + i64::try_from(config.page_token_ttl.as_secs()).unwrap_or(i64::MAX / 4);
    let (next, prev) = {
        let mut tokens = lock(&shared.page_tokens);
        let prev = token_used
            .as_ref()
            .and_then(|t| tokens.map.get(t))
            .and_then(|s| s.prev.clone());
        let next = if more {
            let token = random_token().replace('.', "");
            if tokens.map.len() > 100_000 {
                let now = Instant::now();
                tokens.map.retain(|_, s| s.expires > now);
            }
            let last = page_records.last().map(|r| sort.key(r)).unwrap_or_default();
            tokens.map.insert(
                token.clone(),
                PageToken {
                    binding: bound_to,
                    after: last,
                    served,
                    page: page_no,
                    expires: Instant::now() + config.page_token_ttl,
                    prev: token_used.clone(),
                },
            );
            Some(token)
        } else {
            None
        };
        (next, prev)
    };
    lock(&shared.stats).record_records(count);
    let body = json!({
        "data": rows,
        "info": {
            "call": false,
            "per_page": per_page,
            "next_page_token": next,
            "count": count,
            "sort_by": sort.api(),
            "page": page_no,
            "previous_page_token": prev,
            "page_token_expiry": next.as_ref().map(|_| store.fmt_time(expiry_secs)),
            "sort_order": if asc { "asc" } else { "desc" },
            "email": false,
            "more_records": more,
        },
    });
    Ok(json_response(200, &body))
}

pub(crate) fn get(
    shared: &Shared,
    req: &Req,
    module: &str,
    id: &str,
) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Read)?;
    let meta = &shared.meta;
    let Some(mmeta) = meta.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let fields = fields_param(mmeta, req, false)?;
    let store = shared.read();
    let record = parse_id(id).and_then(|id| store.module(mmeta.api_name)?.records.get(&id));
    let Some(record) = record else {
        return Ok(empty_response(204));
    };
    let row = match &fields {
        Some(fields) => store.render_selected(meta, fields, record),
        None => store.render_full(meta, mmeta, record),
    };
    lock(&shared.stats).record_records(1);
    Ok(json_response(200, &json!({ "data": [row] })))
}

pub(crate) fn count(shared: &Shared, req: &Req, module: &str) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Read)?;
    let store = shared.read();
    let n = store.module(module).map_or(0, |d| d.records.len());
    Ok(json_response(200, &json!({ "count": n })))
}

pub(crate) fn deleted(shared: &Shared, req: &Req, module: &str) -> Result<Response, ApiError> {
    req.need("modules", Some(module), Op::Read)?;
    let kind = match req.param("type") {
        None | Some("") | Some("all") => None,
        Some("recycle") => Some(false),
        Some("permanent") => Some(true),
        Some(_) => return Err(ApiError::invalid_param("type", "invalid data")),
    };
    let (page, per_page) = paging(req)?;
    let since = req.if_modified_since()?;
    let store = shared.read();
    let Some(data) = store.module(module) else {
        return Err(ApiError::invalid_module_in_path());
    };
    let matching: Vec<&Deleted> = data
        .deleted
        .iter()
        .rev()
        .filter(|d| kind.is_none_or(|p| d.permanent == p))
        .filter(|d| since.is_none_or(|s| d.deleted_time >= s))
        .collect();
    let start = (page - 1).saturating_mul(per_page);
    let rows: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(per_page)
        .map(|d| {
            json!({
                "deleted_by": store.user_ref(d.deleted_by),
                "id": d.id.to_string(),
                "display_name": d.display_name,
                "type": if d.permanent { "permanent" } else { "recycle" },
                "created_by": store.user_ref(d.created_by),
                "deleted_time": store.fmt_time(d.deleted_time),
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(empty_response(if since.is_some() { 304 } else { 204 }));
    }
    let body = json!({
        "data": rows,
        "info": {
            "per_page": per_page,
            "count": rows.len(),
            "page": page,
            "more_records": matching.len() > start + rows.len(),
        },
    });
    Ok(json_response(200, &body))
}

#[cfg(test)]
mod tests {
    use super::super::store::index_key;
    use super::*;

    #[test]
    fn validators() {
        assert!(valid_email("a.b+c@example.co"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@example.com"));
        assert!(!valid_email("@example.com"));
        assert!(valid_phone("+1 (555) 010-0100 x12"));
        assert!(!valid_phone("call me"));
        let n = |v: Value| match v {
            Value::Number(n) => number_shape(&n),
            _ => None,
        };
        assert_eq!(n(json!(1234.56)), Some((4, 2)));
        assert_eq!(n(json!(-12)), Some((2, 0)));
        assert_eq!(n(json!(0.125)), Some((1, 3)));
        assert_eq!(index_key(&json!("A@B.com")).as_deref(), Some("a@b.com"));
    }
}
