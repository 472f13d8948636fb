//! # evidence-schemas
//!
//! The shared vocabulary of Evidence Bridge. Every other crate — adapters, the relayer,
//! the binary — and any outside verifier agree on evidence through this crate alone:
//!
//! - [`record`]: the normalized [`EvidenceRecord`] (v1), its canonical Solidity-ABI
//!   encoding and its record id (`sha256` of that encoding);
//! - [`digest`]: the digest algorithms (sha256, keccak256, sm3) and streaming file hashing;
//! - [`chain`]: CAIP-2 chain identifiers;
//! - [`log`]: the RFC 6962 transparency log over record ids, with inclusion, subtree and
//!   consistency proofs;
//! - [`checkpoint`]: signed checkpoints of a log and their EIP-712 typed-data hashes;
//! - [`attestor_set`]: attestor-set changes (signed rotations, the owner's timelock);
//! - [`bundle`]: the self-contained proof bundle and its offline verification;
//! - [`timestamp`]: RFC 3161 trusted timestamps over checkpoints, checked offline;
//! - [`trust`]: the trust root an offline verifier pins (attestor sets per mirror);
//! - [`strict_json`]: strict JSON reading (no key twice in an object);
//! - [`json_schema`]: the JSON Schema documents generated from these types.
//!
//! The crate is pure: no async runtime, no database, no network. Hashing rules defined
//! here are part of every proof ever issued; they change only with a new version.

pub mod attestor_set;
pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod digest;
pub mod error;
pub mod json_schema;
pub mod log;
pub mod record;
mod serde_time;
pub mod strict_json;
pub mod timestamp;
pub mod trust;

pub use alloy_primitives::{Address, B256};
pub use bundle::ProofBundle;
pub use chain::ChainId;
pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use digest::{Digest32, DigestAlgorithm};
pub use error::SchemaError;
pub use record::{Action, Evidence, EvidenceRecord, Label, RecordId, SourceLocator};
/// Unix seconds as RFC 3339 UTC text (`2026-12-01T12:00:00Z`), as the schema writes times.
pub use serde_time::to_rfc3339 as unix_to_rfc3339;
