//! Helpers shared by the emulator tests: an emulator plus a reqwest client that
//! speaks to it as a Bulk API 2.0 client would.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use salesforce_bulk2::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};

/// A response, read completely.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) body: Value,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body[0]["errorCode"]`.
    pub(crate) fn code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or("")
    }

    /// The body parsed as CSV (comma, any line ending): header and rows.
    pub(crate) fn csv(&self) -> (Vec<String>, Vec<Vec<String>>) {
        parse_csv(&self.text, b',')
    }
}

pub(crate) fn parse_csv(text: &str, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    if rows.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let header = rows.remove(0);
    (header, rows)
}

pub(crate) fn client() -> reqwest::Client {
    connector_core::http::install_crypto_provider();
    reqwest::Client::builder().build().unwrap()
}

pub(crate) async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// A running emulator, a client and a valid access token.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) emu: RunningEmulator,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

impl Api {
    pub(crate) async fn start(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.unwrap();
        let token = emu.access_token();
        Self {
            emu,
            http: client(),
            token,
        }
    }

    pub(crate) async fn default() -> Self {
        Self::start(EmulatorConfig::new()).await
    }

    /// `{data_url}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.data_url())
    }

    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        read(request.bearer_auth(&self.token).send().await.unwrap()).await
    }

    pub(crate) async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.patch(self.url(path)).json(body)).await
    }

    pub(crate) async fn put_csv(&self, path: &str, csv: &str) -> Resp {
        self.send(
            self.http
                .put(self.url(path))
                .header("Content-Type", "text/csv")
                .body(csv.to_owned()),
        )
        .await
    }

    pub(crate) async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Creates a query job and waits for it to finish; returns the job info.
    pub(crate) async fn query_job(&self, body: Value) -> Value {
        let created = self.post("/jobs/query", &body).await;
        assert_eq!(created.status, 200, "{}", created.text);
        assert_eq!(created.body["state"], "UploadComplete");
        self.wait(&format!(
            "/jobs/query/{}",
            created.body["id"].as_str().unwrap()
        ))
        .await
    }

    /// Polls a job until it leaves UploadComplete/InProgress.
    pub(crate) async fn wait(&self, path: &str) -> Value {
        for _ in 0..500 {
            let info = self.get(path).await;
            assert_eq!(info.status, 200, "{}", info.text);
            let state = info.body["state"].as_str().unwrap().to_owned();
            if !matches!(state.as_str(), "UploadComplete" | "InProgress") {
                return info.body;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {path} did not finish");
    }

    /// Every page of a query job's results: (header of each page, all rows).
    pub(crate) async fn all_pages(
        &self,
        id: &str,
        max_records: usize,
    ) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        let mut headers = Vec::new();
        let mut rows = Vec::new();
        let mut locator = String::new();
        loop {
            let mut path = format!("/jobs/query/{id}/results?maxRecords={max_records}");
            if !locator.is_empty() {
                path.push_str(&format!("&locator={locator}"));
            }
            let page = self.get(&path).await;
            assert_eq!(page.status, 200, "{}", page.text);
            let (header, page_rows) = page.csv();
            assert_eq!(
                page.header("sforce-numberofrecords").unwrap(),
                page_rows.len().to_string()
            );
            headers.push(header);
            rows.extend(page_rows);
            locator = page.header("sforce-locator").unwrap().to_owned();
            if locator == "null" {
                return (headers, rows);
            }
        }
    }

    /// Runs an ingest job end to end; returns the final job info.
    pub(crate) async fn ingest(&self, job: Value, csv: &str) -> (String, Value) {
        let created = self.post("/jobs/ingest", &job).await;
        assert_eq!(created.status, 200, "{}", created.text);
        assert_eq!(created.body["state"], "Open");
        let id = created.body["id"].as_str().unwrap().to_owned();
        let upload = self
            .put_csv(&format!("/jobs/ingest/{id}/batches"), csv)
            .await;
        assert_eq!(upload.status, 201, "{}", upload.text);
        let closed = self
            .patch(
                &format!("/jobs/ingest/{id}"),
                &json!({"state": "UploadComplete"}),
            )
            .await;
        assert_eq!(closed.status, 200, "{}", closed.text);
        let info = self.wait(&format!("/jobs/ingest/{id}")).await;
        (id, info)
    }

    /// The rows of one of an ingest job's result files, as maps.
    pub(crate) async fn ingest_results(
        &self,
        id: &str,
        kind: &str,
    ) -> Vec<serde_json::Map<String, Value>> {
        let r = self.get(&format!("/jobs/ingest/{id}/{kind}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (header, rows) = r.csv();
        rows.into_iter()
            .map(|row| {
                header
                    .iter()
                    .cloned()
                    .zip(row.into_iter().map(Value::String))
                    .collect()
            })
            .collect()
    }
}
