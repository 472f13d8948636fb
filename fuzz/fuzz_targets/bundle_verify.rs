//! Fuzz target `bundle_verify`: see `evidence_fuzz::bundle_verify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::bundle_verify(data));
