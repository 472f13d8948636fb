//! The per-process cache of lookup answers: the JSON of `GET /api/v1/evidence/{digest}`
//! and `GET /api/v1/records/{record_id}`, kept under the store's data version
//! ([`Store::data_version`]) that was read before the answer was computed.
//!
//! A cached answer is served only while the store's data version is still the one it
//! was filed under, that is while nothing at all — a record, a checkpoint, a
//! submission, a receipt, a timestamp, a lease — has been committed to the store by
//! any process. Any commit empties the cache on the next request. So the cache never
//! shows an answer that a fresh computation would not give; it only saves recomputing
//! the same answer while the store stands still (a lookup node, or `bridge run`
//! between two batches). Without a data version (PostgreSQL) nothing is cached.
//!
//! Bounded: at most `[api] answer_cache_mib` of answers (0: no cache, and no version
//! read), none larger than [`MAX_ANSWER`]; when full it is emptied, so a client asking
//! for many different digests costs only the recomputation it would cost without a
//! cache.

use std::{collections::HashMap, future::Future, sync::Mutex};

use axum::body::Bytes;
use evidence_relayer::store::{DataVersion, Store};

use super::ApiError;

/// The largest answer kept.
pub(crate) const MAX_ANSWER: usize = 256 << 10;

/// Lookup answers by request, under one data version.
#[derive(Debug)]
pub(crate) struct AnswerCache {
    /// The most bytes of answers kept; 0: none.
    max_bytes: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The data version every entry was computed under.
    version: Option<DataVersion>,
    answers: HashMap<String, Bytes>,
    bytes: usize,
}

impl AnswerCache {
    /// A cache of at most `max_bytes` of answers (0: off).
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            inner: Mutex::default(),
        }
    }

    /// The answer for `key`: the cached one if the store has not changed since it was
    /// computed, else `compute()`'s (cached when it succeeds). Errors are not cached.
    pub(crate) async fn get_or_compute<F, Fut>(
        &self,
        store: &Store,
        key: String,
        compute: F,
    ) -> Result<Bytes, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        if self.max_bytes == 0 {
            return compute().await;
        }
        // Read before computing: see `DataVersion`.
        let Some(version) = store.data_version().await else {
            metrics::counter!("bridge_api_answer_cache_total", "result" => "uncached").increment(1);
            return compute().await;
        };
        if let Some(hit) = self.get(version, &key) {
            metrics::counter!("bridge_api_answer_cache_total", "result" => "hit").increment(1);
            return Ok(hit);
        }
        metrics::counter!("bridge_api_answer_cache_total", "result" => "miss").increment(1);
        let answer = compute().await?;
        self.put(version, key, answer.clone());
        Ok(answer)
    }

    /// The answer for `key` filed under `version`. Seeing a newer version empties the
    /// cache.
    fn get(&self, version: DataVersion, key: &str) -> Option<Bytes> {
        let mut e = self.lock();
        if e.version != Some(version) {
            e.clear(version);
            return None;
        }
        e.answers.get(key).cloned()
    }

    /// Files `answer` under `version`, unless the cache has seen another version
    /// since (a commit happened: the answer may be older than what it now holds).
    fn put(&self, version: DataVersion, key: String, answer: Bytes) {
        if answer.len() > MAX_ANSWER.min(self.max_bytes) {
            return;
        }
        let mut e = self.lock();
        if e.version != Some(version) {
            return;
        }
        if e.bytes + answer.len() > self.max_bytes {
            e.clear(version);
        }
        e.bytes += answer.len();
        if let Some(old) = e.answers.insert(key, answer) {
            e.bytes -= old.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves only a map of immutable answers.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many answers are kept (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().answers.len()
    }
}

impl Entries {
    fn clear(&mut self, version: DataVersion) {
        self.version = Some(version);
        self.answers.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: i64) -> DataVersion {
        DataVersion::for_tests(1, n)
    }

    #[test]
    fn an_answer_is_served_only_under_the_version_it_was_filed_under() {
        let c = AnswerCache::new(1 << 20);
        assert_eq!(c.get(v(1), "a"), None);
        c.put(v(1), "a".into(), Bytes::from_static(b"one"));
        assert_eq!(c.get(v(1), "a").as_deref(), Some(&b"one"[..]));
        // A newer version empties the cache; an answer filed under the old one after
        // that is refused (it may predate the commit the new version saw).
        assert_eq!(c.get(v(2), "a"), None);
        c.put(v(1), "a".into(), Bytes::from_static(b"stale"));
        assert_eq!(c.len(), 0);
        assert_eq!(c.get(v(2), "a"), None);
        // Another epoch with the same count is another version.
        c.put(v(2), "a".into(), Bytes::from_static(b"two"));
        assert_eq!(c.get(DataVersion::for_tests(2, 2), "a"), None);
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        const MAX_BYTES: usize = 4 << 20;
        let c = AnswerCache::new(MAX_BYTES);
        assert_eq!(c.get(v(1), "x"), None);
        c.put(v(1), "big".into(), Bytes::from(vec![0u8; MAX_ANSWER + 1]));
        assert_eq!(c.len(), 0, "an answer over MAX_ANSWER is not kept");
        let answer = Bytes::from(vec![0u8; MAX_ANSWER]);
        let fits = MAX_BYTES / MAX_ANSWER;
        for i in 0..fits {
            c.put(v(1), format!("k{i}"), answer.clone());
        }
        assert_eq!(c.len(), fits);
        // One more empties it first.
        c.put(v(1), "one more".into(), answer.clone());
        assert_eq!(c.len(), 1);
        assert_eq!(c.lock().bytes, MAX_ANSWER);
        // Replacing an answer counts its bytes once.
        c.put(v(1), "one more".into(), answer);
        assert_eq!(c.lock().bytes, MAX_ANSWER);
    }
}
