//! The HTTP API: evidence lookup, proof bundles, evidence certificates, verification, the node's trust root,
//! chain status, checkpoints, quarantine, anchoring for partners, health, metrics and
//! the OpenAPI document.
//!
//! Served by `bridge run` when `[api] listen` is set and by `bridge serve` (a read-only
//! lookup node). Every error is JSON `{"error": "..."}` with a 4xx/5xx status; nothing a
//! client sends reaches a panic. `/` is left free for the lookup page.

mod anchor;
mod answers;
#[cfg(test)]
mod answers_tests;
pub(crate) mod attestor;
mod certificate;
mod chains;
mod error;
mod mirror_states;
pub(crate) mod openapi;
mod ops;
mod page;
pub(crate) mod params;
mod records;
pub(crate) mod server;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod tests;
mod trust;

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use evidence_adapters::MirrorReader;
use evidence_relayer::store::Store;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::RequestBodyTimeoutLayer;

pub(crate) use anchor::AnchorAccess;
pub(crate) use error::ApiError;

use crate::config::{ChainSettings, Settings};

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ApiState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: Settings,
    /// Read-only mirror clients, connected on first use (a chain that is down at
    /// start-up must not keep the lookup node from serving).
    mirrors: Mutex<HashMap<String, Arc<dyn MirrorReader>>>,
    anchor: Option<AnchorAccess>,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The node's trust root, read from the chains and cached briefly.
    trust: trust::TrustCache,
    /// Lookup answers while the store stands still.
    answers: answers::AnswerCache,
    /// Mirror states read at a block, for bundles.
    mirror_states: mirror_states::MirrorStates,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("chains", &self.inner.settings.chain_names())
            .field("anchoring", &self.inner.anchor.is_some())
            .finish()
    }
}

impl ApiState {
    /// State over an open store. `anchor` enables `POST /api/v1/anchor`.
    pub(crate) fn new(store: Store, settings: Settings, anchor: Option<AnchorAccess>) -> Self {
        let answers = answers::AnswerCache::new(settings.api.answer_cache_mib << 20);
        Self {
            inner: Arc::new(Inner {
                store,
                settings,
                mirrors: Mutex::new(HashMap::new()),
                anchor,
                metrics: ops::install_metrics(),
                trust: trust::TrustCache::from_chains(),
                answers,
                mirror_states: Default::default(),
            }),
        }
    }

    /// Takes the trust root from `source`, reused for `ttl` (tests plug fakes in here).
    /// Only before the state is shared.
    #[cfg(test)]
    pub(crate) fn with_trust_source(
        mut self,
        source: trust::TrustSource,
        ttl: std::time::Duration,
    ) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.trust = trust::TrustCache::new(source, ttl);
        }
        self
    }

    /// The trust-root cache.
    pub(crate) fn trust(&self) -> &trust::TrustCache {
        &self.inner.trust
    }

    /// The lookup-answer cache.
    pub(crate) fn answers(&self) -> &answers::AnswerCache {
        &self.inner.answers
    }

    /// Mirror states recently read at a block.
    pub(crate) fn mirror_states(&self) -> &mirror_states::MirrorStates {
        &self.inner.mirror_states
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The configured chain with this name or CAIP-2 id.
    pub(crate) fn chain(&self, name_or_id: &str) -> Result<&ChainSettings, ApiError> {
        let s = &self.inner.settings;
        s.chains
            .iter()
            .find(|c| c.name == name_or_id || c.chain_id.as_str() == name_or_id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "unknown chain {name_or_id:?}; this node knows: {} (use a name or a CAIP-2 id such as {})",
                    s.chain_names().join(", "),
                    s.chains.first().map_or("eip155:1", |c| c.chain_id.as_str())
                ))
            })
    }

    /// A read-only client for `chain`'s mirror, connecting on first use.
    pub(crate) async fn mirror(
        &self,
        chain: &ChainSettings,
    ) -> Result<Arc<dyn MirrorReader>, ApiError> {
        let mut cache = self.inner.mirrors.lock().await;
        if let Some(m) = cache.get(&chain.name) {
            return Ok(m.clone());
        }
        let client = crate::context::mirror_reader(chain).await.map_err(|f| {
            ApiError::unavailable(format!(
                "cannot reach the mirror on {}: {f}; try again later",
                chain.name
            ))
        })?;
        cache.insert(chain.name.clone(), client.clone());
        Ok(client)
    }

    /// Uses `client` for `chain`'s mirror (tests plug fakes in here).
    #[cfg(test)]
    pub(crate) async fn set_mirror(&self, chain: &str, client: Arc<dyn MirrorReader>) {
        self.inner
            .mirrors
            .lock()
            .await
            .insert(chain.to_owned(), client);
    }
}

/// Every (method, path) the API serves; the OpenAPI test checks the document lists
/// exactly these.
#[cfg(test)]
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/evidence/{digest}"),
    ("get", "/api/v1/records/{record_id}"),
    ("get", "/api/v1/records/{record_id}/bundle"),
    ("get", "/api/v1/records/{record_id}/certificate"),
    ("post", "/api/v1/bundles/verify"),
    ("get", "/api/v1/trust-root"),
    ("get", "/api/v1/chains"),
    ("get", "/api/v1/chains/{name}/checkpoints"),
    ("get", "/api/v1/chains/{name}/quarantine"),
    ("post", "/api/v1/anchor"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

/// Every route of the API and the lookup page.
pub(crate) fn router(state: ApiState) -> Router {
    app(state, None)
}

/// [`router`] plus `attestor` (the attestor endpoint of `bridge run`), all under the
/// same body limit, body timeout and request deadline.
pub(crate) fn app(state: ApiState, attestor: Option<Router>) -> Router {
    let limit = state.settings().api.max_body_bytes;
    let limits = state.settings().api.limits();
    let routes = Router::new()
        .route("/api/v1/evidence/{digest}", get(records::evidence))
        .route("/api/v1/records/{record_id}", get(records::record))
        .route("/api/v1/records/{record_id}/bundle", get(records::bundle))
        .route(
            "/api/v1/records/{record_id}/certificate",
            get(certificate::certificate),
        )
        .route("/api/v1/bundles/verify", post(records::verify))
        .route("/api/v1/trust-root", get(trust::trust_root))
        .route("/api/v1/chains", get(chains::chains))
        .route(
            "/api/v1/chains/{name}/checkpoints",
            get(chains::checkpoints),
        )
        .route("/api/v1/chains/{name}/quarantine", get(chains::quarantine))
        .route("/api/v1/anchor", post(anchor::anchor))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(page::routes())
        .fallback(error::fallback)
        .with_state(state);
    let routes = match attestor {
        Some(a) => routes.merge(a),
        None => routes,
    };
    routes
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            server::deadline,
        ))
}

/// Binds `listen` (before anything else starts, so a taken port fails fast).
pub(crate) async fn bind(
    listen: std::net::SocketAddr,
) -> Result<tokio::net::TcpListener, crate::exit::Failure> {
    tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        crate::exit::Failure::usage(format!("cannot listen on {listen}: {e} (is another process using the port? change [api] listen)"))
    })
}

/// Serves `app` on `listener` with `limits` (see [`server`]) until `shutdown` is
/// cancelled.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: crate::config::ServerLimits,
    shutdown: CancellationToken,
) -> Result<(), crate::exit::Failure> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(target: "api", %local, max_connections = limits.max_connections, "HTTP API listening");
    }
    server::serve(listener, app, limits, shutdown).await;
    Ok(())
}
