//! The committed contract artifacts (`deploy/artifacts/*.json`, from which the Rust
//! bindings are generated) must equal a fresh compile of `deploy/contracts/` with the
//! pinned solc. Otherwise every other contract test would test stale bytecode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

use evidence_tests::workspace_root;

#[test]
fn artifacts_match_a_fresh_compile() {
    let root = workspace_root();
    let solc = root.join("deploy/node_modules/solc/package.json");
    assert!(
        solc.is_file(),
        "the pinned solc is not installed (no {}); run `bash deploy/scripts/install-tools.sh`",
        solc.display()
    );
    let output = Command::new("node")
        .args(["deploy/scripts/compile.js", "--check"])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `node deploy/scripts/compile.js --check` in {}: {e}; is Node.js installed?", root.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`node deploy/scripts/compile.js --check` failed ({}): the committed artifacts differ from a \
         fresh compile; run `node deploy/scripts/compile.js` and commit deploy/artifacts/.\n\
         --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    println!("{stdout}");
}

/// The committed EAS artifacts (`deploy/artifacts/eas/`, from which the EAS bindings
/// are generated) must equal the pinned npm package's.
#[test]
fn eas_artifacts_match_the_pinned_package() {
    let root = workspace_root();
    let pkg =
        root.join("deploy/node_modules/@ethereum-attestation-service/eas-contracts/package.json");
    assert!(
        pkg.is_file(),
        "the pinned EAS contracts are not installed (no {}); run `bash deploy/scripts/install-tools.sh`",
        pkg.display()
    );
    let output = Command::new("node")
        .args(["deploy/scripts/eas-artifacts.js", "--check"])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `node deploy/scripts/eas-artifacts.js --check`: {e}; is Node.js installed?"));
    assert!(
        output.status.success(),
        "`node deploy/scripts/eas-artifacts.js --check` failed: run `node deploy/scripts/eas-artifacts.js` and commit deploy/artifacts/eas/.\n--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
