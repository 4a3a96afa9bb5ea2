//! Bulk (RFC 7644 §3.7): many operations in one request, with `bulkId` references
//! between them, split to the server's limits.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::ScimClient;
use crate::discovery::Capabilities;
use crate::error::{Result, ScimError};
use crate::model::{BULK_REQUEST_SCHEMA, ErrorBody};

/// The HTTP method of a bulk operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BulkMethod {
    /// Create.
    Post,
    /// Replace.
    Put,
    /// Modify.
    Patch,
    /// Delete.
    Delete,
}

/// One operation of a bulk request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    /// The method.
    pub method: BulkMethod,
    /// The resource path (`/Users`, `/Groups/{id}`).
    pub path: String,
    /// A client id for a resource created by this request, referenced elsewhere as
    /// `"bulkId:<id>"` (required for `POST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<String>,
    /// The ETag the resource must still have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl BulkOperation {
    /// Creates a resource at `path` (`/Users`), known in this request as `bulk_id`.
    pub fn create(path: impl Into<String>, bulk_id: impl Into<String>, data: Value) -> Self {
        Self {
            method: BulkMethod::Post,
            path: path.into(),
            bulk_id: Some(bulk_id.into()),
            version: None,
            data: Some(data),
        }
    }

    /// Replaces the resource at `path`.
    pub fn replace(path: impl Into<String>, data: Value) -> Self {
        Self {
            method: BulkMethod::Put,
            path: path.into(),
            bulk_id: None,
            version: None,
            data: Some(data),
        }
    }

    /// Patches the resource at `path` with a PATCH request body.
    pub fn patch(path: impl Into<String>, data: Value) -> Self {
        Self {
            method: BulkMethod::Patch,
            path: path.into(),
            bulk_id: None,
            version: None,
            data: Some(data),
        }
    }

    /// Deletes the resource at `path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self {
            method: BulkMethod::Delete,
            path: path.into(),
            bulk_id: None,
            version: None,
            data: None,
        }
    }
}

/// A bulk request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None` goes on regardless.
    pub fail_on_errors: Option<u32>,
    /// The operations, in order.
    pub operations: Vec<BulkOperation>,
}

impl BulkRequest {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops after `n` errors.
    #[must_use]
    pub fn fail_on_errors(mut self, n: u32) -> Self {
        self.fail_on_errors = Some(n);
        self
    }

    /// Adds an operation.
    #[must_use]
    pub fn operation(mut self, op: BulkOperation) -> Self {
        self.operations.push(op);
        self
    }
}

/// The result of one bulk operation.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperationResult {
    /// The method.
    #[serde(default)]
    pub method: Option<String>,
    /// The operation's `bulkId`.
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// The new ETag.
    #[serde(default)]
    pub version: Option<String>,
    /// The resource's URL.
    #[serde(default)]
    pub location: Option<String>,
    /// The HTTP status of the operation (a string in the RFC; numbers read too).
    #[serde(default, deserialize_with = "status_code")]
    pub status: u16,
    /// The error body when it failed (or the resource, for some servers).
    #[serde(default)]
    pub response: Option<Value>,
}

impl BulkOperationResult {
    /// Whether the operation succeeded.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The id of the resource, from `location` (its last path segment).
    pub fn id(&self) -> Option<&str> {
        self.location
            .as_deref()?
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
    }

    /// The error, when the operation failed with a SCIM error body.
    pub fn error(&self) -> Option<ErrorBody> {
        if self.is_success() {
            return None;
        }
        self.response
            .as_ref()
            .and_then(|r| serde_json::from_value(r.clone()).ok())
    }
}

fn status_code<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u16, D::Error> {
    let v = Value::deserialize(d)?;
    let text = match &v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        // `{"code": "201"}`, as an early draft had it.
        Value::Object(o) => o
            .get("code")
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
            .unwrap_or_default(),
        _ => String::new(),
    };
    text.parse()
        .map_err(|_| serde::de::Error::custom(format!("not an HTTP status: {v}")))
}

/// The results of a bulk request, one per operation sent, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkResponse {
    /// The results.
    pub operations: Vec<BulkOperationResult>,
    /// How many requests the operations were split into.
    pub requests: usize,
    /// Whether `failOnErrors` stopped the request before every operation was sent.
    pub stopped: bool,
}

impl BulkResponse {
    /// The failed operations.
    pub fn errors(&self) -> impl Iterator<Item = &BulkOperationResult> {
        self.operations.iter().filter(|o| !o.is_success())
    }
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(rename = "Operations", alias = "operations", default)]
    operations: Vec<BulkOperationResult>,
}

/// Replaces `"bulkId:<id>"` strings with ids already known.
fn resolve(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve(v, ids)),
        _ => {}
    }
}

/// Envelope bytes beyond the operations themselves.
const ENVELOPE: u64 = 128;

pub(crate) async fn send(
    client: &ScimClient,
    request: BulkRequest,
    caps: &Capabilities,
) -> Result<BulkResponse> {
    let max_ops = usize::try_from(caps.bulk_max_operations)
        .unwrap_or(usize::MAX)
        .max(1);
    let max_bytes = caps.bulk_max_payload_size;
    let mut response = BulkResponse::default();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut errors = 0u32;
    let mut pending = request.operations.into_iter().peekable();
    while pending.peek().is_some() {
        // Fill one request up to the operation and byte limits.
        let mut chunk: Vec<Value> = Vec::new();
        let mut bytes = ENVELOPE;
        while chunk.len() < max_ops {
            let Some(op) = pending.peek() else { break };
            let mut op = serde_json::to_value(op)
                .map_err(|e| ScimError::Config(format!("unserializable bulk operation: {e}")))?;
            resolve(&mut op, &ids);
            let size = serde_json::to_vec(&op).map_or(0, |v| v.len() as u64) + 1;
            if size + ENVELOPE > max_bytes {
                return Err(ScimError::Config(format!(
                    "a bulk operation of {size} bytes exceeds the server's maxPayloadSize of {max_bytes} bytes"
                )));
            }
            if bytes + size > max_bytes {
                break;
            }
            bytes += size;
            chunk.push(op);
            pending.next();
        }
        let mut body = json!({ "schemas": [BULK_REQUEST_SCHEMA], "Operations": chunk });
        if let Some(limit) = request.fail_on_errors {
            body["failOnErrors"] = json!(limit.saturating_sub(errors).max(1));
        }
        let raw: RawResponse =
            serde_json::from_value(client.post_bulk(body).await?).map_err(|e| {
                ScimError::InvalidResponse {
                    operation: "scim.bulk",
                    message: e.to_string(),
                }
            })?;
        response.requests += 1;
        for result in raw.operations {
            if result.is_success() {
                if let (Some(bulk_id), Some(id)) = (&result.bulk_id, result.id()) {
                    ids.insert(bulk_id.clone(), id.to_owned());
                }
            } else {
                errors += 1;
            }
            response.operations.push(result);
        }
        if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
            response.stopped = pending.peek().is_some();
            break;
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_ids_are_resolved_anywhere_in_the_data() {
        let mut ids = HashMap::new();
        ids.insert("u1".to_owned(), "abc".to_owned());
        let mut v =
            json!({"members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}], "x": "bulkId:u1"});
        resolve(&mut v, &ids);
        assert_eq!(
            v,
            json!({"members": [{"value": "abc"}, {"value": "bulkId:u2"}], "x": "abc"})
        );
    }

    #[test]
    fn results_read_string_and_number_statuses() {
        let r: BulkOperationResult = serde_json::from_value(
            json!({"status": "201", "location": "https://x/v2/Users/92b7", "bulkId": "u1"}),
        )
        .unwrap();
        assert!(r.is_success());
        assert_eq!(r.id(), Some("92b7"));
        let r: BulkOperationResult = serde_json::from_value(
            json!({"status": 409, "response": {"status": "409", "scimType": "uniqueness", "detail": "dup"}}),
        )
        .unwrap();
        assert_eq!(
            r.error().and_then(|e| e.scim_type).as_deref(),
            Some("uniqueness")
        );
    }
}
