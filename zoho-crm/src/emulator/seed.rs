//! Generated data: users and records with realistic, deterministic values and
//! distinct `Modified_Time`s (one second apart, oldest first, all in the past).

use serde_json::{Map, Number, Value};

use super::meta::{
    ACCOUNT_TYPES, CHANNELS, DEAL_TYPES, INDUSTRIES, LEAD_SOURCES, LEAD_STATUSES, Meta, OWNERSHIP,
    PRODUCTS, RATINGS, REGIONS, STAGES, TIERS,
};
use super::store::{NewUser, Record, Store};
use super::time;

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Aarav",
    "Priya",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Lukas",
    "Sofia",
    "Mateo",
    "Chloé",
    "Olumide",
    "Amara",
    "Søren",
    "Ingrid",
    "Rahul",
    "Ananya",
    "Diego",
    "Lucía",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Boyle",
    "O'Brien",
    "Nakamura",
    "Müller",
    "Kowalski",
    "Okafor",
    "Sharma",
    "Chen",
    "Rossi",
    "Dubois",
];
const COMPANY_A: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Zylker",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Massive",
    "Aperture",
];
const COMPANY_B: &[&str] = &[
    "Industries",
    "Systems",
    "Labs",
    "Logistics",
    "Foods",
    "Networks",
    "Holdings",
    "Analytics",
    "Dynamics",
    "Partners",
    "Robotics",
    "Energy",
    "Media",
];
const COMPANY_C: &[&str] = &["Inc", "LLC", "GmbH", "Ltd", "S.A.", "Pvt Ltd", "Corp", "AG"];
const PLACES: &[(&str, &str, &str)] = &[
    ("New York", "NY", "United States"),
    ("San Francisco", "CA", "United States"),
    ("Austin", "TX", "United States"),
    ("Chicago", "IL", "United States"),
    ("Toronto", "ON", "Canada"),
    ("London", "England", "United Kingdom"),
    ("Berlin", "Berlin", "Germany"),
    ("Paris", "Île-de-France", "France"),
    ("Chennai", "Tamil Nadu", "India"),
    ("Bengaluru", "Karnataka", "India"),
    ("Tokyo", "Tokyo", "Japan"),
    ("Sydney", "NSW", "Australia"),
    ("São Paulo", "SP", "Brazil"),
    ("Lagos", "Lagos", "Nigeria"),
];
const TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "VP Sales",
    "Head of Marketing",
    "Purchasing Manager",
    "Operations Lead",
    "IT Director",
    "Office Manager",
    "Consultant",
    "Engineer",
];
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Marketing",
    "Engineering",
    "Finance",
    "Operations",
    "IT",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "mail.example"];
const NEXT_STEPS: &[&str] = &[
    "Send proposal",
    "Schedule demo",
    "Follow-up call",
    "Negotiate terms",
    "Legal review",
];

/// A small deterministic generator (SplitMix64).
struct Gen(u64);

impl Gen {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or("")
    }

    /// A picklist value other than a leading `-None-`.
    fn pick_value<'a>(&mut self, items: &[&'a str]) -> &'a str {
        match items.split_first() {
            Some((&"-None-", rest)) => self.pick(rest),
            _ => self.pick(items),
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn money(&mut self, max_whole: u64) -> Value {
        let cents = self.below(max_whole * 100);
        let whole = cents / 100;
        let frac = cents % 100;
        let text = format!("{whole}.{frac:02}");
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

fn int(n: u64) -> Value {
    Value::Number(Number::from(n))
}

struct Person {
    first: &'static str,
    last: &'static str,
    email: String,
}

fn person(g: &mut Gen, k: u64, tag: &str) -> Person {
    let first = g.pick(FIRST);
    let last = g.pick(LAST);
    let local: String = format!("{first}.{last}")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let email = format!("{local}.{tag}{k}@{}", g.pick(DOMAINS));
    Person { first, last, email }
}

fn company(g: &mut Gen) -> String {
    format!(
        "{} {} {}",
        g.pick(COMPANY_A),
        g.pick(COMPANY_B),
        g.pick(COMPANY_C)
    )
}

fn phone(g: &mut Gen) -> Value {
    s(format!(
        "+1 555 {:03} {:04}",
        g.below(1000),
        g.below(10_000)
    ))
}

fn pick_ids(g: &mut Gen, ids: &[u64]) -> Option<Value> {
    if ids.is_empty() {
        return None;
    }
    let i = usize::try_from(g.below(ids.len() as u64)).unwrap_or(0);
    ids.get(i).map(|id| s(id.to_string()))
}

fn multi(g: &mut Gen, items: &[&str]) -> Value {
    let mut chosen: Vec<Value> = items
        .iter()
        .filter(|_| g.chance(35))
        .map(|v| s(*v))
        .collect();
    if chosen.is_empty() {
        chosen.push(s(g.pick(items)));
    }
    Value::Array(chosen)
}

fn lead(g: &mut Gen, k: u64, m: &mut Map<String, Value>, now: i64, store: &Store) {
    let p = person(g, k, "l");
    let (city, state, country) = PLACES[usize::try_from(g.below(PLACES.len() as u64)).unwrap_or(0)];
    m.insert("Company".into(), s(company(g)));
    m.insert("First_Name".into(), s(p.first));
    m.insert("Last_Name".into(), s(p.last));
    m.insert("Full_Name".into(), s(format!("{} {}", p.first, p.last)));
    m.insert("Designation".into(), s(g.pick(TITLES)));
    m.insert("Email".into(), s(p.email));
    m.insert("Phone".into(), phone(g));
    m.insert("Lead_Source".into(), s(g.pick_value(LEAD_SOURCES)));
    m.insert("Lead_Status".into(), s(g.pick_value(LEAD_STATUSES)));
    m.insert("Industry".into(), s(g.pick_value(INDUSTRIES)));
    m.insert("No_of_Employees".into(), int(1 + g.below(5000)));
    m.insert("Annual_Revenue".into(), g.money(5_000_000));
    m.insert("Rating".into(), s(g.pick_value(RATINGS)));
    m.insert("Email_Opt_Out".into(), Value::Bool(g.chance(10)));
    m.insert("City".into(), s(city));
    m.insert("State".into(), s(state));
    m.insert("Country".into(), s(country));
    m.insert("Lead_Score".into(), int(g.below(101)));
    m.insert("External_Ref".into(), s((100_000_000_000 + k).to_string()));
    m.insert("Region".into(), s(g.pick_value(REGIONS)));
    if g.chance(40) {
        m.insert("Preferred_Channels".into(), multi(g, CHANNELS));
    }
    if g.chance(30) {
        m.insert("Budget".into(), g.money(250_000));
        m.insert("Is_Qualified".into(), Value::Bool(g.chance(50)));
    }
    if g.chance(25) {
        let days = i64::try_from(g.below(120)).unwrap_or(0);
        m.insert(
            "Next_Follow_Up".into(),
            s(time::format_date(now + days * 86_400, store.offset)),
        );
    }
    if k.is_multiple_of(10) {
        m.insert(
            "Description".into(),
            s(format!(
                "Met at a trade show; interested in {}, \"priority\" account.",
                g.pick(PRODUCTS)
            )),
        );
    }
}

fn contact(g: &mut Gen, k: u64, m: &mut Map<String, Value>, accounts: &[u64]) {
    let p = person(g, k, "c");
    let (city, state, country) = PLACES[usize::try_from(g.below(PLACES.len() as u64)).unwrap_or(0)];
    m.insert("First_Name".into(), s(p.first));
    m.insert("Last_Name".into(), s(p.last));
    m.insert("Full_Name".into(), s(format!("{} {}", p.first, p.last)));
    m.insert("Email".into(), s(p.email));
    m.insert("Title".into(), s(g.pick(TITLES)));
    m.insert("Department".into(), s(g.pick(DEPARTMENTS)));
    m.insert("Phone".into(), phone(g));
    m.insert("Mobile".into(), phone(g));
    m.insert("Lead_Source".into(), s(g.pick_value(LEAD_SOURCES)));
    m.insert("Mailing_City".into(), s(city));
    m.insert("Mailing_State".into(), s(state));
    m.insert("Mailing_Country".into(), s(country));
    m.insert(
        "Date_of_Birth".into(),
        s(format!(
            "{}-{:02}-{:02}",
            1950 + g.below(50),
            1 + g.below(12),
            1 + g.below(28)
        )),
    );
    m.insert("Email_Opt_Out".into(), Value::Bool(g.chance(10)));
    m.insert("Loyalty_Points".into(), s(g.below(10_000_000).to_string()));
    m.insert("Lifetime_Value".into(), g.money(100_000));
    if let Some(account) = pick_ids(g, accounts) {
        m.insert("Account_Name".into(), account);
    }
}

fn account(g: &mut Gen, k: u64, m: &mut Map<String, Value>) {
    let (city, state, country) = PLACES[usize::try_from(g.below(PLACES.len() as u64)).unwrap_or(0)];
    let name = company(g);
    let site = name
        .split_whitespace()
        .next()
        .unwrap_or("acme")
        .to_lowercase();
    m.insert("Account_Name".into(), s(format!("{name} #{k}")));
    m.insert("Account_Number".into(), s((10_000_000 + k).to_string()));
    m.insert("Account_Type".into(), s(g.pick_value(ACCOUNT_TYPES)));
    m.insert("Industry".into(), s(g.pick_value(INDUSTRIES)));
    m.insert("Annual_Revenue".into(), g.money(50_000_000));
    m.insert("Employees".into(), int(1 + g.below(20_000)));
    m.insert("Ownership".into(), s(g.pick_value(OWNERSHIP)));
    m.insert("Rating".into(), s(g.pick_value(RATINGS)));
    m.insert("Phone".into(), phone(g));
    m.insert(
        "Website".into(),
        s(format!("https://www.{site}{k}.example.com")),
    );
    m.insert("Billing_City".into(), s(city));
    m.insert("Billing_State".into(), s(state));
    m.insert("Billing_Country".into(), s(country));
    m.insert("Tier".into(), s(g.pick_value(TIERS)));
    m.insert("Credit_Limit".into(), g.money(1_000_000));
}

fn deal(
    g: &mut Gen,
    k: u64,
    m: &mut Map<String, Value>,
    now: i64,
    store: &Store,
    accounts: &[u64],
    contacts: &[u64],
) {
    let days = i64::try_from(g.below(365)).unwrap_or(0) - 90;
    m.insert(
        "Deal_Name".into(),
        s(format!("{} - {} #{k}", company(g), g.pick(PRODUCTS))),
    );
    m.insert("Amount".into(), g.money(500_000));
    m.insert(
        "Closing_Date".into(),
        s(time::format_date(now + days * 86_400, store.offset)),
    );
    m.insert("Stage".into(), s(g.pick(STAGES)));
    m.insert("Type".into(), s(g.pick_value(DEAL_TYPES)));
    m.insert("Probability".into(), int(g.below(11) * 10));
    m.insert("Lead_Source".into(), s(g.pick_value(LEAD_SOURCES)));
    m.insert("Next_Step".into(), s(g.pick(NEXT_STEPS)));
    m.insert("Region".into(), s(g.pick_value(REGIONS)));
    if let Some(account) = pick_ids(g, accounts) {
        m.insert("Account_Name".into(), account);
    }
    if let Some(contact) = pick_ids(g, contacts) {
        m.insert("Contact_Name".into(), contact);
    }
}

/// Adds `n` generated records to `module`; returns their ids.
pub(crate) fn records(meta: &Meta, store: &mut Store, module: &'static str, n: usize) -> Vec<u64> {
    let Some(mmeta) = meta.module(module) else {
        return Vec::new();
    };
    let owners = store.active_user_ids();
    let ids_of = |store: &Store, m: &str| -> Vec<u64> {
        store
            .module(m)
            .map(|d| d.records.keys().copied().collect())
            .unwrap_or_default()
    };
    let accounts = if matches!(module, "Contacts" | "Deals") {
        ids_of(store, "Accounts")
    } else {
        Vec::new()
    };
    let contacts = if module == "Deals" {
        ids_of(store, "Contacts")
    } else {
        Vec::new()
    };
    let now = time::now_secs();
    let admin = store.admin_id.to_string();
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let k = match store.module_mut(module) {
            Some(d) => {
                d.seeded += 1;
                d.seeded
            }
            None => return ids,
        };
        let mut g = Gen::new(k ^ (mmeta.id << 8));
        let id = store.next_id();
        let at = store.next_seed_time();
        let stamp = s(store.fmt_time(at));
        let mut m = Map::with_capacity(28);
        m.insert("id".into(), s(id.to_string()));
        let owner = pick_ids(&mut g, &owners).unwrap_or_else(|| s(admin.clone()));
        m.insert("Owner".into(), owner);
        match module {
            "Leads" => lead(&mut g, k, &mut m, now, store),
            "Contacts" => contact(&mut g, k, &mut m, &accounts),
            "Accounts" => account(&mut g, k, &mut m),
            _ => deal(&mut g, k, &mut m, now, store, &accounts, &contacts),
        }
        m.insert("Created_By".into(), s(admin.clone()));
        m.insert("Modified_By".into(), s(admin.clone()));
        m.insert("Created_Time".into(), stamp.clone());
        m.insert("Modified_Time".into(), stamp);
        if let Some(d) = store.module_mut(module) {
            d.insert(Record {
                id,
                created: at,
                modified: at,
                value: m,
            });
        }
        ids.push(id);
    }
    ids
}

/// Adds `n` generated users; returns their ids. Every tenth is inactive, every
/// seventh has not confirmed its invitation, every fifth is an administrator.
pub(crate) fn users(store: &mut Store, n: usize) -> Vec<u64> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        store.seeded_users += 1;
        let k = store.seeded_users;
        let mut g = Gen::new(k ^ 0x5EED);
        let p = person(&mut g, k, "u");
        let (city, _, country) = PLACES[usize::try_from(g.below(PLACES.len() as u64)).unwrap_or(0)];
        let role = store.roles[usize::try_from(1 + k % 2).unwrap_or(1)].id;
        let profile = if k.is_multiple_of(5) {
            store.profiles[0].id
        } else {
            store.profiles[usize::try_from(1 + k % 2).unwrap_or(1)].id
        };
        let new = NewUser {
            first_name: Some(p.first.to_owned()),
            last_name: p.last.to_owned(),
            email: p.email,
            role,
            profile,
            status: if k.is_multiple_of(10) {
                "inactive"
            } else {
                "active"
            },
            confirm: !k.is_multiple_of(7),
            phone: Some(format!(
                "+1 555 {:03} {:04}",
                g.below(1000),
                g.below(10_000)
            )),
            mobile: None,
            city: Some(city.to_owned()),
            country: Some(country.to_owned()),
        };
        let at = store.next_seed_time();
        let admin = store.admin_id;
        ids.push(store.add_user(&new, at, Some(admin)));
    }
    ids
}
