//! The relayer's error type.

use evidence_adapters::AdapterError;
use evidence_schemas::{ChainId, log::LogError};

/// An error in the relayer engine, its store or its queries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayerError {
    /// A chain adapter failed; see [`AdapterError::is_retryable`].
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The database failed.
    #[error("database error: {0}")]
    Store(#[from] sqlx::Error),
    /// The database schema could not be brought up to date.
    #[error("database migration failed: {0} (is the database from a newer version of bridge?)")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The log could not answer (size beyond the log, empty log).
    #[error("log of {chain}: {source}")]
    Log {
        /// Source chain.
        chain: ChainId,
        /// What the log said.
        source: LogError,
    },
    /// A stored value does not parse or contradicts another one.
    #[error("the store holds inconsistent data: {0}")]
    Corrupt(String),
    /// What was asked for does not exist (yet).
    #[error("{0}")]
    NotFound(String),
    /// An attestor key failed to sign.
    #[error("attestor {attestor} could not sign: {message}")]
    Signing {
        /// The attestor's address.
        attestor: alloy::primitives::Address,
        /// What the signer said.
        message: String,
    },
    /// The engine was configured inconsistently.
    #[error("configuration error: {0}")]
    Config(String),
    /// The chain was halted by a reorg below logged records; an operator must act.
    #[error("chain {chain} is halted: {reason}")]
    Halted {
        /// Source chain.
        chain: ChainId,
        /// Why it halted.
        reason: String,
    },
    /// Another instance took this instance's lease over: the write was not made.
    #[error(
        "lease {lease} (epoch {epoch}) is no longer held by this instance: another instance took the work over; \
         nothing was written (this instance will retry once the lease is free)"
    )]
    LeaseLost {
        /// Lease name.
        lease: String,
        /// The epoch this instance held.
        epoch: u64,
    },
    /// A mirror holds a root for our chain that differs from our own log.
    #[error(
        "mirror on {destination} holds root {mirror_root} at size {size} for {source_chain}, \
         but this relayer's log has {our_root}: the logs diverged, refusing to submit"
    )]
    MirrorDiverged {
        /// Source chain.
        source_chain: ChainId,
        /// Destination chain.
        destination: ChainId,
        /// Size compared.
        size: u64,
        /// Root on the mirror.
        mirror_root: alloy::primitives::B256,
        /// Root in our log.
        our_root: alloy::primitives::B256,
    },
}

impl RelayerError {
    /// Whether retrying later may succeed (transient RPC or database contention).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Adapter(e) => e.is_retryable(),
            Self::Store(e) => match e {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
                // SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes;
                // PostgreSQL serialization failures and deadlocks (40001, 40P01) and
                // connection losses (08xxx).
                sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                    c == "40001"
                        || c == "40P01"
                        || c.starts_with("08")
                        || c.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
                }),
                _ => false,
            },
            Self::LeaseLost { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt(what.into())
    }

    pub(crate) fn log(chain: &ChainId, source: LogError) -> Self {
        Self::Log {
            chain: chain.clone(),
            source,
        }
    }
}
