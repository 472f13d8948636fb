//! The `eas` source adapter against the real Ethereum Attestation Service contracts
//! (the pinned npm package's bytecode) on a real anvil node: real schemas registered,
//! single and multi attestations, revocations, the documented mapping
//! (docs/ADAPTERS.md), revokes referring to their anchor record, the schema filter, and
//! quarantine of data that does not fit its schema's mapping.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alloy::{
    primitives::{Address, B256, Bytes, keccak256},
    providers::Provider,
    sol_types::SolValue,
};
use evidence_adapters::{
    ChainRpc, EasDigest, EasSchemaMapping, EasSource, EasSourceOptions, EvidenceSource, RpcConfig,
    contracts::eas::EAS,
    deploy_eas::{
        DeployedEas, EasAttestation, deploy_eas, eas_attest, eas_multi_attest, eas_revoke,
        register_schema,
    },
};
use evidence_schemas::{Action, ChainId, DigestAlgorithm, EvidenceRecord, Label};
use evidence_tests::Devchain;

const CHAIN: u64 = 31337;

struct World {
    chain: Devchain,
    rpc: ChainRpc,
    eas: DeployedEas,
    /// `bytes32 docHash,string note`, mapped: word 0 is a sha256 digest, kind `contract`.
    doc: B256,
    /// `string comment`, default mapping (keccak256 of the data).
    comment: B256,
    /// `uint256 score`, not listed.
    score: B256,
}

async fn world() -> World {
    let chain = Devchain::start(CHAIN).await.unwrap();
    let rpc = ChainRpc::connect(&RpcConfig::new(
        ChainId::eip155(CHAIN),
        vec![chain.rpc_url.to_string()],
    ))
    .await
    .unwrap();
    let eas = deploy_eas(&rpc, chain.signer.clone()).await.unwrap();
    let doc = register_schema(
        &rpc,
        chain.signer.clone(),
        eas.schema_registry,
        "bytes32 docHash,string note",
        true,
    )
    .await
    .unwrap();
    let comment = register_schema(
        &rpc,
        chain.signer.clone(),
        eas.schema_registry,
        "string comment",
        true,
    )
    .await
    .unwrap();
    let score = register_schema(
        &rpc,
        chain.signer.clone(),
        eas.schema_registry,
        "uint256 score",
        true,
    )
    .await
    .unwrap();
    World {
        chain,
        rpc,
        eas,
        doc,
        comment,
        score,
    }
}

impl World {
    fn options(&self, only_listed: bool) -> EasSourceOptions {
        let mut o = EasSourceOptions::new(self.eas.eas, self.eas.eas_block);
        o.schemas = vec![
            EasSchemaMapping {
                uid: self.doc,
                kind: Some(Label::parse("kind", "contract").unwrap()),
                digest: EasDigest::Word {
                    index: 0,
                    alg: DigestAlgorithm::Sha256,
                },
            },
            EasSchemaMapping::default_for(self.comment),
        ];
        o.only_listed_schemas = only_listed;
        o.retry_pause_ms = 10;
        o
    }

    fn source(&self, only_listed: bool) -> EasSource {
        EasSource::new(
            self.rpc.clone(),
            ChainId::eip155(CHAIN),
            self.options(only_listed),
        )
        .unwrap()
    }

    async fn head(&self) -> u64 {
        self.rpc.provider().get_block_number().await.unwrap()
    }

    async fn mine(&self, n: u64) {
        for _ in 0..n {
            let _: serde_json::Value = self
                .chain
                .provider
                .raw_request("evm_mine".into(), ())
                .await
                .unwrap();
        }
    }

    async fn attestation(&self, uid: B256) -> EAS::Attestation {
        EAS::new(self.eas.eas, self.rpc.provider())
            .getAttestation(uid)
            .call()
            .await
            .unwrap()
    }
}

fn doc_data(hash: B256, note: &str) -> Bytes {
    (hash, note.to_owned()).abi_encode_params().into()
}

/// The metadata commitment as docs/ADAPTERS.md specifies it, computed here from the
/// attestation as the contract returns it.
fn expected_metadata(a: &EAS::Attestation) -> B256 {
    keccak256(
        (
            keccak256("EvidenceBridge.EAS.metadata.v1"),
            a.uid,
            a.schema,
            a.recipient,
            a.refUID,
            a.expirationTime,
            a.time,
        )
            .abi_encode_params(),
    )
}

fn by_tx(records: &[EvidenceRecord], tx: B256) -> Vec<&EvidenceRecord> {
    records.iter().filter(|r| r.source.tx_hash == tx).collect()
}

#[tokio::test]
async fn attestations_and_revocations_follow_the_documented_mapping() {
    let w = world().await;
    let signer = w.chain.signer.clone();
    let recipient = Address::repeat_byte(0x42);
    let h1 = B256::repeat_byte(0x11);

    // A single attestation with a recipient, expiry and refUID-less data.
    let mut one = EasAttestation::new(w.doc, doc_data(h1, "lease 2026"));
    one.recipient = recipient;
    one.expiration_time = 4_000_000_000;
    let single = eas_attest(&w.rpc, signer.clone(), w.eas.eas, &one)
        .await
        .unwrap();
    w.mine(5).await;
    // A multi-attest of two schemas in one transaction; the second refers to the first.
    let multi = eas_multi_attest(
        &w.rpc,
        signer.clone(),
        w.eas.eas,
        &[
            EasAttestation::new(w.doc, doc_data(B256::repeat_byte(0x22), "a")),
            EasAttestation::new(w.doc, doc_data(B256::repeat_byte(0x33), "b")),
            EasAttestation {
                ref_uid: single.uids[0],
                ..EasAttestation::new(w.comment, ("looks right".to_owned(),).abi_encode_params())
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(multi.uids.len(), 3);
    // Not a listed schema.
    let scored = eas_attest(
        &w.rpc,
        signer.clone(),
        w.eas.eas,
        &EasAttestation::new(w.score, (7u64,).abi_encode_params()),
    )
    .await
    .unwrap();
    w.mine(7).await;
    let rev1 = eas_revoke(&w.rpc, signer.clone(), w.eas.eas, w.doc, single.uids[0])
        .await
        .unwrap();
    let rev2 = eas_revoke(&w.rpc, signer.clone(), w.eas.eas, w.comment, multi.uids[2])
        .await
        .unwrap();
    let rev_scored = eas_revoke(&w.rpc, signer.clone(), w.eas.eas, w.score, scored.uids[0])
        .await
        .unwrap();
    assert_eq!(rev1.uids, vec![single.uids[0]]);

    let source = w.source(true);
    let head = w.head().await;
    let batch = source
        .fetch_records(w.eas.eas_block, head, None)
        .await
        .unwrap();
    assert!(batch.quarantined.is_empty(), "{:?}", batch.quarantined);
    let records: Vec<EvidenceRecord> = batch.records.iter().map(|r| r.record.clone()).collect();
    assert!(
        batch.records.iter().all(|r| r.seq.is_none()),
        "EAS has no sequence numbers"
    );
    // 1 + 3 anchors, 2 revokes; the unlisted schema contributes nothing.
    assert_eq!(records.len(), 6, "{records:#?}");
    assert!(by_tx(&records, scored.tx_hash).is_empty());
    assert!(by_tx(&records, rev_scored.tx_hash).is_empty());

    // The single attestation.
    let a = by_tx(&records, single.tx_hash);
    assert_eq!(a.len(), 1);
    let anchor1 = a[0].clone();
    let att1 = w.attestation(single.uids[0]).await;
    assert_eq!(anchor1.action, Action::Anchor);
    assert_eq!(anchor1.reference, None);
    assert_eq!(anchor1.evidence.digest, h1);
    assert_eq!(anchor1.evidence.digest_alg, DigestAlgorithm::Sha256);
    assert_eq!(anchor1.evidence.kind.as_str(), "contract");
    assert_eq!(anchor1.evidence.submitter, w.chain.address());
    assert_eq!(anchor1.evidence.metadata, expected_metadata(&att1));
    assert_eq!(anchor1.source.adapter.as_str(), "eas");
    assert_eq!(anchor1.source.contract, w.eas.eas);
    assert_eq!(anchor1.source.block_number, single.block_number);
    assert_eq!(att1.recipient, recipient);

    // The multi-attest: three records of one transaction, in log order.
    let m = by_tx(&records, multi.tx_hash);
    assert_eq!(m.len(), 3);
    assert!(
        m.windows(2)
            .all(|p| p[0].source.log_index < p[1].source.log_index)
    );
    assert_eq!(m[0].evidence.digest, B256::repeat_byte(0x22));
    assert_eq!(m[1].evidence.digest, B256::repeat_byte(0x33));
    let comment_att = w.attestation(multi.uids[2]).await;
    assert_eq!(comment_att.refUID, single.uids[0]);
    assert_eq!(m[2].evidence.digest, keccak256(&comment_att.data));
    assert_eq!(m[2].evidence.digest_alg, DigestAlgorithm::Keccak256);
    assert_eq!(m[2].evidence.kind.as_str(), alloy::hex::encode(w.comment));
    assert_eq!(m[2].evidence.metadata, expected_metadata(&comment_att));

    // Revokes refer to their anchors' record ids and carry the same evidence.
    let r1 = by_tx(&records, rev1.tx_hash);
    assert_eq!(r1.len(), 1);
    assert_eq!(r1[0].action, Action::Revoke);
    assert_eq!(r1[0].reference, Some(anchor1.record_id()));
    assert_eq!(r1[0].evidence, anchor1.evidence);
    let r2 = by_tx(&records, rev2.tx_hash);
    assert_eq!(r2[0].reference, Some(m[2].record_id()));

    // Sorted by position, and the whole answer is deterministic.
    assert!(
        records
            .windows(2)
            .all(|p| p[0].order_key() < p[1].order_key())
    );
    let again = w
        .source(true)
        .fetch_records(w.eas.eas_block, head, None)
        .await
        .unwrap();
    assert_eq!(again, batch);

    // A fresh source that sees only the revocation blocks locates the original
    // `Attested` logs itself (binary search by time) and gets the same ref.
    let fresh = w.source(true);
    let only_revokes = fresh
        .fetch_records(rev1.block_number, rev2.block_number, None)
        .await
        .unwrap();
    let refs: Vec<_> = only_revokes
        .records
        .iter()
        .map(|r| r.record.reference)
        .collect();
    assert_eq!(
        refs,
        vec![Some(anchor1.record_id()), Some(m[2].record_id())]
    );
    assert_eq!(only_revokes.records[0].record, *r1[0]);
}

#[tokio::test]
async fn unlisted_schemas_are_ignored_only_when_the_filter_is_on() {
    let w = world().await;
    let scored = eas_attest(
        &w.rpc,
        w.chain.signer.clone(),
        w.eas.eas,
        &EasAttestation::new(w.score, (9u64,).abi_encode_params()),
    )
    .await
    .unwrap();
    let head = w.head().await;
    let filtered = w
        .source(true)
        .fetch_records(w.eas.eas_block, head, None)
        .await
        .unwrap();
    assert!(filtered.records.is_empty() && filtered.quarantined.is_empty());
    let all = w
        .source(false)
        .fetch_records(w.eas.eas_block, head, None)
        .await
        .unwrap();
    assert_eq!(all.records.len(), 1);
    let r = &all.records[0].record;
    assert_eq!(r.source.tx_hash, scored.tx_hash);
    assert_eq!(r.evidence.kind.as_str(), alloy::hex::encode(w.score));
    assert_eq!(r.evidence.digest, keccak256((9u64,).abi_encode_params()));
}

#[tokio::test]
async fn data_that_does_not_fit_the_mapping_is_quarantined_with_the_reason() {
    let w = world().await;
    let signer = w.chain.signer.clone();
    // EAS does not check data against the schema: too short for the digest word, and
    // a zero digest.
    let short = eas_attest(
        &w.rpc,
        signer.clone(),
        w.eas.eas,
        &EasAttestation::new(w.doc, vec![1u8; 10]),
    )
    .await
    .unwrap();
    let zero = eas_attest(
        &w.rpc,
        signer.clone(),
        w.eas.eas,
        &EasAttestation::new(w.doc, doc_data(B256::ZERO, "x")),
    )
    .await
    .unwrap();
    let good = eas_attest(
        &w.rpc,
        signer.clone(),
        w.eas.eas,
        &EasAttestation::new(w.doc, doc_data(B256::repeat_byte(5), "ok")),
    )
    .await
    .unwrap();
    let rev = eas_revoke(&w.rpc, signer.clone(), w.eas.eas, w.doc, short.uids[0])
        .await
        .unwrap();

    let head = w.head().await;
    let batch = w
        .source(true)
        .fetch_records(w.eas.eas_block, head, None)
        .await
        .unwrap();
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].record.source.tx_hash, good.tx_hash);
    assert_eq!(batch.quarantined.len(), 3, "{:#?}", batch.quarantined);
    let q: Vec<_> = batch
        .quarantined
        .iter()
        .map(|q| (q.tx_hash, q.reason.clone()))
        .collect();
    assert_eq!(q[0].0, short.tx_hash);
    assert!(q[0].1.contains("too short"), "{}", q[0].1);
    assert_eq!(q[1].0, zero.tx_hash);
    assert!(q[1].1.contains("zero"), "{}", q[1].1);
    assert_eq!(q[2].0, rev.tx_hash);
    assert!(q[2].1.contains("quarantined"), "{}", q[2].1);
    assert!(
        batch
            .quarantined
            .iter()
            .all(|q| q.adapter == "eas" && q.block_number > 0)
    );

    // The same revoke seen alone (the anchor located, not cached) is quarantined too.
    let alone = w
        .source(true)
        .fetch_records(rev.block_number, rev.block_number, None)
        .await
        .unwrap();
    assert!(alone.records.is_empty());
    assert_eq!(alone.quarantined.len(), 1);
    assert!(
        alone.quarantined[0].reason.contains("too short"),
        "{}",
        alone.quarantined[0].reason
    );
}

#[tokio::test]
async fn bad_options_are_rejected_with_a_clear_message() {
    let w = world().await;
    let mut o = w.options(true);
    o.schemas.push(EasSchemaMapping::default_for(w.doc));
    let err = EasSource::new(w.rpc.clone(), ChainId::eip155(CHAIN), o)
        .unwrap_err()
        .to_string();
    assert!(err.contains("listed twice"), "{err}");
    let mut o = w.options(true);
    o.schemas.clear();
    let err = EasSource::new(w.rpc.clone(), ChainId::eip155(CHAIN), o)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no schemas are listed"), "{err}");
    let toml_like = serde_json::json!({"contract": w.eas.eas, "start_block": 1, "schemas": [{"uid": w.doc, "digest": {"from": "word", "index": 0}}]});
    let err = serde_json::from_value::<EasSourceOptions>(toml_like)
        .unwrap_err()
        .to_string();
    assert!(err.contains("alg"), "{err}");
}
