//! Benchmarks of the RFC 6962 log: root computation, proof generation from a stored
//! 2^20-leaf log, proof verification.
//!
//! Run: `cargo bench -p evidence-schemas --bench log` (add `-- --quick` for a short
//! run). Throughputs are reported in elements: leaves for roots, proofs for proofs.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use evidence_schemas::B256;
use evidence_schemas::log::{
    MerkleLog, consistency_proof, inclusion_proof, leaf_hash, root_of_record_ids,
    verify_consistency, verify_inclusion,
};
use sha2::{Digest, Sha256};

const LEAVES: u64 = 1 << 20;
/// Proofs per benchmark iteration.
const BATCH: usize = 1024;

fn record_ids(n: u64) -> Vec<B256> {
    (0..n)
        .map(|i| {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&i.to_be_bytes());
            b[24..].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
            B256::new(b)
        })
        .collect()
}

/// Deterministic xorshift64*: random-looking indices without a rand dependency.
fn randoms(n: usize, mut state: u64) -> Vec<u64> {
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
        .collect()
}

/// The straightforward implementation through the `Digest` API (one reused hasher,
/// `finalize_reset`), kept here as the baseline the block-level hashing is measured
/// against.
fn digest_api_root(ids: &[B256]) -> B256 {
    let mut hasher = Sha256::new();
    let mut level: Vec<B256> = ids
        .iter()
        .map(|id| {
            hasher.update([0u8]);
            hasher.update(id);
            B256::from_slice(&hasher.finalize_reset())
        })
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [l, r] => {
                    hasher.update([1u8]);
                    hasher.update(l);
                    hasher.update(r);
                    next.push(B256::from_slice(&hasher.finalize_reset()));
                }
                [odd] => next.push(*odd),
                _ => unreachable!(),
            }
        }
        level = next;
    }
    level[0]
}

fn roots(c: &mut Criterion) {
    let ids = record_ids(LEAVES);
    assert_eq!(digest_api_root(&ids), root_of_record_ids(&ids).unwrap());
    let mut group = c.benchmark_group("root");
    group.throughput(Throughput::Elements(LEAVES));
    group.sample_size(10);
    group.bench_function("root_of_record_ids/2^20", |b| {
        b.iter(|| root_of_record_ids(black_box(&ids)))
    });
    group.bench_function("digest_api_baseline/2^20", |b| {
        b.iter(|| digest_api_root(black_box(&ids)))
    });
    group.bench_function("MerkleLog::from_record_ids/2^20", |b| {
        b.iter(|| MerkleLog::from_record_ids(black_box(&ids)))
    });
    group.bench_function("MerkleLog::append/2^20", |b| {
        b.iter(|| {
            let mut log = MerkleLog::with_capacity(ids.len());
            for id in &ids {
                log.append(*id);
            }
            log
        })
    });
    group.finish();
}

fn proofs(c: &mut Criterion) {
    let ids = record_ids(LEAVES);
    let log = MerkleLog::from_record_ids(&ids);
    let rnd = randoms(2 * BATCH, 0x0123_4567_89ab_cdef);

    let mut group = c.benchmark_group("proofs");
    group.throughput(Throughput::Elements(BATCH as u64));

    // A perfect tree and an unbalanced one (right border of non-perfect subtrees).
    for size in [LEAVES, LEAVES - 12_345] {
        let indices: Vec<u64> = rnd[..BATCH].iter().map(|r| r % size).collect();
        group.bench_with_input(
            BenchmarkId::new("inclusion_proof", size),
            &size,
            |b, &size| {
                b.iter(|| {
                    for &i in &indices {
                        black_box(inclusion_proof(&log, black_box(i), size).unwrap());
                    }
                })
            },
        );
        let root = log.root_at(size).unwrap();
        let cases: Vec<(B256, u64, Vec<B256>)> = indices
            .iter()
            .map(|&i| {
                (
                    log.leaf_hash(i).unwrap(),
                    i,
                    log.inclusion_proof(i, size).unwrap(),
                )
            })
            .collect();
        group.bench_with_input(
            BenchmarkId::new("verify_inclusion", size),
            &size,
            |b, &size| {
                b.iter(|| {
                    for (leaf, i, proof) in &cases {
                        verify_inclusion(black_box(leaf), *i, size, proof, &root).unwrap();
                    }
                })
            },
        );
    }

    let pairs: Vec<(u64, u64)> = rnd
        .chunks_exact(2)
        .map(|p| {
            let (a, b) = (p[0] % LEAVES + 1, p[1] % LEAVES + 1);
            (a.min(b), a.max(b))
        })
        .collect();
    group.bench_function("consistency_proof/random_pairs_2^20", |b| {
        b.iter(|| {
            for &(old, new) in &pairs {
                black_box(consistency_proof(&log, black_box(old), new).unwrap());
            }
        })
    });
    group.bench_function("root_at/random_sizes_2^20", |b| {
        b.iter(|| {
            for &(old, _) in &pairs {
                black_box(log.root_at(black_box(old)).unwrap());
            }
        })
    });
    let cases: Vec<(u64, u64, B256, B256, Vec<B256>)> = pairs
        .iter()
        .map(|&(old, new)| {
            let proof = log.consistency_proof(old, new).unwrap();
            (
                old,
                new,
                log.root_at(old).unwrap(),
                log.root_at(new).unwrap(),
                proof,
            )
        })
        .collect();
    group.bench_function("verify_consistency/random_pairs_2^20", |b| {
        b.iter(|| {
            for (old, new, r1, r2, proof) in &cases {
                verify_consistency(*old, *new, r1, r2, black_box(proof)).unwrap();
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Elements(1));
    let (a, b2) = (ids[1], ids[2]);
    group.bench_function("leaf_hash", |b| b.iter(|| leaf_hash(black_box(&a))));
    group.bench_function("node_hash", |b| {
        b.iter(|| evidence_schemas::log::node_hash(black_box(&a), black_box(&b2)))
    });
    group.finish();
}

criterion_group!(benches, roots, proofs);
criterion_main!(benches);
