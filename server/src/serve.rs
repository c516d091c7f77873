//! The HTTP server loop. axum::serve has no header timeout and waits for ever on shutdown, so
//! connections are driven by hyper directly: a client gets 10 s to send its headers and 30 s
//! for the whole request (slow-client defences), and on SIGTERM the listener closes, requests
//! in progress finish, idle connections close, and the process exits within 10 s whatever the
//! clients do.
use std::{convert::Infallible, future::Future, net::SocketAddr, pin::pin, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo, http::StatusCode};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Time for a client to send a request's headers (a slowloris sends them a byte at a time).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole request, body and answer included (a slow body, a stuck handler).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in progress get to finish after SIGTERM. Under the 10 s that service
/// managers (and the issue) allow, with room to close the database.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Serves `app` on `listener` until `shutdown` completes, then drains as described above.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without it, a response written in more than one piece (a file, a streamed render)
        // waits on Nagle's algorithm for the client's delayed ACK: about 40 ms each.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let app = app.clone();
            async move {
                let answer = tokio::time::timeout(REQUEST_TIMEOUT, app.oneshot(req.map(Body::new)));
                Ok::<_, Infallible>(match answer.await {
                    Ok(Ok(res)) => res,
                    Ok(Err(never)) => match never {},
                    Err(_) => crate::security::refuse(
                        StatusCode::REQUEST_TIMEOUT,
                        "The request took too long to arrive. Try again.",
                    ),
                })
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in progress");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all requests finished"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
}
