//! The proof bundle: one self-contained JSON document that proves one record on one
//! destination chain, with no access to any Evidence Bridge server.
//!
//! Read a bundle with [`ProofBundle::from_json`] (one JSON value, no key twice in an
//! object). Offline verification ([`ProofBundle::verify_offline`]) checks, in order:
//!
//! 1. `version` — this build reads versions 1 and 2 (a v1 bundle has no revocation);
//! 2. `destination` — an `eip155:<id>` chain with `0 < id < 2^64` written canonically,
//!    a nonzero mirror, `mirror_tx` and `mirror_block` both present or both absent;
//! 3. `attestors` — 1 to 255 distinct nonzero members, `1 <= threshold <= members`,
//!    a set version of at least 1;
//! 4. `record` — the record is well formed;
//! 5. `record_id` — recomputing the record id from the record gives `record_id`;
//! 6. `chain` — the checkpoint is of the record's source chain;
//! 7. `checkpoint` — the record's block is not after the checkpoint's source block, and
//!    if it is that block, the block hashes agree;
//! 8. `inclusion` — the RFC 6962 inclusion proof of the record id at `leaf_index`
//!    leads to the checkpoint's root at the checkpoint's size;
//! 9. `signatures` — at least `threshold` signatures over the checkpoint, made for
//!    this destination's chain id and mirror, by distinct members of the attestor set,
//!    sorted by address;
//! 10. `revocation` — when present: a well-formed `revoke` record of the same source
//!     chain, adapter, contract and submitter whose `ref` is `record_id`, after the
//!     record in log order, covered by the checkpoint (check 7), repeating the anchor's
//!     evidence as its adapter requires (see `docs/VERIFYING.md`), its id
//!     recomputed, and its own RFC 6962 inclusion proof against the same checkpoint. A
//!     bundle that passes with a revocation proves that the record WAS anchored and HAS
//!     BEEN revoked ([`ProofBundle::is_revoked`]); it must never be reported as plainly
//!     valid.
//!
//! 11. `timestamps` (v3) — not part of the checks above: each RFC 3161 token is
//!     checked on its own against the verifier's TSA roots
//!     ([`ProofBundle::verify_timestamps`]); a v1 or v2 bundle carries none.
//!
//! Checks 1–3 failing mean a malformed bundle ([`BundleError::is_malformed`]). Passing
//! them all proves the bundle consistent with ITSELF, not that its attestors are the
//! mirror's: a verifier pins those with a trust root ([`crate::trust`]).
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
    strict_json::{DocumentError, from_str_strict},
    timestamp::{Timestamp, TimestampError, TsaRoots, VerifiedTime, imprint_of, verify_token},
};

/// The proof bundle version this build writes.
pub const BUNDLE_VERSION: u64 = 3;

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
    /// Signatures the mirror requires (1 to the number of attestors, at most 255).
    #[schemars(range(min = 1, max = 255))]
    pub threshold: u8,
    /// Version of the attestor set on the mirror when it was read (1 = first set).
    #[schemars(range(min = 1))]
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
    /// Bundle format version: 3 (1 and 2 are still verified; 1 has no `revocation`,
    /// 1 and 2 have no `timestamps`).
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
    /// RFC 3161 timestamps of the checkpoint's EIP-712 signing hash for this
    /// destination ([`crate::timestamp`]), one per TSA; empty when none was stored.
    /// They are not covered by the attestors' signatures: each token stands on its
    /// TSA's signature ([`ProofBundle::verify_timestamps`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<Timestamp>,
}

/// The check a bundle failed, by name, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Unsupported bundle version.
    #[error(
        "check `version` failed: bundle version {0}, this build reads versions 1 to 3 (a v1 bundle cannot carry a revocation, a v1 or v2 bundle no timestamps)"
    )]
    Version(u64),
    /// The destination is not a well-formed EVM destination.
    #[error("check `destination` failed: {0}")]
    Destination(String),
    /// The attestor set the bundle names cannot be a mirror's set.
    #[error("check `attestors` failed: {0}")]
    Attestors(String),
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
    /// A record the checkpoint claims to cover lies after the checkpoint's source block,
    /// or in that block with another block hash.
    #[error("check `checkpoint` failed: {0}")]
    Checkpoint(String),
    /// The inclusion proof does not lead to the checkpoint root.
    #[error("check `inclusion` failed: {0}")]
    Inclusion(#[from] ProofError),
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
            Self::Destination(_) => "destination",
            Self::Attestors(_) => "attestors",
            Self::Record(_) => "record",
            Self::RecordId { .. } => "record_id",
            Self::Chain { .. } => "chain",
            Self::Checkpoint(_) => "checkpoint",
            Self::Inclusion(_) => "inclusion",
            Self::Signatures(_) => "signatures",
            Self::Revocation(_) => "revocation",
        }
    }

    /// Whether the bundle is malformed — it cannot have been written by any honest
    /// implementation, and no cryptography was needed to see it (`bridge verify` exits
    /// 2) — rather than well formed with a check that failed (exit 1).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::Version(_) | Self::Destination(_) | Self::Attestors(_)
        )
    }
}

/// The EIP-155 chain id of an `eip155` CAIP-2 id, strictly: a decimal `u64` greater
/// than zero written without leading zeros (`eip155:007` would hash to another
/// `keccak256(caip2)` key than `eip155:7`). The error says what is wrong.
pub fn strict_eip155_id(chain: &ChainId) -> Result<u64, String> {
    let reference = match chain.as_str().split_once(':') {
        Some(("eip155", reference)) => reference,
        _ => {
            return Err(format!(
                "{chain} is not an eip155 chain (the mirror is an EVM contract)"
            ));
        }
    };
    let id: u64 = reference.parse().map_err(|_| {
        format!("{chain}: the chain id {reference:?} is not a decimal number below 2^64")
    })?;
    if id == 0 {
        return Err(format!(
            "{chain}: chain id 0 is not a chain (EIP-155 ids start at 1)"
        ));
    }
    if id.to_string() != reference {
        return Err(format!(
            "{chain}: the chain id must be written without leading zeros (eip155:{id})"
        ));
    }
    Ok(id)
}

/// Checks an attestor set as the mirror's installer does (1 to 255 members, none zero,
/// none twice, 1 ≤ threshold ≤ members); the error names the offending address.
pub fn check_attestor_set(attestors: &[Address], threshold: u8) -> Result<(), String> {
    if attestors.is_empty() {
        return Err("the attestor set is empty".into());
    }
    if attestors.len() > usize::from(u8::MAX) {
        return Err(format!(
            "{} attestors; a mirror holds at most 255",
            attestors.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (index, a) in attestors.iter().enumerate() {
        if a.is_zero() {
            return Err(format!("attestor #{index} is the zero address"));
        }
        if !seen.insert(*a) {
            return Err(format!(
                "attestor {a} is listed twice (a mirror never holds a member twice)"
            ));
        }
    }
    if threshold == 0 || usize::from(threshold) > attestors.len() {
        return Err(format!(
            "threshold {threshold} is outside 1..={} (the number of attestors)",
            attestors.len()
        ));
    }
    Ok(())
}

impl ProofBundle {
    /// Parses a bundle strictly: one JSON value, no repeated key in any object, the
    /// fields of a bundle. (Unknown fields are ignored, so that a newer writer's
    /// optional additions stay readable; a changed encoding is a new version.)
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        from_str_strict(text, "proof bundle")
    }

    /// The EIP-712 domain of the destination mirror.
    pub fn mirror_domain(&self) -> Result<MirrorDomain, BundleError> {
        let chain_id =
            strict_eip155_id(&self.destination.chain).map_err(BundleError::Destination)?;
        Ok(MirrorDomain {
            chain_id,
            mirror: self.destination.mirror,
        })
    }

    /// Runs every check that needs no chain access; returns the verified signers.
    ///
    /// Passing proves the bundle is self-consistent: it does NOT prove that its signers
    /// are the mirror's attestors. Check that against a trust root
    /// ([`crate::trust::TrustRoot::check_bundle`]) or the mirror itself.
    pub fn verify_offline(&self) -> Result<Vec<Address>, BundleError> {
        if !(OLDEST_BUNDLE_VERSION..=BUNDLE_VERSION).contains(&self.version)
            || (self.version == 1 && self.revocation.is_some())
            || (self.version < 3 && !self.timestamps.is_empty())
        {
            return Err(BundleError::Version(self.version));
        }
        let domain = self.check_destination()?;
        self.record.validate()?;
        let computed = self.record.record_id();
        if computed != self.record_id {
            return Err(BundleError::RecordId {
                claimed: self.record_id,
                computed,
            });
        }
        if self.record.source.chain != self.checkpoint.source_chain {
            return Err(BundleError::Chain {
                record: self.record.source.chain.clone(),
                checkpoint: self.checkpoint.source_chain.clone(),
            });
        }
        self.check_covered("the record", &self.record)
            .map_err(BundleError::Checkpoint)?;
        verify_record_inclusion(
            &computed,
            self.leaf_index,
            self.checkpoint.size,
            &self.inclusion_proof,
            &self.checkpoint.root,
        )?;
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

    /// The 32 bytes the bundle's timestamps cover: the checkpoint's EIP-712 signing
    /// hash for the bundle's destination (the token's imprint is SHA-256 of them).
    pub fn timestamped_hash(&self) -> Result<B256, BundleError> {
        Ok(self.checkpoint.signing_hash(&self.mirror_domain()?))
    }

    /// Checks each of [`Self::timestamps`] against `roots`, in order: the verified
    /// time and TSA of each token, or why it fails. Pure; call it after
    /// [`Self::verify_offline`] (which proves the checkpoint the tokens cover).
    pub fn verify_timestamps(
        &self,
        roots: &TsaRoots,
    ) -> Result<Vec<Result<VerifiedTime, TimestampError>>, BundleError> {
        let imprint = imprint_of(&self.timestamped_hash()?);
        Ok(self
            .timestamps
            .iter()
            .map(|t| {
                let v = verify_token(&t.token, &imprint, roots)?;
                if v.gen_time != t.gen_time {
                    return Err(TimestampError::GenTime(format!(
                        "the bundle says {}, the token says {}",
                        crate::serde_time::to_rfc3339(t.gen_time),
                        crate::serde_time::to_rfc3339(v.gen_time)
                    )));
                }
                Ok(v)
            })
            .collect())
    }

    /// Whether the bundle carries a revocation of its record (meaningful once
    /// [`Self::verify_offline`] passed).
    pub fn is_revoked(&self) -> bool {
        self.revocation.is_some()
    }

    /// `destination` and `attestors`: the shape checks, before any hashing.
    fn check_destination(&self) -> Result<MirrorDomain, BundleError> {
        let d = &self.destination;
        let domain = self.mirror_domain()?;
        if d.mirror.is_zero() {
            return Err(BundleError::Destination(
                "the mirror address is zero".into(),
            ));
        }
        match (d.mirror_tx, d.mirror_block) {
            (Some(tx), None) => {
                return Err(BundleError::Destination(format!(
                    "mirror_tx {tx} is given without mirror_block: give both or neither"
                )));
            }
            (None, Some(block)) => {
                return Err(BundleError::Destination(format!(
                    "mirror_block {block} is given without mirror_tx: give both or neither"
                )));
            }
            _ => {}
        }
        if d.attestor_set_version == 0 {
            return Err(BundleError::Attestors(
                "attestor_set_version 0 means no set; versions start at 1".into(),
            ));
        }
        check_attestor_set(&d.attestors, d.threshold).map_err(BundleError::Attestors)?;
        Ok(domain)
    }

    /// A record a checkpoint covers was mined no later than the checkpoint's source
    /// block, and in that very block only if the block hashes agree.
    fn check_covered(&self, what: &str, record: &EvidenceRecord) -> Result<(), String> {
        let (s, cp) = (&record.source, &self.checkpoint);
        if s.block_number > cp.source_block_number {
            return Err(format!(
                "{what} is in source block {}, after the checkpoint's source block {}: the checkpoint cannot cover it",
                s.block_number, cp.source_block_number
            ));
        }
        if s.block_number == cp.source_block_number && s.block_hash != cp.source_block_hash {
            return Err(format!(
                "{what} is in source block {} with hash {}, the checkpoint's block {} has hash {}: they are on different forks",
                s.block_number, s.block_hash, cp.source_block_number, cp.source_block_hash
            ));
        }
        Ok(())
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
                rev.record
                    .reference
                    .map_or_else(|| "nothing".to_owned(), |r| r.to_string()),
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
        if rev.leaf_index <= self.leaf_index || rev.record.order_key() <= self.record.order_key() {
            return fail(format!(
                "the revocation (leaf {}, block {}, tx {}, log {}) is not after its anchor (leaf {}, block {}, tx {}, log {}) in log order: nothing can revoke a record before it exists",
                rev.leaf_index,
                rev.record.source.block_number,
                rev.record.source.tx_index,
                rev.record.source.log_index,
                self.leaf_index,
                self.record.source.block_number,
                self.record.source.tx_index,
                self.record.source.log_index,
            ));
        }
        self.check_covered("the revocation", &rev.record)
            .or_else(fail)?;
        check_revocation_evidence(&self.record, &rev.record).or_else(fail)?;
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

/// What a revocation must repeat of its anchor, per adapter (`docs/VERIFYING.md`):
///
/// - every adapter: the same adapter and the same source contract (a registry record is
///   revoked only by that registry, an attestation only by that EAS contract);
/// - `eas`: the whole `evidence` (digest, algorithm, kind, submitter, metadata), which
///   the adapter copies from the anchor record it rebuilds;
/// - `registry`: the digest and its algorithm, which `revoke(digestAlg, digest, ref,
///   kind)` restates; its `kind` is the revoker's own label (e.g. `withdrawn`), and its
///   `metadata` is always zero (the `Revoked` event has none);
/// - any other adapter (`mapped`, `bridge-receipts`) has no revocations.
fn check_revocation_evidence(
    anchor: &EvidenceRecord,
    revoke: &EvidenceRecord,
) -> Result<(), String> {
    let adapter = anchor.source.adapter.as_str();
    if revoke.source.adapter != anchor.source.adapter
        || revoke.source.contract != anchor.source.contract
    {
        return Err(format!(
            "the revocation comes from adapter `{}` contract {}, its anchor from adapter `{adapter}` contract {}: only the contract that anchored a record can revoke it",
            revoke.source.adapter, revoke.source.contract, anchor.source.contract
        ));
    }
    let (a, r) = (&anchor.evidence, &revoke.evidence);
    let differing = |fields: &[(&str, bool)]| -> Vec<String> {
        fields
            .iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| (*name).to_owned())
            .collect()
    };
    let differ = match adapter {
        EAS_ADAPTER => differing(&[
            ("digest_alg", a.digest_alg == r.digest_alg),
            ("digest", a.digest == r.digest),
            ("kind", a.kind == r.kind),
            ("submitter", a.submitter == r.submitter),
            ("metadata", a.metadata == r.metadata),
        ]),
        REGISTRY_ADAPTER => {
            let mut d = differing(&[
                ("digest_alg", a.digest_alg == r.digest_alg),
                ("digest", a.digest == r.digest),
            ]);
            if !r.metadata.is_zero() {
                d.push("metadata (a registry revocation has none)".to_owned());
            }
            d
        }
        other => {
            return Err(format!(
                "records of the `{other}` adapter are never revoked"
            ));
        }
    };
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the `{adapter}` revocation's evidence differs from its anchor's in {} (anchor digest {} {}, revocation digest {} {}): it does not revoke this evidence",
            differ.join(", "),
            a.digest_alg,
            a.digest,
            r.digest_alg,
            r.digest
        ))
    }
}

/// The adapter name of the `EvidenceRegistry` source (`source.adapter`).
pub const REGISTRY_ADAPTER: &str = "registry";
/// The adapter name of the Ethereum Attestation Service source.
pub const EAS_ADAPTER: &str = "eas";
