//! The admin API's listener: at most [`MAX_CONNECTIONS`] connections served in full, a probe
//! lane beyond them answering only `/healthz` and `/readyz` (so Kubernetes never restarts a
//! healthy gateway because its admin port is busy), and the drain on stop.

use super::api::{error, handle, Admin};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::TcpListener;
use tracing::debug;

/// Most admin connections at once; more are served by the probe lane ([`PROBE_LANE`]).
const MAX_CONNECTIONS: usize = 64;

/// Connections beyond [`MAX_CONNECTIONS`] that are still read, one request each: `/healthz` and
/// `/readyz` are answered (so a flood of admin calls never makes Kubernetes restart a healthy
/// gateway), anything else 503. More than these are closed at accept.
const PROBE_LANE: usize = 256;

/// Time the admin API's connections get to finish on stop.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves the admin API until `shutdown` fires, then drains like the channel listeners: the
/// connections the kernel had queued are served, every reply from then on closes its connection
/// (`Connection: close`, hyper's graceful shutdown), idle keep-alive connections close at once,
/// and a request in progress — a route change, say — is answered before its connection closes.
pub async fn serve(listener: TcpListener, admin: Arc<Admin>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let lane = Arc::new(tokio::sync::Semaphore::new(PROBE_LANE));
    let mut open = crate::drain::Connections::default();
    let start = |open: &mut crate::drain::Connections, stream: tokio::net::TcpStream, stop| match connections
        .clone()
        .try_acquire_owned()
    {
        Ok(permit) => open.spawn(connection(stream, admin.clone(), stop, permit)),
        Err(_) => {
            let Ok(permit) = lane.clone().try_acquire_owned() else { return };
            open.spawn(probe_only(stream, admin.clone(), permit));
        }
    };
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = open.reap() => continue,
            _ = shutdown.changed() => break,
        };
        start(&mut open, stream, shutdown.clone());
    }
    for (stream, _) in crate::drain::take_queued(listener) {
        start(&mut open, stream, shutdown.clone());
    }
    open.drain(DRAIN, "admin").await;
}

/// One request on a connection beyond [`MAX_CONNECTIONS`]: `/healthz` and `/readyz` answered,
/// anything else 503; the connection closes after it.
async fn probe_only(stream: tokio::net::TcpStream, admin: Arc<Admin>, permit: tokio::sync::OwnedSemaphorePermit) {
    let _permit = permit;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let admin = admin.clone();
        async move {
            let path = req.uri().path().trim_end_matches('/').to_string();
            let mut r = match path.as_str() {
                "/healthz" | "/readyz" => handle(&admin, req).await,
                _ => error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "admin API busy: {MAX_CONNECTIONS} connections open; only /healthz and /readyz are answered \
                         now"
                    ),
                ),
            };
            r.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            Ok::<_, std::convert::Infallible>(r)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(2))
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(e) = conn.await {
        debug!(error = %e, "admin connection (probe lane) ended");
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    admin: Arc<Admin>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let _permit = permit;
    // Set once a request has arrived: hyper's graceful shutdown closes a connection that has
    // not sent one yet, though its client may have sent it already.
    let started = Arc::new(AtomicBool::new(false));
    let (seen, closing) = (started.clone(), stop.clone());
    let service = hyper::service::service_fn(move |req| {
        let admin = admin.clone();
        seen.store(true, Ordering::Release);
        let stopping = *closing.borrow();
        async move {
            let mut reply = handle(&admin, req).await;
            if stopping {
                reply.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(reply)
        }
    });
    let read_timeout = std::time::Duration::from_secs(5);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    if !*stop.borrow() {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result { debug!(error = %e, "admin connection ended"); }
                return;
            }
            _ = stop.changed() => {}
        }
    }
    // Stopping. A connection between requests closes now; one whose first request has not come
    // yet gets the read timeout to bring it (answered with `Connection: close`).
    if !started.load(Ordering::Acquire) {
        if let Ok(result) = tokio::time::timeout(read_timeout, conn.as_mut()).await {
            if let Err(e) = result {
                debug!(error = %e, "admin connection ended");
            }
            return;
        }
    }
    conn.as_mut().graceful_shutdown();
    if let Err(e) = conn.await {
        debug!(error = %e, "admin connection ended");
    }
}
