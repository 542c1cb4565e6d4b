//! REST API under `/api/v1/recordings` (issue: REST API).

use axum::Router;

use super::AppState;

pub fn router(_state: &AppState) -> Router<AppState> {
    Router::new()
}
