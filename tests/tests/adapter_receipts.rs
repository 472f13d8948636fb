//! The `bridge-receipts` source adapter against a real `AnchorMirror` on anvil:
//! checkpoints of a source chain accepted by the mirror become records of the mirror's
//! chain, with the documented digest, kind and submitter; ranges are inclusive and
//! re-fetching is idempotent; a record re-reads from its transaction receipt
//! (`recheck::reread_record`), and an edited record does not.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alloy::providers::Provider;
use evidence_adapters::{
    ChainRpc, EvidenceSource, ReceiptsSource, RpcConfig,
    receipts::{RECEIPT_KIND, RECEIPTS_ADAPTER, receipt_digest},
    recheck::reread_record,
};
use evidence_schemas::{Action, ChainId, DigestAlgorithm, log::MerkleLog};
use evidence_tests::{Devchain, MirrorSetup};

#[tokio::test(flavor = "multi_thread")]
async fn accepted_checkpoints_become_records_of_the_mirror_chain() {
    let chain = Devchain::start(52_100).await.unwrap();
    let source = ChainId::eip155(52_101);
    let setup = MirrorSetup::deploy(&chain, source.clone(), 3, 2)
        .await
        .unwrap();
    let mirror = *setup.mirror.address();
    let start = chain.provider.get_block_number().await.unwrap();

    let ids: Vec<_> = (0u8..9)
        .map(|i| alloy::primitives::B256::repeat_byte(i + 1))
        .collect();
    let log = MerkleLog::from_record_ids(&ids);
    let mut blocks = Vec::new();
    let mut previous = None;
    for size in [3u64, 5, 9] {
        let receipt = setup.submit_log(&log, previous, size).await.unwrap();
        blocks.push(receipt.block_number.unwrap());
        previous = Some(size);
    }
    let head = chain.provider.get_block_number().await.unwrap();

    let id = ChainId::eip155(chain.chain_id);
    let rpc = ChainRpc::connect(&RpcConfig::new(id.clone(), vec![chain.rpc_url.to_string()]))
        .await
        .unwrap();
    let src = ReceiptsSource::new(rpc.clone(), id.clone(), mirror, 1_000);
    assert_eq!(src.adapter_name(), RECEIPTS_ADAPTER);
    let batch = src.fetch_records(start, head, None).await.unwrap();
    assert!(batch.quarantined.is_empty(), "{:?}", batch.quarantined);
    assert_eq!(batch.records.len(), 3);
    for ((r, size), block) in batch.records.iter().zip([3u64, 5, 9]).zip(&blocks) {
        let rec = &r.record;
        assert_eq!(
            rec.source.chain, id,
            "a receipt is a record of the mirror's chain"
        );
        assert_eq!(rec.source.contract, mirror);
        assert_eq!(rec.source.block_number, *block);
        assert_eq!(rec.action, Action::Anchor);
        assert_eq!(rec.evidence.digest_alg, DigestAlgorithm::Keccak256);
        assert_eq!(rec.evidence.kind.as_str(), RECEIPT_KIND);
        assert_eq!(rec.evidence.submitter, mirror);
        assert_eq!(
            rec.evidence.digest,
            receipt_digest(source.key(), size, log.root_at(size).unwrap())
        );
        assert_eq!(
            rec.evidence.metadata,
            setup.checkpoint(&log, size).unwrap().source_block_hash
        );
        rec.validate().unwrap();
        // Re-reading the original transaction gives the same record; an edit does not.
        assert_eq!(reread_record(&rpc, rec).await.unwrap(), Ok(()));
        let mut edited = rec.clone();
        edited.evidence.metadata = alloy::primitives::B256::repeat_byte(0xee);
        let why = reread_record(&rpc, &edited).await.unwrap().unwrap_err();
        assert!(why.contains("decodes to record"), "{why}");
        let mut moved = rec.clone();
        moved.source.log_index += 7;
        assert!(reread_record(&rpc, &moved).await.unwrap().is_err());
    }

    // Inclusive ranges: the block of the second acceptance alone yields exactly it;
    // the range before the first yields nothing; a fetch twice is the same.
    let only = src.fetch_records(blocks[1], blocks[1], None).await.unwrap();
    assert_eq!(only.records.len(), 1);
    assert_eq!(only.records[0].record, batch.records[1].record);
    assert!(
        src.fetch_records(start, blocks[0] - 1, None)
            .await
            .unwrap()
            .records
            .is_empty()
    );
    assert_eq!(src.fetch_records(start, head, None).await.unwrap(), batch);
    // An empty range is the caller's error, said plainly.
    assert!(src.fetch_records(head, start, None).await.is_err());

    // Receipts turned on from a later block: earlier acceptances stay out of the log.
    let late = ReceiptsSource::new(rpc.clone(), id.clone(), mirror, 1_000).from_block(blocks[1]);
    let from_late = late.fetch_records(start, head, None).await.unwrap();
    assert_eq!(from_late.records, batch.records[1..].to_vec());
    assert!(
        late.fetch_records(start, blocks[1] - 1, None)
            .await
            .unwrap()
            .records
            .is_empty()
    );
}
