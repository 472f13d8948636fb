//! Court-ready bundles end to end, on a real anvil devnet with the real binary: a
//! record anchored on alpha and then revoked; its bundle on beta carries the
//! revocation and its proof, `bridge verify` reports "revoked" (exit 3, never plain
//! valid) offline and online (online it re-reads both source transactions); `lookup`
//! shows the record revoked and provable on beta; and the bundle altered in ANY single
//! field — every JSON leaf, enumerated programmatically, revocation included — fails
//! `verify --config` naming the failed check.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use evidence_schemas::{ChainId, DigestAlgorithm, Label};
use serde_json::Value;
use support::Devnet;

const PROVABLE: Duration = Duration::from_secs(120);

/// Every leaf of a JSON document, as a path of keys and indexes.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(i.to_string());
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

/// A different value of the same JSON type and shape, so the bundle still parses
/// where it can (an altered value, not a broken file).
fn altered(v: &Value) -> Value {
    match v {
        Value::Number(n) => (n.as_u64().unwrap() + 1).into(),
        Value::String(s) if s.starts_with("0x") => {
            let mut chars: Vec<char> = s.chars().collect();
            let last = chars.len() - 1;
            chars[last] = if chars[last] == '1' { '2' } else { '1' };
            chars.into_iter().collect::<String>().into()
        }
        Value::String(s) if s.starts_with("eip155:") => {
            let n: u64 = s["eip155:".len()..].parse().unwrap();
            format!("eip155:{}", n + 1).into()
        }
        Value::String(s) if s.ends_with('Z') && s.contains('T') => {
            // RFC 3339 time: one second later.
            let t = s.replace(":00Z", ":01Z");
            if &t != s {
                t.into()
            } else {
                format!("{}:00Z", &s[..s.len() - 4]).into()
            }
        }
        Value::String(s) => match s.as_str() {
            "sha256" => "keccak256".into(),
            "keccak256" => "sha256".into(),
            "anchor" => "revoke".into(),
            "revoke" => "anchor".into(),
            other => format!("{other}x").into(),
        },
        Value::Bool(b) => (!b).into(),
        other => panic!("unexpected leaf {other}"),
    }
}

#[test]
fn a_revoked_record_bundle_says_revoked_and_any_altered_field_fails_verify() {
    let net = Devnet::start(2, 1).unwrap();
    let config = net.config();
    let config_s = config.to_str().unwrap();
    let mut relayer = net.start_relayer(0);

    // Anchor, then revoke, on alpha.
    let file = net.dir.path().join("contract.txt");
    std::fs::write(&file, "a contract that will be withdrawn").unwrap();
    let anchored = net.json(&[
        "anchor",
        "--config",
        config_s,
        "--chain",
        "alpha",
        "--file",
        file.to_str().unwrap(),
        "--kind",
        "contract",
        "--json",
    ]);
    let record_id: B256 = anchored["record_id"].as_str().unwrap().parse().unwrap();
    let digest: B256 = anchored["digest"].as_str().unwrap().parse().unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    let registry = text
        .lines()
        .find(|l| l.starts_with("registry"))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let alpha = ChainId::eip155(40_000 + u64::from(net.first_port));
    let anchor_key: PrivateKeySigner = net
        .env
        .iter()
        .find(|(k, _)| k == "BRIDGE_ANCHOR_KEY")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let revoked = rt.block_on(async {
        let rpc = evidence_adapters::ChainRpc::connect(&evidence_adapters::RpcConfig::new(
            alpha.clone(),
            vec![net.rpc(0)],
        ))
        .await
        .unwrap();
        evidence_adapters::revoke(
            &rpc,
            anchor_key,
            registry,
            DigestAlgorithm::Sha256,
            digest,
            record_id,
            &Label::parse("kind", "withdrawn").unwrap(),
        )
        .await
        .unwrap()
    });
    let revocation_id = revoked.record.record_id();

    // Its bundle on beta carries the revocation (only once a checkpoint covering the
    // revocation is mirrored; before that `proof` refuses rather than hide it).
    let id = record_id.to_string();
    let deadline = Instant::now() + PROVABLE;
    let bundle_path = loop {
        let path = net.wait_provable(&id, "beta", PROVABLE).unwrap();
        let b: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if b.get("revocation").is_some() {
            break path;
        }
        assert!(
            Instant::now() < deadline,
            "the bundle never carried the revocation: {b}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let text = std::fs::read_to_string(&bundle_path).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(original["version"], 3);
    assert_eq!(
        original["revocation"]["record_id"],
        revocation_id.to_string()
    );
    assert_eq!(original["revocation"]["record"]["ref"], id);

    // verify: "revoked", exit 3, offline against the exported trust root and online;
    // online re-reads both transactions. Offline without a trust root the signer set is
    // not pinned: exit 4, not "revoked" (an unpinned revocation could be forged too).
    let out = net.run(&[
        "verify",
        bundle_path.to_str().unwrap(),
        "--offline",
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), &report["status"]),
        (Some(4), &Value::from("unpinned")),
        "{report}"
    );
    let trust = net.dir.path().join("trust.json");
    let out = net.run(&[
        "trust",
        "export",
        "--config",
        config_s,
        "-o",
        trust.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "trust export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = net.run(&[
        "verify",
        bundle_path.to_str().unwrap(),
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{report}");
    assert_eq!(report["status"], "revoked");
    assert_eq!(report["revoked"], true);
    let out = net.verify(&bundle_path);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{report}");
    assert_eq!(report["status"], "revoked");
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
            "source",
            "source_revocation"
        ],
        "{report}"
    );
    let out = net.run(&[
        "verify",
        bundle_path.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("REVOKED"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // lookup: revoked, and provable on beta with the covering checkpoint.
    let lookup = net.json(&[
        "lookup",
        "--config",
        config_s,
        &digest.to_string(),
        "--json",
    ]);
    let records = lookup["records"].as_array().unwrap();
    let rec = records
        .iter()
        .find(|r| r["record_id"] == id.as_str())
        .unwrap();
    assert_eq!(rec["revoked_by"], revocation_id.to_string(), "{lookup}");
    let on = rec["mirrored_on"].as_array().unwrap();
    assert_eq!(on.len(), 1, "{lookup}");
    assert!(
        on[0]["checkpoint_root"].is_string() && on[0]["checkpoint_size"].as_u64().unwrap() > 0,
        "{lookup}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["record_id"] == revocation_id.to_string()),
        "the revocation itself is listed: {lookup}"
    );

    // Any single altered field fails verify with a named check (exit 1), or is refused
    // as a broken bundle (exit 2) where the value no longer parses.
    let mut paths = Vec::new();
    leaves(&original, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 40, "{} leaves", paths.len());
    assert!(
        paths.iter().any(|p| p[0] == "revocation"),
        "revocation fields are enumerated"
    );
    let mut named = 0;
    // A timestamp's `tsa` is the operator's name for the TSA, informative only (the
    // token's certificate chain is what is checked): renaming it changes no proof.
    paths.retain(|p| !(p[0] == "timestamps" && p.last().is_some_and(|l| l == "tsa")));
    for path in &paths {
        let mut b = original.clone();
        let leaf = leaf_mut(&mut b, path);
        *leaf = altered(leaf);
        let what = path.join(".");
        let file = net
            .dir
            .path()
            .join(format!("altered-{}.json", what.replace('.', "_")));
        std::fs::write(&file, serde_json::to_string(&b).unwrap()).unwrap();
        let out = net.run(&[
            "verify",
            file.to_str().unwrap(),
            "--config",
            config_s,
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(1) => {
                let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                    panic!("altered {what}: verify printed no report ({e}): {stderr}")
                });
                assert_eq!(report["valid"], false, "altered {what}: {report}");
                assert_eq!(report["revoked"], false, "altered {what}: {report}");
                let failed: Vec<&str> = report["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["ok"] == false)
                    .map(|c| c["check"].as_str().unwrap())
                    .collect();
                assert!(
                    !failed.is_empty(),
                    "altered {what}: no failed check named: {report}"
                );
                assert!(
                    stderr.contains("verification failed: check(s)"),
                    "altered {what}: {stderr}"
                );
                named += 1;
            }
            Some(2) => assert!(
                stderr.contains("is not a proof bundle")
                    || stderr.contains("bundle version")
                    || stderr.contains("malformed bundle"),
                "altered {what}: exit 2 without saying what is wrong: {stderr}"
            ),
            other => panic!(
                "altered {what} (now {}): exit {other:?}, expected a failed check\nstdout: {}\nstderr: {stderr}",
                leaf_mut(&mut b, path),
                String::from_utf8_lossy(&out.stdout)
            ),
        }
    }
    assert!(
        named * 10 >= paths.len() * 8,
        "most alterations keep a parseable bundle and fail a named check ({named} of {})",
        paths.len()
    );

    // The original is untouched and still reports revoked.
    assert_eq!(net.verify(&bundle_path).status.code(), Some(3));
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}
