//! Properties of the log and its proofs: exhaustive over small trees, sampled
//! (proptest) over large ones.
//!
//! - Generation agrees with a direct transcription of RFC 6962 §2.1.1–2.1.2 (`PATH`,
//!   `PROOF`/`SUBPROOF` computed from the leaves) for every size up to 64.
//! - `root_at(n)` equals the root computed from scratch for every n up to 1024.
//! - For every size 1..=1024 and every index: the inclusion proof verifies and has the
//!   canonical length; and it fails when tampered with. How much tampering is budgeted
//!   (see [`Depth`]), since this is all debug-mode hashing: up to size 32 every byte of
//!   every element is flipped, and every neighbouring index and size is tried; up to
//!   256, one byte of every element; above, each case gets one tampering, rotating
//!   through flipped element bytes, wrong indices and other sizes.
//! - For every pair 1 <= size1 <= size2 <= 256: the consistency proof verifies, has the
//!   canonical length, and fails with a flipped element (every element up to 128),
//!   neighbouring sizes, or a wrong old or new root.
//! - Larger sizes and pairs are sampled (proptest) from a 2^17-leaf log, and random
//!   garbage is rejected without panicking.
//!
//! Wrong sizes are always tried with the root *of that size*: an RFC 6962 inclusion
//! proof does not by itself bind the tree size (the proof of leaf 0 in a tree of 5
//! also "verifies" as size 6 against the size-5 root, since both walks hash the same
//! way); the size is bound by the checkpoint that signs (size, root) together.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use evidence_schemas::B256;
use evidence_schemas::log::{
    LogError, MerkleLog, NodeSource, ProofError, consistency_proof_len, inclusion_proof_len,
    leaf_hash, node_hash, root_from_leaf_hashes, root_of_record_ids, verify_consistency,
    verify_inclusion, verify_record_inclusion,
};
use proptest::prelude::*;

/// Distinct, deterministic record ids.
fn record_id(i: u64) -> B256 {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&i.to_be_bytes());
    b[8..16].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    b[31] = 0xa5;
    B256::new(b)
}

fn ids(n: u64) -> Vec<B256> {
    (0..n).map(record_id).collect()
}

const SMALL: u64 = 1024;

/// A 1024-leaf log built by appending, its leaf hashes, and `roots[n]` = the root at
/// size `n` (`roots[0]` unused).
fn small_log() -> &'static (MerkleLog, Vec<B256>, Vec<B256>) {
    static LOG: OnceLock<(MerkleLog, Vec<B256>, Vec<B256>)> = OnceLock::new();
    LOG.get_or_init(|| {
        let ids = ids(SMALL);
        let mut log = MerkleLog::new();
        log.extend(ids.iter().copied());
        let leaves = ids.iter().map(leaf_hash).collect();
        let mut roots = vec![B256::ZERO];
        roots.extend((1..=SMALL).map(|n| log.root_at(n).unwrap()));
        (log, leaves, roots)
    })
}

const BIG: u64 = 1 << 17;

fn big_log() -> &'static MerkleLog {
    static LOG: OnceLock<MerkleLog> = OnceLock::new();
    LOG.get_or_init(|| MerkleLog::from_record_ids(&ids(BIG)))
}

// ---- RFC 6962 §2.1, transcribed literally over leaf hashes -------------------------

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

fn path(m: usize, d: &[B256]) -> Vec<B256> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[B256], b: bool) -> Vec<B256> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

// ---- helpers -------------------------------------------------------------------------

fn flipped(proof: &[B256], element: usize, byte: usize) -> Vec<B256> {
    let mut p = proof.to_vec();
    p[element].0[byte] ^= 1 << (byte % 8);
    p
}

/// How hard to try to break a proof: the exhaustive loops below are all debug-mode
/// hashing, so the number of tampered verifications per case is budgeted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Every byte of every element, every neighbouring index and size.
    Full,
    /// One byte of every element, every neighbouring index and size.
    Standard,
    /// One tampering per case, rotating with the index through: one byte of one
    /// element (itself rotating, so every proof position is hit across a size), a
    /// wrong index, another size.
    Light,
}

fn check_inclusion(log: &MerkleLog, roots: &[B256], index: u64, size: u64, depth: Depth) {
    let proof = log.inclusion_proof(index, size).unwrap();
    let root = roots[size as usize];
    let leaf = log.leaf_hash(index).unwrap();
    assert_eq!(
        proof.len(),
        inclusion_proof_len(index, size).unwrap(),
        "index {index}, size {size}"
    );
    assert_eq!(
        verify_inclusion(&leaf, index, size, &proof, &root),
        Ok(()),
        "index {index}, size {size}"
    );

    // For `Light`, which single tampering this case gets.
    let turn = index % 3;
    let elements = match depth {
        Depth::Full | Depth::Standard => 0..proof.len(),
        Depth::Light if proof.is_empty() || turn != 0 => 0..0,
        Depth::Light => {
            let j = (index / 3) as usize % proof.len();
            j..j + 1
        }
    };
    for j in elements {
        let bytes = match depth {
            Depth::Full => 0..32,
            _ => {
                let b = (index as usize * 7 + j * 13) % 32;
                b..b + 1
            }
        };
        for byte in bytes {
            let bad = flipped(&proof, j, byte);
            assert!(
                matches!(
                    verify_inclusion(&leaf, index, size, &bad, &root),
                    Err(ProofError::RootMismatch { .. })
                ),
                "index {index}, size {size}: element {j} byte {byte} flipped still verifies"
            );
        }
    }

    let wrong_indices: &[u64] = match depth {
        Depth::Light if turn == 1 => &[index ^ 1],
        Depth::Light => &[],
        _ => &[
            index.wrapping_sub(1),
            index + 1,
            index ^ 1,
            index ^ (size.next_power_of_two() >> 1),
        ],
    };
    for &wrong in wrong_indices {
        if wrong != index {
            assert!(
                verify_inclusion(&leaf, wrong, size, &proof, &root).is_err(),
                "index {index}, size {size}: accepted as index {wrong}"
            );
        }
    }
    let other_sizes: &[u64] = match depth {
        Depth::Light if turn == 2 => &[size + 1 + (index & 1)],
        Depth::Light => &[],
        _ => &[size - 1, size + 1, size * 2],
    };
    for &other in other_sizes {
        if other > index && other != size && (other as usize) < roots.len() {
            assert!(
                verify_inclusion(&leaf, index, other, &proof, &roots[other as usize]).is_err(),
                "index {index}, size {size}: accepted as size {other}"
            );
        }
    }
    if depth == Depth::Light {
        return;
    }
    let mut bad_leaf = leaf;
    bad_leaf.0[(index % 32) as usize] ^= 0x80;
    assert!(
        verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err(),
        "index {index}, size {size}"
    );
    // Padding or truncating is caught by the length check, before hashing.
    let mut long = proof.clone();
    long.push(root);
    assert_eq!(
        verify_inclusion(&leaf, index, size, &long, &root),
        Err(ProofError::WrongProofLength {
            expected: proof.len(),
            got: proof.len() + 1
        }),
        "index {index}, size {size}"
    );
    if let Some((_, short)) = proof.split_last() {
        assert!(
            matches!(
                verify_inclusion(&leaf, index, size, short, &root),
                Err(ProofError::WrongProofLength { .. })
            ),
            "index {index}, size {size}"
        );
    }
}

fn check_consistency(log: &MerkleLog, roots: &[B256], size1: u64, size2: u64, every_element: bool) {
    let proof = log.consistency_proof(size1, size2).unwrap();
    let (root1, root2) = (roots[size1 as usize], roots[size2 as usize]);
    let ctx = format!("size1 {size1}, size2 {size2}");
    assert_eq!(
        proof.len(),
        consistency_proof_len(size1, size2).unwrap(),
        "{ctx}"
    );
    assert_eq!(
        verify_consistency(size1, size2, &root1, &root2, &proof),
        Ok(()),
        "{ctx}"
    );

    let elements: Vec<usize> = if every_element || proof.is_empty() {
        (0..proof.len()).collect()
    } else {
        vec![(size1 + size2) as usize % proof.len()]
    };
    for j in elements {
        let byte = (size1 as usize * 3 + size2 as usize + j * 11) % 32;
        let bad = flipped(&proof, j, byte);
        assert!(
            verify_consistency(size1, size2, &root1, &root2, &bad).is_err(),
            "{ctx}: element {j} byte {byte} flipped still verifies"
        );
    }
    for (s1, s2) in [
        (size1 - 1, size2),
        (size1 + 1, size2),
        (size1, size2 - 1),
        (size1, size2 + 1),
    ] {
        if (s1, s2) != (size1, size2) && 1 <= s1 && s1 <= s2 && (s2 as usize) < roots.len() {
            let (r1, r2) = (roots[s1 as usize], roots[s2 as usize]);
            assert!(
                verify_consistency(s1, s2, &r1, &r2, &proof).is_err(),
                "{ctx}: proof accepted for sizes {s1} -> {s2}"
            );
        }
    }
    if size1 < size2 {
        // Swapping in a neighbouring old root, or an unrelated new one, must fail.
        if size1 > 1 {
            let other = roots[size1 as usize - 1];
            assert!(
                verify_consistency(size1, size2, &other, &root2, &proof).is_err(),
                "{ctx}"
            );
        }
        assert!(
            verify_consistency(size1, size2, &root1, &root1, &proof).is_err(),
            "{ctx}"
        );
        let mut long = proof.clone();
        long.push(root2);
        assert!(
            matches!(
                verify_consistency(size1, size2, &root1, &root2, &long),
                Err(ProofError::WrongProofLength { .. })
            ),
            "{ctx}"
        );
    }
}

// ---- exhaustive ----------------------------------------------------------------------

#[test]
fn generation_matches_rfc6962_definitions() {
    let (log, leaves, _) = small_log();
    for n in 1..=64usize {
        let d = &leaves[..n];
        assert_eq!(log.root_at(n as u64).unwrap(), mth(d), "MTH size {n}");
        for m in 0..n {
            assert_eq!(
                log.inclusion_proof(m as u64, n as u64).unwrap(),
                path(m, d),
                "PATH({m}, {n})"
            );
        }
        for m in 1..=n {
            assert_eq!(
                log.consistency_proof(m as u64, n as u64).unwrap(),
                subproof(m, d, true),
                "PROOF({m}, {n})"
            );
        }
    }
}

#[test]
fn roots_at_every_size_match_scratch() {
    let (log, leaves, _) = small_log();
    let ids = ids(1024);
    for n in 1..=1024usize {
        let scratch = root_from_leaf_hashes(&leaves[..n]).unwrap();
        assert_eq!(log.root_at(n as u64).unwrap(), scratch, "size {n}");
        if n % 61 == 0 || n.is_power_of_two() {
            assert_eq!(root_of_record_ids(&ids[..n]).unwrap(), scratch, "size {n}");
            assert_eq!(
                MerkleLog::from_record_ids(&ids[..n]).root().unwrap(),
                scratch,
                "size {n}"
            );
        }
    }
    assert_eq!(log.root().unwrap(), log.root_at(1024).unwrap());
}

#[test]
fn inclusion_every_index_sizes_1_to_256() {
    let (log, _, roots) = small_log();
    for size in 1..=256 {
        let depth = match size {
            ..=32 => Depth::Full,
            _ => Depth::Standard,
        };
        for index in 0..size {
            check_inclusion(log, roots, index, size, depth);
        }
    }
}

// Sizes above 256 are split so the test harness runs them on several threads.
#[test]
fn inclusion_every_index_sizes_257_to_640() {
    let (log, _, roots) = small_log();
    for size in 257..=640 {
        for index in 0..size {
            check_inclusion(log, roots, index, size, Depth::Light);
        }
    }
}

#[test]
fn inclusion_every_index_sizes_641_to_870() {
    let (log, _, roots) = small_log();
    for size in 641..=870 {
        for index in 0..size {
            check_inclusion(log, roots, index, size, Depth::Light);
        }
    }
}

#[test]
fn inclusion_every_index_sizes_871_to_1024() {
    let (log, _, roots) = small_log();
    for size in 871..=SMALL {
        for index in 0..size {
            check_inclusion(log, roots, index, size, Depth::Light);
        }
    }
}

#[test]
fn record_inclusion_hashes_the_leaf() {
    let (log, _, _) = small_log();
    let root = log.root_at(300).unwrap();
    for index in [0u64, 1, 255, 256, 299] {
        let proof = log.inclusion_proof(index, 300).unwrap();
        assert_eq!(
            verify_record_inclusion(&record_id(index), index, 300, &proof, &root),
            Ok(())
        );
        // The leaf hash is not a record id: no confusion between the two.
        let leaf = log.leaf_hash(index).unwrap();
        assert!(verify_record_inclusion(&leaf, index, 300, &proof, &root).is_err());
    }
}

#[test]
fn consistency_every_pair_to_256() {
    let (log, _, roots) = small_log();
    for size2 in 1..=256 {
        for size1 in 1..=size2 {
            check_consistency(log, roots, size1, size2, size2 <= 128);
        }
    }
}

#[test]
fn degenerate_arguments_are_rejected() {
    let (log, leaves, _) = small_log();
    let root = log.root_at(10).unwrap();
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 0, &[], &root),
        Err(ProofError::ZeroSize)
    );
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 1, &[], &B256::ZERO),
        Err(ProofError::ZeroRoot)
    );
    assert_eq!(
        verify_inclusion(&leaves[0], 10, 10, &[], &root),
        Err(ProofError::IndexOutOfRange {
            index: 10,
            size: 10
        })
    );
    assert_eq!(
        verify_consistency(0, 0, &root, &root, &[]),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        verify_consistency(0, 10, &root, &root, &[]),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        verify_consistency(11, 10, &root, &root, &[]),
        Err(ProofError::SizesOutOfOrder {
            size1: 11,
            size2: 10
        })
    );
    assert_eq!(
        verify_consistency(10, 10, &B256::ZERO, &B256::ZERO, &[]),
        Err(ProofError::ZeroRoot)
    );
    assert_eq!(log.root_at(0), Err(LogError::ZeroSize));
    assert_eq!(
        log.root_at(1025),
        Err(LogError::SizeBeyondLog {
            size: 1025,
            log_size: 1024
        })
    );
    assert_eq!(MerkleLog::new().root(), Err(LogError::EmptyLog));
}

#[test]
fn append_one_by_one_equals_bulk_build_and_node_source() {
    let (log, leaves, _) = small_log();
    let bulk = MerkleLog::from_leaf_hashes(leaves.clone());
    assert_eq!(&bulk, log);
    for level in 0..11u32 {
        for index in [0u64, 1, (1024 >> level) - 1] {
            assert_eq!(bulk.node(level, index), log.node(level, index));
        }
    }
}

// ---- sampled, large ------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_sampled_large(size in 1025..=BIG, seed in any::<u64>()) {
        let log = big_log();
        let index = seed % size;
        let proof = log.inclusion_proof(index, size).unwrap();
        let root = log.root_at(size).unwrap();
        let leaf = log.leaf_hash(index).unwrap();
        prop_assert_eq!(proof.len(), inclusion_proof_len(index, size).unwrap());
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
        for j in 0..proof.len() {
            let bad = flipped(&proof, j, (seed as usize >> 8).wrapping_add(j) % 32);
            prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
        }
        let wrong = (index + 1 + (seed >> 32) % (size - 1).max(1)) % size;
        if wrong != index {
            prop_assert!(verify_inclusion(&leaf, wrong, size, &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_sampled_large(a in 1..=BIG, b in 1..=BIG, seed in any::<u64>()) {
        let log = big_log();
        let (size1, size2) = (a.min(b), a.max(b));
        let proof = log.consistency_proof(size1, size2).unwrap();
        let (root1, root2) = (log.root_at(size1).unwrap(), log.root_at(size2).unwrap());
        prop_assert_eq!(proof.len(), consistency_proof_len(size1, size2).unwrap());
        prop_assert_eq!(verify_consistency(size1, size2, &root1, &root2, &proof), Ok(()));
        for j in 0..proof.len() {
            let bad = flipped(&proof, j, (seed as usize).wrapping_add(j * 5) % 32);
            prop_assert!(verify_consistency(size1, size2, &root1, &root2, &bad).is_err());
        }
        if size1 > 1 && size1 < size2 {
            let r = log.root_at(size1 - 1).unwrap();
            prop_assert!(verify_consistency(size1 - 1, size2, &r, &root2, &proof).is_err());
        }
    }

    /// Arbitrary garbage never panics and is never accepted.
    #[test]
    fn garbage_is_rejected_without_panicking(
        index in any::<u64>(),
        size in any::<u64>(),
        size2 in any::<u64>(),
        raw in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        root in any::<[u8; 32]>(),
        leaf in any::<[u8; 32]>(),
    ) {
        let proof: Vec<B256> = raw.into_iter().map(B256::new).collect();
        let (root, leaf) = (B256::new(root), B256::new(leaf));
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_err() || (size == 1 && proof.is_empty() && leaf == root));
        let _ = inclusion_proof_len(index, size);
        let _ = consistency_proof_len(size, size2);
        let r = verify_consistency(size, size2, &leaf, &root, &proof);
        prop_assert!(r.is_err() || (size == size2 && size != 0 && proof.is_empty() && leaf == root && !leaf.is_zero()));
    }

    /// Small random sizes: the canonical lengths are what generation produces.
    #[test]
    fn lengths_match_generation(a in 1..=BIG, b in 1..=BIG) {
        let log = big_log();
        let (size1, size2) = (a.min(b), a.max(b));
        prop_assert_eq!(log.consistency_proof(size1, size2).unwrap().len(), consistency_proof_len(size1, size2).unwrap());
        prop_assert_eq!(log.inclusion_proof(size1 - 1, size2).unwrap().len(), inclusion_proof_len(size1 - 1, size2).unwrap());
    }
}

/// Documents (and pins) the RFC 6962 property described in the module docs: the
/// inclusion proof of leaf 0 in a tree of 5 also verifies as "size 6" against the
/// size-5 root. Harmless here because checkpoints sign the (size, root) pair; a
/// caller must never take the size from the same untrusted source as the proof
/// without also checking the signed root for that size.
#[test]
fn inclusion_proof_alone_does_not_bind_the_size() {
    let (log, leaves, roots) = small_log();
    let proof = log.inclusion_proof(0, 5).unwrap();
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 6, &proof, &roots[5]),
        Ok(())
    );
    assert!(verify_inclusion(&leaves[0], 0, 6, &proof, &roots[6]).is_err());
}
