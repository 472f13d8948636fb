//! The per-process cache of the mirrors list (relayer/src/store/mirrors.rs) never
//! hides a mirror and never invents one: another process (its own `Store`, its own
//! cache) mirrors a route's first checkpoint, adds a destination, mirrors a newer
//! checkpoint or only prepares a submission, and a lookup through a store whose cache
//! was filled before each change shows exactly what is mirrored. The round-trip
//! receipts a lookup finds through its guessed receipt digests are the ones a store
//! without guesses finds by computing them. On both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use std::{sync::Arc, time::Duration};

use alloy::primitives::B256;
use common::*;
use evidence_adapters::PreparedSubmission;
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, Route, Store,
    query::{RecordState, RecordView},
    test_db::{TestBackend, TestDb},
    testing::{FakeChain, FakeEvent},
};
use evidence_schemas::{ChainId, Checkpoint};

/// `(destination, checkpoint size)` of every mirror the lookup of `digest` shows.
async fn mirrors(store: &Store, digest: B256) -> Vec<(ChainId, u64)> {
    let views = store.lookup_digest(digest).await.unwrap();
    assert_eq!(views.len(), 1, "one record has the digest");
    views[0]
        .mirrored_on
        .iter()
        .map(|m| (m.destination_chain.clone(), m.checkpoint_size))
        .collect()
}

async fn generation(url: &str) -> i64 {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let n = sqlx::query_scalar("SELECT n FROM mirrors_generation WHERE id = 0")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// Ticks the engine's route until the mirror accepted checkpoint `size`.
async fn mirror_through(engine: &Engine, size: u64) {
    for _ in 0..20 {
        engine.tick_submit(&route()).await.unwrap();
        let done = engine
            .store()
            .load_last_confirmed_submission(&route())
            .await
            .unwrap()
            .is_some_and(|s| s.size == size);
        if done {
            return;
        }
    }
    panic!("checkpoint {size} was not mirrored");
}

async fn a_cached_mirrors_list_follows_every_other_process(db: TestBackend) {
    let w = World::new(db, 0).await;
    let digests = w.chain.mine_anchors(2);
    // The writing process: indexes, checkpoints, attests and submits.
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    assert!(
        engine
            .store()
            .load_checkpoint(&source_id(), 2)
            .await
            .unwrap()
            .is_some()
    );
    // The reading process (`bridge serve`): its cache is filled by this lookup.
    let reader = w.store().await;
    assert_eq!(mirrors(&reader, digests[0]).await, vec![]);
    assert_eq!(generation(&w.url).await, 0);

    // The route's first checkpoint mirrored by the other process (confirmed).
    mirror_through(&engine, 2).await;
    assert_eq!(generation(&w.url).await, 1, "a first mirrored checkpoint");
    assert_eq!(mirrors(&reader, digests[0]).await, vec![(dest_id(), 2)]);

    // A newer checkpoint mirrored: the list is unchanged, the newest is read live.
    let more = w.chain.mine_anchors(2);
    engine.tick_chain(&source_id()).await.unwrap();
    mirror_through(&engine, 4).await;
    assert_eq!(generation(&w.url).await, 1, "the list did not change");
    assert_eq!(mirrors(&reader, digests[0]).await, vec![(dest_id(), 4)]);
    assert_eq!(mirrors(&reader, more[1]).await, vec![(dest_id(), 4)]);

    // A mirror added on another destination, seen there by another submitter
    // (observed) — written by a third process.
    let third = w.store().await;
    let other = ChainId::eip155(31339);
    third
        .save_observed(&Route::new(source_id(), other.clone()), 2)
        .await
        .unwrap();
    assert_eq!(generation(&w.url).await, 2, "a mirror added");
    assert_eq!(
        mirrors(&reader, digests[0]).await,
        vec![(dest_id(), 4), (other.clone(), 2)]
    );
    // Its newer checkpoint: a record beyond size 2 is provable there only now.
    assert_eq!(mirrors(&reader, more[1]).await, vec![(dest_id(), 4)]);
    third
        .save_observed(&Route::new(source_id(), other.clone()), 4)
        .await
        .unwrap();
    assert_eq!(generation(&w.url).await, 2);
    assert_eq!(
        mirrors(&reader, more[1]).await,
        vec![(dest_id(), 4), (other.clone(), 4)]
    );

    // A destination with only a prepared submission mirrors nothing: not shown, and
    // the list's generation does not move.
    let fourth = ChainId::eip155(31340);
    let payload = engine
        .store()
        .load_submission(&route(), 4)
        .await
        .unwrap()
        .unwrap()
        .payload
        .unwrap();
    third
        .save_prepared(
            &Route::new(source_id(), fourth),
            4,
            &payload,
            &PreparedSubmission {
                id: B256::repeat_byte(7),
                payload: vec![1u8, 2, 3].into(),
                summary: "never sent".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(generation(&w.url).await, 2);
    let fresh = w.store().await;
    for store in [&reader, &fresh] {
        assert_eq!(
            mirrors(store, more[1]).await,
            vec![(dest_id(), 4), (other.clone(), 4)]
        );
    }
    // An unknown digest: no records, whatever the cache.
    assert!(
        reader
            .lookup_digest(B256::repeat_byte(0xee))
            .await
            .unwrap()
            .is_empty()
    );
}

fn other_id() -> ChainId {
    ChainId::eip155(31339)
}

/// An engine indexing and checkpointing `a` and `b` (no routes: mirroring is written
/// as `observed` submissions, as when another relayer submitted).
async fn two_chains(store: Store, a: &Arc<FakeChain>, b: &Arc<FakeChain>) -> Engine {
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

async fn checkpoint(engine: &Engine, chain: &ChainId) -> Checkpoint {
    engine.tick_index(chain).await.unwrap();
    engine
        .tick_checkpoint(chain)
        .await
        .unwrap()
        .expect("a checkpoint")
}

fn receipt_of(cp: &Checkpoint) -> FakeEvent {
    FakeEvent::Receipt {
        source: cp.source_chain.clone(),
        size: cp.size,
        root: cp.root,
        source_block_hash: cp.source_block_hash,
    }
}

/// The lookup of `digest` through `reader` (whose guesses come from its earlier
/// lookups), checked against a freshly opened store's (no guesses: every receipt read
/// by its computed digest), twice (the second with the guesses the first made).
async fn lookup_checked(url: &str, reader: &Store, digest: B256) -> Vec<RecordView> {
    let seen = reader.lookup_digest(digest).await.unwrap();
    let fresh = Store::connect(url).await.unwrap();
    assert_eq!(fresh.lookup_digest(digest).await.unwrap(), seen);
    assert_eq!(fresh.lookup_digest(digest).await.unwrap(), seen);
    assert_eq!(reader.lookup_digest(digest).await.unwrap(), seen);
    fresh.close().await;
    seen
}

async fn guessed_receipts_are_the_computed_ones(db: TestBackend) {
    let db = TestDb::create(db).await;
    let store = Store::connect(&db.url).await.unwrap();
    let (a, b) = (FakeChain::new(source_id()), FakeChain::new(other_id()));
    let engine = two_chains(store.clone(), &a, &b).await;
    let (ab, ba) = (
        Route::new(source_id(), other_id()),
        Route::new(other_id(), source_id()),
    );
    let digest = a.mine_anchors(1)[0];
    let a1 = checkpoint(&engine, &source_id()).await;
    store.save_observed(&ab, a1.size).await.unwrap();

    // Mirrored on beta, whose receipt is not indexed yet.
    let v = lookup_checked(&db.url, &store, digest).await;
    assert_eq!(v[0].mirrored_on.len(), 1);
    assert_eq!(v[0].mirrored_on[0].checkpoint_size, 1);
    assert_eq!(v[0].mirrored_on[0].receipt, None);

    // Beta's receipt logged and checkpointed: found with the guess made above.
    b.mine(vec![receipt_of(&a1)]);
    let b1 = checkpoint(&engine, &other_id()).await;
    let v = lookup_checked(&db.url, &store, digest).await;
    let receipt = v[0].mirrored_on[0].receipt.clone().expect("the receipt");
    assert_eq!(
        receipt.state,
        RecordState::Checkpointed {
            leaf_index: 0,
            checkpoint_size: 1
        }
    );
    assert!(receipt.provable_on.is_empty());

    // Beta's checkpoint mirrored back on alpha: the receipt is provable there.
    store.save_observed(&ba, b1.size).await.unwrap();
    let v = lookup_checked(&db.url, &store, digest).await;
    let receipt = v[0].mirrored_on[0].receipt.clone().expect("the receipt");
    assert_eq!(receipt.provable_on.len(), 1);
    assert_eq!(receipt.provable_on[0].destination_chain, source_id());

    // A newer checkpoint of alpha mirrored: the guess is outdated, the new checkpoint's
    // receipt (none yet) is read by its digest; then its receipt arrives.
    let later = a.mine_anchors(1)[0];
    let a2 = checkpoint(&engine, &source_id()).await;
    store.save_observed(&ab, a2.size).await.unwrap();
    for d in [digest, later] {
        let v = lookup_checked(&db.url, &store, d).await;
        assert_eq!(v[0].mirrored_on[0].checkpoint_size, 2);
        assert_eq!(v[0].mirrored_on[0].receipt, None);
    }
    b.mine(vec![receipt_of(&a2)]);
    checkpoint(&engine, &other_id()).await;
    let v = lookup_checked(&db.url, &store, later).await;
    let receipt = v[0].mirrored_on[0]
        .receipt
        .clone()
        .expect("the new receipt");
    assert_eq!(receipt.state.leaf_index(), Some(1));
    // Beta's newest mirrored checkpoint (size 1) does not cover it.
    assert!(receipt.provable_on.is_empty());
    store.close().await;
}

both_backends!(
    a_cached_mirrors_list_follows_every_other_process,
    guessed_receipts_are_the_computed_ones
);
