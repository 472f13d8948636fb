//! `docs/VERIFYING.md` cannot drift: its worked vectors are recomputed here from the
//! fixed test keys, and the sample bundle and trust root in `schemas/json/examples/`
//! are regenerated and verified. Rewrite both after an intended change with
//! `UPDATE_VECTORS=1 cargo test -p evidence-schemas --test verifying_doc`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;

use alloy_primitives::{B256, U256, keccak256};
use alloy_sol_types::SolValue;
use common::*;
use evidence_schemas::{
    EvidenceRecord, ProofBundle,
    attestor_set::SetUpdate,
    checkpoint::{MIRROR_DOMAIN_NAME, MIRROR_DOMAIN_VERSION},
    log::MerkleLog,
    trust::TrustRoot,
};
use sha2::{Digest as _, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn update() -> bool {
    std::env::var_os("UPDATE_VECTORS").is_some()
}

fn sha(parts: &[&[u8]]) -> B256 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    B256::from_slice(&h.finalize())
}

fn hex(b: impl AsRef<[u8]>) -> String {
    format!("0x{}", alloy_primitives::hex::encode(b))
}

/// The log vectors: leaf 1 (the README record) of the sample's 3-leaf log.
fn log_vectors() -> Vec<(&'static str, String)> {
    let records = sample_records();
    let ids: Vec<B256> = records.iter().map(EvidenceRecord::record_id).collect();
    let leaves: Vec<B256> = ids.iter().map(|id| sha(&[&[0u8], id.as_slice()])).collect();
    let node01 = sha(&[&[1u8], leaves[0].as_slice(), leaves[1].as_slice()]);
    let root = sha(&[&[1u8], node01.as_slice(), leaves[2].as_slice()]);
    let log = MerkleLog::from_record_ids(&ids);
    assert_eq!(
        log.root().unwrap(),
        root,
        "the hand-computed root is the log's"
    );
    assert_eq!(
        log.inclusion_proof(1, 3).unwrap(),
        vec![leaves[0], leaves[2]]
    );
    vec![
        ("record_id[0]", ids[0].to_string()),
        ("record_id[1]", ids[1].to_string()),
        ("record_id[2]", ids[2].to_string()),
        ("leaf_hash[0]", leaves[0].to_string()),
        ("leaf_hash[1]", leaves[1].to_string()),
        ("leaf_hash[2]", leaves[2].to_string()),
        ("node[0..2]", node01.to_string()),
        ("root", root.to_string()),
        ("inclusion_proof(1, 3)[0]", leaves[0].to_string()),
        ("inclusion_proof(1, 3)[1]", leaves[2].to_string()),
    ]
}

fn domain_vectors() -> (B256, Vec<(&'static str, String)>) {
    let type_hash = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
    );
    let encoded = (
        type_hash,
        keccak256(MIRROR_DOMAIN_NAME),
        keccak256(MIRROR_DOMAIN_VERSION),
        U256::from(DEST_CHAIN_ID),
        MIRROR,
    )
        .abi_encode();
    let separator = keccak256(&encoded);
    assert_eq!(domain().eip712().separator(), separator);
    (
        separator,
        vec![
            ("domain_type_hash", type_hash.to_string()),
            ("name_hash", keccak256(MIRROR_DOMAIN_NAME).to_string()),
            ("version_hash", keccak256(MIRROR_DOMAIN_VERSION).to_string()),
            ("domain_separator", separator.to_string()),
        ],
    )
}

fn checkpoint_vectors(separator: B256) -> Vec<(&'static str, String)> {
    let (bundle, _) = sample();
    let cp = &bundle.checkpoint;
    let type_hash = keccak256(
        "Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)",
    );
    let encoded = (
        type_hash,
        cp.source_chain.key(),
        U256::from(cp.size),
        cp.root,
        U256::from(cp.source_block_number),
        cp.source_block_hash,
    )
        .abi_encode();
    let struct_hash = keccak256(&encoded);
    let digest = keccak256(
        [
            &[0x19u8, 0x01][..],
            separator.as_slice(),
            struct_hash.as_slice(),
        ]
        .concat(),
    );
    assert_eq!(cp.signing_hash(&domain()), digest);
    let sig = sign(&digest, &key(2));
    assert_eq!(
        bundle
            .signatures
            .iter()
            .find(|s| s.attestor == key(2).address())
            .unwrap()
            .signature,
        sig
    );
    vec![
        ("checkpoint_type_hash", type_hash.to_string()),
        ("source_chain_key", cp.source_chain.key().to_string()),
        ("source_block_hash", cp.source_block_hash.to_string()),
        ("checkpoint_struct_hash", struct_hash.to_string()),
        ("checkpoint_digest", digest.to_string()),
        ("signer (key 0x02…02)", key(2).address().to_checksum(None)),
        ("signature", hex(&sig)),
    ]
}

fn set_update_vectors(separator: B256) -> Vec<(&'static str, String)> {
    let (_, trust) = sample();
    let set = &trust.mirrors[0].sources[0].sets[1];
    let type_hash = keccak256(
        "AttestorSetUpdate(bytes32 sourceChain,uint64 newVersion,address[] attestors,uint8 threshold)",
    );
    let packed: Vec<u8> = set
        .attestors
        .iter()
        .flat_map(|a| [&[0u8; 12][..], a.as_slice()].concat())
        .collect();
    let attestors_hash = keccak256(&packed);
    let encoded = (
        type_hash,
        source_chain().key(),
        U256::from(set.version),
        attestors_hash,
        U256::from(set.threshold),
    )
        .abi_encode();
    let struct_hash = keccak256(&encoded);
    let digest = keccak256(
        [
            &[0x19u8, 0x01][..],
            separator.as_slice(),
            struct_hash.as_slice(),
        ]
        .concat(),
    );
    let update = SetUpdate {
        source_chain: source_chain(),
        new_version: 2,
        attestors: set.attestors.clone(),
        threshold: 2,
    };
    assert_eq!(update.signing_hash(&domain()), digest);
    let sig = sign(&digest, &key(1));
    assert!(set.signatures.contains(&sig));
    let mut v = vec![("set_update_type_hash", type_hash.to_string())];
    let names = ["attestors[0]", "attestors[1]", "attestors[2]"];
    for (name, a) in names.iter().zip(&set.attestors) {
        v.push((name, a.to_checksum(None)));
    }
    v.extend([
        ("attestors_hash", attestors_hash.to_string()),
        ("set_update_struct_hash", struct_hash.to_string()),
        ("set_update_digest", digest.to_string()),
        ("signer (key 0x01…01)", key(1).address().to_checksum(None)),
        ("signature", hex(&sig)),
    ]);
    v
}

fn render(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(n, v)| format!("{n:<width$}  {v}\n"))
        .collect()
}

/// The body of the fenced block after `marker`, and its byte range in `doc`.
fn block(doc: &str, marker: &str) -> (String, std::ops::Range<usize>) {
    let start = doc
        .find(marker)
        .unwrap_or_else(|| panic!("docs/VERIFYING.md lacks marker {marker}"));
    let fence = start
        + doc[start..]
            .find("```")
            .expect("a code block after the marker");
    let body_start = fence + doc[fence..].find('\n').expect("fence line") + 1;
    let body_end = body_start + doc[body_start..].find("```").expect("closing fence");
    (doc[body_start..body_end].to_owned(), body_start..body_end)
}

#[test]
fn worked_vectors_in_verifying_md_match() {
    let (separator, domain) = domain_vectors();
    let blocks = [
        ("<!-- vectors:log -->", render(&log_vectors())),
        ("<!-- vectors:domain -->", render(&domain)),
        (
            "<!-- vectors:checkpoint -->",
            render(&checkpoint_vectors(separator)),
        ),
        (
            "<!-- vectors:set-update -->",
            render(&set_update_vectors(separator)),
        ),
    ];
    let path = root().join("docs/VERIFYING.md");
    let mut doc = std::fs::read_to_string(&path).unwrap();
    let mut drifted = Vec::new();
    for (marker, fresh) in &blocks {
        let (body, range) = block(&doc, marker);
        if &body != fresh {
            if update() {
                doc.replace_range(range, fresh);
            } else {
                drifted.push(format!("{marker}: the doc has\n{body}computed:\n{fresh}"));
            }
        }
    }
    if update() {
        std::fs::write(&path, doc).unwrap();
    }
    assert!(
        drifted.is_empty(),
        "docs/VERIFYING.md vectors drifted (UPDATE_VECTORS=1 rewrites them):\n{}",
        drifted.join("\n")
    );
}

#[test]
fn the_readme_record_is_leaf_one() {
    let readme = std::fs::read_to_string(root().join("schemas/README.md")).unwrap();
    assert!(
        readme.contains(&readme_record().record_id().to_string()),
        "schemas/README.md's record id is the sample's leaf 1"
    );
}

#[test]
fn sample_bundle_and_trust_root_are_committed_and_verify() {
    let (bundle, trust) = sample();
    let dir = root().join("schemas/json/examples");
    let files = [
        (
            "bundle-v3.json",
            serde_json::to_string_pretty(&bundle).unwrap() + "\n",
        ),
        (
            "trust-root.json",
            serde_json::to_string_pretty(&trust).unwrap() + "\n",
        ),
    ];
    for (name, fresh) in &files {
        let path = dir.join(name);
        if update() {
            std::fs::write(&path, fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            &committed, fresh,
            "schemas/json/examples/{name} drifted (UPDATE_VECTORS=1 rewrites it)"
        );
    }
    // Read back exactly as a verifier does: strictly, then every check.
    let bundle = ProofBundle::from_json(&files[0].1).unwrap();
    let trust = TrustRoot::parse(&files[1].1).unwrap();
    bundle.verify_offline().unwrap();
    let trusted = trust.check_bundle(&bundle).unwrap();
    assert_eq!((trusted.version, trusted.pinned_version), (2, 1));
    // No JSON Schema validator is in the tree: at least every required property of the
    // generated schemas is present in the examples.
    for (doc, schema_name) in [
        (&files[0].1, "proof-bundle.v3.schema.json"),
        (&files[1].1, "trust-root.v1.schema.json"),
    ] {
        let value: serde_json::Value = serde_json::from_str(doc).unwrap();
        let schema = evidence_schemas::json_schema::documents()
            .into_iter()
            .find(|(n, _)| *n == schema_name)
            .unwrap()
            .1;
        let schema = serde_json::to_value(&schema).unwrap();
        for required in schema["required"].as_array().unwrap() {
            assert!(
                value.get(required.as_str().unwrap()).is_some(),
                "{schema_name}: {required} missing"
            );
        }
    }
}
