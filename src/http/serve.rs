//! The listener: plain HTTP or TLS, with the front door's limits. The listener is public (Webex
//! must reach the webhook), so a slow or greedy client must not be able to hold it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum_server::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;
use tokio_util::task::TaskTracker;
use tower::Service;

use crate::config::{HttpLimits, TlsFiles};

/// Starts serving `router` on `listener` in a task of `tasks`; the handle stops it.
pub async fn spawn(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<&TlsFiles>,
    limits: &HttpLimits,
    tasks: &TaskTracker,
) -> std::io::Result<Handle<SocketAddr>> {
    let handle = Handle::new();
    let app = LimitConnections::new(
        router.into_make_service_with_connect_info::<SocketAddr>(),
        limits.max_connections,
    );
    let mut server = axum_server::from_tcp(listener)?
        .handle(handle.clone())
        .first_request_timeout(limits.header_timeout);
    configure(server.http_builder(), limits);
    // Boxed so the plain and the TLS server, of different types, are spawned by one task.
    let serving: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> = match tls {
        Some(files) => {
            let rustls =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await?;
            let server = server.acceptor(axum_server::tls_rustls::RustlsAcceptor::new(rustls));
            Box::pin(server.serve(app))
        }
        None => Box::pin(server.serve(app)),
    };
    let scheme = if tls.is_some() { "HTTPS" } else { "HTTP" };
    tasks.spawn(async move {
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "{scheme} server stopped");
        }
    });
    Ok(handle)
}

/// The first request's headers are bounded by `first_request_timeout`; hyper's header timeout
/// bounds every later one, including the wait of an idle keep-alive connection for its next.
fn configure(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &HttpLimits,
) {
    builder
        .http1()
        .header_read_timeout(Some(limits.header_timeout));
    builder
        .http2()
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
}

/// A make-service that hands out a connection only with a permit: at most `max` connections are
/// open; the accept loop waits for a permit before taking the next (it stays in the backlog).
struct LimitConnections<M> {
    inner: M,
    permits: PollSemaphore,
    ready: Option<OwnedSemaphorePermit>,
}

impl<M> LimitConnections<M> {
    fn new(inner: M, max: usize) -> Self {
        Self {
            inner,
            permits: PollSemaphore::new(Arc::new(Semaphore::new(max))),
            ready: None,
        }
    }
}

impl<M, T> Service<T> for LimitConnections<M>
where
    M: Service<T>,
    M::Future: Send + 'static,
{
    type Response = HoldingPermit<M::Response>;
    type Error = M::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.ready.is_none() {
            // The semaphore is never closed, so `None` cannot come; waiting is the safe answer.
            match ready!(self.permits.poll_acquire(cx)) {
                Some(permit) => self.ready = Some(permit),
                None => return Poll::Pending,
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, target: T) -> Self::Future {
        let permit = self.ready.take().map(Arc::new);
        let made = self.inner.call(target);
        Box::pin(async move {
            made.await.map(|inner| HoldingPermit {
                inner,
                _permit: permit,
            })
        })
    }
}

/// A connection's service; its permit goes back when the connection (and every clone) is gone.
#[derive(Clone)]
pub struct HoldingPermit<S> {
    inner: S,
    _permit: Option<Arc<OwnedSemaphorePermit>>,
}

impl<S, R> Service<R> for HoldingPermit<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.inner.call(request)
    }
}
