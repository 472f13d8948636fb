//! The one EVM evidence source: [`EvmLogSource<D>`], generic over a [`LogDecoder`].
//!
//! Every EVM adapter reads the logs of one contract over `eth_getLogs`; what differs is
//! only which events it asks for and how an event becomes a record. So the fetching is
//! written once, here, and an adapter (`registry`, `eas`, `mapped`, `receipts`) is a
//! decoder only. For a block range `from..=to` the source:
//! 1. checks that the node answering has block `to` at all
//!    ([`ensure_node_has`](crate::logs::ensure_node_has): a lagging node would answer
//!    "no events");
//! 2. fetches the decoder's [`LogFilter`] as consecutive sub-ranges with an adaptive
//!    block span ([`span`]), remembered across calls;
//! 3. checks the answer ([`check_range_logs`](crate::logs::check_range_logs)): every
//!    log inside the filter and the range, located, not removed, one hash per block;
//!    sorts and de-duplicates;
//! 4. finds each block's timestamp;
//! 5. lets the decoder read what it needs besides the logs ([`LogDecoder::prepare`]:
//!    EAS attestations, transaction senders) and decodes every log
//!    ([`LogDecoder::decode`]) into a record, a quarantine entry, or nothing (an event
//!    the configuration filters out);
//! 6. lets the decoder check the batch as a whole ([`LogDecoder::check_batch`]: the
//!    registry's sequence numbers).
//!
//! An [`AdapterError::Inconsistent`] answer at any step is fetched again, with a
//! smaller span, from each endpoint in turn (`attempts` in [`EvmSourceOptions`]),
//! before it is returned: never a batch with a hole.
//!
//! [`recheck`](crate::recheck) re-reads one record through the same decoder
//! ([`RecordDecoder`]), so `bridge verify` and the relayer agree on every record.

pub mod span;

use std::{collections::BTreeMap, fmt::Debug, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, EvidenceRecord, Label, SourceLocator};
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument, warn};

pub use self::span::SpanControl;
use crate::{
    error::AdapterError,
    rpc::ChainRpc,
    source::{BlockRef, DecodeFailure, EvidenceSource, SourceBatch, SourceState, SourcedRecord},
};

/// The logs a decoder reads: one contract, one or more event signatures (topic0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// The emitting contract.
    pub address: Address,
    /// The accepted topic0 values.
    pub topics0: Vec<B256>,
}

impl LogFilter {
    /// Whether `log` is one this filter asks for.
    pub fn accepts(&self, log: &Log) -> bool {
        log.address() == self.address && log.topic0().is_some_and(|t| self.topics0.contains(t))
    }

    fn to_filter(&self, from: u64, to: u64) -> Filter {
        Filter::new()
            .address(self.address)
            .event_signature(self.topics0.clone())
            .from_block(from)
            .to_block(to)
    }
}

/// The node one fetch of `from..=to` is answered by, as decoder hooks see it.
#[derive(Debug, Clone, Copy)]
pub struct BatchNode<'a> {
    /// The chain's RPC client (error mapping, other endpoints).
    pub rpc: &'a ChainRpc,
    /// The endpoint this attempt reads from: every read of one batch uses it, so the
    /// batch is one node's view.
    pub provider: &'a DynProvider,
    /// First block of the range.
    pub from: u64,
    /// Last block of the range.
    pub to: u64,
}

impl BatchNode<'_> {
    /// The chain.
    pub fn chain(&self) -> &ChainId {
        self.rpc.chain()
    }

    /// An [`AdapterError::Inconsistent`] answer for this range.
    pub fn inconsistent(&self, message: String) -> AdapterError {
        AdapterError::Inconsistent {
            chain: self.chain().clone(),
            from: self.from,
            to: self.to,
            message,
        }
    }
}

/// The source locator of a record decoded from `log` of chain `chain` by `adapter`,
/// mined in a block with `block_timestamp` (the one place a record's locator is built
/// from an EVM log; a log without its location gets zeros, which record validation
/// refuses).
pub fn log_locator(
    chain: &ChainId,
    adapter: Label,
    log: &Log,
    block_timestamp: u64,
) -> SourceLocator {
    SourceLocator {
        chain: chain.clone(),
        adapter,
        contract: log.address(),
        block_number: log.block_number.unwrap_or_default(),
        block_hash: log.block_hash.unwrap_or_default(),
        tx_hash: log.transaction_hash.unwrap_or_default(),
        tx_index: log.transaction_index.unwrap_or_default(),
        log_index: log.log_index.unwrap_or_default(),
        block_timestamp,
    }
}

/// What one log decodes to: a record (with the contract's sequence number, if it has
/// one), or `None` for an event the configuration does not read (an EAS schema outside
/// the filter). A log that cannot be a valid record is `Err` (quarantined).
pub type Decoded = Result<Option<SourcedRecord>, DecodeFailure>;

/// One EVM adapter: which logs it reads and how each becomes a record.
#[async_trait]
pub trait LogDecoder: Send + Sync + Debug + 'static {
    /// What [`LogDecoder::prepare`] reads for a batch (`()` when nothing).
    type Context: Send + Sync + Default;

    /// The adapter's name, as it appears in records' `source.adapter`.
    fn adapter_name(&self) -> &'static str;

    /// The logs to fetch.
    fn filter(&self) -> LogFilter;

    /// Reads what decoding the checked, sorted `logs` of `node.from..=node.to` needs
    /// besides the logs themselves, from `node.provider`. An answer that contradicts
    /// the logs is [`BatchNode::inconsistent`] (the range is fetched again). Default:
    /// nothing to read.
    async fn prepare(
        &self,
        _node: &BatchNode<'_>,
        _logs: &[Log],
        _timestamps: &BTreeMap<B256, u64>,
    ) -> Result<Self::Context, AdapterError> {
        Ok(Self::Context::default())
    }

    /// Decodes one log of chain `chain`, mined in a block with `block_timestamp`.
    fn decode(
        &self,
        chain: &ChainId,
        log: &Log,
        block_timestamp: u64,
        ctx: &Self::Context,
    ) -> Decoded;

    /// Checks a decoded batch as a whole; `seqs` are the sequence numbers of its logs
    /// (records and quarantined ones alike) in order, `state` the caller's (see
    /// [`EvidenceSource::fetch_records`]). Default: nothing to check.
    async fn check_batch(
        &self,
        _node: &BatchNode<'_>,
        _seqs: &[u64],
        _state: Option<SourceState>,
    ) -> Result<(), AdapterError> {
        Ok(())
    }
}

/// Which block [`EvidenceSource::fetch_head`] of an EVM source reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finality {
    /// The node's latest block; the relayer keeps the chain's `confirmations` below it.
    #[default]
    Latest,
    /// The node's `finalized` block tag (post-merge Ethereum, or any node that serves
    /// the tag); set `confirmations = 0` with it.
    Finalized,
}

impl Finality {
    fn tag(self) -> BlockNumberOrTag {
        match self {
            Self::Latest => BlockNumberOrTag::Latest,
            Self::Finalized => BlockNumberOrTag::Finalized,
        }
    }
}

/// Tuning of an [`EvmLogSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmSourceOptions {
    /// Block span of the first log query.
    pub initial_span: u64,
    /// Largest block span of one log query.
    pub max_span: u64,
    /// The span doubles after an answer with fewer logs than this.
    pub grow_below_logs: usize,
    /// Fetches of one range before an inconsistent answer is returned as an error.
    pub attempts: u32,
    /// Pause between those fetches.
    pub retry_pause: Duration,
    /// Events before this block are ignored.
    pub start_block: u64,
    /// What `fetch_head` reports.
    pub finality: Finality,
}

impl EvmSourceOptions {
    /// At most `max_span` blocks per query (starting at up to 2 000), one attempt.
    pub fn with_max_span(max_span: u64) -> Self {
        let max_span = max_span.max(1);
        Self {
            initial_span: max_span.min(2_000),
            max_span,
            grow_below_logs: 2_000,
            attempts: 1,
            retry_pause: Duration::from_millis(250),
            start_block: 0,
            finality: Finality::Latest,
        }
    }
}

/// The evidence source of one contract on one EVM chain, decoded by `D`.
#[derive(Debug)]
pub struct EvmLogSource<D: LogDecoder> {
    rpc: ChainRpc,
    chain: ChainId,
    decoder: D,
    opts: EvmSourceOptions,
    span: SpanControl,
}

impl<D: LogDecoder> EvmLogSource<D> {
    /// A source of `decoder`'s logs on `chain`, read through `rpc`.
    pub fn with_decoder(rpc: ChainRpc, chain: ChainId, decoder: D, opts: EvmSourceOptions) -> Self {
        let span = SpanControl::new(opts.initial_span, opts.max_span, opts.grow_below_logs);
        Self {
            rpc,
            chain,
            decoder,
            opts,
            span,
        }
    }

    /// Ignores events before `block`.
    pub fn from_block(mut self, block: u64) -> Self {
        self.opts.start_block = block;
        self
    }

    /// Reports `finality`'s block as the head.
    pub fn with_finality(mut self, finality: Finality) -> Self {
        self.opts.finality = finality;
        self
    }

    /// The decoder.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The RPC client.
    pub fn rpc(&self) -> &ChainRpc {
        &self.rpc
    }

    /// The block span the next log query will use.
    pub fn current_span(&self) -> u64 {
        self.span.current()
    }

    /// One fetch of `from..=to` from `provider`, with every check.
    async fn fetch_once(
        &self,
        provider: &DynProvider,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError> {
        let node = BatchNode {
            rpc: &self.rpc,
            provider,
            from,
            to,
        };
        let filter = self.decoder.filter();
        crate::logs::ensure_node_has(&self.rpc, provider, from, to).await?;
        let logs = span::fetch_adaptive(&self.span, from, to, |a, b| {
            let query = filter.to_filter(a, b);
            async move {
                provider
                    .get_logs(&query)
                    .await
                    .map_err(|e| self.rpc.log_error(a, b, e))
            }
        })
        .await?;
        let logs = crate::logs::check_range_logs(logs, from, to, |log| filter.accepts(log))
            .map_err(|message| node.inconsistent(message))?;
        let timestamps =
            crate::logs::block_timestamps(&self.rpc, provider, from, to, &logs).await?;
        let ctx = self.decoder.prepare(&node, &logs, &timestamps).await?;
        let mut batch = SourceBatch::default();
        let mut seqs = Vec::new();
        for log in &logs {
            let ts = timestamps
                .get(&log.block_hash.unwrap_or_default())
                .copied()
                .unwrap_or_default();
            match self.decoder.decode(&self.chain, log, ts, &ctx) {
                Ok(Some(record)) => {
                    seqs.extend(record.seq);
                    batch.records.push(record);
                }
                Ok(None) => {}
                Err(f) => {
                    let q = &f.quarantined;
                    warn!(target: "adapters::source", chain = %self.chain, adapter = self.decoder.adapter_name(), block = q.block_number, log_index = q.log_index, reason = %q.reason, "quarantined event");
                    seqs.extend(f.seq);
                    batch.quarantined.push(*f.quarantined);
                }
            }
        }
        self.decoder.check_batch(&node, &seqs, state).await?;
        batch.state = SourceState::after(seqs.iter().copied(), state);
        Ok(batch)
    }
}

#[async_trait]
impl<D: LogDecoder> EvidenceSource for EvmLogSource<D> {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        self.decoder.adapter_name()
    }

    #[instrument(target = "adapters::source", skip(self), fields(chain = %self.chain, adapter = self.decoder.adapter_name()))]
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        match self.opts.finality {
            Finality::Latest => self.rpc.fetch_head_ref().await,
            f => self
                .rpc
                .fetch_block_ref(f.tag())
                .await?
                .ok_or_else(|| AdapterError::Rpc {
                    chain: self.chain.clone(),
                    message: format!("the node returned no {f:?} block (does it serve the tag?)"),
                }),
        }
    }

    #[instrument(target = "adapters::source", skip(self), fields(chain = %self.chain, adapter = self.decoder.adapter_name()))]
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_block_at(number).await
    }

    #[instrument(target = "adapters::source", skip(self), fields(chain = %self.chain, adapter = self.decoder.adapter_name()))]
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError> {
        if from > to {
            return Err(AdapterError::Config(format!(
                "{}: empty block range {from}..={to}",
                self.chain
            )));
        }
        if to < self.opts.start_block {
            return Ok(SourceBatch::default());
        }
        let from = from.max(self.opts.start_block);
        let adapter = self.decoder.adapter_name();
        let mut last = None;
        for attempt in 0..self.opts.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(self.opts.retry_pause).await;
            }
            // First the failover provider; on retries each endpoint in turn, for a
            // second opinion from another node.
            let provider = if attempt == 0 {
                self.rpc.provider()
            } else {
                self.rpc.endpoint(attempt as usize - 1)
            };
            match self.fetch_once(provider, from, to, state).await {
                Ok(batch) => {
                    debug!(target: "adapters::source", chain = %self.chain, adapter, from, to, records = batch.records.len(), quarantined = batch.quarantined.len(), span = self.span.current(), "fetched");
                    return Ok(batch);
                }
                Err(e @ AdapterError::Inconsistent { .. }) => {
                    warn!(target: "adapters::source", chain = %self.chain, adapter, from, to, attempt, error = %e, "inconsistent answer; fetching again with a smaller span");
                    metrics::counter!("bridge_source_inconsistent_total", "chain" => self.chain.to_string(), "adapter" => adapter).increment(1);
                    if self.opts.attempts > 1 {
                        self.span.shrink();
                    }
                    last = Some(e);
                }
                // A dead endpoint during a retry: the next attempt uses another one.
                Err(e @ AdapterError::Rpc { .. }) if attempt > 0 && last.is_some() => {
                    warn!(target: "adapters::source", chain = %self.chain, adapter, from, to, attempt, error = %e, "endpoint failed during a retry");
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AdapterError::Inconsistent {
            chain: self.chain.clone(),
            from,
            to,
            message: "no consistent answer".into(),
        }))
    }
}

/// A decoder as [`recheck`](crate::recheck) uses it: one log, read again from its
/// transaction receipt, through [`LogDecoder::prepare`] and [`LogDecoder::decode`].
#[async_trait]
pub trait RecordDecoder: Send + Sync + Debug {
    /// The adapter name of the records it decodes.
    fn adapter_name(&self) -> &'static str;

    /// Whether it reads logs of `contract`.
    fn reads(&self, contract: Address) -> bool;

    /// Decodes `log` (of block `node.from`, with `block_timestamp`). `Ok(Err(reason))`:
    /// the log is not a valid record of this adapter.
    async fn decode_one(
        &self,
        node: &BatchNode<'_>,
        log: &Log,
        block_timestamp: u64,
    ) -> Result<Result<EvidenceRecord, String>, AdapterError>;
}

#[async_trait]
impl<D: LogDecoder> RecordDecoder for D {
    fn adapter_name(&self) -> &'static str {
        LogDecoder::adapter_name(self)
    }

    fn reads(&self, contract: Address) -> bool {
        self.filter().address == contract
    }

    async fn decode_one(
        &self,
        node: &BatchNode<'_>,
        log: &Log,
        block_timestamp: u64,
    ) -> Result<Result<EvidenceRecord, String>, AdapterError> {
        let hash = log.block_hash.unwrap_or_default();
        let timestamps = BTreeMap::from([(hash, block_timestamp)]);
        let ctx = self
            .prepare(node, std::slice::from_ref(log), &timestamps)
            .await?;
        Ok(
            match self.decode(node.chain(), log, block_timestamp, &ctx) {
                Ok(Some(r)) => Ok(r.record),
                Ok(None) => Err(format!(
                    "the `{}` configuration here does not read this event",
                    LogDecoder::adapter_name(self)
                )),
                Err(f) => Err(f.quarantined.reason),
            },
        )
    }
}
