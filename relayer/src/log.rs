//! The per-chain transparency logs, read from the store.
//!
//! Each source chain's log is an RFC 6962 tree over the record ids of its logged
//! records, in leaf order, stored as tiles (see [`crate::store`]'s `tiles` module and
//! [`evidence_schemas::log::tiles`]). The tiles are written in the same transaction as
//! the records, so there is nothing to rebuild at start and nothing to keep in memory:
//! every root and proof is read from the `O(log n)` tiles it needs.

use std::sync::Arc;

use alloy::primitives::B256;
use evidence_schemas::ChainId;

use tracing::info;

use crate::{RelayerError, Result, store::Store};

/// Leaves tiled per transaction when migrating a store from before tiles.
pub const MIGRATE_CHUNK: u64 = 50_000;

/// One step of migrating a chain's log from a store that predates tiles: builds the
/// tiles of up to [`MIGRATE_CHUNK`] more logged records in one transaction (a kill
/// loses at most that chunk; the next step resumes from what is stored). Returns
/// whether the chain still needed it (`false`: its tiles cover its log). Logs a line
/// per million leaves and when done.
pub async fn migrate_step(store: &Store, chain: &ChainId) -> Result<bool> {
    let before = store.load_tile_progress(chain).await?;
    if before.done() {
        return Ok(false);
    }
    if before.tiled == 0 {
        info!(target: "relayer::log", chain = %chain, log_size = before.log_size,
            "store predates stored tiles: building the log's tiles (resumable; proofs wait until done)");
    }
    let after = store.build_tiles_step(chain, MIGRATE_CHUNK).await?;
    if after.done() {
        info!(target: "relayer::log", chain = %chain, log_size = after.log_size, "log tiles built");
    } else if after.tiled / 1_000_000 > before.tiled / 1_000_000 {
        info!(target: "relayer::log", chain = %chain, tiled = after.tiled, log_size = after.log_size,
            "building log tiles");
    }
    Ok(true)
}

/// The logs of the source chains of this instance, over the store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Logs {
    store: Store,
    chains: Arc<[ChainId]>,
}

impl Logs {
    /// The logs of `chains` in `store`. Reads nothing.
    pub fn new(store: Store, chains: &[ChainId]) -> Self {
        Self {
            store,
            chains: chains.into(),
        }
    }

    fn check(&self, chain: &ChainId) -> Result<()> {
        if self.chains.contains(chain) {
            Ok(())
        } else {
            Err(RelayerError::Config(format!(
                "{chain} is not a source chain of this relayer"
            )))
        }
    }

    /// The number of records of the chain's log that proofs can be served for (all
    /// of them, except while a store from before tiles is being migrated).
    pub async fn size(&self, chain: &ChainId) -> Result<u64> {
        self.check(chain)?;
        self.store.tiled_size(chain).await
    }

    /// Whether the chain's tiles cover its whole log.
    pub async fn is_ready(&self, chain: &ChainId) -> Result<bool> {
        self.check(chain)?;
        Ok(self.store.load_tile_progress(chain).await?.done())
    }

    /// The root of the first `size` records.
    pub async fn root_at(&self, chain: &ChainId, size: u64) -> Result<B256> {
        self.check(chain)?;
        self.store.load_root_at(chain, size).await
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` records.
    pub async fn inclusion_proof(
        &self,
        chain: &ChainId,
        index: u64,
        size: u64,
    ) -> Result<Vec<B256>> {
        self.check(chain)?;
        self.store.load_inclusion_proof(chain, index, size).await
    }

    /// Consistency proof from `old_size` to `new_size`; empty when `old_size` is 0
    /// (the mirror's first checkpoint needs none).
    pub async fn consistency_proof(
        &self,
        chain: &ChainId,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<B256>> {
        self.check(chain)?;
        self.store
            .load_consistency_proof(chain, old_size, new_size)
            .await
    }
}
