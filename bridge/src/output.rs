//! Printing results for people and for scripts (`--json`).

use serde::Serialize;

use crate::exit::Failure;

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::failed(format!("cannot encode JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}
