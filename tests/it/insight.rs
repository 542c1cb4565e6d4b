//! Call insight through `serve`: roles from the metadata stored by a pipeline run, the record's
//! insight fields over the API, `swap-roles` (roles, audit, errors), the `end_sentiment` filter,
//! tracker rules on a side and a quarter, `INSIGHT_QUESTIONS` against a fake LLM, and the
//! console's insight panel.

use std::time::Duration;

use serde_json::{Value, json};
use webex_recordings::access::{RandomToken, Role};
use webex_recordings::domain::ProcessingStatus;
use webex_recordings::startup::Role as ServeRole;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_webex::*;
use crate::pipeline_ai::{CHAT_PATH, completion, requests_to};
use crate::support::{BOTH, Db, TestApp, TestDb, WEBHOOK_SECRET, envelope, wait_until};

const OUT_ID: &str = "ou0000000000000000000000000000d4";
/// Marks the questions' system prompt, so the fake LLM tells them from the analysis.
const QUESTIONS_PROMPT: &str = "You answer questions about a transcript";

/// Inbound: the owner (Carlos Ruiz) was called by Ana García.
fn inbound_metadata() -> Value {
    json!({
        "id": ES_ID, "ownerId": "person-2", "ownerName": "Carlos Ruiz",
        "serviceData": {
            "callingParty": {"actor": {"type": "PERSON", "id": "person-1"}, "number": "+34600000001"},
            "calledParty": {"actor": {"type": "PERSON", "id": "person-2"}, "number": "4061", "name": "Carlos Ruiz"}
        }
    })
}

/// Outbound: the owner is the caller (person-1, named Ana García by the People API), and the
/// metadata gives no owner name: the caller's name stands for it.
fn outbound_metadata() -> Value {
    json!({
        "id": OUT_ID, "ownerId": "person-1",
        "serviceData": {
            "callingParty": {"actor": {"type": "PERSON", "id": "person-1"}, "number": "4060"},
            "calledParty": {"number": "+34911222333", "name": "Carlos Ruiz"}
        }
    })
}

async fn mount_metadata(server: &MockServer, id: &str, metadata: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/convergedRecordings/{id}/metadata")))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata))
        .with_priority(1)
        .mount(server)
        .await;
}

/// `serve` against a fake Webex holding the inbound and outbound calls and one without a
/// transcript, with `extra` settings.
struct Run {
    t: TestDb,
    app: TestApp,
    _webex: MockServer,
    _data: tempfile::TempDir,
}

async fn serve(db: Db, extra: &[(&str, &str)]) -> Run {
    let t = TestDb::new(db).await;
    let server = fake_webex().await;
    mount_metadata(&server, ES_ID, inbound_metadata()).await;
    mount_metadata(&server, OUT_ID, outbound_metadata()).await;
    for r in [
        FakeRecording::new(ES_ID, Some(ES_VTT)),
        FakeRecording::new(OUT_ID, Some(ES_VTT)),
        FakeRecording::new(NT_ID, None),
    ] {
        r.mount(&server).await;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let api = format!("{}/v1", server.uri());
    let data_dir = data.path().display().to_string();
    let fake_webex = [
        ("WEBEX_API_URL", api.as_str()),
        ("WEBEX_ACCESS_TOKEN", "token"),
        ("DATA_DIR", data_dir.as_str()),
    ];
    let vars: Vec<(&str, &str)> = fake_webex
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let app = TestApp::spawn(&t.url, ServeRole::All, &vars).await;
    Run {
        t,
        app,
        _webex: server,
        _data: data,
    }
}

impl Run {
    async fn process(&self, ids: &[&str]) {
        for id in ids {
            let body = serde_json::to_vec(&envelope(id, "created")).expect("json");
            let res = self.app.post_webhook(&body, Some(WEBHOOK_SECRET)).await;
            assert_eq!(res.status(), 200);
        }
        for id in ids {
            wait_final(&self.t.store, id, Duration::from_secs(60)).await;
        }
    }

    async fn key(&self, role: Role) -> String {
        let key = RandomToken::generate("wrk_");
        self.t
            .store
            .create_key(&format!("{role}-insight"), role, &key.hash())
            .await
            .expect("key");
        key.expose().to_string()
    }

    async fn call(&self, key: &str, method: reqwest::Method, path: &str) -> (u16, Value) {
        let res = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post_tracker(&self, key: &str, tracker: &Value) -> (u16, Value) {
        let res = self
            .app
            .http
            .post(format!("{}/api/v1/trackers", self.app.base))
            .bearer_auth(key)
            .json(tracker)
            .send()
            .await
            .expect("request");
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    async fn get(&self, key: &str, path: &str) -> Value {
        let (status, body) = self.call(key, reqwest::Method::GET, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

fn roles_of(rec: &Value) -> (String, String) {
    let roles = &rec["roles"];
    (
        roles["agent"].as_str().unwrap_or_default().to_string(),
        roles["customer"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn roles_come_from_the_metadata_and_swap_roles_re_derives_them_on_both_databases() {
    for db in BOTH {
        let run = serve(db, &[]).await;
        let (viewer, supervisor, admin) = (
            run.key(Role::Viewer).await,
            run.key(Role::Supervisor).await,
            run.key(Role::Admin).await,
        );
        // Trackers first, so the pipeline evaluates them: a side and a quarter.
        for (name, rule) in [
            (
                "customer below 1",
                json!({"sentiment_below": 1.0, "speaker": "customer"}),
            ),
            (
                "last quarter below -1",
                json!({"sentiment_below": -1.0, "quarter": 4}),
            ),
        ] {
            let tracker = json!({"name": name, "rules": [rule]});
            let (status, body) = run.post_tracker(&supervisor, &tracker).await;
            assert_eq!(status, 201, "{db:?} {name}: {body}");
        }
        let bad_rule = json!({"sentiment_below": 0, "speaker": "caller", "quarter": 2});
        let (status, bad) = run
            .post_tracker(&supervisor, &json!({"name": "bad", "rules": [bad_rule]}))
            .await;
        assert_eq!(status, 400);
        let detail = bad["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("rules[0]") && detail.contains("speaker"),
            "{detail}"
        );

        run.process(&[ES_ID, OUT_ID, NT_ID]).await;

        // Inbound: the owner, named in the metadata, is the agent. Outbound: the owner is the
        // caller; the same voices take the other roles.
        for (id, agent, customer) in [
            (ES_ID, "Carlos Ruiz", "Ana García"),
            (OUT_ID, "Ana García", "Carlos Ruiz"),
        ] {
            let rec = run.get(&viewer, &format!("/api/v1/recordings/{id}")).await;
            assert_eq!(roles_of(&rec), (agent.into(), customer.into()), "{db:?}");
        }
        let inbound = run
            .get(&viewer, &format!("/api/v1/recordings/{ES_ID}"))
            .await;
        // The contract's shapes.
        let sentiment = &inbound["sentiment"];
        assert!(sentiment["score"].is_number() && sentiment["label"].is_string());
        for side in ["agent", "customer"] {
            assert!(
                sentiment["by_speaker"][side]["score"].is_number(),
                "{sentiment}"
            );
            assert!(
                sentiment["by_speaker"][side]["label"].is_string(),
                "{sentiment}"
            );
            let figures = &inbound["call_metrics"]["per_role"][side];
            for field in [
                "talk_seconds",
                "talk_share",
                "words_per_minute",
                "interruptions",
            ] {
                assert!(figures[field].is_number(), "{side}.{field}: {figures}");
            }
        }
        assert_eq!(sentiment["by_quarter"].as_array().map(Vec::len), Some(4));
        let end = sentiment["end"].as_str().expect("end label").to_string();
        assert!(inbound["call_metrics"]["non_talk"].is_array());
        assert!(inbound["insights"].is_null(), "no LLM, no answers");
        let per_role = inbound["call_metrics"]["per_role"].clone();
        // Ana speaks 0-5 s and 11.5-16 s; Carlos 5.5-11 s.
        assert_eq!(per_role["customer"]["talk_seconds"], 9.5);
        assert_eq!(per_role["agent"]["talk_seconds"], 5.5);
        let trackers: Vec<&str> = inbound["trackers"]
            .as_array()
            .expect("trackers")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(trackers, ["customer below 1"], "{db:?}");

        // The list filters on how the call ended.
        let other = if end == "negative" {
            "positive"
        } else {
            "negative"
        };
        let ended = run
            .get(&viewer, &format!("/api/v1/recordings/?end_sentiment={end}"))
            .await;
        let ids: Vec<&str> = ended["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|r| r["recordingId"].as_str())
            .collect();
        assert!(ids.contains(&ES_ID) && !ids.contains(&NT_ID), "{ids:?}");
        let ended_otherwise = run
            .get(
                &viewer,
                &format!("/api/v1/recordings/?end_sentiment={other}"),
            )
            .await;
        assert_eq!(ended_otherwise["total"], 0, "{db:?}");
        let (status, body) = run
            .call(
                &viewer,
                reqwest::Method::GET,
                "/api/v1/recordings/?end_sentiment=happy",
            )
            .await;
        assert_eq!(status, 400);
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("end_sentiment"),
            "{body}"
        );

        // Swapping: a viewer may not, unknown is 404, no transcript is 409.
        let swap = |id: &str| format!("/api/v1/recordings/{id}/swap-roles");
        let post = reqwest::Method::POST;
        let (status, body) = run.call(&viewer, post.clone(), &swap(ES_ID)).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
        let (status, _) = run.call(&supervisor, post.clone(), &swap("nope")).await;
        assert_eq!(status, 404);
        let (status, body) = run.call(&supervisor, post.clone(), &swap(NT_ID)).await;
        assert_eq!(status, 409, "{body}");
        assert!(
            body["detail"].as_str().unwrap_or("").contains("no roles"),
            "{body}"
        );

        let (status, swapped) = run.call(&supervisor, post.clone(), &swap(ES_ID)).await;
        assert_eq!(status, 200, "{db:?} {swapped}");
        assert_eq!(
            roles_of(&swapped),
            ("Ana García".into(), "Carlos Ruiz".into())
        );
        let stored = run
            .get(&viewer, &format!("/api/v1/recordings/{ES_ID}"))
            .await;
        assert_eq!(roles_of(&stored), roles_of(&swapped), "{db:?}: stored");
        let again = &stored["call_metrics"]["per_role"];
        assert_eq!(again["agent"], per_role["customer"], "{db:?}");
        assert_eq!(again["customer"], per_role["agent"], "{db:?}");
        let (before, after) = (&sentiment["by_speaker"], &stored["sentiment"]["by_speaker"]);
        assert_eq!(after["agent"], before["customer"]);
        assert_eq!(after["customer"], before["agent"]);
        assert_eq!(stored["sentiment"]["by_quarter"], sentiment["by_quarter"]);
        // The customer is now Carlos: the side's tracker was evaluated again.
        assert_eq!(stored["trackers"][0]["name"], "customer below 1");

        // A reprocess decides the roles again and keeps the reviewer's swap.
        let id = webex_recordings::domain::RecordingId::parse(ES_ID).expect("id");
        let read = async || {
            let rec = run.t.store.get_recording(&id).await.expect("read");
            rec.expect("stored")
        };
        let swapped_at = read().await;
        let (status, _) = run
            .call(
                &supervisor,
                post.clone(),
                &format!("/api/v1/recordings/{ES_ID}/reprocess"),
            )
            .await;
        assert_eq!(status, 202, "{db:?}: reprocess accepted");
        wait_until(Duration::from_secs(60), "reprocess done", async || {
            let now = read().await;
            now.updated_at > swapped_at.updated_at
                && matches!(now.processing_status, ProcessingStatus::Completed)
        })
        .await;
        let reprocessed = run
            .get(&viewer, &format!("/api/v1/recordings/{ES_ID}"))
            .await;
        assert_eq!(
            roles_of(&reprocessed),
            roles_of(&swapped),
            "{db:?}: after reprocess"
        );

        // Audited, the refusal too.
        let audit = run
            .get(&admin, "/api/v1/audit?action=recording.swap_roles")
            .await;
        let mut statuses: Vec<i64> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|e| e["recording_id"] == ES_ID)
            .filter_map(|e| e["status"].as_i64())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 403], "{db:?} {audit}");
        run.app.stop().await;
    }
}

#[tokio::test]
async fn the_console_shows_roles_the_quarter_chart_and_swaps() {
    let run = serve(Db::Sqlite, &[]).await;
    run.process(&[ES_ID, NT_ID]).await;
    let (viewer, supervisor) = (run.key(Role::Viewer).await, run.key(Role::Supervisor).await);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = &run.app.base;
    let page = async |key: &str, id: &str| -> String {
        let res = http.get(format!("{base}/recordings/{id}")).bearer_auth(key);
        res.send().await.expect("get").text().await.expect("body")
    };
    let html = page(&supervisor, ES_ID).await;
    assert!(html.contains("class=\"role-agent\">Carlos Ruiz<"), "{html}");
    assert!(html.contains("class=\"role-customer\">Ana García<"));
    assert!(html.contains("class=\"quarter-chart\""));
    assert_eq!(html.matches("<polyline class=\"line-").count(), 2);
    assert_eq!(html.matches("<circle class=\"dot-").count(), 8);
    assert!(html.contains("class=\"side-agent\"") && html.contains("class=\"side-customer\""));
    assert!(html.contains("action=\"/recordings/") && html.contains("/swap-roles\""));
    // A viewer sees the roles but no swap button; a call without a transcript says so.
    let viewer_html = page(&viewer, ES_ID).await;
    assert!(viewer_html.contains("role-agent") && !viewer_html.contains("swap-roles"));
    let bare = page(&viewer, NT_ID).await;
    assert!(bare.contains("Roles unknown"));

    let swap = |origin: &str| {
        http.post(format!("{base}/recordings/{ES_ID}/swap-roles"))
            .bearer_auth(&supervisor)
            .header("origin", origin.to_string())
            .send()
    };
    assert_eq!(
        swap("https://evil.example").await.expect("post").status(),
        403
    );
    let done = swap(base).await.expect("post");
    assert_eq!(done.status(), 303);
    let html = page(&supervisor, ES_ID).await;
    assert!(html.contains("class=\"role-agent\">Ana García<"), "{html}");
    let rec = stored(&run.t.store, ES_ID).await;
    assert_eq!(rec.roles.expect("roles").agent, "Ana García");
    run.app.stop().await;
}

// ---------------------------------------------------------------------------
// INSIGHT_QUESTIONS
// ---------------------------------------------------------------------------

const ANALYSIS: &str = r#"{"summary": "Ana llamó por una factura.", "bullet_points": [], "key_topics": ["factura"], "action_items": [], "sentiment": {"score": 0.2, "label": "positive"}}"#;
const VALID_ANSWERS: &str = r#"{"resolved": "yes", "callback": "no"}"#;
const INVALID_ANSWERS: &str = r#"{"resolved": "yes", "mood": "calm"}"#;

/// The fake LLM answers the analysis, and the questions with `replies` in turn (the last one
/// from then on): an earlier reply has the higher priority and answers once.
async fn fake_llm(replies: &[&str]) -> MockServer {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion(ANALYSIS))
        .with_priority(5)
        .mount(&ai)
        .await;
    for (i, reply) in replies.iter().enumerate() {
        let mock = Mock::given(method("POST"))
            .and(path(CHAT_PATH))
            .and(body_string_contains(QUESTIONS_PROMPT))
            .respond_with(completion(reply))
            .with_priority(u8::try_from(i + 1).unwrap_or(4).min(4));
        let mock = if i + 1 < replies.len() {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(&ai).await;
    }
    ai
}

/// Processes the inbound call with the questions file and the fake LLM; the stored `insights`
/// and the question requests the LLM saw.
async fn answers_with(replies: &[&str]) -> (Value, Vec<Value>) {
    let ai = fake_llm(replies).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("questions.txt");
    std::fs::write(
        &file,
        "# QA questions\nresolved: Was the customer's problem solved?\ncallback: Did the agent promise to call back?\n",
    )
    .expect("write");
    let ai_url = format!("{}/v1", ai.uri());
    let file = file.display().to_string();
    let run = serve(
        Db::Sqlite,
        &[
            ("SUMMARY_API_URL", &ai_url),
            ("SUMMARY_API_KEY", "sk-test"),
            ("INSIGHT_QUESTIONS", &file),
        ],
    )
    .await;
    run.process(&[ES_ID]).await;
    let rec = stored(&run.t.store, ES_ID).await;
    assert_eq!(
        rec.processing_status,
        ProcessingStatus::Completed,
        "{:?}",
        rec.processing_errors
    );
    let asked: Vec<Value> = requests_to(&ai, CHAT_PATH)
        .await
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|b| b.to_string().contains(QUESTIONS_PROMPT))
        .collect();
    run.app.stop().await;
    (serde_json::to_value(&rec.insights).expect("json"), asked)
}

#[tokio::test]
async fn insight_questions_answered_validly_are_stored() {
    let (insights, asked) = answers_with(&[VALID_ANSWERS]).await;
    assert_eq!(insights, json!({"resolved": "yes", "callback": "no"}));
    assert_eq!(asked.len(), 1);
    let prompt = asked[0]["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        prompt.contains("\"resolved\": Was the customer's problem solved?"),
        "{prompt}"
    );
    assert_eq!(asked[0]["response_format"]["type"], "json_object");
}

#[tokio::test]
async fn an_invalid_answer_is_retried_once() {
    let (insights, asked) = answers_with(&[INVALID_ANSWERS, VALID_ANSWERS]).await;
    assert_eq!(insights, json!({"resolved": "yes", "callback": "no"}));
    assert_eq!(asked.len(), 2);
    let retry = asked[1]["messages"].as_array().expect("messages");
    let last = retry.last().expect("a message")["content"]
        .as_str()
        .unwrap_or_default();
    assert!(last.contains("invalid") && last.contains("mood"), "{last}");
}

#[tokio::test]
async fn answers_invalid_twice_leave_insights_null_and_the_call_completes() {
    let (insights, asked) = answers_with(&[INVALID_ANSWERS]).await;
    assert_eq!(insights, Value::Null);
    assert_eq!(asked.len(), 2, "one retry, no more");
}

#[test]
fn a_bad_questions_file_stops_the_start_naming_the_variable_and_the_line() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("questions.txt");
    std::fs::write(&file, "resolved: Was it solved?\nno colon here\n").expect("write");
    let config = |path: String| {
        webex_recordings::config::Config::from_lookup(move |name| {
            (name == "INSIGHT_QUESTIONS").then(|| path.clone())
        })
    };
    let error = config(file.display().to_string()).expect_err("bad file");
    assert_eq!(error.name, "INSIGHT_QUESTIONS");
    assert!(error.problem.contains("line 2"), "{}", error.problem);
    let missing = config(dir.path().join("none.txt").display().to_string()).expect_err("missing");
    assert!(
        missing.problem.contains("cannot read"),
        "{}",
        missing.problem
    );
    std::fs::write(&file, "resolved: Was it solved?\n").expect("write");
    let good = config(file.display().to_string()).expect("valid file");
    let keys: Vec<String> = good
        .insight_questions
        .expect("questions")
        .keys()
        .map(str::to_string)
        .collect();
    assert_eq!(keys, ["resolved"]);
}

#[test]
fn the_document_shows_the_insight_fields_and_swap_roles() {
    let doc =
        serde_json::to_value(webex_recordings::http::recordings::openapi_document()).expect("json");
    let schemas = &doc["components"]["schemas"];
    let recording = &schemas["Recording"]["properties"];
    for field in ["roles", "insights", "sentiment"] {
        assert!(
            recording[field].is_object(),
            "Recording.{field}: {recording}"
        );
    }
    let sentiment = &schemas["CallSentiment"]["properties"];
    for field in ["score", "label", "by_speaker", "by_quarter", "end"] {
        assert!(
            sentiment[field].is_object(),
            "CallSentiment.{field}: {sentiment}"
        );
    }
    assert!(
        schemas["Roles"]["properties"]["customer"].is_object(),
        "{schemas}"
    );
    assert!(schemas["SentimentBySpeaker"]["properties"]["agent"].is_object());
    let swap = &doc["paths"]["/api/v1/recordings/{id}/swap-roles"]["post"]["responses"];
    for status in ["200", "403", "404", "409"] {
        assert!(swap[status].is_object(), "swap-roles documents {status}");
    }
}
