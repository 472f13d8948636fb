//! Fuzz target `config_load`: see `evidence_fuzz::config_load`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::config_load(data));
