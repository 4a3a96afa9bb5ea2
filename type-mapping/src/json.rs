//! JSON values to typed [`Value`]s and back.
//!
//! [`from_json`] reads a JSON value (a Zoho record field, a SCIM attribute) for one
//! [`Field`]; [`to_json`] writes a value so that nothing is lost on the way to a JSON
//! consumer, JavaScript included.
//!
//! ```
//! use serde_json::json;
//! use type_mapping::{json as tm_json, ConversionPolicy, DataType, Field, Value};
//!
//! // Zoho sends 19-digit record ids as strings; they stay exact.
//! let id = Field::new("id", DataType::Int64);
//! let mut changes = Vec::new();
//! let value = tm_json::from_json(&id, &json!("4150868000000225013"), &ConversionPolicy::strict(), &mut changes)?;
//! assert_eq!(value, Value::Int64(4_150_868_000_000_225_013));
//!
//! // ...and are written back as strings, because a JSON number that large is not exact
//! // in JavaScript.
//! assert_eq!(tm_json::to_json(&value, &DataType::Int64), json!("4150868000000225013"));
//!
//! // SCIM servers may send booleans as strings.
//! let active = Field::new("active", DataType::Boolean);
//! let value = tm_json::from_json(&active, &json!("False"), &ConversionPolicy::strict(), &mut changes)?;
//! assert_eq!(value, Value::Boolean(false));
//! # Ok::<(), type_mapping::ConversionError>(())
//! ```
//!
//! # Reading
//!
//! - JSON `null` is `Null` (an error for a required field). An empty JSON string is
//!   `Null` too for every type but `String` and `Json`, when
//!   [`ConversionPolicy::empty_is_null`] is set.
//! - A JSON string is read exactly like a CSV cell by [`text::parse`],
//!   so integers, decimals, booleans (`"True"`), dates and the rest may all come as
//!   strings. This is how exact values should travel: Zoho sends ids and `bigint`s as
//!   strings.
//! - Integers read from JSON integers exactly. A JSON number with a fraction is rounded
//!   (lenient) or rejected (strict) for an integer field, like text.
//! - Decimals read from the JSON number's text, never through an `f64` conversion of
//!   their own. But unless `serde_json`'s `arbitrary_precision` feature is on, the JSON
//!   reader has already turned every non-integer number into an `f64`: such a number is
//!   exact only up to 15 significant digits. A decimal read from a JSON floating-point
//!   number with more significant digits than that is an error under the strict policy
//!   and a recorded [`ChangeKind::Rounded`] under the lenient one. Send exact decimals
//!   as JSON strings, or read them with the text path.
//! - `String` fields accept numbers, booleans, arrays and objects too, as their compact
//!   JSON text: that is lossless.
//! - Lists come from arrays, item by item; lists of text also from `"A;B"` strings.
//! - Structs come from objects. Keys match field names exactly or, failing that, ASCII
//!   case-insensitively (SCIM names are case-insensitive). A missing key is `Null`; keys
//!   that are not fields are ignored.
//! - `Json` fields take any value as it is.
//!
//! # Writing
//!
//! [`to_json`] writes `Int64` values beyond ±(2^53 − 1) as JSON strings, since JSON
//! readers that use doubles (JavaScript, many others) cannot hold them exactly; decimals
//! always as JSON strings with their scale (`"1234.50"`); dates and times as ISO 8601
//! strings, date-times with their offset; bytes as base64 strings; non-finite floats as
//! the strings `"NaN"`, `"Infinity"` and `"-Infinity"`; structs as objects keyed by the
//! [`DataType::Struct`] field names.

use std::sync::OnceLock;

use serde_json::Value as J;

use crate::text::{self, Ctx, Fail, Original, Target};
use crate::{Change, ChangeKind, ConversionError, ConversionPolicy, DataType, Field, Value};

/// Reads one JSON value as a value of `field`'s type.
///
/// Every adjustment the lenient policy makes is pushed onto `changes`; on error nothing
/// is pushed. See the [module documentation](self) for what is accepted.
///
/// # Errors
///
/// A [`ConversionError`] naming the field (`Parent.member` inside structs) and the value
/// when the value cannot be read as the field's type, when a required field is null, or
/// (strict policy) when the value does not fit.
pub fn from_json(
    field: &Field,
    value: &J,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    let mark = changes.len();
    let result = from_json_target(&Target::of(field), value, policy, changes);
    if result.is_err() {
        changes.truncate(mark);
    }
    result
}

/// Writes a value as JSON, exactly. See the [module documentation](self).
///
/// `data_type` supplies the field names of structs (and, through lists, of structs in
/// lists); scalars are written by their value.
pub fn to_json(value: &Value, data_type: &DataType) -> J {
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int8(v) => J::from(*v),
        Value::Int16(v) => J::from(*v),
        Value::Int32(v) => J::from(*v),
        Value::Int64(v) => {
            if v.unsigned_abs() <= MAX_SAFE_INTEGER {
                J::from(*v)
            } else {
                J::String(v.to_string())
            }
        }
        Value::Float64(v) => match serde_json::Number::from_f64(*v) {
            Some(n) => J::Number(n),
            None if v.is_nan() => J::String("NaN".to_owned()),
            None if *v > 0.0 => J::String("Infinity".to_owned()),
            None => J::String("-Infinity".to_owned()),
        },
        Value::Decimal(d) => J::String(d.to_string()),
        Value::String(s) => J::String(s.clone()),
        Value::Uuid(u) => J::String(u.hyphenated().to_string()),
        Value::Binary(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::DateTime(_)
        | Value::DateTimeOffset(_) => J::String(text::iso_string(value, data_type)),
        Value::Json(v) => (**v).clone(),
        Value::List(items) => {
            let item_type = match data_type {
                DataType::List(item) => item.as_ref(),
                _ => &DataType::Json,
            };
            J::Array(items.iter().map(|item| to_json(item, item_type)).collect())
        }
        Value::Struct(values) => {
            let fields: &[Field] = match data_type {
                DataType::Struct(fields) => fields,
                _ => &[],
            };
            let mut map = serde_json::Map::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match fields.get(i) {
                    Some(f) => map.insert(f.name.clone(), to_json(v, &f.data_type)),
                    // More values than fields: keyed by position rather than dropped.
                    None => map.insert(i.to_string(), to_json(v, &DataType::Json)),
                };
            }
            J::Object(map)
        }
    }
}

/// The largest integer every IEEE double holds exactly, 2^53 − 1.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Whether the JSON reader keeps the text of numbers (`arbitrary_precision`), found out
/// once by reading a number a double cannot hold.
fn json_numbers_are_exact() -> bool {
    static EXACT: OnceLock<bool> = OnceLock::new();
    *EXACT.get_or_init(|| {
        const PROBE: &str = "0.10000000000000000001";
        serde_json::from_str::<J>(PROBE).is_ok_and(|v| {
            let text = v.to_string();
            text == PROBE
        })
    })
}

/// Reads a JSON value for a target.
pub(crate) fn from_json_target(
    t: &Target<'_>,
    v: &J,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    match (t.data_type, v) {
        (_, J::Null) => text::null_for(t, "null"),
        (DataType::Json, v) => Ok(Value::Json(Box::new(v.clone()))),
        (DataType::String, J::String(s)) => text::parse_present(t, s, policy, changes),
        (_, J::String(s)) if s.is_empty() && policy.empty_is_null => text::null_for(t, s),
        (_, J::String(s)) => text::parse_present(t, s, policy, changes),
        (DataType::Boolean, J::Bool(b)) => Ok(Value::Boolean(*b)),
        (_, J::Bool(b)) => {
            text::parse_present(t, if *b { "true" } else { "false" }, policy, changes)
        }
        (_, J::Number(n)) => number(t, v, n, policy, changes),
        (DataType::String, J::Array(_) | J::Object(_)) => {
            text::parse_present(t, &v.to_string(), policy, changes)
        }
        (_, J::Array(_) | J::Object(_)) => {
            let result = {
                let mut ctx = Ctx {
                    target: t,
                    original: Original::Json(v),
                    policy,
                    changes,
                };
                convert_compound(&mut ctx, v)
            };
            text::settle(t, Original::Json(v), result, policy, changes)
        }
    }
}

/// Reads a JSON number for a target.
fn number(
    t: &Target<'_>,
    v: &J,
    n: &serde_json::Number,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    let fast = match t.data_type {
        DataType::Boolean => Some(match n.as_u64() {
            Some(0) => Ok(Value::Boolean(false)),
            Some(1) => Ok(Value::Boolean(true)),
            _ => Err(Fail::malformed("expected true/false, 1/0 or yes/no")),
        }),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            n.as_i64().map(|i| text::int_value(t.data_type, i))
        }
        DataType::Float64 => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| Ok(Value::Float64(f))),
        _ => None,
    };
    if let Some(result) = fast {
        return text::settle(t, Original::Json(v), result, policy, changes);
    }
    let text = n.to_string();
    let value = text::parse_present(t, &text, policy, changes)?;
    let numeric = t.data_type.is_integer() || matches!(t.data_type, DataType::Decimal { .. });
    if numeric && !value.is_null() && n.is_f64() && !json_numbers_are_exact() {
        let significant = text::scan_num(text.as_bytes()).map_or(0, |num| num.shape().significant);
        if significant > 15 {
            let problem = format!(
                "a JSON number with {significant} significant digits may have been rounded by the JSON reader, which holds such numbers as doubles (send exact numbers as strings)"
            );
            if !policy.is_lenient() {
                return Err(t.error(&text, problem));
            }
            changes.push(Change {
                field: t.path(),
                kind: ChangeKind::Rounded,
                original: text.clone(),
                reason: format!("{problem}; accepted as read"),
            });
        }
    }
    Ok(value)
}

/// Lists from arrays and structs from objects, for JSON values and for JSON text in
/// cells.
pub(crate) fn convert_compound(ctx: &mut Ctx<'_, '_>, v: &J) -> Result<Value, Fail> {
    const NULL: J = J::Null;
    let t = *ctx.target;
    match (t.data_type, v) {
        (DataType::List(item), J::Array(items)) => {
            let item_target = t.item(item);
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(from_json_target(
                    &item_target,
                    item,
                    ctx.policy,
                    ctx.changes,
                )?);
            }
            text::check_list_picklist(&t, &out)?;
            Ok(Value::List(out))
        }
        (DataType::Struct(fields), J::Object(map)) => {
            let parent = t.path_cow();
            let mut out = Vec::with_capacity(fields.len());
            for field in fields {
                let member = Target::member(field, &parent);
                let value = map
                    .get(field.name.as_str())
                    .or_else(|| {
                        map.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&field.name))
                            .map(|(_, v)| v)
                    })
                    .unwrap_or(&NULL);
                out.push(from_json_target(&member, value, ctx.policy, ctx.changes)?);
            }
            Ok(Value::Struct(out))
        }
        (DataType::List(_), _) => Err(Fail::malformed("expected a JSON array")),
        (DataType::Struct(_), _) => Err(Fail::malformed("expected a JSON object")),
        (other, J::Array(_)) => Err(Fail::malformed(format!(
            "a JSON array cannot be read as {other}"
        ))),
        (other, _) => Err(Fail::malformed(format!(
            "a JSON object cannot be read as {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NativeType;
    use rust_decimal::Decimal;
    use serde_json::json;
    use std::str::FromStr;

    fn strict() -> ConversionPolicy {
        ConversionPolicy::strict()
    }

    fn ok(field: &Field, v: J) -> Value {
        let mut changes = Vec::new();
        let out = from_json(field, &v, &strict(), &mut changes)
            .unwrap_or_else(|e| panic!("{v} should convert: {e}"));
        assert!(changes.is_empty());
        out
    }

    fn err(field: &Field, v: J) -> ConversionError {
        let mut changes = Vec::new();
        let e = from_json(field, &v, &strict(), &mut changes).expect_err(&v.to_string());
        assert!(e.to_string().contains(&e.field));
        assert!(e.field.starts_with(&field.name), "{e}");
        assert!(changes.is_empty());
        e
    }

    fn lenient(field: &Field, v: J) -> (Value, Vec<Change>) {
        let mut changes = Vec::new();
        let out = from_json(field, &v, &ConversionPolicy::lenient(), &mut changes).unwrap();
        (out, changes)
    }

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn nulls_and_required() {
        let f = Field::new("F", DataType::Date);
        assert_eq!(ok(&f, J::Null), Value::Null);
        assert_eq!(ok(&f, json!("")), Value::Null);
        let s = Field::new("S", DataType::String);
        assert_eq!(ok(&s, json!("")), Value::String(String::new()));
        let required = f.with_nullable(false);
        let e = err(&required, J::Null);
        assert!(e.reason.contains("required field is empty"));
        assert_eq!(e.value, "null");
    }

    #[test]
    fn integers() {
        let f = Field::new("id", DataType::Int64);
        assert_eq!(ok(&f, json!(42)), Value::Int64(42));
        assert_eq!(
            ok(&f, json!("4150868000000225013")),
            Value::Int64(4_150_868_000_000_225_013)
        );
        assert_eq!(ok(&f, json!(i64::MIN)), Value::Int64(i64::MIN));
        assert_eq!(ok(&f, json!(5.0)), Value::Int64(5));
        let e = err(&f, json!(u64::MAX));
        assert!(e.reason.contains("out of range"), "{e}");
        let e = err(&f, json!(5.5));
        assert!(e.reason.contains("fractional part"), "{e}");
        assert!(e.to_string().contains("5.5"));
        let (v, changes) = lenient(&f, json!(5.5));
        assert_eq!(v, Value::Int64(6));
        assert_eq!(changes[0].kind, ChangeKind::Rounded);
        // A double beyond 2^53 may not be the number that was sent.
        if !json_numbers_are_exact() {
            let e = err(&f, json!(1_152_921_504_606_846_977.0_f64));
            assert!(e.reason.contains("may have been rounded"), "{e}");
        }
        let e = err(&f, json!("12a"));
        assert_eq!(e.value, "12a");
        let e = err(&f, json!(true));
        assert!(e.reason.contains("not an integer"));
        let e = err(&f, json!([1]));
        assert!(
            e.reason.contains("JSON array cannot be read as Int64"),
            "{e}"
        );
        assert_eq!(e.value, "[1]");

        let small = Field::new("n", DataType::Int8);
        assert_eq!(ok(&small, json!(-128)), Value::Int8(-128));
        let e = err(&small, json!(300));
        assert_eq!(e.value, "300");
        let (v, changes) = lenient(&small, json!(300));
        assert_eq!(v, Value::Null);
        assert_eq!(changes[0].kind, ChangeKind::Nulled);
        assert_eq!(changes[0].original, "300");
    }

    #[test]
    fn decimals() {
        let f = Field::new("Amount", DataType::decimal(18, 2));
        assert_eq!(ok(&f, json!(1234.5)), dec("1234.5"));
        assert_eq!(ok(&f, json!("1234.50")).to_string(), "1234.50");
        assert_eq!(ok(&f, json!(7)), dec("7"));
        let e = err(&f, json!(1.005));
        assert_eq!(e.reason, "3 decimal places exceed scale 2");
        let (v, changes) = lenient(&f, json!(1.005));
        assert_eq!(v, dec("1.01"));
        assert_eq!(changes.len(), 1);
        // 16 significant digits from a double: possibly not what was sent.
        let wide = Field::new("Wide", DataType::decimal(28, 10));
        if !json_numbers_are_exact() {
            let e = err(&wide, json!(123_456.789_012_345_6_f64));
            assert!(e.reason.contains("16 significant digits"), "{e}");
            let (v, changes) = lenient(&wide, json!(123_456.789_012_345_6_f64));
            assert_eq!(v, dec("123456.7890123456"));
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert_eq!(changes[0].kind, ChangeKind::Rounded);
            // Both adjustments are recorded.
            let (v, changes) = lenient(&wide, json!(0.123_456_789_012_345_6_f64));
            assert_eq!(v, dec("0.1234567890"));
            assert_eq!(changes.len(), 2, "{changes:?}");
        }
        // The same as a string is exact.
        assert_eq!(
            ok(&wide, json!("123456789012345678.0123456789")),
            dec("123456789012345678.0123456789")
        );
        err(&f, json!({"a": 1}));
    }

    #[test]
    fn floats_booleans_strings() {
        let f = Field::new("x", DataType::Float64);
        assert_eq!(ok(&f, json!(1.5)), Value::Float64(1.5));
        assert_eq!(ok(&f, json!(3)), Value::Float64(3.0));
        assert_eq!(ok(&f, json!("2.5")), Value::Float64(2.5));
        err(&f, json!("NaN"));

        let b = Field::new("active", DataType::Boolean);
        assert_eq!(ok(&b, json!(true)), Value::Boolean(true));
        assert_eq!(ok(&b, json!("True")), Value::Boolean(true));
        assert_eq!(ok(&b, json!("False")), Value::Boolean(false));
        assert_eq!(ok(&b, json!(0)), Value::Boolean(false));
        let e = err(&b, json!(2));
        assert!(e.reason.contains("true/false"));
        err(&b, json!("maybe"));

        let s = Field::new("s", DataType::String);
        assert_eq!(ok(&s, json!("x")), Value::String("x".into()));
        assert_eq!(ok(&s, json!(12.5)), Value::String("12.5".into()));
        assert_eq!(ok(&s, json!(true)), Value::String("true".into()));
        assert_eq!(
            ok(&s, json!({"a": [1]})),
            Value::String(r#"{"a":[1]}"#.into())
        );
        let pick = Field::new("p", DataType::String).with_allowed_values(["a"]);
        let e = err(&pick, json!("b"));
        assert!(e.reason.contains("picklist"));
        let mut native = NativeType::new("zoho_crm", "text");
        native.length = Some(2);
        let short = Field::new("short", DataType::String).with_native(native);
        let (v, changes) = lenient(&short, json!(true));
        assert_eq!(v, Value::String("tr".into()));
        assert_eq!(changes[0].kind, ChangeKind::Truncated);
        assert_eq!(changes[0].original, "true");
    }

    #[test]
    fn dates_and_others_from_strings() {
        let d = Field::new("d", DataType::Date);
        assert_eq!(
            ok(&d, json!("2024-01-02")),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap())
        );
        err(&d, json!(20240102));
        let dt = Field::new("Modified_Time", DataType::DateTimeOffset);
        match ok(&dt, json!("2021-08-04T14:08:39+03:00")) {
            Value::DateTimeOffset(v) => assert_eq!(v.offset().local_minus_utc(), 3 * 3600),
            other => panic!("{other:?}"),
        }
        let b = Field::new("bytes", DataType::Binary);
        assert_eq!(ok(&b, json!("aGk=")), Value::Binary(b"hi".to_vec()));
        let j = Field::new("j", DataType::Json);
        assert_eq!(
            ok(&j, json!({"a": 1})),
            Value::Json(Box::new(json!({"a": 1})))
        );
        assert_eq!(ok(&j, json!("")), Value::Json(Box::new(json!(""))));
    }

    #[test]
    fn lists() {
        let f =
            Field::new("Tags", DataType::list(DataType::String)).with_allowed_values(["A", "B"]);
        let ab = Value::List(vec![Value::String("A".into()), Value::String("B".into())]);
        assert_eq!(ok(&f, json!(["A", "B"])), ab);
        assert_eq!(ok(&f, json!("A;B")), ab);
        let e = err(&f, json!(["A", "C"]));
        assert!(e.reason.contains("\"C\" is not one of the picklist values"));
        let (v, changes) = lenient(&f, json!(["A", "C"]));
        assert_eq!(v, Value::Null);
        assert_eq!(changes[0].kind, ChangeKind::Nulled);
        err(&f, json!({"A": 1}));

        let n = Field::new("Ns", DataType::list(DataType::Int32));
        assert_eq!(
            ok(&n, json!([1, "2"])),
            Value::List(vec![Value::Int32(1), Value::Int32(2)])
        );
        let e = err(&n, json!([1, 1e10]));
        assert!(e.reason.contains("out of range"));
        let (v, changes) = lenient(&n, json!([1, 1e10]));
        assert_eq!(v, Value::List(vec![Value::Int32(1), Value::Null]));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "Ns");
    }

    #[test]
    fn structs() {
        let owner = DataType::Struct(vec![
            Field::new("id", DataType::Int64).with_nullable(false),
            Field::new("name", DataType::String),
            Field::new("email", DataType::String),
        ]);
        let f = Field::new("Owner", owner.clone());
        let v = ok(
            &f,
            json!({"ID": "4150868000000225013", "name": "Ann", "extra": [1]}),
        );
        assert_eq!(
            v,
            Value::Struct(vec![
                Value::Int64(4_150_868_000_000_225_013),
                Value::String("Ann".into()),
                Value::Null
            ])
        );
        let e = err(&f, json!({"name": "Ann"}));
        assert_eq!(e.field, "Owner.id");
        assert!(e.reason.contains("required"));
        let e = err(&f, json!({"id": "x"}));
        assert_eq!(e.field, "Owner.id");
        assert_eq!(e.value, "x");
        err(&f, json!([1, 2]));
        assert_eq!(
            ok(&f, json!(r#"{"id": 1}"#)),
            Value::Struct(vec![Value::Int64(1), Value::Null, Value::Null])
        );

        // Nested structs name the whole path.
        let outer = Field::new("Outer", DataType::Struct(vec![Field::new("Inner", owner)]));
        let e = err(&outer, json!({"Inner": {"id": "bad"}}));
        assert_eq!(e.field, "Outer.Inner.id");
        let mut changes = Vec::new();
        let v = from_json(
            &outer,
            &json!({"Inner": {"id": 1.5}}),
            &ConversionPolicy::lenient(),
            &mut changes,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Struct(vec![Value::Struct(vec![
                Value::Int64(2),
                Value::Null,
                Value::Null
            ])])
        );
        assert_eq!(changes[0].field, "Outer.Inner.id");
    }

    #[test]
    fn writes_exactly() {
        assert_eq!(
            to_json(&Value::Int64(9_007_199_254_740_991), &DataType::Int64),
            json!(9_007_199_254_740_991_i64)
        );
        assert_eq!(
            to_json(&Value::Int64(9_007_199_254_740_992), &DataType::Int64),
            json!("9007199254740992")
        );
        assert_eq!(
            to_json(&Value::Int64(i64::MIN), &DataType::Int64),
            json!("-9223372036854775808")
        );
        assert_eq!(
            to_json(&dec("1234.50"), &DataType::decimal(18, 2)),
            json!("1234.50")
        );
        assert_eq!(
            to_json(&Value::Float64(0.1), &DataType::Float64),
            json!(0.1)
        );
        assert_eq!(
            to_json(&Value::Float64(f64::INFINITY), &DataType::Float64),
            json!("Infinity")
        );
        assert_eq!(
            to_json(&Value::Float64(f64::NEG_INFINITY), &DataType::Float64),
            json!("-Infinity")
        );
        assert_eq!(
            to_json(&Value::Float64(f64::NAN), &DataType::Float64),
            json!("NaN")
        );
        assert_eq!(
            to_json(&Value::Binary(b"hi".to_vec()), &DataType::Binary),
            json!("aGk=")
        );
        let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(
            to_json(&Value::Date(date), &DataType::Date),
            json!("2024-01-02")
        );
        let dt = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05+05:30").unwrap();
        assert_eq!(
            to_json(&Value::DateTimeOffset(dt), &DataType::DateTimeOffset),
            json!("2024-01-02T03:04:05+05:30")
        );
        let st = DataType::Struct(vec![Field::new("id", DataType::Int64)]);
        assert_eq!(
            to_json(
                &Value::Struct(vec![Value::Int64(1), Value::Boolean(true)]),
                &st
            ),
            json!({"id": 1, "1": true})
        );
        assert_eq!(
            to_json(&Value::List(vec![Value::Null]), &DataType::Json),
            json!([null])
        );
        assert_eq!(
            to_json(&Value::Uuid(uuid::Uuid::nil()), &DataType::Uuid),
            json!("00000000-0000-0000-0000-000000000000")
        );
    }
}
