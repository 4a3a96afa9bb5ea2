//! Metadata: modules and their fields, and a module's fields as a typed schema
//! (decimal places kept, ids and bigints exact) through `type_mapping::zoho`.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use type_mapping::Schema;

use crate::client::{Call, ZohoClient};
use crate::error::{Result, ZohoError};

/// A module (`Leads`, `Contacts`, custom modules).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// The API name used in URLs.
    pub api_name: String,
    /// The label.
    #[serde(default)]
    pub module_name: Option<String>,
    /// Whether the records API serves it.
    #[serde(default)]
    pub api_supported: bool,
    /// Whether it can be listed.
    #[serde(default)]
    pub viewable: Option<bool>,
    /// `default`, `custom`, ...
    #[serde(default)]
    pub generated_type: Option<String>,
}

/// A field of a module.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldMeta {
    /// The API name.
    pub api_name: String,
    /// The label.
    #[serde(default)]
    pub field_label: Option<String>,
    /// Zoho's type (`text`, `currency`, `bigint`, `lookup`, ...).
    #[serde(default)]
    pub data_type: String,
    /// The JSON type (`string`, `double`, `jsonobject`, ...).
    #[serde(default)]
    pub json_type: Option<String>,
    /// Maximum length.
    #[serde(default)]
    pub length: Option<u32>,
    /// Decimal places, for currency and decimal fields.
    #[serde(default)]
    pub decimal_place: Option<u32>,
    /// Whether the field is mandatory.
    #[serde(default)]
    pub system_mandatory: bool,
    /// Whether it is read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Everything else, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl FieldMeta {
    /// The field as a typed field.
    pub fn to_field(&self) -> type_mapping::Field {
        let mut field = type_mapping::zoho::field(
            &self.api_name,
            &self.data_type,
            self.json_type.as_deref(),
            self.decimal_place,
            self.length,
            !self.system_mandatory || self.api_name == "id",
        );
        if let Some(label) = &self.field_label {
            field = field.with_metadata("label", label.clone());
        }
        field
    }

    /// Whether a field can be read through the records list and COQL (Zoho leaves out
    /// subforms, multi-select lookups and file fields there).
    pub fn is_listable(&self) -> bool {
        !matches!(
            self.data_type.as_str(),
            "subform"
                | "multiselectlookup"
                | "multiuserlookup"
                | "imageupload"
                | "fileupload"
                | "profileimage"
        )
    }
}

impl ZohoClient {
    /// Every module.
    pub async fn modules(&self) -> Result<Vec<Module>> {
        let answer = self
            .call(Call::new(Method::GET, "settings/modules", "zoho.modules"))
            .await?;
        serde_json::from_value(
            answer
                .body
                .get("modules")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|e| ZohoError::InvalidResponse {
            operation: "zoho.modules",
            message: e.to_string(),
        })
    }

    /// The fields of a module.
    pub async fn fields(&self, module: &str) -> Result<Vec<FieldMeta>> {
        let call = Call::new(Method::GET, "settings/fields", "zoho.fields").query("module", module);
        let answer = self.call(call).await?;
        serde_json::from_value(
            answer
                .body
                .get("fields")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|e| ZohoError::InvalidResponse {
            operation: "zoho.fields",
            message: e.to_string(),
        })
    }

    /// The listable fields of a module as a typed schema, `id` first.
    pub async fn schema(&self, module: &str) -> Result<Schema> {
        let fields = self.fields(module).await?;
        let mut schema: Vec<type_mapping::Field> = Vec::with_capacity(fields.len() + 1);
        if !fields.iter().any(|f| f.api_name == "id") {
            schema.push(type_mapping::zoho::field(
                "id",
                "bigint",
                Some("string"),
                None,
                None,
                false,
            ));
        }
        schema.extend(
            fields
                .iter()
                .filter(|f| f.is_listable())
                .map(FieldMeta::to_field),
        );
        Ok(Schema::new(schema))
    }
}
