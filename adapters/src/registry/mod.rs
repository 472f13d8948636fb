//! The `registry` source adapter: our own `EvidenceRegistry` contract, as a
//! [`LogDecoder`] of the one EVM log source ([`EvmLogSource`]).
//!
//! It reads the registry's `Anchored` and `Revoked` logs, decodes each into a record
//! ([`decode`]) or a quarantine entry, and then reconciles the registry's sequence
//! numbers ([`LogDecoder::check_batch`]): they must be contiguous, start at the
//! sequence number the caller's [`SourceState`] expects when given, and end one below
//! the registry's
//! `nextSeq()` read at the last block of the range. A node that dropped logs (a known
//! failure of overloaded or load-balanced providers) fails that check; the range is
//! then fetched again from another endpoint with a smaller span and, failing that, an
//! [`AdapterError::Inconsistent`] error is returned — never a batch with a hole.

pub mod decode;

use std::time::Duration;

use alloy::{eips::BlockId, primitives::Address, rpc::types::Log};
use async_trait::async_trait;
use evidence_schemas::ChainId;
use tracing::debug;

pub use self::decode::{
    DecodeFailure, REGISTRY_ADAPTER, RegistryEvent, decode_registry_log, registry_event_signatures,
    seq_topic,
};
use crate::{
    contracts::EvidenceRegistry,
    error::AdapterError,
    evm_source::{BatchNode, Decoded, EvmLogSource, EvmSourceOptions, LogDecoder, LogFilter},
    rpc::{ChainRpc, is_error_answer},
    source::{SourceState, SourcedRecord},
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

/// Decodes an `EvidenceRegistry`'s events and checks their sequence numbers.
#[derive(Debug, Clone)]
pub struct RegistryDecoder {
    registry: Address,
    check_next_seq: bool,
}

impl RegistryDecoder {
    /// The decoder of the registry at `registry`; `check_next_seq` as in
    /// [`RegistrySourceOptions`].
    pub fn new(registry: Address, check_next_seq: bool) -> Self {
        Self {
            registry,
            check_next_seq,
        }
    }

    async fn check_next_seq(
        &self,
        node: &BatchNode<'_>,
        seqs: &[u64],
        expected: Option<u64>,
    ) -> Result<(), AdapterError> {
        let want = match (seqs.last(), expected) {
            (Some(last), _) => last + 1,
            (None, Some(e)) => e,
            (None, None) => return Ok(()),
        };
        let (chain, to) = (node.chain(), node.to);
        let registry = EvidenceRegistry::new(self.registry, node.provider);
        let next = match registry.nextSeq().block(BlockId::number(to)).call().await {
            Ok(n) => n,
            Err(alloy::contract::Error::TransportError(e)) if is_error_answer(&e) => {
                debug!(target: "adapters::registry", %chain, to, error = %e, "nextSeq() not readable at this block (pruned state?); checking contiguity only");
                return Ok(());
            }
            Err(alloy::contract::Error::TransportError(e)) => {
                return Err(node.rpc.error("eth_call nextSeq", e));
            }
            Err(e) => {
                // No code at `to` (registry deployed later), or garbage: nothing to compare.
                debug!(target: "adapters::registry", %chain, to, error = %e, "nextSeq() gave no answer at this block; checking contiguity only");
                return Ok(());
            }
        };
        if next != want {
            return Err(node.inconsistent(format!(
                "registry nextSeq() at block {to} is {next}, but the logs end before seq {want}: events missing"
            )));
        }
        Ok(())
    }
}

/// The sequence numbers of one batch must be contiguous and start at `expected`.
fn check_seqs(
    node: &BatchNode<'_>,
    seqs: &[u64],
    expected: Option<u64>,
) -> Result<(), AdapterError> {
    if let (Some(first), Some(expected)) = (seqs.first(), expected)
        && *first != expected
    {
        return Err(node.inconsistent(format!(
            "first registry seq is {first}, expected {expected} (events missing before it, or the caller's cursor is wrong)"
        )));
    }
    for w in seqs.windows(2) {
        if w[1] != w[0] + 1 {
            return Err(node.inconsistent(format!(
                "registry seq jumps from {} to {}: events missing",
                w[0], w[1]
            )));
        }
    }
    Ok(())
}

#[async_trait]
impl LogDecoder for RegistryDecoder {
    type Context = ();

    fn adapter_name(&self) -> &'static str {
        REGISTRY_ADAPTER
    }

    fn filter(&self) -> LogFilter {
        LogFilter {
            address: self.registry,
            topics0: registry_event_signatures().to_vec(),
        }
    }

    fn decode(&self, chain: &ChainId, log: &Log, block_timestamp: u64, _: &()) -> Decoded {
        let ev = decode_registry_log(chain, log, block_timestamp)?;
        Ok(Some(SourcedRecord {
            record: ev.record,
            seq: Some(ev.seq),
        }))
    }

    async fn check_batch(
        &self,
        node: &BatchNode<'_>,
        seqs: &[u64],
        state: Option<SourceState>,
    ) -> Result<(), AdapterError> {
        // The state is the sequence number the range's first event must carry.
        let expected_next_seq = state.map(SourceState::stored);
        check_seqs(node, seqs, expected_next_seq)?;
        if self.check_next_seq {
            self.check_next_seq(node, seqs, expected_next_seq).await?;
        }
        Ok(())
    }
}

/// Reads an `EvidenceRegistry` on one chain.
pub type RegistrySource = EvmLogSource<RegistryDecoder>;

impl EvmLogSource<RegistryDecoder> {
    /// A source reading the registry at `registry` through `rpc`.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        registry: Address,
        opts: RegistrySourceOptions,
    ) -> Self {
        let decoder = RegistryDecoder::new(registry, opts.check_next_seq);
        let opts = EvmSourceOptions {
            initial_span: opts.initial_span,
            max_span: opts.max_span,
            grow_below_logs: opts.grow_below_logs,
            attempts: opts.attempts,
            retry_pause: opts.retry_pause,
            ..EvmSourceOptions::with_max_span(opts.max_span)
        };
        Self::with_decoder(rpc, chain, decoder, opts)
    }

    /// The registry's address.
    pub fn registry(&self) -> Address {
        self.decoder().registry
    }

    /// The registry's `nextSeq()` at `block` (latest when `None`).
    pub async fn fetch_next_seq(&self, block: Option<u64>) -> Result<u64, AdapterError> {
        let registry = EvidenceRegistry::new(self.registry(), self.rpc().provider());
        let call = registry.nextSeq();
        let call = match block {
            Some(n) => call.block(BlockId::number(n)),
            None => call,
        };
        call.call()
            .await
            .map_err(|e| self.rpc().contract_error("nextSeq", e))
    }
}
