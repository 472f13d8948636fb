//! The attestor side over a fake chain: a partner's engine signs a proposed checkpoint
//! only when its own log agrees, answers "behind" when it has not got there, and
//! raises an alarm (stored, shown in status) when it disagrees.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use alloy::primitives::{Address, B256};
use common::*;
use evidence_relayer::test_db::TestBackend;
use evidence_relayer::{
    attestors::{SignDecision, SignRequest},
    store::AlarmKind,
};
use evidence_schemas::checkpoint::recover_signer;

both_backends!(a_partner_signs_only_what_its_own_log_says);

async fn a_partner_signs_only_what_its_own_log_says(backend: TestBackend) {
    let w = World::new(backend, 2).await;
    w.chain.mine_anchors(4);
    w.chain.mine_empty(3);
    // The proposer's checkpoint, from its own engine.
    let proposer = w.engine().await;
    proposer.tick_chain(&source_id()).await.unwrap();
    let (checkpoint, _) = proposer
        .store()
        .load_last_checkpoint(&source_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.size, 4);

    // A partner with its own store, one key, same chain.
    let partner_world = World::new(backend, 2).await;
    let key = attestors().remove(1);
    let partner = {
        let store = partner_world.store().await;
        let chains = vec![evidence_relayer::ChainRuntime {
            chain: source_id(),
            name: "court".into(),
            source: w.chain.clone(),
            confirmations: 2,
            start_block: 1,
            batch_span: 5,
            fetch_span: Default::default(),
        }];
        let routes = vec![evidence_relayer::RouteRuntime {
            source_chain: source_id(),
            destination_chain: dest_id(),
            domain: w.mirror.domain(),
            mirror: w.mirror.clone(),
        }];
        evidence_relayer::Engine::new(store, chains, routes, vec![key.clone()], w.settings.clone())
            .await
            .unwrap()
            .attest_only()
    };
    let service = partner.attestor_service();
    let request = SignRequest {
        checkpoint: checkpoint.clone(),
        destination_chain: dest_id(),
        mirror: w.mirror.domain().mirror,
        attestor: None,
    };

    // Not indexed yet: behind.
    assert_eq!(
        service.sign(&request).await.unwrap(),
        SignDecision::Behind { log_size: 0 }
    );

    partner.tick_chain(&source_id()).await.unwrap();
    let SignDecision::Signed(sig) = service.sign(&request).await.unwrap() else {
        panic!("not signed")
    };
    assert_eq!(sig.attestor, key.address());
    let hash = checkpoint.signing_hash(&w.mirror.domain());
    assert_eq!(
        recover_signer(&hash, &sig.signature).unwrap(),
        key.address()
    );

    // Any size up to its log is answered, not only its own checkpoint sizes — but the
    // block must be the one the log had that size at.
    let mut wrong_block = checkpoint.clone();
    wrong_block.size = 3;
    wrong_block.root = partner.logs().root_at(&source_id(), 3).await.unwrap();
    let decision = service
        .sign(&SignRequest {
            checkpoint: wrong_block,
            ..request.clone()
        })
        .await
        .unwrap();
    assert!(
        matches!(decision, SignDecision::Mismatch { .. }),
        "{decision:?}"
    );

    // A wrong root: refused with our root, and an alarm is stored.
    let mut lie = checkpoint.clone();
    lie.root = B256::repeat_byte(9);
    let decision = service
        .sign(&SignRequest {
            checkpoint: lie,
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        decision,
        SignDecision::Mismatch {
            log_size: 4,
            root: Some(checkpoint.root),
            reason: format!(
                "root at size 4 is {} in this attestor's log, the proposal says {}",
                checkpoint.root,
                B256::repeat_byte(9)
            ),
        }
    );
    // A wrong block hash, too.
    let mut fork = checkpoint.clone();
    fork.source_block_hash = B256::repeat_byte(7);
    let decision = service
        .sign(&SignRequest {
            checkpoint: fork,
            ..request.clone()
        })
        .await
        .unwrap();
    assert!(
        matches!(decision, SignDecision::Mismatch { .. }),
        "{decision:?}"
    );
    let status = partner.store().status().await.unwrap();
    let kinds: Vec<AlarmKind> = status[0].alarms.iter().map(|a| a.alarm.kind).collect();
    assert!(
        kinds.iter().all(|k| *k == AlarmKind::RootMismatch),
        "{kinds:?}"
    );
    // One finding per (requester, checkpoint): the wrong block at size 3, and the wrong
    // root and the wrong block hash at size 4 folded into one row seen twice.
    let mut seen: Vec<(u64, u64)> = status[0]
        .alarms
        .iter()
        .map(|a| (a.alarm.size, a.occurrences))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![(3, 1), (4, 2)], "{:?}", status[0].alarms);

    // Unserved destinations, keys it does not hold and size 0 are refused.
    for bad in [
        SignRequest {
            mirror: Address::repeat_byte(1),
            ..request.clone()
        },
        SignRequest {
            attestor: Some(Address::repeat_byte(2)),
            ..request.clone()
        },
        SignRequest {
            checkpoint: evidence_schemas::Checkpoint {
                size: 0,
                ..checkpoint.clone()
            },
            ..request.clone()
        },
    ] {
        let decision = service.sign(&bad).await.unwrap();
        assert!(
            matches!(decision, SignDecision::Refused { .. }),
            "{decision:?}"
        );
    }
}

both_backends!(an_owner_proposal_raises_one_alarm_per_proposal);

async fn an_owner_proposal_raises_one_alarm_per_proposal(backend: TestBackend) {
    let w = World::new(backend, 2).await;
    let routes = vec![evidence_relayer::RouteRuntime {
        source_chain: source_id(),
        destination_chain: dest_id(),
        domain: w.mirror.domain(),
        mirror: w.mirror.clone(),
    }];
    let engine = w.engine().await;
    let source = source_id();
    let watch = || {
        evidence_relayer::stages::watch::watch_mirrors_once(
            engine.store(),
            engine.logs(),
            &source,
            &routes,
        )
    };
    watch().await.unwrap();
    assert!(
        engine.store().load_alarms(None).await.unwrap().is_empty(),
        "no proposal, no alarm"
    );

    let intruder = Address::repeat_byte(0xee);
    w.mirror
        .propose_owner_rotation(&source_id(), vec![intruder], 1);
    watch().await.unwrap();
    watch().await.unwrap();
    let alarms = engine.store().load_alarms(None).await.unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let a = &alarms[0];
    assert_eq!(a.alarm.kind, AlarmKind::OwnerRotationProposed);
    assert_eq!(a.alarm.kind.as_str(), "owner_rotation_proposed");
    assert_eq!(
        a.occurrences, 1,
        "one stored alarm per proposal, not one per poll"
    );
    assert_eq!(a.alarm.destination, Some(dest_id()));
    assert!(
        a.alarm.message.contains(&intruder.to_string()),
        "{}",
        a.alarm.message
    );
    assert!(
        a.alarm.message.contains("sign-rotation --cancel"),
        "{}",
        a.alarm.message
    );
}
