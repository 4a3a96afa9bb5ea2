use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use type_mapping::{ConversionPolicy, DataType, Field, Schema, json};

use super::plan_whole_file;
use super::{
    BlockingWriter, EventSender, append_only, blocking_source, check_file, check_parent, io_error,
    require_insert, stream_name, stream_path,
};
use crate::source::{Checkpoint, InvalidRecord, Partition, ReadRequest, SourceEvent};
use crate::{
    Catalog, ConnectorError, ErrorKind, Record, RecordBatch, RecordError, RecordId, RecordMeta,
    RecordOrigin, Result, Sink, SinkCapabilities, Source, StreamId, StreamInfo, StreamWriter,
    WriteAction, WriteMode, WriteReport,
};

const BUFFER: usize = 256 * 1024;
/// Lines read to infer a schema when none is given.
const INFER_LINES: usize = 1_000;

#[derive(Clone, Debug)]
struct JsonlConfig {
    path: PathBuf,
    stream: StreamId,
    schema: Option<Arc<Schema>>,
    policy: ConversionPolicy,
}

/// Reads a JSON Lines file (one JSON object per line) as one stream.
///
/// With a schema, each field is read from the object's key of the same name (a missing
/// key is null; keys without a field are ignored). Without one, the schema is inferred
/// from the first 1,000 lines: a key whose values are all strings is a `String`, all
/// integers an `Int64`, all numbers a `Float64`, all booleans a `Boolean`, anything else
/// `Json`, so no key is dropped. A line that is not a JSON object, or a value that does
/// not fit its field, becomes an invalid record naming the file and line.
#[derive(Clone, Debug)]
pub struct JsonlSource {
    config: Arc<JsonlConfig>,
}

impl JsonlSource {
    /// A source reading `path`; the stream is named after the file's stem.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let stream = StreamId::new(stream_name(&path));
        Self {
            config: Arc::new(JsonlConfig {
                path,
                stream,
                schema: None,
                policy: ConversionPolicy::default(),
            }),
        }
    }

    /// Types the objects by `schema`.
    #[must_use]
    pub fn with_schema(mut self, schema: Schema) -> Self {
        Arc::make_mut(&mut self.config).schema = Some(Arc::new(schema));
        self
    }

    /// Names the stream.
    #[must_use]
    pub fn with_stream_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).stream = StreamId::new(name);
        self
    }

    /// Sets the conversion policy (strict by default).
    #[must_use]
    pub fn with_policy(mut self, policy: ConversionPolicy) -> Self {
        Arc::make_mut(&mut self.config).policy = policy;
        self
    }

    async fn schema(&self) -> Result<Arc<Schema>> {
        if let Some(schema) = &self.config.schema {
            return Ok(schema.clone());
        }
        let path = self.config.path.clone();
        tokio::task::spawn_blocking(move || infer_schema(&path).map(Arc::new))
            .await
            .map_err(|e| {
                ConnectorError::new(ErrorKind::Unexpected, "jsonl.discover", e.to_string())
            })?
    }
}

fn infer_schema(path: &Path) -> Result<Schema> {
    let file = File::open(path).map_err(|e| io_error(e, path, "jsonl.discover"))?;
    let mut fields: Vec<(String, Option<DataType>)> = Vec::new();
    for line in BufReader::new(file).lines().take(INFER_LINES) {
        let line = line.map_err(|e| io_error(e, path, "jsonl.discover"))?;
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&line)
        else {
            continue;
        };
        for (key, value) in map {
            let seen = match &value {
                serde_json::Value::Null => None,
                serde_json::Value::Bool(_) => Some(DataType::Boolean),
                serde_json::Value::Number(n) if n.is_i64() => Some(DataType::Int64),
                serde_json::Value::Number(_) => Some(DataType::Float64),
                serde_json::Value::String(_) => Some(DataType::String),
                _ => Some(DataType::Json),
            };
            match fields.iter_mut().find(|(k, _)| *k == key) {
                None => fields.push((key, seen)),
                Some((_, slot)) => {
                    *slot = match (slot.take(), seen) {
                        (None, t) | (t, None) => t,
                        (Some(a), Some(b)) if a == b => Some(a),
                        (Some(DataType::Int64), Some(DataType::Float64))
                        | (Some(DataType::Float64), Some(DataType::Int64)) => {
                            Some(DataType::Float64)
                        }
                        _ => Some(DataType::Json),
                    };
                }
            }
        }
    }
    Ok(fields
        .into_iter()
        .map(|(k, t)| Field::new(k, t.unwrap_or(DataType::Json)))
        .collect())
}

fn convert_line(
    schema: &Schema,
    line: &[u8],
    policy: &ConversionPolicy,
) -> std::result::Result<Record, RecordError> {
    let value: serde_json::Value = serde_json::from_slice(line)
        .map_err(|e| RecordError::new("MALFORMED_ROW", format!("not valid JSON: {e}")))?;
    let serde_json::Value::Object(object) = value else {
        return Err(RecordError::new(
            "MALFORMED_ROW",
            "the line is not a JSON object",
        ));
    };
    let mut values = Vec::with_capacity(schema.len());
    let mut changes = Vec::new();
    for field in &schema.fields {
        let v = object.get(&field.name).unwrap_or(&serde_json::Value::Null);
        let value = json::from_json(field, v, policy, &mut changes).map_err(|e| {
            RecordError::new("CONVERSION", e.to_string()).with_fields([field.name.clone()])
        })?;
        values.push(value);
    }
    Ok(Record {
        values,
        meta: RecordMeta { changes, row: None },
    })
}

fn read_jsonl(
    config: Arc<JsonlConfig>,
    schema: Arc<Schema>,
    partition: Partition,
    tx: EventSender,
) {
    if let Err(e) = read_jsonl_inner(&config, &schema, &partition, &tx) {
        tx.send(Err(e));
    }
}

fn read_jsonl_inner(
    config: &JsonlConfig,
    schema: &Arc<Schema>,
    partition: &Partition,
    tx: &EventSender,
) -> Result<()> {
    let location: Arc<str> = Arc::from(config.path.display().to_string());
    let file = File::open(&config.path).map_err(|e| io_error(e, &config.path, "jsonl.read"))?;
    let mut reader = BufReader::with_capacity(BUFFER, file);
    let (mut offset, mut line_no) = match partition.resume.as_ref() {
        Some(r) => (
            r.get("byte")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
            r.get("line")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
        ),
        None => (0, 0),
    };
    if offset > 0 {
        reader
            .seek(SeekFrom::Start(offset))
            .map_err(|e| io_error(e, &config.path, "jsonl.read"))?;
    }
    let batch_size = partition.batch_size.max(1);
    let mut records = Vec::with_capacity(batch_size);
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(e, &config.path, "jsonl.read"))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        line_no += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }

        match convert_line(schema, text, &config.policy) {
            Ok(mut record) => {
                record.meta.row = Some(line_no);
                records.push(record);
            }
            Err(error) => {
                let invalid = InvalidRecord {
                    stream: config.stream.clone(),
                    origin: Some(RecordOrigin {
                        location: location.clone(),
                        row: line_no,
                    }),
                    raw: Some(String::from_utf8_lossy(text).into_owned()),
                    error,
                };
                if !tx.send(Ok(SourceEvent::Invalid(invalid))) {
                    return Ok(());
                }
            }
        }
        if records.len() == batch_size {
            let batch = RecordBatch::new(
                config.stream.clone(),
                schema.clone(),
                std::mem::replace(&mut records, Vec::with_capacity(batch_size)),
            )
            .with_location(location.clone());
            let resume = serde_json::json!({ "byte": offset, "line": line_no });
            let checkpoint = Checkpoint::new(partition, None, Some(resume), false);
            if !tx.send(Ok(SourceEvent::Batch(batch)))
                || !tx.send(Ok(SourceEvent::Checkpoint(checkpoint)))
            {
                return Ok(());
            }
        }
    }
    if !records.is_empty()
        && !tx.send(Ok(SourceEvent::Batch(
            RecordBatch::new(config.stream.clone(), schema.clone(), records)
                .with_location(location.clone()),
        )))
    {
        return Ok(());
    }
    tx.send(Ok(SourceEvent::Checkpoint(Checkpoint::new(
        partition, None, None, true,
    ))));
    Ok(())
}

#[async_trait]
impl Source for JsonlSource {
    async fn check(&self) -> Result<()> {
        check_file(&self.config.path, "jsonl.check").await
    }

    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::new(vec![StreamInfo::new(
            self.config.stream.clone(),
            self.schema().await?,
        )]))
    }

    async fn plan(&self, req: &ReadRequest) -> Result<Vec<Partition>> {
        plan_whole_file(&self.config.stream, req, "jsonl.plan")
    }

    fn read(&self, partition: Partition) -> BoxStream<'static, Result<SourceEvent>> {
        let source = self.clone();
        let stream = futures::stream::once(async move {
            let schema = source.schema().await;
            (source, schema)
        });
        use futures::StreamExt;
        stream
            .flat_map(move |(source, schema)| match schema {
                Ok(schema) => {
                    let config = source.config.clone();
                    let partition = partition.clone();
                    blocking_source(move |tx| read_jsonl(config, schema, partition, tx))
                }
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .boxed()
    }
}

/// Writes each stream to a JSON Lines file: one object per record, keyed by field name,
/// typed as [`type_mapping::json::to_json`] writes values (exact decimals as strings).
#[derive(Clone, Debug)]
pub struct JsonlSink {
    path: PathBuf,
}

impl JsonlSink {
    /// A sink writing to `path` (which may contain `{stream}`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl Sink for JsonlSink {
    async fn check(&self) -> Result<()> {
        check_parent(&self.path, "jsonl.check").await
    }

    fn capabilities(&self) -> SinkCapabilities {
        append_only()
    }

    async fn open(&self, stream: &StreamInfo, mode: &WriteMode) -> Result<Box<dyn StreamWriter>> {
        require_insert(mode, "jsonl.open", "JSON Lines")?;
        let path = stream_path(&self.path, &stream.id);
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| io_error(e, &path, "jsonl.open"))?;
        let file = file.into_std().await;
        Ok(Box::new(JsonlWriter {
            writer: BlockingWriter::new(
                BufWriter::with_capacity(BUFFER, file),
                path,
                "jsonl.write",
            ),
        }))
    }
}

struct JsonlWriter {
    writer: BlockingWriter<BufWriter<File>>,
}

#[async_trait]
impl StreamWriter for JsonlWriter {
    async fn write(&mut self, first_id: RecordId, batch: Arc<RecordBatch>) -> Result<WriteReport> {
        let rows = batch.len();
        self.writer
            .run(move |w| {
                for record in &batch.records {
                    serde_json::to_writer(&mut *w, &record.to_json(&batch.schema))?;
                    w.write_all(b"\n")?;
                }
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
                w.get_ref().sync_data()
            })
            .await?;
        Ok(WriteReport::new())
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        self.flush().await.map(|_| ())
    }
}
