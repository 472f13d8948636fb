//! `POST /api/v1/anchor`: anchoring for partner systems without a chain client.
//!
//! Only with a bearer token whose SHA-256 is listed in `api.anchor_tokens_sha256`
//! (compared in constant time), and only on a node that holds an anchor key. The
//! transaction is sent from that key through the same code as `bridge anchor`.

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use axum::{
    Json,
    extract::{FromRequest, Request, State},
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
};
use evidence_schemas::{
    DigestAlgorithm, Label,
    digest::{parse_b256, parse_digest},
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    ApiError, ApiState,
    error::{ErrorBody, JsonBody},
};
use crate::commands::anchor::{Anchored, submit_anchor};

/// What anchoring over HTTP needs: accepted token hashes and the key to send from.
#[derive(Clone)]
pub(crate) struct AnchorAccess {
    token_hashes: Vec<[u8; 32]>,
    key: PrivateKeySigner,
}

impl std::fmt::Debug for AnchorAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorAccess")
            .field("tokens", &self.token_hashes.len())
            .field("from", &self.key.address())
            .finish()
    }
}

impl AnchorAccess {
    /// Anchoring with these token hashes from `key`; `None` when no token is configured.
    pub(crate) fn new(token_hashes: Vec<[u8; 32]>, key: PrivateKeySigner) -> Option<Self> {
        (!token_hashes.is_empty()).then_some(Self { token_hashes, key })
    }

    /// Whether `token` hashes to one of the accepted hashes. Every hash is compared,
    /// each in constant time, so timing tells nothing about which bytes matched.
    fn accepts(&self, token: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.token_hashes
            .iter()
            .fold(subtle::Choice::from(0), |acc, h| acc | h.ct_eq(&presented))
            .into()
    }
}

/// The body of an anchoring request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnchorRequest {
    /// Chain name or CAIP-2 id.
    pub(crate) chain: String,
    /// 32-byte digest, 0x-hex.
    pub(crate) digest: String,
    /// `sha256` (default), `keccak256` or `sm3`.
    pub(crate) digest_alg: Option<String>,
    /// Short label of what the evidence is.
    #[serde(default)]
    pub(crate) kind: String,
    /// Optional 32-byte metadata hash, 0x-hex.
    pub(crate) metadata: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer TOKEN` header; ask the operator for a token",
        )
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the Authorization header must be `Bearer TOKEN`",
            )
        })
}

/// Anchors a digest on a chain's registry and returns the mined record.
#[utoipa::path(post, path = "/api/v1/anchor", tag = "anchoring",
    request_body = AnchorRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Anchored), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub(crate) async fn anchor(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Json<Anchored>, ApiError> {
    // Authorisation first, before the body is read: an unauthorised caller learns
    // nothing about the body rules and cannot make the server wait for a body. No
    // credentials is 401; credentials this node does not accept (or no anchoring
    // here at all) is 403.
    let token = bearer(request.headers())?;
    let access = state.inner.anchor.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "anchoring over HTTP is not enabled on this node (the operator must set api.anchor_tokens_sha256 and an anchor key)",
        )
    })?;
    if !access.accepts(token) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token is not accepted; ask the operator for a valid one",
        ));
    }
    let JsonBody(req) = JsonBody::<AnchorRequest>::from_request(request, &state).await?;
    let chain = state.chain(&req.chain)?.clone();
    let alg: DigestAlgorithm = req.digest_alg.as_deref().unwrap_or("sha256").parse()?;
    let digest = parse_digest("digest", &req.digest)?;
    let kind = Label::parse("kind", &req.kind)?;
    let metadata = req
        .metadata
        .as_deref()
        .map(|m| parse_b256("metadata", m))
        .transpose()?
        .unwrap_or(B256::ZERO);
    let anchored = submit_anchor(&chain, access.key.clone(), alg, digest, &kind, metadata)
        .await
        .map_err(|f| ApiError::new(StatusCode::BAD_GATEWAY, format!("{f}; try again later")))?;
    tracing::info!(target: "api", chain = %chain.name, record_id = %anchored.record_id, "anchored over HTTP");
    Ok(Json(anchored))
}
