//! Fuzz target `api_params`: see `evidence_fuzz::api_params`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::api_params(data));
