//! Records and batches: what flows from a [`Source`](crate::Source) to a
//! [`Sink`](crate::Sink).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use type_mapping::{Change, Schema, Value};

/// Names a stream: a Salesforce object, a Zoho module, a SCIM resource type, a file.
/// (Airbyte's `StreamDescriptor`.)
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamId {
    /// An optional namespace (an org, a schema, a directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The stream's name.
    pub name: String,
}

impl StreamId {
    /// A stream without namespace.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            namespace: None,
            name: name.into(),
        }
    }

    /// Sets the namespace.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl From<&str> for StreamId {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

/// Where a record came from, for messages and dead-letter entries: a file and row, a
/// result page, a remote id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordOrigin {
    /// The file path, URL or job the record was read from.
    pub location: Arc<str>,
    /// The 1-based row or line number within `location` (the header is row 1 of a CSV
    /// file, so the first data row is row 2, as a spreadsheet shows it).
    pub row: u64,
}

impl fmt::Display for RecordOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.location, self.row)
    }
}

/// What the pipeline knows about a record beside its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordMeta {
    /// Changes a lenient conversion made to the record's values (Airbyte's
    /// `meta.changes`). Empty under the strict policy.
    pub changes: Vec<Change>,
    /// The record's 1-based row or line in its batch's
    /// [`location`](RecordBatch::location), when the source knows it.
    ///
    /// The location is kept once per batch rather than per record: a shared pointer
    /// per record would be cloned on the reading thread and dropped on the writing one,
    /// and that cache-line traffic alone cost a quarter of the CSV read time.
    pub row: Option<u64>,
}

/// One record: values aligned with its batch's schema.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The values, in schema order.
    pub values: Vec<Value>,
    /// Changes and origin.
    pub meta: RecordMeta,
}

impl Record {
    /// A record of the given values and no metadata.
    pub fn new(values: Vec<Value>) -> Self {
        Self {
            values,
            meta: RecordMeta::default(),
        }
    }

    /// The record with its row number set.
    #[must_use]
    pub fn with_row(mut self, row: u64) -> Self {
        self.meta.row = Some(row);
        self
    }

    /// The value of the field at `index`, or `Null` when out of range.
    pub fn get(&self, index: usize) -> &Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    /// The record as a JSON object keyed by field name, typed by `schema`
    /// (see [`type_mapping::json::to_json`]).
    pub fn to_json(&self, schema: &Schema) -> serde_json::Value {
        let mut map = serde_json::Map::with_capacity(schema.len());
        for (field, value) in schema.fields.iter().zip(&self.values) {
            map.insert(
                field.name.clone(),
                type_mapping::json::to_json(value, &field.data_type),
            );
        }
        serde_json::Value::Object(map)
    }
}

impl<V: Into<Value>> FromIterator<V> for Record {
    fn from_iter<T: IntoIterator<Item = V>>(iter: T) -> Self {
        Self::new(iter.into_iter().map(Into::into).collect())
    }
}

/// Records of one stream sharing one schema.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordBatch {
    /// The stream the records belong to.
    pub stream: StreamId,
    /// The schema every record follows.
    pub schema: Arc<Schema>,
    /// The records.
    pub records: Vec<Record>,
    /// The file path, URL or job every record of the batch was read from, if known;
    /// each record's [`RecordMeta::row`] is relative to it.
    pub location: Option<Arc<str>>,
}

impl RecordBatch {
    /// A batch.
    pub fn new(stream: StreamId, schema: Arc<Schema>, records: Vec<Record>) -> Self {
        Self {
            stream,
            schema,
            records,
            location: None,
        }
    }

    /// The batch with the location its records were read from.
    #[must_use]
    pub fn with_location(mut self, location: Arc<str>) -> Self {
        self.location = Some(location);
        self
    }

    /// Where record `index` was read from, when the source said.
    pub fn origin(&self, index: usize) -> Option<RecordOrigin> {
        let row = self.records.get(index)?.meta.row?;
        Some(RecordOrigin {
            location: self.location.clone()?,
            row,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The id the copy driver gives each record it hands a sink: consecutive within a
/// writer, starting at 0.
pub type RecordId = u64;
