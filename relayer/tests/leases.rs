//! Leases and fencing, on SQLite and PostgreSQL: the store's acquire/renew/expire/
//! take-over rules, fenced writes refused after a takeover, and two engines sharing
//! one database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use std::time::Duration;

use alloy::primitives::B256;
use common::*;
use evidence_adapters::BlockRef;
use evidence_relayer::{
    ClusterSettings, RelayerError, Store, lease::LeaseClock, stages::submit::SubmitOutcome,
    test_db::TestBackend,
};
use evidence_schemas::Checkpoint;

async fn lease_rules(db: TestBackend) {
    let w = World::new(db, 0).await;
    let store = w.store().await;
    let name = "chain:eip155:1";

    let a = store
        .acquire_lease(name, "a", 1000, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.epoch, a.expires_at), (1, 2000));
    // Held by a: b is refused, a renews (same epoch, later expiry).
    assert!(
        store
            .acquire_lease(name, "b", 1000, 1500)
            .await
            .unwrap()
            .is_none()
    );
    let a = store
        .acquire_lease(name, "a", 1000, 1500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.epoch, a.expires_at), (1, 2500));
    assert!(
        store
            .acquire_lease(name, "b", 1000, 2499)
            .await
            .unwrap()
            .is_none()
    );
    // Expired: b takes over and the epoch moves on.
    let b = store
        .acquire_lease(name, "b", 1000, 2500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.epoch, b.expires_at), (2, 3500));
    assert!(
        store
            .acquire_lease(name, "a", 1000, 2600)
            .await
            .unwrap()
            .is_none()
    );
    // Only the holder can release.
    store.release_lease(name, "a").await.unwrap();
    assert!(
        store
            .acquire_lease(name, "a", 1000, 2700)
            .await
            .unwrap()
            .is_none()
    );
    store.release_lease(name, "b").await.unwrap();
    let a = store
        .acquire_lease(name, "a", 1000, 2700)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.epoch, 3);
    // Leases are independent.
    let other = store
        .acquire_lease("submit:eip155:2", "b", 1000, 2700)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.epoch, 1);
    let rows = store.load_leases().await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.name.as_str(), r.holder.as_str(), r.epoch))
            .collect::<Vec<_>>(),
        vec![(name, "a", 3), ("submit:eip155:2", "b", 1)]
    );
}

fn block(number: u64) -> BlockRef {
    BlockRef {
        number,
        hash: B256::with_last_byte(number as u8),
        parent_hash: B256::ZERO,
        timestamp: 0,
    }
}

async fn fenced_writes_fail_after_a_takeover(db: TestBackend) {
    let w = World::new(db, 0).await;
    let store = w.store().await;
    let chain = source_id();
    store.save_cursor_init(&chain, "court", 1).await.unwrap();
    let name = "chain:eip155:31337";
    let now = 10_000;
    let a = store
        .acquire_lease(name, "a", 1000, now)
        .await
        .unwrap()
        .unwrap();
    let as_a = store.fenced(a.fence());
    as_a.save_fetched_batch(&chain, &block(5), &[], &[], None, 9)
        .await
        .unwrap();
    as_a.check_fence(&a.fence()).await.unwrap();
    assert_eq!(
        store.load_cursor(&chain).await.unwrap().unwrap().next_block,
        6
    );

    // a "pauses" past its TTL; b takes over and moves on.
    let b = store
        .acquire_lease(name, "b", 1000, now + 1000)
        .await
        .unwrap()
        .unwrap();
    let as_b = store.fenced(b.fence());
    as_b.save_fetched_batch(&chain, &block(7), &[], &[], None, 9)
        .await
        .unwrap();

    // a wakes up: every fenced write is refused and nothing is written.
    let err = as_a
        .save_fetched_batch(&chain, &block(6), &[], &[], None, 9)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RelayerError::LeaseLost { epoch: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("another instance took the work over")
    );
    let checkpoint = Checkpoint {
        source_chain: chain.clone(),
        size: 0,
        root: B256::repeat_byte(1),
        source_block_number: 5,
        source_block_hash: B256::repeat_byte(2),
    };
    assert!(matches!(
        as_a.insert_checkpoint(&checkpoint).await.unwrap_err(),
        RelayerError::LeaseLost { .. }
    ));
    assert!(matches!(
        as_a.mark_halted(&chain, "stale").await.unwrap_err(),
        RelayerError::LeaseLost { .. }
    ));
    let cursor = store.load_cursor(&chain).await.unwrap().unwrap();
    assert_eq!((cursor.next_block, cursor.halted_reason), (8, None));
    assert!(store.load_checkpoint(&chain, 0).await.unwrap().is_none());
    // Even if a re-acquires later, the old fence stays dead (new epoch).
    store.release_lease(name, "b").await.unwrap();
    let a2 = store
        .acquire_lease(name, "a", 1000, now + 5000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.epoch, 3);
    assert!(as_a.check_fence(&a.fence()).await.is_err());
    store
        .fenced(a2.fence())
        .insert_checkpoint(&checkpoint)
        .await
        .unwrap();
}

fn cluster(id: &str, ttl_ms: u64) -> ClusterSettings {
    ClusterSettings {
        instance_id: id.into(),
        lease_ttl: Duration::from_millis(ttl_ms),
        clock: LeaseClock::system(),
    }
}

async fn two_engines_share_the_work_and_hand_over(db: TestBackend) {
    let w = World::new(db, 0).await;
    w.chain.mine_anchors(4);
    w.chain.mine_anchors(3);
    // A long TTL (nothing waits for it: the clocks are moved), so a slow machine cannot
    // let a lease lapse between two steps of the test.
    let a_settings = cluster("a", 5_000);
    let a_clock = a_settings.clock.clone();
    let a = w
        .engine_with(w.store().await, w.chain.clone(), w.mirror.clone())
        .await
        .with_cluster(a_settings);
    let b_settings = cluster("b", 5_000);
    let b_clock = b_settings.clock.clone();
    let b = w
        .engine_with(
            Store::connect(&w.url).await.unwrap(),
            w.chain.clone(),
            w.mirror.clone(),
        )
        .await
        .with_cluster(b_settings);
    let chain = source_id();

    // a takes the chain and the destination; b stands by but follows the log.
    let out = a.tick_chain(&chain).await.unwrap();
    assert!(!out.standby);
    assert!(matches!(
        a.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Sent { size: 7 }
    ));
    let out = b.tick_index(&chain).await.unwrap();
    assert!(out.standby && out.caught_up && out.logged == 0);
    assert_eq!(b.logs().size(&chain).await.unwrap(), 7);
    assert_eq!(
        b.logs().root_at(&chain, 7).await.unwrap(),
        a.logs().root_at(&chain, 7).await.unwrap()
    );
    assert_eq!(b.tick_submit(&route()).await.unwrap(), SubmitOutcome::Idle);
    assert!(matches!(
        a.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Finished { size: 7, .. }
    ));

    // a stops (as if killed): after the TTL b takes both leases over.
    w.chain.mine_anchors(5);
    assert!(
        b.tick_index(&chain).await.unwrap().standby,
        "a's lease has not expired yet"
    );
    // The TTL passes on b's clock (no sleeping: a's renewals are what stopped).
    b_clock.advance(Duration::from_millis(5_100));
    let out = b.tick_chain(&chain).await.unwrap();
    assert!(!out.standby);
    assert_eq!(b.logs().size(&chain).await.unwrap(), 12);
    let (size, root) = expected_root(&w.chain, w.chain.head().number);
    assert_eq!(
        (size, b.logs().root_at(&chain, 12).await.unwrap()),
        (12, root)
    );
    while let SubmitOutcome::Sent { .. } = b.tick_submit(&route()).await.unwrap() {}
    assert!(matches!(
        b.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Finished { size: 12, .. } | SubmitOutcome::Idle
    ));
    // a comes back after the pause: it stands by and catches its log up from the store.
    a_clock.advance(Duration::from_millis(5_100));
    assert!(a.tick_index(&chain).await.unwrap().standby);
    assert_eq!(a.tick_submit(&route()).await.unwrap(), SubmitOutcome::Idle);
    assert_eq!(a.logs().size(&chain).await.unwrap(), 12);
    // Each checkpoint went to the mirror once.
    assert_eq!(w.mirror.accepted(&chain), vec![7, 12]);
    let store = a.store();
    assert_eq!(
        store.count_confirmed_submissions(&route()).await.unwrap(),
        2
    );
    let leases = store.load_leases().await.unwrap();
    assert!(
        leases.iter().all(|l| l.holder == "b" && l.epoch == 2),
        "{leases:?}"
    );
}

async fn read_only_store_reads_and_refuses_writes(db: TestBackend) {
    // An empty database is not a relayer store: read-only opening runs no migration.
    let empty = evidence_relayer::test_db::TestDb::create(db).await;
    if db == TestBackend::Sqlite {
        // Create the file without the schema.
        Store::connect(&empty.url).await.unwrap();
        let e = Store::connect_read_only(&empty.url.replace("relayer.db", "none.db"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("cannot open database"), "{e}");
    } else {
        let e = Store::connect_read_only(&empty.url).await.unwrap_err();
        assert!(e.to_string().contains("run `bridge run` once"), "{e}");
    }
    let e = Store::connect("mysql://u:secret@h/db").await.unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("`sqlite:`") && shown.contains("`postgres:`") && !shown.contains("secret"),
        "{shown}"
    );
    let w = World::new(db, 0).await;
    let store = w.store().await;
    store
        .save_cursor_init(&source_id(), "court", 3)
        .await
        .unwrap();
    let ro = Store::connect_read_only(&w.url).await.unwrap();
    assert_eq!(ro.load_cursors().await.unwrap().len(), 1);
    assert!(
        ro.save_head(&source_id(), 5).await.is_err(),
        "a read-only store refuses writes"
    );
    assert!(ro.acquire_lease("chain:x", "a", 1000, 1).await.is_err());
    assert!(store.save_head(&source_id(), 5).await.is_ok());
}

both_backends!(
    read_only_store_reads_and_refuses_writes,
    lease_rules,
    fenced_writes_fail_after_a_takeover,
    two_engines_share_the_work_and_hand_over,
);
