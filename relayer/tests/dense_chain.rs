//! A dense chain (far more records per block than a fetch should hold) is indexed in
//! fetches bounded in records, not in blocks, and still logged whole and in order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{World, source_id};
use evidence_adapters::{AdapterError, BlockRef, EvidenceSource, SourceBatch, SourceState};
use evidence_relayer::{ChainRuntime, Engine, FetchSpan, testing::FakeChain};
use evidence_schemas::{ChainId, log::root_of_record_ids};

/// The fake chain, with every `fetch_records` call's (from, to, records) noted.
#[derive(Debug)]
struct Counting {
    inner: Arc<FakeChain>,
    fetches: Mutex<Vec<(u64, u64, usize)>>,
}

#[async_trait]
impl EvidenceSource for Counting {
    fn chain(&self) -> &ChainId {
        self.inner.chain()
    }
    fn adapter_name(&self) -> &str {
        self.inner.adapter_name()
    }
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.inner.fetch_head().await
    }
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.inner.fetch_block(number).await
    }
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError> {
        let batch = self.inner.fetch_records(from, to, state).await?;
        self.fetches
            .lock()
            .unwrap()
            .push((from, to, batch.records.len()));
        Ok(batch)
    }
}

/// An engine over the world's chain whose fetches are recorded, with steps of up to
/// 2,000 blocks.
async fn counted_engine(w: &World) -> (Engine, Arc<Counting>) {
    let counting = Arc::new(Counting {
        inner: w.chain.clone(),
        fetches: Mutex::new(Vec::new()),
    });
    let rt = ChainRuntime {
        source: counting.clone(),
        batch_span: 2_000,
        ..w.chain_runtime(w.chain.clone())
    };
    let engine = Engine::new(
        w.store().await,
        vec![rt],
        vec![],
        vec![],
        w.settings.clone(),
    )
    .await
    .unwrap();
    (engine, counting)
}

const BLOCKS: u64 = 24;
const PER_BLOCK: usize = 1_500;

async fn dense_blocks_are_fetched_in_record_bounded_pieces(
    backend: evidence_relayer::test_db::TestBackend,
) {
    let w = World::new(backend, 0).await;
    let mut ids = Vec::new();
    for _ in 0..BLOCKS {
        w.chain.mine_anchors(PER_BLOCK);
    }
    for r in w.chain.records(u64::MAX) {
        ids.push(r.record_id());
    }
    // One step may span 2,000 blocks: all 24 dense blocks (36,000 records) at once.
    let (engine, counting) = counted_engine(&w).await;
    let mut steps = 0;
    loop {
        let out = engine.tick_index(&source_id()).await.unwrap();
        assert!(!out.halted);
        steps += 1;
        if out.caught_up {
            break;
        }
        assert!(steps < 100, "indexing did not finish");
    }

    let fetches = counting.fetches.lock().unwrap().clone();
    // The first fetch knows nothing of the chain: INITIAL blocks. Every later one is
    // sized from what the earlier ones returned, and holds at most RECORDS records.
    let (from, to, _) = fetches[0];
    assert_eq!(to - from + 1, FetchSpan::INITIAL, "{fetches:?}");
    for &(from, to, n) in &fetches[1..] {
        assert!(
            n as u64 <= FetchSpan::RECORDS,
            "fetch of blocks {from}..={to} held {n} records: {fetches:?}"
        );
    }
    // Consecutive, without gaps or overlaps, over the whole chain.
    for pair in fetches.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "{fetches:?}");
    }
    let last = fetches.last().unwrap();
    assert_eq!(last.1, w.chain.head().number, "{fetches:?}");

    // Everything is logged, in chain order: the stored log's root is the reference's.
    let store = engine.store();
    assert_eq!(
        store.count_logged_records(&source_id()).await.unwrap(),
        ids.len() as u64
    );
    let size = ids.len() as u64;
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), size);
    assert_eq!(
        engine.logs().root_at(&source_id(), size).await.unwrap(),
        root_of_record_ids(&ids).unwrap()
    );

    // The log size as of each block (what attestors check a proposal's size against),
    // read from the tail, equals the count of the chain's records up to that block.
    let records = w.chain.records(u64::MAX);
    for block in 0..=BLOCKS + 2 {
        let expected = records
            .iter()
            .filter(|r| r.source.block_number <= block)
            .count() as u64;
        assert_eq!(
            store
                .count_logged_records_upto(&source_id(), block)
                .await
                .unwrap(),
            expected,
            "log size as of block {block}"
        );
    }
}

both_backends!(dense_blocks_are_fetched_in_record_bounded_pieces);

/// A dense stretch, then a quiet one (one empty block a step, the chain caught up),
/// then a burst as dense as the first: the burst's first fetch is bounded by the
/// densest blocks the span remembers. Growing fourfold per quiet fetch alone, the span
/// (6 blocks of 1,500 records) was 384 blocks after three empty fetches, and the
/// burst's first fetch took all 40 blocks (60,000 records) at once.
async fn a_burst_after_a_quiet_stretch_is_fetched_in_bounded_pieces(
    backend: evidence_relayer::test_db::TestBackend,
) {
    let w = World::new(backend, 0).await;
    for _ in 0..8 {
        w.chain.mine_anchors(PER_BLOCK);
    }
    let (engine, counting) = counted_engine(&w).await;
    let catch_up = || async {
        for _ in 0..100 {
            if engine.tick_index(&source_id()).await.unwrap().caught_up {
                return;
            }
        }
        panic!("indexing did not finish");
    };
    catch_up().await;
    let quiet = 3;
    for _ in 0..quiet {
        w.chain.mine_empty(1);
        catch_up().await;
    }
    let before_burst = counting.fetches.lock().unwrap().len();
    for _ in 0..40 {
        w.chain.mine_anchors(PER_BLOCK);
    }
    catch_up().await;

    let fetches = counting.fetches.lock().unwrap().clone();
    let burst = &fetches[before_burst..];
    // The remembered peak (1,500 a block) decays by a fifth per quiet fetch: the span
    // may grow to what holds RECORDS at 0.8^3 of it, 13 blocks = 19,500 records.
    let bound = (FetchSpan::RECORDS as f64 / 0.8_f64.powi(quiet)).ceil() as u64;
    for &(from, to, n) in burst {
        assert!(
            n as u64 <= bound,
            "after {quiet} quiet fetches a fetch of blocks {from}..={to} held {n} records (bound {bound}): {fetches:?}"
        );
    }
    assert!(
        burst.len() >= 3,
        "the burst took several fetches: {burst:?}"
    );
    assert_eq!(
        engine
            .store()
            .count_logged_records(&source_id())
            .await
            .unwrap(),
        48 * PER_BLOCK as u64,
        "every record of both dense stretches is logged"
    );
}

both_backends!(a_burst_after_a_quiet_stretch_is_fetched_in_bounded_pieces);
