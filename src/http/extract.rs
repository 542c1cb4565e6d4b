//! Extractors whose rejections are our [`ApiError`]s, so bad input gets the JSON error body
//! (`{"error", "detail"}`, 400) instead of axum's plain-text rejections.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::RecordingId;

/// `Query` whose failures answer 400 with the JSON error body.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        if let Some(refused) = nul_in_query(&parts.uri) {
            return Err(ApiError::BadRequest(refused));
        }
        let Query(value) = Query::<T>::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

/// No text we store or search can hold U+0000 (PostgreSQL refuses it outright): the refusal
/// naming the parameter that has one (the API's and the console's).
pub fn nul_in_query(uri: &axum::http::Uri) -> Option<String> {
    let query = uri.query().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(name, _)| format!("{name}: contains a NUL character"))
}

/// The `{id}` path segment, validated as a [`RecordingId`] before anything else sees it.
pub struct IdPath(pub RecordingId);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        Ok(Self(RecordingId::parse(&raw)?))
    }
}

/// A JSON request body; a missing content type, bad JSON or a wrong shape answer 400.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}
