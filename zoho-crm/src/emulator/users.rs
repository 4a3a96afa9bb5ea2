//! The Users API: `GET/POST/PUT /users`, `GET/PUT/DELETE /users/{id}`,
//! `GET /users/actions/count`.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::oauth::Op;
use super::records::valid_email;
use super::server::{Req, Shared, empty_response, json_response};
use super::store::{NewUser, Store, UserRec, lookup_id, parse_id};
use super::time;

const TYPES: &[&str] = &[
    "AllUsers",
    "ActiveUsers",
    "DeactiveUsers",
    "ConfirmedUsers",
    "NotConfirmedUsers",
    "DeletedUsers",
    "ActiveConfirmedUsers",
    "AdminUsers",
    "ActiveConfirmedAdmins",
    "CurrentUser",
];

fn user_type(req: &Req) -> Result<&str, ApiError> {
    match req.param("type") {
        None | Some("") => Ok("AllUsers"),
        Some(t) => TYPES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(t))
            .copied()
            .ok_or_else(|| ApiError::invalid_param("type", "invalid data")),
    }
}

fn matches_type(user: &UserRec, kind: &str, current: u64) -> bool {
    let status = user.status();
    let deleted = status == "deleted";
    let admin = user.profile_name() == "Administrator";
    match kind {
        "ActiveUsers" => status == "active",
        "DeactiveUsers" => status == "inactive",
        "ConfirmedUsers" => !deleted && user.confirmed(),
        "NotConfirmedUsers" => !deleted && !user.confirmed(),
        "DeletedUsers" => deleted,
        "ActiveConfirmedUsers" => status == "active" && user.confirmed(),
        "AdminUsers" => !deleted && admin,
        "ActiveConfirmedAdmins" => status == "active" && user.confirmed() && admin,
        "CurrentUser" => user.id == current,
        _ => !deleted,
    }
}

/// Parses `page` (≥ 1) and `per_page` (1..=200).
pub(crate) fn paging(req: &Req) -> Result<(usize, usize), ApiError> {
    let page = match req.param("page") {
        None | Some("") => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ApiError::invalid_param("page", "invalid data"))?,
    };
    let per_page = match req.param("per_page") {
        None | Some("") => 200,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=200).contains(p))
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_DATA",
                    "per_page should be between 1 and 200",
                    json!({"param_name": "per_page", "maximum_length": 200}),
                )
            })?,
    };
    Ok((page, per_page))
}

/// Parses `ids` (comma-separated, at most 100).
pub(crate) fn ids_param(req: &Req) -> Result<Option<Vec<u64>>, ApiError> {
    let Some(text) = req.param("ids").filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ids.push(parse_id(part).ok_or_else(|| ApiError::invalid_param("ids", "invalid data"))?);
    }
    if ids.len() > 100 {
        return Err(ApiError::limit_exceeded(
            "the ids given exceed the limit of 100",
            json!({"param_name": "ids", "limit": 100}),
        ));
    }
    Ok(Some(ids))
}

pub(crate) fn list(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    req.need("users", None, Op::Read)?;
    let kind = user_type(req)?;
    let (page, per_page) = paging(req)?;
    let ids = ids_param(req)?;
    let since = req.if_modified_since()?;
    let store = shared.read();
    let matching: Vec<&UserRec> = store
        .users
        .values()
        .filter(|u| matches_type(u, kind, req.token.user_id))
        .filter(|u| ids.as_ref().is_none_or(|ids| ids.contains(&u.id)))
        .filter(|u| since.is_none_or(|s| u.modified >= s))
        .collect();
    let start = (page - 1).saturating_mul(per_page);
    let page_items: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(per_page)
        .map(|u| Value::Object(u.value.clone()))
        .collect();
    if page_items.is_empty() {
        return Ok(empty_response(if since.is_some() { 304 } else { 204 }));
    }
    let more = matching.len() > start + page_items.len();
    let body = json!({
        "users": page_items,
        "info": {
            "per_page": per_page,
            "count": page_items.len(),
            "page": page,
            "more_records": more,
        },
    });
    Ok(json_response(200, &body))
}

pub(crate) fn count(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    req.need("users", None, Op::Read)?;
    let kind = user_type(req)?;
    let store = shared.read();
    let n = store
        .users
        .values()
        .filter(|u| matches_type(u, kind, req.token.user_id))
        .count();
    Ok(json_response(200, &json!({ "count": n })))
}

pub(crate) fn get(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    req.need("users", None, Op::Read)?;
    let store = shared.read();
    match parse_id(id).and_then(|id| store.users.get(&id)) {
        Some(user) => Ok(json_response(
            200,
            &json!({ "users": [Value::Object(user.value.clone())] }),
        )),
        None => Ok(empty_response(204)),
    }
}

fn result(code: &str, message: &str, details: Value, status: &str) -> Value {
    json!({"code": code, "details": details, "message": message, "status": status})
}

fn user_error(code: &str, message: &str, api_name: &str) -> Value {
    result(
        code,
        message,
        json!({"api_name": api_name, "json_path": format!("$.users[0].{api_name}")}),
        "error",
    )
}

/// The one user object of a `{"users":[{...}]}` body.
fn single_user(req: &Req) -> Result<Map<String, Value>, ApiError> {
    let body = req.json_body()?;
    let Some(users) = body.get("users").and_then(Value::as_array) else {
        return Err(ApiError::invalid_data(
            "invalid data",
            json!({"api_name": "users", "expected_data_type": "jsonarray"}),
        ));
    };
    if users.len() > 1 {
        return Err(ApiError::limit_exceeded(
            "only one user can be added or updated per request",
            json!({"api_name": "users", "limit": 1}),
        ));
    }
    match users.first() {
        Some(Value::Object(user)) => Ok(user.clone()),
        _ => Err(ApiError::invalid_data(
            "invalid data",
            json!({"api_name": "users", "expected_data_type": "jsonobject"}),
        )),
    }
}

fn str_field<'a>(user: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    user.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn reply(status: u16, item: Value) -> Response {
    json_response(status, &json!({ "users": [item] }))
}

fn email_taken(store: &Store, email: &str, except: Option<u64>) -> bool {
    store.users.values().any(|u| {
        Some(u.id) != except
            && u.status() != "deleted"
            && u.str("email").eq_ignore_ascii_case(email)
    })
}

pub(crate) fn create(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    req.need("users", None, Op::Create)?;
    let user = single_user(req)?;
    let mut store = shared.write();
    let Some(last_name) = str_field(&user, "last_name") else {
        return Ok(reply(
            400,
            user_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                "last_name",
            ),
        ));
    };
    let Some(email) = str_field(&user, "email") else {
        return Ok(reply(
            400,
            user_error("MANDATORY_NOT_FOUND", "required field not found", "email"),
        ));
    };
    if !valid_email(email) {
        return Ok(reply(
            400,
            user_error("INVALID_DATA", "invalid data", "email"),
        ));
    }
    let Some(role) = user.get("role") else {
        return Ok(reply(
            400,
            user_error("MANDATORY_NOT_FOUND", "required field not found", "role"),
        ));
    };
    let Some(role) = lookup_id(role).filter(|id| store.role(*id).is_some()) else {
        return Ok(reply(
            400,
            user_error("INVALID_DATA", "invalid data", "role"),
        ));
    };
    let Some(profile) = user.get("profile") else {
        return Ok(reply(
            400,
            user_error("MANDATORY_NOT_FOUND", "required field not found", "profile"),
        ));
    };
    let Some(profile) = lookup_id(profile).filter(|id| store.profile(*id).is_some()) else {
        return Ok(reply(
            400,
            user_error("INVALID_DATA", "invalid data", "profile"),
        ));
    };
    if email_taken(&store, email, None) {
        return Ok(reply(
            400,
            user_error("DUPLICATE_DATA", "duplicate data", "email"),
        ));
    }
    let new = NewUser {
        first_name: str_field(&user, "first_name").map(str::to_owned),
        last_name: last_name.to_owned(),
        email: email.to_owned(),
        role,
        profile,
        status: "active",
        confirm: false,
        phone: str_field(&user, "phone").map(str::to_owned),
        mobile: str_field(&user, "mobile").map(str::to_owned),
        city: str_field(&user, "city").map(str::to_owned),
        country: str_field(&user, "country").map(str::to_owned),
    };
    let id = store.add_user(&new, time::now_secs(), Some(req.token.user_id));
    Ok(reply(
        201,
        result(
            "SUCCESS",
            "User added",
            json!({"id": id.to_string()}),
            "success",
        ),
    ))
}

/// Keys `PUT /users` may change as plain strings.
const EDITABLE: &[&str] = &[
    "first_name",
    "alias",
    "phone",
    "mobile",
    "fax",
    "website",
    "dob",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "signature",
    "locale",
    "language",
    "country_locale",
    "date_format",
    "time_format",
    "time_zone",
    "name_format__s",
    "sort_order_preference__s",
    "decimal_separator",
    "number_separator",
];

pub(crate) fn update(
    shared: &Shared,
    req: &Req,
    path_id: Option<&str>,
) -> Result<Response, ApiError> {
    req.need("users", None, Op::Update)?;
    let user = single_user(req)?;
    let id_text = path_id
        .map(str::to_owned)
        .or_else(|| user.get("id").and_then(lookup_id).map(|id| id.to_string()));
    let Some(id_text) = id_text else {
        return Ok(reply(
            400,
            user_error("MANDATORY_NOT_FOUND", "required field not found", "id"),
        ));
    };
    let mut store = shared.write();
    let Some(id) = parse_id(&id_text).filter(|id| store.users.contains_key(id)) else {
        return Ok(reply(
            400,
            user_error("INVALID_DATA", "the id given seems to be invalid", "id"),
        ));
    };
    let Some(current) = store.users.get(&id).cloned() else {
        return Ok(reply(
            400,
            user_error("INVALID_DATA", "the id given seems to be invalid", "id"),
        ));
    };
    if current.status() == "deleted" {
        return Ok(reply(
            400,
            result(
                "CANNOT_UPDATE_DELETED_USER",
                "the user has been deleted and cannot be updated",
                json!({"id": id.to_string()}),
                "error",
            ),
        ));
    }
    let mut value = current.value.clone();
    if let Some(status) = user.get("status") {
        match status.as_str() {
            Some("active") | Some("inactive") => {
                if id == store.admin_id && status.as_str() == Some("inactive") {
                    return Ok(reply(
                        400,
                        user_error(
                            "NOT_ALLOWED",
                            "the primary contact cannot be deactivated",
                            "status",
                        ),
                    ));
                }
                value.insert("status".to_owned(), status.clone());
            }
            _ => {
                return Ok(reply(
                    400,
                    user_error("INVALID_DATA", "invalid data", "status"),
                ));
            }
        }
    }
    if let Some(email) = user.get("email") {
        let Some(email) = email.as_str().filter(|e| valid_email(e)) else {
            return Ok(reply(
                400,
                user_error("INVALID_DATA", "invalid data", "email"),
            ));
        };
        if !email.eq_ignore_ascii_case(current.str("email")) {
            if current.confirmed() {
                return Ok(reply(
                    400,
                    user_error(
                        "NOT_ALLOWED",
                        "the email of a confirmed user cannot be changed",
                        "email",
                    ),
                ));
            }
            if email_taken(&store, email, Some(id)) {
                return Ok(reply(
                    400,
                    user_error("DUPLICATE_DATA", "duplicate data", "email"),
                ));
            }
            value.insert("email".to_owned(), Value::String(email.to_owned()));
        }
    }
    for (key, kind) in [("role", true), ("profile", false)] {
        if let Some(v) = user.get(key) {
            let found = lookup_id(v).and_then(|rid| {
                if kind {
                    store.role(rid)
                } else {
                    store.profile(rid)
                }
            });
            let Some(found) = found else {
                return Ok(reply(400, user_error("INVALID_DATA", "invalid data", key)));
            };
            value.insert(
                key.to_owned(),
                json!({"name": found.name, "id": found.id.to_string()}),
            );
        }
    }
    if let Some(last) = user.get("last_name") {
        match last.as_str().map(str::trim).filter(|s| !s.is_empty()) {
            Some(last) => {
                value.insert("last_name".to_owned(), Value::String(last.to_owned()));
            }
            None => {
                return Ok(reply(
                    400,
                    user_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        "last_name",
                    ),
                ));
            }
        }
    }
    for key in EDITABLE {
        if let Some(v) = user.get(*key) {
            if !(v.is_string() || v.is_null()) {
                return Ok(reply(400, user_error("INVALID_DATA", "invalid data", key)));
            }
            value.insert((*key).to_owned(), v.clone());
        }
    }
    let first = value
        .get("first_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let last = value
        .get("last_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let full = if first.is_empty() {
        last
    } else {
        format!("{first} {last}")
    };
    value.insert("full_name".to_owned(), Value::String(full));
    if let Some(u) = store.users.get_mut(&id) {
        u.value = value;
    }
    store.stamp_user(id, time::now_secs(), req.token.user_id);
    Ok(reply(
        200,
        result(
            "SUCCESS",
            "User updated",
            json!({"id": id.to_string()}),
            "success",
        ),
    ))
}

pub(crate) fn delete(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    req.need("users", None, Op::Delete)?;
    let mut store = shared.write();
    let Some(id) = parse_id(id).filter(|id| store.users.contains_key(id)) else {
        return Ok(reply(
            400,
            result(
                "INVALID_DATA",
                "the id given seems to be invalid",
                json!({"resource_path_index": 1}),
                "error",
            ),
        ));
    };
    if id == store.admin_id {
        return Ok(reply(
            400,
            result(
                "NOT_ALLOWED",
                "the primary contact cannot be deleted",
                json!({}),
                "error",
            ),
        ));
    }
    if store
        .users
        .get(&id)
        .is_some_and(|u| u.status() == "deleted")
    {
        return Ok(reply(
            400,
            result(
                "ID_ALREADY_DELETED",
                "the user has already been deleted",
                json!({"id": id.to_string()}),
                "error",
            ),
        ));
    }
    if let Some(u) = store.users.get_mut(&id) {
        u.value
            .insert("status".to_owned(), Value::String("deleted".to_owned()));
    }
    store.stamp_user(id, time::now_secs(), req.token.user_id);
    Ok(reply(
        200,
        result("SUCCESS", "User deleted", json!({}), "success"),
    ))
}
