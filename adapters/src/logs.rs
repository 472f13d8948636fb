//! Checks every source adapter applies to an `eth_getLogs` answer before trusting it.

use std::collections::BTreeMap;

use alloy::{
    primitives::B256,
    providers::{DynProvider, Provider},
    rpc::types::Log,
};

use crate::{error::AdapterError, rpc::ChainRpc};

/// Where a log is, if the node said so (a mined log always has all of these).
pub(crate) fn has_location(log: &Log) -> bool {
    log.block_number.is_some()
        && log.block_hash.is_some()
        && log.transaction_hash.is_some()
        && log.transaction_index.is_some()
        && log.log_index.is_some()
}

/// The topics of `log`, comma-separated, for quarantine reasons.
pub(crate) fn topics_text(log: &Log) -> String {
    log.topics()
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sorts an answer for blocks `from..=to` into (block, tx index, log index) order and
/// drops duplicates, after checking that nothing in it is suspect: a log `in_filter`
/// rejects (another contract or event), a log without its block/tx location, a removed
/// log, a log outside the range, or two block hashes for one block number (a reorg
/// during the fetch). `Err` says which, for the caller's `Inconsistent` error.
pub(crate) fn check_range_logs(
    mut logs: Vec<Log>,
    from: u64,
    to: u64,
    in_filter: impl Fn(&Log) -> bool,
) -> Result<Vec<Log>, String> {
    for log in &logs {
        if !in_filter(log) {
            return Err(format!(
                "node returned a log of {} outside the filter",
                log.address()
            ));
        }
        if !has_location(log) {
            return Err("node returned a log without block/tx location".into());
        }
        let n = log.block_number.unwrap_or_default();
        if !(from..=to).contains(&n) || log.removed {
            return Err(format!(
                "node returned a log of block {n} (removed: {}) for this range",
                log.removed
            ));
        }
    }
    logs.sort_by_key(|l| {
        (
            l.block_number.unwrap_or_default(),
            l.transaction_index.unwrap_or_default(),
            l.log_index.unwrap_or_default(),
        )
    });
    logs.dedup_by(|b, a| a.block_hash == b.block_hash && a.log_index == b.log_index);
    let mut block_hashes = BTreeMap::new();
    for log in &logs {
        let (n, h) = (
            log.block_number.unwrap_or_default(),
            log.block_hash.unwrap_or_default(),
        );
        if *block_hashes.entry(n).or_insert(h) != h {
            return Err(format!(
                "logs of block {n} carry two block hashes (reorg during the fetch)"
            ));
        }
    }
    Ok(logs)
}

/// Block timestamps by block hash for checked logs of `from..=to`: from the logs when
/// the node includes `blockTimestamp`, else one header fetch (on `provider`, the
/// endpoint the logs came from) per distinct block. A block the node no longer knows is
/// an `Inconsistent` answer (reorged out during the fetch).
pub(crate) async fn block_timestamps(
    rpc: &ChainRpc,
    provider: &DynProvider,
    from: u64,
    to: u64,
    logs: &[Log],
) -> Result<BTreeMap<B256, u64>, AdapterError> {
    let mut out = BTreeMap::new();
    for log in logs {
        let hash = log.block_hash.unwrap_or_default();
        if let Some(ts) = log.block_timestamp {
            out.insert(hash, ts);
        }
    }
    for log in logs {
        let hash = log.block_hash.unwrap_or_default();
        if out.contains_key(&hash) {
            continue;
        }
        let block = provider
            .get_block_by_hash(hash)
            .await
            .map_err(|e| rpc.error("eth_getBlockByHash", e))?
            .ok_or_else(|| AdapterError::Inconsistent {
                chain: rpc.chain().clone(),
                from,
                to,
                message: format!("block {hash} of a log is unknown to the node (reorged out?)"),
            })?;
        out.insert(hash, block.header.timestamp);
    }
    Ok(out)
}

/// Fails with `Inconsistent` when `provider` (the endpoint about to answer the log query
/// of `from..=to`) does not have block `to`. Called *before* the query: a node lagging
/// behind the head the caller indexes to answers a range that reaches past its own head
/// with the logs it has — geth clamps the range — which would look like blocks without
/// events, and a source without sequence numbers could not tell.
pub(crate) async fn ensure_node_has(
    rpc: &ChainRpc,
    provider: &DynProvider,
    from: u64,
    to: u64,
) -> Result<(), AdapterError> {
    let block = provider
        .get_block_by_number(to.into())
        .await
        .map_err(|e| rpc.error("eth_getBlockByNumber", e))?;
    if block.is_none() {
        metrics::counter!("bridge_source_lagging_node_total", "chain" => rpc.chain().to_string())
            .increment(1);
        return Err(AdapterError::Inconsistent {
            chain: rpc.chain().clone(),
            from,
            to,
            message: format!(
                "the node does not have block {to} yet: it lags behind the head being indexed, so its log answer would be incomplete"
            ),
        });
    }
    Ok(())
}

/// A mined log of contract `0x…aa` (block 7, tx index 0, log index 3), for decoder
/// unit tests.
#[cfg(test)]
pub(crate) fn mined_log(data: alloy::primitives::LogData) -> Log {
    Log {
        inner: alloy::primitives::Log {
            address: alloy::primitives::address!("0x00000000000000000000000000000000000000aa"),
            data,
        },
        block_hash: Some(B256::repeat_byte(1)),
        block_number: Some(7),
        block_timestamp: None,
        transaction_hash: Some(B256::repeat_byte(2)),
        transaction_index: Some(0),
        log_index: Some(3),
        removed: false,
    }
}
