//! The public listener as an attacker meets it: who may start an OAuth login and finish it,
//! failed-key rate limits, timeouts at the door, the connection cap, private files, readiness
//! that means "can write", and error bodies that say what went wrong but not how.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;
use webex_recordings::access::{Principal, Role};
use webex_recordings::startup::Role as ServeRole;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_webex::{ES_ID, ES_VTT, FakeRecording, fake_webex, on, wait_final};
use crate::support::{BOTH, Db, TestApp, TestDb, WEBHOOK_SECRET, envelope, wait_until};

const ADMIN_KEY: &str = "admin-key-for-tests";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A fake Webex whose token endpoint must be called exactly `exchanges` times.
async fn token_endpoint(exchanges: u64) -> MockServer {
    let webex = MockServer::start().await;
    on("POST", "/v1/access_token")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-at", "expires_in": 3600,
            "refresh_token": "new-rt", "refresh_token_expires_in": 7776000
        })))
        .expect(exchanges)
        .mount(&webex)
        .await;
    webex
}

async fn oauth_app(db: &TestDb, webex: &MockServer) -> TestApp {
    let api = format!("{}/v1", webex.uri());
    TestApp::spawn(
        &db.url,
        ServeRole::Receiver,
        &[
            ("API_TOKEN", ADMIN_KEY),
            ("WEBEX_CLIENT_ID", "cid"),
            ("WEBEX_CLIENT_SECRET", "csecret"),
            ("WEBEX_API_URL", &api),
        ],
    )
    .await
}

/// Starts a login with the given request credentials; returns (state, binding cookie).
async fn start_login(app: &TestApp, auth: (&str, &str)) -> (String, String) {
    let r = client()
        .get(format!("{}/auth/login", app.base))
        .header(auth.0, auth.1)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 302, "an admin may start a login");
    let location = Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<String, String> = location.query_pairs().into_owned().collect();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let binding = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("wr_oauth="))
        .expect("binding cookie")
        .to_string();
    (q["state"].clone(), binding)
}

async fn callback(app: &TestApp, state: &str, binding: Option<&str>) -> reqwest::Response {
    let mut req = client().get(format!(
        "{}/auth/callback?code=the-code&state={state}",
        app.base
    ));
    if let Some(b) = binding {
        req = req.header("cookie", format!("wr_oauth={b}"));
    }
    req.send().await.expect("callback")
}

#[tokio::test]
async fn only_an_admin_starts_an_oauth_login_and_only_its_browser_finishes_it() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let webex = token_endpoint(1).await;
        let app = oauth_app(&t, &webex).await;

        // Without a key nothing starts; a wrong key neither.
        for auth in [None, Some("Bearer wrong")] {
            let mut req = client().get(format!("{}/auth/login", app.base));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401, "{db:?}");
            assert!(r.headers().get("set-cookie").is_none());
        }

        let bearer = format!("Bearer {ADMIN_KEY}");
        let (state, binding) = start_login(&app, ("authorization", &bearer)).await;
        assert!(state.len() >= 32);

        // A stranger holding the state (not the browser's cookie) exchanges nothing.
        assert_eq!(callback(&app, &state, None).await.status(), 403);
        assert_eq!(callback(&app, &state, Some("forged")).await.status(), 403);
        assert!(t.store.load_oauth_tokens().await.unwrap().is_none());

        // The browser that started it finishes it, once.
        let r = callback(&app, &state, Some(&binding)).await;
        assert_eq!(r.status(), 200, "{db:?}");
        let tokens = t.store.load_oauth_tokens().await.unwrap().expect("stored");
        assert_eq!(tokens.refresh_token, "new-rt");
        assert_eq!(callback(&app, &state, Some(&binding)).await.status(), 403);
        app.stop().await;
        webex.verify().await;
    }
}

#[tokio::test]
async fn a_console_session_of_an_admin_may_start_a_login_and_floods_evict_only_their_own() {
    let t = TestDb::new(Db::Sqlite).await;
    let webex = token_endpoint(1).await;
    let app = oauth_app(&t, &webex).await;

    // Alice, signed in to the console as an admin, starts a login first.
    let alice = webex_recordings::access::RandomToken::generate("wrs_");
    t.store
        .create_session(&alice.hash(), &Principal::new("alice", Role::Admin), None)
        .await
        .unwrap();
    let cookie = format!("wr_session={}", alice.expose());
    let (alice_state, alice_binding) = start_login(&app, ("cookie", &cookie)).await;

    // Another admin key starts many: its own oldest go, Alice's stays.
    let bearer = format!("Bearer {ADMIN_KEY}");
    let (first_state, first_binding) = start_login(&app, ("authorization", &bearer)).await;
    for _ in 0..10 {
        start_login(&app, ("authorization", &bearer)).await;
    }
    assert_eq!(
        callback(&app, &first_state, Some(&first_binding))
            .await
            .status(),
        403,
        "the flooder's own oldest state was evicted"
    );
    assert_eq!(
        callback(&app, &alice_state, Some(&alice_binding))
            .await
            .status(),
        200
    );

    // A viewer's session is signed in but may not hand the service a Webex account.
    let viewer = webex_recordings::access::RandomToken::generate("wrs_");
    t.store
        .create_session(&viewer.hash(), &Principal::new("val", Role::Viewer), None)
        .await
        .unwrap();
    let r = client()
        .get(format!("{}/auth/login", app.base))
        .header("cookie", format!("wr_session={}", viewer.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "forbidden");
    app.stop().await;
    webex.verify().await;
}

#[tokio::test]
async fn a_failed_exchange_answers_502_without_showing_where_webex_is() {
    // A server error, and a refused code (used, expired, or a wrong client secret).
    for (answer, says) in [(500, "500"), (400, "refused the authorization code")] {
        let t = TestDb::new(Db::Sqlite).await;
        let webex = MockServer::start().await;
        on("POST", "/v1/access_token")
            .respond_with(ResponseTemplate::new(answer).set_body_string("upstream stack trace"))
            .mount(&webex)
            .await;
        let app = oauth_app(&t, &webex).await;
        let bearer = format!("Bearer {ADMIN_KEY}");
        let (state, binding) = start_login(&app, ("authorization", &bearer)).await;
        let r = callback(&app, &state, Some(&binding)).await;
        assert_eq!(r.status(), 502, "Webex answered {answer}");
        let body = r.text().await.unwrap();
        let host = webex.address().to_string();
        assert!(!body.contains(&host), "{body}");
        assert!(!body.contains("stack trace"), "{body}");
        assert!(body.contains(says), "{body}");
        app.stop().await;
    }
}

#[tokio::test]
async fn twenty_failed_keys_from_one_address_get_429_until_the_minute_is_over() {
    let t = TestDb::new(Db::Sqlite).await;
    let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[("API_TOKEN", ADMIN_KEY)]).await;
    let http = client();
    let list = format!("{}/api/v1/recordings/", app.base);
    for i in 0..20 {
        let r = http.get(&list).bearer_auth("wrong").send().await.unwrap();
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    // The API with either key, and the console's pages (with their Retry-After too).
    for (what, r) in [
        ("wrong", http.get(&list).bearer_auth("wrong").send().await),
        ("right", http.get(&list).bearer_auth(ADMIN_KEY).send().await),
        (
            "the console",
            http.get(format!("{}/", app.base)).send().await,
        ),
    ] {
        let r = r.unwrap();
        assert_eq!(r.status(), 429, "{what}");
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    // Webex must always get through: signature failures are never limited.
    let body = serde_json::to_vec(&envelope("rec-1", "created")).unwrap();
    for _ in 0..25 {
        assert_eq!(app.post_webhook(&body, Some("bad")).await.status(), 401);
    }
    assert_eq!(
        app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status(),
        200
    );
    app.stop().await;
}

/// Reads until the server closes the connection; the time it took.
async fn time_to_close(mut socket: TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection was still open after {limit:?}"),
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_while_healthz_stays_fast() {
    let t = TestDb::new(Db::Sqlite).await;
    let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[]).await;

    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let slow = tokio::spawn(time_to_close(slow, Duration::from_secs(20)));

    // A keep-alive connection that answered one request, then went quiet.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 512];
    let n = idle.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    let idle = tokio::spawn(time_to_close(idle, Duration::from_secs(20)));

    for _ in 0..5 {
        let started = Instant::now();
        let r = client()
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let slow = slow.await.unwrap();
    assert!(
        slow >= Duration::from_secs(9),
        "closed only at the limit: {slow:?}"
    );
    idle.await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_slow_webex_or_a_stalled_body_gets_503_at_the_request_timeout() {
    let t = TestDb::new(Db::Sqlite).await;
    let webex = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&webex)
        .await;
    let api = format!("{}/v1", webex.uri());
    let app = TestApp::spawn(
        &t.url,
        ServeRole::Receiver,
        &[
            ("WEBEX_API_URL", &api),
            ("WEBEX_ACCESS_TOKEN", "token"),
            ("REQUEST_TIMEOUT", "1s"),
        ],
    )
    .await;
    let started = Instant::now();
    let r = client()
        .post(format!("{}/api/v1/recordings/fetch", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Cut off, it is on the audit log all the same.
    let audit = format!("{}/api/v1/audit?action=recording.fetch", app.base);
    let entries = async || -> Vec<Value> {
        let page: Value = client()
            .get(&audit)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["items"].as_array().cloned().unwrap_or_default()
    };
    wait_until(
        Duration::from_secs(5),
        "the fetch's audit entry",
        async || !entries().await.is_empty(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let written = entries().await;
    assert_eq!(written.len(), 1, "one entry: {written:?}");
    assert_eq!(written[0]["status"], 503);

    // A webhook body that stops arriving half-way is abandoned the same way.
    let mut socket = TcpStream::connect(app.addr).await.unwrap();
    socket
        .write_all(b"POST /webhooks/webex HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{\"id\":")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the stalled request was not abandoned");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 503"));
    app.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let t = TestDb::new(Db::Sqlite).await;
    let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[("MAX_CONNECTIONS", "16")]).await;
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let url = format!("{}/healthz", app.base);
    assert!(
        quick.get(&url).send().await.is_err(),
        "a 17th connection is not served while 16 are open"
    );
    held.clear();
    let r = quick
        .get(&url)
        .send()
        .await
        .expect("served once one closed");
    assert_eq!(r.status(), 200);
    app.stop().await;
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_database_and_every_stored_file_are_private_to_the_service_user() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("db/recordings.db");
    let url = format!("sqlite://{}", db_path.display());
    let data = dir.path().join("data");
    let server = fake_webex().await;
    FakeRecording::new(ES_ID, Some(ES_VTT)).mount(&server).await;
    let api = format!("{}/v1", server.uri());
    let data_dir = data.display().to_string();
    let app = TestApp::spawn(
        &url,
        ServeRole::All,
        &[
            ("WEBEX_API_URL", &api),
            ("WEBEX_ACCESS_TOKEN", "token"),
            ("DATA_DIR", &data_dir),
        ],
    )
    .await;
    let body = serde_json::to_vec(&envelope(ES_ID, "created")).unwrap();
    assert_eq!(
        app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status(),
        200
    );
    let store = webex_recordings::store::Store::connect(&secrecy::SecretString::from(url.clone()))
        .await
        .unwrap();
    wait_final(&store, ES_ID, Duration::from_secs(60)).await;

    for file in ["recordings.db", "recordings.db-wal", "recordings.db-shm"] {
        let p = db_path.with_file_name(file);
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    assert_eq!(mode(db_path.parent().unwrap()), 0o700);
    let mut seen = 0;
    let mut stack = vec![data.clone()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).unwrap();
        if meta.is_dir() {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            seen += 1;
        }
    }
    assert!(seen >= 2, "the audio and the transcript were written");
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_not_ready_while_the_database_cannot_take_a_write() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[]).await;
        let ready = || async {
            client()
                .get(format!("{}/readyz", app.base))
                .send()
                .await
                .unwrap()
        };
        assert_eq!(ready().await.status(), 200, "{db:?}");

        // Another client holds the write lock: reads still work, writes wait.
        sqlx::any::install_default_drivers();
        let mut blocker = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
            .await
            .unwrap();
        let lock = match db {
            Db::Sqlite => "BEGIN IMMEDIATE",
            Db::Postgres => "BEGIN; LOCK TABLE readiness_probe IN ACCESS EXCLUSIVE MODE",
        };
        sqlx::raw_sql(lock).execute(&mut blocker).await.unwrap();
        let r = ready().await;
        assert_eq!(r.status(), 503, "{db:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["ready"], false);
        assert_ne!(body["database"], "ok");
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut blocker)
            .await
            .unwrap();
        assert_eq!(ready().await.status(), 200, "{db:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_envelope_too_deep_for_the_worker_is_refused_at_the_door() {
    let t = TestDb::new(Db::Sqlite).await;
    let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[]).await;
    for depth in [40, 126, 127] {
        let mut nested = json!("x");
        for _ in 0..depth {
            nested = json!({ "n": nested });
        }
        let mut body = envelope("rec-deep", "created");
        body["data"]["extra"] = nested;
        let bytes = serde_json::to_vec(&body).unwrap();
        let r = app.post_webhook(&bytes, Some(WEBHOOK_SECRET)).await;
        assert_eq!(r.status(), 400, "depth {depth}");
    }
    let (ready, _) = t.store.queue_depth().await.unwrap();
    assert_eq!(ready, 0, "nothing was queued");
    app.stop().await;
}

#[tokio::test]
async fn without_a_webex_login_yet_webex_actions_answer_503_saying_to_sign_in() {
    let t = TestDb::new(Db::Sqlite).await;
    let webex = MockServer::start().await;
    let app = oauth_app(&t, &webex).await;
    let mut rec = webex_recordings::domain::Recording::pending(
        webex_recordings::domain::RecordingId::parse("r1").unwrap(),
        chrono::Utc::now(),
    );
    rec.processing_status = webex_recordings::domain::ProcessingStatus::Completed;
    t.store.upsert_recording(&rec).await.unwrap();
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/recordings/fetch"),
        (
            reqwest::Method::DELETE,
            "/api/v1/recordings/r1?delete_from_webex=true",
        ),
    ] {
        let r = client()
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let detail = r.json::<Value>().await.unwrap()["detail"].to_string();
        assert!(detail.contains("/auth/login"), "{path}: {detail}");
    }
    let kept = t
        .store
        .get_recording(&rec.recording_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.processing_status,
        webex_recordings::domain::ProcessingStatus::Completed
    );
    assert!(
        webex.received_requests().await.unwrap().is_empty(),
        "Webex was never asked"
    );
    app.stop().await;
}
