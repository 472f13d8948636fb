//! Fuzz target `log_decoders`: see `evidence_fuzz::log_decoders`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evidence_fuzz::log_decoders(data));
