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

    /// Whether the condition will not clear by itself, so retrying the work it
    /// stopped is pointless until an operator acts: a mirror that diverged from our
    /// log, a configuration that cannot work, an adapter's fatal error (see
    /// [`AdapterError::is_fatal`]). The engine stops the route such an error comes
    /// from instead of retrying it; never both this and [`Self::is_retryable`].
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::MirrorDiverged { .. } | Self::Config(_) => true,
            Self::Adapter(e) => e.is_fatal(),
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

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;

    use super::*;

    #[test]
    fn fatal_and_retryable_never_both() {
        let chain = ChainId::eip155(1);
        let diverged = RelayerError::MirrorDiverged {
            source_chain: chain.clone(),
            destination: ChainId::eip155(2),
            size: 3,
            mirror_root: B256::repeat_byte(1),
            our_root: B256::repeat_byte(2),
        };
        assert!(diverged.is_fatal() && !diverged.is_retryable());
        let rpc = RelayerError::Adapter(AdapterError::Rpc {
            chain: chain.clone(),
            message: "connection refused".into(),
        });
        assert!(rpc.is_retryable() && !rpc.is_fatal());
        let lost = RelayerError::LeaseLost {
            lease: "submit:eip155:2".into(),
            epoch: 1,
        };
        assert!(lost.is_retryable() && !lost.is_fatal());
        let wrong = RelayerError::Adapter(AdapterError::WrongChain {
            expected: chain.clone(),
            actual: 5,
        });
        assert!(wrong.is_fatal() && !wrong.is_retryable());
        let reverted = RelayerError::Adapter(AdapterError::Reverted {
            chain,
            reason: "StaleCheckpoint".into(),
        });
        assert!(!reverted.is_fatal() && !reverted.is_retryable());
    }
}
