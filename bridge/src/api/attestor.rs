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
//!   a chain, route or key this instance does not have;
//! - `401`/`403 {"error": "unauthorized" | "forbidden", …}` — the client address is not in
//!   `attestation.relayer_allow`, or no/a wrong bearer token when
//!   `attestation.relayer_tokens_sha256` is set (checked before the body is read);
//! - `429 {"error": "rate_limited", …}` — this client address asked more often than
//!   `attestation.sign_requests_per_sec` (burst `sign_burst`); `Retry-After` says when.
//!
//! At most `attestation.max_concurrent_signs` requests are checked at once (each reads
//! the store), the rest wait within the request deadline; a checkpoint signed before is
//! answered from a cache. So a client flooding valid requests costs the indexer little.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequest, Request, State},
    http::{HeaderValue, StatusCode, header::AUTHORIZATION},
    response::{IntoResponse, Response},
    routing::post,
};
use evidence_relayer::attestors::{
    AttestorService, SIGN_PATH, SignDecision, SignError, SignRequest, SignResponse,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::SignPolicy;

/// The endpoint's state: the service and who may ask it, how often, how many at once.
#[derive(Clone)]
struct Gate {
    service: AttestorService,
    policy: Arc<SignPolicy>,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
    signing: Arc<Semaphore>,
}

/// A token bucket of one client address.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Client addresses tracked before idle ones are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

impl Gate {
    /// Takes one request from `ip`'s bucket; `Err(seconds)` until the next is allowed.
    fn take(&self, ip: IpAddr) -> Result<(), u64> {
        let rate = f64::from(self.policy.rate_per_sec);
        let burst = f64::from(self.policy.burst);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            // Forget the clients whose buckets are full again (idle ones).
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Whether a bearer token is required and `presented` is one of the accepted ones
    /// (each hash compared in constant time).
    fn token_ok(&self, presented: &str) -> bool {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.policy
            .token_hashes
            .iter()
            .fold(subtle::Choice::from(0), |acc, h| acc | h.ct_eq(&hash))
            .into()
    }
}

/// The attestor routes over `service`, guarded by `policy`.
pub(crate) fn router(service: AttestorService, policy: &SignPolicy) -> Router {
    let gate = Gate {
        service,
        signing: Arc::new(Semaphore::new(policy.max_concurrent)),
        policy: Arc::new(policy.clone()),
        buckets: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new().route(SIGN_PATH, post(sign)).with_state(gate)
}

/// Who is asking: the peer address (from the server) and, with tokens, which token.
fn admit(gate: &Gate, req: &Request) -> Result<String, Box<Response>> {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !gate.policy.allow.is_empty()
        && !ip.is_some_and(|ip| gate.policy.allow.iter().any(|net| net.contains(&ip)))
    {
        metrics::counter!("bridge_attestor_requests_refused_total", "reason" => "not_allowed")
            .increment(1);
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "client {} is not in this attestor's attestation.relayer_allow; ask its operator to add your address",
                ip.map_or_else(|| "?".into(), |ip| ip.to_string())
            ),
            None,
            None,
        )));
    }
    let mut requester = format!(
        "client {}",
        ip.map_or_else(|| "?".into(), |ip| ip.to_string())
    );
    if !gate.policy.token_hashes.is_empty() {
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match token.map(str::trim) {
            None | Some("") => {
                metrics::counter!("bridge_attestor_requests_refused_total", "reason" => "no_token")
                    .increment(1);
                return Err(Box::new(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this attestor serves known relayers only: send `Authorization: Bearer TOKEN` (set token_env in [[attestors]])".into(),
                    None,
                    None,
                )));
            }
            Some(t) if !gate.token_ok(t) => {
                metrics::counter!("bridge_attestor_requests_refused_total", "reason" => "bad_token").increment(1);
                return Err(Box::new(error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this token is not accepted by this attestor".into(),
                    None,
                    None,
                )));
            }
            Some(t) => {
                // Which relayer: a short prefix of its token's hash (never the token).
                let hash = Sha256::digest(t.as_bytes());
                requester.push_str(&format!(" token {}", hex::encode(&hash[..4])));
            }
        }
    }
    if let Some(ip) = ip
        && let Err(wait) = gate.take(ip)
    {
        metrics::counter!("bridge_attestor_requests_refused_total", "reason" => "rate_limited")
            .increment(1);
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "client {ip} asks more often than this attestor allows ({} per second, burst {}); retry in {wait} s",
                gate.policy.rate_per_sec, gate.policy.burst
            ),
            None,
            None,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return Err(Box::new(response));
    }
    Ok(requester)
}

fn error(
    status: StatusCode,
    code: &str,
    message: String,
    log_size: Option<u64>,
    root: Option<alloy::primitives::B256>,
) -> Response {
    let message = evidence_adapters::redact::scrub(&message).into_owned();
    (
        status,
        Json(SignError {
            error: code.into(),
            message,
            log_size,
            root,
        }),
    )
        .into_response()
}

async fn sign(State(gate): State<Gate>, req: Request) -> Response {
    // Who may ask, and how often, before the body is read.
    let requester = match admit(&gate, &req) {
        Ok(r) => r,
        Err(refusal) => return *refusal,
    };
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(rejection) => {
            let e = super::ApiError::from_body_rejection(
                rejection.status(),
                &rejection.body_text(),
                &rejection,
            );
            return error(e.status, "bad_request", e.message, None, None);
        }
    };
    let request: SignRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!(
                    "the body must be a JSON signing request {{checkpoint, destination_chain, mirror}}: {e}"
                ),
                None,
                None,
            );
        }
    };
    // Bounded work: a flood waits here (within the request deadline), not in the store.
    let Ok(_permit) = gate.signing.acquire().await else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this attestor is shutting down".into(),
            None,
            None,
        );
    };
    match gate.service.sign_for(&request, Some(&requester)).await {
        Ok(SignDecision::Signed(s)) => (
            StatusCode::OK,
            Json(SignResponse {
                attestor: s.attestor,
                signature: s.signature,
            }),
        )
            .into_response(),
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
        Ok(SignDecision::Mismatch {
            log_size,
            root,
            reason,
        }) => error(
            StatusCode::CONFLICT,
            "mismatch",
            format!("not signed: {reason}; this attestor raised an alarm"),
            Some(log_size),
            root,
        ),
        Ok(SignDecision::Halted(reason)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "halted",
            format!(
                "source chain {} is halted on this attestor: {reason}",
                request.checkpoint.source_chain
            ),
            None,
            None,
        ),
        Ok(SignDecision::Refused {
            bad_request: true,
            message,
        }) => error(StatusCode::BAD_REQUEST, "bad_request", message, None, None),
        Ok(SignDecision::Refused {
            bad_request: false,
            message,
        }) => error(StatusCode::NOT_FOUND, "not_served", message, None, None),
        Err(e) => {
            tracing::warn!(error = %e, "attestor could not decide about a checkpoint");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "this attestor cannot check the checkpoint right now: {e}; ask again later"
                ),
                None,
                None,
            )
        }
    }
}
