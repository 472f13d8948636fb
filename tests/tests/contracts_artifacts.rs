//! The committed contract artifacts (`deploy/artifacts/*.json`, from which the Rust
//! bindings are generated) must equal a fresh compile of `deploy/contracts/` with the
//! pinned solc. Otherwise every other contract test would test stale bytecode.

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
