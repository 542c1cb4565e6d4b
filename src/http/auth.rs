//! Which [`Principal`] a request acts as (the access layer, `http::access`, asks here): a bearer key, a console session cookie, or (only while
//! `API_TOKEN` is unset) the loopback operator. What the principal may do is decided by
//! `access::Role::may`; failed key checks are counted per address (`FailedAuthLimiter`).
//!
//! The peer address comes from `ConnectInfo<SocketAddr>`: the server must be served with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Without it every request counts as
//! non-loopback (so an unset `API_TOKEN` then refuses everyone rather than everyone passing).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::access::{Principal, RandomToken, Role, sha256_hex};

/// The console's session cookie (`SameSite=Strict`: never sent on a cross-site request).
pub const SESSION_COOKIE: &str = "wr_session";
/// A session unused this long is over.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// Handlers take the principal the middleware resolved (or resolve it, where no middleware ran).
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let principal = authenticate(state, &parts.headers, peer_addr(&parts.extensions)).await?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// The client's address as the listener saw it (None when served without connect info).
pub fn peer_addr(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// What a console session used from another site's page is answered (403).
pub const CROSS_SITE: &str = "a console session works from the console's own pages only";

/// Who a request acts as, and whether it is a console session used from another site's page:
/// the access layer records that refusal under the session's principal.
pub struct Identified {
    pub principal: Principal,
    pub cross_site: bool,
}

/// The principal of a request, from its bearer key, its session cookie, or its address; a
/// session used from another site's page is refused (403).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Principal, ApiError> {
    let identified = identify(state, headers, peer).await?;
    if identified.cross_site {
        return Err(ApiError::Forbidden(CROSS_SITE.into()));
    }
    Ok(identified.principal)
}

/// [`authenticate`] without refusing a cross-site session, which it names instead.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Identified, ApiError> {
    let ip = peer.map(|p| p.ip());
    if let Some(ip) = ip {
        state.auth_failures.check(ip).map_err(ApiError::from)?;
    }
    let same_site = |principal| Identified {
        principal,
        cross_site: false,
    };
    if let Some(presented) = bearer(headers) {
        return check_key(state, presented, ip).await.map(same_site);
    }
    if let Some(cookie) = cookie_value(headers, SESSION_COOKIE) {
        // The cookie is `SameSite=Strict`, but another port of this host, or a sibling
        // subdomain, is the same site: such a page's form would come with it.
        let cross_site = !origin_is_own(headers, https_required(state, headers));
        let ended = || ApiError::Unauthorized("the session has ended; sign in again".into());
        let session = state
            .store
            .session(&sha256_hex(cookie), SESSION_IDLE, !cross_site)
            .await?
            .ok_or_else(ended)?;
        // Signed in with API_TOKEN: good while that is still the token (rotating it ends them).
        if session.credential_hash.is_some() && session.credential_hash != api_token_hash(state) {
            return Err(ended());
        }
        return Ok(Identified {
            principal: session.principal,
            cross_site,
        });
    }
    if state.config.api_token.is_none() && is_loopback_operator(headers, peer) {
        return Ok(same_site(Principal::new(
            Principal::LOOPBACK_ACTOR,
            Role::Admin,
        )));
    }
    Err(ApiError::Unauthorized(match state.config.api_token {
        Some(_) => "missing 'Authorization: Bearer <key>'".into(),
        None => "API_TOKEN is not set: only keys, or a client on this machine that asks for \
                 localhost or 127.0.0.1 directly (no proxy, no other site's page), get in"
            .into(),
    }))
}

/// Without `API_TOKEN` whoever sits at this machine is admin, but not everything that reaches
/// the loopback listener is them: a proxy on this host adds forwarding headers, a page whose
/// name was rebound to 127.0.0.1 names its own host, another site's script sends its origin.
fn is_loopback_operator(headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    peer.is_some_and(is_loopback)
        && FORWARDING.iter().all(|name| !headers.contains_key(*name))
        && is_loopback_host(host)
        && origin_is_own(headers, false)
}

/// No `Origin` (a shell, or a browser's own navigation), or the one this request is addressed
/// to: a browser names another site's page here, and a script cannot forge it.
fn origin_is_own(headers: &HeaderMap, https_required: bool) -> bool {
    !headers.contains_key(header::ORIGIN) || origin_names_host(headers, https_required)
}

/// The request's `Origin` names the host it is addressed to, over HTTPS when `https_required`.
/// Otherwise either scheme: behind a proxy that ends TLS without saying so, the page is
/// `https://…` while this listener speaks plain HTTP.
pub fn origin_names_host(headers: &HeaderMap, https_required: bool) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .and_then(|o| o.split_once("://"))
        .zip(host)
        .is_some_and(|((scheme, authority), host)| {
            authority.eq_ignore_ascii_case(host) && (!https_required || scheme == "https")
        })
}

/// Pages are served over HTTPS: by our own TLS, or by a proxy that says it ended TLS
/// (`X-Forwarded-Proto`, which a browser's form or script cannot set). A plain-HTTP page of
/// the same host is then not ours: someone on the network may be answering it.
pub fn https_required(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.tls.is_some()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `localhost` or a loopback address, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    let name = authority.host();
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| is_loopback(SocketAddr::new(ip, 0)))
}

/// Checks a presented key (a bearer header or the console's sign-in form). A wrong key counts
/// against the client's address.
pub async fn check_key(
    state: &AppState,
    presented: &str,
    ip: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    if let Some(ip) = ip {
        state.auth_failures.check(ip).map_err(ApiError::from)?;
    }
    if let Some(expected) = &state.config.api_token
        && bool::from(
            presented
                .as_bytes()
                .ct_eq(expected.expose_secret().as_bytes()),
        )
    {
        return Ok(Principal::new(Principal::API_TOKEN_ACTOR, Role::Admin));
    }
    if let Some(principal) = state.store.key_principal(&sha256_hex(presented)).await? {
        return Ok(principal);
    }
    if let Some(ip) = ip {
        state.auth_failures.record_failure(ip);
    }
    Err(ApiError::Unauthorized("unknown or revoked key".into()))
}

/// What a session signed in with `API_TOKEN` keeps of it.
fn api_token_hash(state: &AppState) -> Option<String> {
    state
        .config
        .api_token
        .as_ref()
        .map(|token| sha256_hex(token.expose_secret()))
}

/// Whether the browser reached us over HTTPS: [`https_required`], or a page whose `Origin` is
/// https (a proxy ended TLS). Trusting them only ever adds `Secure` to a cookie.
fn browser_uses_https(state: &AppState, headers: &HeaderMap) -> bool {
    https_required(state, headers)
        || headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("https://"))
}

/// Starts a console session for `principal`; the answer carries the returned `Set-Cookie`.
pub async fn start_session(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
) -> Result<HeaderValue, ApiError> {
    let token = RandomToken::generate("wrs_");
    // A stored key's sessions end with its revocation; API_TOKEN's, when it changes.
    let credential = (principal.actor == Principal::API_TOKEN_ACTOR)
        .then(|| api_token_hash(state))
        .flatten();
    state
        .store
        .create_session(&token.hash(), principal, credential.as_deref())
        .await?;
    cookie_header(
        SESSION_COOKIE,
        token.expose(),
        "/",
        "Strict",
        // No Max-Age: the server ends the session after 12 idle hours, the browser on close.
        None,
        browser_uses_https(state, headers),
    )
}

/// Ends the request's console session, if any; the answer carries the returned `Set-Cookie`.
pub async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
    if let Some(cookie) = cookie_value(headers, SESSION_COOKIE) {
        state.store.end_session(&sha256_hex(cookie)).await?;
    }
    cookie_header(
        SESSION_COOKIE,
        "",
        "/",
        "Strict",
        Some(Duration::ZERO),
        browser_uses_https(state, headers),
    )
}

/// A `Set-Cookie` value: always `HttpOnly`, `Secure` when the listener speaks TLS.
pub fn cookie_header(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: Option<Duration>,
    secure: bool,
) -> Result<HeaderValue, ApiError> {
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie)
        .map_err(|e| ApiError::Internal(format!("cookie is not a header value: {e}")))
}

/// The value of one cookie of the request.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn is_loopback(addr: SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(a) => a.ip().is_loopback(),
        SocketAddr::V6(a) => {
            a.ip().is_loopback() || a.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn loopback_is_recognised_in_every_form() {
        for local in ["127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"] {
            assert!(is_loopback(local.parse().unwrap()), "{local}");
        }
        assert!(!is_loopback("10.1.2.3:5000".parse().unwrap()));
        assert!(!is_loopback("[::ffff:10.1.2.3]:5000".parse().unwrap()));
    }

    #[test]
    fn the_loopback_operator_asks_for_this_machine_directly() {
        let local: Option<SocketAddr> = "127.0.0.1:5000".parse().ok();
        for host in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST",
            "[::1]:8000",
            "127.0.0.2",
        ] {
            let h = headers(&[(header::HOST, host)]);
            assert!(is_loopback_operator(&h, local), "{host}");
        }
        let same_origin = headers(&[
            (header::HOST, "127.0.0.1:8000"),
            (header::ORIGIN, "http://127.0.0.1:8000"),
        ]);
        assert!(is_loopback_operator(&same_origin, local));
        let refused = [
            // A name rebound to 127.0.0.1 by another site's DNS.
            headers(&[(header::HOST, "attacker.example:8000")]),
            headers(&[(header::HOST, "127.0.0.1.attacker.example")]),
            // Another site's script, or a sandboxed page.
            headers(&[
                (header::HOST, "127.0.0.1:8000"),
                (header::ORIGIN, "http://attacker.example"),
            ]),
            headers(&[(header::HOST, "127.0.0.1:8000"), (header::ORIGIN, "null")]),
            // A proxy on this machine, forwarding someone else.
            headers(&[
                (header::HOST, "127.0.0.1:8000"),
                (
                    header::HeaderName::from_static("x-forwarded-for"),
                    "203.0.113.9",
                ),
            ]),
            headers(&[
                (header::HOST, "localhost"),
                (header::FORWARDED, "for=203.0.113.9"),
            ]),
            headers(&[]),
        ];
        for h in &refused {
            assert!(!is_loopback_operator(h, local), "{h:?}");
        }
        let remote = "10.1.2.3:5000".parse().ok();
        assert!(!is_loopback_operator(
            &headers(&[(header::HOST, "127.0.0.1:8000")]),
            remote
        ));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_are_not_keys() {
        let h = headers(&[(header::AUTHORIZATION, "bearer  s3cret")]);
        assert_eq!(bearer(&h), Some("s3cret"));
        let h = headers(&[(header::AUTHORIZATION, "Basic s3cret")]);
        assert_eq!(bearer(&h), None);
        let h = headers(&[(header::AUTHORIZATION, "Bearer ")]);
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn cookies_are_found_among_several_headers_and_pairs() {
        let h = headers(&[
            (header::COOKIE, "a=1; wr_session=abc"),
            (header::COOKIE, "wr_oauth=xyz"),
        ]);
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&h, "wr_oauth"), Some("xyz"));
        assert_eq!(cookie_value(&h, "missing"), None);
        let h = headers(&[(header::COOKIE, "wr_session=")]);
        assert_eq!(cookie_value(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_under_tls() {
        let c = cookie_header("n", "v", "/", "Strict", Some(SESSION_IDLE), true).unwrap();
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(c.contains("Max-Age=43200"));
        let plain = cookie_header("n", "v", "/", "Lax", None, false).unwrap();
        assert!(!plain.to_str().unwrap().contains("Secure"));
    }
}
