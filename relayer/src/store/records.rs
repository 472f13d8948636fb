//! The `records` table's row codec: records are written as columns only (migration
//! `0030_record_columns.sql`: no JSON copy in the hot table) and rebuilt from them.
//!
//! A row written before that migration still holds the record as JSON in `record`
//! (and NULL in the columns it added); it is read from the JSON. A row rebuilt from
//! its columns must hash to its `record_id`, or the read fails as corrupt.

use std::collections::BTreeMap;

use alloy::primitives::B256;
use evidence_adapters::SourcedRecord;
use evidence_schemas::{
    Action, Evidence, EvidenceRecord, Label, SourceLocator, record::RECORD_VERSION,
};
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{Backend, hex_addr, hex32, int, parse_address, parse_b256, parse_chain, uint};
use crate::{RelayerError, Result};

/// Records per multi-row INSERT ([`RECORD_COLUMNS`] parameters each).
const INSERT_CHUNK: usize = 100;

/// Columns of one record row in that INSERT.
const RECORD_COLUMNS: usize = 22;

/// Block rows per multi-row upsert (4 parameters each).
const BLOCK_CHUNK: usize = 500;

/// The condition selecting round-trip receipts, written out as a literal so the
/// partial index `records_receipts` (migration 0030) applies: a planner can match a
/// partial index's condition only against literal text, not a bound parameter.
pub(crate) const RECEIPTS_ONLY: &str = "adapter = 'bridge-receipts'";

/// The columns [`record_from_row`] reads, with a table prefix (`r.`, `h.` or none).
macro_rules! record_columns {
    ($p:literal) => {
        concat!(
            $p,
            "record, ",
            $p,
            "record_id, ",
            $p,
            "chain, ",
            $p,
            "adapter, ",
            $p,
            "contract, ",
            $p,
            "block_number, ",
            $p,
            "block_hash, ",
            $p,
            "tx_hash, ",
            $p,
            "tx_index, ",
            $p,
            "log_index, ",
            $p,
            "block_time, ",
            $p,
            "action, ",
            $p,
            "ref_id, ",
            $p,
            "digest_alg, ",
            $p,
            "digest, ",
            $p,
            "kind, ",
            $p,
            "submitter, ",
            $p,
            "metadata"
        )
    };
}
pub(crate) use record_columns;

/// The record of a row holding [`record_columns!`], and its id.
pub(crate) fn record_from_row(row: &AnyRow) -> Result<(B256, EvidenceRecord)> {
    let record_id = parse_b256("records.record_id", row.try_get("record_id")?)?;
    let json: String = row.try_get("record")?;
    if !json.is_empty() {
        let record = serde_json::from_str(&json)
            .map_err(|e| RelayerError::corrupt(format!("records.record: {e}")))?;
        return Ok((record_id, record));
    }
    let text = |column: &str| -> Result<String> {
        row.try_get::<Option<String>, _>(column)?.ok_or_else(|| {
            RelayerError::corrupt(format!(
                "records.{column} of {record_id} is empty and the row has no JSON copy"
            ))
        })
    };
    let hash =
        |column: &str| -> Result<B256> { parse_b256(&format!("records.{column}"), &text(column)?) };
    let label = |column: &'static str| -> Result<Label> {
        Label::parse(column, &text(column)?)
            .map_err(|e| RelayerError::corrupt(format!("records.{column}: {e}")))
    };
    let action = match text("action")?.as_str() {
        "anchor" => Action::Anchor,
        "revoke" => Action::Revoke,
        other => {
            return Err(RelayerError::corrupt(format!(
                "records.action of {record_id}: {other:?} is neither anchor nor revoke"
            )));
        }
    };
    let reference: Option<String> = row.try_get("ref_id")?;
    let block_time: Option<i64> = row.try_get("block_time")?;
    let record = EvidenceRecord {
        version: RECORD_VERSION,
        source: SourceLocator {
            chain: parse_chain(&text("chain")?)?,
            adapter: label("adapter")?,
            contract: parse_address("records.contract", &text("contract")?)?,
            block_number: uint(row.try_get("block_number")?),
            block_hash: hash("block_hash")?,
            tx_hash: hash("tx_hash")?,
            tx_index: uint(row.try_get("tx_index")?),
            log_index: uint(row.try_get("log_index")?),
            block_timestamp: block_time.map(uint).ok_or_else(|| {
                RelayerError::corrupt(format!("records.block_time of {record_id} is empty"))
            })?,
        },
        action,
        reference: reference
            .map(|r| parse_b256("records.ref_id", &r))
            .transpose()?,
        evidence: Evidence {
            digest_alg: text("digest_alg")?
                .parse()
                .map_err(|e| RelayerError::corrupt(format!("records.digest_alg: {e}")))?,
            digest: hash("digest")?,
            kind: label("kind")?,
            submitter: parse_address("records.submitter", &text("submitter")?)?,
            metadata: hash("metadata")?,
        },
    };
    if record.record_id() != record_id {
        return Err(RelayerError::corrupt(format!(
            "the columns of record {record_id} rebuild a record with id {} (a column was changed)",
            record.record_id()
        )));
    }
    Ok((record_id, record))
}

pub(crate) fn action_text(action: Action) -> &'static str {
    match action {
        Action::Anchor => "anchor",
        Action::Revoke => "revoke",
    }
}

/// `rows` groups of `cols` placeholders, `(…), (…)`: anonymous `?` on SQLite, `$n` on
/// PostgreSQL (sqlx's QueryBuilder emits `?` for the Any driver, which PostgreSQL
/// refuses). SQLite must get `?`: sqlx resolves each `$n` by name
/// (`sqlite3_bind_parameter_name`, a scan of the statement's named parameters), which
/// made binding O(parameters²) — 17 % of all CPU samples of a 20,000-record ingest.
pub(crate) fn placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..cols {
            if col > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * cols + col + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// `n` alternatives of equality on `columns`, `(a = $k AND b = $k+1) OR (…)`, numbered
/// from `$first`: one statement reading many keys, each alternative an index lookup.
pub(crate) fn any_of(columns: &[&str], n: usize, first: usize) -> String {
    let mut sql = String::new();
    for i in 0..n {
        sql.push_str(if i == 0 { "(" } else { " OR (" });
        for (j, column) in columns.iter().enumerate() {
            if j > 0 {
                sql.push_str(" AND ");
            }
            sql.push_str(&format!("{column} = ${}", first + i * columns.len() + j));
        }
        sql.push(')');
    }
    sql
}

/// Inserts records in multi-row statements (one per chunk, not one per record): as
/// pending, or — with `first_leaf` — straight into the log with consecutive leaf
/// indices. Returns the record ids in the order given.
pub(super) async fn insert_records(
    tx: &mut AnyConnection,
    backend: Backend,
    c: &str,
    records: &[SourcedRecord],
    first_leaf: Option<i64>,
    now: i64,
) -> Result<Vec<B256>> {
    if backend == Backend::Postgres {
        return super::records_pg::insert_records_pg(tx, c, records, first_leaf, now).await;
    }
    // One statement text per chunk length (all chunks but the last are full), so
    // sqlx's per-connection statement cache prepares each once.
    let sql_for = |rows: usize| {
        let mut sql = String::from(
            "INSERT OR FAIL INTO records (record_id, chain, status, leaf_index, block_number, block_hash, tx_index,
                log_index, seq, action, ref_id, digest, digest_alg, submitter, record, created_at, adapter,
                contract, tx_hash, block_time, kind, metadata) VALUES ",
        );
        sql.push_str(&placeholders(backend, rows, RECORD_COLUMNS));
        if first_leaf.is_none() {
            // A pending record fetched again is kept once.
            sql.push_str(" ON CONFLICT (record_id) DO NOTHING");
        }
        sql
    };
    let full_sql = sql_for(INSERT_CHUNK);
    let last_sql = sql_for(records.len() % INSERT_CHUNK);
    let chunks: Vec<&[SourcedRecord]> = records.chunks(INSERT_CHUNK).collect();
    let status = if first_leaf.is_some() {
        "logged"
    } else {
        "pending"
    };
    // The statement of chunk `k` with its arguments, and the chunk's record ids.
    let build = |k: usize| {
        let chunk = chunks[k];
        let sql = if chunk.len() == INSERT_CHUNK {
            &full_sql
        } else {
            &last_sql
        };
        let mut chunk_ids = Vec::with_capacity(chunk.len());
        let mut q = sqlx::query(sql);
        for (i, sr) in chunk.iter().enumerate() {
            let r = &sr.record;
            let (s, e) = (&r.source, &r.evidence);
            let id = r.record_id();
            chunk_ids.push(id);
            let leaf = first_leaf.map(|f| f + (k * INSERT_CHUNK + i) as i64);
            q = q
                .bind(hex32(&id))
                .bind(c)
                .bind(status)
                .bind(leaf)
                .bind(int(s.block_number))
                .bind(hex32(&s.block_hash))
                .bind(int(s.tx_index))
                .bind(int(s.log_index))
                .bind(sr.seq.map(int))
                .bind(action_text(r.action))
                .bind(r.reference.as_ref().map(hex32))
                .bind(hex32(&e.digest))
                .bind(e.digest_alg.name())
                .bind(hex_addr(&e.submitter))
                .bind("")
                .bind(now)
                .bind(s.adapter.as_str())
                .bind(hex_addr(&s.contract))
                .bind(hex32(&s.tx_hash))
                .bind(int(s.block_timestamp))
                .bind(e.kind.as_str())
                .bind(hex32(&e.metadata));
        }
        (q, chunk_ids)
    };
    // `OR FAIL`, not the default `ABORT`: a failing statement then keeps the rows it
    // wrote before the failure instead of undoing them. Nothing partial survives: any
    // error fails `save_*`, whose transaction is then rolled back whole.
    //
    // While SQLite's worker thread runs chunk `k`, this task builds chunk `k + 1` (the
    // record ids' keccak, the hex text, the arguments): the first poll of `execute`
    // hands the statement to the worker, then the build runs beside it. Built one after
    // the other, the two took turns on one core (perf: the calling thread ~22 % busy,
    // the worker ~76 %, never both).
    let mut ids = Vec::with_capacity(records.len());
    let mut next = (!chunks.is_empty()).then(|| build(0));
    let mut k = 0;
    while let Some((q, chunk_ids)) = next.take() {
        ids.extend(chunk_ids);
        k += 1;
        let (done, built) = tokio::join!(q.execute(&mut *tx), async {
            (k < chunks.len()).then(|| build(k))
        });
        done?;
        next = built;
    }
    Ok(ids)
}

/// Upserts block hashes (number → (hash, has_records)) in multi-row statements; a
/// block already stored with records keeps `has_records`.
pub(super) async fn upsert_blocks(
    tx: &mut AnyConnection,
    backend: Backend,
    chain: &str,
    blocks: &BTreeMap<u64, (B256, bool)>,
) -> Result<()> {
    let blocks: Vec<_> = blocks.iter().collect();
    for chunk in blocks.chunks(BLOCK_CHUNK) {
        let mut sql = String::from("INSERT INTO blocks (chain, number, hash, has_records) VALUES ");
        sql.push_str(&placeholders(backend, chunk.len(), 4));
        sql.push_str(
            " ON CONFLICT (chain, number) DO UPDATE SET hash = excluded.hash,
                has_records = CASE WHEN excluded.has_records > blocks.has_records
                              THEN excluded.has_records ELSE blocks.has_records END",
        );
        let mut q = sqlx::query(&sql);
        for (number, (hash, has_records)) in chunk {
            q = q
                .bind(chain)
                .bind(int(**number))
                .bind(hex32(hash))
                .bind(i64::from(*has_records));
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipts_condition_names_the_receipts_adapter() {
        assert_eq!(
            RECEIPTS_ONLY,
            format!(
                "adapter = '{}'",
                evidence_adapters::receipts::RECEIPTS_ADAPTER
            )
        );
        let migration = include_str!("../../migrations/0030_record_columns.sql");
        assert!(migration.contains(&format!("WHERE {RECEIPTS_ONLY};")));
    }

    fn sample(n: u8, action: Action, reference: Option<B256>) -> SourcedRecord {
        let chain = evidence_schemas::ChainId::eip155(5);
        SourcedRecord {
            record: EvidenceRecord {
                version: RECORD_VERSION,
                source: SourceLocator {
                    chain,
                    adapter: Label::parse("adapter", "registry").unwrap(),
                    contract: alloy::primitives::Address::repeat_byte(0xc0),
                    block_number: 10,
                    block_hash: B256::repeat_byte(0xb1),
                    tx_hash: B256::repeat_byte(n),
                    tx_index: u64::from(n),
                    log_index: u64::from(n),
                    block_timestamp: 1_700_000_000,
                },
                action,
                reference,
                evidence: Evidence {
                    digest_alg: evidence_schemas::DigestAlgorithm::Keccak256,
                    digest: B256::repeat_byte(0xd0 + n),
                    kind: Label::parse("kind", "iou").unwrap(),
                    submitter: alloy::primitives::Address::repeat_byte(0x5e),
                    metadata: B256::repeat_byte(0xee),
                },
            },
            seq: Some(u64::from(n)),
        }
    }

    /// Rows are written without JSON and rebuilt from their columns; rows written
    /// before migration 0030 (JSON, NULL in its columns) read the same; a changed
    /// column is refused, not shown.
    #[tokio::test]
    async fn records_are_rebuilt_from_columns_and_old_rows_stay_readable() {
        let store = super::super::Store::connect("sqlite::memory:")
            .await
            .unwrap();
        let anchor = sample(1, Action::Anchor, None);
        let revoke = sample(2, Action::Revoke, Some(anchor.record.record_id()));
        let chain = anchor.record.source.chain.clone();
        store.save_cursor_init(&chain, "five", 0).await.unwrap();
        let tip = evidence_adapters::BlockRef {
            number: 10,
            hash: B256::repeat_byte(0xb1),
            parent_hash: B256::ZERO,
            timestamp: 1_700_000_000,
        };
        let records = [anchor.clone(), revoke.clone()];
        store
            .save_confirmed_batch(&chain, &tip, &records, &[], Some(3), 10)
            .await
            .unwrap();
        for sr in &records {
            let id = sr.record.record_id();
            let view = store.load_record(id).await.unwrap().unwrap();
            assert_eq!(view.record, sr.record);
            let json: String =
                sqlx::query_scalar("SELECT record FROM records WHERE record_id = $1")
                    .bind(hex32(&id))
                    .fetch_one(store.reader())
                    .await
                    .unwrap();
            assert_eq!(json, "", "no JSON copy is stored");
        }
        let revoked = store
            .load_record(anchor.record.record_id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(revoked.revoked_by, Some(revoke.record.record_id()));

        // A row as stored before migration 0030.
        let id = anchor.record.record_id();
        sqlx::query(
            "UPDATE records SET record = $2, contract = NULL, tx_hash = NULL, block_time = NULL,
             kind = NULL, metadata = NULL WHERE record_id = $1",
        )
        .bind(hex32(&id))
        .bind(serde_json::to_string(&anchor.record).unwrap())
        .execute(store.writer())
        .await
        .unwrap();
        let old = store
            .lookup_digest(anchor.record.evidence.digest)
            .await
            .unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].record, anchor.record);

        // A column changed behind the store's back.
        let id = revoke.record.record_id();
        sqlx::query("UPDATE records SET kind = 'contract' WHERE record_id = $1")
            .bind(hex32(&id))
            .execute(store.writer())
            .await
            .unwrap();
        let err = store.load_record(id).await.unwrap_err().to_string();
        assert!(err.contains("rebuild a record with id"), "{err}");
    }

    #[test]
    fn placeholders_per_backend() {
        assert_eq!(placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(placeholders(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(
            any_of(&["a", "b"], 2, 2),
            "(a = $2 AND b = $3) OR (a = $4 AND b = $5)"
        );
    }
}
