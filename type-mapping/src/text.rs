//! CSV cell text to typed [`Value`]s and back, in the formats Salesforce and Zoho use.
//!
//! [`parse`] reads one cell for one [`Field`]; [`format()`] appends a value's text form in
//! a [`TextDialect`]. Parsing is the hot path of every CSV read, so it does not allocate
//! for non-text types and never panics, whatever the input.
//!
//! ```
//! use type_mapping::text::{self, TextDialect};
//! use type_mapping::{ConversionPolicy, DataType, Field, Value};
//!
//! let field = Field::new("CloseDate", DataType::Date);
//! let policy = ConversionPolicy::strict();
//! let mut changes = Vec::new();
//!
//! let value = text::parse(&field, "2024-02-29", &policy, &mut changes)?;
//! let mut out = String::new();
//! text::format(&value, &field.data_type, TextDialect::Salesforce, &mut out);
//! assert_eq!(out, "2024-02-29");
//!
//! // An empty cell is null; a date-time is not a date.
//! assert_eq!(text::parse(&field, "", &policy, &mut changes)?, Value::Null);
//! assert!(text::parse(&field, "2024-02-29T10:00:00Z", &policy, &mut changes).is_err());
//! # Ok::<(), type_mapping::ConversionError>(())
//! ```
//!
//! # What is accepted
//!
//! | Type | Text |
//! |---|---|
//! | `Boolean` | `true`/`false`, `1`/`0`, `yes`/`no`, any case |
//! | `Int8`..`Int64` | decimal integers; `5.0` and `5.00` (zero fractions) and exponent forms with an integral value |
//! | `Float64` | standard float syntax; `NaN` and infinities are rejected |
//! | `Decimal` | plain or exponent notation (`1.5E+3`); the value keeps the scale its text shows, up to the field's, and trailing zeros beyond the field's scale are dropped without a change |
//! | `String` | as is; picklist values and the native `length` are checked |
//! | `Binary` | standard base64, padding optional |
//! | `Date` | `YYYY-MM-DD` (and the legacy Salesforce `YYYY-MM-DDZ`) |
//! | `Time` | `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff`, each optionally ending in `Z` (Salesforce) |
//! | `DateTime` | `YYYY-MM-DDTHH:MM:SS[.fff]` or with a space; a `Z` or zero offset is read as UTC |
//! | `DateTimeOffset` | the same with `Z`, `±HH:MM`, `±HHMM` or `±HH` (Salesforce sends `+0000`); the offset is kept |
//! | `Uuid` | hyphenated or simple |
//! | `Json` | JSON text; text that is not JSON is kept as a JSON string (nothing is lost) |
//! | `List(String)` | a JSON array, or `;`-separated items (Salesforce multi-select picklists `A;B;C`) |
//! | `List(_)` | a JSON array |
//! | `Struct` | a JSON object keyed by field name, see [`json::from_json`](crate::json::from_json) |
//!
//! Surrounding ASCII whitespace is ignored for every type except `String`, `List(String)`
//! and `Json`.
//!
//! # Errors and changes
//!
//! Text that cannot be read as the field's type at all (`abc` for an integer) is a
//! [`ConversionError`] under both policies. A readable value that does not fit (too many
//! decimals, an integer overflow, February 30th, a value outside the picklist) is an
//! error under the strict policy; the lenient policy rounds, truncates or nulls it and
//! records a [`Change`]. A required (non-nullable) field is never nulled: an empty cell
//! or a value the lenient policy would null is an error under both policies.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{
    DateTime, Datelike as _, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _,
};
use rust_decimal::Decimal;

use crate::{Change, ChangeKind, ConversionError, ConversionPolicy, DataType, Field, Value};

/// Standard base64 that decodes with or without padding and encodes with padding.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The text conventions [`format()`] writes.
///
/// Parsing accepts all dialects at once, so there is no dialect parameter on [`parse`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextDialect {
    /// ISO 8601 / RFC 3339: date-times keep their offset (`+00:00` for UTC), fractions
    /// of a second are written only when nonzero, lists of text are JSON arrays.
    #[default]
    Iso,
    /// Salesforce Bulk API 2.0: date-times in UTC as `YYYY-MM-DDTHH:MM:SS.sssZ`, times as
    /// `HH:MM:SS.sssZ`, multi-select picklists joined with `;`.
    ///
    /// Salesforce keeps milliseconds; a value with finer digits is written with them all
    /// (Salesforce then rejects it) rather than cut silently. A naive
    /// [`DataType::DateTime`] is written as if it were UTC.
    Salesforce,
    /// Zoho CRM: date-times as `YYYY-MM-DDTHH:MM:SS+05:30` with their offset and no
    /// fraction (a nonzero fraction is still written, never dropped), multi-select
    /// picklists joined with `;`.
    Zoho,
}

/// Reads one CSV cell as a value of `field`'s type.
///
/// `policy` decides what is null (empty cells and the null markers) and what happens to
/// values that do not fit; every adjustment the lenient policy makes is pushed onto
/// `changes`. On error nothing is pushed.
///
/// # Errors
///
/// A [`ConversionError`] naming the field and the cell when the cell cannot be read as
/// the field's type, when a required field is empty, or (strict policy) when the value
/// does not fit. See the [module documentation](self) for the accepted forms.
pub fn parse(
    field: &Field,
    cell: &str,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    let t = Target::of(field);
    if policy.is_null_text(cell) {
        return null_for(&t, cell);
    }
    let mark = changes.len();
    let converted = {
        let mut ctx = Ctx {
            target: &t,
            original: Original::Text(cell),
            policy,
            changes,
        };
        convert(&mut ctx, cell)
    };
    // The hot path hands the value straight back: every extra `Result` layer around a
    // freshly built `Value` costs a store-forwarding stall per cell.
    let fail = match converted {
        Ok(value) => return Ok(value),
        Err(fail) => fail,
    };
    settle_cell(&t, cell, fail, policy, changes, mark).map(|()| Value::Null)
}

/// Appends the text form of `value` to `out`, in `dialect`.
///
/// `Null` appends nothing: callers decide the null marker (Salesforce ingest uses
/// `#N/A` to clear a field, an empty cell to leave it unchanged). `data_type` guides
/// compound values: the item type of lists (lists of text are joined with `;` in the
/// Salesforce and Zoho dialects) and the field names of structs. Scalars are written by
/// their value.
///
/// Decimals are written in plain notation with the value's own scale, floats in the
/// shortest form that reads back to the same number, bytes as padded standard base64,
/// JSON, lists and structs as compact JSON (see [`json::to_json`](crate::json::to_json)).
/// A list of text that `;` cannot carry exactly (empty, holding a null, an item with a
/// `;`, or starting with `[`) is written as a JSON array in every dialect, so that
/// [`parse`] reads it back unchanged.
pub fn format(value: &Value, data_type: &DataType, dialect: TextDialect, out: &mut String) {
    match value {
        Value::Null => {}
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => push_display(out, v),
        Value::Int16(v) => push_display(out, v),
        Value::Int32(v) => push_display(out, v),
        Value::Int64(v) => push_display(out, v),
        Value::Float64(v) => push_f64(out, *v),
        Value::Decimal(v) => push_display(out, v),
        Value::String(s) => out.push_str(s),
        Value::Binary(bytes) => BASE64.encode_string(bytes, out),
        Value::Date(d) => push_date(out, *d),
        Value::Time(t) => match dialect {
            TextDialect::Salesforce => {
                push_time(out, *t, Fraction::Millis);
                out.push('Z');
            }
            TextDialect::Iso | TextDialect::Zoho => push_time(out, *t, Fraction::Auto),
        },
        Value::DateTime(dt) => match dialect {
            TextDialect::Salesforce => {
                push_naive(out, *dt, Fraction::Millis);
                out.push('Z');
            }
            TextDialect::Iso | TextDialect::Zoho => push_naive(out, *dt, Fraction::Auto),
        },
        Value::DateTimeOffset(dt) => match dialect {
            TextDialect::Salesforce => {
                push_naive(out, dt.naive_utc(), Fraction::Millis);
                out.push('Z');
            }
            TextDialect::Iso | TextDialect::Zoho => {
                push_naive(out, dt.naive_local(), Fraction::Auto);
                push_offset(out, dt.offset().local_minus_utc());
            }
        },
        Value::Uuid(u) => push_display(out, u.hyphenated()),
        Value::Json(v) => push_display(out, v),
        Value::List(items) => {
            let joinable = matches!(data_type, DataType::List(item) if **item == DataType::String)
                && dialect != TextDialect::Iso
                && joinable_with_semicolons(items);
            if joinable {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(';');
                    }
                    if let Value::String(s) = item {
                        out.push_str(s);
                    }
                }
            } else {
                push_display(out, crate::json::to_json(value, data_type));
            }
        }
        Value::Struct(_) => push_display(out, crate::json::to_json(value, data_type)),
    }
}

/// Whether `items` survive a `;` join and split unchanged.
fn joinable_with_semicolons(items: &[Value]) -> bool {
    let Some(Value::String(first)) = items.first() else {
        return false;
    };
    if first.trim_ascii_start().starts_with('[') || (items.len() == 1 && first.is_empty()) {
        return false;
    }
    items
        .iter()
        .all(|item| matches!(item, Value::String(s) if !s.contains(';')))
}

// ---------------------------------------------------------------------------------------
// Conversion machinery shared with the `json` module.
// ---------------------------------------------------------------------------------------

/// A borrowed view of what a value is converted to: a field, a list item or a struct
/// member.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    /// The path of the enclosing struct, for names in messages (`BillingAddress`).
    pub(crate) parent: Option<&'a str>,
    /// The field's own name.
    pub(crate) name: &'a str,
    /// The type converted to.
    pub(crate) data_type: &'a DataType,
    /// Whether null is allowed.
    pub(crate) nullable: bool,
    /// Maximum length in characters, for text.
    pub(crate) length: Option<u32>,
    /// Picklist values, for text and lists of text.
    pub(crate) allowed: Option<&'a [String]>,
}

impl<'a> Target<'a> {
    /// The target for a top-level field.
    pub(crate) fn of(field: &'a Field) -> Self {
        Self {
            parent: None,
            name: &field.name,
            data_type: &field.data_type,
            nullable: field.nullable,
            length: field.native.as_ref().and_then(|n| n.length),
            allowed: field.allowed_values.as_deref(),
        }
    }

    /// The target for a member of a struct whose own path is `parent`.
    pub(crate) fn member(field: &'a Field, parent: &'a str) -> Self {
        Self {
            parent: Some(parent),
            ..Self::of(field)
        }
    }

    /// The target for one item of this list; items are named after the list.
    pub(crate) fn item(&self, item_type: &'a DataType) -> Self {
        Self {
            parent: self.parent,
            name: self.name,
            data_type: item_type,
            nullable: true,
            length: None,
            allowed: None,
        }
    }

    /// The dotted path naming this target in messages.
    pub(crate) fn path(&self) -> String {
        match self.parent {
            Some(parent) => format!("{parent}.{}", self.name),
            None => self.name.to_owned(),
        }
    }

    /// The path as a parent for members, borrowed when there is no enclosing struct.
    pub(crate) fn path_cow(&self) -> Cow<'a, str> {
        match self.parent {
            Some(_) => Cow::Owned(self.path()),
            None => Cow::Borrowed(self.name),
        }
    }

    /// A conversion error for this target.
    pub(crate) fn error(&self, value: &str, reason: impl Into<String>) -> ConversionError {
        ConversionError::new(self.path(), value, self.data_type, reason)
    }
}

/// Why a conversion failed, before the policy decides what that means.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The input cannot be read as the type at all: an error under every policy.
    Malformed(Cow<'static, str>),
    /// The input is readable but does not fit: strict error, lenient null.
    Misfit(Cow<'static, str>),
    /// A member or item already failed with its own error (boxed: keeps `Fail` small
    /// on the hot path).
    Nested(Box<ConversionError>),
}

impl Fail {
    pub(crate) fn malformed(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Malformed(reason.into())
    }

    pub(crate) fn misfit(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Misfit(reason.into())
    }
}

impl From<ConversionError> for Fail {
    fn from(e: ConversionError) -> Self {
        Self::Nested(Box::new(e))
    }
}

/// The input a value came from, rendered as text only when a message needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Original<'a> {
    /// A cell, or the text of a JSON string or number.
    Text(&'a str),
    /// A JSON value.
    Json(&'a serde_json::Value),
}

impl Original<'_> {
    /// The input as text: JSON strings without quotes, other JSON compact.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Text(s) => Cow::Borrowed(s),
            Self::Json(serde_json::Value::String(s)) => Cow::Borrowed(s),
            Self::Json(v) => Cow::Owned(v.to_string()),
        }
    }
}

/// Everything a type converter needs to record a lenient adjustment.
pub(crate) struct Ctx<'a, 'c> {
    pub(crate) target: &'a Target<'a>,
    pub(crate) original: Original<'a>,
    pub(crate) policy: &'a ConversionPolicy,
    pub(crate) changes: &'c mut Vec<Change>,
}

impl Ctx<'_, '_> {
    /// A value needs adjusting to fit: an error (`Misfit`) under the strict policy; under
    /// the lenient one the change is recorded and the caller goes on to adjust it.
    pub(crate) fn adjust(
        &mut self,
        kind: ChangeKind,
        problem: String,
        action: &str,
    ) -> Result<(), Fail> {
        if self.policy.is_lenient() {
            self.changes.push(Change {
                field: self.target.path(),
                kind,
                original: self.original.text().into_owned(),
                reason: format!("{problem}; {action}"),
            });
            Ok(())
        } else {
            Err(Fail::Misfit(problem.into()))
        }
    }
}

/// The value for a null input: `Null`, or an error for a required field.
pub(crate) fn null_for(t: &Target<'_>, original: &str) -> Result<Value, ConversionError> {
    check_nullable(t, original).map(|()| Value::Null)
}

/// Whether a null input is allowed: `Ok`, or an error for a required field.
#[inline]
pub(crate) fn check_nullable(t: &Target<'_>, original: &str) -> Result<(), ConversionError> {
    if t.nullable {
        Ok(())
    } else {
        Err(t.error(original, "required field is empty"))
    }
}

/// Turns a converter's result into the policy's answer.
#[inline]
pub(crate) fn settle(
    t: &Target<'_>,
    original: Original<'_>,
    result: Result<Value, Fail>,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    match result {
        Ok(v) => Ok(v),
        Err(fail) => settle_fail(t, original, fail, policy, changes).map(|()| Value::Null),
    }
}

/// Turns a converter's failure into the policy's answer: `Ok` when the value is
/// replaced by null (lenient, nullable field; the change is recorded), else the error.
pub(crate) fn settle_fail(
    t: &Target<'_>,
    original: Original<'_>,
    fail: Fail,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<(), ConversionError> {
    let reason = match fail {
        Fail::Nested(e) => return Err(*e),
        Fail::Malformed(reason) => return Err(t.error(&original.text(), reason)),
        Fail::Misfit(reason) => reason,
    };
    let original = original.text();
    if policy.is_lenient() && t.nullable {
        changes.push(Change {
            field: t.path(),
            kind: ChangeKind::Nulled,
            original: original.into_owned(),
            reason: format!("{reason}; replaced by null"),
        });
        Ok(())
    } else if policy.is_lenient() {
        Err(t.error(
            &original,
            format!("{reason} (a required field cannot be nulled)"),
        ))
    } else {
        Err(t.error(&original, reason))
    }
}

/// [`settle_fail`] for a cell whose conversion failed: on error, `changes` is cut back
/// to `mark`, its length before the conversion, so that nothing of the cell stays.
pub(crate) fn settle_cell(
    t: &Target<'_>,
    cell: &str,
    fail: Fail,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
    mark: usize,
) -> Result<(), ConversionError> {
    let result = settle_fail(t, Original::Text(cell), fail, policy, changes);
    if result.is_err() {
        changes.truncate(mark);
    }
    result
}

/// Parses a cell that is known not to be null.
#[inline]
pub(crate) fn parse_present(
    t: &Target<'_>,
    cell: &str,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
) -> Result<Value, ConversionError> {
    let result = {
        let mut ctx = Ctx {
            target: t,
            original: Original::Text(cell),
            policy,
            changes,
        };
        convert(&mut ctx, cell)
    };
    settle(t, Original::Text(cell), result, policy, changes)
}

/// The per-type conversion of a non-null cell.
///
/// Each scalar type's conversion is a function of its own giving the scalar
/// ([`bool_of`], [`int_of`], [`decimal_of`], ...), for callers that keep scalars
/// unwrapped; this wraps it in its [`Value`].
#[inline]
fn convert(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<Value, Fail> {
    let t = *ctx.target;
    match t.data_type {
        DataType::Boolean => bool_of(cell).map(Value::Boolean),
        DataType::Int8 => int_of(ctx, cell).map(Value::Int8),
        DataType::Int16 => int_of(ctx, cell).map(Value::Int16),
        DataType::Int32 => int_of(ctx, cell).map(Value::Int32),
        DataType::Int64 => int_of(ctx, cell).map(Value::Int64),
        DataType::Float64 => float_of(cell).map(Value::Float64),
        DataType::Decimal { precision, scale } => {
            decimal_of(ctx, cell, *precision, *scale).map(Value::Decimal)
        }
        DataType::String => checked_string(ctx, cell),
        DataType::Binary => BASE64
            .decode(cell.trim_ascii())
            .map(Value::Binary)
            .map_err(|e| Fail::malformed(format!("not base64: {e}"))),
        DataType::Date => date_of(ctx, cell).map(Value::Date),
        DataType::Time => time_of(ctx, cell).map(Value::Time),
        DataType::DateTime => datetime_of(ctx, cell).map(Value::DateTime),
        DataType::DateTimeOffset => offset_datetime_of(ctx, cell).map(Value::DateTimeOffset),
        DataType::Uuid => uuid_of(cell).map(Value::Uuid),
        DataType::Json => Ok(Value::Json(Box::new(
            serde_json::from_str(cell)
                .unwrap_or_else(|_| serde_json::Value::String(cell.to_owned())),
        ))),
        DataType::List(item) => parse_list(ctx, cell, item),
        DataType::Struct(_) => {
            let json: serde_json::Value = serde_json::from_str(cell.trim_ascii())
                .map_err(|e| Fail::malformed(format!("expected a JSON object: {e}")))?;
            if !json.is_object() {
                return Err(Fail::malformed("expected a JSON object"));
            }
            crate::json::convert_compound(ctx, &json)
        }
    }
}

/// A non-null cell as a [`DataType::Boolean`].
#[inline]
pub(crate) fn bool_of(cell: &str) -> Result<bool, Fail> {
    parse_bool(cell.trim_ascii())
        .ok_or_else(|| Fail::malformed("expected true/false, 1/0 or yes/no"))
}

/// A non-null cell as an integer of the target's type, `T` (`i8` for
/// [`DataType::Int8`], ... `i64` for [`DataType::Int64`]).
#[inline]
pub(crate) fn int_of<T: TryFrom<i64>>(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<T, Fail> {
    let v = parse_int(ctx, cell)?;
    T::try_from(v).map_err(|_| out_of_range(ctx.target.data_type))
}

/// The fast path of [`int_of`], which needs no context: plain digits that fit `T`
/// (nearly every cell). `None` sends the cell to [`int_of`].
#[inline]
pub(crate) fn int_fast<T: TryFrom<i64>>(cell: &str) -> Option<T> {
    plain_int(cell).and_then(|v| T::try_from(v).ok())
}

/// A non-null cell as a [`DataType::Float64`].
#[inline]
pub(crate) fn float_of(cell: &str) -> Result<f64, Fail> {
    parse_f64(cell.trim_ascii())
}

/// A non-null cell as a [`DataType::Decimal`] of `precision` and `scale`.
#[inline]
pub(crate) fn decimal_of(
    ctx: &mut Ctx<'_, '_>,
    cell: &str,
    precision: u8,
    scale: u8,
) -> Result<Decimal, Fail> {
    let b = cell.trim_ascii().as_bytes();
    // `decimal_fast`, on the text trimmed once.
    if let Some(value) = plain_decimal_text(b, precision, scale) {
        return Ok(value);
    }
    let num = scan_num(b).ok_or_else(|| Fail::malformed("not a decimal number"))?;
    to_decimal(ctx, &num, precision, scale)
}

/// The fast path of [`decimal_of`], which needs no context: plain decimals that fit
/// (nearly every cell). `None` sends the cell to [`decimal_of`].
#[inline]
pub(crate) fn decimal_fast(cell: &str, precision: u8, scale: u8) -> Option<Decimal> {
    plain_decimal_text(cell.trim_ascii().as_bytes(), precision, scale)
}

/// [`scan_num`] then [`to_decimal`] in one pass over the text, for the text that
/// [`plain_decimal`] reads: `[+-]digits[.digits]` of at most 18 digits that fits the
/// precision with no more decimals than the scale (nearly every cell), kept at the
/// scale its text shows. `None` sends the text down the general path.
#[inline]
fn plain_decimal_text(b: &[u8], precision: u8, scale: u8) -> Option<Decimal> {
    let (neg, body) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    // At most 18 digits and a point.
    if body.len() > 19 || scale > 28 {
        return None;
    }
    let mut m: i64 = 0;
    // Where the point is, and the value of the digits before it.
    let mut point = None;
    for (i, &c) in body.iter().enumerate() {
        match c {
            // 19 digits could overflow: wrap, and decline them below.
            b'0'..=b'9' => m = m.wrapping_mul(10).wrapping_add(i64::from(c - b'0')),
            b'.' if point.is_none() => point = Some((i, m)),
            _ => return None,
        }
    }
    let (int_len, frac_len, int_value) = match point {
        Some((p, int_value)) => (p, body.len() - p - 1, int_value),
        None => (body.len(), 0, m),
    };
    let digits = int_len + frac_len;
    if digits == 0 || digits > 18 || frac_len > usize::from(scale) {
        return None;
    }
    // The integer part's significant digits: the length of its value.
    let frac_len = u32::try_from(frac_len).ok()?;
    let significant_int = int_value.checked_ilog10().map_or(0, |l| l + 1);
    if significant_int > u32::from(precision.saturating_sub(scale)) {
        return None;
    }
    Decimal::try_new(if neg { -m } else { m }, frac_len).ok()
}

/// A non-null cell as a [`DataType::Date`].
#[inline]
pub(crate) fn date_of(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<NaiveDate, Fail> {
    parse_date(ctx, cell.trim_ascii().as_bytes())
}

/// A non-null cell as a [`DataType::Time`].
#[inline]
pub(crate) fn time_of(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<NaiveTime, Fail> {
    parse_time(ctx, cell.trim_ascii().as_bytes())
}

/// A non-null cell as a [`DataType::DateTime`].
#[inline]
pub(crate) fn datetime_of(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<NaiveDateTime, Fail> {
    parse_naive(ctx, cell.trim_ascii().as_bytes())
}

/// The fast path of [`datetime_of`], which needs no context: Salesforce's
/// `YYYY-MM-DDTHH:MM:SS.sssZ`, read as [`scan_datetime`] reads it first. `None` sends
/// the cell to [`datetime_of`].
#[inline]
pub(crate) fn datetime_fast(cell: &str) -> Option<NaiveDateTime> {
    scan_salesforce_datetime(cell.trim_ascii().as_bytes())
}

/// A non-null cell as a [`DataType::DateTimeOffset`].
#[inline]
pub(crate) fn offset_datetime_of(
    ctx: &mut Ctx<'_, '_>,
    cell: &str,
) -> Result<DateTime<FixedOffset>, Fail> {
    parse_offset_datetime(ctx, cell.trim_ascii().as_bytes())
}

/// The fast path of [`offset_datetime_of`], which needs no context: Salesforce's
/// `YYYY-MM-DDTHH:MM:SS.sssZ`, read as [`scan_datetime`] reads it first, in UTC.
/// `None` sends the cell to [`offset_datetime_of`].
#[inline]
pub(crate) fn offset_datetime_fast(cell: &str) -> Option<DateTime<FixedOffset>> {
    let utc = datetime_fast(cell)?;
    Some(DateTime::from_naive_utc_and_offset(
        utc,
        FixedOffset::east_opt(0)?,
    ))
}

/// A non-null cell as a [`DataType::Uuid`].
#[inline]
pub(crate) fn uuid_of(cell: &str) -> Result<uuid::Uuid, Fail> {
    uuid::Uuid::try_parse(cell.trim_ascii())
        .map_err(|e| Fail::malformed(format!("not a UUID: {e}")))
}

fn out_of_range(data_type: &DataType) -> Fail {
    let range = match data_type {
        DataType::Int8 => " (-128..=127)",
        DataType::Int16 => " (-32768..=32767)",
        DataType::Int32 => " (-2147483648..=2147483647)",
        _ => "",
    };
    Fail::misfit(format!("out of range for {data_type}{range}"))
}

/// An `i64` as a value of the integer type `data_type`, if it fits.
pub(crate) fn int_value(data_type: &DataType, v: i64) -> Result<Value, Fail> {
    let value = match data_type {
        DataType::Int8 => i8::try_from(v).ok().map(Value::Int8),
        DataType::Int16 => i16::try_from(v).ok().map(Value::Int16),
        DataType::Int32 => i32::try_from(v).ok().map(Value::Int32),
        DataType::Int64 => Some(Value::Int64(v)),
        _ => None,
    };
    value.ok_or_else(|| out_of_range(data_type))
}

/// Text: picklist and length checks, as a [`Value`].
#[inline]
pub(crate) fn checked_string(ctx: &mut Ctx<'_, '_>, s: &str) -> Result<Value, Fail> {
    checked_str(ctx, s).map(|s| Value::String(s.to_owned()))
}

/// Text: picklist and length checks. The result is `s` itself, or its first `length`
/// characters when the lenient policy truncates it: a prefix, so it is always borrowed.
#[inline]
pub(crate) fn checked_str<'s>(ctx: &mut Ctx<'_, '_>, s: &'s str) -> Result<&'s str, Fail> {
    let listed = ctx
        .target
        .allowed
        .is_none_or(|allowed| allowed.iter().any(|a| a == s));
    checked_listed_str(ctx, s, listed)
}

/// [`checked_str`] once it is known whether `s` is `listed`: one of the picklist
/// values, or any text when the target has no picklist.
#[inline]
pub(crate) fn checked_listed_str<'s>(
    ctx: &mut Ctx<'_, '_>,
    s: &'s str,
    listed: bool,
) -> Result<&'s str, Fail> {
    if !listed {
        return Err(Fail::misfit("not one of the picklist values"));
    }
    if within_length(ctx.target.length, s) {
        return Ok(s);
    }
    let Some(limit) = ctx.target.length else {
        return Ok(s);
    };
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let chars = s.chars().count();
    if chars > limit_usize {
        ctx.adjust(
            ChangeKind::Truncated,
            format!("{chars} characters exceed length {limit}"),
            "truncated",
        )?;
        let cut = s
            .char_indices()
            .nth(limit_usize)
            .map_or(s.len(), |(i, _)| i);
        return Ok(s.get(..cut).unwrap_or(s));
    }
    Ok(s)
}

/// Whether text is within `length` characters by its bytes alone, without counting
/// its characters: bytes bound characters from above, and nearly every cell passes.
/// Text that does not pass may still fit; [`checked_listed_str`] counts.
#[inline]
pub(crate) fn within_length(length: Option<u32>, s: &str) -> bool {
    length.is_none_or(|limit| s.len() <= usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Lists: a JSON array, or `;`-separated text for lists of text.
fn parse_list(ctx: &mut Ctx<'_, '_>, cell: &str, item: &DataType) -> Result<Value, Fail> {
    let trimmed = cell.trim_ascii();
    if trimmed.starts_with('[') {
        match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(json @ serde_json::Value::Array(_)) => {
                return crate::json::convert_compound(ctx, &json);
            }
            Ok(_) => return Err(Fail::malformed("expected a JSON array")),
            Err(e) if *item != DataType::String => {
                return Err(Fail::malformed(format!("expected a JSON array: {e}")));
            }
            Err(_) => {} // Text that merely starts with `[`: split it below.
        }
    }
    if *item != DataType::String {
        return Err(Fail::malformed("expected a JSON array"));
    }
    let items: Vec<Value> = cell
        .split(';')
        .map(|s| Value::String(s.to_owned()))
        .collect();
    check_list_picklist(ctx.target, &items)?;
    Ok(Value::List(items))
}

/// Every text item of a multi-select picklist must be one of its values.
pub(crate) fn check_list_picklist(t: &Target<'_>, items: &[Value]) -> Result<(), Fail> {
    if let Some(allowed) = t.allowed {
        for item in items {
            if let Value::String(s) = item
                && !allowed.iter().any(|a| a == s)
            {
                return Err(Fail::misfit(format!(
                    "{s:?} is not one of the picklist values"
                )));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Scalars.
// ---------------------------------------------------------------------------------------

/// `true`/`false`, `1`/`0`, `yes`/`no`, any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    // The forms Salesforce and Zoho write, before the case-blind search.
    match s {
        "true" => return Some(true),
        "false" => return Some(false),
        _ => {}
    }
    const TRUE: [&str; 3] = ["true", "1", "yes"];
    const FALSE: [&str; 3] = ["false", "0", "no"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// An `i64`, allowing zero fractions and exponents; the caller checks the narrower range.
fn parse_int(ctx: &mut Ctx<'_, '_>, cell: &str) -> Result<i64, Fail> {
    if let Some(v) = plain_int(cell) {
        return Ok(v);
    }
    let num =
        scan_num(cell.trim_ascii().as_bytes()).ok_or_else(|| Fail::malformed("not an integer"))?;
    let shape = num.shape();
    let round = shape.dec_needed > 0;
    let magnitude = if shape.int_digits > 20 {
        None
    } else {
        num.mantissa(0, round)
    };
    let value = magnitude
        .and_then(|m| i64::try_from(if num.neg { -m } else { m }).ok())
        .ok_or_else(|| out_of_range(ctx.target.data_type))?;
    // Range first, so that a lenient overflow is only nulled, not also rounded.
    int_value(ctx.target.data_type, value)?;
    if round {
        ctx.adjust(
            ChangeKind::Rounded,
            format!(
                "{} has a fractional part, which an integer cannot hold",
                trim_for_message(cell)
            ),
            "rounded half away from zero",
        )?;
    }
    Ok(value)
}

/// The fast path of [`parse_int`]: plain digits.
#[inline]
fn plain_int(cell: &str) -> Option<i64> {
    cell.parse::<i64>().ok()
}

fn trim_for_message(s: &str) -> &str {
    let s = s.trim_ascii();
    match s.char_indices().nth(40) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// A finite float in standard syntax.
pub(crate) fn parse_f64(s: &str) -> Result<f64, Fail> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !body
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        return Err(Fail::malformed("not a number"));
    }
    let v: f64 = s.parse().map_err(|_| Fail::malformed("not a number"))?;
    if !v.is_finite() {
        return Err(Fail::misfit("out of range for Float64"));
    }
    if v == 0.0 {
        let mantissa = body.split(['e', 'E']).next().unwrap_or(body);
        if mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            return Err(Fail::misfit(
                "too small for Float64 (it would read as zero)",
            ));
        }
    }
    Ok(v)
}

/// A decimal that fits `Decimal(precision, scale)`.
pub(crate) fn to_decimal(
    ctx: &mut Ctx<'_, '_>,
    num: &Num<'_>,
    precision: u8,
    scale: u8,
) -> Result<Decimal, Fail> {
    const TOO_MANY_DIGITS: &str =
        "needs more than the 28 significant digits a decimal holds exactly";
    if let Some(value) = plain_decimal(num, precision, scale) {
        return Ok(value);
    }
    let shape = num.shape();
    let scale_i = i64::from(scale);
    let int_allowed = (i64::from(precision) - scale_i).max(0);
    if shape.int_digits > int_allowed {
        return Err(Fail::misfit(format!(
            "{} integer digits exceed the {int_allowed} that precision {precision} with scale {scale} allows",
            shape.int_digits
        )));
    }
    let round = shape.dec_needed > scale_i;
    let rounding =
        round.then(|| format!("{} decimal places exceed scale {scale}", shape.dec_needed));
    if let Some(problem) = &rounding
        && !ctx.policy.is_lenient()
    {
        return Err(Fail::misfit(problem.clone()));
    }
    let mut out_scale = if round {
        scale_i
    } else {
        shape.dec_text.min(scale_i)
    };
    if !round && out_scale > 28 {
        out_scale = shape.dec_needed.max(28);
    }
    let build = |out_scale: i64| -> Option<Decimal> {
        let m = num.mantissa(out_scale, round)?;
        // Rounding can carry into a new integer digit (99.995 -> 100.00).
        let limit = 10_i128.checked_pow(u32::try_from(int_allowed + out_scale).ok()?);
        if limit.is_some_and(|limit| m >= limit) {
            return None;
        }
        let m = if num.neg { -m } else { m };
        Decimal::try_from_i128_with_scale(m, u32::try_from(out_scale).ok()?).ok()
    };
    let value = build(out_scale).or_else(|| {
        (!round && shape.dec_needed < out_scale)
            .then(|| build(shape.dec_needed))
            .flatten()
    });
    let Some(value) = value else {
        // Tell a precision overflow after rounding apart from a representation limit.
        let carried = num.mantissa(out_scale, round).is_some_and(|m| {
            u32::try_from(int_allowed + out_scale)
                .ok()
                .and_then(|p| 10_i128.checked_pow(p))
                .is_some_and(|limit| m >= limit)
        });
        return Err(if carried {
            Fail::misfit(format!(
                "rounded to scale {scale} it needs more than the {int_allowed} integer digits precision {precision} allows"
            ))
        } else {
            Fail::misfit(TOO_MANY_DIGITS)
        });
    };
    if let Some(problem) = rounding {
        ctx.adjust(ChangeKind::Rounded, problem, "rounded half away from zero")?;
    }
    Ok(value)
}

/// The fast path of [`to_decimal`]: plain `[-]digits[.digits]` of at most 18 digits
/// that fits the precision with no more decimals than the scale (nearly every cell),
/// kept at the scale its text shows.
/// `None` sends the number down the general path, which also explains misfits.
#[inline]
fn plain_decimal(num: &Num<'_>, precision: u8, scale: u8) -> Option<Decimal> {
    let digits = num.int.len() + num.frac.len();
    if num.exp != 0 || digits > 18 || num.frac.len() > usize::from(scale) || scale > 28 {
        return None;
    }
    let significant_int = num
        .int
        .iter()
        .position(|d| *d != b'0')
        .map_or(0, |p| num.int.len() - p);
    if significant_int > usize::from(precision.saturating_sub(scale)) {
        return None;
    }
    // At most 18 digits: the mantissa fits an `i64`.
    let digits = |m: i64, ds: &[u8]| ds.iter().fold(m, |m, d| m * 10 + i64::from(d - b'0'));
    let m = digits(digits(0, num.int), num.frac);
    // The value keeps the scale its text shows, as the general path does.
    let scale = u32::try_from(num.frac.len()).ok()?;
    Decimal::try_new(if num.neg { -m } else { m }, scale).ok()
}

/// A number scanned from text: sign, integer digits, fraction digits and exponent.
/// The digits are borrowed; nothing is allocated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Num<'a> {
    pub(crate) neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
    exp: i64,
}

/// Where the significant digits of a [`Num`] sit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Significant integer digits (no leading zeros).
    pub(crate) int_digits: i64,
    /// Decimal places needed to hold the value exactly (no trailing zeros).
    pub(crate) dec_needed: i64,
    /// Significant digits.
    pub(crate) significant: i64,
    /// Decimal places the text shows (trailing zeros included).
    pub(crate) dec_text: i64,
}

fn ilen(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Scans `[+-]digits[.digits][(e|E)[+-]digits]`, at least one mantissa digit.
pub(crate) fn scan_num(s: &[u8]) -> Option<Num<'_>> {
    let (neg, rest) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (int, rest) = rest.split_at_checked(n)?;
    let (frac, rest) = match rest {
        [b'.', rest @ ..] => {
            let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            rest.split_at_checked(n)?
        }
        _ => (&[][..], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest {
        [] => 0,
        [b'e' | b'E', rest @ ..] => {
            let (neg_exp, digits) = match rest {
                [b'-', d @ ..] => (true, d),
                [b'+', d @ ..] => (false, d),
                d => (false, d),
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // Saturate: anything this large is out of every range anyway.
            let e = digits.iter().fold(0_i64, |acc, d| {
                (acc * 10 + i64::from(d - b'0')).min(1_000_000_000_000)
            });
            if neg_exp { -e } else { e }
        }
        _ => return None,
    };
    Some(Num {
        neg,
        int,
        frac,
        exp,
    })
}

impl Num<'_> {
    /// Digits before the decimal point, counted in `int ++ frac`.
    fn point(&self) -> i64 {
        ilen(self.int.len()).saturating_add(self.exp)
    }

    /// The digit at index `j` of `int ++ frac`, zero outside.
    fn digit(&self, j: i64) -> i128 {
        let Ok(j) = usize::try_from(j) else { return 0 };
        let b = match j.checked_sub(self.int.len()) {
            None => self.int.get(j),
            Some(k) => self.frac.get(k),
        };
        b.map_or(0, |b| i128::from(b.saturating_sub(b'0')))
    }

    fn all_digits(&self) -> impl Iterator<Item = &u8> {
        self.int.iter().chain(self.frac)
    }

    pub(crate) fn shape(&self) -> Shape {
        let len = ilen(self.int.len() + self.frac.len());
        let dec_text = (len - self.point()).max(0);
        let point = self.point();
        let first = self.all_digits().position(|d| *d != b'0');
        let last = match self.frac.iter().rposition(|d| *d != b'0') {
            Some(k) => Some(self.int.len() + k),
            None => self.int.iter().rposition(|d| *d != b'0'),
        };
        match (first, last) {
            (Some(first), Some(last)) => {
                let (first, last) = (ilen(first), ilen(last));
                Shape {
                    int_digits: (point - first).max(0),
                    dec_needed: (last + 1 - point).max(0),
                    significant: last + 1 - first,
                    dec_text,
                }
            }
            _ => Shape {
                int_digits: 0,
                dec_needed: 0,
                significant: 0,
                dec_text,
            },
        }
    }

    /// The magnitude scaled by `10^scale` (rounded half away from zero when `round`),
    /// or `None` beyond 38 digits.
    pub(crate) fn mantissa(&self, scale: i64, round: bool) -> Option<i128> {
        let end = self.point().checked_add(scale)?; // index one past the last kept digit
        let len = ilen(self.int.len() + self.frac.len());
        let first = self.all_digits().position(|d| *d != b'0').map_or(len, ilen);
        let count = end - first;
        if count > 38 {
            return None;
        }
        let mut m: i128 = 0;
        if count > 0 {
            let skip = usize::try_from(first).ok()?;
            let take = usize::try_from(count).ok()?;
            let mut taken = 0;
            for d in self.all_digits().skip(skip).take(take) {
                m = m
                    .checked_mul(10)?
                    .checked_add(i128::from(d.saturating_sub(b'0')))?;
                taken += 1;
            }
            for _ in taken..take {
                m = m.checked_mul(10)?;
            }
        }
        if round && self.digit(end) >= 5 {
            m = m.checked_add(1)?;
        }
        Some(m)
    }
}

// ---------------------------------------------------------------------------------------
// Dates and times.
// ---------------------------------------------------------------------------------------

fn two(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

/// `YYYY-MM-DD` (or a signed year of more digits) at the start of `b`, and the rest.
fn scan_date(b: &[u8]) -> Result<(NaiveDate, &[u8]), Fail> {
    const MALFORMED: &str = "expected a date as YYYY-MM-DD";
    // Fast path: a four-digit year.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2, rest @ ..] = b
        && let (Some(yh), Some(yl), Some(m), Some(d)) =
            (two(*y1, *y2), two(*y3, *y4), two(*m1, *m2), two(*d1, *d2))
    {
        let year = i32::try_from(yh * 100 + yl).map_err(|_| Fail::malformed(MALFORMED))?;
        let date = NaiveDate::from_ymd_opt(year, m, d)
            .ok_or_else(|| Fail::misfit("not a valid calendar date"))?;
        return Ok((date, rest));
    }
    let (neg, body) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let n = body.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(4..=9).contains(&n) {
        return Err(Fail::malformed(MALFORMED));
    }
    let (year_digits, rest) = body
        .split_at_checked(n)
        .ok_or_else(|| Fail::malformed(MALFORMED))?;
    let year = year_digits
        .iter()
        .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    let year = if neg { -year } else { year };
    let [b'-', m1, m2, b'-', d1, d2, rest @ ..] = rest else {
        return Err(Fail::malformed(MALFORMED));
    };
    let (Some(m), Some(d)) = (two(*m1, *m2), two(*d1, *d2)) else {
        return Err(Fail::malformed(MALFORMED));
    };
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| Fail::misfit("not a valid calendar date"))?;
    Ok((date, rest))
}

/// Powers of ten that fit a `u32`.
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// `HH:MM[:SS[.fffffffff]]` at the start of `b`: the time, the rest, and whether
/// nonzero digits beyond nanoseconds were dropped.
fn scan_time(b: &[u8]) -> Result<(NaiveTime, &[u8], bool), Fail> {
    const MALFORMED: &str = "expected a time as HH:MM:SS";
    let [h1, h2, b':', m1, m2, rest @ ..] = b else {
        return Err(Fail::malformed(MALFORMED));
    };
    let (Some(h), Some(m)) = (two(*h1, *h2), two(*m1, *m2)) else {
        return Err(Fail::malformed(MALFORMED));
    };
    let (mut s, mut nano, mut lost, mut rest) = (0, 0_u32, false, rest);
    if let [b':', s1, s2, after @ ..] = rest {
        s = two(*s1, *s2).ok_or_else(|| Fail::malformed(MALFORMED))?;
        rest = after;
        if let [b'.' | b',', after @ ..] = rest {
            let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(Fail::malformed(MALFORMED));
            }
            let (digits, after) = after
                .split_at_checked(n)
                .ok_or_else(|| Fail::malformed(MALFORMED))?;
            // Nanoseconds are the first nine digits; the others can only be lost.
            let (kept, beyond) = digits.split_at_checked(n.min(9)).unwrap_or((digits, &[]));
            nano = kept.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'));
            nano *= POW10.get(9 - kept.len()).copied().unwrap_or(1);
            lost = beyond.iter().any(|d| *d != b'0');
            rest = after;
        }
    }
    let time = if s == 60 {
        // A leap second, the way chrono represents it.
        NaiveTime::from_hms_nano_opt(h, m, 59, nano + 1_000_000_000)
    } else {
        NaiveTime::from_hms_nano_opt(h, m, s, nano)
    };
    let time = time.ok_or_else(|| Fail::misfit("not a valid time of day"))?;
    Ok((time, rest, lost))
}

/// A UTC offset filling all of `b`: none, `Z`, `±HH`, `±HHMM`, `±HH:MM` or `±HH:MM:SS`.
fn scan_offset(b: &[u8]) -> Result<Option<i32>, Fail> {
    const MALFORMED: &str = "expected a UTC offset as Z or ±HH:MM";
    let (sign, digits) = match b {
        [] => return Ok(None),
        [b'Z' | b'z'] => return Ok(Some(0)),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return Err(Fail::malformed(MALFORMED)),
    };
    let parts = match digits {
        [h1, h2] => (two(*h1, *h2), Some(0), Some(0)),
        [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (two(*h1, *h2), two(*m1, *m2), Some(0)),
        [h1, h2, b':', m1, m2, b':', s1, s2] => (two(*h1, *h2), two(*m1, *m2), two(*s1, *s2)),
        _ => return Err(Fail::malformed(MALFORMED)),
    };
    match parts {
        (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 60 => {
            let secs =
                i32::try_from(h * 3600 + m * 60 + s).map_err(|_| Fail::malformed(MALFORMED))?;
            Ok(Some(sign * secs))
        }
        _ => Err(Fail::malformed(MALFORMED)),
    }
}

fn offset_text(secs: i32) -> String {
    let mut s = String::with_capacity(9);
    push_offset(&mut s, secs);
    s
}

/// Records (lenient) or rejects (strict) sub-nanosecond digits.
fn sub_nanos(ctx: &mut Ctx<'_, '_>, lost: bool) -> Result<(), Fail> {
    if lost {
        ctx.adjust(
            ChangeKind::Rounded,
            "more than 9 fractional digits of a second".to_owned(),
            "digits beyond nanoseconds dropped (rounded toward zero)",
        )?;
    }
    Ok(())
}

fn parse_date(ctx: &mut Ctx<'_, '_>, b: &[u8]) -> Result<NaiveDate, Fail> {
    let (date, rest) = scan_date(b)?;
    match rest {
        [] | [b'Z' | b'z'] => Ok(date),
        [b'T' | b't' | b' ', time @ ..] => {
            // A date-time: readable, but the time would be lost.
            let (_, after, _) = scan_time(time)?;
            scan_offset(after)?;
            ctx.adjust(
                ChangeKind::Truncated,
                "a date-time is not a date: the time would be lost".to_owned(),
                "time of day dropped",
            )?;
            Ok(date)
        }
        _ => Err(Fail::malformed("expected a date as YYYY-MM-DD")),
    }
}

fn parse_time(ctx: &mut Ctx<'_, '_>, b: &[u8]) -> Result<NaiveTime, Fail> {
    let (time, rest, lost) = scan_time(b)?;
    match scan_offset(rest)? {
        None | Some(0) => {}
        Some(secs) => {
            return Err(Fail::misfit(format!(
                "a time of day cannot keep the offset {}",
                offset_text(secs)
            )));
        }
    }
    sub_nanos(ctx, lost)?;
    Ok(time)
}

/// Date, separator, time and optional offset.
#[inline]
fn scan_datetime(b: &[u8]) -> Result<(NaiveDateTime, Option<i32>, bool), Fail> {
    match scan_salesforce_datetime(b) {
        Some(utc) => Ok((utc, Some(0), false)),
        None => scan_any_datetime(b),
    }
}

/// [`scan_datetime`] for every form it reads.
fn scan_any_datetime(b: &[u8]) -> Result<(NaiveDateTime, Option<i32>, bool), Fail> {
    let (date, rest) = scan_date(b)?;
    let time = match rest {
        [b'T' | b't' | b' ', time @ ..] => time,
        [] => return Err(Fail::malformed("a date without a time")),
        _ => {
            return Err(Fail::malformed(
                "expected a date-time as YYYY-MM-DDTHH:MM:SS",
            ));
        }
    };
    let (time, rest, lost) = scan_time(time)?;
    let offset = scan_offset(rest)?;
    Ok((date.and_time(time), offset, lost))
}

/// The fast path of [`scan_datetime`]: `YYYY-MM-DDTHH:MM:SS.sssZ`, the form
/// Salesforce writes, when it is a valid date and time of day. `None` sends the text
/// down the general path, which reads the same text to the same value, and also reads
/// every other form (a leap second among them) and explains what is wrong.
#[inline]
fn scan_salesforce_datetime(b: &[u8]) -> Option<NaiveDateTime> {
    let [
        y1,
        y2,
        y3,
        y4,
        b'-',
        mo1,
        mo2,
        b'-',
        d1,
        d2,
        b'T',
        h1,
        h2,
        b':',
        mi1,
        mi2,
        b':',
        s1,
        s2,
        b'.',
        f1,
        f2,
        f3,
        b'Z',
    ] = *b
    else {
        return None;
    };
    let digits = [
        y1, y2, y3, y4, mo1, mo2, d1, d2, h1, h2, mi1, mi2, s1, s2, f1, f2, f3,
    ];
    // One test for all digits, without a branch each.
    if !digits.iter().fold(true, |all, d| all & d.is_ascii_digit()) {
        return None;
    }
    let n = |ds: &[u8]| ds.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'));
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(n(&[y1, y2, y3, y4])).ok()?,
        n(&[mo1, mo2]),
        n(&[d1, d2]),
    )?;
    let second = n(&[s1, s2]);
    if second >= 60 {
        return None;
    }
    let time =
        NaiveTime::from_hms_milli_opt(n(&[h1, h2]), n(&[mi1, mi2]), second, n(&[f1, f2, f3]))?;
    Some(date.and_time(time))
}

fn parse_naive(ctx: &mut Ctx<'_, '_>, b: &[u8]) -> Result<NaiveDateTime, Fail> {
    let (naive, offset, lost) = scan_datetime(b)?;
    let value = match offset {
        None | Some(0) => naive,
        Some(secs) => {
            let utc = FixedOffset::east_opt(secs)
                .and_then(|off| naive.and_local_timezone(off).single())
                .map(|dt| dt.naive_utc())
                .ok_or_else(|| Fail::misfit("outside the supported date range"))?;
            ctx.adjust(
                ChangeKind::Truncated,
                format!(
                    "a date-time without offset cannot keep the offset {}",
                    offset_text(secs)
                ),
                "converted to UTC and the offset dropped",
            )?;
            utc
        }
    };
    sub_nanos(ctx, lost)?;
    Ok(value)
}

fn parse_offset_datetime(ctx: &mut Ctx<'_, '_>, b: &[u8]) -> Result<DateTime<FixedOffset>, Fail> {
    let (naive, offset, lost) = scan_datetime(b)?;
    let secs = offset.ok_or_else(|| {
        Fail::malformed("no UTC offset (Z or ±HH:MM); a local date-time needs a DateTime field")
    })?;
    let value = FixedOffset::east_opt(secs)
        .and_then(|off| {
            let utc = if secs == 0 {
                Some(naive)
            } else {
                naive.checked_sub_offset(off)
            }?;
            Some(DateTime::from_naive_utc_and_offset(utc, off))
        })
        .ok_or_else(|| Fail::misfit("outside the supported date range"))?;
    sub_nanos(ctx, lost)?;
    Ok(value)
}

// ---------------------------------------------------------------------------------------
// Formatting.
// ---------------------------------------------------------------------------------------

fn push_display(out: &mut String, v: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{v}");
}

fn push_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        push_display(out, v);
    }
}

fn digit_char(v: u32) -> char {
    char::from_digit(v % 10, 10).unwrap_or('0')
}

fn push_2(out: &mut String, v: u32) {
    out.push(digit_char(v / 10));
    out.push(digit_char(v));
}

pub(crate) fn push_date(out: &mut String, d: NaiveDate) {
    let year = d.year();
    match u32::try_from(year) {
        Ok(y) if y <= 9999 => {
            push_2(out, y / 100);
            push_2(out, y % 100);
        }
        // chrono's convention: a sign and at least four digits.
        _ => push_display(out, format_args!("{year:+05}")),
    }
    out.push('-');
    push_2(out, d.month());
    out.push('-');
    push_2(out, d.day());
}

#[derive(Clone, Copy)]
enum Fraction {
    /// Only when nonzero: 3, 6 or 9 digits.
    Auto,
    /// Always at least milliseconds.
    Millis,
}

fn push_time(out: &mut String, t: NaiveTime, fraction: Fraction) {
    let (mut second, mut nano) = (t.second(), t.nanosecond());
    if nano >= 1_000_000_000 {
        second += 1; // leap second
        nano -= 1_000_000_000;
    }
    push_2(out, t.hour());
    out.push(':');
    push_2(out, t.minute());
    out.push(':');
    push_2(out, second);
    let digits = match (fraction, nano) {
        (Fraction::Auto, 0) => 0,
        (_, n) if n % 1_000_000 == 0 => 3,
        (_, n) if n % 1_000 == 0 => 6,
        _ => 9,
    };
    if digits > 0 {
        out.push('.');
        let mut divisor = 100_000_000;
        for _ in 0..digits {
            out.push(digit_char(nano / divisor));
            divisor /= 10;
        }
    }
}

fn push_naive(out: &mut String, dt: NaiveDateTime, fraction: Fraction) {
    push_date(out, dt.date());
    out.push('T');
    push_time(out, dt.time(), fraction);
}

fn push_offset(out: &mut String, secs: i32) {
    out.push(if secs < 0 { '-' } else { '+' });
    let abs = secs.unsigned_abs();
    push_2(out, abs / 3600);
    out.push(':');
    push_2(out, abs / 60 % 60);
    if !abs.is_multiple_of(60) {
        out.push(':');
        push_2(out, abs % 60);
    }
}

/// The ISO text of a date or time value, for JSON.
pub(crate) fn iso_string(value: &Value, data_type: &DataType) -> String {
    let mut s = String::with_capacity(32);
    format(value, data_type, TextDialect::Iso, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NativeType;
    use std::str::FromStr;

    fn strict() -> ConversionPolicy {
        ConversionPolicy::strict()
    }

    fn lenient() -> ConversionPolicy {
        ConversionPolicy::lenient()
    }

    fn ok(field: &Field, cell: &str) -> Value {
        text_ok(field, cell, &strict())
    }

    fn text_ok(field: &Field, cell: &str, policy: &ConversionPolicy) -> Value {
        let mut changes = Vec::new();
        let v = parse(field, cell, policy, &mut changes)
            .unwrap_or_else(|e| panic!("{cell:?} should parse: {e}"));
        if !policy.is_lenient() {
            assert!(changes.is_empty());
        }
        v
    }

    /// Asserts a strict error that names the field and the value.
    fn err(field: &Field, cell: &str) -> ConversionError {
        err_with(field, cell, &strict())
    }

    fn err_with(field: &Field, cell: &str, policy: &ConversionPolicy) -> ConversionError {
        let mut changes = Vec::new();
        let e = parse(field, cell, policy, &mut changes).expect_err(cell);
        let msg = e.to_string();
        assert!(msg.contains(&format!("`{}`", field.name)), "{msg}");
        assert_eq!(e.value, cell);
        assert!(msg.contains(&format!("{cell:?}")), "{msg}");
        assert!(changes.is_empty());
        e
    }

    /// Lenient parse with exactly one change of `kind`.
    fn changed(field: &Field, cell: &str, kind: ChangeKind) -> Value {
        let mut changes = Vec::new();
        let v = parse(field, cell, &lenient(), &mut changes).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].kind, kind);
        assert_eq!(changes[0].field, field.name);
        assert_eq!(changes[0].original, cell);
        v
    }

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::from_str(s).unwrap())
    }

    /// Text in the shape of Salesforce's date-times, mostly valid, sometimes not.
    fn salesforce_shaped() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let digit = |valid: &'static str| prop_oneof![8 => proptest::string::string_regex(valid).unwrap(), 1 => "[^0-9]"];
        (
            prop_oneof![
                digit("[0-9]{4}"),
                Just("0000".to_owned()),
                Just("9999".to_owned())
            ],
            prop_oneof![
                digit("(0[1-9]|1[0-2])"),
                Just("00".to_owned()),
                Just("13".to_owned())
            ],
            prop_oneof![
                digit("([0-2][0-9]|3[01])"),
                Just("00".to_owned()),
                Just("32".to_owned())
            ],
            digit("([01][0-9]|2[0-4])"),
            digit("[0-6][0-9]"),
            prop_oneof![digit("[0-6][0-9]"), Just("60".to_owned())],
            digit("[0-9]{3}"),
            proptest::sample::select(&["-", "T", ":", ".", "Z", " ", "t", "z", ","][..]),
            0_usize..30,
        )
            .prop_map(|(y, mo, d, h, mi, s, f, odd, at)| {
                let mut text = format!("{y}-{mo}-{d}T{h}:{mi}:{s}.{f}Z");
                // Now and then one separator is another character, or one is missing.
                if at < text.len() && text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    if at % 2 == 0 {
                        text.replace_range(at..=at, odd);
                    } else if at % 3 == 0 {
                        text.remove(at);
                    }
                }
                text
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            cases: 2048,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The fast path reads what it reads exactly as the general path does, and
        /// leaves nothing of that form but leap seconds and invalid dates and times to it.
        #[test]
        fn salesforce_datetimes_read_as_every_datetime(text in salesforce_shaped()) {
            let b = text.as_bytes();
            let general = scan_any_datetime(b);
            match scan_salesforce_datetime(b) {
                Some(fast) => {
                    let general = general.map_err(|e| format!("{e:?}"));
                    proptest::prop_assert_eq!(general, Ok((fast, Some(0), false)), "{}", text);
                }
                None => {
                    let shaped = b.len() == 24 && b.get(10) == Some(&b'T') && b.get(23) == Some(&b'Z');
                    let leap = b.get(17..19) == Some(b"60".as_slice());
                    if let Ok((_, offset, _)) = general
                        && shaped
                        && !leap
                    {
                        proptest::prop_assert!(offset != Some(0) || b.get(19) != Some(&b'.'), "{}", text);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            cases: 4096,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The one-pass decimal reads what it reads exactly as `scan_num` and
        /// `to_decimal` do, and leaves only what `plain_decimal` leaves to them.
        #[test]
        fn plain_decimals_read_as_every_decimal(
            text in r"[+-]?[0-9]{0,20}(\.[0-9]{0,20})?(e[0-9])?|[0-9.+-]{0,6}",
            precision in 1_u8..=38,
            scale in 0_u8..=30,
        ) {
            let scale = scale.min(precision);
            let field = Field::new("D", DataType::decimal(precision, scale));
            let t = Target::of(&field);
            let policy = strict();
            let mut changes = Vec::new();
            let b = text.as_bytes();
            let general = scan_num(b).map(|num| {
                let mut ctx = Ctx { target: &t, original: Original::Text(&text), policy: &policy, changes: &mut changes };
                let plain = plain_decimal(&num, precision, scale);
                (plain, to_decimal(&mut ctx, &num, precision, scale).ok())
            });
            match plain_decimal_text(b, precision, scale) {
                Some(fast) => {
                    let Some((Some(plain), Some(value))) = general else {
                        return Err(proptest::test_runner::TestCaseError::fail(format!("{text}: {general:?}")));
                    };
                    proptest::prop_assert_eq!((fast, fast.scale()), (plain, plain.scale()), "{}", text);
                    proptest::prop_assert_eq!((fast, fast.scale()), (value, value.scale()), "{}", text);
                }
                None => {
                    let plain = general.and_then(|(plain, _)| plain);
                    proptest::prop_assert!(plain.is_none() || text.contains('e'), "{}: {:?}", text, plain);
                }
            }
        }
    }

    #[test]
    fn fractions_of_a_second() {
        let f = Field::new("T", DataType::Time);
        let time = |h, m, s, n| Value::Time(NaiveTime::from_hms_nano_opt(h, m, s, n).unwrap());
        assert_eq!(ok(&f, "13:45:06.5"), time(13, 45, 6, 500_000_000));
        assert_eq!(ok(&f, "13:45:06.000000001"), time(13, 45, 6, 1));
        assert_eq!(
            ok(&f, "13:45:06,123456789000Z"),
            time(13, 45, 6, 123_456_789)
        );
        assert!(
            err(&f, "13:45:06.1234567891")
                .reason
                .contains("more than 9")
        );
        let v = changed(&f, "13:45:06.1234567891", ChangeKind::Rounded);
        assert_eq!(v, time(13, 45, 6, 123_456_789));
        assert_eq!(ok(&f, "23:59:60.25"), time(23, 59, 59, 1_250_000_000));
        assert!(err(&f, "13:45:06.").reason.contains("HH:MM:SS"));

        let at = Field::new("At", DataType::DateTimeOffset);
        let utc = |s: &str| Value::DateTimeOffset(DateTime::parse_from_rfc3339(s).unwrap());
        assert_eq!(
            ok(&at, "2026-11-23T08:42:49.867Z"),
            utc("2026-11-23T08:42:49.867Z")
        );
        assert_eq!(
            ok(&at, "2016-12-31T23:59:60.500Z"),
            utc("2016-12-31T23:59:60.500Z")
        );
        assert!(
            err(&at, "2026-02-29T08:42:49.867Z")
                .reason
                .contains("calendar date")
        );
        assert!(
            err(&at, "2026-11-23T24:42:49.867Z")
                .reason
                .contains("time of day")
        );
        let naive = Field::new("Stamp", DataType::DateTime);
        assert_eq!(
            ok(&naive, "2026-11-23T08:42:49.867Z"),
            Value::DateTime(
                NaiveDate::from_ymd_opt(2026, 11, 23)
                    .unwrap()
                    .and_hms_milli_opt(8, 42, 49, 867)
                    .unwrap()
            )
        );
    }

    #[test]
    fn nulls() {
        let f = Field::new("F", DataType::Int32);
        assert_eq!(ok(&f, ""), Value::Null);
        let required = f.clone().with_nullable(false);
        let e = err(&required, "");
        assert!(e.reason.contains("required field is empty"));
        let e = err_with(&required, "", &lenient());
        assert!(e.reason.contains("required"));
        let mut policy = strict();
        policy.null_markers.push("#N/A".into());
        assert_eq!(text_ok(&f, "#N/A", &policy), Value::Null);
        // Empty is not null when the policy says so: text keeps it, numbers reject it.
        policy.empty_is_null = false;
        let s = Field::new("S", DataType::String);
        assert_eq!(text_ok(&s, "", &policy), Value::String(String::new()));
        assert!(parse(&f, "", &policy, &mut Vec::new()).is_err());
    }

    #[test]
    fn booleans() {
        let f = Field::new("B", DataType::Boolean);
        for t in ["true", "True", "TRUE", "1", "yes", "YES", " true "] {
            assert_eq!(ok(&f, t), Value::Boolean(true), "{t}");
        }
        for t in ["false", "FALSE", "False", "0", "no", "No"] {
            assert_eq!(ok(&f, t), Value::Boolean(false), "{t}");
        }
        let e = err(&f, "maybe");
        assert!(e.reason.contains("true/false"));
        // Unreadable is an error under the lenient policy too.
        err_with(&f, "maybe", &lenient());
    }

    #[test]
    fn integers() {
        let f = Field::new("N", DataType::Int32);
        assert_eq!(ok(&f, "42"), Value::Int32(42));
        assert_eq!(ok(&f, "-42"), Value::Int32(-42));
        assert_eq!(ok(&f, "+7"), Value::Int32(7));
        assert_eq!(ok(&f, "5.0"), Value::Int32(5));
        assert_eq!(ok(&f, "5.00"), Value::Int32(5));
        assert_eq!(ok(&f, "1.5E+3"), Value::Int32(1500));
        assert_eq!(ok(&f, " 12 "), Value::Int32(12));
        assert_eq!(ok(&f, "2147483647"), Value::Int32(i32::MAX));
        assert_eq!(ok(&f, "-2147483648"), Value::Int32(i32::MIN));
        let e = err(&f, "2147483648");
        assert!(e.reason.contains("out of range for Int32"), "{e}");
        let e = err(&f, "5.5");
        assert!(e.reason.contains("fractional part"), "{e}");
        let e = err(&f, "abc");
        assert!(e.reason.contains("not an integer"), "{e}");
        err_with(&f, "abc", &lenient());
        err(&f, "1e999999999999999999999");
        // Lenient: overflow nulls, fractions round.
        assert_eq!(changed(&f, "2147483648", ChangeKind::Nulled), Value::Null);
        assert_eq!(changed(&f, "5.5", ChangeKind::Rounded), Value::Int32(6));
        assert_eq!(changed(&f, "-5.5", ChangeKind::Rounded), Value::Int32(-6));
        assert_eq!(changed(&f, "5.49", ChangeKind::Rounded), Value::Int32(5));

        let f8 = Field::new("N8", DataType::Int8);
        assert_eq!(ok(&f8, "-128"), Value::Int8(-128));
        err(&f8, "128");
        let f16 = Field::new("N16", DataType::Int16);
        assert_eq!(ok(&f16, "32767"), Value::Int16(32767));
        err(&f16, "32768");
        let f64_ = Field::new("N64", DataType::Int64);
        assert_eq!(ok(&f64_, "9223372036854775807"), Value::Int64(i64::MAX));
        assert_eq!(ok(&f64_, "9223372036854775807.000"), Value::Int64(i64::MAX));
        assert_eq!(ok(&f64_, "-9223372036854775808"), Value::Int64(i64::MIN));
        err(&f64_, "9223372036854775808");
        err(&f64_, "99999999999999999999999999999999999999999");
    }

    #[test]
    fn floats() {
        let f = Field::new("D", DataType::Float64);
        assert_eq!(ok(&f, "1.5"), Value::Float64(1.5));
        assert_eq!(ok(&f, "-1e-3"), Value::Float64(-0.001));
        assert_eq!(ok(&f, ".5"), Value::Float64(0.5));
        assert_eq!(ok(&f, "0"), Value::Float64(0.0));
        for bad in ["NaN", "inf", "-infinity", "abc", ""] {
            if !bad.is_empty() {
                err(&f, bad);
            }
        }
        let e = err(&f, "1e400");
        assert!(e.reason.contains("out of range"));
        let e = err(&f, "1e-400");
        assert!(e.reason.contains("too small"));
        assert_eq!(changed(&f, "1e400", ChangeKind::Nulled), Value::Null);
    }

    #[test]
    fn decimals() {
        let f = Field::new("Amount", DataType::decimal(18, 2));
        assert_eq!(ok(&f, "1234.50"), dec("1234.50"));
        assert_eq!(ok(&f, "1234.50").to_string(), "1234.50");
        assert_eq!(ok(&f, "1.5"), dec("1.5"));
        assert_eq!(ok(&f, "-0.01"), dec("-0.01"));
        assert_eq!(ok(&f, "+3"), dec("3"));
        assert_eq!(ok(&f, ".25"), dec("0.25"));
        // Trailing zeros beyond the scale are not a loss.
        assert_eq!(ok(&f, "1.500").to_string(), "1.50");
        assert_eq!(
            ok(&f, "1.50000000000000000000000000000000000000").to_string(),
            "1.50"
        );
        // Exponent forms.
        assert_eq!(ok(&f, "1.5E+3"), dec("1500"));
        assert_eq!(ok(&f, "1.5e3").to_string(), "1500");
        assert_eq!(ok(&f, "25E-2"), dec("0.25"));
        assert_eq!(ok(&f, "0E+10"), dec("0"));
        // Sixteen integer digits fit (18, 2), seventeen do not.
        assert_eq!(ok(&f, "9999999999999999.99"), dec("9999999999999999.99"));
        let e = err(&f, "10000000000000000");
        assert!(e.reason.contains("17 integer digits exceed the 16"), "{e}");
        assert_eq!(
            changed(&f, "10000000000000000", ChangeKind::Nulled),
            Value::Null
        );

        let e = err(&f, "1.005");
        assert_eq!(e.reason, "3 decimal places exceed scale 2");
        assert!(e.to_string().contains("Amount") && e.to_string().contains("1.005"));
        assert_eq!(changed(&f, "1.005", ChangeKind::Rounded), dec("1.01"));
        assert_eq!(changed(&f, "-1.005", ChangeKind::Rounded), dec("-1.01"));
        assert_eq!(changed(&f, "1.004999", ChangeKind::Rounded), dec("1.00"));
        assert_eq!(changed(&f, "0.001", ChangeKind::Rounded), dec("0.00"));
        // Rounding that carries past the precision is not a fit.
        let small = Field::new("Small", DataType::decimal(4, 2));
        assert_eq!(ok(&small, "99.99"), dec("99.99"));
        let mut changes = Vec::new();
        let e = parse(&small, "99.995", &strict(), &mut changes).unwrap_err();
        assert!(e.reason.contains("3 decimal places exceed scale 2"), "{e}");
        let v = parse(&small, "99.995", &lenient(), &mut changes).unwrap();
        assert_eq!(v, Value::Null);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, ChangeKind::Nulled);

        let e = err(&f, "abc");
        assert!(e.reason.contains("not a decimal number"));
        err_with(&f, "1.2.3", &lenient());
        err(&f, "1e");
        err(&f, "--1");
    }

    #[test]
    fn decimals_beyond_the_representation() {
        // A declared precision of 38 is allowed, but values need to fit 28 digits.
        let f = Field::new("Big", DataType::decimal(38, 0));
        assert_eq!(
            ok(&f, "79228162514264337593543950335"),
            Value::Decimal(Decimal::MAX)
        );
        let e = err(&f, "79228162514264337593543950336");
        assert!(e.reason.contains("28 significant digits"), "{e}");
        assert_eq!(
            changed(&f, "79228162514264337593543950336", ChangeKind::Nulled),
            Value::Null
        );
        err(&f, "1e39");
        // Many decimals, lenient: rounded only to the scale.
        let g = Field::new("Fine", DataType::decimal(38, 10));
        assert_eq!(
            changed(
                &g,
                "0.123456789012345678901234567890123",
                ChangeKind::Rounded
            ),
            dec("0.1234567890")
        );
        let h = Field::new("Finest", DataType::decimal(38, 30));
        let e = err(&h, "0.123456789012345678901234567890");
        assert!(e.reason.contains("28 significant digits"), "{e}");
        assert_eq!(ok(&h, "0.5000000000000000000000000000000"), dec("0.5"));
    }

    #[test]
    fn strings_picklists_and_lengths() {
        let f = Field::new("Name", DataType::String);
        assert_eq!(ok(&f, " padded "), Value::String(" padded ".into()));
        let pick = Field::new("Stage", DataType::String).with_allowed_values(["Open", "Won"]);
        assert_eq!(ok(&pick, "Won"), Value::String("Won".into()));
        let e = err(&pick, "Lost");
        assert!(e.reason.contains("not one of the picklist values"));
        assert_eq!(changed(&pick, "Lost", ChangeKind::Nulled), Value::Null);

        let mut native = NativeType::new("salesforce", "string");
        native.length = Some(3);
        let short = Field::new("Code", DataType::String).with_native(native);
        assert_eq!(ok(&short, "abc"), Value::String("abc".into()));
        assert_eq!(ok(&short, "äöü"), Value::String("äöü".into()));
        let e = err(&short, "abcd");
        assert!(e.reason.contains("4 characters exceed length 3"));
        assert_eq!(
            changed(&short, "äöüß", ChangeKind::Truncated),
            Value::String("äöü".into())
        );
    }

    #[test]
    fn multi_select_picklists() {
        let f = Field::new("Tags", DataType::list(DataType::String))
            .with_allowed_values(["A", "B", "C"]);
        let list = |items: &[&str]| {
            Value::List(items.iter().map(|s| Value::String((*s).into())).collect())
        };
        assert_eq!(ok(&f, "A;B;C"), list(&["A", "B", "C"]));
        assert_eq!(ok(&f, "A"), list(&["A"]));
        assert_eq!(ok(&f, r#"["A","C"]"#), list(&["A", "C"]));
        let e = err(&f, "A;X");
        assert!(e.reason.contains("\"X\" is not one of the picklist values"));
        err(&f, r#"["A","X"]"#);
        assert_eq!(changed(&f, "A;X", ChangeKind::Nulled), Value::Null);
        // Without a picklist, anything goes, even text that starts with `[`.
        let free = Field::new("Free", DataType::list(DataType::String));
        assert_eq!(ok(&free, "[x;y"), list(&["[x", "y"]));
        assert_eq!(ok(&free, "a;;b"), list(&["a", "", "b"]));
    }

    #[test]
    fn other_lists_and_structs_and_json() {
        let f = Field::new("Ns", DataType::list(DataType::Int64));
        assert_eq!(
            ok(&f, "[1, \"2\", null]"),
            Value::List(vec![Value::Int64(1), Value::Int64(2), Value::Null])
        );
        let e = err(&f, "1;2");
        assert!(e.reason.contains("JSON array"));
        err(&f, "{}");
        // An item names the field and the item.
        let e = parse(&f, "[1.5]", &strict(), &mut Vec::new()).unwrap_err();
        assert_eq!((e.field.as_str(), e.value.as_str()), ("Ns", "1.5"));

        let s = Field::new(
            "Loc",
            DataType::Struct(vec![
                Field::new("latitude", DataType::decimal(18, 15)),
                Field::new("longitude", DataType::decimal(18, 15)),
            ]),
        );
        assert_eq!(
            ok(
                &s,
                r#"{"latitude": "37.7749", "longitude": -122.4194, "extra": 1}"#
            ),
            Value::Struct(vec![dec("37.7749"), dec("-122.4194")])
        );
        let e = parse(&s, r#"{"latitude": "x"}"#, &strict(), &mut Vec::new()).unwrap_err();
        assert_eq!((e.field.as_str(), e.value.as_str()), ("Loc.latitude", "x"));
        assert!(e.to_string().contains("`Loc.latitude`"));
        err(&s, "[1, 2]");
        err(&s, "nope");

        let j = Field::new("Any", DataType::Json);
        assert_eq!(
            ok(&j, r#"{"a":1}"#),
            Value::Json(Box::new(serde_json::json!({"a": 1})))
        );
        assert_eq!(
            ok(&j, "plain text"),
            Value::Json(Box::new(serde_json::json!("plain text")))
        );
    }

    #[test]
    fn binary_and_uuid() {
        let f = Field::new("Body", DataType::Binary);
        assert_eq!(ok(&f, "aGk="), Value::Binary(b"hi".to_vec()));
        assert_eq!(ok(&f, "aGk"), Value::Binary(b"hi".to_vec()));
        let e = err(&f, "not base64!");
        assert!(e.reason.contains("base64"));
        let u = Field::new("Id", DataType::Uuid);
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            ok(&u, "01234567-89ab-cdef-0123-456789abcdef"),
            Value::Uuid(id)
        );
        assert_eq!(ok(&u, "0123456789abcdef0123456789abcdef"), Value::Uuid(id));
        err(&u, "0123");
    }

    #[test]
    fn dates() {
        let f = Field::new("CloseDate", DataType::Date);
        let d = |y, m, day| Value::Date(NaiveDate::from_ymd_opt(y, m, day).unwrap());
        assert_eq!(ok(&f, "2024-02-29"), d(2024, 2, 29));
        assert_eq!(ok(&f, "2024-02-29Z"), d(2024, 2, 29));
        assert_eq!(ok(&f, "+12345-01-02"), d(12345, 1, 2));
        assert_eq!(ok(&f, "-0001-01-02"), d(-1, 1, 2));
        let e = err(&f, "2023-02-29");
        assert!(e.reason.contains("not a valid calendar date"));
        assert_eq!(changed(&f, "2023-02-29", ChangeKind::Nulled), Value::Null);
        let e = err(&f, "2024-01-02T03:04:05Z");
        assert!(e.reason.contains("a date-time is not a date"));
        assert_eq!(
            changed(&f, "2024-01-02T03:04:05Z", ChangeKind::Truncated),
            d(2024, 1, 2)
        );
        for bad in [
            "2024-1-2",
            "20240102",
            "2024/01/02",
            "02.01.2024",
            "2024-01-02x",
            "x",
        ] {
            let e = err(&f, bad);
            assert!(e.reason.contains("YYYY-MM-DD"), "{bad}: {e}");
            err_with(&f, bad, &lenient());
        }
    }

    #[test]
    fn times() {
        let f = Field::new("T", DataType::Time);
        let t = |h, m, s, n| Value::Time(NaiveTime::from_hms_nano_opt(h, m, s, n).unwrap());
        assert_eq!(ok(&f, "13:45"), t(13, 45, 0, 0));
        assert_eq!(ok(&f, "13:45:06"), t(13, 45, 6, 0));
        assert_eq!(ok(&f, "13:45:06.123"), t(13, 45, 6, 123_000_000));
        assert_eq!(ok(&f, "13:45:06.123Z"), t(13, 45, 6, 123_000_000));
        assert_eq!(ok(&f, "13:45:06.123456789"), t(13, 45, 6, 123_456_789));
        assert_eq!(ok(&f, "13:45:06.1234567890"), t(13, 45, 6, 123_456_789));
        assert_eq!(ok(&f, "23:59:60"), t(23, 59, 59, 1_000_000_000));
        assert_eq!(ok(&f, "13:45:06+00:00"), t(13, 45, 6, 0));
        let e = err(&f, "13:45:06.1234567891");
        assert!(e.reason.contains("9 fractional digits"));
        assert_eq!(
            changed(&f, "13:45:06.1234567891", ChangeKind::Rounded),
            t(13, 45, 6, 123_456_789)
        );
        let e = err(&f, "25:00:00");
        assert!(e.reason.contains("valid time"));
        let e = err(&f, "13:45:06+05:30");
        assert!(e.reason.contains("offset +05:30"));
        for bad in ["1:45", "13:45:6", "13:45:06.", "13-45", "13:45:06 pm"] {
            err(&f, bad);
        }
    }

    #[test]
    fn naive_datetimes() {
        let f = Field::new("At", DataType::DateTime);
        let dt = |s: &str| Value::DateTime(NaiveDateTime::from_str(s).unwrap());
        assert_eq!(ok(&f, "2024-01-02T03:04:05"), dt("2024-01-02T03:04:05"));
        assert_eq!(ok(&f, "2024-01-02 03:04:05.5"), dt("2024-01-02T03:04:05.5"));
        assert_eq!(ok(&f, "2024-01-02T03:04"), dt("2024-01-02T03:04:00"));
        assert_eq!(
            ok(&f, "2024-01-02T03:04:05.000Z"),
            dt("2024-01-02T03:04:05")
        );
        assert_eq!(
            ok(&f, "2024-01-02T03:04:05.000+0000"),
            dt("2024-01-02T03:04:05")
        );
        let e = err(&f, "2024-01-02T03:04:05+05:30");
        assert!(e.reason.contains("offset +05:30"), "{e}");
        assert_eq!(
            changed(&f, "2024-01-02T03:04:05+05:30", ChangeKind::Truncated),
            dt("2024-01-01T21:34:05")
        );
        let e = err(&f, "2024-01-02");
        assert!(e.reason.contains("a date without a time"));
        err(&f, "2024-01-02T03:04:05+5");
        err(&f, "2024-01-02T03:04:05 +05:30");
    }

    #[test]
    fn offset_datetimes() {
        let f = Field::new("Modified", DataType::DateTimeOffset);
        let get = |cell: &str| match ok(&f, cell) {
            Value::DateTimeOffset(v) => v,
            other => panic!("{other:?}"),
        };
        let v = get("2024-01-02T03:04:05.000+0000");
        assert_eq!(v.offset().local_minus_utc(), 0);
        assert_eq!(v.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        let v = get("2023-05-10T01:10:47-07:00");
        assert_eq!(v.offset().local_minus_utc(), -7 * 3600);
        assert_eq!(v.to_rfc3339(), "2023-05-10T01:10:47-07:00");
        let v = get("2024-01-02T03:04:05Z");
        assert_eq!(v.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        let v = get("2024-01-02 03:04:05.123456+05");
        assert_eq!(v.offset().local_minus_utc(), 5 * 3600);
        assert_eq!(v.timestamp_subsec_micros(), 123_456);
        let v = get("2024-01-02T03:04:05+05:30:15");
        assert_eq!(v.offset().local_minus_utc(), 5 * 3600 + 30 * 60 + 15);
        let e = err(&f, "2024-01-02T03:04:05");
        assert!(e.reason.contains("no UTC offset"));
        err_with(&f, "2024-01-02T03:04:05", &lenient());
        err(&f, "2024-01-02T03:04:05+24:00");
        err(&f, "2024-01-02T03:04:05+0a:00");
        let e = err(&f, "2024-13-02T03:04:05Z");
        assert!(e.reason.contains("calendar date"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let types = [
            DataType::Boolean,
            DataType::Int8,
            DataType::Int64,
            DataType::Float64,
            DataType::decimal(10, 2),
            DataType::decimal(0, 0),
            DataType::decimal(38, 38),
            DataType::String,
            DataType::Binary,
            DataType::Date,
            DataType::Time,
            DataType::DateTime,
            DataType::DateTimeOffset,
            DataType::Uuid,
            DataType::Json,
            DataType::list(DataType::String),
            DataType::list(DataType::Date),
            DataType::Struct(vec![Field::new("a", DataType::Int8)]),
        ];
        let long_digits = "9".repeat(100);
        let inputs = [
            "",
            " ",
            "-",
            "+",
            ".",
            "e",
            "E5",
            "1e",
            "1e+",
            "-.",
            "+.e1",
            &long_digits,
            "1e-99999999999999999999",
            "1e99999999999999999999",
            "0.0000e-5",
            "-0",
            "T",
            "2024-",
            "2024-01-02T",
            "2024-01-02T25",
            "99:99:99.9999999999999",
            "[",
            "]",
            "{",
            "}",
            "[[[",
            "\u{0}",
            "ä",
            "2024-01-02T03:04:05+",
            "-999999999-01-01",
            "+9999999999-01-01",
            "1;2;3",
            "[1,",
            "null",
            "\"",
            "0x10",
            "1_000",
            "23:59:60.5Z",
            "0.5e-28",
            "5e-29",
            "-79228162514264337593543950335.5",
        ];
        for dt in &types {
            let field = Field::new("F", dt.clone());
            for input in inputs {
                for policy in [strict(), lenient()] {
                    let _ = parse(&field, input, &policy, &mut Vec::new());
                }
            }
        }
    }

    #[test]
    fn formats_by_dialect() {
        let fmt = |v: &Value, dt: &DataType, d: TextDialect| {
            let mut s = String::from(">");
            format(v, dt, d, &mut s);
            s
        };
        use TextDialect::{Iso, Salesforce, Zoho};
        let off = DateTime::parse_from_rfc3339("2024-01-02T03:04:05+05:30").unwrap();
        let v = Value::DateTimeOffset(off);
        assert_eq!(
            fmt(&v, &DataType::DateTimeOffset, Salesforce),
            ">2024-01-01T21:34:05.000Z"
        );
        assert_eq!(
            fmt(&v, &DataType::DateTimeOffset, Zoho),
            ">2024-01-02T03:04:05+05:30"
        );
        assert_eq!(
            fmt(&v, &DataType::DateTimeOffset, Iso),
            ">2024-01-02T03:04:05+05:30"
        );
        let frac = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.25-07:00").unwrap();
        let v = Value::DateTimeOffset(frac);
        assert_eq!(
            fmt(&v, &DataType::DateTimeOffset, Iso),
            ">2024-01-02T03:04:05.250-07:00"
        );
        assert_eq!(
            fmt(&v, &DataType::DateTimeOffset, Salesforce),
            ">2024-01-02T10:04:05.250Z"
        );
        let micro = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.000001Z").unwrap();
        assert_eq!(
            fmt(
                &Value::DateTimeOffset(micro),
                &DataType::DateTimeOffset,
                Salesforce
            ),
            ">2024-01-02T03:04:05.000001Z"
        );
        let naive = NaiveDateTime::from_str("2024-01-02T03:04:05").unwrap();
        let v = Value::DateTime(naive);
        assert_eq!(
            fmt(&v, &DataType::DateTime, Salesforce),
            ">2024-01-02T03:04:05.000Z"
        );
        assert_eq!(fmt(&v, &DataType::DateTime, Zoho), ">2024-01-02T03:04:05");
        assert_eq!(fmt(&v, &DataType::DateTime, Iso), ">2024-01-02T03:04:05");
        let t = Value::Time(NaiveTime::from_hms_milli_opt(13, 45, 6, 7).unwrap());
        assert_eq!(fmt(&t, &DataType::Time, Salesforce), ">13:45:06.007Z");
        assert_eq!(fmt(&t, &DataType::Time, Iso), ">13:45:06.007");
        let d = Value::Date(NaiveDate::from_ymd_opt(5, 6, 7).unwrap());
        assert_eq!(fmt(&d, &DataType::Date, Salesforce), ">0005-06-07");
        let far = Value::Date(NaiveDate::from_ymd_opt(-12345, 6, 7).unwrap());
        assert_eq!(fmt(&far, &DataType::Date, Iso), ">-12345-06-07");
        assert_eq!(fmt(&Value::Null, &DataType::Int32, Iso), ">");
        assert_eq!(
            fmt(&Value::Boolean(true), &DataType::Boolean, Salesforce),
            ">true"
        );
        assert_eq!(fmt(&dec("1.50"), &DataType::decimal(5, 2), Iso), ">1.50");
        assert_eq!(
            fmt(&dec("1E+20"), &DataType::decimal(38, 2), Iso),
            ">100000000000000000000"
        );
        assert_eq!(
            fmt(&Value::Float64(1e21), &DataType::Float64, Iso),
            ">1000000000000000000000"
        );
        assert_eq!(
            fmt(&Value::Float64(f64::NAN), &DataType::Float64, Iso),
            ">NaN"
        );
        assert_eq!(
            fmt(&Value::Binary(b"hi".to_vec()), &DataType::Binary, Iso),
            ">aGk="
        );
        let tags = Value::List(vec![Value::String("A".into()), Value::String("B".into())]);
        let lt = DataType::list(DataType::String);
        assert_eq!(fmt(&tags, &lt, Salesforce), ">A;B");
        assert_eq!(fmt(&tags, &lt, Zoho), ">A;B");
        assert_eq!(fmt(&tags, &lt, Iso), r#">["A","B"]"#);
        let odd = Value::List(vec![Value::String("A;B".into())]);
        assert_eq!(fmt(&odd, &lt, Salesforce), r#">["A;B"]"#);
        assert_eq!(fmt(&Value::List(vec![]), &lt, Salesforce), ">[]");
        let nums = Value::List(vec![Value::Int64(1), Value::Int64(2)]);
        assert_eq!(
            fmt(&nums, &DataType::list(DataType::Int64), Salesforce),
            ">[1,2]"
        );
        let st = DataType::Struct(vec![
            Field::new("id", DataType::Int64),
            Field::new("name", DataType::String),
        ]);
        let sv = Value::Struct(vec![Value::Int64(5), Value::String("x".into())]);
        assert_eq!(fmt(&sv, &st, Zoho), r#">{"id":5,"name":"x"}"#);
    }
}
