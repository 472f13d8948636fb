//! The log stored as tiles, on SQLite and PostgreSQL, against the reference
//! [`MerkleLog`]: a store from before tiles (records logged, no tiles) is tiled in
//! uneven chunks, resuming across connections, and then every root, and every proof
//! at the sizes that matter, is read from the stored tiles and compared.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod common;

use common::source_id;
use evidence_relayer::{
    Store,
    log::Logs,
    test_db::{TestBackend, TestDb, insert_untiled, untiled_id as id},
};
use evidence_schemas::{ChainId, log::MerkleLog};

/// Deterministic picks (keccak of a counter), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 += 1;
        let h = alloy::primitives::keccak256(self.0.to_le_bytes());
        u64::from_le_bytes(h[..8].try_into().unwrap()) % n
    }
}

async fn tile_all(db: &TestDb, chain: &ChainId, rng: &mut Rng, max_chunk: u64) {
    loop {
        // A new connection now and then: building resumes from what is stored.
        let store = Store::connect(&db.url).await.unwrap();
        for _ in 0..3 {
            let p = store
                .build_tiles_step(chain, 1 + rng.below(max_chunk))
                .await
                .unwrap();
            if p.done() {
                store.close().await;
                return;
            }
        }
        store.close().await;
    }
}

async fn stored_log_matches_the_reference(backend: TestBackend) {
    let db = TestDb::create(backend).await;
    let chain = source_id();
    let store = Store::connect(&db.url).await.unwrap();
    store.save_cursor_init(&chain, "source", 0).await.unwrap();
    let logs = Logs::new(store.clone(), std::slice::from_ref(&chain));
    let n = 1100;
    insert_untiled(&db.url, &chain, 0, n).await;
    assert!(!logs.is_ready(&chain).await.unwrap());
    assert_eq!(logs.size(&chain).await.unwrap(), 0);
    assert!(
        logs.root_at(&chain, 1).await.is_err(),
        "no root before the tiles exist"
    );
    let mut rng = Rng(0x1234_5678);
    tile_all(&db, &chain, &mut rng, 300).await;
    assert!(logs.is_ready(&chain).await.unwrap());
    assert_eq!(logs.size(&chain).await.unwrap(), n);

    let reference = MerkleLog::from_record_ids(&(0..n).map(id).collect::<Vec<_>>());
    for size in 1..=n {
        assert_eq!(
            logs.root_at(&chain, size).await.unwrap(),
            reference.root_at(size).unwrap(),
            "root at {size}"
        );
        let index = rng.below(size);
        assert_eq!(
            logs.inclusion_proof(&chain, index, size).await.unwrap(),
            reference.inclusion_proof(index, size).unwrap(),
            "{index} in {size}"
        );
        assert_eq!(
            logs.consistency_proof(&chain, size, n).await.unwrap(),
            reference.consistency_proof(size, n).unwrap(),
            "{size} -> {n}"
        );
    }
    for index in 0..n {
        assert_eq!(
            logs.inclusion_proof(&chain, index, n).await.unwrap(),
            reference.inclusion_proof(index, n).unwrap(),
            "{index} in {n}"
        );
    }
    let (root, proofs) = store.load_proofs_at(&chain, 700, &[3, 699]).await.unwrap();
    assert_eq!(root, reference.root_at(700).unwrap());
    assert_eq!(
        proofs,
        vec![
            reference.inclusion_proof(3, 700).unwrap(),
            reference.inclusion_proof(699, 700).unwrap()
        ]
    );
    // Beyond the log, index out of range, unknown chain: errors, never a made-up hash.
    assert!(logs.root_at(&chain, n + 1).await.is_err());
    assert!(logs.inclusion_proof(&chain, n, n).await.is_err());
    assert!(logs.root_at(&ChainId::eip155(424_242), 1).await.is_err());
    store.close().await;
}

async fn stored_log_random_large_sizes(backend: TestBackend) {
    let db = TestDb::create(backend).await;
    let chain = source_id();
    let store = Store::connect(&db.url).await.unwrap();
    store.save_cursor_init(&chain, "source", 0).await.unwrap();
    // Beyond 256² leaves: three tile levels.
    let n = 70_000;
    insert_untiled(&db.url, &chain, 0, n).await;
    let mut rng = Rng(0xdead_beef);
    tile_all(&db, &chain, &mut rng, 20_000).await;
    let logs = Logs::new(store.clone(), std::slice::from_ref(&chain));
    let reference = MerkleLog::from_record_ids(&(0..n).map(id).collect::<Vec<_>>());
    for _ in 0..200 {
        let size = 1 + rng.below(n);
        let index = rng.below(size);
        let old = 1 + rng.below(size);
        assert_eq!(
            logs.root_at(&chain, size).await.unwrap(),
            reference.root_at(size).unwrap(),
            "root at {size}"
        );
        assert_eq!(
            logs.inclusion_proof(&chain, index, size).await.unwrap(),
            reference.inclusion_proof(index, size).unwrap()
        );
        assert_eq!(
            logs.consistency_proof(&chain, old, size).await.unwrap(),
            reference.consistency_proof(old, size).unwrap()
        );
    }
    store.close().await;
}

both_backends!(
    stored_log_matches_the_reference,
    stored_log_random_large_sizes
);
