//! The server's limits over real TCP: raw clients that send headers slowly, promise a
//! body and never send it, sit idle, open too many connections, or flood the attestor
//! endpoint; every refusal must be a JSON error (or a closed connection where HTTP has
//! no answer), never a held socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, time::Duration};

use alloy::primitives::B256;
use axum::{Router, routing::get};
use evidence_relayer::attestors::SignRequest;
use evidence_schemas::ChainId;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

use super::{
    app,
    tests::{World, attestors, world_with},
};
use crate::config::SignPolicy;

/// Short limits, so the tests take milliseconds.
const LIMITS: &str = "header_timeout_ms = 300\nbody_timeout_ms = 300\nidle_timeout_ms = 800\nrequest_timeout_ms = 400\nmax_connections = 3";

/// Longest a test waits for the server to act; far above every limit above.
const PATIENCE: Duration = Duration::from_secs(10);

fn policy(tokens: &[&str], allow: &[&str], rate: u32, burst: u32) -> SignPolicy {
    SignPolicy {
        token_hashes: tokens
            .iter()
            .map(|t| Sha256::digest(t.as_bytes()).into())
            .collect(),
        allow: allow.iter().map(|a| a.parse().unwrap()).collect(),
        rate_per_sec: rate,
        burst,
        max_concurrent: 2,
    }
}

/// Serves the world's API plus its attestor endpoint (under `policy`) and a `/test/slow`
/// route that never answers in time, on a loopback port.
async fn start(w: &World, policy: &SignPolicy) -> (SocketAddr, CancellationToken) {
    let slow = Router::new().route(
        "/test/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let attestor = super::attestor::router(w.attestor.clone(), policy).merge(slow);
    let router = app(w.state.clone(), Some(attestor));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let limits = w.state.settings().api.limits();
    tokio::spawn(super::server::serve(
        listener,
        router,
        limits,
        shutdown.clone(),
    ));
    (addr, shutdown)
}

/// Reads until the server closes the connection (or [`PATIENCE`] runs out: a failure).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open; got so far: {}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// Status and JSON body of a raw HTTP answer.
fn parse(answer: &str) -> (u16, Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("answer {status} has no JSON body ({e}): {answer:?}"));
    (status, json)
}

/// Sends `raw` on a new connection and reads the whole answer.
async fn exchange(addr: SocketAddr, raw: &str) -> (u16, Value, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stream).await;
    let (status, json) = parse(&answer);
    (status, json, answer)
}

fn post(path: &str, body: &str, extra_headers: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn slow_headers_idle_connections_and_missing_bodies_are_cut_off() {
    let w = world_with(None, LIMITS).await;
    let (addr, _stop) = start(&w, &policy(&[], &[], 100, 100)).await;

    // Slowloris: half the headers, then nothing. The server closes the connection.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nx-slow: ")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(
        !answer.contains("200"),
        "a request whose headers never ended was served: {answer}"
    );

    // Keep-alive: one request answered, then the idle connection is closed.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body promised and never sent: 408 with a JSON error, and the connection ends.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/v1/bundles/verify HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let (status, json) = parse(&read_to_close(&mut stream).await);
    assert_eq!(status, 408, "{json}");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("api.body_timeout_ms"),
        "{json}"
    );

    // A handler slower than the request deadline: 503 with a JSON error, not an empty body.
    let (status, json, _) = exchange(
        addr,
        "GET /test/slow HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 503, "{json}");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("api.request_timeout_ms"),
        "{json}"
    );
}

#[tokio::test]
async fn anchoring_checks_the_token_before_waiting_for_the_body() {
    let w = world_with(None, LIMITS).await;
    let (addr, _stop) = start(&w, &policy(&[], &[], 100, 100)).await;
    // Headers promise a body that never comes and carry no token: the answer is 401 at
    // once (a server that read the body first would answer 408 after the body timeout).
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/v1/anchor HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n")
        .await
        .unwrap();
    let (status, json) = parse(&read_to_close(&mut stream).await);
    assert_eq!(status, 401, "{json}");
    assert!(json["error"].as_str().unwrap().contains("Bearer"), "{json}");
}

#[tokio::test]
async fn connections_over_the_cap_get_a_json_503() {
    let w = world_with(
        None,
        &LIMITS
            .replace("header_timeout_ms = 300", "header_timeout_ms = 5000")
            .replace("idle_timeout_ms = 800", "idle_timeout_ms = 5000"),
    )
    .await;
    let (addr, _stop) = start(&w, &policy(&[], &[], 100, 100)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // Give the accept loop the moment it needs to take the three slots.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, json, answer) = exchange(addr, "GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert_eq!(status, 503, "{answer}");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("api.max_connections"),
        "{json}"
    );
    drop(held);
    // Slots come back when connections close.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, _, _) = exchange(
            addr,
            "GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        )
        .await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slots never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A signing request for the world's newest checkpoint, signed by attestor 0.
async fn sign_request(w: &World, root: Option<B256>) -> String {
    let (mut checkpoint, _) = w
        .store
        .load_last_checkpoint(&ChainId::eip155(31337))
        .await
        .unwrap()
        .unwrap();
    if let Some(root) = root {
        checkpoint.root = root;
    }
    let req = SignRequest {
        checkpoint,
        destination_chain: ChainId::eip155(31338),
        mirror: alloy::primitives::Address::repeat_byte(0xaa),
        attestor: Some(attestors()[0].address()),
    };
    serde_json::to_string(&req).unwrap()
}

const SIGN: &str = evidence_relayer::attestors::SIGN_PATH;

#[tokio::test]
async fn the_attestor_endpoint_rate_limits_and_folds_alarms_per_requester() {
    let w = world_with(None, "").await;
    let (addr, _stop) = start(&w, &policy(&[], &[], 1, 5)).await;
    let good = sign_request(&w, None).await;
    let (status, json, _) = exchange(addr, &post(SIGN, &good, "")).await;
    assert_eq!(status, 200, "{json}");
    let wrong = sign_request(&w, Some(B256::repeat_byte(0x66))).await;
    for _ in 0..4 {
        let (status, json, _) = exchange(addr, &post(SIGN, &wrong, "")).await;
        assert_eq!(status, 409, "{json}");
    }
    // The burst of 5 is spent: the next request is refused cheaply, with JSON and a
    // Retry-After, before its body is even parsed.
    // (A slow machine may refill a token meanwhile: then one more is let through.)
    let mut refused = None;
    for _ in 0..3 {
        let (status, json, answer) = exchange(addr, &post(SIGN, "not json", "")).await;
        if status == 429 {
            refused = Some((json, answer));
            break;
        }
        assert_eq!(status, 400, "{json}");
    }
    let (json, answer) = refused.expect("no request was rate limited");
    assert_eq!(json["error"], "rate_limited", "{json}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    // Four refused proposals of one checkpoint by one client: one alarm row, counted.
    let alarms = w.store.load_alarms(None).await.unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0].occurrences, 4);
    assert_eq!(alarms[0].alarm.peer.as_deref(), Some("client 127.0.0.1"));
}

#[tokio::test]
async fn the_attestor_endpoint_serves_only_listed_relayers() {
    let w = world_with(None, "").await;
    let body = sign_request(&w, None).await;
    let (addr, _stop) = start(
        &w,
        &policy(&["relayer-a-token"], &["127.0.0.0/8"], 100, 100),
    )
    .await;
    let (status, json, _) = exchange(addr, &post(SIGN, &body, "")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (401, Some("unauthorized")),
        "{json}"
    );
    let (status, json, _) =
        exchange(addr, &post(SIGN, &body, "authorization: Bearer guess\r\n")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (403, Some("forbidden")),
        "{json}"
    );
    let (status, json, _) = exchange(
        addr,
        &post(SIGN, &body, "authorization: Bearer relayer-a-token\r\n"),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert!(
        json["signature"].as_str().is_some_and(|s| s.len() == 132),
        "{json}"
    );

    let (other, _stop2) = start(&w, &policy(&[], &["10.0.0.0/8"], 100, 100)).await;
    let (status, json, _) = exchange(other, &post(SIGN, &body, "")).await;
    assert_eq!(status, 403, "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("relayer_allow"),
        "{json}"
    );
}
