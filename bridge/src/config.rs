//! Configuration: one TOML file, every key overridable by `BRIDGE__`-prefixed
//! environment variables (`__` separates levels, e.g. `BRIDGE__STORE__URL`).
//!
//! Secrets never live in this file: keys are read from environment variables named by
//! the config (`key_env`) or from a keystore file ([`crate::secrets`]).

use std::{collections::HashSet, path::Path, time::Duration};

use alloy::primitives::Address;
use evidence_adapters::{Finality, eas::EasSourceOptions, mapped::MappedSourceOptions};
use evidence_schemas::ChainId;
use serde::{Deserialize, Serialize};

mod chain;
pub(crate) mod keys;
mod serving;

pub(crate) use chain::{ChainConf, ChainFamily, EvmChainConf};
pub(crate) use serving::{
    ApiSettings, AttestationSettings, RemoteAttestorSettings, ServerLimits, SignPolicy,
};

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
    /// The HTTP API (`bridge run` serves it when `api.listen` is set; `bridge serve`
    /// always does).
    #[serde(default)]
    pub(crate) api: ApiSettings,
    /// Several instances on one PostgreSQL database.
    #[serde(default)]
    pub(crate) cluster: ClusterSection,
    /// How this instance takes part in attestation.
    #[serde(default)]
    pub(crate) attestation: AttestationSettings,
    /// Remote attestors a relaying instance asks for signatures.
    #[serde(default)]
    pub(crate) attestors: Vec<RemoteAttestorSettings>,
    /// RFC 3161 TSAs that timestamp every accepted checkpoint ([`crate::timestamping`]).
    #[serde(default)]
    pub(crate) timestamping: Vec<crate::timestamping::TimestampingSettings>,
    /// The evidence certificate (`bridge certificate`, the certificate endpoint).
    #[serde(default)]
    pub(crate) certificate: CertificateSettings,
}

/// The evidence certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateSettings {
    /// The CJK font file (TrueType/OpenType or a collection). Absent: the environment
    /// variable `BRIDGE_CERT_FONT`, else Debian's fonts-wqy-microhei at
    /// `/usr/share/fonts/truetype/wqy/wqy-microhei.ttc`. `BRIDGE_CERT_FONT` overrides it.
    #[serde(default)]
    pub(crate) font: Option<std::path::PathBuf>,
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
        Self {
            instance_id: evidence_relayer::lease::default_instance_id(),
            lease_ttl_secs: default_lease_ttl_secs(),
        }
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
            clock: evidence_relayer::lease::LeaseClock::system(),
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
        Self {
            url: default_store_url(),
        }
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
    /// Environment variable holding the mirrors' owner key, for the owner's `bridge
    /// mirror` commands (no default: the owner is never the relayer).
    #[serde(default)]
    pub(crate) owner_key_env: Option<String>,
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
    /// The chain family reading the other keys ([`ChainConf`]); only `"evm"` so far,
    /// the default.
    #[serde(default, skip_serializing_if = "ChainFamily::is_default")]
    pub(crate) family: ChainFamily,
    /// JSON-RPC URLs, tried in order with failover.
    pub(crate) rpc: Vec<String>,
    /// Blocks a record must be buried under before it enters the log.
    #[serde(default = "d_confirmations")]
    pub(crate) confirmations: u64,
    /// First block to index (the earliest deployment block of the chain's sources).
    #[serde(default)]
    pub(crate) start_block: u64,
    /// Our `EvidenceRegistry` contract, if the chain has one (a source, and where
    /// `bridge anchor` writes).
    #[serde(default)]
    pub(crate) registry: Option<Address>,
    /// An Ethereum Attestation Service contract read as a source, as an inline table
    /// `eas = { contract = "0x…", start_block = N }` or an `[chains.eas]` table (keys:
    /// `contract`, `start_block`, `schemas` = per-schema mappings, `only_listed_schemas`,
    /// spans; see `evidence_adapters::eas::EasSourceOptions`).
    #[serde(default)]
    pub(crate) eas: Option<EasSourceOptions>,
    /// Third-party evidence contracts read through a mapping, as `[[chains.mapped]]`
    /// tables (keys: `name`, `contract`, `event`, `digest`, `digest_alg`, `submitter`,
    /// `kind_field` or `kind`, `metadata_field` or `metadata_fields`; see
    /// `evidence_adapters::mapped::MappedSourceOptions`). Checked against the event
    /// signature at start-up.
    #[serde(default)]
    pub(crate) mapped: Vec<MappedSourceOptions>,
    /// The `AnchorMirror` contract on this chain (where other chains are mirrored).
    pub(crate) mirror: Address,
    /// Index the mirror's `CheckpointAccepted` events as records of this chain
    /// (round-trip receipts: the other chains can then prove this one accepted their
    /// checkpoints). Every partner indexing this chain must use the same value, or
    /// their logs (and roots) differ.
    #[serde(default = "d_receipts")]
    pub(crate) receipts: bool,
    /// First block whose mirror events become receipts (default: `start_block`). To turn
    /// receipts on for a chain that is already indexed, every partner sets the same
    /// block, one that none of them has indexed yet.
    #[serde(default)]
    pub(crate) receipts_start_block: Option<u64>,
    /// Largest block span of one log query (adapts downwards on provider limits).
    #[serde(default = "d_span")]
    pub(crate) max_block_span: u64,
    /// Which block the sources report as the head: `"latest"` (default; the relayer
    /// keeps `confirmations` blocks below it) or `"finalized"` (the node's finalized
    /// tag; pair it with `confirmations = 0`).
    #[serde(default, skip_serializing_if = "is_latest")]
    pub(crate) finality: Finality,
}

fn is_latest(f: &Finality) -> bool {
    *f == Finality::Latest
}

fn d_confirmations() -> u64 {
    2
}
fn d_span() -> u64 {
    2000
}
fn d_receipts() -> bool {
    true
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

/// Longest line of a parse error shown (a TOML error quotes the offending line, which
/// may be a 200 KB line of junk).
const MAX_ERROR_LINE: usize = 200;

/// `message` with every line cut to [`MAX_ERROR_LINE`] characters (and any URL in it
/// masked: a parse error quotes the line, which may hold an RPC URL with a key).
fn shorten(message: &str) -> String {
    let cut: Vec<String> = message
        .lines()
        .take(20)
        .map(|line| match line.char_indices().nth(MAX_ERROR_LINE) {
            Some((at, _)) => format!("{} … ({} more bytes cut)", &line[..at], line.len() - at),
            None => line.to_owned(),
        })
        .collect();
    evidence_adapters::redact::scrub(&cut.join("\n")).into_owned()
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
        let load_error = |message: String| ConfigError::Load {
            path: shown.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| load_error(e.to_string()))?;
        keys::check_toml_keys(&text).map_err(load_error)?;
        keys::check_env_keys(std::env::vars_os().filter_map(|(k, v)| {
            Some((k.into_string().ok()?, v.into_string().unwrap_or_default()))
        }))
        .map_err(load_error)?;
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("BRIDGE")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .map_err(|e| ConfigError::Load {
                path: shown.clone(),
                message: shorten(&e.to_string()),
            })?;
        let settings: Self = cfg.try_deserialize().map_err(|e| ConfigError::Load {
            path: shown,
            message: shorten(&e.to_string()),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Parses TOML text (no environment overrides) and validates it.
    #[cfg(test)]
    pub(crate) fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let settings: Self = toml::from_str(text).map_err(|e| ConfigError::Load {
            path: "<text>".into(),
            message: shorten(&e.to_string()),
        })?;
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
        if let Some(url) = &self.api.public_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(['?', '#', ' '])
                || url.len() > 200)
        {
            return invalid(format!(
                "api.public_url {url:?}: give the lookup page's address, http:// or https://, without a query (e.g. https://evidence.example.org)"
            ));
        }
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        for c in &self.chains {
            if c.name.is_empty()
                || !c
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return invalid(format!(
                    "chain name {:?}: use letters, digits, '-' or '_'",
                    c.name
                ));
            }
            if !names.insert(c.name.as_str()) {
                return invalid(format!("chain name {:?} is used twice", c.name));
            }
            if !ids.insert(c.chain_id.clone()) {
                return invalid(format!("chain id {} is used by two chains", c.chain_id));
            }
            // The family's own checks (for EVM: the eip155 id, RPC URLs, sources).
            c.conf()?;
        }
        let mut seen = HashSet::new();
        for r in &self.routes {
            for end in [&r.from, &r.to] {
                if !names.contains(end.as_str()) {
                    return invalid(format!(
                        "route {} -> {}: unknown chain {end:?} (known: {})",
                        r.from,
                        r.to,
                        self.chain_names().join(", ")
                    ));
                }
            }
            if r.from == r.to {
                return invalid(format!(
                    "route {} -> {}: a chain cannot be mirrored onto itself",
                    r.from, r.to
                ));
            }
            if !seen.insert((r.from.as_str(), r.to.as_str())) {
                return invalid(format!("route {} -> {} is listed twice", r.from, r.to));
            }
        }
        self.api.validate()?;
        self.attestation.sign_policy()?;
        if self.attestation.request_timeout_ms == 0 {
            return invalid("attestation.request_timeout_ms must be positive".into());
        }
        let mut urls = HashSet::new();
        let mut addresses = HashSet::new();
        for a in &self.attestors {
            if !(a.url.starts_with("http://") || a.url.starts_with("https://")) {
                return invalid(format!(
                    "attestor URL {:?} must start with http:// or https://",
                    evidence_adapters::redact::redact_url(&a.url)
                ));
            }
            if !urls.insert(a.url.trim_end_matches('/')) || !addresses.insert(a.address) {
                return invalid(format!(
                    "attestor {} ({}) is listed twice",
                    evidence_adapters::redact::redact_url(&a.url),
                    a.address
                ));
            }
        }
        if self.engine.poll_interval_ms == 0 || self.engine.checkpoint_max_records == 0 {
            return invalid(
                "engine.poll_interval_ms and engine.checkpoint_max_records must be positive".into(),
            );
        }
        if self.engine.tx_timeout_secs == 0 {
            return invalid(
                "engine.tx_timeout_secs is 0: a submission would be replaced before it could be mined; set the seconds to wait (default 30)".into(),
            );
        }
        crate::timestamping::validate(&self.timestamping)
    }

    /// Whether this instance only attests (never submits).
    pub(crate) fn attest_only(&self) -> bool {
        self.attestation
            .attest_only
            .unwrap_or(self.keys.relayer_key_env.is_none() && self.keys.relayer_keystore.is_none())
    }

    /// Chain names, in file order.
    pub(crate) fn chain_names(&self) -> Vec<String> {
        self.chains.iter().map(|c| c.name.clone()).collect()
    }

    /// The chain with this name, or an error listing the known names.
    pub(crate) fn chain(&self, name: &str) -> Result<&ChainSettings, ConfigError> {
        self.chains.iter().find(|c| c.name == name).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "unknown chain {name:?}; configured chains: {}",
                self.chain_names().join(", ")
            ))
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
                    out.push(RouteSettings {
                        from: a.name.clone(),
                        to: b.name.clone(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two chains, alpha and beta, with a registry each.
    pub(super) const GOOD: &str = r#"
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
        assert!(
            s.chains.iter().all(|c| c.receipts),
            "round-trip receipts are on by default"
        );
        let off = GOOD.replace(
            "rpc = [\"http://127.0.0.1:8546\"]\n",
            "rpc = [\"http://127.0.0.1:8546\"]\nreceipts = false\n",
        );
        let s = Settings::from_toml(&off).unwrap();
        assert!(s.chains[0].receipts && !s.chains[1].receipts);
        assert_eq!(s.chains[0].receipts_start_block, None);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_routes() {
        let e = Settings::from_toml(&format!("{GOOD}\n[bogus]\nx = 1\n")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Settings::from_toml(&format!(
            "{GOOD}\n[[routes]]\nfrom = \"alpha\"\nto = \"gamma\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("gamma"), "{e}");
        let e = Settings::from_toml(&GOOD.replace("eip155:31338", "eip155:31337")).unwrap_err();
        assert!(e.to_string().contains("used by two chains"), "{e}");
        let e = Settings::from_toml(&GOOD.replace("eip155:31338", "eip155")).unwrap_err();
        assert!(e.to_string().contains("CAIP-2"), "{e}");
    }

    const MAPPED: &str = r#"
[[chains.mapped]]
name = "hashstore"
contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
event = "Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)"
digest = "hash"
submitter = "owner"
kind_field = "kind"
"#;

    #[test]
    fn mapped_and_eas_sources_parse_and_registry_is_optional() {
        // Beta without a registry: an eas and a mapped source are enough.
        let beta = "registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n";
        let (head, tail) = GOOD.rsplit_once(beta).unwrap();
        let text = format!(
            "{head}mirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\neas = {{ contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\" }}\n{tail}{MAPPED}"
        );
        let s = Settings::from_toml(&text).unwrap();
        assert!(s.chains[1].registry.is_none());
        assert_eq!(s.chains[1].mapped[0].name, "hashstore");
        assert!(s.chains[1].eas.is_some());
    }

    #[test]
    fn bad_mapped_config_names_chain_source_and_field() {
        let e = Settings::from_toml(&format!(
            "{GOOD}{}",
            MAPPED.replace("digest = \"hash\"", "digest = \"time\"")
        ))
        .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("chain \"beta\""), "{m}");
        assert!(m.contains("mapped source \"hashstore\""), "{m}");
        assert!(
            m.contains("digest field \"time\" has type uint256; allowed: bytes32"),
            "{m}"
        );
        let e = Settings::from_toml(&format!(
            "{GOOD}{}",
            MAPPED.replace("submitter = \"owner\"", "submitter = \"owner\"\nbogus = 1")
        ))
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let no_source = GOOD.replacen(
            "registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n",
            "",
            1,
        );
        let e = Settings::from_toml(&no_source).unwrap_err();
        assert!(
            e.to_string()
                .contains("chain \"alpha\" has no evidence source"),
            "{e}"
        );
    }

    #[test]
    fn attestor_sections_parse_and_are_checked() {
        let s = Settings::from_toml(GOOD).unwrap();
        assert!(
            !s.attest_only(),
            "a relayer key makes it a relaying instance"
        );
        assert!(s.attestors.is_empty() && s.api.listen.is_none());
        let attest_only = GOOD.replace(
            "relayer_key_env = \"BRIDGE_RELAYER_KEY\"",
            "attestor_keys_env = \"K\"",
        );
        let s = Settings::from_toml(&format!(
            "{attest_only}\n[api]\nlisten = \"127.0.0.1:9100\"\n"
        ))
        .unwrap();
        assert!(s.attest_only(), "no relayer key: attest-only");
        let two = format!(
            "{GOOD}\n[attestation]\nrequest_timeout_ms = 800\n\n[[attestors]]\nurl = \"http://a:1\"\naddress = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n\n[[attestors]]\nurl = \"http://b:1\"\naddress = \"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"\n"
        );
        let s = Settings::from_toml(&two).unwrap();
        assert_eq!(
            (s.attestors.len(), s.attestation.request_timeout_ms),
            (2, 800)
        );
        let e = Settings::from_toml(&two.replace("http://b:1", "http://a:1")).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        let e = Settings::from_toml(&two.replace("http://b:1", "ftp://b")).unwrap_err();
        assert!(e.to_string().contains("http://"), "{e}");
        let e = Settings::from_toml(&format!("{GOOD}\n[api]\nlisten = \"nowhere\"\n")).unwrap_err();
        assert!(
            e.to_string().contains("listen = \"nowhere\"")
                && e.to_string().contains("socket address"),
            "{e}"
        );
    }

    #[test]
    fn cluster_section_defaults_and_checks() {
        let s = Settings::from_toml(GOOD).unwrap();
        let c = s.cluster.to_engine().unwrap();
        assert_eq!(c.lease_ttl, Duration::from_secs(15));
        assert!(
            c.instance_id.ends_with(&format!("-{}", std::process::id())),
            "{}",
            c.instance_id
        );
        let s = Settings::from_toml(&format!(
            "{GOOD}\n[cluster]\ninstance_id = \"node-a\"\nlease_ttl_secs = 5\n"
        ))
        .unwrap();
        let c = s.cluster.to_engine().unwrap();
        assert_eq!(
            (c.instance_id.as_str(), c.lease_ttl),
            ("node-a", Duration::from_secs(5))
        );
        let e =
            Settings::from_toml(&format!("{GOOD}\n[cluster]\nlease_ttl_secs = 0\n")).unwrap_err();
        assert!(e.to_string().contains("lease_ttl_secs"), "{e}");
        let e =
            Settings::from_toml(&format!("{GOOD}\n[cluster]\ninstance_id = \" \"\n")).unwrap_err();
        assert!(e.to_string().contains("instance_id"), "{e}");
        let e = Settings::from_toml(&format!("{GOOD}\n[cluster]\nttl = 5\n")).unwrap_err();
        assert!(e.to_string().contains("ttl"), "{e}");
    }

    #[test]
    fn zero_chain_id_zero_tx_timeout_and_huge_lines_are_refused() {
        let e = Settings::from_toml(&GOOD.replace("eip155:31338", "eip155:0")).unwrap_err();
        assert!(e.to_string().contains("EIP-155 ids start at 1"), "{e}");
        let e =
            Settings::from_toml(&format!("{GOOD}\n[engine]\ntx_timeout_secs = 0\n")).unwrap_err();
        assert!(e.to_string().contains("engine.tx_timeout_secs is 0"), "{e}");
        let junk = format!("{GOOD}\nbogus = \"{}\" x\n", "A".repeat(200_000));
        let e = Settings::from_toml(&junk).unwrap_err().to_string();
        assert!(e.len() < 2_000, "the error echoes {} bytes", e.len());
        assert!(e.contains("more bytes cut"), "{e}");
        let e =
            Settings::from_toml(&GOOD.replace("http://127.0.0.1:8546", "ftp://u:s3cret@h/KEY123"))
                .unwrap_err();
        assert!(
            !e.to_string().contains("s3cret") && !e.to_string().contains("KEY123"),
            "{e}"
        );
    }

    #[test]
    fn serving_limits_and_sign_policy_are_checked() {
        let s = Settings::from_toml(GOOD).unwrap();
        let l = s.api.limits();
        assert_eq!(
            (l.header_timeout, l.max_connections),
            (Duration::from_secs(10), 1024)
        );
        let p = s.attestation.sign_policy().unwrap();
        assert!(p.token_hashes.is_empty() && p.allow.is_empty());
        let e =
            Settings::from_toml(&format!("{GOOD}\n[api]\nheader_timeout_ms = 0\n")).unwrap_err();
        assert!(e.to_string().contains("api.header_timeout_ms"), "{e}");
        let e = Settings::from_toml(&format!(
            "{GOOD}\n[attestation]\nrelayer_allow = [\"10.0.0.0/33\"]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("relayer_allow[0]"), "{e}");
        let s = Settings::from_toml(&format!(
            "{GOOD}\n[attestation]\nrelayer_allow = [\"10.0.0.0/8\", \"::1\"]\nrelayer_tokens_sha256 = [\"{}\"]\n",
            "ab".repeat(32)
        ))
        .unwrap();
        let p = s.attestation.sign_policy().unwrap();
        assert_eq!((p.allow.len(), p.token_hashes.len()), (2, 1));
    }
}
