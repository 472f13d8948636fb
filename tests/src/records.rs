//! Random evidence records, and their forms for the Solidity harness.
//!
//! Two generators over the same space: [`random_record`] for plain loops with a seeded
//! `rand` RNG (cheap, good for hundreds of on-chain comparisons), and [`arb_record`], a
//! proptest strategy for property tests that want shrinking. Both cover every field's
//! full range, both actions, all digest algorithms, empty and 64-byte labels, `eip155`
//! and other CAIP-2 namespaces.

use alloy::primitives::{Address, B256};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, EvidenceRecord, Label,
    record::{Evidence, SourceLocator},
};
use proptest::{prelude::*, sample::select};
use rand::{Rng, seq::IndexedRandom as _};

use crate::contracts::EvidenceLib;

/// Characters allowed in a [`Label`].
pub const LABEL_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/-";
/// Characters allowed in a CAIP-2 namespace.
const NAMESPACE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
/// Characters allowed in a CAIP-2 reference.
const REFERENCE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn random_b256<R: Rng + ?Sized>(rng: &mut R) -> B256 {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    B256::from(bytes)
}

fn random_address<R: Rng + ?Sized>(rng: &mut R) -> Address {
    let mut bytes = [0u8; 20];
    rng.fill(&mut bytes);
    Address::from(bytes)
}

/// A `u64` biased towards the edges (0, 1, `u64::MAX`, powers of two) a quarter of
/// the time, since those are where encodings break.
fn random_u64<R: Rng + ?Sized>(rng: &mut R) -> u64 {
    match rng.random_range(0..8u8) {
        0 => *[0, 1, u64::MAX, u64::MAX - 1].choose(rng).unwrap_or(&0),
        1 => 1u64 << rng.random_range(0..64u32),
        _ => rng.random(),
    }
}

fn random_text<R: Rng + ?Sized>(rng: &mut R, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(*alphabet.choose(rng).unwrap_or(&b'a')))
        .collect()
}

fn random_label<R: Rng + ?Sized>(rng: &mut R, min_len: usize) -> Label {
    let len = match rng.random_range(0..4u8) {
        0 => Label::MAX_LEN,
        _ => rng.random_range(min_len..=Label::MAX_LEN),
    };
    let text = random_text(rng, LABEL_CHARS, len);
    // Built from the allowed alphabet within the length limit, so always valid.
    Label::parse("label", &text).unwrap_or_default()
}

/// A random valid CAIP-2 chain id: `eip155:<u64>` half the time, else any namespace.
pub fn random_chain<R: Rng + ?Sized>(rng: &mut R) -> ChainId {
    if rng.random_bool(0.5) {
        return ChainId::eip155(random_u64(rng));
    }
    let ns_len = rng.random_range(3..=8);
    let ref_len = rng.random_range(1..=32);
    let text = format!(
        "{}:{}",
        random_text(rng, NAMESPACE_CHARS, ns_len),
        random_text(rng, REFERENCE_CHARS, ref_len)
    );
    ChainId::parse(&text).unwrap_or_else(|_| ChainId::eip155(1))
}

/// A random valid [`EvidenceRecord`] (it passes [`EvidenceRecord::validate`]).
pub fn random_record<R: Rng + ?Sized>(rng: &mut R) -> EvidenceRecord {
    let action = if rng.random_bool(0.5) {
        Action::Anchor
    } else {
        Action::Revoke
    };
    // A revoke must name what it revokes; an anchor may refer to a record.
    let reference = match action {
        Action::Revoke => Some(nonzero(random_b256(rng))),
        Action::Anchor => rng.random_bool(0.3).then(|| nonzero(random_b256(rng))),
    };
    let digest_alg = *DigestAlgorithm::ALL
        .choose(rng)
        .unwrap_or(&DigestAlgorithm::Sha256);
    EvidenceRecord {
        version: 1,
        source: SourceLocator {
            chain: random_chain(rng),
            adapter: random_label(rng, 1),
            contract: random_address(rng),
            block_number: random_u64(rng),
            block_hash: random_b256(rng),
            tx_hash: random_b256(rng),
            tx_index: random_u64(rng),
            log_index: random_u64(rng),
            block_timestamp: random_u64(rng),
        },
        action,
        reference,
        evidence: Evidence {
            digest_alg,
            digest: nonzero(random_b256(rng)),
            kind: random_label(rng, 0),
            submitter: random_address(rng),
            metadata: if rng.random_bool(0.3) {
                B256::ZERO
            } else {
                random_b256(rng)
            },
        },
    }
}

/// `n` records from [`random_record`].
pub fn random_records<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<EvidenceRecord> {
    (0..n).map(|_| random_record(rng)).collect()
}

fn nonzero(b: B256) -> B256 {
    if b.is_zero() {
        B256::with_last_byte(1)
    } else {
        b
    }
}

fn arb_b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::from)
}

fn arb_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

fn arb_label(min_len: usize) -> impl Strategy<Value = Label> {
    prop::collection::vec(select(LABEL_CHARS), min_len..=Label::MAX_LEN).prop_map(|chars| {
        let text: String = chars.into_iter().map(char::from).collect();
        Label::parse("label", &text).unwrap_or_default()
    })
}

/// A proptest strategy for valid [`EvidenceRecord`]s, shrinking towards small values.
pub fn arb_record() -> impl Strategy<Value = EvidenceRecord> {
    let chain = prop_oneof![
        any::<u64>().prop_map(ChainId::eip155),
        (
            prop::collection::vec(select(NAMESPACE_CHARS), 3..=8),
            prop::collection::vec(select(REFERENCE_CHARS), 1..=32)
        )
            .prop_map(|(ns, r)| {
                let text = format!(
                    "{}:{}",
                    ns.into_iter().map(char::from).collect::<String>(),
                    r.into_iter().map(char::from).collect::<String>()
                );
                ChainId::parse(&text).unwrap_or_else(|_| ChainId::eip155(1))
            }),
    ];
    let source = (
        chain,
        arb_label(1),
        arb_address(),
        any::<u64>(),
        arb_b256(),
        arb_b256(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(
                chain,
                adapter,
                contract,
                block_number,
                block_hash,
                tx_hash,
                tx_index,
                log_index,
                block_timestamp,
            )| {
                SourceLocator {
                    chain,
                    adapter,
                    contract,
                    block_number,
                    block_hash,
                    tx_hash,
                    tx_index,
                    log_index,
                    block_timestamp,
                }
            },
        );
    let evidence = (
        select(DigestAlgorithm::ALL.to_vec()),
        arb_b256(),
        arb_label(0),
        arb_address(),
        arb_b256(),
    )
        .prop_map(|(digest_alg, digest, kind, submitter, metadata)| Evidence {
            digest_alg,
            digest: nonzero(digest),
            kind,
            submitter,
            metadata,
        });
    (
        source,
        any::<bool>(),
        prop::option::of(arb_b256()),
        evidence,
    )
        .prop_map(|(source, revoke, reference, evidence)| {
            let (action, reference) = if revoke {
                (
                    Action::Revoke,
                    Some(nonzero(reference.unwrap_or(B256::ZERO))),
                )
            } else {
                (Action::Anchor, reference.map(nonzero))
            };
            EvidenceRecord {
                version: 1,
                source,
                action,
                reference,
                evidence,
            }
        })
}

/// The record with its strings, as `EvidenceLibHarness.recordIdFromStrings` and
/// `encodeRecord` take it.
pub fn to_sol_input(record: &EvidenceRecord) -> EvidenceLib::EvidenceRecordV1Input {
    let s = &record.source;
    let e = &record.evidence;
    EvidenceLib::EvidenceRecordV1Input {
        chain: s.chain.as_str().to_owned(),
        adapter: s.adapter.as_str().to_owned(),
        origin: s.contract,
        blockNumber: s.block_number,
        blockHash: s.block_hash,
        txHash: s.tx_hash,
        txIndex: s.tx_index,
        logIndex: s.log_index,
        blockTimestamp: s.block_timestamp,
        action: record.action.code(),
        r#ref: record.reference.unwrap_or(B256::ZERO),
        digestAlg: e.digest_alg.code(),
        digest: e.digest,
        kind: e.kind.as_str().to_owned(),
        submitter: e.submitter,
        metadata: e.metadata,
    }
}

/// The hashed record, as `EvidenceLibHarness.recordId` takes it, built from the Rust
/// canonical struct ([`EvidenceRecord::to_sol`]) field by field.
pub fn to_sol_hashed(record: &EvidenceRecord) -> EvidenceLib::EvidenceRecordV1 {
    let r = record.to_sol();
    EvidenceLib::EvidenceRecordV1 {
        domain: r.domain,
        chain: r.chain,
        adapter: r.adapter,
        origin: r.origin,
        blockNumber: r.blockNumber,
        blockHash: r.blockHash,
        txHash: r.txHash,
        txIndex: r.txIndex,
        logIndex: r.logIndex,
        blockTimestamp: r.blockTimestamp,
        action: r.action,
        r#ref: r.r#ref,
        digestAlg: r.digestAlg,
        digest: r.digest,
        kind: r.kind,
        submitter: r.submitter,
        metadata: r.metadata,
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn random_records_are_valid() {
        let mut rng = StdRng::seed_from_u64(7);
        for r in random_records(&mut rng, 500) {
            r.validate().unwrap();
        }
    }

    proptest! {
        #[test]
        fn arb_records_are_valid(r in arb_record()) {
            prop_assert!(r.validate().is_ok());
        }
    }
}
