//! The mirrors list — which destination chains mirror which source chain — and its
//! per-process cache (migration `0070_mirrors_generation.sql`).
//!
//! A pair (source, destination) is in the list once one of its submissions is
//! `confirmed` or `observed`; those states are final, so a pair never leaves it. The
//! transaction that makes a pair's first such submission increments
//! `mirrors_generation.n` ([`note_mirrored`]). A process caches the list with the
//! generation it was read at ([`MirrorsCache`]), and every lookup statement that uses
//! the cached list reads `n` in the same statement: when `n` moved, the answer is
//! thrown away, the list read again and the lookup repeated. So a cached list never
//! hides a mirror another process committed, and never invents one (the newest
//! mirrored checkpoint of each pair is always read live).

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

use alloy::primitives::B256;
use evidence_schemas::ChainId;
use sqlx::{AnyConnection, Row};

use super::{Route, int, parse_chain};
use crate::Result;

/// The generation column a lookup statement adds to its rows.
pub(crate) const GENERATION_COLUMN: &str =
    "(SELECT g.n FROM mirrors_generation g WHERE g.id = 0) AS generation";

/// The mirrors list as of one generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MirrorsList {
    /// `mirrors_generation.n` when the list was read.
    pub(crate) generation: i64,
    /// Per source chain, the destinations with at least one submission (a superset of
    /// the mirroring ones, which is all a lookup needs: it reads each pair's newest
    /// mirrored checkpoint live), in order.
    pub(crate) destinations: BTreeMap<ChainId, Vec<ChainId>>,
}

impl MirrorsList {
    /// Every (source, destination) pair whose source is in `sources` (all when `None`).
    pub(crate) fn pairs<'a>(
        &'a self,
        sources: Option<&'a std::collections::BTreeSet<ChainId>>,
    ) -> impl Iterator<Item = (&'a ChainId, &'a ChainId)> + 'a {
        self.destinations
            .iter()
            .filter(move |(s, _)| sources.is_none_or(|set| set.contains(*s)))
            .flat_map(|(s, ds)| ds.iter().map(move |d| (s, d)))
    }
}

/// The last newest mirrored checkpoint a lookup saw on a pair, and the digest of its
/// round-trip receipt: a guess the next lookup's statement checks against the live
/// newest checkpoint (size and root) before it uses the receipt it finds with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceiptGuess {
    /// Checkpoint size.
    pub(crate) size: u64,
    /// Checkpoint root.
    pub(crate) root: B256,
    /// `receipt_digest(source, size, root)`.
    pub(crate) digest: B256,
}

/// A process's cached [`MirrorsList`], shared by every clone of its `Store`, and the
/// receipt guesses of its pairs.
#[derive(Debug, Default)]
pub(crate) struct MirrorsCache {
    list: RwLock<Option<Arc<MirrorsList>>>,
    guesses: RwLock<Arc<BTreeMap<(ChainId, ChainId), ReceiptGuess>>>,
}

impl MirrorsCache {
    /// The current receipt guesses (a copy-on-write snapshot).
    pub(crate) fn guesses(&self) -> Arc<BTreeMap<(ChainId, ChainId), ReceiptGuess>> {
        self.guesses
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Remembers the newest mirrored checkpoint a lookup read on `pair`.
    pub(crate) fn note_guess(&self, pair: (ChainId, ChainId), guess: ReceiptGuess) {
        let mut slot = self.guesses.write().unwrap_or_else(|e| e.into_inner());
        let keep = slot.get(&pair).is_some_and(|g| g.size >= guess.size);
        if !keep {
            Arc::make_mut(&mut slot).insert(pair, guess);
        }
    }

    /// The cached list, read from the store when there is none.
    pub(crate) async fn get(&self, conn: &mut AnyConnection) -> Result<Arc<MirrorsList>> {
        if let Some(list) = self.cached() {
            return Ok(list);
        }
        let list = Arc::new(load_mirrors_list(conn).await?);
        let mut slot = self.list.write().unwrap_or_else(|e| e.into_inner());
        // Keep whichever of two concurrent reads is newer.
        match &*slot {
            Some(other) if other.generation >= list.generation => Ok(other.clone()),
            _ => {
                *slot = Some(list.clone());
                Ok(list)
            }
        }
    }

    /// Forgets the list if it is still the one read at `generation` (a statement saw
    /// a newer generation).
    pub(crate) fn invalidate(&self, generation: i64) {
        let mut slot = self.list.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|l| l.generation <= generation) {
            *slot = None;
        }
    }

    fn cached(&self) -> Option<Arc<MirrorsList>> {
        self.list.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Reads the mirrors list and its generation in one statement (one snapshot): the
/// destinations of each indexed chain by a loose index scan of the submissions' key,
/// so the cost grows with the number of pairs, not of submissions.
pub(crate) async fn load_mirrors_list(conn: &mut AnyConnection) -> Result<MirrorsList> {
    let rows = sqlx::query(
        "WITH RECURSIVE dests (source, d) AS (
             SELECT k.chain, (SELECT MIN(destination_chain) FROM submissions WHERE source_chain = k.chain)
             FROM cursors k
             UNION ALL
             SELECT dests.source, (SELECT MIN(destination_chain) FROM submissions
                                   WHERE source_chain = dests.source AND destination_chain > dests.d)
             FROM dests WHERE dests.d IS NOT NULL)
         SELECT g.n AS generation, p.source, p.d
         FROM mirrors_generation g LEFT JOIN (SELECT source, d FROM dests WHERE d IS NOT NULL) p ON 1 = 1
         WHERE g.id = 0
         ORDER BY p.source, p.d",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut list = MirrorsList {
        generation: 0,
        destinations: BTreeMap::new(),
    };
    for row in rows {
        list.generation = row.try_get("generation")?;
        if let (Some(source), Some(d)) = (
            row.try_get::<Option<String>, _>("source")?,
            row.try_get::<Option<String>, _>("d")?,
        ) {
            list.destinations
                .entry(parse_chain(&source)?)
                .or_default()
                .push(parse_chain(&d)?);
        }
    }
    Ok(list)
}

/// In the transaction that makes the submission of `size` on `route` `confirmed` or
/// `observed`: increments the generation when it is the route's first such
/// submission, i.e. when the mirrors list changes. (Only the route's lease holder
/// writes its submissions, so two first submissions of one route never race.)
pub(super) async fn note_mirrored(db: &mut AnyConnection, route: &Route, size: u64) -> Result<()> {
    sqlx::query(
        "UPDATE mirrors_generation SET n = n + 1
         WHERE id = 0 AND NOT EXISTS (
             SELECT 1 FROM submissions WHERE source_chain = $1 AND destination_chain = $2
                 AND size <> $3 AND state IN ('confirmed', 'observed'))",
    )
    .bind(route.source.as_str())
    .bind(route.destination.as_str())
    .bind(int(size))
    .execute(&mut *db)
    .await?;
    Ok(())
}
