//! The checkpoint stage: when new records are logged and either `checkpoint_interval`
//! passed since the last checkpoint or `checkpoint_max_records` new records
//! accumulated, a checkpoint (size, root, block the log is built up to) is computed
//! from this instance's own log and stored.
//!
//! Round-trip receipts are logged like any record, but new leaves that are only echoes
//! (receipts of checkpoints that themselves held only receipts; see
//! [`Store::range_news`]) do not make a checkpoint due: otherwise every chain would
//! acknowledge every other chain's acknowledgements forever. They are covered by the
//! next checkpoint that carries news.

use std::time::Duration;

use async_trait::async_trait;
use evidence_schemas::{ChainId, Checkpoint};
use tracing::{debug, info, instrument};

use super::{Stage, StageContext};
use crate::{
    RelayerError, Result,
    log::Logs,
    store::{RangeNews, Store, now_ms},
};

/// When to checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Checkpoint new records at least this often.
    pub interval: Duration,
    /// Checkpoint as soon as this many new records accumulated.
    pub max_records: u64,
}

/// The checkpoint stage of one source chain. Nothing to unwind: a checkpoint covers
/// logged records only, and the log is never rewritten.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointStage<'a> {
    /// The chain.
    pub chain: &'a ChainId,
    /// When a checkpoint is due.
    pub policy: CheckpointPolicy,
}

#[async_trait]
impl Stage for CheckpointStage<'_> {
    type Outcome = Option<Checkpoint>;

    fn name(&self) -> &'static str {
        "checkpoint"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<Option<Checkpoint>> {
        checkpoint_once(ctx.store, ctx.logs, self.chain, &self.policy).await
    }
}

/// Creates a checkpoint of `chain` if one is due; returns it.
#[instrument(target = "relayer::checkpoint", skip_all, fields(chain = %chain))]
pub async fn checkpoint_once(
    store: &Store,
    logs: &Logs,
    chain: &ChainId,
    policy: &CheckpointPolicy,
) -> Result<Option<Checkpoint>> {
    let Some(cursor) = store.load_cursor(chain).await? else {
        return Ok(None);
    };
    if cursor.halted_reason.is_some() || cursor.log_size == 0 {
        return Ok(None);
    }
    let size = cursor.log_size;
    if logs.size(chain).await? < size {
        // A store from before tiles, still being migrated: no root yet.
        return Ok(None);
    }
    let last = store.load_last_checkpoint(chain).await?;
    if let Some((last, created_at)) = &last {
        if last.size >= size {
            return Ok(None);
        }
        let elapsed = u128::try_from(now_ms().saturating_sub(*created_at)).unwrap_or(0);
        let due =
            elapsed >= policy.interval.as_millis() || size - last.size >= policy.max_records.max(1);
        if !due {
            return Ok(None);
        }
    }
    let from = last.map_or(0, |(c, _)| c.size);
    if store.range_news(chain, from, size).await? == RangeNews::Echo {
        debug!(target: "relayer::checkpoint", from, size, "new leaves are only echoed receipts: no checkpoint");
        return Ok(None);
    }
    let (block, hash) = cursor.confirmed_block.ok_or_else(|| {
        RelayerError::corrupt(format!(
            "{chain}: log has {size} records but no confirmed block"
        ))
    })?;
    let checkpoint = Checkpoint {
        source_chain: chain.clone(),
        size,
        root: logs.root_at(chain, size).await?,
        source_block_number: block,
        source_block_hash: hash,
    };
    store.insert_checkpoint(&checkpoint).await?;
    info!(target: "relayer::checkpoint", size, root = %checkpoint.root, source_block = block, "checkpoint created");
    Ok(Some(checkpoint))
}
