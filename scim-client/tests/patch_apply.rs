//! Applying PATCH requests (RFC 7644 §3.5.2.1-3) to fixture resources.

use scim_client::filter::Filter;
use scim_client::patch::{ApplyOptions, PatchOp, PatchOpKind, PatchPath, PatchRequest};
use serde_json::{Value, json};

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {"value": BABS, "$ref": format!("https://example.com/v2/Users/{BABS}"), "display": "Babs Jensen"},
            {"value": MANDY, "$ref": format!("https://example.com/v2/Users/{MANDY}"), "display": "Mandy Pepperidge"}
        ],
        "meta": {"resourceType": "Group", "version": "W/\"3694e05e9dff592\""}
    })
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": BABS,
        "userName": "bjensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "nickName": "Barbie",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "primary": false},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "primary": true}
        ],
        "meta": {"resourceType": "User", "version": "W/\"a330bc54f0671c9\""}
    })
}

/// Reads `body` as a client would send it, applies it to `resource`.
fn apply(resource: &mut Value, body: Value) {
    let request: PatchRequest = match serde_json::from_value(body) {
        Ok(request) => request,
        Err(e) => panic!("not a valid PATCH body: {e}"),
    };
    if let Err(e) = request.apply(resource) {
        panic!("apply failed: {e}");
    }
}

fn members(resource: &Value) -> Vec<&str> {
    resource["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn rfc_3_5_2_1_add_a_member() {
    let mut g = group();
    apply(
        &mut g,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [
            {"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}
        ]}]}),
    );
    assert_eq!(members(&g), [BABS, MANDY, JAMES]);
    assert_eq!(g["members"][2]["display"], "James Smith");

    // "If the user was already a member of this group, no changes should be made."
    let before = g.clone();
    apply(
        &mut g,
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"display": "Babs", "value": BABS}]}]}),
    );
    assert_eq!(g, before);
}

#[test]
fn rfc_3_5_2_1_add_without_path() {
    let mut u = user();
    apply(
        &mut u,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "babs@example.net", "type": "other"}],
            "nickname": "Babs"
        }}]}),
    );
    // The home email was already there; the other one is appended.
    let emails: Vec<&str> = u["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["bjensen@example.com", "babs@jensen.org", "babs@example.net"]
    );
    // "nickname" matches the existing "nickName" (names ignore case) and replaces it.
    assert_eq!(u["nickName"], "Babs");
    assert!(u.get("nickname").is_none());
}

#[test]
fn rfc_3_5_2_2_remove_operations() {
    // Remove a single member.
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]}),
    );
    assert_eq!(members(&g), [MANDY]);

    // Not a member: no change, success.
    let before = g.clone();
    apply(
        &mut g,
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{JAMES}\"]")}]}),
    );
    assert_eq!(g, before);

    // Remove all members: the attribute becomes unassigned.
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [{"op": "remove", "path": "members"}]}),
    );
    assert!(g.get("members").is_none());

    // Remove a value from a complex multi-valued attribute.
    let mut u = user();
    apply(
        &mut u,
        json!({"Operations": [{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]}),
    );
    assert_eq!(
        u["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );

    // Remove the last matching values: the attribute is removed.
    apply(
        &mut u,
        json!({"Operations": [{"op": "remove", "path": "emails[type eq \"home\"]"}]}),
    );
    assert!(u.get("emails").is_none());

    // Remove and add a member in one request (the RFC's text has no space before the value).
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [
            {"op": "remove", "path": format!("members[value eq\"{BABS}\"]")},
            {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": JAMES}]}
        ]}),
    );
    assert_eq!(members(&g), [MANDY, JAMES]);

    // Replace all members with remove + add.
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [
                {"display": "Babs Jensen", "value": BABS},
                {"display": "James Smith", "value": JAMES}
            ]}
        ]}),
    );
    assert_eq!(members(&g), [BABS, JAMES]);
}

#[test]
fn rfc_3_5_2_3_replace_operations() {
    // Replace all members in a single replace.
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [{"op": "replace", "path": "members", "value": [
            {"display": "Babs Jensen", "value": BABS},
            {"display": "James Smith", "value": JAMES}
        ]}]}),
    );
    assert_eq!(
        g["members"],
        json!([{"display": "Babs Jensen", "value": BABS}, {"display": "James Smith", "value": JAMES}])
    );

    // Replace the whole work address; primary true resets the others' primary.
    let mut u = user();
    let work = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    apply(
        &mut u,
        json!({"Operations": [{"op": "replace", "path": "addresses[type eq \"work\"]", "value": work}]}),
    );
    assert_eq!(u["addresses"][0], work);
    assert_eq!(u["addresses"][1]["primary"], false, "only one primary");

    // Replace one sub-attribute of the matching values.
    apply(
        &mut u,
        json!({"Operations": [{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]}),
    );
    assert_eq!(u["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(
        u["addresses"][0]["postalCode"], "91608",
        "other sub-attributes are kept"
    );

    // The brief's example: the work email's value.
    let mut u = user();
    let request = PatchRequest::new().replace(
        PatchPath::value_path("emails", Filter::eq("type", "work")).with_sub_attr("value"),
        "babs@work.example",
    );
    request.apply(&mut u).unwrap();
    assert_eq!(
        u["emails"][0],
        json!({"value": "babs@work.example", "type": "work", "primary": true})
    );
    assert_eq!(u["emails"][1]["value"], "babs@jensen.org");
}

#[test]
fn replace_complex_and_single_valued_attributes() {
    let mut u = user();
    PatchRequest::new()
        .replace("name", json!({"givenName": "Babs", "middleName": "J"}))
        .replace("name.familyName", "Jensen-Smith")
        .replace("USERNAME", "babs")
        .replace("title", "Tour Guide")
        .apply(&mut u)
        .unwrap();
    // Sub-attributes not given are left unchanged.
    assert_eq!(
        u["name"],
        json!({"familyName": "Jensen-Smith", "givenName": "Babs", "middleName": "J"})
    );
    assert_eq!(u["userName"], "babs", "the existing member's name is kept");
    assert!(u.get("USERNAME").is_none());
    assert_eq!(
        u["title"], "Tour Guide",
        "replace of a missing attribute adds it"
    );

    // A multi-valued attribute without a filter is replaced whole.
    PatchRequest::new()
        .replace("emails", json!([{"value": "x@y.z"}]))
        .apply(&mut u)
        .unwrap();
    assert_eq!(u["emails"], json!([{"value": "x@y.z"}]));
}

#[test]
fn no_path_replace_as_okta_and_entra_send_it() {
    // Okta deactivates with a path-less replace.
    let mut u = user();
    PatchRequest::new()
        .replace_attributes(json!({"active": false}))
        .apply(&mut u)
        .unwrap();
    assert_eq!(u["active"], false);

    // Entra (aadOptscim062020) puts several attributes, as paths, in one path-less replace.
    let mut u = user();
    apply(
        &mut u,
        json!({"Operations": [{"op": "replace", "value": {
            "displayName": "Babs Jensen",
            "name.givenName": "Babs",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "26118915"
        }}]}),
    );
    assert_eq!(u["displayName"], "Babs Jensen");
    assert_eq!(u["name"]["givenName"], "Babs");
    assert_eq!(u["name"]["familyName"], "Jensen");
    assert_eq!(
        u[ENTERPRISE],
        json!({"employeeNumber": "701984", "manager": {"value": "26118915"}})
    );
    assert_eq!(
        u["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]),
        "schemas gains the extension"
    );

    // A whole extension object under its URI is merged.
    apply(
        &mut u,
        json!({"Operations": [{"op": "add", "value": {ENTERPRISE: {"department": "Tours", "employeeNumber": "1"}}}]}),
    );
    assert_eq!(
        u[ENTERPRISE],
        json!({"employeeNumber": "1", "manager": {"value": "26118915"}, "department": "Tours"})
    );

    // ... also when the resource has no such extension yet.
    let mut fresh = user();
    apply(
        &mut fresh,
        json!({"Operations": [{"op": "add", "value": {ENTERPRISE: {"costCenter": "4130"}}}]}),
    );
    assert_eq!(fresh[ENTERPRISE], json!({"costCenter": "4130"}));
    assert_eq!(fresh["schemas"][1], ENTERPRISE);

    // Core attributes under the core schema URI are top-level attributes.
    apply(
        &mut fresh,
        json!({"Operations": [{"op": "replace", "value": {
            "urn:ietf:params:scim:schemas:core:2.0:User": {"nickName": "B"},
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Guide"
        }}]}),
    );
    assert_eq!(fresh["nickName"], "B");
    assert_eq!(fresh["title"], "Guide");
}

#[test]
fn extension_paths() {
    let mut u = user();
    let manager = format!("{ENTERPRISE}:manager");
    PatchRequest::new()
        .add(format!("{ENTERPRISE}:employeeNumber").as_str(), "701984")
        .add(
            manager.as_str(),
            json!({"value": "26118915", "displayName": "John Smith"}),
        )
        .replace(
            format!("{ENTERPRISE}:manager.displayName").as_str(),
            "John Q. Smith",
        )
        .apply(&mut u)
        .unwrap();
    assert_eq!(
        u[ENTERPRISE],
        json!({"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Q. Smith"}})
    );
    PatchRequest::new()
        .remove(manager.as_str())
        .apply(&mut u)
        .unwrap();
    assert_eq!(u[ENTERPRISE], json!({"employeeNumber": "701984"}));
    // Removing from an extension the resource does not have changes nothing.
    let before = u.clone();
    PatchRequest::new()
        .remove("urn:example:ext:2.0:Other:x")
        .apply(&mut u)
        .unwrap();
    assert_eq!(u, before);
}

#[test]
fn entra_legacy_forms() {
    // Member removal with a value list instead of a filter.
    let mut g = group();
    apply(
        &mut g,
        json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": MANDY}]}]}),
    );
    assert_eq!(members(&g), [BABS]);

    // "False" is kept as the string it was: interpreting it is the caller's choice.
    let mut u = user();
    apply(
        &mut u,
        json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
    );
    assert_eq!(u["active"], "False");

    // Replace of an unmatched value path: noTarget by the RFC ...
    let request =
        PatchRequest::new().replace(r#"emails[type eq "other"].value"#, "b@other.example");
    let mut u = user();
    assert_eq!(request.apply(&mut u).unwrap_err().scim_type(), "noTarget");
    // ... or created, as Entra expects, when asked.
    request
        .apply_with(&mut u, &ApplyOptions::strict().create_unmatched(true))
        .unwrap();
    assert_eq!(
        u["emails"][2],
        json!({"type": "other", "value": "b@other.example"})
    );
    // Also into an attribute that did not exist yet, and with an object value.
    let mut bare = json!({"userName": "x"});
    PatchRequest::new()
        .add(
            r#"phoneNumbers[type eq "work"]"#,
            json!({"value": "555-1234", "primary": true}),
        )
        .apply_with(&mut bare, &ApplyOptions::default().create_unmatched(true))
        .unwrap();
    assert_eq!(
        bare["phoneNumbers"],
        json!([{"type": "work", "value": "555-1234", "primary": true}])
    );
    // Only for filters that say what to create.
    let err = PatchRequest::new()
        .replace(r#"emails[type sw "o"].value"#, "x")
        .apply_with(&mut user(), &ApplyOptions::default().create_unmatched(true))
        .unwrap_err();
    assert_eq!(err.scim_type(), "noTarget");
}

#[test]
fn value_path_add_and_sub_attribute_removal() {
    let mut u = user();
    PatchRequest::new()
        .add(
            r#"emails[type eq "home"]"#,
            json!({"display": "Babs at home"}),
        )
        .remove(r#"emails[type eq "work"].primary"#)
        .apply(&mut u)
        .unwrap();
    assert_eq!(
        u["emails"][1],
        json!({"value": "babs@jensen.org", "type": "home", "display": "Babs at home"})
    );
    assert_eq!(
        u["emails"][0],
        json!({"value": "bjensen@example.com", "type": "work"})
    );

    // Setting primary on one value through a value path clears it on the others.
    PatchRequest::new()
        .replace(r#"emails[type eq "work"].primary"#, true)
        .apply(&mut u)
        .unwrap();
    PatchRequest::new()
        .replace(r#"emails[type eq "home"].primary"#, true)
        .apply(&mut u)
        .unwrap();
    assert_eq!(u["emails"][0]["primary"], false);
    assert_eq!(u["emails"][1]["primary"], true);

    // Adding a new primary value clears the old primary.
    PatchRequest::new()
        .add(
            "emails",
            json!([{"value": "new@example.com", "type": "work", "primary": true}]),
        )
        .apply(&mut u)
        .unwrap();
    assert_eq!(u["emails"][1]["primary"], false);
    assert_eq!(u["emails"][2]["primary"], true);

    // A value path over a multi-valued string attribute.
    let mut tagged = json!({"tags": ["a", "b", "c"]});
    PatchRequest::new()
        .remove(r#"tags[value eq "b"]"#)
        .apply(&mut tagged)
        .unwrap();
    assert_eq!(tagged["tags"], json!(["a", "c"]));
}

#[test]
fn errors_are_typed_and_leave_the_resource_unchanged() {
    let cases: Vec<(PatchRequest, &str)> = vec![
        (
            PatchRequest::new().op(PatchOp {
                op: PatchOpKind::Remove,
                path: None,
                value: None,
            }),
            "noTarget",
        ),
        (
            PatchRequest::new().op(PatchOp {
                op: PatchOpKind::Add,
                path: Some("title".into()),
                value: None,
            }),
            "invalidValue",
        ),
        (
            PatchRequest::new().op(PatchOp {
                op: PatchOpKind::Replace,
                path: None,
                value: None,
            }),
            "invalidValue",
        ),
        (
            PatchRequest::new().add_attributes(json!("not an object")),
            "invalidValue",
        ),
        (
            PatchRequest::new().replace_attributes(json!({"bad name": 1})),
            "invalidPath",
        ),
        (
            PatchRequest::new().replace(r#"emails[type eq "pager"].value"#, "x"),
            "noTarget",
        ),
        (
            PatchRequest::new().add(r#"emails[type eq "pager"]"#, json!({"value": "x"})),
            "noTarget",
        ),
        (
            PatchRequest::new().replace(r#"userName[value eq "x"]"#, "y"),
            "invalidPath",
        ),
        (
            PatchRequest::new().replace("userName.first", "y"),
            "invalidPath",
        ),
        (
            PatchRequest::new().replace("id", "another-id"),
            "mutability",
        ),
        (PatchRequest::new().remove("id"), "mutability"),
        (PatchRequest::new().remove("meta"), "mutability"),
        (
            PatchRequest::new().replace("meta.version", "W/\"x\""),
            "mutability",
        ),
        (
            PatchRequest::new().replace_attributes(json!({"id": "another-id"})),
            "mutability",
        ),
        (
            PatchRequest::new()
                .remove(r#"members[value eq "x"]"#)
                .replace("id", "y"),
            "mutability",
        ),
    ];
    for (request, scim_type) in cases {
        // A first, valid operation: it must be rolled back.
        let failing = request.operations.len();
        let request = PatchRequest {
            operations: std::iter::once(PatchOp::replace("displayName", "changed"))
                .chain(request.operations)
                .collect(),
        };
        let mut u = user();
        let Err(err) = request.apply(&mut u) else {
            panic!("{} should fail", serde_json::to_string(&request).unwrap())
        };
        assert_eq!(err.scim_type(), scim_type, "{err}");
        assert!(
            err.detail().starts_with(&format!("operation {failing} (")),
            "{err}"
        );
        assert_eq!(u, user(), "atomic: {err}");
    }
    // Writing the value id and meta already have is not a change.
    let mut u = user();
    PatchRequest::new()
        .replace_attributes(json!({"id": BABS, "meta": u["meta"].clone(), "title": "Guide"}))
        .apply(&mut u)
        .unwrap();
    assert_eq!(u["title"], "Guide");

    // The resource must be an object.
    let mut not_object = json!([1]);
    assert_eq!(
        PatchRequest::new()
            .remove("a")
            .apply(&mut not_object)
            .unwrap_err()
            .scim_type(),
        "invalidValue"
    );
}

#[test]
fn removing_what_is_not_there_succeeds() {
    let mut u = user();
    PatchRequest::new()
        .remove("title")
        .remove("name.middleName")
        .remove("phoneNumbers")
        .remove(r#"phoneNumbers[type eq "work"]"#)
        .remove(r#"emails[type eq "other"].value"#)
        .apply(&mut u)
        .unwrap();
    assert_eq!(u, user());
}
