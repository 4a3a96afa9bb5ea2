//! The Zoho CRM type table: field metadata `data_type` values (with `json_type`,
//! `decimal_place` and `length` from `GET /crm/v8/settings/fields`) mapped to interim
//! [`DataType`]s.
//!
//! ```
//! use type_mapping::{zoho, DataType};
//!
//! // Record ids and "Long Integer" fields are `bigint`, sent as JSON strings: Int64, exact.
//! assert_eq!(zoho::map_field("bigint", Some("string"), None, None).data_type, DataType::Int64);
//!
//! // Currency: a Decimal with `decimal_place` as its scale.
//! let amount = zoho::field("Amount", "currency", Some("double"), Some(2), Some(16), true);
//! assert_eq!(amount.data_type, DataType::decimal(18, 2));
//!
//! // A lookup is the related record's id and name.
//! let account = zoho::map_field("lookup", Some("jsonobject"), None, None);
//! assert!(matches!(account.data_type, DataType::Struct(ref members) if members.len() == 2));
//! ```
//!
//! # Rules
//!
//! - Ids are 19-digit numbers (Java `long`s on Zoho's side) that JSON clients lose as
//!   doubles, which is why Zoho sends them as strings. They map to
//!   [`DataType::Int64`], read exactly from those strings, and
//!   [`json::to_json`](crate::json::to_json) writes them back as strings.
//! - `double`, `currency` and `percent` (Zoho has no `decimal` data type: decimals are
//!   `double` with a `decimal_place`) map to [`DataType::Decimal`] with scale
//!   `decimal_place` and precision `length + decimal_place` (`length` defaults to 16,
//!   Zoho's documented maximum number of digits; the sum is capped at
//!   [`MAX_DECIMAL_PRECISION`]). Treating `length` as the
//!   integer digits only ever admits more values, never fewer. Without a
//!   `decimal_place`, they are [`DataType::Float64`], marked not lossless. Zoho sends
//!   these values as JSON numbers: see [`json`](crate::json) for what that means for
//!   exactness.
//! - Whenever `json_type` says the wire value is an object or array (`jsonobject`,
//!   `jsonarray`) but the data type says scalar (the `Tag` field is `text` with
//!   `jsonarray`), the wire shape wins: [`DataType::Json`].
//! - `formula` and `rollup_summary` fields follow their `json_type`. When the formula's
//!   `return_type` is known, map that instead: `map_field(return_type, ...)`.
//! - A `data_type` the table does not know falls back by `json_type` (`string` →
//!   String, `integer` → Int64, `double` → Decimal or Float64, `boolean` → Boolean,
//!   `jsonobject`/`jsonarray` → Json), and to String without one. No field is dropped.

use crate::{DataType, Field, MAX_DECIMAL_PRECISION, Mapping, NativeType, TableRow};

/// Zoho CRM field `data_type` values and their interim types.
///
/// The decimal rows show the mapping when a `decimal_place` is given; `formula` and
/// `rollup_summary` depend on `json_type`. See [`map_field`].
pub static DATA_TYPES: &[TableRow] = &[
    TableRow {
        native: "text",
        interim: "String",
        lossless: true,
        note: "single line, up to `length` (255) characters",
    },
    TableRow {
        native: "textarea",
        interim: "String",
        lossless: true,
        note: "multi-line (2,000 or 32,000 characters; rich text 50,000); list reads truncate rich text to 500 characters",
    },
    TableRow {
        native: "mediumtext",
        interim: "String",
        lossless: true,
        note: "text",
    },
    TableRow {
        native: "email",
        interim: "String",
        lossless: true,
        note: "text; Zoho validates the format",
    },
    TableRow {
        native: "phone",
        interim: "String",
        lossless: true,
        note: "text, as entered",
    },
    TableRow {
        native: "website",
        interim: "String",
        lossless: true,
        note: "a URL, as text",
    },
    TableRow {
        native: "picklist",
        interim: "String",
        lossless: true,
        note: "one value; Zoho accepts values outside the list on write, restrict with `allowed_values` if wanted",
    },
    TableRow {
        native: "multiselectpicklist",
        interim: "List<String>",
        lossless: true,
        note: "a JSON array of values",
    },
    TableRow {
        native: "autonumber",
        interim: "String",
        lossless: true,
        note: "text: a prefix or suffix may surround the number",
    },
    TableRow {
        native: "profileimage",
        interim: "String",
        lossless: true,
        note: "an image id or hash, as text",
    },
    TableRow {
        native: "integer",
        interim: "Int32",
        lossless: true,
        note: "at most 9 digits, which 32 bits hold; Zoho's SDK reads it as a 32-bit Integer",
    },
    TableRow {
        native: "long",
        interim: "Int64",
        lossless: true,
        note: "64-bit integer, sent as a JSON string to stay exact",
    },
    TableRow {
        native: "bigint",
        interim: "Int64",
        lossless: true,
        note: "ids and \"Long Integer\" fields (up to 19 digits, Java longs), sent as JSON strings and read exactly from them",
    },
    TableRow {
        native: "double",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "the \"Decimal\" field: Decimal with scale `decimal_place`, precision `length` + scale; Float64 without a `decimal_place`",
    },
    TableRow {
        native: "currency",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "Decimal with scale `decimal_place` (up to 9), precision `length` (16) + scale",
    },
    TableRow {
        native: "percent",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "Decimal with scale `decimal_place`, precision `length` + scale; the number of percent",
    },
    TableRow {
        native: "decimal",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "not a documented Zoho data_type (decimals are `double`); accepted as its alias",
    },
    TableRow {
        native: "boolean",
        interim: "Boolean",
        lossless: true,
        note: "checkbox",
    },
    TableRow {
        native: "date",
        interim: "Date",
        lossless: true,
        note: "`yyyy-MM-dd`; stays a Date",
    },
    TableRow {
        native: "datetime",
        interim: "DateTimeOffset",
        lossless: true,
        note: "ISO 8601 with the offset of the API user's time zone (`2023-05-10T01:10:47-07:00`), which is kept",
    },
    TableRow {
        native: "event_reminder",
        interim: "DateTimeOffset",
        lossless: true,
        note: "a reminder instant; Zoho's SDK reads it as a date-time",
    },
    TableRow {
        native: "lookup",
        interim: "Struct{id, name}",
        lossless: true,
        note: "the related record as `{\"id\": \"...\", \"name\": \"...\"}`; the id is an exact Int64",
    },
    TableRow {
        native: "ownerlookup",
        interim: "Struct{id, name, email}",
        lossless: true,
        note: "the owning user as `{id, name, email}` (email on reads)",
    },
    TableRow {
        native: "userlookup",
        interim: "Struct{id, name}",
        lossless: true,
        note: "a user as `{id, name}`",
    },
    TableRow {
        native: "multiselectlookup",
        interim: "Json",
        lossless: true,
        note: "linking-module records, shaped per module and returned only when one record is fetched: kept as JSON",
    },
    TableRow {
        native: "multiuserlookup",
        interim: "Json",
        lossless: true,
        note: "linked users, shaped per module: kept as JSON",
    },
    TableRow {
        native: "subform",
        interim: "List<Json>",
        lossless: true,
        note: "rows of a subform, each an object with the subform's own fields",
    },
    TableRow {
        native: "fileupload",
        interim: "List<Json>",
        lossless: true,
        note: "attached files, each an object (id, name, size, ...)",
    },
    TableRow {
        native: "imageupload",
        interim: "List<Json>",
        lossless: true,
        note: "attached images, each an object",
    },
    TableRow {
        native: "formula",
        interim: "by json_type",
        lossless: true,
        note: "typed by its `json_type` (or map the formula's `return_type` instead); String when unknown",
    },
    TableRow {
        native: "rollup_summary",
        interim: "by json_type",
        lossless: true,
        note: "typed by its `json_type` (or map its `return_type` instead); String when unknown",
    },
    TableRow {
        native: "RRULE",
        interim: "Json",
        lossless: true,
        note: "a recurring activity's rule object",
    },
    TableRow {
        native: "ALARM",
        interim: "Json",
        lossless: true,
        note: "a reminder (`remind_at`) object",
    },
    TableRow {
        native: "multireminder",
        interim: "Json",
        lossless: true,
        note: "reminders, kept as JSON",
    },
    TableRow {
        native: "linetax",
        interim: "Json",
        lossless: true,
        note: "line-item taxes, kept as JSON",
    },
    TableRow {
        native: "time_range",
        interim: "Json",
        lossless: true,
        note: "a time range, kept as JSON",
    },
    TableRow {
        native: "consent_lookup",
        interim: "Json",
        lossless: true,
        note: "a data-processing consent object",
    },
    TableRow {
        native: "multi_module_lookup",
        interim: "Json",
        lossless: true,
        note: "a record of one of several modules, with its module: kept as JSON",
    },
    TableRow {
        native: "module",
        interim: "Json",
        lossless: true,
        note: "a module reference, kept as JSON",
    },
    TableRow {
        native: "layout",
        interim: "Json",
        lossless: true,
        note: "a layout reference object, kept as JSON",
    },
    TableRow {
        native: "territories",
        interim: "Json",
        lossless: true,
        note: "the record's territories, a JSON array",
    },
    TableRow {
        native: "widget",
        interim: "Json",
        lossless: true,
        note: "widget data, kept as JSON",
    },
];

const NO_DECIMAL_PLACE: &str =
    "a number without `decimal_place`: Float64, which holds about 15 significant digits";
const WIRE_SHAPE: &str =
    "`json_type` says the value is a JSON object or array: kept as JSON, whatever the data type";
const BY_JSON_TYPE: &str = "a data type this table does not know: typed by its `json_type`";
const UNKNOWN: &str = "a data type and json_type this table does not know: kept as text (objects and arrays as their JSON text)";

/// Maps a Zoho CRM field's `data_type` (with its `json_type`, `decimal_place` and
/// `length`) to its interim type. Names compare case-insensitively. See the
/// [module documentation](self#rules) for the rules.
pub fn map_field(
    data_type: &str,
    json_type: Option<&str>,
    decimal_place: Option<u32>,
    length: Option<u32>,
) -> Mapping {
    let json_type = json_type.map(str::trim);
    let Some(row) = DATA_TYPES
        .iter()
        .find(|row| row.native.eq_ignore_ascii_case(data_type.trim()))
    else {
        return by_json_type(json_type, decimal_place, length, BY_JSON_TYPE);
    };
    let mapping = match row.native {
        "integer" => known(row, DataType::Int32),
        "long" | "bigint" => known(row, DataType::Int64),
        "double" | "currency" | "percent" | "decimal" => number(row, decimal_place, length),
        "boolean" => known(row, DataType::Boolean),
        "date" => known(row, DataType::Date),
        "datetime" | "event_reminder" => known(row, DataType::DateTimeOffset),
        "multiselectpicklist" => known(row, DataType::list(DataType::String)),
        "lookup" | "userlookup" => known(row, reference(false)),
        "ownerlookup" => known(row, reference(true)),
        "subform" | "fileupload" | "imageupload" => known(row, DataType::list(DataType::Json)),
        "formula" | "rollup_summary" => by_json_type(json_type, decimal_place, length, row.note),
        _ if row.interim == "Json" => known(row, DataType::Json),
        _ => known(row, DataType::String),
    };
    let compound_wire = json_type.is_some_and(|j| {
        j.eq_ignore_ascii_case("jsonobject") || j.eq_ignore_ascii_case("jsonarray")
    });
    let compound_type = matches!(
        mapping.data_type,
        DataType::Struct(_) | DataType::List(_) | DataType::Json
    );
    if compound_wire && !compound_type {
        Mapping {
            data_type: DataType::Json,
            lossless: true,
            note: WIRE_SHAPE,
        }
    } else {
        mapping
    }
}

/// A [`Field`] from one Zoho CRM field's metadata: the interim type from
/// [`map_field`], `native` set to `zoho_crm` / `data_type` with `decimal_place` as the
/// scale and `length`, and the `json_type` in the metadata under `json_type`. For text
/// types `length` also limits values in [`text::parse`](crate::text::parse).
pub fn field(
    api_name: &str,
    data_type: &str,
    json_type: Option<&str>,
    decimal_place: Option<u32>,
    length: Option<u32>,
    nullable: bool,
) -> Field {
    let mapping = map_field(data_type, json_type, decimal_place, length);
    let field = Field::new(api_name, mapping.data_type)
        .with_nullable(nullable)
        .with_native(NativeType {
            system: "zoho_crm".to_owned(),
            name: data_type.to_owned(),
            precision: None,
            scale: decimal_place,
            length,
        });
    match json_type {
        Some(json_type) => field.with_metadata("json_type", json_type),
        None => field,
    }
}

fn known(row: &TableRow, data_type: DataType) -> Mapping {
    Mapping {
        data_type,
        lossless: row.lossless,
        note: row.note,
    }
}

/// The interim type from `json_type` alone.
fn by_json_type(
    json_type: Option<&str>,
    decimal_place: Option<u32>,
    length: Option<u32>,
    note: &'static str,
) -> Mapping {
    let is = |name: &str| json_type.is_some_and(|j| j.eq_ignore_ascii_case(name));
    let data_type = if is("string") {
        DataType::String
    } else if is("integer") {
        DataType::Int64
    } else if is("boolean") {
        DataType::Boolean
    } else if is("jsonobject") || is("jsonarray") {
        DataType::Json
    } else if is("double") {
        return decimal(decimal_place, length, true, note);
    } else {
        return Mapping {
            data_type: DataType::String,
            lossless: true,
            note: UNKNOWN,
        };
    };
    Mapping {
        data_type,
        lossless: true,
        note,
    }
}

fn number(row: &TableRow, decimal_place: Option<u32>, length: Option<u32>) -> Mapping {
    decimal(decimal_place, length, row.lossless, row.note)
}

/// Decimal(length + scale, scale), or Float64 without a scale.
fn decimal(
    decimal_place: Option<u32>,
    length: Option<u32>,
    lossless: bool,
    note: &'static str,
) -> Mapping {
    let Some(scale) = decimal_place else {
        return Mapping {
            data_type: DataType::Float64,
            lossless: false,
            note: NO_DECIMAL_PLACE,
        };
    };
    let max = MAX_DECIMAL_PRECISION;
    let scale = u8::try_from(scale).unwrap_or(u8::MAX).min(max);
    let digits = u8::try_from(length.unwrap_or(16)).unwrap_or(u8::MAX);
    let precision = digits.saturating_add(scale).min(max);
    Mapping {
        data_type: DataType::decimal(precision, scale),
        lossless,
        note,
    }
}

/// A lookup: `{id, name}`, and `email` for owners.
fn reference(with_email: bool) -> DataType {
    let mut members = vec![
        Field::new("id", DataType::Int64),
        Field::new("name", DataType::String),
    ];
    if with_email {
        members.push(Field::new("email", DataType::String));
    }
    DataType::Struct(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::table_test::{assert_row, assert_unique};
    use crate::{ConversionPolicy, Value, json};
    use serde_json::json;

    #[test]
    fn every_row() {
        assert_unique(DATA_TYPES);
        for row in DATA_TYPES {
            let m = map_field(row.native, None, Some(2), Some(16));
            if row.interim == "by json_type" {
                assert_eq!(
                    (m.data_type, m.note),
                    (DataType::String, UNKNOWN),
                    "{}",
                    row.native
                );
                let m = map_field(row.native, Some("double"), Some(2), Some(16));
                assert_eq!((m.data_type, m.note), (DataType::decimal(18, 2), row.note));
                let m = map_field(row.native, Some("boolean"), None, None);
                assert_eq!((m.data_type, m.note), (DataType::Boolean, row.note));
            } else {
                assert_row(row, &m, Some((18, 2)));
            }
            assert_eq!(
                map_field(&row.native.to_ascii_uppercase(), None, Some(2), Some(16)).data_type,
                map_field(row.native, None, Some(2), Some(16)).data_type
            );
        }
    }

    #[test]
    fn important_rows() {
        let m = |t: &str, j: Option<&str>| map_field(t, j, None, None).data_type;
        assert_eq!(m("bigint", Some("string")), DataType::Int64);
        assert_eq!(m("long", Some("string")), DataType::Int64);
        assert_eq!(m("integer", Some("integer")), DataType::Int32);
        assert_eq!(m("date", Some("string")), DataType::Date);
        assert_eq!(m("datetime", Some("string")), DataType::DateTimeOffset);
        assert_eq!(m("boolean", Some("boolean")), DataType::Boolean);
        assert_eq!(
            m("multiselectpicklist", Some("jsonarray")),
            DataType::list(DataType::String)
        );
        assert_eq!(
            m("subform", Some("jsonarray")),
            DataType::list(DataType::Json)
        );
        assert_eq!(m("lookup", Some("jsonobject")), reference(false));
        assert_eq!(m("ownerlookup", Some("jsonobject")), reference(true));
        assert_eq!(m("RRULE", Some("jsonobject")), DataType::Json);
        assert_eq!(m("rrule", None), DataType::Json);
        // Decimals: scale from decimal_place, precision from length.
        assert_eq!(
            map_field("currency", Some("double"), Some(2), Some(16)).data_type,
            DataType::decimal(18, 2)
        );
        assert_eq!(
            map_field("currency", Some("double"), Some(9), None).data_type,
            DataType::decimal(25, 9)
        );
        assert_eq!(
            map_field("percent", Some("double"), Some(2), Some(5)).data_type,
            DataType::decimal(7, 2)
        );
        assert_eq!(
            map_field("double", Some("double"), Some(0), Some(40)).data_type,
            DataType::decimal(38, 0)
        );
        assert_eq!(
            map_field("double", None, Some(300), None).data_type,
            DataType::decimal(38, 38)
        );
        let float = map_field("double", Some("double"), None, Some(16));
        assert_eq!(
            (float.data_type, float.lossless, float.note),
            (DataType::Float64, false, NO_DECIMAL_PLACE)
        );
        // The wire shape wins over a scalar data type.
        let tag = map_field("text", Some("jsonarray"), None, None);
        assert_eq!((tag.data_type, tag.note), (DataType::Json, WIRE_SHAPE));
    }

    #[test]
    fn unknown_types_fall_back_by_json_type() {
        let m = |j: Option<&str>| map_field("hologram", j, Some(3), Some(10));
        assert_eq!(
            (m(Some("string")).data_type, m(Some("string")).note),
            (DataType::String, BY_JSON_TYPE)
        );
        assert_eq!(m(Some("integer")).data_type, DataType::Int64);
        assert_eq!(m(Some("double")).data_type, DataType::decimal(13, 3));
        assert_eq!(
            map_field("hologram", Some("double"), None, None).data_type,
            DataType::Float64
        );
        assert_eq!(m(Some("boolean")).data_type, DataType::Boolean);
        assert_eq!(m(Some("jsonobject")).data_type, DataType::Json);
        assert_eq!(m(Some("JSONARRAY")).data_type, DataType::Json);
        assert_eq!(
            (m(None).data_type, m(None).note),
            (DataType::String, UNKNOWN)
        );
        assert_eq!(m(Some("hologram")).data_type, DataType::String);
    }

    #[test]
    fn fields_read_zoho_records() {
        let policy = ConversionPolicy::strict();
        let mut changes = Vec::new();
        let id = field("id", "bigint", Some("string"), None, Some(18), false);
        assert_eq!(
            id.metadata.get("json_type").map(String::as_str),
            Some("string")
        );
        let native = id.native.as_ref().unwrap();
        assert_eq!(
            (native.system.as_str(), native.name.as_str()),
            ("zoho_crm", "bigint")
        );
        let v = json::from_json(&id, &json!("4150868000000225013"), &policy, &mut changes).unwrap();
        assert_eq!(v, Value::Int64(4_150_868_000_000_225_013));
        assert_eq!(
            json::to_json(&v, &id.data_type),
            json!("4150868000000225013")
        );

        let owner = field("Owner", "ownerlookup", Some("jsonobject"), None, None, true);
        let v = json::from_json(
            &owner,
            &json!({"name": "Patricia Boyle", "id": "4150868000000225013", "email": "p@example.com"}),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Struct(vec![
                Value::Int64(4_150_868_000_000_225_013),
                Value::from("Patricia Boyle"),
                Value::from("p@example.com"),
            ])
        );

        let amount = field(
            "Amount",
            "currency",
            Some("double"),
            Some(2),
            Some(16),
            true,
        );
        assert_eq!(amount.native.as_ref().unwrap().scale, Some(2));
        let v = json::from_json(&amount, &json!(1234.5), &policy, &mut changes).unwrap();
        assert_eq!(v.to_string(), "1234.5");
        let e = json::from_json(&amount, &json!(0.125), &policy, &mut changes).unwrap_err();
        assert!(e.to_string().contains("Amount") && e.to_string().contains("0.125"));

        let modified = field(
            "Modified_Time",
            "datetime",
            Some("string"),
            None,
            None,
            true,
        );
        let v = json::from_json(
            &modified,
            &json!("2021-08-04T14:08:39+03:00"),
            &policy,
            &mut changes,
        )
        .unwrap();
        assert_eq!(
            json::to_json(&v, &modified.data_type),
            json!("2021-08-04T14:08:39+03:00")
        );

        let tags = field(
            "Colors",
            "multiselectpicklist",
            Some("jsonarray"),
            None,
            None,
            true,
        );
        let v = json::from_json(&tags, &json!(["Red", "Blue"]), &policy, &mut changes).unwrap();
        assert_eq!(
            v,
            Value::List(vec![Value::from("Red"), Value::from("Blue")])
        );
        assert!(changes.is_empty());
    }
}
