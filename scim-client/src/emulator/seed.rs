//! Realistic generated users and groups for [`seed_users`](super::RunningEmulator::seed_users)
//! and [`seed_groups`](super::RunningEmulator::seed_groups).

use serde_json::{Value, json};

use super::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

const GIVEN: &[&str] = &[
    "Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Quentin", "Rupert", "Sybil", "Trent", "Ursula", "Victor", "Walter",
    "Xena", "Yusuf", "Zoe",
];
const FAMILY: &[&str] = &[
    "Jensen",
    "Smith",
    "Garcia",
    "Müller",
    "Nakamura",
    "Okafor",
    "Kowalski",
    "Rossi",
    "Dubois",
    "Novak",
    "Silva",
    "Andersen",
    "Haddad",
    "Kim",
    "O'Brien",
    "Patel",
    "Ivanova",
    "Lindqvist",
    "Moreau",
    "Tanaka",
];
const TITLES: &[&str] = &[
    "Software Engineer",
    "Account Executive",
    "Product Manager",
    "Support Specialist",
    "Data Analyst",
    "HR Business Partner",
    "Finance Manager",
    "Designer",
    "Site Reliability Engineer",
    "Sales Director",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Product",
    "Support",
    "Analytics",
    "People",
    "Finance",
    "Design",
    "Operations",
    "Marketing",
];

fn pick(list: &[&'static str], i: u64) -> &'static str {
    let len = u64::try_from(list.len()).unwrap_or(1);
    list[usize::try_from(i % len).unwrap_or(0)]
}

/// The `i`-th seeded user (from 1): `userName` `user{i}@example.com`; every tenth
/// user is inactive.
pub(crate) fn user(i: u64) -> Value {
    let given = pick(GIVEN, i);
    let family = pick(FAMILY, i / 7 + i);
    let user_name = format!("user{i}@example.com");
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "externalId": format!("ext-{i:06}"),
        "userName": user_name,
        "name": {
            "formatted": format!("{given} {family}"),
            "givenName": given,
            "familyName": family,
        },
        "displayName": format!("{given} {family}"),
        "title": pick(TITLES, i),
        "active": !i.is_multiple_of(10),
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "phoneNumbers": [{"value": format!("+1-555-{:03}-{:04}", (i / 10_000) % 1000, i % 10_000), "type": "work"}],
        "locale": "en-US",
        "timezone": "America/New_York",
        ENTERPRISE_USER_SCHEMA: {
            "employeeNumber": format!("{i:06}"),
            "department": pick(DEPARTMENTS, i),
            "organization": "Example Corp",
            "costCenter": format!("CC-{:03}", i % 50),
        },
    })
}

/// The `i`-th seeded group (from 1), `displayName` `Group {i}`, with these members
/// (`(id, displayName)` of users).
pub(crate) fn group(i: u64, members: &[(String, Option<String>)], base_url: &str) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|(id, display)| {
            let mut m =
                json!({"value": id, "$ref": format!("{base_url}/Users/{id}"), "type": "User"});
            if let (Some(d), Some(obj)) = (display, m.as_object_mut()) {
                obj.insert("display".into(), json!(d));
            }
            m
        })
        .collect();
    let mut g = json!({
        "schemas": [GROUP_SCHEMA],
        "externalId": format!("grp-{i:04}"),
        "displayName": format!("Group {i}"),
    });
    if !members.is_empty()
        && let Some(obj) = g.as_object_mut()
    {
        obj.insert("members".into(), Value::Array(members));
    }
    g
}
