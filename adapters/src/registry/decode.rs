//! Turning one `EvidenceRegistry` log into a record — the single function both the
//! source adapter and the `anchor` helper use, so they agree on every record id.

use alloy::{
    primitives::{B256, U256},
    rpc::types::Log,
    sol_types::SolEvent,
};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, record::RECORD_VERSION,
};

pub use crate::source::DecodeFailure;
use crate::{contracts::EvidenceRegistry, source::Quarantined};

/// The adapter name of the registry source, as it appears in records.
pub const REGISTRY_ADAPTER: &str = "registry";

/// A decoded registry event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEvent {
    /// The event's `seq`.
    pub seq: u64,
    /// The record.
    pub record: EvidenceRecord,
}

/// The two event signatures the registry emits.
pub fn registry_event_signatures() -> [B256; 2] {
    [
        EvidenceRegistry::Anchored::SIGNATURE_HASH,
        EvidenceRegistry::Revoked::SIGNATURE_HASH,
    ]
}

/// The `seq` topic of a registry event: `uint64 indexed`, so a left-padded word.
pub fn seq_topic(log: &Log) -> Option<u64> {
    let word = log.topics().get(1)?;
    u64::try_from(U256::from_be_bytes(word.0)).ok()
}

/// Decodes and validates one registry log of chain `chain`, mined in a block with
/// timestamp `block_timestamp`.
pub fn decode_registry_log(
    chain: &ChainId,
    log: &Log,
    block_timestamp: u64,
) -> Result<RegistryEvent, DecodeFailure> {
    let seq = seq_topic(log);
    let fail = |reason: String| DecodeFailure {
        seq,
        quarantined: Box::new(Quarantined::of_log(
            chain,
            REGISTRY_ADAPTER,
            log,
            format!(
                "{reason} (contract {}, seq {}, topics [{}])",
                log.address(),
                seq.map_or_else(|| "unreadable".to_owned(), |s| s.to_string()),
                crate::logs::topics_text(log)
            ),
        )),
    };
    if !crate::logs::has_location(log) {
        return Err(fail(
            "log has no block/transaction location (pending log?)".to_owned(),
        ));
    }
    let topic0 = log.topic0().copied().unwrap_or_default();
    let (seq_value, action, reference, alg, digest, kind, submitter, metadata) =
        if topic0 == EvidenceRegistry::Anchored::SIGNATURE_HASH {
            let ev = EvidenceRegistry::Anchored::decode_log_data(log.data())
                .map_err(|e| fail(format!("undecodable Anchored event: {e}")))?;
            (
                ev.seq,
                Action::Anchor,
                None,
                ev.digestAlg,
                ev.digest,
                ev.kind,
                ev.submitter,
                ev.metadata,
            )
        } else if topic0 == EvidenceRegistry::Revoked::SIGNATURE_HASH {
            let ev = EvidenceRegistry::Revoked::decode_log_data(log.data())
                .map_err(|e| fail(format!("undecodable Revoked event: {e}")))?;
            if ev.r#ref.is_zero() {
                return Err(fail("Revoked event with a zero ref".to_owned()));
            }
            (
                ev.seq,
                Action::Revoke,
                Some(ev.r#ref),
                ev.digestAlg,
                ev.digest,
                ev.kind,
                ev.submitter,
                B256::ZERO,
            )
        } else {
            return Err(fail(format!("not a registry event signature: {topic0}")));
        };
    let digest_alg = DigestAlgorithm::from_code(alg)
        .map_err(|e| fail(format!("unknown digest algorithm {alg}: {e}")))?;
    let kind = Label::parse("kind", &kind).map_err(|e| fail(format!("bad kind label: {e}")))?;
    let adapter = Label::parse("adapter", REGISTRY_ADAPTER)
        .map_err(|e| fail(format!("bad adapter label: {e}")))?;
    let record = EvidenceRecord {
        version: RECORD_VERSION,
        source: crate::evm_source::log_locator(chain, adapter, log, block_timestamp),
        action,
        reference,
        evidence: Evidence {
            digest_alg,
            digest,
            kind,
            submitter,
            metadata,
        },
    };
    record
        .validate()
        .map_err(|e| fail(format!("invalid record: {e}")))?;
    Ok(RegistryEvent {
        seq: seq_value,
        record,
    })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, Bytes, LogData};

    use super::*;

    fn anchored(seq: u64, alg: u8, digest: B256, kind: &str) -> Log {
        let ev = EvidenceRegistry::Anchored {
            seq,
            digest,
            submitter: Address::repeat_byte(9),
            digestAlg: alg,
            kind: kind.to_owned(),
            metadata: B256::ZERO,
        };
        crate::logs::mined_log(ev.encode_log_data())
    }

    #[test]
    fn decodes_a_valid_anchor() {
        let chain = ChainId::eip155(31337);
        let ev = decode_registry_log(&chain, &anchored(4, 1, B256::repeat_byte(5), "iou"), 1_000)
            .unwrap();
        assert_eq!(ev.seq, 4);
        assert_eq!(ev.record.action, Action::Anchor);
        assert_eq!(ev.record.source.block_timestamp, 1_000);
        assert_eq!(ev.record.source.adapter.as_str(), "registry");
        assert_eq!(ev.record.evidence.kind.as_str(), "iou");
    }

    #[test]
    fn decodes_a_revoke_with_its_ref() {
        let ev = EvidenceRegistry::Revoked {
            seq: 2,
            digest: B256::repeat_byte(5),
            submitter: Address::repeat_byte(9),
            digestAlg: 2,
            r#ref: B256::repeat_byte(6),
            kind: "iou".into(),
        };
        let got = decode_registry_log(
            &ChainId::eip155(1),
            &crate::logs::mined_log(ev.encode_log_data()),
            1,
        )
        .unwrap();
        assert_eq!(got.record.action, Action::Revoke);
        assert_eq!(got.record.reference, Some(B256::repeat_byte(6)));
    }

    #[test]
    fn bad_events_are_quarantined_keeping_their_seq() {
        let chain = ChainId::eip155(1);
        for (log, why) in [
            (
                anchored(5, 9, B256::repeat_byte(5), "iou"),
                "unknown digest algorithm",
            ),
            (anchored(5, 1, B256::ZERO, "iou"), "digest"),
            (
                anchored(5, 1, B256::repeat_byte(5), "Zhang San"),
                "bad kind label",
            ),
        ] {
            let f = decode_registry_log(&chain, &log, 1).unwrap_err();
            assert_eq!(f.seq, Some(5));
            assert!(
                f.quarantined.reason.contains(why),
                "{}",
                f.quarantined.reason
            );
        }
        // Right topics, garbage data.
        let mut log = anchored(6, 1, B256::repeat_byte(5), "iou");
        log.inner.data =
            LogData::new_unchecked(log.topics().to_vec(), Bytes::from_static(&[1, 2, 3]));
        let f = decode_registry_log(&chain, &log, 1).unwrap_err();
        assert_eq!(f.seq, Some(6));
        assert!(
            f.quarantined.reason.contains("undecodable Anchored"),
            "{}",
            f.quarantined.reason
        );
        assert_eq!(f.quarantined.raw.as_ref(), &[1, 2, 3]);
        // No seq topic at all.
        log.inner.data = LogData::new_unchecked(
            vec![EvidenceRegistry::Anchored::SIGNATURE_HASH],
            Bytes::new(),
        );
        assert_eq!(decode_registry_log(&chain, &log, 1).unwrap_err().seq, None);
    }
}
