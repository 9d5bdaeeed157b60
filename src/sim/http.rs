//! A minimal HTTP/1.1 server for the simulators: every POST body goes to one handler.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A handler: request body and headers in; status, content type and body out.
pub type Handler = Arc<dyn Fn(Bytes, &HeaderMap) -> (u16, &'static str, Vec<u8>) + Send + Sync>;

/// Largest request body a simulator accepts.
const MAX_BODY: usize = 1 << 20;

/// Serves `handler` on `listener` until `shutdown` fires.
pub async fn serve(listener: TcpListener, handler: Handler, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let handler = handler.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let response = if parts.method != Method::POST {
                        (405, "text/plain", b"POST only\n".to_vec())
                    } else {
                        match Limited::new(body, MAX_BODY).collect().await {
                            Ok(b) => handler(b.to_bytes(), &parts.headers),
                            Err(_) => (413, "text/plain", b"body too large\n".to_vec()),
                        }
                    };
                    let (status, content_type, body) = response;
                    let mut r = Response::new(Full::new(Bytes::from(body)));
                    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    r.headers_mut()
                        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
                    Ok::<_, std::convert::Infallible>(r)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
