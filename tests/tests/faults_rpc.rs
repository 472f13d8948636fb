//! Faults of the source chain's RPC node, injected by [`FaultProxy`] in front of a real
//! anvil while the real relayer engine indexes it: JSON-RPC error answers (-32005
//! "limit exceeded"), HTTP 429 and 503, truncated and malformed JSON, answers slower
//! than the client's timeout, connection resets, and `eth_getLogs` answers missing logs
//! from the middle of the range. Each ends with every record logged once, in order, and
//! verifiable on the destination's mirror ([`World::check`]), and the fault visible in
//! the product's metrics. Every test runs on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod faults_world;

use std::time::Duration;

use anyhow::ensure;
use evidence_relayer::test_db::TestBackend;
use evidence_tests::faultproxy::Fault;
use faults_world::{World, counter};

const SETTLE: Duration = Duration::from_secs(40);

/// One fault on the way: records anchored while it is on are logged once it is off,
/// nothing lost or doubled, and the failed attempts are counted per endpoint.
async fn survive(w: &World, fault: Fault, methods: &[&str], count: u64) -> anyhow::Result<()> {
    let before = counter("bridge_rpc_endpoint_errors_total", &w.chain, &[]);
    let injected = w.proxy().injected();
    w.anchor(3).await?;
    w.mine(faults_world::CONFIRMATIONS).await?;
    w.proxy().set(fault.clone(), methods, Some(count));
    w.ticks(3).await;
    ensure!(
        w.proxy().injected() > injected,
        "{fault:?} was never served"
    );
    w.proxy().clear();
    w.settle(SETTLE).await?;
    w.check().await?;
    let after = counter("bridge_rpc_endpoint_errors_total", &w.chain, &[]);
    ensure!(
        after > before,
        "{fault:?} left no trace in bridge_rpc_endpoint_errors_total ({before} -> {after})"
    );
    Ok(())
}

async fn error_answers_and_http_errors(backend: TestBackend) -> anyhow::Result<()> {
    let w = World::new(backend, 1).await?;
    w.anchor(2).await?;
    w.settle(SETTLE).await?;
    w.check().await?;
    // Infura's "limit exceeded" is a span problem: the span shrinks, no tick is lost.
    let limit = Fault::RpcError {
        code: -32005,
        message: "limit exceeded".into(),
    };
    survive(&w, limit, &["eth_getLogs"], 3).await?;
    survive(&w, Fault::Http(429), &[], 5).await?;
    survive(&w, Fault::Http(503), &[], 5).await?;
    survive(
        &w,
        Fault::RpcError {
            code: -32603,
            message: "internal error".into(),
        },
        &["eth_getBlockByNumber", "eth_call"],
        4,
    )
    .await
}

async fn broken_answers_and_connections(backend: TestBackend) -> anyhow::Result<()> {
    let w = World::new(backend, 1).await?;
    w.anchor(2).await?;
    w.settle(SETTLE).await?;
    survive(&w, Fault::Truncated, &[], 4).await?;
    survive(
        &w,
        Fault::Malformed,
        &[
            "eth_getLogs",
            "eth_call",
            "eth_blockNumber",
            "eth_getBlockByNumber",
        ],
        4,
    )
    .await?;
    survive(&w, Fault::Reset, &[], 4).await?;
    // Slower than the client's 1.5 s request timeout.
    survive(
        &w,
        Fault::Delay(Duration::from_millis(2_000)),
        &["eth_getLogs", "eth_getBlockByNumber"],
        2,
    )
    .await
}

async fn logs_missing_from_the_middle_are_detected(backend: TestBackend) -> anyhow::Result<()> {
    let w = World::new(backend, 1).await?;
    w.anchor(2).await?;
    w.settle(SETTLE).await?;
    let logged = w.engine.store().load_leaf_ids(&w.chain, None).await?.len();
    let inconsistent = counter("bridge_source_inconsistent_total", &w.chain, &[]);

    // A node that keeps dropping logs: the holes are detected and the range fetched
    // again with smaller spans; after every tick the log is a prefix of the chain's
    // records (a hole is never logged), and nothing halts.
    w.anchor(6).await?;
    w.mine(faults_world::CONFIRMATIONS).await?;
    w.proxy().set(Fault::DropMiddleLogs, &["eth_getLogs"], None);
    let head = alloy::providers::Provider::get_block_number(&w.src.provider).await?;
    let reference = w.reference(head).await?;
    for _ in 0..4 {
        w.ticks(1).await;
        let now = w.engine.store().load_leaf_ids(&w.chain, None).await?;
        ensure!(
            now.len() >= logged && reference.starts_with(&now),
            "the log is not a prefix of the chain's records: a hole was logged"
        );
        let status = w.engine.store().status().await?;
        ensure!(
            status[0].halted.is_none(),
            "a node's bad answer halted the chain"
        );
    }
    ensure!(w.proxy().injected() > 0, "no answer lost a log");
    let seen = counter("bridge_source_inconsistent_total", &w.chain, &[]);
    ensure!(
        seen > inconsistent,
        "the holes are not in bridge_source_inconsistent_total"
    );
    w.proxy().clear();
    w.settle(SETTLE).await?;
    w.check().await?;

    // One holed answer: the source's own retry fetches again, the tick succeeds.
    let before = counter("bridge_source_inconsistent_total", &w.chain, &[]);
    let injected = w.proxy().injected();
    w.anchor(6).await?;
    w.mine(faults_world::CONFIRMATIONS).await?;
    w.proxy()
        .set(Fault::DropMiddleLogs, &["eth_getLogs"], Some(1));
    w.settle(SETTLE).await?;
    ensure!(
        w.proxy().injected() == injected + 1,
        "the hole was not served"
    );
    ensure!(
        counter("bridge_source_inconsistent_total", &w.chain, &[]) > before,
        "the retried hole left no trace"
    );
    w.check().await
}

both_backends!(
    error_answers_and_http_errors,
    broken_answers_and_connections,
    logs_missing_from_the_middle_are_detected
);
