//! The committed JSON Schema documents in `schemas/json/` must equal what the Rust
//! types generate. Regenerate with `UPDATE_SCHEMAS=1 cargo test -p evidence-schemas --test json_schemas`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

#[test]
fn committed_json_schemas_match_the_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut drifted = Vec::new();
    for (name, schema) in evidence_schemas::json_schema::documents() {
        let fresh = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == fresh => {}
            Ok(_) => drifted.push(format!("{name} differs from the types")),
            Err(e) => drifted.push(format!("{name} cannot be read: {e}")),
        }
    }
    assert!(
        drifted.is_empty(),
        "JSON schemas drifted: {drifted:?}\nRegenerate with: UPDATE_SCHEMAS=1 cargo test -p evidence-schemas --test json_schemas"
    );
}

#[test]
fn every_schema_is_2020_12() {
    for (name, schema) in evidence_schemas::json_schema::documents() {
        let v = serde_json::to_value(&schema).unwrap();
        assert_eq!(
            v["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
    }
}
