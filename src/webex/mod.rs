//! Webex REST API client: authentication (static token or OAuth with refresh), retries,
//! pagination, and one file per resource.
//!
//! Self-contained: depends on nothing else of the crate but the shared [`RetryPolicy`].

pub mod access;
mod auth;
mod download;
mod endpoint;
mod error;
mod pagination;
mod people;
mod recordings;
mod types;
mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::Retryable;
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

pub use auth::{Auth, OAuthCredentials, OAuthTokens, TokenStore, authorize_url};
pub use download::{Download, Downloaded};
pub use error::{BoxError, WebexError};
pub use pagination::{Link, Pages, next_link, parse_link_header};
pub use people::PeopleNames;
pub use recordings::{DeletionNote, ListQuery, ListScope, WebexDeletion};
pub use types::*;

pub use crate::retry::RetryPolicy;

use auth::AuthState;

/// Default Webex API base.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

/// Domains (and their subdomains) we talk to and send the bearer token to.
const WEBEX_DOMAINS: &[&str] = &[
    "webex.com",
    "webexapis.com",
    "wbx2.com",
    "ciscospark.com",
    "webexcontent.com",
];

/// Redirects followed by a download before giving up.
const MAX_REDIRECTS: u32 = 5;

/// How much of an error body we read to find its message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Client settings; `Default` targets the real Webex API.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Base of every call, e.g. `https://webexapis.com/v1` (`WEBEX_API_URL`).
    pub base_url: Url,
    /// Whole-request timeout for API calls; for downloads, the connect and per-read timeout.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            // A constant that is known to parse.
            base_url: Url::parse(DEFAULT_BASE_URL).expect("valid default base URL"),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// Webex API client. Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct WebexClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// API calls: reqwest follows redirects itself (and drops the token across hosts).
    api: reqwest::Client,
    /// Downloads: no automatic redirects, we follow them with our host check.
    download: reqwest::Client,
    settings: ClientSettings,
    auth: AuthState,
}

impl std::fmt::Debug for WebexClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebexClient")
            .field("base_url", &self.inner.settings.base_url.as_str())
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Body of a request, kept owned so that every retry can rebuild it.
pub(crate) enum ReqBody {
    None,
    Json(serde_json::Value),
    /// Form fields; values may be secrets, exposed only when the request is built.
    Form(Vec<(&'static str, SecretString)>),
}

pub(crate) struct ApiRequest {
    method: Method,
    url: Url,
    body: ReqBody,
    /// Send the bearer token (false for the token endpoint itself).
    authenticated: bool,
    /// Use the download client and follow redirects by hand.
    download: bool,
}

impl ApiRequest {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            body: ReqBody::None,
            authenticated: true,
            download: false,
        }
    }

    pub(crate) fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = ReqBody::Json(body);
        self
    }
}

impl WebexClient {
    /// A client without a token store (OAuth tokens then live in memory only).
    pub fn new(settings: ClientSettings, auth: Auth) -> Result<Self, WebexError> {
        Self::build(settings, auth, None)
    }

    /// A client whose OAuth tokens are loaded from and saved to `store` (ignored for a
    /// static token). A stored refresh token is preferred over the configured one.
    pub fn with_token_store(
        settings: ClientSettings,
        auth: Auth,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, WebexError> {
        Self::build(settings, auth, Some(store))
    }

    fn build(
        settings: ClientSettings,
        auth: Auth,
        store: Option<Arc<dyn TokenStore>>,
    ) -> Result<Self, WebexError> {
        let base = &settings.base_url;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(WebexError::Config(format!(
                "WEBEX_API_URL must be an http(s) URL, got {base}"
            )));
        }
        if base.host_str().is_none() {
            return Err(WebexError::Config(format!(
                "WEBEX_API_URL has no host: {base}"
            )));
        }
        let user_agent = concat!("webex-recordings/", env!("CARGO_PKG_VERSION"));
        // A redirect is followed only where the first request could have gone: a 307 from the
        // token endpoint would re-send the client secret, and a 302 could point inside our
        // network. A refused one comes back as the redirect answer itself, an error.
        let redirect_base = settings.base_url.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS as usize {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if is_allowed_url(&redirect_base, attempt.url()) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let api = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(settings.request_timeout)
            .redirect(redirects)
            .build()?;
        // No total timeout for downloads (files may be large): connect and idle-read limits.
        let download = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(settings.request_timeout)
            .read_timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                download,
                auth: AuthState::new(auth, store),
                settings,
            }),
        })
    }

    /// The configured API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.settings.base_url
    }

    /// `{base}/{segments...}`, each segment percent-encoded (ids can never alter the path).
    /// Appends to the base path instead of `Url::join`, which would drop the `/v1`.
    pub(crate) fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.settings.base_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            // Cannot fail: `build` rejected cannot-be-a-base URLs.
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A URL we may contact with our token: see [`is_allowed_url`].
    pub(crate) fn is_allowed_url(&self, url: &Url) -> bool {
        is_allowed_url(&self.inner.settings.base_url, url)
    }

    /// Sends a request with authentication, retries and (for downloads) manual redirects.
    /// Returns the successful (2xx) response; anything else becomes a [`WebexError`].
    /// Transient failures (429/423, 502/503/504, connect errors, timeouts) are retried by the
    /// client's [`RetryPolicy`], waiting what `Retry-After` asks (capped).
    #[tracing::instrument(name = "webex.request", skip_all, fields(method = %req.method, endpoint = endpoint::endpoint_template(self.base_url(), &req.url)))]
    pub(crate) async fn execute(&self, req: ApiRequest) -> Result<Response, WebexError> {
        let policy = &self.inner.settings.retry;
        let attempts = AtomicU32::new(0);
        // Where the next try goes: a retry after a download redirect goes to the redirect's
        // target (its signed URL), not through the redirect again.
        let current_url = std::sync::Mutex::new(req.url.clone());
        let result = (|| {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.send_once(&req, &current_url)
        })
        .retry(policy.backoff())
        .sleep(tokio::time::sleep)
        .when(|failed: &FailedTry| failed.transient)
        .adjust(|failed, backoff| policy.honour_retry_after(failed.retry_after, backoff))
        .notify(|failed, delay| {
            tracing::warn!(url = %redact_url(&req.url), webex_attempt = attempts.load(Ordering::Relaxed), delay_ms = delay.as_millis() as u64, error = %failed.error, "transient Webex failure; retrying");
        })
        .await;
        match result {
            Ok(resp) => Ok(resp),
            Err(failed) if failed.transient => {
                let attempts = attempts.load(Ordering::Relaxed);
                tracing::warn!(url = %redact_url(&req.url), attempts, error = %failed.error, "giving up on Webex request");
                Err(WebexError::RetriesExhausted {
                    attempts,
                    last: Box::new(failed.error),
                })
            }
            Err(failed) => Err(failed.error),
        }
    }

    /// One try of a request, starting at `current_url`: a download's redirects are followed
    /// (and remembered there) and a 401 refreshes an OAuth token once, neither counting as a
    /// retry.
    async fn send_once(
        &self,
        req: &ApiRequest,
        current_url: &std::sync::Mutex<Url>,
    ) -> Result<Response, FailedTry> {
        let mut url = current_url
            .lock()
            .map_or_else(|_| req.url.clone(), |u| u.clone());
        let mut redirects = 0u32;
        let mut refreshed_after_401 = false;
        loop {
            if !self.is_allowed_url(&url) {
                return Err(WebexError::HostNotAllowed(redact_url(&url)).into());
            }
            let bearer = if req.authenticated {
                Some(self.bearer().await?)
            } else {
                None
            };
            let client = if req.download {
                &self.inner.download
            } else {
                &self.inner.api
            };
            let mut builder = client.request(req.method.clone(), url.clone());
            if let Some(b) = &bearer {
                builder = builder.bearer_auth(b.token.expose_secret());
            }
            builder = match &req.body {
                ReqBody::None => builder,
                ReqBody::Json(v) => builder.json(v),
                ReqBody::Form(fields) => {
                    let exposed: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(k, v)| (*k, v.expose_secret()))
                        .collect();
                    builder.form(&exposed)
                }
            };

            let started = std::time::Instant::now();
            let sent = builder.send().await;
            endpoint::record_call(
                &endpoint::endpoint_template(self.base_url(), &url),
                sent.as_ref().ok().map(|r| r.status().as_u16()),
                started.elapsed(),
            );
            let resp = match sent {
                Ok(resp) => resp,
                Err(e) if e.is_connect() || e.is_timeout() => {
                    return Err(FailedTry::transient(WebexError::from(e), None));
                }
                Err(e) => return Err(WebexError::from(e).into()),
            };
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if req.download
                && status.is_redirection()
                && let Some(next) = redirect_target(&url, resp.headers())
            {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(WebexError::Api {
                        status: status.as_u16(),
                        message: format!("more than {MAX_REDIRECTS} redirects while downloading"),
                        tracking_id: tracking_id_header(resp.headers()),
                    }
                    .into());
                }
                tracing::debug!(from = %redact_url(&url), to = %redact_url(&next), "following download redirect");
                if let Ok(mut current) = current_url.lock() {
                    current.clone_from(&next);
                }
                url = next;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED
                && !refreshed_after_401
                && let Some(b) = &bearer
                && self.inner.auth.is_oauth()
            {
                refreshed_after_401 = true;
                tracing::info!(tracking_id = ?tracking_id_header(resp.headers()), "Webex answered 401; refreshing the access token once");
                self.refresh_after_401(b.generation).await?;
                continue;
            }
            let retry_after = crate::retry::parse_retry_after(resp.headers());
            let error = api_error(resp, &url).await;
            return Err(match status.as_u16() {
                429 | 423 => FailedTry::transient(error, retry_after),
                502..=504 => FailedTry::transient(error, None),
                _ => error.into(),
            });
        }
    }

    /// [`Self::execute`] behind a pointer, for the token refresh that `execute` itself calls.
    pub(crate) fn execute_boxed(
        &self,
        req: ApiRequest,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Response, WebexError>> + Send + '_>> {
        Box::pin(self.execute(req))
    }

    /// GET a JSON object.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, WebexError> {
        let resp = self.execute(ApiRequest::get(url)).await?;
        read_json(resp).await
    }
}

/// A failed try of a request, with what decides whether and when to try again.
struct FailedTry {
    error: WebexError,
    transient: bool,
    /// What the server's `Retry-After` asked for.
    retry_after: Option<Duration>,
}

impl FailedTry {
    fn transient(error: WebexError, retry_after: Option<Duration>) -> Self {
        Self {
            error,
            transient: true,
            retry_after,
        }
    }
}

impl From<WebexError> for FailedTry {
    fn from(error: WebexError) -> Self {
        Self {
            error,
            transient: false,
            retry_after: None,
        }
    }
}

/// Decodes a JSON response body.
pub(crate) async fn read_json<T: DeserializeOwned>(resp: Response) -> Result<T, WebexError> {
    let url = redact_url(resp.url());
    let bytes = resp.bytes().await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| WebexError::Decode(format!("unexpected JSON from {url}: {e}")))
}

/// Scheme, host and path only: download URLs carry tickets in their query.
pub(crate) fn redact_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{}://{}:{}{}", url.scheme(), host, p, url.path()),
        None => format!("{}://{}{}", url.scheme(), host, url.path()),
    }
}

fn tracking_id_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("trackingid")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn redirect_target(current: &Url, headers: &HeaderMap) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    current.join(location.trim()).ok()
}

/// Turns a failed response into [`WebexError::Api`], reading at most `MAX_ERROR_BODY` bytes,
/// and logs it with its TrackingID (never the token).
async fn api_error(mut resp: Response, url: &Url) -> WebexError {
    let status = resp.status().as_u16();
    let header_tracking = tracking_id_header(resp.headers());
    let mut body = Vec::new();
    // Errors are small; the cap protects us from a huge unexpected body.
    while body.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let json_str = |v: Option<&serde_json::Value>| {
        v.and_then(|m| m.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let message = json
        .as_ref()
        .and_then(|j| {
            json_str(j.get("message")).or_else(|| {
                json_str(
                    j.get("errors")
                        .and_then(|e| e.get(0))
                        .and_then(|e| e.get("description")),
                )
            })
        })
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&body);
            let snippet: String = text.trim().chars().take(300).collect();
            if snippet.is_empty() {
                "(empty body)".to_string()
            } else {
                snippet
            }
        });
    let tracking_id =
        header_tracking.or_else(|| json.as_ref().and_then(|j| json_str(j.get("trackingId"))));
    // In the `webex.request` span, which names the method. Webex's text is `answer`: a field
    // called `message` would replace the line's own.
    tracing::warn!(
        url = %redact_url(url),
        status,
        tracking_id = tracking_id.as_deref().unwrap_or("-"),
        answer = %message,
        "Webex API error"
    );
    WebexError::Api {
        status,
        message,
        tracking_id,
    }
}

/// A URL we may contact with our token: the configured base host (same scheme), or an https URL
/// on a Webex domain (exact match or a subdomain, never a substring).
fn is_allowed_url(base: &Url, url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if url.scheme() == base.scheme()
        && base
            .host_str()
            .is_some_and(|b| b.trim_end_matches('.').eq_ignore_ascii_case(&host))
    {
        return true;
    }
    url.scheme() == "https"
        && WEBEX_DOMAINS.iter().any(|d| {
            host == *d
                || host
                    .strip_suffix(d)
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> WebexClient {
        WebexClient::new(
            ClientSettings {
                base_url: Url::parse(base).unwrap(),
                ..Default::default()
            },
            Auth::Static(SecretString::from("t")),
        )
        .unwrap()
    }

    #[test]
    fn endpoint_keeps_v1_and_encodes_ids() {
        let c = client("https://webexapis.com/v1");
        assert_eq!(
            c.endpoint(&["convergedRecordings"]).as_str(),
            "https://webexapis.com/v1/convergedRecordings"
        );
        let c = client("https://webexapis.com/v1/");
        assert_eq!(
            c.endpoint(&["convergedRecordings", "a/b?c"]).as_str(),
            "https://webexapis.com/v1/convergedRecordings/a%2Fb%3Fc"
        );
    }

    #[test]
    fn allowed_hosts() {
        let c = client("http://127.0.0.1:9999/v1");
        let ok = |s: &str| c.is_allowed_url(&Url::parse(s).unwrap());
        assert!(ok("https://webexapis.com/v1/x"));
        assert!(ok("https://a.b.webex.com/x"));
        assert!(ok("https://WBX2.COM./x"));
        assert!(ok("https://cdn.webexcontent.com/x"));
        assert!(ok("http://127.0.0.1:1234/file"));
        assert!(!ok("http://webex.com/x"), "plain http to Webex is refused");
        assert!(!ok("https://evilwebex.com/x"));
        assert!(!ok("https://webex.com.evil.example/x"));
        assert!(!ok("https://127.0.0.1/x"), "scheme differs from base");
        assert!(!ok("https://evil.example.com/x"));
    }

    #[test]
    fn redaction_drops_query() {
        let u = Url::parse("https://x.webex.com:8443/a/b.mp3?ticket=SECRET").unwrap();
        assert_eq!(redact_url(&u), "https://x.webex.com:8443/a/b.mp3");
    }
}
