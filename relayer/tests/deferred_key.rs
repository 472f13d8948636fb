//! The foreign key `records.chain → cursors` is checked at commit
//! (relayer/src/store/deferred_fk.rs): a new store has it deferred; a store whose key is
//! still immediate (every store before this change) gets it deferred when it is opened,
//! without losing a row; and the key is still enforced — a record of a chain with no
//! cursor fails the commit and leaves nothing behind. On both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use common::source_id;
use evidence_relayer::{
    Store,
    test_db::{TestBackend, TestDb},
};
use sqlx::{AnyPool, Connection as _};

async fn raw(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // SQLite checks foreign keys only when asked (the store's connections
                // ask); PostgreSQL always does.
                if conn.backend_name() == "SQLite" {
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .unwrap()
}

async fn key_is_deferred(pool: &AnyPool, backend: TestBackend) -> bool {
    match backend {
        TestBackend::Sqlite => {
            let sql: String = sqlx::query_scalar(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'records'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            sql.contains("REFERENCES cursors (chain) DEFERRABLE INITIALLY DEFERRED,")
        }
        TestBackend::Postgres => sqlx::query_scalar(
            "SELECT c.condeferred FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                 WHERE c.contype = 'f' AND t.relname = 'records'",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
    }
}

/// Replaces `from` with `to` in the SQL text SQLite keeps of table `records`, the way
/// the store itself changes it (writable schema, schema version bumped).
async fn edit_sqlite_records_sql(pool: &AnyPool, from: &str, to: &str) {
    let mut conn = pool.acquire().await.unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("PRAGMA writable_schema = ON")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("UPDATE sqlite_schema SET sql = replace(sql, $1, $2) WHERE type = 'table' AND name = 'records'")
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await
        .unwrap();
    for sql in [
        format!("PRAGMA schema_version = {}", version + 1),
        "PRAGMA writable_schema = OFF".to_owned(),
        "COMMIT".to_owned(),
    ] {
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
}

/// Puts the key back as migration 0001 created it: a store from before the change.
async fn make_key_immediate(pool: &AnyPool, backend: TestBackend) {
    match backend {
        TestBackend::Sqlite => {
            edit_sqlite_records_sql(pool, " DEFERRABLE INITIALLY DEFERRED", "").await;
        }
        TestBackend::Postgres => {
            sqlx::query("ALTER TABLE records ALTER CONSTRAINT records_chain_fkey NOT DEFERRABLE")
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

/// Inserts a pending record row of `chain` in its own transaction.
async fn insert_row(pool: &AnyPool, chain: &str, n: u8) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO records (record_id, chain, status, block_number, block_hash, tx_index, log_index,
             action, digest, digest_alg, submitter, record, created_at)
         VALUES ($1, $2, 'pending', 1, $3, 0, $4, 'anchor', $5, 'sha256', $6, '', 0)",
    )
    .bind(format!("0x{}", format!("{n:02x}").repeat(32)))
    .bind(chain)
    .bind(format!("0x{}", "b1".repeat(32)))
    .bind(i64::from(n))
    .bind(format!("0x{}", "d0".repeat(32)))
    .bind(format!("0x{}", "5e".repeat(20)))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

async fn rows(pool: &AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM records")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn the_records_key_is_deferred_and_enforced(backend: TestBackend) {
    let db = TestDb::create(backend).await;
    let chain = source_id();
    let store = Store::connect(&db.url).await.unwrap();
    store.save_cursor_init(&chain, "source", 0).await.unwrap();
    store.close().await;
    let pool = raw(&db.url).await;
    assert!(key_is_deferred(&pool, backend).await, "a new store");

    // A store from before the change, holding a record.
    make_key_immediate(&pool, backend).await;
    assert!(!key_is_deferred(&pool, backend).await);
    insert_row(&pool, chain.as_str(), 1).await.unwrap();
    pool.close().await;

    let store = Store::connect(&db.url).await.unwrap();
    let view = store.count_records(&chain).await.unwrap();
    assert_eq!(view, 1, "the record survives the change");
    store.close().await;
    let pool = raw(&db.url).await;
    assert!(
        key_is_deferred(&pool, backend).await,
        "opened once: deferred"
    );

    // Opening it again changes nothing.
    Store::connect(&db.url).await.unwrap().close().await;
    assert!(key_is_deferred(&pool, backend).await);

    // Still enforced, at commit: a record of a chain without a cursor is refused whole.
    let err = insert_row(&pool, "eip155:999999", 2).await.unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("foreign key"),
        "{err}"
    );
    assert_eq!(
        rows(&pool).await,
        1,
        "nothing of the refused transaction stays"
    );
    insert_row(&pool, chain.as_str(), 3).await.unwrap();
    assert_eq!(rows(&pool).await, 2);

    if backend == TestBackend::Sqlite {
        // A key whose text was changed by hand is left alone, and the store opens.
        edit_sqlite_records_sql(
            &pool,
            "REFERENCES cursors (chain) DEFERRABLE INITIALLY DEFERRED,",
            "REFERENCES cursors(chain),",
        )
        .await;
        let store = Store::connect(&db.url).await.unwrap();
        assert_eq!(store.count_records(&chain).await.unwrap(), 2);
        store.close().await;
        assert!(!key_is_deferred(&pool, backend).await, "left as it was");
        let err = insert_row(&pool, "eip155:999999", 4).await.unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("foreign key"),
            "{err}"
        );
        assert_eq!(rows(&pool).await, 2);
    }
    pool.close().await;
}

both_backends!(the_records_key_is_deferred_and_enforced);
