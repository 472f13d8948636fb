//! Lookups: the records matching a digest or an id, with everything a lookup shows,
//! in a bounded number of statements whatever the records' mirrors and receipts.
//!
//! 1. One statement ([`lookup_select!`]) for the records, each with its chain's name,
//!    the newest checkpoint covering it, the logged revoke that revokes it, and — one
//!    row per destination — the newest checkpoint of its chain mirrored there if that
//!    covers it.
//! 2. Only when a record is mirrored: one statement for the RFC 3161 timestamps of all
//!    those mirrored checkpoints, one for all their round-trip receipts (records of the
//!    destination chains), and, when a receipt is logged, one for the newest mirrored
//!    checkpoints of the receipts' chains (where the receipts are provable).
//!
//! So a missing digest costs one statement and a found one at most four (a lookup
//! matching more than [`KEYS_PER_STATEMENT`] mirrors splits the batched reads).

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::B256;
use evidence_adapters::receipts::receipt_digest;
use evidence_schemas::ChainId;
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{MirroredOn, RecordState, RecordView, RoundTripReceipt};
use crate::{
    Result,
    store::{
        hex32, parse_b256, parse_chain,
        records::{any_of, record_columns, record_from_row},
        timestamps_of, uint,
    },
};

/// Mirrors (or receipts) per batched statement: 3 parameters each, far below either
/// database's limit on parameters.
const KEYS_PER_STATEMENT: usize = 200;

/// The records matching `$filter` (a condition on `records r`) with their mirrors, in
/// lookup order. Every part is an index lookup: `checkpoints` and `submissions`
/// primary keys, `records_by_digest` / `records_by_ref` (migration 0005); the
/// destinations of a chain are found by a loose index scan of the submissions' key
/// (recursive CTE `dests`), so the cost does not grow with the number of checkpoints or
/// submissions.
macro_rules! lookup_select {
    ($filter:literal) => {
        concat!(
            "WITH RECURSIVE hits AS (
                 SELECT ",
            record_columns!("r."),
            ", r.leaf_index, r.invalid_ref, c.name AS chain_name,
                        (SELECT MAX(k.size) FROM checkpoints k WHERE k.chain = r.chain AND k.size > r.leaf_index)
                            AS newest_checkpoint,
                        (SELECT v.record_id FROM records v WHERE v.ref_id = r.record_id AND v.chain = r.chain
                            AND v.action = 'revoke' AND v.status = 'logged' AND v.invalid_ref = 0
                            ORDER BY v.leaf_index LIMIT 1) AS revoked_by
                 FROM records r JOIN cursors c ON c.chain = r.chain WHERE ",
            $filter,
            "),
             dests (source, d) AS (
                 SELECT h.chain, (SELECT MIN(destination_chain) FROM submissions WHERE source_chain = h.chain)
                 FROM (SELECT DISTINCT chain FROM hits) h
",
            next_destination!(),
            "
             newest AS (",
            newest_mirrored_select!(),
            ")
             SELECT ",
            record_columns!("h."),
            ", h.leaf_index, h.invalid_ref, h.chain_name, h.newest_checkpoint,
                    h.revoked_by, n.destination_chain AS m_destination, n.size AS m_size, n.tx_hash AS m_tx_hash,
                    n.mined_block AS m_block, n.root AS m_root, n.indexed AS m_indexed
             FROM hits h LEFT JOIN newest n ON n.source_chain = h.chain AND n.size > h.leaf_index
             ORDER BY h.chain, h.block_number, h.tx_index, h.log_index, h.record_id, n.destination_chain"
        )
    };
}

/// The recursive step of a CTE `dests (source, d)`: the next destination chain of each
/// source after `d` (a loose index scan of the submissions' primary key).
macro_rules! next_destination {
    () => {
        " UNION ALL
          SELECT dests.source, (SELECT MIN(destination_chain) FROM submissions
                                WHERE source_chain = dests.source AND destination_chain > dests.d)
          FROM dests WHERE dests.d IS NOT NULL),"
    };
}

/// Over a CTE `dests (source, d)` of (source chain, destination chain): the newest
/// confirmed (or observed) submission on each, with its checkpoint's root and whether
/// this store indexes the destination (only then can it hold the round-trip receipt:
/// a record's chain must have a cursor).
macro_rules! newest_mirrored_select {
    () => {
        "SELECT s.source_chain, s.destination_chain, s.size,
                CASE WHEN s.tx_payload IS NOT NULL OR (s.raw_tx IS NOT NULL AND s.nonce IS NOT NULL)
                     THEN s.tx_hash END AS tx_hash,
                s.mined_block, k.root,
                (SELECT COUNT(*) FROM cursors WHERE chain = s.destination_chain) AS indexed
         FROM dests
         JOIN submissions s ON s.source_chain = dests.source AND s.destination_chain = dests.d
             AND s.size = (SELECT MAX(m.size) FROM submissions m
                           WHERE m.source_chain = dests.source AND m.destination_chain = dests.d
                             AND m.state IN ('confirmed', 'observed'))
         LEFT JOIN checkpoints k ON k.chain = s.source_chain AND k.size = s.size"
    };
}

/// What a lookup is by.
#[derive(Debug, Clone, Copy)]
pub(super) enum By {
    /// The evidence digest (every record with it, on every chain).
    Digest,
    /// The record id.
    RecordId,
}

/// The newest mirrored checkpoint of a chain on one destination.
struct Mirror {
    on: MirroredOn,
    /// Whether this store indexes the destination chain (only then can it hold the
    /// round-trip receipt: a record's chain must have a cursor).
    destination_indexed: bool,
}

/// One record of the lookup before its mirrors' receipts and timestamps are read.
struct Hit {
    view: RecordView,
    mirrors: Vec<Mirror>,
}

/// A receipt record as [`load_receipts`] finds it: id, leaf index, newest checkpoint.
type ReceiptRow = (B256, Option<u64>, Option<u64>);

/// Every record matching `key`, with its mirrors, receipts and timestamps.
pub(super) async fn lookup(conn: &mut AnyConnection, by: By, key: B256) -> Result<Vec<RecordView>> {
    let sql = match by {
        By::Digest => lookup_select!("r.digest = $1"),
        By::RecordId => lookup_select!("r.record_id = $1"),
    };
    let rows = sqlx::query(sql)
        .bind(hex32(&key))
        .fetch_all(&mut *conn)
        .await?;
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
    // Every mirror's timestamps and round-trip receipt, a statement each for all.
    let mut stamp_keys = BTreeSet::new();
    let mut receipt_keys = BTreeSet::new();
    for hit in &hits {
        let source = &hit.view.record.source.chain;
        for m in &hit.mirrors {
            let on = &m.on;
            stamp_keys.insert((
                source.clone(),
                on.destination_chain.clone(),
                on.checkpoint_size,
            ));
            if let (true, Some(root)) = (m.destination_indexed, on.checkpoint_root) {
                let digest = receipt_digest(source.key(), on.checkpoint_size, root);
                receipt_keys.insert((digest, on.destination_chain.clone()));
            }
        }
    }
    let mut stamps = BTreeMap::new();
    let stamp_keys: Vec<_> = stamp_keys.into_iter().collect();
    for chunk in stamp_keys.chunks(KEYS_PER_STATEMENT) {
        stamps.append(&mut timestamps_of(conn, chunk).await?);
    }
    let receipts = load_receipts(conn, &receipt_keys).await?;
    // Where the logged receipts are provable: their chains' newest mirrored checkpoints.
    let receipt_chains: BTreeSet<ChainId> = receipts
        .iter()
        .filter(|(_, (_, leaf, _))| leaf.is_some())
        .map(|((_, chain), _)| chain.clone())
        .collect();
    let newest = load_newest_mirrored(conn, &receipt_chains).await?;

    let mut out = Vec::with_capacity(hits.len());
    for Hit { mut view, mirrors } in hits {
        let source = view.record.source.chain.clone();
        for m in mirrors {
            let on = m.on;
            let receipt = match (m.destination_indexed, on.checkpoint_root) {
                (true, Some(root)) => {
                    let digest = receipt_digest(source.key(), on.checkpoint_size, root);
                    receipts.get(&(digest, on.destination_chain.clone())).map(
                        |&(record_id, leaf, newest_size)| {
                            receipt_view(
                                &newest,
                                &on.destination_chain,
                                digest,
                                record_id,
                                leaf,
                                newest_size,
                            )
                        },
                    )
                }
                _ => None,
            };
            let key = (
                source.clone(),
                on.destination_chain.clone(),
                on.checkpoint_size,
            );
            view.mirrored_on.push(MirroredOn {
                receipt,
                timestamps: stamps.get(&key).cloned().unwrap_or_default(),
                ..on
            });
        }
        out.push(view);
    }
    Ok(out)
}

/// A round-trip receipt as lookups show it: where it stands in its (destination)
/// chain's log and on which chains it is provable.
fn receipt_view(
    newest: &BTreeMap<ChainId, Vec<Mirror>>,
    chain: &ChainId,
    digest: B256,
    record_id: B256,
    leaf: Option<u64>,
    newest_checkpoint: Option<u64>,
) -> RoundTripReceipt {
    let (state, provable_on) = match leaf {
        None => (RecordState::PendingConfirmation, Vec::new()),
        Some(leaf_index) => {
            // The newest mirrored checkpoint of a destination covers the receipt iff
            // any does.
            let on = newest
                .get(chain)
                .map(|mirrors| {
                    mirrors
                        .iter()
                        .filter(|m| m.on.checkpoint_size > leaf_index)
                        .map(|m| m.on.clone())
                        .collect()
                })
                .unwrap_or_default();
            let state = match newest_checkpoint {
                Some(checkpoint_size) => RecordState::Checkpointed {
                    leaf_index,
                    checkpoint_size,
                },
                None => RecordState::InLog { leaf_index },
            };
            (state, on)
        }
    };
    RoundTripReceipt {
        record_id,
        digest,
        state,
        provable_on,
    }
}

/// One record's rows of `lookup_select!`: the view without receipts and timestamps,
/// and its mirrors (none while pending).
fn hit_from_rows(rows: &[AnyRow]) -> Result<Hit> {
    let row = &rows[0];
    let (record_id, record) = record_from_row(row)?;
    let leaf: Option<i64> = row.try_get("leaf_index")?;
    let mut mirrors = Vec::new();
    let state = match leaf.map(uint) {
        None => RecordState::PendingConfirmation,
        Some(leaf_index) => {
            for r in rows {
                mirrors.extend(mirror_from_row(r)?);
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
    Ok(Hit { view, mirrors })
}

/// The mirror in a row's `m_destination`, `m_size`, … columns, if any.
fn mirror_from_row(r: &AnyRow) -> Result<Option<Mirror>> {
    let Some(destination) = r.try_get::<Option<String>, _>("m_destination")? else {
        return Ok(None);
    };
    let root: Option<String> = r.try_get("m_root")?;
    let tx_hash: Option<String> = r.try_get("m_tx_hash")?;
    Ok(Some(Mirror {
        on: MirroredOn {
            destination_chain: parse_chain(&destination)?,
            checkpoint_size: uint(r.try_get("m_size")?),
            checkpoint_root: root
                .map(|r| parse_b256("checkpoints.root", &r))
                .transpose()?,
            tx_hash: tx_hash
                .map(|h| parse_b256("submissions.tx_hash", &h))
                .transpose()?,
            block: r.try_get::<Option<i64>, _>("m_block")?.map(uint),
            receipt: None,
            timestamps: Vec::new(),
        },
        destination_indexed: r.try_get::<i64, _>("m_indexed")? > 0,
    }))
}

/// The receipt records with these (digest, chain) keys: per key the first in source
/// order, with its leaf index and the newest checkpoint covering it.
async fn load_receipts(
    conn: &mut AnyConnection,
    keys: &BTreeSet<(B256, ChainId)>,
) -> Result<BTreeMap<(B256, ChainId), ReceiptRow>> {
    let mut out = BTreeMap::new();
    let keys: Vec<_> = keys.iter().collect();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut sql = String::from(
            "SELECT r.digest, r.chain, r.record_id, r.leaf_index,
                    (SELECT MAX(k.size) FROM checkpoints k WHERE k.chain = r.chain AND k.size > r.leaf_index)
                        AS newest
             FROM records r WHERE ",
        );
        sql.push_str(&any_of(&["r.digest", "r.chain"], chunk.len(), 1));
        sql.push_str(" ORDER BY r.digest, r.chain, r.block_number, r.log_index");
        let mut q = sqlx::query(&sql);
        for (digest, chain) in chunk {
            q = q.bind(hex32(digest)).bind(chain.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            let digest = parse_b256("records.digest", row.try_get("digest")?)?;
            let chain = parse_chain(row.try_get("chain")?)?;
            let found = (
                parse_b256("records.record_id", row.try_get("record_id")?)?,
                row.try_get::<Option<i64>, _>("leaf_index")?.map(uint),
                row.try_get::<Option<i64>, _>("newest")?.map(uint),
            );
            // Rows come in source order: the first per key is the receipt.
            out.entry((digest, chain)).or_insert(found);
        }
    }
    Ok(out)
}

/// The newest mirrored checkpoint of each of `chains` on each destination
/// (`newest_mirrored_select!` over the destinations found by a loose index scan of the
/// submissions' key), in one statement.
async fn load_newest_mirrored(
    conn: &mut AnyConnection,
    chains: &BTreeSet<ChainId>,
) -> Result<BTreeMap<ChainId, Vec<Mirror>>> {
    let mut out = BTreeMap::new();
    if chains.is_empty() {
        return Ok(out);
    }
    let list = (1..=chains.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        concat!(
            "WITH RECURSIVE dests (source, d) AS (
                 SELECT k.chain, (SELECT MIN(destination_chain) FROM submissions WHERE source_chain = k.chain)
                 FROM cursors k WHERE k.chain IN ({})
",
            next_destination!(),
            "
             newest AS (",
            newest_mirrored_select!(),
            ")
             SELECT source_chain, destination_chain AS m_destination, size AS m_size, tx_hash AS m_tx_hash,
                    mined_block AS m_block, root AS m_root, indexed AS m_indexed
             FROM newest ORDER BY source_chain, destination_chain"
        ),
        list
    );
    let mut q = sqlx::query(&sql);
    for chain in chains {
        q = q.bind(chain.as_str());
    }
    for row in q.fetch_all(&mut *conn).await? {
        let source = parse_chain(row.try_get("source_chain")?)?;
        if let Some(m) = mirror_from_row(&row)? {
            out.entry(source).or_insert_with(Vec::new).push(m);
        }
    }
    Ok(out)
}
