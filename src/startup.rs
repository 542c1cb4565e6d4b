//! Wires the parts together and runs them until a shutdown signal; then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ai::{AiError, ChatClient, ChatConfig, SttClient};
use crate::config::Config;
use crate::http::{self, AppState};
use crate::pipeline::{Pipeline, PipelineDeps, run_consumer};
use crate::queue::amqp::{AmqpQueue, AmqpSettings};
use crate::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use crate::queue::{Consumer, Publisher};
use crate::storage::Storage;
use crate::store::{Store, StoreError};
use crate::webex::{BoxError, ClientSettings, OAuthTokens, TokenStore, WebexClient};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Receiver, REST API, health and metrics, plus the consumer and the scheduled reconciler.
    All,
    /// HTTP only.
    Receiver,
    /// Consumer and reconciler only.
    Worker,
}

impl Role {
    pub fn serves_http(self) -> bool {
        matches!(self, Self::All | Self::Receiver)
    }
    pub fn runs_workers(self) -> bool {
        matches!(self, Self::All | Self::Worker)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("message queue: {0}")]
    Queue(#[from] crate::queue::QueueError),
    #[error("Webex client: {0}")]
    Webex(#[from] crate::webex::WebexError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the listener (TLS_CERT / TLS_KEY when set): {0}")]
    Tls(std::io::Error),
    #[error("LLM or speech-to-text client: {0}")]
    Ai(#[from] AiError),
    #[error("storage (STORAGE_URL): {0}")]
    Storage(#[from] crate::storage::StorageError),
    #[error("WEBEX_WEBHOOK_SECRET is required to receive webhooks")]
    NoWebhookSecret,
}

/// The queue in use, as both ends.
#[derive(Clone)]
pub struct QueueHandles {
    pub publisher: Arc<dyn Publisher>,
    pub consumer: Arc<dyn Consumer>,
    amqp: Option<AmqpQueue>,
}

impl QueueHandles {
    pub async fn close(&self) {
        if let Some(q) = &self.amqp {
            q.close().await;
        }
    }
}

/// Opens the store and applies migrations. Everything created from here on (the SQLite file and
/// its `-wal`/`-shm`, audio, transcripts, folders) is readable by the service's user only,
/// whatever umask the process was started with: recordings are personal data.
pub async fn open_store(config: &Config) -> Result<Store, StartupError> {
    use rustix::fs::Mode;
    rustix::process::umask(Mode::from_bits_truncate(0o077));
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// RabbitMQ when `AMQP_URL` is set, else the queue inside the database.
pub async fn open_queue(config: &Config, store: &Store) -> Result<QueueHandles, StartupError> {
    match &config.amqp_url {
        Some(url) => {
            let settings = AmqpSettings {
                prefetch: u16::try_from(config.worker_concurrency).unwrap_or(u16::MAX),
                ..AmqpSettings::default()
            };
            let queue = AmqpQueue::connect(url.expose_secret(), settings).await?;
            Ok(QueueHandles {
                publisher: Arc::new(queue.clone()),
                consumer: Arc::new(queue.clone()),
                amqp: Some(queue),
            })
        }
        None => {
            let queue = EmbeddedQueue::new(store.clone(), EmbeddedSettings::default());
            Ok(QueueHandles {
                publisher: Arc::new(queue.clone()),
                consumer: Arc::new(queue),
                amqp: None,
            })
        }
    }
}

/// The Webex client, if credentials are configured. OAuth tokens persist in the database.
pub fn webex_client(config: &Config, store: &Store) -> Result<Option<WebexClient>, StartupError> {
    let settings = ClientSettings {
        base_url: config.webex_api_url.clone(),
        ..ClientSettings::default()
    };
    let Some(auth) = &config.webex_auth else {
        return Ok(None);
    };
    // Ignored for a static token.
    let tokens = Arc::new(DbTokenStore(store.clone()));
    Ok(Some(WebexClient::with_token_store(
        settings,
        auth.clone(),
        tokens,
    )?))
}

/// Keeps rotated OAuth tokens in the database.
struct DbTokenStore(Store);

#[async_trait]
impl TokenStore for DbTokenStore {
    async fn load(&self) -> Result<Option<OAuthTokens>, BoxError> {
        Ok(self.0.load_oauth_tokens().await?)
    }

    async fn save(&self, tokens: &OAuthTokens) -> Result<(), BoxError> {
        Ok(self.0.save_oauth_tokens(tokens).await?)
    }
}

/// A running service. Built with [`Application::build`]; port 0 works (tests read the real one).
pub struct Application {
    local_addr: Option<SocketAddr>,
    cancel: CancellationToken,
    tasks: TaskTracker,
    http: Option<axum_server::Handle<SocketAddr>>,
    store: Store,
    queue: QueueHandles,
}

impl Application {
    pub async fn build(config: Config, role: Role) -> Result<Self, StartupError> {
        if role.serves_http() && config.webhook_secret.is_none() {
            return Err(StartupError::NoWebhookSecret);
        }
        let config = Arc::new(config);
        let store = open_store(&config).await?;
        let queue = open_queue(&config, &store).await?;
        let webex = webex_client(&config, &store)?;
        let storage = Storage::from_config(&config)?;
        let cancel = CancellationToken::new();
        let tasks = TaskTracker::new();

        let mut local_addr = None;
        let mut http_handle = None;
        if role.serves_http() {
            let state = AppState {
                config: config.clone(),
                store: store.clone(),
                publisher: queue.publisher.clone(),
                webex: webex.clone(),
                storage: storage.clone(),
                metrics: crate::telemetry::metrics_handle(),
                auth_failures: Default::default(),
                tasks: tasks.clone(),
            };
            let listener = std::net::TcpListener::bind(config.listen_addr).map_err(|source| {
                StartupError::Listen {
                    addr: config.listen_addr,
                    source,
                }
            })?;
            let addr = listener
                .local_addr()
                .map_err(|source| StartupError::Listen {
                    addr: config.listen_addr,
                    source,
                })?;
            let handle = http::serve::spawn(
                listener,
                http::router(state),
                config.tls.as_ref(),
                &config.http_limits,
                &tasks,
            )
            .await
            .map_err(StartupError::Tls)?;
            tracing::info!(%addr, tls = config.tls.is_some(), "listening");
            local_addr = Some(addr);
            http_handle = Some(handle);
        }

        if role.runs_workers() {
            spawn_workers(
                &config,
                &store,
                &storage,
                &queue,
                webex.as_ref(),
                &cancel,
                &tasks,
            )?;
        }

        Ok(Self {
            local_addr,
            cancel,
            tasks,
            http: http_handle,
            store,
            queue,
        })
    }

    /// The address the HTTP listener is bound to (None for the worker role).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Fires to stop the service (Ctrl-C and SIGTERM do it in `run_until_signal`).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs until the shutdown token fires, then stops accepting, drains in-flight work and exits.
    pub async fn run_until_stopped(self) {
        self.cancel.cancelled().await;
        tracing::info!("shutting down: draining in-flight work");
        if let Some(handle) = &self.http {
            // In-flight requests (and their publishes) get time to finish; new ones are refused.
            handle.graceful_shutdown(Some(Duration::from_secs(30)));
        }
        self.tasks.close();
        self.tasks.wait().await;
        self.queue.close().await;
        self.store.close().await;
        tracing::info!("stopped");
    }

    /// Runs until Ctrl-C or SIGTERM.
    pub async fn run_until_signal(self) {
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            cancel.cancel();
        });
        self.run_until_stopped().await;
    }
}

/// How far each scheduled reconcile reaches back before the last successful one: Webex can list a
/// recording some time after it was made.
pub const SCHEDULE_OVERLAP: Duration = Duration::from_secs(2 * 3600);
/// A partial upload untouched this long was left by a worker that died.
const ABANDONED_UPLOAD_AGE: Duration = Duration::from_secs(24 * 3600);

fn spawn_workers(
    config: &Arc<Config>,
    store: &Store,
    storage: &Storage,
    queue: &QueueHandles,
    webex: Option<&WebexClient>,
    cancel: &CancellationToken,
    tasks: &TaskTracker,
) -> Result<(), StartupError> {
    // These need only the database: they run even without Webex credentials.
    if let Some(alerts) = &config.alerts {
        tasks.spawn(crate::alerts::dispatch::run(
            store.clone(),
            alerts.clone(),
            cancel.clone(),
        ));
    }
    tasks.spawn(crate::trackers::reevaluate::run(
        store.clone(),
        crate::trackers::reevaluate::ReevaluationSettings::default(),
        cancel.clone(),
    ));
    // What workers killed mid-download left: a day old is surely abandoned.
    let sweep = storage.clone();
    tasks.spawn(async move {
        let removed = sweep.remove_abandoned_uploads(ABANDONED_UPLOAD_AGE).await;
        if removed > 0 {
            tracing::info!(
                removed,
                "removed partial uploads abandoned by stopped workers"
            );
        }
    });
    tasks.spawn(crate::retention::run_note_sweep(
        store.clone(),
        storage.clone(),
        cancel.clone(),
    ));
    // Retention needs no Webex: it only removes what we keep.
    if let Some(retention) = config.retention {
        tasks.spawn(crate::retention::run_schedule(
            store.clone(),
            storage.clone(),
            retention,
            cancel.clone(),
        ));
    }
    let Some(webex) = webex else {
        tracing::warn!(
            "no Webex credentials (WEBEX_ACCESS_TOKEN or OAuth): the consumer and reconciler are not started"
        );
        return Ok(());
    };
    let pipeline = Arc::new(
        Pipeline::new(PipelineDeps {
            store: store.clone(),
            webex: webex.clone(),
            storage: storage.clone(),
            chat: chat_client(config)?,
            stt: stt_client(config)?,
            summary_language: config.summary_language.clone(),
            translate_to: config.translate_to.clone(),
            redact: config.redact.clone(),
            settings: config.pipeline.clone(),
        })
        .with_alerts(config.alerts.is_some()),
    );
    tasks.spawn(run_consumer(
        queue.consumer.clone(),
        pipeline,
        config.worker_concurrency,
        cancel.clone(),
    ));
    if let Some(interval) = config.backfill_interval {
        tasks.spawn(crate::reconciler::run_schedule(
            webex.clone(),
            store.clone(),
            queue.publisher.clone(),
            interval,
            crate::reconciler::ScheduleTiming {
                overlap: SCHEDULE_OVERLAP,
                lease: crate::reconciler::JOB_LEASE,
                services: config.reconcile_service_types,
            },
            cancel.clone(),
        ));
    }
    Ok(())
}

/// The LLM client when `SUMMARY_API_KEY` is set.
pub fn chat_client(config: &Config) -> Result<Option<ChatClient>, StartupError> {
    let Some(key) = &config.summary.api_key else {
        if config.insight_questions.is_some() {
            tracing::warn!("INSIGHT_QUESTIONS is set but no LLM is (SUMMARY_API_KEY): no answers");
        }
        return Ok(None);
    };
    let mut chat = ChatConfig::new(
        config.summary.api_url.clone(),
        key.clone(),
        config.summary.model.clone(),
    );
    chat.insight_questions = config.insight_questions.clone();
    Ok(Some(ChatClient::new(chat)?))
}

/// The speech-to-text client when `STT_API_URL` is set.
pub fn stt_client(config: &Config) -> Result<Option<SttClient>, StartupError> {
    let Some(stt) = &config.stt else {
        return Ok(None);
    };
    Ok(Some(SttClient::new(stt.clone())?))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
