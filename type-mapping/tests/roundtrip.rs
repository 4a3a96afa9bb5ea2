//! Property tests: every value survives `text::format` then `text::parse` in every
//! dialect, and `json::to_json` then `json::from_json`; parsing never panics; the
//! decimal and integer readers agree with reference parsers.

use chrono::{
    DateTime, Datelike as _, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value as J;
use type_mapping::text::{self, TextDialect};
use type_mapping::{ConversionPolicy, DataType, Field, Value, json};

const DIALECTS: [TextDialect; 3] = [TextDialect::Iso, TextDialect::Salesforce, TextDialect::Zoho];

/// Strict, and empty cells are values (so that empty text, bytes and lists round-trip).
fn policy() -> ConversionPolicy {
    ConversionPolicy {
        empty_is_null: false,
        ..ConversionPolicy::strict()
    }
}

/// Equal as values, and equal in what `==` does not look at: a decimal's scale, a
/// float's sign bit and a date-time's offset (except in Salesforce text, which is UTC).
fn same(a: &Value, b: &Value, keeps_offset: bool) -> bool {
    match (a, b) {
        (Value::Decimal(x), Value::Decimal(y)) => x == y && x.scale() == y.scale(),
        (Value::Float64(x), Value::Float64(y)) => x.to_bits() == y.to_bits(),
        (Value::DateTimeOffset(x), Value::DateTimeOffset(y)) => {
            x == y && (!keeps_offset || x.offset() == y.offset())
        }
        (Value::List(x), Value::List(y)) | (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b, keeps_offset))
        }
        // JSON's null is the value null.
        (Value::Json(j), Value::Null) if **j == J::Null => true,
        _ => a == b,
    }
}

fn check_text(data_type: &DataType, value: &Value) -> Result<(), TestCaseError> {
    let field = Field::new("F", data_type.clone());
    for dialect in DIALECTS {
        let mut cell = String::new();
        text::format(value, data_type, dialect, &mut cell);
        let mut changes = Vec::new();
        let back = text::parse(&field, &cell, &policy(), &mut changes)
            .map_err(|e| TestCaseError::fail(format!("{dialect:?} {cell:?}: {e}")))?;
        prop_assert!(changes.is_empty());
        let keeps_offset = dialect != TextDialect::Salesforce;
        prop_assert!(
            same(value, &back, keeps_offset),
            "{dialect:?}: {value:?} -> {cell:?} -> {back:?}"
        );
    }
    Ok(())
}

fn check_json(data_type: &DataType, value: &Value) -> Result<(), TestCaseError> {
    let field = Field::new("F", data_type.clone());
    let written = json::to_json(value, data_type);
    let mut changes = Vec::new();
    let back = json::from_json(&field, &written, &policy(), &mut changes)
        .map_err(|e| TestCaseError::fail(format!("{written}: {e}")))?;
    prop_assert!(changes.is_empty());
    prop_assert!(
        same(value, &back, true),
        "{value:?} -> {written} -> {back:?}"
    );
    Ok(())
}

fn check(data_type: &DataType, value: &Value) -> Result<(), TestCaseError> {
    prop_assert!(value.conforms_to(data_type));
    check_text(data_type, value)?;
    check_json(data_type, value)
}

fn dates() -> impl Strategy<Value = NaiveDate> {
    let (min, max) = (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    );
    // Most cases in the years people use, some anywhere chrono allows.
    prop_oneof![
        3 => -1_000_000_i32..1_500_000,
        1 => min..=max,
    ]
    .prop_filter_map("in range", NaiveDate::from_num_days_from_ce_opt)
}

fn times() -> impl Strategy<Value = NaiveTime> {
    let nanos = prop_oneof![
        Just(0_u32),
        (0_u32..1000).prop_map(|ms| ms * 1_000_000),
        (0_u32..1_000_000).prop_map(|us| us * 1000),
        0_u32..1_000_000_000,
        1_000_000_000_u32..2_000_000_000, // leap seconds, valid only at :59
    ];
    (0_u32..24, 0_u32..60, 0_u32..60, nanos).prop_filter_map("valid time", |(h, m, s, n)| {
        NaiveTime::from_hms_nano_opt(h, m, s, n)
    })
}

fn datetimes() -> impl Strategy<Value = NaiveDateTime> {
    (dates(), times()).prop_map(|(d, t)| d.and_time(t))
}

fn offset_datetimes() -> impl Strategy<Value = DateTime<FixedOffset>> {
    let offsets = prop_oneof![
        Just(0),
        (-14 * 4_i32..=14 * 4).prop_map(|q| q * 900), // whole quarter hours
        -86_399_i32..=86_399,
    ];
    (datetimes(), offsets).prop_filter_map("in range", |(utc, secs)| {
        // chrono moves a leap second off :59 when it adds an offset; no text has that.
        if secs != 0 && utc.time().nanosecond() >= 1_000_000_000 {
            return None;
        }
        let offset = FixedOffset::east_opt(secs)?;
        // Stay a day clear of chrono's limits so the local time exists too.
        let lo = NaiveDate::MIN.succ_opt()?.succ_opt()?;
        let hi = NaiveDate::MAX.pred_opt()?.pred_opt()?;
        (utc.date() > lo && utc.date() < hi)
            .then(|| DateTime::from_naive_utc_and_offset(utc, offset))
    })
}

fn json_values() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        Just(J::from(0.5)),
        ".*".prop_map(J::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn booleans(v in any::<bool>()) {
        check(&DataType::Boolean, &Value::Boolean(v))?;
    }

    #[test]
    fn integers(a in any::<i8>(), b in any::<i16>(), c in any::<i32>(), d in any::<i64>()) {
        check(&DataType::Int8, &Value::Int8(a))?;
        check(&DataType::Int16, &Value::Int16(b))?;
        check(&DataType::Int32, &Value::Int32(c))?;
        check(&DataType::Int64, &Value::Int64(d))?;
    }

    #[test]
    fn floats(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        check(&DataType::Float64, &Value::Float64(v))?;
    }

    #[test]
    fn decimals(m in -(10_i128.pow(27))..10_i128.pow(27), scale in 0_u32..=10) {
        let d = Decimal::from_i128_with_scale(m, scale);
        check(&DataType::decimal(38, 10), &Value::Decimal(d))?;
    }

    #[test]
    fn decimals_at_the_limits(m in any::<i128>(), scale in 0_u32..=28) {
        // Any decimal rust_decimal holds (96-bit mantissa), with a type just wide enough.
        let d = Decimal::try_from_i128_with_scale(m >> 32, scale)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let int_digits = if d.trunc().is_zero() { 0 } else { d.trunc().abs().to_string().len() };
        let scale = u8::try_from(d.scale()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let precision = u8::try_from(int_digits).map_err(|e| TestCaseError::fail(e.to_string()))? + scale;
        check(&DataType::decimal(precision.max(1), scale), &Value::Decimal(d))?;
    }

    #[test]
    fn strings(v in any::<String>()) {
        check(&DataType::String, &Value::String(v))?;
    }

    #[test]
    fn binaries(v in prop::collection::vec(any::<u8>(), 0..64)) {
        check(&DataType::Binary, &Value::Binary(v))?;
    }

    #[test]
    fn dates_(v in dates()) {
        check(&DataType::Date, &Value::Date(v))?;
    }

    #[test]
    fn times_(v in times()) {
        check(&DataType::Time, &Value::Time(v))?;
    }

    #[test]
    fn naive_datetimes(v in datetimes()) {
        check(&DataType::DateTime, &Value::DateTime(v))?;
    }

    #[test]
    fn offset_datetimes_(v in offset_datetimes()) {
        check(&DataType::DateTimeOffset, &Value::DateTimeOffset(v))?;
    }

    #[test]
    fn uuids(v in any::<u128>()) {
        check(&DataType::Uuid, &Value::Uuid(uuid::Uuid::from_u128(v)))?;
    }

    #[test]
    fn json_(v in json_values()) {
        check(&DataType::Json, &Value::Json(Box::new(v)))?;
    }

    #[test]
    fn lists_of_text(items in prop::collection::vec(prop::option::weighted(0.9, ".*"), 0..5)) {
        let value = Value::List(items.into_iter().map(Value::from).collect());
        check(&DataType::list(DataType::String), &value)?;
    }

    #[test]
    fn lists_of_picklist_values(items in prop::collection::vec("[A-Z][a-z ]{0,8}", 1..5)) {
        // The Salesforce/Zoho `;` join is what comes back.
        let data_type = DataType::list(DataType::String);
        let value = Value::List(items.iter().cloned().map(Value::from).collect());
        let mut cell = String::new();
        text::format(&value, &data_type, TextDialect::Salesforce, &mut cell);
        prop_assert_eq!(&cell, &items.join(";"));
        check(&data_type, &value)?;
    }

    #[test]
    fn lists_of_numbers(items in prop::collection::vec(prop::option::weighted(0.9, any::<i64>()), 0..5)) {
        let value = Value::List(items.into_iter().map(Value::from).collect());
        check(&DataType::list(DataType::Int64), &value)?;
    }

    #[test]
    fn structs(id in any::<i64>(), name in prop::option::of(".*"), at in offset_datetimes(), amount in -10_i64.pow(15)..10_i64.pow(15)) {
        let data_type = DataType::Struct(vec![
            Field::new("id", DataType::Int64),
            Field::new("name", DataType::String),
            Field::new("at", DataType::DateTimeOffset),
            Field::new("amount", DataType::decimal(18, 2)),
            Field::new("tags", DataType::list(DataType::String)),
        ]);
        let value = Value::Struct(vec![
            Value::Int64(id),
            Value::from(name),
            Value::DateTimeOffset(at),
            Value::Decimal(Decimal::new(amount, 2)),
            Value::List(vec![Value::from("a;b"), Value::Null]),
        ]);
        check(&data_type, &value)?;
    }

    #[test]
    fn parsing_never_panics(cell in ".{0,40}", lenient in any::<bool>()) {
        let types = [
            DataType::Boolean, DataType::Int8, DataType::Int32, DataType::Int64, DataType::Float64,
            DataType::decimal(18, 2), DataType::decimal(38, 38), DataType::decimal(0, 0),
            DataType::String, DataType::Binary, DataType::Date, DataType::Time, DataType::DateTime,
            DataType::DateTimeOffset, DataType::Uuid, DataType::Json,
            DataType::list(DataType::String), DataType::list(DataType::Int32),
            DataType::Struct(vec![Field::new("a", DataType::Int32).with_nullable(false)]),
        ];
        let policy = if lenient { ConversionPolicy::lenient() } else { ConversionPolicy::strict() };
        for data_type in types {
            let field = Field::new("F", data_type.clone()).with_allowed_values(["A"]);
            let mut changes = Vec::new();
            match text::parse(&field, &cell, &policy, &mut changes) {
                Ok(v) => {
                    prop_assert!(v.conforms_to(&data_type), "{v:?} for {data_type}");
                    if !lenient { prop_assert!(changes.is_empty()); }
                }
                Err(e) => {
                    prop_assert!(changes.is_empty());
                    prop_assert!(e.to_string().contains("`F"));
                }
            }
            let as_json = J::String(cell.clone());
            let _ = json::from_json(&field, &as_json, &policy, &mut Vec::new());
        }
    }

    #[test]
    fn decimal_text_agrees_with_rust_decimal(
        cell in "[+-]?[0-9]{0,14}(\\.[0-9]{0,14})?([eE][+-]?[0-9]{1,2})?",
    ) {
        let field = Field::new("D", DataType::decimal(38, 20));
        let strict = text::parse(&field, &cell, &ConversionPolicy::strict(), &mut Vec::new());
        let mut changes = Vec::new();
        let lenient = text::parse(&field, &cell, &ConversionPolicy::lenient(), &mut changes);
        let reference = if cell.contains(['e', 'E']) {
            Decimal::from_scientific(&cell).ok()
        } else {
            Decimal::from_str_exact(&cell).ok()
        };
        if let Ok(v) = &strict {
            // What the strict policy accepts, it accepts unchanged, and exactly.
            prop_assert_eq!(lenient.as_ref().ok(), Some(v));
            prop_assert!(changes.is_empty());
            if let (Value::Decimal(d), Some(r)) = (v, reference) {
                prop_assert_eq!(*d, r);
            }
        }
        if let Ok(Value::Decimal(d)) = &lenient {
            prop_assert!(d.scale() <= 20);
            // A lenient result differs from the input by less than half a unit of scale 20.
            if let Some(r) = reference {
                let diff = (*d - r).abs();
                prop_assert!(diff <= Decimal::new(5, 21), "{} vs {}", d, r);
            }
        }
    }

    #[test]
    fn integer_text_agrees_with_i128(cell in "[+-]?[0-9]{1,25}(\\.0{0,3})?") {
        let field = Field::new("N", DataType::Int64);
        let digits = cell.split('.').next().unwrap_or_default();
        let expected = digits.parse::<i128>().ok().and_then(|v| i64::try_from(v).ok());
        let got = text::parse(&field, &cell, &ConversionPolicy::strict(), &mut Vec::new());
        prop_assert_eq!(got.ok(), expected.map(Value::Int64));
    }
}
