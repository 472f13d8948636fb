//! # evidence-relayer
//!
//! The chain-agnostic engine of Evidence Bridge. Its stages — index, log, checkpoint,
//! attest, submit — are built on the shared schema (`evidence-schemas`) and the chain
//! adapters (`evidence-adapters`).
