//! What the stages run over: one source chain ([`ChainRuntime`]) and one route
//! ([`RouteRuntime`]). Shared by the stages and the [`Engine`](crate::Engine) that
//! schedules them; this module depends on neither.

use std::sync::Arc;

use evidence_adapters::{EvidenceSource, MirrorClient};
use evidence_schemas::{ChainId, checkpoint::MirrorDomain};

use crate::store::Route;

/// One source chain the engine indexes.
#[derive(Debug, Clone)]
pub struct ChainRuntime {
    /// CAIP-2 id.
    pub chain: ChainId,
    /// The operator's name for it (config key), shown in lookups and status.
    pub name: String,
    /// Where records come from.
    pub source: Arc<dyn EvidenceSource>,
    /// Blocks below the head before a block's records enter the log.
    pub confirmations: u64,
    /// First block to index (on first start).
    pub start_block: u64,
    /// Blocks per fetch.
    pub batch_span: u64,
}

/// One route: the source chain's checkpoints mirrored onto a destination.
#[derive(Debug, Clone)]
pub struct RouteRuntime {
    /// Source chain.
    pub source_chain: ChainId,
    /// Destination chain.
    pub destination_chain: ChainId,
    /// The destination's mirror.
    pub mirror: Arc<dyn MirrorClient>,
    /// EIP-712 domain of that mirror.
    pub domain: MirrorDomain,
}

impl RouteRuntime {
    /// The route's key.
    pub fn route(&self) -> Route {
        Route::new(self.source_chain.clone(), self.destination_chain.clone())
    }
}
