//! Replays every committed fuzz input — the seed corpora `fuzz/corpus/<target>/` and the
//! crash inputs kept as regressions `fuzz/regressions/<target>/` — through the fuzz
//! targets' own entry functions (`fuzz/src/lib.rs`, included here), without libFuzzer.
//! Runs in every `cargo test --workspace`; the fuzzing itself is not run in CI (see
//! docs/TESTING.md, "Fuzzing").

#![allow(missing_docs, unreachable_pub, dead_code)]

#[path = "../../fuzz/src/lib.rs"]
mod entries;

use std::path::PathBuf;

fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = evidence_tests::workspace_root()
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_committed_input_replays_without_a_crash() {
    let mut total = 0;
    for (target, entry) in entries::TARGETS {
        let seeds = files("corpus", target);
        assert!(
            seeds.len() >= 3,
            "fuzz/corpus/{target}/ holds {} seed files; commit a handful",
            seeds.len()
        );
        for path in seeds.iter().chain(files("regressions", target).iter()) {
            let data =
                std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(
                outcome.is_ok(),
                "fuzz target {target} crashes on {}",
                path.display()
            );
            total += 1;
        }
    }
    assert!(total >= 7 * 3, "only {total} inputs replayed");
}

/// How many seeds of `target` `accepted` takes.
fn accepted(target: &str, accepted: impl Fn(&[u8]) -> bool) -> usize {
    files("corpus", target)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| accepted(d))
        .count()
}

#[test]
fn the_seeds_reach_past_the_parsers() {
    // Seeds that all fail to parse would fuzz only the JSON/TOML front door.
    let text = |d: &[u8]| String::from_utf8_lossy(d).into_owned();
    let bundles = accepted("bundle_verify", |d| {
        evidence_schemas::ProofBundle::from_json(&text(d)).is_ok_and(|b| b.verify_offline().is_ok())
    });
    assert!(bundles >= 1, "no bundle seed verifies offline");
    let configs = accepted("config_load", |d| {
        evidence_bridge::fuzzing::load_config(&text(d)).is_ok()
    });
    assert!(configs >= 1, "no config seed loads");
    let records = accepted("record_roundtrip", |d| {
        serde_json::from_slice::<evidence_schemas::EvidenceRecord>(d)
            .is_ok_and(|r| r.validate().is_ok())
    });
    assert!(records >= 1, "no record seed is a valid record");
    let requests = accepted("sign_request", |d| {
        serde_json::from_slice::<evidence_relayer::attestors::SignRequest>(d).is_ok()
    });
    assert!(requests >= 3, "fewer than 3 sign-request seeds parse");
}
