//! Handler-level tests: the real router over a real SQLite store filled by the
//! relayer's engine from an in-memory source chain and mirror (the fakes of
//! `evidence_relayer::testing`), requests sent through `tower::ServiceExt::oneshot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, RouteRuntime, Store,
    testing::{FakeChain, FakeMirror},
};
use evidence_schemas::{ChainId, ProofBundle};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tower::ServiceExt as _;

use super::{AnchorAccess, ApiState, router};
use crate::config::Settings;

const MIRROR: Address = Address::repeat_byte(0xaa);

pub(super) fn settings(extra: &str) -> Settings {
    Settings::from_toml(&format!(
        r#"
[api]
max_body_bytes = 4096
{extra}

[[chains]]
name = "court"
chain_id = "eip155:31337"
rpc = ["http://127.0.0.1:9"]
registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
mirror = "0x00000000000000000000000000000000000000bb"

[[chains]]
name = "ledger"
chain_id = "eip155:31338"
rpc = ["http://127.0.0.1:9"]
registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
mirror = "{MIRROR}"

[[routes]]
from = "court"
to = "ledger"
"#
    ))
    .unwrap()
}

pub(super) struct World {
    _dir: tempfile::TempDir,
    pub(super) app: Router,
    pub(super) digests: Vec<B256>,
    pub(super) pending: B256,
    /// The API state (for building other routers over the same store).
    pub(super) state: ApiState,
    /// The engine's attestor side, over the same store and log.
    pub(super) attestor: evidence_relayer::attestors::AttestorService,
    /// The store.
    pub(super) store: Store,
    /// The engine that filled the store, and its source chain (to change both later).
    pub(super) engine: Engine,
    pub(super) chain: std::sync::Arc<FakeChain>,
    /// The store's URL.
    pub(super) url: String,
}

pub(super) fn attestors() -> Vec<PrivateKeySigner> {
    (1u8..=3)
        .map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).unwrap())
        .collect()
}

/// Mines records on a fake "court" chain and relays them with the real engine onto a
/// fake mirror on "ledger", then builds the API over the resulting store.
pub(super) async fn world(anchor: Option<AnchorAccess>) -> World {
    world_with(anchor, "").await
}

/// [`world`] with `extra` lines in the config's `[api]` section.
pub(super) async fn world_with(anchor: Option<AnchorAccess>, extra: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bridge.db").display()
    );
    let source = ChainId::eip155(31337);
    let chain = FakeChain::new(source.clone());
    let mirror = FakeMirror::new(31338, MIRROR);
    mirror.set_attestors(
        &source,
        attestors().iter().map(PrivateKeySigner::address).collect(),
        2,
    );
    let mut digests = chain.mine_anchors(6);
    chain.mine_empty(2);
    let store = Store::connect(&url).await.unwrap();
    let engine = Engine::new(
        store.clone(),
        vec![ChainRuntime {
            chain: source.clone(),
            name: "court".into(),
            source: chain.clone(),
            confirmations: 2,
            start_block: 1,
            batch_span: 5,
            fetch_span: Default::default(),
        }],
        vec![RouteRuntime {
            source_chain: source.clone(),
            destination_chain: ChainId::eip155(31338),
            domain: mirror.domain(),
            mirror: mirror.clone(),
        }],
        attestors(),
        EngineSettings {
            poll_interval: Duration::from_millis(10),
            checkpoint_interval: Duration::ZERO,
            checkpoint_max_records: 3,
            tx_timeout: Duration::from_secs(3600),
            max_backoff: Duration::from_millis(50),
        },
    )
    .await
    .unwrap();
    engine.tick_once().await.unwrap();
    // A second batch, so the chain has several checkpoints.
    digests.extend(chain.mine_anchors(3));
    chain.mine_empty(2);
    engine.tick_once().await.unwrap();
    let pending = chain.mine_anchors(1)[0];
    engine.tick_once().await.unwrap();
    let state = ApiState::new(store.clone(), settings(extra), anchor);
    state.set_mirror("ledger", mirror).await;
    World {
        _dir: dir,
        app: router(state.clone()),
        digests,
        pending,
        state,
        attestor: engine.attestor_service(),
        store,
        engine,
        chain,
        url,
    }
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

pub(super) async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_json(
    app: &Router,
    uri: &str,
    body: &Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    call(app, req.body(Body::from(body.to_string())).unwrap()).await
}

/// A 4xx answer whose body is `{"error": "..."}` mentioning `needle`.
fn assert_error(got: &(StatusCode, Value), status: StatusCode, needle: &str) {
    assert_eq!(got.0, status, "{:?}", got.1);
    let msg = got.1["error"]
        .as_str()
        .unwrap_or_else(|| panic!("not a JSON error: {:?}", got.1));
    assert!(
        msg.contains(needle),
        "error {msg:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn lookup_record_bundle_and_verify() {
    let w = world(None).await;
    let (status, body) = get(&w.app, &format!("/api/v1/evidence/{}", w.digests[1])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records = body["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let rec = &records[0];
    assert_eq!(rec["chain_name"], "court");
    assert_eq!(rec["state"]["state"], "checkpointed");
    assert_eq!(rec["mirrored_on"][0]["destination_chain"], "eip155:31338");
    let record_id = rec["record_id"].as_str().unwrap().to_owned();

    // The pending record is found but not provable yet.
    let (_, body) = get(&w.app, &format!("/api/v1/evidence/{}", w.pending)).await;
    assert_eq!(body["records"][0]["state"]["state"], "pending_confirmation");
    let pending_id = body["records"][0]["record_id"].as_str().unwrap().to_owned();
    assert_error(
        &get(
            &w.app,
            &format!("/api/v1/records/{pending_id}/bundle?destination=ledger"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "pending",
    );

    // An unknown digest: 200, no records.
    let (status, body) = get(
        &w.app,
        &format!("/api/v1/evidence/{}", B256::repeat_byte(7)),
    )
    .await;
    assert_eq!(
        (status, body["records"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );

    let (status, body) = get(&w.app, &format!("/api/v1/records/{record_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["record_id"], record_id.as_str());

    for dest in ["ledger", "eip155:31338"] {
        let (status, body) = get(
            &w.app,
            &format!("/api/v1/records/{record_id}/bundle?destination={dest}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let bundle: ProofBundle = serde_json::from_value(body).unwrap();
        assert!(bundle.verify_offline().is_ok());
        assert_eq!(bundle.destination.mirror, MIRROR);
    }

    let (_, bundle) = get(
        &w.app,
        &format!("/api/v1/records/{record_id}/bundle?destination=ledger"),
    )
    .await;
    let (status, report) = post_json(&w.app, "/api/v1/bundles/verify", &bundle, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], true, "{report}");
    let checks: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["offline", "mirror", "root"]);
    assert!(report.get("failed_check").is_none());

    // A tampered bundle names the failed check.
    let mut bad = bundle.clone();
    bad["leaf_index"] = json!(bad["leaf_index"].as_u64().unwrap() + 1);
    let (status, report) = post_json(&w.app, "/api/v1/bundles/verify", &bad, None).await;
    assert_eq!(
        (status, &report["valid"]),
        (StatusCode::OK, &json!(false)),
        "{report}"
    );
    assert!(report["failed_check"].is_string(), "{report}");
}

#[tokio::test]
async fn bad_input_gets_4xx_json() {
    let w = world(None).await;
    let app = &w.app;
    assert_error(
        &get(app, "/api/v1/evidence/zz").await,
        StatusCode::BAD_REQUEST,
        "digest",
    );
    assert_error(
        &get(app, "/api/v1/evidence/0x1234").await,
        StatusCode::BAD_REQUEST,
        "32 bytes",
    );
    assert_error(
        &get(app, "/api/v1/records/not-hex").await,
        StatusCode::BAD_REQUEST,
        "record_id",
    );
    let unknown = B256::repeat_byte(9);
    assert_error(
        &get(app, &format!("/api/v1/records/{unknown}")).await,
        StatusCode::NOT_FOUND,
        "not known",
    );
    assert_error(
        &get(
            app,
            &format!("/api/v1/records/{unknown}/bundle?destination=ledger"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not known",
    );
    assert_error(
        &get(app, &format!("/api/v1/records/{unknown}/bundle")).await,
        StatusCode::BAD_REQUEST,
        "destination",
    );
    assert_error(
        &get(
            app,
            &format!("/api/v1/records/{unknown}/bundle?destination=mars"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown chain",
    );
    assert_error(
        &get(app, "/api/v1/chains/mars/checkpoints").await,
        StatusCode::NOT_FOUND,
        "ledger",
    );
    assert_error(
        &get(app, "/api/v1/chains/court/checkpoints?limit=0").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
    assert_error(
        &get(app, "/api/v1/chains/court/checkpoints?limit=abc").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
    assert_error(
        &get(app, "/api/v1/chains/court/checkpoints?before=-1").await,
        StatusCode::BAD_REQUEST,
        "next_before",
    );
    assert_error(
        &get(app, "/api/v1/chains/court/quarantine?before=12").await,
        StatusCode::BAD_REQUEST,
        "BLOCK-LOG_INDEX",
    );
    assert_error(
        &get(app, "/api/v1/nope").await,
        StatusCode::NOT_FOUND,
        "openapi.json",
    );

    // Bodies: not JSON, not a bundle, wrong content type, too large.
    let raw = |body: &'static str, ct: &'static str| {
        Request::post("/api/v1/bundles/verify")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    assert_error(
        &call(app, raw("{not json", "application/json")).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    assert_error(
        &call(app, raw("{}", "text/plain")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type",
    );
    assert_error(
        &post_json(app, "/api/v1/bundles/verify", &json!({"version": 1}), None).await,
        StatusCode::BAD_REQUEST,
        "not a proof bundle",
    );
    assert_error(
        &post_json(app, "/api/v1/bundles/verify", &json!({"version": 9}), None).await,
        StatusCode::BAD_REQUEST,
        "version 9",
    );
    let huge = json!({ "padding": "x".repeat(10_000) });
    assert_error(
        &post_json(app, "/api/v1/bundles/verify", &huge, None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "max_body_bytes",
    );
}

#[tokio::test]
async fn chains_pages_health_and_metrics() {
    let w = world(None).await;
    let (status, body) = get(&w.app, "/api/v1/chains").await;
    assert_eq!(status, StatusCode::OK);
    let court = &body["chains"][0];
    assert_eq!(court["name"], "court");
    let log_size = court["log_size"].as_u64().unwrap();
    assert!(log_size >= 6, "{body}");

    // Page through every checkpoint, one at a time.
    let mut sizes = Vec::new();
    let mut uri = "/api/v1/chains/court/checkpoints?limit=1".to_owned();
    loop {
        let (status, page) = get(&w.app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        sizes.extend(
            page["checkpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["size"].as_u64().unwrap()),
        );
        match page["next_before"].as_str() {
            Some(b) => uri = format!("/api/v1/chains/eip155:31337/checkpoints?limit=1&before={b}"),
            None => break,
        }
    }
    assert!(sizes.len() >= 2, "{sizes:?}");
    assert!(
        sizes.windows(2).all(|p| p[0] > p[1]),
        "newest first, no repeats: {sizes:?}"
    );
    let (_, all) = get(&w.app, "/api/v1/chains/court/checkpoints").await;
    assert_eq!(all["checkpoints"].as_array().unwrap().len(), sizes.len());
    assert!(all["next_before"].is_null());

    let (status, q) = get(&w.app, "/api/v1/chains/court/quarantine?limit=10").await;
    assert_eq!(
        (status, q["events"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );

    assert_eq!(get(&w.app, "/healthz").await.0, StatusCode::OK);
    let (status, ready) = get(&w.app, "/readyz").await;
    assert_eq!((status, &ready["status"]), (StatusCode::OK, &json!("ok")));

    let (status, text) = get(&w.app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(
        text.contains(&format!("bridge_log_size{{chain=\"court\"}} {log_size}")),
        "{text}"
    );
    for name in [
        "bridge_chain_head",
        "bridge_chain_lag_blocks",
        "bridge_records_indexed",
        "bridge_quarantined_events",
        "bridge_checkpoints_submitted{from=\"court\",to=\"ledger\"}",
        "bridge_checkpoints_failed",
        "bridge_seconds_since_last_checkpoint",
    ] {
        assert!(text.contains(name), "metrics lack {name}: {text}");
    }
}

#[tokio::test]
async fn anchoring_needs_a_valid_token() {
    let off = world(None).await;
    let body = json!({ "chain": "court", "digest": B256::repeat_byte(1) });
    assert_error(
        &post_json(&off.app, "/api/v1/anchor", &body, Some("s3cret")).await,
        StatusCode::FORBIDDEN,
        "not enabled",
    );
    // No credentials at all is 401 even where anchoring is off (the OpenAPI document says so).
    assert_error(
        &post_json(&off.app, "/api/v1/anchor", &body, None).await,
        StatusCode::UNAUTHORIZED,
        "Bearer",
    );

    let hash: [u8; 32] = Sha256::digest(b"s3cret").into();
    let w = world(AnchorAccess::new(vec![hash], PrivateKeySigner::random())).await;
    let app = &w.app;
    assert_error(
        &post_json(app, "/api/v1/anchor", &body, None).await,
        StatusCode::UNAUTHORIZED,
        "Bearer",
    );
    assert_error(
        &post_json(app, "/api/v1/anchor", &body, Some("wrong")).await,
        StatusCode::FORBIDDEN,
        "not accepted",
    );
    let req = Request::post("/api/v1/anchor")
        .header(header::AUTHORIZATION, "Basic czNjcmV0")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    assert_error(
        &call(app, req).await,
        StatusCode::UNAUTHORIZED,
        "Bearer TOKEN",
    );
    let ok = Some("s3cret");
    assert_error(
        &post_json(
            app,
            "/api/v1/anchor",
            &json!({"chain": "court", "digest": "0x12"}),
            ok,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "digest",
    );
    assert_error(
        &post_json(
            app,
            "/api/v1/anchor",
            &json!({"chain": "mars", "digest": B256::repeat_byte(1)}),
            ok,
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown chain",
    );
    assert_error(
        &post_json(
            app,
            "/api/v1/anchor",
            &json!({"chain": "court", "digest": B256::repeat_byte(1), "digest_alg": "md5"}),
            ok,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "md5",
    );
    assert_error(
        &post_json(app, "/api/v1/anchor", &json!({"chain": "court"}), ok).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "digest",
    );
    assert_error(
        &post_json(
            app,
            "/api/v1/anchor",
            &json!({"chain": "court", "digest": B256::repeat_byte(1), "extra": 1}),
            ok,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "extra",
    );
    // A valid request to an unreachable chain: 502, not a crash.
    assert_error(
        &post_json(app, "/api/v1/anchor", &body, ok).await,
        StatusCode::BAD_GATEWAY,
        "court",
    );
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let w = world(None).await;
    let (status, doc) = get(&w.app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let parsed: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).unwrap();
    assert!(parsed.openapi == utoipa::openapi::OpenApiVersion::Version31);
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in super::ROUTES {
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the document"))[*method];
        assert!(op.is_object(), "{method} {path} missing");
        // Every listed route is really served (not the 404 fallback).
        if *method == "get" && !path.contains('{') {
            let (status, body) = get(&w.app, path).await;
            assert_ne!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
    }
    assert_eq!(
        paths
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>(),
        super::ROUTES.len()
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// A trust root naming `version` as the only set of court on ledger's mirror.
fn sample_trust_root(version: u64) -> evidence_schemas::trust::TrustRoot {
    serde_json::from_value(json!({
        "media_type": evidence_schemas::trust::TRUST_ROOT_MEDIA_TYPE,
        "version": 1,
        "mirrors": [{
            "chain": "eip155:31338",
            "mirror": MIRROR,
            "sources": [{
                "source_chain": "eip155:31337",
                "sets": [{
                    "version": version,
                    "attestors": attestors().iter().map(PrivateKeySigner::address).collect::<Vec<_>>(),
                    "threshold": 2,
                    "effective_block": 3,
                    "authorization": "first_set",
                    "pinned": true,
                }],
            }],
        }],
    }))
    .unwrap()
}

/// An API over an empty store whose trust root comes from `source`.
async fn trust_app(
    dir: &tempfile::TempDir,
    source: super::trust::TrustSource,
    ttl: Duration,
) -> Router {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bridge.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    router(ApiState::new(store, settings(""), None).with_trust_source(source, ttl))
}

#[tokio::test]
async fn the_trust_root_is_served_cached_and_a_failed_read_is_a_503() {
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };
    let dir = tempfile::tempdir().unwrap();
    let reads = Arc::new(AtomicU64::new(0));
    let counter = reads.clone();
    // Each read answers a new version, so a cached answer is visible as an old one.
    let source: super::trust::TrustSource =
        Arc::new(move |settings: Settings| -> super::trust::TrustRead {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!(
                settings.chains.len(),
                2,
                "the read gets the node's settings"
            );
            Box::pin(async move { Ok(sample_trust_root(n)) })
        });
    let app = trust_app(&dir, source.clone(), Duration::from_secs(3600)).await;
    let (status, body) = get(&app, "/api/v1/trust-root").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["media_type"],
        evidence_schemas::trust::TRUST_ROOT_MEDIA_TYPE
    );
    assert_eq!(body["mirrors"][0]["chain"], "eip155:31338");
    assert_eq!(body["mirrors"][0]["sources"][0]["sets"][0]["version"], 1);
    assert_eq!(body["mirrors"][0]["sources"][0]["sets"][0]["pinned"], true);
    let parsed: evidence_schemas::trust::TrustRoot = serde_json::from_value(body).unwrap();
    assert_eq!(parsed, sample_trust_root(1));
    for _ in 0..3 {
        let (_, again) = get(&app, "/api/v1/trust-root").await;
        assert_eq!(
            again["mirrors"][0]["sources"][0]["sets"][0]["version"], 1,
            "served from the cache"
        );
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1);

    // With no reuse, every request reads again.
    let fresh = trust_app(&dir, source, Duration::ZERO).await;
    let (_, body) = get(&fresh, "/api/v1/trust-root").await;
    assert_eq!(body["mirrors"][0]["sources"][0]["sets"][0]["version"], 2);
    assert_eq!(reads.load(Ordering::SeqCst), 2);

    // A chain that cannot be read: 503 with a JSON error, and nothing cached.
    let failures = Arc::new(AtomicU64::new(0));
    let count = failures.clone();
    let down: super::trust::TrustSource = Arc::new(move |_| -> super::trust::TrustRead {
        count.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(crate::exit::Failure::failed(
                "reading the mirror on ledger: connection refused",
            ))
        })
    });
    let app = trust_app(&dir, down, Duration::from_secs(3600)).await;
    for _ in 0..2 {
        let got = get(&app, "/api/v1/trust-root").await;
        assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "connection refused");
        assert!(
            got.1["error"].as_str().unwrap().contains("try again later"),
            "{:?}",
            got.1
        );
    }
    assert_eq!(
        failures.load(Ordering::SeqCst),
        2,
        "a failure is not cached"
    );
}

#[tokio::test]
async fn the_trust_root_of_unreachable_chains_is_a_503() {
    // The real reader, against chains at a closed port.
    let w = world(None).await;
    let got = get(&w.app, "/api/v1/trust-root").await;
    assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, "try again later");
}
