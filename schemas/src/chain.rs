//! CAIP-2 chain identifiers (`namespace:reference`, e.g. `eip155:31337`).

use std::{fmt, str::FromStr};

use alloy_primitives::{B256, keccak256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{SchemaError, clip};

/// A validated CAIP-2 chain id.
///
/// `namespace` is 3–8 characters of `[-a-z0-9]`, `reference` 1–32 characters of
/// `[-_a-zA-Z0-9]`, as the CAIP-2 specification requires. On chain a chain id is
/// referred to by [`ChainId::key`], the keccak256 of its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainId(String);

impl ChainId {
    /// Parses and validates a CAIP-2 chain id.
    pub fn parse(value: &str) -> Result<Self, SchemaError> {
        let bad = |reason| SchemaError::BadChainId {
            value: clip(value),
            reason,
        };
        let (namespace, reference) = value.split_once(':').ok_or_else(|| bad("missing ':'"))?;
        if !(3..=8).contains(&namespace.len()) {
            return Err(bad("namespace must be 3 to 8 characters"));
        }
        if !namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("namespace may hold only a-z, 0-9 and '-'"));
        }
        if !(1..=32).contains(&reference.len()) {
            return Err(bad("reference must be 1 to 32 characters"));
        }
        if !reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad("reference may hold only a-z, A-Z, 0-9, '-' and '_'"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The id of an EVM chain with the given EIP-155 chain id.
    pub fn eip155(chain_id: u64) -> Self {
        Self(format!("eip155:{chain_id}"))
    }

    /// The text form, e.g. `eip155:31337`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace, e.g. `eip155`.
    pub fn namespace(&self) -> &str {
        self.0.split_once(':').map_or("", |(n, _)| n)
    }

    /// The EIP-155 numeric chain id, when this is an `eip155` chain.
    pub fn eip155_id(&self) -> Option<u64> {
        match self.0.split_once(':') {
            Some(("eip155", reference)) => reference.parse().ok(),
            _ => None,
        }
    }

    /// The 32-byte key contracts use for this chain: `keccak256(bytes(caip2))`.
    pub fn key(&self) -> B256 {
        keccak256(self.0.as_bytes())
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ChainId {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ChainId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChainId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ChainId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ChainId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "CAIP-2 chain id, e.g. \"eip155:31337\"",
            "pattern": "^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_ids() {
        for ok in [
            "eip155:1",
            "eip155:31337",
            "cosmos:cosmoshub-4",
            "fisco:group_1",
        ] {
            assert_eq!(ChainId::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(ChainId::eip155(5).eip155_id(), Some(5));
        assert_eq!(ChainId::parse("cosmos:hub").unwrap().eip155_id(), None);
    }

    #[test]
    fn rejects_bad_ids_naming_the_value() {
        for bad in [
            "",
            "eip155",
            "EIP155:1",
            "ei:1",
            "eip155:",
            "eip155:1 2",
            "toolongnamespace:1",
        ] {
            let err = ChainId::parse(bad).unwrap_err();
            assert!(
                matches!(err, SchemaError::BadChainId { ref value, .. } if value == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn key_is_keccak_of_text() {
        assert_eq!(ChainId::eip155(1).key(), keccak256(b"eip155:1"));
    }
}
