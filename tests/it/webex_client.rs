//! The Webex client against a fake Webex (wiremock on a loopback port).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;
use webex_recordings::webex::{
    Auth, BoxError, ClientSettings, ListQuery, ListScope, NewWebhook, OAuthCredentials,
    OAuthTokens, RetryPolicy, TokenStore, WebexClient, WebexError, WebhookUpdate,
};
use wiremock::matchers::{
    body_json, body_string_contains, header, query_param, query_param_is_missing,
};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::fake_webex::on;

fn settings(server: &MockServer, max_attempts: u32) -> ClientSettings {
    ClientSettings {
        base_url: Url::parse(&format!("{}/v1", server.uri())).unwrap(),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(5),
            jitter: false,
        },
    }
}

fn static_client(server: &MockServer) -> WebexClient {
    WebexClient::new(
        settings(server, 3),
        Auth::Static(SecretString::from("static-token")),
    )
    .unwrap()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The path of each request received, in order.
async fn request_paths(server: &MockServer) -> Vec<String> {
    requests(server)
        .await
        .iter()
        .map(|r| r.url.path().to_string())
        .collect()
}

fn auth_header(r: &Request) -> String {
    r.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- pagination

#[tokio::test]
async fn pagination_follows_opaque_next_links_and_stops() {
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    let rec = |id: &str| json!({"id": id, "topic": "Call", "sizeBytes": 10, "newField": [1]});

    on("GET", "/v1/admin/convergedRecordings")
        .and(query_param("from", "2025-03-01T00:00:00Z"))
        .and(query_param("to", "2025-03-02T00:00:00Z"))
        .and(query_param("max", "2"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [rec("r1"), rec("r2")]}))
                .insert_header(
                    "Link",
                    format!(r#"<{base}/admin/convergedRecordings?cursor=p2>; rel="next""#),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Page 2: two Link headers, bare rel, a prev link first.
    on("GET", "/v1/admin/convergedRecordings")
        .and(query_param("cursor", "p2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [rec("r3"), rec("r4")]}))
                .append_header("Link", format!("<{base}/prev?x=1>;rel=prev"))
                .append_header(
                    "Link",
                    format!(r#" <{base}/admin/convergedRecordings?cursor=p3&opaque=%2Fz> ; rel = "next" "#),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/v1/admin/convergedRecordings")
        .and(query_param("cursor", "p3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [rec("r5")]}))
                .insert_header("Link", format!(r#"<{base}/first>; rel="first""#)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let client = static_client(&server);
    let query = ListQuery {
        from: Some(Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap()),
        to: Some(Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap()),
        max: Some(2),
        ..Default::default()
    };
    let mut pages = client.list_recordings(ListScope::Admin, &query);
    let mut ids = Vec::new();
    let mut page_sizes = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        page_sizes.push(page.len());
        ids.extend(page.into_iter().map(|r| r.id));
    }
    assert_eq!(pages.next_page().await.unwrap(), None, "stays finished");
    assert_eq!(ids, ["r1", "r2", "r3", "r4", "r5"]);
    assert_eq!(page_sizes, [2, 2, 1]);

    // wiremock rebuilds the URL's host from the Host header, so compare path and query.
    let urls: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or("")))
        .collect();
    assert_eq!(
        urls,
        [
            "/v1/admin/convergedRecordings?from=2025-03-01T00%3A00%3A00Z&to=2025-03-02T00%3A00%3A00Z&max=2",
            "/v1/admin/convergedRecordings?cursor=p2",
            "/v1/admin/convergedRecordings?cursor=p3&opaque=%2Fz",
        ]
    );
    for r in requests(&server).await {
        assert_eq!(auth_header(&r), "Bearer static-token");
    }
}

#[tokio::test]
async fn pagination_as_stream_can_stop_early_and_user_scope_path() {
    use futures::StreamExt;
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    on("GET", "/v1/convergedRecordings")
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"id": "a"}, {"notAnId": true, "id": 5}]}))
                .insert_header(
                    "Link",
                    format!(r#"<{base}/convergedRecordings?cursor=2>; rel="next""#),
                ),
        )
        .mount(&server)
        .await;
    let client = static_client(&server);
    let stream = client
        .list_recordings(ListScope::User, &ListQuery::default())
        .into_stream();
    let first: Vec<_> = stream.take(1).collect().await;
    assert_eq!(first.len(), 1);
    let page = first.into_iter().next().unwrap().unwrap();
    // The malformed item (numeric id) is skipped, the good one kept.
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(
        requests(&server).await.len(),
        1,
        "second page never requested"
    );
}

#[tokio::test]
async fn next_link_to_foreign_host_is_refused() {
    let server = MockServer::start().await;
    on("GET", "/v1/webhooks")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"id": "w1"}]}))
                .insert_header("Link", r#"<http://evil.example.com/steal>; rel="next""#),
        )
        .mount(&server)
        .await;
    let err = static_client(&server)
        .list_webhooks(false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebexError::HostNotAllowed(ref h) if h.contains("evil.example.com")),
        "{err}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

// ---------------------------------------------------------------- retries and errors

#[tokio::test]
async fn rate_limit_retry_after_is_waited_out() {
    let server = MockServer::start().await;
    on("GET", "/v1/people/me")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"message": "slow down"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "me1", "emails": ["a@b.c"]})),
        )
        .mount(&server)
        .await;

    let started = Instant::now();
    let me = static_client(&server).me().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(me.id, "me1");
    assert_eq!(me.emails, ["a@b.c"]);
    assert!(
        elapsed >= Duration::from_millis(950),
        "waited only {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(4), "waited {elapsed:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn service_unavailable_gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    on("GET", "/v1/convergedRecordings/r1")
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("TrackingID", "ROUTER_503")
                .set_body_string("upstream down"),
        )
        .mount(&server)
        .await;
    let client =
        WebexClient::new(settings(&server, 4), Auth::Static(SecretString::from("t"))).unwrap();
    let err = client.recording_details("r1").await.unwrap_err();
    assert_eq!(requests(&server).await.len(), 4);
    assert!(
        matches!(err, WebexError::RetriesExhausted { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(503));
    assert!(err.is_transient());
    assert_eq!(err.tracking_id(), Some("ROUTER_503"));
    let text = err.to_string();
    assert!(text.contains("4 attempts"), "{text}");
    assert!(text.contains("503 Service Unavailable"), "{text}");
    assert!(text.contains("upstream down"), "{text}");
}

#[tokio::test]
async fn transient_5xx_then_success() {
    let server = MockServer::start().await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "ok"})))
        .mount(&server)
        .await;
    assert_eq!(static_client(&server).me().await.unwrap().id, "ok");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn forbidden_fails_at_once_with_details() {
    let server = MockServer::start().await;
    on("GET", "/v1/convergedRecordings/r9")
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("TrackingID", "ROUTER_ABC")
                .set_body_json(json!({
                    "message": "The server understood the request, but refused to fulfill it because the access token is missing required scopes",
                    "errors": [{"description": "ignored"}],
                    "trackingId": "ROUTER_BODY"
                })),
        )
        .mount(&server)
        .await;
    let err = static_client(&server)
        .recording_details("r9")
        .await
        .unwrap_err();
    assert_eq!(requests(&server).await.len(), 1);
    match &err {
        WebexError::Api {
            status,
            message,
            tracking_id,
        } => {
            assert_eq!(*status, 403);
            assert!(message.contains("missing required scopes"), "{message}");
            assert_eq!(tracking_id.as_deref(), Some("ROUTER_ABC"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_transient());
    let text = err.to_string();
    assert!(
        text.starts_with("Webex API answered 403 Forbidden: The server understood"),
        "{text}"
    );
    assert!(text.ends_with("(TrackingID ROUTER_ABC)"), "{text}");
}

#[tokio::test]
async fn static_token_401_is_final() {
    let server = MockServer::start().await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "bad token"})))
        .mount(&server)
        .await;
    let err = static_client(&server).me().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1, "no refresh, no retry");
    assert_eq!(reqs[0].url.path(), "/v1/people/me");
}

// ---------------------------------------------------------------- OAuth

#[derive(Default)]
struct MemoryStore {
    tokens: Mutex<Option<OAuthTokens>>,
    saves: Mutex<Vec<OAuthTokens>>,
}

#[async_trait::async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<Option<OAuthTokens>, BoxError> {
        Ok(self.tokens.lock().unwrap().clone())
    }
    async fn save(&self, tokens: &OAuthTokens) -> Result<(), BoxError> {
        *self.tokens.lock().unwrap() = Some(tokens.clone());
        self.saves.lock().unwrap().push(tokens.clone());
        Ok(())
    }
}

fn oauth(refresh: Option<&str>) -> Auth {
    Auth::OAuth(OAuthCredentials {
        client_id: "cid".into(),
        client_secret: SecretString::from("csecret"),
        refresh_token: refresh.map(SecretString::from),
    })
}

async fn mount_token_endpoint(server: &MockServer, old_rt: &str, at: &str, new_rt: &str) {
    on("POST", "/v1/access_token")
        .and(body_string_contains(format!("refresh_token={old_rt}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": at,
            "expires_in": 1209599,
            "refresh_token": new_rt,
            "refresh_token_expires_in": 7776000,
            "token_type": "Bearer"
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn oauth_refreshes_on_start_and_after_401_with_rotated_refresh_token() {
    let server = MockServer::start().await;
    mount_token_endpoint(&server, "rt-1", "at-1", "rt-2").await;
    mount_token_endpoint(&server, "rt-2", "at-2", "rt-3").await;
    // at-1 works once, then Webex revokes it.
    on("GET", "/v1/people/me")
        .and(header("authorization", "Bearer at-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "p-at1"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .and(header("authorization", "Bearer at-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "expired"})))
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .and(header("authorization", "Bearer at-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "p-at2"})))
        .mount(&server)
        .await;

    let store = Arc::new(MemoryStore::default());
    let client =
        WebexClient::with_token_store(settings(&server, 3), oauth(Some("rt-1")), store.clone())
            .unwrap();

    assert_eq!(client.me().await.unwrap().id, "p-at1");
    assert_eq!(client.me().await.unwrap().id, "p-at2");

    let reqs = requests(&server).await;
    let seen: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.url.path().to_string(), auth_header(r)))
        .collect();
    assert_eq!(
        seen,
        [
            ("/v1/access_token".to_string(), String::new()),
            ("/v1/people/me".to_string(), "Bearer at-1".to_string()),
            ("/v1/people/me".to_string(), "Bearer at-1".to_string()),
            ("/v1/access_token".to_string(), String::new()),
            ("/v1/people/me".to_string(), "Bearer at-2".to_string()),
        ]
    );
    let first_body = String::from_utf8(reqs[0].body.clone()).unwrap();
    assert_eq!(
        first_body,
        "grant_type=refresh_token&client_id=cid&client_secret=csecret&refresh_token=rt-1"
    );
    assert_eq!(
        reqs[0].headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let second_body = String::from_utf8(reqs[3].body.clone()).unwrap();
    assert!(second_body.ends_with("refresh_token=rt-2"), "{second_body}");

    let saves = store.saves.lock().unwrap().clone();
    assert_eq!(saves.len(), 2);
    assert_eq!(saves[0].access_token, "at-1");
    assert_eq!(saves[0].refresh_token, "rt-2");
    assert_eq!(saves[1].access_token, "at-2");
    assert_eq!(saves[1].refresh_token, "rt-3");
    assert!(saves[1].access_expires_at > Utc::now() + TimeDelta::days(13));
    assert!(saves[1].refresh_expires_at.unwrap() > Utc::now() + TimeDelta::days(89));
}

#[tokio::test]
async fn oauth_refreshes_only_once_per_request_on_401() {
    let server = MockServer::start().await;
    on("POST", "/v1/access_token")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "at", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("TrackingID", "T401")
                .set_body_json(json!({"message": "revoked"})),
        )
        .mount(&server)
        .await;
    let client = WebexClient::new(settings(&server, 3), oauth(Some("rt"))).unwrap();
    // Bounded: a client that kept refreshing on every 401 would loop forever.
    let err = tokio::time::timeout(Duration::from_secs(10), client.me())
        .await
        .expect("no refresh loop")
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.tracking_id(), Some("T401"));
    let paths = request_paths(&server).await;
    assert_eq!(
        paths,
        [
            "/v1/access_token",
            "/v1/people/me",
            "/v1/access_token",
            "/v1/people/me"
        ]
    );
}

#[tokio::test]
async fn oauth_concurrent_callers_share_one_refresh() {
    let server = MockServer::start().await;
    on("POST", "/v1/access_token")
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(200))
                .set_body_json(json!({"access_token": "at-x", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .and(header("authorization", "Bearer at-x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "me"})))
        .mount(&server)
        .await;
    let client = WebexClient::new(settings(&server, 3), oauth(Some("rt"))).unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.me().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().id, "me");
    }
    let refreshes = requests(&server)
        .await
        .iter()
        .filter(|r| r.url.path() == "/v1/access_token")
        .count();
    assert_eq!(refreshes, 1);
}

#[tokio::test]
async fn oauth_prefers_stored_refresh_token_and_valid_stored_access_token() {
    let server = MockServer::start().await;
    mount_token_endpoint(&server, "stored-rt", "at-new", "stored-rt").await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "me"})))
        .mount(&server)
        .await;

    // Expired stored access token: refresh with the stored (newer) refresh token.
    let store = Arc::new(MemoryStore::default());
    *store.tokens.lock().unwrap() = Some(OAuthTokens {
        access_token: "old-at".into(),
        access_expires_at: Utc::now() - TimeDelta::minutes(1),
        refresh_token: "stored-rt".into(),
        refresh_expires_at: None,
    });
    let client =
        WebexClient::with_token_store(settings(&server, 3), oauth(Some("config-rt")), store)
            .unwrap();
    client.me().await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs[0].url.path(), "/v1/access_token");
    let body = String::from_utf8(reqs[0].body.clone()).unwrap();
    assert!(body.contains("refresh_token=stored-rt"), "{body}");
    assert!(!body.contains("config-rt"), "{body}");
    assert_eq!(auth_header(&reqs[1]), "Bearer at-new");

    // Valid stored access token and no configured refresh token: used as is, no refresh.
    server.reset().await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "me"})))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::default());
    *store.tokens.lock().unwrap() = Some(OAuthTokens {
        access_token: "live-at".into(),
        access_expires_at: Utc::now() + TimeDelta::hours(2),
        refresh_token: "rt".into(),
        refresh_expires_at: None,
    });
    let client = WebexClient::with_token_store(settings(&server, 3), oauth(None), store).unwrap();
    client.me().await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(auth_header(&reqs[0]), "Bearer live-at");
}

#[tokio::test]
async fn oauth_refresh_rejected_or_missing_is_an_auth_error() {
    let server = MockServer::start().await;
    on("POST", "/v1/access_token")
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"message": "invalid refresh token"})),
        )
        .mount(&server)
        .await;
    let client = WebexClient::new(settings(&server, 3), oauth(Some("bad"))).unwrap();
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, WebexError::Auth(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("invalid refresh token"), "{text}");
    assert!(
        !text.contains("csecret") && !text.contains("bad&"),
        "{text}"
    );
    assert_eq!(requests(&server).await.len(), 1, "no call with no token");

    let none = WebexClient::new(settings(&server, 3), oauth(None)).unwrap();
    let err = none.me().await.unwrap_err();
    assert!(matches!(err, WebexError::Auth(ref m) if m.contains("WEBEX_REFRESH_TOKEN")));
}

#[tokio::test]
async fn exchange_code_posts_authorization_code_and_installs_tokens() {
    let server = MockServer::start().await;
    on("POST", "/v1/access_token")
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-code", "expires_in": 3600, "refresh_token": "rt-code"
        })))
        .mount(&server)
        .await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "me"})))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::default());
    let client =
        WebexClient::with_token_store(settings(&server, 3), oauth(None), store.clone()).unwrap();
    let tokens = client
        .exchange_code(
            "cid",
            &SecretString::from("csecret"),
            "the-code",
            "http://127.0.0.1:8000/auth/callback",
        )
        .await
        .unwrap();
    assert_eq!(tokens.access_token, "at-code");
    assert_eq!(tokens.refresh_token, "rt-code");
    assert_eq!(
        store.tokens.lock().unwrap().as_ref().unwrap().refresh_token,
        "rt-code"
    );
    client.me().await.unwrap();
    let reqs = requests(&server).await;
    assert_eq!(
        String::from_utf8(reqs[0].body.clone()).unwrap(),
        "grant_type=authorization_code&client_id=cid&client_secret=csecret&code=the-code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fauth%2Fcallback"
    );
    assert_eq!(auth_header(&reqs[1]), "Bearer at-code");
}

// ---------------------------------------------------------------- recordings, people

#[tokio::test]
async fn metadata_204_is_none_and_200_is_parsed() {
    let server = MockServer::start().await;
    on("GET", "/v1/convergedRecordings/not-ready/metadata")
        .and(query_param("showAllTypes", "true"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    on("GET", "/v1/convergedRecordings/ready/metadata")
        .and(query_param("showAllTypes", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "ready",
            "serviceData": {
                "callingParty": {"actor": {"type": "PERSON", "id": "u1"}, "number": "sip:4060@h;user=phone"},
                "calledParty": {"number": "+34600000000"}
            }
        })))
        .mount(&server)
        .await;
    let client = static_client(&server);
    assert_eq!(client.recording_metadata("not-ready").await.unwrap(), None);
    let m = client.recording_metadata("ready").await.unwrap().unwrap();
    let parties = m.parties();
    assert_eq!(
        parties.caller.unwrap().number.as_deref(),
        Some("sip:4060@h;user=phone")
    );
    assert_eq!(
        parties.callee.unwrap().number.as_deref(),
        Some("+34600000000")
    );
    assert_eq!(m.raw["id"], "ready");
}

#[tokio::test]
async fn details_and_delete_recording_shapes() {
    let server = MockServer::start().await;
    on("GET", "/v1/convergedRecordings/abc123")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "abc123", "durationSeconds": 61, "status": "available",
            "temporaryDirectDownloadLinks": {"audioDownloadLink": "https://x.webex.com/a.mp3?t=1"}
        })))
        .mount(&server)
        .await;
    on("DELETE", "/v1/convergedRecordings/abc123")
        .and(body_json(
            json!({"reason": "audit", "comment": "requested"}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    on("DELETE", "/v1/convergedRecordings/nobody")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = static_client(&server);
    let d = client.recording_details("abc123").await.unwrap();
    assert_eq!(d.recording.duration_seconds, Some(61.0));
    assert_eq!(
        d.temporary_direct_download_links
            .unwrap()
            .audio_download_link
            .as_deref(),
        Some("https://x.webex.com/a.mp3?t=1")
    );
    client
        .delete_recording("abc123", Some("audit"), Some("requested"))
        .await
        .unwrap();
    client.delete_recording("nobody", None, None).await.unwrap();
    let reqs = requests(&server).await;
    assert!(reqs[2].body.is_empty(), "no body without reason/comment");
    server.verify().await;
}

#[tokio::test]
async fn person_404_is_none() {
    let server = MockServer::start().await;
    on("GET", "/v1/people/ghost")
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "not found"})))
        .mount(&server)
        .await;
    on("GET", "/v1/people/p1")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "p1", "displayName": "Ana", "emails": ["ana@x.es"], "type": "person"
        })))
        .mount(&server)
        .await;
    let client = static_client(&server);
    assert_eq!(client.person("ghost").await.unwrap(), None);
    let p = client.person("p1").await.unwrap().unwrap();
    assert_eq!(p.display_name.as_deref(), Some("Ana"));
    assert_eq!(p.person_type.as_deref(), Some("person"));
}

// ---------------------------------------------------------------- downloads

fn pseudo_random(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn download_streams_to_file_with_sha256() {
    let server = MockServer::start().await;
    let data = pseudo_random(3 * 1024 * 1024 + 17);
    on("GET", "/v1/files/audio.mp3")
        .and(header("authorization", "Bearer static-token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(data.clone(), "audio/mpeg"))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("recordings/2025/03/01/r1.mp3");
    let url = format!("{}/v1/files/audio.mp3?ticket=abc", server.uri());
    let got = static_client(&server)
        .download_to_file(&url, &dest, Some(data.len() as u64))
        .await
        .unwrap();
    assert_eq!(got.path, dest);
    assert_eq!(got.size_bytes, data.len() as u64);
    assert_eq!(got.sha256_hex, hex::encode(Sha256::digest(&data)));
    assert_eq!(got.content_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(
        dir_entries(dest.parent().unwrap()),
        ["r1.mp3"],
        "no temp left"
    );
}

#[tokio::test]
async fn download_follows_allowed_redirect_and_retries_503() {
    let server = MockServer::start().await;
    on("GET", "/v1/files/start")
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/v1/files/real?sig=1"))
        .mount(&server)
        .await;
    on("GET", "/v1/files/real")
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on("GET", "/v1/files/real")
        .and(query_param("sig", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"hello".to_vec()))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("a.mp3");
    let got = static_client(&server)
        .download_to_file(&format!("{}/v1/files/start", server.uri()), &dest, None)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
    assert_eq!(got.size_bytes, 5);
    let paths = request_paths(&server).await;
    assert_eq!(
        paths,
        ["/v1/files/start", "/v1/files/real", "/v1/files/real"]
    );
}

/// A one-shot HTTP server that answers `body` without Content-Length (close-delimited),
/// so the size check must happen while streaming. Returns its base URL `http://127.0.0.1:P/v1`.
async fn close_delimited_server(body: Vec<u8>, connections: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..connections {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut seen = Vec::new();
            // Read the request head.
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nConnection: close\r\n\r\n";
            sock.write_all(head).await.unwrap();
            for chunk in body.chunks(300) {
                sock.write_all(chunk).await.unwrap();
            }
            sock.shutdown().await.unwrap();
        }
    });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn download_size_mismatch_leaves_nothing_and_keeps_old_dest() {
    // Announced by Content-Length: refused before anything touches the disk.
    let server = MockServer::start().await;
    on("GET", "/v1/files/a.mp3")
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![7u8; 1000]))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("new/a.mp3");
    let err = static_client(&server)
        .download_to_file(
            &format!("{}/v1/files/a.mp3", server.uri()),
            &fresh,
            Some(999),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WebexError::SizeMismatch {
                expected: 999,
                actual: 1000
            }
        ),
        "{err:?}"
    );
    assert!(!fresh.exists());

    // Close-delimited bodies: detected while streaming, longer and shorter than expected.
    let base = close_delimited_server(vec![7u8; 1000], 3).await;
    let client = WebexClient::new(
        ClientSettings {
            base_url: Url::parse(&base).unwrap(),
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        },
        Auth::Static(SecretString::from("t")),
    )
    .unwrap();
    let url = format!("{base}/files/a.mp3");
    let err = client
        .download_to_file(&url, &fresh, Some(999))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebexError::SizeMismatch { expected: 999, .. }),
        "{err:?}"
    );
    assert!(!fresh.exists());
    assert!(
        dir_entries(&tmp.path().join("new")).is_empty(),
        "temp file removed"
    );

    let existing = tmp.path().join("old.mp3");
    std::fs::write(&existing, b"previous").unwrap();
    let err = client
        .download_to_file(&url, &existing, Some(5000))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WebexError::SizeMismatch {
                expected: 5000,
                actual: 1000
            }
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"previous");
    assert_eq!(dir_entries(tmp.path()), ["new", "old.mp3"]);

    // The same server, right size: works without Content-Length too.
    let ok = client
        .download_to_file(&url, &tmp.path().join("ok.mp3"), Some(1000))
        .await
        .unwrap();
    assert_eq!(ok.size_bytes, 1000);
    assert_eq!(ok.sha256_hex, hex::encode(Sha256::digest(vec![7u8; 1000])));
}

#[tokio::test]
async fn download_refuses_foreign_hosts_without_sending() {
    let server = MockServer::start().await;
    let client = static_client(&server);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("x.mp3");
    for url in [
        "http://evil.example.com/a.mp3",
        "https://evilwebex.com/a.mp3",
        "https://webex.com.evil.example/a.mp3",
        "file:///etc/passwd",
    ] {
        let err = client.download_to_file(url, &dest, None).await.unwrap_err();
        assert!(
            matches!(err, WebexError::HostNotAllowed(_)),
            "{url}: {err:?}"
        );
    }
    assert!(requests(&server).await.is_empty());
    assert!(!dest.exists());
}

/// A download link carries its access ticket in the query: a failed download says why, never
/// where (its text is logged and stored in `processing_errors` and queue headers).
#[tokio::test]
async fn a_failed_download_does_not_repeat_its_link() {
    let server = MockServer::start().await;
    let client = static_client(&server);
    let tmp = tempfile::tempdir().unwrap();
    // The fake's host, on a port where nothing listens.
    let url = "http://127.0.0.1:1/files/a.mp3?ticket=TICKET-SECRET";
    let err = client
        .download_to_file(url, &tmp.path().join("a.mp3"), None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("TICKET-SECRET"), "{text}");
    assert!(text.contains("onnection refused"), "{text}");
}

#[tokio::test]
async fn download_refuses_redirect_to_foreign_host() {
    let server = MockServer::start().await;
    on("GET", "/v1/files/a.mp3")
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", "http://evil.example.com/steal?x=1"),
        )
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("a.mp3");
    let err = static_client(&server)
        .download_to_file(&format!("{}/v1/files/a.mp3", server.uri()), &dest, None)
        .await
        .unwrap_err();
    match &err {
        WebexError::HostNotAllowed(h) => {
            assert_eq!(
                h, "http://evil.example.com/steal",
                "query (tickets) not echoed"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(requests(&server).await.len(), 1);
    assert!(!dest.exists());
    assert!(dir_entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn api_calls_follow_redirects_only_where_the_token_may_go() {
    let server = MockServer::start().await;
    let port = server.address().port();
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(307).insert_header(
            "Location",
            format!("http://localhost:{port}/v1/people/moved"),
        ))
        .mount(&server)
        .await;
    let err = static_client(&server).me().await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err}");
    assert_eq!(
        request_paths(&server).await,
        ["/v1/people/me"],
        "the other host was never asked"
    );

    let server = MockServer::start().await;
    on("GET", "/v1/people/me")
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/v1/people/moved"))
        .mount(&server)
        .await;
    on("GET", "/v1/people/moved")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "p1", "emails": []})))
        .mount(&server)
        .await;
    let me = static_client(&server)
        .me()
        .await
        .expect("followed on the same host");
    assert_eq!(me.id, "p1");
}

// ---------------------------------------------------------------- webhooks

#[tokio::test]
async fn webhooks_crud_request_shapes() {
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    let hook = json!({
        "id": "wh1", "name": "rec", "targetUrl": "https://svc/webhooks/webex",
        "resource": "convergedRecordings", "event": "created", "secret": "s3",
        "status": "active", "created": "2025-03-01T10:00:00.000Z", "ownedBy": "org"
    });
    on("POST", "/v1/webhooks")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "name": "rec", "targetUrl": "https://svc/webhooks/webex",
            "resource": "convergedRecordings", "event": "created",
            "secret": "s3", "ownedBy": "org"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook.clone()))
        .expect(1)
        .mount(&server)
        .await;
    on("PUT", "/v1/webhooks/wh1")
        .and(body_json(json!({
            "name": "rec2", "targetUrl": "https://svc/webhooks/webex", "status": "active"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook.clone()))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/v1/webhooks/wh1")
        .respond_with(ResponseTemplate::new(200).set_body_json(hook.clone()))
        .expect(1)
        .mount(&server)
        .await;
    on("DELETE", "/v1/webhooks/wh1")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/v1/webhooks")
        .and(query_param("max", "100"))
        .and(query_param("ownedBy", "org"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [hook.clone()]}))
                .insert_header(
                    "Link",
                    format!(r#"<{base}/webhooks?after=wh1>; rel="next""#),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/v1/webhooks")
        .and(query_param("after", "wh1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [{"id": "wh2", "status": "inactive"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let client = static_client(&server);
    let created = client
        .create_webhook(&NewWebhook {
            name: "rec".into(),
            target_url: "https://svc/webhooks/webex".into(),
            resource: "convergedRecordings".into(),
            event: "created".into(),
            filter: None,
            secret: Some("s3".into()),
            owned_by: Some("org".into()),
        })
        .await
        .unwrap();
    assert_eq!(created.id, "wh1");
    assert_eq!(created.status.as_deref(), Some("active"));
    assert_eq!(
        created.created,
        Some(Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap())
    );
    client
        .update_webhook(
            "wh1",
            &WebhookUpdate {
                name: "rec2".into(),
                target_url: "https://svc/webhooks/webex".into(),
                secret: None,
                status: Some("active".into()),
                owned_by: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        client.get_webhook("wh1").await.unwrap().owned_by.as_deref(),
        Some("org")
    );
    let all = client.list_webhooks(true).await.unwrap();
    assert_eq!(
        all.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["wh1", "wh2"]
    );
    client.delete_webhook("wh1").await.unwrap();

    let methods: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        methods,
        [
            "POST /v1/webhooks",
            "PUT /v1/webhooks/wh1",
            "GET /v1/webhooks/wh1",
            "GET /v1/webhooks",
            "GET /v1/webhooks",
            "DELETE /v1/webhooks/wh1",
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn download_redirect_loop_is_bounded() {
    let server = MockServer::start().await;
    on("GET", "/v1/files/loop")
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/v1/files/loop"))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("a.mp3");
    let err = static_client(&server)
        .download_to_file(&format!("{}/v1/files/loop", server.uri()), &dest, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    assert_eq!(requests(&server).await.len(), 6);
    assert!(!dest.exists());
}
