//! Stored records: one table per sObject, values kept as Salesforce's canonical text,
//! and the write path (insert, update, upsert, delete) with its validation.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::schema::{
    F_CREATED_BY, F_CREATED_DATE, F_ID, F_IS_DELETED, F_LAST_MODIFIED_BY, F_LAST_MODIFIED_DATE,
    F_SYSTEM_MODSTAMP, FieldDef, FieldType, ObjectDef, Schema, USER,
};

/// A record: one value per field of its object, `None` for null.
pub(crate) type Row = Vec<Option<Box<str>>>;

/// One object's records. Slots keep their position for the life of the emulator
/// (a hard delete empties its slot), so query results can refer to them.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) slots: Vec<Option<Row>>,
    pub(crate) by_id: HashMap<Box<str>, usize>,
    /// Per unique field: lower-cased value → slot (live records only).
    unique: HashMap<usize, HashMap<String, usize>>,
    next_seq: u64,
    live: usize,
}

impl Table {
    /// Records not deleted.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

/// A per-record failure, written to `sf__Error` as `CODE:message:fields --`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) fields: Vec<String>,
}

impl RecordError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, fields: &[&str]) -> Self {
        Self {
            code,
            message: message.into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`.
    pub(crate) fn sf_error(&self) -> String {
        if self.fields.is_empty() {
            format!("{}:{}:--", self.code, self.message)
        } else {
            format!(
                "{}:{}:{} --",
                self.code,
                self.message,
                self.fields.join(",")
            )
        }
    }
}

const CHECKSUM: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 18-character form of a 15-character id (Salesforce's case-safe suffix).
pub(crate) fn id18(id15: &str) -> Option<String> {
    let bytes = id15.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(18);
    out.push_str(id15);
    for chunk in bytes.chunks(5) {
        let mut bits = 0usize;
        for (i, b) in chunk.iter().enumerate() {
            if b.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out.push(char::from(CHECKSUM[bits]));
    }
    Some(out)
}

/// A 15- or 18-character id in its 18-character form, if it is well formed.
pub(crate) fn normalize_id(id: &str) -> Option<String> {
    match id.len() {
        15 => id18(id),
        18 => {
            let full = id18(&id[..15])?;
            full.eq_ignore_ascii_case(id).then_some(full)
        }
        _ => None,
    }
}

pub(crate) fn make_id(prefix: &str, seq: u64) -> String {
    let mut digits = Vec::new();
    let mut n = seq;
    loop {
        digits.push(BASE62[usize::try_from(n % 62).unwrap_or(0)]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    let mut body = String::from(prefix);
    body.push_str("EM");
    for _ in digits.len()..10 {
        body.push('0');
    }
    body.extend(digits.iter().rev().map(|b| char::from(*b)));
    id18(&body).unwrap_or(body)
}

/// Now, as the emulator's clock says.
pub(crate) fn now() -> DateTime<Utc> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// `2024-01-31T12:00:00.000Z`: how records show datetimes.
pub(crate) fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2024-01-31T12:00:00.000+0000`: how job info shows datetimes.
pub(crate) fn format_job_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// A datetime literal or value: `yyyy-MM-ddTHH:mm:ss[.SSS](Z|±HH:mm|±HHmm)`.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.len() < 20 || t.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let normalized = if let Some(stripped) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        format!("{stripped}+0000")
    } else {
        t.to_owned()
    };
    DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

/// A number as Salesforce accepts it: plain or scientific notation.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str(t)
        .ok()
        .or_else(|| Decimal::from_scientific(t).ok())
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

fn type_error(field: &FieldDef, value: &str) -> RecordError {
    RecordError::new(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        format!("{}: value not of required type: {value}", field.label),
        &[&field.name],
    )
}

/// A value in its canonical stored form, or why it is not valid for the field.
/// References are only checked for shape here.
pub(crate) fn coerce(field: &FieldDef, value: &str) -> Result<Box<str>, RecordError> {
    let out = match field.ftype {
        FieldType::Boolean => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => "true".to_owned(),
            "false" | "0" | "no" => "false".to_owned(),
            _ => return Err(type_error(field, value)),
        },
        FieldType::Int => {
            let n: i64 = value.trim().parse().map_err(|_| type_error(field, value))?;
            if n.unsigned_abs() > i64::from(i32::MAX).unsigned_abs() {
                return Err(out_of_range(field, value));
            }
            n.to_string()
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            let d = parse_decimal(value).ok_or_else(|| type_error(field, value))?;
            let d = d.round_dp_with_strategy(
                field.scale,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            );
            let int_digits = field.precision.saturating_sub(field.scale);
            let limit =
                (0..int_digits).try_fold(Decimal::ONE, |acc, _| acc.checked_mul(Decimal::TEN));
            if limit.is_some_and(|l| d.abs() >= l) {
                return Err(out_of_range(field, value));
            }
            d.normalize().to_string()
        }
        FieldType::Date => parse_date(value)
            .ok_or_else(|| type_error(field, value))?
            .format("%Y-%m-%d")
            .to_string(),
        FieldType::DateTime => {
            format_datetime(parse_datetime(value).ok_or_else(|| type_error(field, value))?)
        }
        FieldType::Time => parse_time(value)
            .ok_or_else(|| type_error(field, value))?
            .format("%H:%M:%S%.3fZ")
            .to_string(),
        FieldType::Email => {
            if !is_email(value.trim()) {
                return Err(RecordError::new(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {value}", field.label),
                    &[&field.name],
                ));
            }
            value.trim().to_owned()
        }
        FieldType::Id | FieldType::Reference => normalize_id(value.trim()).ok_or_else(|| {
            RecordError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {value}", field.label),
                &[&field.name],
            )
        })?,
        FieldType::Picklist => {
            if field.restricted_picklist && !field.picklist.iter().any(|p| p == value) {
                return Err(RecordError::new(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    format!(
                        "{}: bad value for restricted picklist field: {value}",
                        field.label
                    ),
                    &[&field.name],
                ));
            }
            value.to_owned()
        }
        FieldType::String | FieldType::TextArea | FieldType::Phone | FieldType::Url => {
            value.to_owned()
        }
    };
    if field.length > 0 && field.ftype.is_text() && out.chars().count() > field.length as usize {
        return Err(RecordError::new(
            "STRING_TOO_LONG",
            format!(
                "{}: data value too large: {} (max length={})",
                field.label,
                truncate(value, 40),
                field.length
            ),
            &[&field.name],
        ));
    }
    Ok(out.into_boxed_str())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn out_of_range(field: &FieldDef, value: &str) -> RecordError {
    RecordError::new(
        "NUMBER_OUTSIDE_VALID_RANGE",
        format!(
            "{}: value outside of valid range on numeric field: {value}",
            field.label
        ),
        &[&field.name],
    )
}

/// What one column of an upload writes.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    /// A field of the object.
    Field(usize),
    /// `Relationship.IndexedField`: the reference field is set to the id of the
    /// parent whose `target_field` equals the value.
    Relation {
        field: usize,
        target_object: usize,
        target_field: usize,
    },
}

/// Resolves an upload header cell, or `None` for an unknown field.
pub(crate) fn resolve_column(schema: &Schema, object: usize, name: &str) -> Option<Column> {
    let def = &schema.objects[object];
    if let Some((rel, target)) = name.split_once('.') {
        let rel = rel.rsplit(':').next().unwrap_or(rel);
        let field = def.relationship(rel)?;
        let target_object = schema.object(def.fields[field].reference_to.as_deref()?)?;
        let tdef = &schema.objects[target_object];
        let target_field = tdef.field(target)?;
        let tf = &tdef.fields[target_field];
        if !(tf.id_lookup || tf.ftype == FieldType::Id) {
            return None;
        }
        return Some(Column::Relation {
            field,
            target_object,
            target_field,
        });
    }
    def.field(name).map(Column::Field)
}

/// The write operations of ingest jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOp {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

/// The stored data of every object.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) tables: Vec<Table>,
    pub(crate) user_id: String,
}

impl Store {
    pub(crate) fn new(schema: &Schema, username: &str) -> Self {
        let mut store = Self {
            tables: schema.objects.iter().map(|_| Table::default()).collect(),
            user_id: String::new(),
        };
        let user = schema.objects[USER].clone();
        let values = [
            ("Username", username),
            ("FirstName", "Integration"),
            ("LastName", "User"),
            ("Email", username),
            ("IsActive", "true"),
        ];
        let cols: Vec<Column> = values
            .iter()
            .filter_map(|(n, _)| user.field(n).map(Column::Field))
            .collect();
        let cells: Vec<&str> = values.iter().map(|(_, v)| *v).collect();
        if let Ok((id, _)) = store.write(schema, USER, WriteOp::Insert, None, &cols, &cells) {
            store.user_id = id;
        }
        store
    }

    /// The object and slot of a live or soft-deleted record.
    pub(crate) fn locate(&self, schema: &Schema, id: &str) -> Option<(usize, usize)> {
        let id = normalize_id(id)?;
        let object = schema.object_by_prefix(id.get(..3)?)?;
        let slot = *self.tables[object].by_id.get(id.as_str())?;
        Some((object, slot))
    }

    pub(crate) fn row(&self, object: usize, slot: usize) -> Option<&Row> {
        self.tables.get(object)?.slots.get(slot)?.as_ref()
    }

    fn find_unique(&self, object: usize, field: usize, value: &str) -> Option<usize> {
        self.tables[object]
            .unique
            .get(&field)?
            .get(&value.to_lowercase())
            .copied()
    }

    /// The live record of `object` whose `field` equals `value` (Id or a unique field).
    pub(crate) fn find_by(
        &self,
        schema: &Schema,
        object: usize,
        field: usize,
        value: &str,
    ) -> Option<usize> {
        if field == F_ID {
            let (o, slot) = self.locate(schema, value)?;
            let live = self.row(o, slot).is_some_and(|r| !is_deleted(r));
            return (o == object && live).then_some(slot);
        }
        if let Some(slot) = self.find_unique(object, field, value) {
            return Some(slot);
        }
        // A unique field's index holds every live value: no need to scan.
        if schema.objects[object].fields[field].unique {
            return None;
        }
        self.tables[object].slots.iter().position(|r| {
            r.as_ref().is_some_and(|r| {
                !is_deleted(r)
                    && r[field]
                        .as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
        })
    }

    /// Applies one row of an upload. `key` is the upsert key field. Returns the
    /// record's id and whether it was created.
    pub(crate) fn write(
        &mut self,
        schema: &Schema,
        object: usize,
        op: WriteOp,
        key: Option<usize>,
        columns: &[Column],
        cells: &[&str],
    ) -> Result<(String, bool), RecordError> {
        let def = &schema.objects[object];
        let id_cell = columns
            .iter()
            .zip(cells)
            .find(|(c, _)| matches!(c, Column::Field(F_ID)))
            .map(|(_, v)| v.trim());
        match op {
            WriteOp::Delete | WriteOp::HardDelete => {
                let id = id_cell.filter(|v| !v.is_empty()).ok_or_else(|| {
                    RecordError::new("MISSING_ARGUMENT", "Id not specified in a delete call", &[])
                })?;
                self.delete(schema, object, id, op == WriteOp::HardDelete)
            }
            WriteOp::Insert => self.insert(schema, def, object, columns, cells),
            WriteOp::Update => {
                let id = id_cell.filter(|v| !v.is_empty()).ok_or_else(|| {
                    RecordError::new(
                        "MISSING_ARGUMENT",
                        "Id not specified in an update call",
                        &[],
                    )
                })?;
                let slot = self.live_slot(schema, object, id)?;
                self.update(schema, def, object, slot, columns, cells)
            }
            WriteOp::Upsert => {
                let key = key.unwrap_or(F_ID);
                let key_value = columns
                    .iter()
                    .zip(cells)
                    .find(|(c, _)| matches!(c, Column::Field(f) if *f == key))
                    .map(|(_, v)| v.trim())
                    .unwrap_or("");
                if key_value.is_empty() {
                    if key == F_ID {
                        return self.insert(schema, def, object, columns, cells);
                    }
                    return Err(RecordError::new(
                        "MISSING_ARGUMENT",
                        format!("{} not specified", def.fields[key].name),
                        &[],
                    ));
                }
                if key == F_ID {
                    let slot = self.live_slot(schema, object, key_value)?;
                    return self.update(schema, def, object, slot, columns, cells);
                }
                match self.find_by(schema, object, key, key_value) {
                    Some(slot) => self.update(schema, def, object, slot, columns, cells),
                    None => self.insert(schema, def, object, columns, cells),
                }
            }
        }
    }

    fn live_slot(&self, schema: &Schema, object: usize, id: &str) -> Result<usize, RecordError> {
        let Some(norm) = normalize_id(id) else {
            return Err(RecordError::new(
                "MALFORMED_ID",
                format!("malformed id {id}"),
                &[],
            ));
        };
        match self.locate(schema, &norm) {
            Some((o, slot)) if o == object => match self.row(o, slot) {
                Some(r) if !is_deleted(r) => Ok(slot),
                _ => Err(RecordError::new(
                    "ENTITY_IS_DELETED",
                    "entity is deleted",
                    &[],
                )),
            },
            Some(_) => Err(RecordError::new(
                "INVALID_ID_FIELD",
                format!("invalid record id {id} for {}", schema.objects[object].name),
                &[],
            )),
            None => Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &[],
            )),
        }
    }

    /// Sets the given cells on `row`; `creating` selects createable or updateable.
    fn apply(
        &self,
        schema: &Schema,
        def: &ObjectDef,
        row: &mut Row,
        columns: &[Column],
        cells: &[&str],
        creating: bool,
    ) -> Result<(), RecordError> {
        let mut not_writable = Vec::new();
        for (col, cell) in columns.iter().zip(cells) {
            if cell.is_empty() {
                continue;
            }
            match col {
                Column::Field(F_ID) => {}
                Column::Field(f) => {
                    let field = &def.fields[*f];
                    if creating && !field.createable || !creating && !field.updateable {
                        not_writable.push(field.name.clone());
                        continue;
                    }
                    if *cell == "#N/A" {
                        row[*f] = None;
                        continue;
                    }
                    let value = coerce(field, cell)?;
                    if field.ftype == FieldType::Reference {
                        self.check_reference(schema, field, &value)?;
                    }
                    row[*f] = Some(value);
                }
                Column::Relation {
                    field,
                    target_object,
                    target_field,
                } => {
                    if *cell == "#N/A" {
                        row[*field] = None;
                        continue;
                    }
                    let tdef = &schema.objects[*target_object];
                    let slot = self
                        .find_by(schema, *target_object, *target_field, cell)
                        .ok_or_else(|| {
                            RecordError::new(
                                "INVALID_FIELD",
                                format!(
                                    "Foreign key external ID: {cell} not found for field {} in entity {}",
                                    tdef.fields[*target_field].name, tdef.name
                                ),
                                &[],
                            )
                        })?;
                    let id = self.row(*target_object, slot).and_then(|r| r[F_ID].clone());
                    row[*field] = id;
                }
            }
        }
        if !not_writable.is_empty() {
            return Err(RecordError {
                code: "INVALID_FIELD_FOR_INSERT_UPDATE",
                message: format!(
                    "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    not_writable.join(", ")
                ),
                fields: not_writable,
            });
        }
        Ok(())
    }

    fn check_reference(
        &self,
        schema: &Schema,
        field: &FieldDef,
        id: &str,
    ) -> Result<(), RecordError> {
        let target = field.reference_to.as_deref().and_then(|t| schema.object(t));
        let found = self.locate(schema, id);
        match (target, found) {
            (Some(t), Some((o, slot))) if t == o => {
                if self.row(o, slot).is_some_and(|r| !is_deleted(r)) {
                    Ok(())
                } else {
                    Err(RecordError::new(
                        "ENTITY_IS_DELETED",
                        "entity is deleted",
                        &[&field.name],
                    ))
                }
            }
            (Some(t), _) if id.get(..3) == Some(schema.objects[t].key_prefix.as_str()) => {
                Err(RecordError::new(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    &[&field.name],
                ))
            }
            _ => Err(RecordError::new(
                "FIELD_INTEGRITY_EXCEPTION",
                format!("{}: id value of incorrect type: {id}", field.label),
                &[&field.name],
            )),
        }
    }

    fn check_required_and_unique(
        &self,
        def: &ObjectDef,
        object: usize,
        row: &Row,
        own_slot: Option<usize>,
    ) -> Result<(), RecordError> {
        let missing: Vec<&str> = def
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| !f.nillable && !f.system && row[*i].is_none())
            .map(|(_, f)| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(RecordError::new(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
                &missing,
            ));
        }
        for (i, f) in def.fields.iter().enumerate() {
            if !f.unique {
                continue;
            }
            let Some(v) = row[i].as_deref() else { continue };
            if let Some(other) = self.find_unique(object, i, v)
                && Some(other) != own_slot
            {
                let other_id = self
                    .row(object, other)
                    .and_then(|r| r[F_ID].as_deref())
                    .unwrap_or_default();
                return Err(RecordError::new(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other_id}",
                        f.name
                    ),
                    &[&f.name],
                ));
            }
        }
        Ok(())
    }

    fn derive(def: &ObjectDef, row: &mut Row) {
        if let Some(name) = def.field("Name")
            && def.fields[name].system
        {
            let first = def.field("FirstName").and_then(|f| row[f].clone());
            let last = def.field("LastName").and_then(|f| row[f].clone());
            let full = match (first, last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (None, Some(l)) => Some(l.into_string()),
                (Some(f), None) => Some(f.into_string()),
                (None, None) => None,
            };
            row[name] = full.map(String::into_boxed_str);
        }
    }

    fn index_unique(&mut self, def: &ObjectDef, object: usize, row: &Row, slot: usize, add: bool) {
        for (i, f) in def.fields.iter().enumerate() {
            if !f.unique {
                continue;
            }
            let Some(v) = row[i].as_deref() else { continue };
            let index = self.tables[object].unique.entry(i).or_default();
            if add {
                index.insert(v.to_lowercase(), slot);
            } else if index.get(&v.to_lowercase()) == Some(&slot) {
                index.remove(&v.to_lowercase());
            }
        }
    }

    fn insert(
        &mut self,
        schema: &Schema,
        def: &ObjectDef,
        object: usize,
        columns: &[Column],
        cells: &[&str],
    ) -> Result<(String, bool), RecordError> {
        let mut row: Row = vec![None; def.fields.len()];
        self.apply(schema, def, &mut row, columns, cells, true)?;
        for (i, f) in def.fields.iter().enumerate() {
            if row[i].is_none() && f.defaulted_on_create && !f.system {
                row[i] = match (f.ftype, f.name.as_str()) {
                    (FieldType::Boolean, "IsActive") => Some("true".into()),
                    (FieldType::Boolean, _) => Some("false".into()),
                    (FieldType::Reference, _) if !self.user_id.is_empty() => {
                        Some(self.user_id.clone().into())
                    }
                    _ => None,
                };
            }
        }
        Self::derive(def, &mut row);
        self.check_required_and_unique(def, object, &row, None)?;
        let table = &mut self.tables[object];
        table.next_seq += 1;
        let id = make_id(&def.key_prefix, table.next_seq);
        let stamp: Box<str> = format_datetime(now()).into();
        let user: Option<Box<str>> = if self.user_id.is_empty() {
            Some(id.clone().into())
        } else {
            Some(self.user_id.clone().into())
        };
        row[F_ID] = Some(id.clone().into());
        row[F_IS_DELETED] = Some("false".into());
        row[F_CREATED_DATE] = Some(stamp.clone());
        row[F_LAST_MODIFIED_DATE] = Some(stamp.clone());
        row[F_SYSTEM_MODSTAMP] = Some(stamp);
        row[F_CREATED_BY] = user.clone();
        row[F_LAST_MODIFIED_BY] = user;
        let slot = table.slots.len();
        table.by_id.insert(id.clone().into(), slot);
        table.live += 1;
        self.index_unique(def, object, &row, slot, true);
        self.tables[object].slots.push(Some(row));
        Ok((id, true))
    }

    fn update(
        &mut self,
        schema: &Schema,
        def: &ObjectDef,
        object: usize,
        slot: usize,
        columns: &[Column],
        cells: &[&str],
    ) -> Result<(String, bool), RecordError> {
        let Some(old) = self.row(object, slot).cloned() else {
            return Err(RecordError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            ));
        };
        let mut row = old.clone();
        self.apply(schema, def, &mut row, columns, cells, false)?;
        Self::derive(def, &mut row);
        self.check_required_and_unique(def, object, &row, Some(slot))?;
        let stamp: Box<str> = format_datetime(now()).into();
        row[F_LAST_MODIFIED_DATE] = Some(stamp.clone());
        row[F_SYSTEM_MODSTAMP] = Some(stamp);
        if !self.user_id.is_empty() {
            row[F_LAST_MODIFIED_BY] = Some(self.user_id.clone().into());
        }
        let id = row[F_ID].as_deref().unwrap_or_default().to_owned();
        self.index_unique(def, object, &old, slot, false);
        self.index_unique(def, object, &row, slot, true);
        self.tables[object].slots[slot] = Some(row);
        Ok((id, false))
    }

    fn delete(
        &mut self,
        schema: &Schema,
        object: usize,
        id: &str,
        hard: bool,
    ) -> Result<(String, bool), RecordError> {
        let Some(norm) = normalize_id(id) else {
            return Err(RecordError::new(
                "MALFORMED_ID",
                format!("malformed id {id}"),
                &[],
            ));
        };
        let def = &schema.objects[object];
        let located = self.locate(schema, &norm).filter(|(o, _)| *o == object);
        let Some((_, slot)) = located else {
            return Err(RecordError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &[],
            ));
        };
        let Some(row) = self.row(object, slot).cloned() else {
            return Err(RecordError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            ));
        };
        let was_deleted = is_deleted(&row);
        if was_deleted && !hard {
            return Err(RecordError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            ));
        }
        if !was_deleted {
            self.index_unique(def, object, &row, slot, false);
            self.tables[object].live -= 1;
        }
        if hard {
            let table = &mut self.tables[object];
            table.slots[slot] = None;
            table.by_id.remove(norm.as_str());
        } else if let Some(Some(r)) = self.tables[object].slots.get_mut(slot) {
            let stamp: Box<str> = format_datetime(now()).into();
            r[F_IS_DELETED] = Some("true".into());
            r[F_LAST_MODIFIED_DATE] = Some(stamp.clone());
            r[F_SYSTEM_MODSTAMP] = Some(stamp);
        }
        Ok((norm, false))
    }
}

/// Whether a record is soft-deleted.
pub(crate) fn is_deleted(row: &Row) -> bool {
    row.get(F_IS_DELETED).and_then(|v| v.as_deref()) == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_case_safe() {
        assert_eq!(
            id18("001000000000001").as_deref(),
            Some("001000000000001AAA")
        );
        assert_eq!(id18("0015g00000AbCdE").map(|s| s.len()), Some(18));
        let id = make_id("001", 1);
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("001EM"));
        assert_eq!(normalize_id(&id[..15]).as_deref(), Some(id.as_str()));
        assert_eq!(normalize_id(&id).as_deref(), Some(id.as_str()));
        assert!(normalize_id("nope").is_none());
    }

    #[test]
    fn datetimes_parse_with_any_offset() {
        let a = parse_datetime("2024-01-31T12:00:00Z").unwrap();
        let b = parse_datetime("2024-01-31T13:00:00.000+01:00").unwrap();
        let c = parse_datetime("2024-01-31T13:00:00.000+0100").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(format_datetime(a), "2024-01-31T12:00:00.000Z");
        assert!(parse_datetime("2024-01-31").is_none());
    }
}
