//! Tandem's HTTP server: the JSON API (with its OpenAPI document), the web UI, and the
//! security model every route goes through (sessions and API tokens, roles and permissions,
//! sensitivity gates, CSRF, audit).

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod authz;
pub mod catalogue_pages;
pub mod config;
pub mod error;
pub mod headers;
pub mod holds;
pub mod intelligence;
pub mod monitor;
pub mod name_search;
pub mod openapi;
pub mod pages;
pub mod protection;
pub mod protection_pages;
pub mod referrals;
pub mod screening;
pub mod screening_web;
pub mod view;
pub mod yente;

use std::net::SocketAddr;
use std::sync::Arc;

pub use app::{AppState, build, route_specs};
pub use config::{Overrides, ServerConfig};
use tandem_store::Store;

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    store: Arc<dyn Store>,
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = build(store, config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
