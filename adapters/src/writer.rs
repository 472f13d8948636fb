//! Writing to our contracts outside the relaying pipeline: anchoring and revoking on a
//! source chain's registry ([`RegistryWriter`]), and administering a destination
//! mirror's attestor sets ([`MirrorAdmin`]).
//!
//! Commands (`bridge anchor`, `bridge revoke`, `bridge mirror …`) and the API's anchor
//! endpoint hold these traits only; the one place that builds them from a chain's
//! configuration is `bridge/src/context.rs`. Each is bound to one chain, one contract
//! and one signing key, and each write waits until it is included, failing with
//! [`AdapterError::Reverted`] (naming the contract's error) when the contract refuses
//! it. Submission ids are `B256` (EVM: the transaction hash). The EVM implementations
//! are in [`crate::evm_writer`].

use std::fmt::Debug;

use alloy::primitives::{Address, B256, Bytes};
use async_trait::async_trait;
use evidence_schemas::{ChainId, DigestAlgorithm, EvidenceRecord, Label, attestor_set::SetUpdate};

use crate::error::AdapterError;

/// An `anchor` or `revoke` that was included, with the record the `registry` source
/// adapter produces for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorReceipt {
    /// Submission id (EVM: transaction hash).
    pub tx_hash: B256,
    /// Block number.
    pub block_number: u64,
    /// Position of the event in its block (EVM: log index).
    pub log_index: u64,
    /// The event's registry sequence number.
    pub seq: u64,
    /// The record, exactly as the source adapter decodes it.
    pub record: EvidenceRecord,
}

/// Anchoring and revoking on one chain's evidence registry, with one key.
#[async_trait]
pub trait RegistryWriter: Send + Sync + Debug {
    /// Anchors `digest` (with its algorithm, kind and metadata) and returns the record.
    async fn anchor(
        &self,
        digest_alg: DigestAlgorithm,
        digest: B256,
        kind: &Label,
        metadata: B256,
    ) -> Result<AnchorReceipt, AdapterError>;

    /// Revokes the anchor record `reference` (restating its digest and kind) and
    /// returns the revocation record.
    async fn revoke(
        &self,
        digest_alg: DigestAlgorithm,
        digest: B256,
        reference: B256,
        kind: &Label,
    ) -> Result<AnchorReceipt, AdapterError>;
}

/// Changing the attestor sets of one destination mirror, with one key (the owner's for
/// the first set and the timelock; any payer for the set-signed changes).
#[async_trait]
pub trait MirrorAdmin: Send + Sync + Debug {
    /// Installs `source`'s first set (owner only).
    async fn set_attestors(
        &self,
        source: &ChainId,
        attestors: &[Address],
        threshold: u8,
    ) -> Result<B256, AdapterError>;

    /// Installs the next set, authorized by `signatures` of the current set's
    /// threshold over `update` (sorted by signer).
    async fn rotate_attestors(
        &self,
        update: &SetUpdate,
        signatures: Vec<Bytes>,
    ) -> Result<B256, AdapterError>;

    /// Proposes a set for `source` through the owner's timelock (owner only).
    async fn propose_owner_rotation(
        &self,
        source: &ChainId,
        attestors: &[Address],
        threshold: u8,
    ) -> Result<B256, AdapterError>;

    /// Executes the owner's pending proposal for `source` once its timelock passed.
    async fn execute_owner_rotation(&self, source: &ChainId) -> Result<B256, AdapterError>;

    /// Cancels the owner's pending proposal for `source`, authorized by `signatures` of
    /// the current set's threshold.
    async fn cancel_owner_rotation(
        &self,
        source: &ChainId,
        signatures: Vec<Bytes>,
    ) -> Result<B256, AdapterError>;
}
