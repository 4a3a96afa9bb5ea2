//! Properties of PATCH application: it never panics, and a request that fails leaves
//! the resource exactly as it was (RFC 7644 §3.5.2: PATCH is atomic).

use proptest::prelude::*;
use scim_client::patch::{ApplyOptions, PatchOp, PatchOpKind, PatchPath, PatchRequest};
use serde_json::{Value, json};

fn path() -> impl Strategy<Value = Option<PatchPath>> {
    let paths = vec![
        "userName",
        "USERNAME",
        "name",
        "name.givenName",
        "name.givenName.x",
        "emails",
        "emails.value",
        "emails[type eq \"work\"]",
        "emails[type eq \"work\"].value",
        "emails[value co \"@\"].primary",
        "emails[type eq \"nothing\"]",
        "members[value eq \"u1\"]",
        "members",
        "tags[value eq \"a\"]",
        "id",
        "meta",
        "meta.version",
        "active",
        "x[",
        "a b",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "userName[value pr]",
        "name[givenName pr].x",
        "nickName.sub",
    ];
    prop::option::weighted(0.85, prop::sample::select(paths).prop_map(PatchPath::from))
}

fn value() -> impl Strategy<Value = Option<Value>> {
    let values = vec![
        json!(null),
        json!(true),
        json!("False"),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!([{"value": "u1"}, {"value": "u2", "primary": true}]),
        json!({"value": "v", "type": "work", "primary": true}),
        json!({"givenName": "B", "name.familyName": "J"}),
        json!(["a", "b"]),
        json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D"}}),
        json!({"id": "other"}),
        json!({"bad key": 1}),
        json!({"emails": [{"value": "e@x"}]}),
    ];
    prop::option::weighted(0.9, prop::sample::select(values))
}

fn op() -> impl Strategy<Value = PatchOp> {
    (
        prop::sample::select(vec![
            PatchOpKind::Add,
            PatchOpKind::Replace,
            PatchOpKind::Remove,
        ]),
        path(),
        value(),
    )
        .prop_map(|(op, path, value)| PatchOp { op, path, value })
}

fn resource() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1",
        "userName": "u",
        "name": {"givenName": "A"},
        "emails": [{"value": "a@x", "type": "work", "primary": true}, {"value": "b@x", "type": "home"}],
        "members": [{"value": "u1"}],
        "tags": ["a", "b"],
        "nickName": null,
        "meta": {"version": "W/\"1\""}
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn apply_never_panics_and_failures_change_nothing(ops in prop::collection::vec(op(), 1..6), create in any::<bool>()) {
        let request = PatchRequest { operations: ops };
        let mut target = resource();
        let result = request.apply_with(&mut target, &ApplyOptions::default().create_unmatched(create));
        if result.is_err() {
            prop_assert_eq!(target, resource());
        } else {
            prop_assert!(target.is_object());
        }
        // Whatever the outcome, the request survives its own wire format.
        let wire = serde_json::to_value(&request).unwrap();
        let _ = PatchRequest::from_json(&wire);
    }
}
