//! Independent attestors, end to end with the real binary: a three-chain devnet, three
//! attest-only partner instances (`bridge run`, each with ONE attestor key, its own
//! store and API port) and one relaying instance that holds no attestor key, gathers
//! signatures from the three URLs and needs two of them (the mirrors' threshold).
//!
//! - records flow all ways and verify everywhere, signed by the partners;
//! - one partner SIGKILLed: relaying continues; two: nothing is mirrored, it waits;
//!   one restarted: it resumes and nothing is lost;
//! - a partner that signs a wrong root (a fake HTTP attestor in this process, holding
//!   a real key of the set) has its signature rejected and is reported (alarm in
//!   `bridge status`); an honest partner asked to sign a wrong root refuses with its
//!   own root and raises an alarm itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256},
    signers::{SignerSync, local::PrivateKeySigner},
};
use evidence_relayer::attestors::{SignRequest, SignResponse};
use evidence_schemas::checkpoint::MirrorDomain;
use serde_json::Value;
use support::{AttestorInstance, Devnet, Relayer, evidence_size};

const PROVABLE: Duration = Duration::from_secs(150);

/// The mirrored size of `from` on `to`, per the relaying instance's status.
fn confirmed_size(status: &Value, from: &str, to_chain_id: &str) -> Option<u64> {
    let chain = status.as_array()?.iter().find(|c| c["name"] == from)?;
    chain["destinations"]
        .as_array()?
        .iter()
        .find(|d| d["destination_chain"] == to_chain_id)?["last_confirmed_size"]
        .as_u64()
}

fn chain_id_of(status: &Value, name: &str) -> String {
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["chain"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn alarms(status: &Value) -> Vec<Value> {
    status
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["alarms"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn assert_verifies_with_partners(net: &Devnet, bundle: &std::path::Path, partners: &[Address]) {
    let out = net.verify(bundle);
    assert!(
        out.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let b: Value = serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let signers: Vec<Address> = b["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["attestor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(signers.len() >= 2, "threshold 2: {b}");
    for s in &signers {
        assert!(
            partners.contains(s),
            "signature by {s}, not by a partner attestor: {b}"
        );
    }
}

/// SIGKILLs a partner process.
fn stop(p: Option<Relayer>) {
    let mut p = p.expect("partner is running");
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn three_partners_threshold_two_survive_one_down_and_wait_for_two() {
    let net = Devnet::start(3, 1).unwrap();
    let partners: Vec<AttestorInstance> =
        (0..3).map(|i| net.attestor_instance(i).unwrap()).collect();
    let mut procs: Vec<Option<Relayer>> = partners
        .iter()
        .enumerate()
        .map(|(i, a)| Some(net.start_attestor(i, a)))
        .collect();
    // The relaying instance is the devnet's own `relayer.toml`: no attestor key, the
    // three partners as remote attestors.
    net.use_partner_relayer().unwrap();
    let relayer_config = std::fs::read_to_string(net.config()).unwrap();
    assert!(
        !relayer_config.contains("attestor_keys_env"),
        "the relaying instance must hold no attestor key"
    );
    for p in &partners {
        assert!(
            relayer_config.contains(&format!("url = \"{}\"\naddress = \"{}\"", p.url, p.address)),
            "{relayer_config}"
        );
    }
    let addresses: Vec<Address> = partners.iter().map(|a| a.address).collect();
    let _relayer = net.start_relayer(0);

    // Every chain to every other chain.
    let chains = ["alpha", "beta", "gamma"];
    let anchored: Vec<(&str, String)> = chains
        .iter()
        .map(|c| {
            (
                *c,
                net.anchor_text(c, &format!("a partner deal anchored on {c}")),
            )
        })
        .collect();
    for (from, id) in &anchored {
        for to in chains.iter().filter(|t| *t != from) {
            let bundle = net.wait_provable(id, to, PROVABLE).unwrap();
            assert_verifies_with_partners(&net, &bundle, &addresses);
        }
    }

    // One partner down: two signatures are still there.
    stop(procs[0].take());
    let one_down = net.anchor_text("alpha", "anchored while partner 0 is down");
    for to in ["beta", "gamma"] {
        let bundle = net.wait_provable(&one_down, to, PROVABLE).unwrap();
        assert_verifies_with_partners(&net, &bundle, &addresses);
    }

    // Two down: indexed and checkpointed, but nothing is mirrored. (First let the
    // round-trip receipts settle, so nothing is in flight.)
    net.wait_quiet(PROVABLE).unwrap();
    stop(procs[1].take());
    let status = net.status();
    let (alpha_id, gamma_id) = (chain_id_of(&status, "alpha"), chain_id_of(&status, "gamma"));
    let before = (
        confirmed_size(&status, "beta", &alpha_id),
        confirmed_size(&status, "beta", &gamma_id),
    );
    assert!(
        before.0.is_some() && before.1.is_some(),
        "beta was mirrored on alpha and gamma: {status}"
    );
    let waiting = net.anchor_text("beta", "anchored while two partners are down");
    let deadline = Instant::now() + Duration::from_secs(60);
    while evidence_size(&net.status(), "beta") < 2 {
        assert!(Instant::now() < deadline, "beta's record was never indexed");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Let beta's checkpoint over the record exist and the relayer index 12 more blocks
    // (six checkpoint intervals of trying to gather signatures from one attestor).
    let deadline = Instant::now() + Duration::from_secs(60);
    let checkpointed = loop {
        let status = net.status();
        let beta = status
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == "beta"))
            .cloned()
            .unwrap_or_default();
        if beta["last_checkpoint"]["size"].as_u64() >= beta["log_size"].as_u64()
            && beta["log_size"].as_u64() > Some(0)
        {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "beta never checkpointed its new record: {status}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let status = net
        .wait_processed_past(&checkpointed, &["beta"], 12, Duration::from_secs(90))
        .unwrap();
    assert_eq!(
        (
            confirmed_size(&status, "beta", &alpha_id),
            confirmed_size(&status, "beta", &gamma_id)
        ),
        before,
        "something was mirrored with one attestor up: {status}"
    );
    let config = net.config();
    let out = net.run(&[
        "proof",
        "--config",
        config.to_str().unwrap(),
        &waiting,
        "--to",
        "alpha",
        "-o",
        "/dev/null",
    ]);
    assert!(!out.status.success(), "provable with one attestor up");

    // One comes back (same store): relaying resumes, nothing lost.
    procs[1] = Some(net.start_attestor(1, &partners[1]));
    for to in ["alpha", "gamma"] {
        let bundle = net.wait_provable(&waiting, to, PROVABLE).unwrap();
        assert_verifies_with_partners(&net, &bundle, &addresses);
    }
    for (from, id) in anchored.iter().chain([("alpha", one_down.clone())].iter()) {
        for to in chains.iter().filter(|t| *t != from) {
            let bundle = net.wait_provable(id, to, PROVABLE).unwrap();
            assert!(
                net.verify(&bundle).status.success(),
                "{id} on {to} no longer verifies"
            );
        }
    }
    let status = net.status();
    assert_eq!(
        [
            evidence_size(&status, "alpha"),
            evidence_size(&status, "beta"),
            evidence_size(&status, "gamma")
        ],
        [2, 2, 1]
    );
    assert!(
        alarms(&status).is_empty(),
        "honest partners raised alarms: {status}"
    );
    for i in [1, 2] {
        let partner = net.status_of(&partners[i].config);
        assert!(
            alarms(&partner).is_empty(),
            "partner {i} raised alarms: {partner}"
        );
        assert_eq!(
            evidence_size(&partner, "beta"),
            2,
            "partner {i} indexes on its own: {partner}"
        );
    }
}

/// A fake attestor: answers every signing request with a signature, by a real key of
/// the set, over the proposed checkpoint with a different root.
fn spawn_lying_attestor(key: PrivateKeySigner) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Ok(body) = read_http_body(&stream) else {
                continue;
            };
            let Ok(req) = serde_json::from_slice::<SignRequest>(&body) else {
                continue;
            };
            let mut lie = req.checkpoint.clone();
            lie.root = B256::repeat_byte(0x66);
            let domain = MirrorDomain {
                chain_id: req.destination_chain.eip155_id().unwrap(),
                mirror: req.mirror,
            };
            let sig = key.sign_hash_sync(&lie.signing_hash(&domain)).unwrap();
            let answer = serde_json::to_vec(&SignResponse {
                attestor: key.address(),
                signature: sig.as_bytes().to_vec().into(),
            })
            .unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let _ = write_http(&stream, "200 OK", &answer);
        }
    });
    (url, served)
}

fn read_http_body(stream: &TcpStream) -> std::io::Result<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn write_http(mut stream: &TcpStream, status: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// POSTs JSON; returns (status code, JSON body).
fn post_json(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let hostport = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(hostport).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = serde_json::to_vec(body).unwrap();
    write!(stream, "POST {path} HTTP/1.1\r\nhost: {hostport}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()).unwrap();
    stream.write_all(&body).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let code = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        code,
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

#[test]
fn an_attestor_that_signs_a_wrong_root_is_rejected_and_reported() {
    let net = Devnet::start(3, 1).unwrap();
    let honest: Vec<AttestorInstance> = (0..2).map(|i| net.attestor_instance(i).unwrap()).collect();
    let _procs: Vec<Relayer> = honest
        .iter()
        .enumerate()
        .map(|(i, a)| net.start_attestor(i, a))
        .collect();
    let liar_key: PrivateKeySigner = net.attestor_keys()[2].parse().unwrap();
    let liar = liar_key.address();
    let (liar_url, served) = spawn_lying_attestor(liar_key);
    // The liar is listed first, so it is always asked.
    let mut remote = vec![(liar_url.clone(), liar)];
    remote.extend(honest.iter().map(|a| (a.url.clone(), a.address)));
    net.use_remote_attestors(&remote).unwrap();
    let _relayer = net.start_relayer(0);

    let id = net.anchor_text("alpha", "an IOU the liar would like to rewrite");
    let bundle = net.wait_provable(&id, "gamma", PROVABLE).unwrap();
    let honest_addresses: Vec<Address> = honest.iter().map(|a| a.address).collect();
    assert_verifies_with_partners(&net, &bundle, &honest_addresses);
    assert!(
        served.load(Ordering::SeqCst) > 0,
        "the lying attestor was never asked"
    );

    // Reported: an alarm naming the liar's URL and address, and `bridge status` shows it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let alarm = loop {
        let found = alarms(&net.status())
            .into_iter()
            .find(|a| a["kind"] == "bad_signature");
        if let Some(a) = found {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "no bad_signature alarm: {}",
            net.status()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let peer = alarm["peer"].as_str().unwrap();
    assert!(
        peer.contains(&liar_url) && peer.to_lowercase().contains(&format!("{liar:x}")),
        "{alarm}"
    );
    let config = net.config();
    let text = net.run(&["status", "--config", config.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("ALARM bad_signature") && text.contains(&liar_url),
        "{text}"
    );

    // An honest partner asked to sign a wrong root refuses, gives its own root, and
    // raises the alarm itself.
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let mut checkpoint = b["checkpoint"].clone();
    let true_root = checkpoint["root"].clone();
    checkpoint["root"] = format!("0x{}", "77".repeat(32)).into();
    let request = serde_json::json!({
        "checkpoint": checkpoint,
        "destination_chain": b["destination"]["chain"],
        "mirror": b["destination"]["mirror"],
    });
    let (code, answer) = post_json(
        &honest[0].url,
        "/api/v1/attestor/checkpoints/sign",
        &request,
    );
    assert_eq!(code, 409, "{answer}");
    assert_eq!(answer["error"], "mismatch");
    assert_eq!(answer["root"], true_root, "{answer}");
    let partner = net.status_of(&honest[0].config);
    assert!(
        alarms(&partner)
            .iter()
            .any(|a| a["kind"] == "root_mismatch"),
        "{partner}"
    );

    // The true checkpoint is signed; one beyond its log is "behind"; garbage is a 400.
    let mut good = request.clone();
    good["checkpoint"]["root"] = true_root;
    let (code, answer) = post_json(&honest[0].url, "/api/v1/attestor/checkpoints/sign", &good);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(
        answer["attestor"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        honest[0].address
    );
    let mut ahead = good.clone();
    ahead["checkpoint"]["size"] = 1000.into();
    let (code, answer) = post_json(&honest[0].url, "/api/v1/attestor/checkpoints/sign", &ahead);
    assert_eq!(
        (code, answer["error"].as_str()),
        (425, Some("behind")),
        "{answer}"
    );
    let (code, answer) = post_json(
        &honest[0].url,
        "/api/v1/attestor/checkpoints/sign",
        &serde_json::json!({"size": 1}),
    );
    assert_eq!(
        (code, answer["error"].as_str()),
        (400, Some("bad_request")),
        "{answer}"
    );
}
