//! Analytics reports: seedable tabular report definitions over one object, run
//! synchronously (`GET`/`POST /analytics/reports/{id}`) with the row cap.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::{ApiError, EmulatorError};
use super::schema::{FieldType, Schema};
use super::server::{Req, Shared, json_response, lock};
use super::soql::{self, Path, Query};
use super::store::{Store, make_id};

/// A tabular report over one sObject: its detail columns (field paths such as
/// `Name` or `Account.Name`) and optional filters.
///
/// ```
/// use salesforce_bulk2::emulator::ReportDefinition;
///
/// let report = ReportDefinition::new("Big accounts", "Account", &["Name", "AnnualRevenue"])
///     .filter("AnnualRevenue", "greaterThan", "1000000");
/// # let _ = report;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDefinition {
    name: String,
    object: String,
    columns: Vec<String>,
    filters: Vec<(String, String, String)>,
}

impl ReportDefinition {
    /// A report named `name` over `object` with these detail columns.
    pub fn new(name: impl Into<String>, object: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            name: name.into(),
            object: object.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            filters: Vec::new(),
        }
    }

    /// Adds a standard filter: `operator` is one of the Reports API's (`equals`,
    /// `notEqual`, `lessThan`, `greaterThan`, `lessOrEqual`, `greaterOrEqual`,
    /// `contains`, `notContain`, `startsWith`).
    #[must_use]
    pub fn filter(
        mut self,
        column: impl Into<String>,
        operator: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.filters
            .push((column.into(), operator.into(), value.into()));
        self
    }
}

/// A stored report.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) id: String,
    def: ReportDefinition,
    query: Query,
}

/// Checks and stores a definition; returns its id (key prefix `00O`).
pub(crate) fn add(shared: &Shared, def: ReportDefinition) -> Result<String, EmulatorError> {
    let soql = format!("SELECT {} FROM {}", def.columns.join(", "), def.object);
    let query = soql::parse(&soql, &shared.schema).map_err(|e| EmulatorError::Rejected {
        code: e.code.to_owned(),
        message: e.message,
    })?;
    for (column, operator, value) in &def.filters {
        let _checked = soql::report_filter(&shared.schema, query.object, column, operator, value)
            .map_err(|e| EmulatorError::Rejected {
            code: e.code.to_owned(),
            message: e.message,
        })?;
    }
    let mut reports = lock(&shared.reports);
    let id = make_id("00O", u64::try_from(reports.len() + 1).unwrap_or(u64::MAX));
    reports.push(Report {
        id: id.clone(),
        def,
        query,
    });
    Ok(id)
}

fn find(shared: &Shared, id: &str) -> Result<Report, ApiError> {
    let id = super::store::normalize_id(id).unwrap_or_else(|| id.to_owned());
    lock(&shared.reports)
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NOT_FOUND",
                "The item you are trying to access doesn't exist.",
            )
        })
}

fn column_name(schema: &Schema, report: &Report, path: &Path) -> String {
    format!("{}.{}", schema.objects[report.query.object].name, path.name)
}

fn data_type(ftype: FieldType) -> &'static str {
    match ftype {
        FieldType::Id | FieldType::Reference => "id",
        FieldType::TextArea => "textarea",
        FieldType::Email => "email",
        FieldType::Phone => "phone",
        FieldType::Url => "url",
        FieldType::Picklist => "picklist",
        FieldType::Boolean => "boolean",
        FieldType::Int => "int",
        FieldType::Double => "double",
        FieldType::Currency => "currency",
        FieldType::Percent => "percent",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        FieldType::Time => "time",
        FieldType::String => "string",
    }
}

fn metadata(shared: &Shared, report: &Report, version: u32) -> (Value, Value) {
    let schema = &shared.schema;
    let columns: Vec<String> = report
        .query
        .fields
        .iter()
        .map(|p| column_name(schema, report, p))
        .collect();
    let filters: Vec<Value> = report
        .def
        .filters
        .iter()
        .map(|(c, o, v)| json!({"column": format!("{}.{c}", report.def.object), "operator": o, "value": v}))
        .collect();
    let mut info = Map::new();
    for (path, name) in report.query.fields.iter().zip(&columns) {
        let label = schema.objects[path.object].fields[path.field].label.clone();
        info.insert(
            name.clone(),
            json!({"dataType": data_type(path.ftype), "label": label}),
        );
    }
    let _ = version;
    (
        json!({
            "aggregates": ["RowCount"],
            "currency": null,
            "detailColumns": columns,
            "developerName": report.def.name.replace(' ', "_"),
            "groupingsAcross": [],
            "groupingsDown": [],
            "hasDetailRows": true,
            "hasRecordCount": true,
            "id": report.id,
            "name": report.def.name,
            "reportBooleanFilter": null,
            "reportFilters": filters,
            "reportFormat": "TABULAR",
            "reportType": {"label": schema.objects[report.query.object].label_plural, "type": format!("{}List", report.def.object)},
        }),
        json!({
            "aggregateColumnInfo": {"RowCount": {"acrossGroupingContext": null, "dataType": "int", "downGroupingContext": null, "label": "Record Count"}},
            "detailColumnInfo": info,
            "groupingColumnInfo": {},
        }),
    )
}

fn cell(ftype: FieldType, value: Option<&str>) -> Value {
    let Some(v) = value else {
        return json!({"label": "-", "value": null});
    };
    let number = || {
        v.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    };
    let typed = match ftype {
        FieldType::Currency => json!({"amount": number(), "currency": null}),
        FieldType::Int | FieldType::Double | FieldType::Percent => number(),
        FieldType::Boolean => Value::Bool(v == "true"),
        _ => Value::String(v.to_owned()),
    };
    json!({"label": v, "value": typed})
}

fn attributes(report: &Report, version: u32) -> Value {
    let base = format!(
        "/services/data/v{version}.0/analytics/reports/{}",
        report.id
    );
    json!({
        "describeUrl": format!("{base}/describe"),
        "instancesUrl": format!("{base}/instances"),
        "reportId": report.id,
        "reportName": report.def.name,
        "type": "Report",
    })
}

/// `GET /analytics/reports`.
pub(crate) fn list(shared: &Shared, req: &Req) -> Response {
    let reports = lock(&shared.reports);
    let list: Vec<Value> = reports
        .iter()
        .map(|r| {
            let base = format!(
                "/services/data/v{}.0/analytics/reports/{}",
                req.version, r.id
            );
            json!({
                "describeUrl": format!("{base}/describe"),
                "id": r.id,
                "instancesUrl": format!("{base}/instances"),
                "name": r.def.name,
                "url": base,
            })
        })
        .collect();
    json_response(200, &Value::Array(list))
}

/// `GET /analytics/reports/{id}/describe`.
pub(crate) fn describe(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    let report = find(shared, id)?;
    let (meta, extended) = metadata(shared, &report, req.version);
    Ok(json_response(
        200,
        &json!({"reportMetadata": meta, "reportExtendedMetadata": extended, "reportTypeMetadata": {}}),
    ))
}

/// `GET` or `POST /analytics/reports/{id}` (`includeDetails`, runtime `reportFilters`).
pub(crate) fn run(shared: &Shared, req: &Req, id: &str) -> Result<Response, ApiError> {
    let report = find(shared, id)?;
    let schema = &shared.schema;
    let object = report.query.object;
    let mut filters = Vec::new();
    let mut all_filters = report.def.filters.clone();
    if req.method == http::Method::POST && !req.body.is_empty() {
        let body = req.json_body()?;
        if let Some(list) = body["reportMetadata"]["reportFilters"].as_array() {
            for f in list {
                let column = f["column"].as_str().unwrap_or("");
                let column = column
                    .strip_prefix(&format!("{}.", report.def.object))
                    .unwrap_or(column)
                    .to_owned();
                all_filters.push((
                    column,
                    f["operator"].as_str().unwrap_or("equals").to_owned(),
                    f["value"]
                        .as_str()
                        .map_or_else(|| f["value"].to_string(), str::to_owned),
                ));
            }
        }
    }
    for (column, operator, value) in &all_filters {
        filters.push(soql::report_filter(
            schema, object, column, operator, value,
        )?);
    }
    let include_details = req.param("includeDetails").is_none_or(|v| v != "false");
    let store: std::sync::RwLockReadGuard<'_, Store> = shared.read();
    let slots: Vec<usize> = report
        .query
        .execute(&store, schema, false)
        .into_iter()
        .filter(|s| filters.iter().all(|f| f(&store, schema, *s)))
        .collect();
    let limit = shared.config.report_row_limit;
    let all_data = slots.len() <= limit;
    let rows: Vec<Value> = if include_details {
        slots
            .iter()
            .take(limit)
            .map(|s| {
                let cells: Vec<Value> = report
                    .query
                    .fields
                    .iter()
                    .map(|p| cell(p.ftype, p.value(&store, schema, object, *s)))
                    .collect();
                json!({"dataCells": cells})
            })
            .collect()
    } else {
        Vec::new()
    };
    drop(store);
    let (mut meta, extended) = metadata(shared, &report, req.version);
    if let Value::Object(m) = &mut meta {
        let shown: Vec<Value> = all_filters
            .iter()
            .map(|(c, o, v)| json!({"column": format!("{}.{c}", report.def.object), "operator": o, "value": v}))
            .collect();
        m.insert("reportFilters".to_owned(), Value::Array(shown));
    }
    let count = slots.len();
    Ok(json_response(
        200,
        &json!({
            "attributes": attributes(&report, req.version),
            "allData": all_data,
            "factMap": {
                "T!T": {
                    "aggregates": [{"label": count.to_string(), "value": count}],
                    "rows": rows,
                },
            },
            "groupingsAcross": {"groupings": []},
            "groupingsDown": {"groupings": []},
            "hasDetailRows": include_details,
            "hasExceededTabularRowLimit": !all_data,
            "reportExtendedMetadata": extended,
            "reportMetadata": meta,
        }),
    ))
}
