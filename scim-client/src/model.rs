//! SCIM resources and messages (RFC 7643, RFC 7644): typed where the schema is
//! standard, open where it is not.
//!
//! Every typed resource keeps the attributes it does not know in `extra`, so a
//! server's custom attributes and extensions survive a read-modify-write. Optional
//! attributes are an [`Attr`]: absent, null and a value are three different things in
//! SCIM (on `PUT`, an absent attribute is left alone, a null one is cleared).
//!
//! Reading is lenient, the way real servers need: booleans sent as `"True"`/`"False"`
//! strings, numbers sent as strings, `Resources` spelled `resources`.

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Schema URN of the core User.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Schema URN of the enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Schema URN of the core Group.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Message URN of a list response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Message URN of a search request.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// Message URN of a PATCH request.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Message URN of a bulk request.
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Message URN of a bulk response.
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Message URN of an error.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An optional attribute: absent, explicitly null, or a value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Attr<T> {
    /// Not in the message (on `PUT`: left unchanged).
    #[default]
    Absent,
    /// `null` in the message (on `PUT`: cleared).
    Null,
    /// A value.
    Value(T),
}

impl<T> Attr<T> {
    /// Whether the attribute is absent (used to skip it when serializing).
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The value, if there is one.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if there is one.
    pub fn into_option(self) -> Option<T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, mutably, if there is one.
    pub fn as_mut(&mut self) -> Option<&mut T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Attr<T> {
    fn from(v: T) -> Self {
        Self::Value(v)
    }
}

impl<T> From<Option<T>> for Attr<T> {
    /// `None` is [`Attr::Absent`].
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Absent, Self::Value)
    }
}

impl<T: Serialize> Serialize for Attr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // Absent attributes are skipped by `skip_serializing_if`; null if not.
            Self::Absent | Self::Null => s.serialize_none(),
            Self::Value(v) => v.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Attr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Self::Null, Self::Value))
    }
}

/// A boolean that also reads `"True"`/`"false"` strings (Entra sends them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bool(pub bool);

impl Serialize for Bool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Self(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Self(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Self(false)),
            other => Err(de::Error::custom(format!(
                "expected a boolean, found {other}"
            ))),
        }
    }
}

impl From<bool> for Bool {
    fn from(b: bool) -> Self {
        Self(b)
    }
}

/// Reads an integer sent as a number or a string.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| de::Error::custom(format!("expected a count, found {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("expected a count, found {s:?}"))),
        other => Err(de::Error::custom(format!(
            "expected a count, found {other}"
        ))),
    }
}

fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => lenient_u64(v).map(Some).map_err(de::Error::custom),
    }
}

/// `meta` of a resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// `User`, `Group`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// When the resource was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Its URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Its version (the ETag, e.g. `W/"3"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `name` of a User.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// The full name, formatted for display.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub formatted: Attr<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub family_name: Attr<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub given_name: Attr<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub middle_name: Attr<String>,
    /// Prefix (`Ms.`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub honorific_prefix: Attr<String>,
    /// Suffix (`III`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub honorific_suffix: Attr<String>,
}

/// One value of a multi-valued attribute (`emails`, `phoneNumbers`, `ims`, `photos`,
/// `entitlements`, `roles`, `x509Certificates`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValue {
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A label for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `work`, `home`, `mobile`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the primary value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Bool>,
    /// Attributes beyond the standard ones.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MultiValue {
    /// A value of the given type (`work`).
    pub fn typed(kind: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            value: Some(value.into()),
            kind: Some(kind.into()),
            ..Self::default()
        }
    }

    /// The same, marked primary.
    #[must_use]
    pub fn primary(mut self) -> Self {
        self.primary = Some(Bool(true));
        self
    }
}

/// One address of a User.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The full address, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `work`, `home`, `other`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the primary address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Bool>,
}

/// A reference to a group, in a User's read-only `groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group's id.
    pub value: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `direct` or `indirect`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its URL.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The enterprise User extension.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseUser {
    /// Employee number.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub employee_number: Attr<String>,
    /// Cost centre.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub cost_center: Attr<String>,
    /// Organization.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub organization: Attr<String>,
    /// Division.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub division: Attr<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub department: Attr<String>,
    /// Manager.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub manager: Attr<Manager>,
    /// Attributes beyond the standard ones.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `manager` of the enterprise extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    /// The manager's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The manager's URL.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The manager's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A SCIM User (core schema and the enterprise extension).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The schema URNs the resource uses.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Server-assigned id (never sent on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id for the user.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub external_id: Attr<String>,
    /// The unique login name (required).
    #[serde(default)]
    pub user_name: String,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub name: Attr<Name>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub display_name: Attr<String>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub nick_name: Attr<String>,
    /// Profile URL.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub profile_url: Attr<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub title: Attr<String>,
    /// `Employee`, `Contractor`, ...
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub user_type: Attr<String>,
    /// Preferred language (`en-US`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub preferred_language: Attr<String>,
    /// Locale (`en-US`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub locale: Attr<String>,
    /// Time zone (`America/Los_Angeles`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub timezone: Attr<String>,
    /// Whether the user may sign in.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub active: Attr<Bool>,
    /// The password (write-only; never returned, never printed by `Debug`).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub password: Attr<String>,
    /// E-mail addresses.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub emails: Attr<Vec<MultiValue>>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub phone_numbers: Attr<Vec<MultiValue>>,
    /// Instant messaging addresses.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub ims: Attr<Vec<MultiValue>>,
    /// Photos.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub photos: Attr<Vec<MultiValue>>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub addresses: Attr<Vec<Address>>,
    /// Groups the user belongs to (read-only, computed by the server).
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub groups: Attr<Vec<GroupRef>>,
    /// Entitlements.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub entitlements: Attr<Vec<MultiValue>>,
    /// Roles.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub roles: Attr<Vec<MultiValue>>,
    /// Certificates.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub x509_certificates: Attr<Vec<MultiValue>>,
    /// The enterprise extension.
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Attr::is_absent"
    )]
    pub enterprise: Attr<EnterpriseUser>,
    /// Server-maintained metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other attribute and extension, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("external_id", &self.external_id)
            .field("name", &self.name)
            .field("display_name", &self.display_name)
            .field("title", &self.title)
            .field("active", &self.active)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("emails", &self.emails)
            .field("phone_numbers", &self.phone_numbers)
            .field("addresses", &self.addresses)
            .field("groups", &self.groups)
            .field("enterprise", &self.enterprise)
            .field("meta", &self.meta)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A new user with the core schema and the given `userName`.
    pub fn new(user_name: impl Into<String>) -> Self {
        Self {
            schemas: vec![USER_SCHEMA.to_owned()],
            user_name: user_name.into(),
            ..Self::default()
        }
    }

    /// The user's `active` flag, when set.
    pub fn is_active(&self) -> Option<bool> {
        self.active.as_ref().map(|b| b.0)
    }

    /// The first e-mail of the given type (`work`).
    pub fn email(&self, kind: &str) -> Option<&str> {
        self.emails
            .as_ref()?
            .iter()
            .find(|e| {
                e.kind
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(kind))
            })
            .and_then(|e| e.value.as_deref())
    }

    /// Sets the enterprise extension and lists its schema.
    #[must_use]
    pub fn with_enterprise(mut self, enterprise: EnterpriseUser) -> Self {
        if !self.schemas.iter().any(|s| s == ENTERPRISE_USER_SCHEMA) {
            self.schemas.push(ENTERPRISE_USER_SCHEMA.to_owned());
        }
        self.enterprise = Attr::Value(enterprise);
        self
    }
}

/// A member of a Group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's id.
    pub value: String,
    /// Its display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `User` or `Group`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its URL.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Member {
    /// A member by id.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            ..Self::default()
        }
    }
}

/// A SCIM Group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The schema URNs the resource uses.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id for the group.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub external_id: Attr<String>,
    /// The group's name (required).
    #[serde(default)]
    pub display_name: String,
    /// Its members.
    #[serde(default, skip_serializing_if = "Attr::is_absent")]
    pub members: Attr<Vec<Member>>,
    /// Server-maintained metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other attribute and extension, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Group {
    /// A new group with the core schema and the given name.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            schemas: vec![GROUP_SCHEMA.to_owned()],
            display_name: display_name.into(),
            ..Self::default()
        }
    }
}

/// A resource the client can create, read, list and change.
pub trait Resource: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The endpoint relative to the base URL (`Users`), unless discovery says otherwise.
    const ENDPOINT: &'static str;
    /// The resource type's name (`User`).
    const RESOURCE_TYPE: &'static str;

    /// The server-assigned id.
    fn id(&self) -> Option<&str>;

    /// The version (ETag) in `meta`.
    fn version(&self) -> Option<&str>;

    /// Records the ETag from a response header when the body had none.
    fn set_version(&mut self, version: String);
}

/// `Resource` for a typed resource with `id` and `meta` fields.
macro_rules! typed_resource {
    ($type:ty, $endpoint:literal, $name:literal) => {
        impl Resource for $type {
            const ENDPOINT: &'static str = $endpoint;
            const RESOURCE_TYPE: &'static str = $name;

            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }

            fn version(&self) -> Option<&str> {
                self.meta.as_ref()?.version.as_deref()
            }

            fn set_version(&mut self, version: String) {
                self.meta.get_or_insert_with(Meta::default).version = Some(version);
            }
        }
    };
}

typed_resource!(User, "Users", "User");
typed_resource!(Group, "Groups", "Group");

/// Any resource as JSON: custom resource types and extensions a server advertises.
impl Resource for Value {
    const ENDPOINT: &'static str = "";
    const RESOURCE_TYPE: &'static str = "";

    fn id(&self) -> Option<&str> {
        self.get("id")?.as_str()
    }

    fn version(&self) -> Option<&str> {
        self.get("meta")?.get("version")?.as_str()
    }

    fn set_version(&mut self, version: String) {
        if let Value::Object(map) = self {
            let meta = map
                .entry("meta")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(meta) = meta {
                meta.insert("version".to_owned(), Value::String(version));
            }
        }
    }
}

/// A page of a list or search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// Results matching the query, over all pages.
    #[serde(deserialize_with = "lenient_u64")]
    pub total_results: u64,
    /// The 1-based index of the first result of this page.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_index: Option<u64>,
    /// Results on this page.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub items_per_page: Option<u64>,
    /// The results.
    #[serde(rename = "Resources", alias = "resources", default = "Vec::new")]
    pub resources: Vec<T>,
    /// The cursor of the next page (RFC 9865).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The cursor of the previous page (RFC 9865).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
}

/// A SCIM error body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status, as the body states it (a string in the RFC; some send a number).
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    pub status: Option<u64>,
    /// The `scimType`.
    #[serde(default)]
    pub scim_type: Option<String>,
    /// The detail message.
    #[serde(default)]
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_null_and_value_stay_distinct() {
        let u: User = serde_json::from_value(json!({
            "schemas": [USER_SCHEMA], "userName": "a", "title": null, "displayName": "A"
        }))
        .unwrap();
        assert_eq!(u.title, Attr::Null);
        assert_eq!(u.display_name, Attr::Value("A".into()));
        assert_eq!(u.nick_name, Attr::Absent);
        let back = serde_json::to_value(&u).unwrap();
        assert_eq!(back["title"], Value::Null);
        assert!(back.get("nickName").is_none());
    }

    #[test]
    fn reading_is_lenient() {
        let u: User = serde_json::from_value(json!({
            "userName": "a", "active": "False",
            "emails": [{"value": "a@x", "type": "work", "primary": "True"}],
            "urn:example:custom": {"x": 1}
        }))
        .unwrap();
        assert_eq!(u.is_active(), Some(false));
        assert_eq!(u.email("WORK"), Some("a@x"));
        assert_eq!(u.extra["urn:example:custom"]["x"], 1);
        let page: ListResponse<User> = serde_json::from_value(json!({
            "totalResults": "2", "itemsPerPage": 1, "startIndex": "1", "resources": [{"userName": "a"}]
        }))
        .unwrap();
        assert_eq!((page.total_results, page.resources.len()), (2, 1));
        let err: ErrorBody =
            serde_json::from_value(json!({"status": 404, "detail": "nope"})).unwrap();
        assert_eq!(err.status, Some(404));
    }

    #[test]
    fn passwords_never_reach_debug() {
        let mut u = User::new("a");
        u.password = Attr::Value("hunter2".into());
        assert!(!format!("{u:?}").contains("hunter2"));
    }

    #[test]
    fn enterprise_extension_round_trips_under_its_urn() {
        let u = User::new("a").with_enterprise(EnterpriseUser {
            department: Attr::Value("Sales".into()),
            ..Default::default()
        });
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v[ENTERPRISE_USER_SCHEMA]["department"], "Sales");
        assert_eq!(v["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
        let back: User = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
    }
}
