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
//! For a block range the adapter fetches the contract's logs with the event's topic0
//! (adaptive span, like the registry), sorts and de-duplicates them, and decodes each
//! into an anchor record or a quarantine entry. Third-party contracts carry no
//! sequence numbers, so records have `seq = None` and completeness rests on the node's
//! answer (the range is re-fetched after a reorg like any other).

pub mod contracts;
pub mod spec;

use std::collections::BTreeMap;

use alloy::{
    network::TransactionResponse,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::{Filter, Log},
};
use async_trait::async_trait;
use evidence_schemas::ChainId;
use tracing::{debug, instrument, warn};

pub use self::spec::{LogContext, MAPPED_ADAPTER, MappedSourceOptions, MappedSpec, TX_FROM};
use crate::{
    error::AdapterError,
    registry::span::{SpanControl, fetch_adaptive},
    rpc::ChainRpc,
    source::{BlockRef, EvidenceSource, SourceBatch, SourcedRecord},
};

/// Reads one third-party evidence contract through a [`MappedSpec`].
#[derive(Debug)]
pub struct MappedSource {
    rpc: ChainRpc,
    chain: ChainId,
    spec: MappedSpec,
    span: SpanControl,
}

impl MappedSource {
    /// Validates `opts` (see [`MappedSpec::new`]) and builds the source.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        opts: MappedSourceOptions,
        max_span: u64,
    ) -> Result<Self, AdapterError> {
        let spec = MappedSpec::new(opts)?;
        let max_span = max_span.max(1);
        Ok(Self {
            rpc,
            chain,
            spec,
            span: SpanControl::new(max_span.min(2_000), max_span, 2_000),
        })
    }

    /// The validated mapping.
    pub fn spec(&self) -> &MappedSpec {
        &self.spec
    }

    /// The contract read.
    pub fn contract(&self) -> Address {
        self.spec.options().contract
    }

    fn inconsistent(&self, from: u64, to: u64, message: String) -> AdapterError {
        AdapterError::Inconsistent {
            chain: self.chain.clone(),
            from,
            to,
            message,
        }
    }

    fn check_logs(&self, from: u64, to: u64, logs: Vec<Log>) -> Result<Vec<Log>, AdapterError> {
        crate::logs::check_range_logs(logs, from, to, |log| {
            log.address() == self.contract() && log.topic0() == Some(&self.spec.topic0())
        })
        .map_err(|message| self.inconsistent(from, to, message))
    }

    async fn senders(&self, logs: &[Log]) -> Result<BTreeMap<B256, Address>, AdapterError> {
        let mut out = BTreeMap::new();
        if !self.spec.needs_tx_from() {
            return Ok(out);
        }
        for log in logs {
            let hash = log.transaction_hash.unwrap_or_default();
            if out.contains_key(&hash) {
                continue;
            }
            let tx = self
                .rpc
                .provider()
                .get_transaction_by_hash(hash)
                .await
                .map_err(|e| self.rpc.error("eth_getTransactionByHash", e))?
                .ok_or_else(|| {
                    let n = log.block_number.unwrap_or_default();
                    self.inconsistent(
                        n,
                        n,
                        format!("transaction {hash} of a log is unknown to the node"),
                    )
                })?;
            out.insert(hash, tx.from());
        }
        Ok(out)
    }
}

#[async_trait]
impl EvidenceSource for MappedSource {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        MAPPED_ADAPTER
    }

    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_head_ref().await
    }

    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_block_at(number).await
    }

    #[instrument(target = "adapters::mapped", skip(self), fields(chain = %self.chain, source = %self.spec.options().name))]
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
        let base = Filter::new()
            .address(self.contract())
            .event_signature(self.spec.topic0());
        let provider = self.rpc.provider();
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
        let senders = self.senders(&logs).await?;
        let mut batch = SourceBatch::default();
        for log in &logs {
            let ctx = LogContext {
                block_timestamp: timestamps
                    .get(&log.block_hash.unwrap_or_default())
                    .copied()
                    .unwrap_or_default(),
                tx_from: senders
                    .get(&log.transaction_hash.unwrap_or_default())
                    .copied(),
            };
            match self.spec.decode(&self.chain, log, ctx) {
                Ok(record) => batch.records.push(SourcedRecord { record, seq: None }),
                Err(q) => {
                    warn!(target: "adapters::mapped", chain = %self.chain, block = q.block_number, log_index = q.log_index, reason = %q.reason, "quarantined mapped event");
                    batch.quarantined.push(*q);
                }
            }
        }
        debug!(target: "adapters::mapped", from, to, records = batch.records.len(), quarantined = batch.quarantined.len(), "fetched");
        Ok(batch)
    }
}
