//! The OpenAPI document against the real server: schemathesis (PyPI, pinned, installed
//! by `deploy/scripts/install-tools.sh` into `deploy/.venv`) generates requests from
//! `GET /api/v1/openapi.json` of a devnet `bridge run` that has records, checkpoints and
//! anchoring enabled, and fails on any 5xx, any status code or content type the document
//! does not list, and any answer that does not match its schema. Bounded: a time budget
//! for the run and a hard limit on the process.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::Devnet;
use evidence_tests::workspace_root;
use sha2::{Digest as _, Sha256};

/// schemathesis's own time budget (seconds), and the hard limit on its process.
const BUDGET_SECS: u64 = 45;
const HARD_LIMIT: Duration = Duration::from_secs(120);

#[test]
fn the_openapi_document_matches_the_server() {
    let schemathesis = workspace_root().join("deploy/.venv/bin/schemathesis");
    assert!(
        schemathesis.is_file(),
        "{} is missing: run `bash deploy/scripts/install-tools.sh` (it installs schemathesis into deploy/.venv)",
        schemathesis.display()
    );
    let net = Devnet::start(2, 1).unwrap();
    let port = super::free_port();
    let token_hash = hex::encode(Sha256::digest(b"schemathesis-token"));
    let config = net.config();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[api]\nlisten = \"127.0.0.1:{port}\"\nanchor_tokens_sha256 = [\"{token_hash}\"]\n"
    ));
    std::fs::write(&config, text).unwrap();
    let _relayer = net.start_relayer(0);
    let record = net.anchor_text("alpha", "schemathesis has something to find");
    net.wait_provable(&record, "beta", Duration::from_secs(120))
        .unwrap();

    let base = format!("http://127.0.0.1:{port}");
    let report = net.dir.path().join("schemathesis");
    let mut child = Command::new(&schemathesis)
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-time", &BUDGET_SECS.to_string()])
        .args(["--workers", "2", "--request-timeout", "20", "--wait-for-schema", "30"])
        // Never anchor for real: the anchoring endpoint is probed without a token.
        .args(["--exclude-path", "/api/v1/anchor"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        // Its cache of found crashes goes to the devnet folder, not the repository.
        .current_dir(net.dir.path())
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_HOOKS", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("schemathesis starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HARD_LIMIT {
            let _ = child.kill();
            panic!("schemathesis ran over {HARD_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("schemathesis ran {:?}:\n{stdout}", started.elapsed());
    assert!(
        status.success(),
        "schemathesis found problems:\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        net.log_tails(30)
    );
    assert!(
        stdout.contains("passed") || stdout.contains("Passed"),
        "schemathesis tested nothing:\n{stdout}"
    );
}
