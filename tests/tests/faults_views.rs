//! Nodes whose view of the source chain is wrong, behind the real relayer engine: a
//! head that stalls, a head that goes backwards, two RPC URLs of one chain where one
//! lags 20 blocks behind (failover must never index the lagging view as final), and a
//! node that answers with another chain id (refused). Each ends as every fault test
//! does ([`World::check`]: 0 lost, 0 doubled, every record verifiable on the mirror) and
//! with the fault visible in the metrics or the status. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod faults_world;
mod support;

use std::time::Duration;

use alloy::providers::Provider as _;
use anyhow::ensure;
use evidence_adapters::{
    AdapterError, ChainRpc, EvidenceSource as _,
    registry::{RegistrySource, RegistrySourceOptions},
};
use evidence_relayer::test_db::TestBackend;
use evidence_tests::faultproxy::{Fault, FaultProxy, View};
use faults_world::{CONFIRMATIONS, World, counter, rpc_config};

const SETTLE: Duration = Duration::from_secs(40);

/// After every tick the log must be a prefix of the chain's records.
async fn ticks_keep_a_prefix(w: &World, n: usize) -> anyhow::Result<usize> {
    let head = w.src.provider.get_block_number().await?;
    let reference = w.reference(head).await?;
    for _ in 0..n {
        w.ticks(1).await;
        let logged = w.engine.store().load_leaf_ids(&w.chain, None).await?;
        ensure!(
            reference.starts_with(&logged),
            "the log is not a prefix of the chain's records"
        );
        let status = w.engine.store().status().await?;
        ensure!(status[0].halted.is_none(), "halted: {:?}", status[0].halted);
    }
    Ok(w.engine.store().load_leaf_ids(&w.chain, None).await?.len())
}

async fn a_stalled_head_then_one_that_goes_backwards(backend: TestBackend) -> anyhow::Result<()> {
    let w = World::new(backend, 1).await?;
    w.anchor(3).await?;
    w.settle(SETTLE).await?;
    let logged = w.engine.store().load_leaf_ids(&w.chain, None).await?.len();

    // Stalled: the node keeps answering with the same head while the chain moves on.
    let frozen = w.src.provider.get_block_number().await?;
    w.proxy().set_view(View::Frozen(frozen));
    w.anchor(3).await?;
    w.mine(CONFIRMATIONS).await?;
    let now = ticks_keep_a_prefix(&w, 3).await?;
    ensure!(now == logged, "records past a stalled head were logged");
    let status = w.engine.store().status().await?;
    ensure!(
        status[0].head == Some(frozen),
        "status shows head {:?}, the stalled node's is {frozen}",
        status[0].head
    );
    ensure!(
        w.src.provider.get_block_number().await? > frozen,
        "the chain did not move on"
    );
    w.proxy().set_view(View::Live);
    w.settle(SETTLE).await?;
    w.check().await?;

    // Backwards: the head drops 5 blocks below what is already indexed and confirmed
    // (a load balancer switched to a node behind). Not a reorg: wait, never halt.
    let behind = counter("bridge_source_head_behind_total", &w.chain, &[]);
    w.proxy().set_view(View::Behind(8));
    w.anchor(2).await?;
    ticks_keep_a_prefix(&w, 3).await?;
    ensure!(
        counter("bridge_source_head_behind_total", &w.chain, &[]) > behind,
        "the backward head is not in bridge_source_head_behind_total"
    );
    let status = w.engine.store().status().await?;
    ensure!(
        status[0].halted.is_none(),
        "a head that went backwards halted the chain: {:?}",
        status[0].halted
    );
    w.proxy().set_view(View::Live);
    w.settle(SETTLE).await?;
    w.check().await
}

async fn failover_to_a_node_20_blocks_behind(backend: TestBackend) -> anyhow::Result<()> {
    // URL 0: healthy; URL 1: the same chain, 20 blocks behind.
    let w = World::new(backend, 2).await?;
    w.proxies[1].set_view(View::Behind(20));
    w.anchor(3).await?;
    w.mine(25).await?;
    w.settle(SETTLE).await?;
    w.check().await?;
    let logged = w.engine.store().load_leaf_ids(&w.chain, None).await?.len();

    // New records in the last blocks, which only the healthy node has; the healthy
    // node stops answering log queries, so those fail over to the lagging one.
    w.mine(12).await?;
    w.anchor(4).await?;
    w.mine(CONFIRMATIONS).await?;
    let seen = counter("bridge_source_lagging_node_total", &w.chain, &[])
        + counter("bridge_source_inconsistent_total", &w.chain, &[])
        + counter("bridge_source_head_behind_total", &w.chain, &[]);
    w.proxies[0].set(Fault::Reset, &["eth_getLogs"], None);
    let now = ticks_keep_a_prefix(&w, 6).await?;
    ensure!(
        now == logged,
        "records were logged from the lagging view ({logged} -> {now})"
    );
    let after = counter("bridge_source_lagging_node_total", &w.chain, &[])
        + counter("bridge_source_inconsistent_total", &w.chain, &[])
        + counter("bridge_source_head_behind_total", &w.chain, &[]);
    ensure!(
        after > seen,
        "the lagging node left no trace in the metrics"
    );
    ensure!(
        counter(
            "bridge_rpc_endpoint_errors_total",
            &w.chain,
            &[("endpoint", "0")]
        ) > 0,
        "the healthy node's failures are not counted"
    );
    // The source itself, asked for the newest blocks with the cursor's sequence number
    // (as the index stage asks once the head comes from the healthy node): an error, or
    // every record — never the lagging node's empty answer as the range's truth.
    let source = RegistrySource::new(
        w.rpc.clone(),
        w.chain.clone(),
        *w.registry.address(),
        RegistrySourceOptions {
            retry_pause: Duration::from_millis(10),
            ..RegistrySourceOptions::default()
        },
    );
    let head = w.src.provider.get_block_number().await?;
    match source
        .fetch_records(
            head - 10,
            head,
            Some(evidence_adapters::SourceState::from_stored(
                logged as u64 + 1,
            )),
        )
        .await
    {
        Ok(batch) => ensure!(
            batch.records.len() == 4,
            "the lagging view was taken as final: {} of 4 records",
            batch.records.len()
        ),
        Err(e) => ensure!(
            e.to_string().contains("lags") || e.to_string().contains("missing"),
            "{e}"
        ),
    }

    // The healthy node answers again, the lagging one catches up: everything is logged.
    w.proxies[0].clear();
    w.proxies[1].set_view(View::Live);
    w.settle(SETTLE).await?;
    w.check().await
}

async fn a_node_of_another_chain_is_refused(backend: TestBackend) -> anyhow::Result<()> {
    let w = World::new(backend, 1).await?;
    w.anchor(2).await?;
    w.settle(SETTLE).await?;
    let before = counter("bridge_rpc_wrong_chain_total", &w.chain, &[]);
    // Alone, or as the second of two URLs.
    let liar = FaultProxy::start(w.src.rpc_url.as_str()).await?;
    liar.set(Fault::ChainId(1), &[], None);
    for urls in [
        vec![liar.url.clone()],
        vec![w.proxy().url.clone(), liar.url.clone()],
    ] {
        match ChainRpc::connect(&rpc_config(&w.chain, urls.clone())).await {
            Err(AdapterError::WrongChain { expected, actual }) => {
                ensure!(expected == w.chain && actual == 1, "{expected} {actual}");
            }
            other => anyhow::bail!(
                "{urls:?}: a node of chain 1 was accepted for {}: {other:?}",
                w.chain
            ),
        }
    }
    ensure!(liar.injected() >= 2, "the lie was not told");
    ensure!(
        counter("bridge_rpc_wrong_chain_total", &w.chain, &[]) >= before + 2,
        "refusals are not in bridge_rpc_wrong_chain_total"
    );

    // Down at start-up (so unchecked), then back serving another chain: its answers
    // must not be used either.
    let late = FaultProxy::start(w.src.rpc_url.as_str()).await?;
    late.set(Fault::Reset, &[], None);
    let rpc = ChainRpc::connect(&rpc_config(
        &w.chain,
        vec![late.url.clone(), w.proxy().url.clone()],
    ))
    .await?;
    late.set(Fault::ChainId(1), &[], None);
    match rpc.endpoint(0).get_block_number().await {
        Err(e) => ensure!(e.to_string().contains("chain"), "{e}"),
        Ok(n) => anyhow::bail!(
            "endpoint of chain 1 answered eth_blockNumber {n} for {}",
            w.chain
        ),
    }
    ensure!(
        counter("bridge_rpc_wrong_chain_total", &w.chain, &[]) >= before + 3,
        "the late refusal is not counted"
    );
    // The engine keeps indexing through the healthy URL.
    w.anchor(2).await?;
    w.settle(SETTLE).await?;
    w.check().await
}

both_backends!(
    a_stalled_head_then_one_that_goes_backwards,
    failover_to_a_node_20_blocks_behind,
    a_node_of_another_chain_is_refused
);

/// `bridge run` itself: a node of another chain behind the only URL is a configuration
/// error (exit 2) that names both ids, before anything is indexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_run_refuses_a_node_of_another_chain() {
    let chain = evidence_tests::Devchain::start(47_999).await.unwrap();
    let liar = FaultProxy::start(chain.rpc_url.as_str()).await.unwrap();
    liar.set(Fault::ChainId(1), &[], None);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bridge.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}?mode=rwc\"\n[keys]\nattestor_keys_env = \"EB_FAULT_ATTESTOR_KEY\"\n\
             [[chains]]\nname = \"alpha\"\nchain_id = \"eip155:47999\"\nrpc = [\"{}\"]\n\
             registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n",
            dir.path().join("s.sqlite").display(),
            liar.url
        ),
    )
    .unwrap();
    let bin = support::bridge_bin();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .args(["run", "--config"])
            .arg(&config)
            .env(
                "EB_FAULT_ATTESTOR_KEY",
                "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
            )
            .env("BRIDGE_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("serves chain id 1") && stderr.contains("eip155:47999"),
        "{stderr}"
    );
    assert!(liar.injected() >= 1);
}
