//! The attestor endpoint: `POST /api/v1/attestor/checkpoints/sign`.
//!
//! Request (JSON):
//! ```json
//! { "checkpoint": { "source_chain": "eip155:31337", "size": 12, "root": "0x…",
//!                   "source_block_number": 40, "source_block_hash": "0x…" },
//!   "destination_chain": "eip155:31338", "mirror": "0x…", "attestor": "0x… (optional)" }
//! ```
//! Answers:
//! - `200 {"attestor": "0x…", "signature": "0x…65 bytes"}` — the checkpoint matches this
//!   instance's own log; the EIP-712 signature is for the destination's mirror domain;
//! - `425 {"error": "behind", "log_size": N, …}` — our log has not reached it; retry later;
//! - `409 {"error": "mismatch", "log_size": N, "root": "0x… (ours)", …}` — our log
//!   disagrees; an alarm was raised here;
//! - `503 {"error": "halted" | "unavailable", …}` — halted chain, or our node/store failed;
//! - `400 {"error": "bad_request", …}` / `404 {"error": "not_served", …}` — malformed, or
//!   a chain, route or key this instance does not have.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use evidence_relayer::attestors::{AttestorService, SIGN_PATH, SignDecision, SignError, SignRequest, SignResponse};

/// The attestor routes over `state`.
pub(crate) fn router(state: AttestorService) -> Router {
    Router::new().route(SIGN_PATH, post(sign)).with_state(state)
}

fn error(status: StatusCode, code: &str, message: String, log_size: Option<u64>, root: Option<alloy::primitives::B256>) -> Response {
    (status, Json(SignError { error: code.into(), message, log_size, root })).into_response()
}

async fn sign(State(service): State<AttestorService>, body: Bytes) -> Response {
    let request: SignRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body must be a JSON signing request {{checkpoint, destination_chain, mirror}}: {e}"),
                None,
                None,
            );
        }
    };
    match service.sign(&request).await {
        Ok(SignDecision::Signed(s)) => {
            (StatusCode::OK, Json(SignResponse { attestor: s.attestor, signature: s.signature })).into_response()
        }
        Ok(SignDecision::Behind { log_size }) => error(
            StatusCode::TOO_EARLY,
            "behind",
            format!(
                "this attestor's log of {} has {log_size} records and has not reached the checkpoint yet; ask again later",
                request.checkpoint.source_chain
            ),
            Some(log_size),
            None,
        ),
        Ok(SignDecision::Mismatch { log_size, root, reason }) => error(
            StatusCode::CONFLICT,
            "mismatch",
            format!("not signed: {reason}; this attestor raised an alarm"),
            Some(log_size),
            root,
        ),
        Ok(SignDecision::Halted(reason)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "halted",
            format!("source chain {} is halted on this attestor: {reason}", request.checkpoint.source_chain),
            None,
            None,
        ),
        Ok(SignDecision::Refused { bad_request: true, message }) => {
            error(StatusCode::BAD_REQUEST, "bad_request", message, None, None)
        }
        Ok(SignDecision::Refused { bad_request: false, message }) => {
            error(StatusCode::NOT_FOUND, "not_served", message, None, None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "attestor could not decide about a checkpoint");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("this attestor cannot check the checkpoint right now: {e}; ask again later"),
                None,
                None,
            )
        }
    }
}
