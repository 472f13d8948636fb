//! Several `bridge run` instances on one PostgreSQL database (a fresh one per test),
//! against a real two-chain devnet: records stream in on both chains, the instance
//! holding the source chain's lease is SIGKILLed mid-stream, and then
//!
//! - another instance took the lease over within a bounded time (TTL + margin);
//! - every record is provable on the other chain (`bridge proof` + `bridge verify`);
//! - the store's record counts equal the records anchored on each chain;
//! - confirmed submissions equal the mirror's `CheckpointAccepted` events per route;
//! - the relayer's nonce on each destination equals its deploy transactions plus the
//!   accepted checkpoints: no submission reverted or was sent twice.
//!
//! Needs PostgreSQL at `EB_TEST_POSTGRES_URL` (default
//! postgres://postgres@127.0.0.1:5432/test); fails, never skips, without it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use evidence_relayer::{
    store::{Route, Store, leases::LeaseRow},
    test_db::{TestBackend, TestDb},
};
use evidence_schemas::ChainId;
use support::{Devnet, Relayer, signal};

/// Lease TTL the instances run with (seconds).
const TTL_SECS: u64 = 3;

#[test]
fn two_instances_one_killed_lose_nothing_and_double_nothing() {
    cluster_run(2);
}

#[test]
fn three_instances_one_killed_lose_nothing_and_double_nothing() {
    cluster_run(3);
}

fn leases(rt: &tokio::runtime::Runtime, store: &Store) -> Vec<LeaseRow> {
    rt.block_on(store.load_leases()).expect("leases readable")
}

fn holder(rows: &[LeaseRow], name: &str) -> Option<String> {
    rows.iter()
        .find(|l| l.name == name)
        .map(|l| l.holder.clone())
}

fn cluster_run(instances: usize) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(TestDb::create(TestBackend::Postgres));
    let net = Devnet::start(2, 1).expect("devnet");
    net.use_store(&db.url).expect("config points at PostgreSQL");
    std::fs::write(
        net.config(),
        std::fs::read_to_string(net.config()).expect("config")
            + &format!("\n[cluster]\nlease_ttl_secs = {TTL_SECS}\n"),
    )
    .expect("config");
    let alpha = ChainId::eip155(40_000 + u64::from(net.first_port));
    let beta = ChainId::eip155(40_000 + u64::from(net.first_port) + 1);
    let names: Vec<String> = (0..instances).map(|i| format!("node-{i}")).collect();
    let mut nodes: Vec<Option<Relayer>> = names
        .iter()
        .enumerate()
        .map(|(i, id)| Some(net.start_relayer_with(i, &[("BRIDGE__CLUSTER__INSTANCE_ID", id)])))
        .collect();

    let mut on_alpha = Vec::new();
    let mut on_beta = Vec::new();
    for i in 0..4 {
        on_alpha.push(net.anchor_text("alpha", &format!("cluster {instances} alpha {i}")));
    }
    on_beta.push(net.anchor_text("beta", &format!("cluster {instances} beta 0")));

    // Wait until the leases are taken, then kill the instance indexing alpha.
    let store = rt.block_on(Store::connect(&db.url)).expect("store");
    let chain_lease = format!("chain:{alpha}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let victim = loop {
        if let Some(h) = holder(&leases(&rt, &store), &chain_lease) {
            break h;
        }
        assert!(
            Instant::now() < deadline,
            "no instance took {chain_lease} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let victim_index = names
        .iter()
        .position(|n| *n == victim)
        .expect("holder is one of ours");
    // Mid-stream: more records are on their way while it dies.
    on_alpha.push(net.anchor_text("alpha", &format!("cluster {instances} alpha before kill")));
    let mut dead = nodes[victim_index].take().expect("victim running");
    signal(dead.id(), "KILL");
    dead.wait().expect("victim reaped");
    let killed_at = Instant::now();
    for i in 0..4 {
        on_alpha.push(net.anchor_text(
            "alpha",
            &format!("cluster {instances} alpha after kill {i}"),
        ));
    }
    on_beta.push(net.anchor_text("beta", &format!("cluster {instances} beta 1")));

    // Takeover within the TTL plus a margin for polling and a loaded machine.
    let bound = Duration::from_secs(TTL_SECS + 12);
    let new_holder = loop {
        match holder(&leases(&rt, &store), &chain_lease) {
            Some(h) if h != victim => break h,
            _ => {}
        }
        assert!(
            killed_at.elapsed() < bound,
            "nobody took {chain_lease} over from the killed {victim} within {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let takeover = killed_at.elapsed();
    eprintln!("{chain_lease}: {victim} killed, {new_holder} took over after {takeover:?}");
    assert_ne!(new_holder, victim);

    for id in &on_alpha {
        net.wait_provable(id, "beta", Duration::from_secs(180))
            .expect("provable on beta");
    }
    for id in &on_beta {
        net.wait_provable(id, "alpha", Duration::from_secs(180))
            .expect("provable on alpha");
    }
    // Round-trip receipts keep a few checkpoints moving after the records are provable:
    // let relaying settle, so every accepted checkpoint is recorded before the checks.
    net.wait_quiet(Duration::from_secs(120))
        .expect("relaying settles");
    for (ids, to) in [(&on_alpha, "beta"), (&on_beta, "alpha")] {
        for id in ids.iter() {
            let bundle = net
                .wait_provable(id, to, Duration::from_secs(30))
                .expect("provable");
            let out = net.verify(&bundle);
            assert!(
                out.status.success(),
                "{id} verifies on {to}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Stop the survivors, then check the invariants against the chains.
    for node in nodes.iter_mut().flatten() {
        signal(node.id(), "TERM");
        node.wait().expect("survivor stops");
    }
    let final_leases = leases(&rt, &store);
    let chain_row = final_leases
        .iter()
        .find(|l| l.name == chain_lease)
        .expect("chain lease row");
    assert!(
        chain_row.holder != victim && chain_row.epoch >= 2,
        "{final_leases:?}"
    );
    rt.block_on(async {
        assert_eq!(
            store.count_evidence_records(&alpha).await.unwrap(),
            on_alpha.len() as u64,
            "records of alpha"
        );
        assert_eq!(
            store.count_logged_evidence_records(&alpha).await.unwrap(),
            on_alpha.len() as u64,
            "alpha's log"
        );
        assert_eq!(
            store.count_evidence_records(&beta).await.unwrap(),
            on_beta.len() as u64,
            "records of beta"
        );
        assert_eq!(
            store.count_logged_evidence_records(&beta).await.unwrap(),
            on_beta.len() as u64,
            "beta's log"
        );
        for (source, destination, index) in [(&alpha, &beta, 1u16), (&beta, &alpha, 0u16)] {
            check_route(&net, &store, source, destination, index).await;
        }
    });
    rt.block_on(store.close());
    drop(db);
}

/// Confirmed submissions == accepted checkpoints on the mirror, and every relayer
/// transaction on the destination is a deploy step or one accepted checkpoint.
async fn check_route(
    net: &Devnet,
    store: &Store,
    source: &ChainId,
    destination: &ChainId,
    index: u16,
) {
    use alloy::{providers::Provider, rpc::types::Filter, sol_types::SolEvent};
    let route = Route::new(source.clone(), destination.clone());
    // Accepted = confirmed by us, or observed: a transaction the killed instance sent
    // and the mirror accepted before anyone recorded its receipt. Nothing is doubled as
    // long as every acceptance is one submission row and one relayer transaction
    // (checked with the nonce below).
    let counts = store.count_submissions_by_route().await.unwrap();
    let confirmed = counts
        .iter()
        .find(|c| c.source_chain == route.source && c.destination_chain == route.destination)
        .map_or(0, |c| c.confirmed);
    let rpc = evidence_adapters::rpc::ChainRpc::connect(&evidence_adapters::rpc::RpcConfig::new(
        destination.clone(),
        vec![net.rpc(index)],
    ))
    .await
    .unwrap();
    let accepted = rpc
        .provider()
        .get_logs(
            &Filter::new()
                .address(net.mirror(usize::from(index)))
                .event_signature(
                    evidence_adapters::contracts::AnchorMirror::CheckpointAccepted::SIGNATURE_HASH,
                )
                .topic1(source.key())
                .from_block(0),
        )
        .await
        .unwrap();
    assert!(!accepted.is_empty(), "{route}: nothing accepted");
    assert_eq!(
        confirmed,
        accepted.len() as u64,
        "{route}: confirmed or observed submissions == CheckpointAccepted events"
    );
    let relayer_key: alloy::signers::local::PrivateKeySigner = net
        .env
        .iter()
        .find(|(k, _)| k == "BRIDGE_RELAYER_KEY")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let nonce = rpc
        .provider()
        .get_transaction_count(relayer_key.address())
        .await
        .unwrap();
    // Deploying registry and mirror took 2 transactions (the owner, a key of its own,
    // installed the attestor sets).
    assert_eq!(
        nonce,
        2 + accepted.len() as u64,
        "{route}: every relayer transaction is one accepted checkpoint"
    );
}
