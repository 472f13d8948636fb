//! Re-reading a record from its source chain: the transaction receipt named by the
//! record's locator, the log at its `log_index`, decoded again by the adapter that
//! produced it. `bridge verify` uses it to check a bundle against the source chain.

use alloy::providers::Provider;
use evidence_schemas::EvidenceRecord;

use crate::{
    error::AdapterError,
    receipts::{RECEIPTS_ADAPTER, decode_receipt_log},
    registry::{REGISTRY_ADAPTER, decode_registry_log},
    rpc::ChainRpc,
};

/// Fetches the receipt of `record.source.tx_hash` and decodes the log at
/// `record.source.log_index` with the record's adapter. `Ok(Err(reason))` means the
/// chain answered and the record does not match it (the reason says what differs);
/// `Err` means the chain could not be asked.
pub async fn reread_record(
    rpc: &ChainRpc,
    record: &EvidenceRecord,
) -> Result<Result<(), String>, AdapterError> {
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
    let decoded = match src.adapter.as_str() {
        REGISTRY_ADAPTER => decode_registry_log(&src.chain, log, ts)
            .map(|e| e.record)
            .map_err(|f| f.quarantined.reason),
        RECEIPTS_ADAPTER => decode_receipt_log(&src.chain, log, ts).map_err(|q| q.reason),
        other => {
            return Ok(Err(format!(
                "records of adapter {other:?} cannot be re-read by this build (it re-reads {REGISTRY_ADAPTER} and {RECEIPTS_ADAPTER})"
            )));
        }
    };
    match decoded {
        Err(reason) => Ok(Err(format!("the source log does not decode: {reason}"))),
        Ok(r) if r.record_id() != record.record_id() => Ok(Err(format!(
            "the source log decodes to record {}, the bundle's record is {}",
            r.record_id(),
            record.record_id()
        ))),
        Ok(_) => Ok(Ok(())),
    }
}
