//! Attribute mappings: how a source record becomes SCIM attributes, as in Entra's
//! "Attribute mappings" page.
//!
//! Each [`AttributeMapping`] writes one SCIM target path (`userName`,
//! `emails[type eq "work"].value`, `name.givenName`, an extension URN path) from a
//! source field, a constant or an [`Expr`]. An [`ObjectMapping`] holds the mappings
//! of one object type together with the anchor field identifying a source object and an
//! optional [`ScopeFilter`]; [`Mappings`] holds users and groups, loads from JSON or
//! TOML and has the seed's Zoho One defaults.
//!
//! # File format
//!
//! ```toml
//! [users]
//! source_id = "id"                 # the field identifying a source object
//!
//! [[users.attributes]]
//! target = "userName"
//! source = "email"                 # a source field (Direct)
//! matching = 1                     # matching precedence: 1 = tried first
//! required = true
//!
//! [[users.attributes]]
//! target = "active"
//! expression = 'Switch([status], "False", "active", "True")'
//!
//! [[users.attributes]]
//! target = "preferredLanguage"
//! constant = "en-US"
//! apply = "create_only"            # or "always" (the default)
//!
//! [[users.attributes]]
//! target = "title"
//! source = "role.name"
//! default_value = "Employee"       # when the source gives no value, on create only
//!
//! [users.scope]                    # see the scope module
//! attribute = "status"
//! operator = "NOT EQUALS"
//! value = "deleted"
//!
//! [groups]
//! source_id = "id"
//! [[groups.attributes]]
//! target = "displayName"
//! source = "displayName"
//! matching = 1
//! required = true
//! ```
//!
//! The same structure in JSON: `{"users": {"source_id": "id", "attributes": [{"target":
//! "userName", "source": "email", "matching": 1, "required": true}, ...]}}`. At most one
//! of `source`, `constant` and `expression` may be given; none means
//! [`MappingSource::None`]. Unknown keys are errors.
//!
//! # Evaluation rules (Entra's)
//!
//! * A value is null when the field is missing, JSON null or the empty string; null
//!   values are not sent (the target is left out of the result). Empty arrays are kept
//!   (a group with no members).
//! * `default_value` replaces a null value **only when the object is created**; on
//!   updates a null stays null.
//! * `apply = "create_only"` mappings are evaluated only when the object is created.
//! * A `required` target whose value is null (after the default) is an error naming it.
//! * Boolean SCIM targets (`active`, `...primary`) get a JSON boolean: text such as
//!   `True`, `false`, `1` is converted, other text is an error naming the target.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use type_mapping::{DataType, Schema};

use super::expr::{EvalError, Expr, ExprError, lookup, scalar_text};
use super::scope::{ScopeError, ScopeFilter};
use crate::resource_path::{FieldPath, as_boolean};

/// Where a mapped value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum MappingSource {
    /// A source field, copied as it is.
    Direct(String),
    /// A constant text.
    Constant(String),
    /// An expression over source fields.
    Expression(Expr),
    /// Nothing: only the default value (on create) can give the target a value.
    None,
}

/// When a mapping is applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOn {
    /// On create and on every update.
    #[default]
    Always,
    /// Only when the object is created (Entra's "Only during creation").
    #[serde(alias = "only_during_creation", alias = "OnlyDuringCreation")]
    CreateOnly,
}

/// One SCIM attribute and where its value comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AttributeRepr", into = "AttributeRepr")]
pub struct AttributeMapping {
    /// The SCIM path written (`userName`, `emails[type eq "work"].value`).
    pub target: String,
    /// Where the value comes from.
    pub source: MappingSource,
    /// Used when the source gives null, **on create only** (Entra's rule).
    pub default_value: Option<String>,
    /// Always, or only on create.
    pub apply: ApplyOn,
    /// Matching precedence: `Some(1)` is the first attribute used to find an existing
    /// target object, `Some(2)` the next, ...; `None` is not used for matching.
    pub matching_precedence: Option<u32>,
    /// Whether every object must have a value for this target.
    pub required: bool,
}

/// The file form of an [`AttributeMapping`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributeRepr {
    target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    constant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expression: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_value: Option<String>,
    #[serde(default, skip_serializing_if = "is_always")]
    apply: ApplyOn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    matching: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    required: bool,
}

fn is_always(apply: &ApplyOn) -> bool {
    *apply == ApplyOn::Always
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl TryFrom<AttributeRepr> for AttributeMapping {
    type Error = String;

    fn try_from(r: AttributeRepr) -> Result<Self, String> {
        let source = match (r.source, r.constant, r.expression) {
            (Some(field), None, None) => MappingSource::Direct(field),
            (None, Some(c), None) => MappingSource::Constant(c),
            (None, None, Some(e)) => MappingSource::Expression(e),
            (None, None, None) => MappingSource::None,
            _ => {
                return Err(format!(
                    "mapping `{}`: give only one of `source`, `constant` and `expression`",
                    r.target
                ));
            }
        };
        Ok(Self {
            target: r.target,
            source,
            default_value: r.default_value,
            apply: r.apply,
            matching_precedence: r.matching,
            required: r.required,
        })
    }
}

impl From<AttributeMapping> for AttributeRepr {
    fn from(m: AttributeMapping) -> Self {
        let (source, constant, expression) = match m.source {
            MappingSource::Direct(f) => (Some(f), None, None),
            MappingSource::Constant(c) => (None, Some(c), None),
            MappingSource::Expression(e) => (None, None, Some(e)),
            MappingSource::None => (None, None, None),
        };
        Self {
            target: m.target,
            source,
            constant,
            expression,
            default_value: m.default_value,
            apply: m.apply,
            matching: m.matching_precedence,
            required: m.required,
        }
    }
}

impl AttributeMapping {
    fn new(target: impl Into<String>, source: MappingSource) -> Self {
        Self {
            target: target.into(),
            source,
            default_value: None,
            apply: ApplyOn::Always,
            matching_precedence: None,
            required: false,
        }
    }

    /// `target` ← the source field `field`.
    pub fn direct(target: impl Into<String>, field: impl Into<String>) -> Self {
        Self::new(target, MappingSource::Direct(field.into()))
    }

    /// `target` ← a constant text.
    pub fn constant(target: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(target, MappingSource::Constant(value.into()))
    }

    /// `target` ← an expression, parsed now.
    pub fn expression(target: impl Into<String>, expr: &str) -> Result<Self, MappingError> {
        let target = target.into();
        match Expr::parse(expr) {
            Ok(e) => Ok(Self::new(target, MappingSource::Expression(e))),
            Err(source) => Err(MappingError::Expression { target, source }),
        }
    }

    /// `target` with no source (only a default value can fill it, on create).
    pub fn none(target: impl Into<String>) -> Self {
        Self::new(target, MappingSource::None)
    }

    /// Uses this attribute for matching, with the given precedence (1 first).
    #[must_use]
    pub fn matching(mut self, precedence: u32) -> Self {
        self.matching_precedence = Some(precedence);
        self
    }

    /// Makes the target required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Applies the mapping only when the object is created.
    #[must_use]
    pub fn only_on_create(mut self) -> Self {
        self.apply = ApplyOn::CreateOnly;
        self
    }

    /// The value used when the source gives null, on create only.
    #[must_use]
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default_value = Some(value.into());
        self
    }

    /// The source fields this mapping reads, in order.
    pub fn fields(&self) -> Vec<&str> {
        match &self.source {
            MappingSource::Direct(f) => vec![f.as_str()],
            MappingSource::Expression(e) => e.attributes(),
            MappingSource::Constant(_) | MappingSource::None => Vec::new(),
        }
    }

    /// The value for a source record, before defaults (null when there is none; the
    /// empty string counts as null).
    pub fn value(&self, source: &Map<String, Value>) -> Result<Value, MappingError> {
        let value = match &self.source {
            MappingSource::Direct(field) => lookup(source, field).cloned().unwrap_or(Value::Null),
            MappingSource::Constant(c) => Value::String(c.clone()),
            MappingSource::Expression(e) => {
                e.eval(source).map_err(|source| MappingError::Eval {
                    target: self.target.clone(),
                    source,
                })?
            }
            MappingSource::None => Value::Null,
        };
        Ok(match value {
            Value::String(s) if s.is_empty() => Value::Null,
            v => v,
        })
    }
}

/// The mappings of one object type (users or groups).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMapping {
    /// The source field identifying a source object (its anchor), e.g. `id`.
    pub source_id: String,
    /// The attribute mappings, in the order they are evaluated.
    pub attributes: Vec<AttributeMapping>,
    /// Which source objects are provisioned; none = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeFilter>,
}

impl ObjectMapping {
    /// A mapping with no scope filter.
    pub fn new(source_id: impl Into<String>, attributes: Vec<AttributeMapping>) -> Self {
        Self {
            source_id: source_id.into(),
            attributes,
            scope: None,
        }
    }

    /// Sets the scope filter.
    #[must_use]
    pub fn with_scope(mut self, scope: ScopeFilter) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Every problem that does not need the source schema: targets that are not SCIM
    /// paths, no matching attribute, a target written twice, a required target without
    /// a source, an invalid scope filter (regexes are compiled here).
    pub fn problems(&self) -> Vec<MappingError> {
        let mut out = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for m in &self.attributes {
            if let Err(message) = FieldPath::parse(&m.target) {
                out.push(MappingError::InvalidTarget {
                    target: m.target.clone(),
                    message,
                });
            }
            let key = m.target.to_ascii_lowercase();
            if seen.contains(&key) {
                out.push(MappingError::DuplicateTarget {
                    target: m.target.clone(),
                });
            } else {
                seen.push(key);
            }
            if m.required && m.source == MappingSource::None && m.default_value.is_none() {
                out.push(MappingError::RequiredWithoutSource {
                    target: m.target.clone(),
                });
            }
        }
        if !self
            .attributes
            .iter()
            .any(|m| m.matching_precedence.is_some())
        {
            out.push(MappingError::NoMatchingAttribute);
        }
        if let Some(Err(source)) = self.scope.as_ref().map(ScopeFilter::check) {
            out.push(MappingError::Scope { source });
        }
        out
    }

    /// [`problems`](Self::problems) plus every source field (the anchor, direct
    /// sources, `[fields]` of expressions, scope attributes) that `schema` lacks. A
    /// field is found by exact name, by name ignoring ASCII case, or as a dotted path
    /// into a `Struct` (checked) or `Json` (anything goes) field.
    pub fn problems_with(&self, schema: &Schema) -> Vec<MappingError> {
        let mut out = Vec::new();
        let mut unknown = |target: &str, field: &str| {
            if !has_field(schema, field) {
                out.push(MappingError::UnknownField {
                    target: target.to_owned(),
                    field: field.to_owned(),
                    available: schema.names().map(str::to_owned).collect(),
                });
            }
        };
        unknown("source_id", &self.source_id);
        for m in &self.attributes {
            for field in m.fields() {
                unknown(&m.target, field);
            }
        }
        if let Some(scope) = &self.scope {
            for field in scope.attributes() {
                unknown("scope", field);
            }
        }
        out.extend(self.problems());
        out
    }

    /// Validates the mapping against the source schema: see
    /// [`problems_with`](Self::problems_with). One problem is returned as it is,
    /// several as [`MappingError::Several`].
    pub fn validate(&self, schema: &Schema) -> Result<(), MappingError> {
        MappingError::from_list(self.problems_with(schema))
    }

    /// The matching attributes, by precedence (1 first).
    pub fn matching(&self) -> Vec<&AttributeMapping> {
        let mut out: Vec<&AttributeMapping> = self
            .attributes
            .iter()
            .filter(|m| m.matching_precedence.is_some())
            .collect();
        out.sort_by_key(|m| m.matching_precedence);
        out
    }

    /// The `(target, value)` pairs for a source record, in mapping order, following
    /// the [evaluation rules](self#evaluation-rules-entras). `creating` says whether
    /// the object is being created (create-only mappings and default values apply).
    pub fn evaluate(
        &self,
        source: &Map<String, Value>,
        creating: bool,
    ) -> Result<Vec<(String, Value)>, MappingError> {
        let mut out = Vec::with_capacity(self.attributes.len());
        for m in &self.attributes {
            if m.apply == ApplyOn::CreateOnly && !creating {
                continue;
            }
            let mut value = m.value(source)?;
            if let (true, true, Some(default)) = (value.is_null(), creating, &m.default_value) {
                value = Value::String(default.clone());
            }
            if value.is_null() {
                if m.required {
                    return Err(MappingError::RequiredMissing {
                        target: m.target.clone(),
                    });
                }
                continue;
            }
            if FieldPath::parse(&m.target).is_ok_and(|p| p.is_boolean()) {
                value = as_boolean(value).map_err(|value| MappingError::NotBoolean {
                    target: m.target.clone(),
                    value,
                })?;
            }
            out.push((m.target.clone(), value));
        }
        Ok(out)
    }

    /// The anchor of a source record as text (numbers as their digits); `None` when
    /// it is null, empty, an array or an object.
    pub fn source_id(&self, source: &Map<String, Value>) -> Option<String> {
        let value = lookup(source, &self.source_id)?;
        scalar_text(value).ok().flatten().filter(|s| !s.is_empty())
    }

    /// Whether a source record passes the scope filter (no filter: in scope). An
    /// invalid filter is an error.
    pub fn in_scope(&self, source: &Map<String, Value>) -> Result<bool, MappingError> {
        match &self.scope {
            None => Ok(true),
            Some(filter) => {
                filter
                    .check()
                    .map_err(|source| MappingError::Scope { source })?;
                Ok(filter.matches(source))
            }
        }
    }
}

fn has_field(schema: &Schema, name: &str) -> bool {
    if schema.field(name).is_some() {
        return true;
    }
    let mut parts = name.split('.');
    let Some(field) = parts.next().and_then(|head| schema.field(head)) else {
        return false;
    };
    if !name.contains('.') {
        return false;
    }
    let mut data_type = &field.data_type;
    for part in parts {
        match data_type {
            DataType::Json => return true,
            DataType::Struct(fields) => {
                let Some(f) = fields
                    .iter()
                    .find(|f| f.name == part)
                    .or_else(|| fields.iter().find(|f| f.name.eq_ignore_ascii_case(part)))
                else {
                    return false;
                };
                data_type = &f.data_type;
            }
            _ => return false,
        }
    }
    true
}

/// Users' and groups' mappings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mappings {
    /// How users are mapped.
    pub users: ObjectMapping,
    /// How groups are mapped; `None` = groups are not provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<ObjectMapping>,
}

impl Mappings {
    /// Reads mappings from JSON and checks what can be checked without a schema
    /// ([`Mappings::check`]).
    pub fn from_json_str(text: &str) -> Result<Self, MappingError> {
        let m: Self = serde_json::from_str(text).map_err(|e| MappingError::Parse {
            format: "JSON",
            message: e.to_string(),
        })?;
        m.check()?;
        Ok(m)
    }

    /// Reads mappings from TOML and checks them like [`Mappings::from_json_str`].
    pub fn from_toml_str(text: &str) -> Result<Self, MappingError> {
        let m: Self = toml::from_str(text).map_err(|e| MappingError::Parse {
            format: "TOML",
            message: e.to_string(),
        })?;
        m.check()?;
        Ok(m)
    }

    /// Reads a `.json` or `.toml` file (by extension, any case).
    pub fn from_path(path: &Path) -> Result<Self, MappingError> {
        let file_error = |message: String| MappingError::File {
            path: path.display().to_string(),
            message,
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse: fn(&str) -> Result<Self, MappingError> = match ext.as_deref() {
            Some("json") => Self::from_json_str,
            Some("toml") => Self::from_toml_str,
            _ => {
                return Err(file_error(
                    "unknown extension: mapping files are .json or .toml".to_owned(),
                ));
            }
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        parse(&text).map_err(|e| file_error(e.to_string()))
    }

    /// The mappings as pretty-printed JSON.
    pub fn to_json_string(&self) -> Result<String, MappingError> {
        serde_json::to_string_pretty(self).map_err(|e| MappingError::Parse {
            format: "JSON",
            message: e.to_string(),
        })
    }

    /// The mappings as TOML.
    pub fn to_toml_string(&self) -> Result<String, MappingError> {
        toml::to_string(self).map_err(|e| MappingError::Parse {
            format: "TOML",
            message: e.to_string(),
        })
    }

    fn objects(&self) -> impl Iterator<Item = (&'static str, &ObjectMapping)> {
        std::iter::once(("users", &self.users)).chain(self.groups.as_ref().map(|g| ("groups", g)))
    }

    /// The checks that need no schema ([`ObjectMapping::problems`]) for users and
    /// groups; every problem is reported, each naming its object.
    pub fn check(&self) -> Result<(), MappingError> {
        MappingError::from_list(
            self.objects()
                .flat_map(|(name, m)| m.problems().into_iter().map(move |e| e.in_object(name)))
                .collect(),
        )
    }

    /// Validates users against the users' source schema and groups (when mapped and a
    /// schema is given) against theirs; every problem is reported, each naming its
    /// object.
    pub fn validate(&self, users: &Schema, groups: Option<&Schema>) -> Result<(), MappingError> {
        let mut all: Vec<MappingError> = self
            .users
            .problems_with(users)
            .into_iter()
            .map(|e| e.in_object("users"))
            .collect();
        if let Some(g) = &self.groups {
            let problems = match groups {
                Some(schema) => g.problems_with(schema),
                None => g.problems(),
            };
            all.extend(problems.into_iter().map(|e| e.in_object("groups")));
        }
        MappingError::from_list(all)
    }

    /// Entra's Zoho One gallery mappings, with Entra ID's source attribute names
    /// (`userPrincipalName`, `IsSoftDeleted`, `objectId`, ...). Anchor: `objectId`.
    pub fn zoho_one() -> Self {
        let active = expr(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#);
        let formatted = expr(r#"Join(" ", [givenName], [surname])"#);
        let users = ObjectMapping::new(
            "objectId",
            vec![
                AttributeMapping::direct("userName", "userPrincipalName")
                    .matching(1)
                    .required(),
                AttributeMapping::new("active", active),
                AttributeMapping::direct("displayName", "displayName"),
                AttributeMapping::direct("title", "jobTitle"),
                AttributeMapping::direct(WORK_EMAIL, "mail"),
                AttributeMapping::direct("preferredLanguage", "preferredLanguage"),
                AttributeMapping::direct("name.givenName", "givenName"),
                AttributeMapping::direct("name.familyName", "surname"),
                AttributeMapping::new("name.formatted", formatted),
                AttributeMapping::direct(work_address("formatted"), "physicalDeliveryOfficeName"),
                AttributeMapping::direct(work_address("streetAddress"), "streetAddress"),
                AttributeMapping::direct(work_address("locality"), "city"),
                AttributeMapping::direct(work_address("region"), "state"),
                AttributeMapping::direct(work_address("postalCode"), "postalCode"),
                AttributeMapping::direct(work_address("country"), "country"),
                AttributeMapping::direct(phone("mobile"), "mobile"),
                AttributeMapping::direct(phone("fax"), "facsimileTelephoneNumber"),
                AttributeMapping::direct(phone("work"), "telephoneNumber"),
                AttributeMapping::direct("externalId", "objectId"),
            ],
        );
        let groups = ObjectMapping::new(
            "objectId",
            vec![
                AttributeMapping::direct("displayName", "displayName")
                    .matching(1)
                    .required(),
                AttributeMapping::direct("members", "members"),
                AttributeMapping::direct("externalId", "objectId"),
            ],
        );
        Self {
            users,
            groups: Some(groups),
        }
    }

    /// The Zoho One targets fed from Zoho CRM users (`id`, `email`, `first_name`,
    /// `last_name`, `full_name`, `status`, `role.name`, `phone`, `mobile`, `fax`,
    /// `street`, `city`, `state`, `zip`, `country`, `language`). Groups are those the
    /// engine derives from a user attribute, with fields `id`, `displayName` and
    /// `members`. Anchor: `id` for both.
    pub fn zoho_one_from_zoho_crm() -> Self {
        let active = expr(r#"Switch([status], "False", "active", "True")"#);
        let language = expr(r#"Replace([language], "_", , , "-", , )"#);
        let formatted_name = expr(r#"Join(" ", [first_name], [last_name])"#);
        let address = expr(r#"Join(", ", [street], [city], [state], [zip], [country])"#);
        let users = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("userName", "email")
                    .matching(1)
                    .required(),
                AttributeMapping::new("active", active),
                AttributeMapping::direct("displayName", "full_name"),
                AttributeMapping::direct("title", "role.name"),
                AttributeMapping::direct(WORK_EMAIL, "email"),
                AttributeMapping::new("preferredLanguage", language),
                AttributeMapping::direct("name.givenName", "first_name"),
                AttributeMapping::direct("name.familyName", "last_name"),
                AttributeMapping::new("name.formatted", formatted_name),
                AttributeMapping::new(work_address("formatted"), address),
                AttributeMapping::direct(work_address("streetAddress"), "street"),
                AttributeMapping::direct(work_address("locality"), "city"),
                AttributeMapping::direct(work_address("region"), "state"),
                AttributeMapping::direct(work_address("postalCode"), "zip"),
                AttributeMapping::direct(work_address("country"), "country"),
                AttributeMapping::direct(phone("mobile"), "mobile"),
                AttributeMapping::direct(phone("fax"), "fax"),
                AttributeMapping::direct(phone("work"), "phone"),
                AttributeMapping::direct("externalId", "id"),
            ],
        );
        let groups = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("displayName", "displayName")
                    .matching(1)
                    .required(),
                AttributeMapping::direct("members", "members"),
                AttributeMapping::direct("externalId", "id"),
            ],
        );
        Self {
            users,
            groups: Some(groups),
        }
    }
}

const WORK_EMAIL: &str = "emails[type eq \"work\"].value";

fn work_address(sub: &str) -> String {
    format!("addresses[type eq \"work\"].{sub}")
}

fn phone(kind: &str) -> String {
    format!("phoneNumbers[type eq \"{kind}\"].value")
}

/// A built-in expression; the defaults' expressions are fixed text covered by tests,
/// so a parse failure cannot happen (it would map to no source).
fn expr(text: &str) -> MappingSource {
    Expr::parse(text).map_or(MappingSource::None, MappingSource::Expression)
}

/// A mapping that cannot be used, or a record it cannot map.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// A problem within one object's mappings (`users`, `groups`).
    #[error("{object}: {error}")]
    In {
        /// `users` or `groups`.
        object: &'static str,
        /// The problem.
        error: Box<MappingError>,
    },
    /// Several problems, all reported.
    #[error("{}", join_errors(.0))]
    Several(Vec<MappingError>),
    /// A source field the schema does not have.
    #[error("mapping `{target}`: unknown source field `{field}` (available: {})", .available.join(", "))]
    UnknownField {
        /// The mapping target (or `source_id`, `scope`).
        target: String,
        /// The field.
        field: String,
        /// The schema's fields.
        available: Vec<String>,
    },
    /// A target that is not a SCIM path.
    #[error("mapping target `{target}` is not a SCIM path: {message}")]
    InvalidTarget {
        /// The target.
        target: String,
        /// Why.
        message: String,
    },
    /// No mapping has a matching precedence.
    #[error("no matching attribute (give one mapping `matching = 1`)")]
    NoMatchingAttribute,
    /// Two mappings write the same target.
    #[error("mapping target `{target}` is written by more than one mapping")]
    DuplicateTarget {
        /// The target.
        target: String,
    },
    /// A required target with neither source nor default value.
    #[error("mapping `{target}` is required but has no source")]
    RequiredWithoutSource {
        /// The target.
        target: String,
    },
    /// An expression that does not parse.
    #[error("mapping `{target}`: {source}")]
    Expression {
        /// The target.
        target: String,
        /// The parse error.
        source: ExprError,
    },
    /// An invalid scope filter.
    #[error("scope: {source}")]
    Scope {
        /// The problem.
        source: ScopeError,
    },
    /// An expression failed on a record.
    #[error("mapping `{target}`: {source}")]
    Eval {
        /// The target.
        target: String,
        /// The evaluation error.
        source: EvalError,
    },
    /// A required target got no value from a record.
    #[error("mapping `{target}` is required but the source gives no value")]
    RequiredMissing {
        /// The target.
        target: String,
    },
    /// A boolean target (`active`) got a value that is not a boolean.
    #[error("mapping `{target}`: expected a boolean (True or False), found {value}")]
    NotBoolean {
        /// The target.
        target: String,
        /// The value.
        value: String,
    },
    /// A mapping text that does not parse.
    #[error("mappings ({format}): {message}")]
    Parse {
        /// `JSON` or `TOML`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A mapping file that cannot be read or parsed.
    #[error("mapping file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

fn join_errors(errors: &[MappingError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&e.to_string());
    }
    out
}

impl MappingError {
    fn in_object(self, object: &'static str) -> Self {
        Self::In {
            object,
            error: Box::new(self),
        }
    }

    fn from_list(mut errors: Vec<MappingError>) -> Result<(), Self> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Self::Several(errors)),
        }
    }

    /// The individual problems: the errors of [`Several`](Self::Several), else this one.
    pub fn problems(&self) -> Vec<&MappingError> {
        match self {
            Self::Several(list) => list.iter().collect(),
            other => vec![other],
        }
    }
}

impl fmt::Display for MappingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct(field) => write!(f, "[{field}]"),
            Self::Constant(c) => write!(f, "{c:?}"),
            Self::Expression(e) => write!(f, "{e}"),
            Self::None => f.write_str("(none)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use type_mapping::Field;

    fn schema(names: &[&str]) -> Schema {
        Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::String))
                .collect(),
        )
    }

    fn crm_schema() -> Schema {
        schema(&[
            "id",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "status",
            "role.id",
            "role.name",
            "profile.id",
            "profile.name",
            "phone",
            "mobile",
            "fax",
            "street",
            "city",
            "state",
            "zip",
            "country",
            "language",
            "locale",
            "time_zone",
            "Modified_Time",
        ])
    }

    fn crm_user() -> Map<String, Value> {
        json!({
            "id": "4150868000000225013",
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "full_name": "Ada Lovelace",
            "status": "active",
            "role.name": "CEO",
            "phone": "+44 1",
            "mobile": "",
            "fax": null,
            "street": "1 Main St",
            "city": "London",
            "zip": "N1",
            "country": "UK",
            "language": "en_GB",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn get<'a>(pairs: &'a [(String, Value)], target: &str) -> Option<&'a Value> {
        pairs.iter().find(|(t, _)| t == target).map(|(_, v)| v)
    }

    #[test]
    fn defaults_validate_against_their_sources() {
        let m = Mappings::zoho_one_from_zoho_crm();
        m.validate(
            &crm_schema(),
            Some(&schema(&["id", "displayName", "members"])),
        )
        .unwrap();
        let entra = Mappings::zoho_one();
        let entra_users = schema(&[
            "objectId",
            "userPrincipalName",
            "IsSoftDeleted",
            "displayName",
            "jobTitle",
            "mail",
            "preferredLanguage",
            "givenName",
            "surname",
            "physicalDeliveryOfficeName",
            "streetAddress",
            "city",
            "state",
            "postalCode",
            "country",
            "mobile",
            "facsimileTelephoneNumber",
            "telephoneNumber",
        ]);
        entra
            .validate(
                &entra_users,
                Some(&schema(&["objectId", "displayName", "members"])),
            )
            .unwrap();
        for m in [&m, &entra] {
            assert_eq!(m.users.attributes.len(), 19);
            assert_eq!(m.users.matching()[0].target, "userName");
            assert!(
                m.users
                    .attributes
                    .iter()
                    .all(|a| !matches!(a.source, MappingSource::None))
            );
            assert_eq!(
                m.groups.as_ref().unwrap().matching()[0].target,
                "displayName"
            );
        }
        // Against the other source's schema, the first unknown field is named.
        let e = entra.validate(&crm_schema(), None).unwrap_err();
        let first = e.problems()[0].to_string();
        assert!(
            first.starts_with(
                "users: mapping `source_id`: unknown source field `objectId` (available: id, email"
            ),
            "{first}"
        );
    }

    #[test]
    fn zoho_crm_user_evaluates() {
        let m = Mappings::zoho_one_from_zoho_crm();
        let pairs = m.users.evaluate(&crm_user(), true).unwrap();
        assert_eq!(get(&pairs, "userName"), Some(&json!("ada@example.com")));
        assert_eq!(get(&pairs, "active"), Some(&json!(true)), "boolean target");
        assert_eq!(get(&pairs, "title"), Some(&json!("CEO")));
        assert_eq!(get(&pairs, "preferredLanguage"), Some(&json!("en-GB")));
        assert_eq!(get(&pairs, "name.formatted"), Some(&json!("Ada Lovelace")));
        assert_eq!(
            get(&pairs, "addresses[type eq \"work\"].formatted"),
            Some(&json!("1 Main St, London, N1, UK")),
            "the missing state is skipped"
        );
        assert_eq!(
            get(&pairs, "phoneNumbers[type eq \"work\"].value"),
            Some(&json!("+44 1"))
        );
        assert_eq!(
            get(&pairs, "phoneNumbers[type eq \"mobile\"].value"),
            None,
            "empty: omitted"
        );
        assert_eq!(
            get(&pairs, "phoneNumbers[type eq \"fax\"].value"),
            None,
            "null: omitted"
        );
        assert_eq!(
            get(&pairs, "externalId"),
            Some(&json!("4150868000000225013"))
        );
        assert_eq!(pairs[0].0, "userName", "mapping order");
        let mut inactive = crm_user();
        inactive.insert("status".into(), json!("inactive"));
        let pairs = m.users.evaluate(&inactive, false).unwrap();
        assert_eq!(get(&pairs, "active"), Some(&json!(false)));
        assert_eq!(
            m.users.source_id(&crm_user()).as_deref(),
            Some("4150868000000225013")
        );

        let entra = Mappings::zoho_one();
        let user = json!({"objectId": "o1", "userPrincipalName": "u@x", "IsSoftDeleted": true})
            .as_object()
            .unwrap()
            .clone();
        let pairs = entra.users.evaluate(&user, true).unwrap();
        assert_eq!(get(&pairs, "active"), Some(&json!(false)));
        assert_eq!(pairs.len(), 3);
    }

    #[test]
    fn create_only_defaults_required() {
        let m = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("userName", "email")
                    .matching(1)
                    .required(),
                AttributeMapping::constant("preferredLanguage", "en-US").only_on_create(),
                AttributeMapping::direct("title", "role.name").default_value("Employee"),
                AttributeMapping::none("nickName").default_value("nick"),
                AttributeMapping::expression("displayName", "ToUpper([first_name])").unwrap(),
            ],
        );
        let rec = json!({"id": 5, "email": "a@x", "first_name": "ada"})
            .as_object()
            .unwrap()
            .clone();
        let created = m.evaluate(&rec, true).unwrap();
        assert_eq!(
            created,
            vec![
                ("userName".to_owned(), json!("a@x")),
                ("preferredLanguage".to_owned(), json!("en-US")),
                ("title".to_owned(), json!("Employee")),
                ("nickName".to_owned(), json!("nick")),
                ("displayName".to_owned(), json!("ADA")),
            ]
        );
        let updated = m.evaluate(&rec, false).unwrap();
        assert_eq!(
            updated,
            vec![
                ("userName".to_owned(), json!("a@x")),
                ("displayName".to_owned(), json!("ADA")),
            ],
            "no create-only mapping, no default on update"
        );
        assert_eq!(m.source_id(&rec).as_deref(), Some("5"), "numbers as digits");
        assert_eq!(
            m.source_id(&json!({"id": ""}).as_object().unwrap().clone()),
            None
        );

        let no_email = json!({"id": 5}).as_object().unwrap().clone();
        assert_eq!(
            m.evaluate(&no_email, true).unwrap_err(),
            MappingError::RequiredMissing {
                target: "userName".into()
            }
        );
        let m2 = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("userName", "id").matching(1),
                AttributeMapping::expression("active", "Not([status])").unwrap(),
            ],
        );
        let e = m2
            .evaluate(
                &json!({"id": 1, "status": "maybe"})
                    .as_object()
                    .unwrap()
                    .clone(),
                true,
            )
            .unwrap_err();
        assert!(
            matches!(&e, MappingError::Eval { target, .. } if target == "active"),
            "{e}"
        );
        assert!(e.to_string().contains("\"maybe\""), "{e}");
        let m3 = ObjectMapping::new(
            "id",
            vec![AttributeMapping::direct("active", "status").matching(1)],
        );
        let e = m3
            .evaluate(
                &json!({"status": "sometimes"}).as_object().unwrap().clone(),
                true,
            )
            .unwrap_err();
        assert_eq!(
            e,
            MappingError::NotBoolean {
                target: "active".into(),
                value: "sometimes".into()
            }
        );
    }

    #[test]
    fn validation_names_fields_and_targets() {
        let s = schema(&["id", "email", "role"]);
        let m = ObjectMapping::new(
            "ID",
            vec![
                AttributeMapping::direct("userName", "Email").matching(1),
                AttributeMapping::direct("title", "titel"),
                AttributeMapping::expression("displayName", "Join(\" \", [email], [nope])")
                    .unwrap(),
                AttributeMapping::direct("emails[value co \"x\"]", "email"),
                AttributeMapping::direct("USERNAME", "email"),
                AttributeMapping::none("nickName").required(),
                AttributeMapping::direct("x", "role.name"),
            ],
        )
        .with_scope(ScopeFilter::equals("stat", "a").and(ScopeFilter::regex_match("email", "(")));
        let e = m.validate(&s).unwrap_err();
        let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            vec![
                "mapping `title`: unknown source field `titel` (available: id, email, role)",
                "mapping `displayName`: unknown source field `nope` (available: id, email, role)",
                "mapping `x`: unknown source field `role.name` (available: id, email, role)",
                "mapping `scope`: unknown source field `stat` (available: id, email, role)",
                "mapping target `emails[value co \"x\"]` is not a SCIM path: `emails[value co \"x\"]`: only filters of the form `type eq \"…\"` can name a field",
                "mapping target `USERNAME` is written by more than one mapping",
                "mapping `nickName` is required but has no source",
                "scope: scoping clause on `email`: invalid regular expression `(`: regex parse error:\n    (\n    ^\nerror: unclosed group",
            ],
        );
        let no_match =
            ObjectMapping::new("id", vec![AttributeMapping::direct("userName", "email")]);
        assert_eq!(
            no_match.validate(&s),
            Err(MappingError::NoMatchingAttribute)
        );
        // Dotted paths into Struct / Json fields.
        let nested = Schema::new(vec![
            Field::new("id", DataType::String),
            Field::new(
                "role",
                DataType::Struct(vec![Field::new("name", DataType::String)]),
            ),
            Field::new("extra", DataType::Json),
        ]);
        let ok = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("userName", "role.Name").matching(1),
                AttributeMapping::direct("title", "extra.anything.deep"),
            ],
        );
        ok.validate(&nested).unwrap();
        let bad = ObjectMapping::new(
            "id",
            vec![AttributeMapping::direct("userName", "role.id").matching(1)],
        );
        assert!(bad.validate(&nested).is_err());
        let e = AttributeMapping::expression("title", "Left([a])").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("mapping `title`: expression `Left([a])`"),
            "{e}"
        );
    }

    #[test]
    fn matching_order_and_scope() {
        let m = ObjectMapping::new(
            "id",
            vec![
                AttributeMapping::direct("externalId", "id").matching(2),
                AttributeMapping::direct("title", "t"),
                AttributeMapping::direct("userName", "email").matching(1),
            ],
        );
        let order: Vec<&str> = m.matching().iter().map(|a| a.target.as_str()).collect();
        assert_eq!(order, vec!["userName", "externalId"]);
        let active = json!({"status": "active"}).as_object().unwrap().clone();
        let gone = json!({"status": "deleted"}).as_object().unwrap().clone();
        assert!(m.in_scope(&gone).unwrap(), "no filter: in scope");
        let m = m.with_scope(ScopeFilter::not_equals("status", "deleted"));
        assert!(m.in_scope(&active).unwrap());
        assert!(!m.in_scope(&gone).unwrap());
        let broken = m
            .clone()
            .with_scope(ScopeFilter::regex_match("status", "("));
        assert!(matches!(
            broken.in_scope(&active),
            Err(MappingError::Scope { .. })
        ));
    }

    const TOML: &str = r#"
[users]
source_id = "id"

[[users.attributes]]
target = "userName"
source = "email"
matching = 1
required = true

[[users.attributes]]
target = "active"
expression = 'Switch([status], "False", "active", "True")'

[[users.attributes]]
target = "preferredLanguage"
constant = "en-US"
apply = "create_only"

[[users.attributes]]
target = "title"
source = "role.name"
default_value = "Employee"

[users.scope]
any = [
  { attribute = "status", operator = "EQUALS", value = "active" },
  { attribute = "role.name", operator = "Includes", value = ["CEO", "CTO"] },
]

[groups]
source_id = "id"
[[groups.attributes]]
target = "displayName"
source = "displayName"
matching = 1
required = true
"#;

    fn expected() -> Mappings {
        Mappings {
            users: ObjectMapping::new(
                "id",
                vec![
                    AttributeMapping::direct("userName", "email")
                        .matching(1)
                        .required(),
                    AttributeMapping::expression(
                        "active",
                        r#"Switch([status], "False", "active", "True")"#,
                    )
                    .unwrap(),
                    AttributeMapping::constant("preferredLanguage", "en-US").only_on_create(),
                    AttributeMapping::direct("title", "role.name").default_value("Employee"),
                ],
            )
            .with_scope(
                ScopeFilter::equals("status", "active")
                    .or(ScopeFilter::one_of("role.name", ["CEO", "CTO"])),
            ),
            groups: Some(ObjectMapping::new(
                "id",
                vec![
                    AttributeMapping::direct("displayName", "displayName")
                        .matching(1)
                        .required(),
                ],
            )),
        }
    }

    #[test]
    fn loads_toml_and_json() {
        let m = Mappings::from_toml_str(TOML).unwrap();
        assert_eq!(m, expected());
        let json = m.to_json_string().unwrap();
        assert!(
            json.contains(
                "\"expression\": \"Switch([status], \\\"False\\\", \\\"active\\\", \\\"True\\\")\""
            ),
            "{json}"
        );
        assert_eq!(Mappings::from_json_str(&json).unwrap(), m);
        let toml_text = m.to_toml_string().unwrap();
        assert_eq!(Mappings::from_toml_str(&toml_text).unwrap(), m);
        for d in [Mappings::zoho_one(), Mappings::zoho_one_from_zoho_crm()] {
            assert_eq!(
                Mappings::from_toml_str(&d.to_toml_string().unwrap()).unwrap(),
                d
            );
            assert_eq!(
                Mappings::from_json_str(&d.to_json_string().unwrap()).unwrap(),
                d
            );
        }

        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("m.TOML");
        std::fs::write(&toml_path, TOML).unwrap();
        assert_eq!(Mappings::from_path(&toml_path).unwrap(), expected());
        let json_path = dir.path().join("m.json");
        std::fs::write(&json_path, &json).unwrap();
        assert_eq!(Mappings::from_path(&json_path).unwrap(), expected());
        let yaml = dir.path().join("m.yaml");
        std::fs::write(&yaml, "users: {}").unwrap();
        let e = Mappings::from_path(&yaml).unwrap_err();
        assert!(e.to_string().contains("unknown extension"), "{e}");
        let e = Mappings::from_path(&dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(e, MappingError::File { .. }), "{e}");
    }

    #[test]
    fn file_errors_are_clear() {
        let two = TOML.replacen(
            "source = \"email\"",
            "source = \"email\"\nconstant = \"x\"",
            1,
        );
        let e = Mappings::from_toml_str(&two).unwrap_err();
        assert!(
            e.to_string().contains(
                "mapping `userName`: give only one of `source`, `constant` and `expression`"
            ),
            "{e}"
        );
        let bad_expr = TOML.replace("Switch([status]", "Swtich([status]");
        let e = Mappings::from_toml_str(&bad_expr).unwrap_err();
        assert!(e.to_string().contains("found `Swtich`"), "{e}");
        let unknown = TOML.replacen("required = true", "requird = true", 1);
        let e = Mappings::from_toml_str(&unknown).unwrap_err();
        assert!(e.to_string().contains("requird"), "{e}");
        let no_match = TOML.replacen("matching = 1\n", "", 1);
        let e = Mappings::from_toml_str(&no_match).unwrap_err();
        assert_eq!(
            e.to_string(),
            "users: no matching attribute (give one mapping `matching = 1`)"
        );
        let e = Mappings::from_json_str("{\"users\": {\"source_id\": \"id\", \"attributes\": [{\"target\": \"active\", \"apply\": \"sometimes\"}]}}").unwrap_err();
        assert!(e.to_string().contains("sometimes"), "{e}");
        let only_during = Mappings::from_json_str("{\"users\": {\"source_id\": \"id\", \"attributes\": [{\"target\": \"userName\", \"source\": \"id\", \"matching\": 1, \"apply\": \"OnlyDuringCreation\"}]}}").unwrap();
        assert_eq!(only_during.users.attributes[0].apply, ApplyOn::CreateOnly);
    }
}
