//! A small SOQL parser and evaluator: what Bulk API 2.0 query jobs accept (field
//! lists with parent relationship paths, WHERE with comparisons, LIKE, IN, AND, OR,
//! NOT and parentheses, date literals, ORDER BY, LIMIT), and the errors for what they
//! refuse (GROUP BY, OFFSET, aggregate functions, TYPEOF, subqueries, FIELDS()).

use std::cmp::Ordering;

use chrono::{Datelike, Duration as ChronoDuration, NaiveDate};
use rust_decimal::Decimal;

use super::error::ApiError;
use super::schema::{FieldType, Schema};
use super::store::{
    Store, format_datetime, is_deleted, normalize_id, now, parse_date, parse_datetime,
    parse_decimal,
};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    col: usize,
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "MALFORMED_QUERY", message)
}

fn at(soql: &str, col: usize, message: &str) -> String {
    let line = soql.replace(['\n', '\r'], " ");
    format!(
        "\n{line}\n{:>width$}\nERROR at Row:1:Column:{col}\n{message}",
        "^",
        width = col.max(1)
    )
}

fn tokenize(soql: &str) -> Result<Vec<Token>, ApiError> {
    let chars: Vec<char> = soql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err(malformed(at(
                        soql,
                        col,
                        "unexpected end of query: unterminated string",
                    )));
                };
                i += 1;
                match c {
                    '\'' => break,
                    '\\' => {
                        let e = chars.get(i).copied().unwrap_or('\\');
                        i += 1;
                        s.push(match e {
                            'n' => '\n',
                            'r' => '\r',
                            't' => '\t',
                            'b' => '\u{8}',
                            'f' => '\u{c}',
                            other => other,
                        });
                    }
                    other => s.push(other),
                }
            }
            out.push(Token {
                tok: Tok::Str(s),
                col,
            });
        } else if c.is_ascii_digit()
            || (c == '-' || c == '+') && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | ':' | '+' | '-'))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Num(chars[start..i].iter().collect()),
                col,
            });
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | ':'))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                col,
            });
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "!=" => Some("!="),
                "<>" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Token {
                    tok: Tok::Sym(s),
                    col,
                });
                i += 2;
                continue;
            }
            let one = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => {
                    return Err(malformed(at(
                        soql,
                        col,
                        &format!("unexpected token: '{c}'"),
                    )));
                }
            };
            out.push(Token {
                tok: Tok::Sym(one),
                col,
            });
            i += 1;
        }
    }
    Ok(out)
}

/// A field, possibly through parent relationships: `Account.Owner.Name`.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// The header name: relationship and field names as the schema spells them.
    pub(crate) name: String,
    /// Reference fields to follow, each on the object reached so far.
    hops: Vec<(usize, usize)>,
    /// The object and field the path ends at.
    pub(crate) object: usize,
    pub(crate) field: usize,
    pub(crate) ftype: FieldType,
}

impl Path {
    /// The value of this path for a record, or `None` for null.
    pub(crate) fn value<'s>(
        &self,
        store: &'s Store,
        schema: &Schema,
        object: usize,
        slot: usize,
    ) -> Option<&'s str> {
        let mut row = store.row(object, slot)?;
        for (_, field) in &self.hops {
            let id = row[*field].as_deref()?;
            let (o, s) = store.locate(schema, id)?;
            row = store.row(o, s)?;
        }
        row[self.field].as_deref()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Null,
    Bool(bool),
    Str(String),
    Num(Decimal),
    Date(NaiveDate),
    DateTime(String),
    /// A date literal like TODAY: the dates from the first (inclusive) to the second
    /// (exclusive).
    Range(NaiveDate, NaiveDate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Path, Op, Lit),
    In(Path, Vec<Lit>, bool),
    Like(Path, String, bool),
}

/// A parsed query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) object: usize,
    pub(crate) fields: Vec<Path>,
    filter: Option<Expr>,
    order: Vec<(Path, bool, bool)>,
    limit: Option<usize>,
}

struct Parser<'a> {
    soql: &'a str,
    toks: Vec<Token>,
    pos: usize,
    schema: &'a Schema,
    object: usize,
}

fn is_kw(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(s), .. }) if s.eq_ignore_ascii_case(kw))
}

const AGGREGATES: [&str; 7] = [
    "COUNT",
    "COUNT_DISTINCT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "GROUPING",
];

fn restriction(message: &str) -> ApiError {
    ApiError::new(400, "API_ERROR", message)
}

/// Parses `soql` against the schema.
pub(crate) fn parse(soql: &str, schema: &Schema) -> Result<Query, ApiError> {
    let toks = tokenize(soql)?;
    let mut p = Parser {
        soql,
        toks,
        pos: 0,
        schema,
        object: 0,
    };
    p.query()
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.soql.chars().count() + 1, |t| t.col)
    }

    fn unexpected(&self) -> ApiError {
        match self.peek() {
            Some(t) => {
                let text = match &t.tok {
                    Tok::Ident(s) | Tok::Num(s) => s.clone(),
                    Tok::Str(s) => format!("'{s}'"),
                    Tok::Sym(s) => (*s).to_owned(),
                };
                malformed(at(self.soql, t.col, &format!("unexpected token: '{text}'")))
            }
            None => malformed(at(self.soql, self.col(), "unexpected end of query")),
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Token { tok: Tok::Sym(s), .. }) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn query(&mut self) -> Result<Query, ApiError> {
        if !self.eat_kw("SELECT") {
            return Err(self.unexpected());
        }
        let mut names: Vec<(String, usize)> = Vec::new();
        loop {
            if self.eat_sym("(") {
                return Err(restriction(
                    "Aggregate Relationships not supported in Bulk Query",
                ));
            }
            if is_kw(self.peek(), "TYPEOF") {
                return Err(restriction("TYPEOF is not supported in Bulk Query"));
            }
            let Some(Token {
                tok: Tok::Ident(name),
                col,
            }) = self.next()
            else {
                self.pos -= 1;
                return Err(self.unexpected());
            };
            if matches!(
                self.peek(),
                Some(Token {
                    tok: Tok::Sym("("),
                    ..
                })
            ) {
                let upper = name.to_ascii_uppercase();
                if AGGREGATES.contains(&upper.as_str()) {
                    return Err(restriction(
                        "Aggregate queries are not supported in Bulk Query",
                    ));
                }
                if upper == "FIELDS" {
                    return Err(restriction("FIELDS() is not supported in Bulk Query"));
                }
                return Err(malformed(at(
                    self.soql,
                    col,
                    &format!("function {name} is not supported"),
                )));
            }
            if name.eq_ignore_ascii_case("FROM") {
                self.pos -= 1;
                return Err(self.unexpected());
            }
            names.push((name, col));
            if !self.eat_sym(",") {
                break;
            }
        }
        if !self.eat_kw("FROM") {
            return Err(self.unexpected());
        }
        let Some(Token {
            tok: Tok::Ident(object),
            col,
        }) = self.next()
        else {
            self.pos -= 1;
            return Err(self.unexpected());
        };
        self.object = self.schema.object(&object).ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_TYPE",
                at(
                    self.soql,
                    col,
                    &format!(
                        "sObject type '{object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
                    ),
                ),
            )
        })?;
        let mut fields: Vec<Path> = Vec::new();
        for (name, col) in &names {
            let path = self.path(name, *col)?;
            if fields
                .iter()
                .any(|f| f.name.eq_ignore_ascii_case(&path.name))
            {
                return Err(malformed(at(
                    self.soql,
                    *col,
                    &format!("duplicate field selected: {}", path.name),
                )));
            }
            fields.push(path);
        }
        // An alias after the object name is allowed.
        if let Some(Token {
            tok: Tok::Ident(s), ..
        }) = self.peek()
            && ![
                "WHERE", "ORDER", "LIMIT", "GROUP", "OFFSET", "WITH", "FOR", "USING", "HAVING",
            ]
            .iter()
            .any(|k| s.eq_ignore_ascii_case(k))
        {
            return Err(self.unexpected());
        }
        let filter = if self.eat_kw("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        if is_kw(self.peek(), "GROUP") || is_kw(self.peek(), "HAVING") {
            return Err(restriction("GROUP BY is not supported in Bulk Query"));
        }
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            if !self.eat_kw("BY") {
                return Err(self.unexpected());
            }
            loop {
                let Some(Token {
                    tok: Tok::Ident(name),
                    col,
                }) = self.next()
                else {
                    self.pos -= 1;
                    return Err(self.unexpected());
                };
                let path = self.path(&name, col)?;
                let asc = if self.eat_kw("DESC") {
                    false
                } else {
                    self.eat_kw("ASC");
                    true
                };
                let mut nulls_first = asc;
                if self.eat_kw("NULLS") {
                    if self.eat_kw("FIRST") {
                        nulls_first = true;
                    } else if self.eat_kw("LAST") {
                        nulls_first = false;
                    } else {
                        return Err(self.unexpected());
                    }
                }
                order.push((path, asc, nulls_first));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut limit = None;
        if self.eat_kw("LIMIT") {
            match self.next() {
                Some(Token {
                    tok: Tok::Num(n), ..
                }) => {
                    limit = Some(n.parse::<usize>().map_err(|_| {
                        malformed(at(
                            self.soql,
                            self.col(),
                            &format!("invalid LIMIT value: {n}"),
                        ))
                    })?);
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            }
        }
        if is_kw(self.peek(), "OFFSET") {
            return Err(restriction("OFFSET is not supported in Bulk Query"));
        }
        if self.peek().is_some() {
            return Err(self.unexpected());
        }
        Ok(Query {
            object: self.object,
            fields,
            filter,
            order,
            limit,
        })
    }

    fn path(&self, name: &str, col: usize) -> Result<Path, ApiError> {
        let mut parts: Vec<&str> = name.split('.').collect();
        let root = &self.schema.objects[self.object];
        if parts.len() > 1
            && parts[0].eq_ignore_ascii_case(&root.name)
            && root.relationship(parts[0]).is_none()
        {
            parts.remove(0);
        }
        let mut object = self.object;
        let mut hops = Vec::new();
        let mut display = Vec::new();
        let Some((last, rels)) = parts.split_last() else {
            return Err(malformed(at(self.soql, col, "empty field name")));
        };
        for rel in rels {
            let def = &self.schema.objects[object];
            let field = def.relationship(rel).ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_FIELD",
                    at(
                        self.soql,
                        col,
                        &format!(
                            "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                        ),
                    ),
                )
            })?;
            let f = &def.fields[field];
            display.push(f.relationship_name.clone().unwrap_or_default());
            hops.push((object, field));
            object = f
                .reference_to
                .as_deref()
                .and_then(|t| self.schema.object(t))
                .ok_or_else(|| malformed(at(self.soql, col, "unsupported relationship")))?;
        }
        let def = &self.schema.objects[object];
        let field = def.field(last).ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_FIELD",
                at(
                    self.soql,
                    col,
                    &format!(
                        "No such column '{last}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        def.name
                    ),
                ),
            )
        })?;
        display.push(def.fields[field].name.clone());
        Ok(Path {
            name: display.join("."),
            hops,
            object,
            field,
            ftype: def.fields[field].ftype,
        })
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.and()?];
        while self.eat_kw("OR") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.not()?];
        while self.eat_kw("AND") {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> Result<Expr, ApiError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.eat_sym("(") {
            let e = self.or()?;
            if !self.eat_sym(")") {
                return Err(self.unexpected());
            }
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, ApiError> {
        let Some(Token {
            tok: Tok::Ident(name),
            col,
        }) = self.next()
        else {
            self.pos -= 1;
            return Err(self.unexpected());
        };
        let path = self.path(&name, col)?;
        if self.eat_kw("LIKE") {
            let lit_col = self.col();
            return match self.next() {
                Some(Token {
                    tok: Tok::Str(s), ..
                }) => {
                    if !path.ftype.is_text() {
                        return Err(self.type_error(&path, lit_col));
                    }
                    Ok(Expr::Like(path, s, false))
                }
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected())
                }
            };
        }
        let negated = if is_kw(self.peek(), "NOT") && is_kw(self.toks.get(self.pos + 1), "IN") {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.eat_kw("IN") {
            if !self.eat_sym("(") {
                return Err(self.unexpected());
            }
            if is_kw(self.peek(), "SELECT") {
                return Err(restriction(
                    "Semi-join subqueries are not supported in Bulk Query",
                ));
            }
            let mut values = Vec::new();
            loop {
                let lit_col = self.col();
                let lit = self.literal()?;
                values.push(self.check(&path, lit, lit_col)?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            if !self.eat_sym(")") {
                return Err(self.unexpected());
            }
            return Ok(Expr::In(path, values, negated));
        }
        if is_kw(self.peek(), "INCLUDES") || is_kw(self.peek(), "EXCLUDES") {
            return Err(malformed(at(
                self.soql,
                self.col(),
                "INCLUDES and EXCLUDES apply to multi-select picklists only",
            )));
        }
        let op = match self.next() {
            Some(Token {
                tok: Tok::Sym(s), ..
            }) => match s {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            },
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        let lit_col = self.col();
        let lit = self.literal()?;
        if lit == Lit::Null && !matches!(op, Op::Eq | Op::Ne) {
            return Err(malformed(at(
                self.soql,
                lit_col,
                "null can only be compared with = or !=",
            )));
        }
        let lit = self.check(&path, lit, lit_col)?;
        Ok(Expr::Cmp(path, op, lit))
    }

    fn literal(&mut self) -> Result<Lit, ApiError> {
        let col = self.col();
        match self.next() {
            Some(Token {
                tok: Tok::Str(s), ..
            }) => Ok(Lit::Str(s)),
            Some(Token {
                tok: Tok::Num(n), ..
            }) => {
                if n.len() >= 10 && n.as_bytes().get(4) == Some(&b'-') {
                    if n.len() == 10 {
                        return parse_date(&n).map(Lit::Date).ok_or_else(|| {
                            malformed(at(
                                self.soql,
                                col,
                                &format!("line 1:{col} no viable alternative at character '{n}'"),
                            ))
                        });
                    }
                    return parse_datetime(&n)
                        .map(|d| Lit::DateTime(format_datetime(d)))
                        .ok_or_else(|| {
                            malformed(at(
                                self.soql,
                                col,
                                &format!("invalid date-time literal: {n}"),
                            ))
                        });
                }
                parse_decimal(&n)
                    .map(Lit::Num)
                    .ok_or_else(|| malformed(at(self.soql, col, &format!("invalid number: {n}"))))
            }
            Some(Token {
                tok: Tok::Ident(s), ..
            }) => {
                let upper = s.to_ascii_uppercase();
                match upper.as_str() {
                    "NULL" => return Ok(Lit::Null),
                    "TRUE" => return Ok(Lit::Bool(true)),
                    "FALSE" => return Ok(Lit::Bool(false)),
                    _ => {}
                }
                date_literal(&upper).ok_or_else(|| {
                    malformed(at(self.soql, col, &format!("unexpected token: '{s}'")))
                })
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn type_error(&self, path: &Path, col: usize) -> ApiError {
        let quoted = if path.ftype.is_text() || matches!(path.ftype, FieldType::Time) {
            "and should be enclosed in quotes"
        } else {
            "and should not be enclosed in quotes"
        };
        let tname = match path.ftype {
            FieldType::DateTime => "dateTime",
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
                "double"
            }
            other if other.is_text() => "string",
            other => other.name(),
        };
        ApiError::new(
            400,
            "INVALID_FIELD",
            at(
                self.soql,
                col,
                &format!(
                    "value of filter criterion for field '{}' must be of type {tname} {quoted}",
                    path.name
                ),
            ),
        )
    }

    /// Checks a literal against the field's type; normalizes ids.
    fn check(&self, path: &Path, lit: Lit, col: usize) -> Result<Lit, ApiError> {
        let ok = match (&lit, path.ftype) {
            (Lit::Null, _) => true,
            (Lit::Str(_), FieldType::Time) => true,
            (Lit::Str(s), FieldType::Id | FieldType::Reference) => {
                return Ok(Lit::Str(normalize_id(s).unwrap_or_else(|| s.clone())));
            }
            (Lit::Str(_), t) => t.is_text(),
            (Lit::Num(_), t) => t.is_numeric(),
            (Lit::Bool(_), t) => t == FieldType::Boolean,
            (Lit::Date(_), t) => t == FieldType::Date,
            (Lit::DateTime(_), t) => t == FieldType::DateTime,
            (Lit::Range(..), t) => matches!(t, FieldType::Date | FieldType::DateTime),
        };
        if ok {
            Ok(lit)
        } else {
            Err(self.type_error(path, col))
        }
    }
}

fn date_literal(upper: &str) -> Option<Lit> {
    let today = now().date_naive();
    let day = ChronoDuration::days(1);
    let (name, n) = match upper.split_once(':') {
        Some((name, n)) => (name, Some(n.parse::<i64>().ok()?)),
        None => (upper, None),
    };
    let (start, end) = match (name, n) {
        ("TODAY", None) => (today, today + day),
        ("YESTERDAY", None) => (today - day, today),
        ("TOMORROW", None) => (today + day, today + day + day),
        ("LAST_N_DAYS", Some(n)) => (today - ChronoDuration::days(n), today + day),
        ("NEXT_N_DAYS", Some(n)) => (today + day, today + day + ChronoDuration::days(n)),
        ("THIS_YEAR", None) => (
            NaiveDate::from_ymd_opt(today.year(), 1, 1)?,
            NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?,
        ),
        _ => return None,
    };
    Some(Lit::Range(start, end))
}

fn cmp_values(ftype: FieldType, a: &str, b: &str) -> Ordering {
    if ftype.is_numeric() {
        match (parse_decimal(a), parse_decimal(b)) {
            (Some(x), Some(y)) => return x.cmp(&y),
            _ => return a.cmp(b),
        }
    }
    if ftype.is_text() {
        return a.to_lowercase().cmp(&b.to_lowercase());
    }
    a.cmp(b)
}

fn like(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new();
    let mut chars = pattern
        .to_lowercase()
        .chars()
        .collect::<Vec<_>>()
        .into_iter();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(e) = chars.next() {
                p.push((e, true));
            }
        } else {
            p.push((c, false));
        }
    }
    // dp[j]: pattern prefix of length j matches the value prefix.
    let mut dp = vec![false; p.len() + 1];
    dp[0] = true;
    for j in 1..=p.len() {
        dp[j] = dp[j - 1] && p[j - 1] == ('%', false);
    }
    for ch in &v {
        let mut next = vec![false; p.len() + 1];
        for j in 1..=p.len() {
            next[j] = match p[j - 1] {
                ('%', false) => next[j - 1] || dp[j],
                ('_', false) => dp[j - 1],
                (c, _) => dp[j - 1] && c == *ch,
            };
        }
        dp = next;
    }
    dp[p.len()]
}

fn date_of(ftype: FieldType, v: &str) -> Option<NaiveDate> {
    match ftype {
        FieldType::Date => parse_date(v),
        FieldType::DateTime => parse_datetime(v).map(|d| d.date_naive()),
        _ => None,
    }
}

fn compare(ftype: FieldType, value: Option<&str>, op: Op, lit: &Lit) -> bool {
    let Some(v) = value else {
        return match (op, lit) {
            (Op::Eq, Lit::Null) => true,
            (Op::Ne, Lit::Null) => false,
            (Op::Ne, _) => true,
            _ => false,
        };
    };
    let ord = match lit {
        Lit::Null => return op == Op::Ne,
        Lit::Range(start, end) => {
            let Some(d) = date_of(ftype, v) else {
                return false;
            };
            let inside = d >= *start && d < *end;
            return match op {
                Op::Eq => inside,
                Op::Ne => !inside,
                Op::Lt => d < *start,
                Op::Le => d < *end,
                Op::Gt => d >= *end,
                Op::Ge => d >= *start,
            };
        }
        Lit::Str(s) => cmp_values(ftype, v, s),
        Lit::Num(n) => match parse_decimal(v) {
            Some(x) => x.cmp(n),
            None => return false,
        },
        Lit::Bool(b) => v.cmp(if *b { "true" } else { "false" }),
        Lit::Date(d) => match parse_date(v) {
            Some(x) => x.cmp(d),
            None => return false,
        },
        Lit::DateTime(s) => v.cmp(s.as_str()),
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

impl Expr {
    fn eval(&self, store: &Store, schema: &Schema, object: usize, slot: usize) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.eval(store, schema, object, slot)),
            Expr::Or(items) => items.iter().any(|e| e.eval(store, schema, object, slot)),
            Expr::Not(e) => !e.eval(store, schema, object, slot),
            Expr::Cmp(path, op, lit) => compare(
                path.ftype,
                path.value(store, schema, object, slot),
                *op,
                lit,
            ),
            Expr::In(path, lits, negated) => {
                let v = path.value(store, schema, object, slot);
                let found = lits.iter().any(|l| compare(path.ftype, v, Op::Eq, l));
                found != *negated
            }
            Expr::Like(path, pattern, negated) => {
                let m = path
                    .value(store, schema, object, slot)
                    .is_some_and(|v| like(v, pattern));
                m != *negated
            }
        }
    }
}

/// A predicate over one record (by slot) of a report's object.
pub(crate) type RowFilter = Box<dyn Fn(&Store, &Schema, usize) -> bool + Send + Sync>;

/// A runtime filter of a report: `field op value` on the report's object.
pub(crate) fn report_filter(
    schema: &Schema,
    object: usize,
    field: &str,
    operator: &str,
    value: &str,
) -> Result<RowFilter, ApiError> {
    let parser = Parser {
        soql: field,
        toks: Vec::new(),
        pos: 0,
        schema,
        object,
    };
    let path = parser.path(field, 1)?;
    let lit = if value.is_empty() {
        Lit::Null
    } else if path.ftype.is_numeric() {
        parse_decimal(value).map_or_else(|| Lit::Str(value.to_owned()), Lit::Num)
    } else if path.ftype == FieldType::Boolean {
        Lit::Bool(value.eq_ignore_ascii_case("true"))
    } else if path.ftype == FieldType::Date {
        parse_date(value).map_or_else(|| Lit::Str(value.to_owned()), Lit::Date)
    } else if path.ftype == FieldType::DateTime {
        parse_datetime(value).map_or_else(
            || Lit::Str(value.to_owned()),
            |d| Lit::DateTime(format_datetime(d)),
        )
    } else {
        Lit::Str(value.to_owned())
    };
    let expr = match operator {
        "equals" => Expr::Cmp(path, Op::Eq, lit),
        "notEqual" => Expr::Cmp(path, Op::Ne, lit),
        "lessThan" => Expr::Cmp(path, Op::Lt, lit),
        "greaterThan" => Expr::Cmp(path, Op::Gt, lit),
        "lessOrEqual" => Expr::Cmp(path, Op::Le, lit),
        "greaterOrEqual" => Expr::Cmp(path, Op::Ge, lit),
        "contains" => Expr::Like(path, format!("%{value}%"), false),
        "notContain" => Expr::Like(path, format!("%{value}%"), true),
        "startsWith" => Expr::Like(path, format!("{value}%"), false),
        other => {
            return Err(ApiError::new(
                400,
                "BAD_REQUEST",
                format!("The filter operator {other} is not supported."),
            ));
        }
    };
    Ok(Box::new(
        move |store: &Store, schema: &Schema, slot: usize| expr.eval(store, schema, object, slot),
    ))
}

impl Query {
    /// The slots of the matching records, in result order. `include_deleted` for
    /// `queryAll`.
    pub(crate) fn execute(
        &self,
        store: &Store,
        schema: &Schema,
        include_deleted: bool,
    ) -> Vec<usize> {
        let table = &store.tables[self.object];
        let mut out: Vec<usize> = table
            .slots
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.as_ref()
                    .is_some_and(|r| include_deleted || !is_deleted(r))
            })
            .map(|(i, _)| i)
            .filter(|i| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| f.eval(store, schema, self.object, *i))
            })
            .collect();
        if !self.order.is_empty() {
            out.sort_by(|a, b| {
                for (path, asc, nulls_first) in &self.order {
                    let va = path.value(store, schema, self.object, *a);
                    let vb = path.value(store, schema, self.object, *b);
                    let ord = match (va, vb) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => {
                            if *nulls_first {
                                Ordering::Less
                            } else {
                                Ordering::Greater
                            }
                        }
                        (Some(_), None) => {
                            if *nulls_first {
                                Ordering::Greater
                            } else {
                                Ordering::Less
                            }
                        }
                        (Some(x), Some(y)) => {
                            let o = cmp_values(path.ftype, x, y);
                            if *asc { o } else { o.reverse() }
                        }
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            });
        }
        if let Some(limit) = self.limit {
            out.truncate(limit);
        }
        out
    }

    /// The object's API name.
    pub(crate) fn object_name<'s>(&self, schema: &'s Schema) -> &'s str {
        &schema.objects[self.object].name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::default_org()
    }

    #[test]
    fn parses_fields_where_order_limit() {
        let s = schema();
        let q = parse(
            "SELECT Id, name, Account.Name FROM Contact WHERE (LastName LIKE 'Sm%' OR Email != null) AND NOT DoNotCall = true ORDER BY LastName DESC NULLS LAST LIMIT 10",
            &s,
        )
        .unwrap();
        assert_eq!(
            q.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["Id", "Name", "Account.Name"]
        );
        assert_eq!(q.limit, Some(10));
    }

    #[test]
    fn refuses_what_bulk_refuses() {
        let s = schema();
        for soql in [
            "SELECT COUNT() FROM Account",
            "SELECT Name FROM Account GROUP BY Name",
            "SELECT Name FROM Account LIMIT 5 OFFSET 5",
            "SELECT Name, (SELECT Id FROM Contacts) FROM Account",
            "SELECT TYPEOF Owner WHEN User THEN Name END FROM Account",
            "SELECT FIELDS(ALL) FROM Account",
        ] {
            let e = parse(soql, &s).unwrap_err();
            assert_eq!(e.code, "API_ERROR", "{soql}");
        }
        assert_eq!(
            parse("SELECT Foo FROM Account", &s).unwrap_err().code,
            "INVALID_FIELD"
        );
        assert_eq!(
            parse("SELECT Id FROM Nope", &s).unwrap_err().code,
            "INVALID_TYPE"
        );
        assert_eq!(
            parse("SELECT Id Account", &s).unwrap_err().code,
            "MALFORMED_QUERY"
        );
        assert_eq!(
            parse("SELECT Id FROM Account WHERE AnnualRevenue = 'x'", &s)
                .unwrap_err()
                .code,
            "INVALID_FIELD"
        );
    }

    #[test]
    fn like_patterns() {
        assert!(like("Smith", "sm%"));
        assert!(like("Smith", "%IT_"));
        assert!(!like("Smith", "x%"));
        assert!(like("50%", "50\\%"));
        assert!(!like("500", "50\\%"));
    }
}
