//! Chains: status, checkpoints and quarantined events (paginated, newest first).

use axum::{Json, extract::State};
use evidence_adapters::Quarantined;
use evidence_relayer::query::{ChainStatus, CheckpointSummary};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, ApiState,
    error::{ErrorBody, PathParam, QueryParams},
};

use super::params::{page_limit, quarantine_cursor, size_cursor};

/// Status of every indexed chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChainsAnswer {
    /// Per source chain: head, cursor, lag, log size, last checkpoint, destinations,
    /// quarantined count, halt reason.
    #[schema(value_type = Vec<Object>)]
    pub(crate) chains: Vec<ChainStatus>,
}

/// Status of every chain this node has indexed.
#[utoipa::path(get, path = "/api/v1/chains", tag = "chains",
    responses((status = 200, body = ChainsAnswer), (status = 500, body = ErrorBody)))]
pub(crate) async fn chains(State(state): State<ApiState>) -> Result<Json<ChainsAnswer>, ApiError> {
    Ok(Json(ChainsAnswer {
        chains: state.store().status().await.map_err(ApiError::store)?,
    }))
}

/// Page parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub(crate) limit: Option<String>,
    /// Cursor: the `next_before` of the previous page (omit for the newest page).
    pub(crate) before: Option<String>,
}

impl PageQuery {
    fn limit(&self) -> Result<u64, ApiError> {
        page_limit(self.limit.as_deref()).map_err(ApiError::bad_request)
    }
}

/// A page of checkpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CheckpointPage {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub(crate) checkpoints: Vec<CheckpointSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    pub(crate) next_before: Option<String>,
}

/// The chain's checkpoints, newest first; the cursor is a checkpoint size.
#[utoipa::path(get, path = "/api/v1/chains/{name}/checkpoints", tag = "chains",
    params(("name" = String, Path, description = "chain name or CAIP-2 id"), PageQuery),
    responses((status = 200, body = CheckpointPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn checkpoints(
    State(state): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(page): QueryParams<PageQuery>,
) -> Result<Json<CheckpointPage>, ApiError> {
    let chain = state.chain(&name)?.chain_id.clone();
    let limit = page.limit()?;
    let before = page
        .before
        .as_deref()
        .map(size_cursor)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let checkpoints = state
        .store()
        .load_checkpoints_page(&chain, before, limit)
        .await
        .map_err(ApiError::store)?;
    let next_before = (checkpoints.len() as u64 == limit)
        .then(|| checkpoints.last().map(|c| c.size.to_string()))
        .flatten();
    Ok(Json(CheckpointPage {
        checkpoints,
        next_before,
    }))
}

/// A page of quarantined events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct QuarantinePage {
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub(crate) events: Vec<Quarantined>,
    /// Pass as `before` for the next page; absent on the last page.
    pub(crate) next_before: Option<String>,
}

/// Events of the chain that could not be turned into records, newest first; the
/// cursor is `BLOCK-LOG_INDEX`.
#[utoipa::path(get, path = "/api/v1/chains/{name}/quarantine", tag = "chains",
    params(("name" = String, Path, description = "chain name or CAIP-2 id"), PageQuery),
    responses((status = 200, body = QuarantinePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn quarantine(
    State(state): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(page): QueryParams<PageQuery>,
) -> Result<Json<QuarantinePage>, ApiError> {
    let chain = state.chain(&name)?.chain_id.clone();
    let limit = page.limit()?;
    let before = page
        .before
        .as_deref()
        .map(quarantine_cursor)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let events = state
        .store()
        .load_quarantined_page(&chain, before, limit)
        .await
        .map_err(ApiError::store)?;
    let next_before = (events.len() as u64 == limit)
        .then(|| {
            events
                .last()
                .map(|e| format!("{}-{}", e.block_number, e.log_index))
        })
        .flatten();
    Ok(Json(QuarantinePage {
        events,
        next_before,
    }))
}
