//! A partner attestor flooded with valid signing requests (about 1,000 per second from
//! one client) keeps indexing its own chains: the flood is refused cheaply (429 by the
//! per-client token bucket), the requests let through are bounded and answered from
//! the signature cache, nothing answers 5xx, and records anchored during the flood reach
//! the attestor's log. The indexing delay with and without the flood is printed (the
//! figures in docs/BENCHMARKS.md come from this test); only liveness is asserted.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::support::{Devnet, evidence_size, rpc};

/// Requests per second the flood aims at, from one client address.
const FLOOD_PER_SEC: u64 = 1000;

/// Seconds until the attestor's log of `chain` holds `size` evidence records (polled).
fn seconds_until_indexed(net: &Devnet, config: &std::path::Path, chain: &str, size: u64) -> f64 {
    let started = Instant::now();
    loop {
        let status = net.status_of(config);
        let known = status
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["name"] == chain));
        if known && evidence_size(&status, chain) >= size {
            return started.elapsed().as_secs_f64();
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the attestor did not index record {size} of {chain} within 90 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_flooded_attestor_keeps_indexing() {
    let net = Devnet::start(2, 1).unwrap();
    let partner = net.attestor_instance(0).unwrap();
    let _attestor = net.start_attestor(0, &partner);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Baseline: one record, no flood.
    net.anchor_text("alpha", "flood baseline");
    let quiet = seconds_until_indexed(&net, &partner.config, "alpha", 1);

    // A valid request: the attestor's own newest checkpoint of alpha, for beta's mirror.
    let base = partner.url.clone();
    let (cp, block_hash) = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let page: Value =
                reqwest::get(format!("{base}/api/v1/chains/alpha/checkpoints?limit=1"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            if let Some(cp) = page["checkpoints"].get(0).cloned() {
                let number = cp["source_block_number"].as_u64().unwrap();
                let block = rpc(
                    &net.rpc(0),
                    "eth_getBlockByNumber",
                    json!([format!("{number:#x}"), false]),
                )
                .await
                .unwrap();
                break (cp, block["hash"].as_str().unwrap().to_owned());
            }
            assert!(
                Instant::now() < deadline,
                "the attestor made no checkpoint of alpha"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    // The devnet numbers its chains' ids after their ports.
    let alpha_id = format!("eip155:{}", 40_000 + u64::from(net.first_port));
    let beta_id = format!("eip155:{}", 40_000 + u64::from(net.first_port) + 1);
    let request = json!({
        "checkpoint": { "source_chain": alpha_id, "size": cp["size"], "root": cp["root"],
                        "source_block_number": cp["source_block_number"], "source_block_hash": block_hash },
        "destination_chain": beta_id,
        "mirror": net.mirror(1).to_string(),
    });
    let url = format!("{base}{}", evidence_relayer::attestors::SIGN_PATH);

    // The flood: ~1,000 requests per second over 40 connections, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default()); // 200, 429, other 4xx, 5xx or error
    let flood = {
        let (stop, counts, url, request) =
            (stop.clone(), counts.clone(), url.clone(), request.clone());
        rt.spawn(async move {
            let client = reqwest::Client::new();
            let workers = 40u64;
            let gap = Duration::from_micros(1_000_000 * workers / FLOOD_PER_SEC);
            let tasks: Vec<_> = (0..workers)
                .map(|_| {
                    let (stop, counts, url, request, client) = (
                        stop.clone(),
                        counts.clone(),
                        url.clone(),
                        request.clone(),
                        client.clone(),
                    );
                    tokio::spawn(async move {
                        let mut tick = tokio::time::interval(gap);
                        while !stop.load(Ordering::Relaxed) {
                            tick.tick().await;
                            let slot = match client.post(&url).json(&request).send().await {
                                Ok(r) if r.status().as_u16() == 200 => 0,
                                Ok(r) if r.status().as_u16() == 429 => 1,
                                Ok(r) if r.status().is_client_error() => 2,
                                _ => 3,
                            };
                            counts[slot].fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for t in tasks {
                let _ = t.await;
            }
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    let flood_started = Instant::now();
    net.anchor_text("alpha", "anchored during the flood");
    let flooded = seconds_until_indexed(&net, &partner.config, "alpha", 2);
    net.anchor_text("alpha", "anchored later in the flood");
    let flooded_again = seconds_until_indexed(&net, &partner.config, "alpha", 3);
    let flood_secs = flood_started.elapsed().as_secs_f64() + 2.0;
    stop.store(true, Ordering::Relaxed);
    rt.block_on(flood).unwrap();

    let [ok, limited, client_error, failed] =
        [0, 1, 2, 3].map(|i| counts[i].load(Ordering::Relaxed));
    let total = ok + limited + client_error + failed;
    eprintln!(
        "flood: {total} requests in {flood_secs:.1} s ({:.0}/s): {ok} signed, {limited} rate-limited, {client_error} other 4xx, {failed} 5xx/errors; \
         indexing delay without flood {quiet:.2} s, during the flood {flooded:.2} s and {flooded_again:.2} s",
        total as f64 / flood_secs
    );
    assert!(ok > 0, "no valid request was signed");
    assert!(
        limited > ok,
        "the flood was not rate limited: {ok} signed, {limited} limited"
    );
    assert_eq!(
        (client_error, failed),
        (0, 0),
        "the flood got errors other than 429"
    );
    // The attestor still signs for its relayer after the flood (the token bucket refills).
    std::thread::sleep(Duration::from_secs(3));
    let answer = rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .json(&request)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(answer, 200);
}
