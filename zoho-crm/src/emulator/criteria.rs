//! Compiled criteria shared by COQL `where` and bulk read `criteria`: columns
//! resolved against field metadata (through up to two lookup relations), literals
//! typed by the column, evaluation against stored records.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::meta::{DataType, FieldMeta, Meta, ModuleMeta};
use super::records::SortBy;
use super::store::{Record, Store, UserRec, lookup_id};
use super::time;

/// User keys reachable through an owner lookup (`Owner.email`).
const USER_KEYS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "status",
    "zuid",
];

/// One step through a lookup.
#[derive(Debug, Clone)]
enum Hop {
    /// A lookup field to another module.
    Module {
        field: &'static str,
        target: &'static str,
    },
    /// An owner lookup to users.
    User { field: &'static str },
}

/// What a column finally reads.
#[derive(Debug, Clone)]
enum Target {
    Id,
    Field(FieldMeta),
    UserKey(&'static str),
}

/// How a column's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColType {
    Id,
    Num,
    Big,
    Text,
    TextArea,
    Bool,
    Date,
    Time,
    Ref,
    Multi,
}

/// A resolved column, e.g. `Last_Name`, `Account_Name.Account_Name`, `Owner.email`.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    hops: Vec<Hop>,
    target: Target,
    /// The canonical path, used as the output key.
    pub(crate) key: String,
    pub(crate) ty: ColType,
}

/// Why a column, value or operator was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompileError {
    UnknownColumn(String),
    TooManyRelations(String),
    BadValue(String),
    BadOperator(String, &'static str),
    TooManyValues(String),
}

impl Column {
    /// The field metadata of a plain (relation-free) field column.
    pub(crate) fn field(&self) -> Option<&FieldMeta> {
        match (&self.target, self.hops.is_empty()) {
            (Target::Field(f), true) => Some(f),
            _ => None,
        }
    }

    /// Which index a plain column can be ordered by, if any.
    pub(crate) fn sort_index(&self) -> Option<SortBy> {
        if !self.hops.is_empty() {
            return None;
        }
        match &self.target {
            Target::Id => Some(SortBy::Id),
            Target::Field(f) if f.api_name == "Modified_Time" => Some(SortBy::Modified),
            Target::Field(f) if f.api_name == "Created_Time" => Some(SortBy::Created),
            _ => None,
        }
    }

    /// Whether this is a textarea (multi-line) field.
    pub(crate) fn is_textarea(&self) -> bool {
        self.ty == ColType::TextArea
    }
}

fn col_type(data_type: DataType) -> ColType {
    match data_type {
        DataType::TextArea => ColType::TextArea,
        DataType::Integer | DataType::Currency | DataType::Double | DataType::Percent => {
            ColType::Num
        }
        DataType::BigInt => ColType::Big,
        DataType::Boolean => ColType::Bool,
        DataType::Date => ColType::Date,
        DataType::DateTime => ColType::Time,
        DataType::Lookup | DataType::OwnerLookup => ColType::Ref,
        DataType::MultiSelectPicklist => ColType::Multi,
        _ => ColType::Text,
    }
}

/// Resolves `path` (dot-separated API names) on `module`.
pub(crate) fn resolve(
    meta: &Meta,
    module: &ModuleMeta,
    path: &str,
) -> Result<Column, CompileError> {
    let parts: Vec<&str> = path.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(CompileError::UnknownColumn(path.to_owned()));
    }
    if parts.len() > 3 {
        return Err(CompileError::TooManyRelations(path.to_owned()));
    }
    let unknown = || CompileError::UnknownColumn(path.to_owned());
    let mut current = module;
    let mut hops = Vec::new();
    let mut key = Vec::new();
    let mut through_user = false;
    for part in &parts[..parts.len() - 1] {
        if through_user {
            return Err(unknown());
        }
        let field = current.field(part).ok_or_else(unknown)?;
        key.push(field.api_name);
        match (field.data_type, field.lookup) {
            (DataType::Lookup, Some(target)) => {
                current = meta.module(target).ok_or_else(unknown)?;
                hops.push(Hop::Module {
                    field: field.api_name,
                    target: current.api_name,
                });
            }
            (DataType::OwnerLookup, _) => {
                hops.push(Hop::User {
                    field: field.api_name,
                });
                through_user = true;
            }
            _ => return Err(unknown()),
        }
    }
    let last = parts[parts.len() - 1];
    let (target, ty, name) = if through_user {
        let k = USER_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(last))
            .ok_or_else(unknown)?;
        let ty = if *k == "id" {
            ColType::Id
        } else {
            ColType::Text
        };
        (Target::UserKey(k), ty, *k)
    } else if last.eq_ignore_ascii_case("id") {
        (Target::Id, ColType::Id, "id")
    } else {
        let field = current.field(last).ok_or_else(unknown)?;
        (
            Target::Field(field.clone()),
            col_type(field.data_type),
            field.api_name,
        )
    };
    key.push(name);
    Ok(Column {
        hops,
        target,
        key: key.join("."),
        ty,
    })
}

/// What a column points at in one record.
#[derive(Debug, Clone, Copy)]
enum Node<'s> {
    Rec(&'s Record),
    User(&'s UserRec),
}

fn walk<'s>(store: &'s Store, record: &'s Record, column: &Column) -> Option<Node<'s>> {
    let mut node = Node::Rec(record);
    for hop in &column.hops {
        let Node::Rec(r) = node else {
            return None;
        };
        node = match hop {
            Hop::Module { field, target } => {
                let id = r.value.get(*field).and_then(lookup_id)?;
                Node::Rec(store.module(target)?.records.get(&id)?)
            }
            Hop::User { field } => {
                let id = r.value.get(*field).and_then(lookup_id)?;
                Node::User(store.users.get(&id)?)
            }
        };
    }
    Some(node)
}

/// A comparable value of one column in one record.
#[derive(Debug, Clone, Copy)]
enum Scalar<'s> {
    Null,
    Id(u64),
    Num(f64),
    Big(i128),
    Text(&'s str),
    Bool(bool),
    Time(i64),
    Date(&'s str),
    Multi(&'s [Value]),
}

fn scalar<'s>(store: &'s Store, record: &'s Record, column: &Column) -> Scalar<'s> {
    let Some(node) = walk(store, record, column) else {
        return Scalar::Null;
    };
    match (&column.target, node) {
        (Target::Id, Node::Rec(r)) => Scalar::Id(r.id),
        (Target::Id, Node::User(u)) => Scalar::Id(u.id),
        (Target::UserKey(k), Node::User(u)) => {
            if *k == "id" {
                Scalar::Id(u.id)
            } else {
                match u.value.get(*k).and_then(Value::as_str) {
                    Some(s) if !s.is_empty() => Scalar::Text(s),
                    _ => Scalar::Null,
                }
            }
        }
        (Target::Field(f), Node::Rec(r)) => {
            match f.api_name {
                "Modified_Time" => return Scalar::Time(r.modified),
                "Created_Time" => return Scalar::Time(r.created),
                _ => {}
            }
            let Some(value) = r.value.get(f.api_name).filter(|v| !v.is_null()) else {
                return Scalar::Null;
            };
            match column.ty {
                ColType::Num => value.as_f64().map_or(Scalar::Null, Scalar::Num),
                ColType::Big => value
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .map_or(Scalar::Null, Scalar::Big),
                ColType::Bool => value.as_bool().map_or(Scalar::Null, Scalar::Bool),
                ColType::Date => value.as_str().map_or(Scalar::Null, Scalar::Date),
                ColType::Time => value
                    .as_str()
                    .and_then(time::parse_datetime)
                    .map_or(Scalar::Null, Scalar::Time),
                ColType::Ref | ColType::Id => lookup_id(value).map_or(Scalar::Null, Scalar::Id),
                ColType::Multi => value
                    .as_array()
                    .map_or(Scalar::Null, |a| Scalar::Multi(a.as_slice())),
                ColType::Text | ColType::TextArea => {
                    value.as_str().map_or(Scalar::Null, Scalar::Text)
                }
            }
        }
        _ => Scalar::Null,
    }
}

/// A column's value as a COQL row shows it: lookups as `{"name","id"}` (the name of
/// a user being the last name), everything else as stored.
pub(crate) fn output_value(meta: &Meta, store: &Store, record: &Record, column: &Column) -> Value {
    let Some(node) = walk(store, record, column) else {
        return Value::Null;
    };
    match (&column.target, node) {
        (Target::Id, Node::Rec(r)) => Value::String(r.id.to_string()),
        (Target::Id, Node::User(u)) | (Target::UserKey("id"), Node::User(u)) => {
            Value::String(u.id.to_string())
        }
        (Target::UserKey(k), Node::User(u)) => u.value.get(*k).cloned().unwrap_or(Value::Null),
        (Target::Field(f), Node::Rec(r)) => {
            let Some(value) = r.value.get(f.api_name) else {
                return Value::Null;
            };
            match f.data_type {
                DataType::Lookup => match lookup_id(value) {
                    Some(id) => {
                        let name = f
                            .lookup
                            .map_or(Value::Null, |m| store.display_name(meta, m, id));
                        json!({"name": name, "id": id.to_string()})
                    }
                    None => Value::Null,
                },
                DataType::OwnerLookup => match lookup_id(value) {
                    Some(id) => {
                        let name = store
                            .users
                            .get(&id)
                            .and_then(|u| u.value.get("last_name").cloned())
                            .unwrap_or(Value::Null);
                        json!({"name": name, "id": id.to_string()})
                    }
                    None => Value::Null,
                },
                _ => value.clone(),
            }
        }
        _ => Value::Null,
    }
}

/// A column's value as a bulk read CSV cell: lookups as their id, multi-select
/// values joined with `;`, booleans `true`/`false`, null as empty.
pub(crate) fn csv_value(store: &Store, record: &Record, column: &Column) -> String {
    let Some(node) = walk(store, record, column) else {
        return String::new();
    };
    let value = match (&column.target, node) {
        (Target::Id, Node::Rec(r)) => return r.id.to_string(),
        (Target::Id, Node::User(u)) => return u.id.to_string(),
        (Target::UserKey(k), Node::User(u)) => {
            if *k == "id" {
                return u.id.to_string();
            }
            u.value.get(*k)
        }
        (Target::Field(f), Node::Rec(r)) => r.value.get(f.api_name),
        _ => None,
    };
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        Some(v @ Value::Object(_)) => lookup_id(v).map(|id| id.to_string()).unwrap_or_default(),
    }
}

/// A raw literal from a query or a criteria object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawLit {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
}

impl RawLit {
    /// From a JSON criteria value.
    pub(crate) fn from_json(value: &Value) -> Self {
        match value {
            Value::String(s) => RawLit::Str(s.clone()),
            Value::Number(n) => RawLit::Num(n.to_string()),
            Value::Bool(b) => RawLit::Bool(*b),
            Value::Object(_) => {
                lookup_id(value).map_or(RawLit::Null, |id| RawLit::Num(id.to_string()))
            }
            _ => RawLit::Null,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            RawLit::Str(s) | RawLit::Num(s) => Some(s),
            _ => None,
        }
    }
}

/// A typed literal.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Id(u64),
    Num(f64),
    Big(i128),
    Text(String),
    Bool(bool),
    Time(i64),
    Date(String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
    Between,
    NotBetween,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Like => "like",
            CmpOp::NotLike => "not like",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::IsNull => "is null",
            CmpOp::IsNotNull => "is not null",
            CmpOp::Between => "between",
            CmpOp::NotBetween => "not between",
        }
    }

    fn allowed_for(self, ty: ColType) -> bool {
        use CmpOp as O;
        match ty {
            ColType::TextArea => false,
            ColType::Text | ColType::Multi => matches!(
                self,
                O::Eq | O::Ne | O::Like | O::NotLike | O::In | O::NotIn | O::IsNull | O::IsNotNull
            ),
            ColType::Bool => matches!(self, O::Eq | O::Ne | O::IsNull | O::IsNotNull),
            ColType::Ref => matches!(
                self,
                O::Eq | O::Ne | O::In | O::NotIn | O::IsNull | O::IsNotNull
            ),
            ColType::Id | ColType::Num | ColType::Big | ColType::Date | ColType::Time => {
                !matches!(self, O::Like | O::NotLike)
            }
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub(crate) column: Column,
    pub(crate) op: CmpOp,
    values: Vec<Lit>,
    like: Vec<LikePattern>,
}

/// A compiled criteria tree.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cond(Cond),
}

#[derive(Debug, Clone)]
struct LikePattern {
    parts: Vec<String>,
    anchored_start: bool,
    anchored_end: bool,
}

impl LikePattern {
    fn new(pattern: &str) -> Self {
        let lower = pattern.to_lowercase();
        Self {
            anchored_start: !lower.starts_with('%'),
            anchored_end: !lower.ends_with('%'),
            parts: lower
                .split('%')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        if self.parts.is_empty() {
            return !(self.anchored_start && self.anchored_end) || text.is_empty();
        }
        let mut pos = 0;
        let last = self.parts.len() - 1;
        for (i, part) in self.parts.iter().enumerate() {
            if i == 0 && self.anchored_start {
                if !text.starts_with(part.as_str()) {
                    return false;
                }
                pos = part.len();
                if i == last && self.anchored_end {
                    return text.len() == part.len();
                }
                continue;
            }
            if i == last && self.anchored_end {
                return text.len() >= pos + part.len() && text.ends_with(part.as_str());
            }
            match text[pos..].find(part.as_str()) {
                Some(found) => pos += found + part.len(),
                None => return false,
            }
        }
        true
    }
}

fn typed(ty: ColType, raw: &RawLit, column: &str) -> Result<Lit, CompileError> {
    let bad = || CompileError::BadValue(column.to_owned());
    match ty {
        ColType::Id | ColType::Ref => raw
            .text()
            .and_then(|t| t.trim().parse().ok())
            .map(Lit::Id)
            .ok_or_else(bad),
        ColType::Num => raw
            .text()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .map(Lit::Num)
            .ok_or_else(bad),
        ColType::Big => raw
            .text()
            .and_then(|t| t.trim().parse().ok())
            .map(Lit::Big)
            .ok_or_else(bad),
        ColType::Text | ColType::Multi | ColType::TextArea => match raw {
            RawLit::Str(s) => Ok(Lit::Text(s.to_lowercase())),
            _ => Err(bad()),
        },
        ColType::Bool => match raw {
            RawLit::Bool(b) => Ok(Lit::Bool(*b)),
            RawLit::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            RawLit::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            _ => Err(bad()),
        },
        ColType::Date => match raw {
            RawLit::Str(s) if time::valid_date(s) => Ok(Lit::Date(s.clone())),
            _ => Err(bad()),
        },
        ColType::Time => match raw {
            RawLit::Str(s) => time::parse_datetime(s).map(Lit::Time).ok_or_else(bad),
            _ => Err(bad()),
        },
    }
}

/// Compiles one condition.
pub(crate) fn condition(
    column: Column,
    op: CmpOp,
    raw: &[RawLit],
    max_in: usize,
) -> Result<Cond, CompileError> {
    if !op.allowed_for(column.ty) {
        return Err(CompileError::BadOperator(column.key.clone(), op.symbol()));
    }
    if matches!(op, CmpOp::In | CmpOp::NotIn) && raw.len() > max_in {
        return Err(CompileError::TooManyValues(column.key.clone()));
    }
    let mut values = Vec::with_capacity(raw.len());
    let mut like = Vec::new();
    for r in raw {
        if matches!(op, CmpOp::Like | CmpOp::NotLike) {
            match r {
                RawLit::Str(s) => like.push(LikePattern::new(s)),
                _ => return Err(CompileError::BadValue(column.key.clone())),
            }
            continue;
        }
        values.push(typed(column.ty, r, &column.key)?);
    }
    Ok(Cond {
        column,
        op,
        values,
        like,
    })
}

fn compare(scalar: &Scalar<'_>, lit: &Lit) -> Option<Ordering> {
    match (scalar, lit) {
        (Scalar::Id(a), Lit::Id(b)) => Some(a.cmp(b)),
        (Scalar::Num(a), Lit::Num(b)) => a.partial_cmp(b),
        (Scalar::Big(a), Lit::Big(b)) => Some(a.cmp(b)),
        (Scalar::Text(a), Lit::Text(b)) => Some(a.to_lowercase().as_str().cmp(b.as_str())),
        (Scalar::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Scalar::Time(a), Lit::Time(b)) => Some(a.cmp(b)),
        (Scalar::Date(a), Lit::Date(b)) => Some((*a).cmp(b.as_str())),
        (Scalar::Multi(items), Lit::Text(b)) => {
            let hit = items
                .iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(b));
            Some(if hit { Ordering::Equal } else { Ordering::Less })
        }
        _ => None,
    }
}

impl Cond {
    fn eval(&self, store: &Store, record: &Record) -> bool {
        let s = scalar(store, record, &self.column);
        let is_null = match s {
            Scalar::Null => true,
            Scalar::Multi(items) => items.is_empty(),
            _ => false,
        };
        match self.op {
            CmpOp::IsNull => return is_null,
            CmpOp::IsNotNull => return !is_null,
            _ if is_null => return false,
            _ => {}
        }
        let first = self.values.first();
        let cmp = |lit: Option<&Lit>| lit.and_then(|l| compare(&s, l));
        match self.op {
            CmpOp::Eq => cmp(first) == Some(Ordering::Equal),
            CmpOp::Ne => cmp(first).is_some_and(|o| o != Ordering::Equal),
            CmpOp::Gt => cmp(first) == Some(Ordering::Greater),
            CmpOp::Ge => cmp(first).is_some_and(|o| o != Ordering::Less),
            CmpOp::Lt => cmp(first) == Some(Ordering::Less),
            CmpOp::Le => cmp(first).is_some_and(|o| o != Ordering::Greater),
            CmpOp::In => self
                .values
                .iter()
                .any(|l| compare(&s, l) == Some(Ordering::Equal)),
            CmpOp::NotIn => self
                .values
                .iter()
                .all(|l| compare(&s, l).is_some_and(|o| o != Ordering::Equal)),
            CmpOp::Between | CmpOp::NotBetween => {
                let inside = cmp(self.values.first()).is_some_and(|o| o != Ordering::Less)
                    && cmp(self.values.get(1)).is_some_and(|o| o != Ordering::Greater);
                inside == (self.op == CmpOp::Between)
            }
            CmpOp::Like | CmpOp::NotLike => {
                let hit = match s {
                    Scalar::Text(t) => self.like.iter().any(|p| p.matches(t)),
                    Scalar::Multi(items) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|t| self.like.iter().any(|p| p.matches(t))),
                    _ => false,
                };
                hit == (self.op == CmpOp::Like)
            }
            CmpOp::IsNull | CmpOp::IsNotNull => false,
        }
    }

    /// For an ordered scan on `sort`: the smallest (ascending) or largest
    /// (descending) sort key this condition allows, when it bounds that column.
    fn bound(&self, sort: SortBy, asc: bool) -> Option<(i64, u64)> {
        if self.column.sort_index() != Some(sort) {
            return None;
        }
        let key = |lit: &Lit, up: bool, strict: bool| -> Option<(i64, u64)> {
            match (sort, lit) {
                (SortBy::Id, Lit::Id(v)) => {
                    let v = match (up, strict) {
                        (false, true) => v.checked_add(1)?,
                        (true, true) => v.checked_sub(1)?,
                        _ => *v,
                    };
                    Some((0, v))
                }
                (SortBy::Created | SortBy::Modified, Lit::Time(t)) => Some(match (up, strict) {
                    (false, true) => (t + 1, 0),
                    (false, false) => (*t, 0),
                    (true, true) => (t - 1, u64::MAX),
                    (true, false) => (*t, u64::MAX),
                }),
                _ => None,
            }
        };
        let first = self.values.first()?;
        match (self.op, asc) {
            (CmpOp::Gt, true) => key(first, false, true),
            (CmpOp::Ge | CmpOp::Eq | CmpOp::Between, true) => key(first, false, false),
            (CmpOp::Lt, false) => key(first, true, true),
            (CmpOp::Le | CmpOp::Eq, false) => key(first, true, false),
            (CmpOp::Between, false) => key(self.values.get(1)?, true, false),
            _ => None,
        }
    }
}

impl Expr {
    pub(crate) fn eval(&self, store: &Store, record: &Record) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.eval(store, record)),
            Expr::Or(items) => items.iter().any(|e| e.eval(store, record)),
            Expr::Cond(c) => c.eval(store, record),
        }
    }

    /// How many conditions the tree holds.
    pub(crate) fn conditions(&self) -> usize {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().map(Expr::conditions).sum(),
            Expr::Cond(_) => 1,
        }
    }

    /// The tightest start (ascending) or end (descending) key for an ordered scan,
    /// from conditions that must all hold (top-level `and`).
    pub(crate) fn scan_bound(&self, sort: SortBy, asc: bool) -> Option<(i64, u64)> {
        match self {
            Expr::Cond(c) => c.bound(sort, asc),
            Expr::And(items) => {
                let bounds = items.iter().filter_map(|e| e.scan_bound(sort, asc));
                if asc { bounds.max() } else { bounds.min() }
            }
            Expr::Or(_) => None,
        }
    }
}

/// An order-by key of one record, comparable across records.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(crate) enum SortVal {
    Null,
    Num(f64),
    Int(i128),
    Text(String),
}

pub(crate) fn sort_value(store: &Store, record: &Record, column: &Column) -> SortVal {
    match scalar(store, record, column) {
        Scalar::Null => SortVal::Null,
        Scalar::Id(v) => SortVal::Int(i128::from(v)),
        Scalar::Num(v) => SortVal::Num(v),
        Scalar::Big(v) => SortVal::Int(v),
        Scalar::Text(t) | Scalar::Date(t) => SortVal::Text(t.to_lowercase()),
        Scalar::Bool(b) => SortVal::Int(i128::from(b)),
        Scalar::Time(t) => SortVal::Int(i128::from(t)),
        Scalar::Multi(items) => SortVal::Text(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(";")
                .to_lowercase(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(LikePattern::new("%son").matches("Jackson"));
        assert!(!LikePattern::new("%son").matches("Sonny"));
        assert!(LikePattern::new("Son%").matches("Sonny"));
        assert!(LikePattern::new("%ck%").matches("Jackson"));
        assert!(LikePattern::new("J%n").matches("Jackson"));
        assert!(!LikePattern::new("J%x").matches("Jackson"));
        assert!(LikePattern::new("jackson").matches("JACKSON"));
        assert!(!LikePattern::new("jack").matches("jackson"));
    }
}
