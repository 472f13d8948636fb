//! Alarms: stored evidence that a log, a mirror or an attestor disagrees with ours.

use alloy::primitives::B256;
use evidence_schemas::ChainId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Store, hex32, int, now_ms, parse_b256, parse_chain, uint};
use crate::Result;

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A checkpoint proposed to this attestor disagrees with its own log (root, block
    /// hash or size at that block).
    RootMismatch,
    /// A destination mirror accepted a root for a source chain that our log does not
    /// have at that size.
    MirrorDiverged,
    /// A remote attestor returned a signature that does not recover to it, or it is
    /// not in the mirror's attestor set.
    BadSignature,
    /// A remote attestor refused our checkpoint because its own log disagrees.
    AttestorDisagrees,
    /// A mirror's owner proposed a new attestor set through the timelock: unless the
    /// partners expected it, the current set's threshold should cancel it.
    OwnerRotationProposed,
}

impl AlarmKind {
    /// The stored (and metric label) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RootMismatch => "root_mismatch",
            Self::MirrorDiverged => "mirror_diverged",
            Self::BadSignature => "bad_signature",
            Self::AttestorDisagrees => "attestor_disagrees",
            Self::OwnerRotationProposed => "owner_rotation_proposed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::RootMismatch,
            Self::MirrorDiverged,
            Self::BadSignature,
            Self::AttestorDisagrees,
            Self::OwnerRotationProposed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One finding, to store with [`Store::raise_alarm`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// What it is about.
    pub kind: AlarmKind,
    /// The source chain whose log is concerned.
    pub source_chain: ChainId,
    /// The destination concerned, if any.
    pub destination: Option<ChainId>,
    /// Checkpoint size concerned.
    pub size: u64,
    /// Who: attestor URL/address, or mirror address.
    pub peer: Option<String>,
    /// Our own root at `size`, when we have it.
    pub our_root: Option<B256>,
    /// The root someone else claimed.
    pub their_root: Option<B256>,
    /// Human-readable explanation.
    pub message: String,
}

/// A stored alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmView {
    /// The finding.
    #[serde(flatten)]
    pub alarm: Alarm,
    /// How often it was seen.
    pub occurrences: u64,
    /// First seen (unix ms).
    pub first_seen_ms: i64,
    /// Last seen (unix ms).
    pub last_seen_ms: i64,
}

impl Alarm {
    /// The finding's identity. A proposal this attestor refused is one finding per
    /// (requester, checkpoint) whatever root was claimed: a client sending wrong roots
    /// in a loop bumps one row's count (the latest claimed root is kept), it does not
    /// add rows (migration 0020 folded older rows the same way).
    fn fingerprint(&self) -> String {
        let their_root = match self.kind {
            AlarmKind::RootMismatch => String::new(),
            _ => self.their_root.as_ref().map(hex32).unwrap_or_default(),
        };
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.kind.as_str(),
            self.source_chain,
            self.destination.as_ref().map_or("", ChainId::as_str),
            self.size,
            evidence_adapters::redact::scrub(self.peer.as_deref().unwrap_or("")),
            their_root
        )
    }
}

impl Store {
    /// Stores an alarm (or counts one more occurrence of the same finding); returns
    /// how often the finding has now been seen.
    pub async fn raise_alarm(&self, alarm: &Alarm) -> Result<u64> {
        let now = now_ms();
        let occurrences: i64 = sqlx::query_scalar(
            "INSERT INTO alarms (fingerprint, kind, source_chain, destination, size, peer, our_root,
                                 their_root, message, occurrences, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)
             ON CONFLICT (fingerprint) DO UPDATE SET occurrences = alarms.occurrences + 1,
                 last_seen = excluded.last_seen, message = excluded.message,
                 their_root = excluded.their_root
             RETURNING occurrences",
        )
        .bind(alarm.fingerprint())
        .bind(alarm.kind.as_str())
        .bind(alarm.source_chain.as_str())
        .bind(alarm.destination.as_ref().map(ChainId::as_str))
        .bind(int(alarm.size))
        .bind(alarm.peer.as_deref().map(|p| evidence_adapters::redact::scrub(p).into_owned()))
        .bind(alarm.our_root.as_ref().map(hex32))
        .bind(alarm.their_root.as_ref().map(hex32))
        .bind(evidence_adapters::redact::scrub(&alarm.message).as_ref())
        .bind(now)
        .fetch_one(self.writer())
        .await?;
        Ok(uint(occurrences))
    }

    /// Whether this finding was stored already.
    pub async fn has_alarm(&self, alarm: &Alarm) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alarms WHERE fingerprint = $1")
            .bind(alarm.fingerprint())
            .fetch_one(self.reader())
            .await?;
        Ok(n > 0)
    }

    /// Alarms about `source_chain` (every chain when `None`), newest first.
    pub async fn load_alarms(&self, source_chain: Option<&ChainId>) -> Result<Vec<AlarmView>> {
        let rows = sqlx::query(
            "SELECT * FROM alarms WHERE ($1 IS NULL OR source_chain = $1) ORDER BY last_seen DESC",
        )
        .bind(source_chain.map(ChainId::as_str))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let opt_root = |col: &str| -> Result<Option<B256>> {
                    let v: Option<String> = r.try_get(col)?;
                    v.map(|s| parse_b256(col, &s)).transpose()
                };
                let destination: Option<String> = r.try_get("destination")?;
                Ok(AlarmView {
                    alarm: Alarm {
                        kind: AlarmKind::parse(&kind).ok_or_else(|| {
                            crate::RelayerError::corrupt(format!("unknown alarm kind {kind:?}"))
                        })?,
                        source_chain: parse_chain(r.try_get("source_chain")?)?,
                        destination: destination.as_deref().map(parse_chain).transpose()?,
                        size: uint(r.try_get("size")?),
                        peer: r.try_get("peer")?,
                        our_root: opt_root("our_root")?,
                        their_root: opt_root("their_root")?,
                        message: r.try_get("message")?,
                    },
                    occurrences: uint(r.try_get("occurrences")?),
                    first_seen_ms: r.try_get("first_seen")?,
                    last_seen_ms: r.try_get("last_seen")?,
                })
            })
            .collect()
    }

    /// Logged records of the chain in blocks up to and including `block`: the size
    /// the log had as of that block.
    ///
    /// Leaves are logged in block order, so this is the log size (the highest leaf,
    /// one read of the `(chain, leaf_index)` index) less the logged records of later
    /// blocks — the tail since `block`, short for the recent checkpoints attestors
    /// check. Counting the records up to `block` instead read the whole log each time
    /// (10^8 index entries on a large chain).
    pub async fn count_logged_records_upto(&self, chain: &ChainId, block: u64) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT leaf_index FROM records WHERE chain = $1 AND leaf_index IS NOT NULL
                              ORDER BY leaf_index DESC LIMIT 1) + 1, 0)
                  - (SELECT COUNT(*) FROM records WHERE chain = $1 AND status = 'logged' AND block_number > $2)",
        )
        .bind(chain.as_str())
        .bind(int(block))
        .fetch_one(self.reader())
        .await?;
        Ok(uint(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn alarms_are_stored_once_per_finding_and_counted() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let chain = ChainId::eip155(1);
        let alarm = Alarm {
            kind: AlarmKind::BadSignature,
            source_chain: chain.clone(),
            destination: Some(ChainId::eip155(2)),
            size: 7,
            peer: Some("http://x 0xab".into()),
            our_root: Some(B256::repeat_byte(1)),
            their_root: Some(B256::repeat_byte(2)),
            message: "bad".into(),
        };
        assert_eq!(store.raise_alarm(&alarm).await.unwrap(), 1);
        assert_eq!(store.raise_alarm(&alarm).await.unwrap(), 2);
        let other = Alarm {
            size: 8,
            ..alarm.clone()
        };
        store.raise_alarm(&other).await.unwrap();
        let all = store.load_alarms(None).await.unwrap();
        assert_eq!(all.len(), 2);
        let seven = all.iter().find(|a| a.alarm.size == 7).unwrap();
        assert_eq!(seven.occurrences, 2);
        assert_eq!(seven.alarm, alarm);
        assert!(
            store
                .load_alarms(Some(&ChainId::eip155(3)))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.load_alarms(Some(&chain)).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn refused_proposals_fold_into_one_row_per_requester_and_checkpoint() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let proposal = |peer: &str, root: u8| Alarm {
            kind: AlarmKind::RootMismatch,
            source_chain: ChainId::eip155(1),
            destination: Some(ChainId::eip155(2)),
            size: 7,
            peer: Some(peer.into()),
            our_root: Some(B256::repeat_byte(1)),
            their_root: Some(B256::repeat_byte(root)),
            message: "refused".into(),
        };
        for root in 2..=101u8 {
            store
                .raise_alarm(&proposal("client 192.0.2.1", root))
                .await
                .unwrap();
        }
        store
            .raise_alarm(&proposal("client 192.0.2.2", 9))
            .await
            .unwrap();
        let all = store.load_alarms(None).await.unwrap();
        assert_eq!(
            all.len(),
            2,
            "one row per requester and checkpoint: {all:?}"
        );
        let flood = all
            .iter()
            .find(|a| a.alarm.peer.as_deref() == Some("client 192.0.2.1"))
            .unwrap();
        assert_eq!(flood.occurrences, 100);
        assert_eq!(
            flood.alarm.their_root,
            Some(B256::repeat_byte(101)),
            "the latest claimed root is kept"
        );
    }
}
