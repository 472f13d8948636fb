//! Decoding the custom error a call or transaction reverted with.
//!
//! Every rejection test asserts the *specific* error (`NotAttestor`, `ZeroRoot`, …), not
//! just "it failed": a check that fails for the wrong reason hides the missing check.

use std::fmt::Debug;

use alloy::sol_types::SolInterface;
use anyhow::bail;

/// The custom error of contract interface `E` (e.g. `AnchorMirror::AnchorMirrorErrors`)
/// carried by `err`, from an `eth_call` or from the gas estimation of a transaction.
///
/// # Errors
/// When `err` is not a revert (a transport failure, say), or reverted with data that is
/// not one of `E`'s errors (a panic, a `require` string, an unknown selector); the
/// message carries the raw revert data.
pub fn decode_revert<E: SolInterface>(err: &alloy::contract::Error) -> anyhow::Result<E> {
    if let Some(decoded) = err.as_decoded_interface_error::<E>() {
        return Ok(decoded);
    }
    match err.as_revert_data() {
        Some(data) => bail!(
            "reverted with data {data} that is not a {} error: {err}",
            E::NAME
        ),
        None => bail!(
            "expected a {} revert, got a non-revert error: {err}",
            E::NAME
        ),
    }
}

/// Like [`decode_revert`] for the result of a call or send: the decoded custom error,
/// or an error when the call *succeeded*.
///
/// # Errors
/// When `result` is `Ok`, or as [`decode_revert`].
pub fn expect_revert<T: Debug, E: SolInterface>(
    result: Result<T, alloy::contract::Error>,
) -> anyhow::Result<E> {
    match result {
        Ok(value) => bail!(
            "expected a {} revert, but the call succeeded: {value:?}",
            E::NAME
        ),
        Err(err) => decode_revert(&err),
    }
}
