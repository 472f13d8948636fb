//! The `registry` source adapter against a real anvil node: the real contract, real
//! `eth_getLogs`, failover to a second URL, sequence reconciliation, quarantine.
//!
//! Only the test itself uses anvil's dev methods (`evm_mine`, `evm_setAutomine`) to
//! shape blocks; the adapter under test uses standard JSON-RPC only.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, time::Duration};

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use evidence_adapters::{
    AdapterError, ChainRpc, EvidenceSource, RegistrySource, RegistrySourceOptions, RpcConfig,
    anchor, contracts::EvidenceRegistry, deploy_contracts, revoke,
};
use evidence_schemas::{Action, ChainId, DigestAlgorithm, Label};

fn anvil_bin() -> PathBuf {
    let path = std::env::var_os("ANVIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
        });
    assert!(
        path.exists(),
        "anvil not found at {} — run `npm ci` in deploy/ or set ANVIL_BIN; these tests need a real node",
        path.display()
    );
    path
}

fn spawn_anvil() -> AnvilInstance {
    Anvil::at(anvil_bin()).spawn()
}

fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn connect(urls: Vec<String>) -> ChainRpc {
    ChainRpc::connect(&RpcConfig::new(ChainId::eip155(31337), urls))
        .await
        .unwrap()
}

fn fast_opts() -> RegistrySourceOptions {
    RegistrySourceOptions {
        retry_pause: Duration::from_millis(10),
        ..Default::default()
    }
}

async fn mine(url: &str, blocks: u64) {
    let p = ProviderBuilder::new().connect_http(url.parse().unwrap());
    for _ in 0..blocks {
        let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    }
}

struct World {
    anvil: AnvilInstance,
    rpc: ChainRpc,
    registry: Address,
    start: u64,
    /// Every record the `anchor`/`revoke` helpers reported, in order, with seq.
    expected: Vec<(u64, B256)>,
}

/// Deploys, then anchors and revokes from two accounts over many blocks, including
/// one block holding three transactions and one event whose kind the adapter must
/// quarantine.
async fn world() -> World {
    let anvil = spawn_anvil();
    let url = anvil.endpoint();
    let rpc = connect(vec![url.clone()]).await;
    let keys: Vec<PrivateKeySigner> = anvil
        .keys()
        .iter()
        .take(3)
        .map(|k| k.clone().into())
        .collect();
    let deployed = deploy_contracts(&rpc, keys[0].clone(), keys[0].address(), 3_600)
        .await
        .unwrap();
    let kind = Label::parse("kind", "iou").unwrap();
    let mut expected = Vec::new();
    for i in 0u8..12 {
        let alg = DigestAlgorithm::ALL[usize::from(i) % 3];
        let digest = alg.digest(&[i]);
        let signer = keys[usize::from(i) % 2].clone();
        let a = anchor(
            &rpc,
            signer.clone(),
            deployed.registry,
            alg,
            digest,
            &kind,
            B256::repeat_byte(i),
        )
        .await
        .unwrap();
        assert_eq!(a.record.action, Action::Anchor);
        expected.push((a.seq, a.record.record_id()));
        if i % 4 == 3 {
            let r = revoke(
                &rpc,
                signer,
                deployed.registry,
                alg,
                digest,
                a.record.record_id(),
                &kind,
            )
            .await
            .unwrap();
            assert_eq!(r.record.reference, Some(a.record.record_id()));
            expected.push((r.seq, r.record.record_id()));
        }
        if i % 5 == 0 {
            mine(&url, 3).await; // empty blocks between events
        }
    }
    World {
        anvil,
        rpc,
        registry: deployed.registry,
        start: deployed.registry_block,
        expected,
    }
}

#[tokio::test]
async fn fetches_every_record_once_in_order_with_the_helpers_ids() {
    let w = world().await;
    let source = RegistrySource::new(
        w.rpc.clone(),
        ChainId::eip155(31337),
        w.registry,
        fast_opts(),
    );
    assert_eq!(source.adapter_name(), "registry");
    let head = source.fetch_head().await.unwrap();

    let all = source
        .fetch_records(
            w.start,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    assert!(all.quarantined.is_empty());
    let got: Vec<(u64, B256)> = all
        .records
        .iter()
        .map(|r| (r.seq.unwrap(), r.record.record_id()))
        .collect();
    assert_eq!(
        got, w.expected,
        "records differ from what the anchor helper reported"
    );
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=w.expected.len() as u64).collect::<Vec<_>>());
    for r in &all.records {
        let b = source
            .fetch_block(r.record.source.block_number)
            .await
            .unwrap();
        assert_eq!(b.hash, r.record.source.block_hash);
        assert_eq!(b.timestamp, r.record.source.block_timestamp);
        assert_eq!(r.record.source.contract, w.registry);
    }

    // Any partition of the range into consecutive inclusive pieces gives the same
    // records, each once; each piece is checked against the seq the previous ended at.
    for piece in [1u64, 2, 3, 7, 1_000] {
        let mut joined = Vec::new();
        let mut next_seq = 1;
        let mut a = w.start;
        while a <= head.number {
            let b = (a + piece - 1).min(head.number);
            let batch = source
                .fetch_records(
                    a,
                    b,
                    Some(evidence_adapters::SourceState::from_stored(next_seq)),
                )
                .await
                .unwrap();
            if let Some(last) = batch.records.last() {
                next_seq = last.seq.unwrap() + 1;
            }
            joined.extend(
                batch
                    .records
                    .iter()
                    .map(|r| (r.seq.unwrap(), r.record.record_id())),
            );
            a = b + 1;
        }
        assert_eq!(joined, w.expected, "piece size {piece}");
    }

    // Overlapping ranges are idempotent: the overlap gives the same records.
    let mid = (w.start + head.number) / 2;
    let left = source.fetch_records(w.start, mid + 2, None).await.unwrap();
    let right = source
        .fetch_records(mid - 2, head.number, None)
        .await
        .unwrap();
    let again = source.fetch_records(mid - 2, mid + 2, None).await.unwrap();
    let in_overlap = |b: &evidence_adapters::SourceBatch| -> Vec<B256> {
        b.records
            .iter()
            .filter(|r| (mid - 2..=mid + 2).contains(&r.record.source.block_number))
            .map(|r| r.record.record_id())
            .collect()
    };
    assert_eq!(in_overlap(&left), in_overlap(&right));
    assert_eq!(in_overlap(&left), in_overlap(&again));
    assert_eq!(again.records.len(), in_overlap(&again).len());

    // Before the deployment, and in empty blocks after the last event: nothing.
    assert!(
        source
            .fetch_records(0, w.start - 1, None)
            .await
            .unwrap()
            .records
            .is_empty()
    );
    mine(&w.anvil.endpoint(), 5).await;
    let head2 = source.fetch_head().await.unwrap();
    let tail = source
        .fetch_records(
            head.number + 1,
            head2.number,
            Some(evidence_adapters::SourceState::from_stored(
                w.expected.len() as u64 + 1,
            )),
        )
        .await
        .unwrap();
    assert!(tail.records.is_empty() && tail.quarantined.is_empty());
}

#[tokio::test]
async fn several_transactions_in_one_block_come_in_tx_order() {
    let anvil = spawn_anvil();
    let url = anvil.endpoint();
    let rpc = connect(vec![url.clone()]).await;
    let key: PrivateKeySigner = anvil.keys()[0].clone().into();
    let deployed = deploy_contracts(&rpc, key.clone(), key.address(), 3_600)
        .await
        .unwrap();
    let wallet = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(url.parse().unwrap());
    let _: serde_json::Value = wallet
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();
    let registry = EvidenceRegistry::new(deployed.registry, &wallet);
    let mut hashes = Vec::new();
    for i in 1u8..=3 {
        let pending = registry
            .anchor(1, B256::repeat_byte(i), "iou".into(), B256::ZERO)
            .send()
            .await
            .unwrap();
        hashes.push(*pending.tx_hash());
    }
    let _: serde_json::Value = wallet.raw_request("evm_mine".into(), ()).await.unwrap();
    let _: serde_json::Value = wallet
        .raw_request("evm_setAutomine".into(), (true,))
        .await
        .unwrap();

    let source = RegistrySource::new(rpc, ChainId::eip155(31337), deployed.registry, fast_opts());
    let head = source.fetch_head().await.unwrap();
    let batch = source
        .fetch_records(
            deployed.registry_block,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    let got: Vec<_> = batch
        .records
        .iter()
        .map(|r| {
            (
                r.record.source.block_number,
                r.record.source.tx_index,
                r.record.source.tx_hash,
            )
        })
        .collect();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(b, _, _)| *b == head.number), "{got:?}");
    assert_eq!(
        got.iter().map(|(_, i, _)| *i).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(got.iter().map(|(_, _, h)| *h).collect::<Vec<_>>(), hashes);
}

#[tokio::test]
async fn another_registry_at_another_address_is_not_read() {
    let w = world().await;
    let key: PrivateKeySigner = w.anvil.keys()[2].clone().into();
    let other = deploy_contracts(&w.rpc, key.clone(), key.address(), 3_600)
        .await
        .unwrap();
    let kind = Label::parse("kind", "decoy").unwrap();
    for i in 0u8..3 {
        anchor(
            &w.rpc,
            key.clone(),
            other.registry,
            DigestAlgorithm::Sha256,
            B256::repeat_byte(0xd0 + i),
            &kind,
            B256::ZERO,
        )
        .await
        .unwrap();
    }
    let source = RegistrySource::new(
        w.rpc.clone(),
        ChainId::eip155(31337),
        w.registry,
        fast_opts(),
    );
    let head = source.fetch_head().await.unwrap();
    let batch = source
        .fetch_records(
            w.start,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    assert_eq!(batch.records.len(), w.expected.len());
    assert!(batch.records.iter().all(
        |r| r.record.source.contract == w.registry && r.record.evidence.kind.as_str() == "iou"
    ));
}

#[tokio::test]
async fn fails_over_from_a_dead_url_and_rejects_a_wrong_chain() {
    let w = world().await;
    let dead = format!("http://127.0.0.1:{}", unused_port());
    let rpc = connect(vec![dead.clone(), w.anvil.endpoint()]).await;
    let source = RegistrySource::new(rpc, ChainId::eip155(31337), w.registry, fast_opts());
    let head = source.fetch_head().await.unwrap();
    let batch = source
        .fetch_records(
            w.start,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    assert_eq!(batch.records.len(), w.expected.len());

    // Only dead URLs: a clear RPC error, not a hang.
    let err = ChainRpc::connect(&RpcConfig::new(ChainId::eip155(31337), vec![dead]))
        .await
        .unwrap_err();
    assert!(matches!(err, AdapterError::Rpc { .. }), "{err}");

    // A node of another chain.
    let err = ChainRpc::connect(&RpcConfig::new(
        ChainId::eip155(1),
        vec![w.anvil.endpoint()],
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(err, AdapterError::WrongChain { actual: 31337, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_expected_seq_is_inconsistent_never_skipped() {
    let w = world().await;
    let source = RegistrySource::new(
        w.rpc.clone(),
        ChainId::eip155(31337),
        w.registry,
        fast_opts(),
    );
    let head = source.fetch_head().await.unwrap();
    for expected in [2, 0, 100] {
        let err = source
            .fetch_records(
                w.start,
                head.number,
                Some(evidence_adapters::SourceState::from_stored(expected)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AdapterError::Inconsistent { .. }), "{err}");
        assert!(err.is_retryable());
    }
    // A range with no events, but the caller's cursor says more events precede it:
    // nextSeq() at the range's end disagrees.
    mine(&w.anvil.endpoint(), 2).await;
    let head2 = source.fetch_head().await.unwrap();
    let err = source
        .fetch_records(
            head.number + 1,
            head2.number,
            Some(evidence_adapters::SourceState::from_stored(3)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AdapterError::Inconsistent { .. }), "{err}");
}

#[tokio::test]
async fn a_bad_kind_label_is_quarantined_and_its_seq_still_counts() {
    let anvil = spawn_anvil();
    let url = anvil.endpoint();
    let rpc = connect(vec![url.clone()]).await;
    let key: PrivateKeySigner = anvil.keys()[0].clone().into();
    let deployed = deploy_contracts(&rpc, key.clone(), key.address(), 3_600)
        .await
        .unwrap();
    let kind = Label::parse("kind", "iou").unwrap();
    anchor(
        &rpc,
        key.clone(),
        deployed.registry,
        DigestAlgorithm::Sha256,
        B256::repeat_byte(1),
        &kind,
        B256::ZERO,
    )
    .await
    .unwrap();
    // The contract checks only the length of `kind`; the schema forbids spaces.
    let wallet = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(url.parse().unwrap());
    EvidenceRegistry::new(deployed.registry, &wallet)
        .anchor(1, B256::repeat_byte(2), "Zhang San".into(), B256::ZERO)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    anchor(
        &rpc,
        key,
        deployed.registry,
        DigestAlgorithm::Sha256,
        B256::repeat_byte(3),
        &kind,
        B256::ZERO,
    )
    .await
    .unwrap();

    let source = RegistrySource::new(rpc, ChainId::eip155(31337), deployed.registry, fast_opts());
    let head = source.fetch_head().await.unwrap();
    let batch = source
        .fetch_records(
            deployed.registry_block,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    assert_eq!(
        batch
            .records
            .iter()
            .map(|r| r.seq.unwrap())
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert_eq!(batch.quarantined.len(), 1);
    let q = &batch.quarantined[0];
    assert!(
        q.reason.contains("bad kind label") && q.reason.contains("seq 2"),
        "{}",
        q.reason
    );
    assert_eq!(q.adapter, "registry");
}

/// The span logic itself is unit-tested against a fake node that refuses large
/// ranges (`adapters/src/registry/span.rs`); here a tiny span drives many
/// sub-queries against the real node, and their boundaries must not lose or repeat
/// any record.
#[tokio::test]
async fn tiny_spans_against_a_real_node_lose_nothing() {
    let w = world().await;
    let opts = RegistrySourceOptions {
        initial_span: 1,
        max_span: 3,
        ..fast_opts()
    };
    let source = RegistrySource::new(w.rpc.clone(), ChainId::eip155(31337), w.registry, opts);
    let head = source.fetch_head().await.unwrap();
    let batch = source
        .fetch_records(
            w.start,
            head.number,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    let got: Vec<(u64, B256)> = batch
        .records
        .iter()
        .map(|r| (r.seq.unwrap(), r.record.record_id()))
        .collect();
    assert_eq!(got, w.expected);
    assert_eq!(source.current_span(), 3);
}
