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
//! [`AdapterError::Inconsistent`](crate::AdapterError::Inconsistent) answer, checked
//! by the one EVM log source ([`EvmLogSource`]) this adapter is a decoder of
//! ([`ReceiptsDecoder`]).

use alloy::{
    primitives::{Address, B256, keccak256},
    rpc::types::Log,
    sol_types::{SolEvent, SolValue},
};
use async_trait::async_trait;
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, record::RECORD_VERSION,
};

use crate::{
    contracts::AnchorMirror,
    evm_source::{Decoded, EvmLogSource, EvmSourceOptions, LogDecoder, LogFilter},
    rpc::ChainRpc,
    source::{Quarantined, SourcedRecord},
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
        Box::new(Quarantined::of_log(
            chain,
            RECEIPTS_ADAPTER,
            log,
            format!("{reason} (contract {})", log.address()),
        ))
    };
    if !crate::logs::has_location(log) {
        return Err(fail(
            "log has no block/transaction location (pending log?)".into(),
        ));
    }
    let ev = AnchorMirror::CheckpointAccepted::decode_log(&log.inner)
        .map_err(|e| fail(format!("undecodable CheckpointAccepted event: {e}")))?;
    let label = |field, v: &str| Label::parse(field, v).map_err(|e| fail(format!("{e}")));
    let record = EvidenceRecord {
        version: RECORD_VERSION,
        source: crate::evm_source::log_locator(
            chain,
            label("adapter", RECEIPTS_ADAPTER)?,
            log,
            block_timestamp,
        ),
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

/// Decodes an `AnchorMirror`'s `CheckpointAccepted` events into receipts.
#[derive(Debug, Clone)]
pub struct ReceiptsDecoder {
    mirror: Address,
}

impl ReceiptsDecoder {
    /// The decoder of the mirror at `mirror`.
    pub fn new(mirror: Address) -> Self {
        Self { mirror }
    }
}

#[async_trait]
impl LogDecoder for ReceiptsDecoder {
    type Context = ();

    fn adapter_name(&self) -> &'static str {
        RECEIPTS_ADAPTER
    }

    fn filter(&self) -> LogFilter {
        LogFilter {
            address: self.mirror,
            topics0: vec![AnchorMirror::CheckpointAccepted::SIGNATURE_HASH],
        }
    }

    fn decode(&self, chain: &ChainId, log: &Log, block_timestamp: u64, _: &()) -> Decoded {
        let record = decode_receipt_log(chain, log, block_timestamp)?;
        Ok(Some(SourcedRecord { record, seq: None }))
    }
}

/// Reads the `CheckpointAccepted` events of one `AnchorMirror`.
pub type ReceiptsSource = EvmLogSource<ReceiptsDecoder>;

impl EvmLogSource<ReceiptsDecoder> {
    /// A source of the receipts of the mirror at `mirror` on `chain`; one log query
    /// covers at most `max_span` blocks. [`EvmLogSource::from_block`] ignores the
    /// mirror's events before a block: receipts enter the log from there on. Partners
    /// that turn receipts on for a chain they already index must agree on this block
    /// (one none of them has indexed yet), or their logs differ.
    pub fn new(rpc: ChainRpc, chain: ChainId, mirror: Address, max_span: u64) -> Self {
        let decoder = ReceiptsDecoder::new(mirror);
        Self::with_decoder(
            rpc,
            chain,
            decoder,
            EvmSourceOptions::with_max_span(max_span),
        )
    }

    /// The mirror's address.
    pub fn mirror(&self) -> Address {
        self.decoder().mirror
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
