//! The `bridge` binary's command line: every documented command exists, and bad usage
//! is exit code 2 with a message. (Building this test also builds the binary that the
//! end-to-end tests in `tests/` drive, with the same features as the test build.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

fn bridge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bridge")).args(args).output().expect("bridge runs")
}

#[test]
fn help_lists_every_command() {
    let out = bridge(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["devnet", "deploy", "run", "anchor", "lookup", "proof", "verify", "status"] {
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
