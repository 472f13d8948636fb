//! The relayer's store: SQLite through sqlx, one file, WAL.
//!
//! Every stage keeps its state here and every state transition is one transaction, so
//! a process killed between any two steps resumes from what is stored. The SQL is
//! written to run unchanged on PostgreSQL later (`$n` placeholders, BIGINT and TEXT
//! columns, hashes as 0x-hex text, `ON CONFLICT` upserts).
//!
//! Naming: reads are `load_*`/`query_*`, writes `insert_*`/`save_*`/`mark_*`.

mod alarms;
mod chain;
pub(crate) mod checkpoints;
mod submissions;

use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::primitives::{Address, B256};
use evidence_schemas::ChainId;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use alarms::{Alarm, AlarmKind, AlarmView};
pub use chain::{Cursor, LoggedBatch, PendingBlock};
pub use submissions::{Submission, SubmissionPayload, SubmissionState};

use crate::{RelayerError, Result};

/// The migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A route: checkpoints of `source` mirrored onto `destination`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    /// Source chain.
    pub source: ChainId,
    /// Destination chain.
    pub destination: ChainId,
}

impl Route {
    /// A route from `source` to `destination`.
    pub fn new(source: ChainId, destination: ChainId) -> Self {
        Self {
            source,
            destination,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.source, self.destination)
    }
}

/// Handle to the relayer database. Cheap to clone.
///
/// SQLite allows one writer at a time, so writes go through a one-connection pool
/// (no `SQLITE_BUSY` between our own tasks) and reads through a separate pool.
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl Store {
    /// Opens (creating with `?mode=rwc`) the database at `url`, e.g.
    /// `sqlite:///var/lib/bridge/relayer.db?mode=rwc`, and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = Self::options(url)?;
        let in_memory = is_in_memory(url);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        // An in-memory database exists per connection: share the one.
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?
        };
        Ok(Self { writer, reader })
    }

    /// Opens an existing database for reading only (the CLI's `lookup`, `status`, …,
    /// while `bridge run` writes). Fails if the schema is not up to date.
    pub async fn connect_read_only(url: &str) -> Result<Self> {
        let options = Self::options(url)?.read_only(true).create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .map_err(|e| {
                RelayerError::Config(format!(
                    "{url} is not a relayer database (or was never migrated): {e}; run `bridge run` once to create it"
                ))
            })?;
        let known = MIGRATOR.iter().count() as i64;
        if applied < known {
            return Err(RelayerError::Config(format!(
                "{url} has {applied} of {known} migrations applied; start `bridge run` once to upgrade it"
            )));
        }
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
        })
    }

    fn options(url: &str) -> Result<SqliteConnectOptions> {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| {
            RelayerError::Config(format!(
                "bad database URL {url:?}: {e} (expected e.g. sqlite://relayer.db?mode=rwc)"
            ))
        })?;
        Ok(options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10)))
    }

    /// Closes both pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

// ---- column codecs ------------------------------------------------------------------

pub(crate) fn hex32(value: &B256) -> String {
    format!("{value:#x}")
}

pub(crate) fn hex_addr(value: &Address) -> String {
    format!("{value:#x}")
}

pub(crate) fn parse_b256(column: &str, value: &str) -> Result<B256> {
    B256::from_str(value).map_err(|e| {
        RelayerError::corrupt(format!(
            "column {column}: {value:?} is not a 32-byte hash: {e}"
        ))
    })
}

pub(crate) fn parse_address(column: &str, value: &str) -> Result<Address> {
    Address::from_str(value).map_err(|e| {
        RelayerError::corrupt(format!("column {column}: {value:?} is not an address: {e}"))
    })
}

pub(crate) fn parse_chain(value: &str) -> Result<ChainId> {
    ChainId::parse(value).map_err(|e| RelayerError::corrupt(format!("stored chain id: {e}")))
}

/// u64 → BIGINT. Block numbers, sizes and nonces stay far below 2^63.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// BIGINT → u64 (negative values never stored).
pub(crate) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connects_migrates_and_reopens_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        let chain = ChainId::eip155(1);
        store.save_cursor_init(&chain, "one", 7).await.unwrap();
        store.save_cursor_init(&chain, "renamed", 99).await.unwrap();
        let cursor = store.load_cursor(&chain).await.unwrap().unwrap();
        assert_eq!(
            (cursor.name.as_str(), cursor.next_block, cursor.log_size),
            ("renamed", 7, 0)
        );
        let ro = Store::connect_read_only(&url).await.unwrap();
        assert_eq!(ro.load_cursors().await.unwrap().len(), 1);
        assert!(
            ro.save_head(&chain, 5).await.is_err(),
            "read-only store must refuse writes"
        );
        // Reopening runs no migration twice.
        drop(store);
        Store::connect(&url).await.unwrap();
        let missing = format!("sqlite://{}", dir.path().join("none.db").display());
        assert!(Store::connect_read_only(&missing).await.is_err());
    }

    #[test]
    fn hex_codecs_round_trip() {
        let h = B256::repeat_byte(0xab);
        assert_eq!(parse_b256("x", &hex32(&h)).unwrap(), h);
        assert!(hex32(&h).starts_with("0xabab"));
        assert!(parse_b256("x", "nope").is_err());
    }
}
