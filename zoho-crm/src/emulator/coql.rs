//! COQL: `POST /crm/v8/coql` with `{"select_query": "select ... from ... [where ...]
//! [order by ...] [limit [offset,] n | limit n offset m]"}`.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::criteria::{self, CmpOp, Column, CompileError, Expr, RawLit, SortVal};
use super::error::ApiError;
use super::meta::{Meta, ModuleMeta};
use super::oauth::Op;
use super::records::SortBy;
use super::server::{Req, Shared, empty_response, json_response, lock};
use super::store::{Record, Store};

/// Records per call.
pub(crate) const MAX_LIMIT: usize = 2000;
/// Records reachable with LIMIT/OFFSET.
pub(crate) const MAX_OFFSET_LIMIT: usize = 100_000;
const DEFAULT_LIMIT: usize = 200;
const MAX_COLUMNS: usize = 50;
const MAX_CRITERIA: usize = 25;
const MAX_ORDER_BY: usize = 10;
const MAX_IN_VALUES: usize = 50;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) => w.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Sym(s) => (*s).to_owned(),
        }
    }
}

fn syntax(clause: &str, near: &str) -> ApiError {
    ApiError::new(
        400,
        "SYNTAX_ERROR",
        "error occurred while parsing the query",
        json!({"clause": clause, "near": near}),
    )
}

fn invalid_query(message: &str, details: Value) -> ApiError {
    ApiError::new(400, "INVALID_QUERY", message, details)
}

fn lex(query: &str) -> Result<Vec<Tok>, ApiError> {
    let chars: Vec<char> = query.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(syntax("where", "'")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            toks.push(Tok::Str(s));
            continue;
        }
        let negative_number = c == '-'
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && !matches!(
                toks.last(),
                Some(Tok::Word(_) | Tok::Num(_) | Tok::Str(_)) | Some(Tok::Sym(")"))
            );
        if c.is_ascii_digit() || negative_number {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            toks.push(Tok::Num(chars[start..i].iter().collect()));
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$' | '.'))
            {
                i += 1;
            }
            toks.push(Tok::Word(chars[start..i].iter().collect()));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let sym = match two.as_str() {
            "!=" => Some("!="),
            "<>" => Some("!="),
            ">=" => Some(">="),
            "<=" => Some("<="),
            _ => None,
        };
        if let Some(sym) = sym {
            toks.push(Tok::Sym(sym));
            i += 2;
            continue;
        }
        let sym = match c {
            '(' => "(",
            ')' => ")",
            ',' => ",",
            '=' => "=",
            '>' => ">",
            '<' => "<",
            '*' => "*",
            ';' => ";",
            other => return Err(syntax("select", &other.to_string())),
        };
        toks.push(Tok::Sym(sym));
        i += 1;
    }
    Ok(toks)
}

/// The parsed (not yet resolved) query.
#[derive(Debug, Clone)]
struct Parsed {
    columns: Vec<(String, Option<String>)>,
    module: String,
    filter: Option<Ast>,
    order: Vec<(String, bool)>,
    limit: Option<usize>,
    offset: Option<usize>,
}

#[derive(Debug, Clone)]
enum Ast {
    And(Box<Ast>, Box<Ast>),
    Or(Box<Ast>, Box<Ast>),
    Cmp {
        column: String,
        op: CmpOp,
        values: Vec<RawLit>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

const KEYWORDS: &[&str] = &[
    "select", "from", "where", "and", "or", "not", "like", "in", "is", "null", "between", "order",
    "by", "asc", "desc", "limit", "offset", "as", "group",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn near(&self) -> String {
        self.peek()
            .map_or_else(|| "end of query".to_owned(), Tok::text)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str, clause: &str) -> Result<(), ApiError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(syntax(clause, &self.near()))
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A column: a word that is not a keyword, or a quoted name.
    fn column(&mut self, clause: &str) -> Result<String, ApiError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&w)) => {
                self.pos += 1;
                if matches!(self.peek(), Some(Tok::Sym("("))) {
                    return Err(invalid_query(
                        "aggregate and other functions are not supported by the emulator",
                        json!({"clause": clause, "near": w}),
                    ));
                }
                Ok(w)
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(syntax(clause, &self.near())),
        }
    }

    fn literal(&mut self) -> Result<RawLit, ApiError> {
        let lit = match self.peek().cloned() {
            Some(Tok::Str(s)) => RawLit::Str(s),
            Some(Tok::Num(n)) => RawLit::Num(n),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => RawLit::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => RawLit::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => RawLit::Null,
            _ => return Err(syntax("where", &self.near())),
        };
        self.pos += 1;
        Ok(lit)
    }

    fn list(&mut self) -> Result<Vec<RawLit>, ApiError> {
        if !self.eat_sym("(") {
            return Err(syntax("where", &self.near()));
        }
        let mut values = vec![self.literal()?];
        while self.eat_sym(",") {
            values.push(self.literal()?);
        }
        if !self.eat_sym(")") {
            return Err(syntax("where", &self.near()));
        }
        Ok(values)
    }

    fn comparison(&mut self) -> Result<Ast, ApiError> {
        let column = self.column("where")?;
        let (op, values) = if self.eat_sym("=") {
            (CmpOp::Eq, vec![self.literal()?])
        } else if self.eat_sym("!=") {
            (CmpOp::Ne, vec![self.literal()?])
        } else if self.eat_sym(">=") {
            (CmpOp::Ge, vec![self.literal()?])
        } else if self.eat_sym("<=") {
            (CmpOp::Le, vec![self.literal()?])
        } else if self.eat_sym(">") {
            (CmpOp::Gt, vec![self.literal()?])
        } else if self.eat_sym("<") {
            (CmpOp::Lt, vec![self.literal()?])
        } else if self.eat_kw("like") {
            (CmpOp::Like, vec![self.literal()?])
        } else if self.eat_kw("in") {
            (CmpOp::In, self.list()?)
        } else if self.eat_kw("between") {
            let low = self.literal()?;
            self.expect_kw("and", "where")?;
            (CmpOp::Between, vec![low, self.literal()?])
        } else if self.eat_kw("is") {
            if self.eat_kw("not") {
                self.expect_kw("null", "where")?;
                (CmpOp::IsNotNull, Vec::new())
            } else {
                self.expect_kw("null", "where")?;
                (CmpOp::IsNull, Vec::new())
            }
        } else if self.eat_kw("not") {
            if self.eat_kw("like") {
                (CmpOp::NotLike, vec![self.literal()?])
            } else if self.eat_kw("in") {
                (CmpOp::NotIn, self.list()?)
            } else if self.eat_kw("between") {
                let low = self.literal()?;
                self.expect_kw("and", "where")?;
                (CmpOp::NotBetween, vec![low, self.literal()?])
            } else {
                return Err(syntax("where", &self.near()));
            }
        } else {
            return Err(syntax("where", &self.near()));
        };
        Ok(Ast::Cmp { column, op, values })
    }

    fn operand(&mut self) -> Result<Ast, ApiError> {
        if self.eat_sym("(") {
            let inner = self.expr()?;
            if !self.eat_sym(")") {
                return Err(syntax("where", &self.near()));
            }
            return Ok(inner);
        }
        self.comparison()
    }

    /// `operand [(and|or) operand]`: like Zoho, more than two criteria at one level
    /// must be grouped with parentheses (`(A and B) and C`).
    fn expr(&mut self) -> Result<Ast, ApiError> {
        let left = self.operand()?;
        let combined = if self.eat_kw("and") {
            Ast::And(Box::new(left), Box::new(self.operand()?))
        } else if self.eat_kw("or") {
            Ast::Or(Box::new(left), Box::new(self.operand()?))
        } else {
            return Ok(left);
        };
        if self.is_kw("and") || self.is_kw("or") {
            return Err(syntax("where", &self.near()));
        }
        Ok(combined)
    }

    fn number(&mut self, clause: &str) -> Result<usize, ApiError> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                n.parse().map_err(|_| syntax(clause, &n))
            }
            _ => Err(syntax(clause, &self.near())),
        }
    }

    fn query(&mut self) -> Result<Parsed, ApiError> {
        if !self.eat_kw("select") {
            return Err(syntax("select", &self.near()));
        }
        if matches!(self.peek(), Some(Tok::Sym("*"))) {
            return Err(syntax("select", "*"));
        }
        let mut columns = Vec::new();
        loop {
            let column = self.column("select")?;
            let alias = if self.eat_kw("as") {
                Some(self.column("select")?)
            } else {
                None
            };
            columns.push((column, alias));
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_kw("from", "from")?;
        let module = match self.peek().cloned() {
            Some(Tok::Word(w)) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&w)) => {
                self.pos += 1;
                w
            }
            _ => return Err(syntax("from", &self.near())),
        };
        let filter = if self.eat_kw("where") {
            Some(self.expr()?)
        } else {
            None
        };
        if self.is_kw("group") {
            return Err(invalid_query(
                "group by is not supported by the emulator",
                json!({"clause": "group by"}),
            ));
        }
        let mut order = Vec::new();
        if self.eat_kw("order") {
            self.expect_kw("by", "order by")?;
            loop {
                let column = self.column("order by")?;
                let asc = if self.eat_kw("desc") {
                    false
                } else {
                    self.eat_kw("asc");
                    true
                };
                order.push((column, asc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let (mut limit, mut offset) = (None, None);
        if self.eat_kw("limit") {
            let first = self.number("limit")?;
            if self.eat_sym(",") {
                offset = Some(first);
                limit = Some(self.number("limit")?);
            } else {
                limit = Some(first);
                if self.eat_kw("offset") {
                    offset = Some(self.number("offset")?);
                }
            }
        } else if self.eat_kw("offset") {
            offset = Some(self.number("offset")?);
            if self.eat_kw("limit") {
                limit = Some(self.number("limit")?);
            }
        }
        self.eat_sym(";");
        if self.pos < self.toks.len() {
            return Err(syntax("where", &self.near()));
        }
        Ok(Parsed {
            columns,
            module,
            filter,
            order,
            limit,
            offset,
        })
    }
}

fn compile_error(e: CompileError, clause: &str) -> ApiError {
    match e {
        CompileError::UnknownColumn(c) => invalid_query(
            "invalid column given",
            json!({"column_name": c, "clause": clause}),
        ),
        CompileError::TooManyRelations(c) => ApiError::limit_exceeded(
            "a maximum of two relations (joins) can be used in a query",
            json!({"column_name": c, "clause": clause, "limit": 2}),
        ),
        CompileError::BadValue(c) => invalid_query(
            "invalid value given for the column",
            json!({"column_name": c, "clause": clause}),
        ),
        CompileError::BadOperator(c, op) => invalid_query(
            "invalid operator found",
            json!({"column_name": c, "clause": clause, "operator": op}),
        ),
        CompileError::TooManyValues(c) => ApiError::limit_exceeded(
            "a maximum of 50 values can be given for in and not in",
            json!({"column_name": c, "clause": clause, "limit": MAX_IN_VALUES}),
        ),
    }
}

fn compile_ast(meta: &Meta, module: &ModuleMeta, ast: &Ast) -> Result<Expr, ApiError> {
    Ok(match ast {
        Ast::And(a, b) => Expr::And(vec![
            compile_ast(meta, module, a)?,
            compile_ast(meta, module, b)?,
        ]),
        Ast::Or(a, b) => Expr::Or(vec![
            compile_ast(meta, module, a)?,
            compile_ast(meta, module, b)?,
        ]),
        Ast::Cmp { column, op, values } => {
            let column =
                criteria::resolve(meta, module, column).map_err(|e| compile_error(e, "where"))?;
            if column.is_textarea() {
                return Err(invalid_query(
                    "multi-line fields cannot be used in criteria",
                    json!({"column_name": column.key, "clause": "where"}),
                ));
            }
            Expr::Cond(
                criteria::condition(column, *op, values, MAX_IN_VALUES)
                    .map_err(|e| compile_error(e, "where"))?,
            )
        }
    })
}

/// A resolved query, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    module: &'static str,
    columns: Vec<(Column, String)>,
    filter: Option<Expr>,
    order: Vec<(Column, bool)>,
    limit: usize,
    offset: usize,
}

fn compile(meta: &Meta, parsed: Parsed) -> Result<Query, ApiError> {
    let Some(module) = meta.module(&parsed.module) else {
        return Err(invalid_query(
            "invalid module given",
            json!({"clause": "from", "near": parsed.module}),
        ));
    };
    if parsed.columns.len() > MAX_COLUMNS {
        return Err(ApiError::limit_exceeded(
            "a maximum of 50 columns can be selected",
            json!({"clause": "select", "limit": MAX_COLUMNS}),
        ));
    }
    let mut columns: Vec<(Column, String)> = Vec::with_capacity(parsed.columns.len());
    for (path, alias) in &parsed.columns {
        let column =
            criteria::resolve(meta, module, path).map_err(|e| compile_error(e, "select"))?;
        let key = alias.clone().unwrap_or_else(|| column.key.clone());
        if columns
            .iter()
            .any(|(c, k)| c.key == column.key || *k == key)
        {
            return Err(ApiError::new(
                400,
                "DUPLICATE_DATA",
                "duplicate column given in select",
                json!({"column_name": path, "clause": "select"}),
            ));
        }
        columns.push((column, key));
    }
    let filter = match &parsed.filter {
        Some(ast) => Some(compile_ast(meta, module, ast)?),
        None => None,
    };
    if filter
        .as_ref()
        .is_some_and(|f| f.conditions() > MAX_CRITERIA)
    {
        return Err(ApiError::limit_exceeded(
            "a maximum of 25 criteria can be given in the where clause",
            json!({"clause": "where", "limit": MAX_CRITERIA}),
        ));
    }
    if parsed.order.len() > MAX_ORDER_BY {
        return Err(ApiError::limit_exceeded(
            "a maximum of 10 fields can be given in order by",
            json!({"clause": "order by", "limit": MAX_ORDER_BY}),
        ));
    }
    let mut order = Vec::with_capacity(parsed.order.len());
    for (path, asc) in &parsed.order {
        let by_alias = columns
            .iter()
            .find(|(_, k)| k == path)
            .map(|(c, _)| c.clone());
        let column = match by_alias {
            Some(c) => c,
            None => {
                criteria::resolve(meta, module, path).map_err(|e| compile_error(e, "order by"))?
            }
        };
        if order
            .iter()
            .any(|(c, _): &(Column, bool)| c.key == column.key)
        {
            return Err(ApiError::new(
                400,
                "DUPLICATE_DATA",
                "duplicate column given in order by",
                json!({"column_name": path, "clause": "order by"}),
            ));
        }
        order.push((column, *asc));
    }
    let limit = parsed.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = parsed.offset.unwrap_or(0);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::limit_exceeded(
            "the limit must be between 1 and 2000",
            json!({"clause": "limit", "limit": MAX_LIMIT}),
        ));
    }
    if offset + limit > MAX_OFFSET_LIMIT {
        return Err(ApiError::limit_exceeded(
            "Max records limit exceeded: offset + limit can be at most 100000",
            json!({"clause": "limit", "limit": MAX_OFFSET_LIMIT}),
        ));
    }
    Ok(Query {
        module: module.api_name,
        columns,
        filter,
        order,
        limit,
        offset,
    })
}

/// Parses and resolves a COQL query.
pub(crate) fn prepare(meta: &Meta, text: &str) -> Result<Query, ApiError> {
    let toks = lex(text)?;
    let parsed = Parser { toks, pos: 0 }.query()?;
    compile(meta, parsed)
}

/// Runs a query: the page of matching records and whether more match.
fn run<'s>(store: &'s Store, q: &Query) -> (Vec<&'s Record>, bool) {
    let Some(data) = store.module(q.module) else {
        return (Vec::new(), false);
    };
    let wanted = q.offset + q.limit + 1;
    let matches = |r: &&Record| q.filter.as_ref().is_none_or(|f| f.eval(store, r));
    let indexed = match q.order.as_slice() {
        [] => Some((SortBy::Id, true)),
        [(c, asc)] => c.sort_index().map(|s| (s, *asc)),
        _ => None,
    };
    let mut rows: Vec<&Record> = match indexed {
        Some((sort, asc)) => {
            let bound = q.filter.as_ref().and_then(|f| f.scan_bound(sort, asc));
            let (from, to) = if asc { (bound, None) } else { (None, bound) };
            super::records::ordered(data, sort, asc, None, from, to)
                .filter(matches)
                .take(wanted)
                .collect()
        }
        None => {
            let mut keyed: Vec<(Vec<SortVal>, &Record)> = data
                .records
                .values()
                .filter(matches)
                .map(|r| {
                    let keys = q
                        .order
                        .iter()
                        .map(|(c, _)| criteria::sort_value(store, r, c))
                        .collect();
                    (keys, r)
                })
                .collect();
            keyed.sort_by(|(a, ra), (b, rb)| {
                for (i, (_, asc)) in q.order.iter().enumerate() {
                    let ord = a[i].partial_cmp(&b[i]).unwrap_or(std::cmp::Ordering::Equal);
                    let ord = if *asc { ord } else { ord.reverse() };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                ra.id.cmp(&rb.id)
            });
            keyed.into_iter().take(wanted).map(|(_, r)| r).collect()
        }
    };
    let rows: Vec<&Record> = rows.drain(..).skip(q.offset).collect();
    let more = rows.len() > q.limit;
    (rows.into_iter().take(q.limit).collect(), more)
}

pub(crate) fn handle(shared: &Shared, req: &Req) -> Result<Response, ApiError> {
    req.need("coql", None, Op::Read)?;
    let body = req.json_body()?;
    let Some(text) = body.get("select_query").and_then(Value::as_str) else {
        return Err(ApiError::required_param("select_query"));
    };
    let meta = &shared.meta;
    let query = prepare(meta, text)?;
    req.need("modules", Some(query.module), Op::Read)?;
    let include_fields = match body.get("include_meta") {
        None | Some(Value::Null) => false,
        Some(Value::Array(items)) if items.iter().all(|v| v.as_str() == Some("fields")) => true,
        Some(_) => {
            return Err(invalid_query(
                "the value given in the include_meta key seems to be invalid",
                json!({"api_name": "include_meta"}),
            ));
        }
    };
    if include_fields {
        req.need("settings", Some("fields"), Op::Read)?;
    }
    let store = shared.read();
    let (rows, more) = run(&store, &query);
    if rows.is_empty() {
        return Ok(empty_response(204));
    }
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut row = Map::with_capacity(query.columns.len() + 1);
            for (column, key) in &query.columns {
                row.insert(key.clone(), criteria::output_value(meta, &store, r, column));
            }
            row.entry("id")
                .or_insert_with(|| Value::String(r.id.to_string()));
            Value::Object(row)
        })
        .collect();
    lock(&shared.stats).record_records(data.len());
    let mut response = json!({
        "data": data,
        "info": {"count": rows.len(), "more_records": more},
    });
    if include_fields && let Some(map) = response.as_object_mut() {
        let mut fields = Map::new();
        for (column, key) in &query.columns {
            if let Some(f) = column.field() {
                fields.insert(key.clone(), f.to_json(meta));
            }
        }
        map.insert("fields".to_owned(), Value::Object(fields));
    }
    Ok(json_response(200, &response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> (String, Value) {
        let meta = Meta::new();
        let e = prepare(&meta, q).unwrap_err();
        (e.code.to_owned(), e.details)
    }

    #[test]
    fn parses_and_rejects() {
        let meta = Meta::new();
        let q = prepare(
            &meta,
            "SELECT Last_Name, Email, Account_Name.Account_Name as acct from Contacts \
             where (Last_Name like 'Sm%' and Email is not null) or Created_Time >= '2024-01-01T00:00:00+05:30' \
             order by Modified_Time desc, id limit 10, 50",
        )
        .unwrap();
        assert_eq!(q.columns.len(), 3);
        assert_eq!(q.columns[2].1, "acct");
        assert_eq!((q.offset, q.limit), (10, 50));
        let q = prepare(
            &meta,
            "select id from Leads where id > '5725767000001000001' limit 5 offset 2",
        )
        .unwrap();
        assert_eq!((q.offset, q.limit), (2, 5));
        assert_eq!(
            prepare(&meta, "select Last_Name from Leads").unwrap().limit,
            200
        );

        assert_eq!(err("select * from Leads").0, "SYNTAX_ERROR");
        assert_eq!(err("update Leads set Last_Name = 'x'").0, "SYNTAX_ERROR");
        assert_eq!(err("select Last_Name Leads").0, "SYNTAX_ERROR");
        assert_eq!(
            err("select Last_Name from Leads where A = '1' and B = '2' and C = '3'").0,
            "SYNTAX_ERROR"
        );
        let (code, details) = err("select Nope from Leads");
        assert_eq!(code, "INVALID_QUERY");
        assert_eq!(details["column_name"], "Nope");
        assert_eq!(details["clause"], "select");
        assert_eq!(err("select Last_Name from Nowhere").0, "INVALID_QUERY");
        assert_eq!(
            err("select Last_Name from Leads where No_of_Employees = 'many'").0,
            "INVALID_QUERY"
        );
        assert_eq!(
            err("select Last_Name from Leads where Last_Name >= 'a'").0,
            "INVALID_QUERY"
        );
        assert_eq!(
            err("select Last_Name from Leads where Description = 'a'").0,
            "INVALID_QUERY"
        );
        assert_eq!(
            err("select Last_Name from Leads limit 2001").0,
            "LIMIT_EXCEEDED"
        );
        assert_eq!(
            err("select Last_Name from Leads limit 99000, 2000").0,
            "LIMIT_EXCEEDED"
        );
        assert_eq!(
            err("select Last_Name, Last_Name from Leads").0,
            "DUPLICATE_DATA"
        );
        let many: Vec<String> = meta
            .module("Leads")
            .unwrap()
            .fields
            .iter()
            .take(51)
            .map(|f| f.api_name.to_owned())
            .collect();
        assert_eq!(
            err(&format!("select {} from Leads", many.join(","))).0,
            "LIMIT_EXCEEDED"
        );
    }
}
