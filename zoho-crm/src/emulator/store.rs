//! The in-memory data: users, roles, profiles and the records of every module, with
//! the indexes paging, incremental reads and duplicate checks need.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::FixedOffset;
use serde_json::{Map, Value, json};

use super::meta::{DataType, FieldMeta, ID_BASE, Meta, ModuleMeta};
use super::time;

/// One record: its id, times (seconds) and fields as Zoho shows them, except that
/// lookups (owners included) are stored as bare id strings, to keep 250,000 records
/// small; they become `{"name","id"}` (owners also `email`) when rendered.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) id: u64,
    pub(crate) created: i64,
    pub(crate) modified: i64,
    pub(crate) value: Map<String, Value>,
}

/// A deleted record, for `GET /{module}/deleted`.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub(crate) id: u64,
    pub(crate) display_name: Value,
    pub(crate) deleted_time: i64,
    pub(crate) deleted_by: u64,
    pub(crate) created_by: u64,
    pub(crate) permanent: bool,
}

/// The records of one module.
#[derive(Debug, Default)]
pub(crate) struct ModuleData {
    pub(crate) records: BTreeMap<u64, Record>,
    pub(crate) by_modified: BTreeSet<(i64, u64)>,
    pub(crate) by_created: BTreeSet<(i64, u64)>,
    /// Indexed field → lowercase value → ids (ascending).
    pub(crate) index: HashMap<&'static str, HashMap<String, Vec<u64>>>,
    pub(crate) deleted: Vec<Deleted>,
    pub(crate) seeded: u64,
}

/// Lowercase text of a value, for duplicate checks.
pub(crate) fn index_key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("id").and_then(index_key),
        _ => None,
    }
}

impl ModuleData {
    fn new(indexed: &[&'static str]) -> Self {
        Self {
            index: indexed.iter().map(|f| (*f, HashMap::new())).collect(),
            ..Self::default()
        }
    }

    pub(crate) fn insert(&mut self, record: Record) {
        for (field, map) in &mut self.index {
            if let Some(key) = record.value.get(*field).and_then(index_key) {
                let ids = map.entry(key).or_default();
                match ids.last() {
                    Some(last) if *last > record.id => {
                        if let Err(at) = ids.binary_search(&record.id) {
                            ids.insert(at, record.id);
                        }
                    }
                    Some(last) if *last == record.id => {}
                    _ => ids.push(record.id),
                }
            }
        }
        self.by_modified.insert((record.modified, record.id));
        self.by_created.insert((record.created, record.id));
        self.records.insert(record.id, record);
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<Record> {
        let record = self.records.remove(&id)?;
        for (field, map) in &mut self.index {
            if let Some(key) = record.value.get(*field).and_then(index_key)
                && let Some(ids) = map.get_mut(&key)
            {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    map.remove(&key);
                }
            }
        }
        self.by_modified.remove(&(record.modified, id));
        self.by_created.remove(&(record.created, id));
        Some(record)
    }

    /// Ids of records whose indexed `field` equals `value` (ignoring case).
    pub(crate) fn find(&self, field: &str, value: &Value) -> Option<&Vec<u64>> {
        let key = index_key(value)?;
        self.index.get(field)?.get(&key)
    }
}

/// A role or profile.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
}

/// A CRM user.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) id: u64,
    pub(crate) modified: i64,
    pub(crate) value: Map<String, Value>,
}

impl UserRec {
    pub(crate) fn str(&self, key: &str) -> &str {
        self.value.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn status(&self) -> &str {
        self.str("status")
    }

    pub(crate) fn confirmed(&self) -> bool {
        self.value
            .get("confirm")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub(crate) fn profile_name(&self) -> &str {
        self.value
            .get("profile")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Everything the emulator holds.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) modules: HashMap<&'static str, ModuleData>,
    pub(crate) users: BTreeMap<u64, UserRec>,
    pub(crate) roles: Vec<Named>,
    pub(crate) profiles: Vec<Named>,
    pub(crate) admin_id: u64,
    pub(crate) offset: FixedOffset,
    pub(crate) time_zone: String,
    next_id: u64,
    /// The next distinct second handed to a seeded record or user.
    pub(crate) seed_clock: i64,
    pub(crate) seeded_users: u64,
}

/// How a new user is described.
#[derive(Debug, Clone)]
pub(crate) struct NewUser {
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: String,
    pub(crate) email: String,
    pub(crate) role: u64,
    pub(crate) profile: u64,
    pub(crate) status: &'static str,
    pub(crate) confirm: bool,
    pub(crate) phone: Option<String>,
    pub(crate) mobile: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) country: Option<String>,
}

impl Store {
    pub(crate) fn new(meta: &Meta, offset: FixedOffset, time_zone: &str) -> Self {
        let modules = meta
            .modules
            .iter()
            .filter(|m| m.has_records())
            .map(|m| (m.api_name, ModuleData::new(&m.indexed_fields())))
            .collect();
        let roles = vec![
            Named {
                id: ID_BASE + 26_005,
                name: "CEO",
                description: "Users with this role have access to the data owned by all other users.",
            },
            Named {
                id: ID_BASE + 26_008,
                name: "Manager",
                description: "Users belonging to this role cannot see data for admin users.",
            },
            Named {
                id: ID_BASE + 26_011,
                name: "Sales Representative",
                description: "Sees the records they own.",
            },
        ];
        let profiles = vec![
            Named {
                id: ID_BASE + 26_014,
                name: "Administrator",
                description: "This profile will have all the permissions.",
            },
            Named {
                id: ID_BASE + 26_017,
                name: "Standard",
                description: "This profile will have all the permissions except administrative privileges.",
            },
            Named {
                id: ID_BASE + 26_020,
                name: "Sales",
                description: "Sales users: create and edit their own records.",
            },
        ];
        let now = time::now_secs();
        let mut store = Self {
            modules,
            users: BTreeMap::new(),
            roles,
            profiles,
            admin_id: 0,
            offset,
            time_zone: time_zone.to_owned(),
            next_id: ID_BASE + 1_000_001,
            // 90 days back: room for millions of distinct seeded timestamps that
            // are all older than anything written through the API.
            seed_clock: now - 90 * 24 * 3600,
            seeded_users: 0,
        };
        let admin = NewUser {
            first_name: Some("Patricia".to_owned()),
            last_name: "Boyle".to_owned(),
            email: "patricia.boyle@zylker.example".to_owned(),
            role: store.roles[0].id,
            profile: store.profiles[0].id,
            status: "active",
            confirm: true,
            phone: Some("+1 555 0100".to_owned()),
            mobile: None,
            city: Some("Pleasanton".to_owned()),
            country: Some("United States".to_owned()),
        };
        let at = store.next_seed_time();
        store.admin_id = store.add_user(&admin, at, None);
        store
    }

    /// A new 19-digit id.
    pub(crate) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The next distinct second for seeded data.
    pub(crate) fn next_seed_time(&mut self) -> i64 {
        let t = self.seed_clock;
        self.seed_clock += 1;
        t
    }

    pub(crate) fn fmt_time(&self, secs: i64) -> String {
        time::format(secs, self.offset)
    }

    pub(crate) fn module(&self, name: &str) -> Option<&ModuleData> {
        self.modules.get(name)
    }

    pub(crate) fn module_mut(&mut self, name: &str) -> Option<&mut ModuleData> {
        self.modules.get_mut(name)
    }

    pub(crate) fn role(&self, id: u64) -> Option<&Named> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub(crate) fn profile(&self, id: u64) -> Option<&Named> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// `{"name","id"}` of a user (for `created_by`, `Modified_By`, ...).
    pub(crate) fn user_ref(&self, id: u64) -> Value {
        let name = self
            .users
            .get(&id)
            .map(|u| u.str("full_name").to_owned())
            .unwrap_or_default();
        json!({"name": name, "id": id.to_string()})
    }

    /// `{"name","id","email"}` of a user (record owners and audit fields).
    pub(crate) fn owner_ref(&self, id: u64) -> Value {
        match self.users.get(&id) {
            Some(u) => json!({
                "name": u.str("full_name"),
                "id": id.to_string(),
                "email": u.str("email"),
            }),
            None => json!({"name": null, "id": id.to_string(), "email": null}),
        }
    }

    /// Adds a user; returns its id.
    pub(crate) fn add_user(&mut self, new: &NewUser, at: i64, created_by: Option<u64>) -> u64 {
        let id = self.next_id();
        let n = id - ID_BASE;
        let full_name = match &new.first_name {
            Some(first) if !first.is_empty() => format!("{first} {}", new.last_name),
            _ => new.last_name.clone(),
        };
        let creator = created_by.unwrap_or(id);
        let role = self
            .role(new.role)
            .map(|r| json!({"name": r.name, "id": r.id.to_string()}))
            .unwrap_or(Value::Null);
        let profile = self
            .profile(new.profile)
            .map(|p| json!({"name": p.name, "id": p.id.to_string()}))
            .unwrap_or(Value::Null);
        let stamp = self.fmt_time(at);
        let creator_ref = if creator == id {
            json!({"name": full_name, "id": id.to_string()})
        } else {
            self.user_ref(creator)
        };
        let offset_ms = i64::from(self.offset.local_minus_utc()) * 1000;
        let value = json!({
            "id": id.to_string(),
            "zuid": (700_000_000 + n % 100_000_000).to_string(),
            "first_name": new.first_name,
            "last_name": new.last_name,
            "full_name": full_name,
            "email": new.email,
            "status": new.status,
            "confirm": new.confirm,
            "role": role,
            "profile": profile,
            "created_by": creator_ref,
            "created_time": stamp,
            "Modified_By": creator_ref,
            "Modified_Time": stamp,
            "time_zone": self.time_zone,
            "locale": "en_US",
            "language": "en_US",
            "country_locale": "en_US",
            "date_format": "MM-dd-yyyy",
            "time_format": "hh:mm a",
            "offset": offset_ms,
        });
        let rest = json!({
            "type__s": "Regular User",
            "Reporting_To": null,
            "Isonline": false,
            "microsoft": false,
            "personal_account": false,
            "sandboxDeveloper": false,
            "name_format__s": "Salutation,First Name,Last Name",
            "sort_order_preference__s": "First Name,Last Name",
            "status_reason__s": null,
            "decimal_separator": "Period",
            "number_separator": "Comma",
            "alias": null,
            "phone": new.phone,
            "mobile": new.mobile,
            "fax": null,
            "website": null,
            "dob": null,
            "street": null,
            "city": new.city,
            "state": null,
            "zip": null,
            "country": new.country,
            "signature": null,
            "$current_shift": null,
            "$next_shift": null,
            "$shift_effective_from": null,
            "default_tab_group": "0",
            "theme": {
                "normal_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                "selected_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                "new_background": null,
                "background": "#F3F0EB",
                "screen": "fixed",
                "type": "default",
            },
            "customize_info": {
                "notes_desc": null,
                "show_right_panel": null,
                "bc_view": null,
                "show_home": false,
                "show_detail_view": true,
                "unpin_recent_item": null,
            },
        });
        let (Value::Object(mut value), Value::Object(rest)) = (value, rest) else {
            return id;
        };
        value.extend(rest);
        self.users.insert(
            id,
            UserRec {
                id,
                modified: at,
                value,
            },
        );
        id
    }

    /// Sets a user's `Modified_Time`/`Modified_By`.
    pub(crate) fn stamp_user(&mut self, id: u64, at: i64, by: u64) {
        let stamp = self.fmt_time(at);
        let by_ref = self.user_ref(by);
        if let Some(user) = self.users.get_mut(&id) {
            user.modified = at;
            user.value
                .insert("Modified_Time".to_owned(), Value::String(stamp));
            user.value.insert("Modified_By".to_owned(), by_ref);
        }
    }

    /// The active users, in id order (record owners are picked from them).
    pub(crate) fn active_user_ids(&self) -> Vec<u64> {
        self.users
            .values()
            .filter(|u| u.status() == "active")
            .map(|u| u.id)
            .collect()
    }

    /// The display name of a record (the module's display field), or null.
    pub(crate) fn display_name(&self, meta: &Meta, module: &str, id: u64) -> Value {
        let Some(m) = meta.module(module) else {
            return Value::Null;
        };
        self.modules
            .get(m.api_name)
            .and_then(|d| d.records.get(&id))
            .and_then(|r| r.value.get(m.display_field))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// A stored value as the records API shows it: lookups get `name` (and owners
    /// `email`).
    pub(crate) fn render_value(&self, meta: &Meta, field: &FieldMeta, stored: &Value) -> Value {
        match field.data_type {
            DataType::Lookup => match lookup_id(stored) {
                Some(id) => {
                    let name = field
                        .lookup
                        .map_or(Value::Null, |m| self.display_name(meta, m, id));
                    json!({"name": name, "id": id.to_string()})
                }
                None => Value::Null,
            },
            DataType::OwnerLookup => match lookup_id(stored) {
                Some(id) => self.owner_ref(id),
                None => Value::Null,
            },
            _ => stored.clone(),
        }
    }

    /// Every field of the module (null when empty) plus `id`.
    pub(crate) fn render_full(&self, meta: &Meta, module: &ModuleMeta, record: &Record) -> Value {
        let mut out = Map::with_capacity(module.fields.len() + 1);
        out.insert("id".to_owned(), Value::String(record.id.to_string()));
        for field in &module.fields {
            let value = record
                .value
                .get(field.api_name)
                .map_or(Value::Null, |v| self.render_value(meta, field, v));
            out.insert(field.api_name.to_owned(), value);
        }
        Value::Object(out)
    }

    /// The given fields (null when empty) plus `id`.
    pub(crate) fn render_selected(
        &self,
        meta: &Meta,
        fields: &[&FieldMeta],
        record: &Record,
    ) -> Value {
        let mut out = Map::with_capacity(fields.len() + 1);
        for field in fields {
            let value = record
                .value
                .get(field.api_name)
                .map_or(Value::Null, |v| self.render_value(meta, field, v));
            out.insert(field.api_name.to_owned(), value);
        }
        out.insert("id".to_owned(), Value::String(record.id.to_string()));
        Value::Object(out)
    }

    /// The stored fields only (no nulls), lookups rendered.
    pub(crate) fn render_stored(&self, meta: &Meta, module: &ModuleMeta, record: &Record) -> Value {
        let mut out = Map::with_capacity(record.value.len());
        for (key, value) in &record.value {
            let rendered = match module.field(key) {
                Some(field) => self.render_value(meta, field, value),
                None => value.clone(),
            };
            out.insert(key.clone(), rendered);
        }
        Value::Object(out)
    }
}

/// The id of a stored lookup (`{"id": "..."}` or a bare id string).
pub(crate) fn lookup_id(value: &Value) -> Option<u64> {
    match value {
        Value::Object(o) => o.get("id").and_then(lookup_id),
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Parses a record or user id given as a string.
pub(crate) fn parse_id(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
