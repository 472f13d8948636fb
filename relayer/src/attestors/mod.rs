//! Independent attestors over HTTP.
//!
//! Two sides of one protocol (`POST {base}/api/v1/attestor/checkpoints/sign`), whose
//! bodies are defined here:
//!
//! - **Attestor side** ([`AttestorService`], [`service`]): a partner's instance, holding
//!   one attestor key, signs a proposed checkpoint only when its *own* log — built from
//!   its own node — has the same root at that size, the same number of records up to
//!   the checkpoint's source block, and the same hash for that block. A log that is not
//!   there yet answers "behind" (the caller retries later); a disagreement is answered
//!   with this attestor's own root and raises an alarm ([`crate::alarms`]: ERROR log,
//!   stored alarm row, `bridge_alarms_total` metric).
//! - **Relaying side** ([`RemoteAttestors`], [`remote`]): the client that asks the
//!   configured attestors for signatures, concurrently and with a per-request timeout.
//!   The attest stage checks every returned signature before it is stored or used.
//!
//! The attestor's other duty, comparing the destination mirrors with its own log, is
//! the watch stage ([`crate::stages::watch`]).

use alloy::primitives::{Address, B256, Bytes};
use evidence_schemas::{ChainId, Checkpoint, checkpoint::AttestorSignature};
use serde::{Deserialize, Serialize};

pub mod remote;
pub mod service;

pub(crate) use remote::request_with;
pub use remote::{RemoteAnswer, RemoteAttestor, RemoteAttestors};
pub use service::AttestorService;

/// Path of the signing endpoint, relative to an attestor's base URL.
pub const SIGN_PATH: &str = "/api/v1/attestor/checkpoints/sign";

/// Body of a signing request: the proposed checkpoint and where it is to be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The proposed checkpoint (source chain, size, root, source block number + hash).
    pub checkpoint: Checkpoint,
    /// CAIP-2 id of the destination chain (its EIP-155 id is the EIP-712 `chainId`).
    pub destination_chain: ChainId,
    /// The destination's `AnchorMirror` (the EIP-712 `verifyingContract`).
    pub mirror: Address,
    /// Which of the instance's attestor keys should sign; may be omitted when the
    /// instance holds exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestor: Option<Address>,
}

/// Body of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignResponse {
    /// The attestor that signed.
    pub attestor: Address,
    /// 65-byte EIP-712 signature.
    pub signature: Bytes,
}

/// Body of a refusal: `error` is a machine-readable code (`behind`, `mismatch`,
/// `halted`, `bad_request`, `not_served`, `internal`), `message` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignError {
    /// Error code.
    pub error: String,
    /// Explanation.
    pub message: String,
    /// The attestor's log size for the source chain, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_size: Option<u64>,
    /// The attestor's own root at the proposed size (on `mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<B256>,
}

/// What the attestor decided about a proposed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignDecision {
    /// It matches our log: the signature.
    Signed(AttestorSignature),
    /// Our log has not reached the checkpoint yet; ask again later.
    Behind {
        /// Our log size.
        log_size: u64,
    },
    /// Our log disagrees (an alarm was raised).
    Mismatch {
        /// Our log size.
        log_size: u64,
        /// Our root at the proposed size, when our log has that size.
        root: Option<B256>,
        /// What differs.
        reason: String,
    },
    /// The source chain is halted by a deep reorg; nothing is signed until an operator acts.
    Halted(String),
    /// The request cannot be served (unknown chain or destination, no such key, size 0).
    Refused {
        /// Whether the request itself is malformed (else: not served here).
        bad_request: bool,
        /// Explanation.
        message: String,
    },
}
