//! The client side of the fault tests: a reqwest harness and a raw TCP reader.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use simulator::{Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Harness {
    pub sim: Simulator,
    pub http: Client,
    pub token: String,
}

impl Harness {
    pub async fn start() -> Harness {
        let sim = Simulator::start(SimulatorConfig::default())
            .await
            .expect("simulator starts");
        let http = Client::new();
        let token = mint(&http, &sim.base_url()).await.expect("mint");
        Harness { sim, http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url(), path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
    }

    pub async fn status(&self, path: &str) -> StatusCode {
        self.get(path).await.expect("response").status()
    }

    /// The statuses recorded for `path`, in order.
    pub fn recorded(&self, path: &str) -> Vec<u16> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .map(|r| r.status)
            .collect()
    }

    /// Sends a raw HTTP/1.1 GET and returns every byte received until the server closes,
    /// and whether the close was orderly (FIN) rather than a reset.
    pub async fn raw_get(&self, path: &str) -> (Vec<u8>, bool) {
        let mut stream = tokio::net::TcpStream::connect(self.sim.addr())
            .await
            .unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {}\r\n\r\n",
            self.token
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out));
        // A reset surfaces as an error; the bytes read so far are still in `out`.
        let orderly = read
            .await
            .expect("the server closes the connection")
            .is_ok();
        (out, orderly)
    }
}

pub async fn mint(http: &Client, base: &str) -> reqwest::Result<String> {
    let r = http
        .post(format!("{base}/v1/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}))
        .send()
        .await?
        .error_for_status()?;
    let body: Value = r.json().await?;
    Ok(body["access_token"].as_str().unwrap().to_string())
}

pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(" / ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
