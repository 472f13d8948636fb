//! The EAS mapping: one `Attested` log plus its attestation → an anchor record, and
//! the revoke record of a `Revoked` log. Pure functions, documented in
//! `docs/ADAPTERS.md`; the source and the tests share them.
//!
//! | record field        | from                                                        |
//! |---------------------|-------------------------------------------------------------|
//! | `source.*`          | the `Attested` (or `Revoked`) log's position                |
//! | `source.adapter`    | `eas`                                                       |
//! | `source.contract`   | the EAS contract                                            |
//! | `evidence.digest`   | per schema: ABI word `index` of `data`, else `keccak256(data)` |
//! | `evidence.digest_alg` | per schema (word), else `keccak256`                       |
//! | `evidence.kind`     | per-schema label, else the schema UID as 64 hex digits      |
//! | `evidence.submitter`| the attester                                                |
//! | `evidence.metadata` | [`metadata_commitment`] of uid, schema, recipient, refUID, expirationTime, time |
//! | `ref` (anchor)      | none                                                        |
//! | `ref` (revoke)      | record id of the attestation's anchor record                |

use alloy::{
    primitives::{Address, B256, keccak256},
    rpc::types::Log,
    sol_types::SolValue,
};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, record::RECORD_VERSION,
};
use serde::{Deserialize, Serialize};

use crate::contracts::eas::EAS;

/// The adapter name of the EAS source, as it appears in records.
pub const EAS_ADAPTER: &str = "eas";

/// The domain-separation text of the metadata commitment.
pub const EAS_METADATA_DOMAIN: &str = "EvidenceBridge.EAS.metadata.v1";

alloy::sol! {
    /// What the metadata commitment of an EAS record hashes (`abi.encode`).
    #[derive(Debug, PartialEq, Eq)]
    struct EasMetadataV1 {
        bytes32 domain;
        bytes32 uid;
        bytes32 schema;
        address recipient;
        bytes32 refUID;
        uint64 expirationTime;
        uint64 time;
    }
}

/// Where the digest of an attestation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum EasDigest {
    /// `keccak256` of the attestation's whole `data` (algorithm `keccak256`).
    #[default]
    DataKeccak256,
    /// The 32-byte ABI word number `index` (0-based) of `data`: a `bytes32` field of
    /// the schema that is the digest of a document, hashed with `alg`. E.g. schema
    /// `bytes32 docHash, string note` → `index = 0`.
    Word {
        /// Word index in `data`.
        index: u32,
        /// The algorithm that produced the digest.
        alg: DigestAlgorithm,
    },
}

/// The mapping of one schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EasSchemaMapping {
    /// The schema UID.
    pub uid: B256,
    /// The records' `kind`; default: the schema UID as 64 lowercase hex digits.
    #[serde(default)]
    pub kind: Option<Label>,
    /// Where the digest comes from.
    #[serde(default)]
    pub digest: EasDigest,
}

impl EasSchemaMapping {
    /// The default mapping of a schema: `keccak256(data)`, kind = the schema UID.
    pub fn default_for(uid: B256) -> Self {
        Self {
            uid,
            kind: None,
            digest: EasDigest::DataKeccak256,
        }
    }

    /// The kind label of this schema's records.
    pub fn kind_label(&self) -> Label {
        match &self.kind {
            Some(k) => k.clone(),
            // 64 hex digits: exactly the label limit, always valid.
            None => Label::parse("kind", &alloy::hex::encode(self.uid)).unwrap_or_default(),
        }
    }
}

/// The commitment stored as a record's `metadata`: `keccak256(abi.encode(
/// EasMetadataV1{keccak256("EvidenceBridge.EAS.metadata.v1"), uid, schema, recipient,
/// refUID, expirationTime, time}))`. Only this digest leaves the source chain; the
/// attestation's fields can be checked against it by anyone who has them.
pub fn metadata_commitment(att: &EAS::Attestation) -> B256 {
    keccak256(
        EasMetadataV1 {
            domain: keccak256(EAS_METADATA_DOMAIN.as_bytes()),
            uid: att.uid,
            schema: att.schema,
            recipient: att.recipient,
            refUID: att.refUID,
            expirationTime: att.expirationTime,
            time: att.time,
        }
        .abi_encode(),
    )
}

/// The digest and its algorithm of an attestation under `mapping`, or why there is
/// none.
pub fn attestation_digest(
    att: &EAS::Attestation,
    mapping: &EasSchemaMapping,
) -> Result<(DigestAlgorithm, B256), String> {
    match mapping.digest {
        EasDigest::DataKeccak256 => Ok((DigestAlgorithm::Keccak256, keccak256(&att.data))),
        EasDigest::Word { index, alg } => {
            let start = index as usize * 32;
            let word = att.data.get(start..start + 32).ok_or_else(|| {
                format!(
                    "attestation data is {} bytes, too short for the digest word {index} of schema {} (expected at least {} bytes)",
                    att.data.len(),
                    att.schema,
                    start + 32
                )
            })?;
            let digest = B256::from_slice(word);
            if digest.is_zero() {
                return Err(format!(
                    "digest word {index} of the attestation data is zero"
                ));
            }
            Ok((alg, digest))
        }
    }
}

/// The anchor record of attestation `att`, announced by the `Attested` log `log`
/// mined in a block with timestamp `block_timestamp`.
pub fn anchor_record(
    chain: &ChainId,
    log: &Log,
    block_timestamp: u64,
    att: &EAS::Attestation,
    mapping: &EasSchemaMapping,
) -> Result<EvidenceRecord, String> {
    let (digest_alg, digest) = attestation_digest(att, mapping)?;
    record(
        chain,
        log,
        block_timestamp,
        Action::Anchor,
        None,
        Evidence {
            digest_alg,
            digest,
            kind: mapping.kind_label(),
            submitter: att.attester,
            metadata: metadata_commitment(att),
        },
    )
}

/// The revoke record of the `Revoked` log `log`: the anchor's evidence, with `ref` the
/// anchor's record id.
pub fn revoke_record(
    chain: &ChainId,
    log: &Log,
    block_timestamp: u64,
    anchor: &EvidenceRecord,
) -> Result<EvidenceRecord, String> {
    record(
        chain,
        log,
        block_timestamp,
        Action::Revoke,
        Some(anchor.record_id()),
        anchor.evidence.clone(),
    )
}

fn record(
    chain: &ChainId,
    log: &Log,
    block_timestamp: u64,
    action: Action,
    reference: Option<B256>,
    evidence: Evidence,
) -> Result<EvidenceRecord, String> {
    let adapter =
        Label::parse("adapter", EAS_ADAPTER).map_err(|e| format!("bad adapter label: {e}"))?;
    let record = EvidenceRecord {
        version: RECORD_VERSION,
        source: crate::evm_source::log_locator(chain, adapter, log, block_timestamp),
        action,
        reference,
        evidence,
    };
    record
        .validate()
        .map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

/// The fields of an EAS `Attested` or `Revoked` event (same layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EasEvent {
    /// `true` for `Revoked`.
    pub revoked: bool,
    /// Recipient (topic 1).
    pub recipient: Address,
    /// Attester (topic 2; for `Revoked`, the revoker, who is the attester).
    pub attester: Address,
    /// Attestation UID (data).
    pub uid: B256,
    /// Schema UID (topic 3).
    pub schema: B256,
}

/// Decodes an `Attested` or `Revoked` log.
pub fn decode_event(log: &Log) -> Result<EasEvent, String> {
    use alloy::sol_types::SolEvent;
    let topic0 = log.topic0().copied().unwrap_or_default();
    if topic0 == EAS::Attested::SIGNATURE_HASH {
        let ev = EAS::Attested::decode_log_data(log.data())
            .map_err(|e| format!("undecodable Attested event: {e}"))?;
        Ok(EasEvent {
            revoked: false,
            recipient: ev.recipient,
            attester: ev.attester,
            uid: ev.uid,
            schema: ev.schemaUID,
        })
    } else if topic0 == EAS::Revoked::SIGNATURE_HASH {
        let ev = EAS::Revoked::decode_log_data(log.data())
            .map_err(|e| format!("undecodable Revoked event: {e}"))?;
        Ok(EasEvent {
            revoked: true,
            recipient: ev.recipient,
            attester: ev.attester,
            uid: ev.uid,
            schema: ev.schemaUID,
        })
    } else {
        Err(format!(
            "not an EAS Attested/Revoked event signature: {topic0}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Bytes, LogData, address};
    use alloy::sol_types::SolEvent;

    use super::*;

    fn att(data: Vec<u8>) -> EAS::Attestation {
        EAS::Attestation {
            uid: B256::repeat_byte(1),
            schema: B256::repeat_byte(2),
            time: 1_000,
            expirationTime: 0,
            revocationTime: 0,
            refUID: B256::ZERO,
            recipient: Address::repeat_byte(3),
            attester: Address::repeat_byte(4),
            revocable: true,
            data: Bytes::from(data),
        }
    }

    fn rpc_log(data: LogData) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address: address!("0x00000000000000000000000000000000000000ee"),
                data,
            },
            block_hash: Some(B256::repeat_byte(9)),
            block_number: Some(7),
            block_timestamp: None,
            transaction_hash: Some(B256::repeat_byte(8)),
            transaction_index: Some(0),
            log_index: Some(2),
            removed: false,
        }
    }

    #[test]
    fn default_mapping_hashes_the_data_and_names_the_schema() {
        let a = att(vec![7; 40]);
        let m = EasSchemaMapping::default_for(a.schema);
        let log = rpc_log(
            EAS::Attested {
                recipient: a.recipient,
                attester: a.attester,
                uid: a.uid,
                schemaUID: a.schema,
            }
            .encode_log_data(),
        );
        let r = anchor_record(&ChainId::eip155(1), &log, 1_000, &a, &m).unwrap();
        assert_eq!(r.evidence.digest, keccak256([7u8; 40]));
        assert_eq!(r.evidence.digest_alg, DigestAlgorithm::Keccak256);
        assert_eq!(r.evidence.kind.as_str(), "02".repeat(32));
        assert_eq!(r.evidence.submitter, a.attester);
        assert_eq!(r.evidence.metadata, metadata_commitment(&a));
        assert_eq!(r.source.adapter.as_str(), "eas");
        assert_eq!(r.reference, None);
        let rv = revoke_record(&ChainId::eip155(1), &log, 1_001, &r).unwrap();
        assert_eq!(rv.action, Action::Revoke);
        assert_eq!(rv.reference, Some(r.record_id()));
        assert_eq!(rv.evidence, r.evidence);
    }

    #[test]
    fn word_mapping_takes_the_word_and_rejects_short_or_zero_data() {
        let mut data = vec![0u8; 32];
        data.extend([5u8; 32]);
        let m = EasSchemaMapping {
            uid: B256::repeat_byte(2),
            kind: Some(Label::parse("kind", "contract").unwrap()),
            digest: EasDigest::Word {
                index: 1,
                alg: DigestAlgorithm::Sha256,
            },
        };
        assert_eq!(
            attestation_digest(&att(data), &m).unwrap(),
            (DigestAlgorithm::Sha256, B256::repeat_byte(5))
        );
        let short = attestation_digest(&att(vec![1; 40]), &m).unwrap_err();
        assert!(short.contains("too short"), "{short}");
        let zero = attestation_digest(&att(vec![0; 64]), &m).unwrap_err();
        assert!(zero.contains("zero"), "{zero}");
    }

    #[test]
    fn the_commitment_covers_every_listed_field() {
        let a = att(vec![]);
        let base = metadata_commitment(&a);
        let mut b = a.clone();
        b.refUID = B256::repeat_byte(6);
        assert_ne!(metadata_commitment(&b), base);
        let mut b = a.clone();
        b.expirationTime = 5;
        assert_ne!(metadata_commitment(&b), base);
        let mut b = a.clone();
        b.recipient = Address::ZERO;
        assert_ne!(metadata_commitment(&b), base);
        // The revocation time is not committed: anchor records never change.
        let mut b = a;
        b.revocationTime = 9;
        assert_eq!(metadata_commitment(&b), base);
    }

    #[test]
    fn options_parse_from_toml_shaped_json() {
        let m: EasSchemaMapping = serde_json::from_str(&format!(
            r#"{{"uid":"{}","kind":"contract","digest":{{"from":"word","index":0,"alg":"sha256"}}}}"#,
            B256::repeat_byte(2)
        ))
        .unwrap();
        assert_eq!(
            m.digest,
            EasDigest::Word {
                index: 0,
                alg: DigestAlgorithm::Sha256
            }
        );
        let bad = serde_json::from_str::<EasSchemaMapping>(&format!(
            r#"{{"uid":"{}","colour":"red"}}"#,
            B256::repeat_byte(2)
        ));
        assert!(bad.is_err());
    }
}
