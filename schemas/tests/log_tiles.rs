//! The tiled log (`log::tiles`) against the reference [`MerkleLog`] and the published
//! RFC 6962 vectors: tiles appended in uneven batches, then every root and proof read
//! through a [`TileSet`] of exactly the tiles `tiles_for_*` said were needed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use evidence_schemas::B256;
use evidence_schemas::log::tiles::{
    TileKey, TileSet, append_leaves, edge_tiles, tiles_for_consistency, tiles_for_inclusion,
    tiles_for_root,
};
use evidence_schemas::log::{MerkleLog, consistency_proof, inclusion_proof, leaf_hash, root_at};
use sha2::{Digest, Sha256};

/// A tiled log, as a store would hold it.
struct Tiled {
    size: u64,
    tiles: BTreeMap<TileKey, Vec<B256>>,
}

impl Tiled {
    fn new() -> Self {
        Self {
            size: 0,
            tiles: BTreeMap::new(),
        }
    }

    fn append(&mut self, leaves: &[B256]) {
        let edge: BTreeMap<_, _> = edge_tiles(self.size)
            .into_iter()
            .map(|(k, width)| {
                let row = self.tiles[&k].clone();
                assert_eq!(row.len() as u64, width, "edge tile {k:?}");
                (k, row)
            })
            .collect();
        for (k, row) in append_leaves(self.size, &edge, leaves).unwrap() {
            self.tiles.insert(k, row);
        }
        self.size += leaves.len() as u64;
    }

    /// A view holding only the tiles in `keys` (what a store would fetch).
    fn only(&self, keys: &std::collections::BTreeSet<TileKey>) -> TileSet {
        TileSet::new(
            self.size,
            keys.iter().map(|k| (*k, self.tiles[k].clone())).collect(),
        )
    }

    fn root(&self, size: u64) -> B256 {
        root_at(&self.only(&tiles_for_root(self.size, size).unwrap()), size).unwrap()
    }

    fn inclusion(&self, index: u64, size: u64) -> Vec<B256> {
        let need = tiles_for_inclusion(self.size, index, size).unwrap();
        inclusion_proof(&self.only(&need), index, size).unwrap()
    }

    fn consistency(&self, old: u64, new: u64) -> Vec<B256> {
        let need = tiles_for_consistency(self.size, old, new).unwrap();
        consistency_proof(&self.only(&need), old, new).unwrap()
    }
}

fn id(i: u64) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(i.to_be_bytes())))
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn build(n: u64, rng: &mut Rng, max_batch: u64) -> (Tiled, MerkleLog) {
    let mut tiled = Tiled::new();
    let mut reference = MerkleLog::new();
    while tiled.size < n {
        let take = (1 + rng.below(max_batch)).min(n - tiled.size);
        let ids: Vec<B256> = (tiled.size..tiled.size + take).map(id).collect();
        tiled.append(&ids.iter().map(leaf_hash).collect::<Vec<_>>());
        reference.extend(ids);
        assert_eq!(
            tiled.root(tiled.size),
            reference.root().unwrap(),
            "after appending to {}",
            tiled.size
        );
    }
    (tiled, reference)
}

#[test]
fn every_size_up_to_1100_and_every_proof_at_tile_edges() {
    let mut rng = Rng(0x5eed);
    let n = 1100;
    let (tiled, reference) = build(n, &mut rng, 300);
    for size in 1..=n {
        assert_eq!(
            tiled.root(size),
            reference.root_at(size).unwrap(),
            "root at {size}"
        );
        for index in [0, size / 2, size - 1, rng.below(size)] {
            assert_eq!(
                tiled.inclusion(index, size),
                reference.inclusion_proof(index, size).unwrap(),
                "{index} in {size}"
            );
        }
        let old = 1 + rng.below(size);
        assert_eq!(
            tiled.consistency(old, size),
            reference.consistency_proof(old, size).unwrap(),
            "{old} -> {size}"
        );
        assert_eq!(
            tiled.consistency(size, n),
            reference.consistency_proof(size, n).unwrap(),
            "{size} -> {n}"
        );
    }
    // Every inclusion proof at sizes around tile boundaries and at the end.
    for size in [255, 256, 257, 511, 512, 513, 1024, 1025, n] {
        for index in 0..size {
            assert_eq!(
                tiled.inclusion(index, size),
                reference.inclusion_proof(index, size).unwrap(),
                "{index} in {size}"
            );
        }
    }
}

#[test]
fn random_large_sizes_cross_three_tile_levels() {
    let mut rng = Rng(0xfeed_beef);
    // Beyond 256² leaves, so tile level 2 exists.
    let n = 70_000;
    let (tiled, reference) = build(n, &mut rng, 5_000);
    assert!(tiled.tiles.keys().any(|k| k.level == 2));
    for _ in 0..300 {
        let size = 1 + rng.below(n);
        let index = rng.below(size);
        let old = 1 + rng.below(size);
        assert_eq!(
            tiled.root(size),
            reference.root_at(size).unwrap(),
            "root at {size}"
        );
        assert!(
            tiles_for_inclusion(n, index, size).unwrap().len() <= 6,
            "O(log n) tiles"
        );
        assert_eq!(
            tiled.inclusion(index, size),
            reference.inclusion_proof(index, size).unwrap(),
            "{index} in {size}"
        );
        assert_eq!(
            tiled.consistency(old, size),
            reference.consistency_proof(old, size).unwrap(),
            "{old} -> {size}"
        );
    }
}

/// The eight leaves of the transparency-dev/merkle reference tree the RFC 6962
/// vectors were generated from. The vectors' own leaf hashes are checked against them.
const REFERENCE_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("RFC6962_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/testdata/rfc6962"
            ))
        });
    assert!(
        dir.join("inclusion").is_dir(),
        "RFC 6962 vectors NOT FOUND in {}: set RFC6962_VECTORS_DIR",
        dir.display()
    );
    dir
}

fn b64(v: &serde_json::Value) -> B256 {
    B256::from_slice(&STANDARD.decode(v.as_str().unwrap()).unwrap())
}

fn proof_of(v: &serde_json::Value) -> Vec<B256> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

#[test]
fn tiles_reproduce_the_rfc6962_vectors() {
    let dir = vectors_dir();
    let leaves: Vec<B256> = REFERENCE_LEAVES
        .iter()
        .map(|h| {
            let mut hasher = Sha256::new();
            hasher.update([0u8]);
            hasher.update(hex::decode(h).unwrap());
            B256::from(<[u8; 32]>::from(hasher.finalize()))
        })
        .collect();
    let mut tiled = Tiled::new();
    tiled.append(&leaves[..3]);
    tiled.append(&leaves[3..]);
    let mut checked = 0;
    for kind in ["inclusion", "consistency"] {
        for entry in std::fs::read_dir(dir.join(kind)).unwrap() {
            let path = entry.unwrap().path().join("happy-path.json");
            if !path.is_file() {
                continue;
            }
            let case: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(case["wantErr"], false, "{}", path.display());
            if kind == "inclusion" {
                let (index, size) = (
                    case["leafIdx"].as_u64().unwrap(),
                    case["treeSize"].as_u64().unwrap(),
                );
                assert_eq!(
                    b64(&case["leafHash"]),
                    leaves[index as usize],
                    "{}",
                    path.display()
                );
                assert_eq!(tiled.root(size), b64(&case["root"]), "{}", path.display());
                assert_eq!(
                    tiled.inclusion(index, size),
                    proof_of(&case["proof"]),
                    "{}",
                    path.display()
                );
            } else {
                let (old, new) = (
                    case["size1"].as_u64().unwrap(),
                    case["size2"].as_u64().unwrap(),
                );
                assert_eq!(tiled.root(old), b64(&case["root1"]), "{}", path.display());
                assert_eq!(tiled.root(new), b64(&case["root2"]), "{}", path.display());
                assert_eq!(
                    tiled.consistency(old, new),
                    proof_of(&case["proof"]),
                    "{}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} happy-path vectors found in {}",
        dir.display()
    );
}
