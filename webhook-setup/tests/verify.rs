//! `verify` against a fake Webex: a good token, and limited ones.

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Fake {
    admin_list: ResponseTemplate,
    user_list: ResponseTemplate,
    details: ResponseTemplate,
    me: ResponseTemplate,
}

fn listing(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"items": [{"id": id, "topic": "Call", "status": "available"}]}))
}

fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403)
        .insert_header("trackingid", "TRK_403")
        .set_body_json(json!({"message": "The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses."}))
}

fn good() -> Fake {
    Fake {
        admin_list: listing("rec-1"),
        user_list: listing("rec-1"),
        details: ResponseTemplate::new(200).set_body_json(json!({
            "id": "rec-1",
            "temporaryDirectDownloadLinks": {
                "audioDownloadLink": "https://cdn.webexcontent.com/rec-1.mp3?ticket=x",
                "expiration": "2030-01-01T00:00:00Z"
            }
        })),
        me: ResponseTemplate::new(200).set_body_json(json!({
            "id": "person-1", "displayName": "Ada Admin", "emails": ["ada@example.com"], "orgId": "org-1"
        })),
    }
}

async fn start(f: Fake) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/people/me"))
        .respond_with(f.me)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/admin/convergedRecordings"))
        .and(query_param("max", "1"))
        .respond_with(f.admin_list)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/convergedRecordings"))
        .and(query_param("max", "1"))
        .respond_with(f.user_list)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/convergedRecordings/rec-1"))
        .respond_with(f.details)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_good_token_passes() {
    let server = start(good()).await;
    let env = env_for(&server);
    let out = run(&["verify"], &as_refs(&env)).await;
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Ada Admin"), "{text}");
    assert!(text.contains("missing scopes: none"), "{text}");

    let out = run(&["verify", "--json"], &as_refs(&env)).await;
    assert!(out.status.success());
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(report["ok"], true);
    assert_eq!(report["can_list_admin"], true);
    assert_eq!(report["can_list_user"], true);
    assert_eq!(report["download_links"], true);
    assert_eq!(report["identity"]["id"], "person-1");
    assert_eq!(report["missing_scopes"], json!([]));
}

#[tokio::test]
async fn an_admin_token_without_download_links_fails_naming_the_scope() {
    let mut f = good();
    f.details = ResponseTemplate::new(200).set_body_json(json!({"id": "rec-1"}));
    f.user_list = forbidden();
    let server = start(f).await;
    let env = env_for(&server);
    let out = run(&["verify"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("spark-compliance:recordings_read"), "{text}");
    assert!(text.contains("spark:recordings_read"), "{text}");
    assert!(text.contains("cannot be used"), "{text}");
}

#[tokio::test]
async fn a_limited_token_fails_naming_each_missing_scope() {
    let mut f = good();
    f.admin_list = forbidden();
    f.me = forbidden();
    f.details = ResponseTemplate::new(200)
        .set_body_json(json!({"id": "rec-1", "temporaryDirectDownloadLinks": {}}));
    let server = start(f).await;
    let env = env_for(&server);
    let out = run(&["verify", "--json"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(report["ok"], false);
    assert_eq!(report["can_list_admin"], false);
    assert_eq!(report["can_list_user"], true);
    assert_eq!(report["download_links"], false);
    assert_eq!(
        report["missing_scopes"],
        json!([
            "spark:people_read",
            "spark-admin:recordings_read or spark-compliance:recordings_read",
            "spark-compliance:recordings_read"
        ])
    );
}

/// Everything works but names: `spark:people_read` is needed too, so `verify` fails.
#[tokio::test]
async fn a_token_without_people_read_fails_naming_it() {
    let mut f = good();
    f.me = forbidden();
    let server = start(f).await;
    let env = env_for(&server);
    let out = run(&["verify"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("missing scopes: spark:people_read"), "{text}");
    assert!(text.contains("cannot be used"), "{text}");
}

/// An owner's token cannot list the org, a compliance officer's need not list its own: one
/// listing is enough.
#[tokio::test]
async fn one_listing_is_enough() {
    for forbid_admin in [true, false] {
        let mut f = good();
        if forbid_admin {
            f.admin_list = forbidden();
        } else {
            f.user_list = forbidden();
        }
        let server = start(f).await;
        let env = env_for(&server);
        let out = run(&["verify"], &as_refs(&env)).await;
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        assert!(!text.contains("missing scopes: spark"), "{text}");
        assert!(
            text.contains("not needed (one listing is enough)"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_token_that_cannot_list_at_all_fails() {
    let mut f = good();
    f.admin_list = forbidden();
    f.user_list = forbidden();
    let server = start(f).await;
    let env = env_for(&server);
    let out = run(&["verify"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("spark-admin:recordings_read"), "{text}");
    assert!(text.contains("spark:recordings_read"), "{text}");
    assert!(text.contains("TRK_403"), "{text}");
}

/// Without `WEBEX_ACCESS_TOKEN`, the OAuth tokens `/auth/login` stored in the database are used:
/// an expired access token is refreshed and the rotated refresh token is saved back.
#[tokio::test]
async fn without_an_access_token_the_stored_oauth_tokens_are_used_and_rotated() {
    use chrono::{Duration, Utc};
    use secrecy::SecretString;
    use webex_recordings::store::Store;
    use webex_recordings::webex::OAuthTokens;
    use wiremock::matchers::body_string_contains;

    let server = start(good()).await;
    Mock::given(method("POST"))
        .and(path("/v1/access_token"))
        .and(body_string_contains("refresh_token=stored-refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "fresh-access", "expires_in": 1209599,
            "refresh_token": "rotated-refresh", "refresh_token_expires_in": 7775999
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/tokens.db", dir.path().display());
    let store = Store::connect(&SecretString::from(database_url.clone()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .save_oauth_tokens(&OAuthTokens {
            access_token: "expired-access".into(),
            access_expires_at: Utc::now() - Duration::hours(1),
            refresh_token: "stored-refresh".into(),
            refresh_expires_at: Some(Utc::now() + Duration::days(60)),
        })
        .await
        .unwrap();

    let api_url = format!("{}/v1", server.uri());
    let env = [
        ("WEBEX_API_URL", api_url.as_str()),
        ("WEBEX_CLIENT_ID", "client-1"),
        ("WEBEX_CLIENT_SECRET", "client-secret"),
        ("DATABASE_URL", database_url.as_str()),
    ];
    let out = run(&["verify"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = server.received_requests().await.unwrap();
    let me = requests
        .iter()
        .find(|r| r.url.path() == "/v1/people/me")
        .expect("a /people/me call");
    assert_eq!(
        me.headers.get("authorization").unwrap(),
        "Bearer fresh-access"
    );
    let saved = store.load_oauth_tokens().await.unwrap().unwrap();
    assert_eq!(saved.refresh_token, "rotated-refresh");
    assert_eq!(saved.access_token, "fresh-access");
}
