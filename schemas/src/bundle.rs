//! The proof bundle: one self-contained JSON document that proves one record on one
//! destination chain, with no access to any Evidence Bridge server.
//!
//! Offline verification ([`ProofBundle::verify_offline`]) checks, in order:
//!
//! 1. `version` — this build reads version 1;
//! 2. `record` — the record is well formed;
//! 3. `record_id` — recomputing the record id from the record gives `record_id`;
//! 4. `chain` — the checkpoint is of the record's source chain;
//! 5. `inclusion` — the RFC 6962 inclusion proof of the record id at `leaf_index`
//!    leads to the checkpoint's root at the checkpoint's size;
//! 6. `signatures` — at least `threshold` signatures over the checkpoint, made for
//!    this destination's chain id and mirror, by distinct members of the attestor set,
//!    sorted by address.
//!
//! Online verification (the CLI, with a config) additionally asks the destination's
//! mirror contract `verifyRecord` and reads its attestor set.

use alloy_primitives::{Address, B256};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    chain::ChainId,
    checkpoint::{AttestorSignature, Checkpoint, MirrorDomain, SignatureError, verify_signatures},
    error::SchemaError,
    log::{ProofError, verify_record_inclusion},
    record::{EvidenceRecord, RecordId},
};

/// The current proof bundle version.
pub const BUNDLE_VERSION: u64 = 1;

/// The destination a bundle proves the record on, and the trust it was checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Destination {
    /// CAIP-2 id of the destination chain (an `eip155` chain).
    pub chain: ChainId,
    /// Address of the `AnchorMirror` contract on it.
    #[schemars(schema_with = "crate::json_schema::address")]
    pub mirror: Address,
    /// The mirror's attestor set for the source chain, as read from the mirror.
    #[schemars(schema_with = "crate::json_schema::address_list")]
    pub attestors: Vec<Address>,
    /// Signatures the mirror requires.
    pub threshold: u8,
    /// Version of the attestor set on the mirror when it was read.
    pub attestor_set_version: u64,
    /// Destination block at which the attestor set was read.
    pub read_at_block: u64,
    /// Transaction that submitted the checkpoint to the mirror, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::json_schema::optional_hex32")]
    pub mirror_tx: Option<B256>,
    /// Block of that transaction, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_block: Option<u64>,
}

/// A self-contained proof that one record is in a checkpoint mirrored on a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProofBundle {
    /// Bundle format version; 1.
    pub version: u64,
    /// The record.
    pub record: EvidenceRecord,
    /// Its record id (recomputed by verifiers).
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub record_id: RecordId,
    /// Position of the record in its source chain's log.
    pub leaf_index: u64,
    /// RFC 6962 inclusion proof of the record at `leaf_index` in a tree of
    /// `checkpoint.size` leaves.
    #[schemars(schema_with = "crate::json_schema::hex32_list")]
    pub inclusion_proof: Vec<B256>,
    /// The checkpoint covering the record.
    pub checkpoint: Checkpoint,
    /// Attestor signatures over the checkpoint for this destination.
    pub signatures: Vec<AttestorSignature>,
    /// The destination and its attestor set.
    pub destination: Destination,
}

/// The check a bundle failed, by name, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Unsupported bundle version.
    #[error("check `version` failed: bundle version {0}, this build reads version 1")]
    Version(u64),
    /// The record is malformed.
    #[error("check `record` failed: {0}")]
    Record(#[from] SchemaError),
    /// The record id does not match the record.
    #[error("check `record_id` failed: bundle says {claimed}, the record hashes to {computed}")]
    RecordId {
        /// Id in the bundle.
        claimed: B256,
        /// Id recomputed from the record.
        computed: B256,
    },
    /// The checkpoint is of another chain than the record.
    #[error("check `chain` failed: record is from {record}, checkpoint is of {checkpoint}")]
    Chain {
        /// Record's chain.
        record: ChainId,
        /// Checkpoint's chain.
        checkpoint: ChainId,
    },
    /// The inclusion proof does not lead to the checkpoint root.
    #[error("check `inclusion` failed: {0}")]
    Inclusion(#[from] ProofError),
    /// The destination is not an EVM chain.
    #[error("check `destination` failed: {0} is not an eip155 chain")]
    Destination(ChainId),
    /// The signatures do not meet the destination's rules.
    #[error("check `signatures` failed: {0}")]
    Signatures(#[from] SignatureError),
}

impl BundleError {
    /// The short name of the failed check (`record_id`, `inclusion`, …).
    pub fn check(&self) -> &'static str {
        match self {
            Self::Version(_) => "version",
            Self::Record(_) => "record",
            Self::RecordId { .. } => "record_id",
            Self::Chain { .. } => "chain",
            Self::Inclusion(_) => "inclusion",
            Self::Destination(_) => "destination",
            Self::Signatures(_) => "signatures",
        }
    }
}

impl ProofBundle {
    /// The EIP-712 domain of the destination mirror.
    pub fn mirror_domain(&self) -> Result<MirrorDomain, BundleError> {
        let chain_id = self
            .destination
            .chain
            .eip155_id()
            .ok_or_else(|| BundleError::Destination(self.destination.chain.clone()))?;
        Ok(MirrorDomain { chain_id, mirror: self.destination.mirror })
    }

    /// Runs every check that needs no chain access; returns the verified signers.
    pub fn verify_offline(&self) -> Result<Vec<Address>, BundleError> {
        if self.version != BUNDLE_VERSION {
            return Err(BundleError::Version(self.version));
        }
        self.record.validate()?;
        let computed = self.record.record_id();
        if computed != self.record_id {
            return Err(BundleError::RecordId { claimed: self.record_id, computed });
        }
        if self.record.source.chain != self.checkpoint.source_chain {
            return Err(BundleError::Chain {
                record: self.record.source.chain.clone(),
                checkpoint: self.checkpoint.source_chain.clone(),
            });
        }
        verify_record_inclusion(
            &computed,
            self.leaf_index,
            self.checkpoint.size,
            &self.inclusion_proof,
            &self.checkpoint.root,
        )?;
        let domain = self.mirror_domain()?;
        Ok(verify_signatures(
            &self.checkpoint,
            &domain,
            &self.signatures,
            &self.destination.attestors,
            self.destination.threshold,
        )?)
    }
}
