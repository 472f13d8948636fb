//! The entry functions of the fuzz targets (`fuzz/fuzz_targets/*.rs`), one per target,
//! each taking the fuzzer's bytes. They are plain functions over the product's own
//! parsers and decoders, so the regression test `tests/tests/fuzz_corpora.rs` replays
//! every committed corpus and crash file through the very same code without libFuzzer
//! (it includes this file with `#[path]`).
//!
//! A panic is a crash. Besides "no panic" each entry asserts what must hold of an input
//! the product accepts: a bundle that verifies offline verifies again after a JSON
//! round trip; a valid record keeps its canonical encoding and id through JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed invariant is the crash the fuzzer looks for

use std::sync::OnceLock;

use alloy::{
    primitives::{Address, B256, Bytes, Log as PrimLog, LogData},
    rpc::types::Log,
};
use evidence_adapters::contracts::eas::EAS;
use evidence_adapters::{
    eas::EasSchemaMapping,
    mapped::{MappedSourceOptions, MappedSpec, spec::LogContext},
    receipts::decode_receipt_log,
    registry::decode_registry_log,
};
use evidence_schemas::{ChainId, EvidenceRecord, ProofBundle, trust::TrustRoot};

/// A target's entry: the fuzzer's bytes in, a panic for a crash.
pub type Entry = fn(&[u8]);

/// Every target's entry, by the target's name.
pub const TARGETS: &[(&str, Entry)] = &[
    ("bundle_verify", bundle_verify),
    ("trust_root", trust_root),
    ("record_roundtrip", record_roundtrip),
    ("config_load", config_load),
    ("log_decoders", log_decoders),
    ("sign_request", sign_request),
    ("api_params", api_params),
];

/// Bundle JSON → `ProofBundle::from_json` → `verify_offline`.
pub fn bundle_verify(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(bundle) = ProofBundle::from_json(text) else {
        return;
    };
    let _ = bundle.mirror_domain();
    let _ = bundle.is_revoked();
    if let Ok(signers) = bundle.verify_offline() {
        let again = serde_json::to_string(&bundle).expect("a parsed bundle serializes");
        let reparsed = ProofBundle::from_json(&again).expect("a serialized bundle parses");
        assert_eq!(
            reparsed.verify_offline().ok(),
            Some(signers),
            "verification changed through a JSON round trip"
        );
    }
}

/// Trust-root JSON → `TrustRoot::parse` → `validate`; after a NUL byte, a bundle checked
/// against it (`check_bundle`).
pub fn trust_root(data: &[u8]) {
    let (root, bundle) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(root) else {
        return;
    };
    let Ok(trust) = TrustRoot::parse(text) else {
        return;
    };
    let _ = trust.validate();
    if let Some(bundle) = bundle
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| ProofBundle::from_json(t).ok())
        && let Ok(signers) = trust.check_bundle(&bundle)
    {
        let _ = signers.describe();
    }
}

/// Record JSON → `EvidenceRecord` → canonical encoding → record id, and back: a valid
/// record's JSON parses to the same record with the same encoding and id.
pub fn record_roundtrip(data: &[u8]) {
    let Ok(record) = serde_json::from_slice::<EvidenceRecord>(data) else {
        return;
    };
    let bytes = record.canonical_bytes();
    let id = record.record_id();
    let _ = record.order_key();
    let _ = record.block_time_rfc3339();
    if record.validate().is_err() {
        return;
    }
    let _ = record.to_sol();
    let json = serde_json::to_vec(&record).expect("a record serializes");
    let back: EvidenceRecord =
        serde_json::from_slice(&json).expect("a serialized valid record parses");
    assert_eq!(back, record, "record changed through JSON");
    assert_eq!(
        back.canonical_bytes(),
        bytes,
        "canonical encoding changed through JSON"
    );
    assert_eq!(back.record_id(), id, "record id changed through JSON");
    back.validate().expect("a valid record stays valid");
}

/// Config TOML → the binary's loader → validation.
pub fn config_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = evidence_bridge::fuzzing::load_config(text);
}

/// API request target (`path?query`) → the handlers' path and page-parameter parsers.
pub fn api_params(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = evidence_bridge::fuzzing::api_params(text);
}

/// Bytes consumed front to back; missing bytes read as zero.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        let mut v = a.to_vec();
        v.resize(n.max(v.len()), 0);
        v
    }
    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    fn u64(&mut self) -> u64 {
        let mut b = self.take(8);
        b.resize(8, 0);
        u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
    }
    fn word(&mut self) -> B256 {
        let mut b = self.take(32);
        b.resize(32, 0);
        B256::from_slice(&b)
    }
    fn address(&mut self) -> Address {
        let mut b = self.take(20);
        b.resize(20, 0);
        Address::from_slice(&b)
    }
    /// A length-prefixed (one byte) string.
    fn text(&mut self) -> String {
        let n = usize::from(self.byte());
        String::from_utf8_lossy(&self.take(n)).into_owned()
    }
    fn rest(&mut self) -> Vec<u8> {
        let n = self.0.len();
        self.take(n)
    }
}

/// Field types a mapped event may declare (allowed and refused ones alike).
const TYPES: &[&str] = &[
    "bytes32",
    "address",
    "uint256",
    "string",
    "bytes",
    "uint8",
    "bool",
    "int256",
    "bytes32[]",
    "(uint256,bytes32)",
    "uint64",
    "bytes4",
    "string[]",
    "address[2]",
];

/// An arbitrary mapped-event signature and mapping, from `r`: either a raw signature
/// string or one built of typed fields, with the digest, submitter, kind and metadata
/// fields named from them.
fn mapped_options(r: &mut Reader<'_>, contract: Address) -> MappedSourceOptions {
    let mode = r.byte();
    let fields = usize::from(r.byte() % 6);
    let mut names = Vec::new();
    let event = if mode.is_multiple_of(4) {
        r.text()
    } else {
        let mut parts = Vec::new();
        for i in 0..fields {
            let t = TYPES[usize::from(r.byte()) % TYPES.len()];
            let indexed = if r.byte().is_multiple_of(2) {
                " indexed"
            } else {
                ""
            };
            names.push(format!("f{i}"));
            parts.push(format!("{t}{indexed} f{i}"));
        }
        format!("Ev{}({})", r.byte() % 4, parts.join(", "))
    };
    let pick = |r: &mut Reader<'_>| -> String {
        match r.byte() {
            250..=255 => r.text(),
            b if !names.is_empty() => names[usize::from(b) % names.len()].clone(),
            _ => "f0".into(),
        }
    };
    let digest = pick(r);
    let submitter = if r.byte().is_multiple_of(3) {
        "tx.from".into()
    } else {
        pick(r)
    };
    let kind_field = (r.byte().is_multiple_of(3)).then(|| pick(r));
    let kind = (kind_field.is_none() && r.byte().is_multiple_of(2)).then(|| r.text());
    let metadata_field = (r.byte().is_multiple_of(3)).then(|| pick(r));
    let metadata_fields = if metadata_field.is_none() && r.byte().is_multiple_of(2) {
        vec![pick(r), pick(r)]
    } else {
        Vec::new()
    };
    MappedSourceOptions {
        name: "fuzz".into(),
        contract,
        event,
        digest,
        digest_alg: evidence_schemas::DigestAlgorithm::Sha256,
        submitter,
        kind_field,
        kind,
        metadata_field,
        metadata_fields,
    }
}

/// Arbitrary topics and data through the registry, receipts (mirror), EAS and mapped
/// decoders; the mapped spec's event signature is arbitrary too.
pub fn log_decoders(data: &[u8]) {
    let mut r = Reader(data);
    let chain = ChainId::eip155(1 + r.u64() % 100_000);
    let contract = r.address();
    let opts = mapped_options(&mut r, contract);
    let spec = MappedSpec::new(opts).ok();
    let topic_count = usize::from(r.byte() % 6);
    let mut topics: Vec<B256> = (0..topic_count).map(|_| r.word()).collect();
    // Often aim at a real event, so the decoders get past topic0.
    let aim = r.byte();
    let known = [
        evidence_adapters::registry::registry_event_signatures()[0],
        evidence_adapters::registry::registry_event_signatures()[1],
        <evidence_adapters::contracts::AnchorMirror::CheckpointAccepted as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
        <EAS::Attested as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
        <EAS::Revoked as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
    ];
    if let Some(first) = topics.first_mut() {
        match aim % 8 {
            n @ 0..=4 => *first = known[usize::from(n)],
            5 => {
                if let Some(s) = &spec {
                    *first = s.topic0();
                }
            }
            _ => {}
        }
    }
    let block_number = (!r.byte().is_multiple_of(4)).then(|| r.u64());
    let block_timestamp = r.u64();
    let log_index = (!r.byte().is_multiple_of(4)).then(|| r.u64());
    let removed = r.byte().is_multiple_of(8);
    let tx_from = (r.byte().is_multiple_of(2)).then(|| r.address());
    let body = Bytes::from(r.rest());
    let Some(log_data) = LogData::new(topics, body) else {
        return;
    };
    let log = Log {
        inner: PrimLog {
            address: contract,
            data: log_data,
        },
        block_hash: Some(B256::with_last_byte(1)),
        block_number,
        block_timestamp: None,
        transaction_hash: Some(B256::with_last_byte(2)),
        transaction_index: Some(0),
        log_index,
        removed,
    };
    if let Ok(ev) = decode_registry_log(&chain, &log, block_timestamp) {
        ev.record
            .validate()
            .expect("a decoded registry record is valid");
    }
    if let Ok(rec) = decode_receipt_log(&chain, &log, block_timestamp) {
        rec.validate().expect("a decoded receipt record is valid");
    }
    if let Ok(ev) = evidence_adapters::eas::decode_event(&log) {
        let att = EAS::Attestation {
            uid: ev.uid,
            schema: ev.schema,
            time: block_timestamp,
            expirationTime: 0,
            revocationTime: 0,
            refUID: B256::ZERO,
            recipient: Address::ZERO,
            attester: contract,
            revocable: true,
            data: log.data().data.clone(),
        };
        let word = evidence_adapters::eas::EasDigest::Word {
            index: u32::try_from(block_timestamp % 1_000).unwrap_or(0),
            alg: evidence_schemas::DigestAlgorithm::Sha256,
        };
        for mapping in [
            EasSchemaMapping::default_for(ev.schema),
            EasSchemaMapping {
                digest: word,
                ..EasSchemaMapping::default_for(ev.schema)
            },
        ] {
            if let Ok(rec) =
                evidence_adapters::eas::anchor_record(&chain, &log, block_timestamp, &att, &mapping)
            {
                rec.validate().expect("a normalized EAS record is valid");
                let _ = evidence_adapters::eas::revoke_record(&chain, &log, block_timestamp, &rec);
            }
        }
    }
    if let Some(spec) = spec {
        let ctx = LogContext {
            block_timestamp,
            tx_from,
        };
        if let Ok(rec) = spec.decode(&chain, &log, ctx) {
            rec.validate().expect("a decoded mapped record is valid");
        }
    }
}

/// A real attestor service over a SQLite store with a small indexed log of a fake
/// chain, built once per process (the target's state).
struct Attestor {
    runtime: tokio::runtime::Runtime,
    service: evidence_relayer::attestors::AttestorService,
    _dir: std::path::PathBuf,
}

/// The fake source chain and destination of [`attestor`] (the seeds use them).
pub const SIGN_SOURCE: u64 = 31_337;
/// See [`SIGN_SOURCE`].
pub const SIGN_DESTINATION: u64 = 31_338;
/// The fake mirror's address.
pub const SIGN_MIRROR: Address = Address::repeat_byte(0xaa);

fn attestor() -> &'static Attestor {
    static SERVICE: OnceLock<Attestor> = OnceLock::new();
    SERVICE.get_or_init(|| {
        use evidence_relayer::{
            ChainRuntime, Engine, EngineSettings, RouteRuntime, Store, testing,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = std::env::temp_dir().join(format!("eb-fuzz-sign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("store.db").display());
        let service = runtime.block_on(async {
            let source = ChainId::eip155(SIGN_SOURCE);
            let chain = testing::FakeChain::new(source.clone());
            chain.mine_anchors(3);
            chain.mine_anchors(2);
            chain.mine_empty(2);
            let mirror = testing::FakeMirror::new(SIGN_DESTINATION, SIGN_MIRROR);
            let store = Store::connect(&url).await.expect("store");
            let chains = vec![ChainRuntime {
                chain: source.clone(),
                name: "court".into(),
                source: chain,
                confirmations: 1,
                start_block: 1,
                batch_span: 10,
                fetch_span: Default::default(),
            }];
            let routes = vec![RouteRuntime {
                source_chain: source.clone(),
                destination_chain: ChainId::eip155(SIGN_DESTINATION),
                domain: mirror.domain(),
                mirror,
            }];
            let key = alloy::signers::local::PrivateKeySigner::from_bytes(&B256::with_last_byte(7))
                .expect("key");
            let engine = Engine::new(store, chains, routes, vec![key], EngineSettings::default())
                .await
                .expect("engine");
            engine.tick_index(&source).await.expect("index");
            engine.attestor_service()
        });
        Attestor {
            runtime,
            service,
            _dir: dir,
        }
    })
}

/// Attestor sign-request body → the endpoint's JSON parse → the real service's
/// decision (over a small indexed log).
pub fn sign_request(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<evidence_relayer::attestors::SignRequest>(data)
    else {
        return;
    };
    let a = attestor();
    let _ = a.runtime.block_on(a.service.sign(&request));
}
