//! The schemas the emulator serves (RFC 7643 §4 and §8.7.1): core User, the
//! Enterprise User extension and core Group, with their attribute characteristics.
//!
//! The same definitions drive `/Schemas`, validation of request bodies, projection
//! (`returned`), case-exactness in filters and sorting, and mutability checks.

use serde_json::{Map, Value, json};

use crate::path::AttrPath;

/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The Enterprise User extension schema URN.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub(crate) const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub(crate) const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub(crate) const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub(crate) const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub(crate) const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub(crate) const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub(crate) const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub(crate) const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// An attribute's data type (RFC 7643 §2.3). All are listed and validated,
/// though the built-in schemas use only some.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl Ty {
    fn as_str(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Boolean => "boolean",
            Ty::Decimal => "decimal",
            Ty::Integer => "integer",
            Ty::DateTime => "dateTime",
            Ty::Binary => "binary",
            Ty::Reference => "reference",
            Ty::Complex => "complex",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// RFC 7643 §7 `returned` (no built-in attribute is `request`).
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// One attribute definition.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) multi: bool,
    pub(crate) required: bool,
    pub(crate) case_exact: bool,
    pub(crate) mutability: Mutability,
    pub(crate) returned: Returned,
    pub(crate) unique: bool,
    pub(crate) description: &'static str,
    pub(crate) canonical: &'static [&'static str],
    pub(crate) reference_types: &'static [&'static str],
    pub(crate) sub: Vec<Attr>,
}

fn attr(name: &'static str, ty: Ty, description: &'static str) -> Attr {
    Attr {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        description,
        canonical: &[],
        reference_types: &[],
        sub: Vec::new(),
    }
}

fn string(name: &'static str, description: &'static str) -> Attr {
    attr(name, Ty::String, description)
}

fn complex(name: &'static str, description: &'static str, sub: Vec<Attr>) -> Attr {
    Attr {
        sub,
        ..attr(name, Ty::Complex, description)
    }
}

fn reference(
    name: &'static str,
    types: &'static [&'static str],
    description: &'static str,
) -> Attr {
    Attr {
        reference_types: types,
        ..attr(name, Ty::Reference, description)
    }
}

impl Attr {
    fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }
    fn immutable(mut self) -> Self {
        self.mutability = Mutability::Immutable;
        self
    }
    fn write_only(mut self) -> Self {
        self.mutability = Mutability::WriteOnly;
        self
    }
    fn never(mut self) -> Self {
        self.returned = Returned::Never;
        self
    }
    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }

    /// The sub-attribute named `name`, ignoring ASCII case.
    pub(crate) fn sub_attr(&self, name: &str) -> Option<&Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attribute's RFC 7643 §7 schema representation.
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        m.insert("multiValued".into(), json!(self.multi));
        m.insert("description".into(), json!(self.description));
        m.insert("required".into(), json!(self.required));
        if !self.canonical.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical));
        }
        if self.ty != Ty::Complex && self.ty != Ty::Boolean {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        m.insert(
            "mutability".into(),
            json!(match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            }),
        );
        m.insert(
            "returned".into(),
            json!(match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
                Returned::Request => "request",
            }),
        );
        m.insert(
            "uniqueness".into(),
            json!(if self.unique { "server" } else { "none" }),
        );
        if self.ty == Ty::Reference {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if !self.sub.is_empty() {
            m.insert(
                "subAttributes".into(),
                Value::Array(self.sub.iter().map(Attr::to_json).collect()),
            );
        }
        Value::Object(m)
    }
}

/// A schema: its URN, name and attributes.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) attributes: Vec<Attr>,
}

impl Schema {
    /// The attribute named `name`, ignoring ASCII case.
    pub(crate) fn attr(&self, name: &str) -> Option<&Attr> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation, served by `/Schemas`.
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attr::to_json).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            },
        })
    }
}

fn multi_valued_sub(value: Attr, types: &'static [&'static str]) -> Vec<Attr> {
    vec![
        value,
        string(
            "display",
            "A human-readable name, primarily used for display purposes.",
        ),
        string("type", "A label indicating the attribute's function.").canonical(types),
        attr(
            "primary",
            Ty::Boolean,
            "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.",
        ),
    ]
}

fn user_schema() -> Schema {
    Schema {
        id: USER_SCHEMA,
        name: "User",
        description: "User Account",
        attributes: vec![
            string(
                "userName",
                "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.",
            )
            .required()
            .unique(),
            complex(
                "name",
                "The components of the user's real name.",
                vec![
                    string("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
                    string("familyName", "The family name of the User, or last name in most Western languages."),
                    string("givenName", "The given name of the User, or first name in most Western languages."),
                    string("middleName", "The middle name(s) of the User."),
                    string("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages."),
                    string("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages."),
                ],
            ),
            string("displayName", "The name of the User, suitable for display to end-users."),
            string("nickName", "The casual way to address the user in real life."),
            reference("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
            string("title", "The user's title, such as \"Vice President\"."),
            string("userType", "Used to identify the relationship between the organization and the user."),
            string("preferredLanguage", "Indicates the User's preferred written or spoken language."),
            string("locale", "Used to indicate the User's default location for purposes of localizing items such as currency."),
            string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            attr("active", Ty::Boolean, "A Boolean value indicating the User's administrative status."),
            string("password", "The User's cleartext password, used to set or change it; never returned.")
                .write_only()
                .never(),
            complex(
                "emails",
                "Email addresses for the user.",
                multi_valued_sub(
                    string("value", "Email addresses for the user."),
                    &["work", "home", "other"],
                ),
            )
            .multi(),
            complex(
                "phoneNumbers",
                "Phone numbers for the User.",
                multi_valued_sub(
                    string("value", "Phone number of the User."),
                    &["work", "home", "mobile", "fax", "pager", "other"],
                ),
            )
            .multi(),
            complex(
                "ims",
                "Instant messaging addresses for the User.",
                multi_valued_sub(
                    string("value", "Instant messaging address for the User."),
                    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
                ),
            )
            .multi(),
            complex(
                "photos",
                "URLs of photos of the User.",
                multi_valued_sub(
                    reference("value", &["external"], "URL of a photo of the User."),
                    &["photo", "thumbnail"],
                ),
            )
            .multi(),
            complex(
                "addresses",
                "A physical mailing address for this User.",
                vec![
                    string("formatted", "The full mailing address, formatted for display or use with a mailing label."),
                    string("streetAddress", "The full street address component."),
                    string("locality", "The city or locality component."),
                    string("region", "The state or region component."),
                    string("postalCode", "The zip code or postal code component."),
                    string("country", "The country name component."),
                    string("type", "A label indicating the attribute's function.").canonical(&["work", "home", "other"]),
                    attr("primary", Ty::Boolean, "A Boolean value indicating the primary address."),
                ],
            )
            .multi(),
            complex(
                "groups",
                "A list of groups to which the user belongs, computed by the service provider.",
                vec![
                    string("value", "The identifier of the User's group.").read_only(),
                    reference("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource.").read_only(),
                    string("display", "A human-readable name, primarily used for display purposes.").read_only(),
                    string("type", "A label indicating the attribute's function.")
                        .canonical(&["direct", "indirect"])
                        .read_only(),
                ],
            )
            .multi()
            .read_only(),
            complex(
                "entitlements",
                "A list of entitlements for the User that represent a thing the User has.",
                multi_valued_sub(string("value", "The value of an entitlement."), &[]),
            )
            .multi(),
            complex(
                "roles",
                "A list of roles for the User that collectively represent who the User is.",
                multi_valued_sub(string("value", "The value of a role."), &[]),
            )
            .multi(),
            complex(
                "x509Certificates",
                "A list of certificates issued to the User.",
                multi_valued_sub(attr("value", Ty::Binary, "The value of an X.509 certificate."), &[]),
            )
            .multi(),
        ],
    }
}

fn enterprise_user_schema() -> Schema {
    Schema {
        id: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            string(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.",
            ),
            string("costCenter", "Identifies the name of a cost center."),
            string("organization", "Identifies the name of an organization."),
            string("division", "Identifies the name of a division."),
            string("department", "Identifies the name of a department."),
            complex(
                "manager",
                "The User's manager.",
                vec![
                    string(
                        "value",
                        "The id of the SCIM resource representing the User's manager.",
                    ),
                    reference(
                        "$ref",
                        &["User"],
                        "The URI of the SCIM resource representing the User's manager.",
                    ),
                    string("displayName", "The displayName of the User's manager.").read_only(),
                ],
            ),
        ],
    }
}

fn group_schema() -> Schema {
    Schema {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            string("displayName", "A human-readable name for the Group.").required(),
            complex(
                "members",
                "A list of members of the Group.",
                vec![
                    string("value", "Identifier of the member of this Group.").immutable(),
                    reference(
                        "$ref",
                        &["User", "Group"],
                        "The URI corresponding to a SCIM resource that is a member of this Group.",
                    )
                    .immutable(),
                    string("display", "A human-readable name for the member."),
                    string(
                        "type",
                        "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                    )
                    .canonical(&["User", "Group"])
                    .immutable(),
                ],
            )
            .multi(),
        ],
    }
}

/// The two resource types the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    pub(crate) const ALL: [Kind; 2] = [Kind::User, Kind::Group];

    /// The resource type name (`User`, `Group`), as in `meta.resourceType`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint segment (`Users`, `Groups`).
    pub(crate) fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub(crate) fn core_schema_id(self) -> &'static str {
        match self {
            Kind::User => USER_SCHEMA,
            Kind::Group => GROUP_SCHEMA,
        }
    }
}

/// All schemas, built once.
#[derive(Debug)]
pub(crate) struct Schemas {
    pub(crate) user: Schema,
    pub(crate) enterprise: Schema,
    pub(crate) group: Schema,
}

impl Schemas {
    pub(crate) fn new() -> Self {
        Self {
            user: user_schema(),
            enterprise: enterprise_user_schema(),
            group: group_schema(),
        }
    }

    pub(crate) fn all(&self) -> [&Schema; 3] {
        [&self.user, &self.enterprise, &self.group]
    }

    pub(crate) fn core(&self, kind: Kind) -> &Schema {
        match kind {
            Kind::User => &self.user,
            Kind::Group => &self.group,
        }
    }

    /// The extension schemas of `kind`.
    pub(crate) fn extensions(&self, kind: Kind) -> &[Schema] {
        match kind {
            Kind::User => std::slice::from_ref(&self.enterprise),
            Kind::Group => &[],
        }
    }

    /// The extension of `kind` whose URN is `urn` (ignoring ASCII case).
    pub(crate) fn extension(&self, kind: Kind, urn: &str) -> Option<&Schema> {
        self.extensions(kind)
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The definition of the attribute `path` names in `kind`, descending into a
    /// sub-attribute when the path has one. `None` for common attributes (`id`,
    /// `externalId`, `meta`) and unknown names.
    pub(crate) fn resolve(&self, kind: Kind, path: &AttrPath) -> Option<&Attr> {
        let schema = match &path.uri {
            None => self.core(kind),
            Some(uri) if uri.eq_ignore_ascii_case(kind.core_schema_id()) => self.core(kind),
            Some(uri) => self.extension(kind, uri)?,
        };
        let top = schema.attr(&path.name)?;
        match &path.sub_attr {
            None => Some(top),
            Some(sub) => top.sub_attr(sub),
        }
    }

    /// Whether string values at `path` compare case-sensitively in `kind`.
    pub(crate) fn case_exact(&self, kind: Kind, path: &AttrPath) -> bool {
        if path.uri.is_none()
            && path.sub_attr.is_none()
            && (path.name.eq_ignore_ascii_case("id")
                || path.name.eq_ignore_ascii_case("externalId"))
        {
            return true;
        }
        if path.uri.is_none() && path.name.eq_ignore_ascii_case("meta") {
            return path
                .sub_attr
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("version"));
        }
        self.resolve(kind, path).is_some_and(|a| a.case_exact)
    }

    /// The `/ResourceTypes` representation of `kind`.
    pub(crate) fn resource_type_json(&self, kind: Kind, base_url: &str) -> Value {
        let extensions: Vec<Value> = self
            .extensions(kind)
            .iter()
            .map(|s| json!({"schema": s.id, "required": false}))
            .collect();
        let mut v = json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": kind.name(),
            "name": kind.name(),
            "endpoint": format!("/{}", kind.endpoint()),
            "description": match kind {
                Kind::User => "User Account",
                Kind::Group => "Group",
            },
            "schema": kind.core_schema_id(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", kind.name()),
            },
        });
        if !extensions.is_empty()
            && let Some(obj) = v.as_object_mut()
        {
            obj.insert("schemaExtensions".into(), Value::Array(extensions));
        }
        v
    }
}
