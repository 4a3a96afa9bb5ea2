//! Module and field metadata of the standard modules the emulator holds records for
//! (Leads, Contacts, Accounts, Deals), as `GET /settings/modules` and
//! `GET /settings/fields` show it.

use serde_json::{Value, json};

/// Every id the emulator makes is `ID_BASE + n`: 19 digits, as Zoho's are.
pub(crate) const ID_BASE: u64 = 5_725_767_000_000_000_000;

/// A field's `data_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataType {
    Text,
    TextArea,
    Email,
    Phone,
    Website,
    Picklist,
    MultiSelectPicklist,
    Integer,
    BigInt,
    Currency,
    Double,
    Percent,
    Boolean,
    Date,
    DateTime,
    Lookup,
    OwnerLookup,
}

impl DataType {
    pub(crate) fn api(self) -> &'static str {
        match self {
            DataType::Text => "text",
            DataType::TextArea => "textarea",
            DataType::Email => "email",
            DataType::Phone => "phone",
            DataType::Website => "website",
            DataType::Picklist => "picklist",
            DataType::MultiSelectPicklist => "multiselectpicklist",
            DataType::Integer => "integer",
            DataType::BigInt => "bigint",
            DataType::Currency => "currency",
            DataType::Double => "double",
            DataType::Percent => "percent",
            DataType::Boolean => "boolean",
            DataType::Date => "date",
            DataType::DateTime => "datetime",
            DataType::Lookup => "lookup",
            DataType::OwnerLookup => "ownerlookup",
        }
    }

    pub(crate) fn json_type(self) -> &'static str {
        match self {
            DataType::Integer => "integer",
            DataType::Currency | DataType::Double | DataType::Percent => "double",
            DataType::Boolean => "boolean",
            DataType::Lookup | DataType::OwnerLookup => "jsonobject",
            DataType::MultiSelectPicklist => "jsonarray",
            _ => "string",
        }
    }

    fn default_length(self) -> u32 {
        match self {
            DataType::Text | DataType::Website => 255,
            DataType::TextArea => 32_000,
            DataType::Email => 100,
            DataType::Phone => 30,
            DataType::Picklist | DataType::Lookup | DataType::OwnerLookup => 120,
            DataType::MultiSelectPicklist => 2000,
            DataType::Integer => 9,
            DataType::BigInt => 18,
            DataType::Currency | DataType::Double => 16,
            DataType::Percent => 5,
            DataType::Boolean => 5,
            DataType::Date => 20,
            DataType::DateTime => 120,
        }
    }

    /// Types whose values are strings compared as text.
    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            DataType::Text
                | DataType::TextArea
                | DataType::Email
                | DataType::Phone
                | DataType::Website
                | DataType::Picklist
        )
    }
}

/// One field's metadata.
#[derive(Debug, Clone)]
pub(crate) struct FieldMeta {
    pub(crate) api_name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) data_type: DataType,
    pub(crate) length: u32,
    pub(crate) decimal_place: Option<u32>,
    pub(crate) mandatory: bool,
    pub(crate) read_only: bool,
    pub(crate) unique: bool,
    pub(crate) custom: bool,
    pub(crate) picklist: &'static [&'static str],
    pub(crate) lookup: Option<&'static str>,
    pub(crate) id: u64,
}

fn fld(api_name: &'static str, label: &'static str, data_type: DataType) -> FieldMeta {
    let decimal_place = match data_type {
        DataType::Currency | DataType::Double | DataType::Percent => Some(2),
        _ => None,
    };
    FieldMeta {
        api_name,
        label,
        data_type,
        length: data_type.default_length(),
        decimal_place,
        mandatory: false,
        read_only: false,
        unique: false,
        custom: false,
        picklist: &[],
        lookup: None,
        id: 0,
    }
}

impl FieldMeta {
    fn len(mut self, length: u32) -> Self {
        self.length = length;
        self
    }
    fn dp(mut self, places: u32) -> Self {
        self.decimal_place = Some(places);
        self
    }
    fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }
    fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    fn custom(mut self) -> Self {
        self.custom = true;
        self
    }
    fn pick(mut self, values: &'static [&'static str]) -> Self {
        self.picklist = values;
        self
    }
    fn lookup(mut self, module: &'static str) -> Self {
        self.lookup = Some(module);
        self
    }

    /// The field as `GET /settings/fields` shows it.
    pub(crate) fn to_json(&self, meta: &Meta) -> Value {
        let pick_list_values: Vec<Value> = self
            .picklist
            .iter()
            .enumerate()
            .map(|(i, v)| {
                json!({
                    "display_value": v,
                    "sequence_number": i + 1,
                    "reference_value": v,
                    "colour_code": null,
                    "actual_value": v,
                    "id": (ID_BASE + 50_000_000 + self.id.saturating_sub(ID_BASE) * 32 + i as u64).to_string(),
                    "type": "used",
                })
            })
            .collect();
        let lookup = match (self.data_type, self.lookup) {
            (DataType::Lookup, Some(module)) => {
                let module_id = meta.module(module).map(|m| m.id.to_string());
                json!({
                    "display_label": self.label,
                    "api_name": self.api_name,
                    "module": {"api_name": module, "id": module_id},
                    "id": (self.id + 1).to_string(),
                })
            }
            _ => json!({}),
        };
        let currency = if self.data_type == DataType::Currency {
            json!({"rounding_option": "normal", "precision": self.decimal_place.unwrap_or(2)})
        } else {
            json!({})
        };
        let textarea = if self.data_type == DataType::TextArea {
            json!({"type": if self.length > 2000 { "large" } else { "small" }})
        } else {
            Value::Null
        };
        let unique = if self.unique {
            json!({"casesensitive": "false"})
        } else {
            json!({})
        };
        json!({
            "api_name": self.api_name,
            "field_label": self.label,
            "display_label": self.label,
            "data_type": self.data_type.api(),
            "json_type": self.data_type.json_type(),
            "length": self.length,
            "decimal_place": self.decimal_place,
            "system_mandatory": self.mandatory,
            "read_only": self.read_only,
            "field_read_only": self.read_only,
            "visible": true,
            "virtual_field": false,
            "custom_field": self.custom,
            "created_source": if self.custom { "user" } else { "default" },
            "unique": unique,
            "pick_list_values": pick_list_values,
            "lookup": lookup,
            "currency": currency,
            "textarea": textarea,
            "formula": {},
            "rollup_summary": {},
            "auto_number": {},
            "multiselectlookup": {},
            "crypt": null,
            "private": null,
            "sortable": !matches!(self.data_type, DataType::TextArea | DataType::MultiSelectPicklist),
            "filterable": self.data_type != DataType::TextArea,
            "searchable": self.data_type.is_text(),
            "operation_type": {
                "web_update": !self.read_only,
                "api_create": !self.read_only,
                "web_create": !self.read_only,
                "api_update": !self.read_only,
            },
            "view_type": {
                "view": true,
                "edit": !self.read_only,
                "quick_create": self.mandatory,
                "create": !self.read_only,
            },
            "type": "used",
            "id": self.id.to_string(),
        })
    }
}

/// One module's metadata; `fields` is empty for modules the API cannot read.
#[derive(Debug, Clone)]
pub(crate) struct ModuleMeta {
    pub(crate) api_name: &'static str,
    pub(crate) singular: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) id: u64,
    pub(crate) sequence: u32,
    pub(crate) api_supported: bool,
    pub(crate) fields: Vec<FieldMeta>,
    /// The field a lookup to this module shows as `name`.
    pub(crate) display_field: &'static str,
    /// Upsert's default `duplicate_check_fields`.
    pub(crate) dup_check: &'static [&'static str],
}

impl ModuleMeta {
    /// The field with this API name (exact, then ignoring ASCII case).
    pub(crate) fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.api_name == name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.api_name.eq_ignore_ascii_case(name))
        })
    }

    /// Whether records can be read and written through the API.
    pub(crate) fn has_records(&self) -> bool {
        self.api_supported && !self.fields.is_empty()
    }

    /// Fields upsert may use as `duplicate_check_fields` (and that are indexed).
    pub(crate) fn dup_checkable(&self, field: &FieldMeta) -> bool {
        field.unique || self.dup_check.contains(&field.api_name)
    }

    /// Indexed fields: unique ones and the default duplicate-check ones.
    pub(crate) fn indexed_fields(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter(|f| self.dup_checkable(f))
            .map(|f| f.api_name)
            .collect()
    }

    /// The module as `GET /settings/modules` shows it.
    pub(crate) fn to_json(&self, profiles: &[(String, u64)]) -> Value {
        let profiles: Vec<Value> = profiles
            .iter()
            .map(|(name, id)| json!({"name": name, "id": id.to_string()}))
            .collect();
        let data = self.has_records();
        json!({
            "has_more_profiles": false,
            "access_type": "org_based",
            "api_name": self.api_name,
            "module_name": self.api_name,
            "singular_label": self.singular,
            "plural_label": self.plural,
            "id": self.id.to_string(),
            "api_supported": self.api_supported,
            "viewable": true,
            "creatable": data,
            "editable": data,
            "deletable": data,
            "convertable": self.api_name == "Leads",
            "generated_type": "default",
            "modified_time": null,
            "modified_by": null,
            "sequence_number": self.sequence,
            "visibility": 1,
            "visible": true,
            "status": "visible",
            "show_as_tab": true,
            "quick_create": data,
            "global_search_supported": data,
            "filter_supported": data,
            "feeds_required": false,
            "triggers_supported": data,
            "isBlueprintSupported": data,
            "web_link": null,
            "description": null,
            "parent_module": {},
            "arguments": [],
            "profiles": profiles,
        })
    }
}

/// Every module.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) modules: Vec<ModuleMeta>,
}

impl Meta {
    /// A module the API can read records of, by API name (ignoring ASCII case).
    pub(crate) fn module(&self, name: &str) -> Option<&ModuleMeta> {
        self.modules
            .iter()
            .find(|m| m.has_records() && m.api_name.eq_ignore_ascii_case(name))
    }

    /// Any module, by API name (ignoring ASCII case).
    pub(crate) fn any_module(&self, name: &str) -> Option<&ModuleMeta> {
        self.modules
            .iter()
            .find(|m| m.api_name.eq_ignore_ascii_case(name))
    }

    /// The full `GET /settings/fields?module=` list of a module.
    pub(crate) fn fields_json(&self, module: &ModuleMeta) -> Value {
        let fields: Vec<Value> = module.fields.iter().map(|f| f.to_json(self)).collect();
        json!({ "fields": fields })
    }

    pub(crate) fn new() -> Self {
        let mut modules = vec![
            module_stub("Home", "Home", "Home", 1),
            ModuleMeta {
                api_name: "Leads",
                singular: "Lead",
                plural: "Leads",
                id: 0,
                sequence: 2,
                api_supported: true,
                fields: leads(),
                display_field: "Full_Name",
                dup_check: &["Email"],
            },
            ModuleMeta {
                api_name: "Contacts",
                singular: "Contact",
                plural: "Contacts",
                id: 0,
                sequence: 3,
                api_supported: true,
                fields: contacts(),
                display_field: "Full_Name",
                dup_check: &["Email"],
            },
            ModuleMeta {
                api_name: "Accounts",
                singular: "Account",
                plural: "Accounts",
                id: 0,
                sequence: 4,
                api_supported: true,
                fields: accounts(),
                display_field: "Account_Name",
                dup_check: &["Account_Name"],
            },
            ModuleMeta {
                api_name: "Deals",
                singular: "Deal",
                plural: "Deals",
                id: 0,
                sequence: 5,
                api_supported: true,
                fields: deals(),
                display_field: "Deal_Name",
                dup_check: &["Deal_Name"],
            },
            module_stub("Reports", "Report", "Reports", 6),
            module_stub("Dashboards", "Dashboard", "Dashboards", 7),
        ];
        for (mi, module) in modules.iter_mut().enumerate() {
            let mi = mi as u64;
            module.id = ID_BASE + 2_000 + mi * 3;
            for (fi, field) in module.fields.iter_mut().enumerate() {
                field.id = ID_BASE + 100_000 + mi * 1_000 + (fi as u64) * 2;
            }
        }
        Self { modules }
    }
}

fn module_stub(
    api_name: &'static str,
    singular: &'static str,
    plural: &'static str,
    sequence: u32,
) -> ModuleMeta {
    ModuleMeta {
        api_name,
        singular,
        plural,
        id: 0,
        sequence,
        api_supported: false,
        fields: Vec::new(),
        display_field: "id",
        dup_check: &[],
    }
}

const SALUTATIONS: &[&str] = &["-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."];
pub(crate) const LEAD_SOURCES: &[&str] = &[
    "-None-",
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Sales Email Alias",
    "Seminar Partner",
    "Internal Seminar",
    "Trade Show",
    "Web Download",
    "Web Research",
    "Chat",
];
pub(crate) const LEAD_STATUSES: &[&str] = &[
    "-None-",
    "Attempted to Contact",
    "Contact in Future",
    "Contacted",
    "Junk Lead",
    "Lost Lead",
    "Not Contacted",
    "Pre-Qualified",
    "Not Qualified",
];
pub(crate) const INDUSTRIES: &[&str] = &[
    "-None-",
    "ASP (Application Service Provider)",
    "Data/Telecom OEM",
    "ERP (Enterprise Resource Planning)",
    "Government/Military",
    "Large Enterprise",
    "ManagementISV",
    "MSP (Management Service Provider)",
    "Network Equipment Enterprise",
    "Non-management ISV",
    "Optical Networking",
    "Service Provider",
    "Small/Medium Enterprise",
    "Storage Equipment",
    "Storage Service Provider",
    "Systems Integrator",
    "Wireless Industry",
];
pub(crate) const RATINGS: &[&str] = &[
    "-None-",
    "Acquired",
    "Active",
    "Market Failed",
    "Project Cancelled",
    "Shut Down",
];
pub(crate) const CHANNELS: &[&str] = &["Email", "Phone", "SMS", "WhatsApp", "In Person"];
pub(crate) const PRODUCTS: &[&str] = &["CRM", "Analytics", "Desk", "Books", "Campaigns"];
pub(crate) const REGIONS: &[&str] = &["-None-", "AMER", "EMEA", "APAC", "LATAM"];
pub(crate) const ACCOUNT_TYPES: &[&str] = &[
    "-None-",
    "Analyst",
    "Competitor",
    "Customer",
    "Distributor",
    "Integrator",
    "Investor",
    "Other",
    "Partner",
    "Press",
    "Prospect",
    "Reseller",
    "Supplier",
    "Vendor",
];
pub(crate) const OWNERSHIP: &[&str] = &[
    "-None-",
    "Other",
    "Private",
    "Public",
    "Subsidiary",
    "Partnership",
    "Government",
    "Privately Held",
    "Public Company",
];
pub(crate) const TIERS: &[&str] = &["-None-", "Bronze", "Silver", "Gold", "Platinum"];
pub(crate) const STAGES: &[&str] = &[
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Identify Decision Makers",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
    "Closed-Lost to Competition",
];
pub(crate) const DEAL_TYPES: &[&str] = &["-None-", "Existing Business", "New Business"];
const UNSUBSCRIBED_MODES: &[&str] = &[
    "-None-",
    "Consent form",
    "Manual",
    "Unsubscribe link",
    "Zoho Campaigns",
];
const LOSS_REASONS: &[&str] = &[
    "-None-",
    "Lost to Competitor",
    "No Budget",
    "No Decision",
    "Price",
    "Other",
];

use DataType as T;

fn audit_fields() -> Vec<FieldMeta> {
    vec![
        fld("Created_By", "Created By", T::OwnerLookup).ro(),
        fld("Modified_By", "Modified By", T::OwnerLookup).ro(),
        fld("Created_Time", "Created Time", T::DateTime).ro(),
        fld("Modified_Time", "Modified Time", T::DateTime).ro(),
        fld("Last_Activity_Time", "Last Activity Time", T::DateTime).ro(),
    ]
}

fn leads() -> Vec<FieldMeta> {
    let mut f = vec![
        fld("Owner", "Lead Owner", T::OwnerLookup),
        fld("Company", "Company", T::Text).len(200),
        fld("First_Name", "First Name", T::Text).len(40),
        fld("Last_Name", "Last Name", T::Text).len(80).mandatory(),
        fld("Full_Name", "Full Name", T::Text).len(120).ro(),
        fld("Salutation", "Salutation", T::Picklist).pick(SALUTATIONS),
        fld("Designation", "Title", T::Text).len(100),
        fld("Email", "Email", T::Email),
        fld("Secondary_Email", "Secondary Email", T::Email),
        fld("Phone", "Phone", T::Phone),
        fld("Mobile", "Mobile", T::Phone),
        fld("Fax", "Fax", T::Phone),
        fld("Website", "Website", T::Website),
        fld("Lead_Source", "Lead Source", T::Picklist).pick(LEAD_SOURCES),
        fld("Lead_Status", "Lead Status", T::Picklist).pick(LEAD_STATUSES),
        fld("Industry", "Industry", T::Picklist).pick(INDUSTRIES),
        fld("No_of_Employees", "No. of Employees", T::Integer),
        fld("Annual_Revenue", "Annual Revenue", T::Currency),
        fld("Rating", "Rating", T::Picklist).pick(RATINGS),
        fld("Email_Opt_Out", "Email Opt Out", T::Boolean),
        fld("Skype_ID", "Skype ID", T::Text).len(50),
        fld("Twitter", "Twitter", T::Text).len(50),
        fld("Street", "Street", T::Text).len(250),
        fld("City", "City", T::Text).len(100),
        fld("State", "State", T::Text).len(100),
        fld("Zip_Code", "Zip Code", T::Text).len(30),
        fld("Country", "Country", T::Text).len(100),
        fld("Description", "Description", T::TextArea),
    ];
    f.extend(audit_fields());
    f.extend([
        fld("Converted__s", "Is Converted", T::Boolean).ro(),
        fld("Converted_Date_Time", "Converted Date Time", T::DateTime).ro(),
        fld("Lead_Conversion_Time", "Lead Conversion Time", T::Integer).ro(),
        fld("Unsubscribed_Mode", "Unsubscribed Mode", T::Picklist)
            .pick(UNSUBSCRIBED_MODES)
            .ro(),
        fld("Unsubscribed_Time", "Unsubscribed Time", T::DateTime).ro(),
        fld("Days_Visited", "Days Visited", T::Integer),
        fld("Visitor_Score", "Visitor Score", T::BigInt),
        fld("First_Visited_Time", "First Visited Time", T::DateTime),
        fld("Last_Visited_Time", "Last Visited Time", T::DateTime),
        fld("First_Visited_URL", "First Visited URL", T::Website),
        fld("Referrer", "Referrer", T::Website),
        fld("Number_Of_Chats", "Number Of Chats", T::Integer),
        fld(
            "Average_Time_Spent_Minutes",
            "Average Time Spent (Minutes)",
            T::Double,
        ),
        // Custom fields.
        fld("Lead_Score", "Lead Score", T::Integer).custom(),
        fld("Budget", "Budget", T::Currency).custom(),
        fld("Win_Probability", "Win Probability", T::Percent).custom(),
        fld("Discount_Rate", "Discount Rate", T::Double)
            .dp(4)
            .custom(),
        fld("External_Ref", "External Ref", T::BigInt).custom(),
        fld(
            "Preferred_Channels",
            "Preferred Channels",
            T::MultiSelectPicklist,
        )
        .pick(CHANNELS)
        .custom(),
        fld(
            "Product_Interest",
            "Product Interest",
            T::MultiSelectPicklist,
        )
        .pick(PRODUCTS)
        .custom(),
        fld("Next_Follow_Up", "Next Follow Up", T::Date).custom(),
        fld("Last_Demo_At", "Last Demo At", T::DateTime).custom(),
        fld("Is_Qualified", "Is Qualified", T::Boolean).custom(),
        fld("Marketing_Qualified", "Marketing Qualified", T::Boolean).custom(),
        fld("Referred_By", "Referred By", T::Lookup)
            .lookup("Contacts")
            .custom(),
        fld("Related_Account", "Related Account", T::Lookup)
            .lookup("Accounts")
            .custom(),
        fld("Region", "Region", T::Picklist).pick(REGIONS).custom(),
        fld("Notes_Summary", "Notes Summary", T::TextArea)
            .len(2000)
            .custom(),
        fld("Contract_Value", "Contract Value", T::Currency).custom(),
        fld("Seats", "Seats", T::Integer).custom(),
        fld("Customer_Since", "Customer Since", T::Date).custom(),
        fld("LinkedIn_Profile", "LinkedIn Profile", T::Website).custom(),
        fld("Partner_Code", "Partner Code", T::Text)
            .len(20)
            .custom(),
        fld("Date_of_Birth", "Date of Birth", T::Date).custom(),
        fld("Preferred_Language", "Preferred Language", T::Picklist)
            .pick(&[
                "-None-", "English", "German", "French", "Spanish", "Japanese",
            ])
            .custom(),
        fld("Renewal_Date", "Renewal Date", T::Date).custom(),
    ]);
    f
}

fn contacts() -> Vec<FieldMeta> {
    let mut f = vec![
        fld("Owner", "Contact Owner", T::OwnerLookup),
        fld("Lead_Source", "Lead Source", T::Picklist).pick(LEAD_SOURCES),
        fld("First_Name", "First Name", T::Text).len(40),
        fld("Last_Name", "Last Name", T::Text).len(80).mandatory(),
        fld("Full_Name", "Full Name", T::Text).len(120).ro(),
        fld("Salutation", "Salutation", T::Picklist).pick(SALUTATIONS),
        fld("Account_Name", "Account Name", T::Lookup).lookup("Accounts"),
        fld("Email", "Email", T::Email).unique(),
        fld("Secondary_Email", "Secondary Email", T::Email),
        fld("Title", "Title", T::Text).len(100),
        fld("Department", "Department", T::Text).len(100),
        fld("Phone", "Phone", T::Phone),
        fld("Home_Phone", "Home Phone", T::Phone),
        fld("Other_Phone", "Other Phone", T::Phone),
        fld("Fax", "Fax", T::Phone),
        fld("Mobile", "Mobile", T::Phone),
        fld("Assistant", "Assistant", T::Text).len(100),
        fld("Asst_Phone", "Asst Phone", T::Phone),
        fld("Date_of_Birth", "Date of Birth", T::Date),
        fld("Reporting_To", "Reporting To", T::Lookup).lookup("Contacts"),
        fld("Email_Opt_Out", "Email Opt Out", T::Boolean),
        fld("Skype_ID", "Skype ID", T::Text).len(50),
        fld("Twitter", "Twitter", T::Text).len(50),
        fld("Mailing_Street", "Mailing Street", T::Text).len(250),
        fld("Mailing_City", "Mailing City", T::Text).len(100),
        fld("Mailing_State", "Mailing State", T::Text).len(100),
        fld("Mailing_Zip", "Mailing Zip", T::Text).len(30),
        fld("Mailing_Country", "Mailing Country", T::Text).len(100),
        fld("Other_Street", "Other Street", T::Text).len(250),
        fld("Other_City", "Other City", T::Text).len(100),
        fld("Other_State", "Other State", T::Text).len(100),
        fld("Other_Zip", "Other Zip", T::Text).len(30),
        fld("Other_Country", "Other Country", T::Text).len(100),
        fld("Description", "Description", T::TextArea),
    ];
    f.extend(audit_fields());
    f.extend([
        fld("Days_Visited", "Days Visited", T::Integer),
        fld("Loyalty_Points", "Loyalty Points", T::BigInt).custom(),
        fld("Lifetime_Value", "Lifetime Value", T::Currency).custom(),
        fld(
            "Preferred_Channels",
            "Preferred Channels",
            T::MultiSelectPicklist,
        )
        .pick(CHANNELS)
        .custom(),
    ]);
    f
}

fn accounts() -> Vec<FieldMeta> {
    let mut f = vec![
        fld("Owner", "Account Owner", T::OwnerLookup),
        fld("Account_Name", "Account Name", T::Text)
            .len(200)
            .mandatory()
            .unique(),
        fld("Account_Number", "Account Number", T::BigInt),
        fld("Account_Site", "Account Site", T::Text).len(80),
        fld("Parent_Account", "Parent Account", T::Lookup).lookup("Accounts"),
        fld("Account_Type", "Account Type", T::Picklist).pick(ACCOUNT_TYPES),
        fld("Industry", "Industry", T::Picklist).pick(INDUSTRIES),
        fld("Annual_Revenue", "Annual Revenue", T::Currency),
        fld("Employees", "Employees", T::Integer),
        fld("Ownership", "Ownership", T::Picklist).pick(OWNERSHIP),
        fld("Rating", "Rating", T::Picklist).pick(RATINGS),
        fld("Phone", "Phone", T::Phone),
        fld("Fax", "Fax", T::Phone),
        fld("Website", "Website", T::Website),
        fld("Ticker_Symbol", "Ticker Symbol", T::Text).len(30),
        fld("SIC_Code", "SIC Code", T::Integer),
        fld("Billing_Street", "Billing Street", T::Text).len(250),
        fld("Billing_City", "Billing City", T::Text).len(100),
        fld("Billing_State", "Billing State", T::Text).len(100),
        fld("Billing_Code", "Billing Code", T::Text).len(30),
        fld("Billing_Country", "Billing Country", T::Text).len(100),
        fld("Shipping_Street", "Shipping Street", T::Text).len(250),
        fld("Shipping_City", "Shipping City", T::Text).len(100),
        fld("Shipping_State", "Shipping State", T::Text).len(100),
        fld("Shipping_Code", "Shipping Code", T::Text).len(30),
        fld("Shipping_Country", "Shipping Country", T::Text).len(100),
        fld("Description", "Description", T::TextArea),
    ];
    f.extend(audit_fields());
    f.extend([
        fld("Tier", "Tier", T::Picklist).pick(TIERS).custom(),
        fld("Credit_Limit", "Credit Limit", T::Currency).custom(),
        fld("Onboarded", "Onboarded", T::Boolean).custom(),
    ]);
    f
}

fn deals() -> Vec<FieldMeta> {
    let mut f = vec![
        fld("Owner", "Deal Owner", T::OwnerLookup),
        fld("Deal_Name", "Deal Name", T::Text).len(120).mandatory(),
        fld("Account_Name", "Account Name", T::Lookup).lookup("Accounts"),
        fld("Contact_Name", "Contact Name", T::Lookup).lookup("Contacts"),
        fld("Amount", "Amount", T::Currency),
        fld("Closing_Date", "Closing Date", T::Date),
        fld("Stage", "Stage", T::Picklist).pick(STAGES).mandatory(),
        fld("Type", "Type", T::Picklist).pick(DEAL_TYPES),
        fld("Probability", "Probability (%)", T::Integer).len(3),
        fld("Expected_Revenue", "Expected Revenue", T::Currency).ro(),
        fld("Next_Step", "Next Step", T::Text).len(100),
        fld("Lead_Source", "Lead Source", T::Picklist).pick(LEAD_SOURCES),
        fld("Description", "Description", T::TextArea),
    ];
    f.extend(audit_fields());
    f.extend([
        fld("Lead_Conversion_Time", "Lead Conversion Time", T::Integer).ro(),
        fld("Sales_Cycle_Duration", "Sales Cycle Duration", T::Integer).ro(),
        fld(
            "Overall_Sales_Duration",
            "Overall Sales Duration",
            T::Integer,
        )
        .ro(),
        fld("Reason_For_Loss__s", "Reason For Loss", T::Picklist).pick(LOSS_REASONS),
        fld("Region", "Region", T::Picklist).pick(REGIONS).custom(),
        fld("Seats", "Seats", T::Integer).custom(),
        fld("External_Ref", "External Ref", T::BigInt).custom(),
    ]);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_consistent() {
        let meta = Meta::new();
        let leads = meta.module("leads").unwrap();
        assert!(leads.fields.len() > 60, "{}", leads.fields.len());
        for module in meta.modules.iter().filter(|m| m.has_records()) {
            let mut names: Vec<&str> = module.fields.iter().map(|f| f.api_name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), module.fields.len(), "{}", module.api_name);
            assert!(module.field(module.display_field).is_some());
            for f in &module.fields {
                if let Some(target) = f.lookup {
                    assert!(meta.module(target).is_some());
                }
                assert_eq!(f.id.to_string().len(), 19);
            }
        }
        assert!(meta.module("Home").is_none());
        assert!(meta.any_module("Home").is_some());
    }
}
