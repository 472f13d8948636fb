//! The world of the `faults_*` tests: a source anvil reached only through
//! [`FaultProxy`]s, a destination anvil with a real `AnchorMirror`, and the real
//! relayer engine (real `RegistrySource` over a real `ChainRpc`, real `EvmMirrorClient`,
//! a fresh SQLite or PostgreSQL store) driven one tick at a time.
//!
//! [`World::check`] is the end state every fault test asserts: the log holds exactly the
//! records a direct, fault-free read of the chain gives, in order (0 lost, 0 doubled),
//! nothing is pending or halted, and every record verifies on the destination's mirror
//! (`verifyRecord` with the store's inclusion proof).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::{
    primitives::B256,
    providers::{DynProvider, Provider},
};
use anyhow::{Context as _, bail, ensure};
use evidence_adapters::{
    ChainRpc, EvidenceSource, EvmMirrorClient, MirrorReader, RpcConfig,
    registry::{RegistrySource, RegistrySourceOptions},
};
use evidence_relayer::{
    ChainRuntime, Engine, EngineSettings, RouteRuntime, Store,
    test_db::{TestBackend, TestDb},
};
use evidence_schemas::ChainId;
use evidence_tests::{
    Devchain, MirrorSetup, contracts::EvidenceRegistry::EvidenceRegistryInstance,
    devchain::send_tx, faultproxy::FaultProxy,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Runs each named `async fn(TestBackend)` as `<name>::sqlite` and `<name>::postgres`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(evidence_relayer::test_db::TestBackend::Sqlite).await.unwrap()
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(evidence_relayer::test_db::TestBackend::Postgres).await.unwrap()
                }
            }
        )*
    };
}

/// Blocks below the head before records are logged.
pub const CONFIRMATIONS: u64 = 2;

/// The process-wide metrics recorder (the product's counters go there).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .expect("metrics recorder")
    })
}

/// The sum of counter `name` over the series labelled with `chain` (and, when given,
/// every `label="value"` of `also`).
pub fn counter(name: &str, chain: &ChainId, also: &[(&str, &str)]) -> u64 {
    let text = metrics().render();
    let chain_label = format!("chain=\"{chain}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&chain_label))
        .filter(|l| {
            also.iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Distinct EIP-155 ids, so tests of one binary never share metric series.
fn next_chain_ids() -> (u64, u64) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = 46_000 + (u64::from(std::process::id()) % 500) * 40 + n * 2;
    (base, base + 1)
}

/// One fault test's world.
pub struct World {
    pub db: TestDb,
    pub src: Devchain,
    pub dst: Devchain,
    pub registry: EvidenceRegistryInstance<DynProvider>,
    pub mirror: MirrorSetup,
    pub client: Arc<EvmMirrorClient>,
    pub proxies: Vec<FaultProxy>,
    pub rpc: ChainRpc,
    pub engine: Engine,
    pub chain: ChainId,
    pub dst_chain: ChainId,
    pub start_block: u64,
    anchored: AtomicU64,
}

/// The RPC settings of the tests: short timeouts, few and fast retries.
pub fn rpc_config(chain: &ChainId, urls: Vec<String>) -> RpcConfig {
    let mut c = RpcConfig::new(chain.clone(), urls);
    c.request_timeout = Duration::from_millis(1_500);
    c.rate_limit_retries = 2;
    c.initial_backoff_ms = 20;
    c
}

impl World {
    /// A world whose source chain is read through `proxies` proxies (all in front of the
    /// same anvil), in that URL order.
    pub async fn new(backend: TestBackend, proxies: usize) -> anyhow::Result<Self> {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        metrics();
        let (src_id, dst_id) = next_chain_ids();
        let (src, dst) = tokio::try_join!(Devchain::start(src_id), Devchain::start(dst_id))?;
        let chain = ChainId::eip155(src_id);
        let dst_chain = ChainId::eip155(dst_id);
        let registry = src.deploy_registry().await?;
        let start_block = src.provider.get_block_number().await?;
        let mirror = MirrorSetup::deploy(&dst, chain.clone(), 3, 2).await?;
        let mut list = Vec::new();
        for _ in 0..proxies.max(1) {
            list.push(FaultProxy::start(src.rpc_url.as_str()).await?);
        }
        let rpc = ChainRpc::connect(&rpc_config(
            &chain,
            list.iter().map(|p| p.url.clone()).collect(),
        ))
        .await?;
        let dst_rpc =
            ChainRpc::connect(&rpc_config(&dst_chain, vec![dst.rpc_url.to_string()])).await?;
        let client = Arc::new(EvmMirrorClient::new(
            dst_rpc,
            dst_chain.clone(),
            *mirror.mirror.address(),
            dst.dev_signer(1)?,
        ));
        let db = TestDb::create(backend).await;
        let store = Store::connect(&db.url).await?;
        let engine = Self::engine_over(
            store,
            &rpc,
            &chain,
            *registry.address(),
            start_block,
            &client,
            &mirror,
        )
        .await?;
        Ok(Self {
            db,
            src,
            dst,
            registry,
            mirror,
            client,
            proxies: list,
            rpc,
            engine,
            chain,
            dst_chain,
            start_block,
            anchored: AtomicU64::new(0),
        })
    }

    async fn engine_over(
        store: Store,
        rpc: &ChainRpc,
        chain: &ChainId,
        registry: alloy::primitives::Address,
        start_block: u64,
        client: &Arc<EvmMirrorClient>,
        mirror: &MirrorSetup,
    ) -> anyhow::Result<Engine> {
        let opts = RegistrySourceOptions {
            initial_span: 4,
            max_span: 16,
            grow_below_logs: 100,
            attempts: 3,
            retry_pause: Duration::from_millis(20),
            check_next_seq: true,
        };
        let source = Arc::new(RegistrySource::new(
            rpc.clone(),
            chain.clone(),
            registry,
            opts,
        ));
        let chains = vec![ChainRuntime {
            chain: chain.clone(),
            name: "court".into(),
            source,
            confirmations: CONFIRMATIONS,
            start_block,
            batch_span: 6,
            fetch_span: Default::default(),
        }];
        let routes = vec![RouteRuntime {
            source_chain: chain.clone(),
            destination_chain: client.chain().clone(),
            mirror: client.clone(),
            domain: mirror.domain,
        }];
        let settings = EngineSettings {
            poll_interval: Duration::from_millis(10),
            checkpoint_interval: Duration::ZERO,
            checkpoint_max_records: 1000,
            tx_timeout: Duration::from_secs(3600),
            max_backoff: Duration::from_millis(50),
        };
        Ok(Engine::new(
            store,
            chains,
            routes,
            mirror.attestors.signers().to_vec(),
            settings,
        )
        .await?)
    }

    /// The first proxy.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxies[0]
    }

    /// Anchors `n` records on the source chain (directly, not through the proxies), one
    /// block each.
    pub async fn anchor(&self, n: u64) -> anyhow::Result<()> {
        for _ in 0..n {
            let i = self.anchored.fetch_add(1, Ordering::Relaxed);
            let digest = B256::from(alloy::primitives::keccak256(format!(
                "{} record {i}",
                self.chain
            )));
            send_tx(&self.registry.anchor(1, digest, "iou".into(), B256::ZERO))
                .await
                .context("anchor")?;
        }
        Ok(())
    }

    /// Mines `n` empty blocks on the source chain (a dev-node method: tests only).
    pub async fn mine(&self, n: u64) -> anyhow::Result<()> {
        for _ in 0..n {
            self.src
                .provider
                .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
                .await?;
        }
        Ok(())
    }

    /// `n` engine ticks (index, checkpoint, attest, submit); returns how many failed (a
    /// failed tick is what `bridge run` logs and retries).
    pub async fn ticks(&self, n: usize) -> usize {
        let mut failed = 0;
        for _ in 0..n {
            if self.engine.tick_once().await.is_err() {
                failed += 1;
            }
        }
        failed
    }

    /// Every record of the source chain up to `to`, read directly (no proxy) by the
    /// product's own adapter: the reference the log must equal.
    pub async fn reference(&self, to: u64) -> anyhow::Result<Vec<B256>> {
        let rpc =
            ChainRpc::connect(&rpc_config(&self.chain, vec![self.src.rpc_url.to_string()])).await?;
        let source = RegistrySource::new(
            rpc,
            self.chain.clone(),
            *self.registry.address(),
            RegistrySourceOptions::default(),
        );
        let batch = source
            .fetch_records(
                self.start_block,
                to,
                Some(evidence_adapters::SourceState::from_stored(1)),
            )
            .await?;
        ensure!(
            batch.quarantined.is_empty(),
            "quarantined: {:?}",
            batch.quarantined
        );
        Ok(batch.records.iter().map(|r| r.record.record_id()).collect())
    }

    /// With faults cleared, mines the confirmations and ticks until the log and the
    /// mirror hold every anchored record (or `timeout`).
    pub async fn settle(&self, timeout: Duration) -> anyhow::Result<()> {
        self.mine(CONFIRMATIONS).await?;
        let want = self.anchored.load(Ordering::Relaxed);
        let deadline = Instant::now() + timeout;
        let mut last_error = None;
        loop {
            if let Err(e) = self.engine.tick_once().await {
                last_error = Some(e.to_string());
            }
            let status = self.engine.store().status().await?;
            let s = &status[0];
            let mirrored = s.destinations.first().and_then(|d| d.last_confirmed_size);
            if s.log_size >= want && mirrored == Some(s.log_size) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("not settled after {timeout:?}: {s:?}; last error {last_error:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end state of every fault test (see the module doc).
    pub async fn check(&self) -> anyhow::Result<()> {
        let head = self.src.provider.get_block_number().await?;
        let status = self.engine.store().status().await?;
        let s = &status[0];
        ensure!(s.halted.is_none(), "chain halted: {:?}", s.halted);
        ensure!(s.pending_records == 0, "records still pending: {s:?}");
        let confirmed = s.confirmed_block.context("nothing confirmed")?;
        ensure!(
            confirmed + CONFIRMATIONS >= head,
            "confirmed block {confirmed} lags the head {head}"
        );
        let reference = self.reference(confirmed).await?;
        ensure!(
            reference.len() as u64 == self.anchored.load(Ordering::Relaxed),
            "the chain holds {} records",
            reference.len()
        );
        let logged = self.engine.store().load_leaf_ids(&self.chain, None).await?;
        let lost: Vec<_> = reference.iter().filter(|id| !logged.contains(id)).collect();
        let mut seen = std::collections::HashSet::new();
        let doubled: Vec<_> = logged.iter().filter(|id| !seen.insert(**id)).collect();
        ensure!(
            lost.is_empty() && doubled.is_empty(),
            "{} lost {lost:?}, {} doubled {doubled:?}",
            lost.len(),
            doubled.len()
        );
        ensure!(
            logged == reference,
            "the log's order differs from the chain's"
        );
        ensure!(
            self.engine.store().count_records(&self.chain).await? == logged.len() as u64,
            "stray records in the store"
        );
        let size = s.destinations[0]
            .last_confirmed_size
            .context("nothing mirrored")?;
        ensure!(
            size == logged.len() as u64,
            "mirrored {size} of {}",
            logged.len()
        );
        for (i, id) in logged.iter().enumerate() {
            let target = self
                .engine
                .store()
                .proof_target(*id, &self.dst_chain)
                .await?;
            ensure!(target.leaf_index == i as u64);
            let proof = self
                .engine
                .logs()
                .inclusion_proof(&self.chain, i as u64, target.submission.size)
                .await?;
            let ok = self
                .client
                .verify_record(&self.chain, target.submission.size, *id, i as u64, &proof)
                .await?;
            ensure!(ok, "record {id} (leaf {i}) does not verify on the mirror");
        }
        Ok(())
    }

    /// A second engine over the same store through a direct (fault-free) RPC: a restart
    /// of the relayer once the node is healthy again.
    pub async fn restarted(&self) -> anyhow::Result<Engine> {
        let store = Store::connect(&self.db.url).await?;
        Self::engine_over(
            store,
            &self.rpc,
            &self.chain,
            *self.registry.address(),
            self.start_block,
            &self.client,
            &self.mirror,
        )
        .await
    }
}
