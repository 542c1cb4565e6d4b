//! The one access layer every API route and console page passes: who is asking (`auth`), may their role do this
//! (`access::route_rule`), and the audit entry of what they did or were refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use call_analysis::redact::Redactor;
use chrono::{SubsecRound, Utc};

use super::error::ApiError;
use super::{AppState, auth};
use crate::access::{Permission, Principal, RouteRule, SEARCH_ACTION, route_rule};
use crate::search::SearchQuery;
use crate::store::NewAuditEntry;

/// Put in a response's extensions by a handler that wrote its audit entry itself, in the same
/// transaction as the change it records (hold, delete): the layer does not write a second.
#[derive(Debug, Clone, Copy)]
pub struct Audited;

/// Put in a response's extensions by a handler whose audit entry should say what it acted on
/// beyond the path's recording id (the tracker a change named).
#[derive(Debug, Clone)]
pub struct AuditDetail(pub String);

/// Who asked, from where: what every audit entry of a request carries.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub principal: Principal,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Set once a handler has committed the request's entry with its change (hold, delete).
    committed: Arc<AtomicBool>,
}

impl AuditContext {
    pub fn from_request(principal: Principal, headers: &HeaderMap, request: &Request) -> Self {
        Self {
            principal,
            ip: auth::peer_addr(request.extensions()).map(|a| a.ip().to_string()),
            user_agent: user_agent(headers),
            committed: Arc::default(),
        }
    }

    /// The request's entry is in the log (committed with its change): a request cut off after
    /// this point gets no second entry.
    pub fn entry_committed(&self) {
        self.committed.store(true, Ordering::SeqCst);
    }

    pub fn entry(
        &self,
        action: &str,
        recording_id: Option<&str>,
        status: u16,
        detail: Option<String>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            // As the store keeps it, so an answer shows the time a later read shows.
            at: Utc::now().trunc_subsecs(3),
            actor: self.principal.actor.clone(),
            role: Some(self.principal.role.to_string()),
            action: action.to_string(),
            recording_id: recording_id.map(str::to_owned),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            status,
            detail,
        }
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect())
}

/// A console sign-in: `login` as the key's name and role, or `login.failed` (never the key that
/// was tried). A sign-in that cannot be recorded does not happen: the error is the caller's.
pub async fn record_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    signed_in: Option<&Principal>,
    status: u16,
) -> Result<(), ApiError> {
    let entry = NewAuditEntry {
        at: Utc::now(),
        actor: signed_in.map_or_else(|| "anonymous".into(), |p| p.actor.clone()),
        role: signed_in.map(|p| p.role.to_string()),
        action: if signed_in.is_some() {
            "login"
        } else {
            "login.failed"
        }
        .into(),
        recording_id: None,
        ip: peer.map(|a| a.ip().to_string()),
        user_agent: user_agent(headers),
        status,
        detail: None,
    };
    state
        .store
        .append_audit(&entry)
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(error = %e, action = %entry.action, "cannot write the audit entry");
            ApiError::Unavailable("the sign-in could not be recorded; try again later".into())
        })
}

/// Middleware for every `/api/v1` route: refusals answered as JSON.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    enforce_with(&state, request, next, |e, _| e.into_response()).await
}

/// Who asks, may they, and the audit entry; `answer_error` shapes every refusal (JSON for
/// the API, a page for the console, which shows the principal's navigation when known).
pub async fn enforce_with(
    state: &AppState,
    mut request: Request,
    next: Next,
    answer_error: fn(ApiError, Option<Principal>) -> Response,
) -> Response {
    let peer = auth::peer_addr(request.extensions());
    let (principal, cross_site) = match auth::identify(state, request.headers(), peer).await {
        Ok(identified) => (identified.principal, identified.cross_site),
        Err(e) => return answer_error(e, None),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    // A route missing from the table fails closed: admins only, and recorded.
    let rule = route_rule(request.method().as_str(), &route).unwrap_or(RouteRule {
        permission: Permission::Administer,
        action: Some("unlisted"),
    });
    let recording_id = path_param(&route, request.uri().path(), "{id}");
    let search = request
        .uri()
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "q"))
        // Trimmed as the search takes it: padding neither counts nor is kept.
        .map(|(_, v)| v.trim().to_owned())
        .filter(|q| !q.is_empty() && rule.action.is_none());
    let (action, detail) = match (&search, rule.action) {
        // The log is kept for ever and exported: a card number searched for stays out of it
        // (and a NUL, refused with 400, which PostgreSQL could not store).
        (Some(q), _) => (
            Some(SEARCH_ACTION),
            // Refused unsearched, it is recorded by its length: its text would only grow the log.
            Some(if SearchQuery::too_long(q) {
                format!("({} characters, too long to search)", q.chars().count())
            } else {
                Redactor::new(state.config.redact.clone()).text(&q.replace('\0', ""))
            }),
        ),
        (None, action) => (action, None),
    };
    let context = AuditContext::from_request(principal.clone(), request.headers(), &request);

    let refused = if cross_site {
        Err(ApiError::Forbidden(auth::CROSS_SITE.into()))
    } else {
        principal.require(rule.permission).map_err(ApiError::from)
    };
    if let Err(refused) = refused {
        record_refusal(state, &context, action, recording_id.as_deref(), &refused).await;
        return answer_error(refused, Some(principal));
    }
    request.extensions_mut().insert(principal);
    request.extensions_mut().insert(context.clone());
    let unanswered = action.map(|action| Unanswered {
        state: state.clone(),
        context: context.clone(),
        action,
        recording_id: recording_id.clone(),
        detail: detail.clone(),
        armed: true,
    });
    let response = next.run(request).await;
    let (Some(action), Some(unanswered)) = (action, unanswered) else {
        return response;
    };
    unanswered.disarm();
    if response.extensions().get::<Audited>().is_some() {
        return response;
    }
    let detail = detail.or_else(|| {
        response
            .extensions()
            .get::<AuditDetail>()
            .map(|d| d.0.clone())
    });
    let entry = context.entry(
        action,
        recording_id.as_deref(),
        response.status().as_u16(),
        detail,
    );
    // Who saw what must be on record before they see it: no entry, no answer. The write runs
    // apart, so a request cut off meanwhile still leaves its one entry.
    let store = state.store.clone();
    let written = state
        .tasks
        .spawn(async move { store.append_audit(&entry).await.map_err(|e| e.to_string()) });
    match written.await.unwrap_or_else(|e| Err(e.to_string())) {
        Ok(_) => response,
        Err(e) => {
            tracing::error!(error = %e, action, "cannot write the audit entry");
            answer_error(
                ApiError::Unavailable("the access could not be recorded; try again later".into()),
                Some(context.principal),
            )
        }
    }
}

const NOT_ANSWERED: &str = "not answered: the request timed out or the client went away";

/// The entry of a request dropped before its answer (the request timeout, which is outside
/// this layer, or a client that went away), written from `drop`: once the handler's future is
/// gone nothing else runs. Disarmed once the request is answered, or when its handler committed
/// its own entry; the write is tracked, so a shutdown waits for it.
struct Unanswered {
    state: AppState,
    context: AuditContext,
    action: &'static str,
    recording_id: Option<String>,
    detail: Option<String>,
    armed: bool,
}

impl Unanswered {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.armed || self.context.committed.load(Ordering::SeqCst) {
            return;
        }
        let entry = self.context.entry(
            self.action,
            self.recording_id.as_deref(),
            StatusCode::SERVICE_UNAVAILABLE.as_u16(),
            Some(self.detail.take().unwrap_or_else(|| NOT_ANSWERED.into())),
        );
        let store = self.state.store.clone();
        self.state.tasks.spawn(async move {
            if let Err(e) = store.append_audit(&entry).await {
                tracing::error!(error = %e, action = %entry.action, "cannot write the audit entry of an unanswered request");
            }
        });
    }
}

async fn record_refusal(
    state: &AppState,
    context: &AuditContext,
    action: Option<&str>,
    recording_id: Option<&str>,
    refused: &ApiError,
) {
    let entry = context.entry(
        action.unwrap_or("forbidden"),
        recording_id,
        refused.status().as_u16(),
        Some(refused.to_string()),
    );
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, "cannot write the audit entry of a refusal");
    }
}

/// The path segment standing where `param` stands in the route template.
fn path_param(template: &str, path: &str, param: &str) -> Option<String> {
    let index = template.split('/').position(|s| s == param)?;
    let raw = path.split('/').nth(index)?;
    let decoded = percent_decode(raw);
    (!decoded.is_empty()).then_some(decoded)
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_where_the_template_has_it() {
        assert_eq!(
            path_param(
                "/api/v1/recordings/{id}",
                "/api/v1/recordings/abc-1",
                "{id}"
            )
            .as_deref(),
            Some("abc-1")
        );
        assert_eq!(
            path_param(
                "/api/v1/recordings/download/{id}/audio",
                "/api/v1/recordings/download/a%20b/audio",
                "{id}"
            )
            .as_deref(),
            Some("a b")
        );
        assert_eq!(
            path_param("/api/v1/recordings/", "/api/v1/recordings/", "{id}"),
            None
        );
    }
}
