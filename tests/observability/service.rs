//! The `webex-recordings` binary as a child process, with its stderr (JSON log lines) collected.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::MockServer;

use crate::fake_webex::{ES_ID, ES_VTT, FakeRecording, fake_webex};
use crate::support::WEBHOOK_SECRET;

pub struct Service {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// `serve --role ROLE` in `dir` (no `.env` there) with exactly `env` plus PATH and
    /// `LOG_FORMAT=json`.
    pub fn start(role: &str, dir: &Path, env: &[(String, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_webex-recordings"))
            .args(["serve", "--role", role])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LOG_FORMAT", "json")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a JSON line that `wanted` accepts; panics with the log after `within`.
    pub async fn wait_for_line(&self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .lines()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| wanted(v));
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no such log line within {within:?}; the log:\n{}",
                self.lines().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The address the HTTP listener logged.
    pub async fn listen_addr(&self) -> SocketAddr {
        let line = self
            .wait_for_line(Duration::from_secs(60), |l| l["message"] == "listening")
            .await;
        line["addr"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("listening line without an address: {line}"))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake Webex serving one recording with a transcript ([`ES_ID`]), a working folder with a
/// SQLite database, and the environment a child needs to use them.
pub struct Setup {
    pub webex: MockServer,
    dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Setup {
    pub async fn new() -> Self {
        let webex = fake_webex().await;
        FakeRecording::new(ES_ID, Some(ES_VTT)).mount(&webex).await;
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("WEBEX_API_URL", format!("{}/v1", webex.uri())),
            ("WEBEX_ACCESS_TOKEN", "token".into()),
            ("WEBEX_WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            (
                "DATABASE_URL",
                format!("sqlite://{}/db.sqlite", dir.path().display()),
            ),
            ("DATA_DIR", dir.path().join("data").display().to_string()),
            ("LISTEN_ADDR", "127.0.0.1:0".into()),
            ("BACKFILL_INTERVAL", "0".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Self { webex, dir, env }
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.env.push((name.to_string(), value.into()));
    }

    pub fn start(&self, role: &str) -> Service {
        Service::start(role, self.dir.path(), &self.env)
    }
}

/// POSTs a signed `created` webhook for `id` to a receiver at `addr`.
pub async fn post_webhook(addr: SocketAddr, id: &str) -> reqwest::Response {
    let body = serde_json::to_vec(&crate::support::envelope(id, "created")).unwrap();
    reqwest::Client::new()
        .post(format!("http://{addr}/webhooks/webex"))
        .header("content-type", "application/json")
        .header(
            "X-Spark-Signature",
            webex_recordings::signature::sign(&body, WEBHOOK_SECRET.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("the receiver answers")
}
