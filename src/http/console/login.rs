//! Sign-in with an access key, and sign-out.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{PageError, PageForm, Peer, SameOrigin, render, signed_in};
use crate::access::Principal;
use crate::http::AppState;
use crate::http::access::record_sign_in;
use crate::http::auth;
use crate::http::error::ApiError;

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    signed_in: Option<Principal>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// The form; a browser that is already let in (a live session, or loopback without
/// `API_TOKEN`) goes straight to the calls.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Result<Response, PageError> {
    if signed_in(&state, &headers, peer).await.is_ok() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(render(&LoginPage {
        signed_in: None,
        error: None,
    })?
    .into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    _: SameOrigin,
    Peer(peer): Peer,
    headers: HeaderMap,
    PageForm(login): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    let checked = auth::check_key(&state, login.token.trim(), peer.map(|p| p.ip())).await;
    // Attempts the rate limiter turns away are not recorded: each entry is a serialized write
    // to a log kept for ever, and the limiter is there to shed exactly that load.
    let answered = match &checked {
        Ok(_) => Some(303),
        Err(ApiError::Unauthorized(_)) => Some(200), // the form again, with its message
        Err(_) => None,
    };
    if let Some(status) = answered {
        let recorded = record_sign_in(&state, &headers, peer, checked.as_ref().ok(), status).await;
        // A sign-in that is not on record does not happen; a refusal is answered anyway.
        if checked.is_ok() {
            recorded?;
        }
    }
    match checked {
        Ok(principal) => {
            let cookie = auth::start_session(&state, &principal, &headers).await?;
            Ok(redirect_setting_cookie(cookie, "/"))
        }
        Err(ApiError::Unauthorized(_)) => {
            // 200, not 401: the browser would print an error status to its console, and the
            // form shown again is the answer the person needs.
            let page = render(&LoginPage {
                signed_in: None,
                error: Some("That key is not valid. Check it and try again.".into()),
            })?;
            Ok(page.into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    _: SameOrigin,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let cookie = auth::end_session(&state, &headers).await?;
    Ok(redirect_setting_cookie(cookie, "/login"))
}

/// 303 to `location` with the session's cookie set (or cleared).
fn redirect_setting_cookie(cookie: HeaderValue, location: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, HeaderValue::from_static(location)),
        ],
    )
        .into_response()
}
