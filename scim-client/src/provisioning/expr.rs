//! Attribute-mapping expressions in Microsoft Entra's syntax:
//! `Join(" ", [givenName], [surname])`, `Switch([status], "False", "active", "True")`.
//!
//! An [`Expr`] is parsed once (argument counts and function names are checked then) and
//! evaluated against each source record, a JSON object of field name → value.
//!
//! # Syntax
//!
//! * `[field]` — a source attribute. Looked up by exact name, else ignoring ASCII case,
//!   else as a dotted path into nested objects (`[role.name]` reads
//!   `source["role"]["name"]`). A missing field is null.
//! * `"text"` — a string literal; `\"` is a quote and `\\` a backslash, any other
//!   backslash stays as it is (so `"\d"` is the two characters `\d`).
//! * `42`, `-1` — integer literals; `True` / `False` — boolean literals.
//! * `Function(arg, arg, ...)` — a call. Function names are case-sensitive, as in
//!   Entra. An argument may be left empty (`Switch([x], , "a", "b")`,
//!   `Replace([x], "_", , , "-", , )`): it evaluates to null.
//!
//! # Values
//!
//! Evaluation yields JSON values. Strings stay strings; where a function needs text a
//! boolean becomes `True` / `False` (Entra's spelling) and a number its digits; an
//! array or object given to a text function is an [`EvalError`]. Null means "no value"
//! and flows through most functions (`ToLower(null)` is null).
//!
//! # Functions
//!
//! | Function | Result |
//! |---|---|
//! | `Append(source, suffix)` | `source` followed by `suffix`; null when `source` is null |
//! | `Coalesce(a, b, ...)` | the first argument that is neither null nor an empty string |
//! | `IIF(condition, whenTrue, whenFalse)` | `whenTrue` when `condition` is true; a null condition is false |
//! | `IsNull(x)` | whether `x` is null |
//! | `IsNullOrEmpty(x)` | whether `x` is null, `""` or an empty array |
//! | `IsPresent(x)` | `Not(IsNullOrEmpty(x))` |
//! | `Join(separator, a, b, ...)` | the non-null, non-empty values (arrays flattened) joined by `separator`; null when there are none |
//! | `Left(x, n)` | the first `n` characters of `x` |
//! | `Mid(x, start, length)` | `length` characters from `start` (1-based, as in Entra) |
//! | `Not(x)` | the negation of a boolean (JSON `true`/`false` or text `True`/`False`, any case); null stays null |
//! | `PCase(x[, separators])` | each word capitalised, the rest lower case; words split at whitespace or at any of `separators` |
//! | `Replace(source, oldValue, , , replacementValue, replacementAttribute, )` | every `oldValue` replaced; Entra's regex and template arguments are not supported (a parse error) |
//! | `StripSpaces(x)` | `x` without space characters |
//! | `Switch(source, default, key1, value1, ...)` | the value of the first key equal (case-sensitively, as text) to `source`, else `default` |
//! | `ToLower(x[, culture])`, `ToUpper(x[, culture])` | case conversion (Unicode; the culture is accepted and ignored) |
//! | `Word(x, n, delimiters)` | the `n`th (1-based) word of `x`, words separated by runs of any of `delimiters`; null when there is none |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// How deeply calls may nest; deeper input is a parse error rather than a stack overflow.
const MAX_DEPTH: usize = 64;

/// A function an [`Expr`] can call. Names are Entra's, case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `Append(source, suffix)`.
    Append,
    /// `Coalesce(a, b, ...)`.
    Coalesce,
    /// `IIF(condition, whenTrue, whenFalse)`.
    IIF,
    /// `IsNull(x)`.
    IsNull,
    /// `IsNullOrEmpty(x)`.
    IsNullOrEmpty,
    /// `IsPresent(x)`.
    IsPresent,
    /// `Join(separator, a, b, ...)`.
    Join,
    /// `Left(x, n)`.
    Left,
    /// `Mid(x, start, length)`.
    Mid,
    /// `Not(x)`.
    Not,
    /// `PCase(x[, separators])`.
    PCase,
    /// `Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
    /// replacementAttributeName, template)`, without the regex and template forms.
    Replace,
    /// `StripSpaces(x)`.
    StripSpaces,
    /// `Switch(source, default, key1, value1, ...)`.
    Switch,
    /// `ToLower(x[, culture])`.
    ToLower,
    /// `ToUpper(x[, culture])`.
    ToUpper,
    /// `Word(x, n, delimiters)`.
    Word,
}

impl Function {
    /// Every function, in alphabetical order.
    pub const ALL: [Function; 17] = [
        Self::Append,
        Self::Coalesce,
        Self::IIF,
        Self::IsNull,
        Self::IsNullOrEmpty,
        Self::IsPresent,
        Self::Join,
        Self::Left,
        Self::Mid,
        Self::Not,
        Self::PCase,
        Self::Replace,
        Self::StripSpaces,
        Self::Switch,
        Self::ToLower,
        Self::ToUpper,
        Self::Word,
    ];

    /// The name as written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Self::Append => "Append",
            Self::Coalesce => "Coalesce",
            Self::IIF => "IIF",
            Self::IsNull => "IsNull",
            Self::IsNullOrEmpty => "IsNullOrEmpty",
            Self::IsPresent => "IsPresent",
            Self::Join => "Join",
            Self::Left => "Left",
            Self::Mid => "Mid",
            Self::Not => "Not",
            Self::PCase => "PCase",
            Self::Replace => "Replace",
            Self::StripSpaces => "StripSpaces",
            Self::Switch => "Switch",
            Self::ToLower => "ToLower",
            Self::ToUpper => "ToUpper",
            Self::Word => "Word",
        }
    }

    /// The function called `name` (case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether `n` arguments are accepted; the error text says what is expected.
    fn check_arity(self, n: usize) -> Result<(), String> {
        let (min, max, text) = match self {
            Self::Append => (2, Some(2), "2 arguments (source, suffix)"),
            Self::Coalesce => (1, None, "at least 1 argument"),
            Self::IIF => (3, Some(3), "3 arguments (condition, whenTrue, whenFalse)"),
            Self::IsNull | Self::IsNullOrEmpty | Self::IsPresent | Self::Not => {
                (1, Some(1), "1 argument")
            }
            Self::StripSpaces => (1, Some(1), "1 argument"),
            Self::Join => (2, None, "at least 2 arguments (separator, value, ...)"),
            Self::Left => (2, Some(2), "2 arguments (source, count)"),
            Self::Mid => (3, Some(3), "3 arguments (source, start, length)"),
            Self::PCase => (1, Some(2), "1 or 2 arguments (source[, separators])"),
            Self::Replace => (
                7,
                Some(7),
                "7 arguments (source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
            ),
            Self::Switch => (
                4,
                None,
                "an even number of at least 4 arguments (source, default, key, value, ...)",
            ),
            Self::ToLower | Self::ToUpper => (1, Some(2), "1 or 2 arguments (source[, culture])"),
            Self::Word => (3, Some(3), "3 arguments (source, number, delimiters)"),
        };
        let even_ok = self != Self::Switch || n.is_multiple_of(2);
        if n >= min && max.is_none_or(|m| n <= m) && even_ok {
            Ok(())
        } else {
            Err(text.to_owned())
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed expression: the syntax tree of Entra's expression language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `[field]`: a source attribute.
    Attribute(String),
    /// `"text"`: a string literal.
    Text(String),
    /// `42`: an integer literal.
    Integer(i64),
    /// `True` / `False`.
    Boolean(bool),
    /// An argument left empty (`Switch([x], , "a", "b")`); evaluates to null.
    Empty,
    /// `Function(args...)`.
    Call(Function, Vec<Expr>),
}

/// An expression that could not be parsed: where, what was expected and what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expression `{input}`: expected {expected} at {position}, found {found}")]
pub struct ExprError {
    /// The whole input.
    pub input: String,
    /// Character offset (0-based) of the problem in the input.
    pub position: usize,
    /// What the parser expected there.
    pub expected: String,
    /// What it found (`end` at the end of the input).
    pub found: String,
}

/// An expression that could not be evaluated against a record.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A function needing a boolean got something else.
    #[error("{function}: expected a boolean (True or False), found {value}")]
    NotBoolean {
        /// The function.
        function: Function,
        /// The value it got.
        value: Value,
    },
    /// A function needing an integer got something else.
    #[error("{function}: expected an integer, found {value}")]
    NotInteger {
        /// The function.
        function: Function,
        /// The value it got.
        value: Value,
    },
    /// A function needing text got an array or object.
    #[error("{function}: expected a single value, found {value}")]
    NotText {
        /// The function.
        function: Function,
        /// The value it got.
        value: Value,
    },
}

impl Expr {
    /// Parses an expression in Entra's syntax.
    pub fn parse(input: &str) -> Result<Expr, ExprError> {
        let mut parser = Parser {
            input,
            chars: input.chars().collect(),
            pos: 0,
        };
        parser.skip_ws();
        if parser.peek().is_none() {
            return Err(parser.error("an expression"));
        }
        let expr = parser.expr(0)?;
        parser.skip_ws();
        if parser.peek().is_some() {
            return Err(parser.error("end of expression"));
        }
        Ok(expr)
    }

    /// Every `[field]` the expression reads, in order of appearance (repeats included).
    pub fn attributes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_attributes(&mut out);
        out
    }

    fn collect_attributes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::Attribute(name) => out.push(name),
            Self::Call(_, args) => args.iter().for_each(|a| a.collect_attributes(out)),
            Self::Text(_) | Self::Integer(_) | Self::Boolean(_) | Self::Empty => {}
        }
    }

    /// Evaluates the expression against a source record.
    pub fn eval(&self, source: &Map<String, Value>) -> Result<Value, EvalError> {
        match self {
            Self::Attribute(name) => Ok(lookup(source, name).cloned().unwrap_or(Value::Null)),
            Self::Text(s) => Ok(Value::String(s.clone())),
            Self::Integer(n) => Ok(Value::from(*n)),
            Self::Boolean(b) => Ok(Value::Bool(*b)),
            Self::Empty => Ok(Value::Null),
            Self::Call(function, args) => call(*function, args, source),
        }
    }
}

impl FromStr for Expr {
    type Err = ExprError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Attribute(name) => write!(f, "[{name}]"),
            Self::Text(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Self::Integer(n) => write!(f, "{n}"),
            Self::Boolean(true) => f.write_str("True"),
            Self::Boolean(false) => f.write_str("False"),
            Self::Empty => Ok(()),
            Self::Call(function, args) => {
                write!(f, "{function}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Expr::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A field of a source record: exact name, else ASCII case-insensitive, else a dotted
/// path into nested objects (each step exact, then case-insensitive).
pub(crate) fn lookup<'a>(source: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = get_key(source, name) {
        return Some(v);
    }
    if !name.contains('.') {
        return None;
    }
    let mut parts = name.split('.');
    let mut current = get_key(source, parts.next()?)?;
    for part in parts {
        current = get_key(current.as_object()?, part)?;
    }
    Some(current)
}

fn get_key<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Text of a scalar: strings as they are, booleans `True`/`False`, numbers their
/// digits; `None` for null; arrays and objects are `Err`.
pub(crate) fn scalar_text(value: &Value) -> Result<Option<String>, ()> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Bool(true) => Ok(Some("True".to_owned())),
        Value::Bool(false) => Ok(Some("False".to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Array(_) | Value::Object(_) => Err(()),
    }
}

/// A boolean from JSON `true`/`false` or text `True`/`False` in any case.
pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn is_null_or_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn text(function: Function, value: &Value) -> Result<Option<String>, EvalError> {
    scalar_text(value).map_err(|()| EvalError::NotText {
        function,
        value: value.clone(),
    })
}

fn integer(function: Function, value: &Value) -> Result<Option<i64>, EvalError> {
    let bad = || EvalError::NotInteger {
        function,
        value: value.clone(),
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(bad),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn boolean(function: Function, value: &Value) -> Result<Option<bool>, EvalError> {
    if value.is_null() {
        return Ok(None);
    }
    as_bool(value)
        .map(Some)
        .ok_or_else(|| EvalError::NotBoolean {
            function,
            value: value.clone(),
        })
}

fn string_or_null(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

fn call(f: Function, args: &[Expr], source: &Map<String, Value>) -> Result<Value, EvalError> {
    let arg = |i: usize| -> Result<Value, EvalError> {
        args.get(i).map_or(Ok(Value::Null), |a| a.eval(source))
    };
    let text_arg = |i: usize| -> Result<Option<String>, EvalError> { text(f, &arg(i)?) };
    Ok(match f {
        Function::Append => match text_arg(0)? {
            None => Value::Null,
            Some(mut s) => {
                s.push_str(&text_arg(1)?.unwrap_or_default());
                Value::String(s)
            }
        },
        Function::Coalesce => {
            for a in args {
                let v = a.eval(source)?;
                if !is_null_or_empty(&v) {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Function::IIF => {
            if boolean(f, &arg(0)?)?.unwrap_or(false) {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Function::IsNull => Value::Bool(arg(0)?.is_null()),
        Function::IsNullOrEmpty => Value::Bool(is_null_or_empty(&arg(0)?)),
        Function::IsPresent => Value::Bool(!is_null_or_empty(&arg(0)?)),
        Function::Join => {
            let separator = text_arg(0)?.unwrap_or_default();
            let mut parts = Vec::new();
            for a in &args[1..] {
                match a.eval(source)? {
                    Value::Array(items) => {
                        for item in &items {
                            parts.extend(text(f, item)?.filter(|s| !s.is_empty()));
                        }
                    }
                    v => parts.extend(text(f, &v)?.filter(|s| !s.is_empty())),
                }
            }
            if parts.is_empty() {
                Value::Null
            } else {
                Value::String(parts.join(&separator))
            }
        }
        Function::Left => {
            let s = text_arg(0)?;
            let n = integer(f, &arg(1)?)?.unwrap_or(0).max(0);
            string_or_null(s.map(|s| s.chars().take(n as usize).collect()))
        }
        Function::Mid => {
            let s = text_arg(0)?;
            let start = integer(f, &arg(1)?)?.unwrap_or(1).max(1);
            let len = integer(f, &arg(2)?)?.unwrap_or(0).max(0);
            string_or_null(s.map(|s| {
                s.chars()
                    .skip((start - 1) as usize)
                    .take(len as usize)
                    .collect()
            }))
        }
        Function::Not => match boolean(f, &arg(0)?)? {
            None => Value::Null,
            Some(b) => Value::Bool(!b),
        },
        Function::PCase => {
            let separators = text_arg(1)?;
            string_or_null(text_arg(0)?.map(|s| pcase(&s, separators.as_deref())))
        }
        Function::Replace => match text_arg(0)? {
            None => Value::Null,
            Some(s) => {
                let old = text_arg(1)?.unwrap_or_default();
                let replacement = match text_arg(4)? {
                    Some(r) => Some(r),
                    None => text_arg(5)?,
                };
                match replacement {
                    Some(r) if !old.is_empty() => Value::String(s.replace(&old, &r)),
                    _ => Value::String(s),
                }
            }
        },
        Function::StripSpaces => string_or_null(text_arg(0)?.map(|s| s.replace(' ', ""))),
        Function::Switch => {
            let Some(key) = text_arg(0)? else {
                return arg(1);
            };
            for pair in args[2..].chunks(2) {
                if text(f, &pair[0].eval(source)?)?.as_deref() == Some(key.as_str()) {
                    return pair[1].eval(source);
                }
            }
            arg(1)?
        }
        Function::ToLower => string_or_null(text_arg(0)?.map(|s| s.to_lowercase())),
        Function::ToUpper => string_or_null(text_arg(0)?.map(|s| s.to_uppercase())),
        Function::Word => {
            let s = text_arg(0)?;
            let n = integer(f, &arg(1)?)?.unwrap_or(0);
            let delimiters: Vec<char> = text_arg(2)?.unwrap_or_default().chars().collect();
            match (s, usize::try_from(n)) {
                (Some(s), Ok(n)) if n >= 1 => string_or_null(
                    s.split(|c| delimiters.contains(&c))
                        .filter(|w| !w.is_empty())
                        .nth(n - 1)
                        .map(str::to_owned),
                ),
                _ => Value::Null,
            }
        }
    })
}

fn pcase(s: &str, separators: Option<&str>) -> String {
    let is_separator = |c: char| match separators {
        Some(seps) => seps.contains(c),
        None => c.is_whitespace(),
    };
    let mut out = String::with_capacity(s.len());
    let mut word_start = true;
    for c in s.chars() {
        if is_separator(c) {
            out.push(c);
            word_start = true;
        } else if word_start {
            out.extend(c.to_uppercase());
            word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

struct Parser<'a> {
    input: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "end".to_owned(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn error(&self, expected: &str) -> ExprError {
        self.error_at(self.pos, expected, self.found())
    }

    fn error_at(&self, position: usize, expected: &str, found: String) -> ExprError {
        ExprError {
            input: self.input.to_owned(),
            position,
            expected: expected.to_owned(),
            found,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ExprError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("`{c}`")))
        }
    }

    /// One expression; whitespace before it is skipped.
    fn expr(&mut self, depth: usize) -> Result<Expr, ExprError> {
        self.skip_ws();
        match self.peek() {
            Some('[') => self.attribute(),
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => self.integer(),
            Some(c) if c.is_alphabetic() || c == '_' => self.call_or_keyword(depth),
            _ => Err(self.error(
                "an expression (`[attribute]`, `\"text\"`, a number, True, False or a function call)",
            )),
        }
    }

    fn attribute(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        loop {
            match self.peek() {
                Some(']') => break,
                Some('[') => return Err(self.error("`]`")),
                Some(c) => name.push(c),
                None => return Err(self.error("`]`")),
            }
            self.pos += 1;
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(self.error_at(start + 1, "an attribute name", self.found()));
        }
        self.pos += 1;
        Ok(Expr::Attribute(name.to_owned()))
    }

    fn string(&mut self) -> Result<Expr, ExprError> {
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("`\"` closing the string")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(Expr::Text(s));
                }
                Some('\\') => {
                    match self.chars.get(self.pos + 1) {
                        Some(&c @ ('"' | '\\')) => {
                            s.push(c);
                            self.pos += 1;
                        }
                        _ => s.push('\\'),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn integer(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits.parse().map(Expr::Integer).map_err(|_| {
            self.error_at(
                start,
                "an integer",
                if digits == "-" {
                    self.found()
                } else {
                    format!("`{digits}`")
                },
            )
        })
    }

    fn call_or_keyword(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        match name.as_str() {
            "True" | "true" => return Ok(Expr::Boolean(true)),
            "False" | "false" => return Ok(Expr::Boolean(false)),
            _ => {}
        }
        let Some(function) = Function::from_name(&name) else {
            let known: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
            return Err(self.error_at(
                start,
                &format!("a function ({})", known.join(", ")),
                format!("`{name}`"),
            ));
        };
        if depth >= MAX_DEPTH {
            return Err(self.error_at(
                start,
                &format!("at most {MAX_DEPTH} nested calls"),
                "deeper nesting".to_owned(),
            ));
        }
        self.expect('(')?;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                let arg = match self.peek() {
                    Some(',' | ')') => Expr::Empty,
                    _ => self.expr(depth + 1)?,
                };
                args.push(arg);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("`,` or `)`")),
                }
            }
        }
        function.check_arity(args.len()).map_err(|expected| {
            self.error_at(
                start,
                &format!("{function} with {expected}"),
                format!("{} argument(s)", args.len()),
            )
        })?;
        if function == Function::Replace {
            for (i, what) in [(2, "regexPattern"), (3, "regexGroupName"), (6, "template")] {
                if args[i] != Expr::Empty {
                    return Err(self.error_at(
                        start,
                        &format!(
                            "Replace with an empty {what} (only the plain string form is supported)"
                        ),
                        format!("{what} {}", args[i]),
                    ));
                }
            }
        }
        Ok(Expr::Call(function, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn record() -> Map<String, Value> {
        json!({
            "givenName": "Ada",
            "surname": "Lovelace",
            "empty": "",
            "status": "active",
            "IsSoftDeleted": false,
            "flag": "True",
            "count": 3,
            "role": { "name": "CEO", "id": 7 },
            "role.id": "flat",
            "language": "en_US",
            "list": ["a", "", null, "b"],
            "obj": { "x": 1 },
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn eval(s: &str) -> Value {
        Expr::parse(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .eval(&record())
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn eval_err(s: &str) -> EvalError {
        Expr::parse(s).unwrap().eval(&record()).unwrap_err()
    }

    fn parse_err(s: &str) -> ExprError {
        Expr::parse(s).unwrap_err()
    }

    #[test]
    fn literals_and_attributes() {
        assert_eq!(eval("\"a \\\"b\\\" \\\\ \\d\""), json!("a \"b\" \\ \\d"));
        assert_eq!(eval("42"), json!(42));
        assert_eq!(eval("-7"), json!(-7));
        assert_eq!(eval("True"), json!(true));
        assert_eq!(eval("false"), json!(false));
        assert_eq!(eval("[givenName]"), json!("Ada"));
        assert_eq!(eval("[GIVENNAME]"), json!("Ada"), "case-insensitive");
        assert_eq!(eval("[role.name]"), json!("CEO"), "dotted path");
        assert_eq!(eval("[role.id]"), json!("flat"), "exact key first");
        assert_eq!(eval("[Role.Name]"), json!("CEO"));
        assert_eq!(eval("[missing]"), Value::Null);
        assert_eq!(eval("[role.missing.deeper]"), Value::Null);
        assert_eq!(eval(" [ givenName ] "), json!("Ada"));
    }

    #[test]
    fn append_coalesce_join() {
        assert_eq!(eval("Append([givenName], \"@x.com\")"), json!("Ada@x.com"));
        assert_eq!(eval("Append([missing], \"@x.com\")"), Value::Null);
        assert_eq!(eval("Append([count], [missing])"), json!("3"));
        assert_eq!(
            eval("Coalesce([missing], [empty], [surname])"),
            json!("Lovelace")
        );
        assert_eq!(eval("Coalesce([missing], [empty])"), Value::Null);
        assert_eq!(eval("Coalesce([IsSoftDeleted])"), json!(false));
        assert_eq!(
            eval("Join(\" \", [givenName], [missing], [empty], [surname])"),
            json!("Ada Lovelace")
        );
        assert_eq!(eval("Join(\",\", [list], [count])"), json!("a,b,3"));
        assert_eq!(eval("Join(\",\", [missing])"), Value::Null);
        assert!(matches!(
            eval_err("Join(\",\", [obj])"),
            EvalError::NotText {
                function: Function::Join,
                ..
            }
        ));
    }

    #[test]
    fn case_and_spaces() {
        assert_eq!(eval("ToLower([givenName])"), json!("ada"));
        assert_eq!(eval("ToUpper([givenName], \"en-US\")"), json!("ADA"));
        assert_eq!(eval("ToUpper([missing])"), Value::Null);
        assert_eq!(eval("ToLower(True)"), json!("true"));
        assert_eq!(eval("StripSpaces(\" a b  c \")"), json!("abc"));
        assert_eq!(eval("PCase(\"hELLO wORLD\")"), json!("Hello World"));
        assert_eq!(
            eval("PCase(\"jean-luc o'neil\", \" -'\")"),
            json!("Jean-Luc O'Neil")
        );
    }

    #[test]
    fn switch_and_booleans() {
        let active = "Switch([status], \"False\", \"active\", \"True\")";
        assert_eq!(eval(active), json!("True"));
        let mut r = record();
        r.insert("status".into(), json!("inactive"));
        assert_eq!(
            Expr::parse(active).unwrap().eval(&r).unwrap(),
            json!("False")
        );
        r.remove("status");
        assert_eq!(
            Expr::parse(active).unwrap().eval(&r).unwrap(),
            json!("False")
        );
        // Entra's Zoho One mapping: empty default, boolean source read as True/False.
        let soft = "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")";
        assert_eq!(eval(soft), json!("True"));
        assert_eq!(eval("Switch([missing], , \"a\", \"b\")"), Value::Null);
        assert_eq!(
            eval("Switch([count], \"d\", \"3\", \"three\")"),
            json!("three")
        );
        assert_eq!(
            eval("Switch([status], \"d\", \"ACTIVE\", \"x\")"),
            json!("d")
        );

        assert_eq!(eval("Not([IsSoftDeleted])"), json!(true));
        assert_eq!(eval("Not([flag])"), json!(false));
        assert_eq!(eval("Not(\"false\")"), json!(true));
        assert_eq!(eval("Not([missing])"), Value::Null);
        let e = eval_err("Not([status])");
        assert_eq!(
            e,
            EvalError::NotBoolean {
                function: Function::Not,
                value: json!("active")
            }
        );
        assert!(e.to_string().contains("\"active\""), "{e}");

        assert_eq!(eval("IIF([flag], \"y\", \"n\")"), json!("y"));
        assert_eq!(eval("IIF(IsPresent([empty]), \"y\", \"n\")"), json!("n"));
        assert_eq!(eval("IIF([missing], \"y\", \"n\")"), json!("n"));
        assert!(matches!(
            eval_err("IIF([count], 1, 2)"),
            EvalError::NotBoolean { .. }
        ));
        assert_eq!(eval("IsNull([missing])"), json!(true));
        assert_eq!(eval("IsNull([empty])"), json!(false));
        assert_eq!(eval("IsNullOrEmpty([empty])"), json!(true));
        assert_eq!(eval("IsNullOrEmpty([givenName])"), json!(false));
        assert_eq!(eval("IsPresent([givenName])"), json!(true));
        assert_eq!(eval("IsPresent([missing])"), json!(false));
    }

    #[test]
    fn substrings_replace_word() {
        assert_eq!(eval("Left([surname], 4)"), json!("Love"));
        assert_eq!(eval("Left([surname], 40)"), json!("Lovelace"));
        assert_eq!(eval("Left([surname], \"2\")"), json!("Lo"));
        assert!(matches!(
            eval_err("Left([surname], \"x\")"),
            EvalError::NotInteger { .. }
        ));
        assert_eq!(eval("Mid([surname], 2, 3)"), json!("ove"));
        assert_eq!(eval("Mid([missing], 2, 3)"), Value::Null);
        assert_eq!(
            eval("Replace([language], \"_\", , , \"-\", , )"),
            json!("en-US")
        );
        assert_eq!(
            eval("Replace([language], \"_\", , , , [surname], )"),
            json!("enLovelaceUS")
        );
        assert_eq!(
            eval("Replace([missing], \"_\", , , \"-\", , )"),
            Value::Null
        );
        assert_eq!(eval("Word(\"The quick  brown\", 3, \" \")"), json!("brown"));
        assert_eq!(eval("Word(\"a,b;c\", 2, \",;\")"), json!("b"));
        assert_eq!(eval("Word(\"a b\", 5, \" \")"), Value::Null);
        assert_eq!(eval("Word(\"a b\", 0, \" \")"), Value::Null);
    }

    #[test]
    fn parse_errors_say_where_and_what() {
        let e = parse_err("Join(\" \", [a]");
        assert_eq!((e.position, e.found.as_str()), (13, "end"));
        assert_eq!(e.expected, "`,` or `)`");
        assert_eq!(
            e.to_string(),
            "expression `Join(\" \", [a]`: expected `,` or `)` at 13, found end"
        );
        let e = parse_err("Foo([a])");
        assert_eq!((e.position, e.found.as_str()), (0, "`Foo`"));
        assert!(e.expected.contains("Join"), "{e}");
        let e = parse_err("join([a], [b])");
        assert_eq!(e.found, "`join`", "function names are case-sensitive");
        let e = parse_err("ToLower([a], [b], [c])");
        assert_eq!(e.found, "3 argument(s)");
        assert!(e.expected.contains("ToLower with 1 or 2"), "{e}");
        let e = parse_err("Switch([a], \"d\", \"k\")");
        assert!(e.expected.contains("even"), "{e}");
        let e = parse_err("Append([a])");
        assert_eq!(e.position, 0);
        let e = parse_err("Left([a], 1) x");
        assert_eq!((e.position, e.found.as_str()), (13, "`x`"));
        let e = parse_err("[a");
        assert_eq!((e.position, e.found.as_str()), (2, "end"));
        let e = parse_err("[]");
        assert_eq!(e.position, 1);
        let e = parse_err("\"abc");
        assert_eq!(e.position, 4);
        let e = parse_err("");
        assert_eq!(e.found, "end");
        let e = parse_err("ToLower [a]");
        assert_eq!((e.position, e.expected.as_str()), (8, "`(`"));
        let e = parse_err("Replace([a], \"x\", \"[0-9]\", , \"-\", , )");
        assert!(e.expected.contains("regexPattern"), "{e}");
        let e = parse_err("ToLower(@)");
        assert_eq!(e.position, 8);
        let deep = format!("{}[a]{}", "ToLower(".repeat(100), ")".repeat(100));
        assert!(parse_err(&deep).expected.contains("nested"));
    }

    #[test]
    fn attributes_in_order() {
        let e = Expr::parse("Join(\" \", [b], Coalesce([a], [c]), \"x\", [b])").unwrap();
        assert_eq!(e.attributes(), vec!["b", "a", "c", "b"]);
        assert!(Expr::parse("\"x\"").unwrap().attributes().is_empty());
    }

    #[test]
    fn display_and_serde() {
        let s = "Replace([language], \"_\", , , \"-\", , )";
        let e: Expr = s.parse().unwrap();
        assert_eq!(e.to_string(), s);
        let e = Expr::parse("Switch( [IsSoftDeleted],,\"False\",\"True\" ,\"True\",\"False\")")
            .unwrap();
        assert_eq!(
            e.to_string(),
            "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")"
        );
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Expr>(&json).unwrap(), e);
        let err = serde_json::from_str::<Expr>("\"Nope(\"").unwrap_err();
        assert!(err.to_string().contains("Nope"), "{err}");
    }

    fn arb_expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            "[a-zA-Z_][a-zA-Z0-9_.]{0,8}".prop_map(Expr::Attribute),
            any::<String>().prop_map(Expr::Text),
            any::<i64>().prop_map(Expr::Integer),
            any::<bool>().prop_map(Expr::Boolean),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            let arg = prop_oneof![4 => inner.clone(), 1 => Just(Expr::Empty)];
            prop_oneof![
                (
                    prop::sample::select(vec![
                        Function::Coalesce,
                        Function::Join,
                        Function::Switch
                    ]),
                    prop::collection::vec(arg.clone(), 4..6)
                )
                    .prop_map(|(f, mut args)| {
                        if f == Function::Switch && args.len() % 2 == 1 {
                            args.pop();
                        }
                        Expr::Call(f, args)
                    }),
                (inner.clone(), arg.clone())
                    .prop_map(|(a, b)| Expr::Call(Function::Append, vec![a, b])),
                inner
                    .clone()
                    .prop_map(|a| Expr::Call(Function::Not, vec![a])),
                (inner.clone(), arg.clone(), arg)
                    .prop_map(|(a, b, c)| Expr::Call(Function::Mid, vec![a, b, c])),
                inner.prop_map(|a| Expr::Call(
                    Function::Replace,
                    vec![
                        a,
                        Expr::Text("_".into()),
                        Expr::Empty,
                        Expr::Empty,
                        Expr::Text("-".into()),
                        Expr::Empty,
                        Expr::Empty
                    ]
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn display_round_trips(e in arb_expr()) {
            let printed = e.to_string();
            let parsed = Expr::parse(&printed).map_err(|err| TestCaseError::fail(err.to_string()))?;
            prop_assert_eq!(parsed, e);
        }
    }
}
