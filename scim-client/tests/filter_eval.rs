//! Evaluating filters against JSON resources (RFC 7644 §3.4.2.2 semantics).

use std::cell::RefCell;

use scim_client::filter::{Filter, default_case_exact};
use scim_client::path::AttrPath;
use serde_json::{Value, json};

fn user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "nickName": "",
        "middle": null,
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "loginCount": 42,
        "score": 3.5,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "tags": ["alpha", "Beta"],
        "x509Certificates": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff591\""
        }
    })
}

fn eval_table(resource: &Value, cases: &[(&str, bool)]) {
    let mut failures = Vec::new();
    for &(input, expected) in cases {
        let filter = Filter::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        if filter.matches(resource) != expected {
            failures.push(format!("{input}  => expected {expected}"));
        }
    }
    assert!(
        failures.is_empty(),
        "wrong results:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rfc_example_filters_against_a_user() {
    eval_table(
        &user(),
        &[
            (r#"userName eq "bjensen""#, false),
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"name.familyName co "O'Malley""#, false),
            (r#"name.familyName co "ens""#, true),
            (r#"userName sw "J""#, false),
            (r#"userName sw "BJ""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#,
                true,
            ),
            ("title pr", true),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
            (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
            (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
            (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
            (r#"title pr and userType eq "Employee""#, true),
            (r#"title pr or userType eq "Intern""#, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                true,
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                true,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                false,
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                true,
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                true,
            ),
            (r#"ims[type eq "xmpp" and value co "@foo.com"]"#, false),
        ],
    );
}

#[test]
fn names_and_strings_ignore_case_except_case_exact_attributes() {
    eval_table(
        &user(),
        &[
            (r#"USERNAME EQ "BJensen@Example.COM""#, true),
            (r#"NAME.GIVENNAME eq "barbara""#, true),
            (r#"title eq "tour guide""#, true),
            (r#"title ne "TOUR GUIDE""#, false),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"externalId eq "701984""#, true),
            (r#"tags eq "beta""#, true),
        ],
    );
    let f = Filter::eq("userName", "BJENSEN@example.com");
    assert!(f.matches(&user()));
    assert!(!f.matches_with(&user(), &|p: &AttrPath| {
        p.name.eq_ignore_ascii_case("userName")
    }));
    assert!(default_case_exact(&AttrPath::new("id")));
    assert!(!default_case_exact(&AttrPath::new("userName")));
}

#[test]
fn case_exact_sees_full_paths_inside_value_paths() {
    let seen = RefCell::new(Vec::new());
    let f = Filter::parse(
        r#"emails[type eq "WORK" and value eq "bjensen@example.com"] and name.givenName eq "x""#,
    )
    .unwrap();
    let record = |p: &AttrPath| {
        seen.borrow_mut().push(p.to_string());
        p.sub_attr.as_deref() == Some("type")
    };
    assert!(
        !f.matches_with(&user(), &record),
        "type is case-exact here, so WORK does not match"
    );
    let seen = seen.into_inner();
    assert!(seen.contains(&"emails.type".to_owned()), "{seen:?}");
}

#[test]
fn multi_valued_attributes_match_if_any_value_does() {
    eval_table(
        &user(),
        &[
            (r#"emails.type eq "home""#, true),
            (r#"emails.value ew "@jensen.org""#, true),
            // Across values: true, since some email is home and some email is @example.com ...
            (
                r#"emails.type eq "home" and emails.value co "@example.com""#,
                true,
            ),
            // ... but no single email is both: the value path says so.
            (
                r#"emails[type eq "home" and value co "@example.com"]"#,
                false,
            ),
            (r#"emails[type eq "work" and primary eq true]"#, true),
            (r#"emails[not (type eq "work")]"#, true),
            (r#"emails[type eq "other"]"#, false),
            // A complex value compared without a sub-attribute compares its "value".
            (r#"emails eq "babs@jensen.org""#, true),
            (r#"ims co "aim""#, true),
            // A multi-valued string attribute in a value path: each string is its value.
            (r#"tags[value sw "al"]"#, true),
            (r#"tags[value eq "gamma"]"#, false),
            // Entra's form.
            (
                r#"emails[type eq "work"].value eq "bjensen@example.com""#,
                true,
            ),
            (
                r#"emails[type eq "home"].value eq "bjensen@example.com""#,
                false,
            ),
        ],
    );
}

#[test]
fn presence() {
    eval_table(
        &user(),
        &[
            ("title pr", true),
            ("nickName pr", false),
            ("middle pr", false),
            ("x509Certificates pr", false),
            ("missing pr", false),
            ("name pr", true),
            ("emails pr", true),
            ("emails.display pr", false),
            ("active pr", true),
            ("loginCount pr", true),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr",
                true,
            ),
        ],
    );
    assert!(
        !Filter::present("name").matches(&json!({"name": {"givenName": "", "familyName": null}}))
    );
}

#[test]
fn date_times_compare_as_instants() {
    eval_table(
        &user(),
        &[
            (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true),
            (r#"meta.lastModified gt "2011-05-13T04:42:33.999Z""#, true),
            (r#"meta.lastModified lt "2011-05-13T05:42:34+02:00""#, false),
            (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
            (
                r#"meta.created gt "2010-01-23T04:56:21Z" and meta.created lt "2010-01-23T04:56:23Z""#,
                true,
            ),
            (r#"meta.lastModified sw "2011-05""#, true),
        ],
    );
}

#[test]
fn numbers_booleans_and_null() {
    eval_table(
        &user(),
        &[
            ("loginCount eq 42", true),
            ("loginCount eq 42.0", true),
            ("loginCount eq 4.2e1", true),
            ("loginCount gt 41", true),
            ("loginCount ge 42", true),
            ("loginCount lt 42", false),
            ("loginCount le -1", false),
            ("score gt 3.25", true),
            ("score eq 3.50", true),
            ("loginCount co 4", false),
            // No coercion between types.
            (r#"loginCount eq "42""#, false),
            (r#"loginCount ne "42""#, true),
            ("active eq true", true),
            ("active eq false", false),
            ("active ne false", true),
            (r#"active eq "true""#, false),
            ("middle eq null", true),
            ("missing eq null", true),
            ("title eq null", false),
            ("title ne null", true),
            ("missing ne null", false),
            (r#"missing ne "x""#, true),
            (r#"missing eq "x""#, false),
            (r#"title gt "Tour""#, true),
            (r#"title lt "tour""#, false),
        ],
    );
    let big = json!({"n": 9_007_199_254_740_993_u64});
    assert!(
        Filter::parse("n eq 9007199254740993")
            .unwrap()
            .matches(&big),
        "integers compare exactly"
    );
    assert!(
        !Filter::parse("n eq 9007199254740992")
            .unwrap()
            .matches(&big)
    );
}

#[test]
fn extension_attributes() {
    eval_table(
        &user(),
        &[
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:costcenter eq "4130""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "john""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:other:2.0:User:employeeNumber eq "701984""#,
                false,
            ),
            // Not a top-level attribute.
            (r#"employeeNumber eq "701984""#, false),
        ],
    );
    // A custom core schema, named as the resource's first schema, addresses top-level attributes.
    let device = json!({"schemas": ["urn:example:scim:Device"], "serial": "X1"});
    assert!(
        Filter::parse(r#"urn:example:scim:Device:serial eq "x1""#)
            .unwrap()
            .matches(&device)
    );
}

#[test]
fn groups_and_odd_resources() {
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}
        ]
    });
    eval_table(
        &group,
        &[
            (
                r#"members[value eq "902c246b-6245-4190-8e05-00816be7344a"]"#,
                true,
            ),
            (
                r#"members.value eq "902C246B-6245-4190-8E05-00816BE7344A""#,
                true,
            ),
            (r#"members[display sw "mandy" and type eq "User"]"#, true),
            (
                r#"displayName eq "tour guides" and not (members pr)"#,
                false,
            ),
        ],
    );
    // Anything that is not an object matches nothing (but never panics).
    for odd in [json!(null), json!([1, 2]), json!("userName"), json!(3)] {
        assert!(!Filter::present("userName").matches(&odd));
        assert!(Filter::not(Filter::present("userName")).matches(&odd));
    }
}
