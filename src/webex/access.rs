//! What a token can do for this service: who it belongs to, whether it can list recordings
//! (org-wide and its own), and whether details carry download links. Shared by
//! `webhook-setup verify` and `GET /api/v1/recordings/test/webex-access`.

use serde::Serialize;

use super::{ListQuery, ListScope, WebexClient, WebexError};

/// Scope needed for the org-wide listing.
pub const SCOPE_ADMIN_LIST: &str =
    "spark-admin:recordings_read or spark-compliance:recordings_read";
/// Scope needed for the token owner's own listing.
pub const SCOPE_USER_LIST: &str = "spark:recordings_read";
/// Scope that gets download links for other users' recordings.
pub const SCOPE_DOWNLOAD: &str = "spark-compliance:recordings_read";
/// Scope needed for `GET /people/me`.
pub const SCOPE_PEOPLE: &str = "spark:people_read";

/// Every scope the service's features use: what `/auth/login` asks for by default.
/// Reading: the org's recordings (admin or compliance officer) or the user's own, people's
/// names, and `spark:kms` to decrypt transcripts. Writing: `delete_from_webex=true` (the
/// recycle bin for user and admin tokens, the permanent deletion for a compliance officer).
pub const DEFAULT_SCOPES: &[&str] = &[
    "spark-compliance:recordings_read",
    "spark-admin:recordings_read",
    "spark:recordings_read",
    "spark-compliance:recordings_write",
    "spark-admin:recordings_write",
    "spark:recordings_write",
    "spark:people_read",
    "spark:kms",
];

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Works.
    Ok,
    /// Refused or incomplete for lack of a scope (named in `missing_scope`).
    Missing,
    /// Failed for another reason (network, server error, invalid token...).
    Error,
    /// Could not be tried (e.g. no recording to look at).
    Skipped,
}

/// One check of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessCheck {
    /// `identity`, `list_admin`, `list_user`, `download_links`.
    pub name: &'static str,
    pub status: CheckStatus,
    /// A human sentence about the result.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_scope: Option<&'static str>,
}

/// Who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub id: String,
    pub display_name: Option<String>,
    pub emails: Vec<String>,
    pub org_id: Option<String>,
}

/// The result of [`check_access`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessReport {
    /// True when the service can work: recordings can be listed one way or the other,
    /// details carry download links (or there was no recording to try), and no needed scope
    /// is missing (the scope of the one listing not used is not needed).
    pub ok: bool,
    pub identity: Option<Identity>,
    pub can_list_admin: bool,
    pub can_list_user: bool,
    /// `None` when no recording was available to try.
    pub download_links: Option<bool>,
    pub checks: Vec<AccessCheck>,
    /// Every scope the checks found missing, without duplicates.
    pub missing_scopes: Vec<&'static str>,
}

fn failed(name: &'static str, what: &str, scope: &'static str, e: &WebexError) -> AccessCheck {
    match e.status() {
        Some(403) => AccessCheck {
            name,
            status: CheckStatus::Missing,
            detail: format!("{what} refused (403): the token lacks {scope} ({e})"),
            missing_scope: Some(scope),
        },
        Some(401) => AccessCheck {
            name,
            status: CheckStatus::Error,
            detail: format!("{what} failed: the token is invalid or expired ({e})"),
            missing_scope: None,
        },
        _ => AccessCheck {
            name,
            status: CheckStatus::Error,
            detail: format!("{what} failed: {e}"),
            missing_scope: None,
        },
    }
}

/// One listing page of at most one recording.
async fn first_page(
    client: &WebexClient,
    scope: ListScope,
) -> Result<Vec<super::Recording>, WebexError> {
    let query = ListQuery {
        max: Some(1),
        ..Default::default()
    };
    let mut pages = client.list_recordings(scope, &query);
    Ok(pages.next_page().await?.unwrap_or_default())
}

fn ok(name: &'static str, detail: String) -> AccessCheck {
    AccessCheck {
        name,
        status: CheckStatus::Ok,
        detail,
        missing_scope: None,
    }
}

/// Runs every check against Webex (a handful of small calls: `max=1` listings).
pub async fn check_access(client: &WebexClient) -> AccessReport {
    let mut checks = Vec::new();

    let identity = match client.me().await {
        Ok(me) => {
            let who = me
                .display_name
                .clone()
                .or_else(|| me.emails.first().cloned())
                .unwrap_or_else(|| me.id.clone());
            checks.push(ok("identity", format!("token belongs to {who}")));
            Some(Identity {
                id: me.id,
                display_name: me.display_name,
                emails: me.emails,
                org_id: me.org_id,
            })
        }
        Err(e) => {
            checks.push(failed(
                "identity",
                "reading the token owner (GET /people/me)",
                SCOPE_PEOPLE,
                &e,
            ));
            None
        }
    };

    let mut sample: Option<String> = None;

    let can_list_admin = match first_page(client, ListScope::Admin).await {
        Ok(items) => {
            checks.push(ok(
                "list_admin",
                format!(
                    "can list the org's recordings (GET /admin/convergedRecordings; {} on the first page)",
                    items.len()
                ),
            ));
            sample = items.into_iter().next().map(|r| r.id);
            true
        }
        Err(e) => {
            checks.push(failed(
                "list_admin",
                "listing the org's recordings (GET /admin/convergedRecordings)",
                SCOPE_ADMIN_LIST,
                &e,
            ));
            false
        }
    };

    let can_list_user = match first_page(client, ListScope::User).await {
        Ok(items) => {
            checks.push(ok(
                "list_user",
                format!(
                    "can list the token owner's recordings (GET /convergedRecordings; {} on the first page)",
                    items.len()
                ),
            ));
            if sample.is_none() {
                sample = items.into_iter().next().map(|r| r.id);
            }
            true
        }
        Err(e) => {
            checks.push(failed(
                "list_user",
                "listing the token owner's recordings (GET /convergedRecordings)",
                SCOPE_USER_LIST,
                &e,
            ));
            false
        }
    };

    let download_links = match &sample {
        None => {
            checks.push(AccessCheck {
                name: "download_links",
                status: CheckStatus::Skipped,
                detail: "no recording listed, so download links could not be checked".into(),
                missing_scope: None,
            });
            None
        }
        Some(id) => match client.recording_details(id).await {
            Ok(d) => {
                let has_audio = d.audio_link().is_some();
                if has_audio {
                    checks.push(ok(
                        "download_links",
                        format!("details of recording {id} carry an audio download link"),
                    ));
                } else {
                    checks.push(AccessCheck {
                        name: "download_links",
                        status: CheckStatus::Missing,
                        detail: format!(
                            "details of recording {id} carry no audio download link: an admin token (spark-admin:recordings_read) gets none; use a compliance officer's token ({SCOPE_DOWNLOAD}) or the owner's, and check that \"Prevent Downloading\" is off"
                        ),
                        missing_scope: Some(SCOPE_DOWNLOAD),
                    });
                }
                Some(has_audio)
            }
            Err(e) => {
                checks.push(failed(
                    "download_links",
                    &format!("reading details of recording {id}"),
                    SCOPE_DOWNLOAD,
                    &e,
                ));
                Some(false)
            }
        },
    };

    let mut missing_scopes: Vec<&'static str> = Vec::new();
    for scope in checks.iter().filter_map(|c| c.missing_scope) {
        if !missing_scopes.contains(&scope) {
            missing_scopes.push(scope);
        }
    }
    // One listing is enough: the scope of the other is not needed then.
    let needed_missing = checks.iter().any(|c| {
        c.missing_scope.is_some()
            && !(c.name == "list_admin" && can_list_user)
            && !(c.name == "list_user" && can_list_admin)
    });
    let ok = (can_list_admin || can_list_user) && download_links != Some(false) && !needed_missing;
    AccessReport {
        ok,
        identity,
        can_list_admin,
        can_list_user,
        download_links,
        checks,
        missing_scopes,
    }
}
