//! The relayer's store: SQLite (one file, WAL) or PostgreSQL, through sqlx's `Any`
//! driver, chosen by the URL scheme (`sqlite:` / `postgres:`).
//!
//! Every stage keeps its state here and every state transition is one transaction, so
//! a process killed between any two steps resumes from what is stored. The SQL runs
//! unchanged on both databases (`$n` placeholders, BIGINT and TEXT columns, hashes as
//! 0x-hex text, `ON CONFLICT` upserts); the same migrations create both schemas.
//!
//! Several instances may share one PostgreSQL database: work is split through leases
//! ([`leases`](self::leases)), and a [`Store::fenced`] handle makes the writes that
//! matter check, in their own transaction, that the lease is still held.
//!
//! Naming: reads are `load_*`/`query_*`, writes `insert_*`/`save_*`/`mark_*`.

mod alarms;
mod chain;
pub(crate) mod checkpoints;
mod deferred_fk;
pub mod leases;
pub(crate) mod mirrors;
pub(crate) mod records;
mod records_pg;
mod submissions;
mod tiles;
mod timestamps;
mod version;
mod wal;

use std::{
    fmt,
    str::FromStr,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::primitives::{Address, B256};
use evidence_schemas::ChainId;
use sqlx::{
    AnyConnection, AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
};

pub use alarms::{Alarm, AlarmKind, AlarmView};
pub use chain::{Cursor, LoggedBatch, PendingBlock};
pub use checkpoints::RangeNews;
pub use leases::{Fence, Lease};
pub use submissions::{Submission, SubmissionPayload, SubmissionState};
pub use tiles::TileProgress;
pub(crate) use timestamps::timestamp_from_row;
pub use timestamps::{NewTimestamp, TIMESTAMP_WINDOW, TimestampFailure};
pub use version::DataVersion;

use crate::{RelayerError, Result};

/// The migrations, embedded at compile time (the same files for SQLite and PostgreSQL).
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

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one file, one writer.
    Sqlite,
    /// PostgreSQL: may be shared by several instances.
    Postgres,
}

impl Backend {
    /// The backend a database URL selects.
    pub fn of_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(RelayerError::Config(format!(
                "bad database URL {:?}: the scheme must be `sqlite:` (e.g. sqlite://bridge.sqlite?mode=rwc) \
                 or `postgres:` (e.g. postgres://bridge@db.example/bridge)",
                redact(url)
            ))),
        }
    }
}

/// Handle to the relayer database. Cheap to clone.
///
/// On SQLite, writes go through a one-connection pool (one writer at a time, so no
/// `SQLITE_BUSY` between our own tasks) and reads through a separate pool; on
/// PostgreSQL one ordinary pool serves both.
#[derive(Debug, Clone)]
pub struct Store {
    writer: AnyPool,
    reader: AnyPool,
    backend: Backend,
    fence: Option<Arc<Fence>>,
    /// This process's cache of the mirrors list (lookups), shared by every clone.
    mirrors: Arc<mirrors::MirrorsCache>,
    /// The data-version reader of a SQLite file ([`Store::data_version`]).
    version: Option<Arc<version::VersionWatch>>,
    /// Held by every handle of a store whose WAL this process checkpoints; the
    /// checkpointer stops when the last handle is dropped.
    _checkpointer: Option<Arc<()>>,
}

impl Store {
    /// Opens the database at `url` and runs the migrations: SQLite (created with
    /// `?mode=rwc`), e.g. `sqlite:///var/lib/bridge/relayer.db?mode=rwc`, or
    /// PostgreSQL, e.g. `postgres://bridge@127.0.0.1:5432/bridge`.
    pub async fn connect(url: &str) -> Result<Self> {
        let backend = Backend::of_url(url)?;
        install_default_drivers();
        let store = match backend {
            Backend::Sqlite => {
                let writer = sqlite_pool(1, SqliteRole::Writer, WRITER_CACHE_KIB)
                    .min_connections(1)
                    .connect(url)
                    .await
                    .map_err(|e| connect_error(url, e))?;
                migrate_sqlite(&writer).await?;
                deferred_fk::defer_records_chain_key(&writer, backend).await;
                // An in-memory database exists per connection: share the one.
                let (reader, checkpointer) = if is_in_memory(url) {
                    (writer.clone(), None)
                } else {
                    let reader = sqlite_pool(4, SqliteRole::Reader, READER_CACHE_KIB)
                        .connect(url)
                        .await
                        .map_err(|e| connect_error(url, e))?;
                    // The checkpointer has a connection of its own: a TRUNCATE round
                    // may wait for readers (up to 2 s), and must not hold one of the
                    // four the API and the stages read through meanwhile.
                    let checkpointer = sqlite_pool(1, SqliteRole::Reader, READER_CACHE_KIB)
                        .connect(url)
                        .await
                        .map_err(|e| connect_error(url, e))?;
                    let alive = Arc::new(());
                    wal::spawn_checkpointer(checkpointer, Arc::downgrade(&alive));
                    (reader, Some(alive))
                };
                Self {
                    writer,
                    reader,
                    backend,
                    fence: None,
                    mirrors: Arc::default(),
                    version: sqlite_version_watch(url),
                    _checkpointer: checkpointer,
                }
            }
            Backend::Postgres => {
                probe_postgres(url).await?;
                let pool = AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await
                    .map_err(|e| connect_error(url, e))?;
                // Several instances may start at once: sqlx takes an advisory lock
                // around the migrations on PostgreSQL.
                MIGRATOR.run(&pool).await?;
                deferred_fk::defer_records_chain_key(&pool, backend).await;
                Self {
                    writer: pool.clone(),
                    reader: pool,
                    backend,
                    fence: None,
                    mirrors: Arc::default(),
                    version: None,
                    _checkpointer: None,
                }
            }
        };
        Ok(store)
    }

    /// Opens an existing database for reading only (the CLI's `lookup`, `status`, …,
    /// while `bridge run` writes). Runs no migration; fails if the schema is not up
    /// to date.
    pub async fn connect_read_only(url: &str) -> Result<Self> {
        let backend = Backend::of_url(url)?;
        install_default_drivers();
        let pool = match backend {
            Backend::Sqlite => sqlite_pool(4, SqliteRole::ReadOnly, READER_CACHE_KIB)
                .connect(&sqlite_read_only_url(url))
                .await
                .map_err(|e| connect_error(url, e))?,
            Backend::Postgres => {
                probe_postgres(url).await?;
                AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET default_transaction_read_only = on")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(|e| connect_error(url, e))?
            }
        };
        let shown = redact(url);
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .map_err(|e| {
                RelayerError::Config(format!(
                    "{shown} is not a relayer database (or was never migrated): {e}; run `bridge run` once to create it"
                ))
            })?;
        let known = MIGRATOR.iter().count() as i64;
        if applied < known {
            return Err(RelayerError::Config(format!(
                "{shown} has {applied} of {known} migrations applied; start `bridge run` once to upgrade it"
            )));
        }
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            backend,
            fence: None,
            mirrors: Arc::default(),
            version: match backend {
                Backend::Sqlite => sqlite_version_watch(url),
                Backend::Postgres => None,
            },
            _checkpointer: None,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A handle whose fenced writes (cursor moves, logging, submissions) first check,
    /// in the same transaction, that `fence`'s lease is still held with its epoch, and
    /// fail with [`RelayerError::LeaseLost`] otherwise.
    pub fn fenced(&self, fence: Fence) -> Self {
        Self {
            fence: Some(Arc::new(fence)),
            ..self.clone()
        }
    }

    /// Closes both pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// The store's data version: equal readings mean nothing was committed in between,
    /// by any process (see [`DataVersion`] for how to cache with it). `None` on
    /// PostgreSQL and on an in-memory SQLite database, and when it cannot be read:
    /// then nothing may be cached.
    pub async fn data_version(&self) -> Option<DataVersion> {
        match &self.version {
            Some(watch) => watch.read().await,
            None => None,
        }
    }

    pub(crate) fn mirrors_cache(&self) -> &mirrors::MirrorsCache {
        &self.mirrors
    }

    /// Begins a write transaction and checks the fence, if this handle has one.
    pub(crate) async fn begin_fenced(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.writer.begin().await?;
        if let Some(fence) = &self.fence {
            leases::check_fence(&mut tx, fence).await?;
        }
        Ok(tx)
    }
}

/// Runs the migrations on a SQLite file. sqlx takes no lock there (it does on
/// PostgreSQL), so two processes opening one new file at once — `bridge run` and a
/// `bridge status` beside it — both start migrating it, and the second's first
/// `CREATE TABLE` fails once the first's transaction commits. Each migration is one
/// transaction, so the failed one left nothing behind: run again, the second finds the
/// first's migrations applied and skips them. Only a failing statement is retried (a
/// changed or unknown migration fails at once), a few times at most.
async fn migrate_sqlite(writer: &AnyPool) -> Result<()> {
    const ATTEMPTS: u32 = 10;
    let mut attempt = 1;
    loop {
        match MIGRATOR.run(writer).await {
            Ok(()) => return Ok(()),
            Err(
                e @ (sqlx::migrate::MigrateError::Execute(_)
                | sqlx::migrate::MigrateError::ExecuteMigration(..)),
            ) if attempt < ATTEMPTS => {
                tracing::debug!(target: "relayer::store", attempt, error = %e,
                    "migration failed, most likely beside another process migrating the same file; running it again");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// SQLite page cache of the writer connection, KiB. SQLite's default (2 MiB) holds a
/// few thousand pages: once the record indexes keyed by random hashes (record id,
/// digest) outgrow it, every insert reads its index pages back from the file. 64 MiB
/// keeps the upper levels of those indexes cached into the tens of millions of records.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// Which connections of a SQLite store a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteRole {
    /// The one writer.
    Writer,
    /// Readers of a store this process writes (they run the WAL checkpoints).
    Reader,
    /// Readers of a store opened read-only.
    ReadOnly,
}

/// How long a SQLite connection waits for a lock before it fails busy, ms (the CLI
/// reading while `bridge run` writes, the writer behind a checkpoint).
pub(super) const BUSY_TIMEOUT_MS: u32 = 10_000;

/// SQLite page cache of each reader connection, KiB (SQLite's default).
const READER_CACHE_KIB: i64 = 2 * 1024;

/// A SQLite pool. No ping before handing a connection out (sqlx's default): a local
/// file has no link to test, and the ping is a round trip to the connection's worker
/// thread on every acquire.
fn sqlite_pool(max: u32, role: SqliteRole, cache_kib: i64) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .after_connect(move |conn, _| Box::pin(sqlite_pragmas(conn, role, cache_kib)))
}

/// Per-connection SQLite settings: WAL (a property of the file, set by the writer) and
/// in-memory statement journals for the writer,
/// synchronous=NORMAL (durable at every checkpoint of the WAL, fast commits), a busy
/// timeout for the CLI reading while `bridge run` writes, foreign keys, and the page
/// cache size.
async fn sqlite_pragmas(
    conn: &mut AnyConnection,
    role: SqliteRole,
    cache_kib: i64,
) -> sqlx::Result<()> {
    if role == SqliteRole::Writer {
        // The WAL is copied into the file by the store's checkpointer, on a reader
        // connection (its own thread), not by the writer at the end of a commit
        // (perf: `sqlite3WalDefaultHook` → `walCheckpoint`, an eighth of the writer
        // thread during ingest). The writer still checkpoints past
        // WRITER_AUTOCHECKPOINT_PAGES, should the checkpointer fall behind.
        conn.execute(
            format!(
                "PRAGMA wal_autocheckpoint = {}",
                wal::WRITER_AUTOCHECKPOINT_PAGES
            )
            .as_str(),
        )
        .await?;
        // When the writer starts the WAL over, it cuts the file back to this size
        // (without it, the file keeps the largest size it ever reached).
        conn.execute(
            format!(
                "PRAGMA journal_size_limit = {}",
                wal::JOURNAL_SIZE_LIMIT_BYTES
            )
            .as_str(),
        )
        .await?;
    }
    if role != SqliteRole::ReadOnly {
        conn.execute("PRAGMA journal_mode = WAL").await?;
        // The writer's statement journals in memory: a multi-row INSERT inside a
        // transaction keeps one (to undo just that statement on a constraint error),
        // and SQLite spills it to a temporary file past 64 KiB, so every batch of
        // records was written twice to disk (perf: `subjournalPageIfRequired` →
        // `pwrite`). Batches are bounded (FetchSpan), so is this journal. A future
        // migration that builds an index over a large `records` table would sort in
        // memory too: such a migration should set `temp_store = FILE` first.
        conn.execute("PRAGMA temp_store = MEMORY").await?;
    }
    for pragma in ["PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"] {
        conn.execute(pragma).await?;
    }
    conn.execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
        .await?;
    // A negative cache_size is in KiB.
    conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str())
        .await?;
    Ok(())
}

/// The SQLite URL with `mode=ro` instead of any other mode.
fn sqlite_read_only_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=ro");
    format!("{base}?{}", params.join("&"))
}

/// How long the first connection to PostgreSQL may take.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One direct connection before the pool is built: the pool retries a refused
/// connection until its acquire timeout and then reports only "pool timed out", while
/// this reports the cause (connection refused, unknown host, bad password) at once.
async fn probe_postgres(url: &str) -> Result<()> {
    use sqlx::Connection as _;
    match tokio::time::timeout(PG_CONNECT_TIMEOUT, AnyConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(connect_error(url, e)),
        Err(_) => Err(RelayerError::Config(format!(
            "cannot open database {}: no answer within {} s; check the host and port, and that no firewall drops the connection",
            redact(url),
            PG_CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn connect_error(url: &str, e: sqlx::Error) -> RelayerError {
    let hint = match Backend::of_url(url) {
        Ok(Backend::Postgres) => {
            "check that PostgreSQL is running and reachable, the database exists and the user may log in"
        }
        _ => "check the path exists and is writable (add ?mode=rwc to create the file)",
    };
    RelayerError::Config(format!("cannot open database {}: {e}; {hint}", redact(url)))
}

/// The URL without a password, for messages (the one rule of
/// [`evidence_adapters::redact`]: user, host and database stay, secrets go).
pub fn redact(url: &str) -> String {
    evidence_adapters::redact::redact_url(url)
}

/// The data-version watch of the SQLite file at `url`; none for an in-memory database
/// (another connection would open another database).
fn sqlite_version_watch(url: &str) -> Option<Arc<version::VersionWatch>> {
    (!is_in_memory(url)).then(|| Arc::new(version::VersionWatch::new(sqlite_read_only_url(url))))
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

    /// The WAL reaches the database file through the checkpointer, not only when the
    /// writer passes its (now high) auto-checkpoint mark; and a write transaction
    /// whose statement fails leaves nothing (`INSERT OR FAIL` keeps no statement
    /// journal: the transaction is what undoes it).
    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await.unwrap();
        tokio::time::sleep(wal::CHECKPOINT_INTERVAL * 3).await;
        let before = std::fs::metadata(&path).unwrap().len();
        sqlx::query("CREATE TABLE filler (b TEXT)")
            .execute(store.writer())
            .await
            .unwrap();
        for _ in 0..50 {
            sqlx::query("INSERT INTO filler (b) VALUES ($1)")
                .bind("x".repeat(20_000))
                .execute(store.writer())
                .await
                .unwrap();
        }
        // About 1 MB, far below the writer's own mark (64 MB): only the checkpointer
        // moves it into the file.
        let mut grown = 0;
        for _ in 0..40 {
            tokio::time::sleep(wal::CHECKPOINT_INTERVAL).await;
            grown = std::fs::metadata(&path).unwrap().len();
            if grown >= before + 1_000_000 {
                break;
            }
        }
        assert!(
            grown >= before + 1_000_000,
            "database file {before} -> {grown} bytes: the WAL was not checkpointed"
        );

        // A failing multi-row statement in a transaction: the transaction rolls back.
        let mut tx = store.writer().begin().await.unwrap();
        sqlx::query("CREATE UNIQUE INDEX filler_b ON filler (b)")
            .execute(&mut *tx)
            .await
            .unwrap_err(); // 50 equal rows
        sqlx::query("CREATE TABLE uniq (k TEXT PRIMARY KEY)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT OR FAIL INTO uniq (k) VALUES ('a'), ('b'), ('a')")
            .execute(&mut *tx)
            .await
            .unwrap_err();
        drop(tx);
        let tables: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'uniq'")
                .fetch_one(store.reader())
                .await
                .unwrap();
        assert_eq!(tables, 0, "the failed transaction left nothing");
    }

    /// Two processes opening the same new SQLite file at once (`bridge run` and a
    /// `bridge status` beside it) both migrate it; sqlx takes no lock on SQLite, so the
    /// second used to fail on a table the first had just created ("table cursors
    /// already exists").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_opening_one_new_file_at_once_both_migrate_it() {
        for round in 0..8 {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
            let (a, b, c) = tokio::join!(
                Store::connect(&url),
                Store::connect(&url),
                Store::connect(&url)
            );
            for (n, s) in [a, b, c].into_iter().enumerate() {
                let s = s.unwrap_or_else(|e| panic!("round {round}, store {n}: {e}"));
                assert!(s.load_cursors().await.unwrap().is_empty());
            }
            let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(Store::connect(&url).await.unwrap().reader())
                .await
                .unwrap();
            assert_eq!(applied, MIGRATOR.iter().count() as i64);
        }
    }

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
