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

use alloy::primitives::{B256, Bytes};
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

/// What one fetch of a block range produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceBatch {
    /// Records, in (block, tx index, log index) order.
    pub records: Vec<SourcedRecord>,
    /// Events that did not decode or validate.
    pub quarantined: Vec<Quarantined>,
}

/// A source of evidence records on one chain.
#[async_trait]
pub trait EvidenceSource: Send + Sync + Debug {
    /// The chain this source reads.
    fn chain(&self) -> &ChainId;

    /// The adapter's name, as it appears in records' `source.adapter`.
    fn adapter_name(&self) -> &str;

    /// The latest block the node knows (not necessarily final).
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError>;

    /// The block at `number` on the node's canonical chain.
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError>;

    /// Records and quarantined events of blocks `from..=to`.
    ///
    /// `expected_next_seq` is the sequence number the caller expects the first event of
    /// this range to carry (for sources with sequence numbers), used to detect a node
    /// that silently returned partial results.
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        expected_next_seq: Option<u64>,
    ) -> Result<SourceBatch, AdapterError>;
}
