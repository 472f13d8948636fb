//! [`MerkleLog`]: the append-only in-memory log that stores every perfect subtree.

use std::fmt;
use std::ops::Range;

use alloy_primitives::B256;

use super::hash::parent_level;
use super::proof::{self, NodeSource};
use super::{LogError, leaf_hash, node_hash};

/// An append-only RFC 6962 log held in memory, storing every complete subtree hash.
///
/// `levels[0]` are the leaf hashes; entry `i` of `levels[k]` is the hash of the perfect
/// subtree over leaves `[i·2^k, (i+1)·2^k)`. Roots at any earlier size and both kinds
/// of proof are read from these stored nodes (see the [module docs](super)), so
/// nothing is ever rehashed. Memory: fewer than `2n` hashes (64 bytes per leaf).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MerkleLog {
    levels: Vec<Vec<B256>>,
}

impl fmt::Debug for MerkleLog {
    // The levels can hold millions of hashes; show the shape, not the contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerkleLog")
            .field("size", &self.size())
            .field("levels", &self.levels.len())
            .finish_non_exhaustive()
    }
}

impl MerkleLog {
    /// An empty log.
    pub const fn new() -> Self {
        Self { levels: Vec::new() }
    }

    /// An empty log with room for `leaves` leaves (and all their subtree hashes)
    /// before any reallocation.
    pub fn with_capacity(leaves: usize) -> Self {
        let mut levels = Vec::with_capacity(usize::BITS as usize);
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(n));
            n >>= 1;
        }
        Self { levels }
    }

    /// Builds a log from its leaf hashes (already `0x00`-prefixed and hashed), level by
    /// level, without the per-append bookkeeping: `n - popcount(n)` node hashes.
    pub fn from_leaf_hashes(leaves: Vec<B256>) -> Self {
        let mut levels = Vec::new();
        let mut current = leaves;
        while !current.is_empty() {
            let next = parent_level(&current);
            levels.push(current);
            current = next;
        }
        Self { levels }
    }

    /// Builds a log from record ids, leaf-hashing each one.
    pub fn from_record_ids(ids: &[B256]) -> Self {
        Self::from_leaf_hashes(ids.iter().map(leaf_hash).collect())
    }

    /// Number of leaves in the log.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the log has no leaves.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Appends a record id (its leaf hash is computed here) and returns its leaf index.
    pub fn append(&mut self, record_id: B256) -> u64 {
        self.append_leaf_hash(leaf_hash(&record_id))
    }

    /// Appends an already computed leaf hash and returns its leaf index.
    ///
    /// Completes one stored subtree per trailing one bit of the old size.
    pub fn append_leaf_hash(&mut self, leaf: B256) -> u64 {
        let index = self.size();
        let mut node = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(node);
            let len = row.len();
            if len % 2 == 1 {
                break;
            }
            node = node_hash(&row[len - 2], &row[len - 1]);
            level += 1;
        }
        index
    }

    /// Appends record ids in order; returns the range of leaf indices they received.
    pub fn extend<I: IntoIterator<Item = B256>>(&mut self, record_ids: I) -> Range<u64> {
        self.extend_leaf_hashes(record_ids.into_iter().map(|id| leaf_hash(&id)))
    }

    /// Appends already computed leaf hashes in order; returns the range of leaf
    /// indices they received.
    pub fn extend_leaf_hashes<I: IntoIterator<Item = B256>>(&mut self, leaves: I) -> Range<u64> {
        let start = self.size();
        for leaf in leaves {
            self.append_leaf_hash(leaf);
        }
        start..self.size()
    }

    /// The current root.
    ///
    /// # Errors
    /// [`LogError::EmptyLog`] if nothing has been appended yet.
    pub fn root(&self) -> Result<B256, LogError> {
        match self.size() {
            0 => Err(LogError::EmptyLog),
            size => proof::root_at(self, size),
        }
    }

    /// The root the log had when it held `size` leaves.
    ///
    /// # Errors
    /// [`LogError::ZeroSize`] for 0, [`LogError::SizeBeyondLog`] beyond the log.
    pub fn root_at(&self, size: u64) -> Result<B256, LogError> {
        proof::root_at(self, size)
    }

    /// The leaf hash at `index`.
    ///
    /// # Errors
    /// [`LogError::IndexOutOfRange`] if `index >= size()`.
    pub fn leaf_hash(&self, index: u64) -> Result<B256, LogError> {
        self.node(0, index).map_err(|_| LogError::IndexOutOfRange {
            index,
            size: self.size(),
        })
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    ///
    /// # Errors
    /// See [`inclusion_proof`](super::inclusion_proof).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<B256>, LogError> {
        proof::inclusion_proof(self, index, size)
    }

    /// The consistency proof from the tree of the first `old_size` leaves to that of
    /// the first `new_size` leaves.
    ///
    /// # Errors
    /// See [`consistency_proof`](super::consistency_proof).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<B256>, LogError> {
        proof::consistency_proof(self, old_size, new_size)
    }
}

impl NodeSource for MerkleLog {
    fn size(&self) -> u64 {
        Self::size(self)
    }

    fn node(&self, level: u32, index: u64) -> Result<B256, LogError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(level as usize)?.get(i))
            .copied()
            .ok_or(LogError::MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::root_from_leaf_hashes;

    fn id(i: u64) -> B256 {
        B256::left_padding_from(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes())
    }

    #[test]
    fn empty_log() {
        let log = MerkleLog::new();
        assert_eq!(log.size(), 0);
        assert!(log.is_empty());
        assert_eq!(log.root(), Err(LogError::EmptyLog));
        assert_eq!(log.root_at(0), Err(LogError::ZeroSize));
        assert_eq!(
            log.leaf_hash(0),
            Err(LogError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(MerkleLog::from_leaf_hashes(vec![]), log);
    }

    #[test]
    fn append_returns_indices_and_tracks_roots() {
        let mut log = MerkleLog::with_capacity(100);
        let mut leaves = Vec::new();
        for i in 0..100 {
            assert_eq!(log.append(id(i)), i);
            leaves.push(leaf_hash(&id(i)));
            assert_eq!(log.root().unwrap(), root_from_leaf_hashes(&leaves).unwrap());
            assert_eq!(log.leaf_hash(i).unwrap(), leaves[i as usize]);
        }
        for size in 1..=100u64 {
            assert_eq!(
                log.root_at(size).unwrap(),
                root_from_leaf_hashes(&leaves[..size as usize]).unwrap()
            );
        }
    }

    #[test]
    fn bulk_builds_equal_appends() {
        for n in [1u64, 2, 3, 7, 8, 9, 63, 64, 65, 100] {
            let ids: Vec<B256> = (0..n).map(id).collect();
            let mut appended = MerkleLog::new();
            assert_eq!(appended.extend(ids.iter().copied()), 0..n);
            assert_eq!(MerkleLog::from_record_ids(&ids), appended, "n = {n}");
            let mut by_leaf = MerkleLog::new();
            by_leaf.extend_leaf_hashes(ids.iter().map(leaf_hash));
            assert_eq!(by_leaf, appended);
        }
    }

    #[test]
    fn stored_nodes_are_perfect_subtrees() {
        let ids: Vec<B256> = (0..37).map(id).collect();
        let leaves: Vec<B256> = ids.iter().map(leaf_hash).collect();
        let log = MerkleLog::from_leaf_hashes(leaves.clone());
        for level in 0..6u32 {
            let width = 1usize << level;
            for i in 0..(37 / width) {
                let want = root_from_leaf_hashes(&leaves[i * width..(i + 1) * width]).unwrap();
                assert_eq!(log.node(level, i as u64).unwrap(), want);
            }
            let past = (37 / width) as u64;
            assert_eq!(
                log.node(level, past),
                Err(LogError::MissingNode { level, index: past })
            );
        }
    }

    #[test]
    fn debug_is_short() {
        let log = MerkleLog::from_record_ids(&[id(1), id(2), id(3)]);
        let s = format!("{log:?}");
        assert!(s.contains("size: 3"), "{s}");
        assert!(s.len() < 80, "{s}");
    }
}
