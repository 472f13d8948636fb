//! `bridge`: the Evidence Bridge command line. Parses the command, starts tracing, and
//! hands over to [`commands`].

mod api;
mod certificate;
mod cli;
mod commands;
mod config;
mod context;
mod exit;
mod output;
mod progress;
mod secrets;
mod timestamping;
mod trust;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc, not the system allocator. With glibc's malloc `bridge run`'s resident
/// memory kept growing with the log it indexed: every thread that allocates gets an
/// arena of its own (up to 8 per core), a freed answer of several MB stays in its
/// arena, and glibc raises its mmap threshold after the first large free, so later
/// large buffers come from the arenas too. jemalloc returns freed pages to the system,
/// so the resident size follows what is in use. It is built to return them at once
/// (`dirty_decay_ms:0`, set in `.cargo/config.toml`): with its default 10 s decay the
/// pages of answers freed a second earlier were still resident when the next ones were
/// allocated (see docs/BENCHMARKS.md, "`bridge run` memory: the fetch burst and the
/// allocator" and "`bridge run` memory: jemalloc's decay").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version itself with exit 0, usage errors with exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(&cli.log, cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!(
                "error: {}",
                evidence_adapters::redact::scrub(&failure.to_string())
            );
            ExitCode::from(failure.code)
        }
    }
}

fn init_tracing(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| output::RedactingStderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
