//! `insert_records` on PostgreSQL: a chunk of records as one statement whose
//! parameters are whole columns.
//!
//! sqlx's `Any` driver binds no arrays and speaks no `COPY`, so the rows travel as
//! text: one parameter per column, the chunk's values joined by [`SEP`] and split on
//! the server by `string_to_array`, zipped back into rows by `unnest … WITH ORDINALITY`.
//! Measured against the encoding it replaced (one JSON array of objects expanded by
//! `json_to_recordset`; psql, 20,000 rows into the full `records` schema, five runs
//! each): ~420 ms against ~550 ms; `COPY` of the same rows ~330 ms
//! (docs/BENCHMARKS.md, "PostgreSQL record writes by columns").
//!
//! Splitting on a separator is sound only if no value holds it. Every column is built
//! from a type that cannot: 0x-hex hashes and addresses, integers, the fixed names of
//! actions and digest algorithms, and [`Label`]s, whose alphabet is
//! `[A-Za-z0-9._:/-]`. The two label columns are still checked (a label built some
//! other way must fail here, not shift the columns of a row). A label may be empty, and
//! PostgreSQL splits an empty string into no element at all, so labels are sent behind
//! a one-character prefix that the statement strips. [`NULL`] marks an absent optional
//! value.

use alloy::primitives::B256;
use evidence_adapters::SourcedRecord;
use evidence_schemas::Label;
use sqlx::AnyConnection;

use super::{hex_addr, hex32, int, records::action_text};
use crate::{RelayerError, Result};

/// Records per statement.
const CHUNK: usize = 5_000;

/// Between two values of a column.
const SEP: char = ',';

/// An absent optional value (`seq`, `ref_id`).
const NULL: char = '~';

/// Before each label; stripped by the statement (`substr(…, 2)`).
const LABEL_PREFIX: char = '=';

/// The columns sent, in order: name in the statement, SQL type after the split.
const COLUMNS: [(&str, &str); 17] = [
    ("id", "text"),
    ("bn", "bigint"),
    ("bh", "text"),
    ("ti", "bigint"),
    ("li", "bigint"),
    ("seq", "bigint"),
    ("act", "text"),
    ("rf", "text"),
    ("dg", "text"),
    ("alg", "text"),
    ("sb", "text"),
    ("ad", "text"),
    ("ct", "text"),
    ("th", "text"),
    ("bt", "bigint"),
    ("kd", "text"),
    ("md", "text"),
];

/// The statement for one chunk: `$1`…`$17` the columns, then chain, status, the leaf
/// index of the chunk's first record (NULL for pending records) and `created_at`.
fn statement(logged: bool) -> String {
    let n = COLUMNS.len();
    let split: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            let array = format!("string_to_array(${}, '{SEP}', '{NULL}')", i + 1);
            if *ty == "text" {
                array
            } else {
                format!("{array}::{ty}[]")
            }
        })
        .collect();
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    let mut sql = format!(
        "INSERT INTO records (record_id, chain, status, leaf_index, block_number, block_hash, tx_index,
            log_index, seq, action, ref_id, digest, digest_alg, submitter, record, created_at, adapter,
            contract, tx_hash, block_time, kind, metadata)
         SELECT r.id, ${chain}, ${status}, ${leaf}::bigint + r.n - 1, r.bn, r.bh, r.ti, r.li, r.seq,
            r.act, r.rf, r.dg, r.alg, r.sb, '', ${now}, substr(r.ad, 2), r.ct, r.th, r.bt,
            substr(r.kd, 2), r.md
         FROM unnest({split}) WITH ORDINALITY AS r({names}, n)",
        chain = n + 1,
        status = n + 2,
        leaf = n + 3,
        now = n + 4,
        split = split.join(", "),
        names = names.join(", "),
    );
    if !logged {
        // A pending record fetched again is kept once.
        sql.push_str(" ON CONFLICT (record_id) DO NOTHING");
    }
    sql
}

/// The chunk's columns, each its values joined by [`SEP`].
#[derive(Default)]
struct Columns([String; 17]);

impl Columns {
    fn with_capacity(rows: usize) -> Self {
        let mut columns = Self::default();
        for (column, (_, ty)) in columns.0.iter_mut().zip(COLUMNS) {
            column.reserve(rows * if ty == "text" { 67 } else { 12 });
        }
        columns
    }

    /// The text of `column`, with a separator appended if it already holds a value.
    fn next(&mut self, column: usize) -> &mut String {
        let text = &mut self.0[column];
        if !text.is_empty() {
            text.push(SEP);
        }
        text
    }

    fn push(&mut self, column: usize, value: &str) {
        self.next(column).push_str(value);
    }

    fn push_null(&mut self, column: usize) {
        self.next(column).push(NULL);
    }

    fn push_int(&mut self, column: usize, value: Option<u64>) {
        match value {
            Some(v) => self.push(column, &int(v).to_string()),
            None => self.push_null(column),
        }
    }

    fn push_label(&mut self, column: usize, label: &Label) -> Result<()> {
        let value = label.as_str();
        if value.contains([SEP, NULL]) {
            return Err(RelayerError::Config(format!(
                "the label {value:?} holds {SEP:?} or {NULL:?}, which labels may not; the record is not stored"
            )));
        }
        let text = self.next(column);
        text.push(LABEL_PREFIX);
        text.push_str(value);
        Ok(())
    }

    /// Adds one record; returns its id.
    fn add(&mut self, sr: &SourcedRecord) -> Result<B256> {
        let r = &sr.record;
        let (s, e) = (&r.source, &r.evidence);
        let id = r.record_id();
        self.push(0, &hex32(&id));
        self.push_int(1, Some(s.block_number));
        self.push(2, &hex32(&s.block_hash));
        self.push_int(3, Some(s.tx_index));
        self.push_int(4, Some(s.log_index));
        self.push_int(5, sr.seq);
        self.push(6, action_text(r.action));
        match &r.reference {
            Some(reference) => self.push(7, &hex32(reference)),
            None => self.push_null(7),
        }
        self.push(8, &hex32(&e.digest));
        self.push(9, e.digest_alg.name());
        self.push(10, &hex_addr(&e.submitter));
        self.push_label(11, &s.adapter)?;
        self.push(12, &hex_addr(&s.contract));
        self.push(13, &hex32(&s.tx_hash));
        self.push_int(14, Some(s.block_timestamp));
        self.push_label(15, &e.kind)?;
        self.push(16, &hex32(&e.metadata));
        Ok(id)
    }
}

/// Inserts records as pending, or — with `first_leaf` — logged with consecutive leaf
/// indices from it. Returns the record ids in the order given.
pub(super) async fn insert_records_pg(
    tx: &mut AnyConnection,
    c: &str,
    records: &[SourcedRecord],
    first_leaf: Option<i64>,
    now: i64,
) -> Result<Vec<B256>> {
    let sql = statement(first_leaf.is_some());
    let status = if first_leaf.is_some() {
        "logged"
    } else {
        "pending"
    };
    let mut ids = Vec::with_capacity(records.len());
    for (chunk_no, chunk) in records.chunks(CHUNK).enumerate() {
        let mut columns = Columns::with_capacity(chunk.len());
        for sr in chunk {
            ids.push(columns.add(sr)?);
        }
        let mut q = sqlx::query(&sql);
        for column in columns.0 {
            q = q.bind(column);
        }
        let done = q
            .bind(c)
            .bind(status)
            .bind(first_leaf.map(|f| f + (chunk_no * CHUNK) as i64))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // Logged records are new by construction (their leaves were free); each one
        // must have become a row.
        if first_leaf.is_some() && done.rows_affected() != chunk.len() as u64 {
            return Err(RelayerError::corrupt(format!(
                "PostgreSQL stored {} rows of a chunk of {} logged records",
                done.rows_affected(),
                chunk.len()
            )));
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_joined_with_prefixed_labels_and_null_markers() {
        let mut columns = Columns::default();
        columns.push_int(5, Some(7));
        columns.push_int(5, None);
        columns
            .push_label(15, &Label::parse("kind", "").unwrap())
            .unwrap();
        columns
            .push_label(15, &Label::parse("kind", "iou").unwrap())
            .unwrap();
        assert_eq!(columns.0[5], "7,~");
        assert_eq!(columns.0[15], "=,=iou");
    }

    #[test]
    fn the_statement_numbers_every_parameter_once() {
        let sql = statement(true);
        for k in 1..=21 {
            assert_eq!(
                sql.matches(&format!("${k},")).count()
                    + sql.matches(&format!("${k}::")).count()
                    + sql.matches(&format!("${k})")).count(),
                1,
                "${k} in {sql}"
            );
        }
        assert!(!sql.contains("$22"));
        assert!(statement(false).ends_with("ON CONFLICT (record_id) DO NOTHING"));
    }
}
