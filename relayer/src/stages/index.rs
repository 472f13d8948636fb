//! The index stage: reads one source chain into the store and the log.
//!
//! One call of [`index_once`] does one bounded step:
//!
//! 1. **Reorg check.** The hash of the highest stored block is compared with the
//!    node's. On a mismatch, if the block the log is built up to is unchanged, only
//!    pending (unconfirmed) blocks moved: the step ends asking to be unwound
//!    ([`IndexOutcome::unwind_to`]) and the engine calls [`Stage::unwind`], which deletes
//!    their records and rewinds the cursor, silently apart from a `warn!`. If a block
//!    holding *logged* records changed, the chain is **halted**: the reason is stored,
//!    an `error!` is logged, and nothing is indexed or checkpointed until an operator
//!    acts. The log is never rewritten, so an unwind below logged records is refused.
//! 2. **Fetch.** Blocks from the cursor on, at most `batch_span` of them and never past
//!    the head, are read in fetches of the chain's [`FetchSpan`](crate::FetchSpan):
//!    bounded in records, not blocks, so a step on a dense chain holds at most two
//!    fetches of about 10,000 records each (a burst after a quiet stretch somewhat
//!    more, bounded by the densest blocks the span remembers: see its docs). Near the head a step makes one fetch,
//!    stored as pending (blocks above the confirmed tip `head - confirmations` stay
//!    pending and are re-checked until confirmed). The hash of the range's last block is
//!    read *before* the records, so a reorg racing the fetch is caught by the next
//!    check. A backfill range (all confirmed, nothing pending) goes straight into the
//!    log and is read in pieces, each written in its own transaction (records, tiles
//!    and cursor together) while the next piece is fetched, until the range ends or
//!    the step has written 100,000 records; each piece after the first re-reads the
//!    hash of the block below it after its records, and is dropped, ending the step, if
//!    that block changed.
//! 3. **Confirm.** Pending records up to the confirmed tip are checked against the
//!    node's block hashes once more and then logged, in (block, tx index, log index)
//!    order, with consecutive leaf indices — an order that depends on chain data
//!    alone, so every attestor computes the same log.

use alloy::primitives::B256;
use async_trait::async_trait;
use evidence_adapters::{AdapterError, BlockRef, Quarantined, SourceBatch, SourceState};
use evidence_schemas::ChainId;
use tracing::{debug, error, info, instrument, warn};

use super::{Stage, StageContext};
use crate::{
    Result,
    runtime::ChainRuntime,
    store::{Cursor, Store},
};

/// The index stage of one source chain (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct IndexStage<'a> {
    /// The chain.
    pub rt: &'a ChainRuntime,
}

#[async_trait]
impl Stage for IndexStage<'_> {
    type Outcome = IndexOutcome;

    fn name(&self) -> &'static str {
        "index"
    }

    async fn execute(&mut self, ctx: StageContext<'_>) -> Result<IndexOutcome> {
        index_once(ctx.store, self.rt).await
    }

    /// Deletes the pending records, blocks and quarantined events from `to_block` on
    /// and moves the cursor back to it; refused below the last logged block.
    async fn unwind(&mut self, ctx: StageContext<'_>, to_block: u64) -> Result<()> {
        unwind_index(ctx.store, self.rt, to_block).await
    }
}

/// What one index step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexOutcome {
    /// The node's head.
    pub head: u64,
    /// Last block fetched in this step, if any.
    pub fetched_to: Option<u64>,
    /// Records confirmed into the log in this step.
    pub logged: u64,
    /// A reorg replaced stored blocks from this one on: the stage is to be unwound to
    /// it ([`Stage::unwind`]) before the next step. The engine does so at once and
    /// reports it in `rewound_to`.
    pub unwind_to: Option<u64>,
    /// Set when a reorg rewound the cursor to this block.
    pub rewound_to: Option<u64>,
    /// The chain is halted (now or before).
    pub halted: bool,
    /// The cursor reached the head: the caller may wait before the next step.
    pub caught_up: bool,
    /// Another instance holds the chain's lease: nothing was done (the engine sets it).
    pub standby: bool,
}

/// One step of indexing `chain`; see the module docs.
#[instrument(target = "relayer::index", skip_all, fields(chain = %rt.name))]
pub async fn index_once(store: &Store, rt: &ChainRuntime) -> Result<IndexOutcome> {
    let chain = &rt.chain;
    let cursor = load_cursor(store, chain).await?;
    if cursor.halted_reason.is_some() {
        return Ok(IndexOutcome {
            halted: true,
            caught_up: true,
            ..Default::default()
        });
    }
    let head = rt.source.fetch_head().await?;
    let mut out = IndexOutcome {
        head: head.number,
        ..Default::default()
    };

    let last_block = store.load_last_block(chain).await?;
    if let Some((number, _)) = last_block
        && number > head.number
    {
        // The node's head is below a block already stored: a node behind the others
        // (a load balancer switched, or failover reached a lagging node), not a reorg.
        // Wait for it; a real reorg to a shorter chain is checked once it grows again.
        warn!(target: "relayer::index", head = head.number, stored = number,
            "the node's head is below blocks already indexed (a lagging node, or its head went backwards); waiting");
        metrics::counter!("bridge_source_head_behind_total", "chain" => chain.to_string())
            .increment(1);
        store.save_head(chain, head.number).await?;
        out.caught_up = true;
        return Ok(out);
    }
    if let Some((number, hash)) = last_block
        && fetch_hash(rt, number, head.number).await? != Some(hash)
    {
        debug!(target: "relayer::index", block = number, stored = %hash, "stored block hash no longer canonical");
        return plan_reorg(store, rt, &cursor, out).await;
    }

    // Fetch.
    let mut next_block = cursor.next_block;
    if next_block <= head.number {
        let step_to = next_block
            .saturating_add(rt.batch_span.max(1) - 1)
            .min(head.number);
        let confirmed_tip = head.number.saturating_sub(rt.confirmations);
        if step_to <= confirmed_tip && cursor.confirmed_next == next_block {
            // Backfill: the whole range is already confirmed and nothing is pending, so
            // its records go straight into the log — written once, not twice.
            return backfill(
                store,
                rt,
                next_block,
                step_to,
                head.number,
                cursor.next_seq,
                out,
            )
            .await;
        }
        // Near the head: one fetch, bounded in records by the chain's fetch span.
        let to = piece_end(next_block, step_to, rt.fetch_span.get(rt.batch_span));
        let Fetched {
            to_block,
            batch,
            next_seq,
            ..
        } = fetch_range(rt, next_block, to, head.number, cursor.next_seq, None).await?;
        rt.fetch_span
            .observe(to - next_block + 1, batch.records.len());
        store
            .save_fetched_batch(
                chain,
                &to_block,
                &batch.records,
                &batch.quarantined,
                next_seq,
                head.number,
            )
            .await?;
        warn_quarantined(&batch.quarantined);
        debug!(target: "relayer::index", from = next_block, to, records = batch.records.len(), "fetched");
        out.fetched_to = Some(to);
        next_block = to + 1;
    } else {
        store.save_head(chain, head.number).await?;
    }
    out.caught_up = next_block > head.number;

    // Confirm.
    let tip = head.number.saturating_sub(rt.confirmations);
    let confirm_to = tip.min(next_block.saturating_sub(1));
    if next_block > cursor.confirmed_next && confirm_to >= cursor.confirmed_next {
        for pending in store.load_pending_blocks(chain, confirm_to).await? {
            if fetch_hash(rt, pending.number, head.number).await? != Some(pending.hash) {
                debug!(target: "relayer::index", block = pending.number, "pending block no longer canonical");
                let cursor = load_cursor(store, chain).await?;
                return plan_reorg(store, rt, &cursor, out).await;
            }
        }
        let tip_block = fetch_block(rt, confirm_to, head.number).await?;
        if let Some(stored) = store.load_block_hash(chain, confirm_to).await?
            && stored != tip_block.hash
        {
            let cursor = load_cursor(store, chain).await?;
            return plan_reorg(store, rt, &cursor, out).await;
        }
        let batch = store.mark_logged(chain, &tip_block).await?;
        out.logged = batch.record_ids.len() as u64;
        if out.logged > 0 {
            info!(target: "relayer::index", records = out.logged, log_size = batch.first_leaf + out.logged,
                confirmed_block = confirm_to, "records logged");
        }
    }
    Ok(out)
}

/// A backfill step starts no further piece once it has written this many records, so
/// that a step on a dense chain ends (and the engine's other stages run) every few
/// seconds. A step holds at most two pieces in memory (the one being written and the
/// one being fetched), each bounded by the chain's [`FetchSpan`](crate::FetchSpan).
const STEP_RECORDS: u64 = 100_000;

/// One range read from the source, in the order the module docs require.
struct Fetched {
    /// The range's first block.
    from: u64,
    /// The range's last block, read before its records.
    to_block: BlockRef,
    batch: SourceBatch,
    /// The sequence number the next range should start at.
    next_seq: Option<u64>,
    /// With `recheck`: whether that block still had the expected hash once the
    /// records were read.
    recheck_intact: bool,
}

/// Reads blocks `from..=to`: the hash of `to` first, then the records (so a reorg racing
/// the fetch leaves an outdated hash that the next reorg check catches), then — with
/// `recheck` = (number, hash) of the block just below the range as stored by the
/// previous piece of the same step — that block's hash again, so a reorg between two
/// pieces is caught as well.
async fn fetch_range(
    rt: &ChainRuntime,
    from: u64,
    to: u64,
    head: u64,
    stored_state: Option<u64>,
    recheck: Option<(u64, B256)>,
) -> Result<Fetched> {
    let chain = &rt.chain;
    let to_block = fetch_block(rt, to, head).await?;
    // The source's state is opaque here: stored with the cursor, handed back.
    let state = stored_state.map(SourceState::from_stored);
    let batch = rt.source.fetch_records(from, to, state).await?;
    let next_seq = batch.state.or(state).map(SourceState::stored);
    if let Some(bad) = batch
        .records
        .iter()
        .find(|r| r.record.source.chain != *chain)
    {
        return Err(crate::RelayerError::Config(format!(
            "source adapter for {chain} returned a record of {}: check the chain's configuration",
            bad.record.source.chain
        )));
    }
    let recheck_intact = match recheck {
        Some((number, hash)) => fetch_hash(rt, number, head).await? == Some(hash),
        None => true,
    };
    Ok(Fetched {
        from,
        to_block,
        batch,
        next_seq,
        recheck_intact,
    })
}

/// The blocks of the piece after `done` (the last block written) within `..=to`.
fn next_piece(done: u64, to: u64, len: u64) -> (u64, u64) {
    let from = done + 1;
    (from, piece_end(from, to, len))
}

/// The last block of a piece of `len` blocks from `from` within `..=to` (block 0 too).
fn piece_end(from: u64, to: u64, len: u64) -> u64 {
    from.saturating_add(len.max(1) - 1).min(to)
}

/// A task fetching the next piece, aborted when dropped (an error or a reorg ends the
/// step; nothing of a dropped piece is stored).
struct Ahead(tokio::task::JoinHandle<Result<Fetched>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Ahead {
    fn spawn(
        rt: &ChainRuntime,
        (from, to): (u64, u64),
        head: u64,
        stored_state: Option<u64>,
        recheck: (u64, B256),
    ) -> Self {
        let rt = rt.clone();
        Self(tokio::spawn(async move {
            fetch_range(&rt, from, to, head, stored_state, Some(recheck)).await
        }))
    }

    async fn join(mut self) -> Result<Fetched> {
        match (&mut self.0).await {
            Ok(fetched) => fetched,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(crate::RelayerError::Config(format!(
                "the fetch of the next blocks was cancelled: {e}"
            ))),
        }
    }
}

/// The backfill of `from..=to`, all at or below the confirmed tip with nothing
/// pending: the range is read in pieces of the chain's fetch span (so a piece holds
/// about [`FetchSpan::RECORDS`](crate::FetchSpan::RECORDS) records, however dense the
/// blocks), up to [`STEP_RECORDS`] records in all, each written with
/// [`Store::save_confirmed_batch`] (records, tiles and cursor in one transaction, so
/// every piece is a complete step of its own) while the next piece is fetched. A
/// piece whose predecessor's last block changed meanwhile is not written: the step
/// ends, and the next step's reorg check finds the change.
async fn backfill(
    store: &Store,
    rt: &ChainRuntime,
    from: u64,
    to: u64,
    head: u64,
    next_seq: Option<u64>,
    mut out: IndexOutcome,
) -> Result<IndexOutcome> {
    let chain = &rt.chain;
    let span = || rt.fetch_span.get(rt.batch_span);
    let first_to = piece_end(from, to, span());
    let mut piece = fetch_range(rt, from, first_to, head, next_seq, None).await?;
    let mut first_leaf = None;
    loop {
        let done = piece.to_block.number;
        let records = piece.batch.records.len();
        rt.fetch_span.observe(done - piece.from + 1, records);
        let more = done < to && out.logged + (records as u64) < STEP_RECORDS;
        let ahead = more.then(|| {
            let recheck = (done, piece.to_block.hash);
            Ahead::spawn(
                rt,
                next_piece(done, to, span()),
                head,
                piece.next_seq,
                recheck,
            )
        });
        let Fetched {
            to_block, batch, ..
        } = &piece;
        let logged = store
            .save_confirmed_batch(
                chain,
                to_block,
                &batch.records,
                &batch.quarantined,
                piece.next_seq,
                head,
            )
            .await?;
        first_leaf.get_or_insert(logged.first_leaf);
        out.logged += logged.record_ids.len() as u64;
        out.fetched_to = Some(done);
        warn_quarantined(&batch.quarantined);
        debug!(target: "relayer::index", to = done, records = batch.records.len(), "piece logged");
        let Some(ahead) = ahead else { break };
        piece = ahead.join().await?;
        if !piece.recheck_intact {
            debug!(target: "relayer::index", block = done, "block hash changed while the next piece was fetched");
            break;
        }
    }
    if out.logged > 0 {
        info!(target: "relayer::index", records = out.logged, log_size = first_leaf.unwrap_or_default() + out.logged,
            confirmed_block = out.fetched_to, "records logged");
    }
    out.caught_up = out.fetched_to.is_some_and(|t| t >= head);
    Ok(out)
}

fn warn_quarantined(quarantined: &[Quarantined]) {
    for q in quarantined {
        warn!(target: "relayer::index", block = q.block_number, tx = %q.tx_hash, log_index = q.log_index,
            reason = %q.reason, "event quarantined");
    }
}

async fn load_cursor(store: &Store, chain: &ChainId) -> Result<Cursor> {
    store.load_cursor(chain).await?.ok_or_else(|| {
        crate::RelayerError::Config(format!(
            "{chain} has no cursor: the engine was not set up for it"
        ))
    })
}

/// The node's hash of block `number`, `None` when the node no longer has the block.
///
/// A block at or below `head` (the head just read) that the node does not have is no
/// reorg — a reorg replaces blocks, it does not leave a hole below the head — but an
/// answer from a node behind the one that gave the head (failover, a load balancer):
/// an error, retried, never a reason to rewind or halt.
async fn fetch_hash(rt: &ChainRuntime, number: u64, head: u64) -> Result<Option<B256>> {
    match fetch_block(rt, number, head).await {
        Ok(BlockRef { hash, .. }) => Ok(Some(hash)),
        Err(crate::RelayerError::Adapter(AdapterError::BlockNotFound { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The block at `number`; one at or below `head` that the node does not have is an
/// `Inconsistent` error (see [`fetch_hash`]), one above it `BlockNotFound`.
async fn fetch_block(rt: &ChainRuntime, number: u64, head: u64) -> Result<BlockRef> {
    match rt.source.fetch_block(number).await {
        Ok(block) => Ok(block),
        Err(AdapterError::BlockNotFound { chain, number }) if number <= head => {
            metrics::counter!("bridge_source_head_behind_total", "chain" => chain.to_string())
                .increment(1);
            Err(AdapterError::Inconsistent {
                chain,
                from: number,
                to: number,
                message: format!("the node has no block {number} although the head is {head}: a node behind the others answered"),
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// After a mismatch of a stored block's hash: where to unwind to, or a halt when a
/// block with logged records changed.
async fn plan_reorg(
    store: &Store,
    rt: &ChainRuntime,
    cursor: &Cursor,
    mut out: IndexOutcome,
) -> Result<IndexOutcome> {
    let chain = &rt.chain;
    let confirmed_intact = match cursor.confirmed_block {
        None => true,
        Some((number, hash)) => fetch_hash(rt, number, out.head).await? == Some(hash),
    };
    if confirmed_intact {
        let to = cursor.confirmed_next;
        warn!(target: "relayer::index", rewind_to = to,
            "reorg within the confirmation depth: pending records discarded, re-indexing");
        out.unwind_to = Some(to);
        return Ok(out);
    }
    match store.load_last_logged_block(chain).await? {
        Some((number, hash)) => {
            let now = fetch_hash(rt, number, out.head).await?;
            if now != Some(hash) {
                let reason = format!(
                    "reorg deeper than {} confirmations: block {number}, which holds logged records, changed from {hash} to {}; \
                     the log is never rewritten, so indexing and checkpointing of this chain stopped. \
                     Check the node and raise the chain's `confirmations`; then re-index this chain into a new database",
                    rt.confirmations,
                    now.map_or_else(
                        || "nothing (the node no longer has it)".to_owned(),
                        |h| h.to_string()
                    ),
                );
                error!(target: "relayer::index", block = number, %reason, "CHAIN HALTED");
                store.mark_halted(chain, &reason).await?;
                out.halted = true;
                return Ok(out);
            }
            let to = number + 1;
            warn!(target: "relayer::index", rewind_to = to,
                "reorg deeper than the confirmation depth, but no block with logged records changed; re-indexing");
            out.unwind_to = Some(to);
        }
        None => {
            let to = cursor.start_block;
            warn!(target: "relayer::index", rewind_to = to,
                "reorg deeper than the confirmation depth before any record was logged; re-indexing");
            out.unwind_to = Some(to);
        }
    }
    Ok(out)
}

/// The index stage's unwind: pending work from `to_block` on is deleted and the
/// cursor moved back to it. The confirmed tip is kept when it lies below `to_block`;
/// else it becomes the last block with logged records, and `to_block` must be the
/// block after it (logged records are never deleted).
async fn unwind_index(store: &Store, rt: &ChainRuntime, to_block: u64) -> Result<()> {
    let chain = &rt.chain;
    let cursor = load_cursor(store, chain).await?;
    if to_block > cursor.next_block {
        return Err(crate::RelayerError::Corrupt(format!(
            "{chain}: cannot unwind to block {to_block}: the cursor is at block {}",
            cursor.next_block
        )));
    }
    let confirmed = if to_block >= cursor.confirmed_next {
        None
    } else {
        match store.load_last_logged_block(chain).await? {
            Some((number, hash)) if to_block == number + 1 => Some((number, hash)),
            Some((number, _)) => {
                return Err(crate::RelayerError::Corrupt(format!(
                    "{chain}: cannot unwind to block {to_block}: below the confirmed tip an unwind goes to block {} (just above \
                     block {number}, the last with logged records), since the log is never rewritten",
                    number + 1
                )));
            }
            None => None,
        }
    };
    store.save_rewind(chain, to_block, confirmed).await?;
    debug!(target: "relayer::index", rewound_to = to_block, kept_confirmed = ?confirmed.map(|(n, _)| n), "unwound");
    Ok(())
}
