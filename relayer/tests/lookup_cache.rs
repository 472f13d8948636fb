//! The per-process cache of the mirrors list (relayer/src/store/mirrors.rs) never
//! hides a mirror and never invents one: another process (its own `Store`, its own
//! cache) mirrors a route's first checkpoint, adds a destination, mirrors a newer
//! checkpoint or only prepares a submission, and a lookup through a store whose cache
//! was filled before each change shows exactly what is mirrored. On both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use alloy::primitives::B256;
use common::*;
use evidence_adapters::PreparedSubmission;
use evidence_relayer::{Engine, Route, Store, test_db::TestBackend};
use evidence_schemas::ChainId;

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

both_backends!(a_cached_mirrors_list_follows_every_other_process);
