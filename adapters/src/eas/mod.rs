//! The `eas` source adapter: attestations of an Ethereum Attestation Service contract.
//!
//! Its [`EasDecoder`] is a [`LogDecoder`] of the one EVM log source ([`EvmLogSource`]),
//! which fetches the EAS contract's `Attested` and `Revoked` logs; for a batch the
//! decoder reads each attestation with `getAttestation(uid)` and normalizes it with the
//! mapping of [`normalize`] (documented in `docs/ADAPTERS.md`):
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
//! caller's `SourceState` is ignored. Completeness checks that remain: every log
//! is inside the filter and range, carries its location, and every attestation a log
//! names exists with the log's schema, attester, recipient and block time; a failed
//! check is an [`AdapterError::Inconsistent`] answer, fetched again from another
//! endpoint before it is returned.

pub mod locate;
pub mod normalize;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::Duration,
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Log,
    sol_types::SolEvent,
};
use async_trait::async_trait;
use evidence_schemas::{ChainId, EvidenceRecord};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tracing::debug;

pub use self::normalize::{
    EAS_ADAPTER, EAS_METADATA_DOMAIN, EasDigest, EasEvent, EasSchemaMapping, anchor_record,
    attestation_digest, decode_event, metadata_commitment, revoke_record,
};
use crate::{
    contracts::eas::EAS,
    error::AdapterError,
    evm_source::{BatchNode, Decoded, EvmLogSource, EvmSourceOptions, LogDecoder, LogFilter},
    rpc::ChainRpc,
    source::{DecodeFailure, Quarantined, SourcedRecord},
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

/// Decodes an EAS contract's `Attested` and `Revoked` events, reading the attestations
/// they name.
#[derive(Debug)]
pub struct EasDecoder {
    opts: EasSourceOptions,
    mappings: HashMap<B256, EasSchemaMapping>,
    anchors: Mutex<HashMap<B256, CachedAnchor>>,
}

/// What [`EasDecoder`] reads for a batch: the anchor (record or quarantine reason) of
/// every attestation its logs name, by UID.
#[derive(Debug, Default)]
pub struct EasBatch {
    anchors: HashMap<B256, CachedAnchor>,
}

impl EasDecoder {
    /// The decoder of `opts.contract`. Fails on options that
    /// [`EasSourceOptions::validate`] rejects.
    pub fn new(opts: EasSourceOptions) -> Result<Self, AdapterError> {
        opts.validate()?;
        let mappings = opts.schemas.iter().map(|m| (m.uid, m.clone())).collect();
        Ok(Self {
            opts,
            mappings,
            anchors: Mutex::new(HashMap::new()),
        })
    }

    /// The mapping of `schema`, or `None` when the filter excludes it.
    pub fn mapping(&self, schema: B256) -> Option<EasSchemaMapping> {
        match self.mappings.get(&schema) {
            Some(m) => Some(m.clone()),
            None if self.opts.only_listed_schemas => None,
            None => Some(EasSchemaMapping::default_for(schema)),
        }
    }

    /// `getAttestation(uid)` at the node's latest state (attestations never change
    /// except their revocation time, which the mapping does not use).
    async fn get_attestation(
        &self,
        node: &BatchNode<'_>,
        uid: B256,
    ) -> Result<(B256, EAS::Attestation), AdapterError> {
        let att = EAS::new(self.opts.contract, node.provider)
            .getAttestation(uid)
            .call()
            .await
            .map_err(|e| node.rpc.contract_error("eth_call getAttestation", e))?;
        Ok((uid, att))
    }

    /// The attestation a log names must exist and agree with the log; if it does not,
    /// the node's state and logs disagree (a reorg between the two reads).
    fn check_attestation(
        node: &BatchNode<'_>,
        log: &Log,
        ev: &EasEvent,
        att: &EAS::Attestation,
        block_timestamp: u64,
    ) -> Result<(), AdapterError> {
        let n = log.block_number.unwrap_or_default();
        if att.uid != ev.uid {
            return Err(node.inconsistent(format!("attestation {} of the log in block {n} is unknown to the node's state (reorged out?)", ev.uid)));
        }
        if att.schema != ev.schema || att.attester != ev.attester || att.recipient != ev.recipient {
            return Err(node.inconsistent(format!(
                "attestation {} disagrees with its log in block {n} (schema/attester/recipient)",
                ev.uid
            )));
        }
        if !ev.revoked && att.time != block_timestamp {
            return Err(node.inconsistent(format!(
                "attestation {} has time {} but its Attested log is in block {n} with timestamp {block_timestamp} (reorged?)",
                ev.uid, att.time
            )));
        }
        if ev.revoked && att.revocationTime == 0 {
            return Err(node.inconsistent(format!("attestation {} is not revoked in the node's state but a Revoked log in block {n} says so (reorged out?)", ev.uid)));
        }
        Ok(())
    }

    fn remember(&self, found: &HashMap<B256, CachedAnchor>) {
        let Ok(mut cache) = self.anchors.lock() else {
            return;
        };
        if cache.len() + found.len() > ANCHOR_CACHE_MAX {
            cache.clear();
        }
        cache.extend(found.iter().map(|(k, v)| (*k, v.clone())));
    }

    /// The anchor of the attestation a `Revoked` log revokes: from the cache when its
    /// block is still canonical, else located on chain.
    async fn find_anchor(
        &self,
        node: &BatchNode<'_>,
        revoked_log: &Log,
        att: &EAS::Attestation,
        mapping: &EasSchemaMapping,
    ) -> Result<CachedAnchor, AdapterError> {
        let (provider, rpc) = (node.provider, node.rpc);
        let cached = self
            .anchors
            .lock()
            .ok()
            .and_then(|c| c.get(&att.uid).cloned());
        if let Some(c) = cached {
            let canonical = provider
                .get_block_by_number(BlockNumberOrTag::Number(c.block_number))
                .await
                .map_err(|e| rpc.error("eth_getBlockByNumber", e))?
                .is_some_and(|b| b.header.hash == c.block_hash);
            if canonical {
                return Ok(c);
            }
            debug!(target: "adapters::eas", chain = %rpc.chain(), uid = %att.uid, "cached anchor block is no longer canonical; locating again");
        }
        let before = revoked_log.block_number.unwrap_or_default();
        let start = self.opts.start_block;
        let found =
            locate::find_attested_log(provider, rpc, self.opts.contract, att, start, before)
                .await?;
        let anchor = match found {
            Some((log, ts)) => CachedAnchor {
                block_number: log.block_number.unwrap_or_default(),
                block_hash: log.block_hash.unwrap_or_default(),
                outcome: anchor_record(rpc.chain(), &log, ts, att, mapping),
            },
            None => {
                // Not cached: a later start_block or a node that gains history may find it.
                return Ok(CachedAnchor {
                    block_number: 0,
                    block_hash: B256::ZERO,
                    outcome: Err(format!(
                        "the Attested event of attestation {} (time {}) was not found between blocks {start} and {before}; is start_block ({start}) after the EAS deployment?",
                        att.uid, att.time
                    )),
                });
            }
        };
        self.remember(&HashMap::from([(att.uid, anchor.clone())]));
        Ok(anchor)
    }
}

fn quarantine(chain: &ChainId, log: &Log, reason: String) -> DecodeFailure {
    Box::new(Quarantined::of_log(chain, EAS_ADAPTER, log, reason)).into()
}

#[async_trait]
impl LogDecoder for EasDecoder {
    type Context = EasBatch;

    fn adapter_name(&self) -> &'static str {
        EAS_ADAPTER
    }

    fn filter(&self) -> LogFilter {
        LogFilter {
            address: self.opts.contract,
            topics0: vec![EAS::Attested::SIGNATURE_HASH, EAS::Revoked::SIGNATURE_HASH],
        }
    }

    /// Reads every attestation the logs name (concurrently), checks it against its
    /// log, builds the anchor records of `Attested` logs, and finds the anchor of each
    /// `Revoked` log whose `Attested` log is not in the batch.
    async fn prepare(
        &self,
        node: &BatchNode<'_>,
        logs: &[Log],
        timestamps: &BTreeMap<B256, u64>,
    ) -> Result<EasBatch, AdapterError> {
        let chain = node.chain();
        let wanted: Vec<_> = logs
            .iter()
            .filter_map(|log| {
                let ev = decode_event(log).ok()?;
                Some((log, ev, self.mapping(ev.schema)?))
            })
            .collect();
        let mut uids: Vec<B256> = wanted.iter().map(|(_, ev, _)| ev.uid).collect();
        uids.sort();
        uids.dedup();
        let atts: HashMap<B256, EAS::Attestation> = futures::stream::iter(uids)
            .map(|uid| self.get_attestation(node, uid))
            .buffered(self.opts.concurrency.max(1))
            .try_collect()
            .await?;
        let mut in_batch = HashMap::new();
        let mut anchors = HashMap::new();
        for (log, ev, mapping) in wanted {
            let Some(att) = atts.get(&ev.uid) else {
                continue;
            };
            let hash = log.block_hash.unwrap_or_default();
            let ts = timestamps.get(&hash).copied().unwrap_or_default();
            Self::check_attestation(node, log, &ev, att, ts)?;
            if !ev.revoked {
                let anchor = CachedAnchor {
                    block_number: log.block_number.unwrap_or_default(),
                    block_hash: hash,
                    outcome: anchor_record(chain, log, ts, att, &mapping),
                };
                in_batch.insert(ev.uid, anchor);
            } else if !in_batch.contains_key(&ev.uid) && !anchors.contains_key(&ev.uid) {
                let anchor = self.find_anchor(node, log, att, &mapping).await?;
                anchors.insert(ev.uid, anchor);
            }
        }
        self.remember(&in_batch);
        anchors.extend(in_batch);
        Ok(EasBatch { anchors })
    }

    fn decode(&self, chain: &ChainId, log: &Log, block_timestamp: u64, ctx: &EasBatch) -> Decoded {
        let ev = decode_event(log).map_err(|reason| quarantine(chain, log, reason))?;
        if self.mapping(ev.schema).is_none() {
            return Ok(None);
        }
        let anchor = ctx.anchors.get(&ev.uid).ok_or_else(|| {
            quarantine(chain, log, format!("attestation {} was not read", ev.uid))
        })?;
        let record = match (&anchor.outcome, ev.revoked) {
            (Ok(anchor), true) => revoke_record(chain, log, block_timestamp, anchor),
            (Ok(anchor), false) => Ok(anchor.clone()),
            (Err(reason), false) => Err(reason.clone()),
            (Err(reason), true) => Err(format!(
                "revokes attestation {} whose own record was quarantined: {reason}",
                ev.uid
            )),
        };
        match record {
            Ok(record) => Ok(Some(SourcedRecord { record, seq: None })),
            Err(reason) => Err(quarantine(chain, log, reason)),
        }
    }
}

/// Reads an EAS contract on one chain.
pub type EasSource = EvmLogSource<EasDecoder>;

impl EvmLogSource<EasDecoder> {
    /// A source reading the EAS contract `opts.contract` through `rpc`. Fails on
    /// options that [`EasSourceOptions::validate`] rejects.
    pub fn new(
        rpc: ChainRpc,
        chain: ChainId,
        opts: EasSourceOptions,
    ) -> Result<Self, AdapterError> {
        let source = EvmSourceOptions {
            initial_span: opts.initial_span,
            max_span: opts.max_span,
            grow_below_logs: 2_000,
            attempts: opts.attempts,
            retry_pause: Duration::from_millis(opts.retry_pause_ms),
            ..EvmSourceOptions::with_max_span(opts.max_span)
        };
        let decoder = EasDecoder::new(opts)?;
        Ok(Self::with_decoder(rpc, chain, decoder, source))
    }

    /// The EAS contract's address.
    pub fn contract(&self) -> Address {
        self.decoder().opts.contract
    }

    /// The options.
    pub fn options(&self) -> &EasSourceOptions {
        &self.decoder().opts
    }
}
