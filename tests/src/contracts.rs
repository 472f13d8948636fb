//! Contract bindings used by the tests.
//!
//! The production contracts come from `evidence_adapters::contracts` (generated from the
//! committed artifacts). `EvidenceLibHarness` and `SubtreeLibHarness` are test-only, so
//! their bindings live here.
#![allow(missing_docs, unreachable_pub)]

pub use evidence_adapters::contracts::{AnchorMirror, EvidenceRegistry};

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    EvidenceLibHarness,
    "../deploy/artifacts/EvidenceLibHarness.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    SubtreeLibHarness,
    "../deploy/artifacts/SubtreeLibHarness.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    BulkAnchorer,
    "../deploy/artifacts/BulkAnchorer.json"
);
