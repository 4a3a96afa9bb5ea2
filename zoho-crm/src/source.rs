//! Zoho CRM as a connector-core [`Source`]: the users, any module (incrementally by
//! `Modified_Time`), and COQL queries. Large full reads of a module go through Bulk
//! Read automatically.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::file::CsvSource;
use connector_core::source::{Checkpoint, InvalidRecord, Partition, ReadRequest, SourceEvent};
use connector_core::state::CursorValue;
use connector_core::{
    Catalog, ConnectorError, ErrorKind, Record, RecordBatch, RecordError, Source, StreamId,
    StreamInfo, SyncMode,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::{Map, Value};
use type_mapping::{ConversionPolicy, DataType, Field, Schema};

use crate::client::ZohoClient;
use crate::records::ListRecords;
use crate::users::UserType;

/// A stream the source offers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZohoStream {
    /// The org's users of a type, as stream `users`.
    Users(UserType),
    /// A module's records, as a stream named after the module.
    Module(String),
    /// A COQL query (`SELECT * FROM Accounts`), as a stream of the given name.
    Coql {
        /// The stream's name.
        name: String,
        /// The query.
        query: String,
    },
}

/// A [`Source`] over a Zoho CRM org.
#[derive(Clone, Debug)]
pub struct ZohoSource {
    client: ZohoClient,
    streams: Vec<ZohoStream>,
    bulk_threshold: u64,
    policy: ConversionPolicy,
    partitions: usize,
    fields: std::collections::HashMap<String, Vec<String>>,
}

impl ZohoSource {
    /// A source of the given streams.
    pub fn new(client: ZohoClient, streams: Vec<ZohoStream>) -> Self {
        Self {
            client,
            streams,
            bulk_threshold: 50_000,
            policy: ConversionPolicy::default(),
            partitions: 1,
            fields: std::collections::HashMap::new(),
        }
    }

    /// Reads only these fields of `module` (plus `id` and `Modified_Time`); by default
    /// every listable field. Up to 49 fields take one call per page, more take several.
    #[must_use]
    pub fn with_fields<I, S>(mut self, module: impl Into<String>, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields
            .insert(module.into(), fields.into_iter().map(Into::into).collect());
        self
    }

    /// Reads a module in `n` partitions at once, each a window of `Modified_Time`
    /// (Zoho's record paging is sequential; windows are not). Use the client's
    /// concurrency, and as many `max_partitions` in the copy options.
    #[must_use]
    pub fn with_partitions(mut self, n: usize) -> Self {
        self.partitions = n.max(1);
        self
    }

    /// Full reads of modules with more records than this go through Bulk Read
    /// (default 50,000; `u64::MAX` never does).
    #[must_use]
    pub fn with_bulk_threshold(mut self, records: u64) -> Self {
        self.bulk_threshold = records;
        self
    }

    /// Sets the conversion policy (strict by default).
    #[must_use]
    pub fn with_policy(mut self, policy: ConversionPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn stream(&self, id: &StreamId) -> connector_core::Result<&ZohoStream> {
        self.streams
            .iter()
            .find(|s| stream_name(s) == id.name)
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::NotFound,
                    "zoho.source",
                    format!("no stream `{id}`"),
                )
            })
    }
}

fn stream_name(s: &ZohoStream) -> String {
    match s {
        ZohoStream::Users(_) => "users".to_owned(),
        ZohoStream::Module(m) => m.clone(),
        ZohoStream::Coql { name, .. } => name.clone(),
    }
}

/// The schema of the users stream.
pub fn users_schema() -> Schema {
    let text = |n: &str| Field::new(n, DataType::String);
    Schema::new(vec![
        type_mapping::zoho::field("id", "bigint", Some("string"), None, None, false),
        text("email"),
        text("first_name"),
        text("last_name"),
        text("full_name"),
        text("status"),
        text("role.id"),
        text("role.name"),
        text("profile.id"),
        text("profile.name"),
        text("phone"),
        text("mobile"),
        text("fax"),
        text("street"),
        text("city"),
        text("state"),
        text("zip"),
        text("country"),
        text("language"),
        text("locale"),
        text("time_zone"),
        Field::new("Modified_Time", DataType::DateTimeOffset),
    ])
}

/// Turns lookup ids read as text into the lookup structs of `schema`.
fn wrap_lookups(batch: RecordBatch, schema: &Arc<Schema>, lookups: &[usize]) -> RecordBatch {
    let RecordBatch {
        stream,
        mut records,
        location,
        ..
    } = batch;
    for record in &mut records {
        for &i in lookups {
            let Some(DataType::Struct(members)) = schema.fields.get(i).map(|f| &f.data_type) else {
                continue;
            };
            let Some(slot) = record.values.get_mut(i) else {
                continue;
            };
            if let type_mapping::Value::String(id) =
                std::mem::replace(slot, type_mapping::Value::Null)
            {
                let values = members
                    .iter()
                    .map(|m| match (m.name.as_str(), &m.data_type) {
                        ("id", DataType::Int64) => id.parse::<i64>().map_or_else(
                            |_| type_mapping::Value::String(id.clone()),
                            type_mapping::Value::Int64,
                        ),
                        ("id", _) => type_mapping::Value::String(id.clone()),
                        _ => type_mapping::Value::Null,
                    })
                    .collect();
                *slot = type_mapping::Value::Struct(values);
            }
        }
    }
    RecordBatch {
        stream,
        schema: schema.clone(),
        records,
        location,
    }
}

/// A JSON object as a record of `schema` (dotted names read nested objects); a value
/// that does not fit is an invalid record naming the field.
fn to_record(
    schema: &Schema,
    object: &Map<String, Value>,
    policy: &ConversionPolicy,
) -> Result<Record, RecordError> {
    let mut values = Vec::with_capacity(schema.len());
    let mut changes = Vec::new();
    for field in &schema.fields {
        let value = match field.name.split_once('.') {
            Some((head, tail)) => object.get(head).and_then(|v| v.get(tail)),
            None => object.get(&field.name),
        }
        .unwrap_or(&Value::Null);
        let typed =
            type_mapping::json::from_json(field, value, policy, &mut changes).map_err(|e| {
                RecordError::new("CONVERSION", e.to_string()).with_fields([field.name.clone()])
            })?;
        values.push(typed);
    }
    let mut record = Record::new(values);
    record.meta.changes = changes;
    Ok(record)
}

fn events_of(
    stream: &StreamId,
    schema: &Arc<Schema>,
    rows: Vec<Map<String, Value>>,
    policy: &ConversionPolicy,
) -> Vec<connector_core::Result<SourceEvent>> {
    let mut events = Vec::new();
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        match to_record(schema, &row, policy) {
            Ok(r) => records.push(r),
            Err(error) => events.push(Ok(SourceEvent::Invalid(InvalidRecord {
                stream: stream.clone(),
                origin: None,
                raw: Some(Value::Object(row).to_string()),
                error,
            }))),
        }
    }
    if !records.is_empty() {
        events.push(Ok(SourceEvent::Batch(RecordBatch::new(
            stream.clone(),
            schema.clone(),
            records,
        ))));
    }
    events
}

#[async_trait]
impl Source for ZohoSource {
    async fn check(&self) -> connector_core::Result<()> {
        self.client
            .users()
            .count(UserType::CurrentUser)
            .await
            .map(|_| ())
            .map_err(ConnectorError::from)
    }

    async fn discover(&self) -> connector_core::Result<Catalog> {
        let mut streams = Vec::with_capacity(self.streams.len());
        for s in &self.streams {
            let info = match s {
                ZohoStream::Users(_) => {
                    StreamInfo::new("users", users_schema()).with_primary_key(["id"])
                }
                ZohoStream::Module(module) => {
                    let mut schema = self.client.schema(module).await?;
                    if let Some(fields) = self.fields.get(module) {
                        let mut names: Vec<&str> = vec!["id"];
                        names.extend(
                            fields
                                .iter()
                                .map(String::as_str)
                                .filter(|f| *f != "id" && *f != "Modified_Time"),
                        );
                        if schema.index_of("Modified_Time").is_some() {
                            names.push("Modified_Time");
                        }
                        schema = schema.project(&names).map_err(|e| {
                            ConnectorError::config("zoho.source", format!("module `{module}`: {e}"))
                        })?;
                    }
                    let mut info =
                        StreamInfo::new(module.as_str(), schema.clone()).with_primary_key(["id"]);
                    if schema.index_of("Modified_Time").is_some() {
                        info = info.with_cursor("Modified_Time");
                    }
                    info
                }
                ZohoStream::Coql { name, query } => {
                    let parsed = crate::coql::CoqlQuery::parse(query)?;
                    let all = self.client.schema(&parsed.module).await?;
                    let schema = if parsed.columns.len() == 1 && parsed.columns[0] == "*" {
                        all
                    } else {
                        let mut names: Vec<&str> = vec!["id"];
                        names.extend(
                            parsed
                                .columns
                                .iter()
                                .map(String::as_str)
                                .filter(|c| !c.eq_ignore_ascii_case("id")),
                        );
                        all.project(&names).map_err(|e| {
                            ConnectorError::new(ErrorKind::InvalidInput, "zoho.coql", e.to_string())
                        })?
                    };
                    StreamInfo::new(name.as_str(), schema).with_primary_key(["id"])
                }
            };
            streams.push(info);
        }
        Ok(Catalog::new(streams))
    }

    async fn plan(&self, req: &ReadRequest) -> connector_core::Result<Vec<Partition>> {
        let stream = self.stream(&req.stream)?;
        let mut partition = Partition::whole(req);
        let ZohoStream::Module(module) = stream else {
            return Ok(vec![partition]);
        };
        if req.mode == SyncMode::FullRefresh && self.bulk_threshold != u64::MAX {
            let count = self
                .client
                .call(crate::client::Call::new(
                    reqwest::Method::GET,
                    format!("{module}/actions/count"),
                    "zoho.count_records",
                ))
                .await
                .ok()
                .and_then(|a| a.body.get("count").and_then(Value::as_u64))
                .unwrap_or(0);
            if count > self.bulk_threshold {
                partition.spec = serde_json::json!({ "bulk": true, "count": count });
                return Ok(vec![partition]);
            }
        }
        if self.partitions <= 1 {
            return Ok(vec![partition]);
        }
        // Windows of Modified_Time between the saved cursor (or the earliest record)
        // and the latest record, each (from, until].
        let records = self.client.records(module.clone());
        let latest = records.edge_modified_time(false).await?;
        let earliest = match req.state.as_ref().and_then(|s| s.cursor.clone()) {
            Some(CursorValue::Timestamp(t)) => Some(t.timestamp()),
            _ => records
                .edge_modified_time(true)
                .await?
                .map(|t| t.timestamp() - 1),
        };
        let (Some(from), Some(until)) = (earliest, latest.map(|t| t.timestamp())) else {
            return Ok(vec![partition]);
        };
        if until <= from {
            return Ok(vec![partition]);
        }
        let n = i64::try_from(self.partitions).unwrap_or(1);
        let bounds: Vec<i64> = (0..=n).map(|k| from + (until - from) * k / n).collect();
        let at = |secs: i64| chrono::DateTime::from_timestamp(secs, 0).map(CursorValue::Timestamp);
        Ok(bounds
            .windows(2)
            .filter(|w| w[1] > w[0])
            .map(|w| Partition {
                id: format!("{}-{}", w[0], w[1]),
                spec: serde_json::json!({ "from": w[0], "until": w[1] }),
                window: connector_core::state::CursorWindow {
                    start: at(w[0]),
                    end: at(w[1]),
                },
                resume: None,
                ..partition.clone()
            })
            .collect())
    }

    fn read(
        &self,
        partition: Partition,
    ) -> BoxStream<'static, connector_core::Result<SourceEvent>> {
        let this = self.clone();
        let start = async move {
            let catalog = this.discover().await?;
            let info = catalog.stream(&partition.stream).cloned().ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::NotFound,
                    "zoho.source",
                    format!("no stream `{}`", partition.stream),
                )
            })?;
            let stream = this.stream(&partition.stream)?.clone();
            Ok::<_, ConnectorError>(this.read_stream(stream, info, partition))
        };
        stream::once(start).try_flatten().boxed()
    }
}

impl ZohoSource {
    fn read_stream(
        &self,
        stream: ZohoStream,
        info: StreamInfo,
        partition: Partition,
    ) -> BoxStream<'static, connector_core::Result<SourceEvent>> {
        let schema = info.schema.clone();
        let id = info.id.clone();
        let policy = self.policy.clone();
        let client = self.client.clone();
        match stream {
            ZohoStream::Users(kind) => {
                let p = partition.clone();
                client
                    .users()
                    .list(kind)
                    .map_err(ConnectorError::from)
                    .and_then(|u| async move {
                        serde_json::to_value(u).map_err(|e| {
                            ConnectorError::new(ErrorKind::Unexpected, "zoho.users", e.to_string())
                        })
                    })
                    .try_chunks(200)
                    .map_err(|e| e.1)
                    .map_ok(move |users| {
                        let rows = users
                            .into_iter()
                            .filter_map(|u| u.as_object().cloned())
                            .collect();
                        stream::iter(events_of(&id, &schema, rows, &policy))
                    })
                    .try_flatten()
                    .chain(stream::once(async move {
                        Ok(SourceEvent::Checkpoint(Checkpoint::new(
                            &p, None, None, true,
                        )))
                    }))
                    .boxed()
            }
            ZohoStream::Coql { query, .. } => {
                let p = partition.clone();
                client
                    .coql(&query)
                    .map_err(ConnectorError::from)
                    .try_chunks(partition.batch_size.max(1))
                    .map_err(|e| e.1)
                    .map_ok(move |rows| stream::iter(events_of(&id, &schema, rows, &policy)))
                    .try_flatten()
                    .chain(stream::once(async move {
                        Ok(SourceEvent::Checkpoint(Checkpoint::new(
                            &p, None, None, true,
                        )))
                    }))
                    .boxed()
            }
            ZohoStream::Module(module) => {
                let bulk = partition
                    .spec
                    .get("bulk")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if bulk {
                    return self.read_bulk(module, info, partition);
                }
                let fields: Vec<String> = schema.names().map(str::to_owned).collect();
                let cursor_index = schema.index_of("Modified_Time");
                let mut query = ListRecords::fields(fields).sort_by("Modified_Time");
                if let Some(CursorValue::Timestamp(t)) = &partition.window.start {
                    query =
                        query.modified_since(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
                }
                // A window (from, until]: filtered here, so it is exact whether
                // If-Modified-Since is inclusive or not, and the read stops past `until`.
                let from = partition.spec.get("from").and_then(Value::as_i64);
                let until = partition.spec.get("until").and_then(Value::as_i64);
                let modified = |row: &Map<String, Value>| {
                    row.get("Modified_Time")
                        .and_then(Value::as_str)
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.timestamp())
                };
                let p = Arc::new(partition.clone());
                client
                    .records(module)
                    .list(query)
                    .map_err(ConnectorError::from)
                    .try_take_while(move |row| {
                        std::future::ready(Ok(
                            until.is_none_or(|u| modified(row).is_none_or(|t| t <= u))
                        ))
                    })
                    .try_filter(move |row| {
                        std::future::ready(from.is_none_or(|f| modified(row).is_none_or(|t| t > f)))
                    })
                    .try_chunks(crate::records::PER_PAGE)
                    .map_err(|e| e.1)
                    .map_ok(move |rows| {
                        let mut events = events_of(&id, &schema, rows, &policy);
                        // Rows come in Modified_Time order: the last one is the cursor.
                        let cursor = events.iter().rev().find_map(|e| match e {
                            Ok(SourceEvent::Batch(b)) => cursor_index
                                .and_then(|i| b.records.last().map(|r| r.get(i).clone()))
                                .and_then(|v| CursorValue::from_value(&v)),
                            _ => None,
                        });
                        if cursor.is_some() {
                            events.push(Ok(SourceEvent::Checkpoint(Checkpoint::new(
                                &p, cursor, None, false,
                            ))));
                        }
                        stream::iter(events)
                    })
                    .try_flatten()
                    .chain(stream::once({
                        let p = partition.clone();
                        async move {
                            Ok(SourceEvent::Checkpoint(Checkpoint::new(
                                &p, None, None, true,
                            )))
                        }
                    }))
                    .boxed()
            }
        }
    }

    /// A full read through Bulk Read: one job per 200,000-record page, each result's CSV
    /// read by connector-core's CSV reader with the module's schema.
    fn read_bulk(
        &self,
        module: String,
        info: StreamInfo,
        partition: Partition,
    ) -> BoxStream<'static, connector_core::Result<SourceEvent>> {
        let client = self.client.clone();
        let fields: Vec<String> = info.schema.names().map(str::to_owned).collect();
        let policy = self.policy.clone();
        let last = partition.clone();
        stream::try_unfold(Some(1u32), move |page| {
            let client = client.clone();
            let module = module.clone();
            let fields = fields.clone();
            let info = info.clone();
            let policy = policy.clone();
            let partition = partition.clone();
            async move {
                let Some(page) = page else { return Ok::<_, ConnectorError>(None) };
                let request = crate::bulk::BulkReadRequest { module: module.clone(), fields, criteria: None, page };
                let job = client.bulk_read(&request).await?;
                let job = client.bulk_read_wait(&job.id, Duration::from_millis(200), Duration::from_secs(6 * 3600)).await?;
                let more = job.result.as_ref().is_some_and(|r| r.more_records);
                let file = Arc::new(client.bulk_read_download(&job).await?);
                // Bulk read CSVs hold a lookup's id alone: read those columns as text
                // and wrap each id into the lookup's struct, so the stream keeps one
                // schema whichever API read it.
                let lookups: Vec<usize> = info
                    .schema
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| matches!(&f.data_type, DataType::Struct(members) if members.iter().any(|m| m.name == "id")))
                    .map(|(i, _)| i)
                    .collect();
                let mut csv_schema = (*info.schema).clone();
                for &i in &lookups {
                    csv_schema.fields[i].data_type = DataType::String;
                }
                let csv = CsvSource::new(file.csv())
                    .with_stream_name(info.id.name.clone())
                    .with_schema(csv_schema)
                    .with_policy(policy);
                let schema = info.schema.clone();
                let part = Partition { resume: None, ..partition.clone() };
                // Keep the temporary file alive while its events are read.
                let events = csv
                    .read(part)
                    .map(move |e| {
                        let _alive = &file;
                        match e {
                            Ok(SourceEvent::Batch(batch)) => Ok(SourceEvent::Batch(wrap_lookups(batch, &schema, &lookups))),
                            other => other,
                        }
                    })
                    .filter(|e| std::future::ready(!matches!(e, Ok(SourceEvent::Checkpoint(_)))));
                Ok(Some((events, more.then_some(page + 1))))
            }
        })
        .try_flatten()
        .chain(stream::once(async move { Ok(SourceEvent::Checkpoint(Checkpoint::new(&last, None, None, true))) }))
        .boxed()
    }
}
