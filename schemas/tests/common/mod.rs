//! Fixtures shared by the schemas integration tests: fixed attestor keys, records, a
//! log, signed checkpoints, bundles and trust roots with signed rotations.
//!
//! Keys are `0x0101…01`, `0x0202…02`, … (key `n` is 32 bytes of `n`): public test keys,
//! so that the worked vectors in `docs/VERIFYING.md` can be recomputed by anyone.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, ProofBundle, SourceLocator,
    attestor_set::{SetAuthorization, SetUpdate},
    bundle::{BUNDLE_VERSION, Destination},
    checkpoint::{AttestorSignature, Checkpoint, MirrorDomain},
    log::MerkleLog,
    trust::{
        TRUST_ROOT_MEDIA_TYPE, TRUST_ROOT_VERSION, TrustRoot, TrustedMirror, TrustedSet,
        TrustedSource,
    },
};

/// The sample destination: chain `eip155:31338`, the devnet's mirror address.
pub const DEST_CHAIN_ID: u64 = 31338;
/// The sample mirror.
pub const MIRROR: Address = address!("e7f1725E7734CE288F8367e1Bb143E90bb3F0512");
/// The sample source chain.
pub fn source_chain() -> ChainId {
    ChainId::eip155(31337)
}
/// The sample destination chain.
pub fn dest_chain() -> ChainId {
    ChainId::eip155(DEST_CHAIN_ID)
}
/// The sample mirror's EIP-712 domain.
pub fn domain() -> MirrorDomain {
    MirrorDomain {
        chain_id: DEST_CHAIN_ID,
        mirror: MIRROR,
    }
}

/// Key `n`: 32 bytes of `n` (1 ≤ n ≤ 200).
pub fn key(n: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(n)).unwrap()
}
/// Keys `ns`, in the order given.
pub fn keys(ns: &[u8]) -> Vec<PrivateKeySigner> {
    ns.iter().map(|&n| key(n)).collect()
}
/// Their addresses, ascending.
pub fn addresses(keys: &[PrivateKeySigner]) -> Vec<Address> {
    let mut a: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    a.sort();
    a
}
/// A 65-byte `r ‖ s ‖ v` signature of `hash` (deterministic, RFC 6979).
pub fn sign(hash: &B256, key: &PrivateKeySigner) -> Bytes {
    Bytes::from(key.sign_hash_sync(hash).unwrap().as_bytes().to_vec())
}
/// Signatures of every key over `hash`, sorted by signer (the mirror's order).
pub fn sign_sorted(hash: &B256, signers: &[PrivateKeySigner]) -> Vec<(Address, Bytes)> {
    let mut sorted: Vec<&PrivateKeySigner> = signers.iter().collect();
    sorted.sort_by_key(|k| k.address());
    sorted
        .into_iter()
        .map(|k| (k.address(), sign(hash, k)))
        .collect()
}

/// The README's worked record (leaf 1 of the sample log).
pub fn readme_record() -> EvidenceRecord {
    record(
        42,
        1,
        3,
        DigestAlgorithm::Sha256.digest(b"test"),
        address!("70997970c51812dc3a010c7d01b50e0d17dc79c8"),
    )
}

/// A registry anchor record in block `block` (hash `0x11…` for block 42, else derived).
pub fn record(
    block: u64,
    tx_index: u64,
    log_index: u64,
    digest: B256,
    submitter: Address,
) -> EvidenceRecord {
    EvidenceRecord {
        version: 1,
        source: SourceLocator {
            chain: source_chain(),
            adapter: Label::parse("adapter", "registry").unwrap(),
            contract: address!("5fbdb2315678afecb367f032d93f642f64180aa3"),
            block_number: block,
            block_hash: block_hash(block),
            tx_hash: if block == 42 {
                B256::repeat_byte(0x22)
            } else {
                DigestAlgorithm::Keccak256.digest(&[block as u8, tx_index as u8, 1])
            },
            tx_index,
            log_index,
            block_timestamp: 1_767_225_600 + block * 2 - 84,
        },
        action: Action::Anchor,
        reference: None,
        evidence: Evidence {
            digest_alg: DigestAlgorithm::Sha256,
            digest,
            kind: Label::parse("kind", "iou").unwrap(),
            submitter,
            metadata: B256::ZERO,
        },
    }
}

/// The hash the fixtures give block `n`.
pub fn block_hash(n: u64) -> B256 {
    if n == 42 {
        B256::repeat_byte(0x11)
    } else {
        DigestAlgorithm::Keccak256.digest(&n.to_be_bytes())
    }
}

/// The sample log's three records: leaf 0 (block 40), leaf 1 (the README record,
/// block 42), leaf 2 (block 45).
pub fn sample_records() -> Vec<EvidenceRecord> {
    let submitter = address!("70997970c51812dc3a010c7d01b50e0d17dc79c8");
    vec![
        record(
            40,
            0,
            0,
            DigestAlgorithm::Sha256.digest(b"first"),
            submitter,
        ),
        readme_record(),
        record(
            45,
            2,
            5,
            DigestAlgorithm::Sha256.digest(b"third"),
            submitter,
        ),
    ]
}

/// A bundle of `records[index]` in a checkpoint of all `records` at source block
/// `source_block`, signed for the sample destination by `signers` and listing
/// `attestors`/`threshold`/`version` as its set.
pub fn bundle_of(
    records: &[EvidenceRecord],
    index: u64,
    source_block: u64,
    signers: &[PrivateKeySigner],
    attestors: Vec<Address>,
    threshold: u8,
    version: u64,
) -> ProofBundle {
    let ids: Vec<B256> = records.iter().map(EvidenceRecord::record_id).collect();
    let log = MerkleLog::from_record_ids(&ids);
    let checkpoint = Checkpoint {
        source_chain: records[0].source.chain.clone(),
        size: log.size(),
        root: log.root().unwrap(),
        source_block_number: source_block,
        source_block_hash: block_hash(source_block),
    };
    let hash = checkpoint.signing_hash(&domain());
    let signatures = sign_sorted(&hash, signers)
        .into_iter()
        .map(|(attestor, signature)| AttestorSignature {
            attestor,
            signature,
        })
        .collect();
    ProofBundle {
        version: BUNDLE_VERSION,
        record: records[index as usize].clone(),
        record_id: ids[index as usize],
        leaf_index: index,
        inclusion_proof: log.inclusion_proof(index, log.size()).unwrap(),
        checkpoint,
        signatures,
        destination: Destination {
            chain: dest_chain(),
            mirror: MIRROR,
            attestors,
            threshold,
            attestor_set_version: version,
            read_at_block: 1_000 + version,
            mirror_tx: Some(B256::repeat_byte(0x77)),
            mirror_block: Some(1_000 + version),
        },
        revocation: None,
        timestamps: Vec::new(),
    }
}

/// A set version installed by `authorization`, unpinned, without signatures.
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

/// Set `version` (members `members`, `threshold`), signed by `signers` of the previous
/// set over its `AttestorSetUpdate` for the sample mirror.
pub fn rotation(
    version: u64,
    members: &[PrivateKeySigner],
    threshold: u8,
    signers: &[PrivateKeySigner],
) -> TrustedSet {
    let mut s = set(
        version,
        members,
        threshold,
        SetAuthorization::SignedRotation,
    );
    let update = SetUpdate {
        source_chain: source_chain(),
        new_version: version,
        attestors: s.attestors.clone(),
        threshold,
    };
    s.signatures = sign_sorted(&update.signing_hash(&domain()), signers)
        .into_iter()
        .map(|(_, sig)| sig)
        .collect();
    s
}

/// A trust root of the sample mirror with the given sets of the sample source.
pub fn trust_root(sets: Vec<TrustedSet>) -> TrustRoot {
    TrustRoot {
        media_type: TRUST_ROOT_MEDIA_TYPE.to_owned(),
        version: TRUST_ROOT_VERSION,
        exported_at: Some("2026-01-01T00:00:00Z".to_owned()),
        mirrors: vec![TrustedMirror {
            chain: dest_chain(),
            mirror: MIRROR,
            owner_rotation_delay_secs: Some(604_800),
            sources: vec![TrustedSource {
                source_chain: source_chain(),
                sets,
            }],
        }],
        tsa_roots: Vec::new(),
    }
}

/// The sample: set 1 = keys 1, 2, 3 (2 of 3, pinned first set); set 2 = keys 2, 3, 4
/// (2 of 3), signed by keys 1 and 2 of set 1; the README record's bundle (leaf 1 of 3)
/// signed by keys 2 and 4 of set 2.
pub fn sample() -> (ProofBundle, TrustRoot) {
    let v1 = keys(&[1, 2, 3]);
    let v2 = keys(&[2, 3, 4]);
    let mut first = set(1, &v1, 2, SetAuthorization::FirstSet);
    first.pinned = true;
    let second = rotation(2, &v2, 2, &keys(&[1, 2]));
    let bundle = bundle_of(
        &sample_records(),
        1,
        50,
        &keys(&[2, 4]),
        addresses(&v2),
        2,
        2,
    );
    (bundle, trust_root(vec![first, second]))
}
