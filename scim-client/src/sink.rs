//! Users and groups as a connector-core [`Sink`]: every record is matched on an
//! attribute (`userName` by default), then created, left alone, or updated with a PATCH
//! of exactly the attributes that differ.
//!
//! Record fields are named by SCIM attribute paths, so a CSV header or a mapping says
//! where each value goes:
//!
//! | field name | goes to |
//! |---|---|
//! | `userName`, `title`, `active` | the attribute |
//! | `name.givenName` | a sub-attribute |
//! | `emails[type eq "work"].value` | the `value` of the `work` e-mail (created if missing) |
//! | `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department` | the extension |
//! | `members` (groups) | member ids, or `userName`s with [`MemberKey::UserName`] (a list, or text separated by `;`) |
//!
//! Values are written in the attribute's SCIM type, so text from an untyped CSV works:
//! `true`/`False`/`1` for `active` and `primary` become JSON booleans, anything else
//! is rejected naming the field.
//!
//! A null value is "not asserted": the attribute is left as it is. Each record gets one
//! outcome: `Written` (created, updated or unchanged, with the SCIM id), `Rejected` with
//! the server's `scimType` and `detail` (a 4xx the record caused), or `Failed` (429 and
//! 5xx after retries). Authentication failures stop the copy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use connector_core::{
    ConnectorError, ErrorKind, Record, RecordBatch, RecordError, RecordId, RecordOutcome, Sink,
    SinkCapabilities, StreamInfo, StreamWriter, WriteAction, WriteMode, WriteModeKind, WriteReport,
};
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value, json};
use type_mapping::Schema;

use crate::client::{ListQuery, ScimClient};
use crate::error::ScimError;
use crate::model::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use crate::resource_path::{FieldPath, as_boolean, get_ci, item_of, patch_ops, same};

/// Which resource type a stream is written to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScimResourceKind {
    /// `/Users`.
    Users,
    /// `/Groups`.
    Groups,
}

/// How group members are named in records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemberKey {
    /// By SCIM id.
    #[default]
    Id,
    /// By `userName`, looked up (and cached) before writing.
    UserName,
}

/// What `WriteMode::Delete` does to a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeleteBehavior {
    /// Sets `active=false` (what Entra and Okta do).
    #[default]
    Deactivate,
    /// Sends `DELETE`.
    Delete,
}

/// Configuration of a [`ScimSink`].
#[derive(Clone, Debug)]
pub struct ScimSinkConfig {
    /// The resource type; `None` picks it from the stream name (`users`, `groups`).
    pub resource: Option<ScimResourceKind>,
    /// The attribute records are matched on (`userName`, `externalId`,
    /// `displayName` for groups by default).
    pub match_attribute: Option<String>,
    /// How members are named.
    pub member_key: MemberKey,
    /// Records written at once.
    pub concurrency: usize,
    /// What deleting a user does.
    pub delete_behavior: DeleteBehavior,
}

impl Default for ScimSinkConfig {
    fn default() -> Self {
        Self {
            resource: None,
            match_attribute: None,
            member_key: MemberKey::Id,
            concurrency: 8,
            delete_behavior: DeleteBehavior::Deactivate,
        }
    }
}

/// Writes users or groups to a SCIM service.
#[derive(Clone, Debug)]
pub struct ScimSink {
    client: ScimClient,
    config: ScimSinkConfig,
}

impl ScimSink {
    /// A sink over `client` with the default configuration.
    pub fn new(client: ScimClient) -> Self {
        Self {
            client,
            config: ScimSinkConfig::default(),
        }
    }

    /// A sink with a configuration.
    pub fn with_config(client: ScimClient, config: ScimSinkConfig) -> Self {
        Self { client, config }
    }
}

#[async_trait]
impl Sink for ScimSink {
    async fn check(&self) -> connector_core::Result<()> {
        self.client
            .test_connection()
            .await
            .map_err(ConnectorError::from)
    }

    fn capabilities(&self) -> SinkCapabilities {
        SinkCapabilities {
            modes: vec![
                WriteModeKind::Insert,
                WriteModeKind::Upsert,
                WriteModeKind::Update,
                WriteModeKind::Delete,
            ],
            max_batch_records: None,
            deferred_outcomes: false,
        }
    }

    async fn open(
        &self,
        stream: &StreamInfo,
        mode: &WriteMode,
    ) -> connector_core::Result<Box<dyn StreamWriter>> {
        let kind = match &self.config.resource {
            Some(kind) => kind.clone(),
            None => match stream.id.name.to_ascii_lowercase().as_str() {
                "users" | "user" => ScimResourceKind::Users,
                "groups" | "group" => ScimResourceKind::Groups,
                other => {
                    return Err(ConnectorError::config(
                        "scim.sink.open",
                        format!(
                            "stream `{other}` is neither users nor groups: set ScimSinkConfig::resource"
                        ),
                    ));
                }
            },
        };
        let match_attribute = match (&mode, &self.config.match_attribute) {
            (WriteMode::Upsert { key }, _) if !key.is_empty() => key[0].clone(),
            (_, Some(attr)) => attr.clone(),
            _ => match kind {
                ScimResourceKind::Users => "userName".to_owned(),
                ScimResourceKind::Groups => "displayName".to_owned(),
            },
        };
        let paths = stream
            .schema
            .fields
            .iter()
            .map(|f| FieldPath::parse(&f.name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConnectorError::config("scim.sink.open", e))?;
        if !paths.iter().any(|p| p.is_plain(&match_attribute)) {
            return Err(ConnectorError::config(
                "scim.sink.open",
                format!("the stream has no field `{match_attribute}` to match records on"),
            ));
        }
        Ok(Box::new(ScimWriter {
            shared: Arc::new(Shared {
                client: self.client.clone(),
                kind,
                mode: mode.kind(),
                match_attribute,
                paths,
                member_key: self.config.member_key,
                delete_behavior: self.config.delete_behavior,
                member_ids: tokio::sync::Mutex::new(HashMap::new()),
            }),
            concurrency: self.config.concurrency.max(1),
        }))
    }
}

struct Shared {
    client: ScimClient,
    kind: ScimResourceKind,
    mode: WriteModeKind,
    match_attribute: String,
    paths: Vec<FieldPath>,
    member_key: MemberKey,
    delete_behavior: DeleteBehavior,
    member_ids: tokio::sync::Mutex<HashMap<String, String>>,
}

struct ScimWriter {
    shared: Arc<Shared>,
    concurrency: usize,
}

/// A failure of one record: a rejection, a transient failure, or a stop.
enum Problem {
    Reject(RecordError),
    Fail(RecordError),
    Stop(ConnectorError),
}

impl From<ScimError> for Problem {
    fn from(e: ScimError) -> Self {
        let status = e.status();
        let code = e
            .scim_type()
            .map(|t| t.to_string())
            .or_else(|| status.map(|s| format!("HTTP_{s}")))
            .unwrap_or_else(|| "SCIM_ERROR".to_owned());
        let message = e.detail().map_or_else(|| e.to_string(), str::to_owned);
        match status {
            Some(401 | 403) => Problem::Stop(ConnectorError::from(e)),
            _ if e.is_retryable() => Problem::Fail(RecordError::new(code, message)),
            Some(_) => Problem::Reject(RecordError::new(code, message)),
            None => match ConnectorError::from(e) {
                err if err.kind() == ErrorKind::Unauthenticated
                    || err.kind() == ErrorKind::PermissionDenied =>
                {
                    Problem::Stop(err)
                }
                err if err.is_retryable()
                    || err.status() == connector_core::ErrorStatus::Persistent =>
                {
                    Problem::Fail(RecordError::new(
                        format!("{:?}", err.kind()).to_ascii_uppercase(),
                        err.to_string(),
                    ))
                }
                err => Problem::Stop(err),
            },
        }
    }
}

impl Shared {
    fn endpoint(&self) -> crate::client::Resources<Value> {
        match self.kind {
            ScimResourceKind::Users => self.client.resources("Users"),
            ScimResourceKind::Groups => self.client.resources("Groups"),
        }
    }

    /// The resource a record asserts, and the value it is matched on.
    async fn desired(
        &self,
        schema: &Schema,
        record: &Record,
    ) -> Result<(Map<String, Value>, String), Problem> {
        let mut resource = Map::new();
        let mut schemas = vec![
            match self.kind {
                ScimResourceKind::Users => USER_SCHEMA,
                ScimResourceKind::Groups => GROUP_SCHEMA,
            }
            .to_owned(),
        ];
        for ((field, path), value) in schema.fields.iter().zip(&self.paths).zip(&record.values) {
            if value.is_null() {
                continue;
            }
            let mut json = type_mapping::json::to_json(value, &field.data_type);
            if path.is_boolean() {
                json = as_boolean(json).map_err(|text| {
                    Problem::Reject(
                        RecordError::new(
                            "invalidValue",
                            format!("`{}` is a boolean; {text:?} is not", field.name),
                        )
                        .with_fields([field.name.clone()]),
                    )
                })?;
            }
            if self.kind == ScimResourceKind::Groups && path.is_plain("members") {
                json = self.members(json).await?;
            }
            if let Some(urn) = &path.urn
                && !schemas.iter().any(|s| s.eq_ignore_ascii_case(urn))
            {
                schemas.push(if urn.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
                    ENTERPRISE_USER_SCHEMA.to_owned()
                } else {
                    urn.clone()
                });
            }
            path.set(&mut resource, json);
        }
        resource.insert("schemas".to_owned(), json!(schemas));
        let key = get_ci(&Value::Object(resource.clone()), &self.match_attribute)
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .ok_or_else(|| {
                Problem::Reject(
                    RecordError::new(
                        "MISSING_MATCH_ATTRIBUTE",
                        format!("the record has no `{}`", self.match_attribute),
                    )
                    .with_fields([self.match_attribute.clone()]),
                )
            })?;
        Ok((resource, key))
    }

    /// Group members from ids or userNames (a list, or `;`-separated text).
    async fn members(&self, value: Value) -> Result<Value, Problem> {
        let names: Vec<String> = match value {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => s
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let mut members = Vec::with_capacity(names.len());
        for name in names {
            let id = match self.member_key {
                MemberKey::Id => name,
                MemberKey::UserName => self.user_id(&name).await?,
            };
            members.push(json!({ "value": id }));
        }
        Ok(Value::Array(members))
    }

    async fn user_id(&self, user_name: &str) -> Result<String, Problem> {
        if let Some(id) = self.member_ids.lock().await.get(user_name) {
            return Ok(id.clone());
        }
        let user = self
            .client
            .users()
            .find_by_user_name(user_name)
            .await
            .map_err(Problem::from)?;
        let id = user.and_then(|u| u.id).ok_or_else(|| {
            Problem::Reject(
                RecordError::new(
                    "UNKNOWN_MEMBER",
                    format!("no user with userName {user_name:?}"),
                )
                .with_fields(["members"]),
            )
        })?;
        self.member_ids
            .lock()
            .await
            .insert(user_name.to_owned(), id.clone());
        Ok(id)
    }

    async fn find(&self, key: &str) -> Result<Option<Value>, Problem> {
        let filter = format!("{} eq {}", self.match_attribute, json!(key));
        let page = self
            .endpoint()
            .page(&ListQuery::new().filter(filter).page_size(2), 1)
            .await
            .map_err(Problem::from)?;
        match page.resources.len() {
            0 => Ok(None),
            1 => Ok(page.resources.into_iter().next()),
            n => Err(Problem::Reject(RecordError::new(
                "AMBIGUOUS_MATCH",
                format!("{n} resources have {} {key:?}", self.match_attribute),
            ))),
        }
    }

    async fn write(
        &self,
        schema: &Schema,
        record: &Record,
    ) -> Result<(WriteAction, Option<String>), Problem> {
        let (desired, key) = self.desired(schema, record).await?;
        let existing = self.find(&key).await?;
        let id_of = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
        match (self.mode, existing) {
            (WriteModeKind::Delete, None) | (WriteModeKind::Update, None) => {
                Err(Problem::Reject(RecordError::new(
                    "NOT_FOUND",
                    format!("no resource has {} {key:?}", self.match_attribute),
                )))
            }
            (WriteModeKind::Delete, Some(existing)) => {
                let id = id_of(&existing).unwrap_or_default();
                match (self.kind.clone(), self.delete_behavior) {
                    (ScimResourceKind::Users, DeleteBehavior::Deactivate) => {
                        self.client
                            .users()
                            .deactivate(&id)
                            .await
                            .map_err(Problem::from)?;
                    }
                    _ => self.endpoint().delete(&id).await.map_err(Problem::from)?,
                }
                Ok((WriteAction::Deleted, Some(id)))
            }
            (WriteModeKind::Insert, Some(_)) => Err(Problem::Reject(RecordError::new(
                "uniqueness",
                format!("a resource with {} {key:?} exists", self.match_attribute),
            ))),
            (_, None) => {
                let created = self
                    .endpoint()
                    .create(&Value::Object(desired))
                    .await
                    .map_err(Problem::from)?;
                Ok((WriteAction::Created, id_of(&created)))
            }
            (_, Some(existing)) => {
                let id = id_of(&existing).unwrap_or_default();
                self.update(&id, &desired, &existing)
                    .await
                    .map(|action| (action, Some(id)))
            }
        }
    }

    /// PATCHes exactly the attributes that differ; members by add and remove.
    async fn update(
        &self,
        id: &str,
        desired: &Map<String, Value>,
        existing: &Value,
    ) -> Result<WriteAction, Problem> {
        let desired_value = Value::Object(desired.clone());
        let mut pending = Vec::new();
        let mut member_changes = None;
        for path in &self.paths {
            let Some(want) = path.get(&desired_value) else {
                continue;
            };
            if self.kind == ScimResourceKind::Groups && path.is_plain("members") {
                let ids = |v: &Value| -> HashSet<String> {
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|m| m.get("value")?.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let want = ids(want);
                // Members may have been left out of the match; read them.
                let have = match existing.get("members") {
                    Some(m) => ids(m),
                    None => {
                        let full = self.endpoint().get(id).await.map_err(Problem::from)?;
                        full.get("members").map(ids).unwrap_or_default()
                    }
                };
                let add: Vec<String> = want.difference(&have).cloned().collect();
                let remove: Vec<String> = have.difference(&want).cloned().collect();
                if !add.is_empty() || !remove.is_empty() {
                    member_changes = Some((add, remove));
                }
                continue;
            }
            if path.is_plain("schemas") || same(want, path.get(existing)) {
                continue;
            }
            pending.push((path, Some(want)));
        }
        // A value in a typed item the resource lacks is added as a new item.
        let ops = patch_ops(&pending, |p| item_of(p).get(existing).is_some());
        if ops.is_empty() && member_changes.is_none() {
            return Ok(WriteAction::Unchanged);
        }
        if !ops.is_empty() {
            let body = json!({ "schemas": [crate::model::PATCH_OP_SCHEMA], "Operations": ops });
            self.endpoint()
                .patch_raw(id, body)
                .await
                .map_err(Problem::from)?;
        }
        if let Some((add, remove)) = member_changes {
            let groups = self.client.groups();
            let add: Vec<&str> = add.iter().map(String::as_str).collect();
            let remove: Vec<&str> = remove.iter().map(String::as_str).collect();
            groups.add_members(id, &add).await.map_err(Problem::from)?;
            groups
                .remove_members(id, &remove)
                .await
                .map_err(Problem::from)?;
        }
        Ok(WriteAction::Updated)
    }
}

#[async_trait]
impl StreamWriter for ScimWriter {
    async fn write(
        &mut self,
        first_id: RecordId,
        batch: Arc<RecordBatch>,
    ) -> connector_core::Result<WriteReport> {
        let shared = self.shared.clone();
        let results: Vec<(usize, Result<(WriteAction, Option<String>), Problem>)> =
            stream::iter(0..batch.len())
                .map(|i| {
                    let shared = shared.clone();
                    let batch = batch.clone();
                    async move {
                        let result = match batch.records.get(i) {
                            Some(record) => shared.write(&batch.schema, record).await,
                            None => Err(Problem::Reject(RecordError::new(
                                "NO_RECORD",
                                "record index out of range",
                            ))),
                        };
                        (i, result)
                    }
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
        let mut report = WriteReport::new();
        let mut stop = None;
        for (i, result) in results {
            let id = first_id + i as u64;
            match result {
                Ok((action, remote_id)) => {
                    report.push(id, RecordOutcome::Written { action, remote_id })
                }
                Err(Problem::Reject(error)) => report.push(id, RecordOutcome::Rejected { error }),
                Err(Problem::Fail(error)) => report.push(id, RecordOutcome::Failed { error }),
                Err(Problem::Stop(e)) => {
                    // Records whose outcome is known keep it; the rest count as not
                    // delivered.
                    stop.get_or_insert(e);
                }
            }
        }
        // Credentials refused: stop the copy. The records of this batch count as not
        // delivered, even those written before the refusal; writing them again later
        // matches them and changes nothing, so that is safe.
        match stop {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn flush(&mut self) -> connector_core::Result<WriteReport> {
        Ok(WriteReport::new())
    }
}
