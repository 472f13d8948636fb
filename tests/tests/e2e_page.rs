//! The evidence lookup page in a real browser: a two-chain devnet, `bridge run` serving
//! the API and the page (`BRIDGE__API__LISTEN`), one file anchored on both chains and
//! provable on the other, then headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from deploy/node_modules) runs tests/browser/lookup.mjs: drop the
//! file, see it found on two chains with the inclusion proofs and the attestor signatures
//! verified in the browser (noble's secp256k1, EIP-712 digests of the real checkpoints)
//! and the attestor sets trusted by the node's `GET /api/v1/trust-root`, which the page
//! names; load the user's own trust-root files (a copy: trusted, and the page names the
//! file; one without the set: the trust check FAILs naming the version; one that pins
//! nothing: FAIL); forge a signature in transit (the signature check FAILs); paste an
//! unknown digest and see "not found", switch to Chinese. It also checks that the served
//! `/assets/vendor/noble.mjs` is byte for byte a fresh bundle of the pinned npm packages.
//! Then two partners sign a rotation of alpha's set on beta (threshold 2 → 3), anyone
//! submits it, and the page (MODE=rotated) trusts a new bundle of set version 2 because
//! the node's trust root reaches it from pinned version 1 by that signed rotation, checked
//! in the browser; a tampered rotation signature or an owner-installed version 2 fails.
//! Screenshots go to `target/e2e-page/` (the paths are printed).
//!
//! Also runs the page's JavaScript unit tests (tests/browser/verify.test.mjs) with node.
//! Neither test is skipped when a tool is missing: it fails and says what to install.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use evidence_tests::workspace_root;
use support::{Devnet, Relayer};

const PROVABLE: Duration = Duration::from_secs(120);

fn node() -> PathBuf {
    let out = Command::new("node").arg("--version").output();
    assert!(
        out.as_ref().is_ok_and(|o| o.status.success()),
        "node is not installed: install Node.js 20+ (Debian: apt-get install nodejs npm), then bash deploy/scripts/install-tools.sh"
    );
    PathBuf::from("node")
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "{} is missing: run bash deploy/scripts/install-tools.sh (installs Debian's chromium) or set CHROMIUM_BIN",
        path.display()
    );
    let playwright = workspace_root().join("deploy/node_modules/playwright-core/package.json");
    assert!(
        playwright.is_file(),
        "playwright-core is not installed: run bash deploy/scripts/install-tools.sh"
    );
    path
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn page_checks_pass_their_javascript_unit_tests() {
    let vectors = std::env::var("RFC6962_VECTORS_DIR").unwrap_or_else(|_| {
        workspace_root()
            .join("../shared/testdata/rfc6962")
            .display()
            .to_string()
    });
    let out = Command::new(node())
        .args(["--test", "tests/browser/verify.test.mjs"])
        .current_dir(workspace_root())
        .env("RFC6962_VECTORS_DIR", vectors)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test tests/browser/verify.test.mjs failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("# fail 0") && !text.contains("# pass 0"),
        "{text}"
    );
}

#[test]
fn a_file_anchored_on_two_chains_is_found_and_verified_in_a_real_browser() {
    let chromium = chromium();
    let node = node();
    let net = Devnet::start(2, 1).unwrap();
    let config = net.config();
    let config = config.to_str().unwrap();
    let port = free_port();
    let serve = |n: usize| {
        let log = std::fs::File::create(net.dir.path().join(format!("run-page-{n}.log"))).unwrap();
        let relayer = Relayer(
            net.command(&["run", "--config", config])
                .env("BRIDGE_LOG", "info")
                .env("BRIDGE__API__LISTEN", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("bridge run starts"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "bridge run did not listen on 127.0.0.1:{port}; see {}",
                net.dir.path().display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        relayer
    };
    let mut relayer = serve(0);

    // The same document, anchored on both chains: one record on each.
    let file = net.dir.path().join("iou-zhang-san.txt");
    std::fs::write(
        &file,
        "IOU: Zhang San owes Li Si 10,000 CNY, due 2027-06-30.\n借条：张三欠李四人民币壹万元整。\n",
    )
    .unwrap();
    let mut ids = Vec::new();
    for chain in ["alpha", "beta"] {
        let v = net.json(&[
            "anchor",
            "--config",
            config,
            "--chain",
            chain,
            "--file",
            file.to_str().unwrap(),
            "--kind",
            "iou",
            "--json",
        ]);
        ids.push(v["record_id"].as_str().expect("record_id").to_owned());
    }
    net.wait_provable(&ids[0], "beta", PROVABLE).unwrap();
    net.wait_provable(&ids[1], "alpha", PROVABLE).unwrap();

    let shots = target_dir().join("e2e-page");
    let unknown = format!("0x{}", "5e".repeat(32));
    let status = Command::new(&node)
        .arg("tests/browser/lookup.mjs")
        .current_dir(workspace_root())
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("FILE_PATH", &file)
        .env("UNKNOWN_DIGEST", &unknown)
        .env("EXPECT_CHAINS", "2")
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM_BIN", &chromium)
        .status()
        .expect("node runs");
    println!("screenshots of the lookup page: {}", shots.display());
    assert!(
        status.success(),
        "the browser test failed (its output is above; screenshots in {})",
        shots.display()
    );
    for name in [
        "found-en.png",
        "trust-file-without-set-en.png",
        "forged-signature-en.png",
        "not-found-en.png",
        "not-found-zh.png",
        "found-zh.png",
    ] {
        let shot = shots.join(name);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
            "screenshot {} missing",
            shot.display()
        );
        println!("screenshot: {}", shot.display());
    }

    // A signed rotation of alpha's set on beta: the same three keys, threshold 2 → 3,
    // approved by two members of version 1 with their own keys and submitted by the
    // relayer key (`bridge run` is stopped meanwhile, so the two never race on a nonce).
    relayer.kill().unwrap();
    relayer.wait().unwrap();
    let show = net.json(&[
        "mirror", "show", "--config", config, "--chain", "beta", "--source", "alpha", "--json",
    ]);
    assert_eq!(show["attestor_set_version"], 1, "{show}");
    let members: Vec<String> = show["attestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let keys = &net
        .env
        .iter()
        .find(|(k, _)| k == "BRIDGE_ATTESTOR_KEYS")
        .expect("devnet attestor keys")
        .1;
    let mut approvals = Vec::new();
    for (i, key) in keys.split(',').take(2).enumerate() {
        let path = net.dir.path().join(format!("approval-{i}.json"));
        let mut args = vec![
            "mirror",
            "sign-rotation",
            "--config",
            config,
            "--chain",
            "beta",
            "--source",
            "alpha",
            "--key-env",
            "ONE_KEY",
        ];
        for a in &members {
            args.extend(["--attestor", a.as_str()]);
        }
        args.extend([
            "--threshold",
            "3",
            "--version",
            "2",
            "-o",
            path.to_str().unwrap(),
        ]);
        let key = key.trim();
        let key = if key.starts_with("0x") {
            key.to_owned()
        } else {
            format!("0x{key}")
        };
        let out = net.command(&args).env("ONE_KEY", key).output().unwrap();
        assert!(
            out.status.success(),
            "sign-rotation failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        approvals.push(path.to_str().unwrap().to_owned());
    }
    let mut args = vec![
        "mirror",
        "rotate",
        "--config",
        config,
        "--chain",
        "beta",
        "--source",
        "alpha",
        "--threshold",
        "3",
        "--json",
    ];
    for a in &members {
        args.extend(["--attestor", a.as_str()]);
    }
    for a in &approvals {
        args.extend(["--approval", a.as_str()]);
    }
    let rotated = net.json(&args);
    assert_eq!(rotated["attestor_set_version"], 2, "{rotated}");

    let _relayer = serve(1);
    let file = net.dir.path().join("iou-after-rotation.txt");
    std::fs::write(
        &file,
        "IOU signed after the attestors raised their threshold.\n",
    )
    .unwrap();
    let v = net.json(&[
        "anchor",
        "--config",
        config,
        "--chain",
        "alpha",
        "--file",
        file.to_str().unwrap(),
        "--kind",
        "iou",
        "--json",
    ]);
    let bundle = net
        .wait_provable(v["record_id"].as_str().unwrap(), "beta", PROVABLE)
        .unwrap();
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    assert_eq!(bundle["destination"]["attestor_set_version"], 2, "{bundle}");
    assert_eq!(bundle["destination"]["threshold"], 3, "{bundle}");

    let status = Command::new(&node)
        .arg("tests/browser/lookup.mjs")
        .current_dir(workspace_root())
        .env("MODE", "rotated")
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("FILE_PATH", &file)
        .env("UNKNOWN_DIGEST", &unknown)
        .env("EXPECT_CHAINS", "1")
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM_BIN", &chromium)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "the browser test after the rotation failed (its output is above; screenshots in {})",
        shots.display()
    );
    let shot = shots.join("rotated-en.png");
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "screenshot {} missing",
        shot.display()
    );
    println!("screenshot: {}", shot.display());
}
