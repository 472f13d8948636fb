//! `bridge verify` offline, through the real binary, with and without a trust root
//! (issue 11, parts B and C). No chain is needed: bundles and trust roots are built
//! with fixed keys (`evidence_tests::offline_bundles`), or taken from the committed
//! samples in `schemas/json/examples/`.
//!
//! - a self-signed forgery of a never-anchored document: `--offline` exits 4 and never
//!   says VALID, `--offline --trust` exits 1 naming the check and the addresses;
//! - the sample bundle against the sample trust root: exit 0;
//! - a version-3 bundle against version 1 (pinned) + signed rotations 2 and 3: 0; with
//!   version 2 owner-installed: 1 unless pinned; a tampered rotation signature: 1;
//! - every malformed case of part C: its exit code (2 malformed, 1 check failed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use evidence_schemas::{
    DigestAlgorithm, ProofBundle, attestor_set::SetAuthorization, bundle::EAS_ADAPTER,
    trust::TrustRoot,
};
use evidence_tests::{offline_bundles::*, workspace_root};
use serde_json::{Value, json};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn bridge(args: &[&str]) -> Run {
    let out: Output = Command::new(support::bridge_bin())
        .args(args)
        .env("BRIDGE_LOG", "warn")
        .output()
        .expect("bridge runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn verify(bundle: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["verify", bundle.to_str().unwrap()];
    args.extend_from_slice(extra);
    bridge(&args)
}

fn verify_json(bundle: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut extra = extra.to_vec();
    extra.push("--json");
    let run = verify(bundle, &extra);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {} / {}", run.stdout, run.stderr));
    (run.code, report)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write_bundle(dir: &Path, name: &str, bundle: &ProofBundle) -> PathBuf {
    write(dir, name, &serde_json::to_string_pretty(bundle).unwrap())
}

fn write_trust(dir: &Path, name: &str, root: &TrustRoot) -> PathBuf {
    write(dir, name, &serde_json::to_string_pretty(root).unwrap())
}

fn examples() -> (PathBuf, PathBuf) {
    let dir = workspace_root().join("schemas/json/examples");
    (dir.join("bundle-v3.json"), dir.join("trust-root.json"))
}

/// Versions 1 (keys 1–3, 2 of 3, pinned first set), 2 (keys 2–4, signed by 1 and 2),
/// 3 (keys 4–6, signed by 3 and 4), and a bundle of set 3 signed by keys 5 and 6.
fn three_versions() -> (Vec<evidence_schemas::trust::TrustedSet>, ProofBundle) {
    let mut v1 = set(1, &keys(&[1, 2, 3]).unwrap(), 2, SetAuthorization::FirstSet);
    v1.pinned = true;
    let v2 = rotation(2, &keys(&[2, 3, 4]).unwrap(), 2, &keys(&[1, 2]).unwrap()).unwrap();
    let v3 = rotation(3, &keys(&[4, 5, 6]).unwrap(), 2, &keys(&[3, 4]).unwrap()).unwrap();
    let doc = DigestAlgorithm::Sha256.digest(b"contract");
    let records = vec![
        record(
            "registry",
            20,
            0,
            DigestAlgorithm::Sha256.digest(b"other"),
            keys(&[9]).unwrap()[0].address(),
        )
        .unwrap(),
        record("registry", 21, 1, doc, keys(&[9]).unwrap()[0].address()).unwrap(),
    ];
    let claimed = ClaimedSet {
        attestors: addresses(&keys(&[4, 5, 6]).unwrap()),
        threshold: 2,
        version: 3,
    };
    let bundle = bundle_of(&records, 1, None, 30, &keys(&[5, 6]).unwrap(), claimed).unwrap();
    (vec![v1, v2, v3], bundle)
}

#[test]
fn a_self_signed_forgery_is_never_valid() {
    let dir = tempfile::tempdir().unwrap();
    let forged = write_bundle(dir.path(), "forged.json", &self_signed_forgery(2).unwrap());
    let (_, trust) = examples();

    // Offline without a trust root: what holds is reported, VALID never is.
    let run = verify(&forged, &["--offline"]);
    assert_eq!(run.code, Some(4), "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains("bundle VALID"),
        "must never print VALID: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("NOT PINNED") && run.stdout.contains("NOT VERIFIED"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("--trust"),
        "says what to do: {}",
        run.stderr
    );
    let (code, report) = verify_json(&forged, &["--offline"]);
    assert_eq!(code, Some(4));
    assert_eq!(
        (
            &report["status"],
            &report["valid"],
            &report["signers_pinned"]
        ),
        (&json!("unpinned"), &json!(false), &json!(false)),
        "{report}"
    );
    // No --config, no --offline: the same.
    assert_eq!(verify(&forged, &[]).code, Some(4));

    // Against the sample trust root: the set version 2 it claims has other members.
    let run = verify(&forged, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("trust_members") && run.stdout.contains("bundle INVALID"),
        "{}",
        run.stdout
    );
    for forger in addresses(&keys(&[0xf1, 0xf2]).unwrap()) {
        assert!(
            run.stdout.contains(&forger.to_string()),
            "names the forger {forger}: {}",
            run.stdout
        );
    }
    let (code, report) = verify_json(&forged, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("trust_members")),
        "{report}"
    );

    // A forgery claiming a version the trust root does not list.
    let forged = write_bundle(
        dir.path(),
        "forged-v9.json",
        &self_signed_forgery(9).unwrap(),
    );
    let (code, report) = verify_json(&forged, &["--trust", trust.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("trust_version")),
        "{report}"
    );
}

#[test]
fn the_sample_bundle_verifies_against_the_sample_trust_root() {
    let (bundle, trust) = examples();
    let run = verify(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("bundle VALID (offline, signers pinned by"),
        "{}",
        run.stdout
    );
    let (code, report) = verify_json(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            &report["status"],
            &report["valid"],
            &report["signers_pinned"]
        ),
        (&json!("valid"), &json!(true), &json!(true)),
        "{report}"
    );
    assert_eq!(report["trust_root"], trust.to_str().unwrap());
    let checks: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["offline", "trust_root"]);
    // Without the trust root the same genuine bundle is only self-consistent.
    assert_eq!(verify(&bundle, &["--offline"]).code, Some(4));
}

#[test]
fn a_chain_of_signed_rotations_from_a_pinned_version_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (sets, bundle) = three_versions();
    let bundle = write_bundle(dir.path(), "v3.json", &bundle);
    let trust = write_trust(dir.path(), "trust.json", &trust_root(sets.clone()));
    let run = verify(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("reached from pinned version 1 through 2 signed rotation"),
        "{}",
        run.stdout
    );

    // Version 2 installed by the owner's timelock: not trusted unless pinned.
    let mut owner = sets.clone();
    owner[1] = set(
        2,
        &keys(&[2, 3, 4]).unwrap(),
        2,
        SetAuthorization::OwnerTimelock,
    );
    let trust = write_trust(dir.path(), "owner.json", &trust_root(owner.clone()));
    let (code, report) = verify_json(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("trust_chain")),
        "{report}"
    );
    let detail = report["checks"][1]["detail"].as_str().unwrap();
    assert!(
        detail.contains("owner after the timelock") && detail.contains("pinned"),
        "{detail}"
    );
    owner[1].pinned = true;
    let trust = write_trust(dir.path(), "owner-pinned.json", &trust_root(owner));
    assert_eq!(
        verify(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]).code,
        Some(0)
    );

    // A rotation signature tampered with.
    let mut tampered = sets;
    let mut sig = tampered[2].signatures[1].to_vec();
    sig[40] ^= 0x01;
    tampered[2].signatures[1] = sig.into();
    let trust = write_trust(dir.path(), "tampered.json", &trust_root(tampered));
    let (code, report) = verify_json(&bundle, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("trust_chain")),
        "{report}"
    );
}

/// The sample bundle as JSON, edited by `edit`, written to `dir/name`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let (bundle, _) = examples();
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    edit(&mut v);
    write(dir, name, &serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn malformed_bundles_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (_, trust) = examples();
    let trust = trust.to_str().unwrap();
    let a0 = examples_value()["destination"]["attestors"][0].clone();
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "dup-attestor",
            Box::new(move |v| v["destination"]["attestors"][1] = a0),
            "listed twice",
        ),
        (
            "threshold-0",
            Box::new(|v| v["destination"]["threshold"] = json!(0)),
            "threshold 0",
        ),
        (
            "threshold-4",
            Box::new(|v| v["destination"]["threshold"] = json!(4)),
            "threshold 4 is outside 1..=3",
        ),
        (
            "eip155-0",
            Box::new(|v| v["destination"]["chain"] = json!("eip155:0")),
            "chain id 0",
        ),
        (
            "eip155-big",
            Box::new(|v| v["destination"]["chain"] = json!("eip155:18446744073709551616")),
            "below 2^64",
        ),
        (
            "tx-no-block",
            Box::new(|v| {
                drop(
                    v["destination"]
                        .as_object_mut()
                        .unwrap()
                        .remove("mirror_block"),
                )
            }),
            "without mirror_block",
        ),
        (
            "block-no-tx",
            Box::new(|v| {
                drop(
                    v["destination"]
                        .as_object_mut()
                        .unwrap()
                        .remove("mirror_tx"),
                )
            }),
            "without mirror_tx",
        ),
    ];
    for (name, edit, needle) in cases {
        let path = edited(dir.path(), &format!("{name}.json"), edit);
        for extra in [vec!["--offline"], vec!["--offline", "--trust", trust]] {
            let run = verify(&path, &extra);
            assert_eq!(
                run.code,
                Some(2),
                "{name} {extra:?}: {}{}",
                run.stdout,
                run.stderr
            );
            assert!(
                run.stdout.contains(needle) && run.stdout.contains("bundle MALFORMED"),
                "{name}: {}",
                run.stdout
            );
            assert!(
                run.stderr.contains("malformed bundle"),
                "{name}: {}",
                run.stderr
            );
        }
    }
}

/// An edit of a bundle's JSON.
type Edit = Box<dyn FnOnce(&mut Value)>;

fn examples_value() -> Value {
    serde_json::from_str(&std::fs::read_to_string(examples().0).unwrap()).unwrap()
}

#[test]
fn duplicate_json_keys_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(examples().0).unwrap();
    for (name, from, to) in [
        (
            "dup-threshold",
            "\"threshold\": 2",
            "\"threshold\": 1,\n    \"threshold\": 2",
        ),
        (
            "dup-leaf",
            "\"leaf_index\": 1",
            "\"leaf_index\": 0, \"leaf_index\": 1",
        ),
        (
            "dup-digest",
            "\"digest_alg\": \"sha256\"",
            "\"digest_alg\": \"sha256\", \"digest_alg\": \"keccak256\"",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let path = write(
            dir.path(),
            &format!("{name}.json"),
            &text.replacen(from, to, 1),
        );
        let run = verify(
            &path,
            &["--offline", "--trust", examples().1.to_str().unwrap()],
        );
        assert_eq!(run.code, Some(2), "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("duplicate JSON key"),
            "{name}: {}",
            run.stderr
        );
    }
    // The trust root is read as strictly.
    let trust = std::fs::read_to_string(examples().1).unwrap().replacen(
        "\"version\": 1,",
        "\"version\": 1, \"version\": 1,",
        1,
    );
    let trust = write(dir.path(), "dup-trust.json", &trust);
    let run = verify(
        &examples().0,
        &["--offline", "--trust", trust.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("duplicate JSON key"), "{}", run.stderr);
}

#[test]
fn a_record_the_checkpoint_cannot_cover_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let trust = examples().1;
    // The sample record is in block 42; a checkpoint at block 41 cannot cover it.
    let path = edited(dir.path(), "after.json", |v| {
        v["checkpoint"]["source_block_number"] = json!(41)
    });
    let (code, report) = verify_json(&path, &["--offline", "--trust", trust.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("checkpoint")),
        "{report}"
    );
    // The same block with another hash: another fork.
    let path = edited(dir.path(), "fork.json", |v| {
        v["checkpoint"]["source_block_number"] = json!(42);
        v["checkpoint"]["source_block_hash"] = json!(format!("0x{}", "ab".repeat(32)));
    });
    let (code, report) = verify_json(&path, &["--offline"]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("checkpoint")),
        "{report}"
    );
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("different forks"),
        "{report}"
    );
}

fn signed_by_keys_1_2(
    records: &[evidence_schemas::EvidenceRecord],
    index: usize,
    revoked_by: usize,
) -> ProofBundle {
    let signers = keys(&[1, 2, 3]).unwrap();
    let claimed = ClaimedSet {
        attestors: addresses(&signers),
        threshold: 2,
        version: 1,
    };
    bundle_of(records, index, Some(revoked_by), 90, &signers[..2], claimed).unwrap()
}

#[test]
fn revocations_out_of_order_or_with_other_evidence_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut v1 = set(1, &keys(&[1, 2, 3]).unwrap(), 2, SetAuthorization::FirstSet);
    v1.pinned = true;
    let trust = write_trust(dir.path(), "trust.json", &trust_root(vec![v1]));
    let trust = trust.to_str().unwrap();
    let submitter = keys(&[9]).unwrap()[0].address();
    let anchor = record(
        "registry",
        50,
        0,
        DigestAlgorithm::Sha256.digest(b"doc"),
        submitter,
    )
    .unwrap();

    // In order: revoked (exit 3), with the trust root; without it, still not pinned (4).
    let ok = write_bundle(
        dir.path(),
        "revoked.json",
        &signed_by_keys_1_2(&[anchor.clone(), revoke_of(&anchor, 60)], 0, 1),
    );
    let (code, report) = verify_json(&ok, &["--offline", "--trust", trust]);
    assert_eq!(
        (code, &report["status"]),
        (Some(3), &json!("revoked")),
        "{report}"
    );
    assert_eq!(verify(&ok, &["--offline"]).code, Some(4));

    // The revocation is leaf 0, its anchor leaf 1 (and an earlier block).
    let early = revoke_of(&anchor, 40);
    let path = write_bundle(
        dir.path(),
        "early.json",
        &signed_by_keys_1_2(&[early, anchor.clone()], 1, 0),
    );
    let (code, report) = verify_json(&path, &["--offline", "--trust", trust]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("revocation")),
        "{report}"
    );
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("not after its anchor"),
        "{report}"
    );

    // An EAS revocation whose evidence (here the digest, then the metadata) differs.
    let mut eas_anchor = record(
        EAS_ADAPTER,
        50,
        0,
        DigestAlgorithm::Keccak256.digest(b"attested"),
        submitter,
    )
    .unwrap();
    eas_anchor.evidence.digest_alg = DigestAlgorithm::Keccak256;
    eas_anchor.evidence.metadata = DigestAlgorithm::Keccak256.digest(b"uid, schema, ...");
    let good = revoke_of(&eas_anchor, 60);
    let path = write_bundle(
        dir.path(),
        "eas.json",
        &signed_by_keys_1_2(&[eas_anchor.clone(), good.clone()], 0, 1),
    );
    assert_eq!(
        verify(&path, &["--offline", "--trust", trust]).code,
        Some(3)
    );
    for (name, edit) in [
        (
            "digest",
            Box::new(|r: &mut evidence_schemas::EvidenceRecord| {
                r.evidence.digest = DigestAlgorithm::Sha256.digest(b"x")
            }) as Box<dyn Fn(&mut _)>,
        ),
        (
            "metadata",
            Box::new(|r: &mut evidence_schemas::EvidenceRecord| {
                r.evidence.metadata = DigestAlgorithm::Sha256.digest(b"y")
            }),
        ),
    ] {
        let mut bad = good.clone();
        edit(&mut bad);
        let path = write_bundle(
            dir.path(),
            &format!("eas-{name}.json"),
            &signed_by_keys_1_2(&[eas_anchor.clone(), bad], 0, 1),
        );
        let (code, report) = verify_json(&path, &["--offline", "--trust", trust]);
        assert_eq!(
            (code, &report["failed_check"]),
            (Some(1), &json!("revocation")),
            "{name}: {report}"
        );
        let detail = report["checks"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("differs from its anchor's in") && detail.contains(name),
            "{name}: {detail}"
        );
    }
}

#[test]
fn oversized_and_endless_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = verify(Path::new("/dev/zero"), &["--offline"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("larger than 16 MiB"), "{}", run.stderr);
    let big = dir.path().join("big.json");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(b"{\"version\": 2").unwrap();
    f.write_all(&vec![b' '; 17 * 1024 * 1024]).unwrap();
    f.write_all(b"}").unwrap();
    drop(f);
    let run = verify(&big, &["--offline"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("larger than 16 MiB"), "{}", run.stderr);
    let run = verify(&examples().0, &["--offline", "--trust", "/dev/zero"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("trust root") && run.stderr.contains("larger than 16 MiB"),
        "{}",
        run.stderr
    );
    let run = verify(&dir.path().join("missing.json"), &["--offline"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn a_trust_root_for_another_mirror_exits_1_and_a_bad_one_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (bundle, trust) = examples();
    let mut root: Value = serde_json::from_str(&std::fs::read_to_string(&trust).unwrap()).unwrap();
    root["mirrors"][0]["mirror"] = json!(format!("0x{}", "42".repeat(20)));
    let other = write(dir.path(), "other.json", &root.to_string());
    let (code, report) = verify_json(&bundle, &["--offline", "--trust", other.to_str().unwrap()]);
    assert_eq!(
        (code, &report["failed_check"]),
        (Some(1), &json!("trust_mirror")),
        "{report}"
    );
    root["mirrors"][0]["sources"][0]["sets"][0]["threshold"] = json!(0);
    let bad = write(dir.path(), "bad.json", &root.to_string());
    let run = verify(&bundle, &["--offline", "--trust", bad.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("threshold 0"), "{}", run.stderr);
}

#[test]
fn help_documents_exit_codes_0_to_4() {
    let run = bridge(&["verify", "--help"]);
    assert_eq!(run.code, Some(0));
    for code in [
        "0  valid",
        "1  a check failed",
        "2  bad input",
        "3  the proof holds",
        "4  self-consistent",
    ] {
        assert!(run.stdout.contains(code), "{code}: {}", run.stdout);
    }
    assert!(run.stdout.contains("--trust"), "{}", run.stdout);
}

/// A config with one chain (registry configured) and a fresh SQLite store; no node runs:
/// every case below is refused before an RPC call.
fn revoke_config(dir: &Path, registry: bool) -> PathBuf {
    let store = dir.join("store.sqlite");
    let registry = if registry {
        "registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n"
    } else {
        "eas = { contract = \"0x00000000000000000000000000000000000000ea\" }\n"
    };
    let text = format!(
        "[store]\nurl = \"sqlite://{}?mode=rwc\"\n\n[keys]\nanchor_key_env = \"VERIFY_TRUST_ANCHOR_KEY\"\n\n[[chains]]\nname = \"alpha\"\nchain_id = \"eip155:31337\"\nrpc = [\"http://127.0.0.1:1\"]\n{registry}mirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n\n[[chains]]\nname = \"beta\"\nchain_id = \"eip155:31338\"\nrpc = [\"http://127.0.0.1:2\"]\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n",
        store.display()
    );
    write(dir, "bridge.toml", &text)
}

fn revoke(config: &Path, chain: &str, record_id: &str) -> Run {
    let out = Command::new(support::bridge_bin())
        .args([
            "revoke",
            "--config",
            config.to_str().unwrap(),
            "--chain",
            chain,
            "--record-id",
            record_id,
        ])
        .env("BRIDGE_LOG", "warn")
        .env("VERIFY_TRUST_ANCHOR_KEY", format!("0x{}", "09".repeat(32)))
        .output()
        .expect("bridge runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn revoke_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = revoke_config(dir.path(), true);
    let id = format!("0x{}", "ab".repeat(32));
    for (chain, record_id, needle) in [
        ("alpha", "0x1234", "record id"),
        ("gamma", id.as_str(), "gamma"),
        ("alpha", id.as_str(), "not in this config's store"),
    ] {
        let run = revoke(&config, chain, record_id);
        assert_eq!(
            run.code,
            Some(2),
            "{chain} {record_id}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        assert!(
            !run.stderr.contains(&"09".repeat(32)),
            "never prints the key: {}",
            run.stderr
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let run = revoke(&revoke_config(dir.path(), false), "alpha", &id);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("no `registry` configured"),
        "{}",
        run.stderr
    );
}
