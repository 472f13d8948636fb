//! The fake `AnchorMirror`: the contract's rules, a mempool and nonces, in memory.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use alloy::primitives::{Address, B256, keccak256};
use async_trait::async_trait;
use evidence_adapters::{
    AdapterError, MirrorReader, MirrorState, MirrorSubmitter, PreparedSubmission, TxOutcome,
    mirror::{AcceptedCheckpoint, AttestorSetChange},
};
use evidence_schemas::{
    ChainId, SignedCheckpoint,
    attestor_set::SetAuthorization,
    checkpoint::{MirrorDomain, verify_signatures},
    log::{verify_consistency, verify_record_inclusion},
};
use serde::{Deserialize, Serialize};

use super::lock;

/// What a fake transaction carries (its "calldata"), and the payload of its
/// [`PreparedSubmission`] (JSON): the fake is a chain family of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FakeTx {
    signed: SignedCheckpoint,
    proof: Vec<B256>,
    nonce: u64,
    max_fee_per_gas: u128,
}

#[derive(Debug, Clone, Default)]
struct SourceOnMirror {
    roots: BTreeMap<u64, B256>,
    latest_size: u64,
    latest_root: B256,
    latest_block: u64,
    attestors: Vec<Address>,
    threshold: u8,
    version: u64,
    pending: Option<evidence_adapters::mirror::PendingOwnerRotation>,
    history: Vec<AttestorSetChange>,
}

#[derive(Debug, Default)]
struct MirrorInner {
    sources: HashMap<ChainId, SourceOnMirror>,
    block: u64,
    confirmed_nonce: u64,
    mempool: BTreeMap<u64, (B256, FakeTx)>,
    receipts: HashMap<B256, TxOutcome>,
    auto_mine: bool,
    accepted: Vec<(ChainId, u64)>,
    reverted: Vec<(ChainId, u64, String)>,
    duplicates: u64,
    broadcasts: u64,
    failures: u32,
    send_failures: u32,
    owner: Address,
    owner_rotation_delay: u64,
    accepted_in: HashMap<B256, Vec<AcceptedCheckpoint>>,
}

/// An in-memory `AnchorMirror` on one destination chain, with one sender account.
#[derive(Debug)]
pub struct FakeMirror {
    chain: ChainId,
    domain: MirrorDomain,
    inner: Mutex<MirrorInner>,
}

impl FakeMirror {
    /// A mirror on `eip155:<chain_id>` at `mirror`, mining every broadcast at once.
    pub fn new(chain_id: u64, mirror: Address) -> Arc<Self> {
        Arc::new(Self {
            chain: ChainId::eip155(chain_id),
            domain: MirrorDomain { chain_id, mirror },
            inner: Mutex::new(MirrorInner {
                auto_mine: true,
                block: 1,
                ..Default::default()
            }),
        })
    }

    /// The EIP-712 domain of this mirror.
    pub fn domain(&self) -> MirrorDomain {
        self.domain
    }

    /// Sets the attestor set and threshold for `source` (the owner's call: the first
    /// set, or a later one as if through the timelock), in the current block.
    pub fn set_attestors(&self, source: &ChainId, attestors: Vec<Address>, threshold: u8) {
        let mut m = lock(&self.inner);
        let block = m.block;
        let s = m.sources.entry(source.clone()).or_default();
        s.version += 1;
        s.history.push(AttestorSetChange {
            version: s.version,
            attestors: attestors.clone(),
            threshold,
            authorization: if s.version == 1 {
                SetAuthorization::FirstSet
            } else {
                SetAuthorization::OwnerTimelock
            },
            signatures: Vec::new(),
            block,
            tx_hash: keccak256(format!("set {source} v{} at {block}", s.version)),
        });
        s.attestors = attestors;
        s.threshold = threshold;
    }

    /// The mirror's owner and owner-rotation timelock (seconds), as `owner()` and
    /// `ownerRotationDelay()` report them (zero address and 0 until set).
    pub fn set_owner(&self, owner: Address, owner_rotation_delay: u64) {
        let mut m = lock(&self.inner);
        m.owner = owner;
        m.owner_rotation_delay = owner_rotation_delay;
    }

    /// The owner proposes a set for `source` through the timelock (what
    /// `proposeOwnerRotation` does; the fake never executes it).
    pub fn propose_owner_rotation(&self, source: &ChainId, attestors: Vec<Address>, threshold: u8) {
        let mut m = lock(&self.inner);
        let s = m.sources.entry(source.clone()).or_default();
        s.pending = Some(evidence_adapters::mirror::PendingOwnerRotation {
            version: s.version + 1,
            attestors,
            threshold,
            executable_at: u64::MAX,
        });
    }

    /// Whether broadcasts are mined at once.
    pub fn set_auto_mine(&self, on: bool) {
        lock(&self.inner).auto_mine = on;
    }

    /// Mines every executable transaction of the mempool into one block.
    pub fn mine(&self) {
        let mut m = lock(&self.inner);
        Self::mine_inner(&self.domain, &mut m);
    }

    /// Drops every pending transaction, as a node that lost them would.
    pub fn drop_mempool(&self) {
        lock(&self.inner).mempool.clear();
    }

    /// Another transaction of the same sender used the next nonce.
    pub fn use_nonce_elsewhere(&self) {
        let mut m = lock(&self.inner);
        let n = m.confirmed_nonce;
        m.mempool.remove(&n);
        m.confirmed_nonce += 1;
        m.block += 1;
    }

    /// Accepts a checkpoint as if another relayer submitted it (rules enforced).
    pub fn submit_externally(
        &self,
        signed: &SignedCheckpoint,
        proof: &[B256],
    ) -> Result<(), String> {
        let mut m = lock(&self.inner);
        m.block += 1;
        let tx = FakeTx {
            signed: signed.clone(),
            proof: proof.to_vec(),
            nonce: 0,
            max_fee_per_gas: 0,
        };
        Self::apply(&self.domain, &mut m, &tx).map(|_| ())
    }

    /// The next `n` calls fail with a retryable RPC error.
    pub fn fail_next_calls(&self, n: u32) {
        lock(&self.inner).failures = n;
    }

    /// The next `n` broadcasts fail with a retryable RPC error (a crash after the
    /// transaction was stored, before it reached the node).
    pub fn fail_next_sends(&self, n: u32) {
        lock(&self.inner).send_failures = n;
    }

    /// Sizes accepted for `source`, in order.
    pub fn accepted(&self, source: &ChainId) -> Vec<u64> {
        lock(&self.inner)
            .accepted
            .iter()
            .filter(|(c, _)| c == source)
            .map(|(_, s)| *s)
            .collect()
    }

    /// Reverted submissions (source, size, reason).
    pub fn reverted(&self) -> Vec<(ChainId, u64, String)> {
        lock(&self.inner).reverted.clone()
    }

    /// Mined submissions of a size the mirror had already accepted.
    pub fn duplicate_submissions(&self) -> u64 {
        lock(&self.inner).duplicates
    }

    /// Broadcasts received (including repeats of the same bytes).
    pub fn broadcasts(&self) -> u64 {
        lock(&self.inner).broadcasts
    }

    /// Transactions waiting in the mempool: (nonce, hash, max fee).
    pub fn mempool(&self) -> Vec<(u64, B256, u128)> {
        lock(&self.inner)
            .mempool
            .iter()
            .map(|(n, (h, tx))| (*n, *h, tx.max_fee_per_gas))
            .collect()
    }

    fn mine_inner(domain: &MirrorDomain, m: &mut MirrorInner) {
        m.block += 1;
        while let Some((hash, tx)) = m.mempool.remove(&m.confirmed_nonce) {
            let result = Self::apply(domain, m, &tx);
            let success = result.is_ok();
            match result {
                Ok(accepted) => m.accepted_in.entry(hash).or_default().push(accepted),
                Err(reason) => m.reverted.push((
                    tx.signed.checkpoint.source_chain.clone(),
                    tx.signed.checkpoint.size,
                    reason,
                )),
            }
            m.receipts.insert(
                hash,
                TxOutcome {
                    success,
                    block_number: m.block,
                    gas_used: 100_000,
                },
            );
            m.confirmed_nonce += 1;
        }
    }

    fn apply(
        domain: &MirrorDomain,
        m: &mut MirrorInner,
        tx: &FakeTx,
    ) -> Result<AcceptedCheckpoint, String> {
        let cp = &tx.signed.checkpoint;
        let Some(s) = m.sources.get_mut(&cp.source_chain) else {
            return Err(format!("UnknownSource({})", cp.source_chain));
        };
        if s.roots.contains_key(&cp.size) {
            m.duplicates += 1;
            return Err(format!(
                "StaleCheckpoint: size {} already accepted",
                cp.size
            ));
        }
        if cp.size <= s.latest_size {
            return Err(format!(
                "StaleCheckpoint: size {} <= {}",
                cp.size, s.latest_size
            ));
        }
        if cp.root.is_zero() {
            return Err("ZeroRoot".into());
        }
        if cp.source_block_number < s.latest_block {
            return Err(format!(
                "SourceBlockDecreasing: {} < {}",
                cp.source_block_number, s.latest_block
            ));
        }
        verify_signatures(cp, domain, &tx.signed.signatures, &s.attestors, s.threshold)
            .map_err(|e| format!("BadSignatures: {e}"))?;
        if s.latest_size == 0 {
            if !tx.proof.is_empty() {
                return Err("first checkpoint takes an empty consistency proof".into());
            }
        } else {
            verify_consistency(s.latest_size, cp.size, &s.latest_root, &cp.root, &tx.proof)
                .map_err(|e| format!("InconsistentCheckpoint: {e}"))?;
        }
        s.roots.insert(cp.size, cp.root);
        s.latest_size = cp.size;
        s.latest_root = cp.root;
        s.latest_block = cp.source_block_number;
        let accepted = AcceptedCheckpoint {
            source_key: cp.source_chain.key(),
            size: cp.size,
            root: cp.root,
            source_block_number: cp.source_block_number,
            source_block_hash: cp.source_block_hash,
            attestor_set_version: s.version,
        };
        m.accepted.push((cp.source_chain.clone(), cp.size));
        Ok(accepted)
    }

    fn decode(&self, submission: &PreparedSubmission) -> Result<FakeTx, AdapterError> {
        serde_json::from_slice(&submission.payload).map_err(|e| AdapterError::Rpc {
            chain: self.chain.clone(),
            message: format!("invalid raw tx: {e}"),
        })
    }

    fn maybe_fail(&self) -> Result<(), AdapterError> {
        let mut m = lock(&self.inner);
        if m.failures > 0 {
            m.failures -= 1;
            return Err(AdapterError::Rpc {
                chain: self.chain.clone(),
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl MirrorReader for FakeMirror {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn mirror(&self) -> Address {
        self.domain.mirror
    }

    async fn fetch_state(&self, source: &ChainId) -> Result<MirrorState, AdapterError> {
        self.maybe_fail()?;
        let m = lock(&self.inner);
        let s = m.sources.get(source).cloned().unwrap_or_default();
        Ok(MirrorState {
            latest_size: s.latest_size,
            latest_root: s.latest_root,
            latest_source_block: s.latest_block,
            attestors: s.attestors,
            threshold: s.threshold,
            attestor_set_version: s.version,
            read_at_block: m.block,
        })
    }

    /// The fake keeps no history: the state as of any block is the current one.
    async fn fetch_state_as_of(
        &self,
        source: &ChainId,
        _block: Option<u64>,
    ) -> Result<MirrorState, AdapterError> {
        self.fetch_state(source).await
    }

    async fn fetch_pending_owner_rotation(
        &self,
        source: &ChainId,
    ) -> Result<Option<evidence_adapters::mirror::PendingOwnerRotation>, AdapterError> {
        self.maybe_fail()?;
        Ok(lock(&self.inner)
            .sources
            .get(source)
            .and_then(|s| s.pending.clone()))
    }

    async fn fetch_root_at(&self, source: &ChainId, size: u64) -> Result<B256, AdapterError> {
        self.maybe_fail()?;
        let m = lock(&self.inner);
        Ok(m.sources
            .get(source)
            .and_then(|s| s.roots.get(&size).copied())
            .unwrap_or(B256::ZERO))
    }

    async fn verify_record(
        &self,
        source: &ChainId,
        size: u64,
        record_id: B256,
        index: u64,
        proof: &[B256],
    ) -> Result<bool, AdapterError> {
        self.maybe_fail()?;
        let m = lock(&self.inner);
        let Some(root) = m
            .sources
            .get(source)
            .and_then(|s| s.roots.get(&size).copied())
        else {
            return Ok(false);
        };
        Ok(verify_record_inclusion(&record_id, index, size, proof, &root).is_ok())
    }

    async fn fetch_owner(&self) -> Result<Address, AdapterError> {
        self.maybe_fail()?;
        Ok(lock(&self.inner).owner)
    }

    async fn fetch_owner_rotation_delay(&self) -> Result<u64, AdapterError> {
        self.maybe_fail()?;
        Ok(lock(&self.inner).owner_rotation_delay)
    }

    async fn fetch_attestor_set_history(
        &self,
        source: &ChainId,
    ) -> Result<Vec<AttestorSetChange>, AdapterError> {
        self.maybe_fail()?;
        Ok(lock(&self.inner)
            .sources
            .get(source)
            .map(|s| s.history.clone())
            .unwrap_or_default())
    }

    /// Transactions this fake mined (an external submission has no transaction).
    async fn fetch_accepted_in_tx(
        &self,
        id: B256,
    ) -> Result<Option<(u64, Vec<AcceptedCheckpoint>)>, AdapterError> {
        self.maybe_fail()?;
        let m = lock(&self.inner);
        Ok(m.receipts.get(&id).map(|r| {
            let events = m.accepted_in.get(&id).cloned().unwrap_or_default();
            (r.block_number, events)
        }))
    }
}

#[async_trait]
impl MirrorSubmitter for FakeMirror {
    async fn prepare_submission(
        &self,
        checkpoint: &SignedCheckpoint,
        consistency_proof: &[B256],
        replace: Option<&PreparedSubmission>,
    ) -> Result<PreparedSubmission, AdapterError> {
        self.maybe_fail()?;
        let replace = replace.map(|r| self.decode(r)).transpose()?;
        let m = lock(&self.inner);
        let (nonce, fee) = match replace {
            Some(old) => (old.nonce, old.max_fee_per_gas + old.max_fee_per_gas / 4 + 1),
            None => {
                let next = m
                    .mempool
                    .keys()
                    .next_back()
                    .map_or(m.confirmed_nonce, |n| n + 1)
                    .max(m.confirmed_nonce);
                (next, 1_000_000_000)
            }
        };
        let tx = FakeTx {
            signed: checkpoint.clone(),
            proof: consistency_proof.to_vec(),
            nonce,
            max_fee_per_gas: fee,
        };
        let raw = serde_json::to_vec(&tx).map_err(|e| AdapterError::Config(e.to_string()))?;
        Ok(PreparedSubmission {
            id: keccak256(&raw),
            payload: raw.into(),
            summary: format!("fake nonce {nonce}, fee {fee}"),
        })
    }

    async fn send_raw(&self, tx: &PreparedSubmission) -> Result<(), AdapterError> {
        self.maybe_fail()?;
        let decoded = self.decode(tx)?;
        let mut m = lock(&self.inner);
        if m.send_failures > 0 {
            m.send_failures -= 1;
            return Err(AdapterError::Rpc {
                chain: self.chain.clone(),
                message: "injected send failure".into(),
            });
        }
        m.broadcasts += 1;
        if m.receipts.contains_key(&tx.id) {
            return Ok(());
        }
        if decoded.nonce < m.confirmed_nonce {
            return Err(AdapterError::Reverted {
                chain: self.chain.clone(),
                reason: "nonce too low".into(),
            });
        }
        if let Some((hash, old)) = m.mempool.get(&decoded.nonce) {
            if *hash == tx.id {
                return Ok(());
            }
            if decoded.max_fee_per_gas <= old.max_fee_per_gas + old.max_fee_per_gas / 10 {
                return Err(AdapterError::Reverted {
                    chain: self.chain.clone(),
                    reason: "replacement underpriced".into(),
                });
            }
        }
        m.mempool.insert(decoded.nonce, (tx.id, decoded));
        if m.auto_mine {
            Self::mine_inner(&self.domain, &mut m);
        }
        Ok(())
    }

    async fn fetch_receipt(&self, hash: B256) -> Result<Option<TxOutcome>, AdapterError> {
        self.maybe_fail()?;
        Ok(lock(&self.inner).receipts.get(&hash).cloned())
    }

    async fn fetch_unmineable(
        &self,
        submission: &PreparedSubmission,
    ) -> Result<Option<String>, AdapterError> {
        self.maybe_fail()?;
        let tx = self.decode(submission)?;
        let confirmed = lock(&self.inner).confirmed_nonce;
        Ok((confirmed > tx.nonce).then(|| format!("nonce {} is used", tx.nonce)))
    }
}
