//! The chains' logs as stored tiles (C2SP `tlog-tiles` layout, see
//! [`evidence_schemas::log::tiles`]): table `log_tiles`, one row per tile, and
//! `cursors.tiled_size`, the number of leaves the tiles cover.
//!
//! Tiles are written in the same transaction as the records they cover
//! ([`append_tiles`], called by the logging writes of [`chain`](super::chain)), so a
//! kill between the two cannot happen. A store created before tiles existed has
//! `tiled_size` below `log_size`; [`Store::build_tiles_step`] builds the missing
//! tiles from the records, a chunk per transaction, and while it has not finished the
//! logging writes leave the tiles to it (the log stays provable up to `tiled_size`).
//!
//! Reads ([`Store::load_root_at`], [`Store::load_inclusion_proof`],
//! [`Store::load_consistency_proof`]) fetch only the `O(log n)` tiles the answer
//! needs, in one statement.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::B256;
use evidence_schemas::{
    ChainId,
    log::{
        LogError, consistency_proof, inclusion_proof, leaf_hash, root_at,
        tiles::{
            TileKey, TileSet, append_leaves, decode_row, edge_tiles, encode_row,
            tiles_for_consistency, tiles_for_inclusion, tiles_for_root,
        },
    },
};
use sqlx::{AnyConnection, Row};

use super::{Store, int, uint};
use crate::{RelayerError, Result};

/// Tiles per multi-row upsert (4 parameters each).
const UPSERT_CHUNK: usize = 200;

/// Where tile building of a chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileProgress {
    /// Leaves covered by tiles.
    pub tiled: u64,
    /// Leaves in the log.
    pub log_size: u64,
}

impl TileProgress {
    /// Whether the tiles cover the whole log.
    pub fn done(&self) -> bool {
        self.tiled >= self.log_size
    }
}

impl Store {
    /// How far the chain's tiles cover its log.
    pub async fn load_tile_progress(&self, chain: &ChainId) -> Result<TileProgress> {
        let row = sqlx::query("SELECT log_size, tiled_size FROM cursors WHERE chain = $1")
            .bind(chain.as_str())
            .fetch_optional(self.reader())
            .await?;
        Ok(match row {
            Some(r) => TileProgress {
                log_size: uint(r.try_get("log_size")?),
                tiled: uint(r.try_get("tiled_size")?),
            },
            None => TileProgress {
                log_size: 0,
                tiled: 0,
            },
        })
    }

    /// Builds the tiles of up to `max_leaves` more logged records of a store that
    /// predates tiles, in one transaction (so a kill loses at most this chunk, and the
    /// next call resumes from `tiled_size`). Returns where the chain stands after it.
    pub async fn build_tiles_step(&self, chain: &ChainId, max_leaves: u64) -> Result<TileProgress> {
        let c = chain.as_str();
        let mut tx = self.begin_fenced().await?;
        let row = sqlx::query("SELECT log_size, tiled_size FROM cursors WHERE chain = $1")
            .bind(c)
            .fetch_one(&mut *tx)
            .await?;
        let log_size = uint(row.try_get("log_size")?);
        let tiled = uint(row.try_get("tiled_size")?);
        if tiled >= log_size {
            return Ok(TileProgress { tiled, log_size });
        }
        let to = log_size.min(tiled + max_leaves.max(1));
        let ids: Vec<(String, i64)> = sqlx::query_as(
            "SELECT record_id, leaf_index FROM records WHERE chain = $1 AND leaf_index >= $2
             AND leaf_index < $3 ORDER BY leaf_index",
        )
        .bind(c)
        .bind(int(tiled))
        .bind(int(to))
        .fetch_all(&mut *tx)
        .await?;
        let mut leaves = Vec::with_capacity(ids.len());
        for (i, (id, leaf)) in ids.iter().enumerate() {
            if uint(*leaf) != tiled + i as u64 {
                return Err(RelayerError::corrupt(format!(
                    "log of {chain} has a gap: leaf {} is missing (next stored leaf is {leaf})",
                    tiled + i as u64
                )));
            }
            leaves.push(leaf_hash(&super::parse_b256("records.record_id", id)?));
        }
        if tiled + leaves.len() as u64 != to {
            return Err(RelayerError::corrupt(format!(
                "{chain}: cursor says the log has {log_size} records, the records table ends at leaf {}",
                tiled + leaves.len() as u64
            )));
        }
        write_tiles(&mut tx, chain, tiled, &leaves).await?;
        sqlx::query("UPDATE cursors SET tiled_size = $2 WHERE chain = $1")
            .bind(c)
            .bind(int(to))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TileProgress {
            tiled: to,
            log_size,
        })
    }

    /// The root of the chain's log at `size` leaves, from the stored tiles.
    pub async fn load_root_at(&self, chain: &ChainId, size: u64) -> Result<B256> {
        let tiled = self.tiled_size(chain).await?;
        let need = tiles_for_root(tiled, size).map_err(|e| log_error(chain, tiled, e))?;
        let set = self.load_tiles(chain, tiled, &need).await?;
        root_at(&set, size).map_err(|e| log_error(chain, tiled, e))
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub async fn load_inclusion_proof(
        &self,
        chain: &ChainId,
        index: u64,
        size: u64,
    ) -> Result<Vec<B256>> {
        let tiled = self.tiled_size(chain).await?;
        let need =
            tiles_for_inclusion(tiled, index, size).map_err(|e| log_error(chain, tiled, e))?;
        let set = self.load_tiles(chain, tiled, &need).await?;
        inclusion_proof(&set, index, size).map_err(|e| log_error(chain, tiled, e))
    }

    /// Consistency proof from `old_size` to `new_size`; empty when `old_size` is 0.
    pub async fn load_consistency_proof(
        &self,
        chain: &ChainId,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<B256>> {
        if old_size == 0 {
            return Ok(Vec::new());
        }
        let tiled = self.tiled_size(chain).await?;
        let need = tiles_for_consistency(tiled, old_size, new_size)
            .map_err(|e| log_error(chain, tiled, e))?;
        let set = self.load_tiles(chain, tiled, &need).await?;
        consistency_proof(&set, old_size, new_size).map_err(|e| log_error(chain, tiled, e))
    }

    /// The root at `size` and the inclusion proofs of `leaves` in that tree, from
    /// one read of the tiles they need (a proof bundle's whole log part).
    pub async fn load_proofs_at(
        &self,
        chain: &ChainId,
        size: u64,
        leaves: &[u64],
    ) -> Result<(B256, Vec<Vec<B256>>)> {
        let tiled = self.tiled_size(chain).await?;
        let mut need = tiles_for_root(tiled, size).map_err(|e| log_error(chain, tiled, e))?;
        for &leaf in leaves {
            need.extend(
                tiles_for_inclusion(tiled, leaf, size).map_err(|e| log_error(chain, tiled, e))?,
            );
        }
        let set = self.load_tiles(chain, tiled, &need).await?;
        let root = root_at(&set, size).map_err(|e| log_error(chain, tiled, e))?;
        let proofs = leaves
            .iter()
            .map(|&leaf| inclusion_proof(&set, leaf, size).map_err(|e| log_error(chain, tiled, e)))
            .collect::<Result<Vec<_>>>()?;
        Ok((root, proofs))
    }

    /// The number of leaves the chain's tiles cover (the provable log size).
    pub async fn tiled_size(&self, chain: &ChainId) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar("SELECT tiled_size FROM cursors WHERE chain = $1")
            .bind(chain.as_str())
            .fetch_optional(self.reader())
            .await?;
        Ok(n.map_or(0, uint))
    }

    /// The tiles `keys` of a log of `size` leaves, in one statement.
    async fn load_tiles(
        &self,
        chain: &ChainId,
        size: u64,
        keys: &BTreeSet<TileKey>,
    ) -> Result<TileSet> {
        let mut conn = self.reader().acquire().await?;
        let tiles = fetch_tiles(&mut conn, chain, keys).await?;
        Ok(TileSet::new(size, tiles))
    }
}

/// A log error with a hint when the tiles are still being built.
fn log_error(chain: &ChainId, tiled: u64, e: LogError) -> RelayerError {
    match e {
        LogError::SizeBeyondLog { size, .. } => RelayerError::NotFound(format!(
            "log of {chain}: size {size} is beyond the {tiled} leaves its tiles cover \
             (tiles are built as records are logged; a store from before tiles is migrated by `bridge run`)"
        )),
        e => RelayerError::log(chain, e),
    }
}

/// The statement reading `n` tiles of one chain (binds: chain, then level and index of
/// each): one primary-key lookup per tile, as a UNION ALL. With `chain = $1 AND (… OR
/// …)` SQLite's planner used the key's `chain` prefix alone and scanned every tile of
/// the chain — n / 256 rows for each proof and for each batch's read of the right edge
/// (10 ms at 10 M records, and growing with the log).
fn tiles_sql(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "SELECT level, idx, hashes FROM log_tiles WHERE chain = $1 AND level = ${} AND idx = ${}",
                2 + 2 * i,
                3 + 2 * i
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

async fn fetch_tiles(
    conn: &mut AnyConnection,
    chain: &ChainId,
    keys: &BTreeSet<TileKey>,
) -> Result<BTreeMap<TileKey, Vec<B256>>> {
    let mut out = BTreeMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let sql = tiles_sql(keys.len());
    let mut q = sqlx::query(&sql).bind(chain.as_str());
    for k in keys {
        q = q.bind(i64::from(k.level)).bind(int(k.index));
    }
    for row in q.fetch_all(&mut *conn).await? {
        let level: i64 = row.try_get("level")?;
        let index: i64 = row.try_get("idx")?;
        let bytes: Vec<u8> = row.try_get("hashes")?;
        let hashes = decode_row(&bytes).ok_or_else(|| {
            RelayerError::corrupt(format!(
                "{chain}: tile {level}/{index} holds {} bytes, not 1-256 hashes",
                bytes.len()
            ))
        })?;
        let key = TileKey {
            level: u32::try_from(level).unwrap_or(u32::MAX),
            index: uint(index),
        };
        out.insert(key, hashes);
    }
    Ok(out)
}

/// Appends leaf hashes to the tiles of a log of `size` leaves (inside the caller's
/// transaction): reads the right edge, writes every changed tile.
async fn write_tiles(
    tx: &mut AnyConnection,
    chain: &ChainId,
    size: u64,
    leaves: &[B256],
) -> Result<()> {
    if leaves.is_empty() {
        return Ok(());
    }
    let keys: BTreeSet<TileKey> = edge_tiles(size).into_iter().map(|(k, _)| k).collect();
    let edge = fetch_tiles(tx, chain, &keys).await?;
    let written = append_leaves(size, &edge, leaves).map_err(|e| {
        RelayerError::corrupt(format!(
            "{chain}: the stored tiles of a log of {size} leaves are incomplete: {e}"
        ))
    })?;
    for chunk in written.chunks(UPSERT_CHUNK) {
        let mut sql = String::from("INSERT INTO log_tiles (chain, level, idx, hashes) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${})",
                4 * i + 1,
                4 * i + 2,
                4 * i + 3,
                4 * i + 4
            ));
        }
        sql.push_str(" ON CONFLICT (chain, level, idx) DO UPDATE SET hashes = excluded.hashes");
        let mut q = sqlx::query(&sql);
        for (key, row) in chunk {
            q = q
                .bind(chain.as_str())
                .bind(i64::from(key.level))
                .bind(int(key.index))
                .bind(encode_row(row));
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Called by every write that logs records, in its transaction, with the log size
/// before them: extends the tiles when they cover the log so far (and moves
/// `tiled_size` with it); leaves them to [`Store::build_tiles_step`] while a store
/// from before tiles is still being migrated.
pub(super) async fn append_tiles(
    tx: &mut AnyConnection,
    chain: &ChainId,
    log_size: u64,
    record_ids: &[B256],
) -> Result<()> {
    let tiled: i64 = sqlx::query_scalar("SELECT tiled_size FROM cursors WHERE chain = $1")
        .bind(chain.as_str())
        .fetch_one(&mut *tx)
        .await?;
    let tiled = uint(tiled);
    if tiled > log_size {
        return Err(RelayerError::corrupt(format!(
            "{chain}: tiles cover {tiled} leaves but the log has only {log_size}"
        )));
    }
    if tiled < log_size || record_ids.is_empty() {
        return Ok(());
    }
    let leaves: Vec<B256> = record_ids.iter().map(leaf_hash).collect();
    write_tiles(tx, chain, log_size, &leaves).await?;
    sqlx::query("UPDATE cursors SET tiled_size = $2 WHERE chain = $1")
        .bind(chain.as_str())
        .bind(int(log_size + leaves.len() as u64))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use sqlx::Row as _;

    use super::tiles_sql;
    use crate::Store;

    /// Each tile is read by its whole primary key, never by scanning the chain's tiles
    /// (SQLite's plan of the statement, on a migrated store).
    #[tokio::test]
    async fn tiles_are_read_by_primary_key_not_by_scanning_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        for n in [1, 3, 20] {
            let sql = format!("EXPLAIN QUERY PLAN {}", tiles_sql(n));
            let mut plan = sqlx::query(&sql).bind("eip155:1");
            for i in 0..n {
                plan = plan.bind(i as i64).bind(7_i64);
            }
            let rows = plan.fetch_all(store.reader()).await.unwrap();
            let details: Vec<String> = rows
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap())
                .collect();
            let lookups = details.iter().filter(|d| d.contains("log_tiles")).count();
            assert_eq!(lookups, n, "{details:?}");
            for d in details.iter().filter(|d| d.contains("log_tiles")) {
                assert!(
                    d.starts_with("SEARCH") && d.contains("chain=? AND level=? AND idx=?"),
                    "{d}"
                );
            }
        }
    }
}
