//! `EvidenceSource::fetch_head` of the EVM log source against anvil: by default the
//! node's latest block (the relayer keeps `confirmations` below it), and with
//! `Finality::Finalized` the block the node reports for the `finalized` tag.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alloy::{eips::BlockNumberOrTag, primitives::Address, providers::Provider};
use evidence_adapters::{ChainRpc, EvidenceSource, Finality, ReceiptsSource, RpcConfig};
use evidence_schemas::ChainId;
use evidence_tests::Devchain;

#[tokio::test(flavor = "multi_thread")]
async fn head_is_latest_by_default_and_the_finalized_tag_when_configured() {
    let chain = Devchain::start(52_300).await.unwrap();
    let id = ChainId::eip155(chain.chain_id);
    let rpc = ChainRpc::connect(&RpcConfig::new(id.clone(), vec![chain.rpc_url.to_string()]))
        .await
        .unwrap();
    // Enough blocks that anvil's finalized block is not the genesis block.
    chain
        .provider
        .raw_request::<_, ()>("anvil_mine".into(), (100u64,))
        .await
        .unwrap();
    let latest = ReceiptsSource::new(rpc.clone(), id.clone(), Address::ZERO, 100);
    let finalized =
        ReceiptsSource::new(rpc, id, Address::ZERO, 100).with_finality(Finality::Finalized);

    let head = latest.fetch_head().await.unwrap();
    assert_eq!(
        head.number,
        chain.provider.get_block_number().await.unwrap()
    );

    let want = chain
        .provider
        .get_block_by_number(BlockNumberOrTag::Finalized)
        .await
        .unwrap()
        .expect("anvil serves the finalized tag");
    let got = finalized.fetch_head().await.unwrap();
    assert_eq!(
        (got.number, got.hash),
        (want.header.number, want.header.hash)
    );
    assert!(
        got.number < head.number,
        "finalized {} is below latest {}",
        got.number,
        head.number
    );
    // Blocks are looked up the same way whatever the finality.
    assert_eq!(finalized.fetch_block(got.number).await.unwrap(), got);
}
