//! Shared set-up for the relayer's integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::{sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, Route, RouteRuntime, Store,
    test_db::{TestBackend, TestDb},
    testing::{FakeChain, FakeMirror},
};
use evidence_schemas::ChainId;

/// Runs each named `async fn(TestBackend)` as two tests, `<name>::sqlite` and
/// `<name>::postgres` (a fresh PostgreSQL database; fails if the server is down).
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(evidence_relayer::test_db::TestBackend::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name(evidence_relayer::test_db::TestBackend::Postgres).await
                }
            }
        )*
    };
}

pub fn source_id() -> ChainId {
    ChainId::eip155(31337)
}

pub fn dest_id() -> ChainId {
    ChainId::eip155(31338)
}

pub fn route() -> Route {
    Route::new(source_id(), dest_id())
}

pub fn attestors() -> Vec<PrivateKeySigner> {
    (1u8..=3)
        .map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).unwrap())
        .collect()
}

/// One test's world: a fake source chain, a fake mirror, a temp database.
pub struct World {
    pub db: TestDb,
    pub url: String,
    pub chain: Arc<FakeChain>,
    pub mirror: Arc<FakeMirror>,
    pub confirmations: u64,
    pub settings: EngineSettings,
}

impl World {
    pub async fn new(backend: TestBackend, confirmations: u64) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        let db = TestDb::create(backend).await;
        let url = db.url.clone();
        let chain = FakeChain::new(source_id());
        let mirror = FakeMirror::new(31338, Address::repeat_byte(0xaa));
        mirror.set_attestors(
            &source_id(),
            attestors().iter().map(|s| s.address()).collect(),
            2,
        );
        let settings = EngineSettings {
            poll_interval: Duration::from_millis(10),
            checkpoint_interval: Duration::ZERO,
            checkpoint_max_records: 1000,
            tx_timeout: Duration::from_secs(3600),
            max_backoff: Duration::from_millis(50),
        };
        Self {
            db,
            url,
            chain,
            mirror,
            confirmations,
            settings,
        }
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }

    /// A fresh engine over a freshly opened store (a process restart).
    pub async fn engine(&self) -> Engine {
        self.engine_with(self.store().await, self.chain.clone(), self.mirror.clone())
            .await
    }

    /// The source chain as the engines of these tests index it: `chain` (usually
    /// [`World::chain`]) with the world's confirmations, from block 1, 5 blocks a fetch.
    pub fn chain_runtime(&self, chain: Arc<FakeChain>) -> ChainRuntime {
        ChainRuntime {
            chain: source_id(),
            name: "court".into(),
            source: chain,
            confirmations: self.confirmations,
            start_block: 1,
            batch_span: 5,
            fetch_span: Default::default(),
        }
    }

    pub async fn engine_with(
        &self,
        store: Store,
        chain: Arc<FakeChain>,
        mirror: Arc<FakeMirror>,
    ) -> Engine {
        let chains = vec![self.chain_runtime(chain)];
        let routes = vec![RouteRuntime {
            source_chain: source_id(),
            destination_chain: dest_id(),
            domain: mirror.domain(),
            mirror,
        }];
        Engine::new(store, chains, routes, attestors(), self.settings.clone())
            .await
            .unwrap()
    }
}

/// The root the canonical fake chain's records up to `upto` should give.
pub fn expected_root(chain: &FakeChain, upto: u64) -> (u64, B256) {
    let ids: Vec<B256> = chain.records(upto).iter().map(|r| r.record_id()).collect();
    (
        ids.len() as u64,
        evidence_schemas::log::root_of_record_ids(&ids).unwrap(),
    )
}
