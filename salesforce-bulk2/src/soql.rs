//! SOQL checked before submission for what Bulk API 2.0 rejects.
//!
//! Bulk API 2.0 query jobs do not support `GROUP BY` (and `HAVING`), `OFFSET`, `TYPEOF`,
//! aggregate functions (`COUNT()`, `SUM()`, ...), `FIELDS()`, parent-to-child
//! subqueries in the field list, or compound fields (address and geolocation fields;
//! select their components instead). A query using one of them is refused here with
//! [`SalesforceError::UnsupportedSoql`] naming the clause, instead of a job that fails
//! on the server. `LIMIT` and `ORDER BY` are allowed (they disable PK chunking, so large
//! queries are slower); child-to-parent paths (`Account.Name`) and semi-joins in
//! `WHERE` (`Id IN (SELECT ...)`) are allowed.
//!
//! ```
//! use salesforce_bulk2::soql::SoqlQuery;
//!
//! let q = SoqlQuery::parse("SELECT Id, Name, Account.Name FROM Contact WHERE Name LIKE 'A%' ORDER BY Name LIMIT 10")?;
//! assert_eq!(q.object, "Contact");
//! assert_eq!(q.fields, ["Id", "Name", "Account.Name"]);
//!
//! let err = SoqlQuery::parse("SELECT COUNT(Id) FROM Account").unwrap_err();
//! assert!(err.to_string().contains("COUNT()"));
//! # Ok::<(), salesforce_bulk2::SalesforceError>(())
//! ```

use crate::error::{Result, SalesforceError};

/// Aggregate functions Bulk API 2.0 rejects.
const AGGREGATES: &[&str] = &["COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A word: keyword, identifier, dotted path, number, date literal, bind variable.
    Word(String),
    /// A quoted string literal (contents not kept).
    Str,
    /// One punctuation character.
    Punct(char),
}

fn tokenize(soql: &str) -> Result<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut chars = soql.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    _ => {}
                }
            }
            if !closed {
                return Err(unsupported(
                    "string literal",
                    format!("the string literal starting at character {start} is not closed"),
                ));
            }
            toks.push(Tok::Str);
        } else if c.is_alphanumeric() || matches!(c, '_' | ':') {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '+') {
                    end = i + c.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            toks.push(Tok::Word(soql[start..end.max(start)].to_owned()));
        } else {
            chars.next();
            toks.push(Tok::Punct(c));
        }
    }
    Ok(toks)
}

fn unsupported(clause: impl Into<String>, message: impl Into<String>) -> SalesforceError {
    SalesforceError::UnsupportedSoql {
        clause: clause.into(),
        message: message.into(),
    }
}

fn is_kw(tok: Option<&Tok>, kw: &str) -> bool {
    matches!(tok, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// A SOQL query that Bulk API 2.0 accepts: the object queried and the fields selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoqlQuery {
    /// The query, as given.
    pub text: String,
    /// The object after `FROM` (`Account`).
    pub object: String,
    /// The fields selected, in order, as written (`Id`, `Account.Name`).
    pub fields: Vec<String>,
    /// Whether the query has `ORDER BY` (results then keep their order: pages are read
    /// one after another rather than in parallel).
    pub order_by: bool,
    /// Whether the query has `LIMIT`.
    pub limit: bool,
}

impl SoqlQuery {
    /// Parses and checks a query. Compound fields cannot be recognised without
    /// describe: see [`check_compound_fields`](Self::check_compound_fields).
    pub fn parse(soql: &str) -> Result<Self> {
        let toks = tokenize(soql)?;
        if !is_kw(toks.first(), "SELECT") {
            return Err(unsupported(
                "SELECT",
                "a Bulk API 2.0 query must start with SELECT",
            ));
        }
        // Whole-query constructs, at any depth.
        for (i, t) in toks.iter().enumerate() {
            let Tok::Word(w) = t else { continue };
            let next = toks.get(i + 1);
            let u = w.to_ascii_uppercase();
            match u.as_str() {
                "GROUP" if is_kw(next, "BY") => {
                    return Err(unsupported(
                        "GROUP BY",
                        "Bulk API 2.0 does not support GROUP BY (nor ROLLUP or CUBE); aggregate after reading",
                    ));
                }
                "HAVING" => {
                    return Err(unsupported(
                        "HAVING",
                        "Bulk API 2.0 does not support GROUP BY or HAVING",
                    ));
                }
                "OFFSET" => {
                    return Err(unsupported(
                        "OFFSET",
                        "Bulk API 2.0 does not support OFFSET; results are paged by the job instead",
                    ));
                }
                "TYPEOF" => {
                    return Err(unsupported(
                        "TYPEOF",
                        "Bulk API 2.0 does not support TYPEOF; select the polymorphic field's common fields (What.Name)",
                    ));
                }
                _ => {}
            }
            if next == Some(&Tok::Punct('(')) {
                if AGGREGATES.iter().any(|a| a.eq_ignore_ascii_case(w)) {
                    return Err(unsupported(
                        format!("{u}()"),
                        "Bulk API 2.0 does not support aggregate functions",
                    ));
                }
                if u == "FIELDS" {
                    return Err(unsupported(
                        "FIELDS()",
                        "Bulk API 2.0 does not support FIELDS(); list the fields (describe the object for them)",
                    ));
                }
            }
        }
        // The field list: up to the FROM at depth 0.
        let mut depth = 0usize;
        let mut from = None;
        let mut fields = Vec::new();
        let mut current = String::new();
        for (i, t) in toks.iter().enumerate().skip(1) {
            match t {
                Tok::Punct('(') => {
                    if depth == 0 && is_kw(toks.get(i + 1), "SELECT") {
                        return Err(unsupported(
                            "parent-to-child subquery",
                            "Bulk API 2.0 does not support subqueries in the field list (Aggregate Relationships); query the child object separately",
                        ));
                    }
                    depth += 1;
                    current.push('(');
                }
                Tok::Punct(')') => {
                    depth = depth.saturating_sub(1);
                    current.push(')');
                }
                Tok::Punct(',') if depth == 0 => {
                    fields.push(std::mem::take(&mut current));
                }
                Tok::Word(w) if depth == 0 && w.eq_ignore_ascii_case("FROM") => {
                    fields.push(std::mem::take(&mut current));
                    from = Some(i);
                    break;
                }
                Tok::Word(w) => {
                    if !current.is_empty() && !current.ends_with('(') {
                        current.push(' ');
                    }
                    current.push_str(w);
                }
                Tok::Str => current.push_str("''"),
                Tok::Punct(c) => current.push(*c),
            }
        }
        let Some(from) = from else {
            return Err(unsupported("FROM", "the query has no FROM clause"));
        };
        let object = match toks.get(from + 1) {
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(unsupported("FROM", "FROM names no object")),
        };
        if fields.iter().any(String::is_empty) {
            return Err(unsupported(
                "SELECT",
                "the field list is empty or has an empty entry",
            ));
        }
        let mut order_by = false;
        let mut limit = false;
        for (i, t) in toks.iter().enumerate().skip(from + 2) {
            if is_kw(Some(t), "ORDER") && is_kw(toks.get(i + 1), "BY") {
                order_by = true;
            }
            if is_kw(Some(t), "LIMIT") {
                limit = true;
            }
        }
        Ok(Self {
            text: soql.to_owned(),
            object,
            fields,
            order_by,
            limit,
        })
    }

    /// Refuses the query if it selects one of `compound` (the object's `address` and
    /// `location` fields, from describe), naming the field and its components' prefix.
    pub fn check_compound_fields<'a>(
        &self,
        compound: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        for name in compound {
            if let Some(f) = self.fields.iter().find(|f| f.eq_ignore_ascii_case(name)) {
                return Err(unsupported(
                    f.clone(),
                    format!(
                        "`{f}` is a compound (address or geolocation) field: Bulk API 2.0 cannot select it; select its components instead"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clause(soql: &str) -> String {
        match SoqlQuery::parse(soql) {
            Err(SalesforceError::UnsupportedSoql { clause, .. }) => clause,
            other => panic!("{soql}: {other:?}"),
        }
    }

    #[test]
    fn rejected_constructs_are_named() {
        assert_eq!(
            clause("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry"),
            "COUNT()"
        );
        assert_eq!(
            clause("SELECT Industry FROM Account GROUP BY Industry"),
            "GROUP BY"
        );
        assert_eq!(clause("select Id from Account offset 10"), "OFFSET");
        assert_eq!(
            clause("SELECT TYPEOF What WHEN Account THEN Phone END FROM Event"),
            "TYPEOF"
        );
        assert_eq!(clause("SELECT MAX(Amount) FROM Opportunity"), "MAX()");
        assert_eq!(
            clause("SELECT FIELDS(ALL) FROM Account LIMIT 200"),
            "FIELDS()"
        );
        assert_eq!(
            clause("SELECT Id, (SELECT Id FROM Contacts) FROM Account"),
            "parent-to-child subquery"
        );
        assert_eq!(clause("UPDATE Account"), "SELECT");
        assert_eq!(clause("SELECT Id, Name"), "FROM");
        assert_eq!(
            clause("SELECT Id FROM Account WHERE Name = 'open"),
            "string literal"
        );
    }

    #[test]
    fn accepted_queries() {
        let q = SoqlQuery::parse(
            "SELECT Id, Account.Name, toLabel(StageName) FROM Opportunity \
             WHERE AccountId IN (SELECT Id FROM Account WHERE Name = 'GROUP BY, OFFSET (x)') \
             AND CloseDate = LAST_N_DAYS:30 ORDER BY CloseDate DESC LIMIT 500",
        )
        .unwrap();
        assert_eq!(q.object, "Opportunity");
        assert_eq!(q.fields, ["Id", "Account.Name", "toLabel(StageName)"]);
        assert!(q.order_by && q.limit);
        let q = SoqlQuery::parse("SELECT Id FROM Account WHERE Name = 'It\\'s COUNT(x)'").unwrap();
        assert!(!q.order_by && !q.limit);
    }

    #[test]
    fn compound_fields() {
        let q = SoqlQuery::parse("SELECT Id, BillingAddress FROM Account").unwrap();
        let e = q
            .check_compound_fields(["BillingAddress", "ShippingAddress"])
            .unwrap_err();
        assert!(e.to_string().contains("BillingAddress"));
        let q = SoqlQuery::parse("SELECT Id, BillingCity FROM Account").unwrap();
        q.check_compound_fields(["BillingAddress"]).unwrap();
    }

    proptest! {
        // Any text inside a string literal is ignored, whatever keywords it holds.
        #[test]
        fn literals_never_trigger(s in "[A-Za-z (),]{0,40}") {
            let soql = format!("SELECT Id FROM Account WHERE Name = '{s}'");
            let q = SoqlQuery::parse(&soql).unwrap();
            prop_assert_eq!(q.fields, vec!["Id".to_owned()]);
        }

        // The checker never panics, whatever the input.
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = SoqlQuery::parse(&s);
        }

        // Field lists round-trip.
        #[test]
        fn field_lists(names in proptest::collection::vec("[A-Z][a-z]{1,8}(__c)?", 1..8)) {
            prop_assume!(names.iter().all(|n| !["From", "Sum", "Max", "Min", "Avg", "Count", "Offset", "Typeof", "Having", "Select", "Fields", "Group"].contains(&n.as_str())));
            let soql = format!("SELECT {} FROM Thing__c", names.join(", "));
            let q = SoqlQuery::parse(&soql).unwrap();
            prop_assert_eq!(q.fields, names);
        }
    }
}
