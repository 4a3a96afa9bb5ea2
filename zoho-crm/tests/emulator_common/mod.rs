//! Helpers shared by the emulator tests: an emulator plus a reqwest client that
//! speaks to it as a Zoho client would.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use zoho_crm::emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// A response, read completely.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) bytes: Vec<u8>,
    pub(crate) body: Value,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body["code"]` as a string.
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// A running emulator, a client and an access token with every scope.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) emu: RunningEmulator,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

pub(crate) fn client() -> reqwest::Client {
    connector_core::http::HttpClientBuilder::new()
        .with_tls(connector_core::tls::TlsOptions::default().with_encrypted_endpoints(false))
        .build()
        .unwrap()
}

/// A client that does not follow redirects.
pub(crate) fn no_redirect_client() -> reqwest::Client {
    connector_core::http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap().to_vec();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Resp {
        status,
        headers,
        bytes,
        body,
    }
}

impl Api {
    pub(crate) async fn start(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.unwrap();
        let token = emu.access_token_for_tests();
        Self {
            emu,
            http: client(),
            token,
        }
    }

    pub(crate) async fn default() -> Self {
        Self::start(EmulatorConfig::new()).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.api_domain())
    }

    fn auth(&self, request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
        request.header("Authorization", format!("Zoho-oauthtoken {token}"))
    }

    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        read(self.auth(request, &self.token).send().await.unwrap()).await
    }

    pub(crate) async fn send_as(&self, request: reqwest::RequestBuilder, token: &str) -> Resp {
        read(self.auth(request, token).send().await.unwrap()).await
    }

    pub(crate) async fn get(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        self.send(self.http.get(self.url(path)).query(query)).await
    }

    pub(crate) async fn get_since(&self, path: &str, query: &[(&str, &str)], since: &str) -> Resp {
        self.send(
            self.http
                .get(self.url(path))
                .query(query)
                .header("If-Modified-Since", since),
        )
        .await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    pub(crate) async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        self.send(self.http.delete(self.url(path)).query(query))
            .await
    }

    pub(crate) async fn coql(&self, query: &str) -> Resp {
        self.post(
            "/crm/v8/coql",
            &serde_json::json!({ "select_query": query }),
        )
        .await
    }

    /// `POST /oauth/v2/token` with a form body.
    pub(crate) async fn token_request(&self, form: &[(&str, &str)]) -> Resp {
        read(
            self.http
                .post(self.emu.token_url())
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The ids of a `data` array.
    pub(crate) fn ids(body: &Value) -> Vec<String> {
        body["data"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}
