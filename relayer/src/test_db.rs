//! Throw-away databases for tests: a fresh SQLite file or a fresh PostgreSQL database
//! (`CREATE DATABASE eb_<random>` on the server named by `EB_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`), dropped when the handle drops.
//!
//! A PostgreSQL test never skips: when the server does not answer, creating the
//! database panics with a message saying how to start it.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use sqlx::{Connection, Executor, postgres::PgConnection};

/// The server used when `EB_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// A fresh database; dropped (PostgreSQL) or deleted (SQLite) on drop.
#[derive(Debug)]
pub struct TestDb {
    /// The sqlx URL of the database.
    pub url: String,
    backend: TestBackend,
    admin_url: String,
    name: String,
    _dir: Option<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A directory removed on drop (no dependency on `tempfile` in the library).
    #[derive(Debug)]
    pub(super) struct Dir(pub(super) std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The test server's URL (`EB_TEST_POSTGRES_URL` or the default).
pub fn postgres_admin_url() -> String {
    std::env::var("EB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{name}{query}", &base[..host_end])
}

impl TestDb {
    /// A fresh database of `backend`.
    ///
    /// # Panics
    /// When PostgreSQL is not reachable (with instructions), or the database cannot be
    /// created.
    #[allow(clippy::panic)]
    pub async fn create(backend: TestBackend) -> Self {
        let name = format!("eb_{}", unique_suffix());
        match backend {
            TestBackend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                if let Err(e) = std::fs::create_dir_all(&dir) {
                    panic!("cannot create {}: {e}", dir.display());
                }
                Self {
                    url: format!("sqlite://{}?mode=rwc", dir.join("relayer.db").display()),
                    backend,
                    admin_url: String::new(),
                    name,
                    _dir: Some(tempfile_dir::Dir(dir)),
                }
            }
            TestBackend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut admin = match PgConnection::connect(&admin_url).await {
                    Ok(c) => c,
                    Err(e) => panic!(
                        "PostgreSQL tests need a server at {admin_url} (set EB_TEST_POSTGRES_URL to use another), \
                         but connecting failed: {e}. Start it, e.g. \
                         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
                         or run deploy/scripts/test.sh which does so"
                    ),
                };
                if let Err(e) = admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                {
                    panic!("cannot create test database {name} on {admin_url}: {e}");
                }
                let _ = admin.close().await;
                Self {
                    url: with_database(&admin_url, &name),
                    backend,
                    admin_url,
                    name,
                    _dir: None,
                }
            }
        }
    }

    /// The backend.
    pub fn backend(&self) -> TestBackend {
        self.backend
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend != TestBackend::Postgres {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// The record id of leaf `i` in [`insert_untiled`]'s records: `i + 1`, big-endian
/// (ascending ids keep the bulk insert's index updates appends).
pub fn untiled_id(i: u64) -> alloy::primitives::B256 {
    alloy::primitives::B256::left_padding_from(&(i + 1).to_be_bytes())
}

/// Inserts logged records `from..to` of `chain` (leaf `i` has record id
/// [`untiled_id`]`(i)`) the way a store from before stored tiles holds them: records
/// and the cursor's log size, no tiles. The chain's cursor must exist. Raw SQL on the
/// store's schema, for tests of the tile migration.
///
/// # Panics
/// If the database refuses the rows.
#[allow(clippy::expect_used)] // a test helper: a failure is the test's failure
pub async fn insert_untiled(url: &str, chain: &evidence_schemas::ChainId, from: u64, to: u64) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("the test database opens");
    let mut tx = pool.begin().await.expect("a transaction");
    let leaves: Vec<u64> = (from..to).collect();
    for chunk in leaves.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO records (record_id, chain, leaf_index, status, block_number, block_hash, tx_index,
             log_index, action, digest, digest_alg, submitter, record, created_at) VALUES ",
        );
        for (i, leaf) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "('{:#x}', $1, {leaf}, 'logged', 0, '{:#x}', 0, {leaf}, 'anchor', '{:#x}', 'sha256', '0x{}', '{{}}', 0)",
                untiled_id(*leaf),
                alloy::primitives::B256::with_last_byte(1),
                untiled_id(leaf + (1 << 40)),
                "11".repeat(20)
            ));
        }
        sqlx::query(&sql)
            .bind(chain.as_str())
            .execute(&mut *tx)
            .await
            .expect("records insert");
    }
    sqlx::query("UPDATE cursors SET log_size = $2 WHERE chain = $1")
        .bind(chain.as_str())
        .bind(i64::try_from(to).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .expect("cursor update");
    tx.commit().await.expect("commit");
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "eb_1"),
            "postgres://postgres@127.0.0.1:5432/eb_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "eb_2"),
            "postgres://u:p@h/eb_2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "eb_3"), "postgres://h/eb_3");
    }
}
