//! The bridge's HTTP API (`[api] listen`).
//!
//! So far it serves the attestor endpoint ([`attestor`]); the main API mounts the same
//! router next to its own routes.

pub(crate) mod attestor;

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::exit::Failure;

/// Binds `listen` and serves `router` until `shutdown` is cancelled. Binding happens
/// before this returns, so a port in use is reported at start.
pub(crate) async fn serve(listen: &str, router: Router, shutdown: CancellationToken) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {listen} (api.listen): {e}; pick a free address")))?;
    tracing::info!(%listen, "API listening");
    tokio::spawn(async move {
        let served = axum::serve(listener, router).with_graceful_shutdown(async move { shutdown.cancelled().await }).await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the API server stopped");
        }
    });
    Ok(())
}
