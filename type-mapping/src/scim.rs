//! The SCIM 2.0 type table: attribute types of RFC 7643 §2.3 mapped to interim
//! [`DataType`]s.
//!
//! Attribute types come from a server's `/Schemas` (or from the core User and Group
//! schemas): `string`, `boolean`, `decimal`, `integer`, `dateTime`, `binary`,
//! `reference` and `complex`, each possibly `multiValued`. A complex attribute is a
//! [`DataType::Struct`] of its sub-attributes; a multi-valued attribute is a
//! [`DataType::List`] of its type. Type names compare case-insensitively, like
//! everything in SCIM.
//!
//! ```
//! use type_mapping::{scim, DataType};
//!
//! let emails = scim::attribute_field(
//!     "emails",
//!     "complex",
//!     true,
//!     vec![
//!         scim::attribute_field("value", "string", false, vec![], false),
//!         scim::attribute_field("type", "string", false, vec![], false),
//!         scim::attribute_field("primary", "boolean", false, vec![], false),
//!     ],
//!     false,
//! );
//! assert!(matches!(
//!     &emails.data_type,
//!     DataType::List(item) if matches!(item.as_ref(), DataType::Struct(members) if members.len() == 3)
//! ));
//! assert_eq!(scim::map_attribute("DateTime", false, &[]).data_type, DataType::DateTimeOffset);
//! ```
//!
//! # Decimals
//!
//! A SCIM `decimal` is a JSON number of any precision. It maps to
//! `Decimal(38, 18)`: up to 20 integer digits and 18 decimal places (enough for every
//! double printed in its shortest form, `0.30000000000000004` included), within the 28
//! significant digits a [`rust_decimal::Decimal`] holds exactly. A value beyond that is
//! a conversion error (strict) or recorded change (lenient), never rounded silently.
//! Exact decimals read best from JSON strings; see [`json`](crate::json) for what the
//! JSON reader does to numbers.

use crate::{DataType, Field, Mapping, NativeType, TableRow};

/// SCIM attribute types (RFC 7643 §2.3) and their interim types.
///
/// Any type may also be `multiValued`, which makes it a `List` of the type shown.
pub static ATTRIBUTE_TYPES: &[TableRow] = &[
    TableRow {
        native: "string",
        interim: "String",
        lossless: true,
        note: "text; `caseExact` affects comparisons, not the value",
    },
    TableRow {
        native: "boolean",
        interim: "Boolean",
        lossless: true,
        note: "JSON true/false; the strings \"True\" and \"False\" that Entra ID sends are read too",
    },
    TableRow {
        native: "decimal",
        interim: "Decimal(38, 18)",
        lossless: true,
        note: "a JSON number of any precision: Decimal(38, 18), up to 20 integer digits and 18 decimal places within 28 significant digits; beyond that an error, never rounded",
    },
    TableRow {
        native: "integer",
        interim: "Int64",
        lossless: true,
        note: "a whole number, kept exact in 64 bits",
    },
    TableRow {
        native: "dateTime",
        interim: "DateTimeOffset",
        lossless: true,
        note: "xsd:dateTime such as `2008-01-23T04:56:22Z`; the offset is kept, a value without one is an error",
    },
    TableRow {
        native: "binary",
        interim: "Binary",
        lossless: true,
        note: "bytes, base64 in JSON (x509Certificates)",
    },
    TableRow {
        native: "reference",
        interim: "String",
        lossless: true,
        note: "a URI or resource id (`$ref`, `value`), kept as text",
    },
    TableRow {
        native: "complex",
        interim: "Struct(sub-attributes)",
        lossless: true,
        note: "a Struct of the sub-attributes; unknown keys are ignored; Json when the sub-attributes are not known",
    },
];

const COMPLEX_UNKNOWN: &str =
    "a complex attribute whose sub-attributes are not known: kept as JSON";
const UNKNOWN: &str =
    "an attribute type RFC 7643 does not define: kept as JSON, which keeps the value exactly";

/// Maps a SCIM attribute type to its interim type, case-insensitively.
///
/// `complex` becomes a [`DataType::Struct`] of `sub_attributes` ([`DataType::Json`]
/// when there are none); `multi_valued` wraps the type in a [`DataType::List`]. A type
/// RFC 7643 does not define maps to [`DataType::Json`].
pub fn map_attribute(type_name: &str, multi_valued: bool, sub_attributes: &[Field]) -> Mapping {
    mapping(
        type_name,
        multi_valued,
        || sub_attributes.to_vec(),
        sub_attributes.is_empty(),
    )
}

/// A [`Field`] for one SCIM attribute: the interim type from [`map_attribute`],
/// nullable unless `required`, `native` set to `scim` / `type_name`, and
/// `multiValued` = `true` in the metadata for multi-valued attributes.
pub fn attribute_field(
    name: &str,
    type_name: &str,
    multi_valued: bool,
    sub_attributes: Vec<Field>,
    required: bool,
) -> Field {
    let empty = sub_attributes.is_empty();
    let mapping = mapping(type_name, multi_valued, || sub_attributes, empty);
    let field = Field::new(name, mapping.data_type)
        .with_nullable(!required)
        .with_native(NativeType::new("scim", type_name));
    if multi_valued {
        field.with_metadata("multiValued", "true")
    } else {
        field
    }
}

fn mapping(
    type_name: &str,
    multi_valued: bool,
    sub_attributes: impl FnOnce() -> Vec<Field>,
    no_sub_attributes: bool,
) -> Mapping {
    let name = type_name.trim();
    let row = ATTRIBUTE_TYPES
        .iter()
        .find(|row| row.native.eq_ignore_ascii_case(name));
    let (data_type, lossless, note) = match row {
        None => (DataType::Json, true, UNKNOWN),
        Some(row) => {
            let data_type = match row.native {
                "boolean" => DataType::Boolean,
                "decimal" => DataType::decimal(38, 18),
                "integer" => DataType::Int64,
                "dateTime" => DataType::DateTimeOffset,
                "binary" => DataType::Binary,
                "complex" if no_sub_attributes => {
                    return wrap(DataType::Json, multi_valued, true, COMPLEX_UNKNOWN);
                }
                "complex" => DataType::Struct(sub_attributes()),
                _ => DataType::String,
            };
            (data_type, row.lossless, row.note)
        }
    };
    wrap(data_type, multi_valued, lossless, note)
}

fn wrap(data_type: DataType, multi_valued: bool, lossless: bool, note: &'static str) -> Mapping {
    let data_type = if multi_valued {
        DataType::list(data_type)
    } else {
        data_type
    };
    Mapping {
        data_type,
        lossless,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::table_test::{assert_row, assert_unique};
    use crate::{ConversionPolicy, Value, json};
    use serde_json::json;

    fn subs() -> Vec<Field> {
        vec![
            attribute_field("value", "string", false, vec![], true),
            attribute_field("primary", "boolean", false, vec![], false),
        ]
    }

    #[test]
    fn every_row() {
        assert_unique(ATTRIBUTE_TYPES);
        for row in ATTRIBUTE_TYPES {
            if row.native == "complex" {
                let m = map_attribute(row.native, false, &subs());
                assert_eq!(
                    (m.data_type, m.lossless, m.note),
                    (DataType::Struct(subs()), row.lossless, row.note)
                );
                let m = map_attribute(row.native, false, &[]);
                assert_eq!((m.data_type, m.note), (DataType::Json, COMPLEX_UNKNOWN));
            } else {
                let m = map_attribute(row.native, false, &subs());
                assert_row(row, &m, None);
                // Multi-valued: a list of the same.
                let multi = map_attribute(row.native, true, &[]);
                assert_eq!(multi.data_type, DataType::list(m.data_type.clone()));
                assert_eq!((multi.lossless, multi.note), (m.lossless, m.note));
                for spelled in [
                    row.native.to_ascii_uppercase(),
                    row.native.to_ascii_lowercase(),
                ] {
                    assert_eq!(map_attribute(&spelled, false, &[]), m, "{spelled}");
                }
            }
        }
    }

    #[test]
    fn important_rows() {
        let m = |t: &str| map_attribute(t, false, &[]).data_type;
        assert_eq!(m("dateTime"), DataType::DateTimeOffset);
        assert_eq!(m("datetime"), DataType::DateTimeOffset);
        assert_eq!(m("integer"), DataType::Int64);
        assert_eq!(m("decimal"), DataType::decimal(38, 18));
        assert_eq!(m("binary"), DataType::Binary);
        assert_eq!(m("reference"), DataType::String);
        assert_eq!(m("boolean"), DataType::Boolean);
        let multi = map_attribute("complex", true, &subs());
        assert_eq!(multi.data_type, DataType::list(DataType::Struct(subs())));
        let unknown = map_attribute("hologram", false, &[]);
        assert_eq!(
            (unknown.data_type, unknown.lossless, unknown.note),
            (DataType::Json, true, UNKNOWN)
        );
        assert_eq!(
            map_attribute("hologram", true, &[]).data_type,
            DataType::list(DataType::Json)
        );
    }

    #[test]
    fn fields_read_scim_resources() {
        let policy = ConversionPolicy::strict();
        let mut changes = Vec::new();
        let user_name = attribute_field("userName", "string", false, vec![], true);
        assert!(!user_name.nullable);
        let native = user_name.native.as_ref().unwrap();
        assert_eq!(
            (native.system.as_str(), native.name.as_str()),
            ("scim", "string")
        );
        let e = json::from_json(&user_name, &json!(null), &policy, &mut changes).unwrap_err();
        assert!(e.to_string().contains("userName"));

        let emails = attribute_field("emails", "complex", true, subs(), false);
        assert_eq!(
            emails.metadata.get("multiValued").map(String::as_str),
            Some("true")
        );
        let v = json::from_json(
            &emails,
            &json!([{"Value": "a@example.com", "primary": "True", "type": "work"}]),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::List(vec![Value::Struct(vec![
                Value::from("a@example.com"),
                Value::Boolean(true)
            ])])
        );
        let e = json::from_json(&emails, &json!([{"primary": true}]), &policy, &mut changes)
            .unwrap_err();
        assert_eq!(e.field, "emails.value");

        let weight = attribute_field("weight", "decimal", false, vec![], false);
        let v = json::from_json(
            &weight,
            &json!("0.30000000000000004"),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(v.to_string(), "0.30000000000000004");
        let v = json::from_json(
            &weight,
            &json!(12_345_678_901_234_567_890_u64),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(v.to_string(), "12345678901234567890");
        let e = json::from_json(
            &weight,
            &json!("0.1234567890123456789"),
            &policy,
            &mut changes,
        )
        .unwrap_err();
        assert!(
            e.reason.contains("19 decimal places exceed scale 18"),
            "{e}"
        );

        let modified = attribute_field("lastModified", "dateTime", false, vec![], false);
        let v = json::from_json(
            &modified,
            &json!("2008-01-23T04:56:22Z"),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(
            json::to_json(&v, &modified.data_type),
            json!("2008-01-23T04:56:22+00:00")
        );
        assert!(changes.is_empty());
    }
}
