//! What query and ingest jobs share: the job table, ids, CSV options and writing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::ingest::IngestJob;
use super::query::QueryJob;
use super::server::{Req, json_response};
use super::store::make_id;

/// Every job, by id.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    pub(crate) query: HashMap<String, QueryJob>,
    pub(crate) ingest: HashMap<String, IngestJob>,
    /// Ids in creation order (for listing).
    pub(crate) order: Vec<String>,
    seq: u64,
}

impl Jobs {
    /// A new job id (key prefix `750`).
    pub(crate) fn next_id(&mut self) -> String {
        self.seq += 1;
        let id = make_id("750", self.seq);
        self.order.push(id.clone());
        id
    }

    /// Looks a job up by its 15- or 18-character id.
    pub(crate) fn canonical(id: &str) -> String {
        super::store::normalize_id(id).unwrap_or_else(|| id.to_owned())
    }
}

/// `COMMA` → `,` and the other five delimiters.
pub(crate) fn delimiter(name: &str) -> Option<u8> {
    Some(match name {
        "COMMA" => b',',
        "BACKQUOTE" => b'`',
        "CARET" => b'^',
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "TAB" => b'\t',
        _ => return None,
    })
}

/// The `columnDelimiter` and `lineEnding` of a create request, checked.
pub(crate) fn csv_options(body: &serde_json::Value) -> Result<(String, String), ApiError> {
    let delim = body["columnDelimiter"]
        .as_str()
        .unwrap_or("COMMA")
        .to_owned();
    if delimiter(&delim).is_none() {
        return Err(ApiError::new(
            400,
            "INVALIDJOB",
            format!("InvalidJob : Invalid column delimiter: {delim}"),
        ));
    }
    let ending = body["lineEnding"].as_str().unwrap_or("LF").to_owned();
    if ending != "LF" && ending != "CRLF" {
        return Err(ApiError::new(
            400,
            "INVALIDJOB",
            format!("InvalidJob : Invalid line ending: {ending}"),
        ));
    }
    if let Some(ct) = body["contentType"].as_str()
        && ct != "CSV"
    {
        return Err(ApiError::new(
            400,
            "INVALIDJOB",
            format!("InvalidJob : Unsupported content type: {ct}"),
        ));
    }
    Ok((delim, ending))
}

/// Writes one CSV field: `None` as nothing, anything else quoted with inner quotes
/// doubled (as Salesforce writes result files).
pub(crate) fn write_cell(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(v) = value else { return };
    out.push(b'"');
    if v.as_bytes().contains(&b'"') {
        for b in v.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
    } else {
        out.extend_from_slice(v.as_bytes());
    }
    out.push(b'"');
}

/// Writes one CSV row.
pub(crate) fn write_row<'a>(
    out: &mut Vec<u8>,
    cells: impl IntoIterator<Item = Option<&'a str>>,
    delimiter: u8,
    crlf: bool,
) {
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        write_cell(out, c);
    }
    out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
}

/// One page of `GET /jobs/{kind}` (1,000 jobs a page, by `queryLocator`): `info(i)`
/// renders the `i`-th job in creation order, `count` jobs in all.
pub(crate) fn list_page(
    req: &Req,
    kind: &str,
    job_type: &str,
    count: usize,
    info: impl Fn(usize) -> Value,
) -> Result<Response, ApiError> {
    const PAGE: usize = 1_000;
    let from = match req.param("queryLocator") {
        Some(l) if !l.is_empty() && l != "null" => decode_locator(l)?,
        _ => 0,
    };
    let to = (from + PAGE).min(count);
    let records: Vec<Value> = (from..to)
        .map(|i| {
            let mut v = info(i);
            if let Value::Object(m) = &mut v {
                m.insert("jobType".to_owned(), json!(job_type));
            }
            v
        })
        .collect();
    let done = to >= count;
    let next = (!done).then(|| {
        format!(
            "/services/data/v{}.0/jobs/{kind}?queryLocator={}",
            req.version,
            encode_locator(to)
        )
    });
    Ok(json_response(
        200,
        &json!({"done": done, "records": records, "nextRecordsUrl": next}),
    ))
}

/// A record offset as an opaque locator (`MTAwMDA` for 10000, as Salesforce's look).
pub(crate) fn encode_locator(offset: usize) -> String {
    STANDARD_NO_PAD.encode(offset.to_string())
}

/// The offset a locator stands for.
pub(crate) fn decode_locator(locator: &str) -> Result<usize, ApiError> {
    let invalid = || {
        ApiError::new(
            400,
            "INVALID_LOCATOR",
            format!("Invalid locator: {locator}"),
        )
    };
    let bytes = STANDARD_NO_PAD
        .decode(locator.trim_end_matches('='))
        .or_else(|_| STANDARD.decode(locator))
        .map_err(|_| invalid())?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)
}

/// When a job that started processing at `started` may show its final state.
pub(crate) fn settled(
    started: Instant,
    done_at: Option<Instant>,
    processing_time: Duration,
) -> bool {
    done_at.is_some() && started.elapsed() >= processing_time
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_round_trip() {
        assert_eq!(encode_locator(10000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA").unwrap(), 10000);
        assert!(decode_locator("!!").is_err());
    }

    #[test]
    fn cells_are_quoted() {
        let mut out = Vec::new();
        write_row(&mut out, [Some("a\"b"), None, Some("x,\ny")], b',', true);
        assert_eq!(out, b"\"a\"\"b\",,\"x,\ny\"\r\n");
    }
}
