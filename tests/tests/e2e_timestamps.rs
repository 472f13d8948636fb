//! RFC 3161 timestamps end to end, on a real anvil devnet with the real binary and the
//! devnet's real TSA (OpenSSL `ts -reply` behind `bridge devnet up`'s loopback
//! endpoint):
//!
//! - every checkpoint a mirror accepted gets a token from the devnet TSA;
//! - every stored token is accepted by our verifier AND by `openssl ts -verify`;
//! - six misbehaving TSAs configured next to it, each a real HTTP endpoint started by
//!   this test — HTTP 500, garbage, a token for another imprint, a wrong nonce, an
//!   expired TSA certificate, a certificate of another root — store nothing and leave a
//!   failure naming the check, while relaying goes on;
//! - the proof bundle (v3) carries the token; `bridge verify --trust` (TSA roots from
//!   `bridge trust export`) and `--tsa-root` print the TSA's time; an altered token
//!   fails naming the check (exit 1), a garbage one is malformed (exit 2);
//! - `bridge lookup --json`, `bridge status` and the API (record view, bundle
//!   verification, `/metrics`) show the tokens and the failures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::primitives::B256;
use axum::{
    Router, body::Bytes, extract::State, http::StatusCode, response::IntoResponse, routing::post,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use der::Decode as _;
use evidence_relayer::store::{Route, Store};
use evidence_schemas::{
    ChainId, ProofBundle,
    checkpoint::MirrorDomain,
    timestamp::{TsaRoots, build_request, imprint_of, verify_token},
};
use evidence_tests::tsa::{OpensslTsa, TsaOptions, openssl_verify_token};
use serde_json::Value;
use support::Devnet;

/// How a test TSA misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Http500,
    Garbage,
    OtherImprint,
    WrongNonce,
    /// Honest replies from a TSA whose certificate expired, or of another root.
    Honest,
}

struct BadTsa {
    mode: Mode,
    tsa: OpensslTsa,
}

async fn answer(State(bad): State<Arc<BadTsa>>, body: Bytes) -> axum::response::Response {
    match bad.mode {
        Mode::Http500 => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance").into_response();
        }
        Mode::Garbage => {
            return (StatusCode::OK, "<html>not a TimeStampResp</html>").into_response();
        }
        _ => {}
    }
    let req =
        x509_tsp::TimeStampReq::from_der(&body).expect("the relayer sends a DER TimeStampReq");
    let imprint = B256::from_slice(req.message_imprint.hashed_message.as_bytes());
    let nonce = req
        .nonce
        .as_ref()
        .expect("the relayer sends a nonce")
        .as_bytes()
        .to_vec();
    let query = match bad.mode {
        Mode::OtherImprint => build_request(&imprint_of(&imprint), &nonce).unwrap(),
        Mode::WrongNonce => build_request(&imprint, &[0x42; 8]).unwrap(),
        _ => body.to_vec(),
    };
    let tsa = bad.tsa.clone();
    let reply = tokio::task::spawn_blocking(move || tsa.reply(&query))
        .await
        .unwrap();
    ([("content-type", "application/timestamp-reply")], reply).into_response()
}

/// Starts a test TSA on a loopback port; returns its URL.
async fn serve_bad_tsa(mode: Mode, tsa: OpensslTsa) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/tsa", post(answer))
        .with_state(Arc::new(BadTsa { mode, tsa }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn entry(name: &str, url: &str, root: &std::path::Path) -> String {
    format!(
        "[[timestamping]]\nname = \"{name}\"\nurl = \"{url}\"\nroot_cert = \"{}\"\ntimeout_ms = 3000\n\n",
        root.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn every_accepted_checkpoint_gets_a_checked_token_and_bad_tsas_store_nothing() {
    let net = Devnet::start(2, 1).unwrap();
    let config = net.config();
    let config_s = config.to_str().unwrap().to_owned();
    let devnet_root = net.dir.path().join("tsa/ca.crt");
    assert!(
        devnet_root.is_file(),
        "bridge devnet up made no TSA root at {}",
        devnet_root.display()
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("name = \"devnet-tsa\""),
        "the devnet config names its TSA"
    );

    // Six misbehaving TSAs next to the devnet's: each expects the failure it names.
    let work = net.dir.path().join("bad-tsas");
    let honest = OpensslTsa::create(&work.join("honest"), "Honest TSA", TsaOptions::default());
    let expired = OpensslTsa::create(
        &work.join("expired"),
        "Expired TSA",
        TsaOptions {
            expired: true,
            ..TsaOptions::default()
        },
    );
    let stranger = OpensslTsa::create(
        &work.join("stranger"),
        "Stranger TSA",
        TsaOptions::default(),
    );
    let bad: Vec<(&str, Mode, &OpensslTsa, PathBuf, &str)> = vec![
        (
            "tsa-500",
            Mode::Http500,
            &honest,
            honest.ca_cert.clone(),
            "HTTP 500",
        ),
        (
            "tsa-garbage",
            Mode::Garbage,
            &honest,
            honest.ca_cert.clone(),
            "check `token` failed",
        ),
        (
            "tsa-imprint",
            Mode::OtherImprint,
            &honest,
            honest.ca_cert.clone(),
            "check `imprint` failed",
        ),
        (
            "tsa-nonce",
            Mode::WrongNonce,
            &honest,
            honest.ca_cert.clone(),
            "check `nonce` failed",
        ),
        (
            "tsa-expired",
            Mode::Honest,
            &expired,
            expired.ca_cert.clone(),
            "check `validity` failed",
        ),
        // Signs honestly, but with a certificate of a root we did not configure.
        (
            "tsa-stranger",
            Mode::Honest,
            &stranger,
            honest.ca_cert.clone(),
            "check `chain` failed",
        ),
    ];
    let mut extra = String::new();
    for (name, mode, tsa, root, _) in &bad {
        let url = serve_bad_tsa(*mode, (*tsa).clone()).await;
        extra.push_str(&entry(name, &url, root));
    }
    let api_port = support::free_port_pair(1);
    extra.push_str(&format!("[api]\nlisten = \"127.0.0.1:{api_port}\"\n"));
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&extra);
    std::fs::write(&config, text).unwrap();
    let check = net.run(&["config", "check", "--config", &config_s]);
    assert!(
        check.status.success(),
        "config check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("timestamping: devnet-tsa"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let _relayer = net.start_relayer(0);
    let record_id = net.anchor_text("alpha", "an IOU with a trusted time");
    let bundle_path = net
        .wait_provable(&record_id, "beta", Duration::from_secs(120))
        .unwrap();

    // Every accepted checkpoint of both routes gets a devnet-tsa token.
    let alpha = ChainId::eip155(40_000 + u64::from(net.first_port));
    let beta = ChainId::eip155(40_001 + u64::from(net.first_port));
    let routes = [
        (
            Route::new(alpha.clone(), beta.clone()),
            MirrorDomain {
                chain_id: beta.eip155_id().unwrap(),
                mirror: net.mirror(1),
            },
        ),
        (
            Route::new(beta.clone(), alpha.clone()),
            MirrorDomain {
                chain_id: alpha.eip155_id().unwrap(),
                mirror: net.mirror(0),
            },
        ),
    ];
    let store = Store::connect_read_only(&net.store_url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut checked = 0;
    loop {
        let (mut accepted, mut missing) = (0, Vec::new());
        for (route, _) in &routes {
            for sub in store.load_confirmed_submissions(route, 0).await.unwrap() {
                accepted += 1;
                let tokens = store.load_timestamps(route, sub.size).await.unwrap();
                if !tokens.iter().any(|t| t.tsa == "devnet-tsa") {
                    missing.push(format!("{route} size {}", sub.size));
                }
            }
        }
        if missing.is_empty() && accepted > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "accepted checkpoints without a devnet TSA token after 60 s: {missing:?}\n{}",
            net.log_tails(40)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every stored token: ours and OpenSSL's verifier accept it; nothing from a bad TSA.
    let roots = TsaRoots::from_pem(&std::fs::read_to_string(&devnet_root).unwrap()).unwrap();
    for (route, domain) in &routes {
        for sub in store.load_confirmed_submissions(route, 0).await.unwrap() {
            let checkpoint = store
                .load_checkpoint(&route.source, sub.size)
                .await
                .unwrap()
                .unwrap();
            let hash = checkpoint.signing_hash(domain);
            for t in store.load_timestamps(route, sub.size).await.unwrap() {
                assert_eq!(
                    t.tsa, "devnet-tsa",
                    "a token from a misbehaving TSA was stored: {route} size {}",
                    sub.size
                );
                let v = verify_token(&t.token, &imprint_of(&hash), &roots).unwrap();
                assert_eq!(v.gen_time, t.gen_time);
                assert!(
                    v.tsa_subject.contains("Evidence Bridge devnet TSA"),
                    "{}",
                    v.tsa_subject
                );
                openssl_verify_token(
                    &net.dir.path().join(format!("ossl-{checked}")),
                    &t.token,
                    hash.as_slice(),
                    &devnet_root,
                )
                .unwrap_or_else(|e| {
                    panic!("openssl ts -verify refused {route} size {}: {e}", sub.size)
                });
                checked += 1;
            }
        }
    }
    assert!(checked >= 1, "no token checked");

    // Each bad TSA failed, for its own reason, and is retried later.
    let deadline = Instant::now() + Duration::from_secs(30);
    for (name, _, _, _, why) in &bad {
        loop {
            let failures = store
                .load_timestamp_failures(&routes[0].0, 100)
                .await
                .unwrap();
            if let Some(f) = failures.iter().find(|f| f.tsa == *name) {
                assert!(
                    f.last_error.contains(why),
                    "{name}: expected {why:?}, got {:?}",
                    f.last_error
                );
                break;
            }
            assert!(Instant::now() < deadline, "no failure recorded for {name}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let status = net.status().to_string();
    assert!(
        status.contains("\"timestamp_failures\"") && status.contains("tsa-garbage"),
        "bridge status shows the failures: {status}"
    );
    let log = std::fs::read_to_string(net.dir.path().join("run-0.log")).unwrap();
    assert!(
        log.contains("timestamp request failed") && log.contains("tsa-nonce"),
        "failures are logged"
    );

    // The bundle carries the token (fetch again until it does: the token may follow
    // the checkpoint by a moment), and verify prints the TSA's time.
    let deadline = Instant::now() + Duration::from_secs(30);
    let bundle = loop {
        let b = ProofBundle::from_json(&std::fs::read_to_string(&bundle_path).unwrap()).unwrap();
        if !b.timestamps.is_empty() {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "the bundle never carried a timestamp"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        net.wait_provable(&record_id, "beta", Duration::from_secs(10))
            .unwrap();
    };
    assert_eq!(bundle.version, 3);
    let trust = net.dir.path().join("trust.json");
    let out = net.run(&[
        "trust",
        "export",
        "--config",
        &config_s,
        "-o",
        trust.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trust_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&trust).unwrap()).unwrap();
    assert!(
        trust_json["tsa_roots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "devnet-tsa"),
        "{trust_json}"
    );
    let b = bundle_path.to_str().unwrap();
    let out = net.run(&["verify", b, "--offline", "--trust", trust.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("RFC 3161 time") && stdout.contains("devnet-tsa"),
        "{stdout}"
    );
    let report = net.json(&[
        "verify",
        b,
        "--offline",
        "--trust",
        trust.to_str().unwrap(),
        "--tsa-root",
        devnet_root.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(report["status"], "valid");
    let shown = jiff_seconds(report["timestamps"][0]["gen_time"].as_str().unwrap());
    assert_eq!(shown, bundle.timestamps[0].gen_time);

    // An altered token fails naming the check; a garbage one is malformed.
    let mut der = bundle.timestamps[0].token.clone();
    let pos = der.len() - 10; // inside the signature
    der[pos] ^= 0x01;
    for (token, code, check) in [
        (STANDARD.encode(&der), 1, "timestamp_"),
        (STANDARD.encode(b"garbage"), 2, "timestamp_token"),
    ] {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(&bundle_path).unwrap()).unwrap();
        v["timestamps"][0]["token"] = token.into();
        let bad_path = net.dir.path().join("bad-token.bundle.json");
        std::fs::write(&bad_path, serde_json::to_string(&v).unwrap()).unwrap();
        let out = net.run(&[
            "verify",
            bad_path.to_str().unwrap(),
            "--offline",
            "--trust",
            trust.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(code), "{stdout}");
        assert!(stdout.contains(&format!("FAIL {check}")), "{stdout}");
    }

    // The API: the record's view, bundle verification (ok, and an altered token), metrics.
    let api = format!("http://127.0.0.1:{api_port}");
    let http = reqwest::Client::new();
    let view: Value = http
        .get(format!("{api}/api/v1/records/{record_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let on = view["mirrored_on"].as_array().unwrap();
    assert!(
        on.iter()
            .any(|m| m["timestamps"].as_array().is_some_and(|t| t
                .iter()
                .any(|t| t["tsa"] == "devnet-tsa" && t["token"].is_string()))),
        "the API's record view shows the token: {view}"
    );
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle_path).unwrap()).unwrap();
    let verify = |bundle: Value| {
        let request = http
            .post(format!("{api}/api/v1/bundles/verify"))
            .json(&bundle);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let report = verify(original.clone()).await;
    assert_eq!(report["timestamps"][0]["tsa"], "devnet-tsa", "{report}");
    let mut altered = original.clone();
    altered["timestamps"][0]["token"] = STANDARD.encode(&der).into();
    let report = verify(altered).await;
    assert_eq!(report["valid"], false, "{report}");
    assert!(
        report["failed_check"]
            .as_str()
            .unwrap()
            .starts_with("timestamp_"),
        "{report}"
    );
    let metrics = http
        .get(format!("{api}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("bridge_timestamps_total")
            && metrics.contains("bridge_timestamp_failures_total"),
        "timestamp metrics are exported"
    );

    // The lookup shows it.
    let digest = bundle.record.evidence.digest.to_string();
    let lookup = net.json(&["lookup", "--config", &config_s, &digest, "--json"]);
    let text = lookup.to_string();
    assert!(
        text.contains("\"tsa\":\"devnet-tsa\"") && text.contains("tsa_subject"),
        "{text}"
    );
}

fn jiff_seconds(rfc3339: &str) -> u64 {
    // `2026-12-01T12:00:00Z` → unix seconds, via the schemas' own Timestamp reader.
    let v = serde_json::json!({ "tsa": "x", "token": "", "gen_time": rfc3339 });
    serde_json::from_value::<evidence_schemas::timestamp::Timestamp>(v)
        .unwrap()
        .gen_time
}
