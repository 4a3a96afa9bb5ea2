//! The Salesforce type table: describe `type`s, SOAP types and the Setup UI's field
//! labels, mapped to interim [`DataType`]s.
//!
//! The mapping follows what describe (`GET /sobjects/{name}/describe`) reports for each
//! field: `fields[].type`, `precision`, `scale` and `length`. Unlike Azure Data
//! Factory, a `date` stays a [`DataType::Date`] (ADF turns it into a date-time) and a
//! decimal that does not fit its scale is an error or a recorded change, never rounded
//! silently.
//!
//! ```
//! use type_mapping::{salesforce, DataType};
//!
//! let amount = salesforce::describe_field("Amount", "currency", Some(18), Some(2), None, true);
//! assert_eq!(amount.data_type, DataType::decimal(18, 2));
//! assert_eq!(amount.native.as_ref().map(|n| n.to_string()).as_deref(), Some("salesforce:currency(18,2)"));
//!
//! assert_eq!(salesforce::map_describe_type("date", None, None).data_type, DataType::Date);
//! assert_eq!(
//!     salesforce::map_describe_type("multipicklist", None, None).data_type,
//!     DataType::list(DataType::String),
//! );
//! // Types Salesforce adds later are kept as text, never dropped.
//! let new = salesforce::map_describe_type("hologram", None, None);
//! assert_eq!(new.data_type, DataType::String);
//! # for row in salesforce::DESCRIBE_TYPES { assert!(!row.note.is_empty()); }
//! ```
//!
//! # Numbers
//!
//! `double`, `currency` and `percent` fields with a `precision` from describe are
//! [`DataType::Decimal`] with that precision and scale (a missing scale is 0), up to a
//! precision of [`MAX_DECIMAL_PRECISION`]. Only without a known precision (or with
//! precision 0) does a `double` become [`DataType::Float64`], marked as not lossless. A
//! precision beyond 38, or a scale beyond the precision's range, cannot be declared as
//! a decimal: such fields fall back to [`DataType::String`], which keeps the digits
//! exactly.

use crate::{DataType, Field, MAX_DECIMAL_PRECISION, Mapping, NativeType, TableRow};

/// Salesforce describe `fields[].type` values and their interim types.
///
/// `double`, `currency` and `percent` show the mapping when describe gives a precision;
/// see [`map_describe_type`] for the rest.
pub static DESCRIBE_TYPES: &[TableRow] = &[
    TableRow {
        native: "id",
        interim: "String",
        lossless: true,
        note: "18-character record id; case-sensitive, kept as text",
    },
    TableRow {
        native: "reference",
        interim: "String",
        lossless: true,
        note: "lookup or master-detail: the related record's id, kept as text",
    },
    TableRow {
        native: "string",
        interim: "String",
        lossless: true,
        note: "text up to `length` characters",
    },
    TableRow {
        native: "textarea",
        interim: "String",
        lossless: true,
        note: "long and rich text areas too; rich text keeps its HTML",
    },
    TableRow {
        native: "email",
        interim: "String",
        lossless: true,
        note: "text; not validated here",
    },
    TableRow {
        native: "phone",
        interim: "String",
        lossless: true,
        note: "text, as entered",
    },
    TableRow {
        native: "url",
        interim: "String",
        lossless: true,
        note: "text; not validated here",
    },
    TableRow {
        native: "picklist",
        interim: "String",
        lossless: true,
        note: "one value; a field's `allowed_values` restrict it",
    },
    TableRow {
        native: "multipicklist",
        interim: "List<String>",
        lossless: true,
        note: "several values, `;`-separated in CSV (`A;B;C`)",
    },
    TableRow {
        native: "combobox",
        interim: "String",
        lossless: true,
        note: "a picklist that also accepts free text",
    },
    TableRow {
        native: "encryptedstring",
        interim: "String",
        lossless: true,
        note: "text; reads show it masked unless the user may view encrypted data",
    },
    TableRow {
        native: "boolean",
        interim: "Boolean",
        lossless: true,
        note: "checkbox: `true`/`false`",
    },
    TableRow {
        native: "int",
        interim: "Int32",
        lossless: true,
        note: "integer of at most 9 `digits`; fits 32 bits",
    },
    TableRow {
        native: "long",
        interim: "Int64",
        lossless: true,
        note: "64-bit integer, kept exact",
    },
    TableRow {
        native: "double",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "a Number field: Decimal with describe's precision and scale; values beyond the scale are errors (ADF rounds them); Float64 only when no precision is known",
    },
    TableRow {
        native: "currency",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "Decimal with describe's precision and scale (e.g. 18, 2); values beyond the scale are errors, not rounded as ADF does",
    },
    TableRow {
        native: "percent",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "Decimal with describe's precision and scale; the number of percent (12.5 means 12.5%)",
    },
    TableRow {
        native: "date",
        interim: "Date",
        lossless: true,
        note: "a calendar date `YYYY-MM-DD`; stays a Date (ADF turns it into a date-time)",
    },
    TableRow {
        native: "datetime",
        interim: "DateTimeOffset",
        lossless: true,
        note: "an instant, sent in UTC (`...Z` in CSV, `+0000` in job info)",
    },
    TableRow {
        native: "time",
        interim: "Time",
        lossless: true,
        note: "time of day `HH:MM:SS.sssZ`, without a date",
    },
    TableRow {
        native: "base64",
        interim: "Binary",
        lossless: true,
        note: "bytes, base64 on the wire; Bulk API queries cannot select base64 fields",
    },
    TableRow {
        native: "address",
        interim: "Struct{street, city, state, postalCode, country, stateCode, countryCode, latitude, longitude, geocodeAccuracy}",
        lossless: true,
        note: "compound field: text members, latitude and longitude Decimal(18, 15); Bulk API queries must select the component fields instead",
    },
    TableRow {
        native: "location",
        interim: "Struct{latitude, longitude}",
        lossless: true,
        note: "geolocation compound field: Decimal(18, 15) members, since Salesforce stores them as numbers of at most 15 decimal places and Decimal keeps those digits exactly; Bulk API queries must select the components",
    },
    TableRow {
        native: "anyType",
        interim: "Json",
        lossless: true,
        note: "any value (history fields' OldValue/NewValue); text that is not JSON is kept as a JSON string",
    },
    TableRow {
        native: "json",
        interim: "Json",
        lossless: true,
        note: "JSON text",
    },
    TableRow {
        native: "complexvalue",
        interim: "Json",
        lossless: true,
        note: "structured metadata values, kept as JSON",
    },
    TableRow {
        native: "datacategorygroupreference",
        interim: "String",
        lossless: true,
        note: "a data category group name, kept as text",
    },
    TableRow {
        native: "masterrecord",
        interim: "String",
        lossless: true,
        note: "the id of the record a merged record was merged into",
    },
    TableRow {
        native: "byte",
        interim: "String",
        lossless: true,
        note: "listed with the text types by describe; kept as text",
    },
    TableRow {
        native: "calculated",
        interim: "String",
        lossless: true,
        note: "a formula whose result type describe did not give; kept as text",
    },
];

/// Salesforce `soapType` values (`tns:ID`, `xsd:double`, ...) and their interim types;
/// [`map_describe_type`] accepts them too.
pub static SOAP_TYPES: &[TableRow] = &[
    TableRow {
        native: "tns:ID",
        interim: "String",
        lossless: true,
        note: "a record id, as `id`",
    },
    TableRow {
        native: "xsd:string",
        interim: "String",
        lossless: true,
        note: "text, as `string`",
    },
    TableRow {
        native: "xsd:boolean",
        interim: "Boolean",
        lossless: true,
        note: "as `boolean`",
    },
    TableRow {
        native: "xsd:double",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "as `double`: Decimal with describe's precision and scale, Float64 only without a precision",
    },
    TableRow {
        native: "xsd:int",
        interim: "Int32",
        lossless: true,
        note: "as `int`",
    },
    TableRow {
        native: "xsd:long",
        interim: "Int64",
        lossless: true,
        note: "as `long`",
    },
    TableRow {
        native: "xsd:date",
        interim: "Date",
        lossless: true,
        note: "as `date`: a Date, not a date-time",
    },
    TableRow {
        native: "xsd:dateTime",
        interim: "DateTimeOffset",
        lossless: true,
        note: "as `datetime`",
    },
    TableRow {
        native: "xsd:time",
        interim: "Time",
        lossless: true,
        note: "as `time`",
    },
    TableRow {
        native: "xsd:base64Binary",
        interim: "Binary",
        lossless: true,
        note: "as `base64`",
    },
    TableRow {
        native: "xsd:anyType",
        interim: "Json",
        lossless: true,
        note: "as `anyType`",
    },
    TableRow {
        native: "urn:address",
        interim: "Struct{street, city, state, postalCode, country, stateCode, countryCode, latitude, longitude, geocodeAccuracy}",
        lossless: true,
        note: "as `address`",
    },
    TableRow {
        native: "urn:location",
        interim: "Struct{latitude, longitude}",
        lossless: true,
        note: "as `location`",
    },
];

/// The field types of Salesforce's Setup UI (the labels Azure Data Factory's type
/// table uses) and their interim types.
pub static FIELD_LABELS: &[TableRow] = &[
    TableRow {
        native: "Auto Number",
        interim: "String",
        lossless: true,
        note: "display format with prefix and number (`A-0001`): text",
    },
    TableRow {
        native: "Checkbox",
        interim: "Boolean",
        lossless: true,
        note: "describe `boolean`",
    },
    TableRow {
        native: "Currency",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "describe `currency`: Decimal with the field's precision and scale; ADF rounds values beyond the scale, this crate does not",
    },
    TableRow {
        native: "Date",
        interim: "Date",
        lossless: true,
        note: "describe `date`: stays a Date; ADF maps it to DateTime, adding a time that was never there",
    },
    TableRow {
        native: "Date/Time",
        interim: "DateTimeOffset",
        lossless: true,
        note: "describe `datetime`: an instant, sent in UTC",
    },
    TableRow {
        native: "Email",
        interim: "String",
        lossless: true,
        note: "describe `email`",
    },
    TableRow {
        native: "ID",
        interim: "String",
        lossless: true,
        note: "describe `id`",
    },
    TableRow {
        native: "Lookup Relationship",
        interim: "String",
        lossless: true,
        note: "describe `reference`: the related record's id",
    },
    TableRow {
        native: "Master-Detail Relationship",
        interim: "String",
        lossless: true,
        note: "describe `reference`: the parent record's id",
    },
    TableRow {
        native: "Multi-Select Picklist",
        interim: "List<String>",
        lossless: true,
        note: "describe `multipicklist`: `;`-separated in CSV; ADF keeps it as one string",
    },
    TableRow {
        native: "Number",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "describe `double`: Decimal with the field's precision and scale; ADF rounds values beyond the scale, this crate does not",
    },
    TableRow {
        native: "Percent",
        interim: "Decimal(precision, scale)",
        lossless: true,
        note: "describe `percent`: Decimal with the field's precision and scale",
    },
    TableRow {
        native: "Phone",
        interim: "String",
        lossless: true,
        note: "describe `phone`",
    },
    TableRow {
        native: "Picklist",
        interim: "String",
        lossless: true,
        note: "describe `picklist`",
    },
    TableRow {
        native: "Text",
        interim: "String",
        lossless: true,
        note: "describe `string`",
    },
    TableRow {
        native: "Text Area",
        interim: "String",
        lossless: true,
        note: "describe `textarea`",
    },
    TableRow {
        native: "Text Area (Long)",
        interim: "String",
        lossless: true,
        note: "describe `textarea`, up to 131,072 characters",
    },
    TableRow {
        native: "Text Area (Rich)",
        interim: "String",
        lossless: true,
        note: "describe `textarea` holding HTML; the HTML is kept",
    },
    TableRow {
        native: "Text (Encrypted)",
        interim: "String",
        lossless: true,
        note: "describe `encryptedstring`",
    },
    TableRow {
        native: "URL",
        interim: "String",
        lossless: true,
        note: "describe `url`",
    },
    TableRow {
        native: "Time",
        interim: "Time",
        lossless: true,
        note: "describe `time`",
    },
    TableRow {
        native: "Geolocation",
        interim: "Struct{latitude, longitude}",
        lossless: true,
        note: "describe `location`: Decimal(18, 15) members",
    },
];

const NO_PRECISION: &str = "a number without a known precision: Float64, which holds about 15 significant digits (describe's precision and scale give an exact Decimal)";
const TOO_PRECISE: &str = "precision or scale beyond the 38 digits a Decimal may declare: kept as text, which keeps every digit";
const UNKNOWN: &str = "a Salesforce type this table does not know: kept as text, which keeps the value exactly but checks nothing";
const UNKNOWN_COMPOUND: &str = "a compound Salesforce type this table does not know: kept as JSON, which keeps the value exactly";
const UNKNOWN_LABEL: &str = "a field type label this table does not know: kept as text";

/// Maps a describe `type` (`currency`) or a `soapType` (`xsd:double`) to its interim
/// type, case-insensitively.
///
/// `precision` and `scale` are describe's, used for `double`, `currency` and `percent`
/// (see the [module documentation](self#numbers)). A type the table does not know maps
/// to [`DataType::String`] (or [`DataType::Json`] for `urn:` SOAP types, which are
/// compound), with a note saying so: no field is ever dropped.
pub fn map_describe_type(
    soap_type_or_describe_type: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Mapping {
    let name = soap_type_or_describe_type.trim();
    if let Some(row) = find(SOAP_TYPES, name) {
        return mapping(soap_equivalent(row.native), row, precision, scale);
    }
    if let Some(row) = find(DESCRIBE_TYPES, name) {
        return mapping(row.native, row, precision, scale);
    }
    let compound = name
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if compound {
        Mapping {
            data_type: DataType::Json,
            lossless: true,
            note: UNKNOWN_COMPOUND,
        }
    } else {
        Mapping {
            data_type: DataType::String,
            lossless: true,
            note: UNKNOWN,
        }
    }
}

/// Maps a Setup UI field type label (`Currency`, `Date/Time`, `Multi-Select Picklist`)
/// to its interim type, case-insensitively. `precision` and `scale` as in
/// [`map_describe_type`]. An unknown label maps to [`DataType::String`].
pub fn map_label(label: &str, precision: Option<u32>, scale: Option<u32>) -> Mapping {
    match find(FIELD_LABELS, label.trim()) {
        Some(row) => mapping(label_equivalent(row.native), row, precision, scale),
        None => Mapping {
            data_type: DataType::String,
            lossless: true,
            note: UNKNOWN_LABEL,
        },
    }
}

/// A [`Field`] from one describe field: the interim type from [`map_describe_type`],
/// and `native` set to `salesforce` / `describe_type` with the given precision, scale
/// and length. `length` also limits text values in [`text::parse`](crate::text::parse).
pub fn describe_field(
    name: &str,
    describe_type: &str,
    precision: Option<u32>,
    scale: Option<u32>,
    length: Option<u32>,
    nullable: bool,
) -> Field {
    let mapping = map_describe_type(describe_type, precision, scale);
    Field::new(name, mapping.data_type)
        .with_nullable(nullable)
        .with_native(NativeType {
            system: "salesforce".to_owned(),
            name: describe_type.to_owned(),
            precision,
            scale,
            length,
        })
}

fn find<'t>(table: &'t [TableRow], name: &str) -> Option<&'t TableRow> {
    table
        .iter()
        .find(|row| row.native.eq_ignore_ascii_case(name))
}

/// The describe type a SOAP type stands for.
fn soap_equivalent(soap: &str) -> &'static str {
    match soap {
        "xsd:boolean" => "boolean",
        "xsd:double" => "double",
        "xsd:int" => "int",
        "xsd:long" => "long",
        "xsd:date" => "date",
        "xsd:dateTime" => "datetime",
        "xsd:time" => "time",
        "xsd:base64Binary" => "base64",
        "xsd:anyType" => "anyType",
        "urn:address" => "address",
        "urn:location" => "location",
        _ => "string",
    }
}

/// The describe type a Setup UI label stands for.
fn label_equivalent(label: &str) -> &'static str {
    match label {
        "Checkbox" => "boolean",
        "Currency" => "currency",
        "Number" => "double",
        "Percent" => "percent",
        "Date" => "date",
        "Date/Time" => "datetime",
        "Time" => "time",
        "Multi-Select Picklist" => "multipicklist",
        "Geolocation" => "location",
        _ => "string",
    }
}

/// The mapping of a known describe type, with the row's flags and note.
fn mapping(describe: &str, row: &TableRow, precision: Option<u32>, scale: Option<u32>) -> Mapping {
    let data_type = match describe {
        "boolean" => DataType::Boolean,
        "int" => DataType::Int32,
        "long" => DataType::Int64,
        "double" | "currency" | "percent" => return number(row, precision, scale),
        "date" => DataType::Date,
        "datetime" => DataType::DateTimeOffset,
        "time" => DataType::Time,
        "base64" => DataType::Binary,
        "multipicklist" => DataType::list(DataType::String),
        "address" => address(),
        "location" => location(),
        "anyType" | "json" | "complexvalue" => DataType::Json,
        _ => DataType::String,
    };
    Mapping {
        data_type,
        lossless: row.lossless,
        note: row.note,
    }
}

fn number(row: &TableRow, precision: Option<u32>, scale: Option<u32>) -> Mapping {
    let Some(precision) = precision.filter(|p| *p > 0) else {
        return Mapping {
            data_type: DataType::Float64,
            lossless: false,
            note: NO_PRECISION,
        };
    };
    let scale = scale.unwrap_or(0);
    let max = u32::from(MAX_DECIMAL_PRECISION);
    match (u8::try_from(precision.max(scale)), u8::try_from(scale)) {
        (Ok(p), Ok(s)) if u32::from(p) <= max => Mapping {
            data_type: DataType::decimal(p, s),
            lossless: row.lossless,
            note: row.note,
        },
        _ => Mapping {
            data_type: DataType::String,
            lossless: true,
            note: TOO_PRECISE,
        },
    }
}

fn coordinate(name: &str) -> Field {
    Field::new(name, DataType::decimal(18, 15))
}

fn address() -> DataType {
    let text = |name: &str| Field::new(name, DataType::String);
    DataType::Struct(vec![
        text("street"),
        text("city"),
        text("state"),
        text("postalCode"),
        text("country"),
        text("stateCode"),
        text("countryCode"),
        coordinate("latitude"),
        coordinate("longitude"),
        text("geocodeAccuracy"),
    ])
}

fn location() -> DataType {
    DataType::Struct(vec![coordinate("latitude"), coordinate("longitude")])
}

/// Test helpers shared by the type tables' tests.
#[cfg(test)]
pub(crate) mod table_test {
    use crate::{DataType, Mapping, TableRow};

    /// The short form of a type a [`TableRow::interim`] shows: struct members by name,
    /// and decimals with the `params` given as `Decimal(precision, scale)`.
    pub(crate) fn shape(data_type: &DataType, params: Option<(u8, u8)>) -> String {
        match data_type {
            DataType::Decimal { precision, scale } if params == Some((*precision, *scale)) => {
                "Decimal(precision, scale)".to_owned()
            }
            DataType::List(item) => format!("List<{}>", shape(item, params)),
            DataType::Struct(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                format!("Struct{{{}}}", names.join(", "))
            }
            other => other.to_string(),
        }
    }

    /// Asserts that a mapping is what its row says.
    pub(crate) fn assert_row(row: &TableRow, mapping: &Mapping, params: Option<(u8, u8)>) {
        assert_eq!(
            shape(&mapping.data_type, params),
            row.interim,
            "{}",
            row.native
        );
        assert_eq!(mapping.lossless, row.lossless, "{}", row.native);
        assert_eq!(mapping.note, row.note, "{}", row.native);
        assert!(!row.note.is_empty(), "{}", row.native);
    }

    /// Asserts that no two rows name the same native type.
    pub(crate) fn assert_unique(table: &[TableRow]) {
        for (i, row) in table.iter().enumerate() {
            for other in table.iter().skip(i + 1) {
                assert!(
                    !row.native.eq_ignore_ascii_case(other.native),
                    "{} twice",
                    row.native
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::table_test::{assert_row, assert_unique};
    use super::*;
    use crate::{ConversionPolicy, Value, text};

    #[test]
    fn every_describe_row() {
        assert_unique(DESCRIBE_TYPES);
        for row in DESCRIBE_TYPES {
            let m = map_describe_type(row.native, Some(18), Some(2));
            assert_row(row, &m, Some((18, 2)));
            // Case does not matter.
            assert_eq!(
                map_describe_type(&row.native.to_ascii_uppercase(), Some(18), Some(2)),
                m
            );
        }
    }

    #[test]
    fn every_soap_row() {
        assert_unique(SOAP_TYPES);
        for row in SOAP_TYPES {
            let m = map_describe_type(row.native, Some(18), Some(2));
            assert_row(row, &m, Some((18, 2)));
            // The SOAP type means the same as its describe type.
            let describe = map_describe_type(soap_equivalent(row.native), Some(18), Some(2));
            assert_eq!(m.data_type, describe.data_type, "{}", row.native);
        }
    }

    #[test]
    fn every_label_row() {
        assert_unique(FIELD_LABELS);
        for row in FIELD_LABELS {
            let m = map_label(row.native, Some(18), Some(2));
            assert_row(row, &m, Some((18, 2)));
            let describe = map_describe_type(label_equivalent(row.native), Some(18), Some(2));
            assert_eq!(m.data_type, describe.data_type, "{}", row.native);
        }
        assert_eq!(
            map_label(" date/time ", None, None).data_type,
            DataType::DateTimeOffset
        );
        let unknown = map_label("Hologram", None, None);
        assert_eq!(
            (unknown.data_type, unknown.note),
            (DataType::String, UNKNOWN_LABEL)
        );
    }

    #[test]
    fn important_rows() {
        let m = |t: &str| map_describe_type(t, None, None).data_type;
        assert_eq!(m("date"), DataType::Date);
        assert_eq!(map_label("Date", None, None).data_type, DataType::Date);
        assert_eq!(m("xsd:date"), DataType::Date);
        assert_eq!(m("datetime"), DataType::DateTimeOffset);
        assert_eq!(m("time"), DataType::Time);
        assert_eq!(m("int"), DataType::Int32);
        assert_eq!(m("long"), DataType::Int64);
        assert_eq!(m("id"), DataType::String);
        assert_eq!(m("reference"), DataType::String);
        assert_eq!(m("multipicklist"), DataType::list(DataType::String));
        assert_eq!(m("base64"), DataType::Binary);
        assert_eq!(m("anyType"), DataType::Json);
        assert_eq!(m("anytype"), DataType::Json);
        assert_eq!(m("json"), DataType::Json);
        for t in ["currency", "double", "percent", "xsd:double"] {
            assert_eq!(
                map_describe_type(t, Some(18), Some(2)).data_type,
                DataType::decimal(18, 2)
            );
            assert_eq!(
                map_describe_type(t, Some(3), None).data_type,
                DataType::decimal(3, 0)
            );
            assert_eq!(
                map_describe_type(t, Some(38), Some(38)).data_type,
                DataType::decimal(38, 38)
            );
            let float = map_describe_type(t, None, None);
            assert_eq!(
                (float.data_type, float.lossless, float.note),
                (DataType::Float64, false, NO_PRECISION)
            );
            assert_eq!(
                map_describe_type(t, Some(0), Some(0)).data_type,
                DataType::Float64
            );
            let wide = map_describe_type(t, Some(39), Some(2));
            assert_eq!(
                (wide.data_type, wide.lossless, wide.note),
                (DataType::String, true, TOO_PRECISE)
            );
            assert_eq!(
                map_describe_type(t, Some(10), Some(300)).data_type,
                DataType::String
            );
        }
        // A scale above the precision widens the precision rather than failing.
        assert_eq!(
            map_describe_type("currency", Some(2), Some(4)).data_type,
            DataType::decimal(4, 4)
        );
        let DataType::Struct(members) = m("address") else {
            panic!("address")
        };
        assert_eq!(members.len(), 10);
        assert_eq!(members[7].data_type, DataType::decimal(18, 15));
        assert_eq!(m("urn:location"), m("location"));
    }

    #[test]
    fn unknown_types_are_kept() {
        let m = map_describe_type("hologram", Some(5), None);
        assert_eq!(
            (m.data_type, m.lossless, m.note),
            (DataType::String, true, UNKNOWN)
        );
        let m = map_describe_type("urn:hologram", None, None);
        assert_eq!((m.data_type, m.note), (DataType::Json, UNKNOWN_COMPOUND));
        let m = map_describe_type("xsd:hologram", None, None);
        assert_eq!(m.data_type, DataType::String);
        assert_eq!(
            map_describe_type("", None, None).data_type,
            DataType::String
        );
    }

    #[test]
    fn fields_from_describe() {
        let f = describe_field("Amount", "currency", Some(18), Some(2), None, true);
        assert_eq!(f.data_type, DataType::decimal(18, 2));
        assert!(f.nullable);
        let native = f.native.as_ref().unwrap();
        assert_eq!(
            (native.system.as_str(), native.name.as_str()),
            ("salesforce", "currency")
        );
        assert_eq!(
            (native.precision, native.scale, native.length),
            (Some(18), Some(2), None)
        );

        let name = describe_field("Name", "string", None, None, Some(5), false);
        assert!(!name.nullable);
        let policy = ConversionPolicy::strict();
        let mut changes = Vec::new();
        assert_eq!(
            text::parse(&name, "Acme", &policy, &mut changes).unwrap(),
            Value::from("Acme")
        );
        let e = text::parse(&name, "Acme Corp", &policy, &mut changes).unwrap_err();
        assert!(e.reason.contains("exceed length 5"));
        let e = text::parse(&name, "", &policy, &mut changes).unwrap_err();
        assert!(e.reason.contains("required"));

        let close = describe_field("CloseDate", "date", None, None, None, true);
        let v = text::parse(&close, "2024-03-31", &policy, &mut changes).unwrap();
        assert_eq!(
            v,
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap())
        );
        let tags = describe_field("Tags__c", "multipicklist", None, None, Some(4099), true);
        let v = text::parse(&tags, "A;B", &policy, &mut changes).unwrap();
        assert_eq!(v, Value::List(vec![Value::from("A"), Value::from("B")]));
        assert!(changes.is_empty());
    }
}
