//! Attestor-set rotation end to end, with the real binary on a real anvil devnet:
//! records mirrored under set v1; two members of the current set approve a new set
//! (`bridge mirror sign-rotation`, each with its own key) and anyone submits it
//! (`bridge mirror rotate`): alpha's set on beta's mirror becomes other anvil dev keys
//! (bad input refused first, exit 2; the owner cannot replace an installed set); a
//! checkpoint signed by the OLD set is rejected by the mirror with `NotAttestor`; a
//! bundle proven before the rotation still verifies offline and online; the relayer
//! restarted with the new set's keys continues and new records become provable.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{process::Stdio, time::Duration};

use alloy::{
    primitives::{Address, B256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use evidence_adapters::contracts::AnchorMirror;
use evidence_schemas::{
    ChainId,
    checkpoint::{Checkpoint, MirrorDomain},
};
use evidence_tests::{
    attest::{sign_checkpoint, signature_bytes},
    revert::expect_revert,
};
use serde_json::Value;
use support::{Devnet, Relayer};

const PROVABLE: Duration = Duration::from_secs(120);

/// anvil's public development keys #5, #6 and #7 (never use them on a real chain).
const NEW_SET: [&str; 3] = [
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
];

fn env<'a>(net: &'a Devnet, key: &str) -> &'a str {
    &net.env
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("devnet.env has no {key}"))
        .1
}

fn keys(list: &str) -> Vec<PrivateKeySigner> {
    list.split(',').map(|k| k.trim().parse().unwrap()).collect()
}

fn sorted_addresses(keys: &[PrivateKeySigner]) -> Vec<Address> {
    let mut a: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    a.sort();
    a
}

fn addresses_of(v: &Value) -> Vec<Address> {
    let mut a: Vec<Address> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().parse().unwrap())
        .collect();
    a.sort();
    a
}

/// `bridge run` with the devnet config but these attestor keys.
fn start_relayer_with(net: &Devnet, n: usize, attestor_keys: &str) -> Relayer {
    let log = std::fs::File::create(net.dir.path().join(format!("run-{n}.log"))).unwrap();
    let config = net.config();
    net.command(&["run", "--config", config.to_str().unwrap()])
        .env("BRIDGE_LOG", "info")
        .env("BRIDGE_ATTESTOR_KEYS", attestor_keys)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Relayer)
        .unwrap()
}

fn verify_ok(net: &Devnet, bundle: &std::path::Path) -> Value {
    let out = net.verify(bundle);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "verify failed: {report}");
    assert_eq!(report["status"], "valid", "{report}");
    let checks: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "offline",
            "mirror",
            "root",
            "attestor_set",
            "mirror_tx",
            "source"
        ],
        "{report}"
    );
    report
}

/// Offline verification against a trust root exported from the chains now.
fn verify_offline_ok(net: &Devnet, bundle: &std::path::Path) {
    let trust = net.dir.path().join("trust.json");
    let config = net.config();
    let out = net.run(&[
        "trust",
        "export",
        "--config",
        config.to_str().unwrap(),
        "-o",
        trust.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "trust export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = net.run(&[
        "verify",
        bundle.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "offline verify failed: {report}");
    assert_eq!(report["online"], false);
    assert_eq!(report["status"], "valid");
}

/// `bridge mirror sign-rotation` of alpha's set on beta with one old key; returns the
/// approval file.
fn approve(
    net: &Devnet,
    config: &str,
    key: &PrivateKeySigner,
    set: &[String],
    threshold: &str,
    n: usize,
) -> std::path::PathBuf {
    let path = net.dir.path().join(format!("approval-{n}.json"));
    let mut args = vec![
        "mirror",
        "sign-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--key-env",
        "ONE_KEY",
    ];
    for a in set {
        args.extend(["--attestor", a.as_str()]);
    }
    args.extend([
        "--threshold",
        threshold,
        "--version",
        "2",
        "-o",
        path.to_str().unwrap(),
    ]);
    let out = net
        .command(&args)
        .env(
            "ONE_KEY",
            format!("0x{}", alloy::hex::encode(key.to_bytes())),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sign-rotation failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[test]
fn rotation_rejects_the_old_set_and_keeps_old_proofs_valid() {
    let net = Devnet::start(2, 1).unwrap();
    let config = net.config();
    let config = config.to_str().unwrap();
    let old_keys = keys(env(&net, "BRIDGE_ATTESTOR_KEYS"));
    let new_keys: Vec<PrivateKeySigner> = NEW_SET.iter().map(|k| k.parse().unwrap()).collect();
    let new_addresses = sorted_addresses(&new_keys);

    // Records mirrored under set v1.
    let mut relayer = net.start_relayer(0);
    let before = net.anchor_text("alpha", "IOU signed before the rotation");
    let old_bundle = net.wait_provable(&before, "beta", PROVABLE).unwrap();
    verify_ok(&net, &old_bundle);
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&old_bundle).unwrap()).unwrap();
    assert_eq!(b["destination"]["attestor_set_version"], 1);

    let show = net.json(&[
        "mirror", "show", "--config", config, "--chain", "beta", "--source", "alpha", "--json",
    ]);
    assert_eq!(show["attestor_set_version"], 1, "{show}");
    assert_eq!(show["threshold"], 2);
    assert_eq!(
        addresses_of(&show["attestors"]),
        sorted_addresses(&old_keys)
    );
    assert!(
        show["latest_checkpoint"]["size"].as_u64().unwrap() >= 1,
        "{show}"
    );
    relayer.kill().unwrap();
    relayer.wait().unwrap();

    // Bad input is refused before anything is sent (exit 2, with the reason).
    let [a, b2, c] = [
        new_addresses[0].to_string(),
        new_addresses[1].to_string(),
        new_addresses[2].to_string(),
    ];
    let base = [
        "mirror",
        "rotate",
        "--config",
        config,
        "--approval",
        "/nonexistent/approval.json",
    ];
    for (extra, needle) in [
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--attestor",
                &b2,
                "--threshold",
                "0",
            ],
            "--threshold 0",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--attestor",
                &b2,
                "--threshold",
                "3",
            ],
            "between 1 and the number",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--attestor",
                &a,
                "--threshold",
                "1",
            ],
            "given twice",
        ),
        (
            vec![
                "--chain",
                "gamma",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--threshold",
                "1",
            ],
            "unknown chain \"gamma\"",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "beta",
                "--attestor",
                &a,
                "--threshold",
                "1",
            ],
            "both \"beta\"",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                "0x1234",
                "--threshold",
                "1",
            ],
            "not a 20-byte hex address",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--threshold",
                "1",
                "--version",
                "3",
            ],
            "the next is 2",
        ),
        (
            vec![
                "--chain",
                "beta",
                "--source",
                "alpha",
                "--attestor",
                &a,
                "--threshold",
                "1",
            ],
            "cannot read approval",
        ),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = net.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{extra:?}: {stderr:?} lacks {needle:?}"
        );
    }
    // The owner cannot replace an installed set: only the current set's threshold (or
    // the owner's timelock) can.
    let out = net.run(&[
        "mirror",
        "set-attestors",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--attestor",
        &a,
        "--threshold",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already has attestor set version 1"),
        "{stderr}"
    );
    let show = net.json(&[
        "mirror", "show", "--config", config, "--chain", "beta", "--source", "alpha", "--json",
    ]);
    assert_eq!(
        show["attestor_set_version"], 1,
        "a refused rotation changed the set: {show}"
    );

    // Two members of the old set approve the new keys, each with its own key; one
    // approval is not enough; a non-member cannot approve.
    let set = [a.clone(), b2.clone(), c.clone()];
    let first = approve(&net, config, &old_keys[0], &set, "2", 0);
    let out = net.run(&[
        "mirror",
        "rotate",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--attestor",
        &a,
        "--attestor",
        &b2,
        "--attestor",
        &c,
        "--threshold",
        "2",
        "--approval",
        first.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("threshold is 2: collect more"), "{stderr}");
    let stranger: PrivateKeySigner = env(&net, "BRIDGE_ANCHOR_KEY").parse().unwrap();
    let mut args = vec![
        "mirror",
        "sign-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--key-env",
        "BRIDGE_ANCHOR_KEY",
    ];
    for x in &set {
        args.extend(["--attestor", x.as_str()]);
    }
    args.extend(["--threshold", "2"]);
    let out = net.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "({}) is not a member of the current attestor set",
            stranger.address()
        )),
        "{stderr}"
    );
    let second = approve(&net, config, &old_keys[1], &set, "2", 1);

    // Anyone submits them (here: the relayer key, which has no role on the mirror).
    let rotated = net.json(&[
        "mirror",
        "rotate",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--attestor",
        &a,
        "--attestor",
        &b2,
        "--attestor",
        &c,
        "--threshold",
        "2",
        "--approval",
        first.to_str().unwrap(),
        "--approval",
        second.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(rotated["attestor_set_version"], 2, "{rotated}");
    let show = net.json(&[
        "mirror", "show", "--config", config, "--chain", "beta", "--source", "alpha", "--json",
    ]);
    assert_eq!(show["attestor_set_version"], 2);
    assert_eq!(addresses_of(&show["attestors"]), new_addresses);
    let history = show["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{show}");
    assert_eq!(history[1]["version"], 2);
    assert_eq!(history[1]["tx_hash"], rotated["tx_hash"]);
    assert_eq!(history[0]["authorization"], "first_set", "{show}");
    assert_eq!(history[1]["authorization"], "signed_rotation", "{show}");
    assert_eq!(
        history[1]["signatures"].as_array().unwrap().len(),
        2,
        "{show}"
    );
    let text = String::from_utf8_lossy(
        &net.run(&[
            "mirror", "show", "--config", config, "--chain", "beta", "--source", "alpha",
        ])
        .stdout,
    )
    .into_owned();
    assert!(text.contains("signed by version 1, 2 signatures"), "{text}");
    assert!(
        text.contains("first set (installed by the owner)"),
        "{text}"
    );

    // A checkpoint signed by the OLD set is rejected with NotAttestor; the same
    // checkpoint signed by the new set passes the signature check (and then fails only
    // on its made-up consistency proof).
    let alpha = ChainId::parse(show["source_chain"].as_str().unwrap()).unwrap();
    let mirror: Address = show["mirror"].as_str().unwrap().parse().unwrap();
    let beta_id = 40_000 + u64::from(net.first_port) + 1;
    let latest = show["latest_checkpoint"]["size"].as_u64().unwrap();
    let cp = Checkpoint {
        source_chain: alpha,
        size: latest + 1,
        root: B256::repeat_byte(0x5a),
        source_block_number: 1_000_000,
        source_block_hash: B256::repeat_byte(0x5b),
    };
    let domain = MirrorDomain {
        chain_id: beta_id,
        mirror,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let provider = ProviderBuilder::new().connect(&net.rpc(1)).await.unwrap();
        let contract = AnchorMirror::new(mirror, &provider);
        let old_sigs = signature_bytes(&sign_checkpoint(&cp, &domain, &old_keys[..2]).unwrap());
        let err: AnchorMirror::AnchorMirrorErrors = expect_revert(
            contract
                .submitCheckpoint((&cp).into(), vec![], old_sigs)
                .call()
                .await,
        )
        .unwrap();
        match err {
            AnchorMirror::AnchorMirrorErrors::NotAttestor(e) => {
                assert!(
                    sorted_addresses(&old_keys).contains(&e.signer),
                    "NotAttestor names {}",
                    e.signer
                );
            }
            other => panic!("an old-set checkpoint was rejected for the wrong reason: {other:?}"),
        }
        let new_sigs = signature_bytes(&sign_checkpoint(&cp, &domain, &new_keys[..2]).unwrap());
        let err: AnchorMirror::AnchorMirrorErrors = expect_revert(
            contract
                .submitCheckpoint((&cp).into(), vec![], new_sigs)
                .call()
                .await,
        )
        .unwrap();
        assert!(
            matches!(
                err,
                AnchorMirror::AnchorMirrorErrors::NonCanonicalProofLength(_)
            ),
            "new-set signatures must pass the signature check: {err:?}"
        );
    });

    // The bundle proven before the rotation still verifies, offline and online.
    verify_offline_ok(&net, &old_bundle);
    verify_ok(&net, &old_bundle);

    // The relayer restarted with the new set's keys continues.
    let new_list: Vec<String> = NEW_SET.iter().map(|s| (*s).to_owned()).collect();
    let mut relayer = start_relayer_with(&net, 1, &new_list.join(","));
    let after = net.anchor_text("alpha", "IOU signed after the rotation");
    let new_bundle = net.wait_provable(&after, "beta", PROVABLE).unwrap();
    verify_ok(&net, &new_bundle);
    verify_offline_ok(&net, &new_bundle);
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&new_bundle).unwrap()).unwrap();
    assert_eq!(b["destination"]["attestor_set_version"], 2, "{b}");
    let signers: Vec<Address> = b["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["attestor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        signers.iter().all(|s| new_addresses.contains(s)),
        "new checkpoints are signed by the new set: {signers:?}"
    );

    // The record proven before the rotation can still be bundled after it.
    let rebuilt = net.wait_provable(&before, "beta", PROVABLE).unwrap();
    verify_ok(&net, &rebuilt);
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}
