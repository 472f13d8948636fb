//! Evidence lookup, records, proof bundles and bundle verification.

use alloy::primitives::B256;
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use evidence_relayer::{RelayerError, query::RecordView};
use evidence_schemas::{
    ProofBundle,
    bundle::{BUNDLE_VERSION, OLDEST_BUNDLE_VERSION},
    digest::{parse_b256, parse_digest},
};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, ApiState,
    error::{ErrorBody, JsonBody, PathParam, QueryParams},
};
use crate::{
    commands::verify::{Report, mirror_checks},
    config::ChainSettings,
};

/// Every record of a digest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EvidenceAnswer {
    /// The digest looked up (0x-hex).
    #[schema(value_type = String)]
    pub(crate) digest: alloy::primitives::B256,
    /// Every record with that digest on every indexed chain; empty when unknown.
    #[schema(value_type = Vec<Object>)]
    pub(crate) records: Vec<RecordView>,
}

/// Every record of a digest, on every chain, with its state, where it is mirrored
/// (provable) and whether it is revoked. An unknown digest gives `200` with no records.
#[utoipa::path(get, path = "/api/v1/evidence/{digest}", tag = "lookup",
    params(("digest" = String, Path, description = "32-byte digest, hex (64 digits, 0x optional), not all zero", pattern = "^(0[xX])?[0-9a-fA-F]{64}$")),
    responses((status = 200, body = EvidenceAnswer), (status = 400, body = ErrorBody)))]
pub(crate) async fn evidence(
    State(state): State<ApiState>,
    PathParam(digest): PathParam<String>,
) -> Result<Response, ApiError> {
    let digest = parse_digest("digest", &digest)?;
    let store = state.store();
    let answer = state
        .answers()
        .get_or_compute(store, format!("evidence/{digest}"), || async move {
            let records = store.lookup_digest(digest).await.map_err(ApiError::store)?;
            json_bytes(&EvidenceAnswer { digest, records })
        })
        .await?;
    Ok(json_response(answer))
}

/// One record by its id.
#[utoipa::path(get, path = "/api/v1/records/{record_id}", tag = "lookup",
    params(("record_id" = String, Path, description = "record id: 32 bytes, hex (64 digits, 0x optional)", pattern = "^(0[xX])?[0-9a-fA-F]{64}$")),
    responses((status = 200, description = "the record view (see RecordView in the docs)", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn record(
    State(state): State<ApiState>,
    PathParam(record_id): PathParam<String>,
) -> Result<Response, ApiError> {
    let record_id = parse_b256("record_id", &record_id)?;
    let store = state.store();
    let answer = state
        .answers()
        .get_or_compute(store, format!("record/{record_id}"), || async move {
            let view = store
                .load_record(record_id)
                .await
                .map_err(ApiError::store)?
                .ok_or_else(|| not_indexed(record_id))?;
            json_bytes(&view)
        })
        .await?;
    Ok(json_response(answer))
}

/// `value` as JSON bytes.
fn json_bytes(value: &impl Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the answer: {e}; tell the operator"),
        )
    })
}

/// A `200` with `body` as `application/json` (what `Json` sends).
fn json_response(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub(crate) fn not_indexed(record_id: alloy::primitives::B256) -> ApiError {
    ApiError::not_found(format!(
        "record {record_id} is not known to this node; check the id, or look the digest up with /api/v1/evidence/{{digest}}"
    ))
}

/// Query of the bundle endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BundleQuery {
    /// Destination chain: configured name or CAIP-2 id (required; a missing one is a
    /// 400 that says so).
    #[param(required = true, min_length = 1)]
    pub(crate) destination: Option<String>,
}

/// A self-contained proof bundle (version 1, `schemas/json/proof-bundle.v1.schema.json`)
/// proving the record on `destination`, from the newest checkpoint mirrored there.
#[utoipa::path(get, path = "/api/v1/records/{record_id}/bundle", tag = "proofs",
    params(("record_id" = String, Path, description = "record id: 32 bytes, hex (64 digits, 0x optional)", pattern = "^(0[xX])?[0-9a-fA-F]{64}$"), BundleQuery),
    responses((status = 200, description = "ProofBundle (version 1 or 2)", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn bundle(
    State(state): State<ApiState>,
    PathParam(record_id): PathParam<String>,
    QueryParams(query): QueryParams<BundleQuery>,
) -> Result<Json<ProofBundle>, ApiError> {
    let record_id = parse_b256("record_id", &record_id)?;
    let destination = query.destination.ok_or_else(|| {
        ApiError::bad_request("missing query parameter `destination`: the chain (name or CAIP-2 id) to prove the record on")
    })?;
    let dest = state.chain(&destination)?.clone();
    build_bundle(&state, record_id, &dest).await.map(Json)
}

/// The proof bundle of `record_id` on `dest` (the bundle endpoint's, and the
/// certificate's).
pub(crate) async fn build_bundle(
    state: &ApiState,
    record_id: B256,
    dest: &ChainSettings,
) -> Result<ProofBundle, ApiError> {
    let view = state
        .store()
        .load_record(record_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| not_indexed(record_id))?;
    if view.record.source.chain == dest.chain_id {
        return Err(ApiError::bad_request(format!(
            "record {record_id} is on {} itself; choose another chain as destination",
            dest.name
        )));
    }
    let mirror = state.mirror(dest).await?;
    // The attestor set that accepted the checkpoint, read at the block it was accepted
    // in (as `bridge proof` does): after a rotation the current set did not sign it.
    let target = state
        .store()
        .proof_target_of(view, &dest.chain_id)
        .await
        .map_err(|e| match e {
            RelayerError::NotFound(m) => ApiError::not_found(m),
            other => ApiError::store(other),
        })?;
    let source = &target.view.record.source.chain;
    let block = target.submission.mined_block;
    let mirror_state = state
        .mirror_states()
        .get_or_read(&dest.name, source, block, || {
            mirror.fetch_state_as_of(source, block)
        })
        .await
        .map_err(|e| {
            ApiError::unavailable(format!(
                "reading the mirror on {}: {e}; try again later",
                dest.name
            ))
        })?;
    state
        .store()
        .build_bundle_of(target, &dest.chain_id, &mirror_state, dest.mirror)
        .await
        .map_err(|e| match e {
            RelayerError::NotFound(m) => ApiError::not_found(m),
            other => ApiError::store(other),
        })
}

/// The shape of a proof bundle, for the OpenAPI document (the server reads the body
/// as a [`ProofBundle`]; `schemas/json/proof-bundle.v2.schema.json` has every field).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only
pub(crate) struct BundleBody {
    /// Bundle format: 1 or 2.
    #[schema(minimum = 1, maximum = 2)]
    version: u32,
    /// The evidence record.
    #[schema(value_type = Object)]
    record: (),
    /// Its id: 32 bytes, 0x-hex.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    record_id: String,
    /// Its leaf index in the source chain's log.
    leaf_index: u64,
    /// RFC 6962 inclusion proof: 32-byte hashes, 0x-hex.
    inclusion_proof: Vec<String>,
    /// The checkpoint the proof is against.
    #[schema(value_type = Object)]
    checkpoint: (),
    /// Attestor signatures of the checkpoint.
    #[schema(value_type = Vec<Object>)]
    signatures: (),
    /// Where the checkpoint was accepted: chain, mirror, attestor set.
    #[schema(value_type = Object)]
    destination: (),
    /// A proven revocation of the record, when there is one.
    #[schema(value_type = Option<Object>)]
    revocation: (),
}

/// Verifies a proof bundle offline and, when this node has the destination chain
/// configured, against the destination mirror. `200` with `valid: false` and
/// `failed_check` for a bundle that does not verify; `400` for a body that is not a
/// bundle.
#[utoipa::path(post, path = "/api/v1/bundles/verify", tag = "proofs",
    request_body(content = BundleBody, description = "ProofBundle (version 1, 2 or 3; schemas/json/proof-bundle.v3.schema.json)", content_type = "application/json"),
    responses((status = 200, body = Report), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
pub(crate) async fn verify(
    State(state): State<ApiState>,
    JsonBody(value): JsonBody<serde_json::Value>,
) -> Result<Json<Report>, ApiError> {
    if let Some(v) = value.get("version").and_then(serde_json::Value::as_u64)
        && !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&v)
    {
        return Err(ApiError::bad_request(format!(
            "bundle version {v}; this node reads versions {OLDEST_BUNDLE_VERSION} to {BUNDLE_VERSION}"
        )));
    }
    let bundle: ProofBundle = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("the body is not a proof bundle: {e}")))?;
    let mut report = Report::offline(&bundle);
    // RFC 3161 tokens are checked against this node's `[[timestamping]]` roots.
    if report.failed_check.is_none() && !bundle.timestamps.is_empty() {
        let roots = crate::timestamping::configured_roots(&state.settings().timestamping)
            .map_err(|e| ApiError::unavailable(format!("this node's TSA roots: {e}")))?;
        crate::commands::verify_tsa::check_timestamps(&mut report, &bundle, &roots);
        report.finish(&bundle);
    }
    // This node asks the destination mirror (verifyRecord and rootAt) when it has that
    // chain configured; the full online checks (attestor set, mirror transaction, source
    // receipt) are `bridge verify --config`'s.
    let dest = state
        .settings()
        .chains
        .iter()
        .find(|c| c.chain_id == bundle.destination.chain)
        .cloned();
    // Every offline check passed (`valid` waits for the signers to be pinned: here by
    // the mirror's answer).
    if report.failed_check.is_none()
        && let Some(dest) = dest
    {
        let client = state.mirror(&dest).await?;
        let checks = mirror_checks(&dest, client.as_ref(), &bundle)
            .await
            .map_err(|f| ApiError::unavailable(format!("asking the destination mirror: {f}")))?;
        report.online = true;
        report.checks.extend(checks);
    }
    report.finish(&bundle);
    Ok(Json(report))
}
