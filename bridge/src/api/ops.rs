//! `/healthz`, `/readyz` and `/metrics`.
//!
//! Metrics go through the `metrics` facade into one process-wide Prometheus recorder:
//! the RPC layer counts requests, errors and latency as they happen; the store-derived
//! gauges (head, cursor, lag, log size, records, quarantine, checkpoints submitted and
//! failed, time since the last mirrored checkpoint) are computed when scraped.

use std::sync::OnceLock;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header::CONTENT_TYPE},
    response::IntoResponse,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use super::{ApiError, ApiState, error::ErrorBody};

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process (`None` if another recorder was
/// installed first, e.g. by an embedding test).
pub(super) fn install_metrics() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
}

/// Health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `not_ready`.
    pub(crate) status: &'static str,
    /// Why not ready (empty when ready).
    pub(crate) problems: Vec<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        problems: Vec::new(),
    })
}

/// The store answers, no chain has halted and every log's tiles are built; `503`
/// with the problems otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub(crate) async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let mut problems = Vec::new();
    match state.store().load_cursors().await {
        Err(e) => problems.push(format!("store not reachable: {e}")),
        Ok(cursors) => {
            for c in cursors {
                if let Some(reason) = c.halted_reason {
                    problems.push(format!("chain {} halted: {reason}", c.name));
                }
                if c.tiled_size < c.log_size {
                    problems.push(format!(
                        "chain {}: building the log's tiles after an upgrade ({} of {} records); proofs wait until done",
                        c.name, c.tiled_size, c.log_size
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                problems,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "not_ready",
                problems,
            }),
        )
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 500, body = ErrorBody)))]
pub(crate) async fn metrics(State(state): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let handle = state.inner.metrics.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no metrics recorder in this process",
        )
    })?;
    record_store_gauges(&state).await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    ))
}

fn name_of(state: &ApiState, chain: &evidence_schemas::ChainId) -> String {
    state
        .settings()
        .chains
        .iter()
        .find(|c| &c.chain_id == chain)
        .map_or_else(|| chain.to_string(), |c| c.name.clone())
}

#[allow(clippy::cast_precision_loss)] // gauges are f64 by definition
async fn record_store_gauges(state: &ApiState) -> Result<(), ApiError> {
    let store = state.store();
    for s in store.status().await.map_err(ApiError::store)? {
        let chain = s.name.clone();
        metrics::gauge!("bridge_chain_head", "chain" => chain.clone())
            .set(s.head.unwrap_or(0) as f64);
        metrics::gauge!("bridge_chain_cursor", "chain" => chain.clone()).set(s.cursor as f64);
        metrics::gauge!("bridge_chain_lag_blocks", "chain" => chain.clone()).set(s.lag as f64);
        metrics::gauge!("bridge_log_size", "chain" => chain.clone()).set(s.log_size as f64);
        metrics::gauge!("bridge_records_indexed", "chain" => chain.clone())
            .set((s.log_size + s.pending_records) as f64);
        metrics::gauge!("bridge_records_pending", "chain" => chain.clone())
            .set(s.pending_records as f64);
        metrics::gauge!("bridge_receipts_logged", "chain" => chain.clone())
            .set(s.receipts_logged as f64);
        metrics::gauge!("bridge_quarantined_events", "chain" => chain.clone())
            .set(s.quarantined as f64);
        metrics::gauge!("bridge_chain_halted", "chain" => chain.clone())
            .set(if s.halted.is_some() { 1.0 } else { 0.0 });
        if let Some(cp) = &s.last_checkpoint {
            metrics::gauge!("bridge_last_checkpoint_size", "chain" => chain.clone())
                .set(cp.size as f64);
        }
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    for r in store
        .count_submissions_by_route()
        .await
        .map_err(ApiError::store)?
    {
        let (from, to) = (
            name_of(state, &r.source_chain),
            name_of(state, &r.destination_chain),
        );
        metrics::gauge!("bridge_checkpoints_submitted", "from" => from.clone(), "to" => to.clone())
            .set(r.confirmed as f64);
        metrics::gauge!("bridge_checkpoints_failed", "from" => from.clone(), "to" => to.clone())
            .set(r.failed as f64);
        if let Some(at) = r.last_confirmed_at_ms {
            metrics::gauge!("bridge_seconds_since_last_checkpoint", "from" => from, "to" => to)
                .set((now_ms - at).max(0) as f64 / 1000.0);
        }
    }
    Ok(())
}
