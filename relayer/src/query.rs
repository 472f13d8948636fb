//! Read-only views of the store for the CLI and the HTTP API: evidence lookup,
//! proof bundles, chain status, quarantined events, and counts for invariant checks.

use alloy::primitives::{Address, B256, Bytes};
use evidence_adapters::{MirrorState, Quarantined};
use evidence_schemas::{
    ChainId, EvidenceRecord, ProofBundle,
    bundle::{BUNDLE_VERSION, Destination, Revocation},
};
use serde::Serialize;
use sqlx::Row;

mod lookup;

use crate::{
    RelayerError, Result,
    store::{Route, Store, Submission, SubmissionState, int, parse_b256, parse_chain, uint},
};

/// What a proof bundle is built from ([`Store::proof_target`]).
#[derive(Debug, Clone)]
pub struct ProofTarget {
    /// The record.
    pub view: RecordView,
    /// Its leaf index.
    pub leaf_index: u64,
    /// Its logged revocation and the revocation's leaf index, if revoked.
    pub revocation: Option<(RecordView, u64)>,
    /// The newest mirrored submission covering both.
    pub submission: Submission,
}

/// Where a record stands in its chain's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    /// Its block is not confirmed yet.
    PendingConfirmation,
    /// In the log, not yet covered by a checkpoint.
    InLog {
        /// Leaf index.
        leaf_index: u64,
    },
    /// Covered by a checkpoint (the newest one is given).
    Checkpointed {
        /// Leaf index.
        leaf_index: u64,
        /// Size of the newest checkpoint.
        checkpoint_size: u64,
    },
}

impl RecordState {
    /// The leaf index, once logged.
    pub fn leaf_index(&self) -> Option<u64> {
        match *self {
            Self::PendingConfirmation => None,
            Self::InLog { leaf_index } | Self::Checkpointed { leaf_index, .. } => Some(leaf_index),
        }
    }
}

/// A destination whose mirror holds a checkpoint covering the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MirroredOn {
    /// Destination chain.
    pub destination_chain: ChainId,
    /// Size of the newest mirrored checkpoint covering the record.
    pub checkpoint_size: u64,
    /// Its root.
    pub checkpoint_root: Option<B256>,
    /// Transaction that submitted it (unknown when another relayer did).
    pub tx_hash: Option<B256>,
    /// Destination block of that transaction.
    pub block: Option<u64>,
    /// The round-trip receipt: the destination's acceptance of that checkpoint, logged
    /// as a record of the destination chain (adapter `bridge-receipts`), when indexed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<RoundTripReceipt>,
    /// RFC 3161 timestamps of that checkpoint for this destination (checked when
    /// stored), one per TSA.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamps: Vec<TimestampView>,
}

/// A stored RFC 3161 timestamp, as lookups show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampView {
    /// The TSA, its token (DER, base64) and the token's time (RFC 3339).
    #[serde(flatten)]
    pub timestamp: evidence_schemas::timestamp::Timestamp,
    /// The TSA certificate's subject.
    pub tsa_subject: String,
}

/// The destination's `CheckpointAccepted` event, as a record of the destination chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundTripReceipt {
    /// The receipt record's id (a record of the destination chain).
    pub record_id: B256,
    /// Its digest: `keccak256(abi.encode(keccak256(source CAIP-2), size, root))`.
    pub digest: B256,
    /// Where the receipt record stands in the destination chain's log.
    pub state: RecordState,
    /// Chains (normally the original source) on which the receipt is provable.
    pub provable_on: Vec<MirroredOn>,
}

/// One record as lookups show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    /// The record.
    pub record: EvidenceRecord,
    /// Its id.
    pub record_id: B256,
    /// The configured name of its chain.
    pub chain_name: String,
    /// Where it stands.
    pub state: RecordState,
    /// Destinations it is mirrored on.
    pub mirrored_on: Vec<MirroredOn>,
    /// The logged revoke record that revokes it, if any.
    pub revoked_by: Option<B256>,
    /// For a revoke: its `ref` is not a logged anchor of the same chain and submitter.
    pub invalid_ref: bool,
}

/// A checkpoint, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    /// Log size.
    pub size: u64,
    /// Root.
    pub root: B256,
    /// Source block.
    pub source_block_number: u64,
    /// When it was made (unix ms).
    pub created_at_ms: i64,
}

/// A submission, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmissionSummary {
    /// Checkpoint size.
    pub size: u64,
    /// State.
    pub state: SubmissionState,
    /// Current transaction.
    pub tx_hash: Option<B256>,
    /// Transactions prepared.
    pub attempts: u64,
    /// Last error.
    pub last_error: Option<String>,
    /// Last change (unix ms).
    pub updated_at_ms: i64,
}

/// One destination of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestinationStatus {
    /// Destination chain.
    pub destination_chain: ChainId,
    /// Largest checkpoint size the mirror accepted (as far as this store knows).
    pub last_confirmed_size: Option<u64>,
    /// The most recently changed submission.
    pub last_submission: Option<SubmissionSummary>,
    /// RFC 3161 tokens stored for the route's checkpoints (all TSAs).
    pub timestamps: u64,
    /// Timestamp requests still without a token after failing (newest first, at most
    /// 5): the TSA, the checkpoint, attempts and the last error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timestamp_failures: Vec<crate::store::TimestampFailure>,
}

/// One source chain's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStatus {
    /// Chain id.
    pub chain: ChainId,
    /// Configured name.
    pub name: String,
    /// Last head seen.
    pub head: Option<u64>,
    /// Next block to fetch.
    pub cursor: u64,
    /// Block the log is built up to.
    pub confirmed_block: Option<u64>,
    /// Blocks between the head and the last fetched block.
    pub lag: u64,
    /// Records in the log.
    pub log_size: u64,
    /// Records waiting for confirmations.
    pub pending_records: u64,
    /// Round-trip receipts among the records in the log (this chain's mirror accepting
    /// other chains' checkpoints); `log_size - receipts_logged` is the evidence logged.
    pub receipts_logged: u64,
    /// Newest checkpoint.
    pub last_checkpoint: Option<CheckpointSummary>,
    /// Per destination.
    pub destinations: Vec<DestinationStatus>,
    /// Quarantined events.
    pub quarantined: u64,
    /// Why the chain halted, if it did.
    pub halted: Option<String>,
    /// Alarms about this chain's log (disagreeing attestors or mirrors), newest first.
    pub alarms: Vec<crate::store::AlarmView>,
}

impl Store {
    /// Every record with this digest, on every chain.
    pub async fn lookup_digest(&self, digest: B256) -> Result<Vec<RecordView>> {
        let mut conn = self.reader().acquire().await?;
        lookup::lookup(&mut conn, self.mirrors_cache(), lookup::By::Digest, digest).await
    }

    /// The record with this id.
    pub async fn load_record(&self, record_id: B256) -> Result<Option<RecordView>> {
        let mut conn = self.reader().acquire().await?;
        let views = lookup::lookup(
            &mut conn,
            self.mirrors_cache(),
            lookup::By::RecordId,
            record_id,
        )
        .await?;
        Ok(views.into_iter().next())
    }

    /// What a proof bundle of `record_id` on `destination_chain` is built from: the
    /// record, its revocation (when one is logged), and the newest submission mirrored
    /// (confirmed) there whose checkpoint covers the record — and the revocation, when
    /// there is one. A revoked record whose revocation is not yet covered by a mirrored
    /// checkpoint has no bundle yet (it would look unrevoked): `NotFound` says so.
    pub async fn proof_target(
        &self,
        record_id: B256,
        destination_chain: &ChainId,
    ) -> Result<ProofTarget> {
        let view = self.load_record(record_id).await?.ok_or_else(|| {
            RelayerError::NotFound(format!("record {record_id} is not known to this relayer (check the id, or whether its chain is indexed)"))
        })?;
        self.proof_target_of(view, destination_chain).await
    }

    /// [`Self::proof_target`] of a record already read with [`Self::load_record`].
    pub async fn proof_target_of(
        &self,
        view: RecordView,
        destination_chain: &ChainId,
    ) -> Result<ProofTarget> {
        let record_id = view.record_id;
        let chain = view.record.source.chain.clone();
        let leaf_index = view.state.leaf_index().ok_or_else(|| {
            RelayerError::NotFound(format!(
                "record {record_id} on {} is pending confirmation: it has no proof yet; try again after its block is confirmed",
                view.chain_name
            ))
        })?;
        let revocation = match view.revoked_by {
            Some(rev_id) => {
                let rev = self.load_record(rev_id).await?.ok_or_else(|| {
                    RelayerError::corrupt(format!(
                        "{chain}: revocation {rev_id} of {record_id} is not in the store"
                    ))
                })?;
                let rev_leaf = rev.state.leaf_index().ok_or_else(|| {
                    RelayerError::corrupt(format!(
                        "{chain}: revocation {rev_id} is logged without a leaf index"
                    ))
                })?;
                Some((rev, rev_leaf))
            }
            None => None,
        };
        let needed = revocation
            .as_ref()
            .map_or(leaf_index, |(_, l)| leaf_index.max(*l))
            + 1;
        let route = Route::new(chain.clone(), destination_chain.clone());
        let submission = self.load_newest_confirmed_submission(&route, needed).await?.ok_or_else(|| {
            match &revocation {
                Some((rev, rev_leaf)) => RelayerError::NotFound(format!(
                    "record {record_id} on {} is REVOKED (revocation {} at leaf {rev_leaf}), and no checkpoint covering the \
                     revocation is mirrored on {destination_chain} yet; try again once the relayer has mirrored a newer checkpoint",
                    view.chain_name, rev.record_id
                )),
                None => RelayerError::NotFound(format!(
                    "record {record_id} (leaf {leaf_index} of {}) is not yet covered by a checkpoint mirrored on {destination_chain}; \
                     try again once the relayer has mirrored a newer checkpoint",
                    view.chain_name
                )),
            }
        })?;
        Ok(ProofTarget {
            view,
            leaf_index,
            revocation,
            submission,
        })
    }

    /// A proof bundle for `record_id` on `destination_chain` (see [`Self::proof_target`]).
    /// `mirror_state` is what the caller read from the destination's mirror (attestor
    /// set, threshold, read block) — best read at the block the checkpoint was accepted
    /// in (`ProofTarget::submission.mined_block`), so the set is the one that accepted it.
    /// The log part (root check, inclusion proofs) is one read of the `O(log n)` stored
    /// tiles it needs.
    pub async fn build_proof_bundle(
        &self,
        record_id: B256,
        destination_chain: &ChainId,
        mirror_state: &MirrorState,
        mirror: Address,
    ) -> Result<ProofBundle> {
        let target = self.proof_target(record_id, destination_chain).await?;
        self.build_bundle_of(target, destination_chain, mirror_state, mirror)
            .await
    }

    /// The proof bundle of a [`ProofTarget`] the caller already read (and read
    /// `mirror_state` for, at `target.submission.mined_block`): the record is not read
    /// again, and the bundle is of the very submission the attestor set was read for.
    pub async fn build_bundle_of(
        &self,
        target: ProofTarget,
        destination_chain: &ChainId,
        mirror_state: &MirrorState,
        mirror: Address,
    ) -> Result<ProofBundle> {
        let ProofTarget {
            view,
            leaf_index,
            revocation,
            submission: sub,
        } = target;
        let record_id = view.record_id;
        let chain = view.record.source.chain.clone();
        let checkpoint = self
            .load_checkpoint(&chain, sub.size)
            .await?
            .ok_or_else(|| {
                RelayerError::corrupt(format!(
                    "{chain}: submission of size {} has no checkpoint",
                    sub.size
                ))
            })?;
        let mut leaves = vec![leaf_index];
        leaves.extend(revocation.as_ref().map(|(_, leaf)| *leaf));
        let (root, mut proofs) = self
            .load_proofs_at(&chain, checkpoint.size, &leaves)
            .await?;
        if root != checkpoint.root {
            return Err(RelayerError::corrupt(format!(
                "{chain}: stored log computes root {root} at size {}, the checkpoint says {}",
                checkpoint.size, checkpoint.root
            )));
        }
        let rev_proof = if proofs.len() > 1 { proofs.pop() } else { None };
        let inclusion_proof = proofs.pop().unwrap_or_default();
        let revocation = match (revocation, rev_proof) {
            (Some((rev, rev_leaf)), Some(inclusion_proof)) => Some(Revocation {
                inclusion_proof,
                record: rev.record,
                record_id: rev.record_id,
                leaf_index: rev_leaf,
            }),
            _ => None,
        };
        let stored = self
            .load_signatures(&chain, checkpoint.size, destination_chain, &mirror)
            .await?;
        let signatures: Vec<_> = stored
            .into_iter()
            .filter(|s| mirror_state.attestors.contains(&s.attestor))
            .collect();
        if signatures.len() < usize::from(mirror_state.threshold) {
            return Err(RelayerError::NotFound(format!(
                "only {} stored signatures over checkpoint {} of {chain} are by the mirror's attestor set read at block {} \
                 (threshold {}): the set changed since it was signed",
                signatures.len(),
                checkpoint.size,
                mirror_state.read_at_block,
                mirror_state.threshold
            )));
        }
        let timestamps = self
            .load_timestamps(
                &Route::new(chain.clone(), destination_chain.clone()),
                checkpoint.size,
            )
            .await?;
        Ok(ProofBundle {
            version: BUNDLE_VERSION,
            record: view.record,
            record_id,
            leaf_index,
            inclusion_proof,
            checkpoint,
            signatures,
            destination: Destination {
                chain: destination_chain.clone(),
                mirror,
                attestors: mirror_state.attestors.clone(),
                threshold: mirror_state.threshold,
                attestor_set_version: mirror_state.attestor_set_version,
                read_at_block: mirror_state.read_at_block,
                // Only a transaction known to have been mined (in `mined_block`) is
                // named; an observed acceptance has neither.
                mirror_tx: sub.mined_block.and(sub.tx.as_ref().map(|t| t.id)),
                mirror_block: sub.mined_block.filter(|_| sub.tx.is_some()),
            },
            revocation,
            timestamps,
        })
    }

    /// Status of every source chain in the store.
    pub async fn status(&self) -> Result<Vec<ChainStatus>> {
        let mut out = Vec::new();
        for cursor in self.load_cursors().await? {
            let chain = cursor.chain.clone();
            let c = chain.as_str();
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM records WHERE chain = $1 AND status = 'pending'",
            )
            .bind(c)
            .fetch_one(self.reader())
            .await?;
            // Receipts within the log size read with the cursor above: a receipt logged
            // since (the engine keeps running) would make `log_size - receipts_logged`
            // undercount the evidence.
            let receipts = self
                .count_receipts(&chain, &format!(" AND leaf_index < {}", cursor.log_size))
                .await?;
            let quarantined: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM quarantine WHERE chain = $1")
                    .bind(c)
                    .fetch_one(self.reader())
                    .await?;
            let last_checkpoint =
                self.load_last_checkpoint(&chain)
                    .await?
                    .map(|(cp, created_at_ms)| CheckpointSummary {
                        size: cp.size,
                        root: cp.root,
                        source_block_number: cp.source_block_number,
                        created_at_ms,
                    });
            let destinations: Vec<String> = sqlx::query_scalar(
                "SELECT destination_chain FROM submissions WHERE source_chain = $1
                 UNION SELECT destination FROM signatures WHERE chain = $1 ORDER BY 1",
            )
            .bind(c)
            .fetch_all(self.reader())
            .await?;
            let mut dests = Vec::new();
            for d in destinations {
                let route = Route::new(chain.clone(), parse_chain(&d)?);
                let last_confirmed_size = self
                    .load_last_confirmed_submission(&route)
                    .await?
                    .map(|s| s.size);
                let last_submission =
                    self.load_latest_submission(&route)
                        .await?
                        .map(|s| SubmissionSummary {
                            size: s.size,
                            state: s.state,
                            tx_hash: s.tx.map(|t| t.id),
                            attempts: s.attempts,
                            last_error: s.last_error,
                            updated_at_ms: s.updated_at,
                        });
                let timestamps = self.count_timestamps(&route).await?;
                let timestamp_failures = self.load_timestamp_failures(&route, 5).await?;
                dests.push(DestinationStatus {
                    destination_chain: route.destination,
                    last_confirmed_size,
                    last_submission,
                    timestamps,
                    timestamp_failures,
                });
            }
            let alarms = self.load_alarms(Some(&chain)).await?;
            out.push(ChainStatus {
                lag: cursor
                    .head_block
                    .map_or(0, |h| (h + 1).saturating_sub(cursor.next_block)),
                chain,
                name: cursor.name,
                head: cursor.head_block,
                cursor: cursor.next_block,
                confirmed_block: cursor.confirmed_block.map(|(n, _)| n),
                log_size: cursor.log_size,
                pending_records: uint(pending),
                receipts_logged: receipts,
                last_checkpoint,
                destinations: dests,
                quarantined: uint(quarantined),
                halted: cursor.halted_reason,
                alarms,
            });
        }
        Ok(out)
    }

    /// The chain's most recent quarantined events, newest first.
    pub async fn load_quarantined(&self, chain: &ChainId, limit: u64) -> Result<Vec<Quarantined>> {
        let rows = sqlx::query(
            "SELECT * FROM quarantine WHERE chain = $1 ORDER BY block_number DESC, log_index DESC LIMIT $2",
        )
        .bind(chain.as_str())
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
}
