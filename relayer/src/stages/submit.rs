//! The submit stage: mirrors signed checkpoints onto one destination (one route).
//!
//! A small state machine whose every state is one row of `submissions`, each
//! transition one write, so a crash between any two steps resumes correctly:
//!
//! ```text
//!  (none) --prepare_submission--> prepared --send_raw--> sent --receipt ok--> confirmed
//!                                     ^                   |--receipt reverted--> failed | superseded
//!                                     |                   |--unmineable, no receipt--> failed | superseded
//!                                     +---- replace (the submitter's replacement) after tx_timeout
//! ```
//!
//! Without a live row, the mirror's state is read first: a mirror that already holds
//! our checkpoint's size needs nothing (a checkpoint of exactly its size is recorded
//! as `observed`), otherwise the newest checkpoint with enough signatures from the
//! mirror's current attestor set is prepared with a consistency proof from the
//! mirror's size. After a restart, a `prepared` or `sent` transaction is broadcast
//! again (same bytes, same hash) and polled. At most one row per route is live (a
//! unique index enforces it).
//!
//! The transaction is a [`PreparedSubmission`]: an id and a payload this stage stores
//! and hands back to the route's submitter without reading it. Whether a transaction
//! can still be mined, and how to replace it (EVM: nonce and fees), is the
//! submitter's business.

use std::{collections::HashSet, time::Duration};

use alloy::primitives::B256;
use async_trait::async_trait;
use evidence_adapters::PreparedSubmission;
use evidence_schemas::{SignedCheckpoint, checkpoint::verify_signatures};
use tracing::{debug, error, info, instrument, warn};

use super::{Stage, StageContext};
use crate::{
    RelayerError, Result,
    alarms::{MirrorCheck, check_mirror_root},
    log::Logs,
    runtime::RouteRuntime,
    store::{
        Route, Store, Submission, SubmissionPayload, SubmissionState,
        checkpoints::select_signatures, now_ms,
    },
};

/// Prepared transactions of one checkpoint size before the route gives up on it.
pub const MAX_ATTEMPTS: u64 = 5;

/// What one submit step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Nothing to submit.
    Idle,
    /// The source chain is halted.
    Halted,
    /// A transaction was prepared and broadcast.
    Sent {
        /// Checkpoint size.
        size: u64,
    },
    /// Waiting for the transaction to be mined.
    Pending {
        /// Checkpoint size.
        size: u64,
    },
    /// The transaction was replaced with higher fees.
    Replaced {
        /// Checkpoint size.
        size: u64,
    },
    /// The route was stopped by a fatal error (see [`RelayerError::is_fatal`]): it
    /// is not stepped again until the process restarts.
    Stopped,
    /// The submission ended in this state.
    Finished {
        /// Checkpoint size.
        size: u64,
        /// `confirmed`, `failed` or `superseded`.
        state: SubmissionState,
    },
}

/// Per-route memory that does not need to survive a restart.
#[derive(Debug, Default)]
pub struct SubmitMemory {
    /// Transactions broadcast by this process (a stored `sent` transaction not in
    /// here is broadcast again once, after a restart).
    broadcast: HashSet<B256>,
}

/// The submit stage of one route. Nothing to unwind: a submission carries a
/// checkpoint of the append-only log.
#[derive(Debug)]
pub struct SubmitStage<'a> {
    /// The route.
    pub rt: &'a RouteRuntime,
    /// Replace a transaction not mined after this long.
    pub tx_timeout: Duration,
    /// What this process broadcast on the route.
    pub memory: &'a mut SubmitMemory,
}

#[async_trait]
impl Stage for SubmitStage<'_> {
    type Outcome = SubmitOutcome;

    fn name(&self) -> &'static str {
        "submit"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<SubmitOutcome> {
        submit_once(ctx.store, ctx.logs, self.rt, self.tx_timeout, self.memory).await
    }
}

/// One step of the route's state machine.
#[instrument(target = "relayer::submit", skip_all, fields(route = %format_args!("{} -> {}", rt.source_chain, rt.destination_chain)))]
pub async fn submit_once(
    store: &Store,
    logs: &Logs,
    rt: &RouteRuntime,
    tx_timeout: Duration,
    memory: &mut SubmitMemory,
) -> Result<SubmitOutcome> {
    let route = rt.route();
    let cursor = store.load_cursor(&rt.source_chain).await?;
    if cursor.as_ref().is_some_and(|c| c.halted_reason.is_some()) {
        return Ok(SubmitOutcome::Halted);
    }
    if let Some(live) = store.load_live_submission(&route).await? {
        return drive(store, rt, &route, live, tx_timeout, memory).await;
    }

    let state = rt.mirror.fetch_state(&rt.source_chain).await?;
    let check = check_mirror_root(store, logs, rt, &state).await?;
    if let MirrorCheck::Diverged(err) = check {
        error!(target: "relayer::submit", "{err}");
        return Err(err);
    }
    if matches!(check, MirrorCheck::Agrees)
        && store
            .load_checkpoint(&rt.source_chain, state.latest_size)
            .await?
            .is_some()
        && store
            .load_last_confirmed_submission(&route)
            .await?
            .is_none_or(|s| s.size < state.latest_size)
    {
        store.save_observed(&route, state.latest_size).await?;
        info!(target: "relayer::submit", size = state.latest_size, "mirror accepted our checkpoint from another submitter");
    }

    let mut chosen = None;
    for checkpoint in store
        .load_checkpoints_after(&rt.source_chain, state.latest_size, 20)
        .await?
    {
        let signatures = store
            .load_signatures(
                &rt.source_chain,
                checkpoint.size,
                &rt.destination_chain,
                &rt.domain.mirror,
            )
            .await?;
        if let Some(signatures) = select_signatures(&signatures, &state.attestors, state.threshold)
        {
            chosen = Some(SignedCheckpoint {
                checkpoint,
                signatures,
            });
            break;
        }
    }
    let Some(signed) = chosen else {
        return Ok(SubmitOutcome::Idle);
    };
    let size = signed.checkpoint.size;
    if let Some(previous) = store.load_submission(&route, size).await?
        && previous.attempts >= MAX_ATTEMPTS
    {
        error!(target: "relayer::submit", size, attempts = previous.attempts, last_error = ?previous.last_error,
            "giving up on this checkpoint after repeated failures; a newer checkpoint will be tried when one exists");
        return Ok(SubmitOutcome::Idle);
    }
    if let Err(e) = verify_signatures(
        &signed.checkpoint,
        &rt.domain,
        &signed.signatures,
        &state.attestors,
        state.threshold,
    ) {
        warn!(target: "relayer::submit", size, error = %e, "stored signatures do not satisfy the mirror; not submitting");
        return Ok(SubmitOutcome::Idle);
    }
    let consistency_proof = logs
        .consistency_proof(&rt.source_chain, state.latest_size, size)
        .await?;
    let tx = rt
        .mirror
        .prepare_submission(&signed, &consistency_proof, None)
        .await?;
    let payload = SubmissionPayload {
        signed,
        consistency_proof,
        from_size: state.latest_size,
    };
    store.save_prepared(&route, size, &payload, &tx).await?;
    debug!(target: "relayer::submit", size, from = state.latest_size, tx = %tx.id, detail = %tx.summary, "submission prepared");
    let live = store
        .load_live_submission(&route)
        .await?
        .ok_or_else(|| RelayerError::corrupt(format!("{route}: prepared submission vanished")))?;
    drive(store, rt, &route, live, tx_timeout, memory).await
}

async fn drive(
    store: &Store,
    rt: &RouteRuntime,
    route: &Route,
    sub: Submission,
    tx_timeout: Duration,
    memory: &mut SubmitMemory,
) -> Result<SubmitOutcome> {
    let size = sub.size;
    let tx = sub.tx.clone().ok_or_else(|| {
        RelayerError::corrupt(format!(
            "{route}: live submission {size} has no transaction"
        ))
    })?;

    if sub.state == SubmissionState::Prepared {
        if !memory.broadcast.contains(&tx.id) {
            // Stored before a restart (or by an instance that died and whose lease we
            // took): it may have been broadcast and mined before the crash kept it from
            // being marked sent. Then it is ours and confirmed, not "superseded": a
            // bundle must name the transaction and block that accepted the checkpoint.
            if let Some(outcome) = rt.mirror.fetch_receipt(tx.id).await?
                && outcome.success
            {
                store
                    .mark_confirmed(route, size, &tx.id, outcome.block_number)
                    .await?;
                info!(target: "relayer::submit", size, tx = %tx.id, block = outcome.block_number,
                    "checkpoint confirmed on the mirror (sent before a restart)");
                return Ok(SubmitOutcome::Finished {
                    size,
                    state: SubmissionState::Confirmed,
                });
            }
            // Someone else may have submitted meanwhile.
            let state = rt.mirror.fetch_state(&rt.source_chain).await?;
            if state.latest_size >= size && sub.prior_tx_hashes.is_empty() {
                let reason = format!(
                    "not sent: the mirror already has size {}",
                    state.latest_size
                );
                store
                    .mark_finished(route, size, SubmissionState::Superseded, &reason)
                    .await?;
                info!(target: "relayer::submit", size, "{reason}");
                return Ok(SubmitOutcome::Finished {
                    size,
                    state: SubmissionState::Superseded,
                });
            }
        }
        broadcast(rt, &tx, memory).await?;
        store.mark_sent(route, size).await?;
        info!(target: "relayer::submit", size, tx = %tx.id, detail = %tx.summary, "checkpoint submitted");
        return Ok(SubmitOutcome::Sent { size });
    }

    if !memory.broadcast.contains(&tx.id) {
        broadcast(rt, &tx, memory).await?;
    }
    for hash in std::iter::once(tx.id).chain(sub.prior_tx_hashes.iter().copied()) {
        let Some(outcome) = rt.mirror.fetch_receipt(hash).await? else {
            continue;
        };
        if outcome.success {
            store
                .mark_confirmed(route, size, &hash, outcome.block_number)
                .await?;
            info!(target: "relayer::submit", size, tx = %hash, block = outcome.block_number, "checkpoint confirmed on the mirror");
            return Ok(SubmitOutcome::Finished {
                size,
                state: SubmissionState::Confirmed,
            });
        }
        return finish_unmined(
            store,
            rt,
            route,
            size,
            &format!(
                "transaction {hash} reverted in block {}",
                outcome.block_number
            ),
        )
        .await;
    }
    if let Some(why) = rt.mirror.fetch_unmineable(&tx).await? {
        return finish_unmined(store, rt, route, size, &format!(
            "transaction {} was dropped or replaced: {why} and none of our transactions has a receipt",
            tx.id
        ))
        .await;
    }
    let waited =
        u128::try_from(now_ms().saturating_sub(sub.sent_at.unwrap_or(sub.updated_at))).unwrap_or(0);
    if waited >= tx_timeout.as_millis() {
        let payload = sub.payload.as_ref().ok_or_else(|| {
            RelayerError::corrupt(format!("{route}: submission {size} has no payload"))
        })?;
        let new = rt
            .mirror
            .prepare_submission(&payload.signed, &payload.consistency_proof, Some(&tx))
            .await?;
        store.save_replacement(route, size, &tx.id, &new).await?;
        warn!(target: "relayer::submit", size, old = %tx.id, new = %new.id, detail = %new.summary,
            "transaction not mined in time; replaced");
        broadcast(rt, &new, memory).await?;
        store.mark_sent(route, size).await?;
        return Ok(SubmitOutcome::Replaced { size });
    }
    Ok(SubmitOutcome::Pending { size })
}

/// Broadcasts; a non-retryable refusal is logged, not returned: polling the receipt
/// and the nonce tells what became of the transaction.
async fn broadcast(
    rt: &RouteRuntime,
    tx: &PreparedSubmission,
    memory: &mut SubmitMemory,
) -> Result<()> {
    match rt.mirror.send_raw(tx).await {
        Ok(()) => {}
        Err(e) if e.is_retryable() => return Err(e.into()),
        Err(e) => {
            warn!(target: "relayer::submit", tx = %tx.id, error = %e, "broadcast refused; will poll")
        }
    }
    memory.broadcast.insert(tx.id);
    Ok(())
}

/// Ends a live submission whose transaction failed: `superseded` when the mirror has
/// the size anyway, else `failed` (the next step starts over).
async fn finish_unmined(
    store: &Store,
    rt: &RouteRuntime,
    route: &Route,
    size: u64,
    what: &str,
) -> Result<SubmitOutcome> {
    let state = rt.mirror.fetch_state(&rt.source_chain).await?;
    if state.latest_size >= size {
        let reason = format!("{what}; the mirror already has size {}", state.latest_size);
        store
            .mark_finished(route, size, SubmissionState::Superseded, &reason)
            .await?;
        info!(target: "relayer::submit", size, "{reason}");
        Ok(SubmitOutcome::Finished {
            size,
            state: SubmissionState::Superseded,
        })
    } else {
        store
            .mark_finished(route, size, SubmissionState::Failed, what)
            .await?;
        error!(target: "relayer::submit", size, mirror_size = state.latest_size, "{what}");
        Ok(SubmitOutcome::Finished {
            size,
            state: SubmissionState::Failed,
        })
    }
}
