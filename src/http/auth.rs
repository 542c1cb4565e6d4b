//! Bearer-token check of `/api/v1` (`API_TOKEN`); without a token only loopback clients pass.
//!
//! The peer address comes from `ConnectInfo<SocketAddr>`: the server must be served with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Without it every request counts as
//! non-loopback (so an unset `API_TOKEN` then refuses everyone rather than everyone passing).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;

/// Middleware for the `/api/v1` routes.
pub async fn require_api_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    check(state.config.api_token.as_ref(), request.headers(), peer)?;
    Ok(next.run(request).await)
}

/// The decision itself: `Ok` lets the request through.
pub fn check(
    api_token: Option<&SecretString>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(), ApiError> {
    match api_token {
        Some(expected) => {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer_token)
                .ok_or_else(|| {
                    ApiError::Unauthorized("missing 'Authorization: Bearer <API_TOKEN>'".into())
                })?;
            let expected = expected.expose_secret().as_bytes();
            if bool::from(presented.as_bytes().ct_eq(expected)) {
                Ok(())
            } else {
                Err(ApiError::Unauthorized("wrong API token".into()))
            }
        }
        None => match peer {
            Some(addr) if is_loopback(addr) => Ok(()),
            _ => Err(ApiError::Unauthorized(
                "API_TOKEN is not set: the API answers loopback clients only".into(),
            )),
        },
    }
}

fn bearer_token(value: &str) -> Option<&str> {
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
    use axum::http::HeaderValue;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn unset_token_admits_loopback_only() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let local6: SocketAddr = "[::1]:5000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        assert!(check(None, &headers(None), Some(local)).is_ok());
        assert!(check(None, &headers(None), Some(local6)).is_ok());
        assert!(check(None, &headers(None), Some(mapped)).is_ok());
        let err = check(None, &headers(Some("Bearer x")), Some(remote)).unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized(_)));
        assert!(check(None, &headers(None), None).is_err());
    }

    #[test]
    fn set_token_is_required_even_from_loopback() {
        let token = SecretString::from("s3cret");
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        assert!(check(Some(&token), &headers(None), Some(local)).is_err());
        assert!(check(Some(&token), &headers(Some("Bearer s3cre")), Some(local)).is_err());
        assert!(check(Some(&token), &headers(Some("Bearer s3cret!")), Some(local)).is_err());
        assert!(check(Some(&token), &headers(Some("Basic s3cret")), Some(local)).is_err());
        assert!(check(Some(&token), &headers(Some("Bearer s3cret")), Some(remote)).is_ok());
        assert!(check(Some(&token), &headers(Some("bearer  s3cret")), None).is_ok());
    }
}
