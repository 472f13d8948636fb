//! The `bridge` binary's command line: every documented command exists, and bad usage
//! is exit code 2 with a message. (Building this test also builds the binary that the
//! end-to-end tests in `tests/` drive, with the same features as the test build.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

fn bridge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(args)
        .output()
        .expect("bridge runs")
}

#[test]
fn help_lists_every_command() {
    let out = bridge(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "devnet",
        "deploy",
        "run",
        "anchor",
        "lookup",
        "proof",
        "certificate",
        "verify",
        "status",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
        assert!(bridge(&[cmd, "--help"]).status.success(), "{cmd} --help");
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for args in [
        vec!["frobnicate"],
        vec!["anchor", "--config", "x.toml", "--chain", "a"],
        vec!["verify", "/nonexistent/bundle.json"],
        vec!["status", "--config", "/nonexistent/bridge.toml"],
        vec!["devnet", "up", "--dir", "/tmp/x", "--chains", "1"],
    ] {
        let out = bridge(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} printed no error");
    }
}

/// A file that starts `%PDF-` is read as a certificate: an oversized, truncated, garbage
/// or bundle-less one is bad input (exit 2) with the reason, never a panic.
#[test]
fn hostile_pdfs_are_bad_input_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pdf");
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(17 * 1024 * 1024, b' ');
    std::fs::write(&big, &bytes).unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(
        &garbage,
        b"%PDF-2.0\n1 0 obj << /Type /Catalog /Names 1 0 R >> endobj\n%%EOF",
    )
    .unwrap();
    let empty = dir.path().join("empty.pdf");
    std::fs::write(&empty, b"%PDF-").unwrap();
    for (file, needle) in [
        (&big, "larger than 16 MiB"),
        (&garbage, "certificate"),
        (&empty, "not a readable PDF"),
    ] {
        let out = bridge(&["verify", file.to_str().unwrap(), "--offline"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
        assert!(
            err.contains(needle) && !err.contains("panicked"),
            "{}: {err}",
            file.display()
        );
    }
}

/// The binary's allocator frees pages at once (`.cargo/config.toml` builds jemalloc with
/// `dirty_decay_ms:0`): without it `bridge run`'s peak RSS grows with the backfill. Read
/// from jemalloc's own statistics, printed at exit when asked for.
#[test]
fn the_allocator_is_built_to_return_freed_pages_at_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .expect("bridge runs");
    assert!(out.status.success());
    let stats = String::from_utf8_lossy(&out.stderr);
    assert!(
        stats.contains("config.malloc_conf: \"dirty_decay_ms:0\""),
        "jemalloc was built without the workspace's setting: {stats}"
    );
    assert!(
        stats.contains("opt.dirty_decay_ms: 0 "),
        "jemalloc does not run with it: {stats}"
    );
}
