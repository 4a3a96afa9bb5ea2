//! Lookup: read the first row, or the first N rows, of a source's stream, for control
//! flow in an application (the counterpart of Azure Data Factory's Lookup activity).

use std::sync::Arc;

use futures::StreamExt;
use type_mapping::Schema;

use crate::source::{ReadRequest, Source, SourceEvent};
use crate::{ConnectorError, ErrorKind, Record, Result, StreamId};

/// The most rows a lookup returns (Azure Data Factory's Lookup limit).
pub const MAX_LOOKUP_ROWS: usize = 5_000;

/// What a lookup read.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupResult {
    /// The rows' schema.
    pub schema: Arc<Schema>,
    /// The rows, in source order.
    pub records: Vec<Record>,
    /// Whether the stream had more rows than were asked for.
    pub has_more: bool,
}

impl LookupResult {
    /// The rows as JSON objects keyed by field name.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.records
            .iter()
            .map(|r| r.to_json(&self.schema))
            .collect()
    }
}

/// Reads up to `max_rows` rows of `stream` and stops reading.
///
/// `max_rows` above [`MAX_LOOKUP_ROWS`] is a configuration error. A row the source
/// cannot read is an error naming it: a lookup feeds control flow and must not skip.
pub async fn lookup<S: Source + ?Sized>(
    source: &S,
    stream: impl Into<StreamId>,
    max_rows: usize,
) -> Result<LookupResult> {
    let stream = stream.into();
    if max_rows == 0 || max_rows > MAX_LOOKUP_ROWS {
        return Err(ConnectorError::config(
            "lookup",
            format!(
                "a lookup returns between 1 and {MAX_LOOKUP_ROWS} rows; {max_rows} were asked for"
            ),
        ));
    }
    let catalog = source.discover().await?;
    let info = catalog.stream(&stream).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::NotFound,
            "lookup",
            format!("the source has no stream `{stream}`"),
        )
        .with_context("streams", catalog.names().join(", "))
    })?;
    let req = ReadRequest::new(info.id.clone())
        .with_batch_size(max_rows.min(ReadRequest::DEFAULT_BATCH_SIZE) + 1);
    let mut schema = info.schema.clone();
    let mut records = Vec::new();
    for partition in source.plan(&req).await? {
        let mut events = source.read(partition);
        while let Some(event) = events.next().await {
            match event? {
                SourceEvent::Batch(batch) => {
                    schema = batch.schema.clone();
                    for record in batch.records {
                        if records.len() == max_rows {
                            return Ok(LookupResult {
                                schema,
                                records,
                                has_more: true,
                            });
                        }
                        records.push(record);
                    }
                }
                SourceEvent::Invalid(invalid) => {
                    let mut err = ConnectorError::new(
                        ErrorKind::InvalidInput,
                        "lookup",
                        format!("unreadable row: {}", invalid.error),
                    );
                    if let Some(origin) = invalid.origin {
                        err = err.with_context("row", origin.to_string());
                    }
                    return Err(err);
                }
                SourceEvent::Checkpoint(_) => {}
            }
        }
    }
    Ok(LookupResult {
        schema,
        records,
        has_more: false,
    })
}

/// Reads the first row of `stream`, or `None` when it is empty (`firstRowOnly`).
pub async fn lookup_first<S: Source + ?Sized>(
    source: &S,
    stream: impl Into<StreamId>,
) -> Result<Option<Record>> {
    Ok(lookup(source, stream, 1).await?.records.into_iter().next())
}

/// Reads every row of `stream`, which must have at most `bound` rows: more is an error
/// that says so, never a silently shortened list.
pub async fn lookup_all<S: Source + ?Sized>(
    source: &S,
    stream: impl Into<StreamId>,
    bound: usize,
) -> Result<LookupResult> {
    let stream = stream.into();
    let result = lookup(source, stream.clone(), bound).await?;
    if result.has_more {
        return Err(ConnectorError::new(
            ErrorKind::InvalidInput,
            "lookup",
            format!("stream `{stream}` has more than {bound} rows"),
        ));
    }
    Ok(result)
}
