//! Bulk Read: an asynchronous export job whose result is a ZIP holding one CSV of up to
//! 200,000 records. Used by the Source for large full reads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{Call, ZohoClient};
use crate::error::{Result, ZohoError};

/// What to export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkReadRequest {
    /// The module.
    pub module: String,
    /// The fields (`id` is always exported).
    pub fields: Vec<String>,
    /// Zoho's criteria object, if any (`{"group_operator":..., "group": [...]}`).
    pub criteria: Option<Value>,
    /// The 200,000-record page to export (1-based).
    pub page: u32,
}

/// A bulk read job's state and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkReadJob {
    /// The job id.
    pub id: String,
    /// `ADDED`, `QUEUED`, `IN PROGRESS`, `COMPLETED` or `FAILURE`.
    #[serde(default)]
    pub state: String,
    /// The result, once completed.
    #[serde(default)]
    pub result: Option<BulkReadResult>,
}

/// The result of a completed bulk read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkReadResult {
    /// The page exported.
    #[serde(default)]
    pub page: u32,
    /// Records in the file.
    #[serde(default)]
    pub count: u64,
    /// Where to download it.
    #[serde(default)]
    pub download_url: Option<String>,
    /// Whether another page exists.
    #[serde(default)]
    pub more_records: bool,
}

/// A downloaded and unpacked result: a CSV file in a temporary directory, removed when
/// this is dropped.
#[derive(Debug)]
pub struct BulkFile {
    dir: tempfile::TempDir,
    csv: PathBuf,
}

impl BulkFile {
    /// The CSV file.
    pub fn csv(&self) -> &std::path::Path {
        &self.csv
    }

    /// The directory holding it.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

fn job_from(body: &Value, operation: &'static str) -> Result<BulkReadJob> {
    let first = body
        .get("data")
        .and_then(|d| d.as_array()?.first())
        .cloned()
        .unwrap_or(Value::Null);
    let details = first
        .get("details")
        .cloned()
        .unwrap_or_else(|| first.clone());
    serde_json::from_value(details).map_err(|e| ZohoError::InvalidResponse {
        operation,
        message: e.to_string(),
    })
}

impl ZohoClient {
    /// Creates a bulk read job.
    pub async fn bulk_read(&self, request: &BulkReadRequest) -> Result<BulkReadJob> {
        let mut query = json!({ "module": { "api_name": request.module }, "fields": request.fields, "page": request.page.max(1) });
        if let Some(criteria) = &request.criteria {
            query["criteria"] = criteria.clone();
        }
        let call = Call::new(Method::POST, "/bulk/v8/read", "zoho.bulk_read.create")
            .body(json!({ "query": query, "file_type": "csv" }));
        let answer = self.call(call).await?;
        job_from(&answer.body, "zoho.bulk_read.create")
    }

    /// A job's state.
    pub async fn bulk_read_status(&self, id: &str) -> Result<BulkReadJob> {
        let call = Call::new(
            Method::GET,
            format!("/bulk/v8/read/{}", crate::users::path_id(id)?),
            "zoho.bulk_read.status",
        );
        let answer = self.call(call).await?;
        job_from(&answer.body, "zoho.bulk_read.status")
    }

    /// Polls a job until it completes (backing off from `poll` to a minute), fails, or
    /// `timeout` passes.
    pub async fn bulk_read_wait(
        &self,
        id: &str,
        poll: Duration,
        timeout: Duration,
    ) -> Result<BulkReadJob> {
        let started = Instant::now();
        let mut delay = poll;
        loop {
            let job = self.bulk_read_status(id).await?;
            match job.state.to_ascii_uppercase().as_str() {
                "COMPLETED" => return Ok(job),
                "FAILURE" | "FAILED" => {
                    return Err(ZohoError::Api {
                        operation: "zoho.bulk_read.wait",
                        status: 200,
                        code: "BULK_READ_FAILED".into(),
                        message: format!("bulk read job {id} failed"),
                        details: Box::new(Value::Null),
                    });
                }
                _ if started.elapsed() >= timeout => {
                    return Err(ZohoError::InvalidRequest {
                        operation: "zoho.bulk_read.wait",
                        message: format!(
                            "bulk read job {id} still {} after {timeout:?}",
                            job.state
                        ),
                    });
                }
                _ => {
                    ZohoClient::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Downloads a completed job's ZIP and unpacks its CSV into a temporary directory.
    pub async fn bulk_read_download(&self, job: &BulkReadJob) -> Result<BulkFile> {
        let url = job
            .result
            .as_ref()
            .and_then(|r| r.download_url.clone())
            .unwrap_or_else(|| format!("/crm/bulk/v8/read/{}/result", job.id));
        let dir = tempfile::tempdir().map_err(connector_core::ConnectorError::from)?;
        let zip_path = dir.path().join("result.zip");
        self.download(&url, &zip_path, "zoho.bulk_read.download")
            .await?;
        let out_dir = dir.path().to_path_buf();
        let csv = tokio::task::spawn_blocking(move || unzip_csv(&zip_path, &out_dir))
            .await
            .map_err(|e| ZohoError::InvalidResponse {
                operation: "zoho.bulk_read.download",
                message: e.to_string(),
            })??;
        Ok(BulkFile { dir, csv })
    }
}

/// Extracts the first CSV of a ZIP; anything else is an error naming what was found.
fn unzip_csv(zip_path: &std::path::Path, out_dir: &std::path::Path) -> Result<PathBuf> {
    let bad = |message: String| ZohoError::InvalidResponse {
        operation: "zoho.bulk_read.download",
        message,
    };
    let file = std::fs::File::open(zip_path).map_err(connector_core::ConnectorError::from)?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("the result is not a ZIP: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("unreadable ZIP entry: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| bad(format!("unreadable ZIP entry name: {e}")))?
            .to_ascii_lowercase();
        if !name.ends_with(".csv") {
            continue;
        }
        let path = out_dir.join("result.csv");
        let mut out = std::fs::File::create(&path).map_err(connector_core::ConnectorError::from)?;
        std::io::copy(&mut entry, &mut out).map_err(connector_core::ConnectorError::from)?;
        return Ok(path);
    }
    Err(bad("the ZIP holds no CSV".into()))
}
