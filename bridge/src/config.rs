//! Configuration: one TOML file, every key overridable by `BRIDGE__`-prefixed
//! environment variables (`__` separates levels, e.g. `BRIDGE__STORE__URL`).
//!
//! Secrets never live in this file: keys are read from environment variables named by
//! the config (`key_env`) or from a keystore file ([`crate::secrets`]).

use std::{collections::HashSet, path::Path, time::Duration};

use alloy::primitives::Address;
use evidence_schemas::ChainId;
use serde::{Deserialize, Serialize};

/// A configuration problem; always exit code 2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read or parsed.
    #[error("cannot load config {path}: {message}")]
    Load {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The file parsed but its values contradict each other.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// The store.
    #[serde(default)]
    pub(crate) store: StoreSettings,
    /// Engine timing.
    #[serde(default)]
    pub(crate) engine: EngineSection,
    /// Keys this instance uses.
    #[serde(default)]
    pub(crate) keys: KeySettings,
    /// Chains.
    pub(crate) chains: Vec<ChainSettings>,
    /// Routes (source → destination); empty means every ordered pair of chains.
    #[serde(default)]
    pub(crate) routes: Vec<RouteSettings>,
    /// Several instances on one PostgreSQL database.
    #[serde(default)]
    pub(crate) cluster: ClusterSection,
}

/// Several `bridge run` instances sharing one (PostgreSQL) database: each chain's
/// indexing and each destination's submissions are held by one instance at a time
/// through a lease in the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterSection {
    /// This instance's name in the `leases` table; must differ between running
    /// instances. Default `<hostname>-<pid>`.
    #[serde(default = "evidence_relayer::lease::default_instance_id")]
    pub(crate) instance_id: String,
    /// Seconds a lease lasts without renewal: after an instance dies, another takes
    /// its work over within about this long. Default 15.
    #[serde(default = "default_lease_ttl_secs")]
    pub(crate) lease_ttl_secs: u64,
}

impl Default for ClusterSection {
    fn default() -> Self {
        Self { instance_id: evidence_relayer::lease::default_instance_id(), lease_ttl_secs: default_lease_ttl_secs() }
    }
}

fn default_lease_ttl_secs() -> u64 {
    15
}

impl ClusterSection {
    /// The engine's view; fails on an empty instance id or a TTL of zero.
    pub(crate) fn to_engine(&self) -> Result<evidence_relayer::ClusterSettings, ConfigError> {
        if self.instance_id.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "cluster.instance_id is empty: set a name unique to this instance, or remove the key for `<hostname>-<pid>`".into(),
            ));
        }
        if self.lease_ttl_secs == 0 {
            return Err(ConfigError::Invalid(
                "cluster.lease_ttl_secs is 0: set the seconds a lease lasts without renewal (default 15)".into(),
            ));
        }
        Ok(evidence_relayer::ClusterSettings {
            instance_id: self.instance_id.trim().to_owned(),
            lease_ttl: Duration::from_secs(self.lease_ttl_secs),
        })
    }
}

/// Where records, checkpoints and submissions are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreSettings {
    /// sqlx database URL, e.g. `sqlite://bridge.sqlite?mode=rwc`.
    #[serde(default = "default_store_url")]
    pub(crate) url: String,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self { url: default_store_url() }
    }
}

fn default_store_url() -> String {
    "sqlite://bridge.sqlite?mode=rwc".into()
}

/// Engine timing and batching.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngineSection {
    /// How often each chain is polled, in milliseconds.
    #[serde(default = "d_poll")]
    pub(crate) poll_interval_ms: u64,
    /// Longest time between checkpoints while new records arrive, in seconds.
    #[serde(default = "d_cp_interval")]
    pub(crate) checkpoint_interval_secs: u64,
    /// A checkpoint is made once this many new records are logged.
    #[serde(default = "d_cp_records")]
    pub(crate) checkpoint_max_records: u64,
    /// A submission not mined after this many seconds is replaced with higher fees.
    #[serde(default = "d_tx_timeout")]
    pub(crate) tx_timeout_secs: u64,
}

fn d_poll() -> u64 {
    1000
}
fn d_cp_interval() -> u64 {
    5
}
fn d_cp_records() -> u64 {
    1000
}
fn d_tx_timeout() -> u64 {
    30
}

impl Default for EngineSection {
    fn default() -> Self {
        Self {
            poll_interval_ms: d_poll(),
            checkpoint_interval_secs: d_cp_interval(),
            checkpoint_max_records: d_cp_records(),
            tx_timeout_secs: d_tx_timeout(),
        }
    }
}

impl EngineSection {
    /// Poll interval.
    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

/// Where this instance's keys come from. Each names an environment variable (or a
/// keystore file); the keys themselves never appear in the config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeySettings {
    /// Environment variable holding the relayer's hex private key (pays for submissions).
    #[serde(default)]
    pub(crate) relayer_key_env: Option<String>,
    /// Environment variable holding comma-separated hex private keys of the attestors
    /// this instance runs (devnet: several; production: one per partner instance).
    #[serde(default)]
    pub(crate) attestor_keys_env: Option<String>,
    /// Environment variable holding the key `bridge anchor` sends from.
    #[serde(default)]
    pub(crate) anchor_key_env: Option<String>,
    /// An encrypted JSON keystore for the relayer key (alternative to `relayer_key_env`).
    #[serde(default)]
    pub(crate) relayer_keystore: Option<String>,
    /// Environment variable holding the keystore's password.
    #[serde(default)]
    pub(crate) keystore_password_env: Option<String>,
}

/// One chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainSettings {
    /// Short name used on the command line (`--chain alpha`).
    pub(crate) name: String,
    /// CAIP-2 id, e.g. `eip155:31337`.
    pub(crate) chain_id: ChainId,
    /// JSON-RPC URLs, tried in order with failover.
    pub(crate) rpc: Vec<String>,
    /// Blocks a record must be buried under before it enters the log.
    #[serde(default = "d_confirmations")]
    pub(crate) confirmations: u64,
    /// First block to index (the registry's deployment block).
    #[serde(default)]
    pub(crate) start_block: u64,
    /// The `EvidenceRegistry` contract.
    pub(crate) registry: Address,
    /// The `AnchorMirror` contract on this chain (where other chains are mirrored).
    pub(crate) mirror: Address,
    /// Largest block span of one log query (adapts downwards on provider limits).
    #[serde(default = "d_span")]
    pub(crate) max_block_span: u64,
}

fn d_confirmations() -> u64 {
    2
}
fn d_span() -> u64 {
    2000
}

/// One route: checkpoints of `from` are mirrored onto `to`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteSettings {
    /// Source chain name.
    pub(crate) from: String,
    /// Destination chain name.
    pub(crate) to: String,
}

impl Settings {
    /// Loads a TOML file, then `BRIDGE__` environment overrides, then validates.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(ConfigError::Load {
                path: shown,
                message: "no such file (create one, or run `bridge devnet up --dir DIR` to get a complete example)".into(),
            });
        }
        let cfg = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml))
            .add_source(config::Environment::with_prefix("BRIDGE").prefix_separator("__").separator("__").try_parsing(true))
            .build()
            .map_err(|e| ConfigError::Load { path: shown.clone(), message: e.to_string() })?;
        let settings: Self =
            cfg.try_deserialize().map_err(|e| ConfigError::Load { path: shown, message: e.to_string() })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Parses TOML text (no environment overrides) and validates it.
    #[cfg(test)]
    pub(crate) fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let settings: Self = toml::from_str(text)
            .map_err(|e| ConfigError::Load { path: "<text>".into(), message: e.to_string() })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Cross-field checks: unique names and ids, routes between known chains, sane timing.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.chains.is_empty() {
            return invalid("no [[chains]] configured".into());
        }
        self.cluster.to_engine()?;
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        for c in &self.chains {
            if c.name.is_empty() || !c.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return invalid(format!("chain name {:?}: use letters, digits, '-' or '_'", c.name));
            }
            if !names.insert(c.name.as_str()) {
                return invalid(format!("chain name {:?} is used twice", c.name));
            }
            if !ids.insert(c.chain_id.clone()) {
                return invalid(format!("chain id {} is used by two chains", c.chain_id));
            }
            if c.chain_id.eip155_id().is_none() {
                return invalid(format!("chain {:?}: only eip155 chains are supported so far, got {}", c.name, c.chain_id));
            }
            if c.rpc.is_empty() {
                return invalid(format!("chain {:?} has no rpc URLs", c.name));
            }
            for url in &c.rpc {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return invalid(format!("chain {:?}: rpc URL {url:?} must start with http:// or https://", c.name));
                }
            }
            if c.max_block_span == 0 {
                return invalid(format!("chain {:?}: max_block_span must be at least 1", c.name));
            }
        }
        let mut seen = HashSet::new();
        for r in &self.routes {
            for end in [&r.from, &r.to] {
                if !names.contains(end.as_str()) {
                    return invalid(format!("route {} -> {}: unknown chain {end:?} (known: {})", r.from, r.to, self.chain_names().join(", ")));
                }
            }
            if r.from == r.to {
                return invalid(format!("route {} -> {}: a chain cannot be mirrored onto itself", r.from, r.to));
            }
            if !seen.insert((r.from.as_str(), r.to.as_str())) {
                return invalid(format!("route {} -> {} is listed twice", r.from, r.to));
            }
        }
        if self.engine.poll_interval_ms == 0 || self.engine.checkpoint_max_records == 0 {
            return invalid("engine.poll_interval_ms and engine.checkpoint_max_records must be positive".into());
        }
        Ok(())
    }

    /// Chain names, in file order.
    pub(crate) fn chain_names(&self) -> Vec<String> {
        self.chains.iter().map(|c| c.name.clone()).collect()
    }

    /// The chain with this name, or an error listing the known names.
    pub(crate) fn chain(&self, name: &str) -> Result<&ChainSettings, ConfigError> {
        self.chains.iter().find(|c| c.name == name).ok_or_else(|| {
            ConfigError::Invalid(format!("unknown chain {name:?}; configured chains: {}", self.chain_names().join(", ")))
        })
    }

    /// The routes in force: the configured ones, or every ordered pair when none are.
    pub(crate) fn effective_routes(&self) -> Vec<RouteSettings> {
        if !self.routes.is_empty() {
            return self.routes.clone();
        }
        let mut out = Vec::new();
        for a in &self.chains {
            for b in &self.chains {
                if a.name != b.name {
                    out.push(RouteSettings { from: a.name.clone(), to: b.name.clone() });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[store]
url = "sqlite://x.sqlite?mode=rwc"

[keys]
relayer_key_env = "BRIDGE_RELAYER_KEY"

[[chains]]
name = "alpha"
chain_id = "eip155:31337"
rpc = ["http://127.0.0.1:8545"]
registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
mirror = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"

[[chains]]
name = "beta"
chain_id = "eip155:31338"
rpc = ["http://127.0.0.1:8546"]
registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
mirror = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
"#;

    #[test]
    fn parses_and_defaults_routes_to_all_pairs() {
        let s = Settings::from_toml(GOOD).unwrap();
        assert_eq!(s.chains[0].confirmations, 2);
        assert_eq!(s.effective_routes().len(), 2);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_routes() {
        let e = Settings::from_toml(&format!("{GOOD}\n[bogus]\nx = 1\n")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Settings::from_toml(&format!("{GOOD}\n[[routes]]\nfrom = \"alpha\"\nto = \"gamma\"\n")).unwrap_err();
        assert!(e.to_string().contains("gamma"), "{e}");
        let e = Settings::from_toml(&GOOD.replace("eip155:31338", "eip155:31337")).unwrap_err();
        assert!(e.to_string().contains("used by two chains"), "{e}");
        let e = Settings::from_toml(&GOOD.replace("eip155:31338", "eip155")).unwrap_err();
        assert!(e.to_string().contains("CAIP-2"), "{e}");
    }

    #[test]
    fn cluster_section_defaults_and_checks() {
        let s = Settings::from_toml(GOOD).unwrap();
        let c = s.cluster.to_engine().unwrap();
        assert_eq!(c.lease_ttl, Duration::from_secs(15));
        assert!(c.instance_id.ends_with(&format!("-{}", std::process::id())), "{}", c.instance_id);
        let s = Settings::from_toml(&format!("{GOOD}\n[cluster]\ninstance_id = \"node-a\"\nlease_ttl_secs = 5\n")).unwrap();
        let c = s.cluster.to_engine().unwrap();
        assert_eq!((c.instance_id.as_str(), c.lease_ttl), ("node-a", Duration::from_secs(5)));
        let e = Settings::from_toml(&format!("{GOOD}\n[cluster]\nlease_ttl_secs = 0\n")).unwrap_err();
        assert!(e.to_string().contains("lease_ttl_secs"), "{e}");
        let e = Settings::from_toml(&format!("{GOOD}\n[cluster]\ninstance_id = \" \"\n")).unwrap_err();
        assert!(e.to_string().contains("instance_id"), "{e}");
        let e = Settings::from_toml(&format!("{GOOD}\n[cluster]\nttl = 5\n")).unwrap_err();
        assert!(e.to_string().contains("ttl"), "{e}");
    }
}
