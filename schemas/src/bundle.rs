//! The proof bundle: one self-contained JSON document that proves one record on one
//! destination chain, with no access to any Evidence Bridge server.
//!
//! Offline verification ([`ProofBundle::verify_offline`]) checks, in order:
//!
//! 1. `version` — this build reads versions 1 and 2 (a v1 bundle has no revocation);
//! 2. `record` — the record is well formed;
//! 3. `record_id` — recomputing the record id from the record gives `record_id`;
//! 4. `chain` — the checkpoint is of the record's source chain;
//! 5. `inclusion` — the RFC 6962 inclusion proof of the record id at `leaf_index`
//!    leads to the checkpoint's root at the checkpoint's size;
//! 6. `signatures` — at least `threshold` signatures over the checkpoint, made for
//!    this destination's chain id and mirror, by distinct members of the attestor set,
//!    sorted by address;
//! 7. `revocation` — when present: a well-formed `revoke` record of the same source
//!    chain and submitter whose `ref` is `record_id`, its id recomputed, and its own
//!    RFC 6962 inclusion proof against the same checkpoint. A bundle that passes with
//!    a revocation proves that the record WAS anchored and HAS BEEN revoked
//!    ([`ProofBundle::is_revoked`]); it must never be reported as plainly valid.
//!
//! Online verification (the CLI, with a config) additionally asks the destination's
//! mirror contract `verifyRecord` and `rootAt`, re-reads the attestor set at
//! `read_at_block`, checks the `CheckpointAccepted` event of `mirror_tx`, and re-reads
//! the source chain's transaction receipt of the record (and of the revocation).

use alloy_primitives::{Address, B256};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    chain::ChainId,
    checkpoint::{AttestorSignature, Checkpoint, MirrorDomain, SignatureError, verify_signatures},
    error::SchemaError,
    log::{ProofError, verify_record_inclusion},
    record::{Action, EvidenceRecord, RecordId},
};

/// The proof bundle version this build writes.
pub const BUNDLE_VERSION: u64 = 2;

/// The oldest bundle version this build still verifies.
pub const OLDEST_BUNDLE_VERSION: u64 = 1;

/// The revocation of the bundle's record, proven against the same checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Revocation {
    /// The `revoke` record (its `ref` is the bundle's `record_id`).
    pub record: EvidenceRecord,
    /// Its record id (recomputed by verifiers).
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub record_id: RecordId,
    /// Its position in the source chain's log.
    pub leaf_index: u64,
    /// RFC 6962 inclusion proof of the revocation at `leaf_index` in a tree of
    /// `checkpoint.size` leaves (the bundle's checkpoint).
    #[schemars(schema_with = "crate::json_schema::hex32_list")]
    pub inclusion_proof: Vec<B256>,
}

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
    /// Bundle format version: 2 (1 is still verified; it has no `revocation`).
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
    /// Present when the record is revoked: the revocation and its proof. Absent means
    /// no revocation was covered by the checkpoint when the bundle was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

/// The check a bundle failed, by name, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Unsupported bundle version.
    #[error("check `version` failed: bundle version {0}, this build reads versions 1 and 2 (a v1 bundle cannot carry a revocation)")]
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
    /// The revocation section does not prove a revocation of this record.
    #[error("check `revocation` failed: {0}")]
    Revocation(String),
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
            Self::Revocation(_) => "revocation",
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
        if !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&self.version)
            || (self.version == 1 && self.revocation.is_some())
        {
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
        let signers = verify_signatures(
            &self.checkpoint,
            &domain,
            &self.signatures,
            &self.destination.attestors,
            self.destination.threshold,
        )?;
        if let Some(rev) = &self.revocation {
            self.verify_revocation(rev)?;
        }
        Ok(signers)
    }

    /// Whether the bundle carries a revocation of its record (meaningful once
    /// [`Self::verify_offline`] passed).
    pub fn is_revoked(&self) -> bool {
        self.revocation.is_some()
    }

    fn verify_revocation(&self, rev: &Revocation) -> Result<(), BundleError> {
        let fail = |m: String| Err(BundleError::Revocation(m));
        if let Err(e) = rev.record.validate() {
            return fail(format!("the revocation record is malformed: {e}"));
        }
        if rev.record.action != Action::Revoke {
            return fail("the revocation record's action is not `revoke`".into());
        }
        if rev.record.reference != Some(self.record_id) {
            return fail(format!(
                "the revocation refers to {}, not to this record {}",
                rev.record.reference.map_or_else(|| "nothing".to_owned(), |r| r.to_string()),
                self.record_id
            ));
        }
        if rev.record.source.chain != self.record.source.chain {
            return fail(format!(
                "the revocation is from {}, the record from {}",
                rev.record.source.chain, self.record.source.chain
            ));
        }
        if rev.record.evidence.submitter != self.record.evidence.submitter {
            return fail(format!(
                "the revocation was submitted by {}, the record by {}: only the submitter can revoke",
                rev.record.evidence.submitter, self.record.evidence.submitter
            ));
        }
        let computed = rev.record.record_id();
        if computed != rev.record_id {
            return fail(format!(
                "revocation record_id is {}, the revocation record hashes to {computed}",
                rev.record_id
            ));
        }
        verify_record_inclusion(
            &computed,
            rev.leaf_index,
            self.checkpoint.size,
            &rev.inclusion_proof,
            &self.checkpoint.root,
        )
        .or_else(|e| fail(format!("the revocation's inclusion proof: {e}")))
    }
}
