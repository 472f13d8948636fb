//! Lookups: the records matching a digest or an id, with everything a lookup shows —
//! state, revocation, mirrors, RFC 3161 timestamps, round-trip receipts and where those
//! are provable — in **one statement**, whatever the records' mirrors and receipts,
//! and in two when a checkpoint was mirrored since this process last looked.
//!
//! The statement ([`HITS_HEAD`] … [`HITS_FROM`]) reads the records, each with its
//! chain's name, the newest checkpoint covering it and the logged revoke that revokes
//! it; then, one row per destination (and TSA, and receipt destination), the newest
//! checkpoint of its chain mirrored there if that covers it, that checkpoint's
//! timestamps, its round-trip receipt (a record of the destination chain) and the
//! newest mirrored checkpoints of the receipt's chain that cover the receipt.
//!
//! Two things come from the process's cache (`relayer/src/store/mirrors.rs`), bound
//! into the statement and checked by it:
//! - **the mirrors list** (which destinations mirror which chain): the statement reads
//!   the list's generation, and an answer read with an outdated list is thrown away and
//!   read again with the new list;
//! - **the receipt digest of each pair's newest mirrored checkpoint** (a receipt's
//!   digest is a keccak of the checkpoint, which SQL cannot compute): the statement
//!   joins a receipt only where the live newest checkpoint has the guessed size and
//!   root. Where it does not (a checkpoint mirrored since), a second statement reads
//!   those receipts by their computed digests, and the guesses are updated.
//!
//! The newest mirrored checkpoints themselves are always read live. A missing digest
//! is one statement.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::B256;
use evidence_adapters::receipts::receipt_digest;
use evidence_schemas::ChainId;
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{MirroredOn, RecordState, RecordView, RoundTripReceipt, TimestampView};
use crate::{
    RelayerError, Result,
    store::{
        hex32, int,
        mirrors::{GENERATION_COLUMN, MirrorsCache, MirrorsList, ReceiptGuess},
        parse_b256, parse_chain,
        records::{any_of, record_columns, record_from_row},
        timestamp_from_row, uint,
    },
};

/// Receipts per batched statement of [`load_receipts`]: 2 parameters each, far below
/// either database's limit on parameters.
const KEYS_PER_STATEMENT: usize = 200;

/// How often one lookup re-reads the mirrors list before giving up. The generation
/// moves only when a route's first checkpoint is mirrored, so a retry needs a new
/// route to appear during the lookup.
const MAX_LIST_READS: usize = 32;

/// Over a CTE `$dests (source, d)` of (source chain, destination chain): the newest
/// confirmed (or observed) submission on each, with its checkpoint's root and whether
/// this store indexes the destination (only then can it hold the round-trip receipt:
/// a record's chain must have a cursor).
macro_rules! newest_mirrored_select {
    ($dests:literal) => {
        concat!(
            "SELECT s.source_chain, s.destination_chain, s.size,
                CASE WHEN s.tx_payload IS NOT NULL OR (s.raw_tx IS NOT NULL AND s.nonce IS NOT NULL)
                     THEN s.tx_hash END AS tx_hash,
                s.mined_block, k.root,
                (SELECT COUNT(*) FROM cursors WHERE chain = s.destination_chain) AS indexed
         FROM ",
            $dests,
            " p JOIN submissions s ON s.source_chain = p.source AND s.destination_chain = p.d
             AND s.size = (SELECT MAX(m.size) FROM submissions m
                           WHERE m.source_chain = p.source AND m.destination_chain = p.d
                             AND m.state IN ('confirmed', 'observed'))
         LEFT JOIN checkpoints k ON k.chain = s.source_chain AND k.size = s.size"
        )
    };
}

/// The statement up to its filter: the records (`hits`) matching a condition on
/// `records r`. Every part is an index lookup: `checkpoints`, `submissions` and
/// `timestamps` primary keys, `records_by_digest` / `records_by_ref` (migration 0005).
const HITS_HEAD: &str = concat!(
    "WITH hits AS (
         SELECT ",
    record_columns!("r."),
    ", r.leaf_index, r.invalid_ref, c.name AS chain_name,
                (SELECT MAX(k.size) FROM checkpoints k WHERE k.chain = r.chain AND k.size > r.leaf_index)
                    AS newest_checkpoint,
                (SELECT v.record_id FROM records v WHERE v.ref_id = r.record_id AND v.chain = r.chain
                    AND v.action = 'revoke' AND v.status = 'logged' AND v.invalid_ref = 0
                    ORDER BY v.leaf_index LIMIT 1) AS revoked_by
         FROM records r JOIN cursors c ON c.chain = r.chain WHERE "
);

/// After the filter and the `pairs` CTE: the hits' newest mirrored checkpoints on the
/// cached destinations of their chains (`newest`), and those of the receipts' chains
/// (`rnewest`).
const HITS_TAIL: &str = concat!(
    "dests AS (SELECT source, d FROM pairs WHERE source IN (SELECT chain FROM hits)),
     newest AS (",
    newest_mirrored_select!("dests"),
    "),
     rdests AS (SELECT source, d FROM pairs
                WHERE source IN (SELECT destination_chain FROM newest WHERE indexed > 0)),
     rnewest AS (",
    newest_mirrored_select!("rdests"),
    ")
     SELECT ",
    record_columns!("h."),
    ", h.leaf_index, h.invalid_ref, h.chain_name, h.newest_checkpoint,
            h.revoked_by, n.destination_chain AS m_destination, n.size AS m_size, n.tx_hash AS m_tx_hash,
            n.mined_block AS m_block, n.root AS m_root, n.indexed AS m_indexed,
            t.tsa, t.token, t.gen_time, t.tsa_subject, g.g_digest AS guess,
            rc.record_id AS rc_id, rc.leaf_index AS rc_leaf,
            (SELECT MAX(k.size) FROM checkpoints k WHERE k.chain = rc.chain AND k.size > rc.leaf_index)
                AS rc_newest_checkpoint,
            rn.destination_chain AS p_destination, rn.size AS p_size, rn.tx_hash AS p_tx_hash,
            rn.mined_block AS p_block, rn.root AS p_root, rn.indexed AS p_indexed, "
);

/// The end of the statement.
const HITS_FROM: &str = "
     FROM hits h LEFT JOIN newest n ON n.source_chain = h.chain AND n.size > h.leaf_index
     LEFT JOIN timestamps t ON t.source_chain = n.source_chain AND t.destination_chain = n.destination_chain
         AND t.size = n.size
     LEFT JOIN pairs g ON g.source = n.source_chain AND g.d = n.destination_chain AND g.g_size = n.size
         AND g.g_root = n.root
     LEFT JOIN records rc ON rc.digest = g.g_digest AND rc.chain = n.destination_chain
         AND rc.adapter = 'bridge-receipts'
     LEFT JOIN rnewest rn ON rn.source_chain = rc.chain AND rn.size > rc.leaf_index
     ORDER BY h.chain, h.block_number, h.tx_index, h.log_index, h.record_id, n.destination_chain, t.tsa,
         rc.block_number, rc.log_index, rc.record_id, rn.destination_chain";

/// What a lookup is by.
#[derive(Debug, Clone, Copy)]
pub(super) enum By {
    /// The evidence digest (every record with it, on every chain).
    Digest,
    /// The record id.
    RecordId,
}

/// The newest mirrored checkpoint of a chain on one destination, as the statement
/// found it.
struct Mirror {
    on: MirroredOn,
    /// Whether this store indexes the destination chain (only then can it hold the
    /// round-trip receipt: a record's chain must have a cursor).
    destination_indexed: bool,
    /// The receipt digest guessed for this checkpoint, when the guess was right.
    guess: Option<B256>,
    /// The receipt the statement found with the guess.
    receipt: Option<ReceiptRow>,
}

/// A receipt record with where it stands and where it is provable.
#[derive(Clone)]
struct ReceiptRow {
    record_id: B256,
    leaf: Option<u64>,
    newest_checkpoint: Option<u64>,
    provable_on: Vec<MirroredOn>,
}

/// Every record matching `key`, with its mirrors, receipts and timestamps.
pub(super) async fn lookup(
    conn: &mut AnyConnection,
    cache: &MirrorsCache,
    by: By,
    key: B256,
) -> Result<Vec<RecordView>> {
    for _ in 0..MAX_LIST_READS {
        let list = cache.get(conn).await?;
        match lookup_with(conn, cache, &list, by, key).await? {
            Some(views) => return Ok(views),
            None => cache.invalidate(list.generation),
        }
    }
    Err(RelayerError::NotFound(format!(
        "the mirrors list changed {MAX_LIST_READS} times during one lookup; try again"
    )))
}

/// The `pairs (source, d, g_size, g_root, g_digest)` CTE: the list's pairs whose source
/// is in `sources` (all when `None`), each with its receipt guess (NULLs without one),
/// binds numbered from `first`; and a function binding them.
fn pairs_cte(
    list: &MirrorsList,
    sources: Option<&BTreeSet<ChainId>>,
    guesses: &BTreeMap<(ChainId, ChainId), ReceiptGuess>,
    first: usize,
) -> (String, Vec<PairBind>) {
    let mut binds = Vec::new();
    let mut sql = String::from("pairs (source, d, g_size, g_root, g_digest) AS (");
    for (i, (s, d)) in list.pairs(sources).enumerate() {
        let n = first + 5 * i;
        sql.push_str(if i == 0 { "VALUES " } else { ", " });
        sql.push_str(&format!(
            "(${n}, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4
        ));
        let guess = guesses.get(&(s.clone(), d.clone()));
        binds.push(PairBind {
            source: s.as_str().to_owned(),
            d: d.as_str().to_owned(),
            size: guess.map(|g| int(g.size)),
            root: guess.map(|g| hex32(&g.root)),
            digest: guess.map(|g| hex32(&g.digest)),
        });
    }
    if binds.is_empty() {
        sql.push_str(
            "SELECT source_chain, destination_chain, size, tx_hash, tx_hash FROM submissions WHERE 1 = 0",
        );
    }
    sql.push_str("),\n");
    (sql, binds)
}

/// One row of the `pairs` CTE.
struct PairBind {
    source: String,
    d: String,
    size: Option<i64>,
    root: Option<String>,
    digest: Option<String>,
}

/// Binds `pairs` to `q` in order.
fn bind_pairs<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    pairs: Vec<PairBind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in pairs {
        q = q
            .bind(p.source)
            .bind(p.d)
            .bind(p.size)
            .bind(p.root)
            .bind(p.digest);
    }
    q
}

/// The lookup against one mirrors list; `None` when a statement saw a newer
/// generation than the list's.
async fn lookup_with(
    conn: &mut AnyConnection,
    cache: &MirrorsCache,
    list: &MirrorsList,
    by: By,
    key: B256,
) -> Result<Option<Vec<RecordView>>> {
    let (pairs_sql, pair_binds) = pairs_cte(list, None, &cache.guesses(), 2);
    let filter = match by {
        By::Digest => "r.digest = $1),\n",
        By::RecordId => "r.record_id = $1),\n",
    };
    let sql = [
        HITS_HEAD,
        filter,
        &pairs_sql,
        HITS_TAIL,
        GENERATION_COLUMN,
        HITS_FROM,
    ]
    .concat();
    let q = bind_pairs(sqlx::query(&sql).bind(hex32(&key)), pair_binds);
    let rows = q.fetch_all(&mut *conn).await?;
    if !current(&rows, list)? {
        return Ok(None);
    }
    let mut hits = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let id: String = rows[start].try_get("record_id")?;
        let mut end = start + 1;
        while end < rows.len() && rows[end].try_get::<String, _>("record_id")? == id {
            end += 1;
        }
        hits.push(hit_from_rows(&rows[start..end])?);
        start = end;
    }
    // The receipts of mirrors whose guess was not right: one more statement for all,
    // and the guesses updated.
    let mut missed = BTreeSet::new();
    for (view, mirrors) in &hits {
        let source = &view.record.source.chain;
        for m in mirrors {
            if let Some(digest) = receipt_key(source, m)
                && m.guess != Some(digest)
            {
                missed.insert((digest, m.on.destination_chain.clone()));
            }
        }
    }
    let fetched = if missed.is_empty() {
        BTreeMap::new()
    } else {
        let Some(fetched) = load_receipts(conn, cache, list, &missed).await? else {
            return Ok(None);
        };
        for (view, mirrors) in &hits {
            let source = &view.record.source.chain;
            for m in mirrors {
                if let (Some(digest), Some(root)) = (receipt_key(source, m), m.on.checkpoint_root) {
                    cache.note_guess(
                        (source.clone(), m.on.destination_chain.clone()),
                        ReceiptGuess {
                            size: m.on.checkpoint_size,
                            root,
                            digest,
                        },
                    );
                }
            }
        }
        fetched
    };

    let mut out = Vec::with_capacity(hits.len());
    for (mut view, mirrors) in hits {
        let source = view.record.source.chain.clone();
        for m in mirrors {
            let receipt = receipt_key(&source, &m).and_then(|digest| {
                let found = if m.guess == Some(digest) {
                    m.receipt.as_ref()
                } else {
                    fetched.get(&(digest, m.on.destination_chain.clone()))
                };
                found.map(|r| receipt_view(digest, r))
            });
            view.mirrored_on.push(MirroredOn { receipt, ..m.on });
        }
        out.push(view);
    }
    Ok(Some(out))
}

/// Whether `rows` were read with `list` still current (no rows: nothing to check).
fn current(rows: &[AnyRow], list: &MirrorsList) -> Result<bool> {
    Ok(match rows.first() {
        Some(row) => row.try_get::<i64, _>("generation")? == list.generation,
        None => true,
    })
}

/// The digest of the round-trip receipt of mirror `m` of a record of `source`, when
/// this store can hold it.
fn receipt_key(source: &ChainId, m: &Mirror) -> Option<B256> {
    match (m.destination_indexed, m.on.checkpoint_root) {
        (true, Some(root)) => Some(receipt_digest(source.key(), m.on.checkpoint_size, root)),
        _ => None,
    }
}

/// A round-trip receipt as lookups show it: where it stands in its (destination)
/// chain's log and on which chains it is provable.
fn receipt_view(digest: B256, r: &ReceiptRow) -> RoundTripReceipt {
    let state = match (r.leaf, r.newest_checkpoint) {
        (None, _) => RecordState::PendingConfirmation,
        (Some(leaf_index), Some(checkpoint_size)) => RecordState::Checkpointed {
            leaf_index,
            checkpoint_size,
        },
        (Some(leaf_index), None) => RecordState::InLog { leaf_index },
    };
    RoundTripReceipt {
        record_id: r.record_id,
        digest,
        state,
        provable_on: r.provable_on.clone(),
    }
}

/// One record's rows of the statement: the view without receipts (its timestamps
/// included), and its mirrors (none while pending), one per destination, each with
/// the receipt found with its guess.
fn hit_from_rows(rows: &[AnyRow]) -> Result<(RecordView, Vec<Mirror>)> {
    let row = &rows[0];
    let (record_id, record) = record_from_row(row)?;
    let leaf: Option<i64> = row.try_get("leaf_index")?;
    let mut mirrors: Vec<Mirror> = Vec::new();
    let state = match leaf.map(uint) {
        None => RecordState::PendingConfirmation,
        Some(leaf_index) => {
            for r in rows {
                add_row(&mut mirrors, r)?;
            }
            match row.try_get::<Option<i64>, _>("newest_checkpoint")? {
                Some(size) => RecordState::Checkpointed {
                    leaf_index,
                    checkpoint_size: uint(size),
                },
                None => RecordState::InLog { leaf_index },
            }
        }
    };
    let revoked_by: Option<String> = row.try_get("revoked_by")?;
    let view = RecordView {
        record,
        record_id,
        chain_name: row.try_get("chain_name")?,
        state,
        mirrored_on: Vec::with_capacity(mirrors.len()),
        revoked_by: revoked_by
            .map(|r| parse_b256("records.record_id", &r))
            .transpose()?,
        invalid_ref: row.try_get::<i64, _>("invalid_ref")? != 0,
    };
    Ok((view, mirrors))
}

/// Adds one row of a record to its mirrors. A destination's rows are consecutive: one
/// per (TSA, receipt record, destination the receipt is provable on); the first
/// receipt record in source order is the receipt.
fn add_row(mirrors: &mut Vec<Mirror>, r: &AnyRow) -> Result<()> {
    let Some(destination) = r.try_get::<Option<String>, _>("m_destination")? else {
        return Ok(());
    };
    let same = mirrors
        .last()
        .is_some_and(|m| m.on.destination_chain.as_str() == destination);
    if !same {
        let Some(on) = mirror_from_row(r, "m_")? else {
            return Ok(());
        };
        let guess: Option<String> = r.try_get("guess")?;
        mirrors.push(Mirror {
            on: on.0,
            destination_indexed: on.1,
            guess: guess.map(|g| parse_b256("guess", &g)).transpose()?,
            receipt: None,
        });
    }
    let Some(m) = mirrors.last_mut() else {
        return Ok(());
    };
    if let Some(tsa) = r.try_get::<Option<String>, _>("tsa")?
        && !m.on.timestamps.iter().any(|t| t.timestamp.tsa == tsa)
    {
        m.on.timestamps.push(TimestampView {
            timestamp: timestamp_from_row(r)?,
            tsa_subject: r.try_get("tsa_subject")?,
        });
    }
    let Some(rc_id) = r.try_get::<Option<String>, _>("rc_id")? else {
        return Ok(());
    };
    let rc_id = parse_b256("records.record_id", &rc_id)?;
    let receipt = m.receipt.get_or_insert(ReceiptRow {
        record_id: rc_id,
        leaf: r.try_get::<Option<i64>, _>("rc_leaf")?.map(uint),
        newest_checkpoint: r
            .try_get::<Option<i64>, _>("rc_newest_checkpoint")?
            .map(uint),
        provable_on: Vec::new(),
    });
    if receipt.record_id == rc_id
        && let Some((on, _)) = mirror_from_row(r, "p_")?
        && !receipt
            .provable_on
            .iter()
            .any(|p| p.destination_chain == on.destination_chain)
    {
        receipt.provable_on.push(on);
    }
    Ok(())
}

/// The mirror in a row's `{prefix}destination`, `{prefix}size`, … columns, if any,
/// and whether this store indexes its destination.
fn mirror_from_row(r: &AnyRow, prefix: &str) -> Result<Option<(MirroredOn, bool)>> {
    let col = |name: &str| format!("{prefix}{name}");
    let Some(destination) = r.try_get::<Option<String>, _>(col("destination").as_str())? else {
        return Ok(None);
    };
    let root: Option<String> = r.try_get(col("root").as_str())?;
    let tx_hash: Option<String> = r.try_get(col("tx_hash").as_str())?;
    Ok(Some((
        MirroredOn {
            destination_chain: parse_chain(&destination)?,
            checkpoint_size: uint(r.try_get(col("size").as_str())?),
            checkpoint_root: root
                .map(|r| parse_b256("checkpoints.root", &r))
                .transpose()?,
            tx_hash: tx_hash
                .map(|h| parse_b256("submissions.tx_hash", &h))
                .transpose()?,
            block: r
                .try_get::<Option<i64>, _>(col("block").as_str())?
                .map(uint),
            receipt: None,
            timestamps: Vec::new(),
        },
        r.try_get::<i64, _>(col("indexed").as_str())? > 0,
    )))
}

/// The receipt records with these (digest, chain) keys — per key the first of adapter
/// `bridge-receipts` in source order — each with its leaf index, the newest checkpoint
/// covering it and the newest mirrored checkpoints of its chain covering it (on the
/// cached destinations of the receipts' chains). `None` when the list is outdated.
async fn load_receipts(
    conn: &mut AnyConnection,
    cache: &MirrorsCache,
    list: &MirrorsList,
    keys: &BTreeSet<(B256, ChainId)>,
) -> Result<Option<BTreeMap<(B256, ChainId), ReceiptRow>>> {
    let mut out: BTreeMap<(B256, ChainId), ReceiptRow> = BTreeMap::new();
    let chains: BTreeSet<ChainId> = keys.iter().map(|(_, c)| c.clone()).collect();
    let keys: Vec<_> = keys.iter().collect();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let (pairs_sql, pair_binds) = pairs_cte(list, Some(&chains), &cache.guesses(), 1);
        let mut sql = format!(
            concat!(
                "WITH {}newest AS (",
                newest_mirrored_select!("pairs"),
                "),
                 rc AS (
                     SELECT r.digest, r.chain, r.record_id, r.leaf_index, r.block_number, r.log_index,
                            (SELECT MAX(k.size) FROM checkpoints k WHERE k.chain = r.chain AND k.size > r.leaf_index)
                                AS rc_newest_checkpoint
                     FROM records r WHERE r.adapter = 'bridge-receipts' AND ("
            ),
            pairs_sql
        );
        sql.push_str(&any_of(
            &["r.digest", "r.chain"],
            chunk.len(),
            pair_binds.len() * 5 + 1,
        ));
        sql.push_str(
            "))
             SELECT rc.digest, rc.chain, rc.record_id, rc.leaf_index, rc.rc_newest_checkpoint,
                    n.destination_chain AS p_destination, n.size AS p_size, n.tx_hash AS p_tx_hash,
                    n.mined_block AS p_block, n.root AS p_root, n.indexed AS p_indexed, ",
        );
        sql.push_str(GENERATION_COLUMN);
        sql.push_str(
            "
             FROM rc LEFT JOIN newest n ON n.source_chain = rc.chain AND n.size > rc.leaf_index
             ORDER BY rc.digest, rc.chain, rc.block_number, rc.log_index, rc.record_id, n.destination_chain",
        );
        let mut q = bind_pairs(sqlx::query(&sql), pair_binds);
        for (digest, chain) in chunk {
            q = q.bind(hex32(digest)).bind(chain.as_str());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        if !current(&rows, list)? {
            return Ok(None);
        }
        for row in rows {
            let digest = parse_b256("records.digest", row.try_get("digest")?)?;
            let chain = parse_chain(row.try_get("chain")?)?;
            let record_id = parse_b256("records.record_id", row.try_get("record_id")?)?;
            // Rows come in source order: the first record per key is the receipt, its
            // rows one per destination it is provable on.
            let entry = out.entry((digest, chain)).or_insert(ReceiptRow {
                record_id,
                leaf: row.try_get::<Option<i64>, _>("leaf_index")?.map(uint),
                newest_checkpoint: row
                    .try_get::<Option<i64>, _>("rc_newest_checkpoint")?
                    .map(uint),
                provable_on: Vec::new(),
            });
            if entry.record_id == record_id
                && let Some((on, _)) = mirror_from_row(&row, "p_")?
            {
                entry.provable_on.push(on);
            }
        }
    }
    Ok(Some(out))
}
