//! The per-chain transparency logs, in memory.
//!
//! Each source chain's log is an RFC 6962 [`MerkleLog`] over the record ids of its
//! logged records, in leaf order. It is rebuilt from the store at start (record ids →
//! leaf hashes → tree) and appended to as the index stage confirms records, always
//! after the store committed them, so the store is the truth and this is a cache.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use alloy::primitives::B256;
use evidence_schemas::{ChainId, log::MerkleLog};

use crate::{RelayerError, Result, store::Store};

/// The logs of every source chain this instance indexes. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    chains: Arc<HashMap<ChainId, RwLock<MerkleLog>>>,
}

impl Logs {
    /// Rebuilds the logs of `chains` from the store.
    pub async fn load(store: &Store, chains: &[ChainId]) -> Result<Self> {
        let mut map = HashMap::new();
        for chain in chains {
            let ids = store.load_leaf_ids(chain, None).await?;
            let log = MerkleLog::from_record_ids(&ids);
            if let Some(cursor) = store.load_cursor(chain).await?
                && cursor.log_size != log.size()
            {
                return Err(RelayerError::corrupt(format!(
                    "{chain}: cursor says the log has {} records, the records table holds {}",
                    cursor.log_size,
                    log.size()
                )));
            }
            map.insert(chain.clone(), RwLock::new(log));
        }
        Ok(Self {
            chains: Arc::new(map),
        })
    }

    /// Empty logs of `chains`, to be filled by [`Logs::catch_up`] on first use (a
    /// read-only lookup node: the first proof of a chain reads its leaves once, later
    /// ones only the leaves logged since).
    pub fn empty(chains: &[ChainId]) -> Self {
        let map = chains.iter().map(|c| (c.clone(), RwLock::new(MerkleLog::default()))).collect();
        Self { chains: Arc::new(map) }
    }

    fn entry(&self, chain: &ChainId) -> Result<&RwLock<MerkleLog>> {
        self.chains.get(chain).ok_or_else(|| {
            RelayerError::Config(format!("{chain} is not a source chain of this relayer"))
        })
    }

    /// Read access to a chain's log.
    pub fn read(&self, chain: &ChainId) -> Result<RwLockReadGuard<'_, MerkleLog>> {
        // A poisoned lock only means a panic elsewhere; the tree itself is consistent
        // because appends are single pushes.
        Ok(self.entry(chain)?.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn write(&self, chain: &ChainId) -> Result<RwLockWriteGuard<'_, MerkleLog>> {
        Ok(self
            .entry(chain)?
            .write()
            .unwrap_or_else(|e| e.into_inner()))
    }

    /// Appends records the store just logged starting at leaf `first_leaf`. Leaves the
    /// log already has (a concurrent [`Logs::catch_up`] read them from the store) are
    /// skipped.
    pub fn append(&self, chain: &ChainId, first_leaf: u64, record_ids: &[B256]) -> Result<()> {
        let mut log = self.write(chain)?;
        if log.size() < first_leaf {
            return Err(RelayerError::corrupt(format!(
                "{chain}: in-memory log has {} leaves but the store logged records from leaf {first_leaf}; restart to rebuild",
                log.size()
            )));
        }
        let skip = usize::try_from(log.size() - first_leaf).unwrap_or(usize::MAX);
        log.extend(record_ids.iter().skip(skip).copied());
        Ok(())
    }

    /// Appends the leaves the store logged beyond this log's size (another instance
    /// may have extended the log; the log is append-only, so what is here stays valid).
    /// Returns the number of leaves added.
    pub async fn catch_up(&self, store: &Store, chain: &ChainId) -> Result<u64> {
        let Some(cursor) = store.load_cursor(chain).await? else {
            return Ok(0);
        };
        let have = self.size(chain)?;
        if cursor.log_size <= have {
            return Ok(0);
        }
        let ids = store
            .load_leaf_ids_range(chain, have, cursor.log_size)
            .await?;
        if (ids.len() as u64) != cursor.log_size - have {
            return Err(RelayerError::corrupt(format!(
                "{chain}: cursor says the log has {} records, the records table holds {}",
                cursor.log_size,
                have + ids.len() as u64
            )));
        }
        self.append(chain, have, &ids)?;
        Ok(cursor.log_size - have)
    }

    /// The number of records in the chain's log.
    pub fn size(&self, chain: &ChainId) -> Result<u64> {
        Ok(self.read(chain)?.size())
    }

    /// The root of the first `size` records.
    pub fn root_at(&self, chain: &ChainId, size: u64) -> Result<B256> {
        self.read(chain)?
            .root_at(size)
            .map_err(|e| RelayerError::log(chain, e))
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` records.
    pub fn inclusion_proof(&self, chain: &ChainId, index: u64, size: u64) -> Result<Vec<B256>> {
        self.read(chain)?
            .inclusion_proof(index, size)
            .map_err(|e| RelayerError::log(chain, e))
    }

    /// Consistency proof from `old_size` to `new_size`; empty when `old_size` is 0
    /// (the mirror's first checkpoint needs none).
    pub fn consistency_proof(
        &self,
        chain: &ChainId,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<B256>> {
        if old_size == 0 {
            return Ok(Vec::new());
        }
        self.read(chain)?
            .consistency_proof(old_size, new_size)
            .map_err(|e| RelayerError::log(chain, e))
    }
}
