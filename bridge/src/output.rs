//! Printing results for people and for scripts (`--json`).

use serde::Serialize;

use crate::exit::Failure;

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::failed(format!("cannot encode JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}

/// [`print_json`] with every URL in the text masked ([`evidence_adapters::redact`]):
/// for reports that may quote an RPC or store URL (config, status, errors), never for
/// evidence (bundles are printed as they are).
pub(crate) fn print_json_redacted<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::failed(format!("cannot encode JSON output: {e}")))?;
    println!("{}", evidence_adapters::redact::scrub(&text));
    Ok(())
}

/// Standard error with every URL masked: the log writer. tracing's formatter writes each
/// event with one `write_all`, so each write is a whole line (or JSON object) to scrub.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(evidence_adapters::redact::scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
