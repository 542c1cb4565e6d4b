//! The OpenAPI document: its fixed parts here; the operations come from the handlers'
//! `#[utoipa::path]` attributes, collected by the `OpenApiRouter` in `recordings/mod.rs`,
//! so every route path is written once and the document cannot miss a route.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa::OpenApi;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::error::ErrorBody;
use crate::domain::{ProcessingStatus, RecordingId};

/// The 401 every operation can answer (a missing or wrong `API_TOKEN`).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Missing or wrong API token")]
pub struct Unauthorized(#[allow(dead_code)] ErrorBody);

/// How an operation that reads a JSON body refuses one it cannot read as JSON.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum JsonBodyRefused {
    #[response(
        status = 413,
        description = "The body is larger than 2 MiB (axum's limit)"
    )]
    TooLarge(ErrorBody),
    #[response(
        status = 415,
        description = "The body is not sent as `Content-Type: application/json`"
    )]
    NotJson(ErrorBody),
}

/// What an operation on one recording answers when there is nothing to act on: a malformed
/// id, no key, or no such recording.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum RecordingErrors {
    #[response(status = 400, description = "Invalid id")]
    InvalidId(ErrorBody),
    #[response(status = 401, description = "Missing or wrong API token")]
    Unauthorized(ErrorBody),
    #[response(status = 404, description = "Unknown recording")]
    Unknown(ErrorBody),
}

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

/// The `{id}` path parameter, with the constraints [`RecordingId::parse`] enforces.
pub struct IdParam;

impl utoipa::IntoParams for IdParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(RecordingId::PATTERN))
            .min_length(Some(1))
            .max_length(Some(RecordingId::MAX_LEN));
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("Webex recording id"))
                .schema(Some(schema))
                .build(),
        ]
    }
}

/// A query date: RFC 3339 date-time or a plain `YYYY-MM-DD` day.
pub fn date_or_date_time() -> Schema {
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(string(KnownFormat::DateTime))
            .item(string(KnownFormat::Date))
            .build(),
    )
}
