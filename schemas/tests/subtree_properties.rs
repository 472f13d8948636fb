//! Properties of subtree proofs (`[start, end)` subtrees of a tree of `size` leaves):
//! exhaustive over small trees, sampled (proptest) over a large one.
//!
//! - [`is_valid_subtree`] holds exactly for the leaf ranges that are nodes of some
//!   RFC 6962 tree (enumerated from the trees of every size up to [`SMALL`]).
//! - For every size up to [`SMALL`] and every valid subtree `[start, end)` with
//!   `end <= size`: the generated subtree consistency proof equals a literal
//!   transcription of the draft's `SUBTREE_PROOF` over the leaves, has the canonical
//!   length, verifies, and fails with any one bit of any element flipped (one bit per
//!   element, rotating through the 256 bit positions), with one bit of the subtree
//!   hash or of the root flipped, or with one element dropped or added.
//! - For every valid subtree with `end <= SMALL` and every leaf index in it: the
//!   subtree inclusion proof has the canonical length, verifies against the subtree
//!   hash, and fails with a flipped bit in any element, in the leaf or in the subtree
//!   hash, and at the neighbouring indices.
//! - Invalid subtrees, indices outside the subtree and subtrees beyond the tree are
//!   rejected by generation and verification alike.
//! - Sampled: random valid subtrees of a 2^16-leaf log verify, and random garbage is
//!   rejected without panicking.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use evidence_schemas::B256;
use evidence_schemas::log::{
    LogError, MerkleLog, ProofError, is_valid_subtree, leaf_hash, node_hash,
    subtree_consistency_proof, subtree_consistency_proof_len, subtree_inclusion_proof,
    subtree_inclusion_proof_len, subtree_root, verify_subtree_consistency,
    verify_subtree_inclusion,
};
use proptest::prelude::*;

/// Largest tree size of the exhaustive checks.
const SMALL: u64 = 96;

/// Distinct, deterministic record ids.
fn record_id(i: u64) -> B256 {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&i.to_be_bytes());
    b[8..16].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    b[31] = 0x3c;
    B256::new(b)
}

/// A log of `SMALL` leaves and its leaf hashes.
fn small_log() -> &'static (MerkleLog, Vec<B256>) {
    static LOG: OnceLock<(MerkleLog, Vec<B256>)> = OnceLock::new();
    LOG.get_or_init(|| {
        let ids: Vec<B256> = (0..SMALL).map(record_id).collect();
        let leaves = ids.iter().map(leaf_hash).collect();
        (MerkleLog::from_record_ids(&ids), leaves)
    })
}

const BIG: u64 = 1 << 16;

fn big_log() -> &'static MerkleLog {
    static LOG: OnceLock<MerkleLog> = OnceLock::new();
    LOG.get_or_init(|| MerkleLog::from_record_ids(&(0..BIG).map(record_id).collect::<Vec<_>>()))
}

// ---- the draft's definitions, transcribed literally over leaf hashes ---------------

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[B256]) -> B256 {
    match d.len() {
        1 => d[0],
        n => {
            let k = split(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// `SUBTREE_SUBPROOF(start, end, D_n, known)` (draft §4.4.1 / Appendix B.4).
fn subtree_subproof(start: usize, end: usize, d: &[B256], known: bool) -> Vec<B256> {
    let n = d.len();
    if start == 0 && end == n {
        return if known { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    let mut p;
    if end <= k {
        p = subtree_subproof(start, end, &d[..k], known);
        p.push(mth(&d[k..]));
    } else if start >= k {
        p = subtree_subproof(start - k, end - k, &d[k..], known);
        p.push(mth(&d[..k]));
    } else {
        assert_eq!(
            start, 0,
            "a valid subtree straddles a split only from its start"
        );
        p = subtree_subproof(0, end - k, &d[k..], false);
        p.push(mth(&d[..k]));
    }
    p
}

/// Every node `[a, b)` of the RFC 6962 tree over `[base, base + n)`.
fn nodes(base: u64, n: u64, out: &mut BTreeSet<(u64, u64)>) {
    out.insert((base, base + n));
    if n > 1 {
        let k = split(n as usize) as u64;
        nodes(base, k, out);
        nodes(base + k, n - k, out);
    }
}

/// Every valid subtree `[start, end)` with `end <= max`, by brute force.
fn valid_subtrees(max: u64) -> Vec<(u64, u64)> {
    let mut all = BTreeSet::new();
    for n in 1..=max {
        nodes(0, n, &mut all);
    }
    all.into_iter().collect()
}

fn flip_bit(h: &B256, bit: usize) -> B256 {
    let mut out = *h;
    out.0[bit / 8 % 32] ^= 1 << (bit % 8);
    out
}

// ---- exhaustive ---------------------------------------------------------------------

#[test]
fn validity_is_exactly_being_a_node() {
    let nodes: BTreeSet<(u64, u64)> = valid_subtrees(2 * SMALL).into_iter().collect();
    // Up to 2·SMALL, every node of any tree ending there is in `nodes`.
    for end in 0..=2 * SMALL {
        for start in 0..=end + 1 {
            assert_eq!(
                is_valid_subtree(start, end),
                nodes.contains(&(start, end)),
                "[{start}, {end})"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_the_draft_verify_and_break() {
    let (log, leaves) = small_log();
    let subtrees = valid_subtrees(SMALL);
    let mut checked = 0u64;
    for size in 1..=SMALL {
        let root = log.root_at(size).unwrap();
        for &(start, end) in subtrees.iter().filter(|(_, e)| *e <= size) {
            let what = format!("[{start}, {end}) in {size}");
            let sub = subtree_root(log, start, end).unwrap();
            assert_eq!(sub, mth(&leaves[start as usize..end as usize]), "{what}");
            let proof = subtree_consistency_proof(log, start, end, size).unwrap();
            assert_eq!(
                proof,
                subtree_subproof(start as usize, end as usize, &leaves[..size as usize], true),
                "{what}"
            );
            assert_eq!(
                proof.len(),
                subtree_consistency_proof_len(start, end, size).unwrap(),
                "{what}"
            );
            assert_eq!(
                verify_subtree_consistency(start, end, size, &sub, &root, &proof),
                Ok(()),
                "{what}"
            );

            for j in 0..proof.len() {
                let mut bad = proof.clone();
                bad[j] = flip_bit(&bad[j], (checked as usize + 31 * j) % 256);
                assert!(
                    verify_subtree_consistency(start, end, size, &sub, &root, &bad).is_err(),
                    "{what}: element {j} flipped still verifies"
                );
            }
            let bit = (checked % 256) as usize;
            assert!(
                verify_subtree_consistency(start, end, size, &flip_bit(&sub, bit), &root, &proof)
                    .is_err(),
                "{what}: flipped subtree hash still verifies"
            );
            assert!(
                verify_subtree_consistency(start, end, size, &sub, &flip_bit(&root, bit), &proof)
                    .is_err(),
                "{what}: flipped root still verifies"
            );
            let mut longer = proof.clone();
            longer.push(root);
            assert!(matches!(
                verify_subtree_consistency(start, end, size, &sub, &root, &longer),
                Err(ProofError::WrongProofLength { .. })
            ));
            if let Some((_, shorter)) = proof.split_first() {
                assert!(matches!(
                    verify_subtree_consistency(start, end, size, &sub, &root, shorter),
                    Err(ProofError::WrongProofLength { .. })
                ));
            }
            checked += 1;
        }
    }
    println!("{checked} subtree consistency proofs checked");
    assert!(checked > 15_000);
}

#[test]
fn inclusion_proofs_verify_and_break() {
    let (log, leaves) = small_log();
    let mut checked = 0u64;
    for (start, end) in valid_subtrees(SMALL) {
        let sub = subtree_root(log, start, end).unwrap();
        for index in start..end {
            let what = format!("leaf {index} of [{start}, {end})");
            let leaf = leaves[index as usize];
            let proof = subtree_inclusion_proof(log, index, start, end).unwrap();
            assert_eq!(
                proof.len(),
                subtree_inclusion_proof_len(index, start, end).unwrap(),
                "{what}"
            );
            // The same path as the plain proof of index - start over those leaves.
            let local = MerkleLog::from_leaf_hashes(leaves[start as usize..end as usize].to_vec());
            assert_eq!(
                proof,
                local.inclusion_proof(index - start, end - start).unwrap(),
                "{what}"
            );
            assert_eq!(
                verify_subtree_inclusion(&leaf, index, start, end, &proof, &sub),
                Ok(()),
                "{what}"
            );
            for j in 0..proof.len() {
                let mut bad = proof.clone();
                bad[j] = flip_bit(&bad[j], (checked as usize + 17 * j) % 256);
                assert!(
                    verify_subtree_inclusion(&leaf, index, start, end, &bad, &sub).is_err(),
                    "{what}: element {j} flipped still verifies"
                );
            }
            let bit = (checked % 256) as usize;
            assert!(
                verify_subtree_inclusion(&flip_bit(&leaf, bit), index, start, end, &proof, &sub)
                    .is_err(),
                "{what}: flipped leaf still verifies"
            );
            assert!(
                verify_subtree_inclusion(&leaf, index, start, end, &proof, &flip_bit(&sub, bit))
                    .is_err(),
                "{what}: flipped subtree hash still verifies"
            );
            for other in [index.wrapping_sub(1), index + 1] {
                if other != index && (start..end).contains(&other) {
                    // Same proof, another position in the same subtree: only valid if
                    // the two leaves were equal, and they are distinct here.
                    assert!(
                        verify_subtree_inclusion(&leaf, other, start, end, &proof, &sub).is_err(),
                        "{what}: verifies at index {other}"
                    );
                }
            }
            checked += 1;
        }
    }
    println!("{checked} subtree inclusion proofs checked");
}

#[test]
fn bad_requests_are_rejected_by_both_sides() {
    let (log, _) = small_log();
    let h = log.root().unwrap();
    for end in 0..=SMALL {
        for start in 0..=end {
            if is_valid_subtree(start, end) {
                continue;
            }
            assert_eq!(
                subtree_root(log, start, end),
                Err(LogError::InvalidSubtree { start, end })
            );
            assert_eq!(
                subtree_consistency_proof(log, start, end, SMALL),
                Err(LogError::InvalidSubtree { start, end })
            );
            assert_eq!(
                subtree_inclusion_proof(log, start, start, end),
                Err(LogError::InvalidSubtree { start, end })
            );
            assert_eq!(
                verify_subtree_consistency(start, end, SMALL, &h, &h, &[]),
                Err(ProofError::InvalidSubtree { start, end })
            );
            assert_eq!(
                verify_subtree_inclusion(&h, start, start, end, &[], &h),
                Err(ProofError::InvalidSubtree { start, end })
            );
        }
    }
    // Beyond the tree, the log, or outside the subtree.
    assert_eq!(
        verify_subtree_consistency(8, 16, 15, &h, &h, &[]),
        Err(ProofError::SubtreeBeyondTree { end: 16, size: 15 })
    );
    assert_eq!(
        subtree_root(log, 64, 128),
        Err(LogError::SubtreeBeyondTree {
            end: 128,
            size: SMALL
        })
    );
    assert_eq!(
        verify_subtree_inclusion(&h, 16, 8, 16, &[], &h),
        Err(ProofError::IndexOutsideSubtree {
            index: 16,
            start: 8,
            end: 16
        })
    );
    assert_eq!(
        verify_subtree_inclusion(&h, 7, 8, 16, &[], &h),
        Err(ProofError::IndexOutsideSubtree {
            index: 7,
            start: 8,
            end: 16
        })
    );
    assert_eq!(
        subtree_consistency_proof(log, 0, 1, 0),
        Err(LogError::SubtreeBeyondTree { end: 1, size: 0 })
    );
}

// ---- sampled --------------------------------------------------------------------------

/// A valid subtree of a tree of at most `BIG` leaves: `(start, end, size)`.
fn subtree_strategy() -> impl Strategy<Value = (u64, u64, u64)> {
    (1..=BIG)
        .prop_flat_map(|size| (Just(size), 1..=size))
        .prop_flat_map(|(size, end)| (Just(size), Just(end), 0..=end.ilog2()))
        .prop_flat_map(|(size, end, level)| {
            // A perfect or right-border-shaped subtree ending at or before `end`: pick
            // an alignment 2^level and a length up to it.
            let align = 1u64 << level;
            (Just(size), Just(end), Just(align), 1..=align)
        })
        .prop_map(|(size, end, align, len)| {
            let start = (end - len) / align * align;
            (start, start + len, size)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sampled_subtrees_verify((start, end, size) in subtree_strategy(), bit in 0usize..256) {
        prop_assume!(is_valid_subtree(start, end));
        let log = big_log();
        let root = log.root_at(size).unwrap();
        let sub = subtree_root(log, start, end).unwrap();
        let proof = subtree_consistency_proof(log, start, end, size).unwrap();
        prop_assert_eq!(proof.len(), subtree_consistency_proof_len(start, end, size).unwrap());
        prop_assert_eq!(verify_subtree_consistency(start, end, size, &sub, &root, &proof), Ok(()));
        for j in 0..proof.len() {
            let mut bad = proof.clone();
            bad[j] = flip_bit(&bad[j], bit);
            prop_assert!(verify_subtree_consistency(start, end, size, &sub, &root, &bad).is_err());
        }
        let index = start + (bit as u64) % (end - start);
        let leaf = log.leaf_hash(index).unwrap();
        let inc = subtree_inclusion_proof(log, index, start, end).unwrap();
        prop_assert_eq!(verify_subtree_inclusion(&leaf, index, start, end, &inc, &sub), Ok(()));
        prop_assert!(
            verify_subtree_inclusion(&flip_bit(&leaf, bit), index, start, end, &inc, &sub).is_err()
        );
    }

    #[test]
    fn garbage_is_rejected_without_panicking(
        start in any::<u64>(),
        end in any::<u64>(),
        size in any::<u64>(),
        index in any::<u64>(),
        hashes in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let proof: Vec<B256> = hashes.iter().map(|h| B256::new(*h)).collect();
        let a = proof.first().copied().unwrap_or(B256::repeat_byte(1));
        let b = proof.last().copied().unwrap_or(B256::repeat_byte(2));
        // Random hashes never form a valid proof; all that matters is no panic and
        // no acceptance.
        prop_assert!(verify_subtree_consistency(start, end, size, &a, &b, &proof).is_err() || (start == 0 && end == size && a == b && proof.is_empty()));
        prop_assert!(verify_subtree_inclusion(&a, index, start, end, &proof, &b).is_err() || (proof.is_empty() && end.wrapping_sub(start) == 1 && a == b));
        let _ = subtree_consistency_proof_len(start, end, size);
        let _ = subtree_inclusion_proof_len(index, start, end);
        // Small valid-looking shapes too.
        let (s, e, n) = (start % 64, end % 64, size % 64);
        let _ = verify_subtree_consistency(s, e, n, &a, &b, &proof);
        let _ = verify_subtree_inclusion(&a, index % 64, s, e, &proof, &b);
    }
}
