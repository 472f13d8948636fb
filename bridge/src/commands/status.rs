//! `bridge status`: per chain, head, cursor, lag, log size, checkpoints, quarantine, halts,
//! and per destination the RFC 3161 timestamps stored and the requests that failed.

use crate::{
    cli::StatusArgs,
    config::Settings,
    context,
    exit::{CmdResult, Failure},
    output::print_json_redacted,
};

pub(crate) async fn run(args: StatusArgs) -> CmdResult {
    let settings = Settings::load(&args.config)?;
    let store = context::open_store(&settings).await?;
    let status = store
        .status()
        .await
        .map_err(|e| Failure::failed(format!("reading the store: {e}")))?;
    if args.json {
        return print_json_redacted(&status);
    }
    if status.is_empty() {
        println!(
            "nothing indexed yet: is `bridge run --config {}` running?",
            args.config.display()
        );
    }
    for s in &status {
        println!("{} ({})", s.name, s.chain);
        println!(
            "  head {}  cursor {}  lag {}  log size {} ({} round-trip receipts)  pending {}",
            s.head.map_or_else(|| "?".into(), |h| h.to_string()),
            s.cursor,
            s.lag,
            s.log_size,
            s.receipts_logged,
            s.pending_records
        );
        match &s.last_checkpoint {
            Some(c) => println!(
                "  last checkpoint: size {} root {} (source block {})",
                c.size, c.root, c.source_block_number
            ),
            None => println!("  last checkpoint: none"),
        }
        for d in &s.destinations {
            println!(
                "  -> {}: mirrored up to size {}{}",
                d.destination_chain,
                d.last_confirmed_size
                    .map_or_else(|| "none".into(), |n| n.to_string()),
                d.last_submission
                    .as_ref()
                    .map(|l| format!(
                        ", last submission size {} {:?}{}",
                        l.size,
                        l.state,
                        l.last_error
                            .as_ref()
                            .map(|e| format!(" ({})", evidence_adapters::redact::scrub(e)))
                            .unwrap_or_default()
                    ))
                    .unwrap_or_default()
            );
            if d.timestamps > 0 || !d.timestamp_failures.is_empty() {
                println!("     RFC 3161 timestamps stored: {}", d.timestamps);
            }
            for f in &d.timestamp_failures {
                println!(
                    "     timestamp of size {} from {} failed {} time(s), retried later: {}",
                    f.size, f.tsa, f.attempts, f.last_error
                );
            }
        }
        println!("  quarantined events: {}", s.quarantined);
        if let Some(h) = &s.halted {
            println!("  HALTED: {}", evidence_adapters::redact::scrub(h));
        }
        if !s.alarms.is_empty() {
            println!("  ALARMS: {}", s.alarms.len());
        }
        for a in &s.alarms {
            println!(
                "  ALARM {} size {}{}{} (seen {}x): {}",
                a.alarm.kind.as_str(),
                a.alarm.size,
                a.alarm
                    .destination
                    .as_ref()
                    .map(|d| format!(" on {d}"))
                    .unwrap_or_default(),
                a.alarm
                    .peer
                    .as_ref()
                    .map(|p| format!(" by {p}"))
                    .unwrap_or_default(),
                a.occurrences,
                evidence_adapters::redact::scrub(&a.alarm.message)
            );
        }
    }
    Ok(())
}
