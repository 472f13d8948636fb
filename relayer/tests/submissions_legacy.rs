//! Submission rows written before migration 0040 (the EVM transaction in its own
//! columns, no opaque payload) still read after the upgrade, on both backends, as the
//! EVM payload the submitter reads, and can be replaced like any live row.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use alloy::primitives::B256;
use common::*;
use evidence_adapters::{PreparedSubmission, evm_mirror::EvmTxPayload};
use evidence_relayer::{SubmissionState, test_db::TestBackend};

/// A row as the store wrote it before 0040, read back as the EVM payload it would
/// have been given: same id, raw bytes, nonce and fees; a new row's opaque payload
/// comes back byte for byte.
async fn a_row_from_before_the_opaque_payload_reads_as_its_evm_transaction(db: TestBackend) {
    let w = World::new(db, 0).await;
    w.chain.mine_anchors(2);
    let engine = w.engine().await;
    engine.tick_chain(&source_id()).await.unwrap();
    let store = engine.store();
    assert!(
        store
            .load_checkpoint(&source_id(), 2)
            .await
            .unwrap()
            .is_some()
    );

    // Written the way the store wrote a prepared transaction before migration 0040.
    let pool = sqlx::AnyPool::connect(&w.url).await.unwrap();
    let hash = B256::repeat_byte(9);
    sqlx::query(
        "INSERT INTO submissions (source_chain, destination_chain, size, state, tx_hash, raw_tx, nonce,
            max_fee_per_gas, max_priority_fee_per_gas, attempts, created_at, updated_at)
         VALUES ($1, $2, 2, 'sent', $3, '0x02f801', 7, '340282366920938463463374607431768211455',
            '1500000000', 1, 1, 1)",
    )
    .bind(source_id().as_str())
    .bind(dest_id().as_str())
    .bind(format!("{hash:#x}"))
    .execute(&pool)
    .await
    .unwrap();
    let old = store.load_live_submission(&route()).await.unwrap().unwrap();
    assert_eq!(old.state, SubmissionState::Sent);
    let tx = old.tx.unwrap();
    assert_eq!(tx.id, hash);
    let evm = EvmTxPayload::decode(&dest_id(), &tx.payload).unwrap();
    assert_eq!(
        (
            evm.raw.to_vec(),
            evm.nonce,
            evm.max_fee_per_gas,
            evm.max_priority_fee_per_gas
        ),
        (vec![2, 0xf8, 1], 7, u128::MAX, 1_500_000_000)
    );

    // Replaced: the new transaction is stored opaque, the old id kept as prior.
    let new = PreparedSubmission {
        id: B256::repeat_byte(3),
        payload: vec![0u8, 1, 2, 255].into(),
        summary: "opaque".into(),
    };
    store
        .save_replacement(&route(), 2, &hash, &new)
        .await
        .unwrap();
    let live = store.load_live_submission(&route()).await.unwrap().unwrap();
    assert_eq!(live.tx, Some(new));
    assert_eq!(live.prior_tx_hashes, vec![hash]);
    pool.close().await;
}

both_backends!(a_row_from_before_the_opaque_payload_reads_as_its_evm_transaction);
