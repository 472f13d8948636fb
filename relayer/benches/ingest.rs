//! Ingest throughput into SQLite: records per second through the index stage (fake
//! source → pending rows → confirmed into the log with leaf indices) and through the
//! store's batch writes alone. Target: ≥ 20,000 records/s.
//!
//! `cargo bench -p evidence-relayer --bench ingest`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use evidence_adapters::EvidenceSource;
use evidence_relayer::{ChainRuntime, Engine, EngineSettings, Store, testing::FakeChain};
use evidence_schemas::ChainId;

const BLOCKS: u64 = 100;
const PER_BLOCK: usize = 1000;
const RECORDS: u64 = BLOCKS * PER_BLOCK as u64;

fn fake_chain() -> std::sync::Arc<FakeChain> {
    let chain = FakeChain::new(ChainId::eip155(31337));
    for _ in 0..BLOCKS {
        chain.mine_anchors(PER_BLOCK);
    }
    chain
}

async fn fresh_store(dir: &tempfile::TempDir, i: u64) -> Store {
    Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join(format!("bench{i}.db")).display()
    ))
    .await
    .unwrap()
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let chain = fake_chain();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("ingest");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(RECORDS));

    // The whole index stage: fetch 10 blocks (10k records) per step, store them
    // pending, confirm them into the log, append to the in-memory tree.
    let mut n = 0;
    group.bench_function("index_stage_100k_records", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let store = fresh_store(&dir, n).await;
                    let chains = vec![ChainRuntime {
                        chain: ChainId::eip155(31337),
                        name: "bench".into(),
                        source: chain.clone(),
                        confirmations: 0,
                        start_block: 1,
                        batch_span: 10,
                        fetch_span: Default::default(),
                    }];
                    let engine =
                        Engine::new(store, chains, vec![], vec![], EngineSettings::default())
                            .await
                            .unwrap();
                    let start = Instant::now();
                    let outcome = engine.tick_chain(&ChainId::eip155(31337)).await.unwrap();
                    total += start.elapsed();
                    assert!(outcome.caught_up);
                    assert_eq!(
                        engine.logs().size(&ChainId::eip155(31337)).await.unwrap(),
                        RECORDS
                    );
                    engine.store().close().await;
                }
                total
            })
        })
    });

    // The store alone: one transaction of 100k pending rows, one that logs them.
    let batch = rt.block_on(chain.fetch_records(1, BLOCKS, None)).unwrap();
    let to = rt.block_on(chain.fetch_block(BLOCKS)).unwrap();
    group.bench_function("store_batch_100k_records", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let store = fresh_store(&dir, n).await;
                    let id = ChainId::eip155(31337);
                    store.save_cursor_init(&id, "bench", 1).await.unwrap();
                    let start = Instant::now();
                    store
                        .save_fetched_batch(&id, &to, &batch.records, &[], None, BLOCKS)
                        .await
                        .unwrap();
                    let logged = store.mark_logged(&id, &to).await.unwrap();
                    total += start.elapsed();
                    assert_eq!(logged.record_ids.len() as u64, RECORDS);
                    store.close().await;
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
