//! Several sources on one chain: the [`MultiSource`] composite.
//!
//! A chain may hold evidence in more than one contract (our registry, an EAS
//! deployment, a third-party contract read through a mapping). The relayer indexes a
//! chain through one [`EvidenceSource`], so the composite fetches the same inclusive
//! block range from every inner source and merges the answers:
//! - records are merged in (block, tx index, log index) order, the order every source
//!   already returns its own records in; a log read by two sources (the same contract
//!   configured twice) is kept once;
//! - quarantined events are concatenated in the same order;
//! - any inner failure fails the whole fetch (the relayer fetches the range again), so
//!   a range is never half-indexed;
//! - the caller's [`SourceState`] goes only to the one inner source that has sequence
//!   numbers (the registry, [`MultiSource::with_sequenced`]), and the merged batch
//!   returns that source's state; the others get `None`, and their records carry
//!   `seq = None`.
//!
//! Head and block lookups go to the first inner source: all inner sources read the
//! same chain, so any of them answers the same.

use std::sync::Arc;

use async_trait::async_trait;
use evidence_schemas::ChainId;
use futures::future::try_join_all;

use crate::{
    error::AdapterError,
    source::{BlockRef, EvidenceSource, SourceBatch, SourceState},
};

/// The adapter name of a composite source (its records keep their inner adapter's name).
pub const MULTI_ADAPTER: &str = "multi";

/// Several [`EvidenceSource`]s of one chain, read as one.
#[derive(Debug)]
pub struct MultiSource {
    chain: ChainId,
    sources: Vec<Arc<dyn EvidenceSource>>,
    sequenced: Option<usize>,
}

impl MultiSource {
    /// A composite of `sources`, none of which has sequence numbers (every inner source
    /// gets no [`SourceState`]).
    ///
    /// Fails when `sources` is empty or a source reads another chain than the first.
    pub fn new(sources: Vec<Arc<dyn EvidenceSource>>) -> Result<Self, AdapterError> {
        let first = sources.first().ok_or_else(|| {
            AdapterError::Config(
                "a chain needs at least one evidence source (registry, eas or mapped)".into(),
            )
        })?;
        let chain = first.chain().clone();
        if let Some(other) = sources.iter().find(|s| *s.chain() != chain) {
            return Err(AdapterError::Config(format!(
                "sources of one composite read different chains: {chain} and {} ({}); give each chain its own sources",
                other.chain(),
                other.adapter_name()
            )));
        }
        Ok(Self {
            chain,
            sources,
            sequenced: None,
        })
    }

    /// Names the inner source (by index in the list given to [`MultiSource::new`]) that
    /// has sequence numbers and therefore receives the caller's [`SourceState`].
    pub fn with_sequenced(mut self, index: usize) -> Result<Self, AdapterError> {
        if index >= self.sources.len() {
            return Err(AdapterError::Config(format!(
                "sequenced source index {index} is out of range: the composite has {} sources",
                self.sources.len()
            )));
        }
        self.sequenced = Some(index);
        Ok(self)
    }

    /// The inner sources, in configuration order.
    pub fn sources(&self) -> &[Arc<dyn EvidenceSource>] {
        &self.sources
    }

    fn primary(&self) -> &Arc<dyn EvidenceSource> {
        // `new` refuses an empty list.
        &self.sources[0]
    }
}

#[async_trait]
impl EvidenceSource for MultiSource {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn adapter_name(&self) -> &str {
        MULTI_ADAPTER
    }

    async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
        self.primary().fetch_head().await
    }

    async fn fetch_block(&self, number: u64) -> Result<BlockRef, AdapterError> {
        self.primary().fetch_block(number).await
    }

    async fn fetch_records(
        &self,
        from: u64,
        to: u64,
        state: Option<SourceState>,
    ) -> Result<SourceBatch, AdapterError> {
        let batches = try_join_all(self.sources.iter().enumerate().map(|(i, s)| {
            let inner = if self.sequenced == Some(i) {
                state
            } else {
                None
            };
            s.fetch_records(from, to, inner)
        }))
        .await?;
        // The state is the sequenced source's; without one it stays as it was.
        let after = self
            .sequenced
            .and_then(|i| batches.get(i))
            .and_then(|b| b.state)
            .or(state);
        let mut merged = merge(batches);
        merged.state = after;
        Ok(merged)
    }
}

/// Merges batches of one range into one, in (block, tx index, log index) order,
/// dropping a record that two batches both hold (same log read twice).
pub fn merge(batches: Vec<SourceBatch>) -> SourceBatch {
    let mut out = SourceBatch::default();
    for b in batches {
        out.records.extend(b.records);
        out.quarantined.extend(b.quarantined);
    }
    // Stable sort: records of one log (none today) would keep their source order.
    out.records.sort_by_key(|r| r.record.order_key());
    out.records.dedup_by(|b, a| a.record == b.record);
    out.quarantined
        .sort_by_key(|q| (q.block_number, q.log_index));
    out
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, B256};
    use evidence_schemas::{
        Action, DigestAlgorithm, Evidence, EvidenceRecord, Label, SourceLocator,
        record::RECORD_VERSION,
    };

    use super::*;
    use crate::source::SourcedRecord;

    fn rec(adapter: &str, block: u64, tx: u64, log: u64, seq: Option<u64>) -> SourcedRecord {
        SourcedRecord {
            record: EvidenceRecord {
                version: RECORD_VERSION,
                source: SourceLocator {
                    chain: ChainId::eip155(1),
                    adapter: Label::parse("adapter", adapter).unwrap(),
                    contract: Address::repeat_byte(1),
                    block_number: block,
                    block_hash: B256::repeat_byte(block as u8),
                    tx_hash: B256::repeat_byte(tx as u8 + 100),
                    tx_index: tx,
                    log_index: log,
                    block_timestamp: 10,
                },
                action: Action::Anchor,
                reference: None,
                evidence: Evidence {
                    digest_alg: DigestAlgorithm::Sha256,
                    digest: B256::repeat_byte(9),
                    kind: Label::default(),
                    submitter: Address::ZERO,
                    metadata: B256::ZERO,
                },
            },
            seq,
        }
    }

    #[test]
    fn merges_in_chain_order_and_drops_duplicates() {
        let a = SourceBatch {
            records: vec![
                rec("registry", 5, 0, 0, Some(0)),
                rec("registry", 7, 1, 4, Some(1)),
            ],
            quarantined: vec![],
            state: None,
        };
        let b = SourceBatch {
            records: vec![
                rec("eas", 5, 1, 2, None),
                rec("eas", 6, 0, 0, None),
                rec("eas", 7, 1, 3, None),
            ],
            quarantined: vec![],
            state: None,
        };
        let dup = SourceBatch {
            records: vec![rec("eas", 6, 0, 0, None)],
            quarantined: vec![],
            state: None,
        };
        let m = merge(vec![a, b, dup]);
        let keys: Vec<_> = m.records.iter().map(|r| r.record.order_key()).collect();
        assert_eq!(
            keys,
            vec![(5, 0, 0), (5, 1, 2), (6, 0, 0), (7, 1, 3), (7, 1, 4)]
        );
        assert_eq!(
            m.records.iter().filter_map(|r| r.seq).collect::<Vec<_>>(),
            vec![0, 1]
        );
    }
}

#[cfg(test)]
mod composite_tests {
    use std::sync::Mutex;

    use super::*;
    use crate::source::SourcedRecord;

    /// A fake inner source remembering the state it was given.
    #[derive(Debug)]
    struct Fake {
        chain: ChainId,
        batch: SourceBatch,
        fail: bool,
        seen: Mutex<Vec<Option<SourceState>>>,
    }

    #[async_trait]
    impl EvidenceSource for Fake {
        fn chain(&self) -> &ChainId {
            &self.chain
        }
        fn adapter_name(&self) -> &str {
            "fake"
        }
        async fn fetch_head(&self) -> Result<BlockRef, AdapterError> {
            Err(AdapterError::Config("not used".into()))
        }
        async fn fetch_block(&self, _: u64) -> Result<BlockRef, AdapterError> {
            Err(AdapterError::Config("not used".into()))
        }
        async fn fetch_records(
            &self,
            _: u64,
            _: u64,
            state: Option<SourceState>,
        ) -> Result<SourceBatch, AdapterError> {
            self.seen.lock().unwrap().push(state);
            if self.fail {
                return Err(AdapterError::Rpc {
                    chain: self.chain.clone(),
                    message: "boom".into(),
                });
            }
            Ok(self.batch.clone())
        }
    }

    fn fake(chain: u64, records: Vec<SourcedRecord>, fail: bool) -> Arc<Fake> {
        Arc::new(Fake {
            chain: ChainId::eip155(chain),
            batch: SourceBatch {
                records,
                quarantined: vec![],
                state: None,
            },
            fail,
            seen: Mutex::new(vec![]),
        })
    }

    #[tokio::test]
    async fn only_the_sequenced_source_gets_the_expected_seq() {
        let a = fake(1, vec![], false);
        let b = fake(1, vec![], false);
        let m = MultiSource::new(vec![a.clone(), b.clone()])
            .unwrap()
            .with_sequenced(1)
            .unwrap();
        let state = SourceState::from_stored(42);
        m.fetch_records(1, 5, Some(state)).await.unwrap();
        assert_eq!(*a.seen.lock().unwrap(), vec![None]);
        assert_eq!(*b.seen.lock().unwrap(), vec![Some(state)]);
    }

    #[tokio::test]
    async fn one_failing_source_fails_the_fetch() {
        let a = fake(1, vec![], false);
        let b = fake(1, vec![], true);
        let m = MultiSource::new(vec![a, b]).unwrap();
        let e = m.fetch_records(1, 5, None).await.unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
    }

    #[test]
    fn refuses_no_sources_and_mixed_chains() {
        let e = MultiSource::new(vec![]).unwrap_err();
        assert!(e.to_string().contains("at least one"), "{e}");
        let e = MultiSource::new(vec![fake(1, vec![], false), fake(2, vec![], false)]).unwrap_err();
        assert!(e.to_string().contains("different chains"), "{e}");
        let e = MultiSource::new(vec![fake(1, vec![], false)])
            .unwrap()
            .with_sequenced(3)
            .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
