//! Fuzz target `trust_root`: see `evidence_fuzz::trust_root`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::trust_root(data));
