//! Columnar typed batches: rows of text cells typed by a [`Schema`] into one buffer per
//! field.
//!
//! [`text::parse`] gives one [`Value`] per cell, and every text value
//! owns its `String`: one heap allocation (and one free) per text cell. A
//! [`ColumnBatchBuilder`] types the same cells by the same rules into a [`ColumnBatch`]
//! whose [`Column`]s hold each field's values in one typed buffer: integers in a
//! `Vec<Option<i64>>`, dates in a `Vec<Option<NaiveDate>>`, text all in one `String` with
//! each row's end offset ([`TextColumn`]). Typing a scalar or text cell allocates
//! nothing; the buffers grow amortized, and [`ColumnBatchBuilder::finish`] hands the
//! rows over and starts the next batch with the same capacity. Binary, JSON, lists and
//! structs are kept as one [`Value`] per row ([`Column::Values`]).
//!
//! Typing is exactly [`text::parse`]: the same values, the same
//! [`ConversionError`]s and, under the lenient policy, the same [`Change`]s, which the
//! batch keeps tagged with the row they belong to. A row with a cell that does not
//! convert is not added: [`ColumnBatchBuilder::push_row`] returns the error of its first
//! failing field and leaves the batch as it was.
//!
//! ```
//! use std::sync::Arc;
//! use type_mapping::columnar::{Column, ColumnBatchBuilder};
//! use type_mapping::{ConversionPolicy, DataType, Field, Schema, Value};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("Id", DataType::Int64).with_nullable(false),
//!     Field::new("Name", DataType::String),
//!     Field::new("Amount", DataType::decimal(18, 2)),
//! ]));
//! let mut builder = ColumnBatchBuilder::new(schema, ConversionPolicy::strict());
//! builder.push_row(["1", "Acme", "1234.50"], 2)?;
//! builder.push_row(["2", "", "7"], 3)?;
//! // Three decimals do not fit a scale of two: the row is not added.
//! assert!(builder.push_row(["3", "Initech", "1.005"], 4).is_err());
//!
//! let batch = builder.finish();
//! assert_eq!(batch.len(), 2);
//! assert_eq!(batch.row_numbers(), &[2, 3]);
//! let Some(Column::String(names)) = batch.column_by_name("Name") else {
//!     panic!("Name is a text column");
//! };
//! // An empty cell is null under the default policy.
//! assert_eq!(names.iter().collect::<Vec<_>>(), [Some("Acme"), None]);
//! assert_eq!(batch.column(0), Some(&Column::Int64(vec![Some(1), Some(2)])));
//! assert_eq!(batch.row(0).map(|row| row[1].clone()), Some(Value::String("Acme".into())));
//! # Ok::<(), type_mapping::ConversionError>(())
//! ```

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::text::{self, Ctx, Original, Target};
use crate::{Change, ConversionError, ConversionPolicy, DataType, Field, Schema, Value};

/// One field's values for every row of a batch.
///
/// Scalars are held typed, `None` for null; text is held in a [`TextColumn`]. The
/// variant follows the field's [`DataType`], see [`Column::for_type`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Column {
    /// [`DataType::Boolean`] values.
    Boolean(Vec<Option<bool>>),
    /// [`DataType::Int8`] values.
    Int8(Vec<Option<i8>>),
    /// [`DataType::Int16`] values.
    Int16(Vec<Option<i16>>),
    /// [`DataType::Int32`] values.
    Int32(Vec<Option<i32>>),
    /// [`DataType::Int64`] values.
    Int64(Vec<Option<i64>>),
    /// [`DataType::Float64`] values.
    Float64(Vec<Option<f64>>),
    /// [`DataType::Decimal`] values, each with the scale its text showed.
    Decimal(Vec<Option<Decimal>>),
    /// [`DataType::String`] values.
    String(TextColumn),
    /// [`DataType::Date`] values.
    Date(Vec<Option<NaiveDate>>),
    /// [`DataType::Time`] values.
    Time(Vec<Option<NaiveTime>>),
    /// [`DataType::DateTime`] values.
    DateTime(Vec<Option<NaiveDateTime>>),
    /// [`DataType::DateTimeOffset`] values.
    DateTimeOffset(Vec<Option<DateTime<FixedOffset>>>),
    /// [`DataType::Uuid`] values.
    Uuid(Vec<Option<Uuid>>),
    /// Binary, JSON, lists and structs: one `Value` per row ([`Value::Null`] for null).
    Values(Vec<Value>),
}

impl Column {
    /// An empty column of the variant that holds values of `data_type`:
    /// [`Column::Values`] for [`DataType::Binary`], [`DataType::Json`],
    /// [`DataType::List`] and [`DataType::Struct`], the namesake variant otherwise.
    pub fn for_type(data_type: &DataType) -> Self {
        Self::with_capacity(data_type, 0)
    }

    /// An empty column for `data_type` with room for `rows` values (a text column's
    /// character buffer grows as needed).
    pub fn with_capacity(data_type: &DataType, rows: usize) -> Self {
        match data_type {
            DataType::Boolean => Self::Boolean(Vec::with_capacity(rows)),
            DataType::Int8 => Self::Int8(Vec::with_capacity(rows)),
            DataType::Int16 => Self::Int16(Vec::with_capacity(rows)),
            DataType::Int32 => Self::Int32(Vec::with_capacity(rows)),
            DataType::Int64 => Self::Int64(Vec::with_capacity(rows)),
            DataType::Float64 => Self::Float64(Vec::with_capacity(rows)),
            DataType::Decimal { .. } => Self::Decimal(Vec::with_capacity(rows)),
            DataType::String => Self::String(TextColumn::with_capacity(rows, 0)),
            DataType::Date => Self::Date(Vec::with_capacity(rows)),
            DataType::Time => Self::Time(Vec::with_capacity(rows)),
            DataType::DateTime => Self::DateTime(Vec::with_capacity(rows)),
            DataType::DateTimeOffset => Self::DateTimeOffset(Vec::with_capacity(rows)),
            DataType::Uuid => Self::Uuid(Vec::with_capacity(rows)),
            DataType::Binary | DataType::Json | DataType::List(_) | DataType::Struct(_) => {
                Self::Values(Vec::with_capacity(rows))
            }
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Boolean(v) => v.len(),
            Self::Int8(v) => v.len(),
            Self::Int16(v) => v.len(),
            Self::Int32(v) => v.len(),
            Self::Int64(v) => v.len(),
            Self::Float64(v) => v.len(),
            Self::Decimal(v) => v.len(),
            Self::String(t) => t.len(),
            Self::Date(v) => v.len(),
            Self::Time(v) => v.len(),
            Self::DateTime(v) => v.len(),
            Self::DateTimeOffset(v) => v.len(),
            Self::Uuid(v) => v.len(),
            Self::Values(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `row` as an owned [`Value`] (text is copied); [`Value::Null`] for
    /// null and for a row past the end.
    pub fn value(&self, row: usize) -> Value {
        fn scalar<T: Copy>(v: &[Option<T>], row: usize, wrap: fn(T) -> Value) -> Value {
            v.get(row).copied().flatten().map_or(Value::Null, wrap)
        }
        match self {
            Self::Boolean(v) => scalar(v, row, Value::Boolean),
            Self::Int8(v) => scalar(v, row, Value::Int8),
            Self::Int16(v) => scalar(v, row, Value::Int16),
            Self::Int32(v) => scalar(v, row, Value::Int32),
            Self::Int64(v) => scalar(v, row, Value::Int64),
            Self::Float64(v) => scalar(v, row, Value::Float64),
            Self::Decimal(v) => scalar(v, row, Value::Decimal),
            Self::String(t) => t
                .get(row)
                .map_or(Value::Null, |s| Value::String(s.to_owned())),
            Self::Date(v) => scalar(v, row, Value::Date),
            Self::Time(v) => scalar(v, row, Value::Time),
            Self::DateTime(v) => scalar(v, row, Value::DateTime),
            Self::DateTimeOffset(v) => scalar(v, row, Value::DateTimeOffset),
            Self::Uuid(v) => scalar(v, row, Value::Uuid),
            Self::Values(v) => v.get(row).cloned().unwrap_or(Value::Null),
        }
    }

    /// Whether `row` is null (or past the end). Text that is empty is not null; in a
    /// [`Column::Values`] only [`Value::Null`] is null, not a JSON `null`.
    pub fn is_null(&self, row: usize) -> bool {
        fn scalar<T>(v: &[Option<T>], row: usize) -> bool {
            v.get(row).is_none_or(Option::is_none)
        }
        match self {
            Self::Boolean(v) => scalar(v, row),
            Self::Int8(v) => scalar(v, row),
            Self::Int16(v) => scalar(v, row),
            Self::Int32(v) => scalar(v, row),
            Self::Int64(v) => scalar(v, row),
            Self::Float64(v) => scalar(v, row),
            Self::Decimal(v) => scalar(v, row),
            Self::String(t) => !t.is_valid(row),
            Self::Date(v) => scalar(v, row),
            Self::Time(v) => scalar(v, row),
            Self::DateTime(v) => scalar(v, row),
            Self::DateTimeOffset(v) => scalar(v, row),
            Self::Uuid(v) => scalar(v, row),
            Self::Values(v) => v.get(row).is_none_or(Value::is_null),
        }
    }

    /// Appends a value.
    ///
    /// [`Value::Null`] fits every column. Otherwise the value must be of the column's
    /// variant ([`Value::Int32`] for [`Column::Int32`], ...); a [`Column::Values`] takes
    /// [`Value::Binary`], [`Value::Json`], [`Value::List`] and [`Value::Struct`]. The
    /// column does not know its field, so a decimal's scale, a list's item type or a
    /// text's picklist are not checked.
    ///
    /// # Errors
    ///
    /// A value of another type is handed back, and nothing is appended.
    pub fn push(&mut self, value: Value) -> Result<(), Value> {
        match (self, value) {
            (column, Value::Null) => column.push_null(),
            (Self::Boolean(v), Value::Boolean(x)) => v.push(Some(x)),
            (Self::Int8(v), Value::Int8(x)) => v.push(Some(x)),
            (Self::Int16(v), Value::Int16(x)) => v.push(Some(x)),
            (Self::Int32(v), Value::Int32(x)) => v.push(Some(x)),
            (Self::Int64(v), Value::Int64(x)) => v.push(Some(x)),
            (Self::Float64(v), Value::Float64(x)) => v.push(Some(x)),
            (Self::Decimal(v), Value::Decimal(x)) => v.push(Some(x)),
            (Self::String(t), Value::String(s)) => t.push(Some(&s)),
            (Self::Date(v), Value::Date(x)) => v.push(Some(x)),
            (Self::Time(v), Value::Time(x)) => v.push(Some(x)),
            (Self::DateTime(v), Value::DateTime(x)) => v.push(Some(x)),
            (Self::DateTimeOffset(v), Value::DateTimeOffset(x)) => v.push(Some(x)),
            (Self::Uuid(v), Value::Uuid(x)) => v.push(Some(x)),
            (
                Self::Values(v),
                value @ (Value::Binary(_) | Value::Json(_) | Value::List(_) | Value::Struct(_)),
            ) => v.push(value),
            (_, value) => return Err(value),
        }
        Ok(())
    }

    /// Appends a null.
    fn push_null(&mut self) {
        match self {
            Self::Boolean(v) => v.push(None),
            Self::Int8(v) => v.push(None),
            Self::Int16(v) => v.push(None),
            Self::Int32(v) => v.push(None),
            Self::Int64(v) => v.push(None),
            Self::Float64(v) => v.push(None),
            Self::Decimal(v) => v.push(None),
            Self::String(t) => t.push(None),
            Self::Date(v) => v.push(None),
            Self::Time(v) => v.push(None),
            Self::DateTime(v) => v.push(None),
            Self::DateTimeOffset(v) => v.push(None),
            Self::Uuid(v) => v.push(None),
            Self::Values(v) => v.push(Value::Null),
        }
    }

    /// Keeps the first `len` rows; nothing happens when the column is not longer.
    pub fn truncate(&mut self, len: usize) {
        match self {
            Self::Boolean(v) => v.truncate(len),
            Self::Int8(v) => v.truncate(len),
            Self::Int16(v) => v.truncate(len),
            Self::Int32(v) => v.truncate(len),
            Self::Int64(v) => v.truncate(len),
            Self::Float64(v) => v.truncate(len),
            Self::Decimal(v) => v.truncate(len),
            Self::String(t) => t.truncate(len),
            Self::Date(v) => v.truncate(len),
            Self::Time(v) => v.truncate(len),
            Self::DateTime(v) => v.truncate(len),
            Self::DateTimeOffset(v) => v.truncate(len),
            Self::Uuid(v) => v.truncate(len),
            Self::Values(v) => v.truncate(len),
        }
    }

    /// An empty column like this one, for `data_type`, with room for `rows` values and,
    /// for text, as many bytes as this column holds.
    fn fresh(&self, data_type: &DataType, rows: usize) -> Self {
        match (self, data_type) {
            (Self::String(old), DataType::String) if rows > 0 => {
                Self::String(TextColumn::with_capacity(rows, old.data.len()))
            }
            _ => Self::with_capacity(data_type, rows),
        }
    }
}

/// Text values of a column: all in one `String`, with each row's end offset.
///
/// A null row is distinct from an empty string: [`TextColumn::get`] gives `None` for the
/// one and `Some("")` for the other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextColumn {
    /// Every value, concatenated.
    data: String,
    /// Each row's end in `data` (it starts where the previous one ends), shifted left by
    /// one, with the low bit set when the row has a value (clear for null): one push
    /// per row. `data` is at most `isize::MAX` long, so the shift loses nothing.
    rows: Vec<usize>,
}

impl TextColumn {
    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty column with room for `rows` values of `bytes` bytes in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        Self {
            data: String::with_capacity(bytes),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Appends a value, `None` for null.
    #[inline]
    pub fn push(&mut self, value: Option<&str>) {
        if let Some(s) = value {
            self.data.push_str(s);
        }
        self.rows
            .push((self.data.len() << 1) | usize::from(value.is_some()));
    }

    /// The value of `row`; `None` for null and for a row past the end.
    pub fn get(&self, row: usize) -> Option<&str> {
        let entry = *self.rows.get(row)?;
        if entry & 1 == 0 {
            return None;
        }
        self.data.get(self.start(row)..entry >> 1)
    }

    /// Where the value of `row` (which exists) starts in `data`.
    fn start(&self, row: usize) -> usize {
        row.checked_sub(1)
            .and_then(|previous| self.rows.get(previous))
            .map_or(0, |entry| entry >> 1)
    }

    /// Whether `row` has a value (is not null, and not past the end).
    fn is_valid(&self, row: usize) -> bool {
        self.rows.get(row).is_some_and(|entry| entry & 1 == 1)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every row's value in order, `None` for null.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|row| self.get(row))
    }

    /// Keeps the first `len` rows; nothing happens when the column is not longer.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        let end = self.start(len);
        self.data.truncate(end);
        self.rows.truncate(len);
    }

    /// All values concatenated, in row order (nulls add nothing).
    pub fn data(&self) -> &str {
        &self.data
    }
}

/// Rows typed by a schema, one [`Column`] per field, in schema order.
///
/// Built by a [`ColumnBatchBuilder`], or [`ColumnBatch::empty`].
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnBatch {
    schema: Arc<Schema>,
    columns: Vec<Column>,
    rows: Vec<u64>,
    changes: Vec<(usize, Change)>,
}

impl ColumnBatch {
    /// A batch of no rows.
    pub fn empty(schema: Arc<Schema>) -> Self {
        let columns = schema
            .fields
            .iter()
            .map(|f| Column::for_type(&f.data_type))
            .collect();
        Self {
            schema,
            columns,
            rows: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The schema the rows are typed by.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The columns, in schema order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column of the field at `index`.
    pub fn column(&self, index: usize) -> Option<&Column> {
        self.columns.get(index)
    }

    /// The column of the field called exactly `name`.
    pub fn column_by_name(&self, name: &str) -> Option<&Column> {
        let index = self.schema.fields.iter().position(|f| f.name == name)?;
        self.columns.get(index)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The source's row number of each row, as given to
    /// [`ColumnBatchBuilder::push_row`].
    pub fn row_numbers(&self) -> &[u64] {
        &self.rows
    }

    /// The adjustments the lenient policy made, each with the index of its row in this
    /// batch, in row order and, within a row, in field order.
    pub fn changes(&self) -> &[(usize, Change)] {
        &self.changes
    }

    /// One row's values in schema order (text is copied); `None` past the end.
    pub fn row(&self, index: usize) -> Option<Vec<Value>> {
        (index < self.len()).then(|| self.columns.iter().map(|c| c.value(index)).collect())
    }

    /// The columns, in schema order.
    pub fn into_columns(self) -> Vec<Column> {
        self.columns
    }
}

/// Types rows of text cells into a [`ColumnBatch`].
///
/// Each cell is read as [`text::parse`] reads it, without allocating
/// for scalars or text. What typing needs besides the cells (each field's picklist as a
/// hash table, its length, the policy's null test) is worked out once, when the
/// builder is made.
#[derive(Clone, Debug)]
pub struct ColumnBatchBuilder {
    schema: Arc<Schema>,
    policy: ConversionPolicy,
    /// What typing each field's cells needs, worked out once.
    plans: Vec<FieldPlan>,
    /// The policy's null test, worked out once.
    nulls: NullText,
    columns: Vec<Column>,
    rows: Vec<u64>,
    changes: Vec<(usize, Change)>,
    /// The changes of the row being typed, kept for its allocation.
    row_changes: Vec<Change>,
    /// The rows each new batch has room for.
    capacity: usize,
}

impl ColumnBatchBuilder {
    /// A builder for rows of `schema`, typed under `policy`.
    pub fn new(schema: Arc<Schema>, policy: ConversionPolicy) -> Self {
        Self::with_capacity(schema, policy, 0)
    }

    /// A builder whose batches have room for `rows` rows before they grow.
    pub fn with_capacity(schema: Arc<Schema>, policy: ConversionPolicy, rows: usize) -> Self {
        let columns = schema
            .fields
            .iter()
            .map(|f| Column::with_capacity(&f.data_type, rows))
            .collect();
        let plans = schema.fields.iter().map(FieldPlan::new).collect();
        let nulls = NullText::new(&policy);
        Self {
            schema,
            policy,
            plans,
            nulls,
            columns,
            rows: Vec::with_capacity(rows),
            changes: Vec::new(),
            row_changes: Vec::new(),
            capacity: rows,
        }
    }

    /// Types one row and appends it.
    ///
    /// `cells` yields one cell per schema field, in schema order. A missing trailing
    /// cell is read as `""` (null under the default policy); cells beyond the schema's
    /// fields are ignored. `row` is the source's row number, kept in
    /// [`ColumnBatch::row_numbers`].
    ///
    /// # Errors
    ///
    /// The [`ConversionError`] [`text::parse`] gives for the first
    /// field whose cell does not convert. Nothing of the row stays in the batch, neither
    /// its values nor its changes.
    pub fn push_row<'a, I: IntoIterator<Item = &'a str>>(
        &mut self,
        cells: I,
        row: u64,
    ) -> Result<(), ConversionError> {
        let index = self.rows.len();
        self.row_changes.clear();
        let typed = type_row(
            &self.plans,
            &mut self.columns,
            cells,
            Policy {
                policy: &self.policy,
                nulls: self.nulls,
            },
            &mut self.row_changes,
        );
        if let Err(e) = typed {
            for column in &mut self.columns {
                column.truncate(index);
            }
            self.row_changes.clear();
            return Err(e);
        }
        self.rows.push(row);
        if !self.row_changes.is_empty() {
            self.changes
                .extend(self.row_changes.drain(..).map(|change| (index, change)));
        }
        Ok(())
    }

    /// Number of rows typed since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was typed since the last [`finish`](Self::finish).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The schema rows are typed by.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The rows typed so far as a batch. The builder is left empty, ready for more
    /// rows, with room for as many rows as it was created with (and text columns for as
    /// many bytes as this batch used).
    pub fn finish(&mut self) -> ColumnBatch {
        let fresh = self
            .schema
            .fields
            .iter()
            .zip(&self.columns)
            .map(|(f, old)| old.fresh(&f.data_type, self.capacity))
            .collect();
        ColumnBatch {
            schema: Arc::clone(&self.schema),
            columns: std::mem::replace(&mut self.columns, fresh),
            rows: std::mem::replace(&mut self.rows, Vec::with_capacity(self.capacity)),
            changes: std::mem::take(&mut self.changes),
        }
    }
}

/// What typing one field's cells needs beyond the field itself, worked out once per
/// builder.
#[derive(Clone, Debug)]
struct FieldPlan {
    /// The field.
    field: Field,
    /// Whether null is allowed.
    nullable: bool,
    /// The native type's length, for text.
    length: Option<u32>,
    /// The picklist of a text field, as a lookup.
    picklist: Option<Picklist>,
}

impl FieldPlan {
    fn new(field: &Field) -> Self {
        let Target {
            nullable, length, ..
        } = Target::of(field);
        let picklist = match (&field.data_type, &field.allowed_values) {
            (DataType::String, Some(allowed)) => Some(Picklist::new(allowed)),
            _ => None,
        };
        Self {
            field: field.clone(),
            nullable,
            length,
            picklist,
        }
    }

    /// `Target::of(&self.field)`, with what it reads beyond the field's name, type
    /// and picklist worked out.
    #[inline]
    fn target(&self) -> Target<'_> {
        Target {
            parent: None,
            name: &self.field.name,
            data_type: &self.field.data_type,
            nullable: self.nullable,
            length: self.length,
            allowed: self.field.allowed_values.as_deref(),
        }
    }
}

/// A picklist's values in a hash table: [`Picklist::contains`] is
/// `allowed.iter().any(|a| a == s)`, comparing `s` with one value or two instead of
/// every value, and by their [`Key`]s alone when they are short.
#[derive(Clone, Debug)]
struct Picklist {
    /// The distinct values.
    values: Vec<Box<str>>,
    /// Open addressing with linear probing: a power of two long, at most half full.
    slots: Vec<Slot>,
}

/// A slot of a [`Picklist`]'s table.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// One more than the index of the slot's value in `values`; `0` for an empty slot.
    value: u32,
    /// The value's key.
    key: Key,
}

/// Text's length and its first and last eight bytes, which are all of its bytes when it
/// has at most 16 (fewer than eight are all in `head` and `tail` alike).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    /// Text this long or shorter is equal to text of the same key.
    const WHOLE: usize = 16;

    #[inline]
    fn of(s: &str) -> Self {
        let b = s.as_bytes();
        let (head, tail) = match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
            (Some(head), Some(tail)) => (u64::from_le_bytes(*head), u64::from_le_bytes(*tail)),
            _ => {
                let all = b.iter().fold(0, |all, c| (all << 8) | u64::from(*c));
                (all, all)
            }
        };
        Self {
            len: b.len(),
            head,
            tail,
        }
    }

    /// Where probing for the key starts (before the mask).
    #[inline]
    fn hash(&self) -> usize {
        let mixed = self.head ^ self.tail.rotate_left(29) ^ (self.len as u64);
        (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
    }
}

impl Picklist {
    fn new(allowed: &[String]) -> Self {
        let mut distinct: Vec<&str> = allowed.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let size = (distinct.len() * 2).max(8).next_power_of_two();
        let mut picklist = Self {
            values: Vec::with_capacity(distinct.len()),
            slots: vec![Slot::default(); size],
        };
        let mask = size - 1;
        for value in distinct {
            let key = Key::of(value);
            let mut at = key.hash() & mask;
            while picklist.slots.get(at).is_some_and(|slot| slot.value != 0) {
                at = (at + 1) & mask;
            }
            picklist.values.push(value.into());
            if let Some(slot) = picklist.slots.get_mut(at) {
                *slot = Slot {
                    value: u32::try_from(picklist.values.len()).unwrap_or(u32::MAX),
                    key,
                };
            }
        }
        picklist
    }

    /// Whether `s` is one of the values.
    #[inline]
    fn contains(&self, s: &str) -> bool {
        let key = Key::of(s);
        let mask = self.slots.len() - 1;
        let mut at = key.hash() & mask;
        // At most half the slots are taken: probing ends at an empty one.
        while let Some(slot) = self.slots.get(at) {
            if slot.value == 0 {
                return false;
            }
            if slot.key == key
                && (key.len <= Key::WHOLE
                    || (slot.value as usize)
                        .checked_sub(1)
                        .and_then(|i| self.values.get(i))
                        .is_some_and(|value| **value == *s))
            {
                return true;
            }
            at = (at + 1) & mask;
        }
        false
    }
}

/// [`ConversionPolicy::is_null_text`], with what can be known before the cell worked
/// out once.
#[derive(Clone, Copy, Debug)]
struct NullText {
    /// An empty cell is null.
    empty: bool,
    /// There are null markers to look for.
    markers: bool,
}

impl NullText {
    fn new(policy: &ConversionPolicy) -> Self {
        Self {
            empty: policy.empty_is_null,
            markers: !policy.null_markers.is_empty(),
        }
    }
}

/// The policy, and its null test worked out.
#[derive(Clone, Copy, Debug)]
struct Policy<'a> {
    policy: &'a ConversionPolicy,
    nulls: NullText,
}

impl Policy<'_> {
    /// [`ConversionPolicy::is_null_text`].
    #[inline]
    fn is_null_text(&self, cell: &str) -> bool {
        if cell.is_empty() && self.nulls.empty {
            return true;
        }
        self.nulls.markers && self.policy.is_null_text(cell)
    }
}

/// Types one row's cells onto the columns; on error some columns may hold a value of
/// the row, which the caller truncates away.
fn type_row<'a>(
    plans: &[FieldPlan],
    columns: &mut [Column],
    cells: impl IntoIterator<Item = &'a str>,
    policy: Policy<'_>,
    changes: &mut Vec<Change>,
) -> Result<(), ConversionError> {
    let mut cells = cells.into_iter();
    for (plan, column) in plans.iter().zip(columns) {
        let cell = cells.next().unwrap_or("");
        let field = &plan.field;
        // Each scalar straight into its column, converted by the function `text::parse`
        // converts it with.
        match (column, &field.data_type) {
            (Column::String(text), DataType::String) => {
                push_text(plan, cell, policy, changes, text)?;
            }
            (Column::Boolean(v), DataType::Boolean) => {
                push_plain(plan, cell, policy, changes, v, text::bool_of)?;
            }
            (Column::Int8(v), DataType::Int8) => {
                push_scalar(plan, cell, policy, changes, v, text::int_fast, text::int_of)?;
            }
            (Column::Int16(v), DataType::Int16) => {
                push_scalar(plan, cell, policy, changes, v, text::int_fast, text::int_of)?;
            }
            (Column::Int32(v), DataType::Int32) => {
                push_scalar(plan, cell, policy, changes, v, text::int_fast, text::int_of)?;
            }
            (Column::Int64(v), DataType::Int64) => {
                push_scalar(plan, cell, policy, changes, v, text::int_fast, text::int_of)?;
            }
            (Column::Float64(v), DataType::Float64) => {
                push_plain(plan, cell, policy, changes, v, text::float_of)?;
            }
            (Column::Decimal(v), &DataType::Decimal { precision, scale }) => {
                push_scalar(
                    plan,
                    cell,
                    policy,
                    changes,
                    v,
                    |cell| text::decimal_fast(cell, precision, scale),
                    |ctx, cell| text::decimal_of(ctx, cell, precision, scale),
                )?;
            }
            (Column::Date(v), DataType::Date) => {
                push_scalar(plan, cell, policy, changes, v, |_| None, text::date_of)?;
            }
            (Column::Time(v), DataType::Time) => {
                push_scalar(plan, cell, policy, changes, v, |_| None, text::time_of)?;
            }
            (Column::DateTime(v), DataType::DateTime) => {
                push_scalar(
                    plan,
                    cell,
                    policy,
                    changes,
                    v,
                    text::datetime_fast,
                    text::datetime_of,
                )?;
            }
            (Column::DateTimeOffset(v), DataType::DateTimeOffset) => {
                push_scalar(
                    plan,
                    cell,
                    policy,
                    changes,
                    v,
                    text::offset_datetime_fast,
                    text::offset_datetime_of,
                )?;
            }
            (Column::Uuid(v), DataType::Uuid) => {
                push_plain(plan, cell, policy, changes, v, text::uuid_of)?;
            }
            (column, _) => push_value(field, cell, policy.policy, changes, column)?,
        }
    }
    Ok(())
}

/// [`text::parse`] for a scalar field whose cells `convert` converts, appending the
/// scalar to `column`: the same null text, errors, settling and changes. `fast` is
/// `convert`'s own fast path, which needs no context (so no target is worked out for
/// the cells it reads); `None` hands the cell to `convert`.
#[inline]
fn push_scalar<T>(
    plan: &FieldPlan,
    cell: &str,
    policy: Policy<'_>,
    changes: &mut Vec<Change>,
    column: &mut Vec<Option<T>>,
    fast: impl FnOnce(&str) -> Option<T>,
    convert: impl FnOnce(&mut Ctx<'_, '_>, &str) -> Result<T, text::Fail>,
) -> Result<(), ConversionError> {
    if policy.is_null_text(cell) {
        return push_null(plan, cell, column);
    }
    if let Some(value) = fast(cell) {
        column.push(Some(value));
        return Ok(());
    }
    let t = plan.target();
    let mark = changes.len();
    let converted = {
        let mut ctx = Ctx {
            target: &t,
            original: Original::Text(cell),
            policy: policy.policy,
            changes,
        };
        convert(&mut ctx, cell)
    };
    let value = match converted {
        Ok(value) => Some(value),
        // A failed conversion settles as null (lenient) or an error.
        Err(fail) => {
            text::settle_cell(&t, cell, fail, policy.policy, changes, mark)?;
            None
        }
    };
    column.push(value);
    Ok(())
}

/// [`push_scalar`] for a scalar whose conversion needs no context (booleans, floats,
/// UUIDs): the target is worked out only when the conversion fails.
#[inline]
fn push_plain<T>(
    plan: &FieldPlan,
    cell: &str,
    policy: Policy<'_>,
    changes: &mut Vec<Change>,
    column: &mut Vec<Option<T>>,
    convert: impl FnOnce(&str) -> Result<T, text::Fail>,
) -> Result<(), ConversionError> {
    if policy.is_null_text(cell) {
        return push_null(plan, cell, column);
    }
    let value = match convert(cell) {
        Ok(value) => Some(value),
        // A failed conversion settles as null (lenient) or an error.
        Err(fail) => {
            let mark = changes.len();
            text::settle_cell(&plan.target(), cell, fail, policy.policy, changes, mark)?;
            None
        }
    };
    column.push(value);
    Ok(())
}

/// A null cell (`cell` is null text): a null, or the error for a required field.
#[inline]
fn push_null<C: PushNull>(
    plan: &FieldPlan,
    cell: &str,
    column: &mut C,
) -> Result<(), ConversionError> {
    if !plan.nullable {
        text::check_nullable(&plan.target(), cell)?;
    }
    column.push_null();
    Ok(())
}

/// A column that a null can be appended to.
trait PushNull {
    fn push_null(&mut self);
}

impl<T> PushNull for Vec<Option<T>> {
    #[inline]
    fn push_null(&mut self) {
        self.push(None);
    }
}

impl PushNull for TextColumn {
    #[inline]
    fn push_null(&mut self) {
        self.push(None);
    }
}

/// [`text::parse`] for a text field, appending the text to `column`
/// without allocating.
#[inline]
fn push_text(
    plan: &FieldPlan,
    cell: &str,
    policy: Policy<'_>,
    changes: &mut Vec<Change>,
    column: &mut TextColumn,
) -> Result<(), ConversionError> {
    if policy.is_null_text(cell) {
        return push_null(plan, cell, column);
    }
    // Only text fields with a picklist have one here, and then `plan.picklist` is it.
    let listed = plan.picklist.as_ref().is_none_or(|p| p.contains(cell));
    // Nearly every cell: listed, and short enough by its bytes alone.
    if listed && text::within_length(plan.length, cell) {
        column.push(Some(cell));
        return Ok(());
    }
    let t = plan.target();
    let mark = changes.len();
    let checked = {
        let mut ctx = Ctx {
            target: &t,
            original: Original::Text(cell),
            policy: policy.policy,
            changes,
        };
        text::checked_listed_str(&mut ctx, cell, listed)
    };
    match checked {
        Ok(s) => column.push(Some(s)),
        // A failed check settles as null (lenient) or an error.
        Err(fail) => {
            text::settle_cell(&t, cell, fail, policy.policy, changes, mark)?;
            column.push(None);
        }
    }
    Ok(())
}

/// [`text::parse`] itself, appending its value to `column`: binary, JSON, lists and
/// structs.
fn push_value(
    field: &Field,
    cell: &str,
    policy: &ConversionPolicy,
    changes: &mut Vec<Change>,
    column: &mut Column,
) -> Result<(), ConversionError> {
    let value = text::parse(field, cell, policy, changes)?;
    column.push(value).map_err(|value| {
        // `parse` gives values of the field's type; this is a bug if reached.
        ConversionError::new(
            &field.name,
            cell,
            &field.data_type,
            format!(
                "internal error: the conversion gave a {} value",
                value.kind_name()
            ),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use std::str::FromStr as _;

    use proptest::prelude::*;

    use super::*;
    use crate::{ChangeKind, NativeType};

    fn schema(fields: Vec<Field>) -> Arc<Schema> {
        Arc::new(Schema::new(fields))
    }

    /// A field of every type, nullable and not, with a picklist, a length limit, a
    /// decimal's precision and scale, and compound types; with, for each, cells that
    /// fit and cells that the lenient policy adjusts (or that no policy accepts).
    fn fields() -> Vec<(Field, &'static [&'static str], &'static [&'static str])> {
        let mut short = NativeType::new("salesforce", "string");
        short.length = Some(3);
        vec![
            (
                Field::new("Flag", DataType::Boolean),
                &["true", "FALSE", "1", "0", "yes", " no ", ""],
                &["maybe"],
            ),
            (
                Field::new("Active", DataType::Boolean).with_nullable(false),
                &["true", "false"],
                &[""],
            ),
            (
                Field::new("Tiny", DataType::Int8),
                &["0", "-128", "127", "5.0", "", " 7 "],
                &["128", "-129", "1.5", "2.5e0"],
            ),
            (
                Field::new("Small", DataType::Int16),
                &["32767", "-32768", "1e3", ""],
                &["32768", "2.5"],
            ),
            (
                Field::new("Medium", DataType::Int32).with_nullable(false),
                &["2147483647", "-7", "0"],
                &["2147483648", "7.5", ""],
            ),
            (
                Field::new("Big", DataType::Int64),
                &["9223372036854775807", "-1", " 42 ", ""],
                &["9223372036854775808", "1.25", "-0.5"],
            ),
            (
                Field::new("Ratio", DataType::Float64),
                &["1.5", "-0.25", "1e10", "3", ""],
                &["1e400", "1e-400", "NaN"],
            ),
            (
                Field::new("Amount", DataType::decimal(5, 2)),
                &["12.34", "-0.5", "999.99", "1.5E+1", "0.10", "1.000", ""],
                &["12.345", "1234.5", "999.995", "-0.005"],
            ),
            (
                Field::new("Name", DataType::String),
                &["Acme", "", " padded ", "äöü", "a;b", "#N/A"],
                &[],
            ),
            (
                Field::new("Stage", DataType::String).with_allowed_values(["Open", "Closed"]),
                &["Open", "Closed", ""],
                &["Lost", "open"],
            ),
            (
                Field::new("Code", DataType::String)
                    .with_nullable(false)
                    .with_native(short),
                &["abc", "äöü", "x"],
                &["abcd", "äöüß", ""],
            ),
            (
                Field::new("Body", DataType::Binary),
                &["aGk=", "aGk", ""],
                &["not base64!"],
            ),
            (
                Field::new("Day", DataType::Date),
                &["2024-02-29", "2024-02-29Z", ""],
                &["2023-02-29", "2024-01-02T03:04:05Z"],
            ),
            (
                Field::new("At", DataType::Time),
                &["13:45", "13:45:06.123Z", ""],
                &["13:45:06.1234567891", "13:45:06+05:30", "25:00:00"],
            ),
            (
                Field::new("Stamp", DataType::DateTime),
                &[
                    "2024-01-02T03:04:05",
                    "2024-01-02 03:04:05.5",
                    "2024-01-02T03:04:05.000Z",
                    "",
                ],
                &[
                    "2024-01-02T03:04:05+05:30",
                    "2024-01-02T03:04:05.1234567891",
                ],
            ),
            (
                Field::new("Modified", DataType::DateTimeOffset).with_nullable(false),
                &[
                    "2024-01-02T03:04:05.000+0000",
                    "2023-05-10T01:10:47-07:00",
                    "2024-01-02 03:04:05.123456+05",
                    "2026-11-23T08:42:49.867Z",
                    " 2016-12-31T23:59:60.500Z",
                ],
                &["2024-01-02T03:04:05.1234567891Z", "2024-01-02T03:04:05", ""],
            ),
            (
                Field::new("Key", DataType::Uuid),
                &[
                    "01234567-89ab-cdef-0123-456789abcdef",
                    "0123456789abcdef0123456789abcdef",
                    "",
                ],
                &["0123"],
            ),
            (
                Field::new("Extra", DataType::Json),
                &[r#"{"a": 1}"#, "plain text", "[1]", "null", ""],
                &[],
            ),
            (
                Field::new("Tags", DataType::list(DataType::String))
                    .with_allowed_values(["A", "B", "C"]),
                &["A;B", "A", r#"["A","C"]"#, ""],
                &["A;X", r#"["A","X"]"#],
            ),
            (
                Field::new("Free", DataType::list(DataType::String)),
                &["x;y", "[x", "a;;b", ""],
                &[],
            ),
            (
                Field::new("Nums", DataType::list(DataType::Int64)),
                &["[1, 2]", "[]", r#"[1, "2", null]"#, ""],
                &["[1.5]", "1;2"],
            ),
            (
                Field::new(
                    "Loc",
                    DataType::Struct(vec![
                        Field::new("lat", DataType::decimal(9, 6)),
                        Field::new("label", DataType::String),
                    ]),
                ),
                &[r#"{"lat": "1.5", "label": "x"}"#, "{}", ""],
                &[r#"{"lat": 1.12345678}"#, r#"{"lat": "x"}"#, "[1]"],
            ),
        ]
    }

    /// Cells that are no field's valid form, or any field's.
    const JUNK: &[&str] = &[
        "",
        " ",
        "#N/A",
        "null",
        "abc",
        "X",
        "-",
        ".",
        "1e",
        "[",
        "{",
        "\u{0}",
        "äöüß",
        "2024-02-30",
        "99:99",
        "0x10",
        "1_000",
        "true",
        "12.345",
        "9223372036854775808",
        "2024-01-02T03:04:05+05:30",
        "aGk=",
        "A;B",
    ];

    fn junk() -> BoxedStrategy<String> {
        prop_oneof![
            4 => proptest::sample::select(JUNK).prop_map(str::to_owned),
            2 => "\\PC{0,6}",
            1 => "[0-9.eE+;-]{0,8}",
            1 => any::<i64>().prop_map(|v| v.to_string()),
            1 => (any::<i32>(), 0_u32..100_000).prop_map(|(i, f)| format!("{i}.{f:05}")),
        ]
        .boxed()
    }

    /// One cell for a field: `(fitting, adjusted, junk, dice)`, picked by the row's mode.
    fn cell(fit: &'static [&'static str], adjust: &'static [&'static str]) -> BoxedStrategy<Cell> {
        let adjusted = if adjust.is_empty() { fit } else { adjust };
        (
            proptest::sample::select(fit),
            proptest::sample::select(adjusted),
            junk(),
            0_u32..100,
        )
            .prop_map(|(fit, adjusted, junk, dice)| Cell {
                fit,
                adjusted,
                junk,
                dice,
            })
            .boxed()
    }

    #[derive(Clone, Debug)]
    struct Cell {
        fit: &'static str,
        adjusted: &'static str,
        junk: String,
        dice: u32,
    }

    /// How a row's cells are picked: percent junk and percent adjusted.
    #[derive(Clone, Copy, Debug)]
    struct Mode {
        junk: u32,
        adjusted: u32,
    }

    #[derive(Clone, Debug)]
    struct Row {
        cells: Vec<String>,
        number: u64,
    }

    fn rows(n: usize) -> impl Strategy<Value = Vec<Row>> {
        let cells: Vec<_> = fields()
            .into_iter()
            .map(|(_, fit, adjust)| cell(fit, adjust))
            .collect();
        let mode = prop_oneof![
            Just(Mode {
                junk: 0,
                adjusted: 0
            }),
            Just(Mode {
                junk: 0,
                adjusted: 5
            }),
            Just(Mode {
                junk: 2,
                adjusted: 5
            }),
            Just(Mode {
                junk: 30,
                adjusted: 30
            }),
        ];
        // Mostly whole rows; some short (missing trailing cells) or long (extra cells).
        let count = prop_oneof![8 => Just(n), 1 => 0..n, 1 => n + 1..n + 3];
        let row = (cells, mode, count, any::<u64>()).prop_map(|(cells, mode, count, number)| {
            let mut cells: Vec<String> = cells
                .into_iter()
                .map(|c| {
                    if c.dice < mode.junk {
                        c.junk
                    } else if c.dice < mode.junk + mode.adjusted {
                        c.adjusted.to_owned()
                    } else {
                        c.fit.to_owned()
                    }
                })
                .collect();
            cells.resize(count, "extra".to_owned());
            Row { cells, number }
        });
        prop::collection::vec(row, 0..12)
    }

    fn policies() -> [ConversionPolicy; 3] {
        [
            ConversionPolicy::strict(),
            ConversionPolicy::lenient(),
            ConversionPolicy {
                empty_is_null: false,
                null_markers: vec!["#N/A".to_owned()],
                ..ConversionPolicy::lenient()
            },
        ]
    }

    /// Equal, and equal in what `==` does not see (a decimal's scale, an offset).
    fn same(a: &[Value], b: &[Value]) -> bool {
        a == b && format!("{a:?}") == format!("{b:?}")
    }

    /// What `text::parse` gives for a row: its values and changes, or the first error.
    fn parse_row(
        schema: &Schema,
        cells: &[String],
        policy: &ConversionPolicy,
    ) -> Result<(Vec<Value>, Vec<Change>), ConversionError> {
        let mut changes = Vec::new();
        let values = schema
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let cell = cells.get(i).map_or("", String::as_str);
                text::parse(field, cell, policy, &mut changes)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((values, changes))
    }

    fn check_rows(rows: &[Row], policy: &ConversionPolicy) -> Result<(), TestCaseError> {
        let schema = schema(fields().into_iter().map(|(f, _, _)| f).collect());
        let mut builder = ColumnBatchBuilder::with_capacity(Arc::clone(&schema), policy.clone(), 4);
        let mut expected_rows = Vec::new();
        let mut expected_changes = Vec::new();
        let mut numbers = Vec::new();
        for row in rows {
            let pushed = builder.push_row(row.cells.iter().map(String::as_str), row.number);
            match parse_row(&schema, &row.cells, policy) {
                Ok((values, changes)) => {
                    prop_assert_eq!(pushed, Ok(()), "{:?}", row.cells);
                    let index = expected_rows.len();
                    expected_changes.extend(changes.into_iter().map(|c| (index, c)));
                    expected_rows.push(values);
                    numbers.push(row.number);
                }
                Err(e) => prop_assert_eq!(pushed, Err(e), "{:?}", row.cells),
            }
            prop_assert_eq!(builder.len(), expected_rows.len());
        }
        let batch = builder.finish();
        prop_assert!(builder.is_empty());
        prop_assert_eq!(batch.len(), expected_rows.len());
        prop_assert_eq!(batch.row_numbers(), &numbers[..]);
        prop_assert_eq!(batch.changes(), &expected_changes[..]);
        prop_assert!(batch.row(batch.len()).is_none());
        for (i, expected) in expected_rows.iter().enumerate() {
            let row = batch.row(i).unwrap();
            prop_assert!(
                same(&row, expected),
                "row {}: {:?} != {:?}",
                i,
                row,
                expected
            );
            for (column, value) in batch.columns().iter().zip(expected) {
                prop_assert_eq!(column.is_null(i), value.is_null());
            }
        }
        for column in batch.columns() {
            prop_assert_eq!(column.len(), batch.len());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn batches_type_exactly_as_text_parse(rows in rows(fields().len())) {
            for policy in policies() {
                check_rows(&rows, &policy)?;
            }
            // Where empty cells are not null, most empty cells are errors; mark nulls
            // with the marker outside text fields, so that whole rows get through too.
            let fields = fields();
            let marked: Vec<Row> = rows
                .iter()
                .map(|row| Row {
                    cells: row
                        .cells
                        .iter()
                        .enumerate()
                        .map(|(i, cell)| {
                            let text = fields
                                .get(i)
                                .is_some_and(|(f, _, _)| f.data_type == DataType::String);
                            if cell.is_empty() && !text { "#N/A".to_owned() } else { cell.clone() }
                        })
                        .collect(),
                    number: row.number,
                })
                .collect();
            for policy in policies() {
                check_rows(&marked, &policy)?;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, cases: 1024, ..ProptestConfig::default() })]

        /// The lookup answers as the linear scan does, for values and text of every
        /// length around its key's 8 and 16 bytes, few letters (so that many share
        /// their first and last bytes) and a letter of two bytes.
        #[test]
        fn picklists_contain_what_the_scan_finds(
            allowed in prop::collection::vec("[ab\u{e4}]{0,20}", 0..40),
            probes in prop::collection::vec("[ab\u{e4}]{0,20}", 0..40),
        ) {
            let picklist = Picklist::new(&allowed);
            for s in allowed.iter().chain(&probes) {
                prop_assert_eq!(picklist.contains(s), allowed.iter().any(|a| a == s), "{:?}", s);
            }
        }
    }

    #[test]
    fn picklists_compare_the_middle_of_long_values() {
        let allowed = [
            "aaaaaaaaXbbbbbbbb",
            "",
            "ab",
            "abcdefgh",
            "abcdefghijklmnop",
        ]
        .map(String::from);
        let picklist = Picklist::new(&allowed);
        for s in allowed.iter().map(String::as_str) {
            assert!(picklist.contains(s), "{s:?}");
        }
        for s in [
            "aaaaaaaaYbbbbbbbb",
            "aaaaaaaabbbbbbbb",
            "a",
            "ba",
            "abcdefgi",
            "abcdefghijklmnoq",
        ] {
            assert!(!picklist.contains(s), "{s:?}");
        }
        assert!(!Picklist::new(&[]).contains(""));
    }

    #[test]
    fn every_field_type_has_its_column() {
        let schema = schema(fields().into_iter().map(|(f, _, _)| f).collect());
        let batch = ColumnBatch::empty(Arc::clone(&schema));
        assert!(batch.is_empty());
        assert_eq!(batch.columns().len(), schema.len());
        let kinds: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| format!("{c:?}").split('(').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            kinds,
            [
                "Boolean",
                "Boolean",
                "Int8",
                "Int16",
                "Int32",
                "Int64",
                "Float64",
                "Decimal",
                "String",
                "String",
                "String",
                "Values",
                "Date",
                "Time",
                "DateTime",
                "DateTimeOffset",
                "Uuid",
                "Values",
                "Values",
                "Values",
                "Values",
                "Values",
            ]
        );
    }

    #[test]
    fn column_push_hands_back_values_of_another_type() {
        let mut ints = Column::for_type(&DataType::Int32);
        assert_eq!(ints.push(Value::Int32(5)), Ok(()));
        assert_eq!(ints.push(Value::Null), Ok(()));
        assert_eq!(ints.push(Value::Int64(5)), Err(Value::Int64(5)));
        assert_eq!(ints.push(Value::from("5")), Err(Value::from("5")));
        assert_eq!(ints, Column::Int32(vec![Some(5), None]));
        assert_eq!(ints.value(0), Value::Int32(5));
        assert_eq!(ints.value(1), Value::Null);
        assert_eq!(ints.value(2), Value::Null);
        assert!(!ints.is_null(0) && ints.is_null(1) && ints.is_null(2));

        let mut text = Column::for_type(&DataType::String);
        assert_eq!(text.push(Value::Int32(1)), Err(Value::Int32(1)));
        assert_eq!(text.push(Value::from("a")), Ok(()));
        assert_eq!(text.value(0), Value::from("a"));

        let mut values = Column::with_capacity(&DataType::Json, 2);
        assert!(values.is_empty());
        let json = Value::Json(Box::new(serde_json::Value::Null));
        assert_eq!(values.push(json.clone()), Ok(()));
        assert_eq!(values.push(Value::Boolean(true)), Err(Value::Boolean(true)));
        assert_eq!(values.push(Value::Null), Ok(()));
        assert_eq!(values.len(), 2);
        // JSON's null is a value; only `Value::Null` is null.
        assert!(!values.is_null(0) && values.is_null(1));
        assert_eq!(values.value(0), json);
        values.truncate(1);
        assert_eq!(values, Column::Values(vec![json]));

        let mut dec = Column::for_type(&DataType::decimal(5, 2));
        let d = Decimal::from_str("1.50").unwrap();
        assert_eq!(dec.push(Value::Decimal(d)), Ok(()));
        assert_eq!(dec.push(Value::Float64(1.5)), Err(Value::Float64(1.5)));
        assert_eq!(dec.value(0), Value::Decimal(d));
    }

    #[test]
    fn text_columns_tell_null_from_empty() {
        let mut t = TextColumn::with_capacity(4, 8);
        assert!(t.is_empty());
        t.push(Some("ab"));
        t.push(None);
        t.push(Some(""));
        t.push(Some("äö"));
        assert_eq!(t.len(), 4);
        assert_eq!(t.data(), "abäö");
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [Some("ab"), None, Some(""), Some("äö")]
        );
        assert_eq!(t.get(1), None);
        assert_eq!(t.get(2), Some(""));
        assert_eq!(t.get(4), None);
        t.truncate(3);
        assert_eq!(t.data(), "ab");
        assert_eq!(t.iter().len(), 3);
        t.truncate(9);
        assert_eq!(t.len(), 3);
        t.truncate(0);
        assert_eq!(t, TextColumn::new());

        // Through the builder: with `empty_is_null` off an empty cell is an empty
        // string; a null marker is still null. By default an empty cell is null.
        let s = schema(vec![Field::new("Name", DataType::String)]);
        let policy = ConversionPolicy {
            empty_is_null: false,
            null_markers: vec!["#N/A".to_owned()],
            ..ConversionPolicy::strict()
        };
        assert!(!policy.is_null_text(""));
        let mut builder = ColumnBatchBuilder::new(Arc::clone(&s), policy);
        builder.push_row([""], 1).unwrap();
        builder.push_row(["#N/A"], 2).unwrap();
        builder.push_row(["x"], 3).unwrap();
        let batch = builder.finish();
        let Some(Column::String(names)) = batch.column(0) else {
            panic!("{batch:?}");
        };
        assert_eq!(
            names.iter().collect::<Vec<_>>(),
            [Some(""), None, Some("x")]
        );
        assert!(!batch.columns()[0].is_null(0) && batch.columns()[0].is_null(1));

        let mut builder = ColumnBatchBuilder::new(s, ConversionPolicy::strict());
        builder.push_row([""], 1).unwrap();
        let batch = builder.finish();
        assert_eq!(batch.row(0), Some(vec![Value::Null]));
    }

    #[test]
    fn finish_starts_a_new_batch() {
        let s = schema(vec![
            Field::new("Id", DataType::Int64),
            Field::new("Name", DataType::String),
        ]);
        let mut builder = ColumnBatchBuilder::with_capacity(s, ConversionPolicy::lenient(), 8);
        assert_eq!(builder.schema().len(), 2);
        builder.push_row(["1", "a"], 10).unwrap();
        builder.push_row(["2", "b"], 11).unwrap();
        let first = builder.finish();
        assert!(builder.is_empty());
        builder.push_row(["3", "c"], 12).unwrap();
        let second = builder.finish();
        assert_eq!(first.len(), 2);
        assert_eq!(second.len(), 1);
        assert_eq!(second.row_numbers(), &[12]);
        assert_eq!(second.row(0), Some(vec![Value::Int64(3), Value::from("c")]));
        assert_eq!(second.row(1), None);
        let Some(Column::String(names)) = second.column(1) else {
            panic!("{second:?}");
        };
        assert_eq!(names.data(), "c");
        let third = builder.finish();
        assert!(third.is_empty());
        assert_eq!(third, ColumnBatch::empty(Arc::clone(second.schema())));
    }

    #[test]
    fn columns_by_exact_name() {
        let s = schema(vec![
            Field::new("Id", DataType::Int32),
            Field::new("id", DataType::Boolean),
        ]);
        let mut builder = ColumnBatchBuilder::new(s, ConversionPolicy::strict());
        builder.push_row(["7", "yes"], 1).unwrap();
        let batch = builder.finish();
        assert_eq!(
            batch.column_by_name("Id"),
            Some(&Column::Int32(vec![Some(7)]))
        );
        assert_eq!(
            batch.column_by_name("id"),
            Some(&Column::Boolean(vec![Some(true)]))
        );
        assert_eq!(batch.column_by_name("ID"), None);
        assert_eq!(batch.column(2), None);
        let columns = batch.into_columns();
        assert_eq!(columns.len(), 2);
    }

    #[test]
    fn failed_rows_leave_no_trace() {
        let mut code = NativeType::new("salesforce", "string");
        code.length = Some(2);
        let s = schema(vec![
            Field::new("Code", DataType::String).with_native(code),
            Field::new("Name", DataType::String),
            Field::new("Amount", DataType::decimal(5, 2)).with_nullable(false),
        ]);
        let mut builder = ColumnBatchBuilder::new(Arc::clone(&s), ConversionPolicy::lenient());
        builder.push_row(["abc", "x", "1.005"], 5).unwrap();
        // Truncated and rounded, then the required amount is missing: nothing stays.
        let e = builder.push_row(["abc", "long name", ""], 6).unwrap_err();
        let mut changes = Vec::new();
        let expected = text::parse(&s.fields[2], "", &ConversionPolicy::lenient(), &mut changes);
        assert_eq!(Err(e), expected);
        // Extra cells are ignored.
        builder.push_row(["ab", "y", "2", "extra"], 7).unwrap();
        let batch = builder.finish();
        assert_eq!(batch.row_numbers(), &[5, 7]);
        let kinds: Vec<_> = batch
            .changes()
            .iter()
            .map(|(row, c)| (*row, c.field.as_str(), c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (0, "Code", ChangeKind::Truncated),
                (0, "Amount", ChangeKind::Rounded)
            ]
        );
        let Some(Column::String(names)) = batch.column(1) else {
            panic!("{batch:?}");
        };
        assert_eq!(names.data(), "xy");
        assert_eq!(
            batch.row(0),
            Some(vec![
                Value::from("ab"),
                Value::from("x"),
                Value::Decimal(Decimal::from_str("1.01").unwrap())
            ])
        );
    }

    #[test]
    fn row_numbers_are_kept() {
        let s = schema(vec![Field::new("N", DataType::Int8)]);
        let mut builder = ColumnBatchBuilder::new(s, ConversionPolicy::strict());
        for (number, cell) in [(2, "1"), (3, "x"), (4, ""), (u64::MAX, "3")] {
            let _ = builder.push_row([cell], number);
        }
        // Too few cells: the missing one is read as empty.
        builder.push_row([], 9).unwrap();
        let batch = builder.finish();
        assert_eq!(batch.row_numbers(), &[2, 4, u64::MAX, 9]);
        assert_eq!(
            batch.column(0),
            Some(&Column::Int8(vec![Some(1), None, Some(3), None]))
        );
    }
}
