//! Typing Salesforce-shaped rows into columns (`ColumnBatchBuilder::push_row`, `finish`
//! every 10,000 rows) against the same rows through `text::parse` into `Vec<Value>`
//! records, in the same run: ns per row of each, and their ratio.
//!
//! The rows are a 10-column Account query (Id, Name, Type and Industry picklists,
//! AnnualRevenue, NumberOfEmployees, Website, Description, Active__c, CreatedDate),
//! every cell varying from row to row. Each 10,000 rows are written as text before
//! their timing starts.
//!
//! ```sh
//! cargo run --release -p type-mapping --example columnar_push
//! # 200,000 rows, 5 rounds; `columns`, `parse` or `none` runs one side alone, for
//! # instruction counts (`perf stat -e instructions`, or `valgrind --tool=callgrind`
//! # where there are no counters): subtract `none`, which only writes the rows.
//! cargo run --release -p type-mapping --example columnar_push -- 200000 5 columns
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use type_mapping::columnar::ColumnBatchBuilder;
use type_mapping::salesforce::describe_field;
use type_mapping::{ConversionPolicy, Field, Schema, Value, text};

const BATCH: usize = 10_000;
const COLUMNS: usize = 10;

const TYPES: [&str; 6] = [
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Other",
];

const INDUSTRIES: [&str; 30] = [
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
];

const WORDS: [&str; 12] = [
    "Acme",
    "Global",
    "Northwind",
    "Contoso",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
];

fn schema() -> Arc<Schema> {
    let picklist = |name: &str, values: &[&str]| {
        describe_field(name, "picklist", None, None, Some(255), true)
            .with_allowed_values(values.iter().copied())
    };
    let fields: Vec<Field> = vec![
        describe_field("Id", "id", None, None, Some(18), false),
        describe_field("Name", "string", None, None, Some(255), false),
        picklist("Type", &TYPES),
        picklist("Industry", &INDUSTRIES),
        describe_field("AnnualRevenue", "currency", Some(18), Some(2), None, true),
        describe_field("NumberOfEmployees", "int", Some(8), Some(0), None, true),
        describe_field("Website", "url", None, None, Some(255), true),
        describe_field("Description", "textarea", None, None, Some(32_000), true),
        describe_field("Active__c", "boolean", None, None, None, false),
        describe_field("CreatedDate", "datetime", None, None, None, false),
    ];
    Arc::new(Schema::new(fields))
}

/// Rows `first..first + BATCH` as text: all cells in `text`, cell `k` ending at
/// `ends[k]`.
fn write_rows(first: usize, text: &mut String, ends: &mut Vec<usize>) {
    text.clear();
    ends.clear();
    for i in first..first + BATCH {
        // A cheap scramble, so that neighbouring rows differ in every column.
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
        let pick = |n: usize, shift: u32| (h >> shift) as usize % n;
        let mut cell = |text: &mut String, args: std::fmt::Arguments<'_>| {
            let _ = text.write_fmt(args);
            ends.push(text.len());
        };
        cell(text, format_args!("001{:015X}", h & 0xFFFF_FFFF_FFFF));
        cell(
            text,
            format_args!("{} {} {i}", WORDS[pick(12, 3)], WORDS[pick(12, 7)]),
        );
        let kind = if pick(10, 11) == 0 {
            ""
        } else {
            TYPES[pick(6, 13)]
        };
        cell(text, format_args!("{kind}"));
        cell(text, format_args!("{}", INDUSTRIES[pick(30, 17)]));
        match pick(4, 23) {
            0 => cell(text, format_args!("")),
            1 => cell(text, format_args!("{}.{:02}", h % 1_000_000_000, h % 100)),
            _ => cell(text, format_args!("{}", h % 1_000_000_000)),
        }
        cell(text, format_args!("{}", (h >> 5) % 100_000));
        cell(
            text,
            format_args!("https://www.{}{i}.example.com", WORDS[pick(12, 27)]),
        );
        let words = pick(20, 31);
        for w in 0..words {
            let _ = write!(text, "{} ", WORDS[(w + pick(12, 37)) % 12]);
        }
        cell(text, format_args!("account {i}"));
        cell(
            text,
            format_args!("{}", if h & 1 == 0 { "true" } else { "false" }),
        );
        cell(
            text,
            format_args!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                10 + pick(17, 2),
                1 + pick(12, 9),
                1 + pick(28, 14),
                pick(24, 19),
                pick(60, 25),
                pick(60, 31),
                pick(1000, 36)
            ),
        );
    }
}

/// The cells of the batch, in row order.
fn cells<'a>(text: &'a str, ends: &[usize]) -> Vec<&'a str> {
    let mut start = 0;
    ends.iter()
        .map(|&end| {
            let cell = text.get(start..end).unwrap_or("");
            start = end;
            cell
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Columns,
    Parse,
}

/// Time spent typing `rows` rows on `side`, and the rows typed.
fn run(side: Side, schema: &Arc<Schema>, rows: usize) -> (Duration, usize) {
    let policy = ConversionPolicy::strict();
    let mut builder = ColumnBatchBuilder::with_capacity(Arc::clone(schema), policy.clone(), BATCH);
    let (mut text, mut ends) = (String::new(), Vec::new());
    let (mut spent, mut typed) = (Duration::ZERO, 0);
    let mut changes = Vec::new();
    for first in (0..rows).step_by(BATCH) {
        write_rows(first, &mut text, &mut ends);
        let cells = cells(&text, &ends);
        let start = Instant::now();
        match side {
            Side::Columns => {
                for (row, cells) in cells.chunks_exact(COLUMNS).enumerate() {
                    let cells = cells.iter().copied();
                    if builder.push_row(cells, (first + row) as u64).is_ok() {
                        typed += 1;
                    }
                }
                black_box(builder.finish());
            }
            Side::Parse => {
                let mut records: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
                for cells in cells.chunks_exact(COLUMNS) {
                    changes.clear();
                    let record: Result<Vec<Value>, _> = schema
                        .fields
                        .iter()
                        .zip(cells)
                        .map(|(field, cell)| text::parse(field, cell, &policy, &mut changes))
                        .collect();
                    if let Ok(record) = record {
                        records.push(record);
                        typed += 1;
                    }
                }
                black_box(records);
            }
        }
        spent += start.elapsed();
    }
    (spent, typed)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rows = rows.div_ceil(BATCH) * BATCH;
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let only = args.next();
    let schema = schema();
    let ns = |d: Duration| d.as_nanos() as f64 / rows as f64;
    let (mut best_columns, mut best_parse) = (f64::INFINITY, f64::INFINITY);
    for round in 1..=rounds {
        let mut line = format!("round {round}:");
        if only.as_deref().is_none_or(|o| o == "columns") {
            let (spent, typed) = run(Side::Columns, &schema, rows);
            assert_eq!(typed, rows, "every row types");
            best_columns = best_columns.min(ns(spent));
            let _ = write!(line, " push_row {:6.1} ns/row", ns(spent));
        }
        if only.as_deref().is_none_or(|o| o == "parse") {
            let (spent, typed) = run(Side::Parse, &schema, rows);
            assert_eq!(typed, rows, "every row types");
            best_parse = best_parse.min(ns(spent));
            let _ = write!(line, " text::parse records {:6.1} ns/row", ns(spent));
        }
        if only.as_deref() == Some("none") {
            let (mut text, mut ends) = (String::new(), Vec::new());
            for first in (0..rows).step_by(BATCH) {
                write_rows(first, &mut text, &mut ends);
                black_box(cells(&text, &ends));
            }
        }
        println!("{line}");
    }
    if only.is_none() {
        println!(
            "{rows} rows, best of {rounds}: push_row {best_columns:.1} ns/row, text::parse records {best_parse:.1} ns/row; push_row takes {:.2}x the time of text::parse records",
            best_columns / best_parse
        );
    }
}
