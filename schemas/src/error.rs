//! Validation errors for the shared schema.

/// A value that does not fit the shared schema.
///
/// Every variant names the field that was wrong and carries the offending value, so a
/// person reading the message knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A hex field was not valid hex or had the wrong length.
    #[error("{field}: expected {expected_bytes} bytes of 0x-prefixed hex, got {value:?}")]
    BadHex {
        /// Which field.
        field: &'static str,
        /// How many bytes were expected.
        expected_bytes: usize,
        /// The value given (truncated when long).
        value: String,
    },
    /// An unknown digest algorithm name or code.
    #[error("unknown digest algorithm {value:?}: use one of sha256, keccak256, sm3")]
    UnknownDigestAlgorithm {
        /// The value given.
        value: String,
    },
    /// An unknown action name or code.
    #[error("unknown action {value:?}: use anchor or revoke")]
    UnknownAction {
        /// The value given.
        value: String,
    },
    /// A chain id that is not a valid CAIP-2 identifier.
    #[error("bad CAIP-2 chain id {value:?}: {reason} (expected e.g. \"eip155:1\")")]
    BadChainId {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A short label (kind, adapter name) that is too long or has forbidden characters.
    #[error("{field}: bad label {value:?}: {reason}")]
    BadLabel {
        /// Which field.
        field: &'static str,
        /// The value given (truncated when long).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A record whose fields contradict each other.
    #[error("inconsistent record: {0}")]
    Inconsistent(&'static str),
    /// A digest of zero bytes, which never identifies evidence.
    #[error("{field}: a zero digest never identifies evidence")]
    ZeroDigest {
        /// Which field.
        field: &'static str,
    },
    /// An unsupported schema version.
    #[error("unsupported {what} version {got}: this build reads version {supported}")]
    UnsupportedVersion {
        /// What document.
        what: &'static str,
        /// The version found.
        got: u64,
        /// The version supported.
        supported: u64,
    },
}

/// Shortens a user-supplied value for an error message.
pub(crate) fn clip(value: &str) -> String {
    const MAX: usize = 80;
    if value.len() <= MAX {
        value.to_owned()
    } else {
        let mut end = MAX;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &value[..end])
    }
}
