//! Shared harness for the workspace integration tests.
//!
//! Integration tests (here and, later, the relayer's) drive the real contracts on a real
//! dev node. This crate gives them one way to do it:
//!
//! - [`devchain`]: [`Devchain`] spawns `anvil` (the project's pinned binary, see
//!   [`devchain::anvil_bin`]) on a free port with a chosen chain id, hands out funded
//!   dev-key providers, deploys the contracts, and sends transactions without waiting on
//!   a block-polling interval;
//! - [`contracts`]: the `sol!` bindings (the production ones re-exported, plus the
//!   test-only [`contracts::EvidenceLibHarness`]);
//! - [`records`]: random [`evidence_schemas::EvidenceRecord`]s (plain `rand` and a
//!   proptest strategy) and their Solidity input form;
//! - [`attest`]: attestor keys and EIP-712 checkpoint signatures in the mirror's format;
//! - [`revert`]: decoding the exact custom error a failed call or transaction reverted
//!   with, so a test asserts *which* rule rejected it;
//! - [`rfc6962`]: loading the published RFC 6962 conformance vectors;
//! - [`mirror`]: a deployed `AnchorMirror` with attestors for one source, and
//!   helpers to sign and submit checkpoints of a [`evidence_schemas::log::MerkleLog`];
//! - [`adapter_suite`]: the shared checks every source adapter must pass, over a
//!   [`adapter_suite::SourceFixture`] per adapter;
//! - [`offline_bundles`]: bundles, forgeries and trust roots built with fixed keys
//!   and no chain, for the `bridge verify` tests;
//! - [`faultproxy`]: a fault-injecting JSON-RPC proxy in front of a real node, for the
//!   `faults_*` tests;
//! - [`tsa`]: a real RFC 3161 TSA (OpenSSL `ts`) with certificates made at test time;
//! - [`cpu`]: the cores a benchmark phase kept busy, from `/proc`;
//! - [`gas`]: calldata and intrinsic gas arithmetic for gas measurements.
//!
//! A missing dependency (the anvil binary, the conformance vectors) is an error with the
//! path that was tried and the command that fixes it — never a silent skip.

pub mod adapter_suite;
pub mod attest;
pub mod contracts;
pub mod cpu;
pub mod devchain;
pub mod faultproxy;
pub mod gas;
pub mod mirror;
pub mod offline_bundles;
pub mod records;
pub mod revert;
pub mod rfc6962;
pub mod tsa;

pub use attest::{Attestors, sign_checkpoint};
pub use devchain::{Devchain, decode_events, send_tx, workspace_root};
pub use mirror::MirrorSetup;
pub use revert::{decode_revert, expect_revert};
