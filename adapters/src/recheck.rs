//! Re-reading a record from its source chain: the transaction receipt named by the
//! record's locator, the log at its `log_index`, decoded again by the decoder of the
//! adapter that produced it ([`decoder_for`], the one table of decoders by adapter
//! name) — the same [`LogDecoder`](crate::evm_source::LogDecoder) the relayer's source
//! used. `bridge verify` uses it to check a bundle against the source chain.

use std::sync::Arc;

use alloy::{primitives::Address, providers::Provider};
use evidence_schemas::{EvidenceRecord, SourceLocator};

use crate::{
    error::AdapterError,
    evm_source::{BatchNode, RecordDecoder},
    receipts::{RECEIPTS_ADAPTER, ReceiptsDecoder},
    registry::{REGISTRY_ADAPTER, RegistryDecoder},
    rpc::ChainRpc,
};

/// A decoder built from the contract address alone.
type Builtin = fn(Address) -> Arc<dyn RecordDecoder>;

/// The adapters whose decoders need nothing but the contract (our own contracts).
const BUILTIN: [(&str, Builtin); 2] = [
    (REGISTRY_ADAPTER, |a| {
        Arc::new(RegistryDecoder::new(a, false))
    }),
    (RECEIPTS_ADAPTER, |a| Arc::new(ReceiptsDecoder::new(a))),
];

/// The decoder of records of `locator.adapter` emitted by `locator.contract`: one of
/// `configured` (the chain's configured sources' decoders: EAS, mapped contracts) that
/// reads that contract under that adapter name, else a built-in one (registry,
/// receipts). `Err` says why there is none.
pub fn decoder_for(
    locator: &SourceLocator,
    configured: &[Arc<dyn RecordDecoder>],
) -> Result<Arc<dyn RecordDecoder>, String> {
    let adapter = locator.adapter.as_str();
    if let Some(d) = configured
        .iter()
        .find(|d| d.adapter_name() == adapter && d.reads(locator.contract))
    {
        return Ok(d.clone());
    }
    if let Some((_, build)) = BUILTIN.iter().find(|(name, _)| *name == adapter) {
        return Ok(build(locator.contract));
    }
    Err(format!(
        "records of adapter {adapter:?} from contract {} cannot be re-read here: no such source is configured for {} (built in: {REGISTRY_ADAPTER}, {RECEIPTS_ADAPTER})",
        locator.contract, locator.chain
    ))
}

/// [`reread_record_with`] with the built-in decoders only.
pub async fn reread_record(
    rpc: &ChainRpc,
    record: &EvidenceRecord,
) -> Result<Result<(), String>, AdapterError> {
    reread_record_with(rpc, record, &[]).await
}

/// Fetches the receipt of `record.source.tx_hash` and decodes the log at
/// `record.source.log_index` with the record's decoder ([`decoder_for`]).
/// `Ok(Err(reason))` means the chain answered and the record does not match it (the
/// reason says what differs); `Err` means the chain could not be asked.
pub async fn reread_record_with(
    rpc: &ChainRpc,
    record: &EvidenceRecord,
    configured: &[Arc<dyn RecordDecoder>],
) -> Result<Result<(), String>, AdapterError> {
    let decoder = match decoder_for(&record.source, configured) {
        Ok(d) => d,
        Err(why) => return Ok(Err(why)),
    };
    let src = &record.source;
    let Some(receipt) = rpc
        .provider()
        .get_transaction_receipt(src.tx_hash)
        .await
        .map_err(|e| rpc.error("eth_getTransactionReceipt", e))?
    else {
        return Ok(Err(format!(
            "transaction {} is not on {}",
            src.tx_hash, src.chain
        )));
    };
    if receipt.block_hash != Some(src.block_hash) || receipt.block_number != Some(src.block_number)
    {
        return Ok(Err(format!(
            "transaction {} is in block {:?} ({:?}), the record says block {} ({}): reorged out, or the record was edited",
            src.tx_hash, receipt.block_number, receipt.block_hash, src.block_number, src.block_hash
        )));
    }
    if !receipt.status() {
        return Ok(Err(format!("transaction {} reverted", src.tx_hash)));
    }
    let Some(log) = receipt
        .logs()
        .iter()
        .find(|l| l.log_index == Some(src.log_index))
    else {
        return Ok(Err(format!(
            "transaction {} has no log at block log index {}",
            src.tx_hash, src.log_index
        )));
    };
    if log.address() != src.contract {
        return Ok(Err(format!(
            "the log at index {} was emitted by {}, not {}",
            src.log_index,
            log.address(),
            src.contract
        )));
    }
    let block = rpc
        .provider()
        .get_block_by_hash(src.block_hash)
        .await
        .map_err(|e| rpc.error("eth_getBlockByHash", e))?
        .ok_or_else(|| AdapterError::Rpc {
            chain: src.chain.clone(),
            message: format!(
                "block {} of a mined receipt is unknown to the node",
                src.block_hash
            ),
        })?;
    let ts = block.header.timestamp;
    let node = BatchNode {
        rpc,
        provider: rpc.provider(),
        from: src.block_number,
        to: src.block_number,
    };
    match decoder.decode_one(&node, log, ts).await? {
        Err(reason) => Ok(Err(format!("the source log does not decode: {reason}"))),
        Ok(r) if r.record_id() != record.record_id() => Ok(Err(format!(
            "the source log decodes to record {}, the bundle's record is {}",
            r.record_id(),
            record.record_id()
        ))),
        Ok(_) => Ok(Ok(())),
    }
}
