//! Analytics reports run synchronously (`GET analytics/reports/{id}?includeDetails=true`).
//!
//! A synchronous run returns at most the first 2,000 detail rows. When a report has more
//! (`allData: false`), [`SalesforceClient::run_report`] is an error naming the report and
//! the limit, never a silent truncation; [`SalesforceClient::run_report_partial`] returns
//! the rows with [`ReportResult::all_data`] false for callers that accept a sample.

use reqwest::Method;
use serde_json::Value;
use type_mapping::{DataType, Field, Schema};

use crate::client::{Call, SalesforceClient};
use crate::error::{Result, SalesforceError};

/// The rows of a report run.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportResult {
    /// The report id.
    pub report_id: String,
    /// The detail columns (API names, `ACCOUNT.NAME`), typed from the report's
    /// `detailColumnInfo`.
    pub schema: Schema,
    /// The detail rows, cells aligned with `schema` (JSON values as the report gave them).
    pub rows: Vec<Vec<Value>>,
    /// Whether every row is here (`false`: the 2,000-row limit cut the report).
    pub all_data: bool,
}

fn report_type(data_type: &str) -> DataType {
    match data_type {
        "boolean" => DataType::Boolean,
        "int" => DataType::Int64,
        "double" | "percent" => DataType::Float64,
        "date" => DataType::Date,
        "datetime" => DataType::DateTimeOffset,
        _ => DataType::String,
    }
}

fn parse_report(report_id: &str, body: &Value) -> Result<ReportResult> {
    const OP: &str = "salesforce.run_report";
    let columns: Vec<String> = body
        .pointer("/reportMetadata/detailColumns")
        .and_then(Value::as_array)
        .ok_or_else(|| SalesforceError::invalid_response(OP, "no reportMetadata.detailColumns"))?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let info = body.pointer("/reportExtendedMetadata/detailColumnInfo");
    let mut types = Vec::with_capacity(columns.len());
    let fields = columns
        .iter()
        .map(|c| {
            let t = info
                .and_then(|i| i.get(c))
                .and_then(|i| i.get("dataType"))
                .and_then(Value::as_str)
                .unwrap_or("string")
                .to_owned();
            let data_type = report_type(&t);
            types.push(data_type.clone());
            Field::new(c.as_str(), data_type)
        })
        .collect();
    let mut rows = Vec::new();
    if let Some(fact_map) = body.get("factMap").and_then(Value::as_object) {
        let mut keys: Vec<&String> = fact_map.keys().filter(|k| k.ends_with("!T")).collect();
        keys.sort();
        for key in keys {
            let Some(list) = fact_map[key].get("rows").and_then(Value::as_array) else {
                continue;
            };
            for row in list {
                let cells = row.get("dataCells").and_then(Value::as_array);
                let values = (0..columns.len())
                    .map(|i| {
                        let cell = cells.and_then(|c| c.get(i));
                        let value = cell
                            .and_then(|c| c.get("value"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        match (&types[i], value) {
                            (DataType::String, Value::String(s)) => Value::String(s),
                            (DataType::String, Value::Null) => Value::Null,
                            // Non-scalar values (currency amounts, lookups) read as their label.
                            (DataType::String, _) => cell
                                .and_then(|c| c.get("label"))
                                .cloned()
                                .unwrap_or(Value::Null),
                            (_, v) => v,
                        }
                    })
                    .collect();
                rows.push(values);
            }
        }
    }
    let all_data = body.get("allData").and_then(Value::as_bool).unwrap_or(true)
        && !body
            .get("hasExceededTabularRowLimit")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    Ok(ReportResult {
        report_id: report_id.to_owned(),
        schema: Schema::new(fields),
        rows,
        all_data,
    })
}

impl SalesforceClient {
    /// Runs a report synchronously. A report cut at 2,000 rows is an error.
    pub async fn run_report(&self, report_id: &str) -> Result<ReportResult> {
        let r = self.run_report_partial(report_id).await?;
        if !r.all_data {
            return Err(SalesforceError::invalid_response(
                "salesforce.run_report",
                format!(
                    "report {report_id} has more rows than the 2,000 a synchronous run returns (allData: false): \
                     filter the report, or query its object with Bulk API 2.0"
                ),
            ));
        }
        Ok(r)
    }

    /// Runs a report synchronously, returning what it gives even when cut at 2,000
    /// rows (see [`ReportResult::all_data`]).
    pub async fn run_report_partial(&self, report_id: &str) -> Result<ReportResult> {
        let body: Value = self
            .json(
                &Call::new(
                    Method::GET,
                    format!("analytics/reports/{report_id}"),
                    "salesforce.run_report",
                )
                .query("includeDetails", "true"),
            )
            .await?;
        parse_report(report_id, &body)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn tabular_fact_map() {
        let body = serde_json::json!({
            "allData": true,
            "reportMetadata": {"detailColumns": ["ACCOUNT.NAME", "AMOUNT", "CLOSE_DATE"]},
            "reportExtendedMetadata": {"detailColumnInfo": {
                "ACCOUNT.NAME": {"dataType": "string"}, "AMOUNT": {"dataType": "currency"}, "CLOSE_DATE": {"dataType": "date"}}},
            "factMap": {"T!T": {"rows": [
                {"dataCells": [{"label": "Acme", "value": "001"}, {"label": "$1.00", "value": {"amount": 1, "currency": null}}, {"label": "1/2/2024", "value": "2024-01-02"}]}
            ]}}
        });
        let r = parse_report("00O1", &body).unwrap();
        assert!(r.all_data);
        assert_eq!(
            r.rows[0],
            vec![
                Value::from("001"),
                Value::from("$1.00"),
                Value::from("2024-01-02")
            ]
        );
        let mut cut = body.clone();
        cut["allData"] = Value::Bool(false);
        assert!(!parse_report("00O1", &cut).unwrap().all_data);
    }
}
