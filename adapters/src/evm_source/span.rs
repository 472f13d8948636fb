//! Adaptive block span of log queries.
//!
//! A range is fetched as consecutive sub-ranges of at most [`SpanControl::current`]
//! blocks. The span halves when the node answers "too large" and doubles (up to the
//! maximum) after an answer with few logs, and it is remembered across calls, so a
//! source settles on what its provider accepts.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
};

use tracing::debug;

use crate::error::AdapterError;

/// The current block span of log queries, shared across calls.
#[derive(Debug)]
pub struct SpanControl {
    span: AtomicU64,
    max: u64,
    grow_below: usize,
}

impl SpanControl {
    /// Starts at `initial` blocks (clamped to `1..=max`); grows after answers with fewer
    /// than `grow_below` logs.
    pub fn new(initial: u64, max: u64, grow_below: usize) -> Self {
        let max = max.max(1);
        Self {
            span: AtomicU64::new(initial.clamp(1, max)),
            max,
            grow_below,
        }
    }

    /// The span the next query uses.
    pub fn current(&self) -> u64 {
        self.span.load(Ordering::Relaxed)
    }

    /// The largest span.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// A query over `attempted` blocks was refused as too large. Returns `false` when it
    /// was a single block, which cannot be split.
    pub fn on_too_large(&self, attempted: u64) -> bool {
        if attempted <= 1 {
            return false;
        }
        let halved = (attempted / 2).max(1);
        self.span.fetch_min(halved, Ordering::Relaxed);
        true
    }

    /// A query over `attempted` blocks returned `logs` logs.
    pub fn on_success(&self, attempted: u64, logs: usize) {
        // Only a query that used the full current span says the span is comfortable;
        // the short last piece of a range says nothing.
        if logs < self.grow_below && attempted >= self.current() {
            let doubled = self.current().saturating_mul(2).min(self.max);
            self.span.store(doubled, Ordering::Relaxed);
        }
    }

    /// Halves the span (used before retrying a range whose answer was inconsistent).
    pub fn shrink(&self) {
        let halved = (self.current() / 2).max(1);
        self.span.store(halved, Ordering::Relaxed);
    }
}

/// Fetches `from..=to` as consecutive sub-ranges sized by `span`, with `query(a, b)`
/// fetching `a..=b`. A [`AdapterError::RangeTooLarge`] answer shrinks the span and
/// retries the same start; it is returned only for a single block. Any other error is
/// returned as is.
pub async fn fetch_adaptive<T, F, Fut>(
    span: &SpanControl,
    from: u64,
    to: u64,
    mut query: F,
) -> Result<Vec<T>, AdapterError>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Vec<T>, AdapterError>>,
{
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(span.current() - 1));
        let attempted = end - start + 1;
        match query(start, end).await {
            Ok(items) => {
                span.on_success(attempted, items.len());
                out.extend(items);
                if end == u64::MAX {
                    break;
                }
                start = end + 1;
            }
            Err(e @ AdapterError::RangeTooLarge { .. }) => {
                if !span.on_too_large(attempted) {
                    return Err(e);
                }
                debug!(target: "adapters::source", start, end, new_span = span.current(), error = %e, "log query too large; shrinking span");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use evidence_schemas::ChainId;

    use super::*;

    /// A fake node with one log per block in `0..blocks` that refuses queries over
    /// more than `limit` blocks, recording every query.
    struct FakeNode {
        limit: u64,
        calls: Mutex<Vec<(u64, u64)>>,
    }

    impl FakeNode {
        async fn query(&self, a: u64, b: u64) -> Result<Vec<u64>, AdapterError> {
            self.calls.lock().unwrap().push((a, b));
            if b - a + 1 > self.limit {
                return Err(AdapterError::RangeTooLarge {
                    chain: ChainId::eip155(1),
                    from: a,
                    to: b,
                    message: "query returned more than 10000 results".into(),
                });
            }
            Ok((a..=b).collect())
        }
    }

    #[tokio::test]
    async fn shrinks_to_the_provider_limit_and_covers_every_block_once() {
        let node = FakeNode {
            limit: 300,
            calls: Mutex::default(),
        };
        let span = SpanControl::new(2_000, 10_000, 1_000_000);
        let got = fetch_adaptive(&span, 10, 5_009, |a, b| node.query(a, b))
            .await
            .unwrap();
        assert_eq!(got, (10..=5_009).collect::<Vec<_>>());
        assert!(span.current() <= 300 * 2, "span {}", span.current());
        // Every successful query respected the limit; refusals only shrank the span.
        let calls = node.calls.lock().unwrap();
        let ok: Vec<_> = calls.iter().filter(|(a, b)| b - a < 300).collect();
        assert_eq!(ok.first().unwrap().0, 10);
        for w in ok.windows(2) {
            assert_eq!(
                w[1].0,
                w[0].1 + 1,
                "gap or overlap between {:?} and {:?}",
                w[0],
                w[1]
            );
        }
        assert_eq!(ok.last().unwrap().1, 5_009);
    }

    #[tokio::test]
    async fn remembers_the_span_across_calls() {
        let node = FakeNode {
            limit: 100,
            calls: Mutex::default(),
        };
        // Answers are never "small" here, so the span does not probe upwards again.
        let span = SpanControl::new(1_000, 10_000, 1);
        fetch_adaptive(&span, 0, 999, |a, b| node.query(a, b))
            .await
            .unwrap();
        let refused_first = node
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, b)| b - a >= 100)
            .count();
        assert!(refused_first > 0);
        node.calls.lock().unwrap().clear();
        fetch_adaptive(&span, 1_000, 1_999, |a, b| node.query(a, b))
            .await
            .unwrap();
        let refused_second = node
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, b)| b - a >= 100)
            .count();
        assert_eq!(
            refused_second, 0,
            "the second call should start at the learned span"
        );
    }

    #[tokio::test]
    async fn grows_when_answers_are_small_up_to_the_max() {
        let node = FakeNode {
            limit: u64::MAX,
            calls: Mutex::default(),
        };
        let span = SpanControl::new(10, 160, 1_000_000);
        fetch_adaptive(&span, 0, 10_000, |a, b| node.query(a, b))
            .await
            .unwrap();
        assert_eq!(span.current(), 160);
        let calls = node.calls.lock().unwrap();
        assert_eq!(calls[0], (0, 9));
        assert_eq!(calls[1], (10, 29));
        assert!(calls.iter().all(|(a, b)| b - a < 160));
    }

    #[tokio::test]
    async fn does_not_grow_when_answers_are_large() {
        let node = FakeNode {
            limit: u64::MAX,
            calls: Mutex::default(),
        };
        let span = SpanControl::new(50, 10_000, 10);
        fetch_adaptive(&span, 0, 999, |a, b| node.query(a, b))
            .await
            .unwrap();
        assert_eq!(span.current(), 50);
    }

    #[tokio::test]
    async fn a_single_refused_block_is_an_error() {
        let node = FakeNode {
            limit: 0,
            calls: Mutex::default(),
        };
        let span = SpanControl::new(8, 8, 1);
        let err = fetch_adaptive(&span, 5, 20, |a, b| node.query(a, b))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AdapterError::RangeTooLarge { from: 5, to: 5, .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn other_errors_pass_through_and_empty_ranges_are_empty() {
        let span = SpanControl::new(8, 8, 1);
        let got: Vec<u64> = fetch_adaptive(&span, 5, 4, |_, _| async { unreachable!() })
            .await
            .unwrap();
        assert!(got.is_empty());
        let err = fetch_adaptive::<u64, _, _>(&span, 0, 4, |_, _| async {
            Err(AdapterError::Rpc {
                chain: ChainId::eip155(1),
                message: "down".into(),
            })
        })
        .await
        .unwrap_err();
        assert!(matches!(err, AdapterError::Rpc { .. }));
    }

    #[test]
    fn span_rules() {
        let s = SpanControl::new(0, 100, 10);
        assert_eq!(s.current(), 1);
        let s = SpanControl::new(1_000, 100, 10);
        assert_eq!(s.current(), 100);
        assert!(s.on_too_large(100));
        assert_eq!(s.current(), 50);
        s.on_success(20, 0); // a short last piece does not grow the span
        assert_eq!(s.current(), 50);
        s.on_success(50, 0);
        assert_eq!(s.current(), 100);
        s.shrink();
        assert_eq!(s.current(), 50);
        assert!(!s.on_too_large(1));
    }
}
