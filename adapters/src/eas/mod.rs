//! The `eas` source adapter: attestations of an Ethereum Attestation Service contract.
//!
//! For a block range it fetches the EAS contract's `Attested` and `Revoked` logs (with
//! the registry's adaptive span), reads each attestation with `getAttestation(uid)`
//! and normalizes it with the mapping of [`normalize`] (documented in
//! `docs/ADAPTERS.md`):
//! - an `Attested` log becomes an anchor record;
//! - a `Revoked` log becomes a revoke record whose `ref` is the record id of the
//!   attestation's anchor record. That record is rebuilt from the original `Attested`
//!   log, found by the attestation's `time` (a binary search of block timestamps, then
//!   `eth_getLogs` with the indexed topics) and cached by UID;
//! - attestations of schemas outside the filter (when `only_listed_schemas`) are
//!   ignored, and data that does not fit the schema's mapping is quarantined with the
//!   reason.
//!
//! EAS has no per-contract sequence number, so records carry `seq = None` and the
//! `expected_next_seq` argument is ignored. Completeness checks that remain: every log
//! is inside the filter and range, carries its location, and every attestation a log
//! names exists with the log's schema, attester, recipient and block time; a failed
//! check is an [`AdapterError::Inconsistent`] answer, fetched again from another
//! endpoint before it is returned.

pub mod locate;
pub mod normalize;

use std::{collections::HashMap, sync::Mutex, time::Duration};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, EvidenceRecord};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument, warn};

pub use self::normalize::{
    EAS_ADAPTER, EAS_METADATA_DOMAIN, EasDigest, EasEvent, EasSchemaMapping, anchor_record,
    attestation_digest, decode_event, metadata_commitment, revoke_record,
};
use crate::{
    contracts::eas::EAS,
    error::AdapterError,
    registry::span::{SpanControl, fetch_adaptive},
    rpc::ChainRpc,
    source::{BlockRef, EvidenceSource, Quarantined, SourceBatch, SourcedRecord},
};

/// Configuration of an [`EasSource`] (embeddable in the bridge's TOML config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EasSourceOptions {
    /// The EAS contract.
    pub contract: Address,
    /// The EAS contract's deployment block: revocations are traced back to their
    /// attestation no further than this.
    #[serde(default)]
    pub start_block: u64,
    /// Per-schema mappings; schemas not listed use [`EasSchemaMapping::default_for`].
    #[serde(default)]
    pub schemas: Vec<EasSchemaMapping>,
    /// Read only the schemas listed in `schemas`; the others are ignored.
    #[serde(default)]
    pub only_listed_schemas: bool,
    /// Block span of the first log query.
    #[serde(default = "default_initial_span")]
    pub initial_span: u64,
    /// Largest block span of one log query.
    #[serde(default = "default_max_span")]
    pub max_span: u64,
    /// `getAttestation` calls in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Fetches of one range before an inconsistent answer is returned as an error.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Pause between those fetches, in milliseconds.
    #[serde(default = "default_retry_pause_ms")]
    pub retry_pause_ms: u64,
}

fn default_initial_span() -> u64 {
    2_000
}
fn default_max_span() -> u64 {
    10_000
}
fn default_concurrency() -> usize {
    16
}
fn default_attempts() -> u32 {
    4
}
fn default_retry_pause_ms() -> u64 {
    250
}

impl EasSourceOptions {
    /// Options reading every schema of the EAS contract at `contract`, deployed at
    /// `start_block`, with the default mapping.
    pub fn new(contract: Address, start_block: u64) -> Self {
        Self {
            contract,
            start_block,
            schemas: Vec::new(),
            only_listed_schemas: false,
            initial_span: default_initial_span(),
            max_span: default_max_span(),
            concurrency: default_concurrency(),
            attempts: default_attempts(),
            retry_pause_ms: default_retry_pause_ms(),
        }
    }

    /// Checks what serde cannot: a schema listed once, a usable filter.
    pub fn validate(&self) -> Result<(), AdapterError> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.schemas {
            if !seen.insert(s.uid) {
                return Err(AdapterError::Config(format!(
                    "eas source: schema {} is listed twice; keep one mapping per schema UID",
                    s.uid
                )));
            }
        }
        if self.only_listed_schemas && self.schemas.is_empty() {
            return Err(AdapterError::Config(
                "eas source: only_listed_schemas is set but no schemas are listed; list the schema UIDs to read or unset it".into(),
            ));
        }
        if self.contract.is_zero() {
            return Err(AdapterError::Config(
                "eas source: contract is the zero address; set the EAS contract's address".into(),
            ));
        }
        Ok(())
    }
}

/// An anchor record found for a UID, with where its `Attested` log is.
#[derive(Debug, Clone)]
struct CachedAnchor {
    block_number: u64,
    block_hash: B256,
    /// The anchor record, or why the attestation was quarantined.
    outcome: Result<EvidenceRecord, String>,
}

/// Most UIDs whose anchor is remembered; the cache is emptied when it is full.
const ANCHOR_CACHE_MAX: usize = 100_000;

/// Reads an EAS contract on one chain.
#[derive(Debug)]
pub struct EasSource {
    rpc: ChainRpc,
    chain: ChainId,
    opts: EasSourceOptions,
    mappings: HashMap<B256, EasSchemaMapping>,
    span: SpanControl,
    anchors: Mutex<HashMap<B256, CachedAnchor>>,
}

impl EasSource {
    /// A source reading the EAS contract `opts.contract` through `rpc`. Fails on
    /// options that [`EasSourceOptions::validate`] rejects.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        opts: EasSourceOptions,
    ) -> Result<Self, AdapterError> {
        opts.validate()?;
        let span = SpanControl::new(opts.initial_span, opts.max_span, 2_000);
        let mappings = opts.schemas.iter().map(|m| (m.uid, m.clone())).collect();
        Ok(Self {
            rpc,
            chain,
            opts,
            mappings,
            span,
            anchors: Mutex::new(HashMap::new()),
        })
    }

    /// The EAS contract's address.
    pub fn contract(&self) -> Address {
        self.opts.contract
    }

    /// The options.
    pub fn options(&self) -> &EasSourceOptions {
        &self.opts
    }

    /// The mapping of `schema`, or `None` when the filter excludes it.
    pub fn mapping(&self, schema: B256) -> Option<EasSchemaMapping> {
        match self.mappings.get(&schema) {
            Some(m) => Some(m.clone()),
            None if self.opts.only_listed_schemas => None,
            None => Some(EasSchemaMapping::default_for(schema)),
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

    fn contract_error(&self, what: &str, e: alloy::contract::Error) -> AdapterError {
        match e {
            alloy::contract::Error::TransportError(t) => self.rpc.error(what, t),
            other => AdapterError::Rpc {
                chain: self.chain.clone(),
                message: format!("{what}: {other}"),
            },
        }
    }

    /// `getAttestation(uid)` at the node's latest state (attestations never change
    /// except their revocation time, which the mapping does not use).
    async fn get_attestation(
        &self,
        provider: &DynProvider,
        uid: B256,
    ) -> Result<EAS::Attestation, AdapterError> {
        EAS::new(self.opts.contract, provider)
            .getAttestation(uid)
            .call()
            .await
            .map_err(|e| self.contract_error("eth_call getAttestation", e))
    }

    /// One fetch of `from..=to` from `provider`, with every check.
    async fn fetch_once(
        &self,
        provider: &DynProvider,
        from: u64,
        to: u64,
    ) -> Result<SourceBatch, AdapterError> {
        let base = Filter::new()
            .address(self.opts.contract)
            .event_signature(vec![
                EAS::Attested::SIGNATURE_HASH,
                EAS::Revoked::SIGNATURE_HASH,
            ]);
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

        // Decode, filter, and read every named attestation (concurrently).
        let mut batch = SourceBatch::default();
        let mut wanted = Vec::new();
        for log in &logs {
            match decode_event(log) {
                Ok(ev) => {
                    if let Some(mapping) = self.mapping(ev.schema) {
                        wanted.push((log, ev, mapping));
                    }
                }
                Err(reason) => batch.quarantined.push(self.quarantine(log, reason)),
            }
        }
        let uids: Vec<B256> = wanted.iter().map(|(_, ev, _)| ev.uid).collect();
        let atts: Vec<EAS::Attestation> = futures::stream::iter(uids)
            .map(|uid| self.get_attestation(provider, uid))
            .buffered(self.opts.concurrency.max(1))
            .try_collect()
            .await?;

        let mut in_batch: HashMap<B256, CachedAnchor> = HashMap::new();
        for ((log, ev, mapping), att) in wanted.into_iter().zip(atts) {
            let hash = log.block_hash.unwrap_or_default();
            let ts = timestamps.get(&hash).copied().unwrap_or_default();
            self.check_attestation(from, to, log, &ev, &att, ts)?;
            if !ev.revoked {
                let outcome = anchor_record(&self.chain, log, ts, &att, &mapping);
                in_batch.insert(
                    ev.uid,
                    CachedAnchor {
                        block_number: log.block_number.unwrap_or_default(),
                        block_hash: hash,
                        outcome: outcome.clone(),
                    },
                );
                match outcome {
                    Ok(record) => batch.records.push(SourcedRecord { record, seq: None }),
                    Err(reason) => batch.quarantined.push(self.quarantine(log, reason)),
                }
                continue;
            }
            let anchor = match in_batch.get(&ev.uid) {
                Some(a) => a.clone(),
                None => self.find_anchor(provider, log, &att, &mapping).await?,
            };
            match anchor.outcome {
                Ok(anchor) => match revoke_record(&self.chain, log, ts, &anchor) {
                    Ok(record) => batch.records.push(SourcedRecord { record, seq: None }),
                    Err(reason) => batch.quarantined.push(self.quarantine(log, reason)),
                },
                Err(reason) => batch.quarantined.push(self.quarantine(
                    log,
                    format!(
                        "revokes attestation {} whose own record was quarantined: {reason}",
                        ev.uid
                    ),
                )),
            }
        }
        self.remember(in_batch);
        Ok(batch)
    }

    /// The attestation a log names must exist and agree with the log; if it does not,
    /// the node's state and logs disagree (a reorg between the two reads).
    fn check_attestation(
        &self,
        from: u64,
        to: u64,
        log: &Log,
        ev: &EasEvent,
        att: &EAS::Attestation,
        block_timestamp: u64,
    ) -> Result<(), AdapterError> {
        let n = log.block_number.unwrap_or_default();
        if att.uid != ev.uid {
            return Err(self.inconsistent(
                from,
                to,
                format!("attestation {} of the log in block {n} is unknown to the node's state (reorged out?)", ev.uid),
            ));
        }
        if att.schema != ev.schema || att.attester != ev.attester || att.recipient != ev.recipient {
            return Err(self.inconsistent(
                from,
                to,
                format!("attestation {} disagrees with its log in block {n} (schema/attester/recipient)", ev.uid),
            ));
        }
        if !ev.revoked && att.time != block_timestamp {
            return Err(self.inconsistent(
                from,
                to,
                format!(
                    "attestation {} has time {} but its Attested log is in block {n} with timestamp {block_timestamp} (reorged?)",
                    ev.uid, att.time
                ),
            ));
        }
        if ev.revoked && att.revocationTime == 0 {
            return Err(self.inconsistent(
                from,
                to,
                format!("attestation {} is not revoked in the node's state but a Revoked log in block {n} says so (reorged out?)", ev.uid),
            ));
        }
        Ok(())
    }

    fn quarantine(&self, log: &Log, reason: String) -> Quarantined {
        warn!(target: "adapters::eas", chain = %self.chain, block = log.block_number.unwrap_or_default(), log_index = log.log_index.unwrap_or_default(), %reason, "quarantined EAS event");
        Quarantined {
            chain: self.chain.clone(),
            adapter: EAS_ADAPTER.to_owned(),
            block_number: log.block_number.unwrap_or_default(),
            block_hash: log.block_hash.unwrap_or_default(),
            tx_hash: log.transaction_hash.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            reason,
            raw: log.data().data.clone(),
        }
    }

    fn remember(&self, found: HashMap<B256, CachedAnchor>) {
        let Ok(mut cache) = self.anchors.lock() else {
            return;
        };
        if cache.len() + found.len() > ANCHOR_CACHE_MAX {
            cache.clear();
        }
        cache.extend(found);
    }

    /// The anchor of the attestation a `Revoked` log revokes: from the cache when its
    /// block is still canonical, else located on chain.
    async fn find_anchor(
        &self,
        provider: &DynProvider,
        revoked_log: &Log,
        att: &EAS::Attestation,
        mapping: &EasSchemaMapping,
    ) -> Result<CachedAnchor, AdapterError> {
        let cached = self
            .anchors
            .lock()
            .ok()
            .and_then(|c| c.get(&att.uid).cloned());
        if let Some(c) = cached {
            let canonical = provider
                .get_block_by_number(BlockNumberOrTag::Number(c.block_number))
                .await
                .map_err(|e| self.rpc.error("eth_getBlockByNumber", e))?
                .is_some_and(|b| b.header.hash == c.block_hash);
            if canonical {
                return Ok(c);
            }
            debug!(target: "adapters::eas", chain = %self.chain, uid = %att.uid, "cached anchor block is no longer canonical; locating again");
        }
        let before = revoked_log.block_number.unwrap_or_default();
        let found = locate::find_attested_log(
            provider,
            &self.rpc,
            self.opts.contract,
            att,
            self.opts.start_block,
            before,
        )
        .await?;
        let anchor = match found {
            Some((log, ts)) => CachedAnchor {
                block_number: log.block_number.unwrap_or_default(),
                block_hash: log.block_hash.unwrap_or_default(),
                outcome: anchor_record(&self.chain, &log, ts, att, mapping),
            },
            None => {
                // Not cached: a later start_block or a node that gains history may find it.
                return Ok(CachedAnchor {
                    block_number: 0,
                    block_hash: B256::ZERO,
                    outcome: Err(format!(
                        "the Attested event of attestation {} (time {}) was not found between blocks {} and {before}; is start_block ({}) after the EAS deployment?",
                        att.uid, att.time, self.opts.start_block, self.opts.start_block
                    )),
                });
            }
        };
        let mut one = HashMap::new();
        one.insert(att.uid, anchor.clone());
        self.remember(one);
        Ok(anchor)
    }

    /// Drops nothing silently: a log outside the filter or range, without a location,
    /// or removed means this node's answer cannot be trusted. Sorts and de-duplicates.
    fn check_logs(&self, from: u64, to: u64, logs: Vec<Log>) -> Result<Vec<Log>, AdapterError> {
        let sigs = [EAS::Attested::SIGNATURE_HASH, EAS::Revoked::SIGNATURE_HASH];
        crate::logs::check_range_logs(logs, from, to, |log| {
            log.address() == self.opts.contract && log.topic0().is_some_and(|t| sigs.contains(t))
        })
        .map_err(|message| self.inconsistent(from, to, message))
    }
}

#[async_trait]
impl EvidenceSource for EasSource {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        EAS_ADAPTER
    }

    #[instrument(target = "adapters::eas", skip(self), fields(chain = %self.chain))]
    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_head_ref().await
    }

    #[instrument(target = "adapters::eas", skip(self), fields(chain = %self.chain))]
    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.rpc.fetch_block_at(number).await
    }

    #[instrument(target = "adapters::eas", skip(self), fields(chain = %self.chain))]
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
        let attempts = self.opts.attempts.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(self.opts.retry_pause_ms)).await;
            }
            let provider = if attempt == 0 {
                self.rpc.provider()
            } else {
                self.rpc
                    .endpoint((attempt as usize - 1) % self.rpc.endpoint_count().max(1))
            };
            match self.fetch_once(provider, from, to).await {
                Ok(batch) => {
                    debug!(target: "adapters::eas", chain = %self.chain, from, to, records = batch.records.len(), quarantined = batch.quarantined.len(), "fetched");
                    return Ok(batch);
                }
                Err(e @ AdapterError::Inconsistent { .. }) => {
                    warn!(target: "adapters::eas", chain = %self.chain, from, to, attempt, error = %e, "inconsistent answer; fetching again");
                    metrics::counter!("bridge_source_inconsistent_total", "chain" => self.chain.to_string(), "adapter" => "eas").increment(1);
                    self.span.shrink();
                    last = Some(e);
                }
                Err(e @ AdapterError::Rpc { .. }) if attempt > 0 && last.is_some() => {
                    warn!(target: "adapters::eas", chain = %self.chain, from, to, attempt, error = %e, "endpoint failed during a retry");
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| self.inconsistent(from, to, "no consistent answer".into())))
    }
}
