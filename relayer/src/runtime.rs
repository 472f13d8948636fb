//! What the stages run over: one source chain ([`ChainRuntime`]) and one route
//! ([`RouteRuntime`]). Shared by the stages and the [`Engine`](crate::Engine) that
//! schedules them; this module depends on neither.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use evidence_adapters::{EvidenceSource, MirrorClient};
use evidence_schemas::{ChainId, checkpoint::MirrorDomain};

use crate::store::Route;

/// One source chain the engine indexes.
#[derive(Debug, Clone)]
pub struct ChainRuntime {
    /// CAIP-2 id.
    pub chain: ChainId,
    /// The operator's name for it (config key), shown in lookups and status.
    pub name: String,
    /// Where records come from.
    pub source: Arc<dyn EvidenceSource>,
    /// Blocks below the head before a block's records enter the log.
    pub confirmations: u64,
    /// First block to index (on first start).
    pub start_block: u64,
    /// Most blocks per index step.
    pub batch_span: u64,
    /// Blocks per fetch, adapted to the chain's density so that one fetch holds about
    /// [`FetchSpan::RECORDS`] records (shared by the clones of this runtime).
    pub fetch_span: FetchSpan,
}

/// The block span of the index stage's next fetch, adapted to how many records the
/// chain's blocks hold, so that the records one fetch keeps in memory are bounded in
/// **records**, not in blocks: 2,000 blocks of a busy chain can hold millions of events.
///
/// After each fetch of `blocks` blocks that returned `records` records, the span
/// shrinks in proportion when `records` passed [`FetchSpan::RECORDS`], and grows
/// fourfold when it stayed under a quarter of it. It starts at
/// [`FetchSpan::INITIAL`] blocks and is never below one block (a single block's events
/// are bounded by the chain's block gas limit) nor, when read, above the step's span.
#[derive(Debug, Clone)]
pub struct FetchSpan(Arc<AtomicU64>);

impl Default for FetchSpan {
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(Self::INITIAL)))
    }
}

impl FetchSpan {
    /// The records one fetch aims at.
    pub const RECORDS: u64 = 10_000;
    /// The span of the first fetch, in blocks.
    pub const INITIAL: u64 = 16;

    /// The span of the next fetch, at most `max` blocks.
    pub fn get(&self, max: u64) -> u64 {
        self.0.load(Ordering::Relaxed).clamp(1, max.max(1))
    }

    /// Adapts the span to a fetch of `blocks` blocks that returned `records` records.
    pub fn observe(&self, blocks: u64, records: usize) {
        let records = records as u64;
        let blocks = blocks.max(1);
        let current = self.0.load(Ordering::Relaxed);
        let next = if records > Self::RECORDS {
            // Proportional: a fetch of this density with the new span holds ~RECORDS.
            (blocks.saturating_mul(Self::RECORDS) / records).clamp(1, current.max(1))
        } else if records < Self::RECORDS / 4 {
            current.max(blocks).saturating_mul(4)
        } else {
            return;
        };
        // The span is capped on read; cap it here too so it cannot overflow.
        self.0.store(next.min(1 << 32), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::FetchSpan;

    #[test]
    fn fetch_span_bounds_records_not_blocks() {
        let span = FetchSpan::default();
        assert_eq!(span.get(2_000), FetchSpan::INITIAL);
        // A sparse chain: the span grows fourfold per fetch up to the step's span.
        span.observe(16, 10);
        assert_eq!(span.get(2_000), 64);
        span.observe(64, 0);
        span.observe(256, 0);
        span.observe(1_024, 0);
        assert_eq!(span.get(2_000), 2_000);
        // A dense stretch: 1,000 records a block. The next fetch aims at RECORDS.
        span.observe(2_000, 2_000_000);
        assert_eq!(span.get(2_000), 10);
        // Within the band the span stays.
        span.observe(10, 9_000);
        assert_eq!(span.get(2_000), 10);
        // A block with more events than RECORDS: one block a fetch, never zero.
        span.observe(10, 500_000);
        assert_eq!(span.get(2_000), 1);
        span.observe(1, 50_000);
        assert_eq!(span.get(2_000), 1);
        // A short fetch (the end of a range) that was sparse still grows the span.
        span.observe(1, 0);
        assert_eq!(span.get(2_000), 4);
        assert_eq!(span.get(0), 1);
    }
}

/// One route: the source chain's checkpoints mirrored onto a destination.
#[derive(Debug, Clone)]
pub struct RouteRuntime {
    /// Source chain.
    pub source_chain: ChainId,
    /// Destination chain.
    pub destination_chain: ChainId,
    /// The destination's mirror.
    pub mirror: Arc<dyn MirrorClient>,
    /// EIP-712 domain of that mirror.
    pub domain: MirrorDomain,
}

impl RouteRuntime {
    /// The route's key.
    pub fn route(&self) -> Route {
        Route::new(self.source_chain.clone(), self.destination_chain.clone())
    }
}
