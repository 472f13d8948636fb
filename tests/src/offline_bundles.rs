//! Proof bundles and trust roots built offline, with fixed keys, for the `bridge verify`
//! tests that need no chain: genuine bundles, self-signed forgeries, signed rotations
//! and owner-installed sets.
//!
//! Key `n` is 32 bytes of `n` (public test keys, as in `schemas/tests/common`). The
//! destination is `eip155:31338`, mirror `0xe7f1…0512`, the source `eip155:31337`.

use alloy::{
    primitives::{Address, B256, Bytes, address},
    signers::{SignerSync, local::PrivateKeySigner},
};
use anyhow::Context as _;
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, ProofBundle, SourceLocator,
    attestor_set::{SetAuthorization, SetUpdate},
    bundle::{BUNDLE_VERSION, Destination, Revocation},
    checkpoint::{Checkpoint, MirrorDomain},
    log::MerkleLog,
    trust::{
        TRUST_ROOT_MEDIA_TYPE, TRUST_ROOT_VERSION, TrustRoot, TrustedMirror, TrustedSet,
        TrustedSource,
    },
};

use crate::attest::sign_checkpoint;

/// The destination mirror of every fixture.
pub const MIRROR: Address = address!("e7f1725E7734CE288F8367e1Bb143E90bb3F0512");
/// The destination chain id.
pub const DEST_CHAIN_ID: u64 = 31338;

/// The fixtures' EIP-712 domain.
pub fn domain() -> MirrorDomain {
    MirrorDomain {
        chain_id: DEST_CHAIN_ID,
        mirror: MIRROR,
    }
}

/// The fixtures' source chain.
pub fn source_chain() -> ChainId {
    ChainId::eip155(31337)
}

/// Keys `ns` (key `n` is 32 bytes of `n`).
///
/// # Errors
/// When `n` is 0 (not a key).
pub fn keys(ns: &[u8]) -> anyhow::Result<Vec<PrivateKeySigner>> {
    ns.iter()
        .map(|&n| {
            PrivateKeySigner::from_bytes(&B256::repeat_byte(n)).with_context(|| format!("key {n}"))
        })
        .collect()
}

/// Addresses of `keys`, ascending.
pub fn addresses(keys: &[PrivateKeySigner]) -> Vec<Address> {
    let mut a: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    a.sort();
    a
}

/// A record of `adapter` in source block `block` with evidence `digest` by `submitter`.
///
/// # Errors
/// When `adapter` is not a label.
pub fn record(
    adapter: &str,
    block: u64,
    log_index: u64,
    digest: B256,
    submitter: Address,
) -> anyhow::Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        version: 1,
        source: SourceLocator {
            chain: source_chain(),
            adapter: Label::parse("adapter", adapter)?,
            contract: Address::repeat_byte(0x5f),
            block_number: block,
            block_hash: block_hash(block),
            tx_hash: DigestAlgorithm::Keccak256
                .digest(&[&block.to_be_bytes()[..], &log_index.to_be_bytes()].concat()),
            tx_index: 0,
            log_index,
            block_timestamp: 1_767_225_600 + block,
        },
        action: Action::Anchor,
        reference: None,
        evidence: Evidence {
            digest_alg: DigestAlgorithm::Sha256,
            digest,
            kind: Label::parse("kind", "iou")?,
            submitter,
            metadata: B256::ZERO,
        },
    })
}

/// The revocation of `anchor`, in source block `block`, repeating its evidence.
pub fn revoke_of(anchor: &EvidenceRecord, block: u64) -> EvidenceRecord {
    let mut r = anchor.clone();
    r.source.block_number = block;
    r.source.block_hash = block_hash(block);
    r.source.tx_hash = DigestAlgorithm::Keccak256.digest(&block.to_be_bytes());
    r.source.block_timestamp = 1_767_225_600 + block;
    r.action = Action::Revoke;
    r.reference = Some(anchor.record_id());
    r
}

/// The hash the fixtures give source block `n`.
pub fn block_hash(n: u64) -> B256 {
    DigestAlgorithm::Keccak256.digest(&n.to_be_bytes())
}

/// What a bundle claims about its attestor set.
#[derive(Debug, Clone)]
pub struct ClaimedSet {
    /// Members the bundle lists.
    pub attestors: Vec<Address>,
    /// Its threshold.
    pub threshold: u8,
    /// Its version.
    pub version: u64,
}

/// A bundle of `records[index]` (revoked by `records[revoked_by]` when given) in a
/// checkpoint of all `records` at source block `source_block`, signed by `signers`.
///
/// # Errors
/// When an index is out of range or signing fails.
pub fn bundle_of(
    records: &[EvidenceRecord],
    index: usize,
    revoked_by: Option<usize>,
    source_block: u64,
    signers: &[PrivateKeySigner],
    set: ClaimedSet,
) -> anyhow::Result<ProofBundle> {
    let ids: Vec<B256> = records.iter().map(EvidenceRecord::record_id).collect();
    let log = MerkleLog::from_record_ids(&ids);
    let checkpoint = Checkpoint {
        source_chain: source_chain(),
        size: log.size(),
        root: log.root()?,
        source_block_number: source_block,
        source_block_hash: block_hash(source_block),
    };
    let leaf = |i: usize| -> anyhow::Result<(EvidenceRecord, B256, u64, Vec<B256>)> {
        let r = records.get(i).context("record index")?.clone();
        let at = u64::try_from(i)?;
        Ok((r, ids[i], at, log.inclusion_proof(at, log.size())?))
    };
    let (record, record_id, leaf_index, inclusion_proof) = leaf(index)?;
    let revocation = revoked_by
        .map(|i| {
            leaf(i).map(
                |(record, record_id, leaf_index, inclusion_proof)| Revocation {
                    record,
                    record_id,
                    leaf_index,
                    inclusion_proof,
                },
            )
        })
        .transpose()?;
    Ok(ProofBundle {
        version: BUNDLE_VERSION,
        record,
        record_id,
        leaf_index,
        inclusion_proof,
        signatures: sign_checkpoint(&checkpoint, &domain(), signers)?,
        checkpoint,
        destination: Destination {
            chain: ChainId::eip155(DEST_CHAIN_ID),
            mirror: MIRROR,
            attestors: set.attestors,
            threshold: set.threshold,
            attestor_set_version: set.version,
            read_at_block: 2_000,
            mirror_tx: Some(B256::repeat_byte(0x77)),
            mirror_block: Some(2_000),
        },
        revocation,
        timestamps: Vec::new(),
    })
}

/// A never-anchored document's bundle: a one-leaf log, a checkpoint over it, signed by
/// two fresh keys that the bundle itself lists as set `version` (2 of 2).
///
/// # Errors
/// When signing fails.
pub fn self_signed_forgery(version: u64) -> anyhow::Result<ProofBundle> {
    let forgers = keys(&[0xf1, 0xf2])?;
    let doc = DigestAlgorithm::Sha256.digest(b"an IOU nobody ever anchored");
    let record = record("registry", 10, 0, doc, Address::repeat_byte(0x99))?;
    bundle_of(
        &[record],
        0,
        None,
        10,
        &forgers,
        ClaimedSet {
            attestors: addresses(&forgers),
            threshold: 2,
            version,
        },
    )
}

/// Set `version` installed by `authorization`, unpinned, with no signatures.
pub fn set(
    version: u64,
    members: &[PrivateKeySigner],
    threshold: u8,
    authorization: SetAuthorization,
) -> TrustedSet {
    TrustedSet {
        version,
        attestors: addresses(members),
        threshold,
        effective_block: 100 * version,
        tx_hash: None,
        authorization,
        signatures: Vec::new(),
        pinned: false,
    }
}

/// Set `version`, signed by `signers` (of the previous version) over its
/// `AttestorSetUpdate` for the fixtures' mirror.
///
/// # Errors
/// When signing fails.
pub fn rotation(
    version: u64,
    members: &[PrivateKeySigner],
    threshold: u8,
    signers: &[PrivateKeySigner],
) -> anyhow::Result<TrustedSet> {
    let mut s = set(
        version,
        members,
        threshold,
        SetAuthorization::SignedRotation,
    );
    let hash = SetUpdate {
        source_chain: source_chain(),
        new_version: version,
        attestors: s.attestors.clone(),
        threshold,
    }
    .signing_hash(&domain());
    let mut sorted: Vec<&PrivateKeySigner> = signers.iter().collect();
    sorted.sort_by_key(|k| k.address());
    s.signatures = sorted
        .into_iter()
        .map(|k| {
            k.sign_hash_sync(&hash)
                .map(|sig| Bytes::from(sig.as_bytes().to_vec()))
        })
        .collect::<Result<_, _>>()?;
    Ok(s)
}

/// A trust root of the fixtures' mirror and source with `sets`.
pub fn trust_root(sets: Vec<TrustedSet>) -> TrustRoot {
    TrustRoot {
        media_type: TRUST_ROOT_MEDIA_TYPE.to_owned(),
        version: TRUST_ROOT_VERSION,
        exported_at: None,
        mirrors: vec![TrustedMirror {
            chain: ChainId::eip155(DEST_CHAIN_ID),
            mirror: MIRROR,
            owner_rotation_delay_secs: None,
            sources: vec![TrustedSource {
                source_chain: source_chain(),
                sets,
            }],
        }],
        tsa_roots: Vec::new(),
    }
}
