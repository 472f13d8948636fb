//! The node's trust root: `GET /api/v1/trust-root`.
//!
//! The attestor-set history of every configured mirror, read from the chains by
//! [`crate::trust::trust_root`] (the same document as `bridge trust export`), kept for
//! [`TRUST_ROOT_TTL`] so a busy lookup page does not turn every proof check into chain
//! reads. The lookup page checks bundles against it by default and says so: trusting
//! this answer means trusting this node; a verifier who does not can load their own file.
//! An unreachable chain is a 503; failures are not cached.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Json, extract::State};
use evidence_schemas::trust::TrustRoot;
use tokio::sync::Mutex;

use super::{ApiError, ApiState, error::ErrorBody};
use crate::{config::Settings, exit::Failure};

/// How long an answer is reused.
pub(crate) const TRUST_ROOT_TTL: Duration = Duration::from_secs(30);

/// A boxed trust-root read.
pub(crate) type TrustRead = Pin<Box<dyn Future<Output = Result<TrustRoot, Failure>> + Send>>;

/// Where the trust root comes from: the chains by default, a fake in tests.
pub(crate) type TrustSource = Arc<dyn Fn(Settings) -> TrustRead + Send + Sync>;

/// The trust root, read on demand and reused for a while.
pub(crate) struct TrustCache {
    source: TrustSource,
    ttl: Duration,
    /// The last good answer and when it was read. Held across a read, so concurrent
    /// requests share one read of the chains.
    cached: Mutex<Option<(Instant, Arc<TrustRoot>)>>,
}

impl TrustCache {
    /// Reads from the configured chains ([`crate::trust::trust_root`]).
    pub(crate) fn from_chains() -> Self {
        Self::new(
            Arc::new(|settings: Settings| -> TrustRead {
                Box::pin(async move { crate::trust::trust_root(&settings).await })
            }),
            TRUST_ROOT_TTL,
        )
    }

    /// Reads from `source`, reusing an answer for `ttl`.
    pub(crate) fn new(source: TrustSource, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The trust root: the cached one while fresh, else a new read.
    pub(crate) async fn get(&self, settings: &Settings) -> Result<Arc<TrustRoot>, Failure> {
        let mut cached = self.cached.lock().await;
        if let Some((at, root)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(root.clone());
        }
        let root = Arc::new((self.source)(settings.clone()).await?);
        *cached = Some((Instant::now(), root.clone()));
        Ok(root)
    }
}

/// The node's trust root: per configured destination mirror and source chain, every
/// attestor-set version with its members, threshold, effective block and how it was
/// installed (for a signed rotation, the previous set's signatures). First sets are
/// pinned. Cached for 30 s.
#[utoipa::path(get, path = "/api/v1/trust-root", tag = "proofs",
    responses(
        (status = 200, description = "TrustRoot, version 1 (`schemas/json/trust-root.v1.schema.json`, media type `application/vnd.evidence-bridge.trust-root.v1+json`), as `bridge trust export` writes it. Trusting it means trusting this node: a verifier who does not should get a trust root elsewhere.", body = Object, content_type = "application/json"),
        (status = 503, description = "a configured chain could not be read", body = ErrorBody)))]
pub(crate) async fn trust_root(State(state): State<ApiState>) -> Result<Json<TrustRoot>, ApiError> {
    let root = state.trust().get(state.settings()).await.map_err(|f| {
        tracing::warn!(target: "api", error = %f, "reading the trust root failed");
        ApiError::unavailable(format!(
            "reading the attestor sets from the configured chains failed: {f}; try again later"
        ))
    })?;
    Ok(Json(TrustRoot::clone(&root)))
}
