//! PATCH paths and request documents: parsing, printing, the builder, the wire shape,
//! and lenient reading.

use scim_client::filter::Filter;
use scim_client::patch::{
    PATCH_OP_SCHEMA, PatchError, PatchOp, PatchOpKind, PatchPath, PatchRequest,
};
use scim_client::path::AttrPath;
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn rfc_7644_figure_8_paths_and_more() {
    let member = "2819c223-7f76-453a-919d-413861904646";
    let cases: Vec<(String, PatchPath, String)> = vec![
        (
            "members".into(),
            PatchPath::Attr(AttrPath::new("members")),
            "members".into(),
        ),
        (
            "name.familyName".into(),
            PatchPath::Attr(AttrPath::with_sub_attr("name", "familyName")),
            "name.familyName".into(),
        ),
        (
            r#"addresses[type eq "work"]"#.into(),
            PatchPath::value_path("addresses", Filter::eq("type", "work")),
            r#"addresses[type eq "work"]"#.into(),
        ),
        (
            format!("members[value eq\n       \"{member}\"]"),
            PatchPath::value_path("members", Filter::eq("value", member)),
            format!(r#"members[value eq "{member}"]"#),
        ),
        (
            format!("members[value eq\n       \"{member}\"].displayName"),
            PatchPath::value_path("members", Filter::eq("value", member))
                .with_sub_attr("displayName"),
            format!(r#"members[value eq "{member}"].displayName"#),
        ),
        (
            r#"emails[type eq "work"].value"#.into(),
            PatchPath::value_path("emails", Filter::eq("type", "work")).with_sub_attr("value"),
            r#"emails[type eq "work"].value"#.into(),
        ),
        (
            r#"emails[type eq "work" and value ew "example.com"]"#.into(),
            PatchPath::value_path(
                "emails",
                Filter::eq("type", "work").and(Filter::ew("value", "example.com")),
            ),
            r#"emails[type eq "work" and value ew "example.com"]"#.into(),
        ),
        (
            format!("{ENTERPRISE}:employeeNumber"),
            PatchPath::Attr(AttrPath::new("employeeNumber").in_schema(ENTERPRISE)),
            format!("{ENTERPRISE}:employeeNumber"),
        ),
        (
            format!("{ENTERPRISE}:manager.value"),
            PatchPath::Attr(AttrPath::with_sub_attr("manager", "value").in_schema(ENTERPRISE)),
            format!("{ENTERPRISE}:manager.value"),
        ),
        (
            "  USERNAME  ".into(),
            PatchPath::Attr(AttrPath::new("USERNAME")),
            "USERNAME".into(),
        ),
    ];
    for (input, expected, printed) in &cases {
        let parsed = PatchPath::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(&parsed, expected, "{input:?}");
        assert_eq!(&parsed.to_string(), printed);
        assert_eq!(PatchPath::parse(printed).unwrap(), parsed);
        assert!(parsed.is_valid());
    }
}

#[test]
fn path_errors_are_invalid_path_with_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "attribute path"),
        ("emails[", 7, "attribute path"),
        (r#"emails[type eq "work""#, 21, "']'"),
        (r#"emails[type eq]"#, 14, "value"),
        (r#"emails[type eq "work"]."#, 23, "sub-attribute name"),
        (r#"emails[type eq "work"].value.x"#, 28, "end of the path"),
        (r#"emails[type eq "work"]x"#, 22, "'.' or the end"),
        (r#"emails[type eq "work"][value pr]"#, 22, "'.' or the end"),
        (r#"emails[value[type pr]]"#, 12, "cannot be nested"),
        ("name..givenName", 5, "sub-attribute name"),
        ("name.givenName.x", 14, "at most one sub-attribute"),
        ("user name", 5, "'[' or the end of the path"),
        ("members eq \"x\"", 8, "'[' or the end of the path"),
    ];
    for &(input, position, expected) in cases {
        let err = PatchPath::parse(input).expect_err(input);
        assert_eq!(err.position(), position, "{input:?}: {err}");
        assert!(
            err.expected().contains(expected),
            "{input:?}: expected {expected:?}, got {err}"
        );
        assert_eq!(err.scim_type(), "invalidPath");
        let patch_err = PatchError::from(err);
        assert_eq!(patch_err.scim_type(), "invalidPath");
    }
}

#[test]
fn builder_writes_the_rfc_shape() {
    let request = PatchRequest::new()
        .add(
            "members",
            json!([{"value": "2819c223", "display": "Babs Jensen"}]),
        )
        .replace(r#"emails[type eq "work"].value"#, "bjensen@example.com")
        .remove(PatchPath::value_path(
            "members",
            Filter::eq("value", "id \"with\" quotes"),
        ))
        .replace_attributes(json!({"active": false}))
        .add_attributes(json!({"nickName": "Babs"}))
        .op(PatchOp::remove(AttrPath::new("title")));
    let wire = serde_json::to_value(&request).unwrap();
    assert_eq!(
        wire,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "2819c223", "display": "Babs Jensen"}]},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"},
                {"op": "remove", "path": "members[value eq \"id \\\"with\\\" quotes\"]"},
                {"op": "replace", "value": {"active": false}},
                {"op": "add", "value": {"nickName": "Babs"}},
                {"op": "remove", "path": "title"}
            ]
        })
    );
    // Key order on the wire: schemas first, then Operations; op, path, value.
    let text = serde_json::to_string(&request).unwrap();
    assert!(text.starts_with(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":"#));
    // And it reads back to the same request.
    assert_eq!(PatchRequest::from_json(&wire).unwrap(), request);
    assert_eq!(
        serde_json::from_str::<PatchRequest>(&text).unwrap(),
        request
    );
}

#[test]
fn string_paths_that_do_not_parse_are_sent_verbatim_and_flagged() {
    let request = PatchRequest::new().replace("emails[type eq", "x");
    let path = request.operations[0].path.as_ref().unwrap();
    assert!(!path.is_valid());
    assert_eq!(
        serde_json::to_value(&request).unwrap()["Operations"][0]["path"],
        "emails[type eq"
    );
    let mut user = json!({"userName": "a"});
    let err = request.apply(&mut user).unwrap_err();
    assert_eq!(err.scim_type(), "invalidPath");
    assert_eq!(user, json!({"userName": "a"}));
}

#[test]
fn reading_is_lenient_about_case_and_keeps_values_as_sent() {
    // What Microsoft Entra sends by default.
    let entra = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "Remove", "path": "members", "value": [{"value": "u1091"}]},
            {"op": "REPLACE", "path": "displayName", "value": "B"},
            {"OP": "add", "Path": "title", "Value": "Boss"},
            {"op": "replace", "path": "", "value": {"title": "Boss"}},
            {"op": "replace", "path": null, "value": {"title": "Boss"}},
            {"op": "replace", "path": "title", "value": null}
        ]
    });
    let request = PatchRequest::from_json(&entra).unwrap();
    let ops = &request.operations;
    assert_eq!(ops.len(), 8);
    assert_eq!(ops[0].op, PatchOpKind::Replace);
    assert_eq!(
        ops[0].value,
        Some(json!("False")),
        "kept as the string it was"
    );
    assert_eq!(ops[1].op, PatchOpKind::Add);
    assert_eq!(ops[2].op, PatchOpKind::Remove);
    assert_eq!(ops[2].value, Some(json!([{"value": "u1091"}])));
    assert_eq!(ops[3].op, PatchOpKind::Replace);
    assert_eq!(ops[4], PatchOp::add(AttrPath::new("title"), "Boss"));
    assert_eq!(ops[5].path, None, "an empty path is no path");
    assert_eq!(ops[6].path, None);
    assert_eq!(ops[7].value, Some(Value::Null), "an explicit null is kept");

    // Written back, ops are lowercase.
    let rewritten = serde_json::to_value(&request).unwrap();
    assert_eq!(rewritten["Operations"][0]["op"], "replace");

    // Missing schemas and lower-case Operations are accepted.
    let bare = PatchRequest::from_json(&json!({"operations": [{"op": "remove", "path": "title"}]}))
        .unwrap();
    assert_eq!(bare, PatchRequest::new().remove("title"));

    for name in ["add", "Add", "ADD", "aDd"] {
        assert_eq!(PatchOpKind::from_name(name), Some(PatchOpKind::Add));
        assert_eq!(
            serde_json::from_value::<PatchOpKind>(json!(name)).unwrap(),
            PatchOpKind::Add
        );
    }
    assert_eq!(PatchOpKind::from_name("move"), None);
    assert_eq!(
        PATCH_OP_SCHEMA,
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    );
}

#[test]
fn reading_errors_are_typed() {
    let cases = [
        (json!([]), "invalidSyntax"),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Operations": []}),
            "invalidSyntax",
        ),
        (json!({"schemas": [PATCH_OP_SCHEMA]}), "invalidSyntax"),
        (json!({"Operations": {"op": "add"}}), "invalidSyntax"),
        (
            json!({"Operations": [{"op": "move", "path": "a"}]}),
            "invalidSyntax",
        ),
        (json!({"Operations": [{"path": "a"}]}), "invalidSyntax"),
        (json!({"Operations": [{"op": 1}]}), "invalidSyntax"),
        (json!({"Operations": ["add"]}), "invalidSyntax"),
        (
            json!({"Operations": [{"op": "remove", "path": "emails[type eq]"}]}),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "remove", "path": 7}]}),
            "invalidPath",
        ),
    ];
    for (body, scim_type) in cases {
        let err = PatchRequest::from_json(&body).unwrap_err();
        assert_eq!(err.scim_type(), scim_type, "{body}: {err}");
        // Through serde the same problem is a deserialization error with the message.
        let serde_err = serde_json::from_value::<PatchRequest>(body.clone()).unwrap_err();
        assert!(serde_err.to_string().contains(scim_type), "{serde_err}");
    }
    let err = PatchRequest::from_json(
        &json!({"Operations": [{"op": "add", "path": "a", "value": 1}, {"op": "x"}]}),
    )
    .unwrap_err();
    assert!(err.detail().starts_with("operation 1:"), "{err}");
}
