//! `TrustRoot::parse` and `TrustRoot::check_bundle`: every error, and the chains of
//! trust that pass (a pinned set, signed rotations from a pinned set, a pinned
//! owner-installed set).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use alloy_primitives::{Address, Bytes};
use common::*;
use evidence_schemas::{
    ChainId,
    attestor_set::SetAuthorization,
    checkpoint::SignatureError,
    strict_json::DocumentError,
    trust::{TrustError, TrustFileError, TrustRoot},
};
use serde_json::{Value, json};

/// Sets 1 (keys 1-3, 2 of 3, pinned), 2 (keys 2-4, signed by 1, 2), 3 (keys 4-6, 2 of 3,
/// signed by 3, 4 of set 2), and a bundle of set 3 (signed by 5, 6).
fn three_versions() -> (
    Vec<evidence_schemas::trust::TrustedSet>,
    evidence_schemas::ProofBundle,
) {
    let mut v1 = set(1, &keys(&[1, 2, 3]), 2, SetAuthorization::FirstSet);
    v1.pinned = true;
    let v2 = rotation(2, &keys(&[2, 3, 4]), 2, &keys(&[1, 2]));
    let v3 = rotation(3, &keys(&[4, 5, 6]), 2, &keys(&[3, 4]));
    let bundle = bundle_of(
        &sample_records(),
        1,
        50,
        &keys(&[5, 6]),
        addresses(&keys(&[4, 5, 6])),
        2,
        3,
    );
    (vec![v1, v2, v3], bundle)
}

fn text(root: &TrustRoot) -> String {
    serde_json::to_string_pretty(root).unwrap()
}

fn parse_value(v: &Value) -> Result<TrustRoot, TrustFileError> {
    TrustRoot::parse(&v.to_string())
}

#[test]
fn a_pinned_set_is_trusted() {
    let (bundle, root) = sample();
    bundle.verify_offline().unwrap();
    let root = TrustRoot::parse(&text(&root)).unwrap();
    let trusted = root.check_bundle(&bundle).unwrap();
    assert_eq!((trusted.version, trusted.pinned_version), (2, 1));
    assert!(
        trusted
            .describe()
            .contains("reached from pinned version 1 through 1 signed rotation"),
        "{}",
        trusted.describe()
    );
}

#[test]
fn signed_rotations_chain_from_the_pinned_version() {
    let (sets, bundle) = three_versions();
    bundle.verify_offline().unwrap();
    let root = TrustRoot::parse(&text(&trust_root(sets.clone()))).unwrap();
    assert_eq!(root.check_bundle(&bundle).unwrap().pinned_version, 1);
    // A file that starts at a pinned version 2 is enough, too.
    let mut later = sets[1..].to_vec();
    later[0].pinned = true;
    let root = TrustRoot::parse(&text(&trust_root(later))).unwrap();
    assert_eq!(root.check_bundle(&bundle).unwrap().pinned_version, 2);
}

#[test]
fn an_owner_timelock_set_is_trusted_only_when_pinned() {
    let (mut sets, bundle) = three_versions();
    sets[1] = set(2, &keys(&[2, 3, 4]), 2, SetAuthorization::OwnerTimelock);
    let root = TrustRoot::parse(&text(&trust_root(sets.clone()))).unwrap();
    let err = root.check_bundle(&bundle).unwrap_err();
    assert_eq!(
        err,
        TrustError::NotPinned {
            version: 2,
            authorization: SetAuthorization::OwnerTimelock
        }
    );
    assert_eq!(err.check(), "trust_chain");
    assert!(
        err.to_string().contains("owner after the timelock") && err.to_string().contains("pinned"),
        "{err}"
    );
    sets[1].pinned = true;
    let root = TrustRoot::parse(&text(&trust_root(sets))).unwrap();
    assert_eq!(root.check_bundle(&bundle).unwrap().pinned_version, 2);
}

#[test]
fn an_unpinned_first_set_is_not_trusted() {
    let (mut sets, bundle) = three_versions();
    sets[0].pinned = false;
    let root = TrustRoot::parse(&text(&trust_root(sets))).unwrap();
    let err = root.check_bundle(&bundle).unwrap_err();
    assert_eq!(
        err,
        TrustError::NotPinned {
            version: 1,
            authorization: SetAuthorization::FirstSet
        }
    );
}

#[test]
fn a_tampered_rotation_signature_breaks_the_chain() {
    let (mut sets, bundle) = three_versions();
    let mut sig = sets[2].signatures[0].to_vec();
    sig[10] ^= 1;
    sets[2].signatures[0] = Bytes::from(sig);
    let root = TrustRoot::parse(&text(&trust_root(sets))).unwrap();
    let err = root.check_bundle(&bundle).unwrap_err();
    assert!(
        matches!(err, TrustError::RotationSignatures { version: 3, .. }),
        "{err}"
    );
    assert_eq!(err.check(), "trust_chain");
    assert!(err.to_string().contains("version 2"), "{err}");
}

#[test]
fn a_rotation_signed_by_others_or_below_threshold_fails() {
    let (mut sets, bundle) = three_versions();
    // Signed by keys 5 and 6 — members of the NEW set, not of version 2.
    sets[2] = rotation(3, &keys(&[4, 5, 6]), 2, &keys(&[5, 6]));
    let root = TrustRoot::parse(&text(&trust_root(sets.clone()))).unwrap();
    let err = root.check_bundle(&bundle).unwrap_err();
    assert!(
        matches!(
            err,
            TrustError::RotationSignatures {
                version: 3,
                reason: SignatureError::NotAttestor { .. }
            }
        ),
        "{err}"
    );
    // One signature of a 2-of-3 set.
    sets[2] = rotation(3, &keys(&[4, 5, 6]), 2, &keys(&[3]));
    let root = TrustRoot::parse(&text(&trust_root(sets.clone()))).unwrap();
    let err = root.check_bundle(&bundle).unwrap_err();
    assert!(
        matches!(
            err,
            TrustError::RotationSignatures {
                reason: SignatureError::BelowThreshold {
                    got: 1,
                    threshold: 2
                },
                ..
            }
        ),
        "{err}"
    );
    // Signed for another mirror: the domain binds the mirror.
    let mut other = rotation(3, &keys(&[4, 5, 6]), 2, &keys(&[3, 4]));
    let update = evidence_schemas::attestor_set::SetUpdate {
        source_chain: source_chain(),
        new_version: 3,
        attestors: other.attestors.clone(),
        threshold: 2,
    };
    let foreign = evidence_schemas::checkpoint::MirrorDomain {
        chain_id: DEST_CHAIN_ID,
        mirror: Address::repeat_byte(9),
    };
    other.signatures = sign_sorted(&update.signing_hash(&foreign), &keys(&[3, 4]))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    sets[2] = other;
    let root = TrustRoot::parse(&text(&trust_root(sets))).unwrap();
    assert!(matches!(
        root.check_bundle(&bundle).unwrap_err(),
        TrustError::RotationSignatures { version: 3, .. }
    ));
}

#[test]
fn a_signed_rotation_without_its_previous_version_is_not_trusted() {
    let (sets, bundle) = three_versions();
    let root = TrustRoot::parse(&text(&trust_root(sets[2..].to_vec()))).unwrap();
    assert_eq!(
        root.check_bundle(&bundle).unwrap_err(),
        TrustError::MissingPrevious { version: 3 }
    );
}

#[test]
fn lookups_name_what_is_missing() {
    let (sets, bundle) = three_versions();
    let root = trust_root(sets);

    let mut other = bundle.clone();
    other.destination.mirror = Address::repeat_byte(0x42);
    let err = root.check_bundle(&other).unwrap_err();
    assert!(
        matches!(err, TrustError::UnknownMirror { .. }) && err.check() == "trust_mirror",
        "{err}"
    );
    assert!(
        err.to_string().contains(&MIRROR.to_string()),
        "lists the known mirrors: {err}"
    );
    let mut other = bundle.clone();
    other.destination.chain = ChainId::eip155(1);
    assert!(matches!(
        root.check_bundle(&other).unwrap_err(),
        TrustError::UnknownMirror { .. }
    ));

    let mut other = bundle.clone();
    other.checkpoint.source_chain = ChainId::eip155(5);
    let err = root.check_bundle(&other).unwrap_err();
    assert!(
        matches!(err, TrustError::UnknownSource { .. }) && err.check() == "trust_source",
        "{err}"
    );
    assert!(err.to_string().contains("eip155:31337"), "{err}");

    let mut other = bundle.clone();
    other.destination.attestor_set_version = 4;
    let err = root.check_bundle(&other).unwrap_err();
    assert_eq!(
        err,
        TrustError::UnknownVersion {
            source_chain: source_chain(),
            version: 4,
            first: 1,
            last: 3
        }
    );
    assert_eq!(err.check(), "trust_version");
}

#[test]
fn members_and_threshold_must_match_exactly() {
    let (sets, bundle) = three_versions();
    let root = trust_root(sets);
    // The forgery: a self-signed bundle listing two fresh keys as "set version 3".
    let forged = bundle_of(
        &sample_records(),
        1,
        50,
        &keys(&[90, 91]),
        addresses(&keys(&[90, 91])),
        2,
        3,
    );
    forged.verify_offline().unwrap();
    let err = root.check_bundle(&forged).unwrap_err();
    let TrustError::MembersDiffer {
        version: 3,
        only_in_bundle,
        only_in_trust,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(only_in_bundle, &addresses(&keys(&[90, 91])));
    assert_eq!(only_in_trust, &addresses(&keys(&[4, 5, 6])));
    let message = err.to_string();
    for a in only_in_bundle.iter().chain(only_in_trust) {
        assert!(message.contains(&a.to_string()), "names {a}: {message}");
    }
    assert_eq!(err.check(), "trust_members");
    // The order of the members does not matter; their set does.
    let mut reordered = bundle.clone();
    reordered.destination.attestors.reverse();
    root.check_bundle(&reordered).unwrap();
    let mut one_more = bundle.clone();
    one_more.destination.attestors.push(key(7).address());
    assert!(
        matches!(root.check_bundle(&one_more).unwrap_err(), TrustError::MembersDiffer { ref only_in_trust, .. } if only_in_trust.is_empty())
    );
    let mut lower = bundle;
    lower.destination.threshold = 1;
    let err = root.check_bundle(&lower).unwrap_err();
    assert_eq!(
        err,
        TrustError::ThresholdDiffers {
            version: 3,
            bundle: 1,
            trusted: 2
        }
    );
    assert_eq!(err.check(), "trust_members");
}

fn sample_value() -> Value {
    serde_json::to_value(three_versions_root()).unwrap()
}

fn three_versions_root() -> TrustRoot {
    trust_root(three_versions().0)
}

#[test]
fn parse_round_trips_and_rejects_documents_of_another_kind() {
    let root = three_versions_root();
    assert_eq!(TrustRoot::parse(&text(&root)).unwrap(), root);
    assert!(matches!(
        TrustRoot::parse("{"),
        Err(TrustFileError::Document(DocumentError::Syntax(_)))
    ));
    let dup = text(&root).replacen("\"version\": 1,", "\"version\": 1, \"version\": 1,", 1);
    assert!(
        matches!(
            TrustRoot::parse(&dup),
            Err(TrustFileError::Document(DocumentError::DuplicateKey { .. }))
        ),
        "{dup}"
    );
    let mut v = sample_value();
    v["mirrors"][0]["sources"][0]["sets"][0]["comment"] = json!("unknown field");
    assert!(matches!(
        parse_value(&v),
        Err(TrustFileError::Document(DocumentError::Shape { .. }))
    ));
    let mut v = sample_value();
    v["media_type"] = json!("application/json");
    assert!(matches!(
        parse_value(&v),
        Err(TrustFileError::MediaType { .. })
    ));
    let mut v = sample_value();
    v["version"] = json!(2);
    assert_eq!(
        parse_value(&v).unwrap_err(),
        TrustFileError::Version { got: 2 }
    );
    let mut v = sample_value();
    v["mirrors"] = json!([]);
    assert_eq!(parse_value(&v).unwrap_err(), TrustFileError::Empty);
}

#[test]
fn parse_rejects_bad_mirrors_and_sources() {
    for (chain, needle) in [
        ("eip155:0", "chain id 0"),
        ("eip155:007", "leading zeros"),
        ("cosmos:hub", "not an eip155"),
        ("eip155:99999999999999999999", "below 2^64"),
    ] {
        let mut v = sample_value();
        v["mirrors"][0]["chain"] = json!(chain);
        let err = parse_value(&v).unwrap_err();
        assert!(
            matches!(err, TrustFileError::Mirror { .. }) && err.to_string().contains(needle),
            "{chain}: {err}"
        );
    }
    let mut v = sample_value();
    v["mirrors"][0]["mirror"] = json!(Address::ZERO);
    assert!(
        matches!(parse_value(&v), Err(TrustFileError::Mirror { ref reason, .. }) if reason.contains("zero"))
    );
    let mut v = sample_value();
    let m = v["mirrors"][0].clone();
    v["mirrors"].as_array_mut().unwrap().push(m);
    assert!(
        matches!(parse_value(&v), Err(TrustFileError::Mirror { ref reason, .. }) if reason.contains("twice"))
    );
    // A mirror with no source trusts nothing there, and is not an error (an export of a
    // mirror no source has installed a set on yet).
    let mut v = sample_value();
    v["mirrors"][0]["sources"] = json!([]);
    let root = parse_value(&v).unwrap();
    let (_, bundle) = three_versions();
    assert!(matches!(
        root.check_bundle(&bundle),
        Err(TrustError::UnknownSource { .. })
    ));
    let mut v = sample_value();
    let s = v["mirrors"][0]["sources"][0].clone();
    v["mirrors"][0]["sources"].as_array_mut().unwrap().push(s);
    assert!(
        matches!(parse_value(&v), Err(TrustFileError::Source { ref reason, .. }) if reason.contains("twice"))
    );
    let mut v = sample_value();
    v["mirrors"][0]["sources"][0]["sets"] = json!([]);
    assert!(
        matches!(parse_value(&v), Err(TrustFileError::Source { ref reason, .. }) if reason.contains("no attestor set"))
    );
}

fn set_error(edit: impl FnOnce(&mut Value)) -> (u64, String) {
    let mut v = sample_value();
    edit(&mut v["mirrors"][0]["sources"][0]["sets"]);
    match parse_value(&v) {
        Err(TrustFileError::Set {
            version, reason, ..
        }) => (version, reason),
        other => panic!("expected a set error, got {other:?}"),
    }
}

#[test]
fn parse_rejects_bad_sets() {
    let (v, r) = set_error(|s| {
        s.as_array_mut().unwrap().remove(1);
    });
    assert!(v == 3 && r.contains("consecutive"), "{v}: {r}");
    let (_, r) = set_error(|s| s[0]["version"] = json!(0));
    assert!(r.contains("start at 1"), "{r}");
    let (_, r) = set_error(|s| s[2]["effective_block"] = json!(1));
    assert!(r.contains("effective_block"), "{r}");
    let (_, r) = set_error(|s| s[0]["threshold"] = json!(0));
    assert!(r.contains("threshold 0"), "{r}");
    let (_, r) = set_error(|s| s[0]["threshold"] = json!(4));
    assert!(r.contains("threshold 4") && r.contains("1..=3"), "{r}");
    let dup = s_addr(1);
    let (_, r) = set_error(|s| s[0]["attestors"] = json!([dup, dup]));
    assert!(r.contains("twice") && r.contains(&dup.to_string()), "{r}");
    let (_, r) = set_error(|s| s[0]["attestors"] = json!([Address::ZERO, dup]));
    assert!(r.contains("zero address"), "{r}");
    let (_, r) = set_error(|s| s[0]["attestors"] = json!([]));
    assert!(r.contains("empty"), "{r}");
    let (_, r) = set_error(|s| s[1]["authorization"] = json!("first_set"));
    assert!(r.contains("first set is version 1"), "{r}");
    let (_, r) = set_error(|s| s[0]["authorization"] = json!("signed_rotation"));
    assert!(r.contains("never a signed rotation"), "{r}");
    let (_, r) = set_error(|s| s[1]["signatures"] = json!([]));
    assert!(r.contains("none are given"), "{r}");
    let (_, r) = set_error(|s| s[1]["signatures"] = json!(["0x1234"]));
    assert!(r.contains("2 bytes, expected 65"), "{r}");
    let sig = sample_value()["mirrors"][0]["sources"][0]["sets"][1]["signatures"][0].clone();
    let (v, r) = set_error(|s| s[0]["signatures"] = json!([sig]));
    assert!(
        v == 1 && r.contains("only a signed_rotation carries signatures"),
        "{r}"
    );
}

fn s_addr(n: u8) -> Address {
    key(n).address()
}

#[test]
fn the_trust_root_schema_pins_the_format() {
    let schema = evidence_schemas::json_schema::documents()
        .into_iter()
        .find(|(name, _)| *name == "trust-root.v1.schema.json")
        .unwrap()
        .1;
    let v = serde_json::to_value(&schema).unwrap();
    assert_eq!(
        v["properties"]["media_type"]["const"],
        evidence_schemas::trust::TRUST_ROOT_MEDIA_TYPE
    );
    let set = &v["$defs"]["TrustedSet"]["properties"]["threshold"];
    assert_eq!((&set["minimum"], &set["maximum"]), (&json!(1), &json!(255)));
}
