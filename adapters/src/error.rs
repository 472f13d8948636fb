//! Errors at the chain boundary.

use evidence_schemas::ChainId;

/// An error talking to, or reading from, a chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The RPC transport or node failed (connection refused, timeout, 5xx, JSON-RPC
    /// error). Usually worth retrying, possibly on another endpoint.
    #[error("{chain}: RPC error: {message}")]
    Rpc {
        /// The chain.
        chain: ChainId,
        /// What the node or transport said.
        message: String,
    },
    /// The node refused a log query as too large; retry with a smaller block span.
    #[error("{chain}: log query for blocks {from}..={to} too large: {message}")]
    RangeTooLarge {
        /// The chain.
        chain: ChainId,
        /// First block asked for.
        from: u64,
        /// Last block asked for.
        to: u64,
        /// What the node said.
        message: String,
    },
    /// The node's answer was incomplete or inconsistent (e.g. a gap in the registry's
    /// sequence numbers). Never skipped: the range is fetched again.
    #[error("{chain}: inconsistent data for blocks {from}..={to}: {message}")]
    Inconsistent {
        /// The chain.
        chain: ChainId,
        /// First block.
        from: u64,
        /// Last block.
        to: u64,
        /// What was wrong.
        message: String,
    },
    /// The node serves another chain than configured.
    #[error(
        "RPC endpoint serves chain id {actual}, but the configuration says {expected}: fix the chain's rpc URLs or its chain id"
    )]
    WrongChain {
        /// Configured chain.
        expected: ChainId,
        /// Chain the node reports.
        actual: u64,
    },
    /// A block the caller asked for does not exist (yet).
    #[error("{chain}: block {number} not found")]
    BlockNotFound {
        /// The chain.
        chain: ChainId,
        /// The block.
        number: u64,
    },
    /// A transaction reverted; `reason` is the decoded custom error when known.
    #[error("{chain}: transaction reverted: {reason}")]
    Reverted {
        /// The chain.
        chain: ChainId,
        /// Decoded revert reason.
        reason: String,
    },
    /// The transaction's nonce was taken by another mined transaction of the same
    /// sender (a replacement, or another process using the key): this one can never be
    /// mined.
    #[error(
        "{chain}: transaction {hash} can never be mined: its nonce {nonce} was used by another mined transaction of the sender (a replacement of it, or another process using the same key); check the receipts of its replacements, else prepare a new submission"
    )]
    NonceUsed {
        /// The chain.
        chain: ChainId,
        /// The transaction that cannot be mined.
        hash: alloy::primitives::B256,
        /// Its nonce.
        nonce: u64,
    },
    /// A misconfiguration found at start-up (bad URL, bad key, bad mapping).
    #[error("configuration error: {0}")]
    Config(String),
    /// The adapter does not support this capability.
    #[error("{adapter}: {what} is not supported by this adapter")]
    Unsupported {
        /// Adapter name.
        adapter: String,
        /// The capability.
        what: &'static str,
    },
}

impl AdapterError {
    /// Whether retrying the same call later (or elsewhere) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Rpc { .. }
                | Self::RangeTooLarge { .. }
                | Self::Inconsistent { .. }
                | Self::BlockNotFound { .. }
        )
    }

    /// Whether retrying cannot help until the configuration changes: the node serves
    /// another chain, or the adapter was configured so that the call cannot work (e.g.
    /// an instance without a key asked to submit). Never both this and
    /// [`Self::is_retryable`].
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::WrongChain { .. } | Self::Config(_))
    }
}
