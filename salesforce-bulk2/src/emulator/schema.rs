//! The org's sObjects and their fields: the default org, and describe JSON.

use std::collections::HashMap;

use serde_json::{Value, json};

/// A field's type, as describe's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Id,
    Reference,
    String,
    TextArea,
    Email,
    Phone,
    Url,
    Picklist,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    DateTime,
    Time,
}

impl FieldType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::String => "string",
            FieldType::TextArea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Time => "time",
        }
    }

    fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Time => "xsd:time",
            _ => "xsd:string",
        }
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }

    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::Reference
                | FieldType::String
                | FieldType::TextArea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
        )
    }
}

/// One field of an sObject.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) ftype: FieldType,
    pub(crate) length: u32,
    pub(crate) precision: u32,
    pub(crate) scale: u32,
    pub(crate) digits: u32,
    pub(crate) nillable: bool,
    pub(crate) createable: bool,
    pub(crate) updateable: bool,
    pub(crate) unique: bool,
    pub(crate) external_id: bool,
    pub(crate) id_lookup: bool,
    pub(crate) defaulted_on_create: bool,
    pub(crate) calculated: bool,
    pub(crate) custom: bool,
    pub(crate) reference_to: Option<String>,
    pub(crate) relationship_name: Option<String>,
    pub(crate) picklist: Vec<String>,
    pub(crate) restricted_picklist: bool,
    /// Filled by the emulator (system fields, Contact.Name).
    pub(crate) system: bool,
}

impl FieldDef {
    fn new(name: &str, label: &str, ftype: FieldType) -> Self {
        let length = match ftype {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String | FieldType::Url | FieldType::Picklist | FieldType::Email => 255,
            FieldType::Phone => 40,
            FieldType::TextArea => 32_000,
            _ => 0,
        };
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            ftype,
            length,
            precision: 0,
            scale: 0,
            digits: if ftype == FieldType::Int { 9 } else { 0 },
            nillable: true,
            createable: true,
            updateable: true,
            unique: false,
            external_id: false,
            id_lookup: false,
            defaulted_on_create: false,
            calculated: false,
            custom: name.ends_with("__c"),
            reference_to: None,
            relationship_name: None,
            picklist: Vec::new(),
            restricted_picklist: false,
            system: false,
        }
    }

    fn length(mut self, n: u32) -> Self {
        self.length = n;
        self
    }

    fn number(mut self, precision: u32, scale: u32) -> Self {
        self.precision = precision;
        self.scale = scale;
        self
    }

    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    fn external_id(mut self) -> Self {
        self.external_id = true;
        self.unique = true;
        self.id_lookup = true;
        self
    }

    fn reference(mut self, to: &str, relationship: &str) -> Self {
        self.reference_to = Some(to.to_owned());
        self.relationship_name = Some(relationship.to_owned());
        self
    }

    fn picklist(mut self, values: &[&str], restricted: bool) -> Self {
        self.picklist = values.iter().map(|v| (*v).to_owned()).collect();
        self.restricted_picklist = restricted;
        self
    }

    fn system(mut self) -> Self {
        self.system = true;
        self.createable = false;
        self.updateable = false;
        self.defaulted_on_create = true;
        self
    }

    fn defaulted(mut self) -> Self {
        self.defaulted_on_create = true;
        self
    }

    fn describe(&self) -> Value {
        let byte_length = if self.ftype.is_text() {
            self.length * 3
        } else {
            0
        };
        let picklist: Vec<Value> = self
            .picklist
            .iter()
            .map(|v| json!({"active": true, "defaultValue": false, "label": v, "validFor": null, "value": v}))
            .collect();
        json!({
            "aggregatable": self.ftype != FieldType::TextArea,
            "autoNumber": false,
            "byteLength": byte_length,
            "calculated": self.calculated,
            "caseSensitive": false,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": if self.ftype == FieldType::Boolean { Value::Bool(false) } else { Value::Null },
            "defaultedOnCreate": self.defaulted_on_create,
            "digits": self.digits,
            "externalId": self.external_id,
            "filterable": self.ftype != FieldType::TextArea,
            "groupable": !matches!(self.ftype, FieldType::TextArea | FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::DateTime),
            "htmlFormatted": false,
            "idLookup": self.id_lookup || self.ftype == FieldType::Id,
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name == "Name",
            "nillable": self.nillable,
            "picklistValues": picklist,
            "precision": self.precision,
            "referenceTo": self.reference_to.iter().collect::<Vec<_>>(),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted_picklist,
            "scale": self.scale,
            "soapType": self.ftype.soap_type(),
            "sortable": self.ftype != FieldType::TextArea,
            "type": self.ftype.name(),
            "unique": self.unique,
            "updateable": self.updateable,
        })
    }
}

/// One sObject.
#[derive(Debug, Clone)]
pub(crate) struct ObjectDef {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) label_plural: String,
    pub(crate) key_prefix: String,
    pub(crate) custom: bool,
    pub(crate) fields: Vec<FieldDef>,
    index: HashMap<String, usize>,
    relationships: HashMap<String, usize>,
}

/// Positions of the system fields every object has, in this order.
pub(crate) const F_ID: usize = 0;
pub(crate) const F_IS_DELETED: usize = 1;
pub(crate) const F_CREATED_DATE: usize = 2;
pub(crate) const F_CREATED_BY: usize = 3;
pub(crate) const F_LAST_MODIFIED_DATE: usize = 4;
pub(crate) const F_LAST_MODIFIED_BY: usize = 5;
pub(crate) const F_SYSTEM_MODSTAMP: usize = 6;

impl ObjectDef {
    fn new(name: &str, label: &str, plural: &str, prefix: &str, fields: Vec<FieldDef>) -> Self {
        let mut all = vec![
            FieldDef::new("Id", &format!("{label} ID"), FieldType::Id)
                .system()
                .required(),
            FieldDef::new("IsDeleted", "Deleted", FieldType::Boolean)
                .system()
                .required(),
            FieldDef::new("CreatedDate", "Created Date", FieldType::DateTime)
                .system()
                .required(),
            FieldDef::new("CreatedById", "Created By ID", FieldType::Reference)
                .reference("User", "CreatedBy")
                .system()
                .required(),
            FieldDef::new(
                "LastModifiedDate",
                "Last Modified Date",
                FieldType::DateTime,
            )
            .system()
            .required(),
            FieldDef::new(
                "LastModifiedById",
                "Last Modified By ID",
                FieldType::Reference,
            )
            .reference("User", "LastModifiedBy")
            .system()
            .required(),
            FieldDef::new("SystemModstamp", "System Modstamp", FieldType::DateTime)
                .system()
                .required(),
        ];
        all.extend(fields);
        for f in &mut all {
            if f.system {
                f.custom = false;
            }
        }
        let index = all
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        let relationships = all
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.relationship_name
                    .as_ref()
                    .map(|r| (r.to_ascii_lowercase(), i))
            })
            .collect();
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            label_plural: plural.to_owned(),
            key_prefix: prefix.to_owned(),
            custom: name.ends_with("__c"),
            fields: all,
            index,
            relationships,
        }
    }

    /// The position of a field, by name (any case).
    pub(crate) fn field(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }

    /// The reference field a relationship name (any case) goes through.
    pub(crate) fn relationship(&self, name: &str) -> Option<usize> {
        self.relationships.get(&name.to_ascii_lowercase()).copied()
    }

    pub(crate) fn describe(&self, version: &str) -> Value {
        let mut v = self.global_describe(version);
        if let Value::Object(map) = &mut v {
            map.insert(
                "fields".to_owned(),
                Value::Array(self.fields.iter().map(FieldDef::describe).collect()),
            );
            map.insert("childRelationships".to_owned(), json!([]));
            map.insert("recordTypeInfos".to_owned(), json!([]));
        }
        v
    }

    pub(crate) fn global_describe(&self, version: &str) -> Value {
        let base = format!("/services/data/v{version}/sobjects/{}", self.name);
        json!({
            "activateable": false,
            "createable": true,
            "custom": self.custom,
            "customSetting": false,
            "deletable": true,
            "deprecatedAndHidden": false,
            "feedEnabled": false,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": true,
            "mergeable": false,
            "mruEnabled": true,
            "name": self.name,
            "queryable": true,
            "replicateable": true,
            "retrieveable": true,
            "searchable": true,
            "triggerable": true,
            "undeletable": true,
            "updateable": true,
            "urls": {
                "sobject": base,
                "describe": format!("{base}/describe"),
                "rowTemplate": format!("{base}/{{ID}}"),
            },
        })
    }
}

/// The org's sObjects.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) objects: Vec<ObjectDef>,
    index: HashMap<String, usize>,
}

pub(crate) const USER: usize = 0;

impl Schema {
    /// User, Account, Contact and Invoice__c.
    pub(crate) fn default_org() -> Self {
        use FieldType as T;
        let user = ObjectDef::new(
            "User",
            "User",
            "Users",
            "005",
            vec![
                FieldDef::new("Username", "Username", T::String)
                    .length(80)
                    .required()
                    .external_id(),
                FieldDef::new("Name", "Full Name", T::String)
                    .length(121)
                    .system(),
                FieldDef::new("FirstName", "First Name", T::String).length(40),
                FieldDef::new("LastName", "Last Name", T::String)
                    .length(80)
                    .required(),
                FieldDef::new("Email", "Email", T::Email)
                    .length(128)
                    .required(),
                FieldDef::new("IsActive", "Active", T::Boolean)
                    .required()
                    .defaulted(),
            ],
        );
        let account = ObjectDef::new(
            "Account",
            "Account",
            "Accounts",
            "001",
            vec![
                FieldDef::new("Name", "Account Name", T::String).required(),
                FieldDef::new("AccountNumber", "Account Number", T::String).length(40),
                FieldDef::new("Type", "Account Type", T::Picklist)
                    .length(255)
                    .picklist(
                        &[
                            "Prospect",
                            "Customer - Direct",
                            "Customer - Channel",
                            "Partner",
                            "Other",
                        ],
                        false,
                    ),
                FieldDef::new("Industry", "Industry", T::Picklist).picklist(
                    &[
                        "Agriculture",
                        "Banking",
                        "Education",
                        "Energy",
                        "Retail",
                        "Technology",
                    ],
                    false,
                ),
                FieldDef::new("AnnualRevenue", "Annual Revenue", T::Currency).number(18, 0),
                FieldDef::new("NumberOfEmployees", "Employees", T::Int).number(0, 0),
                FieldDef::new("Phone", "Account Phone", T::Phone),
                FieldDef::new("Website", "Website", T::Url),
                FieldDef::new("Description", "Account Description", T::TextArea),
                FieldDef::new("BillingCity", "Billing City", T::String).length(40),
                FieldDef::new("BillingCountry", "Billing Country", T::String).length(80),
                FieldDef::new("ParentId", "Parent Account ID", T::Reference)
                    .reference("Account", "Parent"),
                FieldDef::new("OwnerId", "Owner ID", T::Reference)
                    .reference("User", "Owner")
                    .required()
                    .defaulted(),
                FieldDef::new("Active__c", "Active", T::Boolean)
                    .required()
                    .defaulted(),
                FieldDef::new("Customer_Since__c", "Customer Since", T::Date),
                FieldDef::new("Account_Code__c", "Account Code", T::String)
                    .length(20)
                    .external_id(),
            ],
        );
        let contact = ObjectDef::new(
            "Contact",
            "Contact",
            "Contacts",
            "003",
            vec![
                FieldDef::new("FirstName", "First Name", T::String).length(40),
                FieldDef::new("LastName", "Last Name", T::String)
                    .length(80)
                    .required(),
                FieldDef::new("Name", "Full Name", T::String)
                    .length(121)
                    .system(),
                FieldDef::new("AccountId", "Account ID", T::Reference)
                    .reference("Account", "Account"),
                FieldDef::new("Email", "Email", T::Email).length(80),
                FieldDef::new("Phone", "Business Phone", T::Phone),
                FieldDef::new("Title", "Title", T::String).length(128),
                FieldDef::new("Birthdate", "Birthdate", T::Date),
                FieldDef::new("LeadSource", "Lead Source", T::Picklist).picklist(
                    &["Web", "Phone Inquiry", "Partner Referral", "Other"],
                    false,
                ),
                FieldDef::new("DoNotCall", "Do Not Call", T::Boolean)
                    .required()
                    .defaulted(),
                FieldDef::new("Description", "Contact Description", T::TextArea),
                FieldDef::new("OwnerId", "Owner ID", T::Reference)
                    .reference("User", "Owner")
                    .required()
                    .defaulted(),
            ],
        );
        let invoice = ObjectDef::new(
            "Invoice__c",
            "Invoice",
            "Invoices",
            "a01",
            vec![
                FieldDef::new("Name", "Invoice Name", T::String)
                    .length(80)
                    .required(),
                FieldDef::new("External_Id__c", "External Id", T::String)
                    .length(40)
                    .external_id(),
                FieldDef::new("Account__c", "Account", T::Reference)
                    .reference("Account", "Account__r"),
                FieldDef::new("Contact__c", "Contact", T::Reference)
                    .reference("Contact", "Contact__r"),
                FieldDef::new("Amount__c", "Amount", T::Currency).number(16, 2),
                FieldDef::new("Tax_Rate__c", "Tax Rate", T::Percent).number(5, 2),
                FieldDef::new("Quantity__c", "Quantity", T::Double).number(18, 4),
                FieldDef::new("Line_Count__c", "Line Count", T::Int).number(0, 0),
                FieldDef::new("Paid__c", "Paid", T::Boolean)
                    .required()
                    .defaulted(),
                FieldDef::new("Issue_Date__c", "Issue Date", T::Date),
                FieldDef::new("Due_Date__c", "Due Date", T::Date),
                FieldDef::new("Sent_At__c", "Sent At", T::DateTime),
                FieldDef::new("Pickup_Time__c", "Pickup Time", T::Time),
                FieldDef::new("Status__c", "Status", T::Picklist)
                    .picklist(&["Draft", "Sent", "Paid", "Void"], true),
                FieldDef::new("Notes__c", "Notes", T::TextArea).length(32_768),
                FieldDef::new("Contact_Email__c", "Contact Email", T::Email),
                FieldDef::new("Billing_Phone__c", "Billing Phone", T::Phone),
                FieldDef::new("Portal_Url__c", "Portal URL", T::Url),
                FieldDef::new("OwnerId", "Owner ID", T::Reference)
                    .reference("User", "Owner")
                    .required()
                    .defaulted(),
            ],
        );
        let objects = vec![user, account, contact, invoice];
        let index = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        Self { objects, index }
    }

    /// The position of an object, by name (any case).
    pub(crate) fn object(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }

    /// The object whose ids start with this key prefix.
    pub(crate) fn object_by_prefix(&self, prefix: &str) -> Option<usize> {
        self.objects.iter().position(|o| o.key_prefix == prefix)
    }
}
