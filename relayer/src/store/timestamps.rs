//! RFC 3161 timestamps of accepted checkpoints, one per (route, size, TSA), and the
//! failed requests' backoff (see `migrations/0010_timestamps.sql`).

use alloy::primitives::B256;
use evidence_schemas::timestamp::Timestamp;
use sqlx::Row;

use super::{Route, Store, hex32, int, now_ms, uint};
use crate::{RelayerError, Result};

/// How far back (in accepted checkpoints per route) the timestamp stage looks for
/// checkpoints without a token: older ones are not backfilled.
pub const TIMESTAMP_WINDOW: u64 = 1000;

/// A checked token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimestamp {
    /// The operator's name of the TSA.
    pub tsa: String,
    /// The 32 bytes timestamped (the checkpoint's EIP-712 signing hash).
    pub signing_hash: B256,
    /// DER TimeStampToken.
    pub token: Vec<u8>,
    /// Its genTime, unix seconds.
    pub gen_time: u64,
    /// The TSA certificate's subject.
    pub tsa_subject: String,
}

/// A request that failed and waits for its retry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimestampFailure {
    /// Checkpoint size.
    pub size: u64,
    /// The TSA's name.
    pub tsa: String,
    /// Failed attempts so far.
    pub attempts: u64,
    /// The last error.
    pub last_error: String,
    /// Not retried before (unix ms).
    pub retry_at_ms: i64,
}

/// A `timestamps` row's token (columns `tsa`, `token`, `gen_time`).
pub(crate) fn timestamp_from_row(r: &sqlx::any::AnyRow) -> Result<Timestamp> {
    let token: String = r.try_get("token")?;
    let der = token
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| {
            RelayerError::corrupt(format!(
                "column timestamps.token is not 0x-hex: {token:.20}…"
            ))
        })?;
    Ok(Timestamp {
        tsa: r.try_get("tsa")?,
        token: der,
        gen_time: uint(r.try_get("gen_time")?),
    })
}

impl Store {
    /// Accepted (confirmed or observed) checkpoint sizes of the route, among its
    /// newest [`TIMESTAMP_WINDOW`], that have no token from `tsa` and whose retry is due
    /// at `now_ms`; newest first, at most `limit`.
    pub async fn load_untimestamped_sizes(
        &self,
        route: &Route,
        tsa: &str,
        now_ms: i64,
        limit: u64,
    ) -> Result<Vec<u64>> {
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT s.size FROM (
                 SELECT size FROM submissions WHERE source_chain = $1 AND destination_chain = $2
                 AND state IN ('confirmed', 'observed') ORDER BY size DESC LIMIT $5) s
             WHERE NOT EXISTS (SELECT 1 FROM timestamps t WHERE t.source_chain = $1
                     AND t.destination_chain = $2 AND t.size = s.size AND t.tsa = $3)
               AND NOT EXISTS (SELECT 1 FROM timestamp_failures f WHERE f.source_chain = $1
                     AND f.destination_chain = $2 AND f.size = s.size AND f.tsa = $3 AND f.retry_at > $4)
             ORDER BY s.size DESC LIMIT $6",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(tsa)
        .bind(now_ms)
        .bind(int(TIMESTAMP_WINDOW))
        .bind(int(limit))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(uint).collect())
    }

    /// Stores a checked token (a second token from the same TSA is ignored) and clears
    /// the request's failure record.
    pub async fn insert_timestamp(
        &self,
        route: &Route,
        size: u64,
        ts: &NewTimestamp,
    ) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO timestamps (source_chain, destination_chain, size, tsa, signing_hash, token,
                                     gen_time, tsa_subject, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (source_chain, destination_chain, size, tsa) DO NOTHING",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(&ts.tsa)
        .bind(hex32(&ts.signing_hash))
        .bind(format!("0x{}", hex::encode(&ts.token)))
        .bind(int(ts.gen_time))
        .bind(&ts.tsa_subject)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM timestamp_failures WHERE source_chain = $1 AND destination_chain = $2
             AND size = $3 AND tsa = $4",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(&ts.tsa)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed request; returns how many attempts have failed so far.
    pub async fn save_timestamp_failure(
        &self,
        route: &Route,
        size: u64,
        tsa: &str,
        error: &str,
        retry_at_ms: i64,
    ) -> Result<u64> {
        let attempts: i64 = sqlx::query_scalar(
            "INSERT INTO timestamp_failures (source_chain, destination_chain, size, tsa, attempts,
                                             last_error, retry_at, updated_at)
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
             ON CONFLICT (source_chain, destination_chain, size, tsa) DO UPDATE SET
                 attempts = timestamp_failures.attempts + 1, last_error = excluded.last_error,
                 retry_at = excluded.retry_at, updated_at = excluded.updated_at
             RETURNING attempts",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(tsa)
        .bind(error)
        .bind(retry_at_ms)
        .bind(now_ms())
        .fetch_one(self.writer())
        .await?;
        Ok(uint(attempts))
    }

    /// Failed attempts of the request so far (0 when none failed).
    pub async fn load_timestamp_attempts(
        &self,
        route: &Route,
        size: u64,
        tsa: &str,
    ) -> Result<u64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT attempts FROM timestamp_failures WHERE source_chain = $1 AND destination_chain = $2
             AND size = $3 AND tsa = $4",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .bind(tsa)
        .fetch_optional(self.reader())
        .await?;
        Ok(n.map_or(0, uint))
    }

    /// The route's requests still without a token after failing, newest first.
    pub async fn load_timestamp_failures(
        &self,
        route: &Route,
        limit: u64,
    ) -> Result<Vec<TimestampFailure>> {
        let rows = sqlx::query(
            "SELECT size, tsa, attempts, last_error, retry_at FROM timestamp_failures
             WHERE source_chain = $1 AND destination_chain = $2 ORDER BY size DESC, tsa LIMIT $3",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TimestampFailure {
                    size: uint(r.try_get("size")?),
                    tsa: r.try_get("tsa")?,
                    attempts: uint(r.try_get("attempts")?),
                    last_error: r.try_get("last_error")?,
                    retry_at_ms: r.try_get("retry_at")?,
                })
            })
            .collect()
    }

    /// The tokens stored for the route's checkpoint of `size`, by TSA name.
    pub async fn load_timestamps(&self, route: &Route, size: u64) -> Result<Vec<Timestamp>> {
        let rows = sqlx::query(
            "SELECT tsa, token, gen_time FROM timestamps WHERE source_chain = $1
             AND destination_chain = $2 AND size = $3 ORDER BY tsa",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .bind(int(size))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(timestamp_from_row).collect()
    }

    /// Tokens stored for the route, in all.
    pub async fn count_timestamps(&self, route: &Route) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM timestamps WHERE source_chain = $1 AND destination_chain = $2",
        )
        .bind(route.source.as_str())
        .bind(route.destination.as_str())
        .fetch_one(self.reader())
        .await?;
        Ok(uint(n))
    }
}

#[cfg(test)]
mod tests {
    use evidence_schemas::{ChainId, Checkpoint};

    use super::*;
    use crate::test_db::{TestBackend, TestDb};

    async fn round_trip(backend: TestBackend) {
        let db = TestDb::create(backend).await;
        let store = Store::connect(&db.url).await.unwrap();
        let (a, b) = (ChainId::eip155(1), ChainId::eip155(2));
        store.save_cursor_init(&a, "a", 0).await.unwrap();
        for size in 1..=3u8 {
            let checkpoint = Checkpoint {
                source_chain: a.clone(),
                size: size.into(),
                root: B256::repeat_byte(size),
                source_block_number: size.into(),
                source_block_hash: B256::repeat_byte(9),
            };
            store.insert_checkpoint(&checkpoint).await.unwrap();
        }
        let route = Route::new(a, b);
        // Accepted: 1 and 3 (2 never reached the mirror).
        store.save_observed(&route, 1).await.unwrap();
        store.save_observed(&route, 3).await.unwrap();
        let now = now_ms();
        assert_eq!(
            store
                .load_untimestamped_sizes(&route, "t", now, 10)
                .await
                .unwrap(),
            [3, 1]
        );
        // A failure holds the request back until its retry time, for that TSA only.
        assert_eq!(
            store
                .save_timestamp_failure(&route, 3, "t", "down", now + 60_000)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .save_timestamp_failure(&route, 3, "t", "still down", now + 60_000)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store.load_timestamp_attempts(&route, 3, "t").await.unwrap(),
            2
        );
        assert_eq!(
            store
                .load_untimestamped_sizes(&route, "t", now, 10)
                .await
                .unwrap(),
            [1]
        );
        assert_eq!(
            store
                .load_untimestamped_sizes(&route, "t", now + 61_000, 10)
                .await
                .unwrap(),
            [3, 1]
        );
        assert_eq!(
            store
                .load_untimestamped_sizes(&route, "u", now, 1)
                .await
                .unwrap(),
            [3]
        );
        let failures = store.load_timestamp_failures(&route, 10).await.unwrap();
        assert_eq!(
            (
                failures.len(),
                failures[0].last_error.as_str(),
                failures[0].attempts
            ),
            (1, "still down", 2)
        );
        // A stored token clears the failure; storing it twice keeps one.
        let ts = NewTimestamp {
            tsa: "t".into(),
            signing_hash: B256::repeat_byte(7),
            token: vec![0x30, 0x00],
            gen_time: 1_700_000_000,
            tsa_subject: "CN=t".into(),
        };
        store.insert_timestamp(&route, 3, &ts).await.unwrap();
        store.insert_timestamp(&route, 3, &ts).await.unwrap();
        assert!(
            store
                .load_timestamp_failures(&route, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .load_untimestamped_sizes(&route, "t", now + 61_000, 10)
                .await
                .unwrap(),
            [1]
        );
        let stored = store.load_timestamps(&route, 3).await.unwrap();
        assert_eq!(
            stored,
            [Timestamp {
                tsa: "t".into(),
                token: vec![0x30, 0x00],
                gen_time: 1_700_000_000
            }]
        );
        assert_eq!(store.count_timestamps(&route).await.unwrap(), 1);
        assert!(store.load_timestamps(&route, 1).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn timestamps_round_trip_on_sqlite() {
        round_trip(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn timestamps_round_trip_on_postgres() {
        round_trip(TestBackend::Postgres).await;
    }
}
