//! The shared source-adapter test suite: one set of checks every [`EvidenceSource`]
//! must pass, run against a real anvil chain and the relayer engine.
//!
//! A source adapter joins the suite through a [`SourceFixture`]: deploy its contract(s)
//! on a chain, emit one well-formed evidence event per call (one transaction, one
//! record), emit one event the adapter must quarantine, and build the source. The
//! checks are generic functions over the fixture:
//!
//! | check                      | what it asserts |
//! |----------------------------|-----------------|
//! | [`inclusive_ranges`]       | `fetch_records(from, to)` returns exactly the records of blocks `from..=to` (every pair of event blocks, their neighbours, single-block ranges) |
//! | [`duplicates_tolerated`]   | the same range twice gives the same batch; overlapping ranges agree on the overlap and their union is the whole |
//! | [`finality_respected`]     | nothing above `to` is returned; in the engine a record enters the log only once it has `confirmations` blocks on top |
//! | [`rewind_after_reorg`]     | after `anvil_reorg` the replaced blocks' records are gone from the source's answer and from the engine's store, and the log holds only canonical records |
//! | [`malformed_quarantined`]  | the malformed event is quarantined with a reason and its neighbours still come through |
//! | [`resumes_after_restart`]  | an engine on a SQLite file, stopped and started again, continues without duplicates or gaps |
//! | [`rereads_through_its_decoder`] | every record re-reads from its transaction receipt through its adapter's decoder (what `bridge verify` does), an edited one does not |
//!
//! ## Adding an adapter
//!
//! 1. Implement [`SourceFixture`] for a new type in `tests/tests/adapter_suite.rs`
//!    (see `RegistryFixture` and `EasFixture` there): `deploy` on the given chain,
//!    `emit` one evidence transaction, `emit_malformed` one the adapter must
//!    quarantine, `source` building the adapter with its options.
//! 2. Add its line to the `suite!` macro invocation in that file; every check then runs
//!    as its own `#[tokio::test]` named `<fixture>_<check>`.
//!
//! Only the suite itself uses anvil's dev methods (`evm_mine`, `anvil_reorg`) to shape
//! the chain; the adapters under test speak standard JSON-RPC only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use alloy::{primitives::B256, providers::Provider};
use anyhow::{Context, bail, ensure};
use evidence_adapters::{
    ChainRpc, EvidenceSource, RecordDecoder, RpcConfig, SourceBatch, recheck::reread_record_with,
};
use evidence_relayer::{
    engine::{ChainRuntime, Engine, EngineSettings},
    store::Store,
};
use evidence_schemas::{ChainId, EvidenceRecord};

use crate::Devchain;

/// Chain id of the suite's anvil chains.
pub const SUITE_CHAIN_ID: u64 = 31337;

/// One emitted event: its transaction and block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block number.
    pub block_number: u64,
}

/// A source adapter under test, with the contract(s) it reads.
#[allow(async_fn_in_trait)]
pub trait SourceFixture: Sized {
    /// Short name, used in assertion messages.
    const NAME: &'static str;

    /// Deploys the contract(s) the source reads on `chain`.
    async fn deploy(chain: &Devchain, rpc: &ChainRpc) -> anyhow::Result<Self>;

    /// The first block the source must read (the contract's deployment block).
    fn start_block(&self) -> u64;

    /// Emits one well-formed evidence event (one transaction that the source turns into
    /// exactly one record); `i` makes its content unique.
    async fn emit(&mut self, chain: &Devchain, rpc: &ChainRpc, i: u64) -> anyhow::Result<Emitted>;

    /// Emits one event the source must quarantine (one transaction).
    async fn emit_malformed(&mut self, chain: &Devchain, rpc: &ChainRpc)
    -> anyhow::Result<Emitted>;

    /// Builds the source reading this fixture's contract through `rpc`.
    fn source(&self, rpc: &ChainRpc) -> anyhow::Result<Arc<dyn EvidenceSource>>;

    /// The decoders of the source's records that need their configuration to re-read a
    /// record (EAS, mapped); the built-in ones (registry, receipts) need none.
    fn decoders(&self) -> anyhow::Result<Vec<Arc<dyn RecordDecoder>>> {
        Ok(Vec::new())
    }
}

/// A fresh anvil chain with the fixture deployed on it.
#[derive(Debug)]
pub struct SuiteWorld<F> {
    /// The chain.
    pub chain: Devchain,
    /// The adapters' RPC client for it.
    pub rpc: ChainRpc,
    /// The fixture.
    pub fixture: F,
}

impl<F: SourceFixture> SuiteWorld<F> {
    /// Starts anvil and deploys the fixture.
    ///
    /// # Errors
    /// When anvil or the deployment fails.
    pub async fn start() -> anyhow::Result<Self> {
        let chain = Devchain::start(SUITE_CHAIN_ID).await?;
        let rpc = ChainRpc::connect(&RpcConfig::new(
            ChainId::eip155(SUITE_CHAIN_ID),
            vec![chain.rpc_url.to_string()],
        ))
        .await?;
        let fixture = F::deploy(&chain, &rpc)
            .await
            .context("deploying the fixture")?;
        Ok(Self {
            chain,
            rpc,
            fixture,
        })
    }

    /// Emits event `i`.
    ///
    /// # Errors
    /// When the transaction fails.
    pub async fn emit(&mut self, i: u64) -> anyhow::Result<Emitted> {
        self.fixture.emit(&self.chain, &self.rpc, i).await
    }

    /// Mines `n` empty blocks (`evm_mine`).
    ///
    /// # Errors
    /// When the node refuses.
    pub async fn mine(&self, n: u64) -> anyhow::Result<()> {
        for _ in 0..n {
            let _: serde_json::Value = self
                .chain
                .provider
                .raw_request("evm_mine".into(), ())
                .await?;
        }
        Ok(())
    }

    /// The node's head.
    ///
    /// # Errors
    /// When the node does not answer.
    pub async fn head(&self) -> anyhow::Result<u64> {
        Ok(self.rpc.provider().get_block_number().await?)
    }

    /// Replaces the last `depth` blocks with empty ones (`anvil_reorg`).
    ///
    /// # Errors
    /// When the node refuses.
    pub async fn reorg(&self, depth: u64) -> anyhow::Result<()> {
        let _: serde_json::Value = self
            .chain
            .provider
            .raw_request("anvil_reorg".into(), serde_json::json!([depth, []]))
            .await?;
        Ok(())
    }

    /// A new source.
    ///
    /// # Errors
    /// When the fixture cannot build it.
    pub fn source(&self) -> anyhow::Result<Arc<dyn EvidenceSource>> {
        self.fixture.source(&self.rpc)
    }

    /// An engine indexing this chain with `confirmations`, on the store at `url`.
    ///
    /// # Errors
    /// When the store or engine cannot be set up.
    pub async fn engine(&self, store_url: &str, confirmations: u64) -> anyhow::Result<Engine> {
        let store = Store::connect(store_url).await?;
        let runtime = ChainRuntime {
            chain: ChainId::eip155(SUITE_CHAIN_ID),
            name: F::NAME.to_owned(),
            source: self.source()?,
            confirmations,
            start_block: self.fixture.start_block(),
            batch_span: 1_000,
            fetch_span: Default::default(),
        };
        Ok(Engine::new(
            store,
            vec![runtime],
            Vec::new(),
            Vec::new(),
            EngineSettings::default(),
        )
        .await?)
    }
}

fn chain() -> ChainId {
    ChainId::eip155(SUITE_CHAIN_ID)
}

fn records(batch: &SourceBatch) -> Vec<EvidenceRecord> {
    batch.records.iter().map(|r| r.record.clone()).collect()
}

/// Indexes until the engine is caught up with the head.
///
/// # Errors
/// When a step fails or the chain halts.
pub async fn index_until_caught_up(engine: &Engine) -> anyhow::Result<()> {
    for _ in 0..50 {
        let out = engine.tick_index(&chain()).await?;
        ensure!(!out.halted, "the engine halted the chain: {out:?}");
        if out.caught_up {
            return Ok(());
        }
    }
    bail!("the engine did not catch up in 50 steps")
}

/// Emits `n` events, with an empty block after every second one, and returns them.
async fn emit_n<F: SourceFixture>(
    w: &mut SuiteWorld<F>,
    first: u64,
    n: u64,
) -> anyhow::Result<Vec<Emitted>> {
    let mut out = Vec::new();
    for i in first..first + n {
        out.push(w.emit(i).await?);
        if i % 2 == 1 {
            w.mine(1).await?;
        }
    }
    Ok(out)
}

/// `fetch_records(from, to)` is exactly the records of blocks `from..=to`.
///
/// # Errors
/// When the chain cannot be set up; failed checks panic with the fixture's name.
pub async fn inclusive_ranges<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let emitted = emit_n(&mut w, 0, 5).await?;
    w.mine(2).await?;
    let head = w.head().await?;
    let source = w.source()?;
    let all = records(
        &source
            .fetch_records(w.fixture.start_block(), head, None)
            .await?,
    );
    assert_eq!(all.len(), 5, "{}: one record per event", F::NAME);
    for (r, e) in all.iter().zip(&emitted) {
        assert_eq!(
            (r.source.tx_hash, r.source.block_number),
            (e.tx_hash, e.block_number),
            "{}",
            F::NAME
        );
    }
    // Every boundary around every event block, and every pair of them.
    let mut points = BTreeSet::new();
    for e in &emitted {
        points.extend([e.block_number - 1, e.block_number, e.block_number + 1]);
    }
    let points: Vec<u64> = points.into_iter().collect();
    for (i, &from) in points.iter().enumerate() {
        for &to in &points[i..] {
            let got = records(&source.fetch_records(from, to, None).await?);
            let want: Vec<_> = all
                .iter()
                .filter(|r| (from..=to).contains(&r.source.block_number))
                .cloned()
                .collect();
            assert_eq!(got, want, "{}: range {from}..={to}", F::NAME);
        }
    }
    // Single-block ranges hold exactly their block's record.
    for e in &emitted {
        let got = records(
            &source
                .fetch_records(e.block_number, e.block_number, None)
                .await?,
        );
        assert_eq!(got.len(), 1, "{}: block {}", F::NAME, e.block_number);
        assert_eq!(got[0].source.tx_hash, e.tx_hash);
    }
    Ok(())
}

/// The same range twice gives the same batch; overlapping ranges agree.
///
/// # Errors
/// When the chain cannot be set up; failed checks panic.
pub async fn duplicates_tolerated<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let emitted = emit_n(&mut w, 0, 6).await?;
    let head = w.head().await?;
    let start = w.fixture.start_block();
    let source = w.source()?;
    let first = source.fetch_records(start, head, None).await?;
    let second = source.fetch_records(start, head, None).await?;
    assert_eq!(first, second, "{}: the same range twice", F::NAME);
    // A second source instance (no shared state) agrees too.
    assert_eq!(
        w.source()?.fetch_records(start, head, None).await?,
        first,
        "{}",
        F::NAME
    );
    let mid = emitted[2].block_number;
    let left = records(&source.fetch_records(start, mid, None).await?);
    let right = records(&source.fetch_records(mid, head, None).await?);
    let overlap_left: Vec<_> = left
        .iter()
        .filter(|r| r.source.block_number == mid)
        .collect();
    let overlap_right: Vec<_> = right
        .iter()
        .filter(|r| r.source.block_number == mid)
        .collect();
    assert_eq!(
        overlap_left,
        overlap_right,
        "{}: the overlap block",
        F::NAME
    );
    assert_eq!(overlap_left.len(), 1);
    let mut union: Vec<EvidenceRecord> = left;
    for r in right {
        if !union.iter().any(|u| u.record_id() == r.record_id()) {
            union.push(r);
        }
    }
    assert_eq!(
        union,
        records(&first),
        "{}: union of overlapping ranges",
        F::NAME
    );
    Ok(())
}

/// Nothing above `to` is returned, and the engine logs a record only after
/// `confirmations` blocks.
///
/// # Errors
/// When the chain or engine cannot be set up; failed checks panic.
pub async fn finality_respected<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let before = w.emit(0).await?;
    let later = w.emit(1).await?;
    let source = w.source()?;
    let got = records(
        &source
            .fetch_records(w.fixture.start_block(), later.block_number - 1, None)
            .await?,
    );
    assert_eq!(got.len(), 1, "{}", F::NAME);
    assert_eq!(got[0].source.tx_hash, before.tx_hash);
    assert!(
        got.iter()
            .all(|r| r.source.block_number < later.block_number)
    );

    const CONFIRMATIONS: u64 = 3;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("relayer.db").display()
    );
    let engine = w.engine(&url, CONFIRMATIONS).await?;
    // Head = later.block_number: `before` has 1 block on top, `later` none.
    index_until_caught_up(&engine).await?;
    let store = engine.store();
    assert_eq!(
        store.count_records(&chain()).await?,
        2,
        "{}: both fetched",
        F::NAME
    );
    assert_eq!(
        store.count_logged_records(&chain()).await?,
        0,
        "{}: neither confirmed",
        F::NAME
    );
    w.mine(1).await?; // before: 2 on top
    index_until_caught_up(&engine).await?;
    assert_eq!(
        store.count_logged_records(&chain()).await?,
        0,
        "{}",
        F::NAME
    );
    w.mine(1).await?; // before: 3 on top -> confirmed; later: 2
    index_until_caught_up(&engine).await?;
    assert_eq!(
        store.count_logged_records(&chain()).await?,
        1,
        "{}: first confirmed",
        F::NAME
    );
    w.mine(1).await?;
    index_until_caught_up(&engine).await?;
    assert_eq!(
        store.count_logged_records(&chain()).await?,
        2,
        "{}: both confirmed",
        F::NAME
    );
    let leaves = store.load_leaf_ids(&chain(), None).await?;
    let all = records(
        &source
            .fetch_records(w.fixture.start_block(), w.head().await?, None)
            .await?,
    );
    assert_eq!(
        leaves,
        all.iter()
            .map(EvidenceRecord::record_id)
            .collect::<Vec<_>>(),
        "{}",
        F::NAME
    );
    Ok(())
}

/// After a reorg the replaced blocks' records are gone, from the source and the engine.
///
/// # Errors
/// When the chain or engine cannot be set up; failed checks panic.
pub async fn rewind_after_reorg<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("relayer.db").display()
    );
    let engine = w.engine(&url, 10).await?;
    let kept = w.emit(0).await?;
    let gone1 = w.emit(1).await?;
    let gone2 = w.emit(2).await?;
    let head = w.head().await?;
    let start = w.fixture.start_block();
    let source = w.source()?;
    let before = records(&source.fetch_records(start, head, None).await?);
    assert_eq!(before.len(), 3, "{}", F::NAME);
    index_until_caught_up(&engine).await?;
    assert_eq!(
        engine.store().count_records(&chain()).await?,
        3,
        "{}: pending",
        F::NAME
    );

    // Replace the blocks of the last two events with empty blocks.
    w.reorg(head - gone1.block_number + 1).await?;
    assert_eq!(w.head().await?, head, "anvil_reorg keeps the height");
    let after = source.fetch_records(start, head, None).await?;
    let after_records = records(&after);
    assert_eq!(
        after_records.len(),
        1,
        "{}: replaced blocks' records are gone",
        F::NAME
    );
    assert_eq!(
        after_records[0],
        before[0],
        "{}: the record below the reorg is unchanged",
        F::NAME
    );
    assert!(after.quarantined.is_empty());
    for e in [gone1, gone2] {
        let b = source
            .fetch_records(e.block_number, e.block_number, None)
            .await?;
        assert!(
            b.records.is_empty(),
            "{}: block {} after the reorg",
            F::NAME,
            e.block_number
        );
    }

    // The engine rewinds its pending records and logs only canonical ones.
    let replacement = w.emit(3).await?;
    index_until_caught_up(&engine).await?;
    assert_eq!(
        engine.store().count_records(&chain()).await?,
        2,
        "{}: rewound",
        F::NAME
    );
    w.mine(10).await?;
    index_until_caught_up(&engine).await?;
    let leaves = engine.store().load_leaf_ids(&chain(), None).await?;
    let canonical = records(&source.fetch_records(start, w.head().await?, None).await?);
    assert_eq!(canonical.len(), 2);
    assert_eq!(canonical[0].source.tx_hash, kept.tx_hash);
    assert_eq!(canonical[1].source.tx_hash, replacement.tx_hash);
    assert_eq!(
        leaves,
        canonical
            .iter()
            .map(EvidenceRecord::record_id)
            .collect::<Vec<_>>(),
        "{}",
        F::NAME
    );
    Ok(())
}

/// Every record the source returns re-reads from its transaction receipt through its
/// adapter's decoder (`recheck`, as `bridge verify` does); the same record with another
/// digest does not.
///
/// # Errors
/// When the chain cannot be set up or asked; failed checks panic.
pub async fn rereads_through_its_decoder<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    emit_n(&mut w, 0, 3).await?;
    let head = w.head().await?;
    let all = records(
        &w.source()?
            .fetch_records(w.fixture.start_block(), head, None)
            .await?,
    );
    assert_eq!(all.len(), 3, "{}: one record per event", F::NAME);
    let decoders = w.fixture.decoders()?;
    for r in &all {
        assert_eq!(
            reread_record_with(&w.rpc, r, &decoders).await?,
            Ok(()),
            "{}: record {} re-reads",
            F::NAME,
            r.record_id()
        );
        let mut edited = r.clone();
        edited.evidence.digest = B256::repeat_byte(0xee);
        let why = reread_record_with(&w.rpc, &edited, &decoders)
            .await?
            .expect_err("an edited record does not re-read");
        assert!(why.contains("decodes to record"), "{}: {why}", F::NAME);
    }
    Ok(())
}

/// The malformed event is quarantined with a reason; its neighbours still come through.
///
/// # Errors
/// When the chain cannot be set up; failed checks panic.
pub async fn malformed_quarantined<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let a = w.emit(0).await?;
    let bad = w.fixture.emit_malformed(&w.chain, &w.rpc).await?;
    let b = w.emit(1).await?;
    let head = w.head().await?;
    let batch = w
        .source()?
        .fetch_records(w.fixture.start_block(), head, None)
        .await?;
    let txs: Vec<_> = batch
        .records
        .iter()
        .map(|r| r.record.source.tx_hash)
        .collect();
    assert_eq!(txs, vec![a.tx_hash, b.tx_hash], "{}", F::NAME);
    assert_eq!(
        batch.quarantined.len(),
        1,
        "{}: {:?}",
        F::NAME,
        batch.quarantined
    );
    let q = &batch.quarantined[0];
    assert_eq!(
        (q.tx_hash, q.block_number),
        (bad.tx_hash, bad.block_number),
        "{}",
        F::NAME
    );
    assert!(!q.reason.trim().is_empty(), "{}: a reason", F::NAME);
    assert_eq!(q.chain, chain());
    // The quarantined event does not stop the engine either.
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("relayer.db").display()
    );
    let engine = w.engine(&url, 0).await?;
    index_until_caught_up(&engine).await?;
    let leaves = engine.store().load_leaf_ids(&chain(), None).await?;
    let want: Vec<B256> = batch.records.iter().map(|r| r.record.record_id()).collect();
    assert_eq!(leaves, want, "{}", F::NAME);
    Ok(())
}

/// An engine stopped and started again on the same SQLite file continues without
/// duplicates or gaps.
///
/// # Errors
/// When the chain or engine cannot be set up; failed checks panic.
pub async fn resumes_after_restart<F: SourceFixture>() -> anyhow::Result<()> {
    let mut w = SuiteWorld::<F>::start().await?;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("relayer.db").display()
    );
    emit_n(&mut w, 0, 3).await?;
    {
        let engine = w.engine(&url, 1).await?;
        index_until_caught_up(&engine).await?;
        assert_eq!(
            engine.store().count_logged_records(&chain()).await?,
            2,
            "{}: the newest is 0-confirmed",
            F::NAME
        );
        engine.store().close().await;
    }
    emit_n(&mut w, 3, 3).await?;
    w.mine(1).await?;
    let engine = w.engine(&url, 1).await?;
    index_until_caught_up(&engine).await?;
    // Once more with nothing new: nothing changes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    index_until_caught_up(&engine).await?;
    let leaves = engine.store().load_leaf_ids(&chain(), None).await?;
    let all = records(
        &w.source()?
            .fetch_records(w.fixture.start_block(), w.head().await?, None)
            .await?,
    );
    assert_eq!(all.len(), 6);
    assert_eq!(
        leaves,
        all.iter()
            .map(EvidenceRecord::record_id)
            .collect::<Vec<_>>(),
        "{}: no duplicates, no gaps",
        F::NAME
    );
    assert_eq!(
        engine.logs().size(&chain()).await?,
        6,
        "{}: the stored log agrees",
        F::NAME
    );
    Ok(())
}
