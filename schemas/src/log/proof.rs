//! Proof generation over any store of perfect subtree hashes.
//!
//! The algorithms are RFC 6962 §2.1.1 `PATH` and §2.1.2 `PROOF`/`SUBPROOF`, unrolled
//! into loops that walk from the root down and reverse the result at the end (the RFC
//! lists proofs leaf-first). Each step needs the MTH of one subtree; the left side of
//! a split is always perfect (one [`NodeSource::node`] read) and the right side is
//! assembled from at most one perfect node per set bit of its size
//! ([`range_root`]).

use alloy_primitives::B256;

use super::{LogError, node_hash};

/// Where proof generation reads the log's perfect subtree hashes from.
///
/// Contract: `node(level, index)` returns the hash of the perfect subtree over leaves
/// `[index·2^level, (index+1)·2^level)`; level 0 is the leaf hashes themselves. It is
/// only called for subtrees that lie entirely within `[0, size())`, and must return the
/// same value every time (the log is append-only). A node that should exist but does
/// not is an error ([`LogError::MissingNode`] or the implementor's equivalent), never a
/// made-up hash. Implementations backed by a database may fail for I/O reasons; they
/// report that as a [`LogError`] too.
pub trait NodeSource {
    /// Number of leaves currently in the log.
    fn size(&self) -> u64;

    /// The hash of the perfect subtree at `level`, `index` (see the trait docs).
    ///
    /// # Errors
    /// If the node is not available.
    fn node(&self, level: u32, index: u64) -> Result<B256, LogError>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn node(&self, level: u32, index: u64) -> Result<B256, LogError> {
        (**self).node(level, index)
    }
}

/// Largest power of two strictly below `n` (`n ≥ 2`), as its exponent.
#[inline]
pub(crate) fn split_exponent(n: u64) -> u32 {
    debug_assert!(n >= 2);
    63 - (n - 1).leading_zeros()
}

/// The MTH of leaves `[start, start + len)`, for `len ≥ 1` and `start` a multiple of
/// the smallest power of two ≥ `len` (true of every subtree RFC 6962 ever builds).
///
/// Such a range is the concatenation of perfect subtrees, one per set bit of `len`,
/// largest first; its RFC 6962 tree is those subtrees folded right to left.
pub(crate) fn range_root<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    len: u64,
) -> Result<B256, LogError> {
    debug_assert!(len >= 1);
    // Collect the perfect pieces largest first; at most 64 of them, no allocation.
    let mut pieces = [B256::ZERO; 64];
    let mut count = 0;
    let mut offset = start;
    let mut rest = len;
    while rest != 0 {
        let level = 63 - rest.leading_zeros();
        pieces[count] = src.node(level, offset >> level)?;
        count += 1;
        offset += 1 << level;
        rest &= !(1u64 << level);
    }
    let Some((last, init)) = pieces[..count].split_last() else {
        return Err(LogError::ZeroSize);
    };
    Ok(init
        .iter()
        .rev()
        .fold(*last, |acc, left| node_hash(left, &acc)))
}

pub(crate) fn check_size<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<(), LogError> {
    if size == 0 {
        return Err(LogError::ZeroSize);
    }
    let log_size = src.size();
    if size > log_size {
        return Err(LogError::SizeBeyondLog { size, log_size });
    }
    Ok(())
}

/// The root of the log as it was when it held `size` leaves, from stored nodes only.
///
/// Reads at most one node per set bit of `size` and hashes as many times.
///
/// # Errors
/// [`LogError::ZeroSize`] for size 0, [`LogError::SizeBeyondLog`] if the log is
/// smaller, or whatever the source reports for a missing node.
pub fn root_at<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<B256, LogError> {
    check_size(src, size)?;
    range_root(src, 0, size)
}

/// The RFC 6962 audit path (inclusion proof) of leaf `index` in the tree of the first
/// `size` leaves, leaf-side first, exactly [`super::inclusion_proof_len`] hashes long.
///
/// # Errors
/// [`LogError::ZeroSize`], [`LogError::SizeBeyondLog`],
/// [`LogError::IndexOutOfRange`] (`index >= size`), or a missing node.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<B256>, LogError> {
    check_size(src, size)?;
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    audit_path(src, index, 0, size)
}

/// The RFC 6962 audit path of leaf `index` in the tree over leaves
/// `[base, base + size)`, leaf-side first. The caller has checked that `size ≥ 1`,
/// that `base ≤ index < base + size`, that the range lies in the log, and that `base`
/// is a multiple of the smallest power of two `≥ size` (base 0, or a valid subtree).
pub(crate) fn audit_path<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    base: u64,
    size: u64,
) -> Result<Vec<B256>, LogError> {
    let mut proof = Vec::with_capacity(64 - size.leading_zeros() as usize);
    // PATH(m, D[start, start + n]), m relative to start; the subtree always starts at
    // a multiple of its split point, so the left half is the stored node
    // (level k, start >> k).
    let (mut start, mut n) = (base, size);
    while n > 1 {
        let k = split_exponent(n);
        let half = 1u64 << k;
        if index - start < half {
            proof.push(range_root(src, start + half, n - half)?);
            n = half;
        } else {
            proof.push(src.node(k, start >> k)?);
            start += half;
            n -= half;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The RFC 6962 consistency proof between the trees of the first `old_size` and the
/// first `new_size` leaves, exactly [`super::consistency_proof_len`] hashes long
/// (empty when the sizes are equal).
///
/// # Errors
/// [`LogError::ZeroSize`] if `old_size` is 0 (consistency with the empty tree is not
/// meaningful here), [`LogError::SizesOutOfOrder`], [`LogError::SizeBeyondLog`], or a
/// missing node.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<B256>, LogError> {
    if old_size > new_size {
        return Err(LogError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 {
        return Err(LogError::ZeroSize);
    }
    check_size(src, new_size)?;
    let mut proof = Vec::with_capacity(2 * (64 - new_size.leading_zeros() as usize));
    if old_size == new_size {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start, start + n], b), with m relative to start.
    let (mut start, mut n, mut m, mut whole) = (0u64, new_size, old_size, true);
    loop {
        if m == n {
            if !whole {
                proof.push(range_root(src, start, n)?);
            }
            break;
        }
        let k = split_exponent(n);
        let half = 1u64 << k;
        if m <= half {
            proof.push(range_root(src, start + half, n - half)?);
            n = half;
        } else {
            proof.push(src.node(k, start >> k)?);
            start += half;
            n -= half;
            m -= half;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{MerkleLog, consistency_proof_len, inclusion_proof_len};

    fn log_of(n: u64) -> MerkleLog {
        let mut log = MerkleLog::new();
        for i in 0..n {
            log.append(B256::with_last_byte(i as u8) ^ B256::left_padding_from(&i.to_be_bytes()));
        }
        log
    }

    #[test]
    fn split_exponent_is_largest_power_below() {
        assert_eq!(split_exponent(2), 0);
        assert_eq!(split_exponent(3), 1);
        assert_eq!(split_exponent(4), 1);
        assert_eq!(split_exponent(5), 2);
        assert_eq!(split_exponent(1 << 40), 39);
        assert_eq!(split_exponent((1 << 40) + 1), 40);
        assert_eq!(split_exponent(u64::MAX), 63);
    }

    #[test]
    fn proof_lengths_are_canonical() {
        let log = log_of(70);
        for size in 1..=70 {
            for index in 0..size {
                let p = inclusion_proof(&log, index, size).unwrap();
                assert_eq!(p.len(), inclusion_proof_len(index, size).unwrap());
            }
            for old in 1..=size {
                let p = consistency_proof(&log, old, size).unwrap();
                assert_eq!(p.len(), consistency_proof_len(old, size).unwrap());
            }
        }
    }

    #[test]
    fn generation_rejects_bad_requests() {
        let log = log_of(5);
        assert_eq!(root_at(&log, 0), Err(LogError::ZeroSize));
        assert_eq!(
            root_at(&log, 6),
            Err(LogError::SizeBeyondLog {
                size: 6,
                log_size: 5
            })
        );
        assert_eq!(
            inclusion_proof(&log, 5, 5),
            Err(LogError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert_eq!(inclusion_proof(&log, 0, 0), Err(LogError::ZeroSize));
        assert_eq!(
            consistency_proof(&log, 3, 2),
            Err(LogError::SizesOutOfOrder {
                old_size: 3,
                new_size: 2
            })
        );
        assert_eq!(consistency_proof(&log, 0, 2), Err(LogError::ZeroSize));
        assert_eq!(
            consistency_proof(&log, 2, 9),
            Err(LogError::SizeBeyondLog {
                size: 9,
                log_size: 5
            })
        );
        assert_eq!(consistency_proof(&log, 3, 3), Ok(vec![]));
    }

    /// A source with a hole reports it instead of inventing a hash.
    struct Holey(MerkleLog);
    impl NodeSource for Holey {
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn node(&self, level: u32, index: u64) -> Result<B256, LogError> {
            if level == 1 && index == 0 {
                return Err(LogError::MissingNode { level, index });
            }
            self.0.node(level, index)
        }
    }

    #[test]
    fn missing_node_is_reported() {
        let src = Holey(log_of(4));
        assert_eq!(
            inclusion_proof(&src, 3, 4),
            Err(LogError::MissingNode { level: 1, index: 0 })
        );
        assert!(root_at(&src, 3).is_err());
        assert!(root_at(&src, 1).is_ok());
    }
}
