//! The fake source chain: blocks in memory, reorgs and injectable failures.

use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, Bytes, keccak256};
use async_trait::async_trait;
use evidence_adapters::{
    AdapterError, BlockRef, EvidenceSource, Quarantined, SourceBatch, SourceState, SourcedRecord,
    receipts::{RECEIPT_KIND, RECEIPTS_ADAPTER, receipt_digest},
};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, SourceLocator,
};

use super::lock;

/// An event in a fake block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeEvent {
    /// Anchors `digest`.
    Anchor {
        /// Evidence digest.
        digest: B256,
        /// Submitter.
        submitter: Address,
    },
    /// Revokes record `reference`.
    Revoke {
        /// Record id revoked.
        reference: B256,
        /// Submitter.
        submitter: Address,
    },
    /// A mirror on this chain accepted `source`'s checkpoint (a round-trip receipt,
    /// shaped as the `bridge-receipts` adapter makes it).
    Receipt {
        /// The chain whose checkpoint was accepted.
        source: ChainId,
        /// Its size.
        size: u64,
        /// Its root.
        root: B256,
        /// Its source block hash.
        source_block_hash: B256,
    },
    /// An event the adapter cannot decode (quarantined).
    Malformed {
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Clone)]
struct FakeBlock {
    block: BlockRef,
    events: Vec<FakeEvent>,
    first_seq: u64,
}

#[derive(Debug)]
struct ChainState {
    blocks: Vec<FakeBlock>,
    salt: u64,
    digests: u64,
    failures: u32,
}

/// An in-memory source chain. Block 0 is genesis; blocks are mined explicitly.
#[derive(Debug)]
pub struct FakeChain {
    chain: ChainId,
    contract: Address,
    state: Mutex<ChainState>,
}

/// The submitter fake anchors use unless told otherwise.
pub const DEFAULT_SUBMITTER: Address = Address::repeat_byte(0x5a);

impl FakeChain {
    /// A chain holding only its genesis block.
    pub fn new(chain: ChainId) -> Arc<Self> {
        let genesis = BlockRef {
            number: 0,
            hash: keccak256(format!("{chain}/genesis")),
            parent_hash: B256::ZERO,
            timestamp: 1_767_225_600,
        };
        Arc::new(Self {
            chain,
            contract: Address::repeat_byte(0xc0),
            state: Mutex::new(ChainState {
                blocks: vec![FakeBlock {
                    block: genesis,
                    events: Vec::new(),
                    first_seq: 0,
                }],
                salt: 0,
                digests: 0,
                failures: 0,
            }),
        })
    }

    /// The head block.
    pub fn head(&self) -> BlockRef {
        let s = lock(&self.state);
        s.blocks.last().map(|b| b.block).unwrap_or(BlockRef {
            number: 0,
            hash: B256::ZERO,
            parent_hash: B256::ZERO,
            timestamp: 0,
        })
    }

    /// Mines one block with `events`.
    pub fn mine(&self, events: Vec<FakeEvent>) -> BlockRef {
        let mut s = lock(&self.state);
        Self::push(&self.chain, &mut s, events)
    }

    fn push(chain: &ChainId, s: &mut ChainState, events: Vec<FakeEvent>) -> BlockRef {
        let (parent, first_seq) = match s.blocks.last() {
            Some(last) => {
                let used = last
                    .events
                    .iter()
                    .filter(|e| !matches!(e, FakeEvent::Malformed { .. }))
                    .count() as u64;
                (last.block, last.first_seq + used)
            }
            None => (
                BlockRef {
                    number: 0,
                    hash: B256::ZERO,
                    parent_hash: B256::ZERO,
                    timestamp: 0,
                },
                0,
            ),
        };
        let number = parent.number + 1;
        let block = BlockRef {
            number,
            hash: keccak256(format!("{chain}/{number}/{}/{}", parent.hash, s.salt)),
            parent_hash: parent.hash,
            timestamp: parent.timestamp + 2,
        };
        s.blocks.push(FakeBlock {
            block,
            events,
            first_seq,
        });
        block
    }

    /// Mines one block with `n` anchors of fresh digests; returns the digests.
    pub fn mine_anchors(&self, n: usize) -> Vec<B256> {
        let mut s = lock(&self.state);
        let digests: Vec<B256> = (0..n)
            .map(|_| {
                s.digests += 1;
                DigestAlgorithm::Sha256
                    .digest(format!("{}/evidence/{}", self.chain, s.digests).as_bytes())
            })
            .collect();
        let events = digests
            .iter()
            .map(|&digest| FakeEvent::Anchor {
                digest,
                submitter: DEFAULT_SUBMITTER,
            })
            .collect();
        Self::push(&self.chain, &mut s, events);
        digests
    }

    /// Mines `n` empty blocks.
    pub fn mine_empty(&self, n: u64) {
        let mut s = lock(&self.state);
        for _ in 0..n {
            Self::push(&self.chain, &mut s, Vec::new());
        }
    }

    /// Replaces the last `depth` blocks by `replacement` (one entry per new block),
    /// with new hashes. The chain may end up shorter or longer.
    pub fn reorg(&self, depth: u64, replacement: Vec<Vec<FakeEvent>>) {
        let mut s = lock(&self.state);
        let keep = s.blocks.len().saturating_sub(depth as usize).max(1);
        s.blocks.truncate(keep);
        s.salt += 1;
        for events in replacement {
            Self::push(&self.chain, &mut s, events);
        }
    }

    /// The next `n` calls fail with a retryable RPC error.
    pub fn fail_next_calls(&self, n: u32) {
        lock(&self.state).failures = n;
    }

    /// Every record of blocks `..=upto`, in log order, as the adapter returns them.
    pub fn records(&self, upto: u64) -> Vec<EvidenceRecord> {
        let s = lock(&self.state);
        s.blocks
            .iter()
            .filter(|b| b.block.number <= upto)
            .flat_map(|b| self.block_batch(b).records.into_iter().map(|r| r.record))
            .collect()
    }

    fn block_batch(&self, b: &FakeBlock) -> SourceBatch {
        let mut batch = SourceBatch::default();
        let mut seq = b.first_seq;
        for (i, event) in b.events.iter().enumerate() {
            let i = i as u64;
            let tx_hash = keccak256(format!("{}/{i}", b.block.hash));
            let (mut adapter, mut kind, mut metadata, mut digest_alg) =
                ("fake", "iou", B256::ZERO, DigestAlgorithm::Sha256);
            let (action, reference, digest, submitter) = match event {
                FakeEvent::Anchor { digest, submitter } => {
                    (Action::Anchor, None, *digest, *submitter)
                }
                FakeEvent::Receipt {
                    source,
                    size,
                    root,
                    source_block_hash,
                } => {
                    (adapter, kind, metadata, digest_alg) = (
                        RECEIPTS_ADAPTER,
                        RECEIPT_KIND,
                        *source_block_hash,
                        DigestAlgorithm::Keccak256,
                    );
                    (
                        Action::Anchor,
                        None,
                        receipt_digest(source.key(), *size, *root),
                        self.contract,
                    )
                }
                FakeEvent::Revoke {
                    reference,
                    submitter,
                } => (
                    Action::Revoke,
                    Some(*reference),
                    keccak256(reference),
                    *submitter,
                ),
                FakeEvent::Malformed { reason } => {
                    batch.quarantined.push(Quarantined {
                        chain: self.chain.clone(),
                        adapter: "fake".into(),
                        block_number: b.block.number,
                        block_hash: b.block.hash,
                        tx_hash,
                        log_index: i,
                        reason: reason.clone(),
                        raw: Bytes::from(vec![0xde, 0xad, i as u8]),
                    });
                    continue;
                }
            };
            let record = EvidenceRecord {
                version: 1,
                source: SourceLocator {
                    chain: self.chain.clone(),
                    adapter: Label::parse("adapter", adapter).unwrap_or_default(),
                    contract: self.contract,
                    block_number: b.block.number,
                    block_hash: b.block.hash,
                    tx_hash,
                    tx_index: i,
                    log_index: i,
                    block_timestamp: b.block.timestamp,
                },
                action,
                reference,
                evidence: Evidence {
                    digest_alg,
                    digest,
                    kind: Label::parse("kind", kind).unwrap_or_default(),
                    submitter,
                    metadata,
                },
            };
            batch.records.push(SourcedRecord {
                record,
                seq: Some(seq),
            });
            seq += 1;
        }
        batch
    }

    fn maybe_fail(&self) -> Result<(), AdapterError> {
        let mut s = lock(&self.state);
        if s.failures > 0 {
            s.failures -= 1;
            return Err(AdapterError::Rpc {
                chain: self.chain.clone(),
                message: "injected failure".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl EvidenceSource for FakeChain {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        "fake"
    }

    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.maybe_fail()?;
        Ok(self.head())
    }

    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.maybe_fail()?;
        let s = lock(&self.state);
        s.blocks
            .get(number as usize)
            .map(|b| b.block)
            .ok_or_else(|| AdapterError::BlockNotFound {
                chain: self.chain.clone(),
                number,
            })
    }

    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError> {
        self.maybe_fail()?;
        let blocks: Vec<FakeBlock> = {
            let s = lock(&self.state);
            s.blocks
                .iter()
                .filter(|b| (from..=to).contains(&b.block.number))
                .cloned()
                .collect()
        };
        let mut out = SourceBatch::default();
        for b in &blocks {
            let batch = self.block_batch(b);
            out.records.extend(batch.records);
            out.quarantined.extend(batch.quarantined);
        }
        if let (Some(expected), Some(first)) = (
            state.map(SourceState::stored),
            out.records.first().and_then(|r| r.seq),
        ) && expected != first
        {
            return Err(AdapterError::Inconsistent {
                chain: self.chain.clone(),
                from,
                to,
                message: format!("expected seq {expected}, first event carries {first}"),
            });
        }
        out.state = SourceState::after(out.records.iter().filter_map(|r| r.seq), state);
        Ok(out)
    }
}
