//! Salesforce as a connector-core [`Source`]: an object (every field Bulk API 2.0 can
//! select, or a SOQL query), incrementally by `SystemModstamp`, or an Analytics report.
//!
//! An incremental read adds `SystemModstamp > <saved cursor>` to the query (to the
//! object's query, or to a SOQL query without `ORDER BY` and `LIMIT`), and ends with a
//! checkpoint carrying the largest `SystemModstamp` read. SOQL date-time literals have
//! no fraction, so the query asks from the cursor's whole second and rows modified
//! before the cursor (to the millisecond) are dropped: only records modified at the
//! cursor's very millisecond may be read twice, none is missed.

use std::sync::Arc;

use async_trait::async_trait;
use connector_core::source::{Checkpoint, InvalidRecord, Partition, ReadRequest, SourceEvent};
use connector_core::state::CursorValue;
use connector_core::{
    Catalog, ConnectorError, ErrorKind, Record, RecordBatch, Source, StreamId, StreamInfo,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use type_mapping::{ConversionPolicy, DataType, Field, Schema};

use crate::client::SalesforceClient;
use crate::error::SalesforceError;
use crate::query::{QueryRequest, ResultOptions};
use crate::soql::SoqlQuery;

/// The cursor field of incremental reads.
pub const CURSOR_FIELD: &str = "SystemModstamp";

/// What the source reads (Azure Data Factory's dataset).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dataset {
    /// An sObject (`objectApiName`).
    Object(String),
    /// An Analytics report run synchronously (`reportId`).
    Report(String),
}

/// A [`Source`] of one Salesforce dataset.
#[derive(Clone, Debug)]
pub struct SalesforceSource {
    client: SalesforceClient,
    dataset: Dataset,
    soql: Option<String>,
    include_deleted: bool,
    options: ResultOptions,
    policy: ConversionPolicy,
}

impl SalesforceSource {
    /// A source of `dataset`.
    pub fn new(client: SalesforceClient, dataset: Dataset) -> Self {
        Self {
            client,
            dataset,
            soql: None,
            include_deleted: false,
            options: ResultOptions::default(),
            policy: ConversionPolicy::default(),
        }
    }

    /// Reads an object.
    pub fn object(client: SalesforceClient, object: impl Into<String>) -> Self {
        Self::new(client, Dataset::Object(object.into()))
    }

    /// Reads the result of a SOQL query (`SOQLQuery`), checked for what Bulk API 2.0
    /// rejects; the stream is named after its object.
    pub fn query(
        client: SalesforceClient,
        soql: impl Into<String>,
    ) -> Result<Self, SalesforceError> {
        let soql = soql.into();
        let parsed = SoqlQuery::parse(&soql)?;
        Ok(Self::new(client, Dataset::Object(parsed.object)).with_soql(soql))
    }

    /// Uses this SOQL query for the dataset's object.
    #[must_use]
    pub fn with_soql(mut self, soql: impl Into<String>) -> Self {
        self.soql = Some(soql.into());
        self
    }

    /// `queryAll`: deleted and archived records too (`includeDeletedObjects`).
    #[must_use]
    pub fn include_deleted_objects(mut self, yes: bool) -> Self {
        self.include_deleted = yes;
        self
    }

    /// Sets how results are downloaded (`maxRecords`, parallel pages).
    #[must_use]
    pub fn with_result_options(mut self, options: ResultOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the conversion policy (strict by default).
    #[must_use]
    pub fn with_policy(mut self, policy: ConversionPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn stream_name(&self) -> String {
        match &self.dataset {
            Dataset::Object(o) | Dataset::Report(o) => o.clone(),
        }
    }

    /// The schema and the SOQL of an object read.
    async fn object_plan(&self, object: &str) -> connector_core::Result<(Schema, SoqlQuery)> {
        let describe = self.client.describe(object).await?;
        let all = describe.schema();
        match &self.soql {
            None => {
                let names: Vec<&str> = all.names().collect();
                let soql = format!("SELECT {} FROM {}", names.join(", "), describe.name);
                Ok((all.clone(), SoqlQuery::parse(&soql)?))
            }
            Some(text) => {
                let q = SoqlQuery::parse(text)?;
                q.check_compound_fields(describe.compound_fields())?;
                let fields = q
                    .fields
                    .iter()
                    .map(|written| {
                        // `toLabel(Status)` and `convertCurrency(Amount)` are named by their field.
                        let name = written
                            .rsplit_once('(')
                            .map_or(written.as_str(), |(_, r)| r.trim_end_matches(')'))
                            .trim();
                        match describe.field(name) {
                            Some(f) if !name.contains('.') => {
                                let mut field = f.to_field();
                                field.name = name.to_owned();
                                if written.contains('(') {
                                    field.data_type = DataType::String;
                                }
                                field
                            }
                            _ => Field::new(name, DataType::String),
                        }
                    })
                    .collect();
                Ok((Schema::new(fields), q))
            }
        }
    }
}

fn soql_datetime(c: &CursorValue) -> Option<String> {
    match c {
        CursorValue::Timestamp(t) => Some(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        _ => None,
    }
}

/// `soql` restricted to `SystemModstamp > start`.
fn incremental_soql(q: &SoqlQuery, start: &CursorValue) -> connector_core::Result<String> {
    let at = soql_datetime(start).ok_or_else(|| {
        ConnectorError::config(
            "salesforce.source",
            format!("cursor {start} is not a timestamp"),
        )
    })?;
    if q.order_by || q.limit {
        return Err(ConnectorError::config(
            "salesforce.source",
            "an incremental read cannot extend a SOQL query with ORDER BY or LIMIT",
        ));
    }
    // The first WHERE is the query's own (the field list holds no subqueries), and
    // without ORDER BY or LIMIT everything after it is the condition.
    let text = q.text.trim_end();
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let at_where = upper.match_indices("WHERE").map(|(i, _)| i).find(|&i| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 5).copied();
        before.is_some_and(|b| b.is_ascii_whitespace() || b == b')')
            && after.is_none_or(|b| b.is_ascii_whitespace() || b == b'(')
    });
    Ok(match at_where {
        Some(i) => format!(
            "{}WHERE ({}) AND {CURSOR_FIELD} > {at}",
            &text[..i],
            text[i + 5..].trim()
        ),
        None => format!("{text} WHERE {CURSOR_FIELD} > {at}"),
    })
}

#[async_trait]
impl Source for SalesforceSource {
    async fn check(&self) -> connector_core::Result<()> {
        self.client
            .limits()
            .await
            .map(|_| ())
            .map_err(ConnectorError::from)
    }

    async fn discover(&self) -> connector_core::Result<Catalog> {
        let info = match &self.dataset {
            Dataset::Object(object) => {
                let (schema, _) = self.object_plan(object).await?;
                let has_cursor = schema.index_of(CURSOR_FIELD).is_some();
                let has_id = schema.index_of("Id").is_some();
                let mut info = StreamInfo::new(self.stream_name().as_str(), schema);
                if has_id {
                    info = info.with_primary_key(["Id"]);
                }
                if has_cursor {
                    info = info.with_cursor(CURSOR_FIELD);
                }
                info
            }
            Dataset::Report(id) => {
                let report = self.client.run_report_partial(id).await?;
                StreamInfo::new(id.as_str(), report.schema)
            }
        };
        Ok(Catalog::new(vec![info]))
    }

    async fn plan(&self, req: &ReadRequest) -> connector_core::Result<Vec<Partition>> {
        if req.stream.name != self.stream_name() {
            return Err(ConnectorError::new(
                ErrorKind::NotFound,
                "salesforce.source",
                format!("no stream `{}`", req.stream),
            ));
        }
        Ok(vec![Partition::whole(req)])
    }

    fn read(
        &self,
        partition: Partition,
    ) -> BoxStream<'static, connector_core::Result<SourceEvent>> {
        let this = self.clone();
        let start = async move {
            match this.dataset.clone() {
                Dataset::Object(object) => this.read_object(object, partition).await,
                Dataset::Report(id) => this.read_report(id, partition).await,
            }
        };
        stream::once(start).try_flatten().boxed()
    }
}

impl SalesforceSource {
    async fn read_object(
        &self,
        object: String,
        partition: Partition,
    ) -> connector_core::Result<BoxStream<'static, connector_core::Result<SourceEvent>>> {
        let (mut schema, query) = self.object_plan(&object).await?;
        let mut soql = query.text.clone();
        if let Some(projection) = &partition.projection {
            let mut names: Vec<&str> = projection.iter().map(String::as_str).collect();
            if schema.index_of(CURSOR_FIELD).is_some() && !names.contains(&CURSOR_FIELD) {
                names.push(CURSOR_FIELD);
            }
            schema = schema.project(&names).map_err(|e| {
                ConnectorError::config("salesforce.source", format!("projection: {e}"))
            })?;
            let filter_from = query
                .text
                .to_ascii_uppercase()
                .find(" FROM ")
                .map_or(String::new(), |i| query.text[i..].to_owned());
            soql = format!("SELECT {}{filter_from}", names.join(", "));
        }
        let cursor_index = schema.index_of(CURSOR_FIELD);
        if let Some(start) = &partition.window.start {
            if cursor_index.is_none() {
                return Err(ConnectorError::config(
                    "salesforce.source",
                    format!("`{object}` has no {CURSOR_FIELD} for an incremental read"),
                ));
            }
            soql = incremental_soql(&SoqlQuery::parse(&soql)?, start)?;
        }
        let jobs = self.client.query_jobs();
        let job = jobs
            .create(&QueryRequest::new(soql).include_deleted(self.include_deleted))
            .await?;
        let job = jobs.wait(&job.id).await?;
        let schema = Arc::new(schema);
        let stream_id = StreamId::new(self.stream_name());
        let start_cursor = partition.window.start.clone();
        let mut options = self.options.clone();
        options.batch_size = partition.batch_size.max(1);
        let rows = jobs.records(&job, schema.clone(), self.policy.clone(), options);
        let state = (rows, start_cursor.clone(), false);
        let events = stream::unfold(state, move |(mut rows, mut cursor, finished)| {
            let stream_id = stream_id.clone();
            let schema = schema.clone();
            let partition = partition.clone();
            let start_cursor = start_cursor.clone();
            async move {
                if finished {
                    return None;
                }
                match rows.next().await {
                    Some(Ok(chunk)) => {
                        let mut events: Vec<connector_core::Result<SourceEvent>> = chunk
                            .invalid
                            .into_iter()
                            .map(|bad| {
                                Ok(SourceEvent::Invalid(InvalidRecord {
                                    stream: stream_id.clone(),
                                    origin: Some(connector_core::RecordOrigin {
                                        location: chunk.location.clone(),
                                        row: bad.row,
                                    }),
                                    raw: Some(bad.raw),
                                    error: bad.error,
                                }))
                            })
                            .collect();
                        let mut records = chunk.records;
                        if let (Some(i), Some(start)) = (cursor_index, &start_cursor) {
                            // SOQL compares at whole seconds: drop what the last read
                            // already had (modified before its cursor, to the millisecond).
                            records.retain(|r| {
                                let c = CursorValue::from_value(Record::get(r, i));
                                c.is_none_or(|c| c >= *start)
                            });
                        }
                        if let Some(i) = cursor_index {
                            for r in &records {
                                let c = CursorValue::from_value(Record::get(r, i));
                                if c.is_some() && c > cursor {
                                    cursor = c;
                                }
                            }
                        }
                        if !records.is_empty() {
                            events.push(Ok(SourceEvent::Batch(
                                RecordBatch::new(stream_id, schema, records)
                                    .with_location(chunk.location),
                            )));
                        }
                        Some((stream::iter(events), (rows, cursor, false)))
                    }
                    Some(Err(e)) => Some((
                        stream::iter(vec![Err(ConnectorError::from(e))]),
                        (rows, cursor, true),
                    )),
                    None => {
                        let cp = Checkpoint::new(&partition, cursor.clone(), None, true);
                        Some((
                            stream::iter(vec![Ok(SourceEvent::Checkpoint(cp))]),
                            (rows, cursor, true),
                        ))
                    }
                }
            }
        })
        .flatten();
        Ok(events.boxed())
    }

    async fn read_report(
        &self,
        id: String,
        partition: Partition,
    ) -> connector_core::Result<BoxStream<'static, connector_core::Result<SourceEvent>>> {
        let report = self.client.run_report(&id).await?;
        let schema = Arc::new(report.schema);
        let mut changes = Vec::new();
        let mut records = Vec::with_capacity(report.rows.len());
        let mut events = Vec::new();
        for (n, row) in report.rows.into_iter().enumerate() {
            let mut values = Vec::with_capacity(row.len());
            let mut bad = None;
            for (field, cell) in schema.fields.iter().zip(&row) {
                match type_mapping::json::from_json(field, cell, &self.policy, &mut changes) {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        bad = Some(
                            connector_core::RecordError::new("CONVERSION", e.to_string())
                                .with_fields([field.name.clone()]),
                        );
                        break;
                    }
                }
            }
            match bad {
                None => records.push(Record::new(values).with_row(n as u64 + 1)),
                Some(error) => events.push(Ok(SourceEvent::Invalid(InvalidRecord {
                    stream: partition.stream.clone(),
                    origin: None,
                    raw: Some(serde_json::Value::from(row).to_string()),
                    error,
                }))),
            }
        }
        events.push(Ok(SourceEvent::Batch(RecordBatch::new(
            partition.stream.clone(),
            schema,
            records,
        ))));
        events.push(Ok(SourceEvent::Checkpoint(Checkpoint::new(
            &partition, None, None, true,
        ))));
        Ok(stream::iter(events).boxed())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn incremental_filters() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00.250Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let c = CursorValue::Timestamp(t);
        let q = SoqlQuery::parse("SELECT Id, SystemModstamp FROM Account").unwrap();
        assert_eq!(
            incremental_soql(&q, &c).unwrap(),
            "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > 2024-05-01T10:00:00Z"
        );
        let q = SoqlQuery::parse("SELECT Id FROM Account WHERE Name != null").unwrap();
        assert_eq!(
            incremental_soql(&q, &c).unwrap(),
            "SELECT Id FROM Account WHERE (Name != null) AND SystemModstamp > 2024-05-01T10:00:00Z"
        );
        let q = SoqlQuery::parse("SELECT Id FROM Account LIMIT 5").unwrap();
        assert!(incremental_soql(&q, &c).is_err());
    }
}
