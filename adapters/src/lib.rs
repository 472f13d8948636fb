//! # evidence-adapters
//!
//! Everything chain-specific lives here:
//! - [`contracts`]: alloy `sol!` bindings of our contracts, from the committed
//!   artifacts in `deploy/artifacts/`;
//! - [`source`]: the [`EvidenceSource`] trait — records for an inclusive block range;
//! - [`evm_source`]: its one EVM implementation, [`EvmLogSource<D>`], generic over a
//!   [`LogDecoder`]; the adapters [`registry`], [`eas`], [`mapped`] and [`receipts`]
//!   are decoders only, [`multi`] combines sources and [`recheck`] re-reads one
//!   record through the same decoders;
//! - [`mirror`]: the [`MirrorReader`] and [`MirrorSubmitter`] traits — the
//!   destination's `AnchorMirror`;
//! - [`writer`]: [`RegistryWriter`] and [`MirrorAdmin`] — the writing commands' view
//!   of our contracts (EVM: [`evm_writer`]).

mod chain_guard;
pub mod contracts;
pub mod deploy;
pub mod deploy_eas;
pub mod eas;
pub mod error;
pub mod evm_mirror;
pub mod evm_source;
pub mod evm_writer;
mod logs;
pub mod mapped;
pub mod mirror;
pub mod multi;
pub mod receipts;
pub mod recheck;
pub mod redact;
pub mod registry;
pub mod rpc;
pub mod rpc_metrics;
pub mod source;
pub mod writer;

pub use deploy::{
    Deployed, anchor, cancel_owner_rotation, deploy_contracts, execute_owner_rotation,
    propose_owner_rotation, revoke, rotate_attestors, set_attestors,
};
pub use eas::{EasDecoder, EasDigest, EasSchemaMapping, EasSource, EasSourceOptions};
pub use error::AdapterError;
pub use evm_mirror::{EvmMirrorClient, EvmMirrorReader};
pub use evm_source::{
    EvmLogSource, EvmSourceOptions, Finality, LogDecoder, LogFilter, RecordDecoder,
};
pub use evm_writer::{EvmMirrorAdmin, EvmRegistryWriter};
pub use mapped::{MappedSource, MappedSourceOptions};
pub use mirror::{
    MirrorClient, MirrorReader, MirrorState, MirrorSubmitter, PreparedSubmission, TxOutcome,
};
pub use multi::MultiSource;
pub use receipts::{ReceiptsDecoder, ReceiptsSource};
pub use registry::{RegistryDecoder, RegistrySource, RegistrySourceOptions};
pub use rpc::{ChainRpc, RpcConfig};
pub use source::{
    BlockRef, DecodeFailure, EvidenceSource, Quarantined, SourceBatch, SourceState, SourcedRecord,
};
pub use writer::{AnchorReceipt, MirrorAdmin, RegistryWriter};
