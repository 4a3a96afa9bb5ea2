//! Records of a module: list (with more than 50 fields, and beyond 2,000 records),
//! incremental reads by `If-Modified-Since`, deleted records, and writes in chunks of
//! 100 with one result per record, in order.

use std::collections::HashMap;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Call, ZohoClient};
use crate::error::{Result, ZohoError};

/// Most fields one list request may name.
pub const MAX_FIELDS_PER_CALL: usize = 50;
/// Most records one write request carries.
pub const MAX_RECORDS_PER_WRITE: usize = 100;
/// Records reachable with `page`; beyond, Zoho requires `page_token`.
pub const PAGE_LIMIT: usize = 2_000;
/// Records per list page.
pub const PER_PAGE: usize = 200;

/// What to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRecords {
    /// The fields' API names (`id` is always returned). More than 50 are fetched in
    /// several calls and joined by id.
    pub fields: Vec<String>,
    /// `id`, `Created_Time` or `Modified_Time`; records come sorted by it, ascending.
    pub sort_by: Option<String>,
    /// Only records modified after this instant (`If-Modified-Since`, ISO 8601 with
    /// offset).
    pub modified_since: Option<String>,
}

impl ListRecords {
    /// Lists the given fields.
    pub fn fields<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            fields: fields.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Only records modified after `instant`.
    #[must_use]
    pub fn modified_since(mut self, instant: impl Into<String>) -> Self {
        self.modified_since = Some(instant.into());
        self
    }

    /// Sorts by a field.
    #[must_use]
    pub fn sort_by(mut self, field: impl Into<String>) -> Self {
        self.sort_by = Some(field.into());
        self
    }
}

/// The result of writing one record.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteResult {
    /// Written.
    Success {
        /// The record's id.
        id: Option<String>,
        /// `insert` or `update` (upsert says which).
        action: Option<String>,
    },
    /// Refused, with Zoho's code (`INVALID_DATA`, `DUPLICATE_DATA`,
    /// `MANDATORY_NOT_FOUND`), message and details (the field's `api_name`).
    Error {
        /// Zoho's code.
        code: String,
        /// Zoho's message.
        message: String,
        /// Zoho's details.
        details: Value,
    },
}

/// How records are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOperation {
    /// `POST /{module}`.
    Insert,
    /// `PUT /{module}` (records carry `id`).
    Update,
    /// `POST /{module}/upsert`, matched on these fields (Zoho's defaults when empty).
    Upsert {
        /// `duplicate_check_fields`.
        duplicate_check_fields: Vec<String>,
    },
}

/// The records of one module.
#[derive(Clone, Debug)]
pub struct Records {
    client: ZohoClient,
    module: String,
}

#[derive(Deserialize, Default)]
struct Info {
    #[serde(default)]
    more_records: bool,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
    #[serde(default)]
    info: Info,
}

/// Where the next page of one field group starts.
#[derive(Clone, Debug)]
enum Cursor {
    Page(usize),
    Token(String),
}

/// A deleted record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeletedRecord {
    /// The record's id.
    pub id: String,
    /// Its display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `recycle` or `permanent`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// When it was deleted.
    #[serde(default)]
    pub deleted_time: Option<String>,
}

impl ZohoClient {
    /// The records of `module` (`Leads`, `Contacts`, a custom module's API name).
    pub fn records(&self, module: impl Into<String>) -> Records {
        Records {
            client: self.clone(),
            module: module.into(),
        }
    }
}

impl Records {
    fn module_path(&self) -> Result<String> {
        if self.module.is_empty()
            || !self
                .module
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(ZohoError::InvalidRequest {
                operation: "zoho.records",
                message: format!("{:?} is not a module API name", self.module),
            });
        }
        Ok(self.module.clone())
    }

    async fn page(
        &self,
        query: &ListRecords,
        fields: &[String],
        cursor: &Cursor,
    ) -> Result<Option<Page>> {
        let mut call = Call::new(Method::GET, self.module_path()?, "zoho.list_records")
            .query("fields", fields.join(","))
            .query("per_page", PER_PAGE.to_string());
        call = match cursor {
            Cursor::Page(p) => call.query("page", p.to_string()),
            Cursor::Token(t) => call.query("page_token", t.clone()),
        };
        if let Some(sort) = &query.sort_by {
            call = call
                .query("sort_by", sort.clone())
                .query("sort_order", "asc");
        }
        if let Some(since) = &query.modified_since {
            call = call.header(header::IF_MODIFIED_SINCE, since.clone());
        }
        let answer = self.client.call(call).await?;
        if answer.status == StatusCode::NOT_MODIFIED || answer.status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        serde_json::from_value(answer.body)
            .map(Some)
            .map_err(|e| ZohoError::InvalidResponse {
                operation: "zoho.list_records",
                message: e.to_string(),
            })
    }

    /// Every matching record, page by page as the stream is polled: `page` for the
    /// first 2,000 records, then `page_token` (as Zoho requires). With more than 50
    /// fields, each page is fetched once per group of 49 fields and joined by id.
    pub fn list(&self, query: ListRecords) -> BoxStream<'static, Result<Map<String, Value>>> {
        if query.fields.is_empty() {
            let err = ZohoError::InvalidRequest {
                operation: "zoho.list_records",
                message: "name at least one field: Zoho requires `fields`".into(),
            };
            return stream::once(async move { Err(err) }).boxed();
        }
        let groups: Vec<Vec<String>> = query
            .fields
            .iter()
            .filter(|f| *f != "id")
            .cloned()
            .collect::<Vec<_>>()
            .chunks(MAX_FIELDS_PER_CALL - 1)
            .map(|c| {
                std::iter::once("id".to_owned())
                    .chain(c.iter().cloned())
                    .collect()
            })
            .collect();
        let groups = if groups.is_empty() {
            vec![vec!["id".to_owned()]]
        } else {
            groups
        };
        let this = self.clone();
        let state = (vec![Cursor::Page(1); groups.len()], false, 0usize);
        stream::try_unfold(state, move |(cursors, done, fetched)| {
            let this = this.clone();
            let query = query.clone();
            let groups = groups.clone();
            async move {
                if done {
                    return Ok::<_, ZohoError>(None);
                }
                let mut joined: Vec<Map<String, Value>> = Vec::new();
                let mut by_id: HashMap<String, usize> = HashMap::new();
                let mut next = Vec::with_capacity(groups.len());
                let mut more = false;
                for (i, (fields, cursor)) in groups.iter().zip(&cursors).enumerate() {
                    let Some(page) = this.page(&query, fields, cursor).await? else {
                        next.push(cursor.clone());
                        continue;
                    };
                    let returned = page.data.len();
                    for record in page.data {
                        let id = record
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        if i == 0 {
                            by_id.insert(id, joined.len());
                            joined.push(record);
                        } else if let Some(&at) = by_id.get(&id) {
                            joined[at].extend(record);
                        }
                    }
                    if i == 0 {
                        more = page.info.more_records && returned > 0;
                    }
                    let reached = fetched + returned;
                    next.push(match (&page.info.next_page_token, cursor) {
                        // Past 2,000 records `page` stops working: follow the token.
                        (Some(token), _) if reached >= PAGE_LIMIT => Cursor::Token(token.clone()),
                        (_, Cursor::Page(p)) => Cursor::Page(p + 1),
                        (Some(token), Cursor::Token(_)) => Cursor::Token(token.clone()),
                        (None, Cursor::Token(_)) => Cursor::Token(String::new()),
                    });
                }
                let count = joined.len();
                let exhausted = next
                    .iter()
                    .any(|c| matches!(c, Cursor::Token(t) if t.is_empty()));
                Ok(Some((joined, (next, !more || exhausted, fetched + count))))
            }
        })
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    /// The earliest (`ascending`) or latest `Modified_Time` of the module, if it has
    /// records.
    pub async fn edge_modified_time(
        &self,
        ascending: bool,
    ) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>> {
        let call = Call::new(Method::GET, self.module_path()?, "zoho.list_records")
            .query("fields", "Modified_Time")
            .query("per_page", "1")
            .query("page", "1")
            .query("sort_by", "Modified_Time")
            .query("sort_order", if ascending { "asc" } else { "desc" });
        let answer = self.client.call(call).await?;
        Ok(answer
            .body
            .get("data")
            .and_then(|d| d.get(0))
            .and_then(|r| r.get("Modified_Time"))
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()))
    }

    /// One record by id, with every field.
    pub async fn get(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        let path = format!("{}/{}", self.module_path()?, crate::users::path_id(id)?);
        let answer = self
            .client
            .call(Call::new(Method::GET, path, "zoho.get_record"))
            .await?;
        if answer.body.is_null() {
            return Ok(None);
        }
        let page: Page =
            serde_json::from_value(answer.body).map_err(|e| ZohoError::InvalidResponse {
                operation: "zoho.get_record",
                message: e.to_string(),
            })?;
        Ok(page.data.into_iter().next())
    }

    /// Records deleted (`all`, `recycle` or `permanent`).
    pub async fn deleted(&self, kind: &str) -> Result<Vec<DeletedRecord>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let call = Call::new(
                Method::GET,
                format!("{}/deleted", self.module_path()?),
                "zoho.deleted_records",
            )
            .query("type", kind)
            .query("page", page.to_string())
            .query("per_page", PER_PAGE.to_string());
            let answer = self.client.call(call).await?;
            if answer.body.is_null() {
                return Ok(out);
            }
            let data: Vec<DeletedRecord> =
                serde_json::from_value(answer.body.get("data").cloned().unwrap_or(json!([])))
                    .map_err(|e| ZohoError::InvalidResponse {
                        operation: "zoho.deleted_records",
                        message: e.to_string(),
                    })?;
            let more = answer
                .body
                .get("info")
                .and_then(|i| i.get("more_records"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            out.extend(data);
            if !more {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Writes records in calls of at most 100; returns one result per record, in order.
    pub async fn write(
        &self,
        operation: &WriteOperation,
        records: &[Map<String, Value>],
    ) -> Result<Vec<WriteResult>> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(MAX_RECORDS_PER_WRITE) {
            let (method, path, op_name) = match operation {
                WriteOperation::Insert => {
                    (Method::POST, self.module_path()?, "zoho.insert_records")
                }
                WriteOperation::Update => (Method::PUT, self.module_path()?, "zoho.update_records"),
                WriteOperation::Upsert { .. } => (
                    Method::POST,
                    format!("{}/upsert", self.module_path()?),
                    "zoho.upsert_records",
                ),
            };
            let mut body = json!({ "data": chunk, "trigger": [] });
            if let WriteOperation::Upsert {
                duplicate_check_fields,
            } = operation
                && !duplicate_check_fields.is_empty()
            {
                body["duplicate_check_fields"] = json!(duplicate_check_fields);
            }
            let mut call = Call::new(method, path, op_name).body(body).per_record();
            if !matches!(operation, WriteOperation::Insert) {
                // Updates and upserts by key are safe to repeat.
                call = call.idempotent();
            }
            let answer = self.client.call(call).await?;
            results.extend(per_record(&answer.body, chunk.len(), op_name)?);
        }
        Ok(results)
    }

    /// Deletes records by id in calls of at most 100; one result per id, in order.
    pub async fn delete(&self, ids: &[String]) -> Result<Vec<WriteResult>> {
        let mut results = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_RECORDS_PER_WRITE) {
            for id in chunk {
                crate::users::path_id(id)?;
            }
            let call = Call::new(Method::DELETE, self.module_path()?, "zoho.delete_records")
                .query("ids", chunk.join(","))
                .per_record();
            let answer = self.client.call(call).await?;
            results.extend(per_record(
                &answer.body,
                chunk.len(),
                "zoho.delete_records",
            )?);
        }
        Ok(results)
    }
}

/// One result per record from a `{"data": [...]}` answer; a count mismatch is an error
/// rather than a guess.
fn per_record(body: &Value, expected: usize, operation: &'static str) -> Result<Vec<WriteResult>> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if data.len() != expected {
        return Err(ZohoError::InvalidResponse {
            operation,
            message: format!("{} results for {expected} records", data.len()),
        });
    }
    Ok(data
        .into_iter()
        .map(|r| {
            if r.get("status").and_then(Value::as_str) == Some("success") {
                let details = r.get("details");
                WriteResult::Success {
                    id: details
                        .and_then(|d| d.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    action: r.get("action").and_then(Value::as_str).map(str::to_owned),
                }
            } else {
                WriteResult::Error {
                    code: r
                        .get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("UNKNOWN")
                        .to_owned(),
                    message: r
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    details: r.get("details").cloned().unwrap_or(Value::Null),
                }
            }
        })
        .collect())
}
