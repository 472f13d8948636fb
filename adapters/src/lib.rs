//! # evidence-adapters
//!
//! Everything chain-specific lives here:
//! - [`contracts`]: alloy `sol!` bindings of our contracts, from the committed
//!   artifacts in `deploy/artifacts/`;
//! - [`source`]: the [`EvidenceSource`] trait — records for an inclusive block range —
//!   and its implementations;
//! - [`mirror`]: the [`MirrorClient`] trait — the destination's `AnchorMirror`.

pub mod contracts;
pub mod error;
pub mod mirror;
pub mod source;

pub use error::AdapterError;
pub use mirror::{MirrorClient, MirrorState, PreparedTx, TxOutcome};
pub use source::{BlockRef, EvidenceSource, Quarantined, SourceBatch, SourcedRecord};
