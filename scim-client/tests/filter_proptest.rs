//! Properties: the parsers never panic; printing a filter and parsing it back gives
//! the same filter.

use proptest::prelude::*;
use scim_client::filter::{CompValue, CompareOp, Filter, JsonNumber};
use scim_client::patch::PatchPath;
use scim_client::path::AttrPath;
use serde_json::json;

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
        1 => prop::sample::select(vec!["$ref", "not", "and", "or", "pr", "eq", "true", "null", "value"])
            .prop_map(str::to_owned),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let uri = prop::option::weighted(
        0.2,
        prop::sample::select(vec![
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:x",
            "http://schemas.example.com/2006/11/Ext/2.0/Group",
        ])
        .prop_map(str::to_owned),
    );
    (uri, attr_name(), prop::option::weighted(0.3, attr_name())).prop_map(
        |(uri, name, sub_attr)| AttrPath {
            uri,
            name,
            sub_attr,
        },
    )
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
        2 => any::<i64>().prop_map(CompValue::from),
        2 => "-?(0|[1-9][0-9]{0,4})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?"
            .prop_filter_map("a JSON number", |s| JsonNumber::parse(&s).map(CompValue::Number)),
        4 => any::<String>().prop_map(CompValue::String),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        4 => (attr_path(), prop::sample::select(CompareOp::ALL.to_vec()), comp_value()).prop_map(|(path, op, value)| {
            // Ordering operators cannot compare booleans or null (RFC 7644 Table 3).
            let op = if op.is_ordering() && matches!(value, CompValue::Null | CompValue::Bool(_)) {
                CompareOp::Eq
            } else {
                op
            };
            Filter::Compare { path, op, value }
        }),
        1 => attr_path().prop_map(|path| Filter::Present { path }),
    ]
}

fn combine(inner: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    prop_oneof![
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        inner.prop_map(|f| Filter::Not(Box::new(f))),
    ]
    .boxed()
}

/// Filters without value paths (what may stand inside brackets).
fn inner_filter() -> BoxedStrategy<Filter> {
    leaf().boxed().prop_recursive(4, 24, 2, combine).boxed()
}

fn filter() -> BoxedStrategy<Filter> {
    let atom = prop_oneof![
        3 => leaf(),
        1 => (attr_path(), inner_filter()).prop_map(|(path, f)| Filter::ValuePath { path, filter: Box::new(f) }),
    ];
    atom.boxed().prop_recursive(4, 32, 2, combine).boxed()
}

/// Strings built from the grammar's pieces, valid or not: they reach much deeper
/// into the parser than random text does.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "userName",
        "emails",
        "name.givenName",
        "urn:ietf:params:scim:schemas:core:2.0:User:",
        "x.y.z",
        "$ref",
        " ",
        " ",
        " ",
        "\t",
        "eq",
        "EQ",
        "ne",
        "co",
        "sw",
        "gt",
        "le",
        "pr",
        "and",
        "or",
        "not",
        "(",
        ")",
        "[",
        "]",
        ".",
        ":",
        "\"work\"",
        "\"a\\\"b\"",
        "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"\\x\"",
        "\"",
        "\\",
        "1",
        "-",
        "0.5",
        "1e",
        "-0",
        "true",
        "false",
        "null",
        "é",
        "日本",
        "\u{0}",
        "value",
    ];
    let phrases = vec![
        "userName eq \"x\"",
        "title pr",
        "emails[type eq \"work\"]",
        "members[value eq\"a\\\"b\"]",
        " and ",
        " or ",
        " AND ",
        "not (",
        "not(",
        "(",
        ")",
        " ",
        ".value eq 1",
        "emails[",
        "]",
        "type eq \"work\"",
        "value co \"@\\u00e9\"",
        " and value pr",
        "active eq true",
        "n gt -1.50e+3",
        "urn:x:y:a.b pr",
        "é",
        "\"",
        "[",
        "name.givenName sw \"B\"",
    ];
    prop_oneof![
        1 => prop::collection::vec(prop::sample::select(tokens), 0..24).prop_map(|parts| parts.concat()),
        3 => prop::collection::vec(prop::sample::select(phrases), 1..8).prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(input in any::<String>()) {
        let _ = Filter::parse(&input);
        let _ = PatchPath::parse(&input);
        let _ = AttrPath::parse(&input);
    }

    #[test]
    fn grammar_soup_never_panics_and_what_parses_round_trips(input in token_soup()) {
        if let Ok(f) = Filter::parse(&input) {
            prop_assert!(f.is_valid());
            let printed = f.to_string();
            prop_assert_eq!(Filter::parse(&printed), Ok(f.clone()), "printed as {}", printed);
            let _ = f.matches(&json!({"userName": "x", "emails": [{"type": "work", "value": 1}], "name": {}}));
        }
        if let Ok(p) = PatchPath::parse(&input) {
            prop_assert!(p.is_valid());
            prop_assert_eq!(PatchPath::parse(&p.to_string()), Ok(p));
        }
        if let Ok(p) = AttrPath::parse(&input) {
            prop_assert_eq!(AttrPath::parse(&p.to_string()), Ok(p));
        }
    }

    #[test]
    fn display_of_a_random_filter_parses_back_to_it(f in filter()) {
        prop_assert!(f.is_valid());
        let printed = f.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(f), "printed as {}", printed);
    }

    #[test]
    fn display_of_a_random_patch_path_parses_back_to_it(
        attr in attr_path(),
        f in prop::option::of(inner_filter()),
        sub in prop::option::of(attr_name()),
    ) {
        let path = match f {
            Some(filter) => PatchPath::ValuePath { attr, filter, sub_attr: sub },
            None => PatchPath::Attr(attr),
        };
        prop_assert!(path.is_valid());
        let printed = path.to_string();
        prop_assert_eq!(PatchPath::parse(&printed), Ok(path), "printed as {}", printed);
    }

    #[test]
    fn evaluation_never_panics(f in filter(), n in any::<i64>(), s in any::<String>(), b in any::<bool>()) {
        let resource = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": s, "value": n, "not": b, "and": [s, n, b, null, {"value": s}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"value": {"value": n}},
        });
        let _ = f.matches(&resource);
    }
}
