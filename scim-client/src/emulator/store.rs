//! The in-memory resource store: users and groups as JSON, indexed by id and by
//! lowercase `userName`, with group memberships indexed for the users' computed
//! `groups` attribute.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::resource::{Purpose, Tolerance, normalize};
use super::schema::{Kind, PATCH_OP, Schemas};
use crate::patch::{ApplyOptions, PatchOp, PatchOpKind, PatchPath, PatchRequest};
use crate::path::get_ci;

/// What the store needs from the server: schemas, base URL, tolerance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) schemas: &'a Schemas,
    pub(crate) base_url: &'a str,
    pub(crate) tol: Tolerance,
}

/// One stored resource: its JSON (with `id`, `meta` and write-only attributes such
/// as `password`; without the computed `groups`), its insertion number and version.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub(crate) value: Value,
    pub(crate) version: u64,
}

impl Resource {
    pub(crate) fn id(&self) -> &str {
        self.value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The weak ETag, `W/"n"`.
    pub(crate) fn etag(&self) -> String {
        etag(self.version)
    }
}

pub(crate) fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

#[derive(Debug, Default)]
pub(crate) struct Collection {
    by_seq: BTreeMap<u64, Resource>,
    by_id: HashMap<String, u64>,
}

impl Collection {
    pub(crate) fn get(&self, id: &str) -> Option<&Resource> {
        self.by_id.get(id).and_then(|seq| self.by_seq.get(seq))
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Resource> {
        let seq = *self.by_id.get(id)?;
        self.by_seq.get_mut(&seq)
    }

    /// The resources in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.by_seq.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_seq.len()
    }

    fn insert(&mut self, seq: u64, resource: Resource) {
        self.by_id.insert(resource.id().to_owned(), seq);
        self.by_seq.insert(seq, resource);
    }

    fn remove(&mut self, id: &str) -> Option<Resource> {
        let seq = self.by_id.remove(id)?;
        self.by_seq.remove(&seq)
    }
}

/// All resources.
#[derive(Debug, Default)]
pub(crate) struct Store {
    users: Collection,
    groups: Collection,
    /// Lowercase `userName` → user id.
    user_names: HashMap<String, String>,
    /// Member id (a user's or a group's) → ids of the groups listing it in `members`.
    memberships: HashMap<String, BTreeSet<String>>,
    next_seq: u64,
    version: u64,
    last_time: Option<DateTime<Utc>>,
    pub(crate) seeded_users: u64,
    pub(crate) seeded_groups: u64,
}

/// A generated id shaped like a version 4 UUID.
pub(crate) fn new_id() -> String {
    let n: u128 = rand::random();
    let n = (n & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Reads a PATCH request body. Strict mode requires the PatchOp URN in `schemas`
/// and refuses `remove` with a `value` (`invalidValue`); Entra tolerance accepts
/// both (a legacy `remove` with a member list removes those members). Okta
/// tolerance accepts a missing `schemas`.
pub(crate) fn parse_patch(ctx: Ctx<'_>, body: &Value) -> Result<PatchRequest, ScimError> {
    if let Value::Object(obj) = body
        && !ctx.tol.unknown_ok()
        && get_ci(obj, "schemas").is_none()
    {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH request must list {PATCH_OP} in schemas"
        )));
    }
    let request = PatchRequest::from_json(body)
        .map_err(|e| ScimError::bad(e.scim_type(), e.detail().to_owned()))?;
    if !ctx.tol.entra {
        for (i, op) in request.operations.iter().enumerate() {
            if op.op == PatchOpKind::Remove && op.value.as_ref().is_some_and(|v| !v.is_null()) {
                return Err(ScimError::invalid_value(format!(
                    "operation {i}: remove takes no value (RFC 7644 §3.5.2.2); use a value path such as members[value eq \"id\"]"
                )));
            }
        }
    }
    Ok(request)
}

/// The extension URN a PATCH path names as a whole (e.g. `path` =
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`), if it does.
///
/// [`crate::patch`] reads such a path as the attribute `User` of a schema
/// `urn:...:enterprise:2.0`, which is one of the two readings the `attrPath`
/// grammar allows; scim2-tester means the whole extension, so the emulator handles
/// these operations itself.
fn whole_extension(ctx: Ctx<'_>, kind: Kind, op: &PatchOp) -> Option<&'static str> {
    let Some(PatchPath::Attr(attr)) = &op.path else {
        return None;
    };
    if attr.sub_attr.is_some() {
        return None;
    }
    let uri = attr.uri.as_deref()?;
    let full = format!("{uri}:{}", attr.name);
    ctx.schemas.extension(kind, &full).map(|s| s.id)
}

/// Applies a PATCH request to a stored resource, atomically.
fn apply_patch(
    ctx: Ctx<'_>,
    kind: Kind,
    doc: &mut Value,
    request: &PatchRequest,
) -> Result<(), ScimError> {
    let options = ApplyOptions::strict().create_unmatched(ctx.tol.entra);
    let failed = |e: crate::patch::PatchError| ScimError::bad(e.scim_type(), e.detail().to_owned());
    if !request
        .operations
        .iter()
        .any(|op| whole_extension(ctx, kind, op).is_some())
    {
        return request.apply_with(doc, &options).map_err(failed);
    }
    let mut work = doc.clone();
    for (i, op) in request.operations.iter().enumerate() {
        let context = |e: ScimError| ScimError {
            detail: format!("operation {i} ({op}): {}", e.detail),
            ..e
        };
        match whole_extension(ctx, kind, op) {
            Some(urn) if op.op == PatchOpKind::Remove => {
                if let Some(obj) = work.as_object_mut() {
                    obj.remove(urn);
                    if let Some(Value::Array(list)) = obj.get_mut("schemas") {
                        list.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
                    }
                }
            }
            Some(urn) => {
                let Some(value @ Value::Object(_)) = &op.value else {
                    return Err(context(ScimError::invalid_value(format!(
                        "{} of {urn} needs an object value",
                        op.op
                    ))));
                };
                let mut attributes = Map::new();
                attributes.insert(urn.to_owned(), value.clone());
                let single = PatchRequest::new().op(PatchOp {
                    op: op.op,
                    path: None,
                    value: Some(Value::Object(attributes)),
                });
                single
                    .apply_with(&mut work, &options)
                    .map_err(failed)
                    .map_err(context)?;
            }
            None => {
                let single = PatchRequest::new().op(op.clone());
                single
                    .apply_with(&mut work, &options)
                    .map_err(failed)
                    .map_err(|e| ScimError {
                        detail: e
                            .detail
                            .replacen("operation 0", &format!("operation {i}"), 1),
                        ..e
                    })?;
            }
        }
    }
    *doc = work;
    Ok(())
}

/// Whether an `If-Match` header value accepts the current version.
pub(crate) fn if_match_accepts(header: &str, version: u64) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag.trim_matches('"') == version.to_string()
    })
}

fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Store {
    pub(crate) fn collection(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    fn collection_mut(&mut self, kind: Kind) -> &mut Collection {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    pub(crate) fn get(&self, kind: Kind, id: &str) -> Option<&Resource> {
        self.collection(kind).get(id)
    }

    pub(crate) fn user_by_name(&self, user_name: &str) -> Option<&Resource> {
        self.user_names
            .get(&user_name.to_lowercase())
            .and_then(|id| self.users.get(id))
    }

    /// Drops every resource.
    pub(crate) fn clear(&mut self) {
        self.users = Collection::default();
        self.groups = Collection::default();
        self.user_names.clear();
        self.memberships.clear();
    }

    /// A timestamp strictly after the previous one, so `meta.lastModified gt` is exact.
    fn now(&mut self) -> String {
        let mut now = DateTime::<Utc>::from(SystemTime::now());
        if let Some(last) = self.last_time
            && now <= last
        {
            now = last + chrono::Duration::microseconds(1);
        }
        self.last_time = Some(now);
        format_time(now)
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    fn location(ctx: Ctx<'_>, kind: Kind, id: &str) -> String {
        format!("{}/{}/{id}", ctx.base_url, kind.endpoint())
    }

    fn check_user_name(
        &self,
        kind: Kind,
        attrs: &Map<String, Value>,
        own_id: Option<&str>,
    ) -> Result<(), ScimError> {
        if kind != Kind::User {
            return Ok(());
        }
        if let Some(Value::String(name)) = attrs.get("userName")
            && let Some(existing) = self.user_names.get(&name.to_lowercase())
            && Some(existing.as_str()) != own_id
        {
            return Err(ScimError::uniqueness(format!(
                "a user with userName {name:?} already exists"
            )));
        }
        Ok(())
    }

    /// POST: creates a resource from `body`; returns its id.
    pub(crate) fn create(
        &mut self,
        ctx: Ctx<'_>,
        kind: Kind,
        body: &Value,
    ) -> Result<String, ScimError> {
        let attrs = normalize(ctx.schemas, kind, body, ctx.tol, Purpose::Create, None)?;
        self.check_user_name(kind, &attrs, None)?;
        let id = new_id();
        let now = self.now();
        let version = self.next_version();
        let meta = json!({
            "resourceType": kind.name(),
            "created": now,
            "lastModified": now,
            "location": Self::location(ctx, kind, &id),
            "version": etag(version),
        });
        let value = assemble(&id, attrs, meta);
        self.index(kind, &id, None, Some(&value));
        self.next_seq += 1;
        let seq = self.next_seq;
        self.collection_mut(kind)
            .insert(seq, Resource { value, version });
        Ok(id)
    }

    fn existing(
        &self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<&Resource, ScimError> {
        let resource = self
            .get(kind, id)
            .ok_or_else(|| ScimError::not_found(format!("{} {id:?} not found", kind.name())))?;
        if let Some(header) = if_match
            && !if_match_accepts(header, resource.version)
        {
            return Err(ScimError::precondition_failed());
        }
        Ok(resource)
    }

    /// PUT: replaces the resource's attributes with `body`.
    pub(crate) fn replace(
        &mut self,
        ctx: Ctx<'_>,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let old = self.existing(kind, id, if_match)?;
        let old_map = old.value.as_object().cloned().unwrap_or_default();
        let mut attrs = normalize(
            ctx.schemas,
            kind,
            body,
            ctx.tol,
            Purpose::Replace,
            Some(&old_map),
        )?;
        // A write-only attribute cannot be read back, so a GET-then-PUT never carries it:
        // keep the stored one unless the body sets it.
        if let Some(password) = old_map.get("password")
            && !attrs.contains_key("password")
        {
            attrs.insert("password".into(), password.clone());
        }
        self.check_user_name(kind, &attrs, Some(id))?;
        self.write(ctx, kind, id, attrs);
        Ok(())
    }

    /// PATCH: applies `request` to the resource.
    pub(crate) fn patch(
        &mut self,
        ctx: Ctx<'_>,
        kind: Kind,
        id: &str,
        request: &PatchRequest,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let old = self.existing(kind, id, if_match)?;
        let mut doc = old.value.clone();
        apply_patch(ctx, kind, &mut doc, request)?;
        let old_map = old.value.as_object().cloned().unwrap_or_default();
        let attrs = normalize(
            ctx.schemas,
            kind,
            &doc,
            ctx.tol,
            Purpose::Patch,
            Some(&old_map),
        )?;
        self.check_user_name(kind, &attrs, Some(id))?;
        self.write(ctx, kind, id, attrs);
        Ok(())
    }

    /// Stores new attributes for an existing resource, bumping version and lastModified.
    fn write(&mut self, ctx: Ctx<'_>, kind: Kind, id: &str, attrs: Map<String, Value>) {
        let now = self.now();
        let version = self.next_version();
        let Some(resource) = self.collection(kind).get(id) else {
            return;
        };
        let old_value = resource.value.clone();
        let mut meta = old_value.get("meta").cloned().unwrap_or_else(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert("resourceType".into(), json!(kind.name()));
            m.insert("lastModified".into(), json!(now));
            m.insert("location".into(), json!(Self::location(ctx, kind, id)));
            m.insert("version".into(), json!(etag(version)));
        }
        let value = assemble(id, attrs, meta);
        self.index(kind, id, Some(&old_value), Some(&value));
        if let Some(resource) = self.collection_mut(kind).get_mut(id) {
            resource.value = value;
            resource.version = version;
        }
    }

    /// DELETE: removes the resource, and any membership of it in groups.
    pub(crate) fn delete(
        &mut self,
        ctx: Ctx<'_>,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        self.existing(kind, id, if_match)?;
        let Some(removed) = self.collection_mut(kind).remove(id) else {
            return Err(ScimError::not_found(format!(
                "{} {id:?} not found",
                kind.name()
            )));
        };
        self.index(kind, id, Some(&removed.value), None);
        // Referential integrity: the deleted resource leaves every group listing it.
        let containing: Vec<String> = self
            .memberships
            .get(id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for group_id in containing {
            let Some(group) = self.groups.get(&group_id) else {
                continue;
            };
            let mut attrs = group.value.as_object().cloned().unwrap_or_default();
            attrs.remove("id");
            attrs.remove("meta");
            if let Some(Value::Array(members)) = attrs.get_mut("members") {
                members.retain(|m| member_id(m) != Some(id));
                if members.is_empty() {
                    attrs.remove("members");
                }
            }
            self.write(ctx, Kind::Group, &group_id, attrs);
        }
        self.memberships.remove(id);
        Ok(())
    }

    /// Keeps the userName and membership indexes in step with a write.
    fn index(&mut self, kind: Kind, id: &str, old: Option<&Value>, new: Option<&Value>) {
        match kind {
            Kind::User => {
                if let Some(name) = old.and_then(|v| v.get("userName")).and_then(Value::as_str) {
                    self.user_names.remove(&name.to_lowercase());
                }
                if let Some(name) = new.and_then(|v| v.get("userName")).and_then(Value::as_str) {
                    self.user_names.insert(name.to_lowercase(), id.to_owned());
                }
            }
            Kind::Group => {
                for member in members_of(old) {
                    if let Some(set) = self.memberships.get_mut(&member) {
                        set.remove(id);
                        if set.is_empty() {
                            self.memberships.remove(&member);
                        }
                    }
                }
                for member in members_of(new) {
                    self.memberships
                        .entry(member)
                        .or_default()
                        .insert(id.to_owned());
                }
            }
        }
    }

    /// The groups listing `id` as a member, as a user's computed `groups` value.
    fn groups_of(&self, ctx: Ctx<'_>, id: &str) -> Vec<Value> {
        let Some(group_ids) = self.memberships.get(id) else {
            return Vec::new();
        };
        group_ids
            .iter()
            .filter_map(|gid| self.groups.get(gid))
            .map(|g| {
                let mut entry = Map::new();
                entry.insert("value".into(), json!(g.id()));
                entry.insert(
                    "$ref".into(),
                    json!(Self::location(ctx, Kind::Group, g.id())),
                );
                if let Some(name) = g.value.get("displayName") {
                    entry.insert("display".into(), name.clone());
                }
                entry.insert("type".into(), json!("direct"));
                Value::Object(entry)
            })
            .collect()
    }

    /// The resource as a client sees it before projection: write-only attributes
    /// removed, a user's `groups` computed.
    pub(crate) fn render(&self, ctx: Ctx<'_>, kind: Kind, resource: &Resource) -> Value {
        let mut value = resource.value.clone();
        if let Some(obj) = value.as_object_mut() {
            obj.remove("password");
            if kind == Kind::User {
                let groups = self.groups_of(ctx, resource.id());
                if !groups.is_empty() {
                    insert_before_meta(obj, "groups", Value::Array(groups));
                }
            }
        }
        value
    }

    /// The stored resource with the computed `groups` (and the write-only `password`),
    /// for assertions in tests.
    pub(crate) fn inspect(&self, ctx: Ctx<'_>, kind: Kind, resource: &Resource) -> Value {
        let mut value = resource.value.clone();
        if kind == Kind::User
            && let Some(obj) = value.as_object_mut()
        {
            let groups = self.groups_of(ctx, resource.id());
            if !groups.is_empty() {
                insert_before_meta(obj, "groups", Value::Array(groups));
            }
        }
        value
    }

    /// Whether any group lists `id` (a user's `groups` is then non-empty).
    pub(crate) fn has_groups(&self, id: &str) -> bool {
        self.memberships.contains_key(id)
    }
}

fn insert_before_meta(obj: &mut Map<String, Value>, key: &str, value: Value) {
    let meta = obj.remove("meta");
    obj.insert(key.to_owned(), value);
    if let Some(meta) = meta {
        obj.insert("meta".into(), meta);
    }
}

/// `schemas`, `id`, the attributes, then `meta`.
fn assemble(id: &str, mut attrs: Map<String, Value>, meta: Value) -> Value {
    let mut out = Map::new();
    if let Some(schemas) = attrs.remove("schemas") {
        out.insert("schemas".into(), schemas);
    }
    out.insert("id".into(), json!(id));
    out.extend(attrs);
    out.insert("meta".into(), meta);
    Value::Object(out)
}

fn member_id(member: &Value) -> Option<&str> {
    member
        .as_object()
        .and_then(|m| get_ci(m, "value"))
        .and_then(Value::as_str)
}

fn members_of(group: Option<&Value>) -> Vec<String> {
    group
        .and_then(|g| g.get("members"))
        .and_then(Value::as_array)
        .map(|members| {
            members
                .iter()
                .filter_map(member_id)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_uuids() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, new_id());
    }

    #[test]
    fn if_match() {
        assert!(if_match_accepts("W/\"3\"", 3));
        assert!(if_match_accepts("\"3\"", 3));
        assert!(if_match_accepts("*", 3));
        assert!(if_match_accepts("W/\"1\", W/\"3\"", 3));
        assert!(!if_match_accepts("W/\"2\"", 3));
    }
}
