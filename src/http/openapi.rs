//! The OpenAPI document: its fixed parts here; the operations come from the handlers'
//! `#[utoipa::path]` attributes, collected by the `OpenApiRouter` in `recordings/mod.rs`,
//! so every route path is written once and the document cannot miss a route.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::error::ErrorBody;
use crate::domain::ProcessingStatus;

/// The 401 every operation can answer (a missing or wrong `API_TOKEN`).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Missing or wrong API token")]
pub struct Unauthorized(#[allow(dead_code)] ErrorBody);

struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Title, shared schemas and the bearer scheme; the paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(title = "webex-recordings", description = "Webex Calling recordings: transcripts, summaries, audio"),
    components(schemas(ProcessingStatus, ErrorBody)),
    modifiers(&BearerSecurity),
    // Every operation here is behind the API token.
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The finished document, put in an extension by the router that built it.
pub type Document = Arc<utoipa::openapi::OpenApi>;

/// The OpenAPI document itself.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "This document", body = Object)),
    tag = "meta"
)]
pub async fn openapi_json(Extension(doc): Extension<Document>) -> Response {
    Json(doc.as_ref()).into_response()
}
