//! Differential tests of subtree proofs: the Solidity `SubtreeLib` (through
//! `SubtreeLibHarness` on anvil) against the Rust `evidence_schemas::log` subtree
//! generator and verifiers.
//!
//! Exhaustive over small trees: for every size up to [`MAX_SIZE`] and every valid
//! subtree `[start, end)` with `end <= size`, the Rust-generated subtree consistency
//! proof must be accepted by both verifiers, the canonical lengths must agree, and the
//! proof with one bit flipped (rotating over elements and bit positions; the root when
//! the proof is empty) must be rejected by both. The same for the inclusion proof of
//! every leaf of every valid subtree. Then the validity rule and the canonical length
//! are compared on random `(start, end, size)` triples over the whole `u64` range.
//! Every comparison is a view call (`eth_call`), run concurrently.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use alloy::primitives::{B256, U256};
use evidence_schemas::log::{self, MerkleLog};
use evidence_tests::{Devchain, contracts::SubtreeLibHarness::SubtreeLibHarnessInstance};
use futures::{StreamExt as _, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};

type Harness = SubtreeLibHarnessInstance<alloy::providers::DynProvider>;

/// Concurrent `eth_call`s in flight.
const CONCURRENCY: usize = 24;
/// Largest tree size of the exhaustive comparisons.
const MAX_SIZE: u64 = 40;
/// Random triples for the validity and length comparison.
const RANDOM_TRIPLES: usize = 400;

/// Every valid subtree `[start, end)` with `end <= max`, in order.
fn valid_subtrees(max: u64) -> Vec<(u64, u64)> {
    (1..=max)
        .flat_map(|end| (0..end).map(move |start| (start, end)))
        .filter(|&(start, end)| log::is_valid_subtree(start, end))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn flip(h: &B256, bit: usize) -> B256 {
    let mut out = *h;
    out.0[bit / 8 % 32] ^= 1 << (bit % 8);
    out
}

/// Runs `check` on every item with `CONCURRENCY` calls in flight; returns the failures.
async fn run_all<T, F, Fut>(items: Vec<T>, check: F) -> Vec<String>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Option<String>>,
{
    stream::iter(items.into_iter().map(check))
        .buffer_unordered(CONCURRENCY)
        .filter_map(|r| async move { r })
        .collect()
        .await
}

fn assert_no_failures(what: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} {what} failed; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("{total} {what}: Solidity and Rust agree");
}

async fn start() -> (Devchain, Harness, MerkleLog) {
    let chain = Devchain::start(31_337).await.unwrap();
    let harness = chain.deploy_subtree_harness().await.unwrap();
    let ids: Vec<B256> = (0..MAX_SIZE)
        .map(|i| B256::left_padding_from(&(i * 7 + 3).to_be_bytes()))
        .collect();
    (chain, harness, MerkleLog::from_record_ids(&ids))
}

/// One consistency case: the genuine proof and one tampered variant, on both sides.
async fn check_consistency(
    harness: &Harness,
    log: &MerkleLog,
    (n, start, end, size): (usize, u64, u64, u64),
) -> Option<String> {
    let what = format!("[{start}, {end}) in {size}");
    let sub = log::subtree_root(log, start, end).unwrap();
    let root = log.root_at(size).unwrap();
    let proof = log::subtree_consistency_proof(log, start, end, size).unwrap();
    let (s, e, z) = (U256::from(start), U256::from(end), U256::from(size));
    let len = match harness.subtreeConsistencyProofLength(s, e, z).call().await {
        Ok(len) => len,
        Err(err) => return Some(format!("{what}: length call failed: {err}")),
    };
    if len != U256::from(proof.len()) {
        return Some(format!(
            "{what}: Solidity length {len}, Rust {}",
            proof.len()
        ));
    }
    let rust_ok = log::verify_subtree_consistency(start, end, size, &sub, &root, &proof).is_ok();
    let sol_ok = harness
        .verifySubtreeConsistency(s, e, z, sub, root, proof.clone())
        .call()
        .await
        .map_err(|err| format!("{what}: reverted: {err}"));
    match sol_ok {
        Ok(true) if rust_ok => {}
        Ok(sol) => {
            return Some(format!(
                "{what}: genuine proof: Solidity {sol}, Rust {rust_ok}"
            ));
        }
        Err(err) => return Some(err),
    }
    // One bit flipped: in a proof element, or in the root when there is none.
    let (bad_proof, bad_root) = if proof.is_empty() {
        (proof, flip(&root, n % 256))
    } else {
        let mut p = proof;
        let j = n % p.len();
        p[j] = flip(&p[j], n * 37 % 256);
        (p, root)
    };
    let rust_bad =
        log::verify_subtree_consistency(start, end, size, &sub, &bad_root, &bad_proof).is_ok();
    match harness
        .verifySubtreeConsistency(s, e, z, sub, bad_root, bad_proof)
        .call()
        .await
    {
        Ok(false) if !rust_bad => None,
        Ok(sol) => Some(format!(
            "{what}: tampered proof: Solidity {sol}, Rust {rust_bad}"
        )),
        Err(err) => Some(format!("{what}: tampered proof reverted: {err}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtree_consistency_matches_rust() {
    let (_chain, harness, log) = start().await;
    let mut cases = Vec::new();
    for size in 1..=MAX_SIZE {
        for (start, end) in valid_subtrees(size) {
            cases.push((cases.len(), start, end, size));
        }
    }
    let total = cases.len();
    let failures = run_all(cases, |c| {
        let (harness, log) = (&harness, &log);
        async move { check_consistency(harness, log, c).await }
    })
    .await;
    assert_no_failures(
        "subtree consistency proofs (genuine and tampered)",
        total,
        &failures,
    );
}

async fn check_inclusion(
    harness: &Harness,
    log: &MerkleLog,
    (n, index, start, end): (usize, u64, u64, u64),
) -> Option<String> {
    let what = format!("leaf {index} of [{start}, {end})");
    let sub = log::subtree_root(log, start, end).unwrap();
    let leaf = log.leaf_hash(index).unwrap();
    let proof = log::subtree_inclusion_proof(log, index, start, end).unwrap();
    let args = (U256::from(index), U256::from(start), U256::from(end));
    let rust_ok = log::verify_subtree_inclusion(&leaf, index, start, end, &proof, &sub).is_ok();
    match harness
        .verifySubtreeInclusion(leaf, args.0, args.1, args.2, proof.clone(), sub)
        .call()
        .await
    {
        Ok(true) if rust_ok => {}
        Ok(sol) => {
            return Some(format!(
                "{what}: genuine proof: Solidity {sol}, Rust {rust_ok}"
            ));
        }
        Err(err) => return Some(format!("{what}: reverted: {err}")),
    }
    let (bad_leaf, bad_proof) = if proof.is_empty() {
        (flip(&leaf, n % 256), proof)
    } else {
        let mut p = proof;
        let j = n % p.len();
        p[j] = flip(&p[j], n * 41 % 256);
        (leaf, p)
    };
    let rust_bad =
        log::verify_subtree_inclusion(&bad_leaf, index, start, end, &bad_proof, &sub).is_ok();
    match harness
        .verifySubtreeInclusion(bad_leaf, args.0, args.1, args.2, bad_proof, sub)
        .call()
        .await
    {
        Ok(false) if !rust_bad => None,
        Ok(sol) => Some(format!(
            "{what}: tampered proof: Solidity {sol}, Rust {rust_bad}"
        )),
        Err(err) => Some(format!("{what}: tampered proof reverted: {err}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtree_inclusion_matches_rust() {
    let (_chain, harness, log) = start().await;
    let mut cases = Vec::new();
    for (start, end) in valid_subtrees(MAX_SIZE) {
        for index in start..end {
            cases.push((cases.len(), index, start, end));
        }
    }
    let total = cases.len();
    let failures = run_all(cases, |c| {
        let (harness, log) = (&harness, &log);
        async move { check_inclusion(harness, log, c).await }
    })
    .await;
    assert_no_failures(
        "subtree inclusion proofs (genuine and tampered)",
        total,
        &failures,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validity_and_lengths_match_rust_on_random_triples() {
    let seed = std::env::var("EVIDENCE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("EVIDENCE_TEST_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let (_chain, harness, _log) = start().await;
    let mut triples = Vec::new();
    for _ in 0..RANDOM_TRIPLES {
        let size: u64 = rng.random();
        let end = rng.random_range(1..=size.max(1));
        // Half aligned (valid), half arbitrary (mostly invalid).
        let start = if rng.random::<bool>() {
            let len = rng.random_range(1..=end);
            // A length above 2^63 aligns to 2^64: only start 0 is a multiple.
            len.checked_next_power_of_two()
                .map_or(0, |align| (end - len) / align * align)
        } else {
            rng.random_range(0..=end)
        };
        triples.push((start, end, size));
    }
    let total = triples.len();
    let failures = run_all(triples, |(start, end, size)| {
        let harness = &harness;
        async move {
            let (s, e, z) = (U256::from(start), U256::from(end), U256::from(size));
            let valid = match harness.isValidSubtree(s, e).call().await {
                Ok(valid) => valid,
                Err(err) => return Some(format!("[{start}, {end}): call failed: {err}")),
            };
            if valid != log::is_valid_subtree(start, end) {
                return Some(format!("[{start}, {end}): Solidity valid = {valid}"));
            }
            let len = match harness.subtreeConsistencyProofLength(s, e, z).call().await {
                Ok(len) => len,
                Err(err) => return Some(format!("[{start}, {end}) in {size}: call failed: {err}")),
            };
            let rust = log::subtree_consistency_proof_len(start, end, size).unwrap_or(0);
            (len != U256::from(rust))
                .then(|| format!("[{start}, {end}) in {size}: Solidity length {len}, Rust {rust}"))
        }
    })
    .await;
    assert_no_failures(
        "random (start, end, size) validity and length checks",
        total,
        &failures,
    );
}
