//! The HTTP channel listener: `POST` (any path) with one fixed-width message as the body; the
//! reply body is the fixed-width reply (`application/octet-stream`), with an HTTP status that
//! matches the response code (200, or 400/413/502/503/504 for the gateway's own errors).

use super::Shutdown;
use crate::gateway::Gateway;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info_span, warn, Instrument};

/// Serves HTTP on `listener` until `shutdown` fires.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, mut shutdown: Shutdown) {
    let limits = gateway.table().limits.clone();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { warn!(error = %e, "accept failed"); continue; }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            warn!(%peer, "too many connections: refusing");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let read_timeout = Duration::from_millis(gateway.table().limits.read_timeout_ms);
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(
            async move {
                let service = hyper::service::service_fn(move |req| handle(gateway.clone(), req));
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(read_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    result = conn.as_mut() => if let Err(e) = result { debug!(error = %e, "connection ended"); },
                    _ = conn_shutdown.changed() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
                drop(permit);
            }
            .instrument(info_span!("conn", %peer, proto = "http")),
        );
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    r
}

async fn handle(
    gateway: Arc<Gateway>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != Method::POST {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "POST one fixed-width message as the body\n"));
    }
    let limits = gateway.table().limits.clone();
    let max = limits.max_message_bytes;
    if let Some(len) =
        req.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    {
        if len > max {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("message of {len} bytes is over the limit of {max}\n"),
            ));
        }
    }
    let read = tokio::time::timeout(
        Duration::from_millis(limits.read_timeout_ms),
        Limited::new(req.into_body(), max).collect(),
    );
    let body = match read.await {
        Err(_) => return Ok(plain(StatusCode::REQUEST_TIMEOUT, "body not received in time\n")),
        Ok(Err(e)) => return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("body rejected: {e}\n"))),
        Ok(Ok(b)) => b.to_bytes(),
    };
    let reply = gateway.handle(body.to_vec()).await;
    let mut response = Response::new(Full::new(Bytes::from(reply.bytes)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/octet-stream"));
    Ok(response)
}
