//! Every case of the published RFC 6962 conformance vectors (transparency-dev/merkle
//! test data, in `shared/testdata/rfc6962/`) against our verifiers.
//!
//! Each JSON file is one case; `wantErr: false` must verify, `wantErr: true` must be
//! rejected. A hash that is `null`, empty or not 32 bytes long cannot be a `B256`: the
//! case is rejected at decoding, which is how our typed API rejects it too.
//!
//! Scope of the `subtree*` directories: they test proofs about an arbitrary subtree
//! `[start, end)` of a tiled log (C2SP tlog-tiles style). A subtree with `start == 0`
//! *is* the tree of size `end`, so those cases are plain RFC 6962 proofs and run here:
//! inclusion of `leafIdx` in the tree of size `end`, and consistency from size `end`
//! (root `root1`) to size `size` (root `root2`). Cases with `start > 0` need a
//! subtree-aware verifier (alignment checks on `start`/`end`, a subtree hash instead
//! of a tree root); our log never issues such proofs, so they are counted and skipped.
//!
//! Where our stricter rules (no empty tree, 32-byte hashes only) disagree with a
//! `wantErr: false` case, the case is listed in [`DELIBERATE_REJECTIONS`] with the
//! reason; the test checks that each listed case exists and is in fact rejected.

// Test code: a failed unwrap is a test failure with its location, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use evidence_schemas::B256;
use evidence_schemas::log::{verify_consistency, verify_inclusion};
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
        "sizes are 0: consistency from or to the empty tree proves nothing and is rejected (EmptyTree)",
    ),
    (
        "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
        "sizes are 0 (EmptyTree), and root2 is a 12-byte placeholder",
    ),
];

/// Expected case counts; a change in the vectors must be looked at, not absorbed.
const INCLUSION_CASES: usize = 98;
const CONSISTENCY_CASES: usize = 98;
const SUBTREE_INCLUSION_RUN: usize = 101;
const SUBTREE_INCLUSION_SKIPPED: usize = 103;
const SUBTREE_CONSISTENCY_RUN: usize = 102;
const SUBTREE_CONSISTENCY_SKIPPED: usize = 16;

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
fn run_case(kind: &Kind, case: &Value, file: &Path) -> Result<(), String> {
    let subtree = case.get("start").is_some();
    match kind {
        Kind::Inclusion => {
            let index = num(case, "leafIdx", file);
            let size = num(case, if subtree { "end" } else { "treeSize" }, file);
            let root = hash(&case["root"]).ok_or("root is not a 32-byte hash")?;
            let leaf = hash(&case["leafHash"]).ok_or("leafHash is not a 32-byte hash")?;
            let proof = proof(&case["proof"]).ok_or("a proof element is not a 32-byte hash")?;
            verify_inclusion(&leaf, index, size, &proof, &root).map_err(|e| e.to_string())
        }
        Kind::Consistency => {
            let (size1, size2) = if subtree {
                (num(case, "end", file), num(case, "size", file))
            } else {
                (num(case, "size1", file), num(case, "size2", file))
            };
            let root1 = hash(&case["root1"]).ok_or("root1 is not a 32-byte hash")?;
            let root2 = hash(&case["root2"]).ok_or("root2 is not a 32-byte hash")?;
            let proof = proof(&case["proof"]).ok_or("a proof element is not a 32-byte hash")?;
            verify_consistency(size1, size2, &root1, &root2, &proof).map_err(|e| e.to_string())
        }
    }
}

#[derive(Default)]
struct Tally {
    run: usize,
    skipped: usize,
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
            if case.get("start").is_some_and(|s| s.as_u64() != Some(0)) {
                tally.skipped += 1;
                continue;
            }
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
            "{sub}: {} cases ran ({} verified, {} rejected), {} skipped",
            tally.run, tally.accepted, tally.rejected, tally.skipped
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
        "RFC 6962 vectors: {} inclusion + {} consistency cases ran, plus {} subtree-inclusion and {} \
         subtree-consistency cases with start = 0 ({} + {} subtree cases with start > 0 skipped); \
         {} deliberate rejections",
        inc.run,
        con.run,
        sub_inc.run,
        sub_con.run,
        sub_inc.skipped,
        sub_con.skipped,
        DELIBERATE_REJECTIONS.len()
    );
    assert_eq!(
        (inc.run, inc.skipped),
        (INCLUSION_CASES, 0),
        "inclusion case count changed"
    );
    assert_eq!(
        (con.run, con.skipped),
        (CONSISTENCY_CASES, 0),
        "consistency case count changed"
    );
    assert_eq!(
        (sub_inc.run, sub_inc.skipped),
        (SUBTREE_INCLUSION_RUN, SUBTREE_INCLUSION_SKIPPED),
        "subtree-inclusion case count changed"
    );
    assert_eq!(
        (sub_con.run, sub_con.skipped),
        (SUBTREE_CONSISTENCY_RUN, SUBTREE_CONSISTENCY_SKIPPED),
        "subtree-consistency case count changed"
    );
    // The happy paths must really have been exercised, not all rejected.
    assert_eq!(inc.accepted, 6, "verified inclusion cases");
    assert_eq!(con.accepted, 5, "verified consistency cases");
}
