//! Leases: which instance does which work, when several share one database.
//!
//! A lease is a row `(name, holder, epoch, expires_at)`. [`Store::acquire_lease`] is
//! one atomic UPSERT that succeeds only when the lease is free, expired, or already
//! held by the caller; it moves `expires_at` to `now + ttl` and bumps `epoch` whenever
//! the holder changes. The epoch is the fencing token: a [`Store::fenced`] handle
//! checks, inside each write transaction that matters, that the lease row still names
//! the same holder and epoch (and locks the row on PostgreSQL until the commit, so a
//! takeover waits for that write). An instance paused past the TTL (GC, SIGSTOP) and
//! overtaken therefore cannot write when it wakes up.
//!
//! Times are the instances' own clocks in unix milliseconds: keep them in sync (NTP)
//! and the TTL well above the expected skew.

use sqlx::AnyConnection;

use super::Store;
use crate::{RelayerError, Result};

/// A lease this instance holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Its name, e.g. `chain:eip155:1` or `submit:eip155:10`.
    pub name: String,
    /// The holding instance.
    pub holder: String,
    /// Bumped whenever the lease changes hands.
    pub epoch: u64,
    /// When it expires unless renewed (unix ms).
    pub expires_at: i64,
}

impl Lease {
    /// The fencing token of this lease, for [`Store::fenced`].
    pub fn fence(&self) -> Fence {
        Fence {
            name: self.name.clone(),
            holder: self.holder.clone(),
            epoch: self.epoch,
        }
    }
}

/// What a fenced write checks: the lease `name` is held by `holder` at `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// Lease name.
    pub name: String,
    /// Holder.
    pub holder: String,
    /// Epoch when it was acquired.
    pub epoch: u64,
}

/// A lease row as stored, whoever holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// Lease name.
    pub name: String,
    /// Holder.
    pub holder: String,
    /// Epoch.
    pub epoch: u64,
    /// Expiry (unix ms).
    pub expires_at: i64,
    /// When the current holder took it (unix ms).
    pub acquired_at: i64,
}

impl Store {
    /// Acquires or renews lease `name` for `holder` until `now_ms + ttl_ms`: succeeds
    /// (returning the lease) only when the lease is free, expired at `now_ms`, or
    /// already `holder`'s; `None` while another holder's lease runs. Taking it over
    /// from another holder bumps the epoch.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: u64,
        now_ms: i64,
    ) -> Result<Option<Lease>> {
        let expires_at = now_ms.saturating_add(super::int(ttl_ms));
        let row: Option<(i64, i64)> = sqlx::query_as(
            "INSERT INTO leases (name, holder, epoch, expires_at, acquired_at, renewed_at)
             VALUES ($1, $2, 1, $3, $4, $4)
             ON CONFLICT (name) DO UPDATE SET
                epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
                acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
                holder = excluded.holder, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at
             RETURNING epoch, expires_at",
        )
        .bind(name)
        .bind(holder)
        .bind(expires_at)
        .bind(now_ms)
        .fetch_optional(self.writer())
        .await?;
        Ok(row.map(|(epoch, expires_at)| Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            epoch: super::uint(epoch),
            expires_at,
        }))
    }

    /// Gives lease `name` up (expires it now) if `holder` holds it, so another
    /// instance takes over without waiting for the TTL.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Every lease, by name.
    pub async fn load_leases(&self) -> Result<Vec<LeaseRow>> {
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT name, holder, epoch, expires_at, acquired_at FROM leases ORDER BY name",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, holder, epoch, expires_at, acquired_at)| LeaseRow {
                name,
                holder,
                epoch: super::uint(epoch),
                expires_at,
                acquired_at,
            })
            .collect())
    }

    /// Checks the fence in a transaction of its own (see [`Store::fenced`]); for tests
    /// and for callers that want to know before starting a long step.
    pub async fn check_fence(&self, fence: &Fence) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        check_fence(&mut tx, fence).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Fails with [`RelayerError::LeaseLost`] unless `fence`'s lease is held by its holder
/// at its epoch. A no-op UPDATE rather than a SELECT, so that on PostgreSQL the lease
/// row stays locked until the surrounding transaction ends and a takeover cannot slip
/// in between this check and the commit.
pub(crate) async fn check_fence(conn: &mut AnyConnection, fence: &Fence) -> Result<()> {
    let matched = sqlx::query(
        "UPDATE leases SET epoch = epoch WHERE name = $1 AND holder = $2 AND epoch = $3",
    )
    .bind(&fence.name)
    .bind(&fence.holder)
    .bind(super::int(fence.epoch))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if matched == 1 {
        Ok(())
    } else {
        Err(RelayerError::LeaseLost {
            lease: fence.name.clone(),
            epoch: fence.epoch,
        })
    }
}
