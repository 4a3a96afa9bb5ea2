//! Parsing and printing SCIM filters: every example of RFC 7644 §3.4.2.2, precedence,
//! value paths, escapes, whitespace, errors with positions, and the builder.

use scim_client::filter::{
    CompValue, CompareOp, Filter, FilterError, JsonNumber, MAX_DEPTH, MAX_TERMS,
};
use scim_client::path::AttrPath;

fn parse(input: &str) -> Filter {
    match Filter::parse(input) {
        Ok(f) => f,
        Err(e) => panic!("{input:?} should parse: {e}"),
    }
}

fn parse_err(input: &str) -> FilterError {
    match Filter::parse(input) {
        Ok(f) => panic!("{input:?} should not parse, got {f:?}"),
        Err(e) => e,
    }
}

/// Parses, checks the canonical printing, and that the printing parses back to the same AST.
fn check(input: &str, expected: &Filter, printed: &str) {
    let parsed = parse(input);
    assert_eq!(&parsed, expected, "AST of {input:?}");
    assert_eq!(parsed.to_string(), printed, "printing of {input:?}");
    assert_eq!(parse(printed), parsed, "re-parse of {printed:?}");
    assert!(parsed.is_valid());
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn rfc_7644_figure_2_examples() {
    let emails_or =
        Filter::co("emails", "example.com").or(Filter::co("emails.value", "example.org"));
    let cases: Vec<(&str, Filter, &str)> = vec![
        (
            r#"userName eq "bjensen""#,
            Filter::eq("userName", "bjensen"),
            r#"userName eq "bjensen""#,
        ),
        (
            r#"name.familyName co "O'Malley""#,
            Filter::co(AttrPath::with_sub_attr("name", "familyName"), "O'Malley"),
            r#"name.familyName co "O'Malley""#,
        ),
        (
            r#"userName sw "J""#,
            Filter::sw("userName", "J"),
            r#"userName sw "J""#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            Filter::sw(
                AttrPath::new("userName").in_schema("urn:ietf:params:scim:schemas:core:2.0:User"),
                "J",
            ),
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        ),
        ("title pr", Filter::present("title"), "title pr"),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            Filter::gt("meta.lastModified", "2011-05-13T04:42:34Z"),
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            Filter::ge("meta.lastModified", "2011-05-13T04:42:34Z"),
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            Filter::lt("meta.lastModified", "2011-05-13T04:42:34Z"),
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            Filter::le("meta.lastModified", "2011-05-13T04:42:34Z"),
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"title pr and userType eq "Employee""#,
            Filter::present("title").and(Filter::eq("userType", "Employee")),
            r#"title pr and userType eq "Employee""#,
        ),
        (
            r#"title pr or userType eq "Intern""#,
            Filter::present("title").or(Filter::eq("userType", "Intern")),
            r#"title pr or userType eq "Intern""#,
        ),
        (
            // The RFC breaks this one over two lines.
            "\n schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            Filter::eq("schemas", ENTERPRISE),
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        ),
        (
            "userType eq \"Employee\" and (emails co \"example.com\" or\n  emails.value co \"example.org\")",
            Filter::eq("userType", "Employee").and(emails_or.clone()),
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            "userType ne \"Employee\" and not (emails co \"example.com\" or\n  emails.value co \"example.org\")",
            Filter::ne("userType", "Employee").and(Filter::not(emails_or)),
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            Filter::eq("userType", "Employee").and(Filter::eq("emails.type", "work")),
            r#"userType eq "Employee" and emails.type eq "work""#,
        ),
        (
            "userType eq \"Employee\" and emails[type eq \"work\" and\n  value co \"@example.com\"]",
            Filter::eq("userType", "Employee").and(Filter::value_path(
                "emails",
                Filter::eq("type", "work").and(Filter::co("value", "@example.com")),
            )),
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        ),
        (
            "emails[type eq \"work\" and value co \"@example.com\"] or\n  ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            Filter::value_path(
                "emails",
                Filter::eq("type", "work").and(Filter::co("value", "@example.com")),
            )
            .or(Filter::value_path(
                "ims",
                Filter::eq("type", "xmpp").and(Filter::co("value", "@foo.com")),
            )),
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ),
    ];
    assert_eq!(cases.len(), 17, "all of Figure 2");
    for (input, expected, printed) in &cases {
        check(input, expected, printed);
    }
}

#[test]
fn operators_and_attribute_names_are_case_insensitive() {
    // RFC 7644 §3.4.2.2: these two "evaluate to the same logical value".
    let a = parse(r#"userName Eq "john""#);
    let b = parse(r#"Username eq "john""#);
    let Filter::Compare {
        path: pa,
        op: oa,
        value: va,
    } = &a
    else {
        panic!("{a:?}")
    };
    let Filter::Compare {
        path: pb,
        op: ob,
        value: vb,
    } = &b
    else {
        panic!("{b:?}")
    };
    assert!(pa.eq_ignore_case(pb));
    assert_eq!((oa, va), (ob, vb));
    assert_eq!(a.to_string(), r#"userName eq "john""#);

    for op in CompareOp::ALL {
        for spelled in [op.as_str().to_owned(), op.as_str().to_uppercase()] {
            let f = parse(&format!("x {spelled} 1"));
            assert_eq!(f, Filter::compare("x", op, 1));
        }
    }
    assert_eq!(parse("title PR"), Filter::present("title"));
    assert_eq!(
        parse("a pr AND b pr Or c pr"),
        Filter::present("a")
            .and(Filter::present("b"))
            .or(Filter::present("c"))
    );
    assert_eq!(parse("NOT (a pr)"), Filter::not(Filter::present("a")));
    assert_eq!(
        parse("a eq TRUE or b eq False or c eq NULL"),
        parse("a eq true or b eq false or c eq null")
    );
}

#[test]
fn precedence_and_associativity() {
    let (a, b, c, d) = (
        Filter::eq("a", 1),
        Filter::eq("b", 2),
        Filter::eq("c", 3),
        Filter::eq("d", 4),
    );
    let cases = [
        (
            "a eq 1 or b eq 2 and c eq 3",
            a.clone().or(b.clone().and(c.clone())),
            "a eq 1 or b eq 2 and c eq 3",
        ),
        (
            "a eq 1 and b eq 2 or c eq 3",
            a.clone().and(b.clone()).or(c.clone()),
            "a eq 1 and b eq 2 or c eq 3",
        ),
        (
            "(a eq 1 or b eq 2) and c eq 3",
            a.clone().or(b.clone()).and(c.clone()),
            "(a eq 1 or b eq 2) and c eq 3",
        ),
        (
            "a eq 1 and (b eq 2 or c eq 3)",
            a.clone().and(b.clone().or(c.clone())),
            "a eq 1 and (b eq 2 or c eq 3)",
        ),
        (
            "a eq 1 or b eq 2 or c eq 3",
            a.clone().or(b.clone()).or(c.clone()),
            "a eq 1 or b eq 2 or c eq 3",
        ),
        (
            "a eq 1 or (b eq 2 or c eq 3)",
            a.clone().or(b.clone().or(c.clone())),
            "a eq 1 or (b eq 2 or c eq 3)",
        ),
        (
            "a eq 1 and b eq 2 and c eq 3",
            a.clone().and(b.clone()).and(c.clone()),
            "a eq 1 and b eq 2 and c eq 3",
        ),
        (
            "a eq 1 and (b eq 2 and c eq 3)",
            a.clone().and(b.clone().and(c.clone())),
            "a eq 1 and (b eq 2 and c eq 3)",
        ),
        (
            "a eq 1 or b eq 2 and c eq 3 or d eq 4",
            a.clone().or(b.clone().and(c.clone())).or(d.clone()),
            "a eq 1 or b eq 2 and c eq 3 or d eq 4",
        ),
        (
            "not (a eq 1) and b eq 2 or not (c eq 3 or d eq 4)",
            Filter::not(a.clone())
                .and(b.clone())
                .or(Filter::not(c.clone().or(d.clone()))),
            "not (a eq 1) and b eq 2 or not (c eq 3 or d eq 4)",
        ),
        ("((a eq 1))", a.clone(), "a eq 1"),
        (
            "not (not (a eq 1))",
            Filter::not(Filter::not(a.clone())),
            "not (not (a eq 1))",
        ),
        (
            "(a eq 1 or b eq 2) and (c eq 3 or d eq 4)",
            a.clone().or(b.clone()).and(c.clone().or(d.clone())),
            "(a eq 1 or b eq 2) and (c eq 3 or d eq 4)",
        ),
    ];
    for (input, expected, printed) in &cases {
        check(input, expected, printed);
    }
}

#[test]
fn value_paths() {
    let cases = [
        (
            r#"emails[type eq "work"]"#,
            Filter::value_path("emails", Filter::eq("type", "work")),
            r#"emails[type eq "work"]"#,
        ),
        (
            r#"emails[not (type eq "work") or primary eq true]"#,
            Filter::value_path(
                "emails",
                Filter::not(Filter::eq("type", "work")).or(Filter::eq("primary", true)),
            ),
            r#"emails[not (type eq "work") or primary eq true]"#,
        ),
        (
            r#"emails[(type eq "work" or type eq "home") and value pr]"#,
            Filter::value_path(
                "emails",
                Filter::eq("type", "work")
                    .or(Filter::eq("type", "home"))
                    .and(Filter::present("value")),
            ),
            r#"emails[(type eq "work" or type eq "home") and value pr]"#,
        ),
        (
            r#"not (emails[type eq "work"]) and (ims[type eq "xmpp"] or userName pr)"#,
            Filter::not(Filter::value_path("emails", Filter::eq("type", "work"))).and(
                Filter::value_path("ims", Filter::eq("type", "xmpp"))
                    .or(Filter::present("userName")),
            ),
            r#"not (emails[type eq "work"]) and (ims[type eq "xmpp"] or userName pr)"#,
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "26118915"]"#,
            Filter::value_path(
                AttrPath::new("manager").in_schema(ENTERPRISE),
                Filter::eq("value", "26118915"),
            ),
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "26118915"]"#,
        ),
        (
            r#"members[$ref ew "/Users/2819c223"]"#,
            Filter::value_path("members", Filter::ew("$ref", "/Users/2819c223")),
            r#"members[$ref ew "/Users/2819c223"]"#,
        ),
        (
            // Microsoft Entra's non-ABNF form, read as the equivalent ABNF form.
            r#"emails[type eq "work"].value eq "bjensen@example.com""#,
            Filter::value_path(
                "emails",
                Filter::eq("type", "work").and(Filter::eq("value", "bjensen@example.com")),
            ),
            r#"emails[type eq "work" and value eq "bjensen@example.com"]"#,
        ),
        (
            r#"emails[type eq "work" or type eq "home"].value pr"#,
            Filter::value_path(
                "emails",
                Filter::eq("type", "work")
                    .or(Filter::eq("type", "home"))
                    .and(Filter::present("value")),
            ),
            r#"emails[(type eq "work" or type eq "home") and value pr]"#,
        ),
    ];
    for (input, expected, printed) in &cases {
        check(input, expected, printed);
    }
}

#[test]
fn attribute_paths_with_schema_uris() {
    let f = parse(&format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#));
    assert_eq!(
        f,
        Filter::eq(
            AttrPath::new("employeeNumber").in_schema(ENTERPRISE),
            "701984"
        )
    );
    let f = parse(&format!(r#"{ENTERPRISE}:manager.value eq "26118915""#));
    let Filter::Compare { path, .. } = &f else {
        panic!("{f:?}")
    };
    assert_eq!(path.uri.as_deref(), Some(ENTERPRISE));
    assert_eq!(path.name, "manager");
    assert_eq!(path.sub_attr.as_deref(), Some("value"));
    assert_eq!(
        f.to_string(),
        format!(r#"{ENTERPRISE}:manager.value eq "26118915""#)
    );

    // Builder paths are parsed the same way.
    assert_eq!(
        Filter::present(format!("{ENTERPRISE}:manager.value")),
        parse(&format!("{ENTERPRISE}:manager.value pr"))
    );
}

#[test]
fn values_keep_their_text_and_escapes() {
    let value = |input: &str| match parse(input) {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    for number in [
        "0",
        "-0",
        "42",
        "1.50",
        "1e3",
        "2E-5",
        "-12.5e+10",
        "123456789012345678901234567890",
    ] {
        let v = value(&format!("a eq {number}"));
        assert_eq!(v, CompValue::Number(JsonNumber::parse(number).unwrap()));
        assert_eq!(v.to_string(), number, "number text is kept");
    }
    let cases = [
        (r#""plain""#, "plain"),
        (
            r#""quote \" backslash \\ slash \/""#,
            r#"quote " backslash \ slash /"#,
        ),
        (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (r#""caf\u00e9 \u00C9""#, "café É"),
        (r#""\ud83d\ude00""#, "😀"),
        (r#""unicode é 日本 😀 as is""#, "unicode é 日本 😀 as is"),
        (r#""""#, ""),
    ];
    for (literal, text) in cases {
        assert_eq!(
            value(&format!("a eq {literal}")),
            CompValue::String(text.to_owned()),
            "{literal}"
        );
    }
    assert_eq!(value("a eq true"), CompValue::Bool(true));
    assert_eq!(value("a eq false"), CompValue::Bool(false));
    assert_eq!(value("a eq null"), CompValue::Null);

    // Printing escapes what JSON requires, and only that.
    let f = Filter::eq("displayName", "Say \"hi\" \\ there\n\u{1}é");
    assert_eq!(
        f.to_string(),
        r#"displayName eq "Say \"hi\" \\ there\n\u0001é""#
    );
    assert_eq!(parse(&f.to_string()), f);
}

#[test]
fn whitespace_is_tolerated() {
    let expected = Filter::not(Filter::eq("a", "x").and(Filter::present("b")));
    for input in [
        r#"not (a eq "x" and b pr)"#,
        r#"not(a eq "x" and b pr)"#,
        "  not\t(\ta  eq\n\"x\"   and\r\nb\tpr )  ",
        r#"not ( a eq"x" and b pr )"#,
    ] {
        assert_eq!(parse(input), expected, "{input:?}");
    }
    // RFC 7644 §3.5.2.2 writes a value path with no space before the value.
    assert_eq!(
        parse(r#"members[value eq"2819c223-7f76-453a-919d-413861904646"]"#),
        Filter::value_path(
            "members",
            Filter::eq("value", "2819c223-7f76-453a-919d-413861904646")
        )
    );
    assert_eq!(
        parse(r#"emails [ type eq "work" ]"#),
        Filter::value_path("emails", Filter::eq("type", "work"))
    );
}

#[test]
fn keywords_can_be_attribute_names() {
    check("not pr", &Filter::present("not"), "not pr");
    check(
        r#"and eq "x" or or eq "y""#,
        &Filter::eq("and", "x").or(Filter::eq("or", "y")),
        r#"and eq "x" or or eq "y""#,
    );
    check("pr pr", &Filter::present("pr"), "pr pr");
    check(
        "notice pr and android pr",
        &Filter::present("notice").and(Filter::present("android")),
        "notice pr and android pr",
    );
}

#[test]
fn errors_have_positions_and_expectations() {
    // (input, byte position, a word of what was expected)
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "attribute path"),
        ("   ", 3, "attribute path"),
        ("userName", 8, "operator"),
        ("userName eq", 11, "value"),
        (r#"userName eq "bjensen"#, 20, "close the string"),
        (r#"userName xx "bjensen""#, 9, "operator"),
        (r#"userName regex "b.*""#, 9, "operator"),
        (r#"userName eq bjensen"#, 12, "value"),
        (r#"userName eq "x" and"#, 19, "attribute path"),
        (r#"userName eq "x" xor b pr"#, 16, "'and', 'or' or the end"),
        (r#"(userName eq "x""#, 16, "')'"),
        (r#"userName eq "x")"#, 15, "the end of the filter"),
        (r#"emails[type eq "work""#, 21, "']'"),
        (r#"emails[type eq "work"] extra"#, 23, "the end"),
        (
            r#"emails[type[value eq "x"] eq "y"]"#,
            11,
            "cannot be nested",
        ),
        (r#"not emails pr"#, 4, "'(' after 'not'"),
        (r#"not (a pr"#, 9, "')'"),
        ("name.givenName.x pr", 14, "at most one sub-attribute"),
        ("1abc pr", 0, "attribute name"),
        ("name. pr", 5, "sub-attribute name"),
        (":userName pr", 0, "schema URI"),
        ("urn:x: pr", 6, "attribute name"),
        ("a eq 01", 6, "end of the number"),
        ("a eq 1.", 7, "digit"),
        ("a eq 1e", 7, "digit"),
        ("a eq -", 6, "digit"),
        ("a eq 1x", 6, "end of the number"),
        ("a eq truex", 5, "value"),
        (r#"a eq "\x""#, 6, "JSON escape"),
        (r#"a eq "\u12""#, 6, "hex digits"),
        (r#"a eq "\ud800""#, 12, "low surrogate"),
        (r#"a eq "\udc00""#, 6, "lone low surrogate"),
        ("a eq \"tab\there\"", 9, "control characters"),
        ("active gt true", 10, "cannot compare booleans or null"),
        ("a le null", 5, "cannot compare"),
        ("a(eq 1)", 1, "operator"),
        ("a eq 1 and (b pr", 16, "')'"),
        ("é eq 1", 0, "attribute path"),
        (r#"a eq "x" and ]"#, 13, "attribute path"),
    ];
    for &(input, position, expected) in cases {
        let err = parse_err(input);
        assert_eq!(err.position(), position, "position for {input:?}: {err}");
        assert!(
            err.expected().contains(expected),
            "expected {expected:?} for {input:?}, got {err}"
        );
        assert_eq!(err.scim_type(), "invalidFilter");
        assert!(
            err.to_string().contains(&format!("byte {position}")),
            "{err}"
        );
    }
    let err = parse_err("userName eq");
    assert_eq!(err.found(), "end of input");
    let err = parse_err(r#"userName regex "b.*""#);
    assert_eq!(err.found(), r#""regex""#);
}

#[test]
fn nesting_and_size_are_bounded() {
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&ok), Filter::present("a"));
    let too_deep = format!(
        "{}a pr{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let err = parse_err(&too_deep);
    assert_eq!(err.position(), MAX_DEPTH);
    assert!(err.expected().contains("nesting"));
    // Deep enough to overflow a naive recursive parser's stack: rejected, no crash.
    let err = parse_err(&"not (".repeat(100_000));
    assert!(err.expected().contains("nesting"));
    let err = parse_err(&"[".repeat(100_000));
    assert_eq!(err.position(), 0);

    let many = vec!["id eq \"x\""; MAX_TERMS].join(" or ");
    assert!(Filter::parse(&many).is_ok());
    let too_many = vec!["id eq \"x\""; MAX_TERMS + 1].join(" or ");
    assert!(parse_err(&too_many).expected().contains("comparisons"));
}

#[test]
fn builder_escapes_values_and_parenthesises() {
    let f = Filter::eq("userName", "bjensen");
    assert_eq!(f.to_string(), r#"userName eq "bjensen""#);

    let f = Filter::eq("userName", r#"x" or userName pr or userName eq "y"#);
    assert_eq!(
        f.to_string(),
        r#"userName eq "x\" or userName pr or userName eq \"y""#
    );
    assert_eq!(
        parse(&f.to_string()),
        f,
        "an injected filter stays one value"
    );

    let f = Filter::eq("userType", "Employee")
        .and(Filter::present("title").or(Filter::value_path("emails", Filter::eq("type", "work"))))
        .and(Filter::not(Filter::eq("active", false)));
    assert_eq!(
        f.to_string(),
        r#"userType eq "Employee" and (title pr or emails[type eq "work"]) and not (active eq false)"#
    );
    assert_eq!(parse(&f.to_string()), f);

    assert_eq!(Filter::gt("loginCount", 41).to_string(), "loginCount gt 41");
    assert_eq!(
        Filter::le("score", JsonNumber::from_f64(2.5).unwrap()).to_string(),
        "score le 2.5"
    );
    assert_eq!(
        Filter::eq("manager", CompValue::Null).to_string(),
        "manager eq null"
    );

    let ids = ["a", "b", "c"].map(|id| Filter::eq("id", id));
    assert_eq!(
        Filter::any(ids).unwrap().to_string(),
        r#"id eq "a" or id eq "b" or id eq "c""#
    );
    assert_eq!(
        Filter::all([Filter::present("a"), Filter::present("b")])
            .unwrap()
            .to_string(),
        "a pr and b pr"
    );
    assert!(Filter::any(std::iter::empty()).is_none());
}

#[test]
fn invalid_built_filters_are_detected() {
    assert!(Filter::eq("userName", "x").is_valid());
    // A name that is not an ATTRNAME is kept verbatim and reported.
    let f = Filter::eq("user name", "x");
    assert!(!f.is_valid());
    assert_eq!(f.to_string(), r#"user name eq "x""#);
    assert!(!Filter::gt("active", true).is_valid());
    let nested = Filter::value_path("a", Filter::value_path("b", Filter::present("c")));
    assert!(!nested.is_valid());
}

#[test]
fn serde_uses_the_filter_string() {
    let f = parse(r#"emails[type eq "work"] and userName sw "b""#);
    let json = serde_json::to_string(&f).unwrap();
    assert_eq!(json, r#""emails[type eq \"work\"] and userName sw \"b\"""#);
    let back: Filter = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
    let err = serde_json::from_str::<Filter>(r#""userName eq""#).unwrap_err();
    assert!(err.to_string().contains("invalid SCIM filter"), "{err}");
}

#[test]
fn json_numbers() {
    assert!(JsonNumber::parse("1.50").is_some());
    for bad in ["", "+1", ".5", "1.", "01", "1e", "NaN", "1 ", "--1", "0x10"] {
        assert!(JsonNumber::parse(bad).is_none(), "{bad:?}");
        assert!(bad.parse::<JsonNumber>().is_err(), "{bad:?}");
    }
    assert_eq!(JsonNumber::from(-7_i64).as_str(), "-7");
    assert_eq!(JsonNumber::from_f64(0.1).unwrap().as_str(), "0.1");
    assert!(JsonNumber::from_f64(f64::NAN).is_none());
    assert!(JsonNumber::from_f64(f64::INFINITY).is_none());
    assert_eq!(JsonNumber::parse("2.5e1").unwrap().as_f64(), Some(25.0));
}
