//! Helpers: run the built binary in a clean environment, and a stateful fake of Webex.

#![allow(dead_code)]

use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "s3cret-for-tests";

/// Runs `webhook-setup` with only the given variables (plus PATH), in an empty temp dir
/// so that no `.env` is read.
pub async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_webhook-setup"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run webhook-setup");
    eprintln!(
        "webhook-setup {args:?} -> {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// WEBEX_API_URL, WEBEX_ACCESS_TOKEN and WEBEX_WEBHOOK_SECRET for a fake at `server`.
pub fn env_for(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("WEBEX_API_URL", format!("{}/v1", server.uri())),
        ("WEBEX_ACCESS_TOKEN", TOKEN.to_string()),
        ("WEBEX_WEBHOOK_SECRET", SECRET.to_string()),
    ]
}

pub fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// An in-memory webhook store behind GET/POST/PUT/DELETE `/v1/webhooks`.
#[derive(Clone, Default)]
pub struct FakeWebhooks {
    pub hooks: Arc<Mutex<Vec<Value>>>,
    next: Arc<AtomicU32>,
    /// Leave `secret` out of answers (as Webex may do).
    pub hide_secret: bool,
}

impl FakeWebhooks {
    pub fn new(hide_secret: bool) -> Self {
        Self {
            hide_secret,
            ..Default::default()
        }
    }

    /// Adds a webhook as if it had been created earlier; returns its id.
    pub fn seed(&self, mut hook: Value) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("seed-{n}");
        let obj = hook.as_object_mut().expect("object");
        obj.insert("id".into(), json!(id));
        obj.entry("created")
            .or_insert(json!(format!("2025-01-01T00:00:{n:02}.000Z")));
        obj.entry("resource")
            .or_insert(json!("convergedRecordings"));
        obj.entry("event").or_insert(json!("created"));
        obj.entry("status").or_insert(json!("active"));
        self.hooks.lock().unwrap().push(hook);
        id
    }

    pub fn all(&self) -> Vec<Value> {
        self.hooks.lock().unwrap().clone()
    }

    fn shown(&self, h: &Value) -> Value {
        let mut h = h.clone();
        if self.hide_secret {
            h.as_object_mut().unwrap().remove("secret");
        }
        h
    }

    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {TOKEN}")) {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "bad token"}));
        }
        let id = req
            .url
            .path()
            .strip_prefix("/v1/webhooks/")
            .map(str::to_string);
        let method = req.method.as_str();
        let mut hooks = self.hooks.lock().unwrap();
        let pos = id
            .as_ref()
            .and_then(|id| hooks.iter().position(|h| h["id"] == json!(id)));
        match (method, id, pos) {
            ("GET", None, _) => {
                let items: Vec<Value> = hooks.iter().map(|h| self.shown(h)).collect();
                ResponseTemplate::new(200).set_body_json(json!({ "items": items }))
            }
            ("POST", None, _) => {
                let mut body: Value = serde_json::from_slice(&req.body).expect("JSON body");
                let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
                let obj = body.as_object_mut().unwrap();
                obj.insert("id".into(), json!(format!("wh-{n}")));
                obj.insert("status".into(), json!("active"));
                obj.insert("created".into(), json!("2025-06-01T00:00:00.000Z"));
                obj.entry("ownedBy").or_insert(json!("creator"));
                hooks.push(body.clone());
                ResponseTemplate::new(200).set_body_json(self.shown(&body))
            }
            ("GET", Some(_), Some(i)) => {
                ResponseTemplate::new(200).set_body_json(self.shown(&hooks[i]))
            }
            ("PUT", Some(_), Some(i)) => {
                let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
                let hook = hooks[i].as_object_mut().unwrap();
                for key in ["name", "targetUrl", "secret", "status"] {
                    if let Some(v) = body.get(key) {
                        hook.insert(key.into(), v.clone());
                    }
                }
                let shown = self.shown(&hooks[i]);
                ResponseTemplate::new(200).set_body_json(shown)
            }
            ("DELETE", Some(_), Some(i)) => {
                hooks.remove(i);
                ResponseTemplate::new(204)
            }
            (_, Some(_), None) => ResponseTemplate::new(404)
                .insert_header("trackingid", "TRK_404")
                .set_body_json(json!({"message": "The requested resource could not be found."})),
            _ => ResponseTemplate::new(405),
        }
    }

    pub async fn mount(&self, server: &MockServer) {
        let me = self.clone();
        Mock::given(path_regex("^/v1/webhooks(/.*)?$"))
            .respond_with(move |req: &Request| me.respond(req))
            .mount(server)
            .await;
    }
}

/// How many requests with this method reached a path starting with `prefix`.
pub async fn count(server: &MockServer, method: &str, prefix: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == method && r.url.path().starts_with(prefix))
        .count()
}
