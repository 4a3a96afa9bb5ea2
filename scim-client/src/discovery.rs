//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, and
//! the [`Capabilities`] the client derives from them, with overrides for servers that
//! advertise wrongly.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Bool, ListResponse};

/// `{ "supported": bool }`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supported {
    /// Whether the feature is supported.
    #[serde(default)]
    pub supported: Bool,
}

/// The bulk section of the service provider configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkConfig {
    /// Whether `/Bulk` is supported.
    #[serde(default)]
    pub supported: Bool,
    /// Most operations in one request.
    #[serde(default)]
    pub max_operations: Option<u64>,
    /// Largest request body, in bytes.
    #[serde(default)]
    pub max_payload_size: Option<u64>,
}

/// The filter section of the service provider configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterConfig {
    /// Whether filters are supported.
    #[serde(default)]
    pub supported: Bool,
    /// Most results one response returns.
    #[serde(default)]
    pub max_results: Option<u64>,
}

/// The pagination section (RFC 9865).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationConfig {
    /// Whether cursor paging is supported.
    #[serde(default)]
    pub cursor: Bool,
    /// Whether index paging is supported.
    #[serde(default)]
    pub index: Bool,
    /// `cursor` or `index`.
    #[serde(default)]
    pub default_pagination_method: Option<String>,
    /// Default page size.
    #[serde(default)]
    pub default_page_size: Option<u64>,
    /// Largest page size.
    #[serde(default)]
    pub max_page_size: Option<u64>,
    /// Seconds a cursor stays valid.
    #[serde(default)]
    pub cursor_timeout: Option<u64>,
}

/// `/ServiceProviderConfig`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    /// PATCH support.
    #[serde(default)]
    pub patch: Supported,
    /// Bulk support and limits.
    #[serde(default)]
    pub bulk: BulkConfig,
    /// Filter support and result cap.
    #[serde(default)]
    pub filter: FilterConfig,
    /// Password change support.
    #[serde(default)]
    pub change_password: Supported,
    /// Sort support.
    #[serde(default)]
    pub sort: Supported,
    /// ETag support.
    #[serde(default)]
    pub etag: Supported,
    /// Cursor and index paging (RFC 9865), when advertised.
    #[serde(default)]
    pub pagination: Option<PaginationConfig>,
    /// Authentication schemes, as sent.
    #[serde(default)]
    pub authentication_schemes: Vec<Value>,
}

/// A schema extension of a resource type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaExtension {
    /// The extension's URN.
    pub schema: String,
    /// Whether resources must carry it.
    #[serde(default)]
    pub required: Bool,
}

/// One entry of `/ResourceTypes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    /// Its id (`User`).
    #[serde(default)]
    pub id: Option<String>,
    /// Its name (`User`).
    pub name: String,
    /// Its endpoint (`/Users`): do not hard-code it.
    pub endpoint: String,
    /// The core schema URN.
    pub schema: String,
    /// Extensions.
    #[serde(default)]
    pub schema_extensions: Vec<SchemaExtension>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// An attribute definition of a schema (RFC 7643 §7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDef {
    /// The attribute's name.
    pub name: String,
    /// `string`, `boolean`, `decimal`, `integer`, `dateTime`, `binary`, `reference`,
    /// `complex`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Whether it holds several values.
    #[serde(default)]
    pub multi_valued: Bool,
    /// Whether it is required.
    #[serde(default)]
    pub required: Bool,
    /// Whether string comparison is case-sensitive.
    #[serde(default)]
    pub case_exact: Bool,
    /// `readOnly`, `readWrite`, `immutable`, `writeOnly`.
    #[serde(default)]
    pub mutability: Option<String>,
    /// `always`, `never`, `default`, `request`.
    #[serde(default)]
    pub returned: Option<String>,
    /// `none`, `server`, `global`.
    #[serde(default)]
    pub uniqueness: Option<String>,
    /// Suggested values.
    #[serde(default)]
    pub canonical_values: Vec<String>,
    /// Sub-attributes of a complex attribute.
    #[serde(default)]
    pub sub_attributes: Vec<AttributeDef>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

impl AttributeDef {
    /// The attribute as a typed field (through `type_mapping::scim`).
    pub fn to_field(&self) -> type_mapping::Field {
        let subs = self
            .sub_attributes
            .iter()
            .map(AttributeDef::to_field)
            .collect();
        type_mapping::scim::attribute_field(
            &self.name,
            &self.kind,
            self.multi_valued.0,
            subs,
            self.required.0,
        )
    }
}

/// One schema of `/Schemas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDef {
    /// Its URN.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its attributes.
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
}

impl SchemaDef {
    /// The schema's attributes as a typed schema, for discovery of a Source.
    pub fn to_schema(&self) -> type_mapping::Schema {
        self.attributes.iter().map(AttributeDef::to_field).collect()
    }
}

/// Corrections for servers that advertise wrongly: each `Some` wins over discovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapabilityOverrides {
    /// Whether PATCH works.
    pub patch: Option<bool>,
    /// Whether bulk works.
    pub bulk: Option<bool>,
    /// Most bulk operations per request.
    pub bulk_max_operations: Option<u64>,
    /// Largest bulk body, in bytes.
    pub bulk_max_payload_size: Option<u64>,
    /// Most results per page.
    pub max_results: Option<u64>,
    /// Whether `sortBy` works.
    pub sort: Option<bool>,
    /// Whether ETags work.
    pub etag: Option<bool>,
    /// Whether cursor paging works.
    pub cursor: Option<bool>,
}

impl CapabilityOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Says whether PATCH works.
    #[must_use]
    pub fn patch(mut self, supported: bool) -> Self {
        self.patch = Some(supported);
        self
    }

    /// Says whether bulk works and its limits.
    #[must_use]
    pub fn bulk(
        mut self,
        supported: bool,
        max_operations: Option<u64>,
        max_payload_size: Option<u64>,
    ) -> Self {
        self.bulk = Some(supported);
        self.bulk_max_operations = max_operations;
        self.bulk_max_payload_size = max_payload_size;
        self
    }

    /// Caps the page size.
    #[must_use]
    pub fn max_results(mut self, n: u64) -> Self {
        self.max_results = Some(n);
        self
    }

    /// Says whether ETags work.
    #[must_use]
    pub fn etag(mut self, supported: bool) -> Self {
        self.etag = Some(supported);
        self
    }

    /// Says whether sorting works.
    #[must_use]
    pub fn sort(mut self, supported: bool) -> Self {
        self.sort = Some(supported);
        self
    }

    /// Says whether cursor paging works.
    #[must_use]
    pub fn cursor(mut self, supported: bool) -> Self {
        self.cursor = Some(supported);
        self
    }
}

/// What the client may rely on: discovery with overrides applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Capabilities {
    /// The configuration as the server advertised it.
    pub config: ServiceProviderConfig,
    /// The resource types the server advertised (empty if it has no `/ResourceTypes`).
    pub resource_types: Vec<ResourceType>,
    /// Whether PATCH works.
    pub patch: bool,
    /// Whether bulk works.
    pub bulk: bool,
    /// Most bulk operations per request.
    pub bulk_max_operations: u64,
    /// Largest bulk body, in bytes.
    pub bulk_max_payload_size: u64,
    /// Most results per page the server returns.
    pub max_results: Option<u64>,
    /// Whether `sortBy` works.
    pub sort: bool,
    /// Whether ETags work.
    pub etag: bool,
    /// Whether cursor paging works.
    pub cursor: bool,
}

impl Capabilities {
    /// Bulk limits used when a server advertises bulk without limits.
    pub const DEFAULT_BULK_MAX_OPERATIONS: u64 = 1_000;
    /// See [`Capabilities::DEFAULT_BULK_MAX_OPERATIONS`].
    pub const DEFAULT_BULK_MAX_PAYLOAD_SIZE: u64 = 1_048_576;

    /// Capabilities from discovery, corrected by `overrides`.
    pub fn new(
        config: ServiceProviderConfig,
        resource_types: Vec<ResourceType>,
        overrides: &CapabilityOverrides,
    ) -> Self {
        let cursor = config.pagination.as_ref().is_some_and(|p| p.cursor.0);
        Self {
            patch: overrides.patch.unwrap_or(config.patch.supported.0),
            bulk: overrides.bulk.unwrap_or(config.bulk.supported.0),
            bulk_max_operations: overrides
                .bulk_max_operations
                .or(config.bulk.max_operations)
                .filter(|n| *n > 0)
                .unwrap_or(Self::DEFAULT_BULK_MAX_OPERATIONS),
            bulk_max_payload_size: overrides
                .bulk_max_payload_size
                .or(config.bulk.max_payload_size)
                .filter(|n| *n > 0)
                .unwrap_or(Self::DEFAULT_BULK_MAX_PAYLOAD_SIZE),
            max_results: overrides
                .max_results
                .or(config.filter.max_results)
                .filter(|n| *n > 0),
            sort: overrides.sort.unwrap_or(config.sort.supported.0),
            etag: overrides.etag.unwrap_or(config.etag.supported.0),
            cursor: overrides.cursor.unwrap_or(cursor),
            config,
            resource_types,
        }
    }

    /// The endpoint of a resource type by name (`User` → `/Users`), if advertised.
    pub fn endpoint(&self, resource_type: &str) -> Option<&str> {
        self.resource_types
            .iter()
            .find(|r| {
                r.name.eq_ignore_ascii_case(resource_type)
                    || r.id
                        .as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(resource_type))
            })
            .map(|r| r.endpoint.as_str())
    }
}

/// `/ResourceTypes` and `/Schemas` come as list responses, or as bare arrays from some
/// servers.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum ListOrArray<T> {
    List(ListResponse<T>),
    Array(Vec<T>),
}

impl<T> ListOrArray<T> {
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Self::List(l) => l.resources,
            Self::Array(a) => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_win_over_what_the_server_says() {
        let spc: ServiceProviderConfig = serde_json::from_value(json!({
            "patch": {"supported": false},
            "bulk": {"supported": true, "maxOperations": 50, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 100},
            "etag": {"supported": "true"},
            "pagination": {"cursor": true, "index": true}
        }))
        .unwrap();
        let caps = Capabilities::new(spc.clone(), vec![], &CapabilityOverrides::new());
        assert!(!caps.patch && caps.bulk && caps.etag && caps.cursor);
        assert_eq!(
            (caps.bulk_max_operations, caps.bulk_max_payload_size),
            (50, 1_048_576)
        );
        assert_eq!(caps.max_results, Some(100));
        let caps = Capabilities::new(
            spc,
            vec![],
            &CapabilityOverrides::new()
                .patch(true)
                .cursor(false)
                .max_results(10),
        );
        assert!(caps.patch && !caps.cursor);
        assert_eq!(caps.max_results, Some(10));
    }

    #[test]
    fn schemas_become_typed_fields() {
        let schema: SchemaDef = serde_json::from_value(json!({
            "id": "urn:ietf:params:scim:schemas:core:2.0:User",
            "attributes": [
                {"name": "userName", "type": "string", "required": true, "multiValued": false},
                {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [
                    {"name": "value", "type": "string"}, {"name": "primary", "type": "boolean"}]},
                {"name": "active", "type": "boolean"}
            ]
        }))
        .unwrap();
        let s = schema.to_schema();
        assert_eq!(s.len(), 3);
        assert!(!s.fields[0].nullable);
        assert!(matches!(
            s.fields[1].data_type,
            type_mapping::DataType::List(_)
        ));
        assert_eq!(s.fields[2].data_type, type_mapping::DataType::Boolean);
    }
}
