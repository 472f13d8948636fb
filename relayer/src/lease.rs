//! Sharing the work between several instances on one database.
//!
//! Every unit of work is held under a lease in the store (see
//! [`store::leases`](crate::store::leases)): `chain:<caip2>` for a source chain's
//! index → log → checkpoint → attest work, and `submit:<caip2>` for every submission
//! into a destination chain (all routes into one destination share the relayer's
//! sender nonce there, so one instance sends them all). Before each step a task asks
//! its [`LeaseKeeper`] for the lease: the keeper renews it in the database when a third
//! of the TTL has passed since the last renewal, and answers with a fenced
//! [`Store`] handle while this instance holds it, or `None` while another does. When
//! an instance dies its leases expire after the TTL and another instance takes the work
//! over on its next step.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use evidence_schemas::ChainId;
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::{
    Result,
    store::{Lease, Store, now_ms},
};

/// Who this instance is and how long its leases last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// This instance's name in the `leases` table; unique per running instance.
    pub instance_id: String,
    /// A lease not renewed for this long may be taken over by another instance.
    pub lease_ttl: Duration,
    /// The clock lease times are read from: the system clock in production; tests
    /// move an instance's clock forward instead of sleeping out a TTL.
    pub clock: LeaseClock,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            instance_id: default_instance_id(),
            lease_ttl: Duration::from_secs(15),
            clock: LeaseClock::system(),
        }
    }
}

/// The wall clock of the lease table: the system's unix time in milliseconds plus an
/// offset that only [`LeaseClock::advance`] moves (0 unless a test moved it). Clones
/// share one offset.
#[derive(Debug, Clone, Default)]
pub struct LeaseClock {
    offset_ms: Arc<AtomicI64>,
}

impl LeaseClock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and its clones) forward by `by`: for tests, which let a TTL
    /// pass without waiting for it.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(by, Ordering::Relaxed);
    }
}

/// Two settings are equal when they name the same instance with the same TTL on the
/// same clock.
impl PartialEq for LeaseClock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.offset_ms, &other.offset_ms)
    }
}

impl Eq for LeaseClock {}

/// `<hostname>-<pid>`: unique per running process on a fleet of named hosts.
pub fn default_instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "bridge".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The lease of a source chain's indexing work.
pub fn chain_lease(chain: &ChainId) -> String {
    format!("chain:{chain}")
}

/// The lease of every submission into a destination chain.
pub fn submit_lease(destination: &ChainId) -> String {
    format!("submit:{destination}")
}

/// Whether this instance holds a lease, as seen before a step.
#[derive(Debug, Clone)]
pub enum Hold {
    /// Held: write through this fenced store. `fresh` when the lease was (re)acquired
    /// since this instance last held it, so in-memory state must be reloaded.
    Held {
        /// Store handle whose writes check the lease.
        store: Store,
        /// Newly acquired.
        fresh: bool,
        /// The lease's epoch.
        epoch: u64,
    },
    /// Another instance holds it.
    Busy,
}

#[derive(Debug)]
struct Held {
    lease: Lease,
    /// When it was last renewed, on the settings' clock (unix ms).
    renewed_ms: i64,
}

/// Acquires and renews this instance's leases.
#[derive(Debug)]
pub struct LeaseKeeper {
    store: Store,
    settings: ClusterSettings,
    held: Mutex<HashMap<String, Held>>,
}

impl LeaseKeeper {
    /// A keeper for `settings.instance_id` over `store`.
    pub fn new(store: Store, settings: ClusterSettings) -> Self {
        Self {
            store,
            settings,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// Acquires or renews lease `name` (renewing in the database only when a third of
    /// the TTL has passed since the last renewal).
    pub async fn hold(&self, name: &str) -> Result<Hold> {
        let mut held = self.held.lock().await;
        let ttl = self.settings.lease_ttl.max(Duration::from_millis(300));
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let now = self.settings.clock.now_ms();
        if let Some(h) = held.get(name)
            && u64::try_from(now.saturating_sub(h.renewed_ms)).unwrap_or(0) < ttl_ms / 3
        {
            return Ok(Hold::Held {
                store: self.store.fenced(h.lease.fence()),
                fresh: false,
                epoch: h.lease.epoch,
            });
        }
        let acquired = self
            .store
            .acquire_lease(name, &self.settings.instance_id, ttl_ms, now)
            .await?;
        match acquired {
            Some(lease) => {
                let fresh = held.get(name).is_none_or(|h| h.lease.epoch != lease.epoch);
                if fresh {
                    info!(target: "relayer::lease", lease = name, epoch = lease.epoch,
                        instance = %self.settings.instance_id, "lease acquired");
                }
                let store = self.store.fenced(lease.fence());
                let epoch = lease.epoch;
                held.insert(
                    name.to_owned(),
                    Held {
                        lease,
                        renewed_ms: now,
                    },
                );
                Ok(Hold::Held {
                    store,
                    fresh,
                    epoch,
                })
            }
            None => {
                if held.remove(name).is_some() {
                    warn!(target: "relayer::lease", lease = name, instance = %self.settings.instance_id,
                        "lease lost to another instance; standing by");
                }
                Ok(Hold::Busy)
            }
        }
    }

    /// Gives every held lease up, so other instances take over at once.
    pub async fn release_all(&self) {
        let mut held = self.held.lock().await;
        for (name, _) in held.drain() {
            if let Err(e) = self
                .store
                .release_lease(&name, &self.settings.instance_id)
                .await
            {
                warn!(target: "relayer::lease", lease = %name, error = %e, "could not release lease; it expires after its TTL");
            }
        }
    }
}
