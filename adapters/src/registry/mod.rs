//! The `registry` source adapter: our own `EvidenceRegistry` contract.
//!
//! For a block range it fetches the registry's `Anchored` and `Revoked` logs with an
//! adaptive span ([`span`]), decodes each into a record ([`decode`]) or a quarantine
//! entry, and then reconciles the registry's sequence numbers: they must be contiguous,
//! start at the caller's `expected_next_seq` when given, and end one below the
//! registry's `nextSeq()` read at the last block of the range. A node that dropped
//! logs (a known failure of overloaded or load-balanced providers) fails that check;
//! the range is then fetched again from another endpoint with a smaller span and,
//! failing that, an [`AdapterError::Inconsistent`] error is returned — never a batch
//! with a hole.

pub mod decode;
pub mod span;

use std::time::Duration;

use alloy::{
    eips::BlockId,
    primitives::Address,
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
};
use async_trait::async_trait;
use evidence_schemas::ChainId;
use tracing::{debug, instrument, warn};

pub use self::{
    decode::{
        DecodeFailure, REGISTRY_ADAPTER, RegistryEvent, decode_registry_log,
        registry_event_signatures, seq_topic,
    },
    span::SpanControl,
};
use crate::{
    contracts::EvidenceRegistry,
    error::AdapterError,
    rpc::{ChainRpc, is_error_answer},
    source::{BlockRef, EvidenceSource, SourceBatch, SourcedRecord},
};

/// Tuning of a [`RegistrySource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySourceOptions {
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
    /// Check the last `seq` against `nextSeq()` read at the range's last block (falls
    /// back to contiguity alone when the node has pruned that state).
    pub check_next_seq: bool,
}

impl Default for RegistrySourceOptions {
    fn default() -> Self {
        Self {
            initial_span: 2_000,
            max_span: 10_000,
            grow_below_logs: 2_000,
            attempts: 4,
            retry_pause: Duration::from_millis(250),
            check_next_seq: true,
        }
    }
}

/// Reads an `EvidenceRegistry` on one chain.
#[derive(Debug)]
pub struct RegistrySource {
    rpc: ChainRpc,
    chain: ChainId,
    registry: Address,
    opts: RegistrySourceOptions,
    span: SpanControl,
}

impl RegistrySource {
    /// A source reading the registry at `registry` through `rpc`.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        registry: Address,
        opts: RegistrySourceOptions,
    ) -> Self {
        let span = SpanControl::new(opts.initial_span, opts.max_span, opts.grow_below_logs);
        Self {
            rpc,
            chain,
            registry,
            opts,
            span,
        }
    }

    /// The registry's address.
    pub fn registry(&self) -> Address {
        self.registry
    }

    /// The block span the next log query will use.
    pub fn current_span(&self) -> u64 {
        self.span.current()
    }

    /// The registry's `nextSeq()` at `block` (latest when `None`).
    pub async fn fetch_next_seq(&self, block: Option<u64>) -> Result<u64, AdapterError> {
        let registry = EvidenceRegistry::new(self.registry, self.rpc.provider());
        let call = registry.nextSeq();
        let call = match block {
            Some(n) => call.block(BlockId::number(n)),
            None => call,
        };
        call.call()
            .await
            .map_err(|e| self.contract_error("nextSeq", e))
    }

    fn contract_error(&self, what: &str, e: alloy::contract::Error) -> AdapterError {
        match e {
            alloy::contract::Error::TransportError(t) => self.rpc.error(what, t),
            other => AdapterError::Rpc {
                chain: self.chain.clone(),
                message: format!("{what}: {other}"),
            },
        }
    }

    fn inconsistent(&self, from: u64, to: u64, message: String) -> AdapterError {
        AdapterError::Inconsistent {
            chain: self.chain.clone(),
            from,
            to,
            message,
        }
    }

    /// One fetch of `from..=to` from `provider`, with every check.
    async fn fetch_once(
        &self,
        provider: &DynProvider,
        from: u64,
        to: u64,
        expected_next_seq: Option<u64>,
    ) -> Result<SourceBatch, AdapterError> {
        let base = Filter::new()
            .address(self.registry)
            .event_signature(registry_event_signatures().to_vec());
        crate::logs::ensure_node_has(&self.rpc, provider, from, to).await?;
        let logs = span::fetch_adaptive(&self.span, from, to, |a, b| {
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
        let mut seqs = Vec::with_capacity(logs.len());
        for log in &logs {
            let hash = log.block_hash.unwrap_or_default();
            let ts = timestamps.get(&hash).copied().unwrap_or_default();
            match decode_registry_log(&self.chain, log, ts) {
                Ok(ev) => {
                    seqs.push(ev.seq);
                    batch.records.push(SourcedRecord {
                        record: ev.record,
                        seq: Some(ev.seq),
                    });
                }
                Err(f) => {
                    warn!(target: "adapters::registry", chain = %self.chain, block = f.quarantined.block_number, log_index = f.quarantined.log_index, reason = %f.quarantined.reason, "quarantined registry event");
                    if let Some(s) = f.seq {
                        seqs.push(s);
                    }
                    batch.quarantined.push(*f.quarantined);
                }
            }
        }

        self.check_seqs(from, to, &seqs, expected_next_seq)?;
        if self.opts.check_next_seq {
            self.check_next_seq(provider, from, to, &seqs, expected_next_seq)
                .await?;
        }
        Ok(batch)
    }

    /// Drops nothing silently: a log outside the filter, without a location, or removed
    /// means this node's answer cannot be trusted. Sorts and de-duplicates.
    fn check_logs(&self, from: u64, to: u64, logs: Vec<Log>) -> Result<Vec<Log>, AdapterError> {
        let sigs = registry_event_signatures();
        crate::logs::check_range_logs(logs, from, to, |log| {
            log.address() == self.registry && log.topic0().is_some_and(|t| sigs.contains(t))
        })
        .map_err(|message| self.inconsistent(from, to, message))
    }

    fn check_seqs(
        &self,
        from: u64,
        to: u64,
        seqs: &[u64],
        expected: Option<u64>,
    ) -> Result<(), AdapterError> {
        if let (Some(first), Some(expected)) = (seqs.first(), expected)
            && *first != expected
        {
            return Err(self.inconsistent(
                from,
                to,
                format!("first registry seq is {first}, expected {expected} (events missing before it, or the caller's cursor is wrong)"),
            ));
        }
        for w in seqs.windows(2) {
            if w[1] != w[0] + 1 {
                return Err(self.inconsistent(
                    from,
                    to,
                    format!(
                        "registry seq jumps from {} to {}: events missing",
                        w[0], w[1]
                    ),
                ));
            }
        }
        Ok(())
    }

    async fn check_next_seq(
        &self,
        provider: &DynProvider,
        from: u64,
        to: u64,
        seqs: &[u64],
        expected: Option<u64>,
    ) -> Result<(), AdapterError> {
        let want = match (seqs.last(), expected) {
            (Some(last), _) => last + 1,
            (None, Some(e)) => e,
            (None, None) => return Ok(()),
        };
        let registry = EvidenceRegistry::new(self.registry, provider);
        let next = match registry.nextSeq().block(BlockId::number(to)).call().await {
            Ok(n) => n,
            Err(alloy::contract::Error::TransportError(e)) if is_error_answer(&e) => {
                debug!(target: "adapters::registry", chain = %self.chain, to, error = %e, "nextSeq() not readable at this block (pruned state?); checking contiguity only");
                return Ok(());
            }
            Err(alloy::contract::Error::TransportError(e)) => {
                return Err(self.rpc.error("eth_call nextSeq", e));
            }
            Err(e) => {
                // No code at `to` (registry deployed later), or garbage: nothing to compare.
                debug!(target: "adapters::registry", chain = %self.chain, to, error = %e, "nextSeq() gave no answer at this block; checking contiguity only");
                return Ok(());
            }
        };
        if next != want {
            return Err(self.inconsistent(
                from,
                to,
                format!("registry nextSeq() at block {to} is {next}, but the logs end before seq {want}: events missing"),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl EvidenceSource for RegistrySource {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        REGISTRY_ADAPTER
    }

    #[instrument(target = "adapters::registry", skip(self), fields(chain = %self.chain))]
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_head_ref().await
    }

    #[instrument(target = "adapters::registry", skip(self), fields(chain = %self.chain))]
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_block_at(number).await
    }

    #[instrument(target = "adapters::registry", skip(self), fields(chain = %self.chain))]
    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        expected_next_seq: Option<u64>,
    ) -> Result<SourceBatch, AdapterError> {
        if from > to {
            return Err(AdapterError::Config(format!(
                "{}: empty block range {from}..={to}",
                self.chain
            )));
        }
        let attempts = self.opts.attempts.max(1);
        let mut last = None;
        for attempt in 0..attempts {
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
            match self.fetch_once(provider, from, to, expected_next_seq).await {
                Ok(batch) => {
                    debug!(target: "adapters::registry", chain = %self.chain, from, to, records = batch.records.len(), quarantined = batch.quarantined.len(), span = self.span.current(), "fetched");
                    return Ok(batch);
                }
                Err(e @ AdapterError::Inconsistent { .. }) => {
                    warn!(target: "adapters::registry", chain = %self.chain, from, to, attempt, error = %e, "inconsistent answer; fetching again with a smaller span");
                    metrics::counter!("bridge_source_inconsistent_total", "chain" => self.chain.to_string(), "adapter" => REGISTRY_ADAPTER).increment(1);
                    self.span.shrink();
                    last = Some(e);
                }
                // A dead endpoint during a retry: the next attempt uses another one.
                Err(e @ AdapterError::Rpc { .. }) if attempt > 0 && last.is_some() => {
                    warn!(target: "adapters::registry", chain = %self.chain, from, to, attempt, error = %e, "endpoint failed during a retry");
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| self.inconsistent(from, to, "no consistent answer".into())))
    }
}
