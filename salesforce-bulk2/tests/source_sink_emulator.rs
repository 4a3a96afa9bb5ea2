//! The client, the Source and the Sink end to end against the emulator: query jobs,
//! paging, typed values, incremental reads, reports, ingest outcomes, faults and
//! Salesforce's errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly by design"
)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use connector_core::memory::MemorySink;
use connector_core::state::MemoryStateStore;
use connector_core::testkit::run_conformance_with_mode;
use connector_core::{
    CopyOptions, Record, RecordOutcome, StreamInfo, SyncMode, WriteAction, WriteMode, copy,
};
use futures::TryStreamExt;
use salesforce_bulk2::emulator::{
    Emulator, EmulatorConfig, Endpoint, Fault, ReportDefinition, RunningEmulator,
};
use salesforce_bulk2::ingest::{IngestOperation, IngestOptions};
use salesforce_bulk2::job::{JobInfo, LineEnding};
use salesforce_bulk2::query::{InvalidRow, QueryRequest, ResultOptions};
use salesforce_bulk2::sink::SalesforceSink;
use salesforce_bulk2::source::{Dataset, SalesforceSource};
use salesforce_bulk2::{ApiVersion, SalesforceClient, SalesforceError};
use serde_json::json;
use type_mapping::{ConversionPolicy, DataType, Field, Schema, Value};

async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.unwrap()
}

fn client(e: &RunningEmulator) -> SalesforceClient {
    client_builder(e).build().unwrap()
}

fn client_builder(e: &RunningEmulator) -> salesforce_bulk2::SalesforceClientBuilder {
    e.client_builder().retry(
        connector_core::retry::RetryPolicy::default().with_backoff(
            connector_core::retry::Backoff::default()
                .with_initial(Duration::from_millis(5))
                .with_max(Duration::from_millis(50)),
        ),
    )
}

/// Creates a query job and waits until it is complete.
async fn completed_job(c: &SalesforceClient, request: QueryRequest) -> JobInfo {
    let jobs = c.query_jobs();
    let job = jobs.create(&request).await.unwrap();
    jobs.wait(&job.id).await.unwrap()
}

/// Sets the Industry of the Accounts `ids` through an update ingest job.
async fn set_industry(c: &SalesforceClient, ids: &[String], industry: &str) -> Vec<RecordOutcome> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::String),
        Field::new("Industry", DataType::String),
    ]));
    let updates: Vec<Record> = ids
        .iter()
        .map(|id| {
            Record::new(vec![
                Value::String(id.clone()),
                Value::String(industry.into()),
            ])
        })
        .collect();
    c.ingest_jobs()
        .run(
            "Account",
            &IngestOperation::Update,
            schema,
            &updates,
            &IngestOptions::default(),
        )
        .await
        .unwrap()
}

/// Runs `soql` and returns its rows as text, keyed by column name.
async fn query_rows(
    c: &SalesforceClient,
    request: QueryRequest,
    options: ResultOptions,
) -> Vec<HashMap<String, String>> {
    let job = completed_job(c, request).await;
    let pages: Vec<_> = c
        .query_jobs()
        .raw_results(&job, options)
        .try_collect()
        .await
        .unwrap();
    pages
        .iter()
        .flat_map(|p| {
            p.rows.iter().map(|r| {
                p.columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned())
                    .collect::<HashMap<_, _>>()
            })
        })
        .collect()
}

fn accounts(e: &RunningEmulator) -> Vec<String> {
    e.insert_records(
        "Account",
        &[
            json!({"Name": "Acme, \"Inc\"", "Industry": "Energy", "AnnualRevenue": 5000000, "NumberOfEmployees": 120, "Active__c": true, "Customer_Since__c": "2020-02-29", "Account_Code__c": "ACME"}),
            json!({"Name": "Globex\nMulti-line", "Industry": "Retail", "AnnualRevenue": 250000, "NumberOfEmployees": 15, "Active__c": false, "Account_Code__c": "GLOBEX"}),
            json!({"Name": "Initech", "Industry": "Technology", "AnnualRevenue": 1200000, "NumberOfEmployees": 60, "Active__c": true, "Account_Code__c": "INITECH"}),
            json!({"Name": "Umbrella", "Industry": "Energy", "NumberOfEmployees": 9000, "Active__c": true, "Account_Code__c": "UMB"}),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_lists_where_and_limit_are_evaluated() {
    let e = emulator(EmulatorConfig::new()).await;
    accounts(&e);
    let c = client(&e);

    let rows = query_rows(
        &c,
        QueryRequest::new("SELECT Id, Name, Industry FROM Account"),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].len(), 3, "only the selected fields: {:?}", rows[0]);
    let names: HashSet<&str> = rows.iter().map(|r| r["Name"].as_str()).collect();
    assert!(names.contains("Acme, \"Inc\""), "{names:?}");
    assert!(names.contains("Globex\nMulti-line"), "{names:?}");

    let rows = query_rows(
        &c,
        QueryRequest::new(
            "SELECT Name FROM Account WHERE Industry = 'Energy' AND NumberOfEmployees > 1000",
        ),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Name"], "Umbrella");

    let rows = query_rows(
        &c,
        QueryRequest::new(
            "SELECT Name FROM Account WHERE Industry = 'Retail' OR AnnualRevenue >= 1200000 ORDER BY Name",
        ),
        ResultOptions::default(),
    )
    .await;
    let names: Vec<&str> = rows.iter().map(|r| r["Name"].as_str()).collect();
    assert_eq!(names, ["Acme, \"Inc\"", "Globex\nMulti-line", "Initech"]);

    let rows = query_rows(
        &c,
        QueryRequest::new("SELECT Id FROM Account LIMIT 2"),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(rows.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_all_includes_deleted_records() {
    let e = emulator(EmulatorConfig::new()).await;
    let ids = accounts(&e);
    let c = client(&e);
    let schema = Arc::new(Schema::new(vec![Field::new("Id", DataType::String)]));
    let records = vec![Record::new(vec![Value::String(ids[0].clone())])];
    let outcomes = c
        .ingest_jobs()
        .run(
            "Account",
            &IngestOperation::Delete,
            schema,
            &records,
            &IngestOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcomes[0], RecordOutcome::Written { .. }),
        "{outcomes:?}"
    );

    let live = query_rows(
        &c,
        QueryRequest::new("SELECT Id, IsDeleted FROM Account"),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(live.len(), 3);
    let all = query_rows(
        &c,
        QueryRequest::new("SELECT Id, IsDeleted FROM Account").include_deleted(true),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(all.len(), 4);
    let deleted: Vec<_> = all.iter().filter(|r| r["IsDeleted"] == "true").collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["Id"], ids[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locator_paging_and_parallel_pages_return_every_row_once_in_order() {
    let e = emulator(EmulatorConfig::new()).await;
    e.seed_records("Account", 2_345).unwrap();
    let expected: HashSet<String> = e
        .records("Account")
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 2_345);

    // One page after the other, then 4 at once through resultPages, then 4 at once on
    // an API version without resultPages (the locator chain read ahead); each in order,
    // then the two parallel reads as batches come.
    let mut first_order: Option<Vec<String>> = None;
    let v57 = Some(ApiVersion::new(57, 0));
    for (max_concurrent, version, in_order) in [
        (1, None, true),
        (4, None, true),
        (4, v57, true),
        (4, None, false),
        (4, v57, false),
    ] {
        let mut builder = client_builder(&e);
        if let Some(v) = version {
            builder = builder.api_version(v);
        }
        let c = builder.build().unwrap();
        e.reset_stats();
        let options = ResultOptions {
            max_records: Some(500),
            max_concurrent,
            // Several batches a page, so that pages read at once could interleave.
            batch_size: 100,
            in_order,
            ..ResultOptions::default()
        };
        let request = QueryRequest::new("SELECT Id, Name, Description FROM Account ORDER BY Name");
        let job = completed_job(&c, request).await;
        let batches: Vec<_> = c
            .query_jobs()
            .raw_results(&job, options)
            .try_collect()
            .await
            .unwrap();
        let case =
            format!("max_concurrent {max_concurrent}, version {version:?}, in order {in_order}");
        let rows: Vec<(&str, &str)> = batches
            .iter()
            .flat_map(|b| b.rows.iter().map(|r| (r[0].as_str(), r[1].as_str())))
            .collect();
        let ids: Vec<String> = rows.iter().map(|(id, _)| (*id).to_owned()).collect();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), 2_345, "{case}");
        assert_eq!(unique, expected, "{case}");
        if in_order {
            let names: Vec<&str> = rows.iter().map(|(_, name)| *name).collect();
            assert!(names.is_sorted(), "{case}: ORDER BY Name is kept");
            match &first_order {
                None => first_order = Some(ids),
                Some(order) => assert_eq!(&ids, order, "{case}: the same order"),
            }
        } else {
            // Each page's rows in order, whatever came between them.
            let mut by_page: HashMap<&str, Vec<&str>> = HashMap::new();
            for b in &batches {
                let names = by_page.entry(b.location.as_ref()).or_default();
                names.extend(b.rows.iter().map(|r| r[1].as_str()));
            }
            assert_eq!(by_page.len(), 5, "{case}: {:?}", by_page.keys());
            assert!(by_page.values().all(|names| names.is_sorted()), "{case}");
        }
        let stats = e.stats();
        assert_eq!(
            stats.count("GET", Endpoint::QueryResults),
            5,
            "{case}: 5 pages of at most 500: {stats:?}"
        );
        let listed = stats.count("GET", Endpoint::QueryResultPages);
        match (max_concurrent, version) {
            (1, _) | (_, Some(_)) => assert_eq!(listed, 0, "{case}: {stats:?}"),
            _ => assert!(listed >= 1, "{case}: {stats:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_refusing_result_pages_is_read_ahead_on_the_locator_chain() {
    let e = emulator(EmulatorConfig::new().result_pages_since(99)).await;
    e.seed_records("Account", 1_050).unwrap();
    let c = client(&e);
    let request = || QueryRequest::new("SELECT Id, Name FROM Account ORDER BY Name");
    let one_by_one = ResultOptions {
        max_records: Some(100),
        ..ResultOptions::default()
    };
    let expected = query_rows(&c, request(), one_by_one.clone()).await;
    e.reset_stats();
    let options = ResultOptions {
        max_concurrent: 3,
        batch_size: 30,
        ..one_by_one
    };
    let rows = query_rows(&c, request(), options).await;
    assert_eq!(rows.len(), 1_050);
    assert_eq!(rows, expected, "the same rows in the same order");
    let stats = e.stats();
    // Asked once, refused with 404, then 11 pages of at most 100 by locator.
    assert_eq!(
        stats.count("GET", Endpoint::QueryResultPages),
        1,
        "{stats:?}"
    );
    assert_eq!(stats.count("GET", Endpoint::QueryResults), 11, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_those_of_the_moment_the_job_ran() {
    let e = emulator(EmulatorConfig::new()).await;
    let ids = accounts(&e);
    let c = client(&e);
    let job = completed_job(&c, QueryRequest::new("SELECT Id, Industry FROM Account")).await;
    // After the job completed: every Industry changes and a record is added.
    let outcomes = set_industry(&c, &ids, "Banking").await;
    assert_eq!(outcomes.len(), ids.len());
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RecordOutcome::Written { .. })),
        "{outcomes:?}"
    );
    e.insert_records(
        "Account",
        &[json!({"Name": "Newcomer", "Industry": "Banking"})],
    )
    .unwrap();
    assert!(
        e.records("Account")
            .iter()
            .all(|r| r["Industry"] == "Banking")
    );

    let pages: Vec<_> = c
        .query_jobs()
        .raw_results(&job, ResultOptions::default())
        .try_collect()
        .await
        .unwrap();
    let industries: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(|r| r[1].as_str()))
        .collect();
    assert_eq!(industries.len(), ids.len(), "the new record is not in them");
    assert!(
        !industries.contains(&"Banking"),
        "the values the job read: {industries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_in_a_one_column_result_is_a_row_not_a_skipped_blank_line() {
    let e = emulator(EmulatorConfig::new()).await;
    accounts(&e);
    let c = client(&e);
    // Whole, then pages of 1 (a page that is only a null row) and of 2 (a null row at
    // a page's end), one page at a time and 2 at once.
    for line_ending in [LineEnding::Lf, LineEnding::Crlf] {
        for (max_records, max_concurrent) in [(None, 1), (Some(1), 1), (Some(2), 1), (Some(1), 2)] {
            let request = QueryRequest::new("SELECT Customer_Since__c FROM Account ORDER BY Name")
                .line_ending(line_ending);
            let options = ResultOptions {
                max_records,
                max_concurrent,
                ..ResultOptions::default()
            };
            let rows = query_rows(&c, request, options).await;
            let values: Vec<&str> = rows
                .iter()
                .map(|r| r["Customer_Since__c"].as_str())
                .collect();
            // Acme, Globex, Initech, Umbrella: only Acme has a date.
            assert_eq!(
                values,
                ["2020-02-29", "", "", ""],
                "{line_ending:?}, pages of {max_records:?}, {max_concurrent} at once"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parallel_read_dropped_midway_requests_no_further_pages() {
    let e = emulator(EmulatorConfig::new().page_latency(Duration::from_millis(50))).await;
    e.seed_records("Account", 2_000).unwrap();
    let c = client(&e);
    let schema = Arc::new(
        c.describe("Account")
            .await
            .unwrap()
            .schema()
            .project(&["Id", "Name"])
            .unwrap(),
    );
    let jobs = c.query_jobs();
    let job = completed_job(&c, QueryRequest::new("SELECT Id, Name FROM Account")).await;
    let options = ResultOptions {
        max_records: Some(100),
        max_concurrent: 2,
        batch_size: 10,
        ..ResultOptions::default()
    };
    e.reset_stats();
    let mut batches = jobs.records(&job, schema, ConversionPolicy::default(), options);
    let first = batches.try_next().await.unwrap().unwrap();
    assert!(!first.records.is_empty());
    drop(batches);
    let after_drop = e.stats().count("GET", Endpoint::QueryResults);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stats = e.stats();
    // 20 pages of 100; the two in flight may finish their request, no more starts.
    assert!(after_drop <= 2, "{stats:?}");
    assert_eq!(
        stats.count("GET", Endpoint::QueryResults),
        after_drop,
        "{stats:?}"
    );
    assert!(stats.records_returned() <= 200, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_typed_through_describe() {
    let e = emulator(EmulatorConfig::new()).await;
    accounts(&e);
    let c = client(&e);
    let describe = c.describe("Account").await.unwrap();
    let names = [
        "Id",
        "Name",
        "AnnualRevenue",
        "NumberOfEmployees",
        "Active__c",
        "Customer_Since__c",
        "CreatedDate",
    ];
    let schema = Arc::new(describe.schema().project(&names).unwrap());
    let jobs = c.query_jobs();
    let soql = format!(
        "SELECT {} FROM Account WHERE Account_Code__c = 'ACME'",
        names.join(", ")
    );
    let job = completed_job(&c, QueryRequest::new(soql)).await;
    let pages: Vec<_> = jobs
        .records(
            &job,
            schema.clone(),
            ConversionPolicy::default(),
            ResultOptions::default(),
        )
        .try_collect()
        .await
        .unwrap();
    let records: Vec<&Record> = pages.iter().flat_map(|p| &p.records).collect();
    assert!(pages.iter().all(|p| p.invalid.is_empty()), "{pages:?}");
    assert_eq!(records.len(), 1);
    let r = records[0];
    let at = |n: &str| r.get(schema.index_of(n).unwrap()).clone();
    assert_eq!(at("Name"), Value::String("Acme, \"Inc\"".into()));
    assert_eq!(
        at("AnnualRevenue"),
        Value::Decimal(rust_decimal::Decimal::from(5_000_000))
    );
    assert!(
        matches!(
            at("NumberOfEmployees"),
            Value::Int32(120) | Value::Int64(120)
        ),
        "{:?}",
        at("NumberOfEmployees")
    );
    assert_eq!(at("Active__c"), Value::Boolean(true));
    assert_eq!(
        at("Customer_Since__c"),
        Value::Date(chrono::NaiveDate::from_ymd_opt(2020, 2, 29).unwrap())
    );
    assert!(
        matches!(
            at("CreatedDate"),
            Value::DateTimeOffset(_) | Value::DateTime(_)
        ),
        "{:?}",
        at("CreatedDate")
    );
}

/// Every record and invalid row of `records`, and the same through `columns` (turned
/// into records), for one read.
async fn records_and_columns(
    c: &SalesforceClient,
    job: &JobInfo,
    schema: &Arc<Schema>,
    policy: &ConversionPolicy,
    options: &ResultOptions,
) -> [(Vec<Record>, Vec<InvalidRow>); 2] {
    let jobs = c.query_jobs();
    let batches: Vec<_> = jobs
        .records(job, schema.clone(), policy.clone(), options.clone())
        .try_collect()
        .await
        .unwrap();
    let by_records = (
        batches.iter().flat_map(|b| b.records.clone()).collect(),
        batches.iter().flat_map(|b| b.invalid.clone()).collect(),
    );
    let batches: Vec<_> = jobs
        .columns(job, schema.clone(), policy.clone(), options.clone())
        .try_collect()
        .await
        .unwrap();
    for b in &batches {
        assert!(Arc::ptr_eq(b.columns.schema(), schema));
        assert_eq!(b.columns.columns().len(), schema.len());
        assert!(b.columns.len() + b.invalid.len() <= options.batch_size + 500);
    }
    let by_columns = (
        batches.iter().flat_map(|b| b.records()).collect(),
        batches.iter().flat_map(|b| b.invalid.clone()).collect(),
    );
    [by_records, by_columns]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_hold_exactly_the_records_rows_and_invalid_rows() {
    let e = emulator(EmulatorConfig::new()).await;
    accounts(&e);
    e.seed_records("Account", 1_200).unwrap();
    let c = client(&e);
    let names = [
        "Id",
        "Name",
        "Industry",
        "AnnualRevenue",
        "NumberOfEmployees",
        "Active__c",
        "Customer_Since__c",
        "CreatedDate",
        "Description",
    ];
    let mut schema = c
        .describe("Account")
        .await
        .unwrap()
        .schema()
        .project(&names)
        .unwrap();
    // Narrower than the org's: some rows do not fit. 9,000 employees overflow an Int16
    // of their own (the seeded ones count up to 1,200 and fit), and only two
    // industries are allowed.
    let at = |s: &Schema, n: &str| s.index_of(n).unwrap();
    let employees = at(&schema, "NumberOfEmployees");
    schema.fields[employees].data_type = DataType::Int16;
    let industry = at(&schema, "Industry");
    schema.fields[industry].allowed_values = Some(vec!["Energy".into(), "Retail".into()]);
    let schema = Arc::new(schema);
    let soql = format!("SELECT {} FROM Account ORDER BY Name", names.join(", "));
    let job = completed_job(&c, QueryRequest::new(soql)).await;

    for policy in [ConversionPolicy::strict(), ConversionPolicy::lenient()] {
        for (max_concurrent, in_order) in [(1, true), (3, true), (3, false)] {
            let options = ResultOptions {
                max_records: Some(300),
                max_concurrent,
                batch_size: 70,
                in_order,
                ..ResultOptions::default()
            };
            let [mut by_records, mut by_columns] =
                records_and_columns(&c, &job, &schema, &policy, &options).await;
            let case = format!("{policy:?}, {max_concurrent} at once, in order {in_order}");
            if !in_order {
                // Pages interleave: compare as sets of rows, keyed by Id.
                let id = |r: &Record| r.values[0].as_str().unwrap_or_default().to_owned();
                by_records.0.sort_by_key(id);
                by_columns.0.sort_by_key(id);
                by_records.1.sort_by_key(|r| r.raw.clone());
                by_columns.1.sort_by_key(|r| r.raw.clone());
            }
            assert_eq!(by_columns, by_records, "{case}");
            let (records, invalid) = &by_records;
            assert_eq!(records.len() + invalid.len(), 1_204, "{case}");
            if policy.is_lenient() {
                // What does not fit is nulled, and says so.
                assert!(invalid.is_empty(), "{case}: {invalid:?}");
                let changed = records
                    .iter()
                    .filter(|r| !r.meta.changes.is_empty())
                    .count();
                assert!(changed > 100, "{case}: {changed}");
            } else {
                assert!(invalid.len() > 100, "{case}: {}", invalid.len());
                assert!(records.len() > 100, "{case}");
                assert!(
                    invalid.iter().all(|r| r.error.code == "CONVERSION"),
                    "{case}"
                );
            }
            assert!(records.iter().all(|r| r.meta.row.is_some()), "{case}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_reads_whole_then_only_what_changed() {
    let e = emulator(EmulatorConfig::new()).await;
    e.seed_records("Account", 1_200).unwrap();
    let c = client(&e);
    let source =
        SalesforceSource::object(c.clone(), "Account").with_result_options(ResultOptions {
            max_records: Some(400),
            ..ResultOptions::default()
        });
    let store = MemoryStateStore::new();
    let options = || {
        CopyOptions::new()
            .sync_mode(SyncMode::Incremental)
            .state_store(Arc::new(store.clone()))
    };
    let sink = MemorySink::new();
    let report = copy(&source, &sink, options()).await.unwrap();
    let t = report.totals();
    assert_eq!(
        (t.read, t.written, t.malformed),
        (1_200, 1_200, 0),
        "{report}"
    );
    let first_cursor = cursor_of(&store);

    // The cursor is compared at whole seconds: change records in a later second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let ids: Vec<String> = e
        .records("Account")
        .iter()
        .take(2)
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect();
    let outcomes = set_industry(&c, &ids, "Banking").await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RecordOutcome::Written { .. })),
        "{outcomes:?}"
    );
    let new_id = e
        .insert_records("Account", &[json!({"Name": "Newcomer"})])
        .unwrap();

    let again = MemorySink::new();
    let report = copy(&source, &again, options()).await.unwrap();
    let got = ids_in(&again);
    // Only the three changes, plus at most the records that shared the saved
    // cursor's very millisecond (read at least once, never missed).
    let at_cursor = |cursor: &str| {
        e.records("Account")
            .iter()
            .filter(|r| r["SystemModstamp"].as_str() == Some(cursor))
            .map(|r| r["Id"].as_str().unwrap().to_owned())
            .collect::<HashSet<String>>()
    };
    let changed: HashSet<String> = ids.iter().cloned().chain(new_id).collect();
    assert!(changed.is_subset(&got), "{changed:?} not all in {got:?}");
    let extra: HashSet<String> = got.difference(&changed).cloned().collect();
    assert!(
        extra.is_subset(&at_cursor(&first_cursor)),
        "{report}: {extra:?}"
    );
    assert!(extra.len() < 1_200, "{report}: the whole object came again");

    // Nothing changed since: nothing but the last cursor's millisecond.
    let second_cursor = cursor_of(&store);
    let third = MemorySink::new();
    let _ = copy(&source, &third, options()).await.unwrap();
    let got = ids_in(&third);
    assert!(got.is_subset(&at_cursor(&second_cursor)), "{got:?}");
    assert!(got.len() <= 3, "{got:?}");
}

fn cursor_of(store: &MemoryStateStore) -> String {
    match store.get().unwrap().streams["Account"]
        .cursor
        .clone()
        .unwrap()
    {
        connector_core::state::CursorValue::Timestamp(t) => {
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        }
        other => panic!("{other:?}"),
    }
}

fn ids_in(sink: &MemorySink) -> HashSet<String> {
    sink.records("Account")
        .iter()
        .map(|r| match r.get(0) {
            Value::String(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_read_through_the_source() {
    let e = emulator(EmulatorConfig::new()).await;
    accounts(&e);
    let report_id = e
        .add_report(
            ReportDefinition::new("Energy accounts", "Account", &["Name", "NumberOfEmployees"])
                .filter("Industry", "equals", "Energy"),
        )
        .unwrap();
    let c = client(&e);
    let result = c.run_report(&report_id).await.unwrap();
    assert!(result.all_data);
    assert_eq!(result.rows.len(), 2);

    let source = SalesforceSource::new(c, Dataset::Report(report_id.clone()));
    let sink = MemorySink::new();
    let report = copy(&source, &sink, CopyOptions::new()).await.unwrap();
    assert_eq!(report.totals().written, 2, "{report}");
    let rows = sink.records(&report_id);
    let text: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
    assert!(text.iter().any(|t| t.contains("Umbrella")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("Acme")), "{text:?}");
}

fn invoice_stream() -> StreamInfo {
    StreamInfo::new(
        "Invoice__c",
        Schema::new(vec![
            Field::new("External_Id__c", DataType::String).with_nullable(false),
            Field::new("Name", DataType::String),
            Field::new("Amount__c", DataType::decimal(16, 2)),
            Field::new("Paid__c", DataType::Boolean),
            Field::new("Issue_Date__c", DataType::Date),
        ]),
    )
    .with_primary_key(["External_Id__c"])
}

fn invoices(n: usize) -> Vec<Record> {
    let names = [
        "plain",
        "with, comma",
        "with \"quotes\"",
        "multi\nline",
        "ünïcödé ✓",
    ];
    (0..n)
        .map(|i| {
            Record::new(vec![
                Value::String(format!("INV-{i:05}")),
                Value::String(format!("{} {i}", names[i % names.len()])),
                Value::Decimal(rust_decimal::Decimal::new(i as i64 * 101, 2)),
                Value::Boolean(i % 2 == 0),
                chrono::NaiveDate::from_ymd_opt(2024, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                    .map_or(Value::Null, Value::Date),
            ])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_passes_the_conformance_kit_on_insert_and_upsert() {
    let e = emulator(EmulatorConfig::new()).await;
    let c = client(&e);
    let make = || {
        SalesforceSink::new(c.clone())
            .write_batch_size(70)
            .max_concurrent_connections(2)
    };
    let report =
        run_conformance_with_mode(make, invoice_stream(), invoices(150), WriteMode::Insert)
            .await
            .unwrap();
    assert_eq!(
        (report.written, report.rejected, report.failed),
        (150, 0, 0)
    );
    assert!(e.record_count("Invoice__c") >= 150);

    let e = emulator(EmulatorConfig::new()).await;
    let c = client(&e);
    let make = || {
        SalesforceSink::new(c.clone())
            .write_behavior(salesforce_bulk2::sink::WriteBehavior::Upsert)
            .write_batch_size(70)
    };
    let report = run_conformance_with_mode(
        make,
        invoice_stream(),
        invoices(150),
        WriteMode::Upsert {
            key: vec!["External_Id__c".into()],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (report.written, report.rejected, report.failed),
        (150, 0, 0)
    );
    // Upserts by external id: however many runs, one record per key.
    assert_eq!(e.record_count("Invoice__c"), 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_creates_then_updates_by_external_id() {
    let e = emulator(EmulatorConfig::new()).await;
    let c = client(&e);
    let stream = invoice_stream();
    let upsert = IngestOperation::Upsert {
        external_id_field_name: "External_Id__c".into(),
    };
    let schema = stream.schema.clone();
    let first = c
        .ingest_jobs()
        .run(
            "Invoice__c",
            &upsert,
            schema.clone(),
            &invoices(10),
            &IngestOptions::default(),
        )
        .await
        .unwrap();
    assert!(first.iter().all(|o| matches!(
        o,
        RecordOutcome::Written {
            action: WriteAction::Created,
            remote_id: Some(_)
        }
    )));
    let second = c
        .ingest_jobs()
        .run(
            "Invoice__c",
            &upsert,
            schema,
            &invoices(12),
            &IngestOptions::default(),
        )
        .await
        .unwrap();
    let updated = second
        .iter()
        .filter(|o| {
            matches!(
                o,
                RecordOutcome::Written {
                    action: WriteAction::Updated,
                    ..
                }
            )
        })
        .count();
    let created = second
        .iter()
        .filter(|o| {
            matches!(
                o,
                RecordOutcome::Written {
                    action: WriteAction::Created,
                    ..
                }
            )
        })
        .count();
    assert_eq!((updated, created), (10, 2), "{second:?}");
    assert_eq!(e.record_count("Invoice__c"), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_rejections_carry_salesforce_code_and_field() {
    let e = emulator(EmulatorConfig::new()).await;
    e.insert_records(
        "Account",
        &[json!({"Name": "Existing", "Account_Code__c": "TAKEN"})],
    )
    .unwrap();
    let c = client(&e);
    let schema = Arc::new(Schema::new(vec![
        Field::new("Name", DataType::String),
        Field::new("Account_Code__c", DataType::String),
        Field::new("Website", DataType::String),
        Field::new("Type", DataType::String),
        Field::new("NumberOfEmployees", DataType::String),
    ]));
    let row = |name: Option<&str>, code: &str, employees: &str| {
        Record::new(vec![
            name.map_or(Value::Null, |n| Value::String(n.into())),
            Value::String(code.into()),
            Value::String("https://example.com".into()),
            Value::String("Partner".into()),
            Value::String(employees.into()),
        ])
    };
    let records = vec![
        row(Some("Good one"), "OK1", "10"),
        row(None, "NONAME", "10"),
        row(Some("Bad number"), "BADNUM", "lots"),
        row(Some("Duplicate"), "TAKEN", "3"),
        row(Some("Good two"), "OK2", "20"),
    ];
    let outcomes = c
        .ingest_jobs()
        .run(
            "Account",
            &IngestOperation::Insert,
            schema,
            &records,
            &IngestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 5);
    assert!(matches!(
        outcomes[0],
        RecordOutcome::Written {
            action: WriteAction::Created,
            ..
        }
    ));
    assert!(matches!(
        outcomes[4],
        RecordOutcome::Written {
            action: WriteAction::Created,
            ..
        }
    ));
    let rejected = |i: usize| match &outcomes[i] {
        RecordOutcome::Rejected { error } => error.clone(),
        other => panic!("row {i}: {other:?}"),
    };
    let missing = rejected(1);
    assert_eq!(missing.code, "REQUIRED_FIELD_MISSING", "{missing:?}");
    assert_eq!(missing.fields, ["Name"], "{missing:?}");
    let bad = rejected(2);
    assert_eq!(bad.code, "INVALID_TYPE_ON_FIELD_IN_RECORD", "{bad:?}");
    assert_eq!(bad.fields, ["NumberOfEmployees"], "{bad:?}");
    let duplicate = rejected(3);
    assert_eq!(duplicate.code, "DUPLICATE_VALUE", "{duplicate:?}");
    assert!(
        duplicate.message.contains("Account_Code__c"),
        "{duplicate:?}"
    );
    assert_eq!(e.record_count("Account"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_leaves_rows_failed_or_is_a_typed_error() {
    let e = emulator(EmulatorConfig::new()).await;
    let c = client(&e);
    let stream = invoice_stream();

    // An ingest job that ends Failed: its unprocessed rows are Failed outcomes.
    e.faults().fail_next_jobs(1);
    let outcomes = c
        .ingest_jobs()
        .run(
            "Invoice__c",
            &IngestOperation::Insert,
            stream.schema.clone(),
            &invoices(5),
            &IngestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 5);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RecordOutcome::Failed { .. })),
        "{outcomes:?}"
    );
    assert_eq!(e.record_count("Invoice__c"), 0);

    // A query job that ends Failed: a typed error with its state and message.
    e.faults().fail_next_jobs(1);
    let jobs = c.query_jobs();
    let job = jobs
        .create(&QueryRequest::new("SELECT Id FROM Account"))
        .await
        .unwrap();
    match jobs.wait(&job.id).await {
        Err(SalesforceError::Job { state, message, .. }) => {
            assert_eq!(state, "Failed");
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_server_errors_and_expired_tokens_are_survived() {
    let e = emulator(EmulatorConfig::new()).await;
    e.seed_records("Account", 300).unwrap();
    let c = client(&e);
    // Authenticate first, so later token requests are re-authentications.
    c.limits().await.unwrap();

    e.faults()
        .inject(Fault::rate_limited(1).times(1).on_path("/jobs/query"));
    e.faults()
        .inject(Fault::server_error(503).times(2).on_path("/results"));
    let rows = query_rows(
        &c,
        QueryRequest::new("SELECT Id FROM Account"),
        ResultOptions {
            max_records: Some(100),
            ..ResultOptions::default()
        },
    )
    .await;
    assert_eq!(rows.len(), 300);
    assert_eq!(e.faults().pending(), 0, "every fault was hit");

    let tokens_before = e.stats().count("POST", Endpoint::Token);
    e.faults().expire_tokens();
    let rows = query_rows(
        &c,
        QueryRequest::new("SELECT Id FROM Account"),
        ResultOptions::default(),
    )
    .await;
    assert_eq!(rows.len(), 300);
    assert_eq!(
        e.stats().count("POST", Endpoint::Token),
        tokens_before + 1,
        "re-authenticated exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_body_cut_off_midway_is_fetched_again_without_duplicates() {
    // One page at a time, 3 at once through resultPages, 3 at once reading the
    // locator chain ahead (v57): each the same rows in the same order.
    let mut first_order: Option<Vec<String>> = None;
    for (max_concurrent, version) in [(1, None), (3, None), (3, Some(ApiVersion::new(57, 0)))] {
        let case = format!("max_concurrent {max_concurrent}, version {version:?}");
        let e = emulator(EmulatorConfig::new()).await;
        e.seed_records("Account", 1_000).unwrap();
        let mut builder = client_builder(&e);
        if let Some(v) = version {
            builder = builder.api_version(v);
        }
        let c = builder.build().unwrap();
        e.faults()
            .inject(Fault::drop_connection().times(2).on_path("/results"));
        let rows = query_rows(
            &c,
            QueryRequest::new("SELECT Id, Name, Description FROM Account ORDER BY Name"),
            ResultOptions {
                max_records: Some(300),
                batch_size: 50,
                max_concurrent,
                ..ResultOptions::default()
            },
        )
        .await;
        assert_eq!(e.faults().pending(), 0, "{case}: both cuts happened");
        let ids: Vec<String> = rows.iter().map(|r| r["Id"].clone()).collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), 1_000, "{case}");
        assert_eq!(unique.len(), 1_000, "{case}");
        // 4 pages of at most 300, two of them asked for twice.
        let stats = e.stats();
        assert_eq!(
            stats.count("GET", Endpoint::QueryResults),
            6,
            "{case}: {stats:?}"
        );
        match &first_order {
            None => first_order = Some(ids),
            Some(order) => assert_eq!(&ids, order, "{case}: the same order"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_objects_and_fields_carry_the_error_code() {
    let e = emulator(EmulatorConfig::new()).await;
    let c = client(&e);
    let jobs = c.query_jobs();
    let err = jobs
        .create(&QueryRequest::new("SELECT Id FROM Nope__c"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("INVALID_TYPE"), "{err}");
    assert_eq!(err.status(), Some(400), "{err}");
    let err = jobs
        .create(&QueryRequest::new("SELECT Id, Nope__c FROM Account"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("INVALID_FIELD"), "{err}");
    assert!(err.to_string().contains("Nope__c"), "{err}");
    let err = c.describe("Nope__c").await.unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"), "{err}");

    // The Source names the object in its error.
    let source = SalesforceSource::object(c.clone(), "Nope__c");
    let sink = MemorySink::new();
    let err = copy(&source, &sink, CopyOptions::new()).await.unwrap_err();
    assert!(err.to_string().contains("NOT_FOUND"), "{err}");

    // An ingest job with a field the object lacks ends Failed: every row Failed, with
    // Salesforce's message.
    let schema = Arc::new(Schema::new(vec![
        Field::new("Name", DataType::String),
        Field::new("Nope__c", DataType::String),
    ]));
    let records = vec![Record::new(vec![
        Value::String("x".into()),
        Value::String("y".into()),
    ])];
    let outcomes = c
        .ingest_jobs()
        .run(
            "Account",
            &IngestOperation::Insert,
            schema,
            &records,
            &IngestOptions::default(),
        )
        .await;
    match outcomes {
        Ok(o) => match &o[0] {
            RecordOutcome::Failed { error } | RecordOutcome::Rejected { error } => {
                assert!(error.message.contains("Nope__c"), "{error:?}");
            }
            other => panic!("{other:?}"),
        },
        Err(err) => assert!(err.to_string().contains("Nope__c"), "{err}"),
    }
}
