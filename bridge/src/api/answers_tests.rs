//! Tests of the lookup-answer cache (`answers.rs`) through the real router, over the
//! world of `tests.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy::primitives::{Address, B256};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use evidence_relayer::{Store, testing::FakeEvent};
use serde_json::Value;
use tower::ServiceExt as _;

use super::{
    ApiState, router,
    tests::{get, settings, world, world_with},
};

/// The raw body of a `GET`.
async fn get_bytes(app: &Router, uri: &str) -> (StatusCode, axum::body::Bytes) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    (
        status,
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
}

/// The lookup-answer cache never serves an answer a fresh computation would not give:
/// the pending record's lookup, asked through the engine's own store and through a
/// read-only store of the same file (a `bridge serve` beside `bridge run`), shows its
/// new state as soon as the engine has logged and mirrored it, and a record of the
/// same digest written later shows at once. While nothing is written, the answer is
/// served from the cache, byte for byte the one computed.
#[tokio::test]
async fn cached_lookups_change_with_every_commit() {
    let w = world(None).await;
    let lookup_node = ApiState::new(
        Store::connect_read_only(&w.url).await.unwrap(),
        settings(""),
        None,
    );
    let nodes = [w.state.clone(), lookup_node];
    let evidence = format!("/api/v1/evidence/{}", w.pending);
    let state_of = |body: &[u8]| -> (usize, String) {
        let v: Value = serde_json::from_slice(body).unwrap();
        let records = v["records"].as_array().unwrap();
        (
            records.len(),
            records[0]["state"]["state"].as_str().unwrap().to_owned(),
        )
    };
    let mut first = Vec::new();
    for node in &nodes {
        let app = router(node.clone());
        let (status, a) = get_bytes(&app, &evidence).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(state_of(&a), (1, "pending_confirmation".to_owned()));
        assert_eq!(node.answers().len(), 1, "the answer is cached");
        let (_, b) = get_bytes(&app, &evidence).await;
        assert_eq!(a, b, "the cached answer is the computed one");
        first.push(a);
    }

    // The engine confirms, logs and mirrors the pending record: every node shows it.
    w.chain.mine_empty(3);
    for _ in 0..3 {
        w.engine.tick_once().await.unwrap();
    }
    for node in &nodes {
        let (_, body) = get_bytes(&router(node.clone()), &evidence).await;
        let (n, state) = state_of(&body);
        assert_eq!(n, 1);
        assert_ne!(state, "pending_confirmation", "a stale answer was served");
        let fresh = serde_json::to_vec(&super::records::EvidenceAnswer {
            digest: w.pending,
            records: w.store.lookup_digest(w.pending).await.unwrap(),
        })
        .unwrap();
        assert_eq!(body, fresh, "the answer is what a fresh lookup gives");
    }

    // A second record with the same digest, anchored on the chain and logged.
    w.chain.mine(vec![FakeEvent::Anchor {
        digest: w.pending,
        submitter: Address::repeat_byte(0x77),
    }]);
    w.chain.mine_empty(3);
    w.engine.tick_once().await.unwrap();
    for node in &nodes {
        let (_, body) = get_bytes(&router(node.clone()), &evidence).await;
        assert_eq!(state_of(&body).0, 2, "the new record shows at once");
    }
    // A record by id is cached the same way, and so is an unknown one's 404 not.
    let (_, body) = get(&w.app, &evidence).await;
    let id = body["records"][1]["record_id"].as_str().unwrap().to_owned();
    for node in &nodes {
        let app = router(node.clone());
        let (status, a) = get_bytes(&app, &format!("/api/v1/records/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, b) = get_bytes(&app, &format!("/api/v1/records/{id}")).await;
        assert_eq!(a, b);
        let (status, _) = get(&app, &format!("/api/v1/records/{}", B256::repeat_byte(9))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

/// `[api] answer_cache_mib = 0` turns the cache off; a value past 4096 is refused.
#[tokio::test]
async fn the_answer_cache_can_be_turned_off() {
    let w = world_with(None, "answer_cache_mib = 0").await;
    let evidence = format!("/api/v1/evidence/{}", w.digests[0]);
    for _ in 0..2 {
        let (status, _) = get_bytes(&w.app, &evidence).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(w.state.answers().len(), 0);
    let mut api = w.state.settings().api.clone();
    api.answer_cache_mib = 5000;
    let err = api.validate().unwrap_err();
    assert!(err.to_string().contains("answer_cache_mib"), "{err}");
}
