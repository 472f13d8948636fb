//! Every case of the published RFC 6962 conformance vectors (transparency-dev/merkle
//! test data, in `shared/testdata/rfc6962/`) against our verifiers.
//!
//! Each JSON file is one case; `wantErr: false` must verify, `wantErr: true` must be
//! rejected. A hash that is `null`, empty or not 32 bytes long cannot be a `B256`: the
//! case is rejected at decoding, which is how our typed API rejects it too.
//!
//! The `subtree*` directories test proofs about an arbitrary subtree `[start, end)`
//! (Merkle Tree Certificates draft §4.3/§4.4, as in transparency-dev/merkle): they run
//! against [`verify_subtree_inclusion`] (leaf `leafIdx` of the subtree whose hash is
//! `root`) and [`verify_subtree_consistency`] (the subtree with hash `root1` inside
//! the tree of `size` leaves with root `root2`). Every case runs; none is skipped.
//! A subtree with `start == 0` *is* the tree of size `end`, so those cases also run
//! through the plain [`verify_inclusion`] / [`verify_consistency`], which must reach
//! the same verdict.
//!
//! Where our stricter rules (no empty tree or subtree, 32-byte hashes only) disagree
//! with a `wantErr: false` case, the case is listed in [`DELIBERATE_REJECTIONS`] with
//! the reason; the test checks that each listed case exists and is in fact rejected.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use evidence_schemas::B256;
use evidence_schemas::log::{
    verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use serde_json::Value;

/// `wantErr: false` cases that we reject on purpose, relative to the vectors directory.
const DELIBERATE_REJECTIONS: &[(&str, &str)] = &[
    (
        "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
        "roots are 12-byte placeholders (\"don't care 1/2\"); every root we accept is a 32-byte hash",
    ),
    (
        "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
        "roots are 12-byte placeholders; every root we accept is a 32-byte hash",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-proof-is-empty.json",
        "sizes are 0: the subtree [0, 0) is empty and consistency from the empty tree proves nothing (InvalidSubtree; the plain verifier: EmptyTree)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "sizes are 0 (empty subtree, InvalidSubtree / EmptyTree), and root2 is a 12-byte placeholder",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-proof-is-empty.json",
        "the subtree [1, 1) is empty (InvalidSubtree): an empty subtree proves nothing, and its \"hash\" is SHA-256(\"\"), the empty-tree hash we never accept",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "the subtree [1, 1) is empty (InvalidSubtree), and root2 is a 12-byte placeholder",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-proof-is-empty.json",
        "the subtree [1, 1) is empty (InvalidSubtree): an empty subtree proves nothing, and its \"hash\" is SHA-256(\"\"), the empty-tree hash we never accept",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "the subtree [1, 1) is empty (InvalidSubtree): an empty subtree proves nothing, whatever the tree root",
    ),
];

/// Expected case counts; a change in the vectors must be looked at, not absorbed.
const INCLUSION_CASES: usize = 98;
const CONSISTENCY_CASES: usize = 98;
const SUBTREE_INCLUSION_CASES: usize = 204;
const SUBTREE_CONSISTENCY_CASES: usize = 118;

fn vectors_dir() -> PathBuf {
    let dir = match std::env::var_os("RFC6962_VECTORS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/testdata/rfc6962"
        )),
    };
    assert!(
        dir.join("inclusion").is_dir() && dir.join("consistency").is_dir(),
        "RFC 6962 conformance vectors NOT FOUND at {} (expected inclusion/ and consistency/ \
         there). They live in the shared/ directory next to the repository checkout \
         (<dir>/main and <dir>/shared). Point RFC6962_VECTORS_DIR at the rfc6962 directory \
         to run them from elsewhere. This test never passes without them.",
        dir.display()
    );
    dir
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A hash field: `None` when null, missing, not base64 or not exactly 32 bytes.
fn hash(v: &Value) -> Option<B256> {
    let bytes = STANDARD.decode(v.as_str()?).ok()?;
    (bytes.len() == 32).then(|| B256::from_slice(&bytes))
}

/// The proof array: `null` is an empty proof; any malformed element makes it `None`.
fn proof(v: &Value) -> Option<Vec<B256>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(hash).collect(),
        _ => None,
    }
}

fn num(case: &Value, key: &str, file: &Path) -> u64 {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: `{key}` is not a u64", file.display()))
}

enum Kind {
    Inclusion,
    Consistency,
}

/// Runs one case; `Ok(())` means it verified, `Err` says why it was rejected.
///
/// Subtree cases go through the subtree verifiers; when their subtree starts at leaf 0,
/// the plain verifier must agree, or the case fails with both verdicts.
fn run_case(kind: &Kind, case: &Value, file: &Path) -> Result<(), String> {
    let start = case.get("start").map(|_| num(case, "start", file));
    match kind {
        Kind::Inclusion => {
            let index = num(case, "leafIdx", file);
            let root = hash(&case["root"]).ok_or("root is not a 32-byte hash")?;
            let leaf = hash(&case["leafHash"]).ok_or("leafHash is not a 32-byte hash")?;
            let proof = proof(&case["proof"]).ok_or("a proof element is not a 32-byte hash")?;
            let Some(start) = start else {
                let size = num(case, "treeSize", file);
                return verify_inclusion(&leaf, index, size, &proof, &root)
                    .map_err(|e| e.to_string());
            };
            let end = num(case, "end", file);
            let sub = verify_subtree_inclusion(&leaf, index, start, end, &proof, &root);
            if start == 0 {
                let plain = verify_inclusion(&leaf, index, end, &proof, &root);
                assert_eq!(
                    sub.is_ok(),
                    plain.is_ok(),
                    "{}: subtree verifier says {sub:?}, plain verifier says {plain:?}",
                    file.display()
                );
            }
            sub.map_err(|e| e.to_string())
        }
        Kind::Consistency => {
            let root1 = hash(&case["root1"]).ok_or("root1 is not a 32-byte hash")?;
            let root2 = hash(&case["root2"]).ok_or("root2 is not a 32-byte hash")?;
            let proof = proof(&case["proof"]).ok_or("a proof element is not a 32-byte hash")?;
            let Some(start) = start else {
                let (size1, size2) = (num(case, "size1", file), num(case, "size2", file));
                return verify_consistency(size1, size2, &root1, &root2, &proof)
                    .map_err(|e| e.to_string());
            };
            let (end, size) = (num(case, "end", file), num(case, "size", file));
            let sub = verify_subtree_consistency(start, end, size, &root1, &root2, &proof);
            if start == 0 {
                let plain = verify_consistency(end, size, &root1, &root2, &proof);
                assert_eq!(
                    sub.is_ok(),
                    plain.is_ok(),
                    "{}: subtree verifier says {sub:?}, plain verifier says {plain:?}",
                    file.display()
                );
            }
            sub.map_err(|e| e.to_string())
        }
    }
}

#[derive(Default)]
struct Tally {
    run: usize,
    accepted: usize,
    rejected: usize,
}

#[test]
fn every_conformance_vector() {
    let dir = vectors_dir();
    let mut failures = Vec::new();
    let mut exceptions_seen = Vec::new();
    let mut tallies = Vec::new();

    for (sub, kind) in [
        ("inclusion", Kind::Inclusion),
        ("consistency", Kind::Consistency),
        ("subtreeinclusion", Kind::Inclusion),
        ("subtreeconsistency", Kind::Consistency),
    ] {
        let mut tally = Tally::default();
        let files = json_files(&dir.join(sub));
        assert!(
            !files.is_empty(),
            "no *.json cases under {}",
            dir.join(sub).display()
        );
        for file in files {
            let rel = file
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&file).unwrap();
            let case: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let want_err = case["wantErr"]
                .as_bool()
                .unwrap_or_else(|| panic!("{rel}: wantErr is not a bool"));
            let result = run_case(&kind, &case, &file);
            tally.run += 1;
            let exception = DELIBERATE_REJECTIONS.iter().find(|(name, _)| *name == rel);
            match (want_err, result, exception) {
                (true, Err(_), None) => tally.rejected += 1,
                (false, Ok(()), None) => tally.accepted += 1,
                (false, Err(why), Some((_, reason))) => {
                    tally.rejected += 1;
                    println!("deliberately rejected {rel}: {why} ({reason})");
                    exceptions_seen.push(rel);
                }
                (true, Ok(()), _) => {
                    failures.push(format!("{rel}: wantErr is true but the proof VERIFIED"))
                }
                (false, Err(why), None) => {
                    failures.push(format!("{rel}: wantErr is false but rejected: {why}"))
                }
                (_, _, Some(_)) => failures.push(format!(
                    "{rel}: listed in DELIBERATE_REJECTIONS but not a rejected wantErr:false case"
                )),
            }
        }
        println!(
            "{sub}: {} cases ran ({} verified, {} rejected)",
            tally.run, tally.accepted, tally.rejected
        );
        tallies.push(tally);
    }

    assert!(
        failures.is_empty(),
        "{} conformance failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (name, _) in DELIBERATE_REJECTIONS {
        assert!(
            exceptions_seen.iter().any(|seen| seen == name),
            "DELIBERATE_REJECTIONS lists {name}, which was not found among the vectors"
        );
    }

    let [inc, con, sub_inc, sub_con] = &tallies[..] else {
        unreachable!()
    };
    println!(
        "RFC 6962 vectors: {} inclusion + {} consistency + {} subtree-inclusion + {} \
         subtree-consistency cases ran, none skipped; {} deliberate rejections",
        inc.run,
        con.run,
        sub_inc.run,
        sub_con.run,
        DELIBERATE_REJECTIONS.len()
    );
    assert_eq!(inc.run, INCLUSION_CASES, "inclusion case count changed");
    assert_eq!(con.run, CONSISTENCY_CASES, "consistency case count changed");
    assert_eq!(
        sub_inc.run, SUBTREE_INCLUSION_CASES,
        "subtree-inclusion case count changed"
    );
    assert_eq!(
        sub_con.run, SUBTREE_CONSISTENCY_CASES,
        "subtree-consistency case count changed"
    );
    // The happy paths must really have been exercised, not all rejected.
    assert_eq!(inc.accepted, 6, "verified inclusion cases");
    assert_eq!(con.accepted, 5, "verified consistency cases");
    assert_eq!(sub_inc.accepted, 12, "verified subtree-inclusion cases");
    assert_eq!(sub_con.accepted, 5, "verified subtree-consistency cases");
}
