//! Bulk API 2.0 query jobs: create (`query`, or `queryAll` to include deleted and
//! archived records), poll, abort, delete, list, and results streamed page by page.
//!
//! # Results
//!
//! Each page (`GET jobs/query/{id}/results?locator=..&maxRecords=..`) is parsed while
//! it downloads: the body's chunks go through an incremental CSV parser (quoted fields
//! with embedded newlines and quotes, every column delimiter, LF and CRLF, gzip with or
//! without `Content-Encoding`), and records are handed on in batches as soon as they are
//! complete. No page is ever held whole in memory. The header that starts every page is
//! checked: every page's must be the same.
//!
//! Rows come as text ([`QueryJobs::raw_results`]), as records of a schema
//! ([`QueryJobs::records`]: a [`Record`] of [`Value`](type_mapping::Value)s per row), or
//! as typed columns ([`QueryJobs::columns`]: each field's values in one buffer, see
//! [`type_mapping::columnar`]). Records and columns type values by the same rules and
//! give the same invalid rows; columns allocate nothing per value, and read a large
//! result about twice as fast.
//!
//! A page that fails midway (a dropped connection, a body shorter than its
//! `Sforce-NumberOfRecords`) is fetched again by its locator; the rows already handed
//! on are counted and skipped, so no row is lost or duplicated (locators stay valid
//! while the job exists, and a page's content does not change).
//!
//! With [`ResultOptions::max_concurrent`] above 1, up to that many pages download and
//! parse at once, each on a task of its own (so on as many cores), and their batches
//! are still handed on in the result's order: a query with `ORDER BY` keeps it
//! ([`ResultOptions::in_order`] `false` trades the order for throughput). On API
//! versions with `resultPages` (58.0 and later) the page URLs are listed first. Before
//! that, or when an org does not know `resultPages`, the locator chain is read ahead:
//! each page's `Sforce-Locator` arrives with its headers, so the next page is asked
//! for while the current one is still downloading.

use std::sync::Arc;

use connector_core::retry::Backoff;
use connector_core::{Record, RecordError};
use futures::stream::{self, BoxStream, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use type_mapping::columnar::{ColumnBatch, ColumnBatchBuilder};
use type_mapping::{ConversionError, ConversionPolicy, Schema};

use crate::client::{Call, SalesforceClient};
use crate::csv_stream::{CsvFeeder, Decoder, Span, cells};
use crate::error::{Result, SalesforceError};
use crate::job::{self, ColumnDelimiter, JobInfo, LineEnding};
use crate::soql::SoqlQuery;

/// `query`, or `queryAll` (deleted and merged records, archived tasks and events too:
/// Azure Data Factory's `includeDeletedObjects`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueryOperation {
    /// Live records only.
    #[default]
    Query,
    /// Deleted and archived records too.
    QueryAll,
}

impl QueryOperation {
    /// `query` or `queryAll`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::QueryAll => "queryAll",
        }
    }
}

/// A query job to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryRequest {
    /// The SOQL query.
    pub query: String,
    /// `query` or `queryAll`.
    pub operation: QueryOperation,
    /// The results' column delimiter.
    pub column_delimiter: ColumnDelimiter,
    /// The results' line ending.
    pub line_ending: LineEnding,
}

impl QueryRequest {
    /// A `query` job with comma-separated, LF-terminated results.
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            operation: QueryOperation::Query,
            column_delimiter: ColumnDelimiter::Comma,
            line_ending: LineEnding::Lf,
        }
    }

    /// Sets `queryAll` (true) or `query`.
    #[must_use]
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.operation = if yes {
            QueryOperation::QueryAll
        } else {
            QueryOperation::Query
        };
        self
    }

    /// Sets the column delimiter.
    #[must_use]
    pub fn column_delimiter(mut self, d: ColumnDelimiter) -> Self {
        self.column_delimiter = d;
        self
    }

    /// Sets the line ending.
    #[must_use]
    pub fn line_ending(mut self, l: LineEnding) -> Self {
        self.line_ending = l;
        self
    }
}

/// How results are downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultOptions {
    /// `maxRecords` per page (`None`: Salesforce's default).
    pub max_records: Option<u64>,
    /// Pages downloaded and parsed at once, each on a task of its own, their batches
    /// handed on in order (default 1: one page after the other, parsed on the
    /// consumer's task). Pages are listed through `resultPages` where the API version
    /// has it, else the locator chain is read ahead.
    pub max_concurrent: usize,
    /// Rows per batch handed on (default 10,000; a batch ends at the latest with its
    /// page... or grows by at most one network chunk beyond this).
    pub batch_size: usize,
    /// How many times in a row one page is fetched again after failing midway (default
    /// 5). A failure after new rows were handed on starts the count over: such a page
    /// is moving (a body left unread while the consumer is busy can time out).
    pub page_retries: u32,
    /// Asks for gzip pages (default true). Over the internet compression saves far more
    /// time than it costs; on loopback or a fast LAN, where both sides' CPU is the
    /// limit, `false` asks for plain pages (`Accept-Encoding: identity`).
    pub compression: bool,
    /// With `max_concurrent` above 1, hands batches on in the result's order (default
    /// true). Each page read at once runs at most two batches ahead of the consumer, so
    /// in order, the pages after the one being read soon wait for it. `false` hands on
    /// each page's batches as they are ready: batches of different pages interleave
    /// (each page's own stay in order, with their page in
    /// [`TypedRows::location`]), and reading at once pays off fully. Keep the default
    /// for a query with `ORDER BY`.
    pub in_order: bool,
}

impl Default for ResultOptions {
    fn default() -> Self {
        Self {
            max_records: None,
            max_concurrent: 1,
            batch_size: 10_000,
            page_retries: 5,
            compression: true,
            in_order: true,
        }
    }
}

/// Raw result rows: the columns and each row's cells as text (empty for null).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRows {
    /// The header.
    pub columns: Arc<[String]>,
    /// The rows.
    pub rows: Vec<Vec<String>>,
    /// The page they came from (`<job>/results?locator=..`).
    pub location: Arc<str>,
}

/// A row that could not be read into a typed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRow {
    /// The 1-based row within its page (the header is row 1).
    pub row: u64,
    /// The row's cells, joined by the delimiter.
    pub raw: String,
    /// Why, naming the field and the value.
    pub error: RecordError,
}

/// Typed result rows.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedRows {
    /// Records in the schema's order (each with its row in the page).
    pub records: Vec<Record>,
    /// Rows whose values do not fit the schema.
    pub invalid: Vec<InvalidRow>,
    /// The page they came from.
    pub location: Arc<str>,
}

/// Typed result rows, column by column: each field's values in one buffer (see
/// [`type_mapping::columnar`]), so that typing a row allocates nothing. The fastest
/// way to read a result; [`TypedColumns::records`] turns the rows into records.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedColumns {
    /// The rows that fit the schema, each with its row in the page
    /// ([`ColumnBatch::row_numbers`]).
    pub columns: ColumnBatch,
    /// Rows whose values do not fit the schema.
    pub invalid: Vec<InvalidRow>,
    /// The page they came from.
    pub location: Arc<str>,
}

impl TypedColumns {
    /// The rows as records, each with its row in the page and its lenient changes:
    /// the records [`QueryJobs::records`] hands on for the same rows.
    pub fn records(&self) -> Vec<Record> {
        let batch = &self.columns;
        let mut records: Vec<Record> = (0..batch.len())
            .map(|i| {
                let mut record = Record::new(batch.row(i).unwrap_or_default());
                record.meta.row = batch.row_numbers().get(i).copied();
                record
            })
            .collect();
        for (i, change) in batch.changes() {
            if let Some(record) = records.get_mut(*i) {
                record.meta.changes.push(change.clone());
            }
        }
        records
    }
}

/// Bulk API 2.0 query jobs of a client.
#[derive(Clone, Debug)]
pub struct QueryJobs {
    client: SalesforceClient,
}

#[derive(Deserialize)]
struct ResultPageList {
    #[serde(default, rename = "resultPages")]
    result_pages: Vec<ResultPage>,
    #[serde(default, rename = "nextRecordsUrl", alias = "nextRecordUrl")]
    next_records_url: Option<String>,
    #[serde(default)]
    done: Option<bool>,
}

#[derive(Deserialize)]
struct ResultPage {
    #[serde(rename = "resultUrl")]
    result_url: String,
}

impl SalesforceClient {
    /// Query jobs.
    pub fn query_jobs(&self) -> QueryJobs {
        QueryJobs {
            client: self.clone(),
        }
    }
}

impl QueryJobs {
    /// Creates a job after checking its SOQL (see [`crate::soql`]).
    pub async fn create(&self, request: &QueryRequest) -> Result<JobInfo> {
        SoqlQuery::parse(&request.query)?;
        let body = serde_json::json!({
            "operation": request.operation.as_str(),
            "query": request.query,
            "contentType": "CSV",
            "columnDelimiter": request.column_delimiter.as_str(),
            "lineEnding": request.line_ending.as_str(),
        });
        self.client
            .json(&Call::new(Method::POST, "jobs/query", "salesforce.create_query_job").json(&body))
            .await
    }

    /// A job's info.
    pub async fn get(&self, job_id: &str) -> Result<JobInfo> {
        self.client
            .json(&Call::new(
                Method::GET,
                format!("jobs/query/{job_id}"),
                "salesforce.get_query_job",
            ))
            .await
    }

    /// Polls until the job is `JobComplete` (backoff and timeout from the client's
    /// [`PollOptions`](crate::PollOptions)); `Failed`, `Aborted` and the timeout are
    /// [`SalesforceError::Job`].
    pub async fn wait(&self, job_id: &str) -> Result<JobInfo> {
        job::wait(&self.client, "query", job_id, "salesforce.wait_query_job").await
    }

    /// Aborts a job.
    pub async fn abort(&self, job_id: &str) -> Result<JobInfo> {
        self.client
            .json(
                &Call::new(
                    Method::PATCH,
                    format!("jobs/query/{job_id}"),
                    "salesforce.abort_query_job",
                )
                .json(&serde_json::json!({"state": "Aborted"})),
            )
            .await
    }

    /// Deletes a job and its results.
    pub async fn delete(&self, job_id: &str) -> Result<()> {
        self.client
            .empty(&Call::new(
                Method::DELETE,
                format!("jobs/query/{job_id}"),
                "salesforce.delete_query_job",
            ))
            .await
    }

    /// Every query job of the org, following `nextRecordsUrl`.
    pub async fn list(&self) -> Result<Vec<JobInfo>> {
        job::list(&self.client, "query", "salesforce.list_query_jobs").await
    }

    /// The results of a completed job as text rows.
    pub fn raw_results(
        &self,
        job: &JobInfo,
        options: ResultOptions,
    ) -> BoxStream<'static, Result<RawRows>> {
        let handler = RawHandler {
            shared: SharedHeader::default(),
            columns: None,
        };
        results(self.client.clone(), job, options, handler)
            .map(|chunk| {
                chunk.map(|c| RawRows {
                    columns: c.columns.unwrap_or_else(|| Arc::from(Vec::new())),
                    rows: c.rows,
                    location: c.location,
                })
            })
            .boxed()
    }

    /// The results of a completed job as records of `schema` (columns matched by name,
    /// exactly, then ignoring ASCII case; a schema field missing from the results is an
    /// error). Values are read with Salesforce's formats by
    /// [`type_mapping::text::parse`]; an empty cell is null.
    pub fn records(
        &self,
        job: &JobInfo,
        schema: Arc<Schema>,
        policy: ConversionPolicy,
        options: ResultOptions,
    ) -> BoxStream<'static, Result<TypedRows>> {
        let handler = TypedHandler(Typing::new(job, schema, policy));
        results(self.client.clone(), job, options, handler)
            .map(|chunk| {
                chunk.map(|c| TypedRows {
                    records: c.rows.records,
                    invalid: c.rows.invalid,
                    location: c.location,
                })
            })
            .boxed()
    }

    /// The results of a completed job typed by `schema`, column by column: the rows and
    /// checks of [`records`](Self::records), without an allocation per value. Each
    /// batch's [`TypedColumns::columns`] has one typed [`Column`](type_mapping::columnar::Column) per schema field.
    ///
    /// ```no_run
    /// # async fn run(client: salesforce_bulk2::SalesforceClient, job: salesforce_bulk2::job::JobInfo,
    /// #     schema: std::sync::Arc<type_mapping::Schema>) -> Result<(), salesforce_bulk2::SalesforceError> {
    /// use futures::TryStreamExt;
    /// use salesforce_bulk2::query::ResultOptions;
    /// use type_mapping::ConversionPolicy;
    /// use type_mapping::columnar::Column;
    ///
    /// let options = ResultOptions { max_concurrent: 4, ..ResultOptions::default() };
    /// let mut batches = client.query_jobs().columns(&job, schema, ConversionPolicy::default(), options);
    /// let mut revenue = rust_decimal::Decimal::ZERO;
    /// while let Some(batch) = batches.try_next().await? {
    ///     if let Some(Column::Decimal(values)) = batch.columns.column_by_name("AnnualRevenue") {
    ///         revenue += values.iter().flatten().sum::<rust_decimal::Decimal>();
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn columns(
        &self,
        job: &JobInfo,
        schema: Arc<Schema>,
        policy: ConversionPolicy,
        options: ResultOptions,
    ) -> BoxStream<'static, Result<TypedColumns>> {
        let capacity = options.batch_size.min(MAX_RESERVED_ROWS);
        let handler = ColumnsHandler {
            typing: Typing::new(job, schema.clone(), policy),
            capacity,
        };
        results(self.client.clone(), job, options, handler)
            .map(move |chunk| {
                chunk.map(|c| TypedColumns {
                    columns: c
                        .rows
                        .batch
                        .unwrap_or_else(|| ColumnBatch::empty(schema.clone())),
                    invalid: c.rows.invalid,
                    location: c.location,
                })
            })
            .boxed()
    }
}

/// Rows reserved up front in a batch's columns (a larger `batch_size` grows them).
const MAX_RESERVED_ROWS: usize = 100_000;

/// Typed rows of one chunk.
#[derive(Default)]
struct TypedOut {
    records: Vec<Record>,
    invalid: Vec<InvalidRow>,
}

/// What turns parsed rows into a chunk's rows.
trait RowHandler: Clone + Send + 'static {
    /// A chunk's rows.
    type Rows: Default + Send + 'static;
    /// A page's header: the first one sets the columns, later ones must match.
    fn header(&mut self, cells: &[&str]) -> Result<()>;
    /// Adds a data row (`None` when it is not UTF-8; `row` is 1-based in the page, the
    /// header being row 1) to `rows`.
    fn row(&mut self, cells: Option<&[&str]>, row: u64, rows: &mut Self::Rows);
    /// How many rows `rows` holds.
    fn len(rows: &Self::Rows) -> usize;
    /// Takes the rows of a chunk out of `rows`, leaving it ready for the next chunk.
    fn take(rows: &mut Self::Rows) -> Self::Rows {
        std::mem::take(rows)
    }
    /// The columns, once known.
    fn columns(&self) -> Option<Arc<[String]>>;
}

const RESULTS_OP: &str = "salesforce.query_results";

/// The header the results start with, shared by the handlers of every page (pages
/// read at once each have a copy of the handler): the first page read sets it, every
/// other page's must be the same.
#[derive(Clone, Default)]
struct SharedHeader(Arc<std::sync::OnceLock<Arc<[String]>>>);

impl SharedHeader {
    /// The header, set from `cells` when no page has set it yet; an error when `cells`
    /// differ from it.
    fn check(&self, cells: &[&str]) -> Result<Arc<[String]>> {
        let known = self
            .0
            .get_or_init(|| cells.iter().map(|s| (*s).to_owned()).collect());
        if known.len() != cells.len() || known.iter().zip(cells).any(|(a, b)| a != b) {
            return Err(SalesforceError::invalid_response(
                RESULTS_OP,
                format!("a page's header {cells:?} differs from the other pages' {known:?}"),
            ));
        }
        Ok(Arc::clone(known))
    }
}

#[derive(Clone)]
struct RawHandler {
    shared: SharedHeader,
    columns: Option<Arc<[String]>>,
}

impl RowHandler for RawHandler {
    type Rows = Vec<Vec<String>>;
    fn header(&mut self, cells: &[&str]) -> Result<()> {
        self.columns = Some(self.shared.check(cells)?);
        Ok(())
    }
    fn row(&mut self, cells: Option<&[&str]>, _row: u64, rows: &mut Self::Rows) {
        rows.push(
            cells
                .map(|c| c.iter().map(|s| (*s).to_owned()).collect())
                .unwrap_or_default(),
        );
    }
    fn len(rows: &Self::Rows) -> usize {
        rows.len()
    }
    fn columns(&self) -> Option<Arc<[String]>> {
        self.columns.clone()
    }
}

/// What typed handlers share: the schema, and the header's columns mapped to it.
#[derive(Clone)]
struct Typing {
    schema: Arc<Schema>,
    policy: ConversionPolicy,
    map: Option<Arc<[usize]>>,
    shared: SharedHeader,
    header: Option<Arc<[String]>>,
    delimiter: u8,
}

impl Typing {
    fn new(job: &JobInfo, schema: Arc<Schema>, policy: ConversionPolicy) -> Self {
        Self {
            schema,
            policy,
            map: None,
            shared: SharedHeader::default(),
            header: None,
            delimiter: ColumnDelimiter::from_name(job.column_delimiter.as_deref()).byte(),
        }
    }

    /// The row's cells joined by the delimiter, for an invalid row.
    fn raw(&self, cells: &[&str]) -> String {
        cells.join(&(self.delimiter as char).to_string())
    }

    /// The row's cells and the schema's column indexes in them, or why the row cannot
    /// be typed at all.
    fn check<'c>(
        &self,
        cells: Option<&'c [&'c str]>,
        row: u64,
    ) -> std::result::Result<(&'c [&'c str], &[usize]), InvalidRow> {
        let Some(cells) = cells else {
            return Err(InvalidRow {
                row,
                raw: String::new(),
                error: RecordError::new("MALFORMED_ROW", "the row is not valid UTF-8"),
            });
        };
        let Some(map) = &self.map else {
            return Err(InvalidRow {
                row,
                raw: self.raw(cells),
                error: RecordError::new("MALFORMED_ROW", "a row before the header"),
            });
        };
        if let Some(h) = &self.header
            && cells.len() != h.len()
        {
            return Err(InvalidRow {
                row,
                raw: self.raw(cells),
                error: RecordError::new(
                    "MALFORMED_ROW",
                    format!("{} cells where the header has {}", cells.len(), h.len()),
                ),
            });
        }
        Ok((cells, map))
    }

    /// An invalid row for a value that does not fit `field`.
    fn conversion(&self, cells: &[&str], row: u64, field: &str, e: &ConversionError) -> InvalidRow {
        InvalidRow {
            row,
            raw: self.raw(cells),
            error: RecordError::new("CONVERSION", e.to_string()).with_fields([field.to_owned()]),
        }
    }

    fn record(&self, cells: Option<&[&str]>, row: u64) -> std::result::Result<Record, InvalidRow> {
        let (cells, map) = self.check(cells, row)?;
        let mut values = Vec::with_capacity(map.len());
        let mut changes = Vec::new();
        for (field, &idx) in self.schema.fields.iter().zip(map.iter()) {
            let cell = cells.get(idx).copied().unwrap_or("");
            match type_mapping::text::parse(field, cell, &self.policy, &mut changes) {
                Ok(v) => values.push(v),
                Err(e) => return Err(self.conversion(cells, row, &field.name, &e)),
            }
        }
        let mut record = Record::new(values).with_row(row);
        record.meta.changes = changes;
        Ok(record)
    }

    fn header(&mut self, cells: &[&str]) -> Result<()> {
        let header = self.shared.check(cells)?;
        if self.map.is_some() {
            return Ok(());
        }
        let mut map = Vec::with_capacity(self.schema.len());
        for field in &self.schema.fields {
            let idx = cells
                .iter()
                .position(|c| *c == field.name)
                .or_else(|| {
                    cells
                        .iter()
                        .position(|c| c.eq_ignore_ascii_case(&field.name))
                })
                .ok_or_else(|| {
                    SalesforceError::invalid_response(
                        RESULTS_OP,
                        format!(
                            "the results have no column `{}` (columns: {cells:?})",
                            field.name
                        ),
                    )
                })?;
            map.push(idx);
        }
        self.map = Some(map.into());
        self.header = Some(header);
        Ok(())
    }
}

/// Rows as records.
#[derive(Clone)]
struct TypedHandler(Typing);

impl RowHandler for TypedHandler {
    type Rows = TypedOut;

    fn header(&mut self, cells: &[&str]) -> Result<()> {
        self.0.header(cells)
    }

    fn row(&mut self, cells: Option<&[&str]>, row: u64, rows: &mut Self::Rows) {
        match self.0.record(cells, row) {
            Ok(record) => rows.records.push(record),
            Err(invalid) => rows.invalid.push(invalid),
        }
    }

    fn len(rows: &Self::Rows) -> usize {
        rows.records.len() + rows.invalid.len()
    }

    fn columns(&self) -> Option<Arc<[String]>> {
        self.0.header.clone()
    }
}

/// Typed columns of one chunk.
#[derive(Default)]
struct ColumnsOut {
    /// Started at the page's first row that types, and kept from chunk to chunk (its
    /// text columns sized by the last chunk's).
    builder: Option<ColumnBatchBuilder>,
    /// A chunk's rows, once taken.
    batch: Option<ColumnBatch>,
    invalid: Vec<InvalidRow>,
}

/// Rows as typed columns.
#[derive(Clone)]
struct ColumnsHandler {
    typing: Typing,
    /// Rows each chunk's columns reserve.
    capacity: usize,
}

impl RowHandler for ColumnsHandler {
    type Rows = ColumnsOut;

    fn header(&mut self, cells: &[&str]) -> Result<()> {
        self.typing.header(cells)
    }

    fn row(&mut self, cells: Option<&[&str]>, row: u64, rows: &mut Self::Rows) {
        let t = &self.typing;
        let (cells, map) = match t.check(cells, row) {
            Ok(checked) => checked,
            Err(invalid) => return rows.invalid.push(invalid),
        };
        let builder = rows.builder.get_or_insert_with(|| {
            ColumnBatchBuilder::with_capacity(t.schema.clone(), t.policy.clone(), self.capacity)
        });
        let row_cells = map.iter().map(|&i| cells.get(i).copied().unwrap_or(""));
        if let Err(e) = builder.push_row(row_cells, row) {
            // The field the error names, or (for a struct's member) the field it is in.
            let field = t
                .schema
                .fields
                .iter()
                .find(|f| {
                    e.field == f.name
                        || e.field
                            .strip_prefix(f.name.as_str())
                            .is_some_and(|m| m.starts_with('.'))
                })
                .map_or(e.field.as_str(), |f| f.name.as_str());
            rows.invalid.push(t.conversion(cells, row, field, &e));
        }
    }

    fn len(rows: &Self::Rows) -> usize {
        rows.builder.as_ref().map_or(0, ColumnBatchBuilder::len) + rows.invalid.len()
    }

    fn take(rows: &mut Self::Rows) -> Self::Rows {
        ColumnsOut {
            builder: None,
            batch: rows.builder.as_mut().map(ColumnBatchBuilder::finish),
            invalid: std::mem::take(&mut rows.invalid),
        }
    }

    fn columns(&self) -> Option<Arc<[String]>> {
        self.typing.header.clone()
    }
}

/// Rows of one page (or part of one).
struct Chunk<T> {
    columns: Option<Arc<[String]>>,
    rows: T,
    location: Arc<str>,
}

fn results<H: RowHandler>(
    client: SalesforceClient,
    job: &JobInfo,
    options: ResultOptions,
    handler: H,
) -> BoxStream<'static, Result<Chunk<H::Rows>>> {
    let delimiter = ColumnDelimiter::from_name(job.column_delimiter.as_deref()).byte();
    let job_id = job.id.clone();
    let sequential = Pager::new(
        client.clone(),
        PageSource::Chain {
            path: format!("jobs/query/{job_id}/results"),
            locator: None,
            follow: true,
        },
        delimiter,
        options.clone(),
        handler.clone(),
    );
    if options.max_concurrent <= 1 {
        return sequential.into_stream();
    }
    // A channel's capacity and a semaphore's permits have a ceiling.
    let limit = options.max_concurrent.min(MAX_CONCURRENT_PAGES);
    let in_order = options.in_order;
    let location: Arc<str> = Arc::from(format!("jobs/query/{job_id}/results").as_str());
    // Started when first polled, not when the stream is made (no request before then,
    // and no runtime needed to build it).
    let chunks = stream::once(async move {
        // One task lists the pages in order and starts each on a task of its own; each
        // page's stream holds one of `limit` permits until it is read to its end or
        // dropped, so at most `limit` pages are started and not yet read, whether they
        // wait in the channel (in order) or are read at once (as they come).
        let pages = task_stream(limit, location, move |tx| async move {
            let pages = Pages {
                client,
                permits: Arc::new(tokio::sync::Semaphore::new(limit)),
                tx,
            };
            let mut chain = sequential;
            if chain.client.api_version() >= crate::ApiVersion::RESULT_PAGES {
                match pages.list_result_pages(&job_id, chain).await {
                    Some(fallback) => chain = fallback,
                    None => return,
                }
            }
            pages.read_ahead(chain).await;
        });
        let chunks = |page: Result<ChunkStream<H::Rows>>| match page {
            Ok(chunks) => chunks,
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        };
        if in_order {
            pages.flat_map(chunks).boxed()
        } else {
            pages.flat_map_unordered(Some(limit), chunks).boxed()
        }
    })
    .flatten();
    // The first error ends the results, as it does when reading one page at a time: a
    // consumer that went on would silently miss the failed page.
    chunks
        .scan(false, |failed, chunk| {
            let item = (!*failed).then(|| {
                *failed = chunk.is_err();
                chunk
            });
            futures::future::ready(item)
        })
        .boxed()
}

/// The most pages read at once.
const MAX_CONCURRENT_PAGES: usize = 256;

type ChunkStream<T> = BoxStream<'static, Result<Chunk<T>>>;

/// Starts pages, in result order, for [`results`].
struct Pages<H: RowHandler> {
    client: SalesforceClient,
    /// One per page being read.
    permits: Arc<tokio::sync::Semaphore>,
    tx: tokio::sync::mpsc::Sender<Result<ChunkStream<H::Rows>>>,
}

impl<H: RowHandler> Pages<H> {
    /// Room in the channel, then a permit: nothing is started for a consumer that is
    /// gone (`None`).
    async fn slot(
        &self,
    ) -> Option<(
        tokio::sync::mpsc::Permit<'_, Result<ChunkStream<H::Rows>>>,
        tokio::sync::OwnedSemaphorePermit,
    )> {
        let slot = self.tx.reserve().await.ok()?;
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        Some((slot, permit))
    }

    /// Starts `pager` on a task of its own once fewer than the limit of pages are
    /// started and not yet read; `false` when the consumer is gone.
    async fn start(&self, pager: Pager<H>) -> bool {
        let Some((slot, permit)) = self.slot().await else {
            return false;
        };
        slot.send(Ok(pager.spawn(permit)));
        true
    }

    /// Lists the pages through `resultPages` and starts them. Returns `chain` (the
    /// unopened locator chain) back when the org does not know `resultPages`.
    async fn list_result_pages(&self, job_id: &str, chain: Pager<H>) -> Option<Pager<H>> {
        let mut next = Some(format!("jobs/query/{job_id}/resultPages"));
        let mut is_first = true;
        while let Some(path) = next.take() {
            let mut call = Call::new(Method::GET, path.as_str(), "salesforce.query_result_pages");
            // The page size is asked for once; `nextRecordsUrl` carries it on.
            if is_first && let Some(n) = chain.options.max_records {
                call = call.query("maxRecords", n.to_string());
            }
            match self.client.json::<ResultPageList>(&call).await {
                Ok(list) => {
                    next = match list.next_records_url {
                        Some(n) if list.done != Some(true) && !n.is_empty() => Some(n),
                        _ => None,
                    };
                    for page in list.result_pages {
                        let pager = chain.sibling(PageSource::Single {
                            url: page.result_url,
                        });
                        if !self.start(pager).await {
                            return None;
                        }
                    }
                }
                Err(e) if is_first && matches!(e.status(), Some(400 | 404 | 405)) => {
                    tracing::debug!(error = %e, "resultPages unavailable; reading the locator chain ahead");
                    return Some(chain);
                }
                Err(e) => {
                    let _ = self.tx.send(Err(e)).await;
                    return None;
                }
            }
            is_first = false;
        }
        None
    }

    /// Reads the locator chain of `chain` ahead: opens a page, starts it, and opens the
    /// next as soon as the page's headers have named it.
    async fn read_ahead(&self, chain: Pager<H>) {
        let PageSource::Chain { path, locator, .. } = &chain.source else {
            return;
        };
        let mut locator = locator.clone();
        loop {
            let mut pager = chain.sibling(PageSource::Chain {
                path: path.clone(),
                locator: locator.clone(),
                follow: false,
            });
            // The permit is taken before the page is opened, so that no more than the
            // limit of connections are open.
            let Some((slot, permit)) = self.slot().await else {
                return;
            };
            if let Err(e) = pager.open_page().await {
                slot.send(Err(e));
                return;
            }
            let next = pager.page.as_ref().and_then(|p| p.next.clone());
            slot.send(Ok(pager.spawn(permit)));
            match next {
                Some(n) => locator = Some(n),
                None => return,
            }
        }
    }
}

/// Runs `produce` on a task of its own and hands on what it sends, in order, keeping
/// at most `capacity` items waiting. Dropping the stream aborts the task; a task that
/// stops without finishing (a panic) ends the stream with an error naming `location`,
/// never as if the results were complete.
fn task_stream<T, F, Fut>(
    capacity: usize,
    location: Arc<str>,
    produce: F,
) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let task = AbortOnDrop(tokio::spawn(produce(tx)));
    // The task comes first in the state: when the stream is dropped it is aborted
    // before the receiver closes, so it cannot see a free permit and start more work.
    stream::unfold(
        (Some(task), rx, location),
        |(mut task, mut rx, location)| async move {
            if let Some(item) = rx.recv().await {
                return Some((item, (task, rx, location)));
            }
            // The channel closed: the task ended, or did not finish.
            let mut handle = task.take()?;
            let joined = (&mut handle.0).await;
            let error = joined.err().map(|e| {
                SalesforceError::from(connector_core::ConnectorError::new(
                    connector_core::ErrorKind::Unexpected,
                    RESULTS_OP,
                    format!("the task reading the results at {location} stopped: {e}"),
                ))
            })?;
            Some((Err(error), (None, rx, location)))
        },
    )
    .boxed()
}

/// Aborts a task when dropped (a consumer that stops reading stops the download).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum PageSource {
    /// The page of the locator chain at `locator` (the first page when `None`), and the
    /// pages after it when `follow`.
    Chain {
        path: String,
        locator: Option<String>,
        follow: bool,
    },
    /// One page, by its `resultUrl`.
    Single { url: String },
}

impl PageSource {
    /// Where the page is, for messages and batches' `location`.
    fn location(&self) -> String {
        match self {
            Self::Chain { path, locator, .. } => {
                format!("{path}?locator={}", locator.as_deref().unwrap_or(""))
            }
            Self::Single { url } => url.clone(),
        }
    }
}

struct OpenPage {
    response: reqwest::Response,
    decoder: Decoder,
    feeder: CsvFeeder,
    next: Option<String>,
    expected: Option<u64>,
    /// Data rows parsed in this attempt.
    rows_seen: u64,
    header_seen: bool,
}

struct Pager<H: RowHandler> {
    client: SalesforceClient,
    source: PageSource,
    delimiter: u8,
    options: ResultOptions,
    handler: H,
    done: bool,
    page: Option<OpenPage>,
    /// Rows of the current page already handed on (skipped when it is fetched again).
    emitted_in_page: u64,
    /// `emitted_in_page` at the page's last failure.
    emitted_at_failure: u64,
    retries_left: u32,
    backoff: Backoff,
    out: H::Rows,
    location: Arc<str>,
    /// The cells of the row being handed on; kept empty between rows so its
    /// allocation serves every row.
    spare_cells: Vec<&'static str>,
}

impl<H: RowHandler> Pager<H> {
    fn new(
        client: SalesforceClient,
        source: PageSource,
        delimiter: u8,
        options: ResultOptions,
        handler: H,
    ) -> Self {
        let retries_left = options.page_retries;
        Self {
            client,
            source,
            delimiter,
            options,
            handler,
            done: false,
            page: None,
            emitted_in_page: 0,
            emitted_at_failure: 0,
            retries_left,
            backoff: Backoff::default(),
            out: H::Rows::default(),
            location: Arc::from(""),
            spare_cells: Vec::new(),
        }
    }

    /// The pager's chunks, parsed in the task that polls the stream.
    fn into_stream(self) -> BoxStream<'static, Result<Chunk<H::Rows>>> {
        stream::unfold(self, |mut pager| async move {
            let item = pager.next_chunk().await?;
            Some((item, pager))
        })
        .boxed()
    }

    /// A pager for another page of the same results.
    fn sibling(&self, source: PageSource) -> Self {
        Self::new(
            self.client.clone(),
            source,
            self.delimiter,
            self.options.clone(),
            self.handler.clone(),
        )
    }

    /// Starts parsing on a task of its own, so that pages read at once are parsed on as
    /// many cores (on a multi-threaded runtime). The returned stream holds `permit`
    /// until it is read to its end or dropped. At most two finished chunks wait for the
    /// consumer (one in the channel, one being sent); dropping the stream aborts the
    /// task.
    ///
    /// Only worth it for pages read in parallel: a record allocated on one thread and
    /// freed on another costs the allocator a lock, which made a lone page slower.
    fn spawn(self, permit: tokio::sync::OwnedSemaphorePermit) -> ChunkStream<H::Rows> {
        let location: Arc<str> = Arc::from(self.source.location().as_str());
        let chunks = task_stream(1, location, move |tx| async move {
            let mut pager = self;
            while let Some(item) = pager.next_chunk().await {
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
        stream::unfold((chunks, permit), |(mut chunks, permit)| async move {
            let item = chunks.next().await?;
            Some((item, (chunks, permit)))
        })
        .boxed()
    }

    /// Opens the current page, fetching it again after transient failures.
    async fn open_page(&mut self) -> Result<()> {
        loop {
            match self.open().await {
                Ok(page) => {
                    self.page = Some(page);
                    return Ok(());
                }
                Err(e) if e.is_transient() => {
                    if let Some(e) = self.retry_page(e).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn open(&mut self) -> Result<OpenPage> {
        let call = match &self.source {
            PageSource::Chain { path, locator, .. } => {
                let mut call = Call::new(Method::GET, path.as_str(), RESULTS_OP).accept("text/csv");
                if let Some(l) = locator {
                    call = call.query("locator", l.as_str());
                }
                if let Some(n) = self.options.max_records {
                    call = call.query("maxRecords", n.to_string());
                }
                call
            }
            PageSource::Single { url } => {
                Call::new(Method::GET, url.as_str(), RESULTS_OP).accept("text/csv")
            }
        };
        let location = self.source.location();
        let call = if self.options.compression {
            call
        } else {
            call.accept_encoding("identity")
        };
        let response = self.client.send(&call).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_owned())
        };
        let next = header("sforce-locator").filter(|l| !l.is_empty() && l != "null");
        let expected = header("sforce-numberofrecords").and_then(|n| n.parse().ok());
        self.location = Arc::from(location);
        Ok(OpenPage {
            response,
            decoder: Decoder::new(),
            feeder: CsvFeeder::new(self.delimiter),
            next,
            expected,
            rows_seen: 0,
            header_seen: false,
        })
    }

    /// Parses `bytes` of `page` into `self.out`.
    fn parse(&mut self, page: &mut OpenPage, bytes: &[u8], eof: bool) -> Result<()> {
        let skip = self.emitted_in_page;
        let handler = &mut self.handler;
        let out = &mut self.out;
        let emitted = &mut self.emitted_in_page;
        let spare = &mut self.spare_cells;
        let OpenPage {
            decoder,
            feeder,
            rows_seen,
            header_seen,
            ..
        } = page;
        let mut on_record = |b: &[u8], spans: &[Span]| -> Result<()> {
            // An empty vector of `&'static str` becomes one of this row's `&str` and
            // back, in place: one allocation serves every row.
            let mut scratch: Vec<&str> = std::mem::take(spare).into_iter().collect();
            let ok = cells(b, spans, &mut scratch);
            let result = if !*header_seen {
                *header_seen = true;
                if ok {
                    handler.header(&scratch)
                } else {
                    Err(SalesforceError::invalid_response(
                        RESULTS_OP,
                        "the header row is not UTF-8",
                    ))
                }
            } else {
                // A blank line is a row only in a one-column result (its value is
                // null); csv_stream hands it on as one empty cell.
                *rows_seen += 1;
                if *rows_seen > skip {
                    let row = *rows_seen + 1;
                    handler.row(ok.then_some(scratch.as_slice()), row, out);
                    *emitted += 1;
                }
                Ok(())
            };
            scratch.clear();
            *spare = scratch.into_iter().map(|_| "").collect();
            result
        };
        let mut err = None;
        let mut feed = |plain: &[u8]| -> std::result::Result<(), String> {
            if plain.is_empty() {
                return Ok(());
            }
            feeder.feed(plain, &mut on_record).map_err(|e| {
                let s = e.to_string();
                err = Some(e);
                s
            })
        };
        let decoded = if eof {
            decoder.finish(&mut feed)
        } else {
            decoder.push(bytes, &mut feed)
        };
        if let Some(e) = err {
            return Err(e);
        }
        if let Err(msg) = decoded {
            return Err(SalesforceError::invalid_response(RESULTS_OP, msg));
        }
        if eof {
            feeder.feed(&[], &mut on_record)?;
        }
        Ok(())
    }

    fn take_chunk(&mut self) -> Chunk<H::Rows> {
        Chunk {
            columns: self.handler.columns(),
            rows: H::take(&mut self.out),
            location: self.location.clone(),
        }
    }

    /// Decides whether a failed page is fetched again.
    async fn retry_page(&mut self, error: SalesforceError) -> Option<SalesforceError> {
        self.page = None;
        if self.emitted_in_page > self.emitted_at_failure {
            // Rows were handed on since the last failure: the page is moving, not failing
            // again and again (a body left unread while the consumer was busy can time
            // out), so its retries start over.
            self.emitted_at_failure = self.emitted_in_page;
            self.retries_left = self.options.page_retries;
            self.backoff.reset();
        }
        if self.retries_left == 0 {
            return Some(error);
        }
        self.retries_left -= 1;
        tracing::warn!(
            error = %error,
            emitted = self.emitted_in_page,
            "result page failed midway; fetching it again by its locator"
        );
        tokio::time::sleep(self.backoff.next_delay()).await;
        None
    }

    async fn next_chunk(&mut self) -> Option<Result<Chunk<H::Rows>>> {
        loop {
            if self.page.is_none() {
                if self.done {
                    return None;
                }
                if let Err(e) = self.open_page().await {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            let Some(mut page) = self.page.take() else {
                continue;
            };
            match page.response.chunk().await {
                Ok(Some(bytes)) => {
                    if let Err(e) = self.parse(&mut page, &bytes, false) {
                        self.done = true;
                        return Some(Err(e));
                    }
                    self.page = Some(page);
                    if H::len(&self.out) >= self.options.batch_size {
                        return Some(Ok(self.take_chunk()));
                    }
                }
                Ok(None) => {
                    if let Err(e) = self.parse(&mut page, &[], true) {
                        // A gzip stream that ends early is a page cut off: fetch it again.
                        let cut = matches!(&e, SalesforceError::InvalidResponse { message, .. } if message.starts_with("gzip"));
                        if !cut {
                            self.done = true;
                            return Some(Err(e));
                        }
                        if let Some(e) = self.retry_page(e).await {
                            self.done = true;
                            return Some(Err(e));
                        }
                        continue;
                    }
                    if let Some(expected) = page.expected
                        && page.rows_seen != expected
                    {
                        let e = SalesforceError::invalid_response(
                            RESULTS_OP,
                            format!(
                                "the page at {} was cut off: {} rows of the {} its Sforce-NumberOfRecords announced",
                                self.location, page.rows_seen, expected
                            ),
                        );
                        if let Some(e) = self.retry_page(e).await {
                            self.done = true;
                            return Some(Err(e));
                        }
                        continue;
                    }
                    // The page is complete.
                    self.emitted_in_page = 0;
                    self.emitted_at_failure = 0;
                    self.retries_left = self.options.page_retries;
                    self.backoff.reset();
                    match (&mut self.source, page.next) {
                        (
                            PageSource::Chain {
                                locator,
                                follow: true,
                                ..
                            },
                            Some(next),
                        ) => *locator = Some(next),
                        _ => self.done = true,
                    }
                    if H::len(&self.out) > 0 {
                        return Some(Ok(self.take_chunk()));
                    }
                }
                Err(e) => {
                    let e =
                        SalesforceError::from(connector_core::http::from_reqwest(e, RESULTS_OP));
                    if let Some(e) = self.retry_page(e).await {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}
