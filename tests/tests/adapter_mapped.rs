//! The `mapped` source adapter against a real anvil node and two differently shaped
//! third-party evidence contracts (`HashStore`, `NotaryBook`): the mapping produces the
//! expected records, every bad mapping is refused at start-up with a message naming the
//! field, malformed logs sharing the event's topic0 are quarantined, and the composite
//! source merges a mapped source with the registry in chain order.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alloy::{
    dyn_abi::DynSolValue,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::Provider,
};
use evidence_adapters::{
    ChainRpc, EvidenceSource, MappedSource, MappedSourceOptions, MultiSource, RegistrySource,
    RegistrySourceOptions, RpcConfig,
    mapped::contracts::{HashStore, NotaryBook},
};
use evidence_schemas::{Action, ChainId, DigestAlgorithm};
use evidence_tests::devchain::{Devchain, send_tx};

const STORED: &str =
    "Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)";
const NOTARIZED: &str =
    "Notarized(uint256 indexed id, address notary, bytes32 docHash, bytes32 meta)";

async fn rpc(dev: &Devchain) -> ChainRpc {
    ChainRpc::connect(&RpcConfig::new(
        ChainId::eip155(dev.chain_id),
        vec![dev.rpc_url.to_string()],
    ))
    .await
    .unwrap()
}

fn hashstore_opts(contract: Address) -> MappedSourceOptions {
    MappedSourceOptions {
        name: "hashstore".into(),
        contract,
        event: STORED.into(),
        digest: "hash".into(),
        digest_alg: DigestAlgorithm::Sha256,
        submitter: "owner".into(),
        kind_field: Some("kind".into()),
        kind: None,
        metadata_field: None,
        metadata_fields: vec!["time".into()],
    }
}

fn notary_opts(contract: Address) -> MappedSourceOptions {
    MappedSourceOptions {
        name: "notarybook".into(),
        contract,
        event: NOTARIZED.into(),
        digest: "docHash".into(),
        digest_alg: DigestAlgorithm::Keccak256,
        submitter: "tx.from".into(),
        kind_field: None,
        kind: Some("notarized".into()),
        metadata_field: Some("meta".into()),
        metadata_fields: vec![],
    }
}

#[tokio::test]
async fn hashstore_events_become_records() {
    let dev = Devchain::start(31337).await.unwrap();
    let store = HashStore::deploy(dev.provider.clone()).await.unwrap();
    let start = dev.provider.get_block_number().await.unwrap();
    let other = dev.dev_signer(3).unwrap();
    let store_as_other = HashStore::new(*store.address(), dev.provider_for(other.clone()));

    let d1 = B256::repeat_byte(0x11);
    let d2 = B256::repeat_byte(0x22);
    let r1 = send_tx(&store.store(d1, "deed".into())).await.unwrap();
    let r2 = send_tx(&store_as_other.store(d2, "invoice.v2".into()))
        .await
        .unwrap();
    // Malformed: the Stored topic0 with one indexed topic missing.
    let topic0 = keccak256("Stored(bytes32,address,uint256,string)");
    let body = DynSolValue::Tuple(vec![
        DynSolValue::Uint(U256::from(1), 256),
        DynSolValue::String("x".into()),
    ])
    .abi_encode_params();
    send_tx(&store.emitRaw(vec![topic0, d1], Bytes::from(body.clone())))
        .await
        .unwrap();
    // Malformed: right topics, truncated body.
    send_tx(&store.emitRaw(
        vec![topic0, d1, dev.address().into_word()],
        Bytes::from_static(&[1, 2, 3]),
    ))
    .await
    .unwrap();
    // Well-formed but the kind is not a valid label.
    send_tx(&store.store(B256::repeat_byte(0x33), "two words".into()))
        .await
        .unwrap();
    // Another topic0 from the same contract is not read at all.
    send_tx(&store.emitRaw(vec![B256::repeat_byte(9)], Bytes::new()))
        .await
        .unwrap();
    let head = dev.provider.get_block_number().await.unwrap();

    let source = MappedSource::new(
        rpc(&dev).await,
        ChainId::eip155(31337),
        hashstore_opts(*store.address()),
        1000,
    )
    .unwrap();
    assert_eq!(source.adapter_name(), "mapped");
    let batch = source.fetch_records(start, head, None).await.unwrap();
    assert_eq!(batch.records.len(), 2, "{:#?}", batch.records);
    assert_eq!(batch.quarantined.len(), 3, "{:#?}", batch.quarantined);

    let a = &batch.records[0];
    assert_eq!(a.seq, None);
    assert_eq!(a.record.action, Action::Anchor);
    assert_eq!(a.record.evidence.digest, d1);
    assert_eq!(a.record.evidence.digest_alg, DigestAlgorithm::Sha256);
    assert_eq!(a.record.evidence.submitter, dev.address());
    assert_eq!(a.record.evidence.kind.as_str(), "deed");
    assert_eq!(a.record.source.contract, *store.address());
    assert_eq!(a.record.source.tx_hash, r1.transaction_hash);
    assert_eq!(a.record.source.block_number, r1.block_number.unwrap());
    let block = dev
        .provider
        .get_block_by_number(r1.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.record.source.block_timestamp, block.header.timestamp);
    // metadata_fields = ["time"]: keccak256(abi.encode(time)), time = block timestamp.
    let want_meta = keccak256(
        DynSolValue::Tuple(vec![DynSolValue::Uint(
            U256::from(block.header.timestamp),
            256,
        )])
        .abi_encode(),
    );
    assert_eq!(a.record.evidence.metadata, want_meta);

    let b = &batch.records[1];
    assert_eq!(b.record.evidence.digest, d2);
    assert_eq!(b.record.evidence.submitter, other.address());
    assert_eq!(b.record.evidence.kind.as_str(), "invoice.v2");
    assert_eq!(b.record.source.tx_hash, r2.transaction_hash);

    let reasons: Vec<&str> = batch
        .quarantined
        .iter()
        .map(|q| q.reason.as_str())
        .collect();
    assert!(
        reasons[0].contains("does not match the configured signature"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("does not match the configured signature"),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("bad kind label"), "{reasons:?}");
    assert!(batch.quarantined.iter().all(|q| q.adapter == "mapped"));

    // Inclusive ranges: fetching block by block gives the same records.
    let mut one_by_one = Vec::new();
    for n in start..=head {
        one_by_one.extend(source.fetch_records(n, n, None).await.unwrap().records);
    }
    assert_eq!(one_by_one, batch.records);
    // Idempotent.
    assert_eq!(
        source.fetch_records(start, head, None).await.unwrap(),
        batch
    );
}

#[tokio::test]
async fn notarybook_events_become_records() {
    let dev = Devchain::start(31338).await.unwrap();
    let book = NotaryBook::deploy(dev.provider.clone()).await.unwrap();
    let start = dev.provider.get_block_number().await.unwrap();
    let notary = dev.dev_signer(5).unwrap();
    let book_as_notary = NotaryBook::new(*book.address(), dev.provider_for(notary.clone()));
    let doc = keccak256(b"the lease, signed");
    let meta = B256::repeat_byte(0x4d);
    send_tx(&book_as_notary.notarize(doc, meta)).await.unwrap();
    send_tx(&book.notarize(B256::repeat_byte(7), B256::ZERO))
        .await
        .unwrap();
    let head = dev.provider.get_block_number().await.unwrap();

    let source = MappedSource::new(
        rpc(&dev).await,
        ChainId::eip155(31338),
        notary_opts(*book.address()),
        1000,
    )
    .unwrap();
    let batch = source.fetch_records(start, head, None).await.unwrap();
    assert!(batch.quarantined.is_empty(), "{:#?}", batch.quarantined);
    assert_eq!(batch.records.len(), 2);
    let r = &batch.records[0].record;
    assert_eq!(r.evidence.digest, doc);
    assert_eq!(r.evidence.digest_alg, DigestAlgorithm::Keccak256);
    // submitter = "tx.from": the transaction's sender.
    assert_eq!(r.evidence.submitter, notary.address());
    assert_eq!(r.evidence.kind.as_str(), "notarized");
    assert_eq!(r.evidence.metadata, meta);
    assert_eq!(batch.records[1].record.evidence.submitter, dev.address());
}

#[tokio::test]
async fn bad_mappings_are_refused_naming_the_field() {
    let dev = Devchain::start(31339).await.unwrap();
    let rpc = rpc(&dev).await;
    let c = Address::repeat_byte(1);
    type Edit = fn(&mut MappedSourceOptions);
    let cases: [(Edit, &str); 9] = [
        (
            |o| o.event = "Stored(bytes32 indexed hash,".into(),
            "cannot parse event signature",
        ),
        (
            |o| o.digest = "docHash".into(),
            "digest field \"docHash\" is not a field of event Stored; its fields are: hash bytes32 indexed, owner address indexed, time uint256, kind string",
        ),
        (
            |o| o.digest = "time".into(),
            "digest field \"time\" has type uint256; allowed: bytes32",
        ),
        (
            |o| o.digest = "owner".into(),
            "digest field \"owner\" has type address indexed; allowed",
        ),
        (
            |o| o.submitter = "hash".into(),
            "submitter field \"hash\" has type bytes32 indexed; allowed: address, or \"tx.from\"",
        ),
        (
            |o| o.submitter = "nobody".into(),
            "submitter field \"nobody\" is not a field",
        ),
        (
            |o| o.kind_field = Some("time".into()),
            "kind field \"time\" has type uint256; allowed: string",
        ),
        (
            |o| o.metadata_field = Some("owner".into()),
            "metadata field \"owner\" has type address indexed; allowed: bytes32",
        ),
        (|o| o.kind = Some("Zhang San".into()), "not both"),
    ];
    for (edit, want) in cases {
        let mut o = hashstore_opts(c);
        o.metadata_fields.clear();
        edit(&mut o);
        let e = MappedSource::new(rpc.clone(), ChainId::eip155(31339), o, 100)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "error {e:?} lacks {want:?}");
        assert!(e.contains("mapped source \"hashstore\""), "{e}");
    }
    // A bad fixed kind label on its own.
    let mut o = hashstore_opts(c);
    o.kind_field = None;
    o.kind = Some("Zhang San".into());
    let e = MappedSource::new(rpc.clone(), ChainId::eip155(31339), o, 100).unwrap_err();
    assert!(e.to_string().contains("kind label"), "{e}");
    // Unknown keys are refused by the options' deserializer (the config embeds it).
    let e = serde_json::from_value::<MappedSourceOptions>(serde_json::json!({
        "name": "x", "contract": c, "event": STORED, "digest": "hash", "submitter": "owner",
        "digest_field": "hash"
    }))
    .unwrap_err();
    assert!(
        e.to_string().contains("unknown field `digest_field`"),
        "{e}"
    );
}

#[tokio::test]
async fn composite_merges_registry_and_mapped_in_chain_order() {
    let dev = Devchain::start(31340).await.unwrap();
    let registry = dev.deploy_registry().await.unwrap();
    let store = HashStore::deploy(dev.provider.clone()).await.unwrap();
    let start = dev.provider.get_block_number().await.unwrap();
    let meta = B256::ZERO;
    send_tx(&registry.anchor(1, B256::repeat_byte(1), "iou".into(), meta))
        .await
        .unwrap();
    send_tx(&store.store(B256::repeat_byte(2), "deed".into()))
        .await
        .unwrap();
    send_tx(&registry.anchor(1, B256::repeat_byte(3), "iou".into(), meta))
        .await
        .unwrap();
    let head = dev.provider.get_block_number().await.unwrap();
    let rpc = rpc(&dev).await;
    let chain = ChainId::eip155(31340);
    let reg: Arc<dyn EvidenceSource> = Arc::new(RegistrySource::new(
        rpc.clone(),
        chain.clone(),
        *registry.address(),
        RegistrySourceOptions::default(),
    ));
    let mapped: Arc<dyn EvidenceSource> =
        Arc::new(MappedSource::new(rpc, chain, hashstore_opts(*store.address()), 1000).unwrap());
    let multi = MultiSource::new(vec![mapped, reg])
        .unwrap()
        .with_sequenced(1)
        .unwrap();
    let batch = multi
        .fetch_records(
            start,
            head,
            Some(evidence_adapters::SourceState::from_stored(1)),
        )
        .await
        .unwrap();
    let digests: Vec<u8> = batch
        .records
        .iter()
        .map(|r| r.record.evidence.digest.0[0])
        .collect();
    assert_eq!(digests, vec![1, 2, 3]);
    let seqs: Vec<Option<u64>> = batch.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![Some(1), None, Some(2)]);
    // The registry still checks its sequence numbers through the composite.
    let e = multi
        .fetch_records(
            start,
            head,
            Some(evidence_adapters::SourceState::from_stored(5)),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("expected 5"), "{e}");
}
