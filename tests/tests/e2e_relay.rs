//! End to end with the real binary: `bridge devnet up` (two anvil chains), `bridge run`,
//! records anchored on each chain become provable on the other, checked by the mirror's
//! `verifyRecord` (through `bridge verify --config`) and offline; a destination node
//! that stops answering for a while loses nothing; bad input is a clear error that
//! stores nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use support::{Devnet, evidence_size, signal};

const PROVABLE: Duration = Duration::from_secs(120);

#[test]
fn records_flow_both_ways_and_verify_on_the_other_chain() {
    let net = Devnet::start(2, 1).unwrap();
    let mut relayer = net.start_relayer(0);
    let mut from_alpha = Vec::new();
    let mut from_beta = Vec::new();
    for i in 0..4 {
        from_alpha.push(net.anchor_text("alpha", &format!("IOU #{i} anchored on alpha")));
    }
    for i in 0..3 {
        from_beta.push(net.anchor_text("beta", &format!("contract #{i} anchored on beta")));
    }
    for (ids, to) in [(&from_alpha, "beta"), (&from_beta, "alpha")] {
        for id in ids.iter() {
            let bundle = net.wait_provable(id, to, PROVABLE).unwrap();
            let out = net.verify(&bundle);
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(out.status.success(), "verify failed: {report}");
            assert_eq!(report["valid"], true);
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
                "online verification asked the mirror and the source chain"
            );
        }
    }
    // Invariants: every anchored record is in its chain's log (next to the round-trip
    // receipts of the other chain's checkpoints), nothing halted.
    let status = net.status();
    for chain in status.as_array().unwrap() {
        let name = chain["name"].as_str().unwrap();
        let expected = if name == "alpha" {
            from_alpha.len()
        } else {
            from_beta.len()
        };
        assert_eq!(evidence_size(&status, name) as usize, expected, "{chain}");
        assert!(
            chain["receipts_logged"].as_u64().unwrap() >= 1,
            "the other chain's checkpoints are acknowledged here: {chain}"
        );
        assert!(chain["halted"].is_null(), "{chain}");
    }
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}

#[test]
fn a_destination_node_that_stops_answering_loses_nothing() {
    let net = Devnet::start(2, 1).unwrap();
    let mut relayer = net.start_relayer(0);
    let first = net.anchor_text("alpha", "before the outage");
    net.wait_provable(&first, "beta", PROVABLE).unwrap();

    let beta = net.anvil_pid(1).unwrap();
    signal(beta, "STOP");
    let during: Vec<String> = (0..3)
        .map(|i| net.anchor_text("alpha", &format!("during the outage {i}")))
        .collect();
    // The outage lasts until alpha has checkpointed the records (so there is something
    // to send to the stopped node) and indexed 6 more blocks while trying.
    let deadline = Instant::now() + Duration::from_secs(60);
    let checkpointed = loop {
        let status = net.status();
        let alpha = status
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == "alpha"))
            .cloned()
            .unwrap_or_default();
        if alpha["last_checkpoint"]["size"].as_u64() >= alpha["log_size"].as_u64()
            && evidence_size(&status, "alpha") >= 4
        {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "alpha never checkpointed the records anchored during the outage: {status}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    net.wait_processed_past(&checkpointed, &["alpha"], 6, Duration::from_secs(60))
        .unwrap();
    signal(beta, "CONT");

    for id in &during {
        let bundle = net.wait_provable(id, "beta", PROVABLE).unwrap();
        assert!(net.verify(&bundle).status.success());
    }
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}

#[test]
fn bad_input_is_a_clear_error_and_stores_nothing() {
    let net = Devnet::start(2, 1).unwrap();
    let config = net.config();
    let config = config.to_str().unwrap();

    // A config file that is not TOML, and one with an unknown key.
    let bad = net.dir.path().join("bad.toml");
    std::fs::write(&bad, "this is = = not toml").unwrap();
    let out = net.run(&["status", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot load config"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        &bad,
        std::fs::read_to_string(config).unwrap() + "\n[surprise]\nkey = 1\n",
    )
    .unwrap();
    let out = net.run(&["status", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("surprise"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = net.run(&["status", "--config", "/nonexistent/bridge.toml"]);
    assert_eq!(out.status.code(), Some(2));

    // Unknown chain, digest of the wrong length, non-hex digest, unknown algorithm, bad kind.
    let digest = format!("0x{}", "ab".repeat(32));
    for (args, needle) in [
        (
            vec![
                "anchor", "--config", config, "--chain", "gamma", "--digest", &digest,
            ],
            "unknown chain \"gamma\"",
        ),
        (
            vec![
                "anchor", "--config", config, "--chain", "alpha", "--digest", "0x1234",
            ],
            "expected 32 bytes",
        ),
        (
            vec![
                "anchor",
                "--config",
                config,
                "--chain",
                "alpha",
                "--digest",
                &"zz".repeat(32),
            ],
            "expected 32 bytes",
        ),
        (
            vec![
                "anchor", "--config", config, "--chain", "alpha", "--digest", &digest, "--alg",
                "md5",
            ],
            "unknown digest algorithm",
        ),
        (
            vec![
                "anchor",
                "--config",
                config,
                "--chain",
                "alpha",
                "--digest",
                &digest,
                "--kind",
                "Zhang San 138",
            ],
            "kind",
        ),
        (
            vec!["lookup", "--config", config, "0x12"],
            "expected 32 bytes",
        ),
        (
            vec![
                "proof",
                "--config",
                config,
                "nothex",
                "--to",
                "beta",
                "-o",
                "/tmp/x.json",
            ],
            "record id",
        ),
    ] {
        let out = net.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} lacks {needle:?}"
        );
    }
    // Nothing reached the chain: the registry's next sequence number is still 1.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let next = rt.block_on(async {
        let rpc =
            evidence_adapters::rpc::ChainRpc::connect(&evidence_adapters::rpc::RpcConfig::new(
                evidence_schemas::ChainId::eip155(40_000 + u64::from(net.first_port)),
                vec![net.rpc(0)],
            ))
            .await
            .unwrap();
        let registry = std::fs::read_to_string(config).unwrap();
        let registry = registry
            .lines()
            .find(|l| l.starts_with("registry"))
            .unwrap()
            .split('"')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let source = evidence_adapters::registry::RegistrySource::new(
            rpc,
            evidence_schemas::ChainId::eip155(40_000 + u64::from(net.first_port)),
            registry,
            Default::default(),
        );
        source.fetch_next_seq(None).await.unwrap()
    });
    assert_eq!(next, 1, "a rejected command anchored something");

    // Bundles: truncated is bad input (2); edited in any field is a named failed check (1).
    let mut relayer = net.start_relayer(0);
    let id = net.anchor_text("alpha", "the genuine IOU");
    let bundle = net.wait_provable(&id, "beta", PROVABLE).unwrap();
    let text = std::fs::read_to_string(&bundle).unwrap();
    let truncated = net.dir.path().join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let out = net.run(&["verify", truncated.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("truncated"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let original: serde_json::Value = serde_json::from_str(&text).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "digest",
            Box::new(|b| {
                b["record"]["evidence"]["digest"] = format!("0x{}", "11".repeat(32)).into()
            }),
            "record_id",
        ),
        (
            "submitter",
            Box::new(|b| {
                b["record"]["evidence"]["submitter"] =
                    "0x0000000000000000000000000000000000000001".into()
            }),
            "record_id",
        ),
        (
            "record_id",
            Box::new(|b| b["record_id"] = format!("0x{}", "22".repeat(32)).into()),
            "record_id",
        ),
        (
            "leaf_index",
            Box::new(|b| b["leaf_index"] = 5.into()),
            "inclusion",
        ),
        (
            "root",
            Box::new(|b| b["checkpoint"]["root"] = format!("0x{}", "33".repeat(32)).into()),
            "inclusion",
        ),
        (
            "size",
            Box::new(|b| b["checkpoint"]["size"] = 7.into()),
            "inclusion",
        ),
        (
            "block_number",
            Box::new(|b| b["checkpoint"]["source_block_number"] = 999_999.into()),
            "signatures",
        ),
        (
            "attestors",
            Box::new(|b| {
                b["destination"]["attestors"][0] =
                    "0x0000000000000000000000000000000000000001".into()
            }),
            "signatures",
        ),
        (
            "mirror",
            Box::new(|b| {
                b["destination"]["mirror"] = "0x0000000000000000000000000000000000000002".into()
            }),
            "signatures",
        ),
    ];
    for (what, edit, check) in edits {
        let mut b = original.clone();
        edit(&mut b);
        let path = net.dir.path().join(format!("edited-{what}.json"));
        std::fs::write(&path, serde_json::to_string(&b).unwrap()).unwrap();
        let out = net.run(&["verify", path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(1), "edited {what} still verifies");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["valid"], false);
        let failed: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ok"] == false)
            .map(|c| c["check"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [check], "edited {what}: {report}");
    }
    // A threshold larger than the set is a malformed bundle (exit 2), not a failed check.
    for (what, threshold, attestors) in [
        (
            "threshold",
            serde_json::json!(4),
            original["destination"]["attestors"].clone(),
        ),
        (
            "attestors",
            original["destination"]["threshold"].clone(),
            serde_json::json!(["0x0000000000000000000000000000000000000001"]),
        ),
    ] {
        let mut b = original.clone();
        b["destination"]["threshold"] = threshold;
        b["destination"]["attestors"] = attestors;
        let path = net.dir.path().join(format!("malformed-{what}.json"));
        std::fs::write(&path, serde_json::to_string(&b).unwrap()).unwrap();
        let out = net.run(&["verify", path.to_str().unwrap(), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: a threshold above the set size is malformed"
        );
    }
    // The original still verifies.
    assert!(net.verify(&bundle).status.success());
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_command_deploys_to_any_evm_chain() {
    use alloy::providers::Provider;
    let chain = evidence_tests::Devchain::start(51_234).await.unwrap();
    let key = format!("0x{}", alloy::hex::encode(chain.signer.to_bytes()));
    let url = chain.rpc_url.to_string();
    let bin = support::bridge_bin();

    let out = std::process::Command::new(&bin)
        .args(["deploy", "--rpc", &url, "--json"])
        .env_remove("BRIDGE_DEPLOYER_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no key is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("BRIDGE_DEPLOYER_KEY"));

    // Outside a dev chain the owner must be given, and must not be the deployer (the
    // relayer's hot key).
    let deploy = |extra: &[&str]| {
        std::process::Command::new(&bin)
            .args(["deploy", "--rpc", &url, "--json"])
            .args(extra)
            .env("BRIDGE_DEPLOYER_KEY", &key)
            .env("BRIDGE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = deploy(&[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--owner is required"));
    let deployer = chain.signer.address().to_string();
    let out = deploy(&["--owner", &deployer]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is the deployer's own key"));
    let owner = chain.dev_signer(1).unwrap().address();
    let out = deploy(&["--owner", &owner.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["chain_id"], "eip155:51234");
    for name in ["registry", "mirror"] {
        let addr: alloy::primitives::Address =
            v["deployed"][name].as_str().unwrap().parse().unwrap();
        let code = chain.provider.get_code_at(addr).await.unwrap();
        assert!(!code.is_empty(), "no {name} code at {addr}");
    }
    let mirror: alloy::primitives::Address =
        v["deployed"]["mirror"].as_str().unwrap().parse().unwrap();
    let got = evidence_adapters::contracts::AnchorMirror::new(mirror, &chain.provider)
        .owner()
        .call()
        .await
        .unwrap();
    assert_eq!(got, owner, "the mirror's owner is the one given");
    let delay = evidence_adapters::contracts::AnchorMirror::new(mirror, &chain.provider)
        .ownerRotationDelay()
        .call()
        .await
        .unwrap();
    assert_eq!(
        delay, 604_800,
        "the default owner-rotation timelock is 7 days"
    );
    assert_eq!(v["owner_rotation_delay_secs"], 604_800);
}
