//! # evidence-relayer
//!
//! The chain-agnostic engine of Evidence Bridge. Its stages — index, log, checkpoint,
//! attest, submit — are built on the shared schema (`evidence-schemas`) and the chain
//! adapters (`evidence-adapters`):
//!
//! - [`store`]: the sqlx store (SQLite or PostgreSQL) and its embedded migrations; every stage keeps
//!   its state there, so a `kill -9` at any point resumes correctly;
//! - [`log`]: per source chain, the in-memory RFC 6962 tree rebuilt from the store;
//! - [`stages`]: index (cursor, confirmations, reorgs), checkpoint, attest, submit,
//!   timestamp, watch;
//! - [`runtime`]: what the stages run over (a source chain, a route);
//! - [`alarms`]: stored, counted, logged findings, and the one mirror-divergence check;
//! - [`attestors`]: independent attestors over HTTP (the signing service and the
//!   gathering client);
//! - [`engine`]: schedules the stages concurrently, or one tick at a time for tests;
//! - [`lease`]: several instances on one database share the work through leases;
//! - [`query`]: read-only views for the CLI and the HTTP API (lookup, proof bundles,
//!   status).
//!
//! With the `test-utils` feature, [`testing`] provides in-memory fakes of a source
//! chain (that can reorg) and of a mirror contract (that enforces the mirror's rules).

pub mod alarms;
pub mod attestors;
pub mod engine;
pub mod error;
pub mod lease;
pub mod log;
pub mod pages;
pub mod query;
pub mod runtime;
pub mod stages;
pub mod store;
#[cfg(feature = "test-utils")]
pub mod test_db;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use engine::{Engine, EngineSettings};
pub use error::RelayerError;
pub use lease::ClusterSettings;
pub use query::{
    ChainStatus, CheckpointSummary, DestinationStatus, MirroredOn, RecordState, RecordView,
    SubmissionSummary,
};
pub use runtime::{ChainRuntime, FetchSpan, RouteRuntime};
pub use store::{Route, Store, SubmissionState};

/// Result type of this crate.
pub type Result<T, E = RelayerError> = std::result::Result<T, E>;
