//! In-memory fakes for tests (feature `test-utils`), shared with the bridge's tests:
//!
//! - [`FakeChain`] ([`chain`]): an [`EvidenceSource`](evidence_adapters::EvidenceSource)
//!   over a chain of blocks kept in memory, with anchors, revokes and malformed events,
//!   sequence numbers, reorgs of any depth and injectable RPC failures;
//! - [`FakeMirror`] ([`mirror`]): a [`MirrorClient`](evidence_adapters::MirrorClient)
//!   that enforces the `AnchorMirror` rules (size increasing, valid consistency proof,
//!   nonzero root, ≥ threshold sorted signatures of the attestor set), with a mempool,
//!   nonces, fee replacement, dropped transactions, and counters of accepted and
//!   duplicate submissions.

use std::sync::{Mutex, MutexGuard};

pub mod chain;
pub mod mirror;

pub use chain::*;
pub use mirror::*;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
