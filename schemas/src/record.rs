//! The shared evidence record (v1), its canonical encoding and its record id.
//!
//! Every adapter, whatever the format of its chain's contracts, produces an
//! [`EvidenceRecord`]. Its identity is the **record id**:
//!
//! ```text
//! record id = sha256(abi.encode(EvidenceRecordV1 { domain, chain, adapter, origin,
//!     blockNumber, blockHash, txHash, txIndex, logIndex, blockTimestamp, action, ref,
//!     digestAlg, digest, kind, submitter, metadata }))
//! ```
//!
//! with strings (`chain`, `adapter`, `kind`) reduced to `keccak256` of their UTF-8 bytes,
//! so the encoding is 17 fixed-width words (544 bytes) that Solidity reproduces with
//! `abi.encode` (see `deploy/contracts/EvidenceLib.sol`). The worked example in
//! `schemas/README.md` is checked by this crate's tests.

use std::fmt;

use alloy_primitives::{Address, B256, keccak256};
use alloy_sol_types::SolValue;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::{
    chain::ChainId,
    digest::DigestAlgorithm,
    error::{SchemaError, clip},
};

/// A record id: `sha256` of the record's canonical encoding.
pub type RecordId = B256;

/// The current version of the record schema.
pub const RECORD_VERSION: u64 = 1;

/// The domain-separation text whose keccak256 is the first word of the encoding.
pub const RECORD_DOMAIN_TEXT: &str = "EvidenceBridge.EvidenceRecord.v1";

/// `keccak256("EvidenceBridge.EvidenceRecord.v1")`, the first word of every encoding.
pub fn record_domain() -> B256 {
    // Hashed once: every record id needs it (a third of a record id's keccak work).
    static DOMAIN: std::sync::LazyLock<B256> =
        std::sync::LazyLock::new(|| keccak256(RECORD_DOMAIN_TEXT.as_bytes()));
    *DOMAIN
}

/// The Solidity struct whose `abi.encode` is the canonical encoding.
pub mod sol {
    alloy_sol_types::sol! {
        /// Canonical v1 encoding of an evidence record; all fields are static, so
        /// `abi.encode` of this struct is 17 words with no offsets.
        #[derive(Debug, PartialEq, Eq)]
        struct EvidenceRecordV1 {
            bytes32 domain;
            bytes32 chain;
            bytes32 adapter;
            address origin;
            uint64 blockNumber;
            bytes32 blockHash;
            bytes32 txHash;
            uint64 txIndex;
            uint64 logIndex;
            uint64 blockTimestamp;
            uint8 action;
            bytes32 ref;
            uint8 digestAlg;
            bytes32 digest;
            bytes32 kind;
            address submitter;
            bytes32 metadata;
        }
    }
}

/// A short printable label: a record's `kind` (`iou`, `contract`, …) or an adapter name.
///
/// At most 64 bytes of `[A-Za-z0-9._:/-]`: labels go on chain and into every record, so
/// they are kept short and can never carry free text such as a person's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Label(String);

impl Label {
    /// Longest label, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Validates a label; `field` names it in the error.
    pub fn parse(field: &'static str, value: &str) -> Result<Self, SchemaError> {
        let bad = |reason| SchemaError::BadLabel {
            field,
            value: clip(value),
            reason,
        };
        if value.len() > Self::MAX_LEN {
            return Err(bad("longer than 64 bytes"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b))
        {
            return Err(bad("only A-Z, a-z, 0-9 and . _ : / - are allowed"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `keccak256` of the text, as it enters the canonical encoding.
    pub fn hash(&self) -> B256 {
        keccak256(self.0.as_bytes())
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("label", &s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Label {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Label".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Short label, at most 64 bytes of A-Z a-z 0-9 . _ : / -",
            "maxLength": 64,
            "pattern": "^[A-Za-z0-9._:/-]*$"
        })
    }
}

/// What a record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Anchors evidence (code 1).
    Anchor,
    /// Revokes an earlier anchor record of the same chain and submitter (code 2).
    Revoke,
}

impl Action {
    /// The numeric code in the canonical encoding.
    pub const fn code(self) -> u8 {
        match self {
            Self::Anchor => 1,
            Self::Revoke => 2,
        }
    }

    /// The action with the given code.
    pub fn from_code(code: u8) -> Result<Self, SchemaError> {
        match code {
            1 => Ok(Self::Anchor),
            2 => Ok(Self::Revoke),
            _ => Err(SchemaError::UnknownAction {
                value: code.to_string(),
            }),
        }
    }
}

/// Where a record came from: enough to find the original event on its chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct SourceLocator {
    /// CAIP-2 id of the source chain.
    pub chain: ChainId,
    /// Adapter that produced the record: `registry`, `eas`, `mapped` (every mapped
    /// contract; the contract is `contract`) or `bridge-receipts`.
    pub adapter: Label,
    /// Contract that emitted the evidence event.
    #[schemars(schema_with = "crate::json_schema::address")]
    pub contract: Address,
    /// Block number of the event.
    pub block_number: u64,
    /// Block hash of the event.
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub block_hash: B256,
    /// Transaction hash of the event.
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub tx_hash: B256,
    /// Index of the transaction in its block.
    pub tx_index: u64,
    /// Index of the log in its block.
    pub log_index: u64,
    /// Block timestamp (RFC 3339 in JSON, whole seconds).
    #[serde(with = "crate::serde_time")]
    #[schemars(schema_with = "crate::json_schema::rfc3339")]
    pub block_timestamp: u64,
}

/// The evidence itself: only a digest and fixed-size commitments, never content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Algorithm of [`Evidence::digest`].
    pub digest_alg: DigestAlgorithm,
    /// Digest of the evidence document.
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub digest: B256,
    /// Short label of what the evidence is (`iou`, `contract`, …); may be empty.
    pub kind: Label,
    /// Account that submitted the evidence on the source chain.
    #[schemars(schema_with = "crate::json_schema::address")]
    pub submitter: Address,
    /// Commitment to off-chain metadata (zero when there is none).
    #[schemars(schema_with = "crate::json_schema::hex32")]
    pub metadata: B256,
}

/// One normalized evidence event from one chain (schema v1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceRecord {
    /// Schema version; always 1 for this type.
    #[serde(default = "default_version")]
    pub version: u64,
    /// Where the record came from.
    pub source: SourceLocator,
    /// Anchor or revoke.
    pub action: Action,
    /// For a revoke (required), the record id it revokes; for an anchor, an optional
    /// record id it refers to (no adapter sets one today). In JSON it is omitted when
    /// absent (`null` reads as absent) and never zero: a zero `ref` is rejected. The
    /// canonical encoding writes zero for an absent `ref`.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::json_schema::optional_hex32")]
    pub reference: Option<RecordId>,
    /// The evidence.
    pub evidence: Evidence,
}

fn default_version() -> u64 {
    RECORD_VERSION
}

impl EvidenceRecord {
    /// Checks the rules the types alone cannot: version, nonzero digest, a revoke has a
    /// reference, an adapter is named.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if self.version != RECORD_VERSION {
            return Err(SchemaError::UnsupportedVersion {
                what: "record",
                got: self.version,
                supported: RECORD_VERSION,
            });
        }
        if self.evidence.digest.is_zero() {
            return Err(SchemaError::ZeroDigest {
                field: "evidence.digest",
            });
        }
        if self.source.adapter.as_str().is_empty() {
            return Err(SchemaError::Inconsistent(
                "source.adapter must name the adapter",
            ));
        }
        match (self.action, self.reference) {
            (Action::Revoke, None) => Err(SchemaError::Inconsistent("a revoke record needs a ref")),
            (_, Some(r)) if r.is_zero() => {
                Err(SchemaError::Inconsistent("ref must be omitted, not zero"))
            }
            _ => Ok(()),
        }
    }

    /// The Solidity struct of the canonical encoding.
    pub fn to_sol(&self) -> sol::EvidenceRecordV1 {
        let s = &self.source;
        let e = &self.evidence;
        sol::EvidenceRecordV1 {
            domain: record_domain(),
            chain: s.chain.key(),
            adapter: s.adapter.hash(),
            origin: s.contract,
            blockNumber: s.block_number,
            blockHash: s.block_hash,
            txHash: s.tx_hash,
            txIndex: s.tx_index,
            logIndex: s.log_index,
            blockTimestamp: s.block_timestamp,
            action: self.action.code(),
            r#ref: self.reference.unwrap_or(B256::ZERO),
            digestAlg: e.digest_alg.code(),
            digest: e.digest,
            kind: e.kind.hash(),
            submitter: e.submitter,
            metadata: e.metadata,
        }
    }

    /// The canonical encoding: `abi.encode` of [`sol::EvidenceRecordV1`], 544 bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.to_sol().abi_encode()
    }

    /// The record id: `sha256(canonical_bytes)`.
    pub fn record_id(&self) -> RecordId {
        B256::from_slice(&Sha256::digest(self.canonical_bytes()))
    }

    /// The record's position in its chain's log order: (block, tx index, log index).
    pub fn order_key(&self) -> (u64, u64, u64) {
        (
            self.source.block_number,
            self.source.tx_index,
            self.source.log_index,
        )
    }

    /// The block time as RFC 3339 text.
    pub fn block_time_rfc3339(&self) -> String {
        crate::serde_time::to_rfc3339(self.source.block_timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> EvidenceRecord {
        EvidenceRecord {
            version: 1,
            source: SourceLocator {
                chain: ChainId::eip155(31337),
                adapter: Label::parse("adapter", "registry").unwrap(),
                contract: Address::repeat_byte(0x11),
                block_number: 42,
                block_hash: B256::repeat_byte(0x22),
                tx_hash: B256::repeat_byte(0x33),
                tx_index: 1,
                log_index: 3,
                block_timestamp: 1_767_225_600,
            },
            action: Action::Anchor,
            reference: None,
            evidence: Evidence {
                digest_alg: DigestAlgorithm::Sha256,
                digest: DigestAlgorithm::Sha256.digest(b"IOU: A owes B 100"),
                kind: Label::parse("kind", "iou").unwrap(),
                submitter: Address::repeat_byte(0x44),
                metadata: B256::ZERO,
            },
        }
    }

    #[test]
    fn encoding_is_17_static_words() {
        let bytes = sample().canonical_bytes();
        assert_eq!(bytes.len(), 17 * 32);
        assert_eq!(&bytes[..32], record_domain().as_slice());
    }

    #[test]
    fn every_field_changes_the_id() {
        let base = sample();
        let id = base.record_id();
        let mut variants = Vec::new();
        let mut r = base.clone();
        r.source.chain = ChainId::eip155(1);
        variants.push(r);
        let mut r = base.clone();
        r.source.adapter = Label::parse("a", "eas").unwrap();
        variants.push(r);
        let mut r = base.clone();
        r.source.contract = Address::repeat_byte(1);
        variants.push(r);
        let mut r = base.clone();
        r.source.block_number += 1;
        variants.push(r);
        let mut r = base.clone();
        r.source.block_hash = B256::repeat_byte(1);
        variants.push(r);
        let mut r = base.clone();
        r.source.tx_hash = B256::repeat_byte(1);
        variants.push(r);
        let mut r = base.clone();
        r.source.tx_index += 1;
        variants.push(r);
        let mut r = base.clone();
        r.source.log_index += 1;
        variants.push(r);
        let mut r = base.clone();
        r.source.block_timestamp += 1;
        variants.push(r);
        let mut r = base.clone();
        r.action = Action::Revoke;
        r.reference = Some(B256::repeat_byte(9));
        variants.push(r);
        let mut r = base.clone();
        r.reference = Some(B256::repeat_byte(9));
        variants.push(r);
        let mut r = base.clone();
        r.evidence.digest_alg = DigestAlgorithm::Sm3;
        variants.push(r);
        let mut r = base.clone();
        r.evidence.digest = B256::repeat_byte(7);
        variants.push(r);
        let mut r = base.clone();
        r.evidence.kind = Label::parse("k", "contract").unwrap();
        variants.push(r);
        let mut r = base.clone();
        r.evidence.submitter = Address::repeat_byte(2);
        variants.push(r);
        let mut r = base.clone();
        r.evidence.metadata = B256::repeat_byte(2);
        variants.push(r);
        let mut ids: Vec<_> = variants.iter().map(EvidenceRecord::record_id).collect();
        ids.push(id);
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "two different records share an id");
    }

    #[test]
    fn json_round_trip_uses_hex_and_rfc3339() {
        let r = sample();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["source"]["block_timestamp"], "2026-01-01T00:00:00Z");
        assert!(
            json["evidence"]["digest"]
                .as_str()
                .unwrap()
                .starts_with("0x")
        );
        assert!(json.get("ref").is_none());
        let back: EvidenceRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.record_id(), r.record_id());
    }

    #[test]
    fn validation_rules() {
        let mut r = sample();
        r.validate().unwrap();
        r.action = Action::Revoke;
        assert!(r.validate().is_err());
        r.reference = Some(B256::repeat_byte(1));
        r.validate().unwrap();
        r.evidence.digest = B256::ZERO;
        assert!(matches!(r.validate(), Err(SchemaError::ZeroDigest { .. })));
        let mut r = sample();
        r.version = 2;
        assert!(matches!(
            r.validate(),
            Err(SchemaError::UnsupportedVersion { got: 2, .. })
        ));
    }

    #[test]
    fn labels_are_short_and_plain() {
        Label::parse("kind", "iou").unwrap();
        Label::parse("kind", "").unwrap();
        assert!(Label::parse("kind", "Zhang San 13800000000").is_err());
        assert!(Label::parse("kind", &"a".repeat(65)).is_err());
        let err = Label::parse("kind", "借条").unwrap_err();
        assert!(err.to_string().starts_with("kind:"), "{err}");
    }
}
