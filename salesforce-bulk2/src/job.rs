//! What query and ingest jobs share: [`JobInfo`], [`JobState`], the CSV
//! [`ColumnDelimiter`] and [`LineEnding`], and polling.
//!
//! Job info is read leniently: counters arrive as numbers or strings, `apiVersion` as a
//! number or a string, new states and fields appear over releases (kept in
//! [`JobState::Other`] and [`JobInfo::extra`]), and timestamps carry an offset without
//! a colon (`2018-12-10T17:50:19.000+0000`), so they are kept as text; see
//! [`parse_timestamp`].

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use crate::client::{Call, SalesforceClient};
use crate::error::{Result, SalesforceError};

/// A job's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobState {
    /// Ingest: accepting data.
    Open,
    /// Data uploaded (or query submitted); queued.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Finished; results can be read.
    JobComplete,
    /// Failed; see `errorMessage`.
    Failed,
    /// Aborted by a client.
    Aborted,
    /// A state this client does not know.
    Other(String),
}

impl JobState {
    /// The state as Salesforce spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "Open",
            Self::UploadComplete => "UploadComplete",
            Self::InProgress => "InProgress",
            Self::JobComplete => "JobComplete",
            Self::Failed => "Failed",
            Self::Aborted => "Aborted",
            Self::Other(s) => s,
        }
    }

    /// Whether the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Open" => Self::Open,
            "UploadComplete" => Self::UploadComplete,
            "InProgress" => Self::InProgress,
            "JobComplete" => Self::JobComplete,
            "Failed" => Self::Failed,
            "Aborted" => Self::Aborted,
            _ => Self::Other(s),
        })
    }
}

impl Serialize for JobState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The column delimiter of a job's CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ColumnDelimiter {
    /// `` ` ``
    Backquote,
    /// `^`
    Caret,
    /// `,` (the default)
    #[default]
    Comma,
    /// `|`
    Pipe,
    /// `;`
    Semicolon,
    /// A tab.
    Tab,
}

impl ColumnDelimiter {
    /// The delimiter byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Backquote => b'`',
            Self::Caret => b'^',
            Self::Comma => b',',
            Self::Pipe => b'|',
            Self::Semicolon => b';',
            Self::Tab => b'\t',
        }
    }

    /// The name Salesforce uses (`COMMA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backquote => "BACKQUOTE",
            Self::Caret => "CARET",
            Self::Comma => "COMMA",
            Self::Pipe => "PIPE",
            Self::Semicolon => "SEMICOLON",
            Self::Tab => "TAB",
        }
    }

    pub(crate) fn from_name(name: Option<&str>) -> Self {
        match name.unwrap_or("COMMA") {
            "BACKQUOTE" => Self::Backquote,
            "CARET" => Self::Caret,
            "PIPE" => Self::Pipe,
            "SEMICOLON" => Self::Semicolon,
            "TAB" => Self::Tab,
            _ => Self::Comma,
        }
    }
}

/// The line ending of a job's CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LineEnding {
    /// `\n` (the default).
    #[default]
    Lf,
    /// `\r\n`.
    Crlf,
}

impl LineEnding {
    /// The name Salesforce uses (`LF`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lf => "LF",
            Self::Crlf => "CRLF",
        }
    }

    /// The bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::Lf => b"\n",
            Self::Crlf => b"\r\n",
        }
    }
}

/// A number sent as a number or as a string.
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A job's info (query or ingest).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// The job id (`7506g00000DhRA2AAN`).
    pub id: String,
    /// `query`, `queryAll`, `insert`, `update`, `upsert`, `delete`, `hardDelete`, ...
    #[serde(default)]
    pub operation: String,
    /// The object.
    #[serde(default)]
    pub object: String,
    /// The state.
    pub state: JobState,
    /// When it was created, as sent (`2022-01-02T17:38:59.000+0000`).
    #[serde(default)]
    pub created_date: Option<String>,
    /// The external id field of an upsert.
    #[serde(default)]
    pub external_id_field_name: Option<String>,
    /// The column delimiter.
    #[serde(default)]
    pub column_delimiter: Option<String>,
    /// The line ending.
    #[serde(default)]
    pub line_ending: Option<String>,
    /// Ingest: where to `PUT` the data (`services/data/v62.0/jobs/ingest/750.../batches`).
    #[serde(default)]
    pub content_url: Option<String>,
    /// Records processed so far.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub number_records_processed: Option<u64>,
    /// Ingest: records that failed.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub number_records_failed: Option<u64>,
    /// How many times Salesforce retried the job internally.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub retries: Option<u64>,
    /// Processing time, ms.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_processing_time: Option<u64>,
    /// Why the job failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// `V2Query`, `V2Ingest`, `Classic`, `BigObjectIngest`.
    #[serde(default)]
    pub job_type: Option<String>,
    /// The API version the job was created with (a number or a string).
    #[serde(default)]
    pub api_version: Option<serde_json::Value>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Reads Salesforce's timestamps: `2018-12-10T17:50:19.000+0000` (no colon in the
/// offset), RFC 3339, or a date-time without offset (UTC).
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let s = s.trim();
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc().fixed_offset())
        })
}

/// Polls `jobs/{kind}/{id}` until the job is terminal; `Failed` and `Aborted` are
/// [`SalesforceError::Job`], as is the poll timeout (state `Timeout`; the job keeps
/// running on the server).
pub(crate) async fn wait(
    client: &SalesforceClient,
    kind: &str,
    id: &str,
    operation: &'static str,
) -> Result<JobInfo> {
    let options = client.poll_options().clone();
    let mut backoff = options.backoff();
    let started = tokio::time::Instant::now();
    loop {
        let info: JobInfo = client
            .json(&Call::new(
                Method::GET,
                format!("jobs/{kind}/{id}"),
                operation,
            ))
            .await?;
        match info.state {
            JobState::JobComplete => return Ok(info),
            JobState::Failed | JobState::Aborted => {
                return Err(SalesforceError::Job {
                    operation,
                    job_id: id.to_owned(),
                    state: info.state.to_string(),
                    message: info
                        .error_message
                        .clone()
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "Salesforce gave no error message".to_owned()),
                });
            }
            _ => {}
        }
        let elapsed = started.elapsed();
        if elapsed >= options.timeout {
            return Err(SalesforceError::Job {
                operation,
                job_id: id.to_owned(),
                state: "Timeout".to_owned(),
                message: format!(
                    "still {} after {:?}; the job keeps running on the server (abort it, or wait longer)",
                    info.state, options.timeout
                ),
            });
        }
        let delay = backoff.next_delay().min(options.timeout - elapsed);
        tracing::debug!(job = id, state = %info.state, ?delay, "job not finished");
        tokio::time::sleep(delay).await;
    }
}

#[derive(Deserialize)]
struct JobList {
    #[serde(default)]
    records: Vec<JobInfo>,
    #[serde(default, rename = "nextRecordsUrl")]
    next_records_url: Option<String>,
    #[serde(default)]
    done: Option<bool>,
}

/// Every job of a kind (`query`, `ingest`), following `nextRecordsUrl` page after page.
pub(crate) async fn list(
    client: &SalesforceClient,
    kind: &str,
    operation: &'static str,
) -> Result<Vec<JobInfo>> {
    let mut jobs = Vec::new();
    let mut path = format!("jobs/{kind}");
    loop {
        let page: JobList = client
            .json(&Call::new(Method::GET, path.as_str(), operation))
            .await?;
        jobs.extend(page.records);
        match page.next_records_url {
            Some(next) if page.done != Some(true) && !next.is_empty() => path = next,
            _ => return Ok(jobs),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn real_job_info_shapes() {
        let info: JobInfo = serde_json::from_str(
            r#"{"id":"7986gEXAMPLE4X2OPT","operation":"query","object":"Account","createdById":"0055fEXAMPLEtG4AAM",
 "createdDate":"2022-01-02T17:38:59.000+0000","systemModstamp":"2022-01-02T17:38:59.000+0000",
 "state":"UploadComplete","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":58.0,
 "lineEnding":"LF","columnDelimiter":"COMMA"}"#,
        )
        .unwrap();
        assert_eq!(info.state, JobState::UploadComplete);
        assert!(info.extra.contains_key("concurrencyMode"));
        let info: JobInfo = serde_json::from_str(
            r#"{"id":"750R0000000zlh9IAA","state":"JobComplete","numberRecordsProcessed":"42","retries":0,"apiVersion":"62.0","state2":"x"}"#,
        )
        .unwrap();
        assert_eq!(info.number_records_processed, Some(42));
        let info: JobInfo = serde_json::from_str(r#"{"id":"1","state":"Paused"}"#).unwrap();
        assert_eq!(info.state, JobState::Other("Paused".into()));
        assert!(parse_timestamp("2018-12-10T17:50:19.000+0000").is_some());
        assert!(parse_timestamp("2018-12-10T17:50:19Z").is_some());
    }
}
