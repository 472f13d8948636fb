//! The worked test vector in `schemas/README.md` (fields → canonical bytes → record id)
//! must be exactly what this crate computes. Solidity checks the same vector in
//! `tests/tests/contracts_differential.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use evidence_schemas::EvidenceRecord;

fn section<'a>(readme: &'a str, marker: &str) -> &'a str {
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README lacks marker {marker}"));
    let rest = &readme[start + marker.len()..];
    let open = rest.find("```").expect("code block after marker");
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    &body[..body.find("```").expect("closing fence")]
}

/// The README's record, encoding (hex, one 32-byte word per line) and id.
fn readme_vector() -> (EvidenceRecord, Vec<u8>, String) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let record: EvidenceRecord =
        serde_json::from_str(section(&readme, "<!-- vector:record -->")).unwrap();
    if std::env::var_os("PRINT_VECTOR").is_some() {
        for (i, w) in record.canonical_bytes().chunks(32).enumerate() {
            println!("0x{}  word {i}", hex::encode(w));
        }
        println!("{}", record.record_id());
    }
    let mut encoding = Vec::new();
    for line in section(&readme, "<!-- vector:encoding -->").lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        if !word.is_empty() {
            encoding.extend(hex::decode(word.trim_start_matches("0x")).unwrap());
        }
    }
    let id = section(&readme, "<!-- vector:id -->").trim().to_owned();
    (record, encoding, id)
}

#[test]
fn readme_worked_vector_matches() {
    let (record, encoding, id) = readme_vector();
    record.validate().unwrap();
    assert_eq!(encoding.len(), 544);
    assert_eq!(
        hex::encode(record.canonical_bytes()),
        hex::encode(&encoding),
        "canonical encoding differs from README"
    );
    assert_eq!(
        record.record_id().to_string(),
        id,
        "record id differs from README"
    );
}
