//! The HTTP API of a real `bridge run` on a real devnet (two anvil chains): a partner
//! anchors over HTTP with a bearer token, the record is looked up on every chain,
//! its proof bundle downloaded and verified against the destination mirror; a
//! read-only `bridge serve` over the same store answers the same lookup and refuses to
//! anchor; metrics show the chains and the RPC traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    net::TcpListener,
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{Devnet, Relayer};

const TOKEN: &str = "partner-token-for-tests";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One blocking HTTP call; returns status and body (JSON, or the text as a string).
fn http(method: &str, url: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut req = match method {
            "GET" => client.get(url),
            _ => client.post(url),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("the API answers");
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    })
}

fn wait_http(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let up = rt.block_on(async {
            reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if up {
            return;
        }
        assert!(Instant::now() < deadline, "{base} did not come up");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn partners_anchor_look_up_and_verify_over_http() {
    let net = Devnet::start(2, 1).unwrap();
    let port = free_port();
    let token_hash = hex::encode(Sha256::digest(TOKEN.as_bytes()));
    let config = net.config();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[api]\nlisten = \"127.0.0.1:{port}\"\nanchor_tokens_sha256 = [\"{token_hash}\"]\n"
    ));
    std::fs::write(&config, text).unwrap();
    let _relayer = net.start_relayer(0);
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&base);

    // A partner anchors over HTTP on alpha; bad tokens are refused.
    let digest = format!(
        "{:#x}",
        alloy::primitives::B256::from(<[u8; 32]>::from(Sha256::digest(b"IOU anchored over HTTP")))
    );
    let body = json!({ "chain": "alpha", "digest": digest, "kind": "iou" });
    assert_eq!(
        http(
            "POST",
            &format!("{base}/api/v1/anchor"),
            Some(&body),
            Some("nope")
        )
        .0,
        403
    );
    assert_eq!(
        http("POST", &format!("{base}/api/v1/anchor"), Some(&body), None).0,
        401
    );
    let (status, anchored) = http(
        "POST",
        &format!("{base}/api/v1/anchor"),
        Some(&body),
        Some(TOKEN),
    );
    assert_eq!(status, 200, "{anchored}");
    let record_id = anchored["record_id"].as_str().unwrap().to_owned();
    // The same evidence anchored on beta with the CLI.
    let other = net.anchor_text("beta", "IOU anchored over HTTP");
    assert_ne!(other, record_id);

    // Lookup finds it on both chains; wait until the alpha record is provable on beta.
    let deadline = Instant::now() + Duration::from_secs(120);
    let records = loop {
        let (status, found) = http(
            "GET",
            &format!("{base}/api/v1/evidence/{digest}"),
            None,
            None,
        );
        assert_eq!(status, 200, "{found}");
        let records = found["records"].as_array().unwrap().clone();
        let mirrored = records
            .iter()
            .filter(|r| !r["mirrored_on"].as_array().unwrap().is_empty())
            .count();
        if records.len() == 2 && mirrored == 2 {
            break records;
        }
        assert!(
            Instant::now() < deadline,
            "not provable on both chains in time: {found}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut chains: Vec<&str> = records
        .iter()
        .map(|r| r["chain_name"].as_str().unwrap())
        .collect();
    chains.sort_unstable();
    assert_eq!(chains, ["alpha", "beta"]);

    let (status, record) = http(
        "GET",
        &format!("{base}/api/v1/records/{record_id}"),
        None,
        None,
    );
    assert_eq!(
        (status, record["chain_name"].as_str()),
        (200, Some("alpha")),
        "{record}"
    );
    let (status, bundle) = http(
        "GET",
        &format!("{base}/api/v1/records/{record_id}/bundle?destination=beta"),
        None,
        None,
    );
    assert_eq!(status, 200, "{bundle}");
    let (status, report) = http(
        "POST",
        &format!("{base}/api/v1/bundles/verify"),
        Some(&bundle),
        None,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["valid"], true, "{report}");
    let checks: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        ["offline", "mirror", "root"],
        "the beta mirror was asked"
    );

    let (status, chains) = http("GET", &format!("{base}/api/v1/chains"), None, None);
    assert_eq!(status, 200);
    assert_eq!(chains["chains"].as_array().unwrap().len(), 2);
    let (status, page) = http(
        "GET",
        &format!("{base}/api/v1/chains/alpha/checkpoints?limit=1"),
        None,
        None,
    );
    assert_eq!(
        (status, page["checkpoints"].as_array().unwrap().len()),
        (200, 1),
        "{page}"
    );
    assert_eq!(http("GET", &format!("{base}/readyz"), None, None).0, 200);
    let (status, metrics) = http("GET", &format!("{base}/metrics"), None, None);
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap();
    for needle in [
        "bridge_log_size{chain=\"alpha\"}",
        "bridge_rpc_requests_total{",
        "bridge_rpc_latency_seconds",
        "bridge_checkpoints_submitted{from=\"alpha\",to=\"beta\"}",
    ] {
        assert!(
            metrics.contains(needle),
            "metrics lack {needle}:\n{metrics}"
        );
    }

    // A read-only lookup node over the same store (its config lists no token, so it
    // does not anchor) answers the same lookup.
    let serve_config = net.dir.path().join("serve.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &serve_config,
        text.replace(&format!("anchor_tokens_sha256 = [\"{token_hash}\"]"), ""),
    )
    .unwrap();
    let serve_port = free_port();
    let log = std::fs::File::create(net.dir.path().join("serve.log")).unwrap();
    let _serve = Relayer(
        net.command(&[
            "serve",
            "--config",
            serve_config.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{serve_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap(),
    );
    let ro = format!("http://127.0.0.1:{serve_port}");
    wait_http(&ro);
    let (status, found) = http("GET", &format!("{ro}/api/v1/evidence/{digest}"), None, None);
    assert_eq!(
        (status, found["records"].as_array().unwrap().len()),
        (200, 2),
        "{found}"
    );
    let (status, refused) = http(
        "POST",
        &format!("{ro}/api/v1/anchor"),
        Some(&body),
        Some(TOKEN),
    );
    assert_eq!(
        status, 403,
        "a lookup node without an anchor key must not anchor: {refused}"
    );
    let (status, err) = http("GET", &format!("{ro}/api/v1/evidence/0xzz"), None, None);
    assert_eq!(status, 400);
    assert!(err["error"].as_str().unwrap().contains("digest"), "{err}");
}
