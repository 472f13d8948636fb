//! End to end with the real binary and the default three-chain devnet (alpha with our
//! registry and the real EAS contracts, beta with a third-party `HashStore` read by a
//! mapped source, gamma): an EAS attestation on alpha and a HashStore record on beta
//! are each provable on another chain and verify against its mirror; revocations of a
//! registry record and of an EAS attestation show in `bridge lookup` as revoked, with
//! the revocation provable on the other chains.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use evidence_adapters::{
    ChainRpc, EvidenceSource, MappedSource, RpcConfig, mapped::MappedSourceOptions,
    mapped::contracts::HashStore,
};
use evidence_schemas::{ChainId, DigestAlgorithm, Label};
use serde_json::Value;
use support::Devnet;

const PROVABLE: Duration = Duration::from_secs(150);

fn env_key(net: &Devnet, name: &str) -> PrivateKeySigner {
    let v = net
        .env
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap();
    v.parse().unwrap()
}

/// The value of `key = "..."` on the first line after `after` in the devnet config.
fn config_value(net: &Devnet, after: &str, key: &str) -> String {
    let text = std::fs::read_to_string(net.config()).unwrap();
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?} in the devnet config:\n{text}"));
    let line = text[start..]
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} after {after:?}"));
    line.split('"').nth(1).unwrap().to_owned()
}

/// The CAIP-2 id the devnet gave chain `name` (its chain ids are random).
fn chain_id(net: &Devnet, name: &str) -> ChainId {
    config_value(net, &format!("name = \"{name}\""), "chain_id")
        .parse()
        .unwrap()
}

fn cfg(net: &Devnet) -> String {
    net.config().to_str().unwrap().to_owned()
}

fn verify_on(net: &Devnet, record_id: &str, to: &str) {
    let bundle = net.wait_provable(record_id, to, PROVABLE).unwrap();
    let out = net.verify(&bundle);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "verify failed: {report}");
    assert_eq!(report["valid"], true, "{report}");
}

fn attest_eas(net: &Devnet, text: &str) -> Value {
    let file = net
        .dir
        .path()
        .join(format!("eas-{}.txt", rand::random::<u64>()));
    std::fs::write(&file, text).unwrap();
    net.json(&[
        "devnet",
        "attest-eas",
        "--config",
        &cfg(net),
        "--chain",
        "alpha",
        "--file",
        file.to_str().unwrap(),
        "--note",
        "e2e",
        "--json",
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn eas_and_mapped_records_are_provable_on_other_chains() {
    let net = Devnet::start(3, 1).unwrap();
    let _relayer = net.start_relayer(0);

    // An EAS attestation on alpha.
    let eas = attest_eas(&net, "a lease attested with EAS");
    let eas_record = eas["record_id"].as_str().unwrap().to_owned();
    assert_eq!(eas["record"]["source"]["adapter"], "eas");
    assert_eq!(eas["record"]["evidence"]["kind"], "eas-document");

    // A record of the third-party HashStore on beta, sent with plain alloy.
    let hashstore: Address = config_value(&net, "[[chains.mapped]]", "contract")
        .parse()
        .unwrap();
    let beta_url = net.rpc(1);
    let rpc = ChainRpc::connect(&RpcConfig::new(
        chain_id(&net, "beta"),
        vec![beta_url.clone()],
    ))
    .await
    .unwrap();
    let sender = env_key(&net, "BRIDGE_ANCHOR_KEY");
    let provider = alloy::providers::ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(sender.clone()))
        .connect_provider(rpc.provider().clone());
    let digest = DigestAlgorithm::Sha256.digest(b"a deed kept in a third-party contract");
    let receipt = HashStore::new(hashstore, &provider)
        .store(digest, "deed".into())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let block = receipt.block_number.unwrap();
    // The record id the bridge indexes, from the same adapter the bridge runs.
    let mapped = MappedSource::new(
        rpc,
        chain_id(&net, "beta"),
        MappedSourceOptions {
            name: "hashstore".into(),
            contract: hashstore,
            event: config_value(&net, "[[chains.mapped]]", "event"),
            digest: "hash".into(),
            digest_alg: DigestAlgorithm::Sha256,
            submitter: "owner".into(),
            kind_field: Some("kind".into()),
            kind: None,
            metadata_field: None,
            metadata_fields: vec![],
        },
        100,
    )
    .unwrap();
    let batch = mapped.fetch_records(block, block, None).await.unwrap();
    let rec = batch
        .records
        .iter()
        .find(|r| r.record.source.tx_hash == receipt.transaction_hash)
        .unwrap();
    assert_eq!(rec.record.evidence.submitter, sender.address());
    let mapped_record = rec.record.record_id().to_string();

    verify_on(&net, &eas_record, "beta");
    verify_on(&net, &eas_record, "gamma");
    verify_on(&net, &mapped_record, "alpha");
    verify_on(&net, &mapped_record, "gamma");

    // lookup finds the mapped record by its digest.
    let found = net.json(&[
        "lookup",
        "--config",
        &cfg(&net),
        &digest.to_string(),
        "--json",
    ]);
    let records = found["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{found}");
    assert_eq!(records[0]["record"]["source"]["adapter"], "mapped");
    assert_eq!(records[0]["revoked"], false);
}

/// Waits until `lookup` of `digest` shows its anchor revoked with the revocation
/// provable on every chain in `on`; returns that anchor's JSON.
fn wait_revoked(net: &Devnet, digest: &str, on: &[&str]) -> Value {
    let deadline = Instant::now() + PROVABLE;
    loop {
        let out = net.run(&["lookup", "--config", &cfg(net), digest, "--json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let anchor = v["records"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["record"]["action"] == "anchor")
                .cloned();
            if let Some(a) = anchor
                && a["revoked"] == true
            {
                let provable: Vec<&str> = a["revocation_provable_on"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect();
                if on.iter().all(|c| provable.contains(c)) {
                    return a;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "{digest} not shown revoked and provable on {on:?} in time"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn revocations_show_in_lookup_on_every_chain() {
    let net = Devnet::start(3, 1).unwrap();
    let _relayer = net.start_relayer(0);

    // Registry: anchor on alpha, provable on beta, then revoke.
    let file = net.dir.path().join("iou.txt");
    std::fs::write(&file, "an IOU, later revoked").unwrap();
    let anchored = net.json(&[
        "anchor",
        "--config",
        &cfg(&net),
        "--chain",
        "alpha",
        "--file",
        file.to_str().unwrap(),
        "--kind",
        "iou",
        "--json",
    ]);
    let anchor_id = anchored["record_id"].as_str().unwrap().to_owned();
    let digest: B256 = anchored["digest"].as_str().unwrap().parse().unwrap();
    net.wait_provable(&anchor_id, "beta", PROVABLE).unwrap();
    let registry: Address = config_value(&net, "name = \"alpha\"", "registry")
        .parse()
        .unwrap();
    let rpc = ChainRpc::connect(&RpcConfig::new(chain_id(&net, "alpha"), vec![net.rpc(0)]))
        .await
        .unwrap();
    let revoked = evidence_adapters::revoke(
        &rpc,
        env_key(&net, "BRIDGE_ANCHOR_KEY"),
        registry,
        DigestAlgorithm::Sha256,
        digest,
        anchor_id.parse().unwrap(),
        &Label::parse("kind", "iou").unwrap(),
    )
    .await
    .unwrap();
    let revoke_id = revoked.record.record_id().to_string();
    let (beta, gamma) = (
        chain_id(&net, "beta").to_string(),
        chain_id(&net, "gamma").to_string(),
    );
    let a = wait_revoked(&net, &digest.to_string(), &[&beta, &gamma]);
    assert_eq!(a["record_id"], anchor_id.as_str());
    assert_eq!(a["revoked_by"], revoke_id.as_str());
    verify_on(&net, &revoke_id, "beta");
    let text = net.run(&["lookup", "--config", &cfg(&net), &digest.to_string()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("REVOKED    by record"), "{text}");
    assert!(
        text.contains("REVOKED (the revocation is provable there too)"),
        "{text}"
    );

    // EAS: attest on alpha, provable on gamma, revoke with EAS, the revocation follows.
    let eas = attest_eas(&net, "an attestation, later revoked");
    let eas_id = eas["record_id"].as_str().unwrap().to_owned();
    let eas_digest = eas["record"]["evidence"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    net.wait_provable(&eas_id, "gamma", PROVABLE).unwrap();
    let uid = eas["uid"].as_str().unwrap();
    let rev = net.json(&[
        "devnet",
        "revoke-eas",
        "--config",
        &cfg(&net),
        "--chain",
        "alpha",
        uid,
        "--json",
    ]);
    assert_eq!(rev["record"]["action"], "revoke");
    assert_eq!(rev["record"]["ref"], eas_id.as_str());
    let a = wait_revoked(&net, &eas_digest, &[&beta, &gamma]);
    assert_eq!(a["record_id"], eas_id.as_str());
    assert_eq!(a["revoked_by"], rev["record_id"]);
}
