//! The foreign key `records.chain → cursors` checked at commit, not after every
//! statement (issue 12).
//!
//! SQLite keeps a statement journal for every multi-row INSERT into a table with an
//! *immediate* foreign key: a copy of each page the statement changes, so that the
//! statement alone can be undone should the key fail. A batch of records touches a
//! page of each random-keyed index per record, so that journal was most of a batch's
//! cost: `save_confirmed_batch` wrote 46,370 records/s with it and 70,249–78,813/s with
//! the key deferred (`target/release/ingest --records 30000`, docs/BENCHMARKS.md). A
//! deferred key is still enforced — at `COMMIT`, which fails and rolls the whole
//! transaction back — so the store keeps the same guarantee; nothing writes records
//! outside a transaction whose failure undoes all of it.
//!
//! Changing the key must not rewrite the table (10^8 rows). On PostgreSQL that is
//! `ALTER TABLE … ALTER CONSTRAINT … DEFERRABLE INITIALLY DEFERRED`. SQLite has no such
//! statement; its documented procedure for constraint changes that leave the file format
//! alone ("Making Other Kinds Of Table Schema Changes", sqlite.org/lang_altertable.html)
//! rewrites the table's SQL text in `sqlite_schema` and bumps `schema_version`, in one
//! transaction. The two backends need different statements, so this runs after the
//! migrations rather than as one; it is idempotent and runs at every start.

use sqlx::{AnyConnection, AnyPool};

use super::Backend;
use crate::{RelayerError, Result};

/// The key as migration 0001 wrote it into `records`.
const IMMEDIATE: &str = "REFERENCES cursors (chain),";
/// The key after the change.
const DEFERRED: &str = "REFERENCES cursors (chain) DEFERRABLE INITIALLY DEFERRED,";

/// Makes `records.chain → cursors` deferred, if it is not yet. A failure (a SQLite
/// built in defensive mode refuses `writable_schema`, a schema changed by hand, a busy
/// file) is logged and the store opens with the key immediate: as correct, only slower
/// to write. The next open tries again.
pub(super) async fn defer_records_chain_key(writer: &AnyPool, backend: Backend) {
    let result = async {
        let mut conn = writer.acquire().await?;
        match backend {
            Backend::Sqlite => defer_sqlite(&mut conn).await,
            Backend::Postgres => defer_postgres(&mut conn).await,
        }
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(target: "relayer::store", error = %e,
            "could not make the foreign key records.chain -> cursors deferred; it stays checked per statement (correct, slower record writes)");
    }
}

/// The SQL text of `records` with its key deferred: `None` when it already is;
/// an error when the text holds the key other than exactly once.
fn deferred_sql(sql: &str) -> Result<Option<String>> {
    if sql.contains(DEFERRED) {
        return Ok(None);
    }
    if sql.matches(IMMEDIATE).count() != 1 {
        return Err(RelayerError::corrupt(format!(
            "the definition of table records does not name its key `{IMMEDIATE}` exactly once; \
             the store's schema was changed outside the bridge"
        )));
    }
    Ok(Some(sql.replacen(IMMEDIATE, DEFERRED, 1)))
}

async fn defer_sqlite(conn: &mut AnyConnection) -> Result<()> {
    let read = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'records'";
    let sql: String = sqlx::query_scalar(read).fetch_one(&mut *conn).await?;
    if deferred_sql(&sql)?.is_none() {
        return Ok(());
    }
    // BEGIN IMMEDIATE: another process migrating the same file waits here, then finds
    // the change made and does nothing.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let result = async {
        let sql: String = sqlx::query_scalar(read).fetch_one(&mut *conn).await?;
        let Some(new_sql) = deferred_sql(&sql)? else {
            return Ok(());
        };
        let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query("PRAGMA writable_schema = ON")
            .execute(&mut *conn)
            .await?;
        let updated = sqlx::query(
            "UPDATE sqlite_schema SET sql = $1 WHERE type = 'table' AND name = 'records'",
        )
        .bind(&new_sql)
        .execute(&mut *conn)
        .await;
        // PRAGMA takes no bound parameters; the version is an integer read above.
        sqlx::query(&format!("PRAGMA schema_version = {}", version + 1))
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA writable_schema = OFF")
            .execute(&mut *conn)
            .await?;
        updated?;
        Ok::<_, RelayerError>(())
    }
    .await;
    match result {
        Ok(()) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            tracing::info!(target: "relayer::store",
                "the foreign key records.chain -> cursors is now checked at commit (a schema text change, no rewrite)");
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

async fn defer_postgres(conn: &mut AnyConnection) -> Result<()> {
    // The key on records (chain) → cursors, whatever PostgreSQL named it.
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT c.conname::text, c.condeferred FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class p ON p.oid = c.confrelid
         WHERE c.contype = 'f' AND t.relname = 'records' AND p.relname = 'cursors'
           AND t.relnamespace = current_schema()::regnamespace",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, deferred)) = row else {
        return Err(RelayerError::corrupt(
            "table records has no foreign key to cursors; the store's schema was changed outside the bridge",
        ));
    };
    if deferred {
        return Ok(());
    }
    // The name comes from the catalog, quoted as an identifier.
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sqlx::query(&format!(
        "ALTER TABLE records ALTER CONSTRAINT {quoted} DEFERRABLE INITIALLY DEFERRED"
    ))
    .execute(&mut *conn)
    .await?;
    tracing::info!(target: "relayer::store",
        "the foreign key records.chain -> cursors is now checked at commit");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_rewritten_once_or_refused() {
        let old = "CREATE TABLE records (\n    chain TEXT NOT NULL REFERENCES cursors (chain),\n    x BIGINT)";
        let new = deferred_sql(old).unwrap().unwrap();
        assert_eq!(
            new,
            "CREATE TABLE records (\n    chain TEXT NOT NULL REFERENCES cursors (chain) DEFERRABLE INITIALLY DEFERRED,\n    x BIGINT)"
        );
        assert_eq!(deferred_sql(&new).unwrap(), None, "idempotent");
        assert!(deferred_sql("CREATE TABLE records (chain TEXT)").is_err());
        let twice = format!("{old} {IMMEDIATE}");
        assert!(deferred_sql(&twice).is_err());
    }
}
