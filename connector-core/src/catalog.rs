//! What a source offers: [`Catalog`], [`StreamInfo`], sync modes and cursors.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use type_mapping::Schema;

use crate::StreamId;

/// How a stream is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Everything, every time.
    #[default]
    FullRefresh,
    /// Only what changed since the saved state's cursor.
    Incremental,
}

/// The field a stream is read incrementally by (`SystemModstamp`, `Modified_Time`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CursorSpec {
    /// The cursor field's name.
    pub field: String,
    /// Whether the source decides the cursor (the caller cannot choose another).
    pub source_defined: bool,
}

/// One stream a source offers (Airbyte's `AirbyteStream`, Singer's `SCHEMA`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// The stream's name.
    pub id: StreamId,
    /// Its fields, in interim types.
    pub schema: Arc<Schema>,
    /// The fields that identify a record, if any.
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// The cursor for incremental reads, if the stream supports them.
    #[serde(default)]
    pub cursor: Option<CursorSpec>,
    /// The modes the stream can be read in.
    pub sync_modes: Vec<SyncMode>,
}

impl StreamInfo {
    /// A full-refresh-only stream with no key.
    pub fn new(id: impl Into<StreamId>, schema: impl Into<Arc<Schema>>) -> Self {
        Self {
            id: id.into(),
            schema: schema.into(),
            primary_key: Vec::new(),
            cursor: None,
            sync_modes: vec![SyncMode::FullRefresh],
        }
    }

    /// Sets the primary key.
    #[must_use]
    pub fn with_primary_key<I, S>(mut self, key: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.primary_key = key.into_iter().map(Into::into).collect();
        self
    }

    /// Makes the stream incremental by `field` (source-defined).
    #[must_use]
    pub fn with_cursor(mut self, field: impl Into<String>) -> Self {
        self.cursor = Some(CursorSpec {
            field: field.into(),
            source_defined: true,
        });
        if !self.sync_modes.contains(&SyncMode::Incremental) {
            self.sync_modes.push(SyncMode::Incremental);
        }
        self
    }

    /// Whether the stream can be read in `mode`.
    pub fn supports(&self, mode: SyncMode) -> bool {
        self.sync_modes.contains(&mode)
    }
}

/// Every stream a source offers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The streams.
    pub streams: Vec<StreamInfo>,
}

impl Catalog {
    /// A catalog of the given streams.
    pub fn new(streams: Vec<StreamInfo>) -> Self {
        Self { streams }
    }

    /// The stream with the given name (the namespace is ignored when `name` has none).
    pub fn stream(&self, id: &StreamId) -> Option<&StreamInfo> {
        self.streams.iter().find(|s| s.id == *id).or_else(|| {
            if id.namespace.is_none() {
                self.streams.iter().find(|s| s.id.name == id.name)
            } else {
                None
            }
        })
    }

    /// The streams' names, for error messages.
    pub fn names(&self) -> Vec<String> {
        self.streams.iter().map(|s| s.id.to_string()).collect()
    }
}
