//! Tile arithmetic for a log stored as C2SP `tlog-tiles`: no I/O, only which tiles
//! hold which nodes, what an append writes, and a [`NodeSource`] over fetched tiles.
//!
//! # Layout
//!
//! A tile is identified by its tile level `L` and index `N`. Its row holds up to
//! [`TILE_WIDTH`] = 256 consecutive hashes of tree level `8·L`: entry `j` is the
//! perfect subtree hash at tree level `8·L`, index `256·N + j` (level 0 tiles hold
//! the leaf hashes). The nodes of tree levels `8·L + 1 … 8·L + 7` above that row are
//! not stored; they are recomputed from the row (at most 127 node hashes). A tile is
//! *full* at 256 entries; the right-most tile of a level is partial while the log
//! grows and is rewritten with more entries (its prefix never changes, so a wider
//! version serves every older tree size too).
//!
//! For a log of `n` leaves, tree level `8·L` has `⌊n / 256^L⌋` complete nodes, so
//! the stored state is `n/255` tiles' worth of hashes beyond the leaf hashes, an
//! append writes one partial tile per tile level (plus every tile it fills), and the
//! *right edge* an appender needs is one partial row per tile level — `O(log n)`.
//!
//! # Reading
//!
//! Proof generation ([`super::proof`]) asks a [`NodeSource`] for perfect subtree
//! hashes; which nodes it asks for depends only on the sizes and indices, never on
//! hash values. [`tiles_for`] runs the generator once against a recorder to learn
//! which tiles a root or proof needs (`O(log n)` of them), the caller fetches those,
//! and [`TileSet`] answers the real run from them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::B256;

use super::LogError;
use super::hash::node_hash;
use super::proof::{self, NodeSource};

/// Tree levels per tile.
pub const TILE_HEIGHT: u32 = 8;

/// Hashes in a full tile row (`2^TILE_HEIGHT`).
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A tile: tile level (its row is tree level `8·level`) and index within that level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileKey {
    /// Tile level; the row holds hashes of tree level `TILE_HEIGHT · level`.
    pub level: u32,
    /// Index of the tile within its level.
    pub index: u64,
}

/// Where the perfect subtree at tree `level`, `index` lives: the tile, the offset of
/// its first row entry and how many row entries it spans (`2^(level mod 8)`).
pub fn locate_node(level: u32, index: u64) -> (TileKey, u64, u64) {
    let tile_level = level / TILE_HEIGHT;
    let rise = level % TILE_HEIGHT;
    let first = index << rise;
    (
        TileKey {
            level: tile_level,
            index: first / TILE_WIDTH,
        },
        first % TILE_WIDTH,
        1 << rise,
    )
}

/// The partial (right-most, not full) tiles of a log of `size` leaves, with the number
/// of entries each holds: the right edge an appender continues from.
pub fn edge_tiles(size: u64) -> Vec<(TileKey, u64)> {
    let mut out = Vec::new();
    let mut level = 0u32;
    while level * TILE_HEIGHT < 64 {
        let count = size >> (level * TILE_HEIGHT);
        if count == 0 {
            break;
        }
        let width = count % TILE_WIDTH;
        if width > 0 {
            out.push((
                TileKey {
                    level,
                    index: count / TILE_WIDTH,
                },
                width,
            ));
        }
        level += 1;
    }
    out
}

/// The hash of a perfect run of `2^k ≤ 256` hashes (`row.len()` a power of two).
fn perfect_root(row: &[B256]) -> B256 {
    let mut buf = [B256::ZERO; TILE_WIDTH as usize];
    let mut len = row.len().min(buf.len());
    buf[..len].copy_from_slice(&row[..len]);
    while len > 1 {
        for i in 0..len / 2 {
            buf[i] = node_hash(&buf[2 * i], &buf[2 * i + 1]);
        }
        len /= 2;
    }
    buf[0]
}

/// Appends leaf hashes to a tiled log of `size` leaves whose right edge is `edge`
/// (the rows of [`edge_tiles`]`(size)`, keyed by tile) and returns every tile whose
/// row changed, with its new full row, in key order. Write them all (upsert) and the
/// log has `size + leaves.len()` leaves.
///
/// # Errors
/// [`LogError::MissingNode`] if `edge` lacks a partial tile of `size` or holds one of
/// the wrong width (a storage gap or corruption).
pub fn append_leaves(
    size: u64,
    edge: &BTreeMap<TileKey, Vec<B256>>,
    leaves: &[B256],
) -> Result<Vec<(TileKey, Vec<B256>)>, LogError> {
    // Open rows per tile level, starting from the stored partial tiles.
    let mut rows: Vec<(u64, Vec<B256>)> = Vec::new();
    let mut level = 0u32;
    while level * TILE_HEIGHT < 64 {
        let count = size >> (level * TILE_HEIGHT);
        if count == 0 && level > 0 {
            break;
        }
        let key = TileKey {
            level,
            index: count / TILE_WIDTH,
        };
        let width = count % TILE_WIDTH;
        let row = if width == 0 {
            Vec::new()
        } else {
            match edge.get(&key) {
                Some(row) if row.len() as u64 >= width => row[..width as usize].to_vec(),
                _ => {
                    return Err(LogError::MissingNode {
                        level: level * TILE_HEIGHT,
                        index: count - 1,
                    });
                }
            }
        };
        rows.push((key.index, row));
        level += 1;
    }
    let mut written: BTreeMap<TileKey, Vec<B256>> = BTreeMap::new();
    let mut touched: BTreeSet<usize> = BTreeSet::new();
    for leaf in leaves {
        let mut node = *leaf;
        let mut l = 0usize;
        loop {
            if rows.len() == l {
                rows.push((0, Vec::new()));
            }
            let (index, row) = &mut rows[l];
            row.push(node);
            touched.insert(l);
            if row.len() as u64 != TILE_WIDTH {
                break;
            }
            node = perfect_root(row);
            let full = std::mem::take(row);
            written.insert(
                TileKey {
                    level: l as u32,
                    index: *index,
                },
                full,
            );
            *index += 1;
            l += 1;
        }
    }
    for l in touched {
        let (index, row) = &rows[l];
        if !row.is_empty() {
            written.insert(
                TileKey {
                    level: l as u32,
                    index: *index,
                },
                row.clone(),
            );
        }
    }
    Ok(written.into_iter().collect())
}

/// Which stored subtrees a log read needs: run `read` against a recorder of a log of
/// `size` leaves and return the tiles the nodes it asked for live in.
///
/// The proof generators ask for nodes independently of their values, so the real run
/// over a [`TileSet`] of these tiles asks for exactly the same nodes.
pub fn tiles_for<T>(
    size: u64,
    read: impl FnOnce(&dyn NodeSource) -> Result<T, LogError>,
) -> Result<BTreeSet<TileKey>, LogError> {
    struct Recorder {
        size: u64,
        asked: RefCell<BTreeSet<TileKey>>,
    }
    impl NodeSource for Recorder {
        fn size(&self) -> u64 {
            self.size
        }
        fn node(&self, level: u32, index: u64) -> Result<B256, LogError> {
            self.asked.borrow_mut().insert(locate_node(level, index).0);
            Ok(B256::with_last_byte(1))
        }
    }
    let recorder = Recorder {
        size,
        asked: RefCell::new(BTreeSet::new()),
    };
    read(&recorder)?;
    Ok(recorder.asked.into_inner())
}

/// The tiles needed for [`proof::root_at`] at `size` in a log of `log_size` leaves.
///
/// # Errors
/// As [`proof::root_at`].
pub fn tiles_for_root(log_size: u64, size: u64) -> Result<BTreeSet<TileKey>, LogError> {
    tiles_for(log_size, |s| proof::root_at(s, size))
}

/// The tiles needed for [`proof::inclusion_proof`] of `index` at `size`.
///
/// # Errors
/// As [`proof::inclusion_proof`].
pub fn tiles_for_inclusion(
    log_size: u64,
    index: u64,
    size: u64,
) -> Result<BTreeSet<TileKey>, LogError> {
    tiles_for(log_size, |s| proof::inclusion_proof(s, index, size))
}

/// The tiles needed for [`proof::consistency_proof`] from `old_size` to `new_size`.
///
/// # Errors
/// As [`proof::consistency_proof`].
pub fn tiles_for_consistency(
    log_size: u64,
    old_size: u64,
    new_size: u64,
) -> Result<BTreeSet<TileKey>, LogError> {
    tiles_for(log_size, |s| {
        proof::consistency_proof(s, old_size, new_size)
    })
}

/// A log of `size` leaves seen through some of its tiles: a [`NodeSource`] that
/// answers every node inside the tiles it holds and reports any other as missing.
#[derive(Clone, Debug, Default)]
pub struct TileSet {
    size: u64,
    tiles: BTreeMap<TileKey, Vec<B256>>,
}

impl TileSet {
    /// A log of `size` leaves with these tiles (rows may be wider than `size` needs:
    /// a later version of a partial tile serves every earlier size).
    pub fn new(size: u64, tiles: BTreeMap<TileKey, Vec<B256>>) -> Self {
        Self { size, tiles }
    }
}

impl NodeSource for TileSet {
    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u32, index: u64) -> Result<B256, LogError> {
        let (key, offset, count) = locate_node(level, index);
        let row = self
            .tiles
            .get(&key)
            .ok_or(LogError::MissingNode { level, index })?;
        let end = (offset + count) as usize;
        if end > row.len() {
            return Err(LogError::MissingNode { level, index });
        }
        Ok(perfect_root(&row[offset as usize..end]))
    }
}

/// A tile row as stored: the hashes concatenated, 32 bytes each.
pub fn encode_row(row: &[B256]) -> Vec<u8> {
    let mut out = Vec::with_capacity(row.len() * 32);
    for h in row {
        out.extend_from_slice(h.as_slice());
    }
    out
}

/// A stored tile row back to hashes; `None` unless it is 1–256 whole hashes.
pub fn decode_row(bytes: &[u8]) -> Option<Vec<B256>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) || bytes.len() as u64 > TILE_WIDTH * 32 {
        return None;
    }
    Some(bytes.chunks_exact(32).map(B256::from_slice).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{MerkleLog, leaf_hash};

    fn id(i: u64) -> B256 {
        B256::left_padding_from(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes())
    }

    /// Appends in uneven batches, as the store does, keeping every tile written.
    fn tiled(n: u64, batch: u64) -> BTreeMap<TileKey, Vec<B256>> {
        let mut store = BTreeMap::new();
        let mut size = 0;
        while size < n {
            let take = batch.min(n - size);
            let leaves: Vec<B256> = (size..size + take).map(|i| leaf_hash(&id(i))).collect();
            let edge: BTreeMap<_, _> = edge_tiles(size)
                .into_iter()
                .map(|(k, _)| (k, store.get(&k).cloned().unwrap()))
                .collect();
            for (k, row) in append_leaves(size, &edge, &leaves).unwrap() {
                store.insert(k, row);
            }
            size += take;
        }
        store
    }

    #[test]
    fn tiles_answer_like_the_reference() {
        for (n, batch) in [
            (1u64, 1u64),
            (255, 7),
            (256, 256),
            (257, 100),
            (70_000, 999),
        ] {
            let tiles = tiled(n, batch);
            let reference = MerkleLog::from_record_ids(&(0..n).map(id).collect::<Vec<_>>());
            let set = TileSet::new(n, tiles.clone());
            for size in [1, n / 3 + 1, n] {
                let need = tiles_for_root(n, size).unwrap();
                assert!(need.len() <= 2 * 3, "{need:?}");
                assert_eq!(
                    proof::root_at(&set, size),
                    reference.root_at(size),
                    "n {n} size {size}"
                );
                let only: BTreeMap<_, _> = need.iter().map(|k| (*k, tiles[k].clone())).collect();
                assert_eq!(
                    proof::root_at(&TileSet::new(n, only), size),
                    reference.root_at(size)
                );
            }
            let index = n / 2;
            assert_eq!(
                proof::inclusion_proof(&set, index, n),
                reference.inclusion_proof(index, n)
            );
        }
    }

    #[test]
    fn edge_and_codec() {
        assert_eq!(edge_tiles(0), vec![]);
        assert_eq!(edge_tiles(256), vec![(TileKey { level: 1, index: 0 }, 1)]);
        assert_eq!(
            edge_tiles(257),
            vec![
                (TileKey { level: 0, index: 1 }, 1),
                (TileKey { level: 1, index: 0 }, 1)
            ]
        );
        let row = vec![B256::repeat_byte(3); 5];
        assert_eq!(decode_row(&encode_row(&row)), Some(row));
        assert_eq!(decode_row(&[0; 31]), None);
        assert_eq!(decode_row(&[]), None);
        assert_eq!(
            append_leaves(5, &BTreeMap::new(), &[B256::ZERO]),
            Err(LogError::MissingNode { level: 0, index: 4 })
        );
    }
}
