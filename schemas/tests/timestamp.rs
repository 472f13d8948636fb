//! The RFC 3161 verifier against tokens made by OpenSSL's TSA at test time
//! (`openssl ts -reply`, certificates generated in a temporary directory), checked by
//! `openssl ts -verify` too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/src/tsa.rs"]
mod tsa;

use alloy_primitives::B256;
use evidence_schemas::timestamp::{
    TimestampError, TsaRoots, build_request, imprint_of, verify_response, verify_token,
};
use tsa::{OpensslTsa, TsaOptions, openssl_verify_token};

const NONCE: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];

fn hash(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn roots(tsa: &OpensslTsa) -> TsaRoots {
    TsaRoots::from_pem(&tsa.ca_pem()).unwrap()
}

fn token_for(tsa: &OpensslTsa, signing_hash: &B256) -> Vec<u8> {
    let imprint = imprint_of(signing_hash);
    let reply = tsa.reply(&build_request(&imprint, &NONCE).unwrap());
    verify_response(&reply, &imprint, &NONCE, &roots(tsa))
        .unwrap()
        .0
}

fn check_valid(options: TsaOptions) {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(&dir.path().join("tsa"), "Unit TSA", options);
    let signing_hash = hash(0xab);
    let imprint = imprint_of(&signing_hash);
    let reply = tsa.reply(&build_request(&imprint, &NONCE).unwrap());
    let (token, time) = verify_response(&reply, &imprint, &NONCE, &roots(&tsa)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        time.gen_time.abs_diff(now) < 120,
        "genTime {} vs now {now}",
        time.gen_time
    );
    assert!(
        time.tsa_subject.contains("CN=Unit TSA"),
        "{}",
        time.tsa_subject
    );
    assert_eq!(time.policy, "1.3.6.1.4.1.99999.1");
    // The stored token verifies offline, with our verifier and with OpenSSL's.
    assert_eq!(verify_token(&token, &imprint, &roots(&tsa)).unwrap(), time);
    openssl_verify_token(
        &dir.path().join("v"),
        &token,
        signing_hash.as_slice(),
        &tsa.ca_cert,
    )
    .unwrap();
    // The TSA certificate itself may be the configured root.
    let own = TsaRoots::from_pem(&std::fs::read_to_string(&tsa.tsa_cert).unwrap()).unwrap();
    assert_eq!(
        verify_token(&token, &imprint, &own).unwrap().gen_time,
        time.gen_time
    );
}

#[test]
fn ec_p256_token_verifies_with_ours_and_openssl() {
    check_valid(TsaOptions::default());
}

#[test]
fn rsa_token_verifies_with_ours_and_openssl() {
    check_valid(TsaOptions {
        rsa: true,
        ..TsaOptions::default()
    });
}

#[test]
fn our_query_is_read_by_openssl_and_its_query_has_our_imprint() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(dir.path(), "Q TSA", TsaOptions::default());
    let req = build_request(&imprint_of(&hash(1)), &NONCE).unwrap();
    std::fs::write(dir.path().join("ours.tsq"), &req).unwrap();
    let text = tsa::openssl(dir.path(), &["ts", "-query", "-in", "ours.tsq", "-text"]);
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("Certificate required: yes"), "{text}");
    assert!(text.contains("Nonce: 0x1122334455667788"), "{text}");
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    // A query OpenSSL made itself over a file of the 32 hash bytes has our imprint: the
    // TSA's reply to it verifies against `imprint_of` (its nonce is OpenSSL's own).
    let data = dir.path().join("hash.bin");
    std::fs::write(&data, hash(1).as_slice()).unwrap();
    let token = tsa.reply(&tsa.openssl_query(&data));
    let e = verify_response(&token, &imprint_of(&hash(1)), &NONCE, &roots(&tsa)).unwrap_err();
    assert!(
        matches!(e, TimestampError::Nonce(_)),
        "same imprint, OpenSSL's nonce: {e}"
    );
}

#[test]
fn wrong_imprint_nonce_and_root_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(&dir.path().join("a"), "A TSA", TsaOptions::default());
    let other = OpensslTsa::create(&dir.path().join("b"), "B TSA", TsaOptions::default());
    let imprint = imprint_of(&hash(2));
    let reply = tsa.reply(&build_request(&imprint, &NONCE).unwrap());

    let e = verify_response(&reply, &imprint_of(&hash(3)), &NONCE, &roots(&tsa)).unwrap_err();
    assert!(matches!(e, TimestampError::Imprint(_)), "{e}");
    assert_eq!(e.check(), "imprint");

    let e = verify_response(&reply, &imprint, &[0x01, 0x02], &roots(&tsa)).unwrap_err();
    assert!(matches!(e, TimestampError::Nonce(_)), "{e}");

    let e = verify_response(&reply, &imprint, &NONCE, &roots(&other)).unwrap_err();
    assert!(matches!(e, TimestampError::Chain(_)), "{e}");
    assert!(e.to_string().contains("check `chain` failed"), "{e}");

    let e = verify_token(&token_for(&tsa, &hash(2)), &imprint, &TsaRoots::default()).unwrap_err();
    assert!(matches!(e, TimestampError::Chain(_)), "{e}");
}

#[test]
fn expired_tsa_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(
        dir.path(),
        "Old TSA",
        TsaOptions {
            expired: true,
            ..TsaOptions::default()
        },
    );
    let imprint = imprint_of(&hash(4));
    let reply = tsa.reply(&build_request(&imprint, &NONCE).unwrap());
    let e = verify_response(&reply, &imprint, &NONCE, &roots(&tsa)).unwrap_err();
    assert!(matches!(e, TimestampError::Validity(_)), "{e}");
    assert!(e.to_string().contains("not at the token's time"), "{e}");
}

#[test]
fn altered_tokens_and_garbage_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(dir.path(), "Alt TSA", TsaOptions::default());
    let imprint = imprint_of(&hash(5));
    let token = token_for(&tsa, &hash(5));
    // Flip each byte of the token in turn: never accepted — except within the CA
    // certificate the TSA ships in the token, which the configured root supersedes
    // (OpenSSL, too, builds the chain from its trusted root).
    let ca_der = tsa::openssl(dir.path(), &["x509", "-in", "ca.crt", "-outform", "DER"]);
    let ca_at = token
        .windows(ca_der.len())
        .position(|w| w == ca_der)
        .unwrap();
    let shipped_ca = ca_at..ca_at + ca_der.len();
    for i in (0..token.len()).filter(|i| !shipped_ca.contains(i)) {
        let mut bad = token.clone();
        bad[i] ^= 0x01;
        assert!(
            verify_token(&bad, &imprint, &roots(&tsa)).is_err(),
            "byte {i} flipped was accepted"
        );
    }
    // The nonce inside the TSTInfo, changed: the message digest no longer matches.
    let pos = token.windows(NONCE.len()).position(|w| w == NONCE).unwrap();
    let mut bad = token.clone();
    bad[pos] ^= 0x01;
    let e = verify_token(&bad, &imprint, &roots(&tsa)).unwrap_err();
    assert!(matches!(e, TimestampError::Signature(_)), "{e}");

    for garbage in [&b""[..], b"garbage", &[0x30, 0x03, 0x02, 0x01, 0x02]] {
        let e = verify_response(garbage, &imprint, &NONCE, &roots(&tsa)).unwrap_err();
        assert!(e.is_malformed(), "{e}");
        assert!(
            verify_token(garbage, &imprint, &roots(&tsa))
                .unwrap_err()
                .is_malformed()
        );
    }
    assert!(TsaRoots::from_pem("not a pem").unwrap_err().is_malformed());
}

#[test]
fn rejection_status_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(dir.path(), "Rej TSA", TsaOptions::default());
    // OpenSSL's TSA refuses a SHA-1 imprint (its config accepts only sha256).
    let data = dir.path().join("d.bin");
    std::fs::write(&data, b"x").unwrap();
    let q = tsa::openssl(
        dir.path(),
        &["ts", "-query", "-data", "d.bin", "-sha1", "-cert"],
    );
    let reply = tsa.reply(&q);
    let e = verify_response(&reply, &imprint_of(&hash(6)), &NONCE, &roots(&tsa)).unwrap_err();
    assert!(matches!(e, TimestampError::Status(_)), "{e}");
    assert!(e.to_string().contains("Rejection"), "{e}");
}

#[path = "common/mod.rs"]
mod common;

#[test]
fn bundle_timestamps_verify_against_the_trust_roots_tsa_roots() {
    use evidence_schemas::{
        bundle::BundleError,
        timestamp::Timestamp,
        trust::{TrustFileError, TrustRoot, TrustedTsa},
    };
    let dir = tempfile::tempdir().unwrap();
    let tsa = OpensslTsa::create(dir.path(), "Bundle TSA", TsaOptions::default());
    let (mut bundle, mut trust) = common::sample();
    let imprint = imprint_of(&bundle.timestamped_hash().unwrap());
    let reply = tsa.reply(&build_request(&imprint, &NONCE).unwrap());
    let (token, time) = verify_response(&reply, &imprint, &NONCE, &roots(&tsa)).unwrap();
    bundle.timestamps.push(Timestamp {
        tsa: "bundle-tsa".into(),
        token,
        gen_time: time.gen_time,
    });
    bundle.verify_offline().unwrap();

    // The roots come from the trust root's `tsa_roots` (which round-trips strictly).
    trust.tsa_roots.push(TrustedTsa {
        name: "bundle-tsa".into(),
        certificate_pem: tsa.ca_pem(),
    });
    let trust = TrustRoot::parse(&serde_json::to_string(&trust).unwrap()).unwrap();
    let results = bundle
        .verify_timestamps(&trust.tsa_roots().unwrap())
        .unwrap();
    assert_eq!(results, [Ok(time.clone())]);

    // A bundle whose `gen_time` is not the token's, or a token over another checkpoint.
    let mut shifted = bundle.clone();
    shifted.timestamps[0].gen_time += 1;
    let e = shifted.verify_timestamps(&roots(&tsa)).unwrap()[0]
        .clone()
        .unwrap_err();
    assert_eq!(e.check(), "gen_time", "{e}");
    let mut other = bundle.clone();
    other.checkpoint.source_block_number += 1;
    let e = other.verify_timestamps(&roots(&tsa)).unwrap()[0]
        .clone()
        .unwrap_err();
    assert_eq!(e.check(), "imprint", "{e}");

    // Version 1 and 2 bundles carry no timestamps.
    let mut v2 = bundle.clone();
    v2.version = 2;
    assert!(matches!(v2.verify_offline(), Err(BundleError::Version(2))));
    v2.timestamps.clear();
    v2.verify_offline().unwrap();

    // A trust root whose TSA entry is not a certificate is refused by name.
    let mut bad = serde_json::to_value(&trust).unwrap();
    bad["tsa_roots"][0]["certificate_pem"] = "not a certificate".into();
    let e = TrustRoot::parse(&bad.to_string()).unwrap_err();
    assert!(matches!(e, TrustFileError::Tsa { .. }), "{e}");
}
