//! Per source chain: the cursor, block hashes, records and quarantined events.

use std::collections::BTreeMap;

use alloy::primitives::B256;
use evidence_adapters::{BlockRef, Quarantined, SourcedRecord};
use evidence_schemas::ChainId;
use sqlx::Row;

use super::{
    Backend, Store, hex32, int, now_ms, parse_b256,
    records::{RECEIPTS_ONLY, insert_records, upsert_blocks},
    uint,
};
use crate::Result;

/// How many block hashes without records are kept below the confirmed tip, for reorg
/// detection. Blocks that produced records are kept for good.
const BLOCK_WINDOW: u64 = 1024;

/// Where indexing of one chain stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The chain.
    pub chain: ChainId,
    /// The operator's name for it.
    pub name: String,
    /// First block indexed.
    pub start_block: u64,
    /// First block not fetched yet.
    pub next_block: u64,
    /// First block not yet confirmed into the log; blocks `confirmed_next..next_block`
    /// are fetched but pending.
    pub confirmed_next: u64,
    /// Sequence number the source's next event should carry, when it has them.
    pub next_seq: Option<u64>,
    /// Records in the log.
    pub log_size: u64,
    /// Records of the log its stored tiles cover (below `log_size` only while a store
    /// from before tiles is migrated).
    pub tiled_size: u64,
    /// The block the log is built up to (number, hash).
    pub confirmed_block: Option<(u64, B256)>,
    /// Last head seen.
    pub head_block: Option<u64>,
    /// Set when the chain halted.
    pub halted_reason: Option<String>,
}

/// A block holding pending records, with the hash the records carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingBlock {
    /// Block number.
    pub number: u64,
    /// Block hash the records were fetched with.
    pub hash: B256,
}

/// Records just confirmed into the log, in leaf order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggedBatch {
    /// Leaf index of the first one.
    pub first_leaf: u64,
    /// Their record ids.
    pub record_ids: Vec<B256>,
}

impl Store {
    /// Creates the chain's cursor at `start_block` unless it exists; updates its name.
    pub async fn save_cursor_init(
        &self,
        chain: &ChainId,
        name: &str,
        start_block: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO cursors (chain, name, start_block, next_block, confirmed_next, updated_at)
             VALUES ($1, $2, $3, $3, $3, $4)
             ON CONFLICT (chain) DO UPDATE SET name = excluded.name",
        )
        .bind(chain.as_str())
        .bind(name)
        .bind(int(start_block))
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The chain's cursor.
    pub async fn load_cursor(&self, chain: &ChainId) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT * FROM cursors WHERE chain = $1")
            .bind(chain.as_str())
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| cursor_from_row(&r)).transpose()
    }

    /// Every chain's cursor, by chain id.
    pub async fn load_cursors(&self) -> Result<Vec<Cursor>> {
        let rows = sqlx::query("SELECT * FROM cursors ORDER BY chain")
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(cursor_from_row).collect()
    }

    /// Records the last head seen.
    pub async fn save_head(&self, chain: &ChainId, head: u64) -> Result<()> {
        sqlx::query("UPDATE cursors SET head_block = $2, updated_at = $3 WHERE chain = $1")
            .bind(chain.as_str())
            .bind(int(head))
            .bind(now_ms())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The highest stored block hash of the chain.
    pub async fn load_last_block(&self, chain: &ChainId) -> Result<Option<(u64, B256)>> {
        let row = sqlx::query(
            "SELECT number, hash FROM blocks WHERE chain = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(chain.as_str())
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok((
                uint(r.try_get("number")?),
                parse_b256("blocks.hash", r.try_get("hash")?)?,
            ))
        })
        .transpose()
    }

    /// The stored hash of block `number`, if kept.
    pub async fn load_block_hash(&self, chain: &ChainId, number: u64) -> Result<Option<B256>> {
        let hash: Option<String> =
            sqlx::query_scalar("SELECT hash FROM blocks WHERE chain = $1 AND number = $2")
                .bind(chain.as_str())
                .bind(int(number))
                .fetch_optional(self.reader())
                .await?;
        hash.map(|h| parse_b256("blocks.hash", &h)).transpose()
    }

    /// The highest block holding a logged record, with its hash.
    pub async fn load_last_logged_block(&self, chain: &ChainId) -> Result<Option<(u64, B256)>> {
        let row = sqlx::query(
            "SELECT block_number, block_hash FROM records WHERE chain = $1 AND status = 'logged'
             ORDER BY leaf_index DESC LIMIT 1",
        )
        .bind(chain.as_str())
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok((
                uint(r.try_get("block_number")?),
                parse_b256("records.block_hash", r.try_get("block_hash")?)?,
            ))
        })
        .transpose()
    }

    /// Stores one fetch of blocks `..=to` in one transaction: records as pending (a
    /// record fetched again is kept once), the hash of `to` and of every block with
    /// records, quarantined events, and the cursor moved to `to + 1`.
    pub async fn save_fetched_batch(
        &self,
        chain: &ChainId,
        to: &BlockRef,
        records: &[SourcedRecord],
        quarantined: &[Quarantined],
        next_seq: Option<u64>,
        head: u64,
    ) -> Result<()> {
        let now = now_ms();
        let c = chain.as_str();
        let mut tx = self.begin_fenced().await?;
        insert_records(&mut tx, self.backend(), c, records, None, now).await?;
        let tail = BatchTail {
            to,
            records,
            quarantined,
            next_seq,
            head,
        };
        save_batch_tail(&mut tx, self.backend(), c, &tail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores one fetch of blocks `..=to` that lie entirely at or below the confirmed
    /// tip, when no pending records are outstanding: the records go straight into the
    /// log (consecutive leaf indices in the order given, which the source guarantees is
    /// (block, tx index, log index)), in one transaction with everything
    /// [`Store::save_fetched_batch`] and [`Store::mark_logged`] would write. Backfill
    /// takes this path, so each record is written once instead of twice.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_confirmed_batch(
        &self,
        chain: &ChainId,
        to: &BlockRef,
        records: &[SourcedRecord],
        quarantined: &[Quarantined],
        next_seq: Option<u64>,
        head: u64,
    ) -> Result<LoggedBatch> {
        let now = now_ms();
        let c = chain.as_str();
        let mut tx = self.begin_fenced().await?;
        let log_size: i64 = sqlx::query_scalar("SELECT log_size FROM cursors WHERE chain = $1")
            .bind(c)
            .fetch_one(&mut *tx)
            .await?;
        let record_ids =
            insert_records(&mut tx, self.backend(), c, records, Some(log_size), now).await?;
        super::tiles::append_tiles(&mut tx, chain, uint(log_size), &record_ids).await?;
        check_revokes(&mut tx, c, log_size).await?;
        let tail = BatchTail {
            to,
            records,
            quarantined,
            next_seq,
            head,
        };
        save_batch_tail(&mut tx, self.backend(), c, &tail, now).await?;
        save_confirmed_tip(&mut tx, c, to, log_size + record_ids.len() as i64, now).await?;
        tx.commit().await?;
        Ok(LoggedBatch {
            first_leaf: uint(log_size),
            record_ids,
        })
    }

    /// Distinct (block, hash) pairs of pending records in blocks `..=upto`.
    pub async fn load_pending_blocks(
        &self,
        chain: &ChainId,
        upto: u64,
    ) -> Result<Vec<PendingBlock>> {
        let rows = sqlx::query(
            "SELECT DISTINCT block_number, block_hash FROM records
             WHERE chain = $1 AND status = 'pending' AND block_number <= $2 ORDER BY block_number",
        )
        .bind(chain.as_str())
        .bind(int(upto))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingBlock {
                    number: uint(r.try_get("block_number")?),
                    hash: parse_b256("records.block_hash", r.try_get("block_hash")?)?,
                })
            })
            .collect()
    }

    /// Confirms every pending record in blocks `..=tip.number` into the log, in one
    /// transaction: consecutive leaf indices in (block, tx index, log index) order,
    /// revokes checked against earlier logged anchors, and the cursor's confirmed tip
    /// moved to `tip`. Returns the records logged, in leaf order.
    pub async fn mark_logged(&self, chain: &ChainId, tip: &BlockRef) -> Result<LoggedBatch> {
        let c = chain.as_str();
        let now = now_ms();
        let mut tx = self.begin_fenced().await?;
        let log_size: i64 = sqlx::query_scalar("SELECT log_size FROM cursors WHERE chain = $1")
            .bind(c)
            .fetch_one(&mut *tx)
            .await?;
        let first_leaf = uint(log_size);
        // Leaf indices in (block, tx index, log index) order, set-based (UPDATE … FROM
        // works on SQLite ≥ 3.33 and PostgreSQL).
        sqlx::query(
            "UPDATE records SET status = 'logged', leaf_index = numbered.leaf
             FROM (SELECT record_id AS id, $3 + ROW_NUMBER() OVER
                     (ORDER BY block_number, tx_index, log_index) - 1 AS leaf
                   FROM records WHERE chain = $1 AND status = 'pending' AND block_number <= $2) AS numbered
             WHERE records.record_id = numbered.id",
        )
        .bind(c)
        .bind(int(tip.number))
        .bind(log_size)
        .execute(&mut *tx)
        .await?;
        check_revokes(&mut tx, c, log_size).await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT record_id FROM records WHERE chain = $1 AND leaf_index >= $2 ORDER BY leaf_index",
        )
        .bind(c)
        .bind(log_size)
        .fetch_all(&mut *tx)
        .await?;
        let record_ids = ids
            .iter()
            .map(|id| parse_b256("records.record_id", id))
            .collect::<Result<Vec<_>>>()?;
        super::tiles::append_tiles(&mut tx, chain, first_leaf, &record_ids).await?;
        let tip_block = BTreeMap::from([(tip.number, (tip.hash, false))]);
        upsert_blocks(&mut tx, self.backend(), c, &tip_block).await?;
        save_confirmed_tip(&mut tx, c, tip, log_size + record_ids.len() as i64, now).await?;
        tx.commit().await?;
        Ok(LoggedBatch {
            first_leaf,
            record_ids,
        })
    }

    /// Rewinds the chain to `to_block` after a reorg, in one transaction: pending
    /// records, quarantined events and block hashes from `to_block` on are deleted, and
    /// the cursor is moved back. Logged records are never touched; `to_block` must lie
    /// above the last logged record. `confirmed` resets the confirmed tip when the
    /// rewind goes below it.
    pub async fn save_rewind(
        &self,
        chain: &ChainId,
        to_block: u64,
        confirmed: Option<(u64, B256)>,
    ) -> Result<()> {
        let c = chain.as_str();
        let mut tx = self.begin_fenced().await?;
        sqlx::query(
            "DELETE FROM records WHERE chain = $1 AND status = 'pending' AND block_number >= $2",
        )
        .bind(c)
        .bind(int(to_block))
        .execute(&mut *tx)
        .await?;
        for table in [
            "DELETE FROM blocks WHERE chain = $1 AND number >= $2",
            "DELETE FROM quarantine WHERE chain = $1 AND block_number >= $2",
        ] {
            sqlx::query(table)
                .bind(c)
                .bind(int(to_block))
                .execute(&mut *tx)
                .await?;
        }
        let next_seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) + 1 FROM records WHERE chain = $1")
                .bind(c)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE cursors SET next_block = $2, next_seq = $3,
                confirmed_block = CASE WHEN confirmed_next > $2 THEN NULL ELSE confirmed_block END,
                confirmed_hash = CASE WHEN confirmed_next > $2 THEN NULL ELSE confirmed_hash END,
                confirmed_next = CASE WHEN confirmed_next > $2 THEN $2 ELSE confirmed_next END,
                updated_at = $4 WHERE chain = $1",
        )
        .bind(c)
        .bind(int(to_block))
        .bind(next_seq)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if let Some((number, hash)) = confirmed {
            sqlx::query(
                "UPDATE cursors SET confirmed_block = $2, confirmed_hash = $3 WHERE chain = $1",
            )
            .bind(c)
            .bind(int(number))
            .bind(hex32(&hash))
            .execute(&mut *tx)
            .await?;
            let block = BTreeMap::from([(number, (hash, false))]);
            upsert_blocks(&mut tx, self.backend(), c, &block).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Halts the chain with `reason`; indexing and submission stop until an operator acts.
    pub async fn mark_halted(&self, chain: &ChainId, reason: &str) -> Result<()> {
        let mut tx = self.begin_fenced().await?;
        sqlx::query("UPDATE cursors SET halted_reason = $2, updated_at = $3 WHERE chain = $1")
            .bind(chain.as_str())
            // Shown by `status` and the API: never an RPC URL's key.
            .bind(evidence_adapters::redact::scrub(reason).as_ref())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Record ids of the first `size` leaves of the chain's log (all when `None`), in
    /// leaf order. Fails if the stored leaf indices have a gap.
    pub async fn load_leaf_ids(&self, chain: &ChainId, size: Option<u64>) -> Result<Vec<B256>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT record_id, leaf_index FROM records WHERE chain = $1 AND leaf_index IS NOT NULL
             AND leaf_index < $2 ORDER BY leaf_index",
        )
        .bind(chain.as_str())
        .bind(size.map_or(i64::MAX, int))
        .fetch_all(self.reader())
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (i, (id, leaf)) in rows.iter().enumerate() {
            if uint(*leaf) != i as u64 {
                return Err(crate::RelayerError::corrupt(format!(
                    "log of {chain} has a gap: leaf {i} is missing (next stored leaf is {leaf})"
                )));
            }
            ids.push(parse_b256("records.record_id", id)?);
        }
        Ok(ids)
    }

    /// Record ids of leaves `from..to` of the chain's log, in leaf order. Fails if the
    /// stored leaf indices have a gap.
    pub async fn load_leaf_ids_range(
        &self,
        chain: &ChainId,
        from: u64,
        to: u64,
    ) -> Result<Vec<B256>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT record_id, leaf_index FROM records WHERE chain = $1 AND leaf_index >= $2
             AND leaf_index < $3 ORDER BY leaf_index",
        )
        .bind(chain.as_str())
        .bind(int(from))
        .bind(int(to))
        .fetch_all(self.reader())
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (i, (id, leaf)) in rows.iter().enumerate() {
            if uint(*leaf) != from + i as u64 {
                return Err(crate::RelayerError::corrupt(format!(
                    "log of {chain} has a gap: leaf {} is missing (next stored leaf is {leaf})",
                    from + i as u64
                )));
            }
            ids.push(parse_b256("records.record_id", id)?);
        }
        Ok(ids)
    }

    /// Records of the chain (pending and logged).
    pub async fn count_records(&self, chain: &ChainId) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE chain = $1")
            .bind(chain.as_str())
            .fetch_one(self.reader())
            .await?;
        Ok(uint(n))
    }

    /// Logged records of the chain (the log size as the records table sees it).
    pub async fn count_logged_records(&self, chain: &ChainId) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE chain = $1 AND status = 'logged'",
        )
        .bind(chain.as_str())
        .fetch_one(self.reader())
        .await?;
        Ok(uint(n))
    }

    /// Evidence records of the chain (pending and logged): every record but the
    /// round-trip receipts.
    pub async fn count_evidence_records(&self, chain: &ChainId) -> Result<u64> {
        let all = self.count_records(chain).await?;
        Ok(all.saturating_sub(self.count_receipts(chain, "").await?))
    }

    /// Evidence records of the chain in its log (round-trip receipts left out).
    pub async fn count_logged_evidence_records(&self, chain: &ChainId) -> Result<u64> {
        let logged = self.count_logged_records(chain).await?;
        let receipts = self
            .count_receipts(chain, " AND leaf_index IS NOT NULL")
            .await?;
        Ok(logged.saturating_sub(receipts))
    }

    /// Round-trip receipts of the chain matching `and` (from the partial index of
    /// receipts: evidence rows are not visited).
    pub(crate) async fn count_receipts(&self, chain: &ChainId, and: &str) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM records WHERE chain = $1 AND {RECEIPTS_ONLY}{and}");
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(chain.as_str())
            .fetch_one(self.reader())
            .await?;
        Ok(uint(n))
    }
}

fn cursor_from_row(r: &sqlx::any::AnyRow) -> Result<Cursor> {
    let confirmed_block: Option<i64> = r.try_get("confirmed_block")?;
    let confirmed_hash: Option<String> = r.try_get("confirmed_hash")?;
    let confirmed_block = match (confirmed_block, confirmed_hash) {
        (Some(n), Some(h)) => Some((uint(n), parse_b256("cursors.confirmed_hash", &h)?)),
        _ => None,
    };
    Ok(Cursor {
        chain: super::parse_chain(r.try_get("chain")?)?,
        name: r.try_get("name")?,
        start_block: uint(r.try_get("start_block")?),
        next_block: uint(r.try_get("next_block")?),
        confirmed_next: uint(r.try_get("confirmed_next")?),
        next_seq: r.try_get::<Option<i64>, _>("next_seq")?.map(uint),
        log_size: uint(r.try_get("log_size")?),
        tiled_size: uint(r.try_get("tiled_size")?),
        confirmed_block,
        head_block: r.try_get::<Option<i64>, _>("head_block")?.map(uint),
        halted_reason: r.try_get("halted_reason")?,
    })
}

/// Flags revokes logged from leaf `from_leaf` on that do not refer to an earlier
/// logged anchor of the same chain and submitter.
async fn check_revokes(tx: &mut sqlx::AnyConnection, c: &str, from_leaf: i64) -> Result<()> {
    sqlx::query(
        "UPDATE records SET invalid_ref = 1
         WHERE chain = $1 AND action = 'revoke' AND leaf_index >= $2
           AND NOT EXISTS (SELECT 1 FROM records AS target
               WHERE target.record_id = records.ref_id AND target.chain = records.chain
                 AND target.action = 'anchor' AND target.status = 'logged'
                 AND target.submitter = records.submitter
                 AND target.leaf_index < records.leaf_index)",
    )
    .bind(c)
    .bind(from_leaf)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What every fetched batch writes besides its records: block hashes, quarantined
/// events, and the cursor.
struct BatchTail<'a> {
    to: &'a BlockRef,
    records: &'a [SourcedRecord],
    quarantined: &'a [Quarantined],
    next_seq: Option<u64>,
    head: u64,
}

/// Writes a batch's [`BatchTail`].
async fn save_batch_tail(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    c: &str,
    tail: &BatchTail<'_>,
    now: i64,
) -> Result<()> {
    let BatchTail {
        to,
        records,
        quarantined,
        next_seq,
        head,
    } = *tail;
    // Every block with records, and `to`: one multi-row upsert, not one per block.
    let mut blocks = BTreeMap::new();
    blocks.insert(to.number, (to.hash, false));
    for sr in records {
        let s = &sr.record.source;
        blocks.insert(s.block_number, (s.block_hash, true));
    }
    upsert_blocks(tx, backend, c, &blocks).await?;
    for q in quarantined {
        sqlx::query(
                "INSERT INTO quarantine (chain, block_number, block_hash, tx_hash, log_index, adapter, reason, raw, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (chain, block_hash, tx_hash, log_index) DO NOTHING",
            )
            .bind(c)
            .bind(int(q.block_number))
            .bind(hex32(&q.block_hash))
            .bind(hex32(&q.tx_hash))
            .bind(int(q.log_index))
            .bind(&q.adapter)
            .bind(&q.reason)
            .bind(format!("{:#x}", q.raw))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
            "UPDATE cursors SET next_block = $2, next_seq = $3, head_block = $4, updated_at = $5 WHERE chain = $1",
        )
        .bind(c)
        .bind(int(to.number + 1))
        .bind(next_seq.map(int))
        .bind(int(head))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Moves the cursor's confirmed tip to `tip` with the new log size, and forgets block
/// hashes (of blocks without records) older than the reorg-detection window.
async fn save_confirmed_tip(
    tx: &mut sqlx::AnyConnection,
    c: &str,
    tip: &BlockRef,
    log_size: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE cursors SET confirmed_next = $2, log_size = $3, confirmed_block = $4,
            confirmed_hash = $5, updated_at = $6 WHERE chain = $1",
    )
    .bind(c)
    .bind(int(tip.number + 1))
    .bind(log_size)
    .bind(int(tip.number))
    .bind(hex32(&tip.hash))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM blocks WHERE chain = $1 AND has_records = 0 AND number < $2")
        .bind(c)
        .bind(int(tip.number.saturating_sub(BLOCK_WINDOW)))
        .execute(&mut *tx)
        .await?;
    Ok(())
}
