//! Every published RFC 6962 conformance vector against the Solidity verifiers:
//! `EvidenceLib.verifyInclusion` / `verifyConsistency` for the plain sets and
//! `SubtreeLib.verifySubtreeInclusion` / `verifySubtreeConsistency` for the subtree
//! sets (`[start, end)` subtrees, Merkle Tree Certificates draft §4.3/§4.4), through
//! their test harnesses on anvil.
//!
//! This mirrors the Rust conformance test (`schemas/tests/rfc6962_vectors.rs`) case for
//! case: every case runs (none is skipped), with the same expected counts and the same
//! deliberate rejections. A subtree case with `start == 0` is also a plain case (the
//! tree of size `end`), and `EvidenceLib` must give it the same verdict as
//! `SubtreeLib`. `wantErr: false` must return true, `wantErr: true` false, except:
//!
//! - a hash (root, leaf or proof element) that is `null`, empty or not 32 bytes cannot
//!   be passed as a `bytes32` argument: the case is **rejected at the ABI boundary**
//!   and never reaches the verifier (the Rust API, typed `B256`, rejects it at decoding);
//! - our verifiers never accept an empty tree (size 0), an empty subtree or a zero
//!   root.
//!
//! The `wantErr: false` cases these rules reject are listed in [`DELIBERATE_REJECTIONS`]
//! (the same list as the Rust test) and must be rejected. On every case that reaches
//! the verifier, the Solidity verdict must also equal the Rust verifier's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use alloy::{
    primitives::{B256, U256},
    providers::DynProvider,
};
use evidence_schemas::log;
use evidence_tests::{
    Devchain,
    contracts::{
        EvidenceLibHarness::EvidenceLibHarnessInstance,
        SubtreeLibHarness::SubtreeLibHarnessInstance,
    },
    rfc6962::{self, ConsistencyCase, InclusionCase},
};
use futures::{StreamExt as _, stream};

/// Both harnesses: `EvidenceLib` (plain proofs) and `SubtreeLib` (subtree proofs).
#[derive(Clone)]
struct Harness {
    plain: EvidenceLibHarnessInstance<DynProvider>,
    subtree: SubtreeLibHarnessInstance<DynProvider>,
}

/// `wantErr: false` cases that we reject on purpose (as in the Rust test).
const DELIBERATE_REJECTIONS: &[(&str, &str)] = &[
    (
        "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
        "roots are 12-byte placeholders: not expressible as bytes32 (ABI boundary)",
    ),
    (
        "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
        "roots are 12-byte placeholders: not expressible as bytes32 (ABI boundary)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-proof-is-empty.json",
        "sizes are 0: consistency from or to the empty tree proves nothing (verifier rejects)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "sizes are 0, and root2 is a 12-byte placeholder (ABI boundary)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-proof-is-empty.json",
        "the subtree [1, 1) is empty: an empty subtree proves nothing (verifier rejects)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "the subtree [1, 1) is empty, and root2 is a 12-byte placeholder (ABI boundary)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-proof-is-empty.json",
        "the subtree [1, 1) is empty: an empty subtree proves nothing (verifier rejects)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "the subtree [1, 1) is empty: an empty subtree proves nothing (verifier rejects)",
    ),
];

/// Expected counts (as in the Rust test); a change in the vectors must be looked at.
const INCLUSION_CASES: usize = 98;
const CONSISTENCY_CASES: usize = 98;
const SUBTREE_INCLUSION_CASES: usize = 204;
const SUBTREE_CONSISTENCY_CASES: usize = 118;

/// What happened to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The Solidity verifier returned true.
    Accepted,
    /// The Solidity verifier returned false.
    Rejected,
    /// A hash is not 32 bytes: rejected before any call (ABI boundary).
    AbiBoundary,
}

/// `EvidenceLib.verifyInclusion` on chain, reported as an error if it reverts.
async fn plain_inclusion(
    harness: &Harness,
    case: &InclusionCase,
    (leaf, proof, root): (B256, Vec<B256>, B256),
) -> Result<bool, String> {
    harness
        .plain
        .verifyInclusion(
            leaf,
            U256::from(case.leaf_index),
            U256::from(case.tree_size),
            proof,
            root,
        )
        .call()
        .await
        .map_err(|e| {
            format!(
                "{}: verifyInclusion failed (it must never revert): {e}",
                case.name
            )
        })
}

async fn run_inclusion(harness: &Harness, case: &InclusionCase) -> Result<Verdict, String> {
    let Some((leaf, proof, root)) = case.typed() else {
        return Ok(Verdict::AbiBoundary);
    };
    let (rust, sol) = match case.start {
        None => (
            log::verify_inclusion(&leaf, case.leaf_index, case.tree_size, &proof, &root).is_ok(),
            plain_inclusion(harness, case, (leaf, proof, root)).await?,
        ),
        Some(start) => {
            let rust = log::verify_subtree_inclusion(
                &leaf,
                case.leaf_index,
                start,
                case.tree_size,
                &proof,
                &root,
            )
            .is_ok();
            let sol = harness
                .subtree
                .verifySubtreeInclusion(
                    leaf,
                    U256::from(case.leaf_index),
                    U256::from(start),
                    U256::from(case.tree_size),
                    proof.clone(),
                    root,
                )
                .call()
                .await
                .map_err(|e| {
                    format!(
                        "{}: verifySubtreeInclusion failed (it must never revert): {e}",
                        case.name
                    )
                })?;
            if start == 0 {
                let plain = plain_inclusion(harness, case, (leaf, proof, root)).await?;
                if plain != sol {
                    return Err(format!(
                        "{}: SubtreeLib says {sol}, EvidenceLib says {plain}",
                        case.name
                    ));
                }
            }
            (rust, sol)
        }
    };
    if sol != rust {
        return Err(format!(
            "{}: Solidity says {sol}, Rust says {rust}",
            case.name
        ));
    }
    Ok(if sol {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    })
}

/// `EvidenceLib.verifyConsistency` on chain, reported as an error if it reverts.
async fn plain_consistency(
    harness: &Harness,
    case: &ConsistencyCase,
    (root1, root2, proof): (B256, B256, Vec<B256>),
) -> Result<bool, String> {
    harness
        .plain
        .verifyConsistency(
            U256::from(case.size1),
            U256::from(case.size2),
            root1,
            root2,
            proof,
        )
        .call()
        .await
        .map_err(|e| {
            format!(
                "{}: verifyConsistency failed (it must never revert): {e}",
                case.name
            )
        })
}

async fn run_consistency(harness: &Harness, case: &ConsistencyCase) -> Result<Verdict, String> {
    let Some((root1, root2, proof)) = case.typed() else {
        return Ok(Verdict::AbiBoundary);
    };
    let (rust, sol) = match case.start {
        None => (
            log::verify_consistency(case.size1, case.size2, &root1, &root2, &proof).is_ok(),
            plain_consistency(harness, case, (root1, root2, proof)).await?,
        ),
        Some(start) => {
            let rust = log::verify_subtree_consistency(
                start, case.size1, case.size2, &root1, &root2, &proof,
            )
            .is_ok();
            let sol = harness
                .subtree
                .verifySubtreeConsistency(
                    U256::from(start),
                    U256::from(case.size1),
                    U256::from(case.size2),
                    root1,
                    root2,
                    proof.clone(),
                )
                .call()
                .await
                .map_err(|e| {
                    format!(
                        "{}: verifySubtreeConsistency failed (it must never revert): {e}",
                        case.name
                    )
                })?;
            if start == 0 {
                let plain = plain_consistency(harness, case, (root1, root2, proof)).await?;
                if plain != sol {
                    return Err(format!(
                        "{}: SubtreeLib says {sol}, EvidenceLib says {plain}",
                        case.name
                    ));
                }
            }
            (rust, sol)
        }
    };
    if sol != rust {
        return Err(format!(
            "{}: Solidity says {sol}, Rust says {rust}",
            case.name
        ));
    }
    Ok(if sol {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    })
}

#[derive(Debug, Default)]
struct Tally {
    run: usize,
    accepted: usize,
    rejected: usize,
    at_boundary: usize,
}

/// Judges one case against `wantErr` and the deliberate rejections.
fn judge(
    name: &str,
    want_err: bool,
    verdict: Result<Verdict, String>,
    tally: &mut Tally,
    failures: &mut Vec<String>,
    seen: &mut Vec<String>,
) {
    tally.run += 1;
    let verdict = match verdict {
        Ok(v) => v,
        Err(e) => {
            failures.push(e);
            return;
        }
    };
    match verdict {
        Verdict::Accepted => tally.accepted += 1,
        Verdict::Rejected => tally.rejected += 1,
        Verdict::AbiBoundary => tally.at_boundary += 1,
    }
    let accepted = verdict == Verdict::Accepted;
    let exception = DELIBERATE_REJECTIONS.iter().find(|(n, _)| *n == name);
    match (want_err, accepted, exception) {
        (true, false, None) | (false, true, None) => {}
        (false, false, Some((_, reason))) => {
            println!("deliberately rejected {name} ({verdict:?}): {reason}");
            seen.push(name.to_owned());
        }
        (true, true, _) => {
            failures.push(format!("{name}: wantErr is true but Solidity ACCEPTS it"))
        }
        (false, false, None) => failures.push(format!(
            "{name}: wantErr is false but rejected ({verdict:?})"
        )),
        (_, _, Some(_)) => failures.push(format!(
            "{name}: listed in DELIBERATE_REJECTIONS but not a rejected wantErr:false case"
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_vector_on_the_solidity_verifier() {
    let dir = rfc6962::vectors_dir().unwrap_or_else(|e| panic!("{e:#}"));
    let inclusion = rfc6962::load_inclusion_cases(&dir).unwrap();
    let consistency = rfc6962::load_consistency_cases(&dir).unwrap();

    let chain = Devchain::start(31_337).await.unwrap();
    let harness = Harness {
        plain: chain.deploy_harness().await.unwrap(),
        subtree: chain.deploy_subtree_harness().await.unwrap(),
    };

    let inc_verdicts: Vec<_> = stream::iter(inclusion.iter().map(|c| {
        let harness = harness.clone();
        async move { (c, run_inclusion(&harness, c).await) }
    }))
    .buffered(16)
    .collect()
    .await;
    let con_verdicts: Vec<_> = stream::iter(consistency.iter().map(|c| {
        let harness = harness.clone();
        async move { (c, run_consistency(&harness, c).await) }
    }))
    .buffered(16)
    .collect()
    .await;

    let mut failures = Vec::new();
    let mut seen = Vec::new();
    let set_of = |name: &str| name.split('/').next().unwrap_or_default().to_owned();
    let mut tallies: std::collections::BTreeMap<String, Tally> = std::collections::BTreeMap::new();
    for (c, v) in inc_verdicts {
        judge(
            &c.name,
            c.want_err,
            v,
            tallies.entry(set_of(&c.name)).or_default(),
            &mut failures,
            &mut seen,
        );
    }
    for (c, v) in con_verdicts {
        judge(
            &c.name,
            c.want_err,
            v,
            tallies.entry(set_of(&c.name)).or_default(),
            &mut failures,
            &mut seen,
        );
    }
    for (set, t) in &tallies {
        println!(
            "{set}: {} cases ran ({} verified, {} rejected by the verifier, {} rejected at the ABI boundary)",
            t.run, t.accepted, t.rejected, t.at_boundary
        );
    }

    assert!(
        failures.is_empty(),
        "{} conformance failures on the Solidity verifier:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (name, _) in DELIBERATE_REJECTIONS {
        assert!(
            seen.iter().any(|s| s == name),
            "DELIBERATE_REJECTIONS lists {name}, which was not found among the vectors"
        );
    }
    let run = |set: &str| tallies.get(set).map_or(0, |t| t.run);
    assert_eq!(
        run("inclusion"),
        INCLUSION_CASES,
        "inclusion case count changed"
    );
    assert_eq!(
        run("consistency"),
        CONSISTENCY_CASES,
        "consistency case count changed"
    );
    assert_eq!(
        run("subtreeinclusion"),
        SUBTREE_INCLUSION_CASES,
        "subtree-inclusion case count changed"
    );
    assert_eq!(
        run("subtreeconsistency"),
        SUBTREE_CONSISTENCY_CASES,
        "subtree-consistency case count changed"
    );
    // The happy paths really ran on chain, not all rejected.
    assert_eq!(
        tallies.get("inclusion").map(|t| t.accepted),
        Some(6),
        "verified inclusion cases"
    );
    assert_eq!(
        tallies.get("consistency").map(|t| t.accepted),
        Some(5),
        "verified consistency cases"
    );
    assert_eq!(
        tallies.get("subtreeinclusion").map(|t| t.accepted),
        Some(12),
        "verified subtree-inclusion cases"
    );
    assert_eq!(
        tallies.get("subtreeconsistency").map(|t| t.accepted),
        Some(5),
        "verified subtree-consistency cases"
    );
}
