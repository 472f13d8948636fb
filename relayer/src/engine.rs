//! The engine: runs the stages for every source chain and every route.
//!
//! [`Engine::run`] spawns one task per source chain (index → log → checkpoint →
//! attest) and one per route (submit), until the shutdown token is cancelled. Errors
//! never end a task: they are logged (`warn!` when retryable, `error!` otherwise) and
//! the step is retried with exponential backoff. The `tick_*` methods run one step of
//! one stage, so tests drive the pipeline deterministically.
//!
//! Each step runs only while this instance holds the step's lease ([`crate::lease`]):
//! `chain:<caip2>` for a chain's index/checkpoint/attest work, `submit:<caip2>` for the
//! submissions into a destination; its writes go through a store fenced by that lease.

use std::{
    collections::HashMap,
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::signers::local::PrivateKeySigner;
use evidence_schemas::{ChainId, Checkpoint};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub use crate::runtime::{ChainRuntime, RouteRuntime};
use crate::{
    RelayerError, Result,
    attestors::{AttestorService, RemoteAttestors},
    lease::{ClusterSettings, Hold, LeaseKeeper, chain_lease, submit_lease},
    log::Logs,
    stages::{
        Stage, StageContext,
        attest::AttestStage,
        checkpoint::{CheckpointPolicy, CheckpointStage},
        index::{IndexOutcome, IndexStage},
        submit::{SubmitMemory, SubmitOutcome, SubmitStage},
        timestamp::{TimestampOutcome, TimestampStage, TsaClient},
        watch::WatchStage,
    },
    store::{Route, Store},
};

/// Timing and sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// Pause between steps when caught up.
    pub poll_interval: Duration,
    /// Checkpoint new records at least this often.
    pub checkpoint_interval: Duration,
    /// Checkpoint as soon as this many new records accumulated.
    pub checkpoint_max_records: u64,
    /// Replace a submission transaction not mined after this long.
    pub tx_timeout: Duration,
    /// Longest pause between retries after errors.
    pub max_backoff: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            checkpoint_interval: Duration::from_secs(60),
            checkpoint_max_records: 1000,
            tx_timeout: Duration::from_secs(30),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// The relayer engine.
pub struct Engine {
    store: Store,
    logs: Logs,
    chains: Vec<ChainRuntime>,
    routes: Vec<RouteRuntime>,
    attestors: Vec<PrivateKeySigner>,
    settings: EngineSettings,
    submit_memory: HashMap<Route, Mutex<(u64, SubmitMemory)>>,
    leases: LeaseKeeper,
    remote: Option<RemoteAttestors>,
    attest_only: bool,
    tsas: Vec<TsaClient>,
    watched: std::sync::Mutex<HashMap<ChainId, Instant>>,
    stopped: std::sync::Mutex<HashMap<Route, String>>,
}

/// Gauge set to 1 for a route a fatal error stopped, labelled `source`, `destination`.
pub const ROUTE_STOPPED_METRIC: &str = "bridge_route_stopped";

/// How often an attest-only instance compares the destination mirrors with its log.
const MIRROR_WATCH_INTERVAL: Duration = Duration::from_secs(3);

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field(
                "chains",
                &self.chains.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .field(
                "routes",
                &self
                    .routes
                    .iter()
                    .map(RouteRuntime::route)
                    .collect::<Vec<_>>(),
            )
            .field(
                "attestors",
                &self
                    .attestors
                    .iter()
                    .map(PrivateKeySigner::address)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Sets up cursors for new chains and rebuilds every chain's log from the store.
    pub async fn new(
        store: Store,
        chains: Vec<ChainRuntime>,
        routes: Vec<RouteRuntime>,
        attestors: Vec<PrivateKeySigner>,
        settings: EngineSettings,
    ) -> Result<Self> {
        let mut ids: Vec<ChainId> = Vec::new();
        for c in &chains {
            if ids.contains(&c.chain) {
                return Err(RelayerError::Config(format!(
                    "chain {} is configured twice",
                    c.chain
                )));
            }
            if c.source.chain() != &c.chain {
                return Err(RelayerError::Config(format!(
                    "chain {} ({}) has a source adapter for {}",
                    c.name,
                    c.chain,
                    c.source.chain()
                )));
            }
            ids.push(c.chain.clone());
        }
        let mut submit_memory = HashMap::new();
        for r in &routes {
            if !ids.contains(&r.source_chain) {
                return Err(RelayerError::Config(format!(
                    "route {} -> {} starts at a chain this engine does not index",
                    r.source_chain, r.destination_chain
                )));
            }
            if r.source_chain == r.destination_chain {
                return Err(RelayerError::Config(format!(
                    "route from {} to itself",
                    r.source_chain
                )));
            }
            if submit_memory
                .insert(r.route(), Mutex::new((0, SubmitMemory::default())))
                .is_some()
            {
                return Err(RelayerError::Config(format!(
                    "route {} is configured twice",
                    r.route()
                )));
            }
        }
        for c in &chains {
            store
                .save_cursor_init(&c.chain, &c.name, c.start_block)
                .await?;
        }
        let logs = Logs::new(store.clone(), &ids);
        Ok(Self {
            leases: LeaseKeeper::new(store.clone(), ClusterSettings::default()),
            store,
            logs,
            chains,
            routes,
            attestors,
            settings,
            submit_memory,
            remote: None,
            attest_only: false,
            tsas: Vec::new(),
            watched: std::sync::Mutex::new(HashMap::new()),
            stopped: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Sets this instance's name and lease TTL (default: `<hostname>-<pid>`, 15 s).
    pub fn with_cluster(mut self, cluster: ClusterSettings) -> Self {
        self.leases = LeaseKeeper::new(self.store.clone(), cluster);
        self
    }

    /// Gathers signatures from these remote attestors too (see
    /// [`gather_once`](crate::stages::attest::gather_once)).
    pub fn with_remote_attestors(mut self, remote: RemoteAttestors) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Makes this an attest-only instance: it indexes, checkpoints, serves signatures
    /// (through [`Engine::attestor_service`]) and watches the mirrors, but never signs
    /// for itself nor submits.
    pub fn attest_only(mut self) -> Self {
        self.attest_only = true;
        self
    }

    /// Timestamps every accepted checkpoint with these TSAs (RFC 3161), in a task of
    /// its own per route (see [`crate::stages::timestamp`]).
    pub fn with_timestamping(mut self, tsas: Vec<TsaClient>) -> Self {
        self.tsas = tsas;
        self
    }

    /// The attestor side over this engine's store and logs, signing with its
    /// attestor keys.
    pub fn attestor_service(&self) -> AttestorService {
        AttestorService::new(
            self.store.clone(),
            self.logs.clone(),
            self.chains
                .iter()
                .map(|c| (c.chain.clone(), Arc::clone(&c.source)))
                .collect(),
            &self.routes,
            self.attestors.clone(),
        )
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The logs (read from the store's tiles).
    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    fn chain(&self, chain: &ChainId) -> Result<&ChainRuntime> {
        self.chains
            .iter()
            .find(|c| c.chain == *chain)
            .ok_or_else(|| RelayerError::Config(format!("{chain} is not indexed by this engine")))
    }

    fn route_runtime(&self, route: &Route) -> Result<&RouteRuntime> {
        self.routes
            .iter()
            .find(|r| r.source_chain == route.source && r.destination_chain == route.destination)
            .ok_or_else(|| {
                RelayerError::Config(format!("route {route} is not served by this engine"))
            })
    }

    /// The store fenced by `chain`'s lease while this instance holds it; `None` while
    /// another instance holds it.
    async fn chain_store(&self, chain: &ChainId) -> Result<Option<Store>> {
        match self.leases.hold(&chain_lease(chain)).await? {
            Hold::Held { store, .. } => Ok(Some(store)),
            Hold::Busy => Ok(None),
        }
    }

    /// One index step of `chain` (one batch), if this instance holds its lease.
    pub async fn tick_index(&self, chain: &ChainId) -> Result<IndexOutcome> {
        let rt = self.chain(chain)?;
        let Some(store) = self.chain_store(chain).await? else {
            return Ok(IndexOutcome {
                caught_up: true,
                standby: true,
                ..Default::default()
            });
        };
        if crate::log::migrate_step(&store, chain).await? {
            // A store from before tiles: its log is tiled first, a chunk per step.
            return Ok(IndexOutcome::default());
        }
        let ctx = StageContext {
            store: &store,
            logs: &self.logs,
        };
        let mut stage = IndexStage { rt };
        let mut outcome = stage.execute(ctx).await?;
        if let Some(to) = outcome.unwind_to.take() {
            stage.unwind(ctx, to).await?;
            outcome.rewound_to = Some(to);
        }
        Ok(outcome)
    }

    fn context<'a>(&'a self, store: &'a Store) -> StageContext<'a> {
        StageContext {
            store,
            logs: &self.logs,
        }
    }

    /// Creates a checkpoint of `chain` if one is due.
    pub async fn tick_checkpoint(&self, chain: &ChainId) -> Result<Option<Checkpoint>> {
        let policy = CheckpointPolicy {
            interval: self.settings.checkpoint_interval,
            max_records: self.settings.checkpoint_max_records,
        };
        let Some(store) = self.chain_store(chain).await? else {
            return Ok(None);
        };
        CheckpointStage { chain, policy }
            .execute(self.context(&store))
            .await
    }

    /// Signs `chain`'s new checkpoints with every attestor key, for every route, and
    /// gathers remote attestors' signatures when configured. Attest-only: compares
    /// the destination mirrors with our log instead (at most every few seconds).
    pub async fn tick_attest(&self, chain: &ChainId) -> Result<usize> {
        if self.attest_only {
            {
                let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                if watched
                    .get(chain)
                    .is_some_and(|t| now.duration_since(*t) < MIRROR_WATCH_INTERVAL)
                {
                    return Ok(0);
                }
                watched.insert(chain.clone(), now);
            }
            WatchStage {
                chain,
                routes: &self.routes,
            }
            .execute(self.context(&self.store))
            .await?;
            return Ok(0);
        }
        let Some(store) = self.chain_store(chain).await? else {
            return Ok(0);
        };
        AttestStage {
            chain,
            routes: &self.routes,
            attestors: &self.attestors,
            remote: self.remote.as_ref(),
        }
        .execute(self.context(&store))
        .await
    }

    /// One step of the route's submission state machine. A fatal error (e.g. the
    /// mirror diverged from our log) stops the route: it is returned once, logged at
    /// ERROR once, the route's [`ROUTE_STOPPED_METRIC`] gauge set, and every later step
    /// is [`SubmitOutcome::Stopped`]; the other routes and chains go on.
    pub async fn tick_submit(&self, route: &Route) -> Result<SubmitOutcome> {
        if self.stopped_reason(route).is_some() {
            return Ok(SubmitOutcome::Stopped);
        }
        match self.step_submit(route).await {
            Err(e) if e.is_fatal() => {
                self.stop_route(route, &e);
                Err(e)
            }
            other => other,
        }
    }

    /// Why `route` was stopped, if a fatal error stopped it.
    pub fn stopped_reason(&self, route: &Route) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .cloned()
    }

    /// The routes fatal errors stopped, with why.
    pub fn stopped_routes(&self) -> Vec<(Route, String)> {
        let stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = stopped
            .iter()
            .map(|(r, m)| (r.clone(), m.clone()))
            .collect();
        all.sort_by_key(|(r, _)| r.to_string());
        all
    }

    fn stop_route(&self, route: &Route, e: &RelayerError) {
        let reason = e.to_string();
        error!(target: "relayer::engine", route = %route, error = %reason,
            "ROUTE STOPPED: a fatal error; no more submissions on this route until an operator acts and restarts the relayer");
        metrics::gauge!(ROUTE_STOPPED_METRIC, "source" => route.source.to_string(),
            "destination" => route.destination.to_string())
        .set(1.0);
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(route.clone(), reason);
    }

    async fn step_submit(&self, route: &Route) -> Result<SubmitOutcome> {
        let rt = self.route_runtime(route)?;
        let memory = self.submit_memory.get(route).ok_or_else(|| {
            RelayerError::Config(format!("route {route} is not served by this engine"))
        })?;
        let mut guard = memory.lock().await;
        let (epoch, memory) = &mut *guard;
        let store = match self.leases.hold(&submit_lease(&route.destination)).await? {
            Hold::Held {
                store, epoch: held, ..
            } => {
                if *epoch != held {
                    // (Re)acquired: another instance may have sent meanwhile, so
                    // forget what this one sent before.
                    *memory = SubmitMemory::default();
                    *epoch = held;
                }
                store
            }
            Hold::Busy => return Ok(SubmitOutcome::Idle),
        };
        SubmitStage {
            rt,
            tx_timeout: self.settings.tx_timeout,
            memory,
        }
        .execute(self.context(&store))
        .await
    }

    /// One timestamp step of the route (tokens for its newest accepted checkpoints),
    /// while this instance holds the route's `timestamp:` lease.
    pub async fn tick_timestamp(&self, route: &Route) -> Result<TimestampOutcome> {
        if self.tsas.is_empty() {
            return Ok(TimestampOutcome::default());
        }
        let rt = self.route_runtime(route)?;
        match self.leases.hold(&format!("timestamp:{route}")).await? {
            Hold::Held { store, .. } => {
                TimestampStage {
                    rt,
                    tsas: &self.tsas,
                }
                .execute(self.context(&store))
                .await
            }
            Hold::Busy => Ok(TimestampOutcome::default()),
        }
    }

    /// Indexes `chain` until caught up with its head (or halted), then checkpoints and
    /// attests once.
    pub async fn tick_chain(&self, chain: &ChainId) -> Result<IndexOutcome> {
        let mut outcome = self.tick_index(chain).await?;
        while !outcome.caught_up && !outcome.halted {
            outcome = self.tick_index(chain).await?;
        }
        if !outcome.halted && !outcome.standby {
            self.tick_checkpoint(chain).await?;
            self.tick_attest(chain).await?;
        }
        Ok(outcome)
    }

    /// Every chain caught up, checkpointed and attested, then every route stepped until
    /// its submission is mined or waiting (a broadcast is followed by one poll).
    pub async fn tick_once(&self) -> Result<()> {
        for c in &self.chains {
            self.tick_chain(&c.chain).await?;
        }
        for r in self.routes.iter().filter(|_| !self.attest_only) {
            let route = r.route();
            while let SubmitOutcome::Sent { .. } | SubmitOutcome::Replaced { .. } =
                self.tick_submit(&route).await?
            {}
            self.tick_timestamp(&route).await?;
        }
        Ok(())
    }

    /// Runs every chain's and route's loop until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let engine = Arc::new(self);
        let mut tasks = tokio::task::JoinSet::new();
        for c in &engine.chains {
            let (engine, shutdown, chain) =
                (Arc::clone(&engine), shutdown.clone(), c.chain.clone());
            tasks.spawn(async move { engine.chain_loop(chain, shutdown).await });
        }
        for r in engine.routes.iter().filter(|_| !engine.attest_only) {
            let (engine, shutdown, route) = (Arc::clone(&engine), shutdown.clone(), r.route());
            tasks.spawn(async move { engine.route_loop(route, shutdown).await });
        }
        for r in engine
            .routes
            .iter()
            .filter(|_| !engine.attest_only && !engine.tsas.is_empty())
        {
            let (engine, shutdown, route) = (Arc::clone(&engine), shutdown.clone(), r.route());
            tasks.spawn(async move { engine.timestamp_loop(route, shutdown).await });
        }
        info!(target: "relayer::engine", chains = engine.chains.len(), routes = engine.routes.len(),
            attestors = engine.attestors.len(), remote_attestors = engine.remote.as_ref().map_or(0, |r| r.attestors().len()),
            attest_only = engine.attest_only, instance = %engine.leases.settings().instance_id,
            lease_ttl = ?engine.leases.settings().lease_ttl, "relayer running");
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                error!(target: "relayer::engine", error = %e, "a relayer task panicked");
            }
        }
        engine.leases.release_all().await;
        info!(target: "relayer::engine", "relayer stopped");
        Ok(())
    }

    async fn chain_loop(&self, chain: ChainId, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let step = async {
                let outcome = self.tick_index(&chain).await?;
                if !outcome.halted && !outcome.standby {
                    self.tick_checkpoint(&chain).await?;
                    self.tick_attest(&chain).await?;
                }
                Ok::<_, RelayerError>(outcome)
            };
            let delay = match step.await {
                Ok(outcome) => {
                    failures = 0;
                    if outcome.caught_up {
                        self.settings.poll_interval
                    } else {
                        Duration::ZERO
                    }
                }
                Err(e) => self.on_error("relayer::index", &chain.to_string(), &e, &mut failures),
            };
            if !self.pause(delay, &shutdown).await {
                break;
            }
        }
    }

    async fn route_loop(&self, route: Route, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let delay = match self.tick_submit(&route).await {
                Ok(SubmitOutcome::Stopped) => break,
                Err(e) if e.is_fatal() => break,
                Ok(
                    SubmitOutcome::Sent { .. }
                    | SubmitOutcome::Replaced { .. }
                    | SubmitOutcome::Finished { .. },
                ) => {
                    failures = 0;
                    Duration::ZERO
                }
                Ok(_) => {
                    failures = 0;
                    self.settings.poll_interval
                }
                Err(e) => self.on_error("relayer::submit", &route.to_string(), &e, &mut failures),
            };
            if !self.pause(delay, &shutdown).await {
                break;
            }
        }
    }

    /// Timestamps the route's accepted checkpoints; per-request failures back off in
    /// the store (see [`crate::stages::timestamp`]), store errors here.
    async fn timestamp_loop(&self, route: Route, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let delay = match self.tick_timestamp(&route).await {
                Ok(outcome) => {
                    failures = 0;
                    if outcome.stored > 0 && outcome.failed == 0 {
                        Duration::ZERO
                    } else {
                        self.settings.poll_interval
                    }
                }
                Err(e) => {
                    self.on_error("relayer::timestamp", &route.to_string(), &e, &mut failures)
                }
            };
            if !self.pause(delay, &shutdown).await {
                break;
            }
        }
    }

    fn on_error(
        &self,
        target: &'static str,
        what: &str,
        e: &RelayerError,
        failures: &mut u32,
    ) -> Duration {
        *failures = failures.saturating_add(1);
        let delay = self
            .settings
            .poll_interval
            .max(Duration::from_millis(100))
            .saturating_mul(1u32 << (*failures - 1).min(10))
            .min(self.settings.max_backoff);
        if e.is_retryable() {
            warn!(target: "relayer::engine", stage = target, on = what, error = %e, retry_in = ?delay, "step failed; retrying");
        } else {
            error!(target: "relayer::engine", stage = target, on = what, error = %e, retry_in = ?delay, "step failed; retrying");
        }
        delay
    }

    /// Sleeps `delay` (yields when zero); false when shutdown was requested.
    async fn pause(&self, delay: Duration, shutdown: &CancellationToken) -> bool {
        if delay.is_zero() {
            tokio::task::yield_now().await;
            return !shutdown.is_cancelled();
        }
        tokio::select! {
            () = shutdown.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }
}
