//! Generated records for demos and benchmarks.

use super::error::EmulatorError;
use super::schema::Schema;
use super::store::{Column, RecordError, Store, WriteOp, is_deleted, resolve_column};

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
const CITIES: [&str; 6] = ["Paris", "Lisbon", "Osaka", "Austin", "Nairobi", "Zürich"];
const TYPES: [&str; 5] = [
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Partner",
    "Other",
];
const INDUSTRIES: [&str; 6] = [
    "Agriculture",
    "Banking",
    "Education",
    "Energy",
    "Retail",
    "Technology",
];
const STATUSES: [&str; 4] = ["Draft", "Sent", "Paid", "Void"];
const SOURCES: [&str; 4] = ["Web", "Phone Inquiry", "Partner Referral", "Other"];

fn pick<'a>(list: &[&'a str], i: usize) -> &'a str {
    list[i % list.len()]
}

fn date(i: usize) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
    let days = i64::try_from(i % 3650).unwrap_or(0);
    (base + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Text with the characters CSV must quote, every seventh record.
fn tricky(i: usize, plain: String) -> String {
    if i % 7 == 3 {
        format!("{plain}, with \"quotes\"\nand a second line")
    } else {
        plain
    }
}

/// The live ids of an object, for references.
fn ids(store: &Store, object: usize) -> Vec<String> {
    store.tables[object]
        .slots
        .iter()
        .flatten()
        .filter(|r| !is_deleted(r))
        .filter_map(|r| r[0].as_deref().map(str::to_owned))
        .take(10_000)
        .collect()
}

/// Generates `n` records of `object`; returns how many were inserted.
pub(crate) fn seed(
    store: &mut Store,
    schema: &Schema,
    object_name: &str,
    n: usize,
) -> Result<usize, EmulatorError> {
    let object = schema
        .object(object_name)
        .ok_or_else(|| EmulatorError::UnknownObject(object_name.to_owned()))?;
    let name = schema.objects[object].name.clone();
    let fields: &[&str] = match name.as_str() {
        "User" => &["Username", "FirstName", "LastName", "Email", "IsActive"],
        "Account" => &[
            "Name",
            "AccountNumber",
            "Type",
            "Industry",
            "AnnualRevenue",
            "NumberOfEmployees",
            "Phone",
            "Website",
            "Description",
            "BillingCity",
            "BillingCountry",
            "Active__c",
            "Customer_Since__c",
            "Account_Code__c",
        ],
        "Contact" => &[
            "FirstName",
            "LastName",
            "AccountId",
            "Email",
            "Phone",
            "Title",
            "Birthdate",
            "LeadSource",
            "DoNotCall",
            "Description",
        ],
        _ => &[
            "Name",
            "External_Id__c",
            "Account__c",
            "Amount__c",
            "Tax_Rate__c",
            "Quantity__c",
            "Line_Count__c",
            "Paid__c",
            "Issue_Date__c",
            "Due_Date__c",
            "Sent_At__c",
            "Pickup_Time__c",
            "Status__c",
            "Notes__c",
            "Contact_Email__c",
            "Billing_Phone__c",
            "Portal_Url__c",
        ],
    };
    let columns: Vec<Column> = fields
        .iter()
        .filter_map(|f| resolve_column(schema, object, f))
        .collect();
    let accounts = schema
        .object("Account")
        .map(|a| ids(store, a))
        .unwrap_or_default();
    let start = store.tables[object].slots.len();
    let mut inserted = 0;
    for k in 0..n {
        let i = start + k + 1;
        let account = if accounts.is_empty() {
            String::new()
        } else {
            accounts[i % accounts.len()].clone()
        };
        let cells: Vec<String> = match name.as_str() {
            "User" => vec![
                format!("user{i}@emulator.example.com"),
                pick(&FIRST, i).to_owned(),
                format!("User{i}"),
                format!("user{i}@emulator.example.com"),
                "true".to_owned(),
            ],
            "Account" => vec![
                format!("Account {i:07}"),
                format!("AC{i:08}"),
                pick(&TYPES, i).to_owned(),
                pick(&INDUSTRIES, i).to_owned(),
                ((i * 7_919) % 1_000_000_000).to_string(),
                (i % 5_000).to_string(),
                format!("+1 555 {:04}", i % 10_000),
                format!("https://account{i}.example.com"),
                tricky(i, format!("Account number {i}")),
                pick(&CITIES, i).to_owned(),
                "France".to_owned(),
                if i.is_multiple_of(2) { "true" } else { "false" }.to_owned(),
                date(i),
                format!("ACC-{i}"),
            ],
            "Contact" => vec![
                pick(&FIRST, i).to_owned(),
                format!("Contact{i}"),
                account,
                format!("contact{i}@example.com"),
                format!("+44 20 {:04} {:04}", i % 10_000, (i * 7) % 10_000),
                "Engineer".to_owned(),
                date(i * 3),
                pick(&SOURCES, i).to_owned(),
                if i.is_multiple_of(5) { "true" } else { "false" }.to_owned(),
                tricky(i, format!("Contact {i}")),
            ],
            _ => vec![
                format!("INV-{i:07}"),
                format!("EXT-{i:08}"),
                account,
                format!("{}.{:02}", (i * 37) % 100_000, i % 100),
                format!("{}.{:02}", i % 30, i % 100),
                format!("{}.{:04}", i % 1_000, i % 10_000),
                (i % 50).to_string(),
                if i.is_multiple_of(3) { "true" } else { "false" }.to_owned(),
                date(i),
                date(i + 30),
                format!("{}T{:02}:{:02}:00.000Z", date(i), i % 24, i % 60),
                format!("{:02}:{:02}:00.000Z", i % 24, (i * 7) % 60),
                pick(&STATUSES, i).to_owned(),
                tricky(i, format!("Invoice {i}")),
                format!("billing{i}@example.com"),
                format!(
                    "+33 1 {:02} {:02} {:02} {:02}",
                    i % 100,
                    (i / 100) % 100,
                    (i * 3) % 100,
                    (i * 7) % 100
                ),
                format!("https://portal.example.com/invoices/{i}"),
            ],
        };
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        store
            .write(schema, object, WriteOp::Insert, None, &columns, &refs)
            .map_err(|e: RecordError| EmulatorError::Rejected {
                code: e.code.to_owned(),
                message: e.message,
            })?;
        inserted += 1;
    }
    Ok(inserted)
}
