//! COQL, Zoho's SQL-like query language: `select ... from <module> [where ...]
//! [order by ...] [limit ...]`.
//!
//! [`ZohoClient::coql`] takes the query as a user writes it (Azure Data Factory's
//! `SELECT * FROM Accounts` works) and makes it run within COQL's limits: `*` is
//! expanded from the module's field metadata; more than 50 columns run as several
//! queries joined by id; pages of 2,000 rows use `LIMIT offset, count` up to COQL's
//! 100,000-row offset cap, and beyond it continue by id (`id > '<last id>'`).

use std::collections::HashMap;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Call, ZohoClient};
use crate::error::{Result, ZohoError};

/// Most columns one COQL query may select.
pub const MAX_COLUMNS: usize = 50;
/// Most rows one COQL call returns (API v8; see `ZohoClientBuilder::coql_limits`).
pub const ROWS_PER_CALL: u64 = 2_000;
/// The largest `offset + limit` COQL accepts (API v8).
pub const OFFSET_CAP: u64 = 100_000;

/// A COQL query, split into its clauses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoqlQuery {
    /// The selected columns; `["*"]` for every listable field.
    pub columns: Vec<String>,
    /// The module.
    pub module: String,
    /// The `where` condition, as written.
    pub condition: Option<String>,
    /// The `order by` clause, as written.
    pub order_by: Option<String>,
    /// `limit`: most rows to return.
    pub limit: Option<u64>,
    /// `offset`: rows to skip.
    pub offset: u64,
}

fn invalid(message: impl Into<String>) -> ZohoError {
    ZohoError::InvalidRequest {
        operation: "zoho.coql",
        message: message.into(),
    }
}

/// Byte positions of top-level keywords (outside quotes), case-insensitive.
fn find_keyword(query: &str, keyword: &str, from: usize) -> Option<usize> {
    let lower = query.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut in_quote = false;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            in_quote = !in_quote;
        } else if !in_quote
            && lower[i..].starts_with(keyword)
            && (i == 0 || bytes[i - 1].is_ascii_whitespace())
            && bytes
                .get(i + keyword.len())
                .is_none_or(|c| c.is_ascii_whitespace())
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl CoqlQuery {
    /// Splits a query; a query that is not `select ... from ...` is an error naming
    /// what is missing.
    pub fn parse(query: &str) -> Result<Self> {
        let q = query.trim().trim_end_matches(';').trim();
        if !q.to_ascii_lowercase().starts_with("select ") {
            return Err(invalid(format!("a COQL query starts with SELECT: {q:?}")));
        }
        let from =
            find_keyword(q, "from", 7).ok_or_else(|| invalid("the query has no FROM clause"))?;
        let columns: Vec<String> = q[7..from]
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if columns.is_empty() {
            return Err(invalid("the query selects no columns"));
        }
        let after_from = from + 4;
        let where_at = find_keyword(q, "where", after_from);
        let order_at = find_keyword(q, "order", after_from);
        let limit_at = find_keyword(q, "limit", after_from);
        let end_of = |start: usize| {
            [where_at, order_at, limit_at]
                .into_iter()
                .flatten()
                .filter(|p| *p > start)
                .min()
                .unwrap_or(q.len())
        };
        let module = q[after_from..end_of(after_from)].trim().to_owned();
        if module.is_empty() || module.contains(char::is_whitespace) {
            return Err(invalid(format!("{module:?} is not a module name")));
        }
        let condition = where_at
            .map(|w| q[w + 5..end_of(w)].trim().to_owned())
            .filter(|c| !c.is_empty());
        let order_by = order_at
            .map(|o| {
                let clause = q[o + 5..end_of(o)].trim();
                clause
                    .strip_prefix("by")
                    .or_else(|| clause.strip_prefix("BY"))
                    .unwrap_or(clause)
                    .trim()
                    .to_owned()
            })
            .filter(|c| !c.is_empty());
        let (limit, offset) = match limit_at {
            None => (None, 0),
            Some(l) => parse_limit(q[l + 5..].trim())?,
        };
        Ok(Self {
            columns,
            module,
            condition,
            order_by,
            limit,
            offset,
        })
    }

    fn render(
        &self,
        columns: &[String],
        condition: Option<&str>,
        order_by: Option<&str>,
        offset: u64,
        count: u64,
    ) -> String {
        let mut q = format!("select {} from {}", columns.join(", "), self.module);
        if let Some(c) = condition {
            q.push_str(&format!(" where {c}"));
        }
        if let Some(o) = order_by {
            q.push_str(&format!(" order by {o}"));
        }
        q.push_str(&format!(" limit {offset}, {count}"));
        q
    }
}

fn parse_limit(text: &str) -> Result<(Option<u64>, u64)> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| invalid(format!("LIMIT takes numbers: {text:?}")))
    };
    let lower = text.to_ascii_lowercase();
    if let Some((a, b)) = text.split_once(',') {
        return Ok((Some(number(b)?), number(a)?));
    }
    if let Some(at) = lower.find(" offset ") {
        return Ok((Some(number(&text[..at])?), number(&text[at + 8..])?));
    }
    Ok((Some(number(text)?), 0))
}

/// Where the next page comes from.
#[derive(Clone, Debug)]
struct PageState {
    offset: u64,
    /// After the offset cap: continue with `id > last_id`.
    after_id: Option<String>,
    returned: u64,
    done: bool,
}

impl ZohoClient {
    /// Runs a COQL query and streams its rows (JSON objects keyed by API name), page by
    /// page as the stream is polled.
    pub fn coql(&self, query: &str) -> BoxStream<'static, Result<Map<String, Value>>> {
        let parsed = match CoqlQuery::parse(query) {
            Ok(q) => q,
            Err(e) => return stream::once(async move { Err(e) }).boxed(),
        };
        let client = self.clone();
        let setup = async move {
            let columns: Vec<String> = if parsed.columns.len() == 1 && parsed.columns[0] == "*" {
                client
                    .fields(&parsed.module)
                    .await?
                    .into_iter()
                    .filter(|f| f.is_listable())
                    .map(|f| f.api_name)
                    .collect()
            } else {
                parsed.columns.clone()
            };
            let others: Vec<String> = columns
                .iter()
                .filter(|c| !c.eq_ignore_ascii_case("id"))
                .cloned()
                .collect();
            let groups: Vec<Vec<String>> = if others.len() < MAX_COLUMNS {
                vec![std::iter::once("id".to_owned()).chain(others).collect()]
            } else {
                others
                    .chunks(MAX_COLUMNS - 1)
                    .map(|c| {
                        std::iter::once("id".to_owned())
                            .chain(c.iter().cloned())
                            .collect()
                    })
                    .collect()
            };
            Ok::<_, ZohoError>((client, parsed, groups))
        };
        stream::once(setup)
            .map_ok(|(client, parsed, groups)| client.coql_pages(parsed, groups))
            .try_flatten()
            .boxed()
    }

    fn coql_pages(
        &self,
        query: CoqlQuery,
        groups: Vec<Vec<String>>,
    ) -> BoxStream<'static, Result<Map<String, Value>>> {
        let client = self.clone();
        let (rows_per_call, offset_cap) = self.coql_limits();
        let start = PageState {
            offset: query.offset,
            after_id: None,
            returned: 0,
            done: false,
        };
        stream::try_unfold(start, move |st| {
            let client = client.clone();
            let query = query.clone();
            let groups = groups.clone();
            async move {
                if st.done {
                    return Ok::<_, ZohoError>(None);
                }
                let remaining = query.limit.map_or(u64::MAX, |l| l.saturating_sub(st.returned));
                let count = rows_per_call.min(remaining);
                if count == 0 {
                    return Ok(None);
                }
                // Only an ascending id order (or none) can continue by id past the cap.
                let id_order = query.order_by.as_deref().is_none_or(|o| {
                    let o = o.trim().to_ascii_lowercase();
                    o == "id" || o == "id asc"
                });
                let keyset = st.after_id.is_some() || st.offset + count > offset_cap;
                if keyset && !id_order {
                    return Err(invalid(format!(
                        "COQL pages by offset only up to {offset_cap} rows; beyond, it pages by id, which ORDER BY {} prevents: drop the ORDER BY or use bulk read",
                        query.order_by.as_deref().unwrap_or_default()
                    )));
                }
                let (condition, order, offset) = match (&st.after_id, keyset) {
                    (Some(last), _) => {
                        let by_id = format!("id > '{last}'");
                        let c = query.condition.as_ref().map_or(by_id.clone(), |c| format!("({c}) and {by_id}"));
                        (Some(c), Some("id asc".to_owned()), 0)
                    }
                    // Only a query that starts near the cap gets here.
                    (None, true) => {
                        return Err(invalid(format!(
                            "OFFSET {} plus a page of {count} passes COQL's cap of {offset_cap} rows",
                            st.offset
                        )));
                    }
                    (None, false) => (query.condition.clone(), query.order_by.clone().or_else(|| Some("id asc".to_owned())), st.offset),
                };
                let mut joined: Vec<Map<String, Value>> = Vec::new();
                let mut at: HashMap<String, usize> = HashMap::new();
                let mut more = false;
                for (i, columns) in groups.iter().enumerate() {
                    let select = query.render(columns, condition.as_deref(), order.as_deref(), offset, count);
                    let call = Call::new(Method::POST, "coql", "zoho.coql").body(json!({ "select_query": select })).idempotent();
                    let answer = client.call(call).await?;
                    if answer.body.is_null() {
                        break;
                    }
                    let rows: Vec<Map<String, Value>> = serde_json::from_value(answer.body.get("data").cloned().unwrap_or(json!([])))
                        .map_err(|e| ZohoError::InvalidResponse { operation: "zoho.coql", message: e.to_string() })?;
                    if i == 0 {
                        more = answer.body.get("info").and_then(|i| i.get("more_records")).and_then(Value::as_bool).unwrap_or(false);
                    }
                    for row in rows {
                        let id = row.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                        if i == 0 {
                            at.insert(id, joined.len());
                            joined.push(row);
                        } else if let Some(&k) = at.get(&id) {
                            joined[k].extend(row);
                        }
                    }
                }
                let n = joined.len() as u64;
                let last_id = joined.last().and_then(|r| r.get("id")).and_then(Value::as_str).map(str::to_owned);
                let next_offset = offset + n;
                let next = PageState {
                    offset: next_offset,
                    after_id: if keyset || (next_offset + rows_per_call > offset_cap && id_order) {
                        last_id.or(st.after_id)
                    } else {
                        None
                    },
                    returned: st.returned + n,
                    done: n == 0 || !more || n < count,
                };
                Ok(Some((joined, next)))
            }
        })
        .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_into_clauses() {
        let q = CoqlQuery::parse("SELECT * FROM Accounts").unwrap();
        assert_eq!(
            (q.columns, q.module.as_str(), q.condition, q.limit),
            (vec!["*".to_owned()], "Accounts", None, None)
        );
        let q = CoqlQuery::parse(
            "select Last_Name, Email from Leads where (Lead_Source = 'Web' and Company like '%from%') order by Modified_Time desc limit 10, 500",
        )
        .unwrap();
        assert_eq!(q.columns, ["Last_Name", "Email"]);
        assert_eq!(
            q.condition.as_deref(),
            Some("(Lead_Source = 'Web' and Company like '%from%')")
        );
        assert_eq!(q.order_by.as_deref(), Some("Modified_Time desc"));
        assert_eq!((q.limit, q.offset), (Some(500), 10));
        let q = CoqlQuery::parse("select id from Deals limit 20 offset 40").unwrap();
        assert_eq!((q.limit, q.offset), (Some(20), 40));
    }

    #[test]
    fn malformed_queries_say_what_is_missing() {
        assert!(
            CoqlQuery::parse("delete from Leads")
                .unwrap_err()
                .to_string()
                .contains("SELECT")
        );
        assert!(
            CoqlQuery::parse("select a, b")
                .unwrap_err()
                .to_string()
                .contains("FROM")
        );
        assert!(
            CoqlQuery::parse("select a from Leads limit many")
                .unwrap_err()
                .to_string()
                .contains("LIMIT")
        );
    }
}
