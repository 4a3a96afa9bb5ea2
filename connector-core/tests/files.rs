//! CSV and JSON Lines endpoints: typed reads, bad rows dead-lettered with file and row,
//! round trips, resume.

use std::sync::Arc;

use connector_core::dead_letter::{DeadLetterStage, JsonlDeadLetter, MemoryDeadLetter};
use connector_core::file::{CsvSink, CsvSource, JsonlSink, JsonlSource};
use connector_core::memory::MemorySink;
use connector_core::type_mapping::{DataType, Field, Schema, Value};
use connector_core::{CopyOptions, ErrorKind, Source, copy, lookup, lookup_all, lookup_first};

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64).with_nullable(false),
        Field::new("name", DataType::String),
        Field::new("amount", DataType::decimal(10, 2)),
        Field::new("day", DataType::Date),
    ])
}

const CSV: &str = "id,name,amount,day\n\
1,Ada,10.50,2024-01-31\n\
2,\"Grace, \"\"Amazing\"\"\nHopper\",,2024-02-29\n\
3,Linus,1.005,2024-03-01\n\
4,Ken,7.00\n\
5,Dennis,8.00,2023-02-29\n\
6,Bjarne,9.99,2024-12-31\n";

#[tokio::test]
async fn csv_rows_that_do_not_fit_are_dead_lettered_with_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(&input, CSV).unwrap();
    let dead_path = dir.path().join("dead.jsonl");
    let source = CsvSource::new(&input).with_schema(schema());
    let sink = MemorySink::new();
    let options = CopyOptions::new().dead_letter(Arc::new(JsonlDeadLetter::new(&dead_path)));
    let report = copy(&source, &sink, options).await.unwrap();
    let t = report.totals();
    assert_eq!((t.read, t.written, t.malformed), (3, 3, 3), "{report}");
    assert_eq!(
        report.dead_letter.as_deref(),
        Some(dead_path.to_str().unwrap())
    );

    let rows = sink.records("people");
    assert_eq!(
        rows[1].values[1],
        Value::String("Grace, \"Amazing\"\nHopper".into())
    );
    assert_eq!(rows[1].values[2], Value::Null);
    assert_eq!(rows[0].values[2], Value::Decimal("10.50".parse().unwrap()));

    let dead: Vec<serde_json::Value> = std::fs::read_to_string(&dead_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead.len(), 3);
    let rows: Vec<u64> = dead
        .iter()
        .map(|d| d["origin"]["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, vec![4, 5, 6], "spreadsheet rows: the header is row 1");
    assert!(
        dead.iter()
            .all(|d| d["stage"] == "source" && d["origin"]["location"] == input.to_str().unwrap())
    );
    assert_eq!(dead[0]["error"]["code"], "CONVERSION");
    assert_eq!(dead[0]["error"]["fields"][0], "amount");
    assert!(
        dead[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1.005")
    );
    assert_eq!(dead[1]["error"]["code"], "MALFORMED_ROW");
    assert!(dead[1]["raw"].as_str().unwrap().starts_with("4,Ken"));
    assert_eq!(dead[2]["error"]["fields"][0], "day");
}

#[tokio::test]
async fn csv_to_jsonl_to_csv_round_trips_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(&input, CSV).unwrap();
    let jsonl = dir.path().join("{stream}.jsonl");
    let report = copy(
        &CsvSource::new(&input).with_schema(schema()),
        &JsonlSink::new(&jsonl),
        CopyOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.totals().written, 3);
    let text = std::fs::read_to_string(dir.path().join("people.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["amount"],
        serde_json::json!("10.50"),
        "decimals stay exact, as strings"
    );
    assert_eq!(first["day"], serde_json::json!("2024-01-31"));

    let back = dir.path().join("back.csv");
    let report = copy(
        &JsonlSource::new(dir.path().join("people.jsonl")).with_schema(schema()),
        &CsvSink::new(&back),
        CopyOptions::new(),
    )
    .await
    .unwrap();
    assert!(report.is_clean(), "{report}");
    let again = MemorySink::new();
    let report = copy(
        &CsvSource::new(&back)
            .with_schema(schema())
            .with_stream_name("people"),
        &again,
        CopyOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.totals().read, 3);
    let original = MemorySink::new();
    let _ = copy(
        &CsvSource::new(&input).with_schema(schema()),
        &original,
        CopyOptions::new(),
    )
    .await
    .unwrap();
    let strip =
        |rs: Vec<connector_core::Record>| rs.into_iter().map(|r| r.values).collect::<Vec<_>>();
    assert_eq!(
        strip(again.records("people")),
        strip(original.records("people"))
    );
}

#[tokio::test]
async fn jsonl_bad_lines_are_dead_lettered_and_schema_is_inferred() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.jsonl");
    std::fs::write(&input, "{\"id\": 1, \"ok\": true, \"n\": 1.5}\n\n{\"id\": 2, \"ok\": false}\nnot json\n[1,2]\n{\"id\": \"x\"}\n")
        .unwrap();
    let source = JsonlSource::new(&input);
    let catalog = source.discover().await.unwrap();
    let fields: Vec<(String, DataType)> = catalog.streams[0]
        .schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.data_type.clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("id".into(), DataType::Json),
            ("ok".into(), DataType::Boolean),
            ("n".into(), DataType::Float64)
        ],
        "id is an integer and a string: Json keeps both"
    );
    let typed = JsonlSource::new(&input).with_schema(Schema::new(vec![
        Field::new("id", DataType::Int64),
        Field::new("ok", DataType::Boolean),
    ]));
    let dead = MemoryDeadLetter::new();
    let report = copy(
        &typed,
        &MemorySink::new(),
        CopyOptions::new().dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    assert_eq!((report.totals().read, report.totals().malformed), (2, 3));
    let lines: Vec<u64> = dead
        .entries()
        .iter()
        .map(|e| e.origin.as_ref().unwrap().row)
        .collect();
    assert_eq!(lines, vec![4, 5, 6]);
    assert!(
        dead.entries()
            .iter()
            .all(|e| e.stage == DeadLetterStage::Source)
    );
    assert_eq!(dead.entries()[2].error.fields, vec!["id".to_string()]);
}

#[tokio::test]
async fn a_missing_file_or_column_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = CsvSource::new(dir.path().join("absent.csv")).with_schema(schema());
    let err = copy(&missing, &MemorySink::new(), CopyOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::NotFound);
    assert!(
        err.error
            .context_value("file")
            .unwrap()
            .ends_with("absent.csv")
    );

    let input = dir.path().join("people.csv");
    std::fs::write(&input, "id,name\n1,x\n").unwrap();
    let err = copy(
        &CsvSource::new(&input).with_schema(schema()),
        &MemorySink::new(),
        CopyOptions::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string().contains("field `amount`") && err.to_string().contains("columns: id, name"),
        "{err}"
    );
}

#[tokio::test]
async fn csv_reads_resume_from_a_checkpoint() {
    use connector_core::{Partition, ReadRequest, SourceEvent};
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("n.csv");
    let mut text = String::from("id,name,amount,day\n");
    for i in 0..25 {
        text.push_str(&format!("{i},\"line\nbreak {i}\",1.00,2024-01-01\n"));
    }
    std::fs::write(&input, text).unwrap();
    let source = CsvSource::new(&input).with_schema(schema());
    let req = ReadRequest::new("n").with_batch_size(10);
    let mut partition = Partition::whole(&req);
    let mut events = source.read(partition.clone());
    let mut resume = None;
    while let Some(event) = events.next().await {
        if let SourceEvent::Checkpoint(cp) = event.unwrap() {
            resume = cp.progress.resume;
            break;
        }
    }
    drop(events);
    partition.resume = resume;
    let mut ids = Vec::new();
    let mut events = source.read(partition);
    while let Some(event) = events.next().await {
        if let SourceEvent::Batch(b) = event.unwrap() {
            ids.extend(b.records.iter().filter_map(|r| r.get(0).as_i64()));
        }
    }
    assert_eq!(ids, (10..25).collect::<Vec<_>>());
}

#[tokio::test]
async fn lookup_returns_bounded_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "id,name,amount,day\n1,a,1.00,2024-01-01\n2,b,2.00,2024-01-02\n3,c,3.00,2024-01-03\n",
    )
    .unwrap();
    let source = CsvSource::new(&input).with_schema(schema());
    let first = lookup_first(&source, "people").await.unwrap().unwrap();
    assert_eq!(first.values[0], Value::Int64(1));
    let two = lookup(&source, "people", 2).await.unwrap();
    assert_eq!((two.records.len(), two.has_more), (2, true));
    let all = lookup(&source, "people", 3).await.unwrap();
    assert_eq!((all.records.len(), all.has_more), (3, false));
    let err = lookup_all(&source, "people", 2).await.unwrap_err();
    assert!(err.to_string().contains("more than 2 rows"), "{err}");
    let err = lookup(&source, "people", 10_000).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    std::fs::write(&input, "id,name,amount,day\nx,a,1.00,2024-01-01\n").unwrap();
    let err = lookup_first(&source, "people").await.unwrap_err();
    assert!(err.to_string().contains("people.csv:2"), "{err}");
}

#[tokio::test]
async fn a_row_that_is_not_utf8_is_dead_lettered_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    let mut bytes = b"id,name,amount,day\n1,ok,1.00,2024-01-01\n2,".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b",2.00,2024-01-02\n3,fine,3.00,2024-01-03\n");
    std::fs::write(&input, bytes).unwrap();
    let dead = MemoryDeadLetter::new();
    let report = copy(
        &CsvSource::new(&input).with_schema(schema()),
        &MemorySink::new(),
        CopyOptions::new().dead_letter(Arc::new(dead.clone())),
    )
    .await
    .unwrap();
    assert_eq!((report.totals().read, report.totals().malformed), (2, 1));
    let entry = &dead.entries()[0];
    assert_eq!(entry.origin.as_ref().map(|o| o.row), Some(3));
    assert_eq!(entry.error.code, "MALFORMED_ROW");
    assert!(
        entry.error.message.contains("`name` is not valid UTF-8"),
        "{}",
        entry.error.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_conversion_keeps_file_order_and_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.csv");
    let mut text = String::from("id,name,amount,day\n");
    for i in 0..10_000 {
        if i % 997 == 13 {
            text.push_str(&format!("{i},bad,1.001,2024-01-01\n"));
        } else {
            text.push_str(&format!(
                "{i},n{i},{}.{:02},2024-01-01\n",
                i % 1000,
                i % 100
            ));
        }
    }
    std::fs::write(&input, text).unwrap();
    for parallelism in [1, 4] {
        let sink = MemorySink::new();
        let dead = MemoryDeadLetter::new();
        let source = CsvSource::new(&input)
            .with_schema(schema())
            .with_parallelism(parallelism);
        let options = CopyOptions::new()
            .batch_size(7)
            .dead_letter(Arc::new(dead.clone()));
        let report = copy(&source, &sink, options).await.unwrap();
        let ids: Vec<i64> = sink
            .records("many")
            .iter()
            .filter_map(|r| r.get(0).as_i64())
            .collect();
        let expected: Vec<i64> = (0..10_000).filter(|i| i % 997 != 13).collect();
        assert_eq!(ids, expected, "parallelism {parallelism}");
        let rows: Vec<u64> = dead
            .entries()
            .iter()
            .filter_map(|e| e.origin.as_ref().map(|o| o.row))
            .collect();
        let expected_rows: Vec<u64> = (0..10_000u64)
            .filter(|i| i % 997 == 13)
            .map(|i| i + 2)
            .collect();
        assert_eq!(rows, expected_rows);
        assert_eq!(
            report.totals().checkpoints,
            10_000_u64.div_ceil(7),
            "one per chunk of 7 rows"
        );
    }
}
