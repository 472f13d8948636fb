//! The RFC 6962 / RFC 9162 transparency log over record ids, with inclusion and
//! consistency proofs.
//!
//! # The tree
//!
//! Leaves are 32-byte record ids. A leaf hash is `SHA-256(0x00 || record_id)`, an
//! interior node is `SHA-256(0x01 || left || right)`, and a list of `n > 1` leaves is
//! split at `k`, the largest power of two strictly below `n`: the left subtree covers
//! leaves `[0, k)` and is always perfect, the right one covers `[k, n)`. This is the
//! Merkle Tree Hash (MTH) of RFC 6962 §2.1 (RFC 9162 §2.1.1). The one deliberate
//! departure: an empty tree has no root here. The RFC gives it `SHA-256("")`, but an
//! empty log proves nothing, so every function rejects size 0 and the zero hash.
//!
//! # Stored levels
//!
//! [`MerkleLog`] keeps every *complete* (perfect) subtree hash, by level:
//!
//! ```text
//! level 2:  [ h(0..4)                  ]
//! level 1:  [ h(0..2)    h(2..4)    h(4..6)  ]
//! level 0:  [ l0  l1     l2  l3     l4  l5    l6 ]      (7 leaves)
//! ```
//!
//! Entry `i` of level `k` is the hash of the perfect subtree over leaves
//! `[i·2^k, (i+1)·2^k)`; level `k` holds `⌊n / 2^k⌋` entries, so the whole log takes
//! fewer than `2n` hashes, and an append touches one entry per trailing one bit of the
//! old size (amortised one node hash per append).
//!
//! # Why proofs cost O(log² n) lookups
//!
//! Every subtree that RFC 6962 builds, at any tree size `m ≤ n`, covers leaves
//! `[s, s + len)` with `s` a multiple of the smallest power of two `≥ len`. Such a
//! range is the concatenation of at most `log₂ n` perfect subtrees (one per set bit
//! of `len`, largest first), each of them one stored entry, and its hash is those
//! entries folded right to left with as many node hashes. A proof has at most
//! `log₂ n` (inclusion) or `2·log₂ n` (consistency) elements, each such a subtree, so
//! generating a proof, or the root at an earlier size, reads `O(log² n)` stored
//! nodes and never rehashes the log. (In practice it is `O(log n)`: once the walk
//! from the root goes left it stays inside a perfect subtree, so at most one element
//! per proof is not itself a stored node.)
//!
//! Generation is written once, against the [`NodeSource`] trait, so the relayer can
//! back it with its database instead of a [`MerkleLog`] in memory.
//!
//! # Verification
//!
//! [`verify_inclusion`] and [`verify_consistency`] are the algorithms of RFC 9162
//! §2.1.3.2 and §2.1.4.2, plus these stricter rules: the proof must have exactly the
//! canonical length ([`inclusion_proof_len`], [`consistency_proof_len`]), checked
//! before any hashing; size 0, an index beyond the size, a consistency proof from an
//! empty tree and a zero root are rejected with their own [`ProofError`].
//!
//! # Subtrees
//!
//! A *subtree* `[start, end)` is a non-empty range of leaves whose `start` is a
//! multiple of the smallest power of two `≥ end - start`: exactly the ranges that are
//! nodes of some RFC 6962 tree. Its hash is the MTH of those leaves. The `subtree_*`
//! functions generate and verify the two proofs about subtrees defined by the Merkle
//! Tree Certificates draft (draft-ietf-plants-merkle-tree-certs, §4.3 and §4.4) and
//! tested by the published transparency-dev vectors: inclusion of a leaf in a
//! subtree, and consistency of a subtree (by its hash) with a tree that contains it.
//! With `start = 0` they are the plain proofs. The same strict rules apply: invalid
//! subtrees are rejected, proofs must have the canonical length, zero hashes are never
//! accepted.

mod hash;
mod proof;
mod subtree;
pub mod tiles;
mod tree;
mod verify;

use alloy_primitives::B256;

pub use hash::{
    LEAF_PREFIX, NODE_PREFIX, leaf_hash, node_hash, root_from_leaf_hashes, root_of_record_ids,
};
pub use proof::{NodeSource, consistency_proof, inclusion_proof, root_at};
pub use subtree::{
    is_valid_subtree, subtree_consistency_proof, subtree_consistency_proof_len,
    subtree_inclusion_proof, subtree_inclusion_proof_len, subtree_root, verify_subtree_consistency,
    verify_subtree_inclusion,
};
pub use tree::MerkleLog;
pub use verify::{
    consistency_proof_len, inclusion_proof_len, verify_consistency, verify_inclusion,
    verify_record_inclusion,
};

/// Why a root or a proof could not be *generated*.
///
/// These are caller or storage errors (asking for something the log does not have),
/// never evidence that a log misbehaved; that is what [`ProofError`] is for.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The log, or the list of leaves, is empty, and an empty tree has no root.
    #[error("the log is empty: an empty tree has no root and no proofs; append a record first")]
    EmptyLog,
    /// A tree size of 0 was requested (root, inclusion or consistency proof).
    #[error(
        "tree size 0 requested: an empty tree has no root and no proofs; use a size of at least 1"
    )]
    ZeroSize,
    /// A leaf index not below the tree size it should be proven in.
    #[error("leaf index {index} is out of range for a tree of size {size} (valid: 0..{size})")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size (or log size) it was checked against.
        size: u64,
    },
    /// A tree size larger than the log currently holds.
    #[error("tree size {size} is beyond the log, which holds {log_size} leaves")]
    SizeBeyondLog {
        /// The requested tree size.
        size: u64,
        /// The number of leaves in the log.
        log_size: u64,
    },
    /// A consistency proof asked from a larger size to a smaller one.
    #[error(
        "consistency proof requested from size {old_size} to the smaller size {new_size}; the old size must not exceed the new one"
    )]
    SizesOutOfOrder {
        /// The requested old (first) size.
        old_size: u64,
        /// The requested new (second) size.
        new_size: u64,
    },
    /// `[start, end)` is not a valid subtree: it is empty, or `start` is not a
    /// multiple of the smallest power of two `≥ end - start` (see
    /// [`is_valid_subtree`]).
    #[error(
        "[{start}, {end}) is not a valid subtree: it must be non-empty (start < end) and start must be a multiple of the smallest power of two >= end - start"
    )]
    InvalidSubtree {
        /// The requested first leaf.
        start: u64,
        /// The requested end (one past the last leaf).
        end: u64,
    },
    /// A leaf index outside the subtree it should be proven in.
    #[error("leaf index {index} is outside the subtree [{start}, {end})")]
    IndexOutsideSubtree {
        /// The requested leaf index.
        index: u64,
        /// The subtree's first leaf.
        start: u64,
        /// The subtree's end.
        end: u64,
    },
    /// A subtree that ends beyond the tree (or the log) it should be part of.
    #[error("the subtree ending at {end} does not fit in a tree of size {size}")]
    SubtreeBeyondTree {
        /// The subtree's end.
        end: u64,
        /// The tree size (or log size) it was checked against.
        size: u64,
    },
    /// A [`NodeSource`] does not have a node that its size says it should have
    /// (a storage gap or corruption).
    #[error("node source is missing the perfect subtree hash at level {level}, index {index}")]
    MissingNode {
        /// The level of the missing node (0 = leaf hashes).
        level: u32,
        /// The index of the missing node within its level.
        index: u64,
    },
}

/// Why an inclusion or consistency proof was *rejected*.
///
/// Any of these means the proof does not establish what it claims; callers must not
/// act on the record or checkpoint. The variants exist so a person can tell a
/// malformed request (sizes, indices) from a forged or mismatched proof.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The tree size is 0; no leaf can be included in an empty tree.
    #[error("tree size is 0: an empty tree includes nothing")]
    ZeroSize,
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// A root argument is the all-zero hash, which is never a valid root.
    #[error("a root is the zero hash (0x00…00), which is never a valid tree root")]
    ZeroRoot,
    /// A consistency proof from a larger tree to a smaller one.
    #[error("consistency sizes out of order: size1 = {size1} is greater than size2 = {size2}")]
    SizesOutOfOrder {
        /// The claimed old size.
        size1: u64,
        /// The claimed new size.
        size2: u64,
    },
    /// A consistency proof from the empty tree (size1 = 0), which proves nothing.
    #[error("consistency from an empty tree (size1 = 0) proves nothing and is rejected")]
    EmptyTree,
    /// The proof does not have the canonical number of elements for these sizes.
    #[error("proof has {got} hashes but the canonical proof for these sizes has {expected}")]
    WrongProofLength {
        /// The canonical length for the claimed index and sizes.
        expected: usize,
        /// The length of the proof given.
        got: usize,
    },
    /// The root recomputed from the proof is not the claimed (new) root.
    #[error("root mismatch: the proof yields {computed} but the claimed root is {expected}")]
    RootMismatch {
        /// The claimed root (for consistency: the new root, `root2`).
        expected: B256,
        /// The root the proof hashes to.
        computed: B256,
    },
    /// The old root recomputed from a consistency proof is not the claimed `root1`.
    #[error(
        "old root mismatch: the consistency proof yields {computed} for the old tree but the claimed old root is {expected}"
    )]
    OldRootMismatch {
        /// The claimed old root (`root1`).
        expected: B256,
        /// The old root the proof hashes to.
        computed: B256,
    },
    /// `[start, end)` is not a valid subtree (empty, or `start` not aligned to the
    /// smallest power of two `≥ end - start`); see [`is_valid_subtree`].
    #[error(
        "[{start}, {end}) is not a valid subtree: it must be non-empty (start < end) and start must be a multiple of the smallest power of two >= end - start"
    )]
    InvalidSubtree {
        /// The claimed first leaf.
        start: u64,
        /// The claimed end (one past the last leaf).
        end: u64,
    },
    /// The leaf index is not inside the claimed subtree.
    #[error("leaf index {index} is outside the subtree [{start}, {end})")]
    IndexOutsideSubtree {
        /// The claimed leaf index.
        index: u64,
        /// The subtree's first leaf.
        start: u64,
        /// The subtree's end.
        end: u64,
    },
    /// The subtree ends beyond the tree it is claimed to be part of.
    #[error("the subtree ending at {end} does not fit in a tree of size {size}")]
    SubtreeBeyondTree {
        /// The subtree's end.
        end: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The subtree hash recomputed from a subtree consistency proof is not the claimed
    /// one.
    #[error(
        "subtree hash mismatch: the consistency proof yields {computed} for the subtree but the claimed subtree hash is {expected}"
    )]
    SubtreeRootMismatch {
        /// The claimed subtree hash.
        expected: B256,
        /// The subtree hash the proof hashes to.
        computed: B256,
    },
    /// Equal sizes with different roots: two different trees of the same size, which
    /// is a fork (or a wrong root), not a consistent pair.
    #[error("both trees have size {size} but their roots differ ({root1} vs {root2})")]
    EqualSizesDifferentRoots {
        /// The common size.
        size: u64,
        /// The claimed old root.
        root1: B256,
        /// The claimed new root.
        root2: B256,
    },
}
