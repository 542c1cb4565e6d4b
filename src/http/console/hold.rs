//! The legal hold from the call page (`POST /recordings/{id}/hold`, `…/hold/release`): the
//! API's own `change_hold`, so the change and its audit entry commit together here too.

use axum::Extension;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::call::RecordingForm;
use super::{PageError, PageForm};
use crate::http::access::{AuditContext, Audited};
use crate::http::compliance::change_hold;

#[derive(Deserialize)]
pub struct HoldForm {
    /// Missing counts as blank: refused with the API's message.
    #[serde(default)]
    reason: String,
}

pub async fn set(
    Extension(context): Extension<AuditContext>,
    call: RecordingForm,
    PageForm(form): PageForm<HoldForm>,
) -> Result<Response, PageError> {
    change_hold(&call.state, &context, &call.id, Some(&form.reason), 303).await?;
    Ok(back_to_call(&call, "held"))
}

pub async fn release(
    Extension(context): Extension<AuditContext>,
    call: RecordingForm,
) -> Result<Response, PageError> {
    change_hold(&call.state, &context, &call.id, None, 303).await?;
    Ok(back_to_call(&call, "released"))
}

/// The call page again; its audit entry is already written (the access layer adds none).
fn back_to_call(call: &RecordingForm, notice: &str) -> Response {
    let mut response = call.back(notice).into_response();
    response.extensions_mut().insert(Audited);
    response
}
