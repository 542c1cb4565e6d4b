//! The legal hold from the call page (`POST /recordings/{id}/hold`, `…/hold/release`): the
//! API's own `change_hold`, so the change and its audit entry commit together here too.

use axum::Extension;
use axum::response::Redirect;
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
) -> Result<(Extension<Audited>, Redirect), PageError> {
    change_hold(&call.state, &context, &call.id, Some(&form.reason), 303).await?;
    Ok(back_to_call(&call, "held"))
}

pub async fn release(
    Extension(context): Extension<AuditContext>,
    call: RecordingForm,
) -> Result<(Extension<Audited>, Redirect), PageError> {
    change_hold(&call.state, &context, &call.id, None, 303).await?;
    Ok(back_to_call(&call, "released"))
}

/// The call page again; its audit entry is already written (the access layer adds none).
fn back_to_call(call: &RecordingForm, notice: &str) -> (Extension<Audited>, Redirect) {
    (Extension(Audited), call.back(notice))
}
