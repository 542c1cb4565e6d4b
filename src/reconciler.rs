//! The reconciler: lists a time window of recordings at Webex, compares each page with the store
//! and sends what is missing or unfinished for processing (source `backfill`).
//!
//! Rules:
//! - The window is cut into slices of at most 30 days (the admin listing's limit; the user
//!   listing is cut the same way, which is harmless), **newest slice first**, matching Webex's
//!   newest-first order, so that with `limit` the most recent recordings go first.
//! - Each page (`max=100`) costs one batched [`Store::recording_states`] query and, when something
//!   is sent, one [`Store::mark_enqueued`] statement: cost grows with pages, not table size.
//! - Only items whose Webex `status` is `available` (or absent) are considered; items whose id is
//!   not a valid [`RecordingId`] are skipped with a warning.
//! - Sent for processing: never stored; `failed`; `processing` whose heartbeat is older than
//!   [`PROCESSING_STALE_AFTER`]; `pending` not enqueued within [`PENDING_GRACE`].
//!   Counted as `stored`: `completed`, `partial`, `deleted`, fresh `processing`, and `pending`
//!   enqueued within [`PENDING_GRACE`] (in progress: its message is still queued).
//! - After publishing, the row is written as `pending` with `processing_heartbeat_at = now` (the
//!   time it was enqueued), so a second run right after the first enqueues nothing.
//! - `limit` caps how many are sent; once reached, listing stops.
//! - Scope `None`: the admin listing is tried first; a 403 switches to the user listing for the
//!   rest of the run (reported in [`ReconcileReport::scope`] so the scheduler remembers it).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use crate::domain::ProcessingStatus;
use crate::domain::{QueueMessage, RecordingId};
use crate::queue::{Publisher, QueueError};
use crate::store::{EnqueuedRecording, JobLease, Store, StoreError, StoredState};
use crate::webex::{ListQuery, ListScope, WebexClient, WebexError, WebhookUpdate};

/// Longest `from`–`to` span of one listing call.
pub const MAX_SLICE: TimeDelta = TimeDelta::days(30);
/// Page size asked of Webex.
pub const PAGE_SIZE: u32 = 100;
/// A `processing` row whose heartbeat is older than this belongs to a dead worker.
pub const PROCESSING_STALE_AFTER: TimeDelta = TimeDelta::minutes(10);
/// A `pending` row enqueued more recently than this is still waiting in the queue.
pub const PENDING_GRACE: TimeDelta = TimeDelta::hours(1);
/// Name of the scheduled job in `job_state`.
pub const JOB_NAME: &str = "reconcile";
/// How long the job lease of a scheduled run lasts unless renewed; a run renews it every third
/// of that, so a worker that died mid-run holds it this long at most.
pub const JOB_LEASE: Duration = Duration::from_secs(10 * 60);
/// Window of the first scheduled run (no high-water mark yet).
pub const FIRST_RUN_WINDOW: TimeDelta = TimeDelta::hours(24);

/// `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// Slices of at most [`MAX_SLICE`], newest first.
    pub fn slices(&self) -> Vec<Window> {
        let mut out = Vec::new();
        let mut end = self.to;
        while end > self.from {
            let start = (end - MAX_SLICE).max(self.from);
            out.push(Window {
                from: start,
                to: end,
            });
            end = start;
        }
        out
    }
}

/// Which converged recordings the reconciler takes (`RECONCILE_SERVICE_TYPES`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum ServiceTypes {
    /// Webex Calling recordings only (`serviceType=calling`): what this service is for.
    #[default]
    Calling,
    /// Every converged recording (Calling, Customer Assist, ...).
    All,
}

impl ServiceTypes {
    /// The listing's `serviceType` filter; `None`: no filter.
    fn filter(self) -> Option<String> {
        match self {
            Self::Calling => Some("calling".into()),
            Self::All => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReconcileOptions {
    /// At most this many recordings are sent.
    pub limit: Option<u64>,
    /// Look, count, send nothing, write nothing.
    pub dry_run: bool,
    /// `None`: admin if the token may, else user.
    pub scope: Option<ListScope>,
    /// Recordings taken (`RECONCILE_SERVICE_TYPES`).
    pub services: ServiceTypes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReconcileReport {
    /// Available recordings Webex listed in the window (with a valid id, each once).
    pub seen: u64,
    /// Of those, already stored and finished, deleted, or in progress.
    pub stored: u64,
    /// Sent for processing (dry run: would be sent).
    pub enqueued: u64,
    pub enqueued_ids: Vec<RecordingId>,
    /// Listing requests (pages) made; the client's own retries are not counted.
    pub webex_calls: u64,
    /// SQL round trips made by the reconciler.
    pub store_queries: u64,
    /// The listing used (known once the first call succeeded).
    pub scope: Option<ListScope>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("listing recordings at Webex failed: {0}")]
    Webex(#[from] WebexError),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("could not send a recording for processing: {0}")]
    Queue(#[from] QueueError),
}

/// What to do with a stored row (or its absence).
fn needs_processing(state: Option<&StoredState>, now: DateTime<Utc>) -> bool {
    let Some(state) = state else {
        return true;
    };
    let older_than = |age: TimeDelta| match state.heartbeat_at {
        None => true,
        Some(ms) => ms < (now - age).timestamp_millis(),
    };
    match state.status {
        // A purged recording is past retention: backfill must never bring it back.
        ProcessingStatus::Completed
        | ProcessingStatus::Partial
        | ProcessingStatus::Deleted
        | ProcessingStatus::Purged => false,
        ProcessingStatus::Failed => true,
        ProcessingStatus::Processing => older_than(PROCESSING_STALE_AFTER),
        ProcessingStatus::Pending => older_than(PENDING_GRACE),
    }
}

/// Reconciles one window of Webex recordings (of `options.services`). `progress` is called after
/// every page. Every caller (schedule, CLI, REST) comes through here: one place counts them all.
#[tracing::instrument(name = "reconcile", skip_all, fields(from = %window.from, to = %window.to, dry_run = options.dry_run))]
pub async fn reconcile(
    webex: &WebexClient,
    store: &Store,
    publisher: &dyn Publisher,
    window: Window,
    options: &ReconcileOptions,
    progress: &(dyn Fn(&ReconcileReport) + Send + Sync),
) -> Result<ReconcileReport, ReconcileError> {
    let mut report = ReconcileReport {
        scope: options.scope,
        ..Default::default()
    };
    let result = list_and_enqueue(
        window,
        &mut report,
        webex,
        store,
        publisher,
        options,
        progress,
    )
    .await
    .map(|()| report);
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!("reconcile_runs_total", "outcome" => outcome).increment(1);
    if let Ok(report) = &result
        && !options.dry_run
    {
        metrics::counter!("reconcile_enqueued_total").increment(report.enqueued);
    }
    result
}

/// Lists `window` slice by slice and sends what needs processing, counting into `report`.
async fn list_and_enqueue(
    window: Window,
    report: &mut ReconcileReport,
    webex: &WebexClient,
    store: &Store,
    publisher: &dyn Publisher,
    options: &ReconcileOptions,
    progress: &(dyn Fn(&ReconcileReport) + Send + Sync),
) -> Result<(), ReconcileError> {
    let mut seen_ids: HashSet<RecordingId> = HashSet::new();
    let limit_reached = |r: &ReconcileReport| options.limit.is_some_and(|l| r.enqueued >= l);
    if limit_reached(report) {
        return Ok(());
    }
    'slices: for slice in window.slices() {
        let query = ListQuery {
            from: Some(slice.from),
            to: Some(slice.to),
            max: Some(PAGE_SIZE),
            service_type: options.services.filter(),
            ..Default::default()
        };
        let mut scope = report.scope.unwrap_or(ListScope::Admin);
        let mut pages = webex.list_recordings(scope, &query);
        loop {
            report.webex_calls += 1;
            let items = match pages.next_page().await {
                Ok(Some(items)) => items,
                Ok(None) => {
                    // `next_page` makes no call once the listing is over.
                    report.webex_calls -= 1;
                    break;
                }
                Err(e)
                    if report.scope.is_none()
                        && scope == ListScope::Admin
                        && e.status() == Some(403) =>
                {
                    tracing::info!(error = %e, "admin recordings listing refused; using the token owner's recordings");
                    scope = ListScope::User;
                    report.scope = Some(scope);
                    pages = webex.list_recordings(scope, &query);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            report.scope = Some(scope);

            let mut page = Vec::with_capacity(items.len());
            for item in items {
                if item.status.as_deref().is_some_and(|s| s != "available") {
                    continue;
                }
                match RecordingId::parse(&item.id) {
                    Ok(id) => {
                        if seen_ids.insert(id.clone()) {
                            page.push((id, item.time_recorded.or(item.create_time)));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(id = %item.id.escape_debug(), error = %e, "skipping a listed recording with an unusable id")
                    }
                }
            }
            if page.is_empty() {
                progress(report);
                continue;
            }
            enqueue_page(store, publisher, options, page, report).await?;
            progress(report);
            if limit_reached(report) {
                break 'slices;
            }
        }
    }
    Ok(())
}

/// Counts one page of listed recordings and sends those that need processing (within the limit).
async fn enqueue_page(
    store: &Store,
    publisher: &dyn Publisher,
    options: &ReconcileOptions,
    page: Vec<(RecordingId, Option<DateTime<Utc>>)>,
    report: &mut ReconcileReport,
) -> Result<(), ReconcileError> {
    report.seen += page.len() as u64;

    let ids: Vec<RecordingId> = page.iter().map(|(id, _)| id.clone()).collect();
    report.store_queries += ids.len().div_ceil(500) as u64;
    let states = store.recording_states(&ids).await?;
    let now = Utc::now();
    let mut to_send = Vec::new();
    for (id, recorded_at) in page {
        if !needs_processing(states.get(&id), now) {
            report.stored += 1;
        } else if options
            .limit
            .is_none_or(|l| report.enqueued + (to_send.len() as u64) < l)
        {
            to_send.push(EnqueuedRecording { id, recorded_at });
        }
    }

    let outcome = send(publisher, &to_send, options.dry_run).await;
    let sent = match &outcome {
        Ok(()) => &to_send[..],
        Err((n, _)) => &to_send[..*n],
    };
    if !options.dry_run && !sent.is_empty() {
        report.store_queries += sent.len().div_ceil(250) as u64;
        store
            .mark_enqueued(sent, Utc::now(), Utc::now() - PROCESSING_STALE_AFTER)
            .await?;
    }
    report.enqueued += sent.len() as u64;
    report
        .enqueued_ids
        .extend(sent.iter().map(|r| r.id.clone()));
    if let Err((_, e)) = outcome {
        return Err(e.into());
    }
    Ok(())
}

/// Publishes each recording; on failure, how many were sent before it and the error.
async fn send(
    publisher: &dyn Publisher,
    items: &[EnqueuedRecording],
    dry_run: bool,
) -> Result<(), (usize, QueueError)> {
    if dry_run {
        return Ok(());
    }
    for (i, item) in items.iter().enumerate() {
        let message = QueueMessage::backfill(item.id.clone());
        publisher.publish(&message).await.map_err(|e| (i, e))?;
    }
    Ok(())
}

/// Re-activates our `convergedRecordings` webhooks that Webex turned `inactive`; returns their
/// ids. Failures are logged, never fatal: the reconcile itself covers missed events.
pub async fn reactivate_webhooks(webex: &WebexClient) -> Vec<String> {
    let webhooks = match webex.list_webhooks(false).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "could not list webhooks to check they are active");
            return Vec::new();
        }
    };
    let mut reactivated = Vec::new();
    for hook in webhooks {
        if hook.resource.as_deref() != Some("convergedRecordings")
            || hook.status.as_deref() != Some("inactive")
        {
            continue;
        }
        let (Some(name), Some(target_url)) = (hook.name.clone(), hook.target_url.clone()) else {
            tracing::warn!(id = %hook.id, "inactive webhook without name or target URL; not touched");
            continue;
        };
        let update = WebhookUpdate {
            name,
            target_url,
            secret: hook.secret.clone(),
            status: Some("active".into()),
            owned_by: hook.owned_by.clone(),
        };
        match webex.update_webhook(&hook.id, &update).await {
            Ok(_) => {
                tracing::warn!(id = %hook.id, target = %update.target_url, "webhook was inactive at Webex (repeated failed deliveries); re-activated");
                reactivated.push(hook.id);
            }
            Err(e) => {
                tracing::error!(id = %hook.id, error = %e, "could not re-activate an inactive webhook")
            }
        }
    }
    reactivated
}

/// Timing and scope of the scheduled reconcile.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleTiming {
    /// A run starts this long before where the last successful run ended.
    pub overlap: Duration,
    /// The job lease ([`JOB_LEASE`] in service).
    pub lease: Duration,
    /// Recordings taken (`RECONCILE_SERVICE_TYPES`).
    pub services: ServiceTypes,
}

/// One scheduled run: takes the `reconcile` job lease (`Ok(None)` when another worker holds it)
/// and renews it while it runs, re-activates inactive webhooks, reconciles from the high-water
/// mark minus the overlap (first run: the last 24 hours) until now, and moves the mark to the
/// run's start only on success.
pub async fn scheduled_run(
    webex: &WebexClient,
    store: &Store,
    publisher: &dyn Publisher,
    timing: ScheduleTiming,
    owner: &str,
    options: &ReconcileOptions,
) -> Result<Option<ReconcileReport>, ReconcileError> {
    let lease_for = TimeDelta::from_std(timing.lease).unwrap_or(TimeDelta::hours(1));
    let now = Utc::now();
    let Some(lease) = store
        .try_lease_job(JOB_NAME, owner, now, now + lease_for)
        .await?
    else {
        tracing::debug!("another worker is running the reconcile");
        return Ok(None);
    };
    let run = run_leased(webex, store, publisher, timing, options, &lease, now);
    tokio::pin!(run);
    let outcome = loop {
        tokio::select! {
            outcome = &mut run => break outcome,
            _ = tokio::time::sleep(timing.lease / 3) => {
                // Same owner: the lease is extended. A failure here is only logged: the run
                // goes on, and at worst another worker starts a harmless second run.
                let now = Utc::now();
                match store.try_lease_job(JOB_NAME, owner, now, now + lease_for).await {
                    Ok(Some(_)) => {}
                    Ok(None) => tracing::warn!("the reconcile job lease was taken over during the run"),
                    Err(e) => tracing::warn!(error = %e, "could not renew the reconcile job lease"),
                }
            }
        }
    };
    let finish = match &outcome {
        Ok(_) => store.finish_job(&lease, Ok(now), Utc::now()).await,
        Err(e) => {
            store
                .finish_job(&lease, Err(&e.to_string()), Utc::now())
                .await
        }
    };
    match (outcome, finish) {
        (Ok(report), Ok(())) => Ok(Some(report)),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), finish) => {
            if let Err(f) = finish {
                tracing::error!(error = %f, "could not release the reconcile job lease");
            }
            Err(e)
        }
    }
}

async fn run_leased(
    webex: &WebexClient,
    store: &Store,
    publisher: &dyn Publisher,
    timing: ScheduleTiming,
    options: &ReconcileOptions,
    lease: &JobLease,
    now: DateTime<Utc>,
) -> Result<ReconcileReport, ReconcileError> {
    reactivate_webhooks(webex).await;
    let overlap = TimeDelta::from_std(timing.overlap).unwrap_or(TimeDelta::MAX);
    let from = match lease.high_water_mark {
        Some(mark) => mark.checked_sub_signed(overlap).unwrap_or(mark),
        None => now - FIRST_RUN_WINDOW,
    };
    let window = Window { from, to: now };
    tracing::info!(from = %window.from, to = %window.to, "scheduled reconcile");
    let options = ReconcileOptions {
        services: timing.services,
        ..options.clone()
    };
    let report = reconcile(webex, store, publisher, window, &options, &|_| {}).await?;
    tracing::info!(
        seen = report.seen,
        stored = report.stored,
        enqueued = report.enqueued,
        webex_calls = report.webex_calls,
        "scheduled reconcile done"
    );
    Ok(report)
}

/// Runs [`scheduled_run`] every `interval` (the first right away) until `cancel` fires.
/// A zero interval disables it. The listing scope found by the first run is kept.
pub async fn run_schedule(
    webex: WebexClient,
    store: Store,
    publisher: Arc<dyn Publisher>,
    interval: Duration,
    timing: ScheduleTiming,
    cancel: CancellationToken,
) {
    if interval.is_zero() {
        return;
    }
    let owner = format!("reconciler-{}", uuid::Uuid::new_v4());
    let mut options = ReconcileOptions::default();
    loop {
        let run = scheduled_run(&webex, &store, publisher.as_ref(), timing, &owner, &options);
        tokio::select! {
            _ = cancel.cancelled() => {
                // The run was dropped mid-way: give the lease back (if we held it) so that
                // another worker need not wait for it to run out. The mark does not move.
                let lease = JobLease {
                    job: JOB_NAME.to_string(),
                    owner: owner.clone(),
                    until: Utc::now(),
                    high_water_mark: None,
                };
                if let Err(e) = store.finish_job(&lease, Err("cancelled at shutdown"), Utc::now()).await {
                    tracing::warn!(error = %e, "could not release the reconcile job lease at shutdown");
                }
                return;
            }
            result = run => match result {
                Ok(Some(report)) => options.scope = report.scope.or(options.scope),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "scheduled reconcile failed; the next run covers the same window"),
            },
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn slices_are_newest_first_contiguous_and_at_most_30_days() {
        let to = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let w = Window {
            from: to - TimeDelta::days(61),
            to,
        };
        let s = w.slices();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].to, to);
        assert_eq!(s[2].from, w.from);
        assert!(s.windows(2).all(|p| p[0].from == p[1].to));
        assert!(s.iter().all(|x| x.to - x.from <= MAX_SLICE));
        assert!(Window { from: to, to }.slices().is_empty());
    }

    #[test]
    fn what_needs_processing() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let at = |status, minutes_ago: Option<i64>| StoredState {
            status,
            heartbeat_at: minutes_ago.map(|m| (now - TimeDelta::minutes(m)).timestamp_millis()),
        };
        use ProcessingStatus::*;
        assert!(needs_processing(None, now));
        assert!(!needs_processing(Some(&at(Completed, None)), now));
        assert!(!needs_processing(Some(&at(Partial, None)), now));
        assert!(!needs_processing(Some(&at(Deleted, None)), now));
        assert!(needs_processing(Some(&at(Failed, Some(1))), now));
        assert!(!needs_processing(Some(&at(Processing, Some(5))), now));
        assert!(needs_processing(Some(&at(Processing, Some(11))), now));
        assert!(needs_processing(Some(&at(Processing, None)), now));
        assert!(!needs_processing(Some(&at(Pending, Some(30))), now));
        assert!(needs_processing(Some(&at(Pending, Some(61))), now));
        assert!(needs_processing(Some(&at(Pending, None)), now));
    }
}
