//! The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver by fantoccini), plus its HTTP-level refusals.
//!
//! Screenshots land in `$CARGO_TARGET_DIR/tmp/console-screenshots/` (`target/tmp/…` by default).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use call_analysis::transcript::{Cue, Transcript};
use call_analysis::{Sentiment, SentimentLabel};
use chrono::{TimeZone, Utc};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::startup::Role;

use crate::support::{Db, TestApp, TestDb};

const KEY: &str = "console-test-key";
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

struct Console {
    app: TestApp,
    _db: TestDb,
    _data: tempfile::TempDir,
}

async fn console() -> Console {
    let db = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().expect("temp dir");
    seed(&db, data.path()).await;
    let data_dir = data.path().display().to_string();
    let app = TestApp::spawn(
        &db.url,
        Role::All,
        &[("API_TOKEN", KEY), ("DATA_DIR", &data_dir)],
    )
    .await;
    Console {
        app,
        _db: db,
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
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let deadline = Instant::now() + Duration::from_secs(15);
    while js(client, script).await != Value::Bool(true) {
        assert!(Instant::now() < deadline, "never true: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

async fn assert_no_horizontal_scroll(client: &Client, page: &str) {
    let fits = js(
        client,
        "return document.documentElement.scrollWidth <= window.innerWidth",
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
    let token = client
        .find(Locator::Css("input[name=token]"))
        .await
        .expect("token field");
    token.send_keys("not-the-key").await.expect("type");
    token.send_keys("\u{E007}").await.expect("enter");
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
    let token = client
        .find(Locator::Css("input[name=token]"))
        .await
        .expect("token field");
    token.send_keys(KEY).await.expect("type");
    token.send_keys("\u{E007}").await.expect("enter");
    eventually(
        &client,
        "return document.querySelectorAll('[data-recording-id]').length === 2",
    )
    .await;
    assert_eq!(client.current_url().await.expect("url").path(), "/");

    // A word said in one call finds that call only, highlighted.
    let q = client
        .find(Locator::Css("input[name=q]"))
        .await
        .expect("search box");
    q.send_keys("REEMBOLSO\u{E007}").await.expect("search");
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
    let session = cookie.split(';').next().expect("name=value").to_string();

    // The session's cookie does not make a cross-site delete work.
    let delete = http
        .post(format!("{base}/recordings/call-a/delete"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(delete.status(), 403);
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
}
