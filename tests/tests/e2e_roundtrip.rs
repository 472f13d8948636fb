//! Round-trip receipts, end to end with the real binary on a three-chain devnet: a
//! record anchored on alpha is mirrored onto beta and gamma; each mirror's acceptance of
//! alpha's checkpoint is indexed as a record of its own chain (adapter
//! `bridge-receipts`), checkpointed and mirrored back, so alpha can prove that beta and
//! gamma accepted its log. `bridge lookup` shows it, the receipt's own bundle verifies
//! online (re-read from the mirror's event on its chain), and the chains stop
//! acknowledging each other's acknowledgements: relaying settles.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use evidence_adapters::receipts::{RECEIPT_KIND, RECEIPTS_ADAPTER, receipt_digest};
use evidence_schemas::ChainId;
use serde_json::Value;
use support::{Devnet, evidence_size};

const PROVABLE: Duration = Duration::from_secs(150);

/// The lookup of `record_id`'s digest, as JSON.
fn lookup(net: &Devnet, digest: &str) -> Value {
    let config = net.config();
    net.json(&[
        "lookup",
        "--config",
        config.to_str().unwrap(),
        digest,
        "--json",
    ])
}

#[test]
fn acceptance_on_every_chain_is_provable_back_on_the_source_and_relaying_settles() {
    let net = Devnet::start(3, 1).unwrap();
    let _relayer = net.start_relayer(0);
    let config = net.config();
    let config = config.to_str().unwrap();

    let id = net.anchor_text("alpha", "an IOU whose mirroring alpha wants proven back");
    let mut bundles = Vec::new();
    for to in ["beta", "gamma"] {
        bundles.push(net.wait_provable(&id, to, PROVABLE).unwrap());
    }
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundles[0]).unwrap()).unwrap();
    let digest = record["record"]["evidence"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();

    // Wait until lookup shows, for each destination, a receipt provable on alpha.
    let alpha = ChainId::parse(record["record"]["source"]["chain"].as_str().unwrap()).unwrap();
    let deadline = Instant::now() + PROVABLE;
    let view = loop {
        let view = lookup(&net, &digest);
        let on = view["records"][0]["mirrored_on"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let back_on_alpha = |m: &Value| {
            m["receipt"]["provable_on"]
                .as_array()
                .is_some_and(|p| p.iter().any(|b| b["destination_chain"] == alpha.as_str()))
        };
        if on.len() == 2 && on.iter().all(back_on_alpha) {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "no round-trip receipt provable on alpha: {view}"
        );
        std::thread::sleep(Duration::from_secs(1));
    };

    for m in view["records"][0]["mirrored_on"].as_array().unwrap() {
        let receipt = &m["receipt"];
        // The receipt's digest is computable by anyone from alpha's checkpoint.
        let size = m["checkpoint_size"].as_u64().unwrap();
        let root = m["checkpoint_root"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            receipt["digest"].as_str().unwrap(),
            receipt_digest(alpha.key(), size, root).to_string(),
            "{m}"
        );
        // The receipt is a record of the destination chain, provable on alpha: its
        // bundle verifies offline and online (mirror on alpha, and the destination's
        // CheckpointAccepted event re-read from the destination chain).
        let receipt_id = receipt["record_id"].as_str().unwrap();
        let bundle = net.wait_provable(receipt_id, "alpha", PROVABLE).unwrap();
        let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
        assert_eq!(
            b["record"]["source"]["chain"], m["destination_chain"],
            "{b}"
        );
        assert_eq!(b["record"]["source"]["adapter"], RECEIPTS_ADAPTER);
        assert_eq!(b["record"]["evidence"]["kind"], RECEIPT_KIND);
        let out = net.verify(&bundle);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            out.status.success(),
            "the receipt bundle does not verify: {report}"
        );
        let checks: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["check"].as_str().unwrap())
            .collect();
        assert!(
            checks.contains(&"source"),
            "the receipt was re-read from its chain: {report}"
        );
    }

    // The human lookup says it too.
    let out = net.run(&["lookup", "--config", config, &digest]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("receipt recorded on").count(), 2, "{text}");
    assert_eq!(text.matches("and provable on alpha").count(), 2, "{text}");

    // Receipts of receipts are logged but do not trigger checkpoints: relaying settles,
    // and then no chain checkpoints again while nothing new is anchored.
    let settled = net.wait_quiet(PROVABLE).unwrap();
    for name in ["alpha", "beta", "gamma"] {
        let expected = u64::from(name == "alpha");
        assert_eq!(evidence_size(&settled, name), expected, "{name}: {settled}");
    }
    let sizes = |status: &Value| -> Vec<Option<u64>> {
        status
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["last_checkpoint"]["size"].as_u64())
            .collect()
    };
    // Ten blocks later (five checkpoint intervals of 2 s at 1 s blocks, each indexed),
    // still no new checkpoint anywhere.
    let later = net
        .wait_processed_past(&settled, &[], 10, PROVABLE)
        .unwrap();
    assert_eq!(
        sizes(&later),
        sizes(&settled),
        "checkpoints kept coming with nothing new anchored"
    );
}
