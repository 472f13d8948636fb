//! Ingest throughput of the real index stage against anvil, compared with a plain
//! `eth_getLogs` of the same logs.
//!
//! ```text
//! cargo run --release -p evidence-tests --bin ingest -- [--records N] [--per-block K]
//!     [--backend sqlite|postgres]
//! ```
//!
//! 1. Starts anvil, deploys the registry, switches automine off and anchors N records
//!    (default 20,000): the `anchor` transactions are pre-signed with explicit nonces
//!    and sent without waiting for receipts, `K` (default 250) per block, each block
//!    mined with `evm_mine`.
//! 2. **raw fetch**: `eth_getLogs` of the registry's logs over the whole range in
//!    2,000-block spans (the adapter's span), typed into alloy `Log`s and, separately,
//!    kept as raw JSON; nothing is ABI-decoded.
//! 3. **adapter only**: `RegistrySource::fetch_records` over the same spans (decoding,
//!    sequence and `nextSeq()` checks, no store).
//! 4. **store only**: the index stage's writes of those records into a fresh store,
//!    no RPC: `save_fetched_batch` then `mark_logged` (the pending path), and
//!    `save_confirmed_batch` (what a backfill writes) into another.
//! 5. **ingest**: a fresh store (SQLite in a temporary directory, or with `--backend
//!    postgres` a fresh database on the server of `EB_TEST_POSTGRES_URL`, dropped at
//!    the end) and an `Engine` with one
//!    `ChainRuntime` (the real `RegistrySource`, 0 confirmations, no routes); calls
//!    `tick_index` until the cursor reaches the head, then checks that the store holds
//!    N logged records.
//!
//! Targets (issue 12): on SQLite ingest ≥ 0.8 × raw fetch and ≥ 100,000 records/s;
//! on PostgreSQL ≥ 50,000 records/s. Misses are reported, not fatal.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder as _, TransactionBuilder},
    primitives::{B256, U256},
    providers::{Provider, ProviderBuilder},
    rpc::types::{Filter, Log, TransactionRequest},
    sol_types::{SolCall, SolEvent},
};
use anyhow::{Context as _, bail, ensure};
use evidence_adapters::{
    EvidenceSource,
    registry::{RegistrySource, RegistrySourceOptions},
    rpc::{ChainRpc, RpcConfig},
};
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, Store,
    test_db::{TestBackend, TestDb},
};
use evidence_schemas::ChainId;
use evidence_tests::{
    Devchain,
    contracts::EvidenceRegistry,
    cpu::{self, CpuUse},
};
use futures::{StreamExt as _, TryStreamExt as _};
use rand::{Rng, SeedableRng, rngs::StdRng};

const CHAIN_ID: u64 = 31_377;
const SPAN: u64 = 2_000;
const TARGET_RATE_SQLITE: f64 = 100_000.0;
const TARGET_RATE_POSTGRES: f64 = 50_000.0;
const TARGET_RATIO: f64 = 0.8;
/// Concurrent `eth_sendRawTransaction` requests.
const SEND_CONCURRENCY: usize = 32;

struct Args {
    records: u64,
    per_block: u64,
    reps: u32,
    backend: TestBackend,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        records: 20_000,
        per_block: 250,
        reps: 3,
        backend: TestBackend::Sqlite,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> anyhow::Result<u64> {
            it.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} takes a number"))
        };
        match a.as_str() {
            "--records" => out.records = value("--records")?,
            "--per-block" => out.per_block = value("--per-block")?.max(1),
            "--reps" => out.reps = u32::try_from(value("--reps")?.max(1)).unwrap_or(1),
            "--backend" => {
                out.backend = match it.next().as_deref() {
                    Some("sqlite") => TestBackend::Sqlite,
                    Some("postgres") => TestBackend::Postgres,
                    other => bail!("--backend is sqlite or postgres, not {other:?}"),
                }
            }
            "-h" | "--help" => {
                println!(
                    "ingest [--records N (20000)] [--per-block K (250)] [--reps R (3, best of)] [--backend sqlite|postgres]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    ensure!(out.records > 0, "--records must be at least 1");
    Ok(out)
}

/// The cores busy since `from` (nothing when `/proc` could not be read).
fn cpu_since(from: Option<cpu::CpuSnapshot>, node: Option<u32>) -> CpuUse {
    match (from, cpu::snapshot(node)) {
        (Some(a), Some(b)) => cpu::between(&a, &b),
        _ => CpuUse::default(),
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Block spans of `from..=to`, `SPAN` blocks each.
fn spans(from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut a = from;
    while a <= to {
        let b = a.saturating_add(SPAN - 1).min(to);
        out.push((a, b));
        a = b + 1;
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let n = args.records;
    let chain = Devchain::start(CHAIN_ID).await?;
    let url = chain.rpc_url.clone();
    let registry = chain.deploy_registry().await?;
    let registry_addr = *registry.address();
    let start_block = chain.provider.get_block_number().await?;
    println!("anvil {url} (chain id {CHAIN_ID}); registry {registry_addr} at block {start_block}");

    // ------------------------------------------------------------------ anchoring
    let plain = ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url.clone())
        .erased();
    let signer = chain.signer.clone();
    let from = signer.address();
    let wallet = EthereumWallet::from(signer);
    let kind = "bench".to_owned();
    let call_of = |digest: B256| {
        EvidenceRegistry::anchorCall {
            digestAlg: 1,
            digest,
            kind: kind.clone(),
            metadata: B256::ZERO,
        }
        .abi_encode()
    };
    let mut rng = StdRng::seed_from_u64(7);
    let mut digest = || {
        let mut b = [0u8; 32];
        rng.fill(&mut b);
        b[0] |= 1; // never zero
        B256::from(b)
    };
    let gas = plain
        .estimate_gas(
            TransactionRequest::default()
                .with_from(from)
                .with_to(registry_addr)
                .with_input(call_of(digest())),
        )
        .await
        .context("estimating an anchor")?;
    let gas_limit = gas + gas / 4;
    let nonce0 = plain.get_transaction_count(from).await?;
    plain
        .raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (false,))
        .await
        .context("evm_setAutomine false")?;

    let anchoring = Instant::now();
    let mut sign_time = Duration::ZERO;
    let mut send_time = Duration::ZERO;
    let mut mine_time = Duration::ZERO;
    let mut sent = 0u64;
    while sent < n {
        let k = args.per_block.min(n - sent);
        let t = Instant::now();
        let mut raw = Vec::with_capacity(k as usize);
        for i in 0..k {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(registry_addr)
                .with_input(call_of(digest()))
                .with_nonce(nonce0 + sent + i)
                .with_chain_id(CHAIN_ID)
                .with_gas_limit(gas_limit)
                .with_max_fee_per_gas(100_000_000_000)
                .with_max_priority_fee_per_gas(1_000_000_000)
                .with_value(U256::ZERO);
            let envelope = tx.build(&wallet).await.context("signing an anchor")?;
            raw.push(envelope.encoded_2718());
        }
        sign_time += t.elapsed();
        let t = Instant::now();
        futures::stream::iter(raw)
            .map(|bytes| {
                let plain = plain.clone();
                async move {
                    plain
                        .raw_request::<_, B256>(
                            "eth_sendRawTransaction".into(),
                            (alloy::primitives::Bytes::from(bytes),),
                        )
                        .await
                }
            })
            .buffer_unordered(SEND_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await
            .context("eth_sendRawTransaction")?;
        send_time += t.elapsed();
        let t = Instant::now();
        plain
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .context("evm_mine")?;
        mine_time += t.elapsed();
        sent += k;
    }
    let nonce_now = plain.get_transaction_count(from).await?;
    ensure!(
        nonce_now == nonce0 + n,
        "after mining, account nonce is {nonce_now}, expected {} (transactions left in the pool)",
        nonce0 + n
    );
    plain
        .raw_request::<_, serde_json::Value>("evm_setAutomine".into(), (true,))
        .await?;
    let head = plain.get_block_number().await?;
    let anchored_in = anchoring.elapsed();
    println!(
        "anchored {n} records in {:.2?} ({:.0}/s; sign {:.2?}, send {:.2?}, mine {:.2?}), blocks {}..={head}\n",
        anchored_in,
        rate(n, anchored_in),
        sign_time,
        send_time,
        mine_time,
        start_block + 1
    );

    // ------------------------------------------------------------------ raw fetch
    let base = Filter::new().address(registry_addr).event_signature(vec![
        EvidenceRegistry::Anchored::SIGNATURE_HASH,
        EvidenceRegistry::Revoked::SIGNATURE_HASH,
    ]);
    let ranges = spans(start_block, head);
    let reps = args.reps;
    let mut raw_typed = Duration::MAX;
    let mut raw_json = Duration::MAX;
    let mut raw_bytes = 0usize;
    let node = Some(chain.pid());
    let mut cpu_raw = CpuUse::default();
    for _ in 0..reps {
        let cpu = cpu::snapshot(node);
        let t = Instant::now();
        let mut raw_logs = 0u64;
        for &(a, b) in &ranges {
            let logs: Vec<Log> = plain
                .get_logs(&base.clone().from_block(a).to_block(b))
                .await
                .context("eth_getLogs")?;
            raw_logs += logs.len() as u64;
        }
        raw_typed = raw_typed.min(t.elapsed());
        cpu_raw.add(cpu_since(cpu, node));
        ensure!(
            raw_logs == n,
            "eth_getLogs returned {raw_logs} logs, expected {n}"
        );

        let t = Instant::now();
        raw_bytes = 0;
        for &(a, b) in &ranges {
            let logs: Box<serde_json::value::RawValue> = plain
                .raw_request(
                    "eth_getLogs".into(),
                    (base.clone().from_block(a).to_block(b),),
                )
                .await
                .context("eth_getLogs (raw JSON)")?;
            raw_bytes += logs.get().len();
        }
        raw_json = raw_json.min(t.elapsed());
    }

    // ------------------------------------------------------------------ adapter only
    let chain_id = ChainId::eip155(CHAIN_ID);
    let rpc = ChainRpc::connect(
        &RpcConfig::new(chain_id.clone(), vec![url.to_string()]).with_expected_chain_id(CHAIN_ID),
    )
    .await
    .context("ChainRpc::connect")?;
    let opts = RegistrySourceOptions {
        max_span: SPAN,
        initial_span: SPAN,
        ..Default::default()
    };
    let source = RegistrySource::new(rpc.clone(), chain_id.clone(), registry_addr, opts.clone());
    let mut adapter = Duration::MAX;
    let mut all_records = Vec::new();
    let mut cpu_adapter = CpuUse::default();
    for _ in 0..reps {
        let cpu = cpu::snapshot(node);
        let t = Instant::now();
        all_records.clear();
        let mut expected = Some(1);
        for &(a, b) in &ranges {
            let batch = source
                .fetch_records(
                    a,
                    b,
                    expected.map(evidence_adapters::SourceState::from_stored),
                )
                .await?;
            ensure!(batch.quarantined.is_empty(), "quarantined events");
            if let Some(last) = batch.records.last().and_then(|r| r.seq) {
                expected = Some(last + 1);
            }
            all_records.extend(batch.records);
        }
        adapter = adapter.min(t.elapsed());
        cpu_adapter.add(cpu_since(cpu, node));
        ensure!(
            all_records.len() as u64 == n,
            "adapter returned {}, expected {n}",
            all_records.len()
        );
    }

    // ------------------------------------------------------------------ store only
    // The index stage's two store transactions on the adapter's records, no RPC.
    let mut dbs = Vec::new();
    let head_ref = source.fetch_block(head).await?;
    let mut store_fetched = Duration::MAX;
    let mut store_logged = Duration::MAX;
    let mut store_confirmed = Duration::MAX;
    let mut cpu_confirmed = CpuUse::default();
    for _ in 0..reps {
        let db = TestDb::create(args.backend).await;
        let store = Store::connect(&db.url).await?;
        dbs.push(db);
        store
            .save_cursor_init(&chain_id, "bench", start_block)
            .await?;
        let t = Instant::now();
        store
            .save_fetched_batch(&chain_id, &head_ref, &all_records, &[], Some(n + 1), head)
            .await?;
        store_fetched = store_fetched.min(t.elapsed());
        let t = Instant::now();
        let logged = store.mark_logged(&chain_id, &head_ref).await?;
        store_logged = store_logged.min(t.elapsed());
        ensure!(
            logged.record_ids.len() as u64 == n,
            "mark_logged logged {}",
            logged.record_ids.len()
        );
        store.close().await;

        // What a backfill tick writes: the same records straight into the log.
        let db = TestDb::create(args.backend).await;
        let store = Store::connect(&db.url).await?;
        dbs.push(db);
        store
            .save_cursor_init(&chain_id, "bench", start_block)
            .await?;
        let cpu = cpu::snapshot(node);
        let t = Instant::now();
        let logged = store
            .save_confirmed_batch(&chain_id, &head_ref, &all_records, &[], Some(n + 1), head)
            .await?;
        store_confirmed = store_confirmed.min(t.elapsed());
        cpu_confirmed.add(cpu_since(cpu, node));
        ensure!(
            logged.record_ids.len() as u64 == n,
            "save_confirmed_batch logged {}",
            logged.record_ids.len()
        );
        store.close().await;
    }

    // ------------------------------------------------------------------ ingest
    let mut ingest = Duration::MAX;
    let mut ticks = 0u32;
    let mut tick_times = Vec::new();
    let mut stored = 0;
    let mut log_size = 0;
    let mut cpu_ingest = CpuUse::default();
    for r in 0..reps {
        let db = TestDb::create(args.backend).await;
        let store = Store::connect(&db.url).await?;
        dbs.push(db);
        let source =
            RegistrySource::new(rpc.clone(), chain_id.clone(), registry_addr, opts.clone());
        let source: Arc<dyn EvidenceSource> = Arc::new(source);
        let engine = Engine::new(
            store,
            vec![ChainRuntime {
                chain: chain_id.clone(),
                name: "bench".into(),
                source,
                confirmations: 0,
                start_block,
                batch_span: SPAN,
                fetch_span: Default::default(),
            }],
            vec![],
            vec![],
            EngineSettings::default(),
        )
        .await?;
        let cpu = cpu::snapshot(node);
        let t = Instant::now();
        ticks = 0;
        tick_times.clear();
        loop {
            let tt = Instant::now();
            let outcome = engine.tick_index(&chain_id).await?;
            tick_times.push((outcome.fetched_to, outcome.logged, tt.elapsed()));
            ticks += 1;
            ensure!(!outcome.halted, "chain halted during ingest");
            if outcome.caught_up {
                break;
            }
        }
        let took = t.elapsed();
        cpu_ingest.add(cpu_since(cpu, node));
        ingest = ingest.min(took);
        eprintln!("ingest rep {r}: {took:.2?}");
        stored = engine.store().count_logged_records(&chain_id).await?;
        log_size = engine.logs().size(&chain_id).await?;
        ensure!(
            stored == n && log_size == n,
            "store holds {stored} logged records and the log {log_size}, expected {n}"
        );
        engine.store().close().await;
    }

    // ------------------------------------------------------------------ report
    let raw_rate = rate(n, raw_typed);
    let ingest_rate = rate(n, ingest);
    println!(
        "{} blocks, {} span(s) of {SPAN} blocks; {ticks} tick_index call(s); raw JSON {:.1} MB; best of {reps}",
        head - start_block + 1,
        ranges.len(),
        raw_bytes as f64 / 1e6
    );
    println!(
        "{:<34} {:>9} {:>10} {:>12} {:>13}",
        "stage", "records", "seconds", "records/s", "vs raw fetch"
    );
    for (name, d) in [
        ("raw fetch (eth_getLogs -> Log)", raw_typed),
        ("raw fetch (eth_getLogs, raw JSON)", raw_json),
        ("adapter (RegistrySource only)", adapter),
        ("store: save_fetched_batch", store_fetched),
        ("store: mark_logged", store_logged),
        ("store: save_confirmed_batch", store_confirmed),
        ("ingest (Engine::tick_index)", ingest),
    ] {
        println!(
            "{:<34} {:>9} {:>10.3} {:>12.0} {:>12.2}x",
            name,
            n,
            d.as_secs_f64(),
            rate(n, d),
            rate(n, d) / raw_rate
        );
    }
    for (i, (to, logged, d)) in tick_times.iter().enumerate() {
        eprintln!("  tick {i}: fetched_to {to:?}, logged {logged}, {d:.2?}");
    }
    // The node shares this machine's cores: a phase that keeps them all busy is
    // limited by the machine (the ingest phase runs the node, the decoding and the
    // store at once; the raw fetch runs only the first two).
    println!("cpu, averaged over the {reps} repetition(s) of each phase:");
    for (name, used) in [
        ("raw fetch (eth_getLogs -> Log)", cpu_raw),
        ("adapter (RegistrySource only)", cpu_adapter),
        ("store: save_confirmed_batch", cpu_confirmed),
        ("ingest (Engine::tick_index)", cpu_ingest),
    ] {
        println!("  {name:<34} {used}");
    }
    let ratio = ingest_rate / raw_rate;
    let (target_rate, backend) = match args.backend {
        TestBackend::Sqlite => (TARGET_RATE_SQLITE, "SQLite"),
        TestBackend::Postgres => (TARGET_RATE_POSTGRES, "PostgreSQL"),
    };
    println!("store: {backend}");
    let mut missed = Vec::new();
    if args.backend == TestBackend::Sqlite && ratio < TARGET_RATIO {
        missed.push(format!(
            "ingest is {ratio:.2} x raw fetch (target >= {TARGET_RATIO})"
        ));
    }
    if ingest_rate < target_rate {
        missed.push(format!(
            "ingest {ingest_rate:.0} records/s (target >= {target_rate:.0} on {backend})"
        ));
    }
    println!(
        "\nstore holds {stored} logged records (log size {log_size}); ratio ingest/raw = {ratio:.2}"
    );
    if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("TARGETS MISSED:\n  {}", missed.join("\n  "));
    }
    drop(dbs);
    Ok(())
}
