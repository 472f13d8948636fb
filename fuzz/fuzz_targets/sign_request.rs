//! Fuzz target `sign_request`: see `evidence_fuzz::sign_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::sign_request(data));
