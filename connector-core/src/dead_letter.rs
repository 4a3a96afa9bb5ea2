//! Where rejected records go: a JSON Lines file or memory. Every rejected or malformed
//! record is written here with its error, so nothing is dropped silently.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::{ConnectorError, RecordError, RecordOrigin, Result, StreamId};

/// One dead-lettered record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterEntry {
    /// The stream it belongs to.
    pub stream: StreamId,
    /// Which side refused it: `source` (unreadable row) or `sink` (rejected by the
    /// target system).
    pub stage: DeadLetterStage,
    /// Where it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<RecordOrigin>,
    /// The record as JSON, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<serde_json::Value>,
    /// The raw text, when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Why.
    pub error: RecordError,
}

/// Which side refused a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterStage {
    /// The source could not read it.
    Source,
    /// The sink rejected it (a permanent content problem).
    Sink,
    /// The sink could not write it for a transient reason, after every retry. The
    /// state was not advanced past it, so an incremental run reads it again.
    SinkFailed,
}

/// A dead-letter output. Implement it to send rejects to a queue or a table.
#[async_trait]
pub trait DeadLetter: std::fmt::Debug + Send + Sync {
    /// Stores entries.
    async fn write(&self, entries: &[DeadLetterEntry]) -> Result<()>;
    /// Makes what was written durable.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
    /// Where entries go, for the report (a path, `memory`).
    fn location(&self) -> String;
}

/// Keeps dead-lettered entries in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryDeadLetter {
    entries: Arc<Mutex<Vec<DeadLetterEntry>>>,
}

impl MemoryDeadLetter {
    /// An empty output.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entries so far.
    pub fn entries(&self) -> Vec<DeadLetterEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl DeadLetter for MemoryDeadLetter {
    async fn write(&self, entries: &[DeadLetterEntry]) -> Result<()> {
        if let Ok(mut guard) = self.entries.lock() {
            guard.extend_from_slice(entries);
        }
        Ok(())
    }

    fn location(&self) -> String {
        "memory".to_owned()
    }
}

/// Appends entries to a JSON Lines file, one object per line.
#[derive(Debug)]
pub struct JsonlDeadLetter {
    path: PathBuf,
    file: tokio::sync::Mutex<Option<tokio::io::BufWriter<tokio::fs::File>>>,
}

impl JsonlDeadLetter {
    /// An output at `path`; the file is created (truncated) on the first entry, so a
    /// clean run leaves no file behind.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: tokio::sync::Mutex::new(None),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, e: std::io::Error) -> ConnectorError {
        ConnectorError::from(e)
            .with_operation("dead_letter.write")
            .with_context("file", self.path.display().to_string())
    }
}

#[async_trait]
impl DeadLetter for JsonlDeadLetter {
    async fn write(&self, entries: &[DeadLetterEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(entries.len() * 256);
        for entry in entries {
            serde_json::to_writer(&mut buf, entry).map_err(|e| {
                ConnectorError::new(
                    crate::ErrorKind::Unexpected,
                    "dead_letter.write",
                    e.to_string(),
                )
            })?;
            buf.push(b'\n');
        }
        let mut guard = self.file.lock().await;
        if guard.is_none() {
            let file = tokio::fs::File::create(&self.path)
                .await
                .map_err(|e| self.io_error(e))?;
            *guard = Some(tokio::io::BufWriter::new(file));
        }
        if let Some(file) = guard.as_mut() {
            file.write_all(&buf).await.map_err(|e| self.io_error(e))?;
        }
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        let mut guard = self.file.lock().await;
        if let Some(file) = guard.as_mut() {
            file.flush().await.map_err(|e| self.io_error(e))?;
        }
        Ok(())
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}
