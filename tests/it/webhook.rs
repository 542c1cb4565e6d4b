//! The receiver: verify, publish with a confirm (or commit), then answer.

use std::time::Duration;

use serde_json::{Value, json};
use webex_recordings::startup::Role;

use crate::amqp::{Vhost, basic_get};
use crate::support::{BOTH, Db, TestApp, TestDb, WEBHOOK_SECRET, envelope};

fn process_queue_messages(vhost: &Vhost) -> u64 {
    vhost
        .json(&["list_queues", "name", "messages"])
        .iter()
        .filter(|q| q["name"] == "webex.recordings.process")
        .map(|q| q["messages"].as_u64().unwrap_or(0))
        .sum()
}

/// A receiver publishing to RabbitMQ in a vhost of its own, on a fresh SQLite store.
async fn rabbit_setup() -> (TestDb, Vhost, TestApp) {
    let db = TestDb::new(Db::Sqlite).await;
    let vhost = Vhost::new();
    let app = TestApp::spawn(&db.url, Role::Receiver, &[("AMQP_URL", &vhost.url())]).await;
    (db, vhost, app)
}

#[tokio::test]
async fn bad_deliveries_get_exact_statuses_and_publish_nothing() {
    let (_db, vhost, app) = rabbit_setup().await;

    let good = serde_json::to_vec(&envelope("rec-1", "created")).expect("json");
    let other_body = serde_json::to_vec(&envelope("rec-2", "created")).expect("json");
    let no_data_id = serde_json::to_vec(
        &json!({"resource": "convergedRecordings", "event": "created", "data": {}}),
    )
    .expect("json");
    let not_envelope = br#"{"hello": "world"}"#.to_vec();
    let mut unknown_resource = envelope("rec-3", "created");
    unknown_resource["resource"] = json!("messages");
    let unknown_resource = serde_json::to_vec(&unknown_resource).expect("json");
    let unsupported_event = serde_json::to_vec(&envelope("rec-4", "updated")).expect("json");
    let bad_id = serde_json::to_vec(&envelope("../../etc/passwd", "created")).expect("json");
    let huge = vec![b' '; 2 * 1024 * 1024];

    let sign = |body: &[u8]| webex_recordings::signature::sign(body, WEBHOOK_SECRET.as_bytes());
    // (what, body, signature header, expected status)
    let mut cases: Vec<(&str, Vec<u8>, Option<String>, u16)> = vec![
        ("no signature", good.clone(), None, 401),
        ("wrong signature", good.clone(), Some("0".repeat(40)), 401),
        (
            "signature of another body",
            good.clone(),
            Some(sign(&other_body)),
            401,
        ),
        (
            "signed with another secret",
            good.clone(),
            Some(webex_recordings::signature::sign(&good, b"other")),
            401,
        ),
    ];
    // Correctly signed: refused (or ignored) for what they say.
    let signed: [(&str, Vec<u8>, u16); 8] = [
        ("empty body", Vec::new(), 400),
        ("not JSON", b"not json".to_vec(), 400),
        ("JSON that is not an envelope", not_envelope, 400),
        ("envelope without data.id", no_data_id, 400),
        ("recording id that is a path", bad_id, 400),
        ("2 MB body", huge, 413),
        ("unknown resource", unknown_resource, 200),
        ("unsupported event", unsupported_event, 200),
    ];
    for (what, body, expected) in signed {
        let signature = sign(&body);
        cases.push((what, body, Some(signature), expected));
    }
    for (what, body, signature, expected) in cases {
        let mut req = app
            .http
            .post(format!("{}/webhooks/webex", app.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            req = req.header("x-spark-signature", sig);
        }
        let res = req.send().await.expect("response");
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expected, "{what}: {body}");
        if expected == 200 {
            assert_eq!(body["queued"], json!(false), "{what}: {body}");
            assert!(body["ignored"].is_string(), "{what}: {body}");
        } else {
            assert!(
                body["error"].is_string() && body["detail"].is_string(),
                "{what}: {body}"
            );
        }
    }
    assert_eq!(
        process_queue_messages(&vhost),
        0,
        "a bad delivery was published"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_good_delivery_is_confirmed_by_rabbitmq_with_every_contract_field() {
    let (_db, vhost, app) = rabbit_setup().await;

    let sent = envelope("4f0b8c5e-2a0e-4c42-9a43-6a9d1f9c2b10", "created");
    let body = serde_json::to_vec(&sent).expect("json");
    // Header name in another case: lookups are case-insensitive.
    let res = app
        .http
        .post(format!("{}/webhooks/webex", app.base))
        .header(
            "X-SPARK-SIGNATURE",
            webex_recordings::signature::sign(&body, WEBHOOK_SECRET.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("response");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"queued": true})
    );

    let (conn, channel) = vhost.plain_channel().await;
    let got = basic_get(&channel, "webex.recordings.process", true)
        .await
        .expect("a message is in the process queue");
    let props = &got.delivery.properties;
    assert_eq!(
        got.delivery.routing_key.as_str(),
        "convergedRecordings.created"
    );
    assert_eq!(props.delivery_mode(), &Some(2), "persistent");
    assert_eq!(
        props.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert!(
        props
            .message_id()
            .as_ref()
            .is_some_and(|id| !id.as_str().is_empty())
    );
    let msg: Value = serde_json::from_slice(&got.delivery.data).expect("body is JSON");
    assert_eq!(msg["version"], 1);
    assert_eq!(msg["source"], "webhook");
    assert_eq!(msg["event"], "created");
    assert_eq!(msg["recording_id"], "4f0b8c5e-2a0e-4c42-9a43-6a9d1f9c2b10");
    assert_eq!(msg["org_id"], "org-123");
    assert!(
        chrono::DateTime::parse_from_rfc3339(msg["received_at"].as_str().unwrap_or("")).is_ok()
    );
    assert_eq!(msg["envelope"], sent, "the envelope is kept as received");
    let _ = conn.close(0, "done".into()).await;

    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(
        text.lines()
            .any(|l| l.starts_with("webhook_deliveries_total{outcome=\"queued\"}")),
        "{text}"
    );
    assert!(text.contains("queue_publish_seconds"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn while_the_broker_is_gone_deliveries_get_503_and_succeed_again_after_it_returns() {
    let (_db, vhost, app) = rabbit_setup().await;
    let body = serde_json::to_vec(&envelope("rec-outage", "created")).expect("json");

    assert_eq!(
        app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status(),
        200
    );
    vhost.delete();
    let mut saw_503 = false;
    for _ in 0..50 {
        let status = app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status();
        if status == 503 {
            saw_503 = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_503, "no 503 while the vhost was gone");
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);

    vhost.create();
    let mut recovered = false;
    for _ in 0..100 {
        if app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "deliveries did not succeed again after the broker returned"
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_embedded_queue_keeps_a_delivery_answered_200_through_kill_9() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let dir = tempfile::tempdir().expect("dir");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_webex-recordings"))
            .args(["serve", "--role", "receiver"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &t.url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("WEBEX_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("BACKFILL_INTERVAL", "0")
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start the service");
        let http = reqwest::Client::new();
        let body = serde_json::to_vec(&envelope("rec-kill", "created")).expect("json");
        let mut status = 0;
        for _ in 0..100 {
            let res = http
                .post(format!("http://127.0.0.1:{port}/webhooks/webex"))
                .header(
                    "x-spark-signature",
                    webex_recordings::signature::sign(&body, WEBHOOK_SECRET.as_bytes()),
                )
                .body(body.clone())
                .send()
                .await;
            if let Ok(res) = res {
                status = res.status().as_u16();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, 200, "{db:?}");
        // SIGKILL: no chance to flush anything after the answer.
        child.kill().expect("kill -9");
        let _ = child.wait();
        let (ready, _dead) = t.store.queue_depth().await.expect("depth");
        assert_eq!(ready, 1, "{db:?}: the delivery answered 200 was lost");
    }
}

#[tokio::test]
async fn https_with_a_self_signed_certificate() {
    let db = TestDb::new(Db::Sqlite).await;
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate");
    let dir = tempfile::tempdir().expect("dir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let app = TestApp::spawn(
        &db.url,
        Role::Receiver,
        &[
            ("TLS_CERT", cert_path.to_str().expect("utf-8")),
            ("TLS_KEY", key_path.to_str().expect("utf-8")),
        ],
    )
    .await;
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("root");
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .build()
        .expect("client");
    let res = client
        .get(format!("https://localhost:{}/healthz", app.addr.port()))
        .send()
        .await
        .expect("TLS request");
    assert_eq!(res.status(), 200);
    // Plain HTTP on the TLS port does not get through.
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", app.addr.port())).await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    app.stop().await;
}

/// No signed body makes the receiver fail: random JSON, envelopes with a field of any type,
/// envelopes nested up to 200 levels deep, and random bytes are answered 200 or 400, a `queued`
/// answer only for a `convergedRecordings` envelope with a usable `data.id`, exactly the queued
/// deliveries are in the queue, and the worker can read every one of them.
/// `WEBHOOK_FUZZ_CASES=20000` makes this the long fuzz run the README describes.
#[test]
fn no_signed_body_makes_a_5xx_and_only_queued_answers_publish() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (db, app) = rt.block_on(async {
        let db = TestDb::new(Db::Sqlite).await;
        let app = TestApp::spawn(&db.url, Role::Receiver, &[]).await;
        (db, app)
    });
    let words = prop_oneof![
        Just("convergedRecordings"),
        Just("created"),
        Just("deleted"),
        Just("rec-1"),
        Just("../etc/passwd"),
        Just(""),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        words.prop_map(Value::from),
    ];
    let json = leaf.prop_recursive(3, 24, 5, |inner| {
        let key = prop_oneof![
            Just("resource".to_string()),
            Just("event".to_string()),
            Just("data".to_string()),
            Just("id".to_string()),
            Just("orgId".to_string()),
            "[a-zA-Z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let field = prop_oneof![Just("resource"), Just("event"), Just("data"), Just("orgId")];
    let envelope_with_any_field =
        (field, json.clone(), any::<bool>()).prop_map(|(name, value, in_data)| {
            let mut e = envelope("rec-1", "created");
            if in_data {
                e["data"]["id"] = value;
            } else {
                e[name] = value;
            }
            e
        });
    // serde_json stops at 128 levels; the queue message adds one around the envelope.
    let deep_envelope = (0usize..200).prop_map(|depth| {
        let mut nested = Value::from("x");
        for _ in 0..depth {
            nested = serde_json::json!([nested]);
        }
        let mut e = envelope("rec-1", "created");
        e["data"]["extra"] = nested;
        e
    });
    let body = prop_oneof![
        json.prop_map(|v| serde_json::to_vec(&v).expect("json")),
        envelope_with_any_field.prop_map(|v| serde_json::to_vec(&v).expect("json")),
        deep_envelope.prop_map(|v| serde_json::to_vec(&v).expect("json")),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    let queued = std::cell::Cell::new(0u64);
    let cases = std::env::var("WEBHOOK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let result = runner.run(&body, |bytes| {
        let (status, answer) = rt.block_on(async {
            let res = app.post_webhook(&bytes, Some(WEBHOOK_SECRET)).await;
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        });
        let shown = String::from_utf8_lossy(&bytes);
        prop_assert!(status == 200 || status == 400, "{shown} -> {status}");
        prop_assert!(answer.is_object(), "{shown}: the answer is a JSON object");
        if answer["queued"] == true {
            let sent: Value = serde_json::from_slice(&bytes).expect("a queued body is JSON");
            prop_assert_eq!(&sent["resource"], "convergedRecordings");
            prop_assert!(sent["event"] == "created" || sent["event"] == "deleted");
            prop_assert!(sent["data"]["id"].as_str().is_some_and(|id| !id.is_empty()));
            queued.set(queued.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (ready, _dead) = rt.block_on(db.store.queue_depth()).expect("depth");
    let queued = queued.get();
    assert_eq!(
        ready, queued,
        "exactly the queued deliveries are in the queue"
    );
    assert!(queued > 0, "some generated envelopes were good ones");
    // Every message answered 200 is one the worker can read (nothing is dead-lettered unread).
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::minutes(5);
    let mut read = 0;
    while let Some(taken) = rt
        .block_on(db.store.take_message(now, until))
        .expect("take")
    {
        webex_recordings::domain::QueueMessage::decode(taken.body.as_bytes())
            .unwrap_or_else(|e| panic!("the worker cannot read {}: {e}", taken.body));
        rt.block_on(db.store.ack_message(&taken.lease))
            .expect("ack");
        read += 1;
    }
    assert_eq!(read, queued);
    rt.block_on(app.stop());
}
