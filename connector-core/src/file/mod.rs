//! File endpoints: CSV ([`CsvSource`], [`CsvSink`]) and JSON Lines ([`JsonlSource`],
//! [`JsonlSink`]).
//!
//! Reading runs on a blocking thread that parses into batches and hands them over a
//! channel of two slots, so memory stays constant whatever the file size and the async
//! runtime never blocks. Writing formats each batch on a blocking thread too. A path
//! may contain `{stream}`, replaced by the stream's name, to write several streams.
//!
//! Rows that cannot be read (malformed CSV, invalid JSON, a value that does not fit
//! its field) become [`InvalidRecord`](crate::source::InvalidRecord)s naming the file
//! and row: the copy dead-letters and counts them, and goes on.

mod csv;
mod jsonl;

pub use self::csv::{CsvSink, CsvSource};
pub use self::jsonl::{JsonlSink, JsonlSource};

use std::path::{Path, PathBuf};

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use crate::source::SourceEvent;
use crate::{ConnectorError, ErrorKind, Result, StreamId};

/// Where a blocking reader sends its events.
pub(crate) struct EventSender(mpsc::Sender<Result<SourceEvent>>);

impl EventSender {
    /// Sends an event; `false` when the reader should stop (the stream was dropped).
    pub(crate) fn send(&self, event: Result<SourceEvent>) -> bool {
        self.0.blocking_send(event).is_ok()
    }
}

/// A stream whose events come from `read`, run on a blocking thread when the stream is
/// first polled.
pub(crate) fn blocking_source<F>(read: F) -> BoxStream<'static, Result<SourceEvent>>
where
    F: FnOnce(EventSender) + Send + 'static,
{
    enum State<F> {
        Start(F),
        Running(mpsc::Receiver<Result<SourceEvent>>),
    }
    stream::unfold(State::Start(read), |state| async move {
        let mut rx = match state {
            State::Start(read) => {
                let (tx, rx) = mpsc::channel(2);
                tokio::task::spawn_blocking(move || read(EventSender(tx)));
                rx
            }
            State::Running(rx) => rx,
        };
        rx.recv().await.map(|event| (event, State::Running(rx)))
    })
    .boxed()
}

/// A writer used from async code by moving it onto a blocking thread for each call.
pub(crate) struct BlockingWriter<W> {
    inner: Option<W>,
    path: PathBuf,
    operation: &'static str,
}

impl<W: Send + 'static> BlockingWriter<W> {
    pub(crate) fn new(inner: W, path: PathBuf, operation: &'static str) -> Self {
        Self {
            inner: Some(inner),
            path,
            operation,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer on a blocking thread.
    pub(crate) async fn run<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut W) -> std::io::Result<R> + Send + 'static,
    {
        let mut writer = self.inner.take().ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Io,
                self.operation,
                "the writer failed earlier and is closed",
            )
            .with_context("file", self.path.display().to_string())
        })?;
        let (writer, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut writer);
            (writer, result)
        })
        .await
        .map_err(|e| {
            ConnectorError::new(
                ErrorKind::Unexpected,
                self.operation,
                format!("writer task failed: {e}"),
            )
        })?;
        match result {
            Ok(r) => {
                self.inner = Some(writer);
                Ok(r)
            }
            Err(e) => Err(io_error(e, &self.path, self.operation)),
        }
    }
}

pub(crate) fn io_error(e: std::io::Error, path: &Path, operation: &'static str) -> ConnectorError {
    ConnectorError::from(e)
        .with_operation(operation)
        .with_context("file", path.display().to_string())
}

/// Replaces `{stream}` in a path template.
pub(crate) fn stream_path(template: &Path, stream: &StreamId) -> PathBuf {
    let t = template.to_string_lossy();
    if t.contains("{stream}") {
        PathBuf::from(t.replace("{stream}", &stream.name))
    } else {
        template.to_path_buf()
    }
}

/// A file sink's check: the directory its files go to exists.
pub(crate) async fn check_parent(path: &Path, operation: &'static str) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tokio::fs::metadata(parent)
        .await
        .map(|_| ())
        .map_err(|e| io_error(e, parent, operation))
}

/// A file source's check: the file exists.
pub(crate) async fn check_file(path: &Path, operation: &'static str) -> Result<()> {
    tokio::fs::metadata(path)
        .await
        .map(|_| ())
        .map_err(|e| io_error(e, path, operation))
}

/// What a file sink can do: append.
pub(crate) fn append_only() -> crate::SinkCapabilities {
    crate::SinkCapabilities {
        modes: vec![crate::WriteModeKind::Insert],
        max_batch_records: None,
        deferred_outcomes: false,
    }
}

/// Refuses any write mode but insert (append) for a file of kind `what`.
pub(crate) fn require_insert(
    mode: &crate::WriteMode,
    operation: &'static str,
    what: &str,
) -> Result<()> {
    if *mode == crate::WriteMode::Insert {
        Ok(())
    } else {
        Err(ConnectorError::config(
            operation,
            format!("a {what} file can only be appended to, not {mode:?}"),
        ))
    }
}

/// A file source's plan: its one stream, read whole.
pub(crate) fn plan_whole_file(
    stream: &StreamId,
    req: &crate::ReadRequest,
    operation: &'static str,
) -> Result<Vec<crate::Partition>> {
    if req.stream != *stream {
        return Err(ConnectorError::new(
            ErrorKind::NotFound,
            operation,
            format!("the file's stream is `{stream}`, not `{}`", req.stream),
        ));
    }
    Ok(vec![crate::Partition::whole(req)])
}

/// The stream name of a file: its stem.
pub(crate) fn stream_name(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "file".to_owned(), |s| s.to_string_lossy().into_owned())
}

/// The byte offset (and row) a reader resumes at, from a checkpoint.
pub(crate) fn resume_position(resume: Option<&serde_json::Value>) -> Option<(u64, u64, u64)> {
    let r = resume?;
    Some((
        r.get("byte")?.as_u64()?,
        r.get("line")?.as_u64()?,
        r.get("record")?.as_u64()?,
    ))
}
