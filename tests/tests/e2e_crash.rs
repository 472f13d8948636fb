//! Crash safety with the real binary: `bridge run` is killed with SIGKILL at several
//! points while records stream in, restarted each time, and at the end every record is
//! provable, no checkpoint was submitted twice, and the store agrees with the chains.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use evidence_relayer::store::{Route, Store};
use evidence_schemas::ChainId;
use support::{Devnet, signal};

#[test]
fn sigkill_at_any_point_loses_nothing_and_mirrors_nothing_twice() {
    let net = Devnet::start(2, 1).unwrap();
    let mut ids = Vec::new();
    let mut run = 0;
    // Kill after increasing delays so the kill lands in different stages (indexing,
    // checkpointing, between prepare and send, while waiting for a receipt).
    for (round, delay_ms) in [700u64, 1900, 3100, 4700].into_iter().enumerate() {
        let relayer = net.start_relayer(run);
        run += 1;
        for i in 0..3 {
            ids.push(net.anchor_text("alpha", &format!("round {round} record {i}")));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(relayer.id(), "KILL");
        let mut relayer = relayer;
        relayer.wait().unwrap();
    }
    let mut relayer = net.start_relayer(run);
    for id in &ids {
        let bundle = net
            .wait_provable(id, "beta", Duration::from_secs(120))
            .unwrap();
        assert!(net.verify(&bundle).status.success(), "{id}");
    }
    relayer.kill().unwrap();
    relayer.wait().unwrap();

    // Invariants against the chain: every confirmed submission is one accepted
    // checkpoint on the mirror, and none failed or was sent twice.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::connect(&net.store_url()).await.unwrap();
        let alpha = ChainId::eip155(40_000 + u64::from(net.first_port));
        let beta = ChainId::eip155(40_000 + u64::from(net.first_port) + 1);
        assert_eq!(store.count_evidence_records(&alpha).await.unwrap(), ids.len() as u64, "evidence records in the store");
        assert_eq!(store.count_logged_evidence_records(&alpha).await.unwrap(), ids.len() as u64, "evidence records in the log");
        let confirmed = store.count_confirmed_submissions(&Route::new(alpha.clone(), beta.clone())).await.unwrap();

        let rpc = evidence_adapters::rpc::ChainRpc::connect(&evidence_adapters::rpc::RpcConfig::new(beta.clone(), vec![net.rpc(1)]))
            .await
            .unwrap();
        let config = std::fs::read_to_string(net.config()).unwrap();
        let mirror: alloy::primitives::Address = config
            .lines()
            .filter(|l| l.starts_with("mirror"))
            .nth(1)
            .unwrap()
            .split('"')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
        let accepted = rpc
            .provider()
            .get_logs(
                &Filter::new()
                    .address(mirror)
                    .event_signature(evidence_adapters::contracts::AnchorMirror::CheckpointAccepted::SIGNATURE_HASH)
                    .topic1(alpha.key())
                    .from_block(0),
            )
            .await
            .unwrap();
        assert!(!accepted.is_empty());
        assert_eq!(confirmed, accepted.len() as u64, "confirmed submissions in the store == CheckpointAccepted events");
        // No transaction of the relayer to the mirror reverted: a duplicate submission
        // would have reverted with CheckpointAlreadyAccepted.
        let relayer_key: alloy::signers::local::PrivateKeySigner =
            net.env.iter().find(|(k, _)| k == "BRIDGE_RELAYER_KEY").unwrap().1.parse().unwrap();
        let nonce = rpc.provider().get_transaction_count(relayer_key.address()).await.unwrap();
        // The relayer key also deployed the two contracts on beta (the owner, a key of
        // its own, installed the attestor set).
        assert_eq!(nonce, 2 + accepted.len() as u64, "every relayer transaction on beta is one accepted checkpoint");
    });
}
