//! What the stages run over: one source chain ([`ChainRuntime`]) and one route
//! ([`RouteRuntime`]). Shared by the stages and the [`Engine`](crate::Engine) that
//! schedules them; this module depends on neither.

use std::sync::{Arc, Mutex};

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
///
/// **Growth remembers the densest blocks seen.** A fetch's size is only known once it
/// is answered, so a span grown over a quiet stretch meets the next burst whole: with
/// growth alone, two empty fetches after a dense stretch (1,000 records a block, span
/// 10) made the span 160 blocks, and the next fetch held 136,002 records — ~250 MB of
/// JSON answers in flight (heaptrack, `run_rss --follow`). So the span keeps the peak
/// density seen, which decays by a fifth at every fetch, and grows only up to what
/// would hold [`FetchSpan::RECORDS`] at that density: after a dense stretch a burst
/// holds at most `RECORDS / 0.8^k` records after `k` quiet fetches, and a chain that
/// stays quiet still reaches long spans (the peak halves every three fetches). A chain
/// that was never dense grows fourfold per fetch, as before.
#[derive(Debug, Clone)]
pub struct FetchSpan(Arc<Mutex<SpanState>>);

#[derive(Debug, Clone, Copy)]
struct SpanState {
    /// Blocks in the next fetch.
    span: u64,
    /// The decayed peak density, records per 1,000 blocks.
    peak_per_kblock: u64,
}

impl Default for FetchSpan {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(SpanState {
            span: Self::INITIAL,
            peak_per_kblock: 0,
        })))
    }
}

impl FetchSpan {
    /// The records one fetch aims at.
    pub const RECORDS: u64 = 10_000;
    /// The span of the first fetch, in blocks.
    pub const INITIAL: u64 = 16;

    fn state(&self) -> std::sync::MutexGuard<'_, SpanState> {
        // The state is two integers, valid after any partial update: a panic elsewhere
        // while holding the lock leaves nothing to repair.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The span of the next fetch, at most `max` blocks.
    pub fn get(&self, max: u64) -> u64 {
        self.state().span.clamp(1, max.max(1))
    }

    /// Adapts the span to a fetch of `blocks` blocks that returned `records` records.
    pub fn observe(&self, blocks: u64, records: usize) {
        let records = records as u64;
        let blocks = blocks.max(1);
        let mut state = self.state();
        let density = records.saturating_mul(1_000) / blocks;
        state.peak_per_kblock = density.max(state.peak_per_kblock / 5 * 4);
        let current = state.span;
        let next = if records > Self::RECORDS {
            // Proportional: a fetch of this density with the new span holds ~RECORDS.
            (blocks.saturating_mul(Self::RECORDS) / records).clamp(1, current.max(1))
        } else if records < Self::RECORDS / 4 {
            let grown = current.max(blocks).saturating_mul(4);
            match state.peak_per_kblock {
                0 => grown,
                peak => grown
                    .min(Self::RECORDS.saturating_mul(1_000) / peak)
                    .max(current),
            }
        } else {
            return;
        };
        // The span is capped on read; cap it here too so it cannot overflow.
        state.span = next.clamp(1, 1 << 32);
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
        span.observe(16, 0);
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
        assert_eq!(span.get(0), 1);
    }

    /// After a dense stretch, quiet fetches grow the span only as the remembered peak
    /// decays: a burst as dense as the peak then holds at most RECORDS / 0.8^k records
    /// after k quiet fetches (it held 136,002 at k = 2 before), and a chain that stays
    /// quiet still gets back to long spans.
    #[test]
    fn quiet_fetches_after_a_dense_stretch_keep_a_burst_bounded() {
        let span = FetchSpan::default();
        span.observe(16, 16_000); // 1,000 a block
        assert_eq!(span.get(2_000), 10);
        span.observe(10, 10_000); // within the band: the span stays, the peak is kept
        let mut k = 0;
        let mut bound = FetchSpan::RECORDS as f64;
        loop {
            let blocks = span.get(2_000);
            let burst = blocks * 1_000;
            assert!(
                burst as f64 <= bound * 1.01,
                "after {k} quiet fetches a burst would hold {burst} records (bound {bound:.0})"
            );
            if blocks == 2_000 {
                break;
            }
            span.observe(blocks, 3);
            k += 1;
            bound /= 0.8;
            assert!(k < 40, "a quiet chain gets back to long spans");
        }
        assert!(k > 10, "reached 2,000 blocks after {k} quiet fetches");
        // Dense again: the first fetch at the long span is cut back at once.
        span.observe(2_000, 2_000_000);
        assert_eq!(span.get(2_000), 10);
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
