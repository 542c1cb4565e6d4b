//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver by fantoccini), plus its HTTP-level refusals.
//!
//! Screenshots land in `$CARGO_TARGET_DIR/tmp/console-screenshots/` (`target/tmp/…` by default).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use call_analysis::redact::{RedactKind, Redaction};
use call_analysis::transcript::{Cue, Transcript};
use call_analysis::{Sentiment, SentimentLabel};
use chrono::{TimeZone, Utc};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use webex_recordings::access::{RandomToken, Role as KeyRole};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::startup::Role;

use crate::support::{BOTH, Db, TestApp, TestDb, wait_until};

pub(crate) const KEY: &str = "console-test-key";
/// The cue the test plays from, in seconds.
const CUE_START: f64 = 12.0;

/// Two calls; `call-a` has audio, cues and the word "reembolso", `call-b` neither.
async fn seed(db: &TestDb, data_dir: &Path) {
    let at = |day| {
        Utc.with_ymd_and_hms(2026, 11, day, 9, 30, 0)
            .single()
            .expect("date")
    };
    let audio = data_dir.join("recordings/2026/11/20/call-a.wav");
    std::fs::create_dir_all(audio.parent().expect("folder")).expect("mkdir");
    std::fs::write(&audio, wav_seconds(20)).expect("write audio");

    let cues = vec![
        cue(0, 4, "Agente", "Buenos días, ¿en qué puedo ayudarle?"),
        cue(
            4,
            12,
            "Cliente",
            "Me han cobrado dos veces la factura <b>de octubre</b>.",
        ),
        cue(12, 18, "Agente", "Le tramito el reembolso ahora mismo."),
    ];
    let transcript = Transcript { cues };
    let mut a = Recording::pending(RecordingId::parse("call-a").expect("id"), at(20));
    a.timestamp = Some(at(20));
    a.processing_status = ProcessingStatus::Completed;
    a.caller = Some("+34910000001".into());
    a.caller_name = Some("Ana García".into());
    a.callee_name = Some("Soporte".into());
    a.duration = Some(20.0);
    a.transcript_text = Some(transcript.text());
    a.transcript_cues = Some(transcript);
    a.summary_text = Some("El cliente pide un reembolso por una factura duplicada.".into());
    a.key_topics = vec!["factura".into(), "reembolso".into()];
    a.sentiment = Some(
        Sentiment {
            score: -0.45,
            label: SentimentLabel::Negative,
        }
        .into(),
    );
    a.detected_language = Some("es".into());
    a.audio_local_path = Some(audio.display().to_string());
    a.audio_format = Some("wav".into());
    a.quality_score = Some(1.0);
    a.call_metrics = Some(call_analysis::call_metrics::compute(
        &a.transcript_cues.as_ref().expect("cues").cues,
        Some(18_000),
    ));
    webex_recordings::domain::derive_insight(&mut a);
    a.redactions = vec![Redaction {
        kind: RedactKind::Card,
        start: Some(4.0),
        end: Some(12.0),
    }];

    let mut b = Recording::pending(RecordingId::parse("call-b").expect("id"), at(21));
    b.timestamp = Some(at(21));
    b.processing_status = ProcessingStatus::Partial;
    b.caller_name = Some("Luis Pérez".into());
    b.transcript_text = Some("Consulta sobre la fibra óptica.".into());
    for r in [a, b] {
        db.store.upsert_recording(&r).await.expect("seed");
    }
}

fn cue(from: u64, to: u64, speaker: &str, text: &str) -> Cue {
    Cue {
        start_ms: from * 1000,
        end_ms: to * 1000,
        speaker: Some(speaker.into()),
        text: text.into(),
    }
}

/// A quiet 440 Hz tone as 8 kHz 16-bit mono PCM WAV: something Chromium can decode and seek.
fn wav_seconds(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let samples = rate * seconds;
    let mut wav = Vec::with_capacity(44 + samples as usize * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let v = ((t * 440.0 * std::f64::consts::TAU).sin() * 2000.0) as i16;
        wav.extend_from_slice(&v.to_le_bytes());
    }
    wav
}

pub(crate) struct Console {
    pub(crate) app: TestApp,
    db: TestDb,
    /// A key of each role but admin (the admin key is `KEY`, as `API_TOKEN`).
    keys: HashMap<KeyRole, String>,
    _data: tempfile::TempDir,
}

impl Console {
    fn key(&self, role: KeyRole) -> &str {
        if role == KeyRole::Admin {
            KEY
        } else {
            &self.keys[&role]
        }
    }
}

pub(crate) async fn console() -> Console {
    console_on(Db::Sqlite).await
}

async fn console_on(backend: Db) -> Console {
    let db = TestDb::new(backend).await;
    let data = tempfile::tempdir().expect("temp dir");
    seed(&db, data.path()).await;
    let mut keys = HashMap::new();
    for role in [KeyRole::Viewer, KeyRole::Supervisor, KeyRole::Auditor] {
        let key = RandomToken::generate("wrk_");
        db.store
            .create_key(&role.to_string(), role, &key.hash())
            .await
            .expect("key");
        keys.insert(role, key.expose().to_string());
    }
    let data_dir = data.path().display().to_string();
    let app = TestApp::spawn(
        &db.url,
        Role::All,
        &[("API_TOKEN", KEY), ("DATA_DIR", &data_dir)],
    )
    .await;
    Console {
        app,
        db,
        keys,
        _data: data,
    }
}

/// chromedriver on a free loopback port, stopped with the test.
struct Driver {
    child: tokio::process::Child,
    _profile: tempfile::TempDir,
}

async fn browser() -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver must be installed (scripts/services/30-chromium.sh)");
    let url = format!("http://127.0.0.1:{port}/");
    wait_until(
        Duration::from_secs(20),
        "chromedriver started",
        async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await;
    let profile = tempfile::tempdir().expect("profile dir");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                format!("--user-data-dir={}", profile.path().display()),
                "--window-size=1280,800",
            ],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await
        .expect("a Chromium session");
    (
        Driver {
            child,
            _profile: profile,
        },
        client,
    )
}

/// chromedriver's browser log (`/se/log`): what the page printed to its console since last read.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

async fn console_errors(client: &Client) -> Vec<String> {
    let entries = client.issue_cmd(BrowserLog).await.expect("browser log");
    entries
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.expect(script)
}

/// Polls `script` until it returns true (the page works asynchronously: media, navigation).
async fn eventually(client: &Client, script: &str) {
    wait_until(Duration::from_secs(15), script, async || {
        js(client, script).await == Value::Bool(true)
    })
    .await;
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// Types `key` into the sign-in form on screen and sends it.
async fn submit_key(client: &Client, key: &str) {
    let token = client
        .find(Locator::Css("input[name=token]"))
        .await
        .expect("token field");
    token.send_keys(key).await.expect("type");
    token.send_keys("\u{E007}").await.expect("enter");
}

/// Signs in with `key` and waits for the calls page.
async fn sign_in(client: &Client, base: &str, key: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");
    submit_key(client, key).await;
    eventually(client, "return location.pathname === '/'").await;
}

async fn sign_out(client: &Client) {
    click(client, "form[action='/logout'] button").await;
    eventually(client, "return location.pathname === '/login'").await;
}

/// Types `text` into the field `css` (keys such as Enter as `\u{E007}`).
async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn text_of(client: &Client, css: &str) -> String {
    let text = js(
        client,
        &format!("const e = document.querySelector({css:?}); return e ? e.textContent : null"),
    )
    .await;
    text.as_str()
        .unwrap_or_else(|| panic!("nothing matches {css}"))
        .to_string()
}

async fn exists(client: &Client, css: &str) -> bool {
    js(
        client,
        &format!("return document.querySelector({css:?}) !== null"),
    )
    .await
        == Value::Bool(true)
}

async fn assert_no_horizontal_scroll(client: &Client, page: &str) {
    let fits = js(
        client,
        // clientWidth: the width left beside a vertical scrollbar, if the page has one.
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth",
    )
    .await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "{page} scrolls sideways at 390×844"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_search_open_and_play_a_call_in_chromium() {
    let c = console().await;
    let (mut driver, client) = browser().await;
    let base = &c.app.base;

    // A wrong key is refused and the form comes back with an error.
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");
    submit_key(&client, "not-the-key").await;
    let error = client
        .find(Locator::Css(".error"))
        .await
        .expect("an error shown");
    assert!(error.text().await.expect("text").contains("not valid"));
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/login")
    );

    // The right key signs in and lands on the calls.
    submit_key(&client, KEY).await;
    eventually(
        &client,
        "return document.querySelectorAll('[data-recording-id]').length === 2",
    )
    .await;
    assert_eq!(client.current_url().await.expect("url").path(), "/");

    // A word said in one call finds that call only, highlighted.
    type_into(&client, "input[name=q]", "REEMBOLSO\u{E007}").await;
    eventually(
        &client,
        "return location.search.includes('q=') && document.querySelectorAll('[data-recording-id]').length === 1",
    )
    .await;
    let hit = client
        .find(Locator::Css("[data-recording-id]"))
        .await
        .expect("one call");
    assert_eq!(
        hit.attr("data-recording-id")
            .await
            .expect("attr")
            .as_deref(),
        Some("call-a")
    );
    let mark = client
        .find(Locator::Css("[data-recording-id] .highlight mark"))
        .await
        .expect("mark");
    assert_eq!(mark.text().await.expect("text").to_lowercase(), "reembolso");
    screenshot(&client, "calls.png").await;

    // Open it: summary, sentiment, and the cue's text shown as text (its markup escaped).
    client
        .find(Locator::Css("[data-recording-id] a"))
        .await
        .expect("link")
        .click()
        .await
        .expect("open");
    eventually(&client, "return location.pathname === '/recordings/call-a'").await;
    let summary = client
        .find(Locator::Css(".summary"))
        .await
        .expect("summary");
    assert!(
        summary
            .text()
            .await
            .expect("text")
            .contains("reembolso por una factura duplicada")
    );
    let sentiment = client
        .find(Locator::Css(".sentiment"))
        .await
        .expect("sentiment");
    assert!(sentiment.text().await.expect("text").contains("negative"));
    let cue_text = js(
        &client,
        "return document.querySelector('.cue[data-start=\"4\"]').textContent",
    )
    .await;
    assert!(
        cue_text
            .as_str()
            .is_some_and(|t| t.contains("<b>de octubre</b>")),
        "{cue_text}"
    );

    // Play from a cue: the audio's position moves to the cue's start and the cue is marked.
    eventually(
        &client,
        "return document.getElementById('player').readyState >= 1",
    )
    .await;
    let cue = client
        .find(Locator::Css(&format!(".cue[data-start=\"{CUE_START}\"]")))
        .await
        .expect("the cue");
    cue.click().await.expect("click the cue");
    eventually(
        &client,
        &format!(
            "const t = document.getElementById('player').currentTime; return t >= {CUE_START} && t < {CUE_START} + 3"
        ),
    )
    .await;
    eventually(
        &client,
        "return document.querySelector('.cue.playing') !== null",
    )
    .await;
    screenshot(&client, "call.png").await;

    // The insight panel: two sentiment lines over the quarters; the swap changes the agent.
    let lines = js(
        &client,
        "return document.querySelectorAll('.quarter-chart polyline').length",
    )
    .await;
    assert_eq!(lines, json!(2));
    let agent = "return document.querySelector('.role-agent').textContent";
    assert_eq!(js(&client, agent).await, json!("Agente"));
    client
        .find(Locator::Css("button.swap-roles"))
        .await
        .expect("swap button")
        .click()
        .await
        .expect("swap");
    eventually(
        &client,
        "return document.querySelector('.role-agent').textContent === 'Cliente'",
    )
    .await;

    // A phone-size window scrolls only up and down, on both pages.
    client.set_window_size(390, 844).await.expect("resize");
    assert_no_horizontal_scroll(&client, "the call page").await;
    client
        .goto(&format!("{base}/?q=factura"))
        .await
        .expect("calls page");
    assert_no_horizontal_scroll(&client, "the calls page").await;
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");

    let errors = console_errors(&client).await;
    assert!(errors.is_empty(), "browser console errors: {errors:?}");
    client.close().await.expect("close the browser");
    let _ = driver.child.kill().await;
}

#[tokio::test]
async fn forms_from_another_origin_and_unknown_pages_are_refused() {
    let c = console().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = &c.app.base;

    let login = |origin: &str, token: &str| {
        http.post(format!("{base}/login"))
            .header("origin", origin.to_string())
            .form(&[("token", token.to_string())])
            .send()
    };
    let wrong = login(base, "nope").await.expect("post");
    assert!(wrong.headers().get("set-cookie").is_none());
    let form_again = wrong.text().await.expect("body");
    assert!(form_again.contains("name=\"token\"") && form_again.contains("not valid"));
    let cross_site = login("https://evil.example", KEY).await.expect("post");
    assert_eq!(cross_site.status(), 403);
    assert!(cross_site.headers().get("set-cookie").is_none());

    // Behind a proxy that ends TLS the page is https while this listener is plain HTTP.
    let through_tls_proxy = base.replacen("http://", "https://", 1);
    let proxied = login(&through_tls_proxy, KEY).await.expect("post");
    assert_eq!(proxied.status(), 303, "signed in through a TLS proxy");
    assert!(
        proxied.headers()["set-cookie"]
            .to_str()
            .unwrap_or_default()
            .contains("Secure"),
        "the browser is on HTTPS: the cookie is Secure"
    );

    // A proxy that says it ended TLS: a plain-HTTP page of the same host is not ours.
    for (origin, expected) in [(&through_tls_proxy, 303), (base, 403)] {
        let answer = http
            .post(format!("{base}/login"))
            .header("origin", origin.as_str())
            .header("x-forwarded-proto", "https")
            .form(&[("token", KEY)])
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), expected, "{origin}");
    }

    let signed_in = login(base, KEY).await.expect("post");
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let session = cookie.split(';').next().expect("name=value").to_string();

    // The session's cookie does not make a cross-site delete work, nor keep the session alive.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&c.db.url)
        .await
        .expect("db");
    let hours_ago = chrono::Utc::now().timestamp_millis() - 11 * 3_600_000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(hours_ago)
        .execute(&mut db)
        .await
        .expect("age the session");
    let delete = http
        .post(format!("{base}/recordings/call-a/delete"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(delete.status(), 403);
    assert_eq!(last_seen(&mut db).await, hours_ago);
    let page = http
        .get(format!("{base}/recordings/call-a"))
        .header("cookie", &session)
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("body")
            .contains("status-completed")
    );
    assert!(last_seen(&mut db).await > hours_ago, "its own page does");

    let unknown = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let signed_out = http.get(format!("{base}/")).send().await.expect("get");
    assert_eq!(signed_out.status(), 303, "no session: to the sign-in page");

    // Each sign-in and each wrong key is on the audit log; the key tried never is.
    let audited = |action: &'static str| {
        let request = http
            .get(format!("{base}/api/v1/audit?action={action}"))
            .bearer_auth(KEY);
        async move {
            let page: Value = request
                .send()
                .await
                .expect("audit")
                .json()
                .await
                .expect("json");
            page["items"].as_array().cloned().unwrap_or_default()
        }
    };
    for (action, actor, status, times) in [
        ("login", "api-token", 303, 3),
        ("login.failed", "anonymous", 200, 1),
    ] {
        let items = audited(action).await;
        assert_eq!(items.len(), times, "{action}: {items:?}");
        assert_eq!(items[0]["actor"], actor, "{action}");
        assert_eq!(items[0]["status"], status, "{action}");
        assert_eq!(items[0]["ip"], "127.0.0.1", "{action}");
        assert!(items[0]["detail"].is_null(), "{action}: {items:?}");
    }
    // So is the cross-site delete, under the session's key.
    let items = audited("recording.delete").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let refused = &items[0];
    assert_eq!(
        (
            &refused["actor"],
            &refused["status"],
            &refused["recording_id"]
        ),
        (&json!("api-token"), &json!(403), &json!("call-a")),
        "{items:?}"
    );
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("own pages")),
        "{items:?}"
    );
}

async fn last_seen(db: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query_scalar("SELECT MAX(last_seen_at) FROM sessions")
        .fetch_one(db)
        .await
        .expect("the sessions' latest use")
}

#[tokio::test]
async fn rotating_api_token_ends_its_console_sessions_but_not_those_of_keys() {
    let db = TestDb::new(Db::Sqlite).await;
    let viewer = RandomToken::generate("wrk_");
    db.store
        .create_key("val", KeyRole::Viewer, &viewer.hash())
        .await
        .expect("key");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let sign_in = |app: &TestApp, token: &str| {
        http.post(format!("{}/login", app.base))
            .header("origin", app.base.clone())
            .form(&[("token", token.to_string())])
            .send()
    };
    let calls_page = |app: &TestApp, cookie: &str| {
        http.get(format!("{}/", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let cookie_of = |answer: reqwest::Response| {
        assert_eq!(answer.status(), 303);
        answer.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("name=value")
            .to_string()
    };

    let before = TestApp::spawn(&db.url, Role::All, &[("API_TOKEN", "first-api-token")]).await;
    let admin = cookie_of(sign_in(&before, "first-api-token").await.expect("post"));
    let val = cookie_of(sign_in(&before, viewer.expose()).await.expect("post"));
    for cookie in [&admin, &val] {
        assert_eq!(
            calls_page(&before, cookie).await.expect("get").status(),
            200
        );
    }
    before.stop().await;

    let after = TestApp::spawn(&db.url, Role::All, &[("API_TOKEN", "second-api-token")]).await;
    let ended = calls_page(&after, &admin).await.expect("get");
    assert_eq!(ended.status(), 303, "the old token's session has ended");
    assert_eq!(ended.headers()["location"], "/login");
    assert_eq!(calls_page(&after, &val).await.expect("get").status(), 200);
    after.stop().await;
}

/// The browser's console errors, less the status line Chromium prints for a page answered
/// 403 on purpose (`expected`, a path).
async fn unexpected_console_errors(client: &Client, expected: &str) -> Vec<String> {
    console_errors(client)
        .await
        .into_iter()
        .filter(|e| !(e.contains(expected) && e.contains("403")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_see_their_actions_hold_a_call_track_phrases_and_read_the_audit_log_in_chromium() {
    let c = console().await;
    let (mut driver, client) = browser().await;
    let base = &c.app.base;

    // A viewer: no destroying or hold actions, no audit link, and /audit is a readable 403 page.
    sign_in(&client, base, c.key(KeyRole::Viewer)).await;
    assert!(!exists(&client, "nav a[href='/audit']").await);
    assert!(exists(&client, "nav a[href='/trackers']").await);
    client
        .goto(&format!("{base}/recordings/call-a"))
        .await
        .expect("call page");
    for absent in [
        "form[action$='/delete']",
        "form[action$='/reprocess']",
        "form[action$='/hold']",
    ] {
        assert!(!exists(&client, absent).await, "a viewer sees {absent}");
    }
    assert!(
        exists(&client, "a[download]").await,
        "download is for everyone"
    );
    client
        .goto(&format!("{base}/audit"))
        .await
        .expect("audit page");
    assert_eq!(text_of(&client, "h1").await, "Not allowed");
    assert!(
        exists(&client, "nav a[href='/trackers']").await,
        "the 403 page keeps the navigation"
    );
    assert!(!exists(&client, "nav a[href='/audit']").await);
    let errors = unexpected_console_errors(&client, "/audit").await;
    assert!(errors.is_empty(), "browser console errors: {errors:?}");
    client.goto(&format!("{base}/")).await.expect("calls");
    sign_out(&client).await;

    // An auditor puts the call on hold with a reason and sees it; still no delete button.
    sign_in(&client, base, c.key(KeyRole::Auditor)).await;
    client
        .goto(&format!("{base}/recordings/call-a"))
        .await
        .expect("call page");
    assert!(!exists(&client, "form[action$='/delete']").await);
    type_into(&client, "input[name=reason]", "case 2026-114").await;
    click(&client, "form[action$='/hold'] button").await;
    eventually(&client, "return location.search === '?notice=held'").await;
    assert!(text_of(&client, ".held").await.contains("case 2026-114"));
    assert!(text_of(&client, ".hold").await.contains("auditor"));
    assert!(exists(&client, "form[action$='/hold/release']").await);

    // The audit page lists the hold, filtered through the URL.
    click(&client, "nav a[href='/audit']").await;
    eventually(&client, "return location.pathname === '/audit'").await;
    type_into(&client, "input[name=action]", "hold.set\u{E007}").await;
    eventually(
        &client,
        "return location.search.includes('action=hold.set') && document.querySelectorAll('tr.audit-entry').length === 1",
    )
    .await;
    let entry = text_of(&client, "tr.audit-entry").await;
    assert!(
        entry.contains("call-a") && entry.contains("case 2026-114") && entry.contains("auditor"),
        "{entry}"
    );
    click(&client, ".exports a[href^='/audit']").await;
    eventually(
        &client,
        "return document.querySelector('.chain-ok') !== null",
    )
    .await;
    client.goto(&format!("{base}/audit")).await.expect("audit");
    screenshot(&client, "audit.png").await;
    sign_out(&client).await;

    // A supervisor creates a tracker; once stored calls are evaluated it matches the one call
    // where the phrase was said, and the call page marks the moment on the timeline.
    sign_in(&client, base, c.key(KeyRole::Supervisor)).await;
    click(&client, "nav a[href='/trackers']").await;
    eventually(&client, "return location.pathname === '/trackers'").await;
    type_into(&client, "input[name=name]", "refunds").await;
    client
        .find(Locator::Css("textarea[name=rules]"))
        .await
        .expect("rules field")
        .clear()
        .await
        .expect("clear");
    type_into(
        &client,
        "textarea[name=rules]",
        r#"[{"phrase": ["reembolso"]}]"#,
    )
    .await;
    click(&client, ".tracker-form button[type=submit]").await;
    eventually(&client, "return location.pathname === '/trackers/refunds'").await;
    wait_until(
        Duration::from_secs(30),
        "the re-evaluation finished",
        async || {
            client
                .goto(&format!("{base}/trackers"))
                .await
                .expect("trackers");
            exists(&client, "tr[data-tracker='refunds'] .progress-done").await
        },
    )
    .await;
    assert_eq!(
        text_of(&client, "tr[data-tracker='refunds'] .matches").await,
        "1"
    );
    screenshot(&client, "trackers.png").await;
    client
        .goto(&format!("{base}/recordings/call-a"))
        .await
        .expect("call page");
    assert!(text_of(&client, ".tracker-hits").await.contains("refunds"));
    eventually(
        &client,
        "return document.getElementById('player').readyState >= 1",
    )
    .await;
    click(&client, ".timeline .mark").await;
    eventually(
        &client,
        &format!(
            "const t = document.getElementById('player').currentTime; return t >= {CUE_START} && t < {CUE_START} + 3"
        ),
    )
    .await;

    // A redaction's time plays from there too.
    assert!(text_of(&client, ".redactions").await.contains("card"));
    click(&client, ".redactions button[data-seek]").await;
    eventually(
        &client,
        "const t = document.getElementById('player').currentTime; return t >= 4 && t < 7",
    )
    .await;
    screenshot(&client, "call-held-tracked.png").await;

    // Phone-size: the new pages scroll only up and down.
    client.set_window_size(390, 844).await.expect("resize");
    assert_no_horizontal_scroll(&client, "the call page with its marks").await;
    for page in ["/trackers", "/trackers/refunds"] {
        client.goto(&format!("{base}{page}")).await.expect(page);
        assert_no_horizontal_scroll(&client, page).await;
    }
    sign_out(&client).await;
    sign_in(&client, base, c.key(KeyRole::Auditor)).await;
    client.goto(&format!("{base}/audit")).await.expect("audit");
    assert_no_horizontal_scroll(&client, "/audit").await;
    screenshot(&client, "audit-phone.png").await;

    let errors = console_errors(&client).await;
    assert!(errors.is_empty(), "browser console errors: {errors:?}");
    client.close().await.expect("close the browser");
    let _ = driver.child.kill().await;
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A console session of `role`'s key: the cookie to send.
async fn session(c: &Console, role: KeyRole) -> String {
    let answer = no_redirects()
        .post(format!("{}/login", c.app.base))
        .header("origin", &c.app.base)
        .form(&[("token", c.key(role))])
        .send()
        .await
        .expect("post");
    assert_eq!(answer.status(), 303, "{role} signs in");
    let cookie = answer.headers()["set-cookie"].to_str().expect("cookie");
    cookie.split(';').next().expect("name=value").to_string()
}

/// A console form sent from the console's own origin: (status, body).
async fn post_form(c: &Console, session: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let answer = no_redirects()
        .post(format!("{}{path}", c.app.base))
        .header("origin", &c.app.base)
        .header("cookie", session)
        .form(form)
        .send()
        .await
        .expect("post");
    let status = answer.status().as_u16();
    (status, answer.text().await.expect("body"))
}

async fn get_page(c: &Console, session: &str, path: &str) -> (u16, String) {
    let answer = no_redirects()
        .get(format!("{}{path}", c.app.base))
        .header("cookie", session)
        .send()
        .await
        .expect("get");
    let status = answer.status().as_u16();
    let html = answer.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html");
    assert!(html, "{path} answers a page");
    (status, answer.text().await.expect("body"))
}

#[tokio::test]
async fn refusals_are_pages_bad_trackers_store_nothing_and_console_changes_are_audited() {
    for backend in BOTH {
        let c = console_on(backend).await;
        let viewer = session(&c, KeyRole::Viewer).await;
        let supervisor = session(&c, KeyRole::Supervisor).await;
        let auditor = session(&c, KeyRole::Auditor).await;
        let call_a = RecordingId::parse("call-a").expect("id");

        // A role without access gets a readable 403 page, and nothing changes.
        let (status, page) = get_page(&c, &viewer, "/audit").await;
        assert_eq!(status, 403, "{backend:?}");
        assert!(
            page.contains("Not allowed")
                && page.contains("The viewer role may not read the audit log")
                && page.contains("auditor and admin may"),
            "{page}"
        );
        let (status, page) =
            post_form(&c, &viewer, "/recordings/call-a/hold", &[("reason", "x")]).await;
        assert_eq!((status, page.contains("Not allowed")), (403, true));
        let refused_tracker = [
            ("name", "t1"),
            ("match", "any"),
            ("rules", r#"[{"language": "es"}]"#),
        ];
        let (status, _) = post_form(&c, &viewer, "/trackers", &refused_tracker).await;
        assert_eq!(status, 403);
        let (status, _) = post_form(&c, &auditor, "/trackers/t1/delete", &[]).await;
        assert_eq!(status, 403, "auditors do not manage trackers");

        // Bad tracker definitions come back as the page with the error; nothing is stored.
        for (rules, error) in [
            ("not json", "not valid JSON"),
            (r#"[{"bogus": 1}]"#, "rules[0]"),
            ("[]", "between 1 and"),
        ] {
            let (status, page) = post_form(
                &c,
                &supervisor,
                "/trackers",
                &[("name", "refunds"), ("rules", rules)],
            )
            .await;
            assert_eq!(status, 400, "{backend:?} {rules}");
            assert!(
                page.contains(error) && page.contains("class=\"error\""),
                "{rules}: {page}"
            );
            assert!(
                page.contains("value=\"refunds\""),
                "the form keeps what was typed"
            );
        }
        assert!(c.db.store.list_trackers().await.expect("list").is_empty());
        // A good one is created, and a second of the same name is refused on the page.
        let good = [
            ("name", "refunds"),
            ("match", "any"),
            ("rules", r#"[{"phrase": ["reembolso"]}]"#),
        ];
        assert_eq!(post_form(&c, &supervisor, "/trackers", &good).await.0, 303);
        let (status, page) = post_form(&c, &supervisor, "/trackers", &good).await;
        assert_eq!((status, page.contains("exists")), (409, true));
        let (status, page) =
            post_form(&c, &supervisor, "/trackers/refunds", &[("rules", "[")]).await;
        assert_eq!((status, page.contains("not valid JSON")), (400, true));
        let stored =
            c.db.store
                .get_tracker("refunds")
                .await
                .expect("get")
                .expect("kept");
        assert_eq!(
            stored.definition.rules.len(),
            1,
            "a refused edit changes nothing"
        );
        let (status, page) = get_page(&c, &viewer, "/trackers/refunds").await;
        assert_eq!(status, 200);
        assert!(
            !page.contains("<textarea") && page.contains("reembolso"),
            "read-only for viewers"
        );

        // A hold needs a reason; set and release from the console are audited like the API's.
        let (status, page) =
            post_form(&c, &auditor, "/recordings/call-a/hold", &[("reason", "  ")]).await;
        assert_eq!((status, page.contains("reason")), (400, true));
        assert!(
            c.db.store
                .get_recording(&call_a)
                .await
                .expect("get")
                .expect("call")
                .legal_hold
                .is_none()
        );
        let (status, _) = post_form(
            &c,
            &auditor,
            "/recordings/call-a/hold",
            &[("reason", "case 9")],
        )
        .await;
        assert_eq!(status, 303);
        let held =
            c.db.store
                .get_recording(&call_a)
                .await
                .expect("get")
                .expect("call");
        assert_eq!(
            held.legal_hold.map(|h| (h.reason, h.by)),
            Some(("case 9".into(), "auditor".into()))
        );
        let (status, page) = get_page(&c, &auditor, "/recordings/call-a").await;
        assert_eq!(status, 200);
        assert!(page.contains("case 9") && page.contains("/hold/release"));
        assert_eq!(
            post_form(&c, &auditor, "/recordings/call-a/hold/release", &[])
                .await
                .0,
            303
        );

        let filter = webex_recordings::store::AuditFilter {
            limit: 1000,
            ..Default::default()
        };
        let (_, entries) = c.db.store.list_audit(&filter).await.expect("audit");
        let has = |action: &str, actor: &str, status: u16| {
            entries.iter().any(|e| {
                e.entry.action == action && e.entry.actor == actor && e.entry.status == status
            })
        };
        for (action, actor, status) in [
            ("audit.read", "viewer", 403),
            ("hold.set", "viewer", 403),
            ("tracker.create", "viewer", 403),
            ("tracker.create", "supervisor", 400),
            ("tracker.create", "supervisor", 303),
            ("tracker.create", "supervisor", 409),
            ("tracker.update", "supervisor", 400),
            ("hold.set", "auditor", 400),
            ("hold.set", "auditor", 303),
            ("hold.release", "auditor", 303),
        ] {
            assert!(
                has(action, actor, status),
                "{backend:?}: no {action} by {actor} with {status}"
            );
        }
        // One entry per change: written with the change, none added by the access layer.
        for action in ["hold.set", "hold.release"] {
            let written = entries
                .iter()
                .filter(|e| e.entry.action == action && e.entry.status == 303)
                .count();
            assert_eq!(written, 1, "{backend:?} {action}");
        }
        let set = entries
            .iter()
            .find(|e| e.entry.action == "hold.set" && e.entry.status == 303)
            .expect("hold.set");
        assert_eq!(set.entry.detail.as_deref(), Some("case 9"));
        assert_eq!(set.entry.recording_id.as_deref(), Some("call-a"));
        // A tracker change names its tracker.
        let created = entries
            .iter()
            .find(|e| e.entry.action == "tracker.create" && e.entry.status == 303)
            .expect("tracker.create");
        assert!(
            created
                .entry
                .detail
                .as_deref()
                .is_some_and(|d| d.starts_with("tracker \"")),
            "{:?}",
            created.entry.detail
        );
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.entry.action == "hold.set" && e.entry.status == 303)
                .count(),
            1,
            "one entry, not two"
        );
        assert!(c.db.store.verify_audit().await.expect("verify").is_ok());

        // The audit page keeps its filters in the export links and names a bad value.
        let (status, page) = get_page(&c, &auditor, "/audit?action=hold.release").await;
        assert_eq!(status, 200);
        let export = page
            .split("href=\"")
            .find(|h| h.starts_with("/api/v1/audit?action=hold.release"))
            .expect("an export link with the filter");
        assert!(
            export
                .split('"')
                .next()
                .is_some_and(|h| h.ends_with("format=csv")),
            "{export}"
        );
        assert_eq!(page.matches("class=\"audit-entry\"").count(), 1, "{page}");
        let (status, page) = get_page(&c, &auditor, "/audit?from=yesterday").await;
        assert_eq!(status, 400);
        assert!(page.contains("from: expected a date"), "{page}");
        assert_eq!(page.matches("class=\"audit-entry\"").count(), 0, "{page}");
        c.app.stop().await;
    }
}

/// A deleted call's page offers nothing that would fail: its audio is no longer served (410)
/// and it is not processed again (409).
#[tokio::test]
async fn a_deleted_call_offers_no_action_that_would_fail() {
    let c = console_on(Db::Sqlite).await;
    let admin = session(&c, KeyRole::Admin).await;
    let offers = ["/reprocess\"", "/delete\"", "<audio", "Download audio"];
    let (status, page) = get_page(&c, &admin, "/recordings/call-a").await;
    assert_eq!(status, 200);
    for hook in offers {
        assert!(page.contains(hook), "{hook} is offered: {page}");
    }
    let (status, _) = post_form(&c, &admin, "/recordings/call-a/delete", &[]).await;
    assert_eq!(status, 303);
    let (status, page) = get_page(&c, &admin, "/recordings/call-a").await;
    assert_eq!(status, 200);
    assert!(page.contains("status-deleted"), "{page}");
    for hook in offers {
        assert!(!page.contains(hook), "{hook} is gone: {page}");
    }
}
