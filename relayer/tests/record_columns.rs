//! Records survive the store's row encoding with their edge values: an empty label,
//! no sequence number, a reference, the largest block numbers, and a chunk boundary of
//! the multi-row statements. On PostgreSQL a chunk travels as column parameters split
//! on the server (relayer/src/store/records_pg.rs), so this is where a value that
//! shifted a column would show. Both the pending path (fetched, then logged) and the
//! confirmed path (straight into the log) are read back and compared field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use alloy::primitives::{Address, B256};
use common::source_id;
use evidence_adapters::{BlockRef, SourcedRecord};
use evidence_relayer::{
    Store,
    test_db::{TestBackend, TestDb},
};
use evidence_schemas::{
    Action, DigestAlgorithm, Evidence, EvidenceRecord, Label, SourceLocator, record::RECORD_VERSION,
};

/// Records in blocks `block..`, `n` of them; every third has an empty kind, every
/// fifth no sequence number, every seventh is a revoke of the one before.
fn records(block: u64, n: usize) -> Vec<SourcedRecord> {
    let mut out: Vec<SourcedRecord> = Vec::with_capacity(n);
    for i in 0..n {
        let byte = |salt: u8| B256::repeat_byte((i as u8).wrapping_mul(31).wrapping_add(salt));
        let reference = (i % 7 == 6).then(|| out[i - 1].record.record_id());
        let record = EvidenceRecord {
            version: RECORD_VERSION,
            source: SourceLocator {
                chain: source_id(),
                adapter: Label::parse("adapter", "registry-v1").unwrap(),
                contract: Address::repeat_byte(0xc0),
                block_number: block + (i / 10) as u64,
                block_hash: B256::repeat_byte(0xb0 ^ (i / 10) as u8),
                tx_hash: byte(1),
                tx_index: (i % 10) as u64,
                log_index: i as u64,
                block_timestamp: u64::from(u32::MAX) + i as u64,
            },
            action: if reference.is_some() {
                Action::Revoke
            } else {
                Action::Anchor
            },
            reference,
            evidence: Evidence {
                digest_alg: [
                    DigestAlgorithm::Sha256,
                    DigestAlgorithm::Keccak256,
                    DigestAlgorithm::Sm3,
                ][i % 3],
                digest: byte(2),
                kind: Label::parse("kind", if i % 3 == 0 { "" } else { "a.b_c:d/e-f" }).unwrap(),
                submitter: Address::repeat_byte(0x5e),
                metadata: byte(3),
            },
        };
        out.push(SourcedRecord {
            record,
            seq: (i % 5 != 4).then_some(i as u64 * 1_000_000_007),
        });
    }
    out
}

fn tip(number: u64) -> BlockRef {
    BlockRef {
        number,
        hash: B256::repeat_byte(0x7e),
        parent_hash: B256::ZERO,
        timestamp: 1_700_000_000,
    }
}

async fn assert_stored(store: &Store, expected: &[SourcedRecord]) {
    for sr in expected {
        let view = store
            .load_record(sr.record.record_id())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("record {} is stored", sr.record.record_id()));
        assert_eq!(view.record, sr.record);
    }
}

async fn records_keep_their_edge_values(backend: TestBackend) {
    let db = TestDb::create(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let chain = source_id();
    store.save_cursor_init(&chain, "source", 0).await.unwrap();

    // Straight into the log: more than one chunk on PostgreSQL (5,000 a statement).
    let confirmed = records(1 << 40, 5_003);
    let last = confirmed.last().unwrap().record.source.block_number;
    let batch = store
        .save_confirmed_batch(&chain, &tip(last), &confirmed, &[], None, last)
        .await
        .unwrap();
    assert_eq!(batch.first_leaf, 0);
    assert_eq!(batch.record_ids.len(), confirmed.len());
    assert_stored(&store, &confirmed).await;

    // Pending, fetched twice (kept once), then logged behind them.
    let pending = records(last + 1, 12);
    let to = pending.last().unwrap().record.source.block_number;
    for _ in 0..2 {
        store
            .save_fetched_batch(&chain, &tip(to), &pending, &[], None, to)
            .await
            .unwrap();
    }
    assert_eq!(
        store.count_records(&chain).await.unwrap(),
        (confirmed.len() + pending.len()) as u64
    );
    let logged = store.mark_logged(&chain, &tip(to)).await.unwrap();
    assert_eq!(logged.first_leaf, confirmed.len() as u64);
    assert_eq!(
        logged.record_ids,
        pending
            .iter()
            .map(|sr| sr.record.record_id())
            .collect::<Vec<_>>()
    );
    assert_stored(&store, &pending).await;
    store.close().await;
}

both_backends!(records_keep_their_edge_values);
