//! The SQLite store's WAL checkpointer.
//!
//! The writer commits into the write-ahead log; a task on a connection of its own copies
//! the log into the database file every [`CHECKPOINT_INTERVAL`] (`PASSIVE`: it waits
//! for nobody). Under a constant stream of readers and writes a passive checkpoint can
//! copy frames but the log never starts over — some reader always reads a snapshot in
//! it — so the file grows without bound (854 MB was seen while `bridge run` indexed
//! 10 M records). Past [`TRUNCATE_PAST_PAGES`] frames a round therefore runs a
//! `TRUNCATE` checkpoint: it holds off the writer, waits (at most
//! [`TRUNCATE_WAIT_MS`]) for the readers of older snapshots to finish, copies
//! everything and empties the file. New readers are not held off: once every frame is
//! in the file they read the file alone.

use std::time::Duration;

use sqlx::{AnyPool, Executor};

use super::BUSY_TIMEOUT_MS;

/// WAL pages past which the writer checkpoints by itself (SQLite's default is 1,000:
/// 4 MB). 64 MB: only reached when the checkpointer falls behind.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// The size the WAL file is cut back to when the writer starts it over.
pub(super) const JOURNAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// How often the checkpointer copies the WAL into the database file.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// WAL frames past which a round empties the log (`TRUNCATE`) instead of only copying
/// it (64 MB at 4 KiB pages).
pub(super) const TRUNCATE_PAST_PAGES: i64 = 16_384;

/// How long a `TRUNCATE` checkpoint waits for readers and the writer, ms. Below the
/// writer's own busy timeout (10 s), so a writer held off by it never fails.
const TRUNCATE_WAIT_MS: u32 = 2_000;

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Round {
    /// Frames in the WAL when the round began (SQLite's `log` column).
    pub frames: i64,
    /// Whether the round emptied the log file.
    pub truncated: bool,
}

/// Runs [`round`] on `readers` (the checkpointer's own one-connection pool) every
/// [`CHECKPOINT_INTERVAL`] until every handle of the store is gone (`alive`) or the
/// pool is closed.
pub(super) fn spawn_checkpointer(readers: AnyPool, alive: std::sync::Weak<()>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 || readers.is_closed() {
                break;
            }
            match round(&readers, TRUNCATE_PAST_PAGES).await {
                Ok(Round {
                    frames,
                    truncated: true,
                }) => {
                    tracing::debug!(target: "relayer::store", frames, "WAL emptied into the database file");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(target: "relayer::store", error = %e, "WAL checkpoint failed; trying again next round");
                }
            }
        }
    });
}

/// One checkpoint: `PASSIVE`, then `TRUNCATE` if the log held more than
/// `truncate_past` frames. A `TRUNCATE` that finds readers still busy after
/// [`TRUNCATE_WAIT_MS`] gives up for this round (SQLite reports it busy) and is tried
/// again at the next.
pub(super) async fn round(readers: &AnyPool, truncate_past: i64) -> sqlx::Result<Round> {
    let (_busy, frames, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(readers)
            .await?;
    if frames <= truncate_past {
        return Ok(Round {
            frames,
            truncated: false,
        });
    }
    let mut conn = readers.acquire().await?;
    conn.execute(format!("PRAGMA busy_timeout = {TRUNCATE_WAIT_MS}").as_str())
        .await?;
    let result: sqlx::Result<(i64, i64, i64)> = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await;
    conn.execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
        .await?;
    let (busy, _, _) = result?;
    Ok(Round {
        frames,
        truncated: busy == 0,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use super::*;
    use crate::store::Store;

    fn wal_len(db: &std::path::Path) -> u64 {
        let wal = db.with_extension("db-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    /// With readers querying all the time (each a new snapshot inside the log), a
    /// passive checkpoint leaves the WAL file at its full size; a round past the mark
    /// empties it while the readers go on, and nothing written is lost.
    #[tokio::test]
    async fn a_round_past_the_mark_empties_the_wal_under_constant_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE filler (n INTEGER, b TEXT)")
            .execute(store.writer())
            .await
            .unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let (pool, stop) = (store.reader().clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM filler")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    reads += 1;
                }
                reads
            }));
        }
        for n in 0..300_i64 {
            sqlx::query("INSERT INTO filler (n, b) VALUES ($1, $2)")
                .bind(n)
                .bind("x".repeat(8_000))
                .execute(store.writer())
                .await
                .unwrap();
        }
        let grown = wal_len(&path);
        assert!(grown > 1_000_000, "the WAL holds the writes: {grown} bytes");

        let passive = round(store.reader(), i64::MAX).await.unwrap();
        assert!(!passive.truncated);
        assert!(
            wal_len(&path) >= grown,
            "a passive checkpoint never shrinks the file"
        );

        let emptied = round(store.reader(), 100).await.unwrap();
        assert!(emptied.frames > 100, "{emptied:?}");
        assert!(emptied.truncated, "{emptied:?}");
        assert_eq!(wal_len(&path), 0, "the WAL file was emptied");

        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.await.unwrap() > 0, "every reader ran throughout");
        }
        let (rows, sum): (i64, i64) = sqlx::query_as("SELECT COUNT(*), SUM(n) FROM filler")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(
            (rows, sum),
            (300, 299 * 300 / 2),
            "nothing written was lost"
        );
        // The connection that ran the round is back to the normal busy timeout.
        let mut timeouts = Vec::new();
        for _ in 0..4 {
            let t: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(store.reader())
                .await
                .unwrap();
            timeouts.push(t);
        }
        assert!(
            timeouts.iter().all(|t| *t == i64::from(BUSY_TIMEOUT_MS)),
            "{timeouts:?}"
        );
    }

    /// A round below the mark only copies: the log keeps its frames (the file is not
    /// emptied), and reports how many it held.
    #[tokio::test]
    async fn a_round_below_the_mark_only_copies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE filler (b TEXT)")
            .execute(store.writer())
            .await
            .unwrap();
        sqlx::query("INSERT INTO filler (b) VALUES ($1)")
            .bind("y".repeat(40_000))
            .execute(store.writer())
            .await
            .unwrap();
        let r = round(store.reader(), TRUNCATE_PAST_PAGES).await.unwrap();
        assert!(!r.truncated, "{r:?}");
        assert!(wal_len(&path) > 0, "the WAL file was kept");
    }
}
