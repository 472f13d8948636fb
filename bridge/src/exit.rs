//! What a command's failure means for the exit code.

use std::fmt;

/// A command failure with its exit code: 1 not found / verification failed / work
/// failed, 2 bad input or configuration; `verify` also uses 3 (the record is revoked)
/// 4 (the signer set is not pinned) and 5 (could not check: a chain did not answer),
/// see `commands::verify`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// Bad input or configuration (exit 2).
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self {
            code: 2,
            message: message.to_string(),
        }
    }

    /// Not found, verification failed, or the work failed (exit 1).
    pub(crate) fn failed(message: impl fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Self {
        Self::usage(e)
    }
}

impl From<crate::secrets::KeyError> for Failure {
    fn from(e: crate::secrets::KeyError) -> Self {
        Self::usage(e)
    }
}

impl From<evidence_schemas::SchemaError> for Failure {
    fn from(e: evidence_schemas::SchemaError) -> Self {
        Self::usage(e)
    }
}

/// Result of a command.
pub(crate) type CmdResult = Result<(), Failure>;
