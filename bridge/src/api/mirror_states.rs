//! Mirror states read for proof bundles, kept for a few seconds.
//!
//! A bundle carries the destination mirror's state (its latest checkpoint and the
//! attestor set) read at the block where the mirror accepted the bundle's checkpoint.
//! Every bundle of the newest mirrored checkpoint asks for the same block, and the
//! state at a block does not change: so the API keeps what it read, keyed by
//! destination, source chain and block, for [`TTL`]. That saves a bundle two contract
//! calls on the destination's node, most of its time on a busy lookup node.
//!
//! Only reads at a given block are kept, never "latest". The block is one the relayer
//! saw confirmed; the short lifetime bounds how long a reorganization deeper than the
//! chain's confirmations could leave a stale state in bundles. A bundle's attestor set
//! is what the server read, not what a verifier trusts: verifiers check signatures
//! against their own trust file, so a cached state cannot make a false record verify.
//! Errors are not kept.

use std::{
    collections::HashMap,
    future::Future,
    sync::Mutex,
    time::{Duration, Instant},
};

use evidence_adapters::mirror::MirrorState;
use evidence_schemas::ChainId;

/// How long a state read at a block is served.
pub(crate) const TTL: Duration = Duration::from_secs(5);

/// The most states kept; when full, expired ones are dropped, then all.
const MAX_ENTRIES: usize = 256;

/// (destination chain's name, source chain, block read at).
type Key = (String, ChainId, u64);

/// States of mirrors at given blocks, each for [`TTL`].
#[derive(Debug, Default)]
pub(crate) struct MirrorStates {
    entries: Mutex<HashMap<Key, (Instant, MirrorState)>>,
}

impl MirrorStates {
    /// The state of `destination`'s mirror for `source` at `block`: kept if read less
    /// than [`TTL`] ago, else `read()`'s (kept when it succeeds). With no block
    /// ("latest") it is always read.
    pub(crate) async fn get_or_read<F, Fut, E>(
        &self,
        destination: &str,
        source: &ChainId,
        block: Option<u64>,
        read: F,
    ) -> Result<MirrorState, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<MirrorState, E>>,
    {
        let Some(block) = block else {
            return read().await;
        };
        let key = (destination.to_owned(), source.clone(), block);
        if let Some((at, state)) = self.lock().get(&key)
            && at.elapsed() < TTL
        {
            metrics::counter!("bridge_api_mirror_state_cache_total", "result" => "hit")
                .increment(1);
            return Ok(state.clone());
        }
        metrics::counter!("bridge_api_mirror_state_cache_total", "result" => "miss").increment(1);
        let state = read().await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), state.clone()));
        Ok(state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, MirrorState)>> {
        // A panic while holding the lock leaves only a map of valid entries behind.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes every kept state look `age` old (tests).
    #[cfg(test)]
    fn age_all(&self, age: Duration) {
        for (at, _) in self.lock().values_mut() {
            *at = Instant::now().checked_sub(age).expect("a test age fits");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use alloy::primitives::{Address, B256};

    use super::*;

    fn state(version: u64) -> MirrorState {
        MirrorState {
            latest_size: 10,
            latest_root: B256::repeat_byte(1),
            latest_source_block: 7,
            attestors: vec![Address::repeat_byte(2)],
            threshold: 1,
            attestor_set_version: version,
            read_at_block: 99,
        }
    }

    #[tokio::test]
    async fn a_state_at_a_block_is_read_once_per_ttl_and_latest_always() {
        let cache = MirrorStates::default();
        let reads = AtomicU32::new(0);
        let source = ChainId::eip155(1);
        let read = |v| {
            let reads = &reads;
            move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(state(v))
            }
        };
        assert_eq!(
            cache.get_or_read("b", &source, Some(5), read(1)).await,
            Ok(state(1))
        );
        // Kept: the second read is not made, and its different answer is not seen.
        assert_eq!(
            cache.get_or_read("b", &source, Some(5), read(2)).await,
            Ok(state(1))
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Another block, source or destination is another key.
        assert_eq!(
            cache.get_or_read("b", &source, Some(6), read(3)).await,
            Ok(state(3))
        );
        let other = ChainId::eip155(2);
        assert_eq!(
            cache.get_or_read("b", &other, Some(5), read(4)).await,
            Ok(state(4))
        );
        assert_eq!(
            cache.get_or_read("c", &source, Some(5), read(5)).await,
            Ok(state(5))
        );
        assert_eq!(reads.load(Ordering::SeqCst), 4);
        // "Latest" is read every time.
        assert_eq!(
            cache.get_or_read("b", &source, None, read(6)).await,
            Ok(state(6))
        );
        assert_eq!(
            cache.get_or_read("b", &source, None, read(7)).await,
            Ok(state(7))
        );
        assert_eq!(reads.load(Ordering::SeqCst), 6);
        // Past the lifetime the state is read again.
        cache.age_all(TTL);
        assert_eq!(
            cache.get_or_read("b", &source, Some(5), read(8)).await,
            Ok(state(8))
        );
        assert_eq!(reads.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn errors_are_not_kept_and_the_map_stays_bounded() {
        let cache = MirrorStates::default();
        let source = ChainId::eip155(1);
        let failed = cache
            .get_or_read("b", &source, Some(1), || async {
                Err::<MirrorState, _>("down")
            })
            .await;
        assert_eq!(failed, Err("down"));
        assert_eq!(
            cache
                .get_or_read("b", &source, Some(1), || async { Ok::<_, &str>(state(2)) })
                .await,
            Ok(state(2))
        );
        for block in 0..(3 * MAX_ENTRIES as u64) {
            cache
                .get_or_read("b", &source, Some(block), || async {
                    Ok::<_, &str>(state(1))
                })
                .await
                .unwrap();
            assert!(cache.lock().len() <= MAX_ENTRIES);
        }
    }
}
