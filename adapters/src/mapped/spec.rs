//! The mapping of a [`super::MappedSource`]: its options, their start-up validation
//! against the parsed event signature, and the pure decoding of one log.

use alloy::{
    dyn_abi::{DynSolType, DynSolValue, EventExt, Specifier},
    json_abi::Event,
    primitives::{Address, B256, keccak256},
    rpc::types::Log,
};
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, Evidence, EvidenceRecord, Label, record::RECORD_VERSION,
};
use serde::{Deserialize, Serialize};

use crate::{error::AdapterError, source::Quarantined};

/// The adapter name of mapped sources, as it appears in records' `source.adapter`.
pub const MAPPED_ADAPTER: &str = "mapped";

/// The `submitter` value meaning "the sender of the transaction that emitted the log".
pub const TX_FROM: &str = "tx.from";

/// How one existing evidence contract's event becomes records — configured, not coded.
///
/// Mapping rules (checked at start-up by [`MappedSpec::new`]):
/// - `digest` names a field of type `bytes32` (taken as the digest, produced by
///   `digest_alg`), or a non-indexed `bytes` / `string` field (its raw bytes — the
///   string's UTF-8 — hashed with `digest_alg` to make the digest);
/// - `submitter` names an `address` field, or is `"tx.from"` for the sender of the
///   emitting transaction;
/// - the kind is either `kind_field`, a non-indexed `string` field whose value must be a
///   valid label (else the log is quarantined), or the fixed label `kind`, or empty;
/// - the metadata commitment is either `metadata_field`, a `bytes32` field taken as is,
///   or `metadata_fields`, a list of fields committed to as
///   `keccak256(abi.encode(f1, f2, ...))` in the listed order (an indexed `string`,
///   `bytes` or array field enters as its topic, i.e. the keccak256 of its value), or
///   zero when neither is set.
///
/// Logs of the contract with the event's topic0 that do not decode with this
/// signature (anonymous or differently indexed events) are quarantined with the reason.
/// Records are anchors, with no sequence numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedSourceOptions {
    /// A short name of this source, used in messages (e.g. `hashstore`).
    pub name: String,
    /// The evidence contract.
    pub contract: Address,
    /// The event signature, e.g.
    /// `Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)`.
    pub event: String,
    /// The field that becomes the digest.
    pub digest: String,
    /// The digest algorithm (`sha256`, `keccak256`, `sm3`; default `sha256`).
    #[serde(default = "default_alg")]
    pub digest_alg: DigestAlgorithm,
    /// The `address` field that becomes the submitter, or `tx.from`.
    pub submitter: String,
    /// A `string` field that becomes the kind.
    #[serde(default)]
    pub kind_field: Option<String>,
    /// A fixed kind label for every record (instead of `kind_field`).
    #[serde(default)]
    pub kind: Option<String>,
    /// A `bytes32` field that becomes the metadata commitment.
    #[serde(default)]
    pub metadata_field: Option<String>,
    /// Fields whose ABI encoding is committed to as the metadata (instead of
    /// `metadata_field`).
    #[serde(default)]
    pub metadata_fields: Vec<String>,
}

fn default_alg() -> DigestAlgorithm {
    DigestAlgorithm::Sha256
}

/// Where a field's value is in a decoded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    indexed: bool,
    /// Position among the indexed (or among the non-indexed) fields.
    pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DigestFrom {
    Word(Slot),
    Hashed(Slot),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KindFrom {
    Field(Slot),
    Fixed(Label),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum MetadataFrom {
    None,
    Field(Slot),
    Commit(Vec<Slot>),
}

/// A validated mapping, ready to decode logs.
#[derive(Debug, Clone)]
pub struct MappedSpec {
    opts: MappedSourceOptions,
    event: Event,
    topic0: B256,
    digest: DigestFrom,
    submitter: Option<Slot>,
    kind: KindFrom,
    metadata: MetadataFrom,
}

/// What [`MappedSpec::decode`] needs besides the log.
#[derive(Debug, Clone, Copy)]
pub struct LogContext {
    /// Timestamp of the log's block.
    pub block_timestamp: u64,
    /// Sender of the log's transaction (needed only when the submitter is `tx.from`).
    pub tx_from: Option<Address>,
}

impl MappedSpec {
    /// Parses the event signature and checks every named field exists with an allowed
    /// type; the error names the source, the field, its actual type and the allowed
    /// types.
    pub fn new(opts: MappedSourceOptions) -> Result<Self, AdapterError> {
        let src = opts.name.clone();
        let err = |m: String| AdapterError::Config(format!("mapped source {src:?}: {m}"));
        let event = Event::parse(opts.event.trim()).map_err(|e| {
            err(format!(
                "cannot parse event signature {:?}: {e}; write it like `Stored(bytes32 indexed hash, address indexed owner, string kind)`",
                opts.event
            ))
        })?;
        if event.anonymous {
            return Err(err(
                "anonymous events have no topic0 to filter by; name a non-anonymous event".into(),
            ));
        }
        if let Err(e) = event.resolve() {
            return Err(err(format!(
                "event signature {:?} is not usable: {e}",
                opts.event
            )));
        }
        let fields = describe_fields(&event);
        let find = |role: &str, name: &str| -> Result<(Slot, DynSolType), AdapterError> {
            let mut seen_idx = 0;
            let mut seen_body = 0;
            for p in &event.inputs {
                let slot = if p.indexed {
                    seen_idx += 1;
                    Slot {
                        indexed: true,
                        pos: seen_idx - 1,
                    }
                } else {
                    seen_body += 1;
                    Slot {
                        indexed: false,
                        pos: seen_body - 1,
                    }
                };
                if p.name == name {
                    let ty = p.resolve().map_err(|e| {
                        err(format!(
                            "field {name:?} ({role}) has an unusable type {}: {e}",
                            p.ty
                        ))
                    })?;
                    return Ok((slot, ty));
                }
            }
            Err(err(format!(
                "{role} field {name:?} is not a field of event {}; its fields are: {fields}",
                event.name
            )))
        };
        let wrong = |role: &str, name: &str, ty: &DynSolType, indexed: bool, allowed: &str| {
            err(format!(
                "{role} field {name:?} has type {}{}; allowed: {allowed}",
                ty.sol_type_name(),
                if indexed { " indexed" } else { "" }
            ))
        };

        let digest = {
            let (slot, ty) = find("digest", &opts.digest)?;
            match ty {
                DynSolType::FixedBytes(32) => DigestFrom::Word(slot),
                DynSolType::Bytes | DynSolType::String if !slot.indexed => DigestFrom::Hashed(slot),
                _ => {
                    return Err(wrong(
                        "digest",
                        &opts.digest,
                        &ty,
                        slot.indexed,
                        "bytes32 (indexed or not), or bytes / string (not indexed; hashed with digest_alg)",
                    ));
                }
            }
        };
        let submitter = if opts.submitter == TX_FROM {
            None
        } else {
            let (slot, ty) = find("submitter", &opts.submitter)?;
            if ty != DynSolType::Address {
                return Err(wrong(
                    "submitter",
                    &opts.submitter,
                    &ty,
                    slot.indexed,
                    "address, or \"tx.from\" for the transaction's sender",
                ));
            }
            Some(slot)
        };
        let kind = match (&opts.kind_field, &opts.kind) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "set either kind_field (a string field) or kind (a fixed label), not both"
                        .into(),
                ));
            }
            (Some(f), None) => {
                let (slot, ty) = find("kind", f)?;
                if ty != DynSolType::String || slot.indexed {
                    return Err(wrong(
                        "kind",
                        f,
                        &ty,
                        slot.indexed,
                        "string (not indexed: an indexed string is only its hash)",
                    ));
                }
                KindFrom::Field(slot)
            }
            (None, Some(label)) => KindFrom::Fixed(
                Label::parse("kind", label).map_err(|e| err(format!("kind label: {e}")))?,
            ),
            (None, None) => KindFrom::Fixed(Label::default()),
        };
        let metadata = match (&opts.metadata_field, opts.metadata_fields.as_slice()) {
            (Some(_), [_, ..]) => {
                return Err(err("set either metadata_field (a bytes32 field) or metadata_fields (fields to commit to), not both".into()));
            }
            (Some(f), []) => {
                let (slot, ty) = find("metadata", f)?;
                if ty != DynSolType::FixedBytes(32) {
                    return Err(wrong(
                        "metadata",
                        f,
                        &ty,
                        slot.indexed,
                        "bytes32 (or list the fields to commit to in metadata_fields)",
                    ));
                }
                MetadataFrom::Field(slot)
            }
            (None, []) => MetadataFrom::None,
            (None, names) => MetadataFrom::Commit(
                names
                    .iter()
                    .map(|n| find("metadata_fields", n).map(|(s, _)| s))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Self {
            topic0: event.selector(),
            opts,
            event,
            digest,
            submitter,
            kind,
            metadata,
        })
    }

    /// The options this spec was built from.
    pub fn options(&self) -> &MappedSourceOptions {
        &self.opts
    }

    /// The event's topic0.
    pub fn topic0(&self) -> B256 {
        self.topic0
    }

    /// Whether records need the transaction's sender.
    pub fn needs_tx_from(&self) -> bool {
        self.submitter.is_none()
    }

    /// Decodes one log of the contract into a record, or says why it cannot.
    pub fn decode(
        &self,
        chain: &ChainId,
        log: &Log,
        ctx: LogContext,
    ) -> Result<EvidenceRecord, Box<Quarantined>> {
        let fail = |reason: String| {
            Box::new(Quarantined::of_log(
                chain,
                MAPPED_ADAPTER,
                log,
                format!(
                    "mapped source {:?}: {reason} (contract {}, topics [{}])",
                    self.opts.name,
                    log.address(),
                    crate::logs::topics_text(log)
                ),
            ))
        };
        if log.topic0() != Some(&self.topic0) {
            return Err(fail(format!("not a {} event", self.event.name)));
        }
        let decoded = self.event.decode_log(log.data()).map_err(|e| {
            fail(format!(
                "log does not match the configured signature {} (anonymous or differently indexed event?): {e}",
                self.event.signature()
            ))
        })?;
        let get = |s: Slot| -> Option<&DynSolValue> {
            if s.indexed {
                decoded.indexed.get(s.pos)
            } else {
                decoded.body.get(s.pos)
            }
        };
        let missing = |what: &str| fail(format!("decoded event lacks the {what} field"));
        let digest = match self.digest {
            DigestFrom::Word(s) => match get(s) {
                Some(DynSolValue::FixedBytes(w, 32)) => *w,
                _ => return Err(missing("digest")),
            },
            DigestFrom::Hashed(s) => match get(s) {
                Some(DynSolValue::Bytes(b)) => self.opts.digest_alg.digest(b),
                Some(DynSolValue::String(t)) => self.opts.digest_alg.digest(t.as_bytes()),
                _ => return Err(missing("digest")),
            },
        };
        let submitter = match self.submitter {
            Some(s) => match get(s) {
                Some(DynSolValue::Address(a)) => *a,
                _ => return Err(missing("submitter")),
            },
            None => ctx
                .tx_from
                .ok_or_else(|| fail("the sender of the transaction is unknown".into()))?,
        };
        let kind = match &self.kind {
            KindFrom::Fixed(l) => l.clone(),
            KindFrom::Field(s) => match get(*s) {
                Some(DynSolValue::String(t)) => {
                    Label::parse("kind", t).map_err(|e| fail(format!("bad kind label: {e}")))?
                }
                _ => return Err(missing("kind")),
            },
        };
        let metadata = match &self.metadata {
            MetadataFrom::None => B256::ZERO,
            MetadataFrom::Field(s) => match get(*s) {
                Some(DynSolValue::FixedBytes(w, 32)) => *w,
                _ => return Err(missing("metadata")),
            },
            MetadataFrom::Commit(slots) => {
                let values = slots
                    .iter()
                    .map(|s| get(*s).cloned().ok_or_else(|| missing("metadata")))
                    .collect::<Result<Vec<_>, _>>()?;
                keccak256(DynSolValue::Tuple(values).abi_encode())
            }
        };
        let adapter = Label::parse("adapter", MAPPED_ADAPTER)
            .map_err(|e| fail(format!("bad adapter label: {e}")))?;
        let record = EvidenceRecord {
            version: RECORD_VERSION,
            source: crate::evm_source::log_locator(chain, adapter, log, ctx.block_timestamp),
            action: Action::Anchor,
            reference: None,
            evidence: Evidence {
                digest_alg: self.opts.digest_alg,
                digest,
                kind,
                submitter,
                metadata,
            },
        };
        record
            .validate()
            .map_err(|e| fail(format!("invalid record: {e}")))?;
        Ok(record)
    }
}

fn describe_fields(event: &Event) -> String {
    if event.inputs.is_empty() {
        return "(none)".into();
    }
    event
        .inputs
        .iter()
        .map(|p| {
            format!(
                "{} {}{}",
                p.name,
                p.ty,
                if p.indexed { " indexed" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Bytes, LogData, U256};

    use super::*;

    const SIG: &str =
        "Stored(bytes32 indexed hash, address indexed owner, uint256 time, string kind)";

    fn opts() -> MappedSourceOptions {
        MappedSourceOptions {
            name: "hashstore".into(),
            contract: Address::repeat_byte(0xaa),
            event: SIG.into(),
            digest: "hash".into(),
            digest_alg: DigestAlgorithm::Sha256,
            submitter: "owner".into(),
            kind_field: Some("kind".into()),
            kind: None,
            metadata_field: None,
            metadata_fields: vec![],
        }
    }

    fn stored(hash: B256, owner: Address, kind: &str) -> Log {
        let ev = Event::parse(SIG).unwrap();
        let body = DynSolValue::Tuple(vec![
            DynSolValue::Uint(U256::from(5), 256),
            DynSolValue::String(kind.into()),
        ])
        .abi_encode_params();
        crate::logs::mined_log(LogData::new_unchecked(
            vec![ev.selector(), hash, owner.into_word()],
            body.into(),
        ))
    }

    fn ctx() -> LogContext {
        LogContext {
            block_timestamp: 99,
            tx_from: None,
        }
    }

    #[test]
    fn maps_a_stored_event() {
        let spec = MappedSpec::new(opts()).unwrap();
        let owner = Address::repeat_byte(7);
        let r = spec
            .decode(
                &ChainId::eip155(1),
                &stored(B256::repeat_byte(5), owner, "deed"),
                ctx(),
            )
            .unwrap();
        assert_eq!(r.evidence.digest, B256::repeat_byte(5));
        assert_eq!(r.evidence.submitter, owner);
        assert_eq!(r.evidence.kind.as_str(), "deed");
        assert_eq!(r.evidence.metadata, B256::ZERO);
        assert_eq!(r.source.adapter.as_str(), "mapped");
        assert_eq!(r.source.block_timestamp, 99);
    }

    #[test]
    fn commits_to_named_fields() {
        let mut o = opts();
        o.metadata_fields = vec!["time".into(), "kind".into()];
        let spec = MappedSpec::new(o).unwrap();
        let r = spec
            .decode(
                &ChainId::eip155(1),
                &stored(B256::repeat_byte(5), Address::ZERO, "deed"),
                ctx(),
            )
            .unwrap();
        let want = keccak256(
            DynSolValue::Tuple(vec![
                DynSolValue::Uint(U256::from(5), 256),
                DynSolValue::String("deed".into()),
            ])
            .abi_encode(),
        );
        assert_eq!(r.evidence.metadata, want);
    }

    #[test]
    fn rejects_bad_mappings_naming_the_field() {
        type Edit = Box<dyn Fn(&mut MappedSourceOptions)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|o| o.event = "Stored(bytes32 indexed hash".into()),
                "cannot parse event signature",
            ),
            (
                Box::new(|o| o.digest = "hsh".into()),
                "digest field \"hsh\" is not a field of event Stored",
            ),
            (
                Box::new(|o| o.digest = "owner".into()),
                "digest field \"owner\" has type address indexed; allowed: bytes32",
            ),
            (
                Box::new(|o| o.submitter = "time".into()),
                "submitter field \"time\" has type uint256; allowed: address",
            ),
            (
                Box::new(|o| o.kind_field = Some("hash".into())),
                "kind field \"hash\" has type bytes32 indexed; allowed: string",
            ),
            (Box::new(|o| o.kind = Some("x".into())), "not both"),
            (
                Box::new(|o| o.metadata_field = Some("time".into())),
                "metadata field \"time\" has type uint256; allowed: bytes32",
            ),
            (
                Box::new(|o| o.metadata_fields = vec!["nope".into()]),
                "metadata_fields field \"nope\" is not a field",
            ),
        ];
        for (edit, want) in cases {
            let mut o = opts();
            edit(&mut o);
            let e = MappedSpec::new(o).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(e.contains("\"hashstore\""), "{e}");
        }
    }

    #[test]
    fn quarantines_malformed_logs() {
        let spec = MappedSpec::new(opts()).unwrap();
        let chain = ChainId::eip155(1);
        // Same topic0, one indexed topic missing (differently indexed event).
        let mut log = stored(B256::repeat_byte(5), Address::ZERO, "deed");
        let topics = log.topics()[..2].to_vec();
        log.inner.data = LogData::new_unchecked(topics, log.data().data.clone());
        let q = spec.decode(&chain, &log, ctx()).unwrap_err();
        assert!(
            q.reason.contains("does not match the configured signature"),
            "{}",
            q.reason
        );
        // Garbage body.
        let mut log = stored(B256::repeat_byte(5), Address::ZERO, "deed");
        log.inner.data = LogData::new_unchecked(log.topics().to_vec(), Bytes::from_static(&[1, 2]));
        assert!(spec.decode(&chain, &log, ctx()).is_err());
        // Bad label and zero digest.
        let q = spec
            .decode(
                &chain,
                &stored(B256::repeat_byte(5), Address::ZERO, "two words"),
                ctx(),
            )
            .unwrap_err();
        assert!(q.reason.contains("bad kind label"), "{}", q.reason);
        let q = spec
            .decode(&chain, &stored(B256::ZERO, Address::ZERO, "deed"), ctx())
            .unwrap_err();
        assert!(q.reason.contains("invalid record"), "{}", q.reason);
    }
}
