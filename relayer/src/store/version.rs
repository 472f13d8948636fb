//! The store's data version: a value that changes whenever anything is committed to
//! the store — by this process or by another — so a per-process cache of answers can
//! tell whether an answer it holds may be stale (the API's answer cache,
//! `bridge/src/api/answers.rs`).
//!
//! On a SQLite file it is `PRAGMA data_version` read on a connection of its own that
//! never writes: SQLite changes that connection's value whenever any *other*
//! connection, of any process, commits to the file (the pragma begins a read
//! transaction, so it sees the newest WAL frame). The value is paired with an epoch
//! that moves whenever that connection is opened again, since a new connection counts
//! from its own start. On PostgreSQL and on an in-memory SQLite database there is no
//! such value; [`Store::data_version`](super::Store::data_version) gives `None` and
//! callers do not cache.
//!
//! The rule for a cache: read the version **before** computing an answer and file
//! the answer under it. A version read later equal to it means nothing was committed
//! since, so the answer, computed from a snapshot no older than that read, is current.

use sqlx::{AnyConnection, Connection as _, Executor as _};
use tokio::sync::{Mutex, Notify};

/// One reading of the store's data version. Equal readings mean no commit in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    epoch: u64,
    n: i64,
}

impl DataVersion {
    /// A reading with these parts (tests of caches).
    #[cfg(any(test, feature = "test-utils"))]
    pub fn for_tests(epoch: u64, n: i64) -> Self {
        Self { epoch, n }
    }
}

/// The connection that reads `PRAGMA data_version` of a SQLite file, shared by every
/// caller: a reading that starts after a caller arrived answers every caller waiting
/// for one, so concurrent lookups cost one reading per round trip, not one each.
pub(crate) struct VersionWatch {
    /// A read-only URL of the file (`mode=ro`).
    url: String,
    /// The connection and the epoch it was opened in; `None` until first use and after
    /// an error.
    conn: Mutex<(u64, Option<AnyConnection>)>,
    flight: std::sync::Mutex<Flight>,
    /// Woken when a reading ends (or its caller went away).
    ended: Notify,
}

/// The readings started and the newest one ended.
#[derive(Default)]
struct Flight {
    /// How many readings were started; the number of a reading is this after its start.
    started: u64,
    /// A reading is under way.
    running: bool,
    /// The newest ended reading: its number and result.
    last: Option<(u64, Option<DataVersion>)>,
}

impl std::fmt::Debug for VersionWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionWatch").finish_non_exhaustive()
    }
}

impl VersionWatch {
    /// A watch of the SQLite file at `read_only_url` (opened on first use).
    pub(crate) fn new(read_only_url: String) -> Self {
        Self {
            url: read_only_url,
            conn: Mutex::new((0, None)),
            flight: std::sync::Mutex::default(),
            ended: Notify::new(),
        }
    }

    /// The current data version, or `None` when it cannot be read (the caller then
    /// computes its answer without a cache; the next reading opens a new connection).
    ///
    /// Only a reading that *started after this call* may answer it — one already under
    /// way could have read the version before a commit that ended before this call —
    /// so a caller arriving during a reading waits for the next one, which then answers
    /// everyone who arrived meanwhile.
    pub(crate) async fn read(&self) -> Option<DataVersion> {
        let mut need = None;
        loop {
            // Decided under the lock, acted on after it (no guard across an await).
            let step = {
                let mut f = self.flight();
                let need = *need.get_or_insert(f.started + 1);
                match f.last {
                    Some((number, version)) if number >= need => Step::Done(version),
                    _ if !f.running => {
                        f.running = true;
                        f.started += 1;
                        Step::Read(f.started)
                    }
                    // Registered before the lock is let go, so the end cannot be missed.
                    _ => Step::Wait(self.ended.notified()),
                }
            };
            match step {
                Step::Done(version) => return version,
                Step::Read(number) => {
                    let reading = Reading(self);
                    let version = self.read_now().await;
                    reading.end(number, version);
                    return version;
                }
                Step::Wait(ended) => ended.await,
            }
        }
    }

    fn flight(&self) -> std::sync::MutexGuard<'_, Flight> {
        // The state is a few integers, each change complete: usable after a panic.
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One reading on the watch's connection.
    async fn read_now(&self) -> Option<DataVersion> {
        let mut slot = self.conn.lock().await;
        if slot.1.is_none() {
            match open(&self.url).await {
                Ok(conn) => *slot = (slot.0 + 1, Some(conn)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open the store's data-version connection; answering without the cache");
                    return None;
                }
            }
        }
        let epoch = slot.0;
        let conn = slot.1.as_mut()?;
        match sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(n) => Some(DataVersion { epoch, n }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the store's data version; answering without the cache");
                slot.1 = None;
                None
            }
        }
    }
}

/// What a caller of [`VersionWatch::read`] does next.
enum Step<'a> {
    Done(Option<DataVersion>),
    Read(u64),
    Wait(tokio::sync::futures::Notified<'a>),
}

/// A reading under way: ended with its result, or — when its caller is dropped midway
/// — ended without one, so a waiting caller starts the next.
struct Reading<'a>(&'a VersionWatch);

impl Reading<'_> {
    fn end(self, number: u64, version: Option<DataVersion>) {
        self.0.flight().last = Some((number, version));
        // Drop marks the reading over and wakes the waiters.
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        let mut f = self.0.flight();
        f.running = false;
        self.0.ended.notify_waiters();
    }
}

async fn open(url: &str) -> sqlx::Result<AnyConnection> {
    let mut conn = AnyConnection::connect(url).await?;
    // Readers in WAL mode do not wait on the writer, except while a WAL is recovered.
    conn.execute(format!("PRAGMA busy_timeout = {}", super::BUSY_TIMEOUT_MS).as_str())
        .await?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::super::Store;

    async fn write(store: &Store, n: i64) {
        let pool = store.writer();
        sqlx::query("CREATE TABLE IF NOT EXISTS version_test (n BIGINT)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO version_test (n) VALUES ($1)")
            .bind(n)
            .execute(pool)
            .await
            .unwrap();
    }

    /// The version moves with every commit of this process's writer and of another
    /// process's (another `Store` on the file), and stays put without one.
    #[tokio::test]
    async fn the_version_moves_with_every_commit_from_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
        let store = Store::connect(&url).await.unwrap();
        let other = Store::connect(&url).await.unwrap();
        let reader = Store::connect_read_only(&url).await.unwrap();

        let v0 = store
            .data_version()
            .await
            .expect("a SQLite file has a version");
        assert_eq!(
            store.data_version().await,
            Some(v0),
            "no commit, same version"
        );
        assert_eq!(store.load_alarms(None).await.unwrap().len(), 0);
        assert_eq!(
            store.data_version().await,
            Some(v0),
            "a read is not a commit"
        );

        write(&store, 1).await;
        let v1 = store.data_version().await.unwrap();
        assert_ne!(v1, v0, "this store's own writer committed");

        write(&other, 2).await;
        let v2 = store.data_version().await.unwrap();
        assert_ne!(v2, v1, "another store committed");
        assert_eq!(store.data_version().await, Some(v2));

        let r0 = reader
            .data_version()
            .await
            .expect("read-only stores have one too");
        write(&store, 3).await;
        assert_ne!(reader.data_version().await, Some(r0));
    }

    /// Many callers at once share readings, and none gets a reading that started
    /// before it was called: a commit that ended before a call is always seen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_never_get_a_reading_older_than_their_call() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
        let store = Store::connect(&url).await.unwrap();
        for round in 0..20 {
            let before = store.data_version().await.unwrap();
            write(&store, round).await;
            // Every caller arrives after the commit: every one must see it.
            let calls: Vec<_> = (0..32)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.data_version().await })
                })
                .collect();
            for call in calls {
                let v = call.await.unwrap().unwrap();
                assert_ne!(v, before, "round {round}: a reading older than the commit");
            }
        }
    }

    /// A caller dropped while its reading is under way does not leave the others
    /// waiting forever.
    #[tokio::test]
    async fn a_cancelled_reading_does_not_block_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
        let store = Store::connect(&url).await.unwrap();
        for _ in 0..50 {
            let first = store.data_version();
            // Poll it once (it starts the reading), then drop it.
            let _ = tokio::time::timeout(std::time::Duration::ZERO, first).await;
            let v = tokio::time::timeout(std::time::Duration::from_secs(10), store.data_version())
                .await
                .expect("the next reading ran");
            assert!(v.is_some());
        }
    }

    /// Without a version (an in-memory database) nothing may be cached.
    #[tokio::test]
    async fn an_in_memory_store_has_no_version() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        assert_eq!(store.data_version().await, None);
    }
}
