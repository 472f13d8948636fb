//! `ProofBundle::from_json` and `verify_offline` reject what an independent verifier
//! written from `docs/VERIFYING.md` rejects: each case names its check, and the shape
//! checks count as malformed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use alloy_primitives::{Address, B256};
use common::*;
use evidence_schemas::{
    Action, ChainId, DigestAlgorithm, EvidenceRecord, Label, ProofBundle,
    bundle::{BundleError, Revocation},
    log::MerkleLog,
    strict_json::DocumentError,
};

fn failure(bundle: &ProofBundle) -> BundleError {
    bundle
        .verify_offline()
        .expect_err("the bundle must be rejected")
}

#[test]
fn the_sample_passes() {
    let (bundle, _) = sample();
    assert_eq!(bundle.verify_offline().unwrap(), addresses(&keys(&[2, 4])));
}

#[test]
fn duplicate_json_keys_are_refused_anywhere() {
    let (bundle, _) = sample();
    let text = serde_json::to_string_pretty(&bundle).unwrap();
    assert_eq!(ProofBundle::from_json(&text).unwrap(), bundle);
    let twice = text.replacen("\"threshold\": 2", "\"threshold\": 1, \"threshold\": 2", 1);
    let err = ProofBundle::from_json(&twice).unwrap_err();
    assert_eq!(
        err,
        DocumentError::DuplicateKey {
            path: "$.destination".into(),
            key: "threshold".into()
        }
    );
    let twice = text.replacen(
        "\"digest_alg\": \"sha256\"",
        "\"digest_alg\": \"sha256\", \"digest_alg\": \"sha256\"",
        1,
    );
    assert!(
        matches!(ProofBundle::from_json(&twice), Err(DocumentError::DuplicateKey { ref path, .. }) if path == "$.record.evidence")
    );
}

#[test]
fn duplicate_attestors_are_malformed() {
    let (mut bundle, _) = sample();
    let a = bundle.destination.attestors[0];
    bundle.destination.attestors = vec![a, a, bundle.destination.attestors[1]];
    let err = failure(&bundle);
    assert!(
        matches!(err, BundleError::Attestors(_))
            && err.is_malformed()
            && err.check() == "attestors",
        "{err}"
    );
    assert!(
        err.to_string().contains(&a.to_string()),
        "names the address: {err}"
    );
}

#[test]
fn threshold_outside_one_to_members_is_malformed() {
    for threshold in [0u8, 4, 255] {
        let (mut bundle, _) = sample();
        bundle.destination.threshold = threshold;
        let err = failure(&bundle);
        assert!(
            matches!(err, BundleError::Attestors(_)) && err.is_malformed(),
            "{threshold}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("threshold {threshold}")),
            "{err}"
        );
    }
    let (mut bundle, _) = sample();
    bundle.destination.attestors.push(Address::ZERO);
    assert!(failure(&bundle).to_string().contains("zero address"));
    let (mut bundle, _) = sample();
    bundle.destination.attestor_set_version = 0;
    assert!(matches!(failure(&bundle), BundleError::Attestors(_)));
}

#[test]
fn destination_chain_ids_must_be_canonical_nonzero_u64() {
    for (chain, needle) in [
        ("eip155:0", "chain id 0"),
        ("eip155:18446744073709551616", "below 2^64"),
        ("eip155:0031338", "leading zeros"),
        ("eip155:abc", "below 2^64"),
        ("cosmos:cosmoshub-4", "not an eip155"),
    ] {
        let (mut bundle, _) = sample();
        bundle.destination.chain = ChainId::parse(chain).unwrap();
        let err = failure(&bundle);
        assert!(
            matches!(err, BundleError::Destination(_)) && err.is_malformed(),
            "{chain}: {err}"
        );
        assert!(err.to_string().contains(needle), "{chain}: {err}");
    }
    let (mut bundle, _) = sample();
    bundle.destination.mirror = Address::ZERO;
    assert!(matches!(failure(&bundle), BundleError::Destination(_)));
}

#[test]
fn mirror_tx_and_mirror_block_come_together() {
    let (mut bundle, _) = sample();
    bundle.destination.mirror_block = None;
    let err = failure(&bundle);
    assert!(
        matches!(err, BundleError::Destination(_))
            && err.to_string().contains("without mirror_block"),
        "{err}"
    );
    let (mut bundle, _) = sample();
    bundle.destination.mirror_tx = None;
    let err = failure(&bundle);
    assert!(err.to_string().contains("without mirror_tx"), "{err}");
    let (mut bundle, _) = sample();
    bundle.destination.mirror_tx = None;
    bundle.destination.mirror_block = None;
    bundle.verify_offline().unwrap();
}

#[test]
fn a_record_after_the_checkpoint_block_is_not_covered() {
    // The record's block 42 is after a checkpoint at source block 41.
    let bundle = bundle_of(
        &sample_records(),
        1,
        41,
        &keys(&[2, 4]),
        addresses(&keys(&[2, 3, 4])),
        2,
        2,
    );
    let err = failure(&bundle);
    assert!(
        matches!(err, BundleError::Checkpoint(_)) && !err.is_malformed(),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("after the checkpoint's source block 41"),
        "{err}"
    );
}

#[test]
fn a_record_in_the_checkpoint_block_needs_the_same_hash() {
    // Checkpoint at block 42 (the record's block), with the fixtures' hash of 42: passes.
    let ok = bundle_of(
        &sample_records()[..2],
        1,
        42,
        &keys(&[2, 4]),
        addresses(&keys(&[2, 3, 4])),
        2,
        2,
    );
    ok.verify_offline().unwrap();
    let mut records = sample_records()[..2].to_vec();
    records[1].source.block_hash = B256::repeat_byte(0x99);
    let bundle = bundle_of(
        &records,
        1,
        42,
        &keys(&[2, 4]),
        addresses(&keys(&[2, 3, 4])),
        2,
        2,
    );
    let err = failure(&bundle);
    assert!(
        matches!(err, BundleError::Checkpoint(_)) && err.to_string().contains("different forks"),
        "{err}"
    );
}

/// A bundle of leaf `anchor` revoked by leaf `revoke` of `records` (all in one log).
fn revoked(records: &[EvidenceRecord], anchor: u64, revoke: u64) -> ProofBundle {
    let mut bundle = bundle_of(
        records,
        anchor,
        60,
        &keys(&[2, 4]),
        addresses(&keys(&[2, 3, 4])),
        2,
        2,
    );
    let ids: Vec<B256> = records.iter().map(EvidenceRecord::record_id).collect();
    let log = MerkleLog::from_record_ids(&ids);
    bundle.revocation = Some(Revocation {
        record: records[revoke as usize].clone(),
        record_id: ids[revoke as usize],
        leaf_index: revoke,
        inclusion_proof: log.inclusion_proof(revoke, log.size()).unwrap(),
    });
    bundle
}

fn revoke_of(anchor: &EvidenceRecord, block: u64) -> EvidenceRecord {
    let mut r = record(
        block,
        0,
        0,
        anchor.evidence.digest,
        anchor.evidence.submitter,
    );
    r.action = Action::Revoke;
    r.reference = Some(anchor.record_id());
    r
}

#[test]
fn a_registry_revocation_after_its_anchor_passes() {
    let mut records = sample_records();
    records.push(revoke_of(&records[1], 50));
    let bundle = revoked(&records, 1, 3);
    bundle.verify_offline().unwrap();
    assert!(bundle.is_revoked());
}

#[test]
fn a_revocation_before_its_anchor_in_log_order_fails() {
    // The revoke is leaf 0 (block 30), its anchor leaf 2.
    let anchor = record(
        45,
        0,
        0,
        DigestAlgorithm::Sha256.digest(b"late"),
        key(9).address(),
    );
    let records = vec![revoke_of(&anchor, 30), sample_records()[1].clone(), anchor];
    let bundle = revoked(&records, 2, 0);
    let err = failure(&bundle);
    assert!(
        matches!(err, BundleError::Revocation(_)) && !err.is_malformed(),
        "{err}"
    );
    assert!(err.to_string().contains("not after its anchor"), "{err}");
}

fn eas(record: &mut EvidenceRecord) {
    record.source.adapter = Label::parse("adapter", "eas").unwrap();
    record.source.contract = Address::repeat_byte(0xea);
    record.evidence.digest_alg = DigestAlgorithm::Keccak256;
    record.evidence.metadata = B256::repeat_byte(0x4d);
}

#[test]
fn an_eas_revocation_repeats_the_anchor_evidence() {
    let mut records = sample_records();
    eas(&mut records[1]);
    let mut rev = revoke_of(&records[1], 50);
    eas(&mut rev);
    records.push(rev.clone());
    revoked(&records, 1, 3).verify_offline().unwrap();
    for field in ["digest", "metadata", "kind", "digest_alg"] {
        let mut records = records.clone();
        let r = &mut records[3];
        match field {
            "digest" => r.evidence.digest = B256::repeat_byte(0xdd),
            "metadata" => r.evidence.metadata = B256::repeat_byte(0x01),
            "kind" => r.evidence.kind = Label::parse("kind", "contract").unwrap(),
            _ => r.evidence.digest_alg = DigestAlgorithm::Sha256,
        }
        let err = failure(&revoked(&records, 1, 3));
        assert!(matches!(err, BundleError::Revocation(_)), "{field}: {err}");
        assert!(
            err.to_string().contains("differs from its anchor's in")
                && err.to_string().contains(field),
            "{field}: {err}"
        );
    }
}

#[test]
fn a_registry_revocation_restates_the_digest_and_comes_from_the_same_contract() {
    // Its kind is the revoker's own label: another kind passes.
    let mut records = sample_records();
    let mut rev = revoke_of(&records[1], 50);
    rev.evidence.kind = Label::parse("kind", "withdrawn").unwrap();
    records.push(rev);
    revoked(&records, 1, 3).verify_offline().unwrap();
    // Metadata: the registry's Revoked event has none.
    let mut records = sample_records();
    let mut rev = revoke_of(&records[1], 50);
    rev.evidence.metadata = B256::repeat_byte(0x01);
    records.push(rev);
    assert!(
        failure(&revoked(&records, 1, 3))
            .to_string()
            .contains("metadata")
    );
    let mut records = sample_records();
    let mut rev = revoke_of(&records[1], 50);
    rev.evidence.digest = B256::repeat_byte(0xdd);
    records.push(rev);
    let err = failure(&revoked(&records, 1, 3));
    assert!(err.to_string().contains("in digest"), "{err}");
    let mut records = sample_records();
    let mut rev = revoke_of(&records[1], 50);
    rev.source.contract = Address::repeat_byte(0x01);
    records.push(rev);
    let err = failure(&revoked(&records, 1, 3));
    assert!(
        err.to_string()
            .contains("only the contract that anchored a record can revoke it"),
        "{err}"
    );
}

#[test]
fn a_revocation_after_the_checkpoint_block_is_not_covered() {
    let mut records = sample_records();
    records.push(revoke_of(&records[1], 61));
    let err = failure(&revoked(&records, 1, 3));
    assert!(
        err.to_string()
            .contains("the revocation is in source block 61"),
        "{err}"
    );
}

#[test]
fn mapped_records_are_never_revoked() {
    let mut records = sample_records();
    records[1].source.adapter = Label::parse("adapter", "mapped").unwrap();
    let mut rev = revoke_of(&records[1], 50);
    rev.source.adapter = records[1].source.adapter.clone();
    records.push(rev);
    let err = failure(&revoked(&records, 1, 3));
    assert!(
        err.to_string()
            .contains("`mapped` adapter are never revoked"),
        "{err}"
    );
}
