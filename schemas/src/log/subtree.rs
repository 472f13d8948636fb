//! Subtree proofs: generation and verification for an arbitrary subtree
//! `[start, end)` of a tree of `size` leaves.
//!
//! These are the proofs of the Merkle Tree Certificates draft
//! (draft-ietf-plants-merkle-tree-certs, §4.1 subtrees, §4.3 subtree inclusion, §4.4
//! subtree consistency), which transparency-dev/merkle implements and its published
//! conformance vectors test:
//!
//! - a *subtree inclusion proof* shows that a leaf hash is leaf `index` of the subtree
//!   with a given hash. The subtree hash is the MTH of its own leaves, so this is the
//!   RFC 9162 inclusion proof of leaf `index - start` in a tree of `end - start`
//!   leaves;
//! - a *subtree consistency proof* shows that the subtree with a given hash sits at
//!   `[start, end)` of the tree of `size` leaves with a given root. It generalises the
//!   RFC 9162 consistency proof, which is the case `start = 0`: the proof is the path
//!   from the subtree's rightmost part up to the root, and the verifier rebuilds both
//!   the subtree hash (from the proof elements that lie inside the subtree) and the
//!   root.
//!
//! Verification follows the same strict rules as the plain verifiers: the subtree
//! must be valid ([`is_valid_subtree`]) and fit in the tree, the index must lie in
//! the subtree, no hash argument may be zero, and the proof must have exactly the
//! canonical length, all checked before any hashing.

use alloy_primitives::B256;

use super::proof::{NodeSource, audit_path, range_root, split_exponent};
use super::verify::{bit_len, fork_proof_len};
use super::{LogError, ProofError, inclusion_proof_len, node_hash, verify_inclusion};

/// Whether `[start, end)` is a valid subtree: non-empty (`start < end`), with `start`
/// a multiple of the smallest power of two `≥ end - start`.
///
/// These are exactly the leaf ranges that are nodes of some RFC 6962 tree (every
/// range [`super::MerkleLog`] stores or proves is one). For a length above `2^63` the
/// power of two is `2^64`, of which only `start = 0` is a multiple below `2^64`.
#[must_use]
pub const fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    match (end - start).checked_next_power_of_two() {
        Some(align) => start & (align - 1) == 0,
        None => start == 0,
    }
}

fn check_subtree(start: u64, end: u64) -> Result<(), ProofError> {
    if is_valid_subtree(start, end) {
        Ok(())
    } else {
        Err(ProofError::InvalidSubtree { start, end })
    }
}

/// The canonical length of the inclusion proof of leaf `index` in the subtree
/// `[start, end)`: that of leaf `index - start` in a tree of `end - start` leaves.
///
/// # Errors
/// [`ProofError::InvalidSubtree`] or [`ProofError::IndexOutsideSubtree`].
pub fn subtree_inclusion_proof_len(index: u64, start: u64, end: u64) -> Result<usize, ProofError> {
    check_subtree(start, end)?;
    if index < start || index >= end {
        return Err(ProofError::IndexOutsideSubtree { index, start, end });
    }
    inclusion_proof_len(index - start, end - start)
}

/// Verifies that `leaf_hash` is leaf `index` of the subtree `[start, end)` whose hash
/// is `subtree_hash` (draft-ietf-plants-merkle-tree-certs §4.3.3).
///
/// # Errors
/// [`ProofError::InvalidSubtree`], [`ProofError::IndexOutsideSubtree`], then as
/// [`verify_inclusion`] for leaf `index - start` of a tree of `end - start` leaves:
/// [`ProofError::ZeroRoot`], [`ProofError::WrongProofLength`] or
/// [`ProofError::RootMismatch`] (the subtree hash playing the root).
pub fn verify_subtree_inclusion(
    leaf_hash: &B256,
    index: u64,
    start: u64,
    end: u64,
    proof: &[B256],
    subtree_hash: &B256,
) -> Result<(), ProofError> {
    subtree_inclusion_proof_len(index, start, end)?;
    verify_inclusion(leaf_hash, index - start, end - start, proof, subtree_hash)
}

/// The canonical length of the consistency proof of the subtree `[start, end)` with
/// the tree of `size` leaves (0 when the subtree is the whole tree).
///
/// - If the subtree ends where the tree does (`end == size`), it is a node on the
///   tree's right border, at height `h = bitlen(start ^ (end - 1))`, and the proof is
///   its left siblings on the way to the root: one per set bit of `start >> h`.
/// - Otherwise the proof is, as for RFC 9162 consistency, the inclusion path of leaf
///   `end - 1` in the tree of `size`, minus the levels inside the largest perfect
///   subtree that ends at `end` (`2^shift` leaves, `shift` = trailing zeros of
///   `end - start`), plus that perfect subtree's own hash unless it is the whole
///   subtree (whose hash the verifier has).
///
/// # Errors
/// [`ProofError::InvalidSubtree`] or [`ProofError::SubtreeBeyondTree`].
pub fn subtree_consistency_proof_len(start: u64, end: u64, size: u64) -> Result<usize, ProofError> {
    check_subtree(start, end)?;
    if end > size {
        return Err(ProofError::SubtreeBeyondTree { end, size });
    }
    if end == size {
        let height = bit_len(start ^ (end - 1));
        return Ok(start.checked_shr(height).unwrap_or(0).count_ones() as usize);
    }
    // end < size: the paths to end - 1 and size - 1 fork above the perfect subtree
    // that ends at end (its leaves share every bit of end - 1 from its height up).
    Ok(fork_proof_len(end - start, end - 1, size - 1))
}

/// Verifies that the subtree `[start, end)` whose hash is `subtree_hash` is part of
/// the tree of `size` leaves whose root is `root` (draft-ietf-plants-merkle-tree-certs
/// §4.4.3).
///
/// With `start = 0` this is [`super::verify_consistency`] from size `end` to `size`.
/// A subtree that is the whole tree (`start = 0`, `end = size`) needs an empty proof
/// and equal hashes.
///
/// # Errors
/// [`ProofError::InvalidSubtree`], [`ProofError::SubtreeBeyondTree`],
/// [`ProofError::ZeroRoot`], [`ProofError::WrongProofLength`] (checked before any
/// hashing), [`ProofError::EqualSizesDifferentRoots`],
/// [`ProofError::SubtreeRootMismatch`] or [`ProofError::RootMismatch`].
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    subtree_hash: &B256,
    root: &B256,
    proof: &[B256],
) -> Result<(), ProofError> {
    let expected = subtree_consistency_proof_len(start, end, size)?;
    if subtree_hash.is_zero() || root.is_zero() {
        return Err(ProofError::ZeroRoot);
    }
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    if start == 0 && end == size {
        if subtree_hash != root {
            return Err(ProofError::EqualSizesDifferentRoots {
                size,
                root1: *subtree_hash,
                root2: *root,
            });
        }
        return Ok(());
    }

    // Cursors, one per path, all climbing together (a right shift is one level up):
    // `first` on the subtree's first leaf, `last` on its last leaf, `tree` on the
    // tree's last leaf. `first == last` means the climb has reached the subtree's own
    // node (or above), where proof elements stop belonging to the subtree.
    let (mut first, mut last, mut tree) = (start, end - 1, size - 1);
    // Skip the levels that take no proof element. A subtree flush with the tree's
    // right edge climbs to its own node (nothing to its right at any of those levels);
    // otherwise it climbs while its last node is a right child, whose left sibling is
    // inside the subtree and implied by the seed below.
    if last == tree {
        while first != last {
            (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
        }
    } else {
        while first != last && last & 1 == 1 {
            (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
        }
    }
    // The seed is the node reached: the subtree itself, or else the first element.
    let mut path = proof.iter();
    let seed = if first == last {
        *subtree_hash
    } else {
        *path.next().ok_or(wrong_length)?
    };
    // `sub` rebuilds the subtree hash, `top` the tree root.
    let (mut sub, mut top) = (seed, seed);
    for sibling in path {
        if tree == 0 {
            return Err(wrong_length);
        }
        if last & 1 == 1 || last == tree {
            // A left sibling. It belongs to the subtree while the climb is below the
            // subtree's node.
            if first < last {
                sub = node_hash(sibling, &sub);
            }
            top = node_hash(sibling, &top);
            // Levels where the node is a left child with nothing to its right (on the
            // tree's right edge) take no element.
            while last & 1 == 0 && last != 0 {
                (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
            }
        } else {
            // A right sibling: outside the subtree, which ends on this side.
            top = node_hash(&top, sibling);
        }
        (first, last, tree) = (first >> 1, last >> 1, tree >> 1);
    }
    if tree != 0 {
        return Err(wrong_length);
    }
    if sub != *subtree_hash {
        return Err(ProofError::SubtreeRootMismatch {
            expected: *subtree_hash,
            computed: sub,
        });
    }
    if top != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: top,
        });
    }
    Ok(())
}

// ---- Generation ---------------------------------------------------------------------

fn check_log_subtree<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<(), LogError> {
    if !is_valid_subtree(start, end) {
        return Err(LogError::InvalidSubtree { start, end });
    }
    let log_size = src.size();
    if end > log_size {
        return Err(LogError::SubtreeBeyondTree {
            end,
            size: log_size,
        });
    }
    Ok(())
}

/// The hash of the subtree `[start, end)`: the MTH of those leaves, from stored nodes
/// only (one per set bit of `end - start`).
///
/// # Errors
/// [`LogError::InvalidSubtree`], [`LogError::SubtreeBeyondTree`] if the log holds
/// fewer than `end` leaves, or a missing node.
pub fn subtree_root<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<B256, LogError> {
    check_log_subtree(src, start, end)?;
    range_root(src, start, end - start)
}

/// The inclusion proof of leaf `index` in the subtree `[start, end)`, leaf-side first,
/// exactly [`subtree_inclusion_proof_len`] hashes long.
///
/// # Errors
/// [`LogError::InvalidSubtree`], [`LogError::SubtreeBeyondTree`],
/// [`LogError::IndexOutsideSubtree`], or a missing node.
pub fn subtree_inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    start: u64,
    end: u64,
) -> Result<Vec<B256>, LogError> {
    check_log_subtree(src, start, end)?;
    if index < start || index >= end {
        return Err(LogError::IndexOutsideSubtree { index, start, end });
    }
    audit_path(src, index, start, end - start)
}

/// The consistency proof of the subtree `[start, end)` with the tree of the first
/// `size` leaves, leaf-side first, exactly [`subtree_consistency_proof_len`] hashes
/// long (empty when the subtree is the whole tree).
///
/// This is the draft's `SUBTREE_PROOF(start, end, D[0:size])`, unrolled from the root
/// down: at each node, the side that holds the subtree is followed and the other
/// side's hash is taken; once the node is the subtree itself the walk stops, adding
/// that node's hash only if the subtree was split on the way (it straddled a split
/// point, which a valid subtree does only when it starts at the node's first leaf).
///
/// # Errors
/// [`LogError::InvalidSubtree`], [`LogError::SubtreeBeyondTree`] if `end > size`,
/// [`LogError::ZeroSize`] or [`LogError::SizeBeyondLog`] for `size`, or a missing
/// node.
pub fn subtree_consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<B256>, LogError> {
    if !is_valid_subtree(start, end) {
        return Err(LogError::InvalidSubtree { start, end });
    }
    if end > size {
        return Err(LogError::SubtreeBeyondTree { end, size });
    }
    super::proof::check_size(src, size)?;
    let mut proof = Vec::with_capacity(2 * (64 - size.leading_zeros() as usize));
    // SUBTREE_SUBPROOF over the node [base, base + n), with the subtree [lo, hi)
    // relative to base; `known`: the verifier has the hash of the current subtree.
    let (mut base, mut n, mut lo, mut hi, mut known) = (0u64, size, start, end, true);
    loop {
        if lo == 0 && hi == n {
            if !known {
                proof.push(range_root(src, base, n)?);
            }
            break;
        }
        let k = split_exponent(n);
        let half = 1u64 << k;
        if hi <= half {
            proof.push(range_root(src, base + half, n - half)?);
            n = half;
        } else {
            // The subtree reaches into the right half. If it also starts in the left
            // half, it starts at 0 (validity) and is split here: its hash is no longer
            // one the verifier knows.
            debug_assert!(lo >= half || lo == 0);
            proof.push(src.node(k, base >> k)?);
            if lo < half {
                known = false;
            } else {
                lo -= half;
            }
            hi -= half;
            base += half;
            n -= half;
        }
    }
    proof.reverse();
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{MerkleLog, consistency_proof, consistency_proof_len, verify_consistency};

    fn log_of(n: u64) -> MerkleLog {
        MerkleLog::from_record_ids(
            &(0..n)
                .map(|i| B256::left_padding_from(&(i + 11).to_be_bytes()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn validity_examples() {
        assert!(is_valid_subtree(0, 1));
        assert!(is_valid_subtree(0, 13));
        assert!(is_valid_subtree(8, 13));
        assert!(is_valid_subtree(4, 7));
        assert!(is_valid_subtree(6, 7));
        assert!(is_valid_subtree(16, 32));
        assert!(!is_valid_subtree(1, 1));
        assert!(!is_valid_subtree(2, 1));
        assert!(!is_valid_subtree(3, 5));
        assert!(!is_valid_subtree(1, 15));
        assert!(!is_valid_subtree(2, 5));
        assert!(!is_valid_subtree(2, 6));
        assert!(!is_valid_subtree(4, 9));
        assert!(is_valid_subtree(0, u64::MAX));
        assert!(!is_valid_subtree(1, (1 << 63) + 2));
        assert!(is_valid_subtree(1 << 63, u64::MAX));
        assert!(!is_valid_subtree(1 << 62, u64::MAX));
    }

    #[test]
    fn lengths_match_plain_proofs_at_start_zero() {
        for size in 1..=40 {
            for end in 1..=size {
                assert_eq!(
                    subtree_consistency_proof_len(0, end, size),
                    consistency_proof_len(end, size),
                    "end {end}, size {size}"
                );
            }
        }
        assert_eq!(subtree_consistency_proof_len(4, 7, 7), Ok(1));
        assert_eq!(subtree_consistency_proof_len(6, 7, 7), Ok(2));
        assert_eq!(subtree_consistency_proof_len(4, 6, 8), Ok(2));
        assert!(subtree_consistency_proof_len(1 << 63, u64::MAX, u64::MAX).is_ok());
        assert!(subtree_consistency_proof_len(0, 3, u64::MAX).is_ok());
    }

    #[test]
    fn inclusion_roundtrip_and_rejections() {
        let log = log_of(13);
        let sub = subtree_root(&log, 8, 13).unwrap();
        let leaf = log.leaf_hash(10).unwrap();
        let proof = subtree_inclusion_proof(&log, 10, 8, 13).unwrap();
        assert_eq!(proof.len(), subtree_inclusion_proof_len(10, 8, 13).unwrap());
        assert_eq!(
            verify_subtree_inclusion(&leaf, 10, 8, 13, &proof, &sub),
            Ok(())
        );
        assert_eq!(
            verify_subtree_inclusion(&leaf, 7, 8, 13, &proof, &sub),
            Err(ProofError::IndexOutsideSubtree {
                index: 7,
                start: 8,
                end: 13
            })
        );
        assert_eq!(
            verify_subtree_inclusion(&leaf, 13, 8, 13, &proof, &sub),
            Err(ProofError::IndexOutsideSubtree {
                index: 13,
                start: 8,
                end: 13
            })
        );
        assert_eq!(
            verify_subtree_inclusion(&leaf, 10, 9, 13, &proof, &sub),
            Err(ProofError::InvalidSubtree { start: 9, end: 13 })
        );
        assert_eq!(
            verify_subtree_inclusion(&leaf, 10, 8, 13, &proof, &B256::ZERO),
            Err(ProofError::ZeroRoot)
        );
        assert!(matches!(
            verify_subtree_inclusion(&leaf, 10, 8, 13, &proof[1..], &sub),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_subtree_inclusion(&leaf, 11, 8, 13, &proof, &sub),
            Err(ProofError::RootMismatch { .. })
        ));
        assert_eq!(
            subtree_inclusion_proof(&log, 7, 8, 13),
            Err(LogError::IndexOutsideSubtree {
                index: 7,
                start: 8,
                end: 13
            })
        );
        assert_eq!(
            subtree_inclusion_proof(&log, 9, 8, 14),
            Err(LogError::SubtreeBeyondTree { end: 14, size: 13 })
        );
        assert_eq!(
            subtree_root(&log, 3, 5),
            Err(LogError::InvalidSubtree { start: 3, end: 5 })
        );
    }

    #[test]
    fn consistency_roundtrip_and_rejections() {
        let log = log_of(13);
        let root = log.root_at(11).unwrap();
        let sub = subtree_root(&log, 4, 6).unwrap();
        let proof = subtree_consistency_proof(&log, 4, 6, 11).unwrap();
        assert_eq!(
            proof.len(),
            subtree_consistency_proof_len(4, 6, 11).unwrap()
        );
        assert_eq!(
            verify_subtree_consistency(4, 6, 11, &sub, &root, &proof),
            Ok(())
        );
        assert_eq!(
            verify_subtree_consistency(4, 6, 3, &sub, &root, &proof),
            Err(ProofError::SubtreeBeyondTree { end: 6, size: 3 })
        );
        assert_eq!(
            verify_subtree_consistency(3, 6, 11, &sub, &root, &proof),
            Err(ProofError::InvalidSubtree { start: 3, end: 6 })
        );
        assert_eq!(
            verify_subtree_consistency(4, 6, 11, &B256::ZERO, &root, &proof),
            Err(ProofError::ZeroRoot)
        );
        assert_eq!(
            verify_subtree_consistency(4, 6, 11, &sub, &B256::ZERO, &proof),
            Err(ProofError::ZeroRoot)
        );
        let mut long = proof.clone();
        long.push(root);
        assert_eq!(
            verify_subtree_consistency(4, 6, 11, &sub, &root, &long),
            Err(ProofError::WrongProofLength {
                expected: proof.len(),
                got: proof.len() + 1
            })
        );
        assert!(matches!(
            verify_subtree_consistency(4, 6, 11, &sub, &sub, &proof),
            Err(ProofError::RootMismatch { .. })
        ));

        // A subtree that is not perfect: the proof carries part of it.
        let sub = subtree_root(&log, 8, 11).unwrap();
        let proof = subtree_consistency_proof(&log, 8, 11, 13).unwrap();
        assert_eq!(
            verify_subtree_consistency(8, 11, 13, &sub, &log.root().unwrap(), &proof),
            Ok(())
        );
        assert!(matches!(
            verify_subtree_consistency(8, 11, 13, &root, &log.root().unwrap(), &proof),
            Err(ProofError::SubtreeRootMismatch { .. })
        ));

        // The whole tree: empty proof, equal hashes.
        let whole = log.root().unwrap();
        assert_eq!(
            subtree_consistency_proof(&log, 0, 13, 13).unwrap(),
            Vec::<B256>::new()
        );
        assert_eq!(
            verify_subtree_consistency(0, 13, 13, &whole, &whole, &[]),
            Ok(())
        );
        assert_eq!(
            verify_subtree_consistency(0, 13, 13, &root, &whole, &[]),
            Err(ProofError::EqualSizesDifferentRoots {
                size: 13,
                root1: root,
                root2: whole
            })
        );

        assert_eq!(
            subtree_consistency_proof(&log, 4, 6, 14),
            Err(LogError::SizeBeyondLog {
                size: 14,
                log_size: 13
            })
        );
        assert_eq!(
            subtree_consistency_proof(&log, 4, 6, 5),
            Err(LogError::SubtreeBeyondTree { end: 6, size: 5 })
        );
    }

    #[test]
    fn start_zero_is_plain_consistency() {
        let log = log_of(21);
        for size in 1..=21 {
            let root = log.root_at(size).unwrap();
            for end in 1..=size {
                let old = log.root_at(end).unwrap();
                let proof = subtree_consistency_proof(&log, 0, end, size).unwrap();
                assert_eq!(proof, consistency_proof(&log, end, size).unwrap());
                assert_eq!(
                    verify_subtree_consistency(0, end, size, &old, &root, &proof),
                    verify_consistency(end, size, &old, &root, &proof)
                );
            }
        }
    }
}
