//! The destination side: reading and writing an `AnchorMirror` contract.
//!
//! Submission is split so the relayer can keep every step in its store and resume
//! after a crash at any point (prepare → send → confirm):
//! Two traits: [`MirrorReader`] (state, roots, attestor sets; no key) for verifiers and
//! read-only commands, and [`MirrorSubmitter`] (alias [`MirrorClient`]) on top of it for
//! the relayer's submit stage.
//!
//! - [`MirrorSubmitter::prepare_submission`] builds and signs the submission but does
//!   not send it; the relayer stores its id and opaque payload first
//!   ([`PreparedSubmission`]);
//! - [`MirrorSubmitter::send_raw`] broadcasts a stored payload (sending the same one
//!   twice is harmless: same id; EVM: same hash, same nonce);
//! - [`MirrorSubmitter::fetch_receipt`] tells whether it was mined and succeeded.

use std::fmt::Debug;

use alloy::primitives::{Address, B256, Bytes};
use async_trait::async_trait;
use evidence_schemas::{ChainId, attestor_set::SetAuthorization, checkpoint::SignedCheckpoint};
use serde::{Deserialize, Serialize};

use crate::error::AdapterError;

/// What a mirror holds for one source chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorState {
    /// Size of the latest accepted checkpoint (0 when none).
    pub latest_size: u64,
    /// Its root (zero when none).
    pub latest_root: B256,
    /// Source block number of the latest accepted checkpoint.
    pub latest_source_block: u64,
    /// The attestor set for the source chain.
    pub attestors: Vec<Address>,
    /// Signatures required.
    pub threshold: u8,
    /// Attestor-set version.
    pub attestor_set_version: u64,
    /// Destination block at which this was read.
    pub read_at_block: u64,
}

/// An attestor-set change the mirror's owner proposed through the timelock, not yet
/// executed or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOwnerRotation {
    /// The version the set would become.
    pub version: u64,
    /// The proposed members.
    pub attestors: Vec<Address>,
    /// The proposed threshold.
    pub threshold: u8,
    /// Unix time from which the owner can execute it.
    pub executable_at: u64,
}

/// One checkpoint a mirror accepted (EVM: a `CheckpointAccepted` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedCheckpoint {
    /// `keccak256` of the source chain's CAIP-2 id.
    pub source_key: B256,
    /// Log size.
    pub size: u64,
    /// Root.
    pub root: B256,
    /// Source block number of the checkpoint.
    pub source_block_number: u64,
    /// Source block hash of the checkpoint.
    pub source_block_hash: B256,
    /// Version of the attestor set that signed it.
    pub attestor_set_version: u64,
}

/// One change of a source's attestor set on a mirror (EVM: an `AttestorSetChanged`
/// event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestorSetChange {
    /// The new set version.
    pub version: u64,
    /// The new set, in the order given.
    pub attestors: Vec<Address>,
    /// The new threshold.
    pub threshold: u8,
    /// How it was installed.
    pub authorization: SetAuthorization,
    /// For a signed rotation: the previous set's signatures over the
    /// `AttestorSetUpdate`, sorted by signer (empty otherwise).
    pub signatures: Vec<Bytes>,
    /// Destination block of the change.
    pub block: u64,
    /// The submission (EVM: transaction) that made the change.
    pub tx_hash: B256,
}

/// A signed, not yet broadcast, submission, opaque to the relayer: it stores `id` and
/// `payload` as they are, sends the payload back to the submitter that made it (to
/// broadcast it again, to replace it, to ask whether it can still be mined) and shows
/// `summary` in logs. What the payload holds is the chain family's business: for EVM
/// the raw signed transaction with its nonce and fees
/// ([`EvmTxPayload`](crate::evm_mirror::EvmTxPayload)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedSubmission {
    /// Its id on the destination chain (EVM: the transaction hash), by which
    /// [`MirrorSubmitter::fetch_receipt`] finds it.
    pub id: B256,
    /// The family-encoded submission, read only by the submitter.
    pub payload: Bytes,
    /// One line for logs (EVM: nonce and fees).
    pub summary: String,
}

/// Outcome of a mined transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxOutcome {
    /// Whether it succeeded.
    pub success: bool,
    /// Block number it was mined in.
    pub block_number: u64,
    /// Gas used.
    pub gas_used: u64,
}

/// Reading one `AnchorMirror` on one destination chain: what verifiers, lookups and
/// watchers need. Implementations hold no key.
#[async_trait]
pub trait MirrorReader: Send + Sync + Debug {
    /// The destination chain.
    fn chain(&self) -> &ChainId;

    /// The mirror contract's address.
    fn mirror(&self) -> Address;

    /// The mirror's state for `source`.
    async fn fetch_state(&self, source: &ChainId) -> Result<MirrorState, AdapterError>;

    /// The mirror's state for `source` as of destination block `block` (latest when
    /// `None`): e.g. the attestor set that accepted a checkpoint, which a proof bundle
    /// must name even after a rotation.
    async fn fetch_state_as_of(
        &self,
        source: &ChainId,
        block: Option<u64>,
    ) -> Result<MirrorState, AdapterError>;

    /// The owner's pending attestor-set proposal for `source` (`None` when none).
    async fn fetch_pending_owner_rotation(
        &self,
        source: &ChainId,
    ) -> Result<Option<PendingOwnerRotation>, AdapterError>;

    /// The root the mirror holds for `source` at `size` (zero when none).
    async fn fetch_root_at(&self, source: &ChainId, size: u64) -> Result<B256, AdapterError>;

    /// Asks the mirror's `verifyRecord`.
    async fn verify_record(
        &self,
        source: &ChainId,
        size: u64,
        record_id: B256,
        index: u64,
        proof: &[B256],
    ) -> Result<bool, AdapterError>;

    /// The mirror's owner (who installs first sets and proposes timelocked ones).
    async fn fetch_owner(&self) -> Result<Address, AdapterError>;

    /// The owner-rotation timelock of the mirror, in seconds.
    async fn fetch_owner_rotation_delay(&self) -> Result<u64, AdapterError>;

    /// Every change of `source`'s attestor set on the mirror, oldest first.
    async fn fetch_attestor_set_history(
        &self,
        source: &ChainId,
    ) -> Result<Vec<AttestorSetChange>, AdapterError>;

    /// The checkpoints the mirror accepted in submission `id` (EVM: a transaction
    /// hash), with the destination block it was included in (`None` when the
    /// submission is unknown or not included).
    async fn fetch_accepted_in_tx(
        &self,
        id: B256,
    ) -> Result<Option<(u64, Vec<AcceptedCheckpoint>)>, AdapterError>;
}

/// Submitting checkpoints to one `AnchorMirror` (prepare → send → confirm), on top of
/// reading it: what a relaying route holds. The chain family's transaction details
/// (EVM nonce and fees) stay inside [`PreparedSubmission::payload`]: replacing a stuck
/// submission and telling a dropped one are the submitter's job.
#[async_trait]
pub trait MirrorSubmitter: MirrorReader {
    /// Builds and signs (does not send) a `submitCheckpoint` submission. When
    /// `replace` is given, builds one that replaces it (EVM: same nonce, fees bumped
    /// enough for the mempool to take it).
    async fn prepare_submission(
        &self,
        checkpoint: &SignedCheckpoint,
        consistency_proof: &[B256],
        replace: Option<&PreparedSubmission>,
    ) -> Result<PreparedSubmission, AdapterError>;

    /// Broadcasts a prepared submission. "Already known" is success; so is sending
    /// the same payload twice.
    async fn send_raw(&self, submission: &PreparedSubmission) -> Result<(), AdapterError>;

    /// The receipt of a submission (by [`PreparedSubmission::id`]), `None` while it is
    /// not mined.
    async fn fetch_receipt(&self, id: B256) -> Result<Option<TxOutcome>, AdapterError>;

    /// Why `submission` can never be mined any more (EVM: its nonce was used by
    /// another mined transaction of the sender), `None` while it still can. Asked only
    /// after neither it nor the submissions it replaced has a receipt.
    async fn fetch_unmineable(
        &self,
        submission: &PreparedSubmission,
    ) -> Result<Option<String>, AdapterError>;
}

/// The name the relayer uses for a route's mirror: a [`MirrorSubmitter`] (which is also
/// a [`MirrorReader`]).
pub use self::MirrorSubmitter as MirrorClient;
