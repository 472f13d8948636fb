//! The `mapped` source adapter: any existing evidence contract, read through a mapping
//! in the configuration instead of code.
//!
//! The operator names the contract, the event signature and which event field becomes
//! the digest, the submitter, the kind and the metadata commitment
//! ([`MappedSourceOptions`], rules in its docs). The signature is parsed with alloy's
//! json-abi and every log is decoded with dyn-abi; the mapping is checked against the
//! parsed signature at start-up ([`MappedSpec::new`]), so a field the event does not
//! have or a field of the wrong type stops the bridge with a message naming it.
//!
//! The spec is the adapter's [`LogDecoder`]: the one EVM log source ([`EvmLogSource`])
//! fetches the contract's logs with the event's topic0, checks, sorts and
//! de-duplicates them, and the spec decodes each into an anchor record or a quarantine
//! entry (reading the transactions' senders first when the submitter is `tx.from`). Third-party contracts carry no
//! sequence numbers, so records have `seq = None` and completeness rests on the node's
//! answer (the range is re-fetched after a reorg like any other).

pub mod contracts;
pub mod spec;

use std::collections::BTreeMap;

use alloy::{
    network::TransactionResponse,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Log,
};
use async_trait::async_trait;
use evidence_schemas::ChainId;

pub use self::spec::{LogContext, MAPPED_ADAPTER, MappedSourceOptions, MappedSpec, TX_FROM};
use crate::{
    error::AdapterError,
    evm_source::{BatchNode, Decoded, EvmLogSource, EvmSourceOptions, LogDecoder, LogFilter},
    rpc::ChainRpc,
    source::SourcedRecord,
};

/// Transaction senders by transaction hash, read for a batch when the mapping's
/// submitter is `tx.from`.
pub type Senders = BTreeMap<B256, Address>;

#[async_trait]
impl LogDecoder for MappedSpec {
    type Context = Senders;

    fn adapter_name(&self) -> &'static str {
        MAPPED_ADAPTER
    }

    fn filter(&self) -> LogFilter {
        LogFilter {
            address: self.options().contract,
            topics0: vec![self.topic0()],
        }
    }

    async fn prepare(
        &self,
        node: &BatchNode<'_>,
        logs: &[Log],
        _: &BTreeMap<B256, u64>,
    ) -> Result<Senders, AdapterError> {
        let mut out = BTreeMap::new();
        if !self.needs_tx_from() {
            return Ok(out);
        }
        for log in logs {
            let hash = log.transaction_hash.unwrap_or_default();
            if out.contains_key(&hash) {
                continue;
            }
            let tx = node
                .rpc
                .provider()
                .get_transaction_by_hash(hash)
                .await
                .map_err(|e| node.rpc.error("eth_getTransactionByHash", e))?
                .ok_or_else(|| {
                    let n = log.block_number.unwrap_or_default();
                    AdapterError::Inconsistent {
                        chain: node.chain().clone(),
                        from: n,
                        to: n,
                        message: format!("transaction {hash} of a log is unknown to the node"),
                    }
                })?;
            out.insert(hash, tx.from());
        }
        Ok(out)
    }

    fn decode(
        &self,
        chain: &ChainId,
        log: &Log,
        block_timestamp: u64,
        senders: &Senders,
    ) -> Decoded {
        let ctx = LogContext {
            block_timestamp,
            tx_from: senders
                .get(&log.transaction_hash.unwrap_or_default())
                .copied(),
        };
        let record = MappedSpec::decode(self, chain, log, ctx)?;
        Ok(Some(SourcedRecord { record, seq: None }))
    }
}

/// Reads one third-party evidence contract through a [`MappedSpec`].
pub type MappedSource = EvmLogSource<MappedSpec>;

impl EvmLogSource<MappedSpec> {
    /// Validates `opts` (see [`MappedSpec::new`]) and builds the source; one log query
    /// covers at most `max_span` blocks.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        opts: MappedSourceOptions,
        max_span: u64,
    ) -> Result<Self, AdapterError> {
        let spec = MappedSpec::new(opts)?;
        Ok(Self::with_decoder(
            rpc,
            chain,
            spec,
            EvmSourceOptions::with_max_span(max_span),
        ))
    }

    /// The validated mapping.
    pub fn spec(&self) -> &MappedSpec {
        self.decoder()
    }

    /// The contract read.
    pub fn contract(&self) -> Address {
        self.decoder().options().contract
    }
}
