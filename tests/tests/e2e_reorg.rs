//! Reorgs with the real binary and anvil's `anvil_reorg` (a dev-node method, used here
//! in a test only): a reorg inside the confirmation depth leaves no orphaned record in
//! the log; one deeper than a logged block halts the chain loudly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use support::{Devnet, evidence_size, rpc};

fn lookup(net: &Devnet, record_digest_file_text: &str) -> Option<serde_json::Value> {
    let file = net.dir.path().join("lookup.txt");
    std::fs::write(&file, record_digest_file_text).unwrap();
    let config = net.config();
    let out = net.run(&[
        "lookup",
        "--config",
        config.to_str().unwrap(),
        "--file",
        file.to_str().unwrap(),
        "--json",
    ]);
    if out.status.code() == Some(1) {
        return None;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shallow_reorg_is_followed_and_deep_reorg_halts() {
    let net = Devnet::start(2, 1).unwrap();
    // Deep confirmations so a reorg can land inside them.
    net.edit_config("confirmations = 2", "confirmations = 6")
        .unwrap();
    let mut relayer = net.start_relayer(0);
    // The devnet's set-up transactions (beta's attestor set on alpha's mirror among
    // them) must lie deeper than the reorg below, or it would drop them too.
    let block = || async {
        let head: String = serde_json::from_value(
            rpc(&net.rpc(0), "eth_blockNumber", serde_json::json!([]))
                .await
                .unwrap(),
        )
        .unwrap();
        u64::from_str_radix(head.trim_start_matches("0x"), 16).unwrap()
    };
    let set_up = block().await;
    while block().await < set_up + 5 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // 1. Anchor, see it pending, reorg it away before it is confirmed.
    let orphan_text = "an IOU whose block is reorged away";
    let _orphan = net.anchor_text("alpha", orphan_text);
    wait_for(
        "the record to be seen as pending",
        Duration::from_secs(30),
        || {
            lookup(&net, orphan_text)
                .is_some_and(|v| v["records"][0]["state"]["state"] == "pending_confirmation")
        },
    );
    rpc(&net.rpc(0), "anvil_reorg", serde_json::json!([3, []]))
        .await
        .unwrap();
    // A record anchored after the reorg gets leaf 0: the orphan never entered the log.
    let kept_text = "an IOU anchored after the reorg";
    let kept = net.anchor_text("alpha", kept_text);
    net.wait_provable(&kept, "beta", Duration::from_secs(120))
        .unwrap();
    let v = lookup(&net, kept_text).unwrap();
    assert_eq!(v["records"][0]["state"]["leaf_index"], 0, "{v}");
    wait_for("the orphan to disappear", Duration::from_secs(30), || {
        lookup(&net, orphan_text).is_none()
    });
    // Let the round-trip receipts settle, so the log does not move under the reorg below.
    let status = net.wait_quiet(Duration::from_secs(120)).unwrap();
    let alpha = status
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "alpha")
        .unwrap()
        .clone();
    assert_eq!(evidence_size(&status, "alpha"), 1, "{alpha}");
    assert!(alpha["halted"].is_null(), "{alpha}");
    let size_before = alpha["log_size"].clone();

    // 2. A reorg deeper than a logged block halts the chain, loudly and visibly.
    let head: String = serde_json::from_value(
        rpc(&net.rpc(0), "eth_blockNumber", serde_json::json!([]))
            .await
            .unwrap(),
    )
    .unwrap();
    let head = u64::from_str_radix(head.trim_start_matches("0x"), 16).unwrap();
    let logged_block = v["records"][0]["record"]["source"]["block_number"]
        .as_u64()
        .unwrap();
    let depth = head - logged_block + 1;
    rpc(&net.rpc(0), "anvil_reorg", serde_json::json!([depth, []]))
        .await
        .unwrap();
    wait_for("alpha to halt", Duration::from_secs(60), || {
        net.status()
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "alpha" && !c["halted"].is_null())
    });
    let status = net.status();
    let alpha = status
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "alpha")
        .unwrap()
        .clone();
    assert_eq!(
        alpha["log_size"], size_before,
        "the log was not rewritten: {alpha}"
    );
    let reason = alpha["halted"].as_str().unwrap();
    assert!(reason.to_lowercase().contains("reorg"), "{reason}");
    // The halt is loud in the relayer's log too.
    let log = std::fs::read_to_string(net.dir.path().join("run-0.log")).unwrap();
    assert!(log.contains("ERROR"), "no error logged for the halt");
    // The chain that did not reorg carries on indexing.
    net.anchor_text("beta", "beta keeps working");
    wait_for("beta to keep indexing", Duration::from_secs(60), || {
        let status = net.status();
        evidence_size(&status, "beta") == 1
            && status
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "beta" && c["halted"].is_null())
    });
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}
