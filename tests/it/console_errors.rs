//! The console's own errors (bad query strings and paths, wrong form bodies, wrong methods) are
//! pages with axum's status, and every console answer carries the security headers. Plain HTTP:
//! no browser needed.

use reqwest::{Method, Response};

use crate::console::KEY;

/// The console of `console.rs` (seeded calls, `KEY` as `API_TOKEN`) and a client that does not
/// follow redirects.
struct Console {
    console: crate::console::Console,
    http: reqwest::Client,
}

async fn console() -> Console {
    let console = crate::console::console().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Console { console, http }
}

impl Console {
    /// A request as the console's own page would send it: same origin, signed in when `session`.
    fn request(
        &self,
        method: Method,
        path: &str,
        session: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let base = &self.console.app.base;
        let request = self
            .http
            .request(method, format!("{base}{path}"))
            .header("origin", base);
        match session {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// Signs in with the admin key; the session's cookie, and the 303 that set it.
    async fn sign_in(&self) -> (String, Response) {
        let answer = self
            .request(Method::POST, "/login", None)
            .form(&[("token", KEY)])
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), 303, "the admin key signs in");
        let cookie = answer.headers()["set-cookie"].to_str().expect("cookie");
        let session = cookie.split(';').next().expect("name=value").to_string();
        (session, answer)
    }
}

fn header<'a>(answer: &'a Response, name: &str) -> &'a str {
    answer
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The headers every console answer carries, whatever its status.
fn assert_secured(answer: &Response, what: &str) {
    assert_eq!(header(answer, "x-frame-options"), "DENY", "{what}");
    assert_eq!(
        header(answer, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(answer, "referrer-policy"), "same-origin", "{what}");
    let csp = header(answer, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp:?}");
}

#[tokio::test]
async fn console_errors_are_pages_with_their_status_never_plain_text_or_json() {
    let c = console().await;
    let (session, _) = c.sign_in().await;
    let s = Some(session.as_str());
    let over_the_cap = format!(
        "name=t&match=any&rules={}",
        "a".repeat(2 * 1024 * 1024 + 1024)
    );
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "repeated filter on the calls",
            c.request(Method::GET, "/?status=failed&status=pending", s),
            400,
        ),
        (
            "unknown status on the calls",
            c.request(Method::GET, "/?status=bogus", s),
            400,
        ),
        (
            "negative skip on the calls",
            c.request(Method::GET, "/?skip=-1", s),
            400,
        ),
        (
            "NUL in the search",
            c.request(Method::GET, "/?q=factura%00", s),
            400,
        ),
        (
            "a date that is none on the audit log",
            c.request(Method::GET, "/audit?from=bogus", s),
            400,
        ),
        (
            "repeated filter on the audit log",
            c.request(Method::GET, "/audit?actor=a&actor=b", s),
            400,
        ),
        (
            "call id not UTF-8",
            c.request(Method::GET, "/recordings/%FF", s),
            400,
        ),
        (
            "tracker name not UTF-8",
            c.request(Method::GET, "/trackers/%FF", s),
            400,
        ),
        (
            "form without its content type",
            c.request(Method::POST, "/login", None).body("token=x"),
            415,
        ),
        (
            "form without its field",
            c.request(Method::POST, "/login", None)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("other=x"),
            422,
        ),
        (
            "form over the size cap",
            c.request(Method::POST, "/trackers", s)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(over_the_cap),
            413,
        ),
        (
            "GET of a POST form",
            c.request(Method::GET, "/logout", s),
            405,
        ),
        (
            "GET of the hold form",
            c.request(Method::GET, "/recordings/call-a/hold", s),
            405,
        ),
        ("PUT of the calls", c.request(Method::PUT, "/", s), 405),
        (
            "DELETE of a call page",
            c.request(Method::DELETE, "/recordings/call-a", s),
            405,
        ),
    ];
    // Every case is tried, and every one that is not a page is named.
    let mut wrong = Vec::new();
    for (what, request, status) in cases {
        let answer = request.send().await.expect("request");
        let content_type = header(&answer, "content-type").to_string();
        let got = answer.status().as_u16();
        let secured = header(&answer, "x-frame-options") == "DENY";
        let allow = header(&answer, "allow").to_string();
        let page = answer.text().await.expect("body");
        let is_page = content_type.starts_with("text/html")
            && page.starts_with("<!doctype html>")
            // An error page's heading, or the calls' search form naming the refused value.
            && (page.contains("<h1") || page.contains(r#"class="error" role="alert""#));
        if got != status || !is_page || !secured || (status == 405 && allow.is_empty()) {
            wrong.push(format!(
                "{what}: {got} {content_type} (want {status} text/html), security headers: \
                 {secured}, Allow: {allow:?}, body: {}",
                page.chars().take(120).collect::<String>()
            ));
        }
    }
    assert!(wrong.is_empty(), "not pages:\n{}", wrong.join("\n"));
    // A refused filter names itself and lists nothing (a list ignoring it would look like its
    // answer).
    let refused = c.request(Method::GET, "/?status=bogus", s).send().await;
    let page = refused.expect("request").text().await.expect("body");
    assert!(page.contains("status: unknown value"), "{page}");
    assert!(!page.contains("/recordings/call-a"), "{page}");
    let refused = c.request(Method::GET, "/audit?from=bogus", s).send().await;
    let page = refused.expect("request").text().await.expect("body");
    assert!(page.contains("from:"), "{page}");
    assert!(!page.contains(r#"value="bogus""#), "{page}");

    // The machine interfaces keep their JSON 405.
    for (method, path) in [
        (Method::PUT, "/api/v1/recordings/"),
        (Method::GET, "/webhooks/webex"),
    ] {
        let answer = c
            .request(method.clone(), path, None)
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), 405, "{method} {path}");
        let content_type = header(&answer, "content-type");
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: {content_type}"
        );
    }
}

#[tokio::test]
async fn every_console_answer_carries_the_security_headers_and_pages_are_not_stored() {
    let c = console().await;

    // Signed out: the redirect to sign in, and the sign-in page.
    let to_sign_in = c.request(Method::GET, "/", None).send().await.expect("get");
    assert_eq!(to_sign_in.status(), 303);
    assert_secured(&to_sign_in, "redirect to /login");
    let form = c
        .request(Method::GET, "/login", None)
        .send()
        .await
        .expect("get");
    assert_eq!(form.status(), 200);
    assert_secured(&form, "/login");
    assert_eq!(header(&form, "cache-control"), "no-store");

    let (session, signed_in) = c.sign_in().await;
    assert_secured(&signed_in, "POST /login");
    let s = Some(session.as_str());
    for (path, status) in [
        ("/", 200),
        ("/trackers", 200),
        ("/audit", 200),
        ("/recordings/no-such-call", 404),
        ("/no/such/page", 404),
    ] {
        let answer = c.request(Method::GET, path, s).send().await.expect("get");
        assert_eq!(answer.status().as_u16(), status, "{path}");
        assert_secured(&answer, path);
        assert_eq!(header(&answer, "cache-control"), "no-store", "{path}");
    }

    // The assets keep their own caching, with the same protections.
    for path in ["/assets/console.css", "/assets/console.js"] {
        let answer = c.request(Method::GET, path, s).send().await.expect("get");
        assert_eq!(answer.status(), 200, "{path}");
        assert_secured(&answer, path);
        assert_eq!(header(&answer, "cache-control"), "no-cache", "{path}");
    }
}
