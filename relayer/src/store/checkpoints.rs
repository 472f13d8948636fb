//! Checkpoints and attestor signatures.

use alloy::primitives::{Address, Bytes};
use evidence_adapters::receipts::{RECEIPTS_ADAPTER, receipt_digest};
use evidence_schemas::{ChainId, Checkpoint, EvidenceRecord, checkpoint::AttestorSignature};
use sqlx::Row;

use super::{
    Store, hex_addr, hex32, int, now_ms, parse_address, parse_b256, records::RECEIPTS_ONLY, uint,
};
use crate::{RelayerError, Result};

impl Store {
    /// Stores a checkpoint this instance computed.
    pub async fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let mut tx = self.begin_fenced().await?;
        sqlx::query(
            "INSERT INTO checkpoints (chain, size, root, source_block_number, source_block_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain, size) DO NOTHING",
        )
        .bind(checkpoint.source_chain.as_str())
        .bind(int(checkpoint.size))
        .bind(hex32(&checkpoint.root))
        .bind(int(checkpoint.source_block_number))
        .bind(hex32(&checkpoint.source_block_hash))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest checkpoint of the chain and when it was made (unix ms).
    pub async fn load_last_checkpoint(&self, chain: &ChainId) -> Result<Option<(Checkpoint, i64)>> {
        let row =
            sqlx::query("SELECT * FROM checkpoints WHERE chain = $1 ORDER BY size DESC LIMIT 1")
                .bind(chain.as_str())
                .fetch_optional(self.reader())
                .await?;
        row.map(|r| Ok((checkpoint_from_row(chain, &r)?, r.try_get("created_at")?)))
            .transpose()
    }

    /// The chain's checkpoint of `size`.
    pub async fn load_checkpoint(&self, chain: &ChainId, size: u64) -> Result<Option<Checkpoint>> {
        let row = sqlx::query("SELECT * FROM checkpoints WHERE chain = $1 AND size = $2")
            .bind(chain.as_str())
            .bind(int(size))
            .fetch_optional(self.reader())
            .await?;
        row.map(|r| checkpoint_from_row(chain, &r)).transpose()
    }

    /// Checkpoints of the chain larger than `after`, newest first, at most `limit`.
    pub async fn load_checkpoints_after(
        &self,
        chain: &ChainId,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Checkpoint>> {
        let rows = sqlx::query(
            "SELECT * FROM checkpoints WHERE chain = $1 AND size > $2 ORDER BY size DESC LIMIT $3",
        )
        .bind(chain.as_str())
        .bind(int(after))
        .bind(int(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| checkpoint_from_row(chain, r)).collect()
    }

    /// The largest checkpoint size `attestor` has signed for the destination.
    pub async fn load_last_signed_size(
        &self,
        chain: &ChainId,
        destination: &ChainId,
        mirror: &Address,
        attestor: &Address,
    ) -> Result<u64> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(size) FROM signatures WHERE chain = $1 AND destination = $2 AND mirror = $3 AND attestor = $4",
        )
        .bind(chain.as_str())
        .bind(destination.as_str())
        .bind(hex_addr(mirror))
        .bind(hex_addr(attestor))
        .fetch_one(self.reader())
        .await?;
        Ok(size.map_or(0, uint))
    }

    /// Stores signatures over the chain's checkpoint of `size` for one destination
    /// (one transaction; a signature stored before is kept).
    pub async fn insert_signatures(
        &self,
        chain: &ChainId,
        size: u64,
        destination: &ChainId,
        mirror: &Address,
        signatures: &[AttestorSignature],
    ) -> Result<()> {
        let mut tx = self.begin_fenced().await?;
        for s in signatures {
            sqlx::query(
                "INSERT INTO signatures (chain, size, destination, mirror, attestor, signature, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (chain, size, destination, mirror, attestor) DO NOTHING",
            )
            .bind(chain.as_str())
            .bind(int(size))
            .bind(destination.as_str())
            .bind(hex_addr(mirror))
            .bind(hex_addr(&s.attestor))
            .bind(format!("{:#x}", s.signature))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Signatures over the chain's checkpoint of `size` for a destination, sorted by
    /// attestor address.
    pub async fn load_signatures(
        &self,
        chain: &ChainId,
        size: u64,
        destination: &ChainId,
        mirror: &Address,
    ) -> Result<Vec<AttestorSignature>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT attestor, signature FROM signatures
             WHERE chain = $1 AND size = $2 AND destination = $3 AND mirror = $4",
        )
        .bind(chain.as_str())
        .bind(int(size))
        .bind(destination.as_str())
        .bind(hex_addr(mirror))
        .fetch_all(self.reader())
        .await?;
        let mut out = rows
            .iter()
            .map(|(a, s)| {
                let signature = s.parse::<Bytes>().map_err(|e| {
                    RelayerError::corrupt(format!("signatures.signature {s:?}: {e}"))
                })?;
                Ok(AttestorSignature {
                    attestor: parse_address("signatures.attestor", a)?,
                    signature,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|s| s.attestor);
        Ok(out)
    }
}

fn checkpoint_from_row(chain: &ChainId, r: &sqlx::any::AnyRow) -> Result<Checkpoint> {
    Ok(Checkpoint {
        source_chain: chain.clone(),
        size: uint(r.try_get("size")?),
        root: parse_b256("checkpoints.root", r.try_get("root")?)?,
        source_block_number: uint(r.try_get("source_block_number")?),
        source_block_hash: parse_b256(
            "checkpoints.source_block_hash",
            r.try_get("source_block_hash")?,
        )?,
    })
}

/// Picks, from `signatures` (any order), those by members of `attestors`, sorted by
/// address, at most `threshold` of them. `None` when fewer than `threshold` qualify.
pub(crate) fn select_signatures(
    signatures: &[AttestorSignature],
    attestors: &[Address],
    threshold: u8,
) -> Option<Vec<AttestorSignature>> {
    let mut chosen: Vec<AttestorSignature> = signatures
        .iter()
        .filter(|s| attestors.contains(&s.attestor))
        .cloned()
        .collect();
    chosen.sort_by_key(|s| s.attestor);
    chosen.dedup_by_key(|s| s.attestor);
    if threshold == 0 || chosen.len() < usize::from(threshold) {
        return None;
    }
    chosen.truncate(usize::from(threshold));
    Some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(byte: u8) -> AttestorSignature {
        AttestorSignature {
            attestor: Address::repeat_byte(byte),
            signature: Bytes::from(vec![byte; 65]),
        }
    }

    #[test]
    fn selects_threshold_members_sorted() {
        let set = [
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
        ];
        let stored = [sig(3), sig(9), sig(1), sig(2), sig(1)];
        let chosen = select_signatures(&stored, &set, 2).unwrap();
        assert_eq!(
            chosen.iter().map(|s| s.attestor).collect::<Vec<_>>(),
            &set[..2]
        );
        assert!(select_signatures(&stored, &set[..1], 2).is_none());
        assert!(select_signatures(&stored, &set, 0).is_none());
    }
}

/// Why a log range is (or is not) worth a checkpoint; see [`Store::range_news`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeNews {
    /// The range holds a record that is not a round-trip receipt.
    Evidence,
    /// Only receipts, at least one acknowledging a checkpoint that carried evidence:
    /// checkpointing it lets the other chain prove its checkpoint was accepted here.
    FirstReceipt,
    /// Empty, or only receipts of receipts (or of checkpoints this store does not
    /// know): checkpointing it would only make the chains acknowledge each other's
    /// acknowledgements forever.
    Echo,
}

impl Store {
    /// Classifies the leaves `[from, to)` of `chain`'s log.
    ///
    /// A round-trip receipt (adapter `bridge-receipts`) records that a mirror accepted a
    /// checkpoint of another chain. A checkpoint of receipts is itself accepted
    /// elsewhere and acknowledged by another receipt, so a policy that checkpointed
    /// every growth would bounce between the chains forever. The rule: evidence is
    /// always news; a receipt is news when the checkpoint it acknowledges (found by its
    /// source block hash, checked against the receipt's digest) covered evidence in its
    /// own new leaves; anything else is an echo, logged and left for the next
    /// checkpoint that carries news.
    pub async fn range_news(&self, chain: &ChainId, from: u64, to: u64) -> Result<RangeNews> {
        if self.has_evidence(chain, from, to).await? {
            return Ok(RangeNews::Evidence);
        }
        let sql = format!(
            "SELECT {} FROM records WHERE chain = $1 AND leaf_index >= $2 AND leaf_index < $3
             AND {RECEIPTS_ONLY} ORDER BY leaf_index",
            super::records::record_columns!("")
        );
        let rows = sqlx::query(&sql)
            .bind(chain.as_str())
            .bind(int(from))
            .bind(int(to))
            .fetch_all(self.reader())
            .await?;
        for row in rows {
            let (_, record) = super::records::record_from_row(&row)?;
            if self.acknowledges_evidence(&record).await? {
                return Ok(RangeNews::FirstReceipt);
            }
        }
        Ok(RangeNews::Echo)
    }

    /// Whether leaves `[from, to)` of `chain` hold a record that is not a receipt.
    async fn has_evidence(&self, chain: &ChainId, from: u64, to: u64) -> Result<bool> {
        let hit: Option<i64> = sqlx::query_scalar(
            "SELECT leaf_index FROM records WHERE chain = $1 AND leaf_index >= $2 AND leaf_index < $3
             AND adapter <> $4 LIMIT 1",
        )
        .bind(chain.as_str())
        .bind(int(from))
        .bind(int(to))
        .bind(RECEIPTS_ADAPTER)
        .fetch_optional(self.reader())
        .await?;
        Ok(hit.is_some())
    }

    /// Whether the checkpoint `receipt` acknowledges is one of ours whose new leaves
    /// (since the checkpoint before it) hold evidence.
    async fn acknowledges_evidence(&self, receipt: &EvidenceRecord) -> Result<bool> {
        let rows = sqlx::query("SELECT * FROM checkpoints WHERE source_block_hash = $1")
            .bind(hex32(&receipt.evidence.metadata))
            .fetch_all(self.reader())
            .await?;
        for row in rows {
            let chain = super::parse_chain(row.try_get("chain")?)?;
            let checkpoint = checkpoint_from_row(&chain, &row)?;
            if receipt_digest(chain.key(), checkpoint.size, checkpoint.root)
                != receipt.evidence.digest
            {
                continue;
            }
            let previous: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(size) FROM checkpoints WHERE chain = $1 AND size < $2",
            )
            .bind(chain.as_str())
            .bind(int(checkpoint.size))
            .fetch_one(self.reader())
            .await?;
            if self
                .has_evidence(&chain, previous.map_or(0, uint), checkpoint.size)
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
