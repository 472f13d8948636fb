//! Round-trip receipts and the checkpoint policy: a log that grew by receipts of
//! checkpoints that carried evidence is checkpointed (so the other chain can prove its
//! checkpoint was accepted), a log that grew only by receipts of receipts is not (the
//! chains would acknowledge each other forever), and evidence always is.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use std::{sync::Arc, time::Duration};

use alloy::primitives::B256;
use common::*;
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings,
    store::RangeNews,
    test_db::{TestBackend, TestDb},
    testing::{FakeChain, FakeEvent},
};
use evidence_schemas::{ChainId, Checkpoint};

fn other_id() -> ChainId {
    ChainId::eip155(31339)
}

async fn engine(store: evidence_relayer::Store, a: &Arc<FakeChain>, b: &Arc<FakeChain>) -> Engine {
    let runtime = |chain: &Arc<FakeChain>, name: &str| ChainRuntime {
        chain: evidence_adapters::EvidenceSource::chain(chain.as_ref()).clone(),
        name: name.into(),
        source: chain.clone(),
        confirmations: 0,
        start_block: 1,
        batch_span: 10,
        fetch_span: Default::default(),
    };
    let settings = EngineSettings {
        poll_interval: Duration::from_millis(10),
        checkpoint_interval: Duration::ZERO,
        checkpoint_max_records: 1,
        tx_timeout: Duration::from_secs(3600),
        max_backoff: Duration::from_millis(50),
    };
    Engine::new(
        store,
        vec![runtime(a, "alpha"), runtime(b, "beta")],
        Vec::new(),
        Vec::new(),
        settings,
    )
    .await
    .unwrap()
}

fn receipt_of(cp: &Checkpoint) -> FakeEvent {
    FakeEvent::Receipt {
        source: cp.source_chain.clone(),
        size: cp.size,
        root: cp.root,
        source_block_hash: cp.source_block_hash,
    }
}

async fn receipts_of_evidence_are_checkpointed_receipts_of_receipts_are_not(db: TestBackend) {
    let db = TestDb::create(db).await;
    let store = evidence_relayer::Store::connect(&db.url).await.unwrap();
    let (a, b) = (FakeChain::new(source_id()), FakeChain::new(other_id()));
    let engine = engine(store.clone(), &a, &b).await;
    let checkpoint = |chain: ChainId| {
        let engine = &engine;
        async move {
            engine.tick_index(&chain).await.unwrap();
            engine.tick_checkpoint(&chain).await.unwrap()
        }
    };

    // Evidence on alpha: checkpointed.
    a.mine_anchors(3);
    let a1 = checkpoint(source_id())
        .await
        .expect("evidence is checkpointed");
    assert_eq!(a1.size, 3);
    assert_eq!(
        store.range_news(&source_id(), 0, 3).await.unwrap(),
        RangeNews::Evidence
    );

    // Beta's mirror accepted alpha's checkpoint: a receipt of evidence, checkpointed.
    b.mine(vec![receipt_of(&a1)]);
    let b1 = checkpoint(other_id())
        .await
        .expect("a receipt of evidence is checkpointed");
    assert_eq!(b1.size, 1);
    assert_eq!(
        store.range_news(&other_id(), 0, 1).await.unwrap(),
        RangeNews::FirstReceipt
    );

    // Alpha's mirror accepted beta's receipt-only checkpoint: an echo, logged but not
    // checkpointed, however long one waits.
    a.mine(vec![receipt_of(&b1)]);
    assert_eq!(
        checkpoint(source_id()).await,
        None,
        "a receipt of a receipt made a checkpoint"
    );
    assert_eq!(
        store
            .load_cursor(&source_id())
            .await
            .unwrap()
            .unwrap()
            .log_size,
        4,
        "the echo is logged"
    );
    assert_eq!(
        store.range_news(&source_id(), 3, 4).await.unwrap(),
        RangeNews::Echo
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(checkpoint(source_id()).await, None);

    // A receipt of a checkpoint this store never made (another relayer's, or forged) is
    // an echo too, and so is one whose digest does not match the checkpoint it names.
    let forged = Checkpoint {
        root: B256::repeat_byte(7),
        ..a1.clone()
    };
    b.mine(vec![receipt_of(&forged)]);
    b.mine(vec![FakeEvent::Receipt {
        source: source_id(),
        size: 99,
        root: B256::repeat_byte(9),
        source_block_hash: B256::repeat_byte(8),
    }]);
    assert_eq!(checkpoint(other_id()).await, None);
    assert_eq!(
        store.range_news(&other_id(), 1, 3).await.unwrap(),
        RangeNews::Echo
    );

    // New evidence on alpha: checkpointed, covering the echo before it.
    a.mine_anchors(1);
    let a2 = checkpoint(source_id())
        .await
        .expect("evidence after an echo is checkpointed");
    assert_eq!(a2.size, 5);

    // The status tells receipts from evidence.
    let status = store.status().await.unwrap();
    let of = |id: ChainId| status.iter().find(|s| s.chain == id).unwrap().clone();
    assert_eq!(
        (of(source_id()).log_size, of(source_id()).receipts_logged),
        (5, 1)
    );
    assert_eq!(
        (of(other_id()).log_size, of(other_id()).receipts_logged),
        (3, 3)
    );
    assert_eq!(
        store
            .count_logged_evidence_records(&source_id())
            .await
            .unwrap(),
        4
    );
    assert_eq!(store.count_evidence_records(&other_id()).await.unwrap(), 0);
    store.close().await;
}

both_backends!(receipts_of_evidence_are_checkpointed_receipts_of_receipts_are_not);
