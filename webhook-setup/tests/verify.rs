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
