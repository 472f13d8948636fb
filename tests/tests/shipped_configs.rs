//! Every configuration the repository ships is accepted by the real config loader
//! (`bridge config check`, the same code path as `bridge run`): every TOML file under
//! deploy/config/, every complete config (one with `[[chains]]`) in a ```toml block of
//! the Markdown docs, and the example config with each compose service's environment
//! applied as `BRIDGE__` overrides. The compose file parses as YAML and names PostgreSQL
//! and two bridge instances; the Dockerfile and the systemd unit say what the docs claim.
//! (There is no container engine here: the image is not built by this test.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Output,
};

use evidence_tests::workspace_root;
use support::bridge_bin;

fn check(config: &Path, env: &[(String, String)], json: bool) -> Output {
    let mut cmd = std::process::Command::new(bridge_bin());
    cmd.args(["config", "check", "--config"])
        .arg(config)
        .env("BRIDGE_LOG", "warn");
    if json {
        cmd.arg("--json");
    }
    // Only the environment given here may override the file.
    for (k, _) in std::env::vars() {
        if k.starts_with("BRIDGE__") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.output().expect("bridge runs")
}

fn assert_valid(config: &Path, env: &[(String, String)]) {
    let out = check(config, env, false);
    assert!(
        out.status.success(),
        "{} (env {env:?}) is rejected by the config loader: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

/// Every complete config in a ```toml block of a Markdown file of the repository.
fn markdown_configs(dir: &Path) -> Vec<(PathBuf, String)> {
    let files = std::process::Command::new("git")
        .args(["ls-files", "*.md"])
        .current_dir(workspace_root())
        .output()
        .expect("git runs");
    let mut out = Vec::new();
    for name in String::from_utf8_lossy(&files.stdout).lines() {
        let Ok(text) = std::fs::read_to_string(workspace_root().join(name)) else {
            continue;
        };
        for (i, block) in text.split("```toml\n").skip(1).enumerate() {
            let body = block.split("```").next().unwrap_or_default();
            if body.contains("[[chains]]") {
                let path = dir.join(format!("{}-{i}.toml", name.replace('/', "_")));
                std::fs::write(&path, body).unwrap();
                out.push((path, name.to_owned()));
            }
        }
    }
    out
}

#[test]
fn every_shipped_toml_config_loads() {
    let dir = workspace_root().join("deploy/config");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            assert_valid(&path, &[]);
            n += 1;
        }
    }
    assert!(n >= 1, "no config under {}", dir.display());
    let tmp = tempfile::tempdir().unwrap();
    for (path, from) in markdown_configs(tmp.path()) {
        let out = check(&path, &[], false);
        assert!(
            out.status.success(),
            "the config in {from} is rejected: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_example_documents_every_key_it_sets() {
    // Every `key = value` line of the example has a comment right above it (directly or
    // as part of its block), so operators know what each key does.
    let text =
        std::fs::read_to_string(workspace_root().join("deploy/config/production.example.toml"))
            .unwrap();
    let mut commented = false;
    let mut seen_tables = std::collections::HashSet::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            commented = true;
        } else if t.is_empty() {
            commented = false;
        } else if t.starts_with('[') {
            // A repeated `[[chains]]` / `[[routes]]` entry uses the keys documented at
            // the first one.
            if !seen_tables.insert(t.to_owned()) {
                commented = true;
            }
        } else {
            assert!(
                commented,
                "undocumented key in production.example.toml: {t}"
            );
        }
    }
    // And every key the loader knows is set or shown (commented out) in the example.
    let out = check(
        &workspace_root().join("deploy/config/production.example.toml"),
        &[],
        true,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let effective: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys = Vec::new();
    collect_keys(&effective, "", &mut keys);
    for key in keys {
        let leaf = key.rsplit('.').next().unwrap();
        assert!(
            text.contains(&format!("{leaf} =")),
            "config key {key} is not shown in deploy/config/production.example.toml"
        );
    }
}

fn collect_keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, v) in m {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                serde_json::Value::Object(_) => collect_keys(v, &key, out),
                serde_json::Value::Array(items) if items.first().is_some_and(|i| i.is_object()) => {
                    collect_keys(&items[0], &key, out)
                }
                _ => out.push(key),
            }
        }
    }
}

/// Replaces `${VAR}`, `${VAR:-default}` and `${VAR:?message}` as compose does, from `vars`.
fn interpolate(text: &str, vars: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find('}')
            .map(|e| at + e)
            .expect("unterminated ${");
        let inner = &rest[at + 2..end];
        let (name, default) = match inner.find([':', '-', '?']) {
            Some(i) => (
                &inner[..i],
                inner[i..]
                    .trim_start_matches(':')
                    .strip_prefix('-')
                    .unwrap_or(""),
            ),
            None => (inner, ""),
        };
        out.push_str(vars.get(name).copied().unwrap_or(default));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_compose_file_runs_two_instances_on_postgres_with_a_loadable_config() {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("deploy/compose.yaml")).unwrap();
    let mut doc: serde_yaml::Value =
        serde_yaml::from_str(&text).expect("deploy/compose.yaml parses as YAML");
    doc.apply_merge().expect("YAML merge keys resolve");
    let services = doc["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        ["postgres", "bridge-1", "bridge-2"],
        "compose services"
    );
    assert!(
        doc["services"]["postgres"]["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:")
    );

    let vars = BTreeMap::from([
        ("POSTGRES_PASSWORD", "pw-for-the-test"),
        ("BRIDGE_RELAYER_KEY_1", "0x01"),
        ("BRIDGE_RELAYER_KEY_2", "0x02"),
    ]);
    let example = root.join("deploy/config/production.example.toml");
    for name in ["bridge-1", "bridge-2"] {
        let svc = &doc["services"][name];
        let command: Vec<&str> = svc["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert_eq!(
            &command[..3],
            ["run", "--config", "/etc/evidence-bridge/bridge.toml"],
            "{name} command"
        );
        let mounts: Vec<&str> = svc["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            mounts
                .iter()
                .any(|m| m.ends_with(":/etc/evidence-bridge/bridge.toml:ro")),
            "{name} mounts the config read-only: {mounts:?}"
        );
        assert_eq!(
            svc["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile")
        );
        assert!(
            svc["depends_on"]["postgres"].is_mapping(),
            "{name} waits for postgres"
        );
        let env: Vec<(String, String)> = svc["environment"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap().to_owned(),
                    interpolate(v.as_str().unwrap_or_default(), &vars),
                )
            })
            .collect();
        let url = env
            .iter()
            .find(|(k, _)| k == "BRIDGE__STORE__URL")
            .map(|(_, v)| v.clone())
            .expect("store URL from the environment");
        assert!(
            url.starts_with("postgres://bridge:pw-for-the-test@postgres:5432/"),
            "{url}"
        );
        assert!(
            env.iter()
                .any(|(k, v)| k == "BRIDGE__API__LISTEN" && v == "0.0.0.0:8080"),
            "{name} serves the API and page"
        );
        assert_valid(&example, &env);
        // The override is really applied (and the password is not printed).
        let out = check(&example, &env, true);
        let effective: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            effective["store"]["url"], "postgres://bridge:***@postgres:5432/bridge",
            "{name}"
        );
    }
}

#[test]
fn a_broken_config_or_override_is_exit_2_with_the_reason() {
    let example = workspace_root().join("deploy/config/production.example.toml");
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&example)
            .unwrap()
            .replace("poll_interval_ms", "poll_intervall_ms"),
    )
    .unwrap();
    let out = check(&bad, &[], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("poll_intervall_ms"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = check(
        &example,
        &[("BRIDGE__ENGINE__POLL_INTERVAL_MS".into(), "0".into())],
        false,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("poll_interval_ms"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = check(&tmp.path().join("missing.toml"), &[], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn the_dockerfile_and_the_unit_are_hardened() {
    let root = workspace_root();
    let docker = std::fs::read_to_string(root.join("deploy/Dockerfile")).unwrap();
    let stages = docker.lines().filter(|l| l.starts_with("FROM ")).count();
    assert!(stages >= 2, "multi-stage build");
    let user = docker
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(
        !user.contains("root") && !user.contains(" 0"),
        "runs as a non-root user: {user}"
    );
    assert!(
        docker.contains("cargo build --release --locked -p evidence-bridge"),
        "builds the release bridge binary"
    );

    let unit = std::fs::read_to_string(root.join("deploy/systemd/bridge.service")).unwrap();
    for key in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "User=bridge",
        "CapabilityBoundingSet=",
        "RestartPreventExitStatus=2",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == key),
            "bridge.service lacks {key}"
        );
    }
    assert!(unit.contains(
        "ExecStartPre=/usr/local/bin/bridge config check --config /etc/evidence-bridge/bridge.toml"
    ));
}
