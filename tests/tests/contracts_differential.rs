//! Differential tests: the Solidity `EvidenceLib` (through `EvidenceLibHarness` on anvil)
//! against the Rust `evidence_schemas` implementation, on random records, random trees
//! and tampered proofs. Every comparison is a view call (`eth_call`), run concurrently.
//!
//! The RNG seed is printed; set `EVIDENCE_TEST_SEED` to replay a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use alloy::primitives::{Address, B256, U256};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, EvidenceRecord, Label,
    log::{self, MerkleLog},
    record::{Evidence, SourceLocator},
};
use evidence_tests::{
    Devchain,
    contracts::EvidenceLibHarness::EvidenceLibHarnessInstance,
    records::{random_records, to_sol_hashed, to_sol_input},
    workspace_root,
};
use futures::{StreamExt as _, stream};
use rand::{Rng, SeedableRng, rngs::StdRng};

type Harness = EvidenceLibHarnessInstance<alloy::providers::DynProvider>;

/// Concurrent `eth_call`s in flight.
const CONCURRENCY: usize = 24;
/// Random records compared (plus the worked example).
const RECORDS: usize = 320;
/// Leaves of the log every tree size is taken from (sizes 1..=LOG_SIZE).
const LOG_SIZE: u64 = 4_100;
/// Random (size, index) or (size1, size2) pairs above 300, on top of sizes 1..=300.
const LARGE_PAIRS: usize = 60;

fn seed() -> u64 {
    let seed = std::env::var("EVIDENCE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("EVIDENCE_TEST_SEED={seed}");
    seed
}

async fn start() -> (Devchain, Harness) {
    let chain = Devchain::start(31_337).await.unwrap();
    let harness = chain.deploy_harness().await.unwrap();
    (chain, harness)
}

fn random_b256(rng: &mut StdRng) -> B256 {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    B256::from(b)
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
        "{} of {total} {what} disagree between Solidity and Rust; first ones:\n{}",
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

/// The worked example of the record module (its unit tests' sample record).
fn worked_example() -> EvidenceRecord {
    EvidenceRecord {
        version: 1,
        source: SourceLocator {
            chain: ChainId::eip155(31337),
            adapter: Label::parse("adapter", "registry").unwrap(),
            contract: Address::repeat_byte(0x11),
            block_number: 42,
            block_hash: B256::repeat_byte(0x22),
            tx_hash: B256::repeat_byte(0x33),
            tx_index: 1,
            log_index: 3,
            block_timestamp: 1_767_225_600,
        },
        action: Action::Anchor,
        reference: None,
        evidence: Evidence {
            digest_alg: DigestAlgorithm::Sha256,
            digest: DigestAlgorithm::Sha256.digest(b"IOU: A owes B 100"),
            kind: Label::parse("kind", "iou").unwrap(),
            submitter: Address::repeat_byte(0x44),
            metadata: B256::ZERO,
        },
    }
}

async fn compare_record(harness: &Harness, i: usize, record: &EvidenceRecord) -> Option<String> {
    let want_id = record.record_id();
    let want_bytes = record.canonical_bytes();
    let input = to_sol_input(record);
    let hashed = to_sol_hashed(record);
    let (by_struct, by_strings, encoded) = tokio::join!(
        async { harness.recordId(hashed).call().await },
        async { harness.recordIdFromStrings(input.clone()).call().await },
        async { harness.encodeRecord(input.clone()).call().await },
    );
    let mut problems = Vec::new();
    match by_struct {
        Ok(id) if id == want_id => {}
        other => problems.push(format!("recordId(struct) = {other:?}, Rust {want_id}")),
    }
    match by_strings {
        Ok(id) if id == want_id => {}
        other => problems.push(format!("recordIdFromStrings = {other:?}, Rust {want_id}")),
    }
    match encoded {
        Ok(bytes) if bytes.as_ref() == want_bytes.as_slice() => {}
        other => problems.push(format!(
            "encodeRecord = {other:?}, Rust 0x{}",
            alloy::hex::encode(&want_bytes)
        )),
    }
    (!problems.is_empty()).then(|| format!("record #{i} {record:?}: {}", problems.join("; ")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_ids_match_rust() {
    let mut rng = StdRng::seed_from_u64(seed());
    let (_chain, harness) = start().await;

    let domain = harness.recordDomain().call().await.unwrap();
    assert_eq!(
        domain,
        evidence_schemas::record::record_domain(),
        "RECORD_DOMAIN differs"
    );

    let mut records = vec![worked_example()];
    records.extend(random_records(&mut rng, RECORDS));
    let total = records.len();
    let failures = run_all(records.into_iter().enumerate().collect(), |(i, r)| {
        let harness = harness.clone();
        async move { compare_record(&harness, i, &r).await }
    })
    .await;
    assert_no_failures(
        "records (recordId struct and string variants, encodeRecord)",
        total,
        &failures,
    );
}

/// The worked test vector published in `schemas/README.md` (record JSON, canonical
/// bytes, record id): Solidity must reproduce the bytes and the id exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_record_id() {
    let (_chain, harness) = start().await;
    let readme = std::fs::read_to_string(workspace_root().join("schemas/README.md")).unwrap();
    let section = |marker: &str| -> String {
        let rest = &readme[readme
            .find(marker)
            .unwrap_or_else(|| panic!("README lacks {marker}"))
            + marker.len()..];
        let body = &rest[rest.find("```").unwrap()..];
        let body = &body[body.find('\n').unwrap() + 1..];
        body[..body.find("```").unwrap()].to_owned()
    };
    let record: evidence_schemas::EvidenceRecord =
        serde_json::from_str(&section("<!-- vector:record -->")).unwrap();
    let published_id: B256 = section("<!-- vector:id -->").trim().parse().unwrap();
    let published_bytes: Vec<u8> = section("<!-- vector:encoding -->")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .flat_map(|w| alloy::hex::decode(w).unwrap())
        .collect();
    let sol_id = harness
        .recordIdFromStrings(to_sol_input(&record))
        .call()
        .await
        .unwrap();
    let sol_bytes = harness
        .encodeRecord(to_sol_input(&record))
        .call()
        .await
        .unwrap();
    assert_eq!(
        sol_bytes.to_vec(),
        published_bytes,
        "Solidity encoding differs from schemas/README.md"
    );
    assert_eq!(
        sol_id, published_id,
        "Solidity record id differs from schemas/README.md"
    );
    assert_eq!(
        record.record_id(),
        published_id,
        "Rust record id differs from schemas/README.md"
    );
}

/// One inclusion question put to both verifiers.
#[derive(Debug, Clone)]
struct InclusionQ {
    what: &'static str,
    leaf: B256,
    index: u64,
    size: u64,
    proof: Vec<B256>,
    root: B256,
}

impl InclusionQ {
    fn rust(&self) -> bool {
        log::verify_inclusion(&self.leaf, self.index, self.size, &self.proof, &self.root).is_ok()
    }
}

fn tamper_byte(proof: &mut [B256], rng: &mut StdRng) {
    if proof.is_empty() {
        return;
    }
    let i = rng.random_range(0..proof.len());
    let byte = rng.random_range(0..32);
    let bit = 1u8 << rng.random_range(0..8);
    proof[i].0[byte] ^= bit;
}

fn random_pairs(rng: &mut StdRng) -> Vec<u64> {
    let mut sizes: Vec<u64> = (1..=300).collect();
    sizes.extend((0..LARGE_PAIRS).map(|_| rng.random_range(301..=LOG_SIZE)));
    // The largest sizes and the powers of two around them, which are edge cases.
    sizes.extend([1024, 1025, 2047, 2048, 4095, 4096, LOG_SIZE]);
    sizes
}

fn build_log(rng: &mut StdRng) -> MerkleLog {
    let ids: Vec<B256> = (0..LOG_SIZE).map(|_| random_b256(rng)).collect();
    MerkleLog::from_record_ids(&ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inclusion_matches_rust() {
    let mut rng = StdRng::seed_from_u64(seed());
    let (_chain, harness) = start().await;
    let log = build_log(&mut rng);

    let mut questions = Vec::new();
    let mut valid_pairs = 0usize;
    for size in random_pairs(&mut rng) {
        let index = match rng.random_range(0..4u8) {
            0 => 0,
            1 => size - 1,
            _ => rng.random_range(0..size),
        };
        let leaf = log.leaf_hash(index).unwrap();
        let proof = log.inclusion_proof(index, size).unwrap();
        let root = log.root_at(size).unwrap();
        let base = InclusionQ {
            what: "valid",
            leaf,
            index,
            size,
            proof,
            root,
        };
        assert!(
            base.rust(),
            "Rust rejects its own proof for index {index} of size {size}"
        );
        valid_pairs += 1;

        let mut q = base.clone();
        q.what = "flipped bit";
        tamper_byte(&mut q.proof, &mut rng);
        questions.push(q);

        let mut q = base.clone();
        q.what = "wrong index";
        q.index = if size == 1 {
            1
        } else {
            (index + rng.random_range(1..size)) % size
        };
        questions.push(q);

        let mut q = base.clone();
        q.what = "truncated";
        q.proof.pop();
        questions.push(q);

        let mut q = base.clone();
        q.what = "extended";
        q.proof.push(random_b256(&mut rng));
        questions.push(q);

        let mut q = base.clone();
        q.what = "wrong leaf";
        q.leaf = log.leaf_hash((index + 1) % LOG_SIZE).unwrap();
        questions.push(q);

        let mut q = base.clone();
        q.what = "wrong size";
        q.size = size + 1;
        questions.push(q);

        let mut q = base.clone();
        q.what = "index = size";
        q.index = size;
        questions.push(q);

        let mut q = base.clone();
        q.what = "zero root";
        q.root = B256::ZERO;
        questions.push(q);

        questions.push(base);
    }
    // Degenerate inputs.
    questions.push(InclusionQ {
        what: "size 0",
        leaf: random_b256(&mut rng),
        index: 0,
        size: 0,
        proof: vec![],
        root: random_b256(&mut rng),
    });

    let total = questions.len();
    let accepted = questions.iter().filter(|q| q.rust()).count();
    let failures = run_all(questions, |q| {
        let harness = harness.clone();
        async move {
            let want = q.rust();
            let got = harness
                .verifyInclusion(
                    q.leaf,
                    U256::from(q.index),
                    U256::from(q.size),
                    q.proof.clone(),
                    q.root,
                )
                .call()
                .await;
            let len_ok = if q.what == "valid" {
                let sol_len = harness
                    .inclusionProofLength(U256::from(q.index), U256::from(q.size))
                    .call()
                    .await;
                let rust_len = log::inclusion_proof_len(q.index, q.size).unwrap();
                matches!(sol_len, Ok(l) if l == U256::from(rust_len))
            } else {
                true
            };
            match got {
                Ok(got) if got == want && len_ok => None,
                other => Some(format!(
                    "{} index {} size {} proof len {}: Solidity {other:?}, Rust {want}{}",
                    q.what,
                    q.index,
                    q.size,
                    q.proof.len(),
                    if len_ok {
                        ""
                    } else {
                        " (inclusionProofLength differs)"
                    }
                )),
            }
        }
    })
    .await;
    println!("{valid_pairs} (index, size) pairs, {accepted} accepted questions");
    assert!(valid_pairs >= 300);
    assert_no_failures("inclusion questions", total, &failures);
}

/// One consistency question put to both verifiers.
#[derive(Debug, Clone)]
struct ConsistencyQ {
    what: &'static str,
    size1: u64,
    size2: u64,
    root1: B256,
    root2: B256,
    proof: Vec<B256>,
}

impl ConsistencyQ {
    fn rust(&self) -> bool {
        log::verify_consistency(
            self.size1,
            self.size2,
            &self.root1,
            &self.root2,
            &self.proof,
        )
        .is_ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistency_matches_rust() {
    let mut rng = StdRng::seed_from_u64(seed());
    let (_chain, harness) = start().await;
    let log = build_log(&mut rng);

    let mut questions = Vec::new();
    let mut valid_pairs = 0usize;
    for size2 in random_pairs(&mut rng) {
        let size1 = match rng.random_range(0..5u8) {
            0 => size2,
            1 => 1,
            2 => (size2 / 2).max(1),
            _ => rng.random_range(1..=size2),
        };
        let proof = log.consistency_proof(size1, size2).unwrap();
        let root1 = log.root_at(size1).unwrap();
        let root2 = log.root_at(size2).unwrap();
        let base = ConsistencyQ {
            what: "valid",
            size1,
            size2,
            root1,
            root2,
            proof,
        };
        assert!(
            base.rust(),
            "Rust rejects its own proof for {size1} -> {size2}"
        );
        valid_pairs += 1;

        let mut q = base.clone();
        q.what = "flipped bit";
        tamper_byte(&mut q.proof, &mut rng);
        questions.push(q);

        let mut q = base.clone();
        q.what = "truncated";
        q.proof.pop();
        questions.push(q);

        let mut q = base.clone();
        q.what = "extended";
        q.proof.push(random_b256(&mut rng));
        questions.push(q);

        if size1 > 1 {
            let mut q = base.clone();
            q.what = "size1 - 1";
            q.size1 -= 1;
            questions.push(q);
        }
        if size1 < size2 {
            let mut q = base.clone();
            q.what = "size1 + 1";
            q.size1 += 1;
            questions.push(q);
        }

        let mut q = base.clone();
        q.what = "size2 + 1";
        q.size2 += 1;
        questions.push(q);

        let mut q = base.clone();
        q.what = "swapped roots";
        std::mem::swap(&mut q.root1, &mut q.root2);
        questions.push(q);

        let mut q = base.clone();
        q.what = "wrong root1";
        q.root1 = random_b256(&mut rng);
        questions.push(q);

        let mut q = base.clone();
        q.what = "zero root2";
        q.root2 = B256::ZERO;
        questions.push(q);

        let mut q = base.clone();
        q.what = "size1 = 0";
        q.size1 = 0;
        questions.push(q);

        questions.push(base);
    }
    let total = questions.len();
    let accepted = questions.iter().filter(|q| q.rust()).count();
    let failures = run_all(questions, |q| {
        let harness = harness.clone();
        async move {
            let want = q.rust();
            let got = harness
                .verifyConsistency(
                    U256::from(q.size1),
                    U256::from(q.size2),
                    q.root1,
                    q.root2,
                    q.proof.clone(),
                )
                .call()
                .await;
            let len_ok = if q.what == "valid" {
                let sol_len = harness
                    .consistencyProofLength(U256::from(q.size1), U256::from(q.size2))
                    .call()
                    .await;
                let rust_len = log::consistency_proof_len(q.size1, q.size2).unwrap();
                matches!(sol_len, Ok(l) if l == U256::from(rust_len))
            } else {
                true
            };
            match got {
                Ok(got) if got == want && len_ok => None,
                other => Some(format!(
                    "{} {} -> {} proof len {}: Solidity {other:?}, Rust {want}{}",
                    q.what,
                    q.size1,
                    q.size2,
                    q.proof.len(),
                    if len_ok {
                        ""
                    } else {
                        " (consistencyProofLength differs)"
                    }
                )),
            }
        }
    })
    .await;
    println!("{valid_pairs} (size1, size2) pairs, {accepted} accepted questions");
    assert!(valid_pairs >= 300);
    assert_no_failures("consistency questions", total, &failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaf_and_node_hashes_match_rust() {
    let mut rng = StdRng::seed_from_u64(seed());
    let (_chain, harness) = start().await;
    for _ in 0..20 {
        let (a, b) = (random_b256(&mut rng), random_b256(&mut rng));
        assert_eq!(
            harness.leafHash(a).call().await.unwrap(),
            log::leaf_hash(&a)
        );
        assert_eq!(
            harness.nodeHash(a, b).call().await.unwrap(),
            log::node_hash(&a, &b)
        );
    }
}
