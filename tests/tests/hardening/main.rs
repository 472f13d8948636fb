//! Defects a hostile probe found, each run against the real `bridge` binary:
//!
//! - secrets in RPC URLs (`https://user:pass@host/v3/KEY`, `?apikey=`) never appear in
//!   any output: `config check` (text and JSON), errors of `anchor`, `proof`, `status`,
//!   `verify`, the log of `bridge run`, the API's answers and its metrics — against a
//!   closed port and against real anvil nodes that then go away;
//! - `verify --config` with the chain unreachable exits 5 ("could not check"), not 1;
//! - `config check` refuses `eip155:0` and `tx_timeout_secs = 0`; a TOML error does not
//!   echo a huge line; a PostgreSQL URL to a closed port fails at once with the cause;
//!   `verify /dev/zero` is refused as oversized;
//! - [`schemathesis`]: the OpenAPI document matches the server;
//! - [`flood`]: a partner attestor flooded with valid signing requests keeps indexing.
//!
//! One test binary, so the devnet tests run side by side rather than one after another.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod flood;
mod schemathesis;
#[path = "../support/mod.rs"]
mod support;

use std::{
    net::TcpListener,
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};

use support::{Devnet, bridge_bin, signal};

/// Secrets planted in the URLs; none may ever be printed.
const SECRETS: &[&str] = &["s3cret", "KEY123"];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fails when any planted secret is in `what`.
fn assert_clean(context: &str, what: &str) {
    for secret in SECRETS {
        assert!(
            !what.contains(secret),
            "{context}: the secret {secret:?} was printed:\n{what}"
        );
    }
}

fn bridge(args: &[&str]) -> Output {
    Command::new(bridge_bin())
        .args(args)
        .env("BRIDGE_LOG", "info")
        .output()
        .expect("bridge runs")
}

/// A two-chain config whose RPC URLs carry a password and a key in the path, on a port
/// where nothing listens.
fn closed_port_config(dir: &Path) -> std::path::PathBuf {
    let port = free_port();
    let config = dir.join("bridge.toml");
    let chain = |name: &str, id: u32| {
        format!(
            "[[chains]]\nname = \"{name}\"\nchain_id = \"eip155:{id}\"\nrpc = [\"http://user:s3cret@127.0.0.1:{port}/v3/KEY123\"]\n\
             registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nmirror = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n\n"
        )
    };
    let text = format!(
        "[store]\nurl = \"sqlite://{}?mode=rwc\"\n\n[keys]\nrelayer_key_env = \"HARDENING_KEY\"\nanchor_key_env = \"HARDENING_KEY\"\n\n{}{}",
        dir.join("b.sqlite").display(),
        chain("alpha", 31337),
        chain("beta", 31338)
    );
    std::fs::write(&config, text).unwrap();
    config
}

const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[test]
fn rpc_url_secrets_are_never_printed_against_a_closed_port() {
    let dir = tempfile::tempdir().unwrap();
    let config = closed_port_config(dir.path());
    let c = config.to_str().unwrap();

    let out = bridge(&["config", "check", "--config", c, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_clean("config check --json", &text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["chains"][0]["rpc"][0],
        format!("http://***@127.0.0.1:{}/v3/***", c_port(&json))
    );
    let out = bridge(&["config", "check", "--config", c]);
    assert!(out.status.success(), "{}", text(&out));
    assert_clean("config check", &text(&out));

    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "evidence").unwrap();
    let out = Command::new(bridge_bin())
        .args([
            "anchor",
            "--config",
            c,
            "--chain",
            "alpha",
            "--file",
            doc.to_str().unwrap(),
            "--kind",
            "iou",
        ])
        .env("HARDENING_KEY", DEV_KEY)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("127.0.0.1"),
        "the error should still name the host: {}",
        text(&out)
    );
    assert_clean("anchor", &text(&out));

    let record = format!("0x{}", "ab".repeat(32));
    let out = bridge(&[
        "proof",
        "--config",
        c,
        &record,
        "--to",
        "beta",
        "-o",
        dir.path().join("b.json").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_clean("proof", &text(&out));

    // `bridge run` logs its RPC failures; its API answers and metrics stay clean too.
    let api = free_port();
    std::fs::write(
        &config,
        format!(
            "{}\n[api]\nlisten = \"127.0.0.1:{api}\"\n",
            std::fs::read_to_string(&config).unwrap()
        ),
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let mut run = Command::new(bridge_bin())
        .args(["run", "--config", c])
        .env("HARDENING_KEY", DEV_KEY)
        .env("BRIDGE_LOG", "debug")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let answers: Vec<String> = [
        "/api/v1/chains",
        "/metrics",
        "/readyz",
        &format!("/api/v1/records/{record}/bundle?destination=beta"),
    ]
    .iter()
    .map(|p| http_get(&format!("http://127.0.0.1:{api}{p}")))
    .collect();
    let _ = run.kill();
    let _ = run.wait();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("127.0.0.1"),
        "bridge run logged nothing about its node: {log}"
    );
    assert_clean("bridge run log", &log);
    for a in &answers {
        assert_clean("API answer", a);
    }
    let out = bridge(&["status", "--config", c, "--json"]);
    assert_clean("status", &text(&out));
}

/// The port in the JSON config's first RPC URL (for the expected redacted form).
fn c_port(json: &serde_json::Value) -> String {
    let url = json["chains"][0]["rpc"][0].as_str().unwrap();
    url.rsplit_once(':')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

/// A blocking GET; the status line and body, or the transport error.
fn http_get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match reqwest::get(url).await {
            Ok(r) => format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => format!("no answer: {e}"),
        }
    })
}

#[test]
fn secrets_stay_hidden_with_real_nodes_and_an_unreachable_chain_is_could_not_check() {
    let net = Devnet::start(2, 1).unwrap();
    // The devnet's RPC URLs, now with a password and a key in the query (anvil ignores
    // both, as a hosted provider's gateway would check them).
    let config = net.config();
    let original = std::fs::read_to_string(&config).unwrap();
    let with_secrets: Vec<String> = original
        .lines()
        .map(|l| {
            match l
                .strip_prefix("rpc = [\"http://")
                .and_then(|r| r.strip_suffix("\"]"))
            {
                Some(hostport) => {
                    format!("rpc = [\"http://user:s3cret@{hostport}/?apikey=KEY123\"]")
                }
                None => l.to_owned(),
            }
        })
        .collect();
    assert!(
        with_secrets.iter().filter(|l| l.contains("s3cret")).count() == 2,
        "{original}"
    );
    std::fs::write(&config, with_secrets.join("\n") + "\n").unwrap();
    let c = config.to_str().unwrap();

    let relayer = net.start_relayer(0);
    let record = net.anchor_text("alpha", "IOU under a keyed RPC URL");
    let bundle = net
        .wait_provable(&record, "beta", Duration::from_secs(120))
        .unwrap();
    let out = net.verify(&bundle);
    assert!(out.status.success(), "{}", text(&out));
    assert_clean("verify", &text(&out));

    // Beta's node goes away: verifying needs it, and must say it could not check.
    signal(net.anvil_pid(1).unwrap(), "KILL");
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let out = net.run(&["verify", bundle.to_str().unwrap(), "--config", c]);
        if out.status.code() != Some(0) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        out.status.code(),
        Some(5),
        "an unreachable chain is 'could not check' (5), not 'invalid' (1): {}",
        text(&out)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("COULD NOT CHECK") && report.contains("bundle COULD NOT BE CHECKED"),
        "{report}"
    );
    assert!(!report.contains("bundle INVALID"), "{report}");
    assert_clean("verify (unreachable)", &text(&out));
    let out = net.run(&["verify", bundle.to_str().unwrap(), "--config", c, "--json"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["status"].as_str(), json["valid"].as_bool()),
        (Some("unchecked"), Some(false)),
        "{json}"
    );
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["unchecked"] == true),
        "{json}"
    );

    // Offline with the same bundle still verifies nothing (unpinned), unaffected.
    let out = net.run(&["verify", bundle.to_str().unwrap(), "--offline"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    // Errors that quote beta's URL: anchoring there, and the relayer's log.
    let doc = net.dir.path().join("late.txt");
    std::fs::write(&doc, "late").unwrap();
    let out = net.run(&[
        "anchor",
        "--config",
        c,
        "--chain",
        "beta",
        "--file",
        doc.to_str().unwrap(),
        "--kind",
        "iou",
    ]);
    assert!(!out.status.success());
    assert_clean("anchor (unreachable)", &text(&out));
    std::thread::sleep(Duration::from_secs(3));
    drop(relayer);
    let log = std::fs::read_to_string(net.dir.path().join("run-0.log")).unwrap();
    assert_clean("bridge run log", &log);
    let out = net.run(&["status", "--config", c]);
    assert_clean("status", &text(&out));
}

#[test]
fn config_and_input_limits() {
    let dir = tempfile::tempdir().unwrap();
    let config = closed_port_config(dir.path());
    let good = std::fs::read_to_string(&config).unwrap();
    let c = config.to_str().unwrap();
    let check = |text: &str| {
        std::fs::write(&config, text).unwrap();
        bridge(&["config", "check", "--config", c])
    };
    let out = check(&good.replace("eip155:31338", "eip155:0"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("EIP-155 ids start at 1"),
        "{}",
        text(&out)
    );
    let out = check(&format!("{good}\n[engine]\ntx_timeout_secs = 0\n"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("tx_timeout_secs"), "{}", text(&out));
    let out = check(&format!(
        "{good}\nbogus = \"{}\" junk\n",
        "Z".repeat(200_000)
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        out.stderr.len() < 4_000,
        "a TOML error echoed {} bytes",
        out.stderr.len()
    );
    // A quoted key the config crate reads as an array index of 9e12 (found by the
    // config_load fuzz target): refused with the key named, not an allocation abort.
    let out = check(&format!(
        "{good}
[\"T[00000000000000000000000009000000000212]\"]\n"
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("letters, digits"), "{}", text(&out));

    // A PostgreSQL URL to a closed port: the cause, at once (not "pool timed out" after 30 s).
    let pg = format!("postgres://bridge:pw@127.0.0.1:{}/bridge", free_port());
    std::fs::write(
        &config,
        good.replace(
            &format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("b.sqlite").display()
            ),
            &pg,
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = bridge(&["status", "--config", c]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("refused"), "the cause is missing: {err}");
    assert!(!err.contains("timed out") && !err.contains(":pw@"), "{err}");
    eprintln!("closed PostgreSQL port reported after {took:?}");

    // verify reads at most 16 MiB: /dev/zero is refused as oversized, not read to OOM.
    let out = bridge(&["verify", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("larger than 16 MiB"), "{}", text(&out));
}
