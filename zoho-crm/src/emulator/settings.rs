//! Metadata endpoints: `/org`, `/settings/modules`, `/settings/fields`,
//! `/settings/roles`, `/settings/profiles`.

use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::meta::ID_BASE;
use super::oauth::Op;
use super::server::{Req, Shared, empty_response, json_response};
use super::store::parse_id;

pub(crate) fn org(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    req.need("org", None, Op::Read)?;
    let store = shared.read();
    let admin = store.users.get(&store.admin_id);
    let email = admin.map(|u| u.str("email").to_owned());
    let org_id = &shared.config.org_id;
    let body = json!({"org": [{
        "id": (ID_BASE + 1_000).to_string(),
        "zgid": org_id,
        "domain_name": format!("org{org_id}"),
        "company_name": "Zylker (Zoho CRM emulator)",
        "primary_email": email,
        "primary_zuid": admin.map(|u| u.str("zuid").to_owned()),
        "alias": null,
        "phone": "+1 555 0100",
        "mobile": null,
        "fax": null,
        "website": "https://zylker.example",
        "employee_count": "100",
        "description": null,
        "time_zone": shared.config.time_zone,
        "iso_code": "USD",
        "currency": "US Dollar - USD",
        "currency_locale": "en_US",
        "currency_symbol": "$",
        "country": "United States",
        "country_code": "US",
        "city": "Pleasanton",
        "state": "CA",
        "street": null,
        "zip": null,
        "mc_status": false,
        "gapps_enabled": false,
        "privacy_settings": false,
        "hipaa_compliance_enabled": false,
        "type": "production",
        "max_per_page": 200,
        "license_details": {
            "paid_expiry": null,
            "users_license_purchased": 100,
            "trial_type": null,
            "trial_expiry": null,
            "paid": true,
            "paid_type": "enterprise",
        },
    }]});
    Ok(json_response(200, &body))
}

pub(crate) fn modules(
    shared: &Shared,
    req: &Req,
    name: Option<&str>,
) -> Result<Response, ApiError> {
    req.need("settings", Some("modules"), Op::Read)?;
    let store = shared.read();
    let profiles: Vec<(String, u64)> = store
        .profiles
        .iter()
        .map(|p| (p.name.to_owned(), p.id))
        .collect();
    let modules: Vec<Value> = match name {
        None => shared
            .meta
            .modules
            .iter()
            .map(|m| m.to_json(&profiles))
            .collect(),
        Some(name) => match shared.meta.any_module(name) {
            Some(m) => vec![m.to_json(&profiles)],
            None => return Err(ApiError::invalid_module_in_path()),
        },
    };
    Ok(json_response(200, &json!({ "modules": modules })))
}

pub(crate) fn fields(shared: &Shared, req: &Req, id: Option<&str>) -> Result<Response, ApiError> {
    req.need("settings", Some("fields"), Op::Read)?;
    let Some(name) = req.param("module").filter(|m| !m.is_empty()) else {
        return Err(ApiError::required_param("module"));
    };
    let Some(module) = shared.meta.any_module(name) else {
        return Err(ApiError::invalid_module_param("module"));
    };
    if module.fields.is_empty() {
        return Ok(empty_response(204));
    }
    match id {
        None => Ok(json_response(200, &shared.meta.fields_json(module))),
        Some(id) => {
            let field = parse_id(id).and_then(|id| module.fields.iter().find(|f| f.id == id));
            match field {
                Some(f) => Ok(json_response(
                    200,
                    &json!({"fields": [f.to_json(&shared.meta)]}),
                )),
                None => Err(ApiError::invalid_data(
                    "the id given seems to be invalid",
                    json!({"resource_path_index": 2}),
                )),
            }
        }
    }
}

pub(crate) fn roles_or_profiles(
    shared: &Shared,
    req: &Req,
    kind: &str,
    id: Option<&str>,
) -> Result<Response, ApiError> {
    req.need("settings", Some(kind), Op::Read)?;
    let store = shared.read();
    let admin = store.user_ref(store.admin_id);
    let list = if kind == "roles" {
        &store.roles
    } else {
        &store.profiles
    };
    let wanted = id.map(parse_id);
    let items: Vec<Value> = list
        .iter()
        .enumerate()
        .filter(|(_, n)| wanted.is_none_or(|w| w == Some(n.id)))
        .map(|(i, n)| {
            if kind == "roles" {
                let reporting_to = if i == 0 {
                    Value::Null
                } else {
                    json!({"name": list[i - 1].name, "id": list[i - 1].id.to_string()})
                };
                json!({
                    "display_label": n.name,
                    "forecast_manager": null,
                    "share_with_peers": i == 0,
                    "modified_by": null,
                    "description": n.description,
                    "id": n.id.to_string(),
                    "reporting_to": reporting_to,
                    "admin_user": i == 0,
                    "name": n.name,
                })
            } else {
                json!({
                    "display_label": n.name,
                    "created_time": null,
                    "modified_time": null,
                    "custom": i > 1,
                    "name": n.name,
                    "modified_by": null,
                    "description": n.description,
                    "id": n.id.to_string(),
                    "category": false,
                    "created_by": if i > 1 { admin.clone() } else { Value::Null },
                    "default": i == 0,
                })
            }
        })
        .collect();
    if id.is_some() && items.is_empty() {
        return Err(ApiError::invalid_data(
            "the id given seems to be invalid",
            json!({"resource_path_index": 2}),
        ));
    }
    let mut body = serde_json::Map::new();
    body.insert(kind.to_owned(), Value::Array(items));
    Ok(json_response(200, &Value::Object(body)))
}
