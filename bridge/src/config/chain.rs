//! The chain family of one `[[chains]]` entry: [`ChainConf`], a closed enum with one
//! arm per family, derived from the entry's keys.
//!
//! A chain's keys stay flat in its `[[chains]]` table (every existing config stays
//! valid); the optional `family` key says which family reads them (`"evm"`, the
//! default and today the only one). [`ChainSettings::conf`] checks the keys of that
//! family and returns its typed view, which is what `bridge/src/context.rs` builds the
//! chain's sources, mirror reader, mirror submitter and re-reader from, in one `match`.
//!
//! A new family adds a [`ChainFamily`] variant, its keys to [`ChainSettings`] (optional
//! there: the family's arm requires them), one [`ChainConf`] arm with its checks, and the
//! matching arm in `context.rs`.

use alloy::primitives::Address;
use evidence_adapters::{
    Finality,
    eas::EasSourceOptions,
    mapped::{MappedSourceOptions, MappedSpec},
};
use serde::{Deserialize, Serialize};

use super::{ChainSettings, ConfigError};

/// The `family` key of a chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChainFamily {
    /// Ethereum JSON-RPC chains (`eip155:<id>`): geth, Besu, FISCO BCOS ≥ 3.9, anvil.
    #[default]
    Evm,
}

impl ChainFamily {
    /// Whether this is the default family (not written out by `bridge config check`).
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// One chain, as its family reads it.
#[derive(Debug, Clone)]
pub(crate) enum ChainConf<'a> {
    /// An EVM chain.
    Evm(EvmChainConf<'a>),
}

/// The keys of an EVM chain, checked.
#[derive(Debug, Clone)]
pub(crate) struct EvmChainConf<'a> {
    /// The EIP-155 chain id (from `chain_id = "eip155:<id>"`).
    pub(crate) chain_id: u64,
    /// JSON-RPC URLs, tried in order with failover.
    pub(crate) rpc: &'a [String],
    /// Our `EvidenceRegistry`, if the chain has one.
    pub(crate) registry: Option<Address>,
    /// An EAS contract read as a source.
    pub(crate) eas: Option<&'a EasSourceOptions>,
    /// Third-party contracts read through a mapping.
    pub(crate) mapped: &'a [MappedSourceOptions],
    /// The `AnchorMirror` on this chain.
    pub(crate) mirror: Address,
    /// First block whose mirror events become receipts, when receipts are on.
    pub(crate) receipts_from: Option<u64>,
    /// Largest block span of one log query.
    pub(crate) max_block_span: u64,
    /// What the sources report as the head.
    pub(crate) finality: Finality,
}

impl ChainSettings {
    /// The chain's family view, with that family's checks (for EVM: an `eip155` id, RPC
    /// URLs, at least one evidence source, valid EAS and mapped sources).
    pub(crate) fn conf(&self) -> Result<ChainConf<'_>, ConfigError> {
        match self.family {
            ChainFamily::Evm => EvmChainConf::of(self).map(ChainConf::Evm),
        }
    }
}

impl<'a> EvmChainConf<'a> {
    fn of(c: &'a ChainSettings) -> Result<Self, ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let chain_id = match c.chain_id.eip155_id() {
            None => {
                return invalid(format!(
                    "chain {:?}: family \"evm\" needs an eip155 chain id (eip155:<id>), got {}",
                    c.name, c.chain_id
                ));
            }
            Some(0) => {
                return invalid(format!(
                    "chain {:?}: chain_id {} is not a chain (EIP-155 ids start at 1); use the id the node reports (eth_chainId)",
                    c.name, c.chain_id
                ));
            }
            Some(id) => id,
        };
        if c.rpc.is_empty() {
            return invalid(format!("chain {:?} has no rpc URLs", c.name));
        }
        for url in &c.rpc {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(format!(
                    "chain {:?}: rpc URL {:?} must start with http:// or https://",
                    c.name,
                    evidence_adapters::redact::redact_url(url)
                ));
            }
        }
        if c.registry.is_none() && c.eas.is_none() && c.mapped.is_empty() {
            return invalid(format!(
                "chain {:?} has no evidence source: set `registry`, `eas = {{ contract = \"0x…\" }}`, or add a `[[chains.mapped]]` contract",
                c.name
            ));
        }
        if let Some(eas) = &c.eas
            && let Err(e) = eas.validate()
        {
            return invalid(format!("chain {:?}: {e}", c.name));
        }
        let mut source_names = std::collections::HashSet::new();
        for m in &c.mapped {
            if !source_names.insert(m.name.as_str()) {
                return invalid(format!(
                    "chain {:?}: mapped source name {:?} is used twice",
                    c.name, m.name
                ));
            }
            if let Err(e) = MappedSpec::new(m.clone()) {
                return invalid(format!("chain {:?}: {e}", c.name));
            }
        }
        if c.max_block_span == 0 {
            return invalid(format!(
                "chain {:?}: max_block_span must be at least 1",
                c.name
            ));
        }
        Ok(Self {
            chain_id,
            rpc: &c.rpc,
            registry: c.registry,
            eas: c.eas.as_ref(),
            mapped: &c.mapped,
            mirror: c.mirror,
            receipts_from: c
                .receipts
                .then(|| c.receipts_start_block.unwrap_or(c.start_block)),
            max_block_span: c.max_block_span,
            finality: c.finality,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    use crate::config::tests::GOOD as CHAIN;

    #[test]
    fn family_defaults_to_evm_and_finality_to_latest() {
        let s = Settings::from_toml(CHAIN).unwrap();
        let c = &s.chains[0];
        assert_eq!(c.family, ChainFamily::Evm);
        let ChainConf::Evm(evm) = c.conf().unwrap();
        assert_eq!(evm.chain_id, 31337);
        assert_eq!(evm.finality, Finality::Latest);
        assert_eq!(
            evm.receipts_from,
            Some(0),
            "receipts on by default, from start_block"
        );
        // Not written out when default: `bridge config check` prints what was given.
        let shown = toml::to_string(c).unwrap();
        assert!(
            !shown.contains("family") && !shown.contains("finality"),
            "{shown}"
        );
    }

    #[test]
    fn explicit_family_and_finality_parse_and_unknown_families_are_refused() {
        let text = CHAIN.replacen(
            "rpc = [",
            "family = \"evm\"\nfinality = \"finalized\"\nreceipts = false\nrpc = [",
            1,
        );
        let s = Settings::from_toml(&text).unwrap();
        let ChainConf::Evm(evm) = s.chains[0].conf().unwrap();
        assert_eq!(evm.finality, Finality::Finalized);
        assert_eq!(evm.receipts_from, None);
        let e = Settings::from_toml(&CHAIN.replacen("rpc = [", "family = \"fabric\"\nrpc = [", 1))
            .unwrap_err();
        assert!(e.to_string().contains("fabric"), "{e}");
        let e = Settings::from_toml(&CHAIN.replacen("rpc = [", "finality = \"safe\"\nrpc = [", 1))
            .unwrap_err();
        assert!(e.to_string().contains("safe"), "{e}");
    }

    #[test]
    fn the_evm_arm_holds_the_family_checks() {
        let e = Settings::from_toml(&CHAIN.replace("eip155:31337", "eip155:0")).unwrap_err();
        assert!(e.to_string().contains("EIP-155 ids start at 1"), "{e}");
        let e = Settings::from_toml(&CHAIN.replace("http://127.0.0.1:8545", "ws://x")).unwrap_err();
        assert!(e.to_string().contains("http:// or https://"), "{e}");
    }
}
