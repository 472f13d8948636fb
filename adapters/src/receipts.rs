//! The `bridge-receipts` source adapter: round-trip receipts.
//!
//! Every `CheckpointAccepted` event of an `AnchorMirror` on chain B is turned into a
//! record **of chain B**, so B's acceptance of chain A's checkpoint is itself logged on
//! B, checkpointed and mirrored back to A: A can then prove that B accepted its log up
//! to a size and root (a round-trip receipt).
//!
//! The record of one event (all other fields are the usual source locator):
//!
//! | record field | value |
//! | --- | --- |
//! | `source.adapter` | `bridge-receipts` |
//! | `source.contract` | the mirror |
//! | `action` | `anchor` (receipts are never revoked) |
//! | `evidence.digest_alg` | `keccak256` |
//! | `evidence.digest` | [`receipt_digest`]: `keccak256(abi.encode(bytes32 sourceChain, uint64 size, bytes32 root))`, `sourceChain` = `keccak256(utf8 CAIP-2 id of A)` |
//! | `evidence.kind` | `bridge.checkpoint-accepted` |
//! | `evidence.submitter` | the mirror's address (the contract that accepted; the relayer that paid for the transaction is not evidence) |
//! | `evidence.metadata` | `sourceBlockHash` of the accepted checkpoint |
//!
//! The digest depends only on (A, size, root), so anyone holding A's checkpoint can
//! compute it and look the receipt up on B (`bridge lookup` does).
//!
//! Mirror events carry no sequence number: completeness of a range rests on the node's
//! `eth_getLogs` answer (the same trust as the registry adapter without its `seq`
//! check); a log outside the range, removed, or without a location is an
//! [`AdapterError::Inconsistent`] answer, fetched again.

use alloy::{
    primitives::{Address, B256, keccak256},
    providers::Provider,
    rpc::types::{Filter, Log},
    sol_types::{SolEvent, SolValue},
};
use async_trait::async_trait;
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, SourceLocator,
    record::RECORD_VERSION,
};
use tracing::{instrument, warn};

use crate::{
    contracts::AnchorMirror,
    error::AdapterError,
    registry::span::{SpanControl, fetch_adaptive},
    rpc::ChainRpc,
    source::{BlockRef, EvidenceSource, Quarantined, SourceBatch, SourcedRecord},
};

/// The adapter name of round-trip receipts, as it appears in records.
pub const RECEIPTS_ADAPTER: &str = "bridge-receipts";

/// The `kind` of a round-trip receipt record.
pub const RECEIPT_KIND: &str = "bridge.checkpoint-accepted";

/// The digest of a receipt: `keccak256(abi.encode(bytes32 keccak256(source CAIP-2),
/// uint64 size, bytes32 root))`.
pub fn receipt_digest(source_key: B256, size: u64, root: B256) -> B256 {
    keccak256((source_key, size, root).abi_encode())
}

/// Decodes one mirror log of chain `chain` into a receipt record, or the reason it
/// cannot be one (the caller quarantines it).
pub fn decode_receipt_log(
    chain: &ChainId,
    log: &Log,
    block_timestamp: u64,
) -> Result<EvidenceRecord, Box<Quarantined>> {
    let fail = |reason: String| {
        Box::new(Quarantined {
            chain: chain.clone(),
            adapter: RECEIPTS_ADAPTER.to_owned(),
            block_number: log.block_number.unwrap_or_default(),
            block_hash: log.block_hash.unwrap_or_default(),
            tx_hash: log.transaction_hash.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            reason: format!("{reason} (contract {})", log.address()),
            raw: log.data().data.clone(),
        })
    };
    let (Some(block_number), Some(block_hash), Some(tx_hash), Some(tx_index), Some(log_index)) = (
        log.block_number,
        log.block_hash,
        log.transaction_hash,
        log.transaction_index,
        log.log_index,
    ) else {
        return Err(fail(
            "log has no block/transaction location (pending log?)".into(),
        ));
    };
    let ev = AnchorMirror::CheckpointAccepted::decode_log(&log.inner)
        .map_err(|e| fail(format!("undecodable CheckpointAccepted event: {e}")))?;
    let label = |field, v: &str| Label::parse(field, v).map_err(|e| fail(format!("{e}")));
    let record = EvidenceRecord {
        version: RECORD_VERSION,
        source: SourceLocator {
            chain: chain.clone(),
            adapter: label("adapter", RECEIPTS_ADAPTER)?,
            contract: log.address(),
            block_number,
            block_hash,
            tx_hash,
            tx_index,
            log_index,
            block_timestamp,
        },
        action: Action::Anchor,
        reference: None,
        evidence: Evidence {
            digest_alg: DigestAlgorithm::Keccak256,
            digest: receipt_digest(ev.sourceChain, ev.size, ev.root),
            kind: label("kind", RECEIPT_KIND)?,
            submitter: log.address(),
            metadata: ev.sourceBlockHash,
        },
    };
    record
        .validate()
        .map_err(|e| fail(format!("invalid record: {e}")))?;
    Ok(record)
}

/// Reads the `CheckpointAccepted` events of one `AnchorMirror`.
#[derive(Debug)]
pub struct ReceiptsSource {
    rpc: ChainRpc,
    chain: ChainId,
    mirror: Address,
    span: SpanControl,
    start_block: u64,
}

impl ReceiptsSource {
    /// A source of the receipts of the mirror at `mirror` on `chain`; one log query
    /// covers at most `max_span` blocks.
    pub fn new(rpc: ChainRpc, chain: ChainId, mirror: Address, max_span: u64) -> Self {
        let max_span = max_span.max(1);
        Self {
            rpc,
            chain,
            mirror,
            span: SpanControl::new(max_span.min(2_000), max_span, 2_000),
            start_block: 0,
        }
    }

    /// Ignores the mirror's events before `block`: receipts enter the log from there on.
    /// Partners that turn receipts on for a chain they already index must agree on this
    /// block (one none of them has indexed yet), or their logs differ.
    pub fn from_block(mut self, block: u64) -> Self {
        self.start_block = block;
        self
    }

    /// The mirror's address.
    pub fn mirror(&self) -> Address {
        self.mirror
    }

    fn inconsistent(&self, from: u64, to: u64, message: String) -> AdapterError {
        AdapterError::Inconsistent {
            chain: self.chain.clone(),
            from,
            to,
            message,
        }
    }

    /// Sorted, de-duplicated logs of `from..=to`; an answer outside the filter is
    /// inconsistent.
    fn check_logs(&self, from: u64, to: u64, logs: Vec<Log>) -> Result<Vec<Log>, AdapterError> {
        crate::logs::check_range_logs(logs, from, to, |log| {
            log.address() == self.mirror
                && log.topic0() == Some(&AnchorMirror::CheckpointAccepted::SIGNATURE_HASH)
        })
        .map_err(|message| self.inconsistent(from, to, message))
    }
}

#[async_trait]
impl EvidenceSource for ReceiptsSource {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        RECEIPTS_ADAPTER
    }

    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_head_ref().await
    }

    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_block_at(number).await
    }

    #[instrument(target = "adapters::receipts", skip(self), fields(chain = %self.chain))]
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        _expected_next_seq: Option<u64>,
    ) -> Result<SourceBatch, AdapterError> {
        if from > to {
            return Err(AdapterError::Config(format!(
                "{}: empty block range {from}..={to}",
                self.chain
            )));
        }
        if to < self.start_block {
            return Ok(SourceBatch::default());
        }
        let from = from.max(self.start_block);
        let provider = self.rpc.provider();
        let base = Filter::new()
            .address(self.mirror)
            .event_signature(AnchorMirror::CheckpointAccepted::SIGNATURE_HASH);
        crate::logs::ensure_node_has(&self.rpc, provider, from, to).await?;
        let logs = fetch_adaptive(&self.span, from, to, |a, b| {
            let filter = base.clone().from_block(a).to_block(b);
            async move {
                provider
                    .get_logs(&filter)
                    .await
                    .map_err(|e| self.rpc.log_error(a, b, e))
            }
        })
        .await?;
        let logs = self.check_logs(from, to, logs)?;
        let timestamps =
            crate::logs::block_timestamps(&self.rpc, provider, from, to, &logs).await?;
        let mut batch = SourceBatch::default();
        for log in &logs {
            let ts = timestamps
                .get(&log.block_hash.unwrap_or_default())
                .copied()
                .unwrap_or_default();
            match decode_receipt_log(&self.chain, log, ts) {
                Ok(record) => batch.records.push(SourcedRecord { record, seq: None }),
                Err(q) => {
                    warn!(target: "adapters::receipts", chain = %self.chain, block = q.block_number, log_index = q.log_index, reason = %q.reason, "quarantined mirror event");
                    batch.quarantined.push(*q);
                }
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_abi_encoding_of_chain_size_root() {
        let key = ChainId::eip155(31337).key();
        let root = B256::repeat_byte(7);
        let mut words = Vec::new();
        words.extend_from_slice(key.as_slice());
        let mut size = [0u8; 32];
        size[24..].copy_from_slice(&5u64.to_be_bytes());
        words.extend_from_slice(&size);
        words.extend_from_slice(root.as_slice());
        assert_eq!(receipt_digest(key, 5, root), keccak256(&words));
        assert_ne!(receipt_digest(key, 6, root), receipt_digest(key, 5, root));
    }
}
