//! The whole pipeline over a fake chain and a fake mirror.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use std::time::Duration;

use common::*;
use evidence_adapters::{MirrorReader, MirrorSubmitter};
use evidence_relayer::test_db::TestBackend;
use evidence_relayer::{
    RecordState, SubmissionState, stages::submit::SubmitOutcome, testing::FakeEvent,
};
use evidence_schemas::log::{verify_consistency, verify_record_inclusion};

async fn records_flow_to_the_mirror_and_prove(db: TestBackend) {
    let w = World::new(db, 2).await;
    let digests = w.chain.mine_anchors(5);
    w.chain.mine_anchors(4);
    w.chain.mine_empty(2);
    let pending_digest = w.chain.mine_anchors(1)[0];
    let engine = w.engine().await;
    let store = engine.store().clone();

    engine.tick_once().await.unwrap();
    let (size, root) = expected_root(&w.chain, w.chain.head().number - 2);
    assert_eq!(size, 9);
    assert_eq!(engine.logs().root_at(&source_id(), 9).await.unwrap(), root);
    assert_eq!(w.mirror.accepted(&source_id()), vec![9]);
    assert_eq!(
        store.count_confirmed_submissions(&route()).await.unwrap(),
        1
    );
    assert_eq!(store.count_records(&source_id()).await.unwrap(), 10);

    // The newest record waits for confirmations.
    let views = store.lookup_digest(pending_digest).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].state, RecordState::PendingConfirmation);
    assert!(views[0].mirrored_on.is_empty());

    // A logged record is checkpointed, mirrored and provable.
    let views = store.lookup_digest(digests[2]).await.unwrap();
    assert_eq!(views.len(), 1);
    let view = &views[0];
    assert_eq!(view.chain_name, "court");
    assert_eq!(
        view.state,
        RecordState::Checkpointed {
            leaf_index: 2,
            checkpoint_size: 9
        }
    );
    assert_eq!(view.mirrored_on.len(), 1);
    assert_eq!(view.mirrored_on[0].destination_chain, dest_id());
    assert!(view.mirrored_on[0].tx_hash.is_some());

    let state = w.mirror.fetch_state(&source_id()).await.unwrap();
    let bundle = store
        .build_proof_bundle(view.record_id, &dest_id(), &state, w.mirror.mirror())
        .await
        .unwrap();
    let signers = bundle.verify_offline().unwrap();
    assert!(signers.len() >= 2);
    // The bundle's proof is read from the stored tiles: the same as the reference tree
    // over the first `size` leaves.
    let ids = store
        .load_leaf_ids(&source_id(), Some(bundle.checkpoint.size))
        .await
        .unwrap();
    let reference = evidence_schemas::log::MerkleLog::from_record_ids(&ids);
    assert_eq!(
        bundle.inclusion_proof,
        reference
            .inclusion_proof(bundle.leaf_index, bundle.checkpoint.size)
            .unwrap()
    );
    verify_record_inclusion(
        &view.record_id,
        bundle.leaf_index,
        bundle.checkpoint.size,
        &bundle.inclusion_proof,
        &root,
    )
    .unwrap();
    assert!(
        w.mirror
            .verify_record(
                &source_id(),
                9,
                view.record_id,
                bundle.leaf_index,
                &bundle.inclusion_proof
            )
            .await
            .unwrap()
    );
    let json = serde_json::to_string(&bundle).unwrap();
    let back: evidence_schemas::ProofBundle = serde_json::from_str(&json).unwrap();
    back.verify_offline().unwrap();

    // Pending record: no bundle yet, with a message saying so.
    let pending = store.lookup_digest(pending_digest).await.unwrap()[0].record_id;
    let err = store
        .build_proof_bundle(pending, &dest_id(), &state, w.mirror.mirror())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pending confirmation"), "{err}");

    // More records: the second checkpoint extends the first (consistency proof).
    w.chain.mine_anchors(3);
    w.chain.mine_empty(2);
    engine.tick_once().await.unwrap();
    assert_eq!(w.mirror.accepted(&source_id()), vec![9, 13]);
    let (_, root13) = expected_root(&w.chain, w.chain.head().number - 2);
    let proof = engine
        .logs()
        .consistency_proof(&source_id(), 9, 13)
        .await
        .unwrap();
    verify_consistency(9, 13, &root, &root13, &proof).unwrap();
    assert_eq!(w.mirror.duplicate_submissions(), 0);

    let status = store.status().await.unwrap();
    assert_eq!(status.len(), 1);
    let s = &status[0];
    assert_eq!(s.log_size, 13);
    assert_eq!(s.halted, None);
    assert_eq!(s.last_checkpoint.as_ref().map(|c| c.size), Some(13));
    assert_eq!(s.destinations.len(), 1);
    assert_eq!(s.destinations[0].last_confirmed_size, Some(13));
    assert_eq!(
        s.destinations[0].last_submission.as_ref().map(|x| x.state),
        Some(SubmissionState::Confirmed)
    );
}

async fn restart_before_every_step_loses_nothing_and_submits_once(db: TestBackend) {
    let w = World::new(db, 1).await;
    w.mirror.set_auto_mine(false);
    for round in 0..6 {
        w.chain.mine_anchors(round % 3 + 1);
        w.chain.mine_empty(1);
        // One stage per fresh engine, i.e. a restart between every two steps.
        w.engine().await.tick_index(&source_id()).await.unwrap();
        w.engine().await.tick_index(&source_id()).await.unwrap();
        w.engine()
            .await
            .tick_checkpoint(&source_id())
            .await
            .unwrap();
        w.engine().await.tick_attest(&source_id()).await.unwrap();
        // prepare + send, then restart, then poll (not mined: pending), mine, restart, poll.
        let first = w.engine().await.tick_submit(&route()).await.unwrap();
        assert!(
            matches!(first, SubmitOutcome::Sent { .. }),
            "round {round}: {first:?}"
        );
        let again = w.engine().await.tick_submit(&route()).await.unwrap();
        assert!(
            matches!(again, SubmitOutcome::Pending { .. }),
            "round {round}: {again:?}"
        );
        w.mirror.mine();
        let done = w.engine().await.tick_submit(&route()).await.unwrap();
        assert!(
            matches!(
                done,
                SubmitOutcome::Finished {
                    state: SubmissionState::Confirmed,
                    ..
                }
            ),
            "round {round}: {done:?}"
        );
    }
    let (size, root) = expected_root(&w.chain, w.chain.head().number - 1);
    let engine = w.engine().await;
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), size);
    assert_eq!(
        engine.logs().root_at(&source_id(), size).await.unwrap(),
        root
    );
    let accepted = w.mirror.accepted(&source_id());
    assert_eq!(accepted.len(), 6);
    assert!(accepted.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(*accepted.last().unwrap(), size);
    assert_eq!(w.mirror.duplicate_submissions(), 0);
    assert!(w.mirror.reverted().is_empty(), "{:?}", w.mirror.reverted());
    assert_eq!(
        engine
            .store()
            .count_confirmed_submissions(&route())
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        engine.store().count_records(&source_id()).await.unwrap(),
        size
    );
}

/// Three records checkpointed, a submission prepared and its broadcast failed, the
/// engine gone (a crash after the transaction was stored): the live `prepared` row.
async fn crash_after_prepare(w: &World) -> evidence_relayer::store::Submission {
    w.chain.mine_anchors(3);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    w.mirror.fail_next_sends(1);
    assert!(engine.tick_submit(&route()).await.is_err());
    drop(engine);
    let live = w
        .store()
        .await
        .load_live_submission(&route())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.state, SubmissionState::Prepared);
    live
}

async fn crash_after_prepare_resends_the_same_bytes(db: TestBackend) {
    let w = World::new(db, 0).await;
    let live = crash_after_prepare(&w).await;
    let engine = w.engine().await;
    let out = engine.tick_submit(&route()).await.unwrap();
    assert_eq!(out, SubmitOutcome::Sent { size: 3 });
    let out = engine.tick_submit(&route()).await.unwrap();
    assert_eq!(
        out,
        SubmitOutcome::Finished {
            size: 3,
            state: SubmissionState::Confirmed
        }
    );
    let sub = engine
        .store()
        .load_last_confirmed_submission(&route())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sub.tx.unwrap().id,
        live.tx.unwrap().id,
        "the stored transaction is the one sent"
    );
    assert_eq!(w.mirror.accepted(&source_id()), vec![3]);
}

/// The e2e_cluster failure: an instance prepared and broadcast a submission, and died
/// before marking it sent; the mirror mined it. The instance that takes over must record
/// it as confirmed with its transaction and block (it was marked "superseded" and later
/// "observed" with the dead instance's transaction hash but no block, so bundles named
/// a mined transaction with no block and online verification failed `mirror_tx`).
async fn sent_before_a_crash_and_mined_is_confirmed_with_its_block(db: TestBackend) {
    let w = World::new(db, 0).await;
    let live = crash_after_prepare(&w).await;
    // The dead process's broadcast did reach the node, and was mined.
    let tx = live.tx.clone().unwrap();
    w.mirror.send_raw(&tx).await.unwrap();
    w.mirror.mine();
    assert_eq!(w.mirror.accepted(&source_id()), vec![3]);
    let engine = w.engine().await;
    let out = engine.tick_submit(&route()).await.unwrap();
    assert_eq!(
        out,
        SubmitOutcome::Finished {
            size: 3,
            state: SubmissionState::Confirmed
        }
    );
    let sub = engine
        .store()
        .load_last_confirmed_submission(&route())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.state, SubmissionState::Confirmed);
    assert_eq!(sub.tx.map(|t| t.id), Some(tx.id));
    assert!(
        sub.mined_block.is_some(),
        "the block that accepted it is recorded"
    );
    // Nothing is sent again, and later steps leave it be.
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Idle
    );
    assert_eq!(w.mirror.duplicate_submissions(), 0);
}

async fn the_log_is_deterministic(db: TestBackend) {
    let w = World::new(db, 1).await;
    for i in 0..8 {
        w.chain.mine_anchors(i % 4);
    }
    w.chain.mine(vec![FakeEvent::Malformed {
        reason: "bad topic".into(),
    }]);
    w.chain.mine_anchors(2);
    w.chain.mine_empty(1);
    let a = w.engine().await;
    let other = evidence_relayer::test_db::TestDb::create(db).await;
    let url_b = other.url.clone();
    let b = w
        .engine_with(
            evidence_relayer::Store::connect(&url_b).await.unwrap(),
            w.chain.clone(),
            w.mirror.clone(),
        )
        .await;
    a.tick_chain(&source_id()).await.unwrap();
    b.tick_chain(&source_id()).await.unwrap();
    let (size, root) = expected_root(&w.chain, w.chain.head().number - 1);
    for e in [&a, &b] {
        assert_eq!(e.logs().size(&source_id()).await.unwrap(), size);
        for s in 1..=size {
            assert_eq!(
                e.logs().root_at(&source_id(), s).await.unwrap(),
                a.logs().root_at(&source_id(), s).await.unwrap()
            );
        }
        assert_eq!(e.logs().root_at(&source_id(), size).await.unwrap(), root);
        let cp = e
            .store()
            .load_last_checkpoint(&source_id())
            .await
            .unwrap()
            .unwrap()
            .0;
        assert_eq!((cp.size, cp.root), (size, root));
    }
    assert_eq!(
        a.store()
            .load_quarantined(&source_id(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn revokes_are_logged_and_checked(db: TestBackend) {
    let w = World::new(db, 0).await;
    let digest = w.chain.mine_anchors(1)[0];
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    let anchor = engine.store().lookup_digest(digest).await.unwrap()[0].record_id;
    let other = alloy::primitives::Address::repeat_byte(9);
    w.chain.mine(vec![
        FakeEvent::Revoke {
            reference: anchor,
            submitter: other,
        },
        FakeEvent::Revoke {
            reference: alloy::primitives::B256::repeat_byte(7),
            submitter: evidence_relayer::testing::DEFAULT_SUBMITTER,
        },
        FakeEvent::Revoke {
            reference: anchor,
            submitter: evidence_relayer::testing::DEFAULT_SUBMITTER,
        },
    ]);
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(
        engine.logs().size(&source_id()).await.unwrap(),
        4,
        "invalid revokes are still chain data, so logged"
    );
    let records = w.chain.records(w.chain.head().number);
    let flags: Vec<bool> = {
        let mut v = Vec::new();
        for r in &records[1..] {
            v.push(
                engine
                    .store()
                    .load_record(r.record_id())
                    .await
                    .unwrap()
                    .unwrap()
                    .invalid_ref,
            );
        }
        v
    };
    assert_eq!(flags, vec![true, true, false]);
    let view = engine.store().load_record(anchor).await.unwrap().unwrap();
    assert_eq!(view.revoked_by, Some(records[3].record_id()));
}

async fn run_loop_retries_and_mirrors(db: TestBackend) {
    let w = World::new(db, 1).await;
    w.chain.mine_anchors(4);
    w.chain.mine_empty(1);
    w.chain.fail_next_calls(3);
    w.mirror.fail_next_calls(2);
    let engine = w.engine().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(engine.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while w.mirror.accepted(&source_id()).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing mirrored in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    handle.await.unwrap().unwrap();
    assert_eq!(w.mirror.accepted(&source_id()), vec![4]);
}

both_backends!(
    records_flow_to_the_mirror_and_prove,
    restart_before_every_step_loses_nothing_and_submits_once,
    crash_after_prepare_resends_the_same_bytes,
    sent_before_a_crash_and_mined_is_confirmed_with_its_block,
    the_log_is_deterministic,
    revokes_are_logged_and_checked,
    run_loop_retries_and_mirrors,
);
