//! Source adapters: turn an inclusive block range of one chain into shared-schema
//! records.
//!
//! The contract every [`EvidenceSource`] keeps:
//! - `fetch_records(from, to)` covers exactly the blocks `from..=to` (inclusive) and is
//!   idempotent: calling it twice for the same range on the same chain state returns
//!   the same records, so the relayer may re-fetch freely after a crash;
//! - records come back sorted by (block, tx index, log index);
//! - an event that cannot be turned into a valid record is returned as
//!   [`Quarantined`] with the reason, never dropped silently and never fatal;
//! - it never skips data: an answer the adapter can tell is incomplete (a gap in a
//!   contract's sequence numbers) is an [`AdapterError::Inconsistent`] error after
//!   retries, so the caller fetches again rather than building a log with a hole.

use std::fmt::Debug;

use alloy::{
    primitives::{B256, Bytes},
    rpc::types::Log,
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, EvidenceRecord};
use serde::{Deserialize, Serialize};

use crate::error::AdapterError;

/// A block by number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Block timestamp, unix seconds.
    pub timestamp: u64,
}

/// One record with the source-specific sequence number it carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedRecord {
    /// The normalized record.
    pub record: EvidenceRecord,
    /// The emitting contract's own event sequence number (registry `seq`), if it has one.
    pub seq: Option<u64>,
}

/// An event that could not be turned into a record, kept with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// The chain.
    pub chain: ChainId,
    /// Adapter name.
    pub adapter: String,
    /// Block number of the event.
    pub block_number: u64,
    /// Block hash of the event.
    pub block_hash: B256,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Log index in the block.
    pub log_index: u64,
    /// Why it was quarantined.
    pub reason: String,
    /// The raw log data (topics are summarised in `reason` when relevant).
    pub raw: Bytes,
}

impl Quarantined {
    /// The quarantine entry of `log` of chain `chain`, read by `adapter`, with `reason`.
    pub fn of_log(chain: &ChainId, adapter: &str, log: &Log, reason: String) -> Self {
        Self {
            chain: chain.clone(),
            adapter: adapter.to_owned(),
            block_number: log.block_number.unwrap_or_default(),
            block_hash: log.block_hash.unwrap_or_default(),
            tx_hash: log.transaction_hash.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            reason,
            raw: log.data().data.clone(),
        }
    }
}

/// A log that did not make a valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeFailure {
    /// The contract's sequence number of the event, when it has one and it could be
    /// read: the event still used up that number.
    pub seq: Option<u64>,
    /// The quarantine entry (boxed: it is large and the error path is rare).
    pub quarantined: Box<Quarantined>,
}

impl From<Box<Quarantined>> for DecodeFailure {
    fn from(quarantined: Box<Quarantined>) -> Self {
        Self {
            seq: None,
            quarantined,
        }
    }
}

/// What a source carries from one batch of its chain to the next, opaque to the
/// relayer: the relayer stores the state a batch returns with its cursor, in the same
/// transaction as the batch (and rewinds it with the cursor after a reorg), and hands
/// it to the next fetch, after a restart too. Today it is the sequence number the next
/// event of a sequenced source (our registry) must carry, so a node that drops the
/// first events of a range is caught across batches; it is stored as that number
/// (`cursors.next_seq`), and sources without sequence numbers leave it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceState(u64);

impl SourceState {
    /// The state as the relayer stored it.
    pub fn from_stored(stored: u64) -> Self {
        Self(stored)
    }

    /// The state to store.
    pub fn stored(self) -> u64 {
        self.0
    }

    /// The state after a batch whose events carry the sequence numbers `seqs` (records
    /// and quarantined events alike: a quarantined event still used its number) from
    /// `before`: one past the highest, or `before` when none carries one.
    pub fn after(seqs: impl IntoIterator<Item = u64>, before: Option<Self>) -> Option<Self> {
        seqs.into_iter().max().map(|s| Self(s + 1)).or(before)
    }
}

/// What one fetch of a block range produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceBatch {
    /// Records, in (block, tx index, log index) order.
    pub records: Vec<SourcedRecord>,
    /// Events that did not decode or validate.
    pub quarantined: Vec<Quarantined>,
    /// The source's state after this batch, to store and pass to the next fetch
    /// (`None`: unchanged).
    pub state: Option<SourceState>,
}

/// A source of evidence records on one chain.
#[async_trait]
pub trait EvidenceSource: Send + Sync + Debug {
    /// The chain this source reads.
    fn chain(&self) -> &ChainId;

    /// The adapter's name, as it appears in records' `source.adapter`.
    fn adapter_name(&self) -> &str;

    /// The newest block the relayer may index up to, before its `confirmations`: for
    /// an EVM source the node's `latest` block by default, not a final one (the
    /// relayer keeps `confirmations` blocks below it and handles reorgs above them), or
    /// the node's `finalized` block when the chain is configured with
    /// `finality = "finalized"` ([`Finality`](crate::evm_source::Finality)). A family
    /// with immediate finality returns its last committed block.
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError>;

    /// The block at `number` on the node's canonical chain.
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError>;

    /// Records and quarantined events of blocks `from..=to`.
    ///
    /// `state` is the [`SourceState`] the batch before this range returned (`None`
    /// before the first one): a source that keeps one checks the range continues it
    /// (the registry: that its first event carries the expected sequence number), to
    /// detect a node that silently returned partial results. The batch returns the
    /// state after it ([`SourceBatch::state`]).
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError>;
}

#[cfg(test)]
mod tests {
    use super::SourceState;

    #[test]
    fn the_state_moves_past_every_numbered_event_quarantined_ones_too() {
        let before = Some(SourceState::from_stored(5));
        // Events 5 and 6 decoded, 7 quarantined: the next batch must start at 8, or the
        // registry's continuity check would refuse it for ever.
        assert_eq!(
            SourceState::after([5, 6, 7], before),
            Some(SourceState::from_stored(8))
        );
        // No numbered event: the state stays as it was (also before the first batch).
        assert_eq!(SourceState::after([], before), before);
        assert_eq!(SourceState::after([], None), None);
        assert_eq!(
            SourceState::after([1], None).map(SourceState::stored),
            Some(2)
        );
    }
}
