//! Fuzz target `record_roundtrip`: see `evidence_fuzz::record_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::record_roundtrip(data));
