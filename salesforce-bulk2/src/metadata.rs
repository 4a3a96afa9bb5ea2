//! Metadata: describe an sObject into a typed schema (precision and scale kept, through
//! [`type_mapping::salesforce`]), list sObjects, and the org's `/limits`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use type_mapping::{Field, Schema};

use crate::client::{Call, SalesforceClient};
use crate::error::Result;

/// One field of a describe.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeField {
    /// The API name (`AnnualRevenue`).
    pub name: String,
    /// The label.
    #[serde(default)]
    pub label: Option<String>,
    /// The describe type (`currency`, `address`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Characters, for text.
    #[serde(default)]
    pub length: Option<u32>,
    /// Digits, for `double`, `currency`, `percent`.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Decimal places.
    #[serde(default)]
    pub scale: Option<u32>,
    /// Whether it can be null.
    #[serde(default = "yes")]
    pub nillable: bool,
    /// Whether inserts may set it.
    #[serde(default)]
    pub createable: bool,
    /// Whether updates may set it.
    #[serde(default)]
    pub updateable: bool,
    /// Whether it is an external id (usable by upsert).
    #[serde(default)]
    pub external_id: bool,
    /// The compound field this one is a component of (`BillingAddress`).
    #[serde(default)]
    pub compound_field_name: Option<String>,
    /// Everything else describe says.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

impl DescribeField {
    /// Whether it is a compound field (`address`, `location`) Bulk API 2.0 cannot select.
    pub fn is_compound(&self) -> bool {
        matches!(self.field_type.as_str(), "address" | "location")
    }

    /// Whether Bulk API 2.0 query can select it (not compound, not `base64`).
    pub fn is_bulk_queryable(&self) -> bool {
        !self.is_compound() && self.field_type != "base64"
    }

    /// The typed field.
    pub fn to_field(&self) -> Field {
        let numeric = matches!(self.field_type.as_str(), "double" | "currency" | "percent");
        let (precision, scale) = if numeric {
            (self.precision.filter(|p| *p > 0), self.scale)
        } else {
            (None, None)
        };
        type_mapping::salesforce::describe_field(
            &self.name,
            &self.field_type,
            precision,
            scale,
            self.length.filter(|l| *l > 0),
            self.nillable,
        )
    }
}

/// An sObject's describe.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    /// The API name (`Account`).
    pub name: String,
    /// The label.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether it can be queried.
    #[serde(default = "yes")]
    pub queryable: bool,
    /// The fields.
    #[serde(default)]
    pub fields: Vec<DescribeField>,
    /// Everything else describe says.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SObjectDescribe {
    /// The schema of every field Bulk API 2.0 can select (compound and `base64` fields
    /// left out: select their components), in describe order.
    pub fn schema(&self) -> Schema {
        Schema::new(
            self.fields
                .iter()
                .filter(|f| f.is_bulk_queryable())
                .map(DescribeField::to_field)
                .collect(),
        )
    }

    /// The compound (`address`, `location`) fields.
    pub fn compound_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|f| f.is_compound())
            .map(|f| f.name.as_str())
    }

    /// A field by name, ignoring ASCII case.
    pub fn field(&self, name: &str) -> Option<&DescribeField> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// An entry of the sObject list.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    /// The API name.
    pub name: String,
    /// The label.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether it can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// Whether records can be created.
    #[serde(default)]
    pub createable: bool,
    /// Everything else.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One limit of `/limits`: `Max`, `Remaining`, and anything nested (per connected
/// app entries).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Limit {
    /// The allowance.
    #[serde(rename = "Max", default)]
    pub max: Option<i64>,
    /// What remains.
    #[serde(rename = "Remaining", default)]
    pub remaining: Option<i64>,
    /// Nested entries and keys this client does not know.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The org's limits by name (`DailyBulkApiBatches`, `DailyApiRequests`, ...).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Limits(pub BTreeMap<String, Limit>);

impl Limits {
    /// A limit by name.
    pub fn get(&self, name: &str) -> Option<&Limit> {
        self.0.get(name)
    }

    /// Remaining ingest batches of the rolling 24 hours (`DailyBulkApiBatches`, shared
    /// with Bulk API 1.0; each ingest job uses one per 10,000 records).
    pub fn bulk_batches_remaining(&self) -> Option<i64> {
        self.get("DailyBulkApiBatches").and_then(|l| l.remaining)
    }
}

impl SalesforceClient {
    /// Describes an sObject (`GET sobjects/{name}/describe`). An unknown object is
    /// [`SalesforceError::Api`](crate::SalesforceError::Api) `NOT_FOUND`.
    pub async fn describe(&self, object: &str) -> Result<SObjectDescribe> {
        self.json(&Call::new(
            Method::GET,
            format!("sobjects/{object}/describe"),
            "salesforce.describe",
        ))
        .await
    }

    /// The org's sObjects.
    pub async fn sobjects(&self) -> Result<Vec<SObjectSummary>> {
        #[derive(Deserialize)]
        struct Global {
            #[serde(default)]
            sobjects: Vec<SObjectSummary>,
        }
        let g: Global = self
            .json(&Call::new(
                Method::GET,
                "sobjects",
                "salesforce.list_sobjects",
            ))
            .await?;
        Ok(g.sobjects)
    }

    /// The org's limits (`GET limits`), tolerant of keys this client does not know.
    pub async fn limits(&self) -> Result<Limits> {
        self.json(&Call::new(Method::GET, "limits", "salesforce.limits"))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use type_mapping::DataType;

    #[test]
    fn describe_to_schema() {
        let d: SObjectDescribe = serde_json::from_value(serde_json::json!({
            "name": "Account", "queryable": true, "custom": false,
            "fields": [
                {"name": "Id", "type": "id", "length": 18, "nillable": false, "precision": 0, "scale": 0},
                {"name": "AnnualRevenue", "type": "currency", "precision": 18, "scale": 2, "nillable": true},
                {"name": "BillingAddress", "type": "address", "nillable": true},
                {"name": "BillingCity", "type": "string", "length": 40, "compoundFieldName": "BillingAddress"},
                {"name": "SystemModstamp", "type": "datetime", "nillable": false, "unknownProp": 1}
            ]
        }))
        .unwrap();
        let s = d.schema();
        assert_eq!(
            s.names().collect::<Vec<_>>(),
            ["Id", "AnnualRevenue", "BillingCity", "SystemModstamp"]
        );
        assert_eq!(
            s.field("AnnualRevenue").unwrap().data_type,
            DataType::decimal(18, 2)
        );
        assert_eq!(d.compound_fields().collect::<Vec<_>>(), ["BillingAddress"]);
        let l: Limits = serde_json::from_value(serde_json::json!({
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 14990, "My App": {"Max": 0, "Remaining": 0}},
            "SomethingNew": {"Max": 1}
        }))
        .unwrap();
        assert_eq!(l.bulk_batches_remaining(), Some(14990));
    }
}
