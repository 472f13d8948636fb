//! Submissions of checkpoints to destination mirrors: the prepare → send → confirm
//! state machine, one row per (route, checkpoint size), every transition one write.
//!
//! A row's transaction is a [`PreparedSubmission`], opaque here: `tx_hash` (its id),
//! `tx_payload` (0x-hex, read only by the destination's submitter) and `tx_summary`.
//! Rows written before migration 0040 hold an EVM transaction in the columns `raw_tx`,
//! `nonce`, `max_fee_per_gas` and `max_priority_fee_per_gas` instead; they are read
//! into the EVM payload they would have been given ([`legacy_evm_submission`]).

use std::{fmt, str::FromStr};

use alloy::primitives::{B256, Bytes};
use evidence_adapters::{PreparedSubmission, evm_mirror::EvmTxPayload};
use evidence_schemas::SignedCheckpoint;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Route, Store, hex32, int, now_ms, parse_b256, parse_chain, uint};
use crate::{RelayerError, Result};

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubmissionState {
    /// Signed transaction stored, maybe not broadcast yet.
    Prepared,
    /// Broadcast, waiting to be mined.
    Sent,
    /// Mined and accepted by the mirror.
    Confirmed,
    /// Mined and reverted, or dropped; a newer submission starts over.
    Failed,
    /// Not needed any more: the mirror already has this size or more.
    Superseded,
    /// Accepted by the mirror from another submitter (same size, same root).
    Observed,
}

impl SubmissionState {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Prepared => "prepared",
            Self::Sent => "sent",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
            Self::Observed => "observed",
        }
    }

    /// Whether a transaction may still be pending.
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Prepared | Self::Sent)
    }
}

impl fmt::Display for SubmissionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubmissionState {
    type Err = RelayerError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "prepared" => Self::Prepared,
            "sent" => Self::Sent,
            "confirmed" => Self::Confirmed,
            "failed" => Self::Failed,
            "superseded" => Self::Superseded,
            "observed" => Self::Observed,
            other => {
                return Err(RelayerError::corrupt(format!(
                    "unknown submission state {other:?}"
                )));
            }
        })
    }
}

/// What a submission transaction carries, kept so a replacement carries the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionPayload {
    /// The checkpoint with the signatures chosen for the mirror.
    pub signed: SignedCheckpoint,
    /// Consistency proof from `from_size`.
    pub consistency_proof: Vec<B256>,
    /// The mirror's size the proof starts from.
    pub from_size: u64,
}

/// One submission row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The route.
    pub route: Route,
    /// Checkpoint size.
    pub size: u64,
    /// State.
    pub state: SubmissionState,
    /// The current transaction (none for `observed`).
    pub tx: Option<PreparedSubmission>,
    /// Hashes of transactions this one replaced (same nonce).
    pub prior_tx_hashes: Vec<B256>,
    /// What the transaction carries.
    pub payload: Option<SubmissionPayload>,
    /// Transactions prepared for this row so far.
    pub attempts: u64,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// Block the transaction was mined in.
    pub mined_block: Option<u64>,
    /// When the current transaction was first broadcast (unix ms).
    pub sent_at: Option<i64>,
    /// Last change (unix ms).
    pub updated_at: i64,
}

const LIVE: &str = "state IN ('prepared', 'sent')";

impl Store {
    /// The route's submission in `prepared` or `sent` state (at most one exists).
    pub async fn load_live_submission(&self, route: &Route) -> Result<Option<Submission>> {
        self.load_submission_where(route, LIVE).await
    }

    /// The route's submission of checkpoint `size`.
    pub async fn load_submission(&self, route: &Route, size: u64) -> Result<Option<Submission>> {
        self.load_submission_where(route, &format!("size = {}", int(size)))
            .await
    }

    /// The route's largest submission the mirror accepted (`confirmed` or `observed`).
    pub async fn load_last_confirmed_submission(
        &self,
        route: &Route,
    ) -> Result<Option<Submission>> {
        self.load_submission_where(route, "state IN ('confirmed', 'observed')")
            .await
    }

    /// The route's most recently changed submission.
    pub async fn load_latest_submission(&self, route: &Route) -> Result<Option<Submission>> {
        let row = sqlx::query(
            "SELECT * FROM submissions WHERE source_chain = $1 AND destination_chain = $2
             ORDER BY updated_at DESC, size DESC LIMIT 1",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| submission_from_row(&r)).transpose()
    }

    async fn load_submission_where(
        &self,
        route: &Route,
        filter: &str,
    ) -> Result<Option<Submission>> {
        let sql = format!(
            "SELECT * FROM submissions WHERE source_chain = $1 AND destination_chain = $2 AND {filter}
             ORDER BY size DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(route.source.as_str())
            .bind(route.destination.as_str())
            .fetch_optional(self.writer())
            .await?;
        row.map(|r| submission_from_row(&r)).transpose()
    }

    /// Every accepted (`confirmed`/`observed`) submission of the route of at least
    /// `min_size`, largest first.
    pub async fn load_confirmed_submissions(
        &self,
        route: &Route,
        min_size: u64,
    ) -> Result<Vec<Submission>> {
        let rows = sqlx::query(
            "SELECT * FROM submissions WHERE source_chain = $1 AND destination_chain = $2
             AND state IN ('confirmed', 'observed') AND size >= $3 ORDER BY size DESC",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(min_size))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(submission_from_row).collect()
    }

    /// The largest accepted (`confirmed`/`observed`) submission of the route of at
    /// least `min_size`: what a proof of a leaf below `min_size` is built against (one
    /// row, where [`Self::load_confirmed_submissions`] reads every one).
    pub async fn load_newest_confirmed_submission(
        &self,
        route: &Route,
        min_size: u64,
    ) -> Result<Option<Submission>> {
        let row = sqlx::query(
            "SELECT * FROM submissions WHERE source_chain = $1 AND destination_chain = $2
             AND state IN ('confirmed', 'observed') AND size >= $3 ORDER BY size DESC LIMIT 1",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(min_size))
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(submission_from_row).transpose()
    }

    /// Stores a freshly prepared transaction for (route, size): state `prepared`.
    /// Fails (unique index) if another submission of the route is live.
    pub async fn save_prepared(
        &self,
        route: &Route,
        size: u64,
        payload: &SubmissionPayload,
        tx: &PreparedSubmission,
    ) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let payload = serde_json::to_string(payload).map_err(|e| {
            RelayerError::corrupt(format!("submission payload does not serialize: {e}"))
        })?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO submissions (source_chain, destination_chain, size, state, tx_hash, tx_payload,
                tx_summary, payload, attempts, created_at, updated_at)
             VALUES ($1, $2, $3, 'prepared', $4, $5, $6, $7, 1, $8, $8)
             ON CONFLICT (source_chain, destination_chain, size) DO UPDATE SET
                state = 'prepared', tx_hash = excluded.tx_hash, tx_payload = excluded.tx_payload,
                tx_summary = excluded.tx_summary, raw_tx = NULL, nonce = NULL,
                max_fee_per_gas = NULL, max_priority_fee_per_gas = NULL,
                payload = excluded.payload, attempts = submissions.attempts + 1,
                prior_tx_hashes = '', sent_at = NULL, mined_block = NULL, updated_at = excluded.updated_at",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(hex32(&tx.id))
        .bind(format!("{:#x}", tx.payload))
        .bind(tx.summary.as_str())
        .bind(payload)
        .bind(now)
        .execute(&mut *db)
        .await?;
        db.commit().await?;
        Ok(())
    }

    /// Replaces the live transaction of (route, size) with `tx` (one the submitter
    /// built to replace it, e.g. same nonce and higher fees): state back to
    /// `prepared`, the old id kept in `prior_tx_hashes`.
    pub async fn save_replacement(
        &self,
        route: &Route,
        size: u64,
        old: &B256,
        tx: &PreparedSubmission,
    ) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let n = sqlx::query(&format!(
            "UPDATE submissions SET state = 'prepared', tx_hash = $4, tx_payload = $5, tx_summary = $6,
                raw_tx = NULL, nonce = NULL, max_fee_per_gas = NULL, max_priority_fee_per_gas = NULL,
                prior_tx_hashes = prior_tx_hashes || $7, attempts = attempts + 1, sent_at = NULL,
                updated_at = $8
             WHERE source_chain = $1 AND destination_chain = $2 AND size = $3 AND {LIVE}"
        ))
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(hex32(&tx.id))
        .bind(format!("{:#x}", tx.payload))
        .bind(tx.summary.as_str())
        .bind(format!("{},", hex32(old)))
        .bind(now_ms())
        .execute(&mut *db)
        .await?
        .rows_affected();
        expect_one(n, route, size, "replace")?;
        db.commit().await?;
        Ok(())
    }

    /// `prepared` → `sent` (the transaction was broadcast).
    pub async fn mark_sent(&self, route: &Route, size: u64) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE submissions SET state = 'sent', sent_at = COALESCE(sent_at, $4), updated_at = $4
             WHERE source_chain = $1 AND destination_chain = $2 AND size = $3 AND state = 'prepared'",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(now)
        .execute(&mut *db)
        .await?;
        db.commit().await?;
        Ok(())
    }

    /// The live submission was mined and accepted, by transaction `tx_hash` (the
    /// current one or one it replaced).
    pub async fn mark_confirmed(
        &self,
        route: &Route,
        size: u64,
        tx_hash: &B256,
        block: u64,
    ) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let n = sqlx::query(&format!(
            "UPDATE submissions SET state = 'confirmed', tx_hash = $4, mined_block = $5, last_error = NULL,
                updated_at = $6
             WHERE source_chain = $1 AND destination_chain = $2 AND size = $3 AND {LIVE}"
        ))
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(hex32(tx_hash))
        .bind(int(block))
        .bind(now_ms())
        .execute(&mut *db)
        .await?
        .rows_affected();
        expect_one(n, route, size, "confirm")?;
        super::mirrors::note_mirrored(&mut db, route, size).await?;
        db.commit().await?;
        Ok(())
    }

    /// The live submission ends as `failed` or `superseded`, with why.
    pub async fn mark_finished(
        &self,
        route: &Route,
        size: u64,
        state: SubmissionState,
        reason: &str,
    ) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let n = sqlx::query(&format!(
            "UPDATE submissions SET state = $4, last_error = $5, updated_at = $6
             WHERE source_chain = $1 AND destination_chain = $2 AND size = $3 AND {LIVE}"
        ))
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(state.as_str())
        // Stored, then shown by `status` and the API: never an RPC URL's key.
        .bind(evidence_adapters::redact::scrub(reason).as_ref())
        .bind(now_ms())
        .execute(&mut *db)
        .await?
        .rows_affected();
        expect_one(n, route, size, state.as_str())?;
        db.commit().await?;
        Ok(())
    }

    /// Records that the mirror accepted our checkpoint of `size` from another submitter.
    /// A failed or superseded row of that size becomes `observed` and forgets its
    /// transaction: that transaction is not the one that was accepted, and a proof
    /// bundle must not name it.
    pub async fn save_observed(&self, route: &Route, size: u64) -> Result<()> {
        let mut db = self.begin_fenced().await?;
        let now = now_ms();
        let n = sqlx::query(
            "INSERT INTO submissions (source_chain, destination_chain, size, state, attempts, last_error,
                created_at, updated_at)
             VALUES ($1, $2, $3, 'observed', 0, 'accepted by the mirror from another submitter', $4, $4)
             ON CONFLICT (source_chain, destination_chain, size) DO UPDATE SET state = 'observed',
                updated_at = excluded.updated_at, tx_hash = NULL, tx_payload = NULL, tx_summary = NULL,
                raw_tx = NULL, nonce = NULL, mined_block = NULL
             WHERE submissions.state IN ('failed', 'superseded')",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(now)
        .execute(&mut *db)
        .await?
        .rows_affected();
        if n > 0 {
            super::mirrors::note_mirrored(&mut db, route, size).await?;
        }
        db.commit().await?;
        Ok(())
    }

    /// Submissions of the route that the mirror accepted from us (`confirmed`).
    pub async fn count_confirmed_submissions(&self, route: &Route) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM submissions WHERE source_chain = $1 AND destination_chain = $2 AND state = 'confirmed'",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .fetch_one(self.reader())
        .await?;
        Ok(uint(n))
    }
}

fn expect_one(rows: u64, route: &Route, size: u64, what: &str) -> Result<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(RelayerError::corrupt(format!(
            "cannot {what} submission of size {size} on route {route}: it is not live any more"
        )))
    }
}

fn submission_from_row(r: &sqlx::any::AnyRow) -> Result<Submission> {
    let hash: Option<String> = r.try_get("tx_hash")?;
    let payload: Option<String> = r.try_get("tx_payload")?;
    let tx = match (hash, payload) {
        (Some(h), Some(payload)) => Some(PreparedSubmission {
            id: parse_b256("submissions.tx_hash", &h)?,
            payload: payload
                .parse::<Bytes>()
                .map_err(|e| RelayerError::corrupt(format!("submissions.tx_payload: {e}")))?,
            summary: r
                .try_get::<Option<String>, _>("tx_summary")?
                .unwrap_or_default(),
        }),
        (Some(h), None) => legacy_evm_submission(r, &h)?,
        (None, _) => None,
    };
    let prior: String = r.try_get("prior_tx_hashes")?;
    let prior_tx_hashes = prior
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse_b256("submissions.prior_tx_hashes", s))
        .collect::<Result<Vec<_>>>()?;
    let payload: Option<String> = r.try_get("payload")?;
    let payload = payload
        .map(|p| {
            serde_json::from_str(&p)
                .map_err(|e| RelayerError::corrupt(format!("submissions.payload: {e}")))
        })
        .transpose()?;
    let state: String = r.try_get("state")?;
    Ok(Submission {
        route: Route {
            source: parse_chain(r.try_get("source_chain")?)?,
            destination: parse_chain(r.try_get("destination_chain")?)?,
        },
        size: uint(r.try_get("size")?),
        state: state.parse()?,
        tx,
        prior_tx_hashes,
        payload,
        attempts: uint(r.try_get("attempts")?),
        last_error: r.try_get("last_error")?,
        mined_block: r.try_get::<Option<i64>, _>("mined_block")?.map(uint),
        sent_at: r.try_get("sent_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A row written before migration 0040: its EVM transaction in the old columns, read
/// into the payload the EVM submitter reads (`None` when the row has no transaction).
fn legacy_evm_submission(r: &sqlx::any::AnyRow, hash: &str) -> Result<Option<PreparedSubmission>> {
    let raw: Option<String> = r.try_get("raw_tx")?;
    let nonce: Option<i64> = r.try_get("nonce")?;
    let (Some(raw), Some(nonce)) = (raw, nonce) else {
        return Ok(None);
    };
    let fee = |col: &str| -> Result<u128> {
        let v: Option<String> = r.try_get(col)?;
        v.unwrap_or_default()
            .parse()
            .map_err(|e| RelayerError::corrupt(format!("submissions.{col}: {e}")))
    };
    let payload = EvmTxPayload {
        raw: raw
            .parse::<Bytes>()
            .map_err(|e| RelayerError::corrupt(format!("submissions.raw_tx: {e}")))?,
        nonce: uint(nonce),
        max_fee_per_gas: fee("max_fee_per_gas")?,
        max_priority_fee_per_gas: fee("max_priority_fee_per_gas")?,
    };
    Ok(Some(
        payload.into_submission(parse_b256("submissions.tx_hash", hash)?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in [
            SubmissionState::Prepared,
            SubmissionState::Sent,
            SubmissionState::Confirmed,
            SubmissionState::Failed,
            SubmissionState::Superseded,
            SubmissionState::Observed,
        ] {
            assert_eq!(s.as_str().parse::<SubmissionState>().unwrap(), s);
        }
        assert!("mined".parse::<SubmissionState>().is_err());
    }
}
