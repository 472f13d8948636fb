//! Proof verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
//!
//! The loops below are the RFC's step lists, step for step, with `fn`/`sn` renamed
//! `f`/`s`. On top of them, every argument is checked before any hashing: sizes, the
//! index, zero roots, and the proof length, which must be the canonical one. The RFC
//! loop already fails on most wrong lengths (`sn` must reach exactly 0), but checking
//! the length first makes a padded or truncated proof a clear, cheap
//! [`ProofError::WrongProofLength`] instead of a root mismatch.

use alloy_primitives::B256;

use super::{ProofError, leaf_hash, node_hash};

/// Number of bits needed to represent `x` (0 for 0).
#[inline]
pub(super) const fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// The canonical length of the inclusion proof of leaf `index` in a tree of `size`.
///
/// It is the number of levels below the node where the paths to `index` and to the last
/// leaf `size - 1` fork (every such level has a sibling), plus one per left subtree
/// above that fork (the set bits of `index` above it).
///
/// # Errors
/// [`ProofError::ZeroSize`] or [`ProofError::IndexOutOfRange`].
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, ProofError> {
    if size == 0 {
        return Err(ProofError::ZeroSize);
    }
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let inner = bit_len(index ^ (size - 1));
    // `inner` can be 64, where a plain shift would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Ok((inner + border) as usize)
}

/// The canonical length of the consistency proof from a tree of `size1` to one of
/// `size2` leaves (0 when the sizes are equal).
///
/// It is the inclusion path of leaf `size1 - 1` in the tree of `size2`, minus the
/// levels inside the largest perfect subtree that ends at `size1` (those are implied
/// by the old root), plus that subtree's own hash unless it is the whole old tree
/// (`size1` a power of two, when the verifier starts from `root1` instead).
///
/// # Errors
/// [`ProofError::SizesOutOfOrder`] if `size1 > size2`, [`ProofError::EmptyTree`] if
/// `size1` is 0.
pub fn consistency_proof_len(size1: u64, size2: u64) -> Result<usize, ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyTree);
    }
    if size1 == size2 {
        return Ok(0);
    }
    // size1 < size2 here, so the paths to size1 - 1 and size2 - 1 fork above the
    // perfect subtree ending at size1.
    Ok(fork_proof_len(size1, size1 - 1, size2 - 1))
}

/// The proof length shared by consistency and subtree-consistency proofs: a subtree of
/// `len` leaves whose last leaf is `last`, inside a tree whose last leaf is `tree_last`
/// (`last < tree_last`, so the two paths fork above the largest perfect subtree ending
/// at `last + 1`: `inner > shift`). The inclusion path of `last` above that perfect
/// subtree, plus its own hash unless it is the whole subtree.
pub(super) fn fork_proof_len(len: u64, last: u64, tree_last: u64) -> usize {
    let inner = bit_len(last ^ tree_last);
    let border = last.checked_shr(inner).unwrap_or(0).count_ones();
    let shift = len.trailing_zeros();
    let seed = u32::from(!len.is_power_of_two());
    (inner - shift + border + seed) as usize
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root
/// is `root`, following RFC 9162 §2.1.3.2.
///
/// `leaf_hash` is the RFC 6962 leaf hash (`SHA-256(0x00 || record_id)`); use
/// [`verify_record_inclusion`] to pass the record id instead.
///
/// # Errors
/// [`ProofError::ZeroSize`], [`ProofError::IndexOutOfRange`],
/// [`ProofError::ZeroRoot`], [`ProofError::WrongProofLength`] (checked before any
/// hashing), or [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf_hash: &B256,
    index: u64,
    size: u64,
    proof: &[B256],
    root: &B256,
) -> Result<(), ProofError> {
    let expected = inclusion_proof_len(index, size)?;
    if root.is_zero() {
        return Err(ProofError::ZeroRoot);
    }
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // Steps 2–5 of §2.1.3.2.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// [`verify_inclusion`] for a record id: hashes it into its leaf hash first.
///
/// # Errors
/// As [`verify_inclusion`].
pub fn verify_record_inclusion(
    record_id: &B256,
    index: u64,
    size: u64,
    proof: &[B256],
    root: &B256,
) -> Result<(), ProofError> {
    verify_inclusion(&leaf_hash(record_id), index, size, proof, root)
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree of
/// `size1` leaves with root `root1`, following RFC 9162 §2.1.4.2.
///
/// Equal sizes need an empty proof and equal roots. `size1 = 0` is rejected
/// ([`ProofError::EmptyTree`]): every tree extends the empty one, so such a "proof"
/// would establish nothing while looking like evidence.
///
/// # Errors
/// [`ProofError::SizesOutOfOrder`], [`ProofError::EmptyTree`],
/// [`ProofError::ZeroRoot`], [`ProofError::WrongProofLength`] (checked before any
/// hashing), [`ProofError::EqualSizesDifferentRoots`],
/// [`ProofError::OldRootMismatch`] or [`ProofError::RootMismatch`].
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &B256,
    root2: &B256,
    proof: &[B256],
) -> Result<(), ProofError> {
    let expected = consistency_proof_len(size1, size2)?;
    if root1.is_zero() || root2.is_zero() {
        return Err(ProofError::ZeroRoot);
    }
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    if size1 == size2 {
        if root1 != root2 {
            return Err(ProofError::EqualSizesDifferentRoots {
                size: size1,
                root1: *root1,
                root2: *root2,
            });
        }
        return Ok(());
    }
    // Steps 1–2: a power-of-two old tree is itself the first node of the path.
    let seed = size1.is_power_of_two().then_some(root1);
    let mut path = seed.into_iter().chain(proof);
    let Some(first) = path.next() else {
        return Err(wrong_length);
    };
    // Steps 3–4.
    let (mut f, mut s) = (size1 - 1, size2 - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Steps 5–6.
    let (mut fr, mut sr) = (*first, *first);
    for c in path {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(wrong_length);
    }
    if fr != *root1 {
        return Err(ProofError::OldRootMismatch {
            expected: *root1,
            computed: fr,
        });
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch {
            expected: *root2,
            computed: sr,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::MerkleLog;

    fn log_of(n: u64) -> MerkleLog {
        MerkleLog::from_record_ids(
            &(0..n)
                .map(|i| B256::left_padding_from(&(i + 1).to_be_bytes()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn inclusion_len_examples() {
        assert_eq!(inclusion_proof_len(0, 1), Ok(0));
        assert_eq!(inclusion_proof_len(0, 8), Ok(3));
        assert_eq!(inclusion_proof_len(5, 8), Ok(3));
        assert_eq!(inclusion_proof_len(2, 3), Ok(1));
        assert_eq!(inclusion_proof_len(1, 5), Ok(3));
        assert_eq!(inclusion_proof_len(4, 5), Ok(1));
        assert_eq!(inclusion_proof_len(0, 0), Err(ProofError::ZeroSize));
        assert_eq!(
            inclusion_proof_len(3, 3),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Ok(63));
        assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
        assert_eq!(inclusion_proof_len(1 << 63, u64::MAX), Ok(64));
    }

    #[test]
    fn consistency_len_examples() {
        assert_eq!(consistency_proof_len(1, 1), Ok(0));
        assert_eq!(consistency_proof_len(1, 8), Ok(3));
        assert_eq!(consistency_proof_len(6, 8), Ok(3));
        assert_eq!(consistency_proof_len(2, 5), Ok(2));
        assert_eq!(consistency_proof_len(6, 7), Ok(3));
        assert_eq!(consistency_proof_len(4, 8), Ok(1));
        assert_eq!(consistency_proof_len(0, 3), Err(ProofError::EmptyTree));
        assert_eq!(consistency_proof_len(0, 0), Err(ProofError::EmptyTree));
        assert_eq!(
            consistency_proof_len(4, 3),
            Err(ProofError::SizesOutOfOrder { size1: 4, size2: 3 })
        );
        assert!(consistency_proof_len(u64::MAX - 1, u64::MAX).is_ok());
        assert_eq!(consistency_proof_len(1, u64::MAX), Ok(64));
        assert!(consistency_proof_len(3, u64::MAX).is_ok());
    }

    #[test]
    fn inclusion_roundtrip_and_rejections() {
        let log = log_of(11);
        let root = log.root().unwrap();
        let leaf = log.leaf_hash(6).unwrap();
        let proof = log.inclusion_proof(6, 11).unwrap();
        assert_eq!(verify_inclusion(&leaf, 6, 11, &proof, &root), Ok(()));
        let id = B256::left_padding_from(&7u64.to_be_bytes());
        assert_eq!(verify_record_inclusion(&id, 6, 11, &proof, &root), Ok(()));

        assert_eq!(
            verify_inclusion(&leaf, 6, 0, &proof, &root),
            Err(ProofError::ZeroSize)
        );
        assert_eq!(
            verify_inclusion(&leaf, 11, 11, &proof, &root),
            Err(ProofError::IndexOutOfRange {
                index: 11,
                size: 11
            })
        );
        assert_eq!(
            verify_inclusion(&leaf, 6, 11, &proof, &B256::ZERO),
            Err(ProofError::ZeroRoot)
        );
        let mut long = proof.clone();
        long.push(root);
        assert_eq!(
            verify_inclusion(&leaf, 6, 11, &long, &root),
            Err(ProofError::WrongProofLength {
                expected: proof.len(),
                got: proof.len() + 1
            })
        );
        assert!(matches!(
            verify_inclusion(&leaf, 7, 11, &proof, &root),
            Err(ProofError::RootMismatch { .. })
        ));
    }

    #[test]
    fn single_leaf_tree_root_is_the_leaf() {
        let leaf = B256::repeat_byte(7);
        assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
        assert!(verify_inclusion(&leaf, 0, 1, &[], &B256::repeat_byte(8)).is_err());
    }

    #[test]
    fn consistency_roundtrip_and_rejections() {
        let log = log_of(13);
        let (r5, r13) = (log.root_at(5).unwrap(), log.root().unwrap());
        let proof = log.consistency_proof(5, 13).unwrap();
        assert_eq!(verify_consistency(5, 13, &r5, &r13, &proof), Ok(()));

        assert_eq!(
            verify_consistency(13, 5, &r13, &r5, &proof),
            Err(ProofError::SizesOutOfOrder {
                size1: 13,
                size2: 5
            })
        );
        assert_eq!(
            verify_consistency(0, 13, &r5, &r13, &proof),
            Err(ProofError::EmptyTree)
        );
        assert_eq!(
            verify_consistency(0, 0, &r5, &r5, &[]),
            Err(ProofError::EmptyTree)
        );
        assert_eq!(
            verify_consistency(5, 13, &B256::ZERO, &r13, &proof),
            Err(ProofError::ZeroRoot)
        );
        assert_eq!(
            verify_consistency(5, 13, &r5, &B256::ZERO, &proof),
            Err(ProofError::ZeroRoot)
        );
        assert!(matches!(
            verify_consistency(5, 13, &r13, &r13, &proof),
            Err(ProofError::OldRootMismatch { .. })
        ));
        assert!(matches!(
            verify_consistency(5, 13, &r5, &r5, &proof),
            Err(ProofError::RootMismatch { .. })
        ));
        assert_eq!(
            verify_consistency(5, 13, &r5, &r13, &proof[1..]),
            Err(ProofError::WrongProofLength {
                expected: proof.len(),
                got: proof.len() - 1
            })
        );

        assert_eq!(verify_consistency(13, 13, &r13, &r13, &[]), Ok(()));
        assert_eq!(
            verify_consistency(13, 13, &r13, &r13, &[r13]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            verify_consistency(13, 13, &r5, &r13, &[]),
            Err(ProofError::EqualSizesDifferentRoots {
                size: 13,
                root1: r5,
                root2: r13
            })
        );
    }

    #[test]
    fn errors_name_their_values() {
        let e = ProofError::WrongProofLength {
            expected: 3,
            got: 4,
        };
        assert!(e.to_string().contains('3') && e.to_string().contains('4'));
        let e = ProofError::IndexOutOfRange { index: 9, size: 2 };
        assert!(e.to_string().contains('9') && e.to_string().contains('2'));
    }
}
