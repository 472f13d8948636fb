//! Trust end to end on the three-partner devnet (three attest-only `bridge run`
//! partners, one key each, and a relaying instance with no attestor key):
//!
//! - the partners approve a new attestor set with their own keys
//!   (`bridge mirror sign-rotation`), the relayer submits it (`bridge mirror rotate`),
//!   and checkpoints continue under the new set (threshold 2 → 3);
//! - `bridge trust export` writes every set with how it was installed; a bundle
//!   verifies `--offline --trust` against it (exit 0), `--offline` alone never says
//!   valid (exit 4), and a bundle of a set the trust root does not hold fails (exit 1);
//! - an owner proposal through the timelock raises `owner_rotation_proposed` in every
//!   partner within one watch interval; the partners cancel it with their signatures;
//! - a set the owner installs after the timelock is provable on the chain, but a
//!   verifier trusts it only when it pins it (`--pin-owner-sets`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::Value;
use support::{AttestorInstance, Devnet, Relayer};

const PROVABLE: Duration = Duration::from_secs(150);

fn mirror_show(net: &Devnet) -> Value {
    let config = net.config();
    net.json(&[
        "mirror",
        "show",
        "--config",
        config.to_str().unwrap(),
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--json",
    ])
}

/// `bridge mirror sign-rotation` by partner `p` (with its own config and key).
fn approve(net: &Devnet, p: &AttestorInstance, extra: &[&str], n: &str) -> PathBuf {
    let path = net.dir.path().join(format!("approval-{n}.json"));
    let mut args = vec![
        "mirror",
        "sign-rotation",
        "--config",
        p.config.to_str().unwrap(),
        "--chain",
        "beta",
        "--source",
        "alpha",
    ];
    args.extend_from_slice(extra);
    args.extend(["-o", path.to_str().unwrap()]);
    let out = net
        .command(&args)
        .env_remove("BRIDGE_ATTESTOR_KEYS")
        .env(&p.key_env.0, &p.key_env.1)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sign-rotation by {}: {}",
        p.address,
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn export(net: &Devnet, name: &str, extra: &[&str]) -> PathBuf {
    let path = net.dir.path().join(name);
    let config = net.config();
    let mut args = vec![
        "trust",
        "export",
        "--config",
        config.to_str().unwrap(),
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = net.run(&args);
    assert!(
        out.status.success(),
        "trust export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// `bridge verify --offline [--trust FILE] --json`: (exit code, report).
fn verify_offline(net: &Devnet, bundle: &Path, trust: Option<&Path>) -> (i32, Value) {
    let mut args = vec!["verify", bundle.to_str().unwrap(), "--offline", "--json"];
    if let Some(t) = trust {
        args.extend(["--trust", t.to_str().unwrap()]);
    }
    let out = net.run(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn bundle_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn alarms_of(net: &Devnet, p: &AttestorInstance, kind: &str) -> Vec<Value> {
    let status = net.status_of(&p.config);
    status
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["alarms"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["kind"] == kind)
        .collect()
}

#[test]
fn partners_rotate_the_set_owner_proposals_alarm_and_trust_roots_pin_signers() {
    let net = Devnet::start(3, 1).unwrap();
    let partners: Vec<AttestorInstance> =
        (0..3).map(|i| net.attestor_instance(i).unwrap()).collect();
    let _procs: Vec<Relayer> = partners
        .iter()
        .enumerate()
        .map(|(i, a)| net.start_attestor(i, a))
        .collect();
    net.use_partner_relayer().unwrap();
    let _relayer = net.start_relayer(0);
    let config = net.config();
    let config = config.to_str().unwrap();

    // Set v1 (first set, threshold 2): a record provable on beta.
    let first = net.anchor_text("alpha", "an IOU mirrored under the first set");
    let bundle1 = net.wait_provable(&first, "beta", PROVABLE).unwrap();
    assert_eq!(
        bundle_json(&bundle1)["destination"]["attestor_set_version"],
        1
    );
    let trust1 = export(&net, "trust-1.json", &[]);
    let (code, report) = verify_offline(&net, &bundle1, None);
    assert_eq!(
        code, 4,
        "offline without a trust root must not be VALID: {report}"
    );
    assert_ne!(report["status"], "valid", "{report}");
    let (code, report) = verify_offline(&net, &bundle1, Some(&trust1));
    assert_eq!(code, 0, "{report}");

    // The partners approve threshold 3 (same members) with their own keys; two
    // approvals meet the current threshold; the relayer submits them.
    let members: Vec<String> = partners.iter().map(|p| p.address.to_string()).collect();
    let mut set_args: Vec<&str> = Vec::new();
    for m in &members {
        set_args.extend(["--attestor", m.as_str()]);
    }
    let mut change = set_args.clone();
    change.extend(["--threshold", "3", "--version", "2"]);
    let approvals: Vec<PathBuf> = partners[..2]
        .iter()
        .enumerate()
        .map(|(i, p)| approve(&net, p, &change, &format!("v2-{i}")))
        .collect();
    let mut rotate = vec![
        "mirror", "rotate", "--config", config, "--chain", "beta", "--source", "alpha", "--json",
    ];
    rotate.extend_from_slice(&change);
    for a in &approvals {
        rotate.extend(["--approval", a.to_str().unwrap()]);
    }
    let rotated = net.json(&rotate);
    assert_eq!(rotated["attestor_set_version"], 2, "{rotated}");
    let show = mirror_show(&net);
    assert_eq!(
        (
            show["attestor_set_version"].as_u64(),
            show["threshold"].as_u64()
        ),
        (Some(2), Some(3)),
        "{show}"
    );
    let history = show["history"].as_array().unwrap();
    assert_eq!(history[1]["authorization"], "signed_rotation", "{show}");

    // Checkpoints continue under the new set: three partner signatures.
    let second = net.anchor_text("alpha", "an IOU mirrored under the rotated set");
    let bundle2 = net.wait_provable(&second, "beta", PROVABLE).unwrap();
    let b2 = bundle_json(&bundle2);
    assert_eq!(b2["destination"]["attestor_set_version"], 2, "{b2}");
    assert_eq!(b2["signatures"].as_array().unwrap().len(), 3, "{b2}");
    let online = net.verify(&bundle2);
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stdout)
    );
    // A root exported before the rotation does not know version 2; one exported now
    // does, and chains it to the pinned first set through the partners' signatures.
    let (code, report) = verify_offline(&net, &bundle2, Some(&trust1));
    assert_eq!(code, 1, "{report}");
    let trust2 = export(&net, "trust-2.json", &[]);
    let (code, report) = verify_offline(&net, &bundle2, Some(&trust2));
    assert_eq!(code, 0, "{report}");
    let (code, report) = verify_offline(&net, &bundle1, Some(&trust2));
    assert_eq!(
        code, 0,
        "old proofs stay valid after the rotation: {report}"
    );
    // After the rotation, the CLI and the API build the same bundle of the old record
    // (both name the set that accepted the checkpoint they use, read at its block), and
    // it verifies online, which checks that version against the mirror's event.
    let again = net.wait_provable(&first, "beta", PROVABLE).unwrap();
    let online = net.verify(&again);
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stdout)
    );
    let listen = std::fs::read_to_string(net.config())
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("listen = \"")
                .and_then(|r| r.strip_suffix('"'))
                .map(str::to_owned)
        })
        .expect("relayer.toml has [api] listen");
    let url = format!("http://{listen}/api/v1/records/{first}/bundle?destination=beta");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The relayer keeps working meanwhile (an RFC 3161 token for the checkpoint, a newer
    // checkpoint): the API's bundle is compared with the CLI's read before and after
    // it, once those two agree, i.e. nothing the bundle holds changed in between.
    for attempt in 1.. {
        let before = bundle_json(&net.wait_provable(&first, "beta", PROVABLE).unwrap());
        let api: Value =
            rt.block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() });
        let after = bundle_json(&net.wait_provable(&first, "beta", PROVABLE).unwrap());
        if before == after {
            assert_eq!(
                api, after,
                "the API's bundle differs from `bridge proof` after a rotation"
            );
            break;
        }
        assert!(
            attempt < 10,
            "the bundle kept changing: {before} then {after}"
        );
    }

    // The owner proposes a set of its own: every partner raises the alarm within one
    // watch interval (3 s), then the partners cancel it.
    let owner_set = [
        "--attestor",
        "0x000000000000000000000000000000000000dEaD",
        "--threshold",
        "1",
    ];
    let mut propose = vec![
        "mirror",
        "propose-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--owner-key-env",
        "BRIDGE_OWNER_KEY",
        "--json",
    ];
    propose.extend_from_slice(&owner_set);
    let proposed = net.json(&propose);
    assert_eq!(proposed["proposed_version"], 3, "{proposed}");
    let started = Instant::now();
    for p in &partners {
        loop {
            let found = alarms_of(&net, p, "owner_rotation_proposed");
            if let Some(a) = found.first() {
                assert!(
                    a["message"]
                        .as_str()
                        .unwrap()
                        .contains("0x000000000000000000000000000000000000dEaD"),
                    "{a}"
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "partner {} raised no owner_rotation_proposed alarm",
                p.address
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let log = std::fs::read_to_string(net.dir.path().join("attestor-0.log")).unwrap();
    assert!(
        log.contains("ERROR") && log.contains("owner_rotation_proposed"),
        "no ERROR log line for the proposal"
    );
    let cancels: Vec<PathBuf> = partners
        .iter()
        .enumerate()
        .map(|(i, p)| approve(&net, p, &["--cancel"], &format!("cancel-{i}")))
        .collect();
    let mut cancel = vec![
        "mirror",
        "cancel-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--json",
    ];
    for c in &cancels {
        cancel.extend(["--approval", c.to_str().unwrap()]);
    }
    let cancelled = net.json(&cancel);
    assert_eq!(cancelled["cancelled_version"], 3, "{cancelled}");
    assert!(
        mirror_show(&net)["pending_owner_rotation"].is_null(),
        "the proposal is gone"
    );

    // The owner proposes again (the partners, threshold 2) and executes after the
    // devnet's 10 s timelock: the chain accepts checkpoints under it, but a verifier
    // trusts that set only when pinned.
    let mut again = vec![
        "mirror",
        "propose-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--owner-key-env",
        "BRIDGE_OWNER_KEY",
    ];
    again.extend_from_slice(&set_args);
    again.extend(["--threshold", "2"]);
    let out = net.run(&again);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let execute = [
        "mirror",
        "execute-rotation",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--owner-key-env",
        "BRIDGE_OWNER_KEY",
    ];
    let early = net.run(&execute);
    assert_eq!(
        early.status.code(),
        Some(2),
        "executed before the timelock: {}",
        String::from_utf8_lossy(&early.stdout)
    );
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("TimelockNotExpired"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = net.run(&execute);
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "execute-rotation never succeeded: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let show = mirror_show(&net);
    assert_eq!(show["attestor_set_version"], 3, "{show}");
    assert_eq!(
        show["history"][2]["authorization"], "owner_timelock",
        "{show}"
    );
    let third = net.anchor_text("alpha", "an IOU mirrored under the owner's set");
    let bundle3 = net.wait_provable(&third, "beta", PROVABLE).unwrap();
    assert_eq!(
        bundle_json(&bundle3)["destination"]["attestor_set_version"],
        3
    );
    let trust3 = export(&net, "trust-3.json", &[]);
    let (code, report) = verify_offline(&net, &bundle3, Some(&trust3));
    assert_eq!(
        code, 1,
        "an owner-installed set is not trusted unless pinned: {report}"
    );
    let pinned = export(&net, "trust-3-pinned.json", &["--pin-owner-sets"]);
    let (code, report) = verify_offline(&net, &bundle3, Some(&pinned));
    assert_eq!(code, 0, "{report}");
}
