//! Finding the `Attested` log of an attestation from its `time`.
//!
//! EAS stores `time = block.timestamp` of the attesting block, and block timestamps
//! never decrease, so a binary search over block headers finds the first block with
//! that timestamp; the blocks sharing it (several on a dev chain) are scanned with one
//! `eth_getLogs` filtered by the event's indexed topics (recipient, attester, schema),
//! and the log whose `uid` matches is the one.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::Address,
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};

use crate::{contracts::eas::EAS, error::AdapterError, rpc::ChainRpc};

/// At most this many consecutive blocks sharing one timestamp are searched.
const MAX_SAME_TIME_BLOCKS: u64 = 64;

async fn timestamp(
    provider: &DynProvider,
    rpc: &ChainRpc,
    n: u64,
) -> Result<Option<u64>, AdapterError> {
    Ok(provider
        .get_block_by_number(BlockNumberOrTag::Number(n))
        .await
        .map_err(|e| rpc.error("eth_getBlockByNumber", e))?
        .map(|b| b.header.timestamp))
}

/// The first block in `lo..=hi` whose timestamp is at least `time`, or `None`.
pub async fn first_block_at_or_after(
    provider: &DynProvider,
    rpc: &ChainRpc,
    time: u64,
    mut lo: u64,
    mut hi: u64,
) -> Result<Option<u64>, AdapterError> {
    if lo > hi {
        return Ok(None);
    }
    match timestamp(provider, rpc, hi).await? {
        Some(ts) if ts >= time => {}
        _ => return Ok(None),
    }
    // Invariant: block `hi` has timestamp >= time.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let ts = timestamp(provider, rpc, mid)
            .await?
            .ok_or(AdapterError::BlockNotFound {
                chain: rpc.chain().clone(),
                number: mid,
            })?;
        if ts >= time {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(Some(lo))
}

/// The `Attested` log of `att` at `eas` in blocks `start..=before`, with its block
/// timestamp; `None` when there is none there.
pub async fn find_attested_log(
    provider: &DynProvider,
    rpc: &ChainRpc,
    eas: Address,
    att: &EAS::Attestation,
    start: u64,
    before: u64,
) -> Result<Option<(Log, u64)>, AdapterError> {
    let Some(first) = first_block_at_or_after(provider, rpc, att.time, start, before).await? else {
        return Ok(None);
    };
    let mut last = first;
    while last < before && last - first < MAX_SAME_TIME_BLOCKS {
        match timestamp(provider, rpc, last + 1).await? {
            Some(ts) if ts == att.time => last += 1,
            _ => break,
        }
    }
    let filter = Filter::new()
        .address(eas)
        .event_signature(EAS::Attested::SIGNATURE_HASH)
        .topic1(att.recipient.into_word())
        .topic2(att.attester.into_word())
        .topic3(att.schema)
        .from_block(first)
        .to_block(last);
    let logs = provider
        .get_logs(&filter)
        .await
        .map_err(|e| rpc.log_error(first, last, e))?;
    for log in logs {
        let Ok(ev) = EAS::Attested::decode_log_data(log.data()) else {
            continue;
        };
        if ev.uid == att.uid && !log.removed {
            let ts = match log.block_timestamp {
                Some(ts) => ts,
                None => timestamp(provider, rpc, log.block_number.unwrap_or_default())
                    .await?
                    .unwrap_or_default(),
            };
            return Ok(Some((log, ts)));
        }
    }
    Ok(None)
}
