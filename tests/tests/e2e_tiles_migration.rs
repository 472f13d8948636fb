//! Upgrading a store from before stored tiles, with the real binary: a store whose
//! 400,000 logged records have no tiles (as the pre-tiles schema left them) is opened
//! by `bridge run`, which builds the tiles in a resumable background pass while
//! `/readyz` says it is not ready; `bridge run` is SIGKILLed mid-migration,
//! restarted, finishes, and then every root read from the tiles equals the reference
//! tree's, and a new record is indexed, checkpointed, mirrored and provable.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use evidence_relayer::{Store, test_db::insert_untiled};
use evidence_schemas::{ChainId, log::MerkleLog};
use support::{Devnet, signal};

const RECORDS: u64 = 400_000;

fn readyz(port: u16) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await {
            Ok(res) => (res.status().as_u16(), res.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    })
}

#[test]
fn bridge_run_migrates_an_old_store_and_resumes_after_sigkill() {
    let t0 = Instant::now();
    let net = Devnet::start(2, 1).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = net.config();
    let mut text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("[api]"));
    text.push_str(&format!("\n[api]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(&config, &text).unwrap();
    let start_block: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("start_block = "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let alpha = ChainId::eip155(40_000 + u64::from(net.first_port));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = net.store_url();
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store
            .save_cursor_init(&alpha, "alpha", start_block)
            .await
            .unwrap();
        store.close().await;
        insert_untiled(&url, &alpha, 0, RECORDS).await;
    });
    eprintln!("filled the old store at {:?}", t0.elapsed());
    let progress = |store: &Store| rt.block_on(store.load_tile_progress(&alpha)).unwrap();

    // First run: wait until the migration is under way, see /readyz refuse, kill.
    let relayer = net.start_relayer(0);
    let ro = rt.block_on(Store::connect_read_only(&url)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut said_not_ready = false;
    loop {
        let p = progress(&ro);
        assert!(
            !p.done(),
            "the migration finished before the test could kill it: make RECORDS larger"
        );
        if p.tiled > 0 {
            let (status, body) = readyz(port);
            if status == 503 {
                assert!(body.contains("building the log's tiles"), "{body}");
                said_not_ready = true;
            }
            if said_not_ready || p.tiled >= RECORDS / 3 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no tiles built after 120 s:\n{}",
            net.log_tails(30)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("killing at {:?}", t0.elapsed());
    signal(relayer.id(), "KILL");
    let mut relayer = relayer;
    relayer.wait().unwrap();
    let killed_at = progress(&ro);
    assert!(
        killed_at.tiled > 0 && !killed_at.done(),
        "killed mid-migration: {killed_at:?}"
    );
    assert!(
        said_not_ready,
        "/readyz never said the node was not ready during the migration"
    );
    let log = std::fs::read_to_string(net.dir.path().join("run-0.log")).unwrap();
    assert!(log.contains("building the log's tiles"), "{log}");

    // Second run: resumes from what the first committed and finishes.
    let mut relayer = net.start_relayer(1);
    let deadline = Instant::now() + Duration::from_secs(180);
    while !progress(&ro).done() {
        assert!(
            Instant::now() < deadline,
            "migration not finished after 180 s:\n{}",
            net.log_tails(30)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(net.dir.path().join("run-1.log")).unwrap();
    assert!(
        !log.contains("store predates stored tiles"),
        "the second run started over instead of resuming:\n{log}"
    );
    eprintln!("migrated at {:?}", t0.elapsed());
    let deadline = Instant::now() + Duration::from_secs(60);
    while readyz(port).0 != 200 {
        assert!(
            Instant::now() < deadline,
            "/readyz not ok after the migration: {:?}",
            readyz(port)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The migrated tiles give the reference tree's roots.
    rt.block_on(async {
        let ids = ro.load_leaf_ids(&alpha, Some(RECORDS)).await.unwrap();
        let reference = MerkleLog::from_record_ids(&ids);
        for size in [
            1,
            255,
            256,
            65_536,
            65_537,
            killed_at.tiled,
            killed_at.tiled + 1,
            333_333,
            RECORDS,
        ] {
            assert_eq!(
                ro.load_root_at(&alpha, size).await.unwrap(),
                reference.root_at(size).unwrap(),
                "root at {size}"
            );
        }
        let proof = ro
            .load_inclusion_proof(&alpha, 123_456, RECORDS)
            .await
            .unwrap();
        assert_eq!(proof, reference.inclusion_proof(123_456, RECORDS).unwrap());
    });

    eprintln!("roots checked at {:?}", t0.elapsed());
    // And the node goes on: a new record is logged after the old ones and provable.
    let id = net.anchor_text("alpha", "after the tile migration");
    let bundle = net
        .wait_provable(&id, "beta", Duration::from_secs(120))
        .unwrap();
    assert!(net.verify(&bundle).status.success());
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert!(
        bundle["leaf_index"].as_u64().unwrap() >= RECORDS,
        "{}",
        bundle["leaf_index"]
    );
    eprintln!("provable at {:?}", t0.elapsed());
    relayer.kill().unwrap();
    relayer.wait().unwrap();
}
