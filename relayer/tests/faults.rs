//! Reorgs, dropped transactions, other submitters.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use common::*;
use evidence_adapters::MirrorReader;
use evidence_relayer::test_db::TestBackend;
use evidence_relayer::{SubmissionState, stages::submit::SubmitOutcome, testing::FakeEvent};
use evidence_schemas::SignedCheckpoint;

async fn reorg_within_confirmations_leaves_no_orphan(db: TestBackend) {
    let w = World::new(db, 3).await;
    w.chain.mine_anchors(2); // block 1
    w.chain.mine_empty(3); // 2..4: block 1 confirmed
    w.chain.mine_anchors(3); // 5, pending
    w.chain.mine_anchors(1); // 6, pending
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), 2);
    assert_eq!(engine.store().count_records(&source_id()).await.unwrap(), 6);
    let orphans: Vec<_> = w
        .chain
        .records(6)
        .iter()
        .skip(2)
        .map(|r| r.record_id())
        .collect();

    w.chain.reorg(
        2,
        vec![
            vec![],
            vec![FakeEvent::Anchor {
                digest: alloy::primitives::B256::repeat_byte(3),
                submitter: alloy::primitives::Address::ZERO,
            }],
            vec![],
        ],
    );
    let out = engine.tick_index(&source_id()).await.unwrap();
    assert_eq!(out.rewound_to, Some(4), "confirmed tip was block 3");
    w.chain.mine_empty(3);
    engine.tick_once().await.unwrap();

    let (size, root) = expected_root(&w.chain, w.chain.head().number - 3);
    assert_eq!(size, 3);
    assert_eq!(
        engine.logs().root_at(&source_id(), size).await.unwrap(),
        root
    );
    for id in orphans {
        assert!(
            engine.store().load_record(id).await.unwrap().is_none(),
            "orphan {id} kept"
        );
    }
    assert_eq!(engine.store().count_records(&source_id()).await.unwrap(), 3);
    assert_eq!(w.mirror.accepted(&source_id()), vec![3]);
    assert!(engine.store().status().await.unwrap()[0].halted.is_none());
}

async fn deep_reorg_halts_the_chain_and_keeps_the_log(db: TestBackend) {
    let w = World::new(db, 1).await;
    w.chain.mine_anchors(2);
    w.chain.mine_anchors(2);
    w.chain.mine_empty(1);
    let engine = w.engine().await;
    engine.tick_once().await.unwrap();
    assert_eq!(w.mirror.accepted(&source_id()), vec![4]);
    let root = engine.logs().root_at(&source_id(), 4).await.unwrap();

    w.chain.reorg(3, vec![vec![], vec![], vec![], vec![]]);
    let out = engine.tick_index(&source_id()).await.unwrap();
    assert!(out.halted);
    let status = engine.store().status().await.unwrap();
    let reason = status[0].halted.clone().unwrap();
    assert!(reason.contains("logged records"), "{reason}");

    w.chain.mine_anchors(5);
    w.chain.mine_empty(2);
    engine.tick_once().await.unwrap();
    let again = w.engine().await;
    again.tick_once().await.unwrap();
    assert_eq!(again.logs().size(&source_id()).await.unwrap(), 4);
    assert_eq!(again.logs().root_at(&source_id(), 4).await.unwrap(), root);
    assert_eq!(
        again
            .store()
            .load_last_checkpoint(&source_id())
            .await
            .unwrap()
            .unwrap()
            .0
            .size,
        4
    );
    assert_eq!(
        again.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Halted
    );
    assert_eq!(w.mirror.accepted(&source_id()), vec![4]);
}

async fn shallow_reorg_of_confirmed_empty_blocks_rewinds(db: TestBackend) {
    // Blocks past the confirmation depth changed, but none held logged records.
    let w = World::new(db, 1).await;
    w.chain.mine_anchors(1);
    w.chain.mine_empty(4);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    w.chain.reorg(
        3,
        vec![
            vec![FakeEvent::Anchor {
                digest: alloy::primitives::B256::repeat_byte(1),
                submitter: alloy::primitives::Address::ZERO,
            }],
            vec![],
            vec![],
        ],
    );
    engine.tick_chain(&source_id()).await.unwrap();
    engine.tick_chain(&source_id()).await.unwrap();
    let (size, root) = expected_root(&w.chain, w.chain.head().number - 1);
    assert_eq!(size, 2);
    assert_eq!(engine.logs().root_at(&source_id(), 2).await.unwrap(), root);
    assert!(engine.store().status().await.unwrap()[0].halted.is_none());
}

async fn a_dropped_transaction_is_replaced(db: TestBackend) {
    let mut w = World::new(db, 0).await;
    w.settings.tx_timeout = std::time::Duration::ZERO;
    w.mirror.set_auto_mine(false);
    w.chain.mine_anchors(3);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Sent { size: 3 }
    );
    let before = w.mirror.mempool();
    assert_eq!(before.len(), 1);
    w.mirror.drop_mempool();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Replaced { size: 3 }
    );
    let after = w.mirror.mempool();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, before[0].0, "same nonce");
    assert!(after[0].2 > before[0].2, "higher fee");
    assert_ne!(after[0].1, before[0].1);
    w.mirror.mine();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
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
    assert_eq!(sub.attempts, 2);
    assert_eq!(sub.prior_tx_hashes, vec![before[0].1]);
    assert_eq!(w.mirror.accepted(&source_id()), vec![3]);
}

async fn a_nonce_used_elsewhere_starts_over(db: TestBackend) {
    let w = World::new(db, 0).await;
    w.mirror.set_auto_mine(false);
    w.chain.mine_anchors(2);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Sent { size: 2 }
    );
    w.mirror.use_nonce_elsewhere();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Finished {
            size: 2,
            state: SubmissionState::Failed
        }
    );
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Sent { size: 2 }
    );
    w.mirror.mine();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Finished {
            size: 2,
            state: SubmissionState::Confirmed
        }
    );
    assert_eq!(w.mirror.accepted(&source_id()), vec![2]);
}

async fn another_submitter_is_observed_not_duplicated(db: TestBackend) {
    let w = World::new(db, 0).await;
    w.chain.mine_anchors(3);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    // Another relayer (same attestors) submits our checkpoint first.
    let cp = engine
        .store()
        .load_last_checkpoint(&source_id())
        .await
        .unwrap()
        .unwrap()
        .0;
    let mut sigs = engine
        .store()
        .load_signatures(&source_id(), 3, &dest_id(), &w.mirror.mirror())
        .await
        .unwrap();
    sigs.truncate(2);
    w.mirror
        .submit_externally(
            &SignedCheckpoint {
                checkpoint: cp,
                signatures: sigs,
            },
            &[],
        )
        .unwrap();
    assert_eq!(
        engine.tick_submit(&route()).await.unwrap(),
        SubmitOutcome::Idle
    );
    assert_eq!(w.mirror.duplicate_submissions(), 0);
    let status = engine.store().status().await.unwrap();
    assert_eq!(status[0].destinations[0].last_confirmed_size, Some(3));
    assert_eq!(
        status[0].destinations[0]
            .last_submission
            .as_ref()
            .unwrap()
            .state,
        SubmissionState::Observed
    );
    // Proofs work from the observed checkpoint.
    let id = w.chain.records(1)[0].record_id();
    let state = w.mirror.fetch_state(&source_id()).await.unwrap();
    let bundle = engine
        .store()
        .build_proof_bundle(id, &dest_id(), &state, w.mirror.mirror())
        .await
        .unwrap();
    bundle.verify_offline().unwrap();
    assert_eq!(bundle.destination.mirror_tx, None);
}

/// A mirror holding a root our log does not have stops its route (a fatal error,
/// returned once, then `Stopped`), raises the alarm, and leaves the other route from
/// the same chain submitting.
async fn a_diverged_mirror_stops_its_route_and_not_another(db: TestBackend) {
    use alloy::signers::SignerSync;
    use evidence_relayer::{Engine, RelayerError, Route, RouteRuntime, store::AlarmKind};
    use evidence_schemas::{ChainId, Checkpoint, checkpoint::AttestorSignature};

    let w = World::new(db, 1).await;
    let other_id = ChainId::eip155(31339);
    let other = evidence_relayer::testing::FakeMirror::new(
        31339,
        alloy::primitives::Address::repeat_byte(0xbb),
    );
    other.set_attestors(
        &source_id(),
        attestors().iter().map(|s| s.address()).collect(),
        2,
    );
    w.chain.mine_anchors(2); // block 1
    w.chain.mine_anchors(1); // block 2
    w.chain.mine_empty(1); // block 3: blocks 1 and 2 confirmed, log size 3
    // Someone got a false checkpoint of size 2 accepted by the first mirror.
    let false_checkpoint = Checkpoint {
        source_chain: source_id(),
        size: 2,
        root: alloy::primitives::B256::repeat_byte(0xee),
        source_block_number: 1,
        source_block_hash: alloy::primitives::B256::repeat_byte(0x01),
    };
    let hash = false_checkpoint.signing_hash(&w.mirror.domain());
    let mut signatures: Vec<AttestorSignature> = attestors()
        .iter()
        .map(|k| AttestorSignature {
            attestor: k.address(),
            signature: k.sign_hash_sync(&hash).unwrap().as_bytes().to_vec().into(),
        })
        .collect();
    signatures.sort_by_key(|s| s.attestor);
    w.mirror
        .submit_externally(
            &SignedCheckpoint {
                checkpoint: false_checkpoint,
                signatures,
            },
            &[],
        )
        .unwrap();

    let chains = vec![w.chain_runtime(w.chain.clone())];
    let routes = vec![
        RouteRuntime {
            source_chain: source_id(),
            destination_chain: dest_id(),
            domain: w.mirror.domain(),
            mirror: w.mirror.clone(),
        },
        RouteRuntime {
            source_chain: source_id(),
            destination_chain: other_id.clone(),
            domain: other.domain(),
            mirror: other.clone(),
        },
    ];
    let engine = Engine::new(
        w.store().await,
        chains,
        routes,
        attestors(),
        w.settings.clone(),
    )
    .await
    .unwrap();
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), 3);

    let diverged = route();
    let healthy = Route::new(source_id(), other_id);
    let err = engine.tick_submit(&diverged).await.unwrap_err();
    assert!(
        matches!(err, RelayerError::MirrorDiverged { size: 2, .. }) && err.is_fatal(),
        "{err}"
    );
    // Stopped for good: not retried, nothing submitted.
    for _ in 0..3 {
        assert_eq!(
            engine.tick_submit(&diverged).await.unwrap(),
            SubmitOutcome::Stopped
        );
    }
    assert!(
        engine
            .stopped_reason(&diverged)
            .is_some_and(|r| r.contains("diverged")),
        "{:?}",
        engine.stopped_routes()
    );
    // The other route goes on, and so does the whole engine.
    engine.tick_once().await.unwrap();
    assert_eq!(other.accepted(&source_id()), vec![3]);
    assert_eq!(
        w.mirror.accepted(&source_id()),
        vec![2],
        "only the false one"
    );
    assert_eq!(engine.stopped_routes().len(), 1);
    assert_eq!(
        engine.tick_submit(&healthy).await.unwrap(),
        SubmitOutcome::Idle
    );
    let status = engine.store().status().await.unwrap();
    assert!(
        status[0]
            .alarms
            .iter()
            .any(|a| a.alarm.kind == AlarmKind::MirrorDiverged && a.alarm.size == 2),
        "{:?}",
        status[0].alarms
    );
}

/// The index stage's explicit unwind never goes below logged records (the log is
/// never rewritten), and an unwind within the pending blocks rewinds the cursor.
async fn the_index_unwind_refuses_to_go_below_logged_records(db: TestBackend) {
    use evidence_relayer::stages::{Stage, StageContext, index::IndexStage};

    let w = World::new(db, 2).await;
    w.chain.mine_anchors(2); // block 1
    w.chain.mine_anchors(1); // block 2
    w.chain.mine_empty(2); // 3, 4: blocks 1 and 2 confirmed, 3 and 4 pending
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), 3);
    let rt = w.chain_runtime(w.chain.clone());
    let ctx = StageContext {
        store: engine.store(),
        logs: engine.logs(),
    };
    let mut stage = IndexStage { rt: &rt };
    for below in [1, 2] {
        let err = stage.unwind(ctx, below).await.unwrap_err();
        assert!(err.to_string().contains("never rewritten"), "{err}");
    }
    let err = stage.unwind(ctx, 9).await.unwrap_err();
    assert!(err.to_string().contains("cursor is at block 5"), "{err}");
    // Pending blocks 3 and 4 go; the log and the confirmed tip stay.
    stage.unwind(ctx, 3).await.unwrap();
    let cursor = engine
        .store()
        .load_cursor(&source_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cursor.next_block, cursor.confirmed_next), (3, 3));
    assert_eq!(cursor.confirmed_block.map(|(n, _)| n), Some(2));
    assert_eq!(engine.logs().size(&source_id()).await.unwrap(), 3);
    // Indexing resumes from there to the same log.
    engine.tick_chain(&source_id()).await.unwrap();
    let (size, root) = expected_root(&w.chain, w.chain.head().number - 2);
    assert_eq!(
        engine.logs().root_at(&source_id(), size).await.unwrap(),
        root
    );
}

both_backends!(
    the_index_unwind_refuses_to_go_below_logged_records,
    a_diverged_mirror_stops_its_route_and_not_another,
    reorg_within_confirmations_leaves_no_orphan,
    deep_reorg_halts_the_chain_and_keeps_the_log,
    shallow_reorg_of_confirmed_empty_blocks_rewinds,
    a_dropped_transaction_is_replaced,
    a_nonce_used_elsewhere_starts_over,
    another_submitter_is_observed_not_duplicated,
);
