use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use csv::{ByteRecord, ReaderBuilder, StringRecord, WriterBuilder};
use futures::stream::{self, BoxStream, StreamExt};
use type_mapping::text::{self, TextDialect};
use type_mapping::{ConversionPolicy, DataType, Field, Schema};

use super::plan_whole_file;
use super::{
    BlockingWriter, append_only, check_file, check_parent, io_error, require_insert,
    resume_position, stream_name, stream_path,
};
use crate::source::{Checkpoint, InvalidRecord, Partition, ReadRequest, SourceEvent};
use crate::{
    Catalog, ConnectorError, ErrorKind, Record, RecordBatch, RecordError, RecordId, RecordMeta,
    RecordOrigin, Result, Sink, SinkCapabilities, Source, StreamId, StreamInfo, StreamWriter,
    WriteAction, WriteMode, WriteReport,
};

const BUFFER: usize = 256 * 1024;

#[derive(Clone, Debug)]
struct CsvConfig {
    path: PathBuf,
    stream: StreamId,
    schema: Option<Arc<Schema>>,
    delimiter: u8,
    quote: u8,
    has_header: bool,
    policy: ConversionPolicy,
    parallelism: usize,
}

/// Reads a CSV file as one stream, typed by a schema.
///
/// With a schema, header columns are matched to fields by name (exact, then ignoring
/// ASCII case); a field missing from the header is a configuration error, and columns
/// without a field are ignored. Without a schema every column is a nullable `String`.
/// Rows with the wrong number of cells, invalid UTF-8 or values that do not fit their
/// field become invalid records naming the file and row.
///
/// ```no_run
/// use connector_core::file::CsvSource;
/// use connector_core::type_mapping::{DataType, Field, Schema};
///
/// let source = CsvSource::new("accounts.csv").with_schema(Schema::new(vec![
///     Field::new("Id", DataType::String).with_nullable(false),
///     Field::new("AnnualRevenue", DataType::decimal(18, 2)),
/// ]));
/// ```
#[derive(Clone, Debug)]
pub struct CsvSource {
    config: Arc<CsvConfig>,
}

impl CsvSource {
    /// A source reading `path`; the stream is named after the file's stem.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let stream = StreamId::new(stream_name(&path));
        Self {
            config: Arc::new(CsvConfig {
                path,
                stream,
                schema: None,
                delimiter: b',',
                quote: b'"',
                has_header: true,
                policy: ConversionPolicy::default(),
                parallelism: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            }),
        }
    }

    fn config_mut(&mut self) -> &mut CsvConfig {
        Arc::make_mut(&mut self.config)
    }

    /// Types the columns by `schema`.
    #[must_use]
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.config_mut().schema = Some(Arc::new(schema));
        self
    }

    /// Names the stream.
    #[must_use]
    pub fn with_stream_name(mut self, name: impl Into<String>) -> Self {
        self.config_mut().stream = StreamId::new(name);
        self
    }

    /// Sets the column delimiter (default `,`).
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.config_mut().delimiter = delimiter;
        self
    }

    /// Sets the quote character (default `"`).
    #[must_use]
    pub fn with_quote(mut self, quote: u8) -> Self {
        self.config_mut().quote = quote;
        self
    }

    /// Whether the first row is a header (default `true`). Without a header, schema
    /// fields are matched to columns by position.
    #[must_use]
    pub fn with_header(mut self, has_header: bool) -> Self {
        self.config_mut().has_header = has_header;
        self
    }

    /// Sets the conversion policy (strict by default).
    #[must_use]
    pub fn with_policy(mut self, policy: ConversionPolicy) -> Self {
        self.config_mut().policy = policy;
        self
    }

    /// How many chunks of rows are converted to typed values at once, on blocking
    /// threads (default: the number of cores, at most 4). One thread always tokenizes
    /// the file; events keep file order whatever this is.
    #[must_use]
    pub fn with_parallelism(mut self, parallelism: usize) -> Self {
        self.config_mut().parallelism = parallelism.max(1);
        self
    }

    async fn stream_info(&self) -> Result<StreamInfo> {
        let schema = match &self.config.schema {
            Some(schema) => schema.clone(),
            None => {
                let config = self.config.clone();
                tokio::task::spawn_blocking(move || {
                    let mut reader = open_reader(&config)?;
                    let mut header = ByteRecord::new();
                    let read = reader
                        .read_byte_record(&mut header)
                        .map_err(|e| csv_error(e, &config.path))?;
                    Ok::<_, ConnectorError>(Arc::new(string_schema(
                        &config,
                        read.then_some(&header),
                    )))
                })
                .await
                .map_err(|e| {
                    ConnectorError::new(ErrorKind::Unexpected, "csv.discover", e.to_string())
                })??
            }
        };
        Ok(StreamInfo::new(self.config.stream.clone(), schema))
    }
}

fn open_reader(config: &CsvConfig) -> Result<csv::Reader<BufReader<File>>> {
    let file = File::open(&config.path).map_err(|e| io_error(e, &config.path, "csv.read"))?;
    Ok(ReaderBuilder::new()
        .delimiter(config.delimiter)
        .quote(config.quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(BUFFER, file)))
}

fn csv_error(e: csv::Error, path: &Path) -> ConnectorError {
    let row = e.position().map(|p| p.record() + 1);
    let mut err = match e.into_kind() {
        csv::ErrorKind::Io(io) => return io_error(io, path, "csv.read"),
        other => ConnectorError::new(ErrorKind::InvalidInput, "csv.read", format!("{other:?}")),
    };
    err = err.with_context("file", path.display().to_string());
    if let Some(row) = row {
        err = err.with_context("row", row.to_string());
    }
    err
}

/// Every column a nullable string, named by the header (or `column1`, ...).
fn string_schema(config: &CsvConfig, first: Option<&ByteRecord>) -> Schema {
    let Some(first) = first else {
        return Schema::default();
    };
    first
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = if config.has_header {
                String::from_utf8_lossy(name).into_owned()
            } else {
                format!("column{}", i + 1)
            };
            Field::new(name, DataType::String)
        })
        .collect()
}

/// For each schema field, the column it is read from.
fn resolve_columns(
    config: &CsvConfig,
    schema: &Schema,
    header: Option<&ByteRecord>,
) -> Result<Vec<usize>> {
    let Some(header) = header.filter(|_| config.has_header) else {
        return Ok((0..schema.len()).collect());
    };
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    schema
        .fields
        .iter()
        .map(|f| {
            names
                .iter()
                .position(|n| *n == f.name)
                .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(&f.name)))
                .ok_or_else(|| {
                    ConnectorError::config(
                        "csv.read",
                        format!(
                            "field `{}` of the schema is not a column of the file (columns: {})",
                            f.name,
                            names.join(", ")
                        ),
                    )
                    .with_context("file", config.path.display().to_string())
                })
        })
        .collect()
}

fn raw_text(record: &StringRecord, delimiter: u8) -> String {
    raw_bytes(record.as_byte_record(), delimiter)
}

fn raw_bytes(record: &ByteRecord, delimiter: u8) -> String {
    let mut raw = Vec::new();
    for (i, cell) in record.iter().enumerate() {
        if i > 0 {
            raw.push(delimiter);
        }
        raw.extend_from_slice(cell);
    }
    String::from_utf8_lossy(&raw).into_owned()
}

fn convert_row(
    schema: &Schema,
    columns: &[usize],
    width: usize,
    row: &StringRecord,
    policy: &ConversionPolicy,
) -> std::result::Result<Record, RecordError> {
    if width > 0 && row.len() != width {
        return Err(RecordError::new(
            "MALFORMED_ROW",
            format!("the row has {} cells; the header has {width}", row.len()),
        ));
    }
    let mut values = Vec::with_capacity(schema.len());
    let mut changes = Vec::new();
    for (field, &column) in schema.fields.iter().zip(columns) {
        // UTF-8 was checked once for the whole row when it was read.
        let cell = row.get(column).ok_or_else(|| {
            RecordError::new(
                "MALFORMED_ROW",
                format!("the row has no cell for field `{}`", field.name),
            )
            .with_fields([field.name.clone()])
        })?;
        let value = text::parse(field, cell, policy, &mut changes).map_err(|e| {
            RecordError::new("CONVERSION", e.to_string()).with_fields([field.name.clone()])
        })?;
        values.push(value);
    }
    Ok(Record {
        values,
        meta: RecordMeta { changes, row: None },
    })
}

/// What converting a chunk needs, fixed once the header is read.
#[derive(Debug)]
struct ChunkContext {
    stream: StreamId,
    location: Arc<str>,
    schema: Arc<Schema>,
    columns: Vec<usize>,
    width: usize,
    delimiter: u8,
    policy: ConversionPolicy,
}

/// Rows tokenized by the reader thread, waiting to be converted.
struct RawChunk {
    ctx: Arc<ChunkContext>,
    /// Reused buffers: only the first `len` hold this chunk's rows.
    rows: Vec<StringRecord>,
    len: usize,
    /// Rows that could not be tokenized, in file order.
    invalid: Vec<InvalidRecord>,
    /// Where a reader resumes after this chunk.
    resume: Option<serde_json::Value>,
    /// Whether this is the last chunk of the file.
    finished: bool,
}

/// Reads the file on a blocking thread: tokenizes and validates UTF-8 (once per row),
/// and hands chunks of rows over `tx`. Converting them is left to [`convert_chunk`],
/// which runs for several chunks at once.
fn tokenize(
    config: &CsvConfig,
    partition: &Partition,
    tx: &tokio::sync::mpsc::Sender<Result<RawChunk>>,
    recycled: &std::sync::mpsc::Receiver<Vec<StringRecord>>,
) -> Result<()> {
    let location: Arc<str> = Arc::from(config.path.display().to_string());
    let mut reader = open_reader(config)?;
    let mut first = ByteRecord::new();
    let has_first = reader
        .read_byte_record(&mut first)
        .map_err(|e| csv_error(e, &config.path))?;
    let header = (has_first && config.has_header).then(|| first.clone());
    let schema = match &config.schema {
        Some(s) => s.clone(),
        None => Arc::new(string_schema(config, has_first.then_some(&first))),
    };
    let ctx = Arc::new(ChunkContext {
        stream: config.stream.clone(),
        location: location.clone(),
        columns: resolve_columns(config, &schema, header.as_ref())?,
        schema,
        width: header.as_ref().map_or(0, ByteRecord::len),
        delimiter: config.delimiter,
        policy: config.policy.clone(),
    });
    // Without a header the first row read is data.
    let mut pending_first = (!config.has_header && has_first).then_some(first);
    if let Some((byte, line, record)) = resume_position(partition.resume.as_ref()) {
        let mut pos = csv::Position::new();
        pos.set_byte(byte).set_line(line).set_record(record);
        reader.seek(pos).map_err(|e| csv_error(e, &config.path))?;
        pending_first = None;
    }
    let batch_size = partition.batch_size.max(1);
    loop {
        let mut rows = recycled.try_recv().unwrap_or_default();
        rows.resize_with(batch_size, StringRecord::new);
        let mut len = 0;
        let mut invalid = Vec::new();
        let mut finished = false;
        while len < batch_size {
            let row = &mut rows[len];
            let read = match pending_first.take() {
                Some(bytes) => StringRecord::from_byte_record(bytes)
                    .map(|r| *row = r)
                    .map_err(|e| (Some(1), format!("not valid UTF-8: {}", e.utf8_error()))),
                None => match reader.read_record(row) {
                    Ok(true) => Ok(()),
                    Ok(false) => {
                        finished = true;
                        break;
                    }
                    Err(e) => Err(unreadable_row(e, header.as_ref(), &config.path)?),
                },
            };
            match read {
                Ok(()) => len += 1,
                // An unreadable row: report it and go on with the next.
                Err((row_no, message)) => invalid.push(InvalidRecord {
                    stream: config.stream.clone(),
                    origin: row_no.map(|row| RecordOrigin {
                        location: location.clone(),
                        row,
                    }),
                    raw: None,
                    error: RecordError::new("MALFORMED_ROW", message),
                }),
            }
        }
        let pos = reader.position();
        let resume = (!finished).then(|| {
            serde_json::json!({ "byte": pos.byte(), "line": pos.line(), "record": pos.record() })
        });
        let chunk = RawChunk {
            ctx: ctx.clone(),
            rows,
            len,
            invalid,
            resume,
            finished,
        };
        if tx.blocking_send(Ok(chunk)).is_err() || finished {
            return Ok(());
        }
    }
}

/// The row number and message of a row the CSV reader could not read; I/O errors stop
/// the read.
fn unreadable_row(
    e: csv::Error,
    header: Option<&ByteRecord>,
    path: &Path,
) -> Result<(Option<u64>, String)> {
    let row_no = e.position().map(|p| p.record() + 1);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header
                .and_then(|h| h.get(err.field()))
                .map(|name| String::from_utf8_lossy(name).into_owned())
                .unwrap_or_else(|| format!("column {}", err.field() + 1));
            format!("`{column}` is not valid UTF-8")
        }
        _ => {
            let err = csv_error(e, path);
            if err.kind() == ErrorKind::Io {
                return Err(err);
            }
            err.message().to_owned()
        }
    };
    Ok((row_no, message))
}

/// Converts a chunk into events: its unreadable rows, its batch, and the checkpoint
/// after it. Hands the row buffers back for reuse.
fn convert_chunk(
    chunk: RawChunk,
    partition: &Partition,
    recycle: &std::sync::mpsc::Sender<Vec<StringRecord>>,
) -> Vec<SourceEvent> {
    let RawChunk {
        ctx,
        rows,
        len,
        invalid,
        resume,
        finished,
    } = chunk;
    let mut events: Vec<SourceEvent> = invalid.into_iter().map(SourceEvent::Invalid).collect();
    let mut records = Vec::with_capacity(len);
    for row in &rows[..len] {
        let row_no = row.position().map_or(0, |p| p.record() + 1);
        match convert_row(&ctx.schema, &ctx.columns, ctx.width, row, &ctx.policy) {
            Ok(mut record) => {
                record.meta.row = Some(row_no);
                records.push(record);
            }
            Err(error) => events.push(SourceEvent::Invalid(InvalidRecord {
                stream: ctx.stream.clone(),
                origin: Some(RecordOrigin {
                    location: ctx.location.clone(),
                    row: row_no,
                }),
                raw: Some(raw_text(row, ctx.delimiter)),
                error,
            })),
        }
    }
    // The reader may have stopped; then the buffers are simply dropped.
    let _ = recycle.send(rows);
    if !records.is_empty() {
        let batch = RecordBatch::new(ctx.stream.clone(), ctx.schema.clone(), records)
            .with_location(ctx.location.clone());
        events.push(SourceEvent::Batch(batch));
    }
    events.push(SourceEvent::Checkpoint(Checkpoint::new(
        partition, None, resume, finished,
    )));
    events
}

/// Reads a partition: one blocking thread tokenizes, and up to `parallelism` chunks
/// are converted at once on blocking threads, their events kept in file order.
fn read_parallel(
    config: Arc<CsvConfig>,
    partition: Partition,
    parallelism: usize,
) -> BoxStream<'static, Result<SourceEvent>> {
    let start = async move {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RawChunk>>(parallelism);
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel();
        let reader_config = config.clone();
        let reader_partition = partition.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = tokenize(&reader_config, &reader_partition, &tx, &recycle_rx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        let partition = Arc::new(partition);
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
            .map(move |chunk| {
                let partition = partition.clone();
                let recycle = recycle_tx.clone();
                async move {
                    let chunk = chunk?;
                    tokio::task::spawn_blocking(move || convert_chunk(chunk, &partition, &recycle))
                        .await
                        .map_err(|e| {
                            ConnectorError::new(
                                ErrorKind::Unexpected,
                                "csv.read",
                                format!("conversion task failed: {e}"),
                            )
                        })
                }
            })
            .buffered(parallelism)
            .flat_map(|converted| match converted {
                Ok(events) => stream::iter(events.into_iter().map(Ok)).left_stream(),
                Err(e) => stream::once(async move { Err(e) }).right_stream(),
            })
    };
    stream::once(start).flatten().boxed()
}

#[async_trait]
impl Source for CsvSource {
    async fn check(&self) -> Result<()> {
        check_file(&self.config.path, "csv.check").await
    }

    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::new(vec![self.stream_info().await?]))
    }

    async fn plan(&self, req: &ReadRequest) -> Result<Vec<Partition>> {
        plan_whole_file(&self.config.stream, req, "csv.plan")
    }

    fn read(&self, partition: Partition) -> BoxStream<'static, Result<SourceEvent>> {
        read_parallel(self.config.clone(), partition, self.config.parallelism)
    }
}

/// Writes each stream to a CSV file with a header row.
///
/// Values are written in the chosen [`TextDialect`] (ISO 8601 by default; Salesforce's
/// and Zoho's date-time forms on request), nulls as an empty cell unless another null
/// text is set (Salesforce's `#N/A`). Quoting follows RFC 4180.
#[derive(Clone, Debug)]
pub struct CsvSink {
    path: PathBuf,
    delimiter: u8,
    dialect: TextDialect,
    null_text: String,
    header: bool,
}

impl CsvSink {
    /// A sink writing to `path` (which may contain `{stream}`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            delimiter: b',',
            dialect: TextDialect::Iso,
            null_text: String::new(),
            header: true,
        }
    }

    /// Sets the delimiter (default `,`).
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Sets the text dialect of dates, times and lists.
    #[must_use]
    pub fn with_dialect(mut self, dialect: TextDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sets the text written for null (default: an empty cell).
    #[must_use]
    pub fn with_null_text(mut self, null: impl Into<String>) -> Self {
        self.null_text = null.into();
        self
    }

    /// Whether to write a header row (default `true`).
    #[must_use]
    pub fn with_header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }
}

type CsvFileWriter = csv::Writer<BufWriter<File>>;

#[async_trait]
impl Sink for CsvSink {
    async fn check(&self) -> Result<()> {
        check_parent(&self.path, "csv.check").await
    }

    fn capabilities(&self) -> SinkCapabilities {
        append_only()
    }

    async fn open(&self, stream: &StreamInfo, mode: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        require_insert(mode, "csv.open", "CSV")?;
        let path = stream_path(&self.path, &stream.id);
        let header: Option<Vec<String>> = self
            .header
            .then(|| stream.schema.names().map(str::to_owned).collect());
        let delimiter = self.delimiter;
        let open_path = path.clone();
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<CsvFileWriter> {
            let file = File::create(&open_path)?;
            let mut writer = WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(BufWriter::with_capacity(BUFFER, file));
            if let Some(header) = header {
                writer.write_record(&header)?;
            }
            Ok(writer)
        })
        .await
        .map_err(|e| ConnectorError::new(ErrorKind::Unexpected, "csv.open", e.to_string()))?
        .map_err(|e| io_error(e, &path, "csv.open"))?;
        Ok(Box::new(CsvWriter {
            writer: BlockingWriter::new(writer, path, "csv.write"),
            dialect: self.dialect,
            null_text: Arc::from(self.null_text.as_str()),
        }))
    }
}

struct CsvWriter {
    writer: BlockingWriter<CsvFileWriter>,
    dialect: TextDialect,
    null_text: Arc<str>,
}

#[async_trait]
impl StreamWriter for CsvWriter {
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        let dialect = self.dialect;
        let null_text = self.null_text.clone();
        let rows = batch.len();
        self.writer
            .run(move |w| {
                let mut cell = String::new();
                for record in &batch.records {
                    for (field, value) in batch.schema.fields.iter().zip(&record.values) {
                        if value.is_null() {
                            w.write_field(null_text.as_bytes())?;
                        } else {
                            cell.clear();
                            text::format(value, &field.data_type, dialect, &mut cell);
                            w.write_field(cell.as_bytes())?;
                        }
                    }
                    w.write_record(None::<&[u8]>)?;
                }
                // Hand the rows to the OS before reporting them written.
                w.flush()
            })
            .await?;
        Ok(WriteReport::all_written(
            first_id,
            rows,
            WriteAction::Created,
        ))
    }

    async fn flush(&mut self) -> Result<WriteReport> {
        self.writer
            .run(|w| {
                w.flush()?;
                w.get_ref().get_ref().sync_data()
            })
            .await?;
        Ok(WriteReport::new())
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        self.flush()
            .await
            .map(|_| ())
            .map_err(|e| e.with_context("file", self.writer.path().display().to_string()))
    }
}
