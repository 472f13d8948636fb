//! The Debian package: `deploy/scripts/package-deb.sh` builds it around the already
//! built binary (no compression: a test build is large), then the real `dpkg -i`
//! installs it into a scratch root (its own admin directory, maintainer scripts run
//! without chroot and honour DPKG_ROOT), and the installed `bridge` runs from there:
//! `--version`, and `config check` of the installed example config. The installed unit
//! is the hardened one, pointing at the installed binary. Fails, never skips, without
//! dpkg.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::process::Command;

use evidence_tests::workspace_root;
use support::bridge_bin;

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run ({e}); is dpkg installed?"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_deb_installs_into_a_scratch_root_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let script = workspace_root().join("deploy/scripts/package-deb.sh");
    let printed = run(Command::new("bash")
        .arg(&script)
        .arg("--bin")
        .arg(bridge_bin())
        .arg("--out")
        .arg(dir.path())
        .arg("--fast"));
    let deb = printed
        .lines()
        .last()
        .expect("the script prints the package path")
        .to_owned();
    assert!(
        deb.ends_with(".deb") && std::path::Path::new(&deb).is_file(),
        "{printed}"
    );

    // What the package holds, before installing it.
    let contents = run(Command::new("dpkg-deb").args(["--contents", &deb]));
    for path in [
        "./usr/bin/bridge",
        "./lib/systemd/system/evidence-bridge.service",
        "./etc/evidence-bridge/bridge.toml",
        "./usr/share/doc/evidence-bridge/OPERATIONS.md",
    ] {
        assert!(
            contents.contains(path),
            "{path} missing from the package:\n{contents}"
        );
    }
    let conffiles = run(Command::new("dpkg-deb").args(["--info", &deb, "conffiles"]));
    assert!(
        conffiles.contains("/etc/evidence-bridge/bridge.toml"),
        "{conffiles}"
    );

    let root = dir.path().join("root");
    let admin = root.join("var/lib/dpkg");
    std::fs::create_dir_all(admin.join("updates")).unwrap();
    std::fs::create_dir_all(admin.join("info")).unwrap();
    std::fs::write(admin.join("status"), "").unwrap();
    run(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg(format!("--admindir={}", admin.display()))
        .args([
            "--force-script-chrootless",
            "--force-not-root",
            "--log=/dev/null",
            "-i",
            &deb,
        ]));
    let status = run(Command::new("dpkg")
        .arg(format!("--admindir={}", admin.display()))
        .args(["-s", "evidence-bridge"]));
    assert!(status.contains("Status: install ok installed"), "{status}");

    let installed = root.join("usr/bin/bridge");
    let version = run(Command::new(&installed).arg("--version"));
    assert!(version.starts_with("bridge "), "{version}");
    let config = root.join("etc/evidence-bridge/bridge.toml");
    let check = run(Command::new(&installed)
        .args(["config", "check", "--config"])
        .arg(&config)
        .env("BRIDGE_LOG", "warn"));
    assert!(check.contains("valid"), "{check}");

    let unit =
        std::fs::read_to_string(root.join("lib/systemd/system/evidence-bridge.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/bridge run --config /etc/evidence-bridge/bridge.toml"),
        "{unit}"
    );
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
    ] {
        assert!(
            unit.contains(hardening),
            "the packaged unit lost {hardening}"
        );
    }
    assert!(!unit.contains("/usr/local/bin"), "{unit}");
}
