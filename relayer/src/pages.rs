//! Paginated and aggregate reads for the HTTP API and its metrics: checkpoints and
//! quarantined events page by page (newest first, keyset cursors), and submission
//! counts per route and state.

use alloy::primitives::Bytes;
use evidence_adapters::Quarantined;
use evidence_schemas::ChainId;
use serde::Serialize;
use sqlx::Row;

use crate::{
    RelayerError, Result,
    query::CheckpointSummary,
    store::{Store, int, parse_b256, parse_chain, uint},
};

/// A quarantine page cursor: events strictly older than (block, log index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuarantineCursor {
    /// Block number.
    pub block_number: u64,
    /// Log index within the block.
    pub log_index: u64,
}

/// Submissions of one route, counted by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteCounts {
    /// Source chain.
    pub source_chain: ChainId,
    /// Destination chain.
    pub destination_chain: ChainId,
    /// Confirmed or observed on the destination.
    pub confirmed: u64,
    /// Given up (reverted or rejected).
    pub failed: u64,
    /// When the newest confirmed submission was last updated (unix ms).
    pub last_confirmed_at_ms: Option<i64>,
}

impl Store {
    /// The chain's checkpoints smaller than `before` (all when `None`), newest first,
    /// at most `limit`.
    pub async fn load_checkpoints_page(
        &self,
        chain: &ChainId,
        before: Option<u64>,
        limit: u64,
    ) -> Result<Vec<CheckpointSummary>> {
        let rows = sqlx::query(
            "SELECT size, root, source_block_number, created_at FROM checkpoints
             WHERE chain = $1 AND size < $2 ORDER BY size DESC LIMIT $3",
        )
        .bind(chain.as_str())
        .bind(before.map_or(i64::MAX, int))
        .bind(int(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CheckpointSummary {
                    size: uint(r.try_get("size")?),
                    root: parse_b256("checkpoints.root", r.try_get("root")?)?,
                    source_block_number: uint(r.try_get("source_block_number")?),
                    created_at_ms: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The chain's quarantined events older than `before` (all when `None`), newest
    /// first, at most `limit`.
    pub async fn load_quarantined_page(
        &self,
        chain: &ChainId,
        before: Option<QuarantineCursor>,
        limit: u64,
    ) -> Result<Vec<Quarantined>> {
        let (block, log) = before.map_or((i64::MAX, i64::MAX), |c| {
            (int(c.block_number), int(c.log_index))
        });
        let rows = sqlx::query(
            "SELECT * FROM quarantine WHERE chain = $1
             AND (block_number < $2 OR (block_number = $2 AND log_index < $3))
             ORDER BY block_number DESC, log_index DESC LIMIT $4",
        )
        .bind(chain.as_str())
        .bind(block)
        .bind(log)
        .bind(int(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let raw: String = r.try_get("raw")?;
                Ok(Quarantined {
                    chain: chain.clone(),
                    adapter: r.try_get("adapter")?,
                    block_number: uint(r.try_get("block_number")?),
                    block_hash: parse_b256("quarantine.block_hash", r.try_get("block_hash")?)?,
                    tx_hash: parse_b256("quarantine.tx_hash", r.try_get("tx_hash")?)?,
                    log_index: uint(r.try_get("log_index")?),
                    reason: r.try_get("reason")?,
                    raw: raw
                        .parse::<Bytes>()
                        .map_err(|e| RelayerError::corrupt(format!("quarantine.raw: {e}")))?,
                })
            })
            .collect()
    }

    /// Submission counts of every route in the store.
    pub async fn count_submissions_by_route(&self) -> Result<Vec<RouteCounts>> {
        let rows = sqlx::query(
            "SELECT source_chain, destination_chain,
                    SUM(CASE WHEN state IN ('confirmed', 'observed') THEN 1 ELSE 0 END) AS confirmed,
                    SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
                    MAX(CASE WHEN state IN ('confirmed', 'observed') THEN updated_at END) AS last_confirmed_at
             FROM submissions GROUP BY source_chain, destination_chain
             ORDER BY source_chain, destination_chain",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RouteCounts {
                    source_chain: parse_chain(r.try_get("source_chain")?)?,
                    destination_chain: parse_chain(r.try_get("destination_chain")?)?,
                    confirmed: uint(r.try_get::<Option<i64>, _>("confirmed")?.unwrap_or(0)),
                    failed: uint(r.try_get::<Option<i64>, _>("failed")?.unwrap_or(0)),
                    last_confirmed_at_ms: r.try_get("last_confirmed_at")?,
                })
            })
            .collect()
    }

    /// `Ok` when the store answers a query (readiness probe).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(self.reader())
            .await?;
        Ok(())
    }
}
