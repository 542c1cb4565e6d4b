//! The legal hold from the call page (`POST /recordings/{id}/hold`, `…/hold/release`): the
//! API's own `change_hold`, so the change and its audit entry commit together here too.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::call::{call_with_notice, parse_id};
use super::{PageError, require_same_origin};
use crate::domain::RecordingId;
use crate::http::AppState;
use crate::http::access::{AuditContext, Audited};
use crate::http::compliance::change_hold;

#[derive(Deserialize)]
pub struct HoldForm {
    /// Missing counts as blank: refused with the API's message.
    #[serde(default)]
    reason: String,
}

pub async fn set(
    State(state): State<AppState>,
    Extension(context): Extension<AuditContext>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Form(form): Form<HoldForm>,
) -> Result<Response, PageError> {
    require_same_origin(&state, &headers)?;
    let id = parse_id(&raw_id)?;
    change_hold(&state, &context, &id, Some(&form.reason), 303).await?;
    Ok(back_to_call(&id, "held"))
}

pub async fn release(
    State(state): State<AppState>,
    Extension(context): Extension<AuditContext>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Response, PageError> {
    require_same_origin(&state, &headers)?;
    let id = parse_id(&raw_id)?;
    change_hold(&state, &context, &id, None, 303).await?;
    Ok(back_to_call(&id, "released"))
}

/// The call page again; its audit entry is already written (the access layer adds none).
fn back_to_call(id: &RecordingId, notice: &str) -> Response {
    let mut response = call_with_notice(id, notice).into_response();
    response.extensions_mut().insert(Audited);
    response
}
