//! `docs/ARCHITECTURE.md` and `docs/CHAINS.md` name modules and files by path; every
//! path they name must exist, so the pages cannot drift from the code without this test
//! failing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use evidence_tests::workspace_root;

/// The `backticked` spans of `text` that look like repository paths: they contain a
/// `/` and end in a file extension or a `/`.
fn named_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains('/') && !s.contains(' ') && !s.contains('{') && !s.contains('<'))
        .filter(|s| s.ends_with('/') || s.rsplit('/').next().is_some_and(|f| f.contains('.')))
        .filter(|s| !s.contains("NNNN"))
        .map(str::to_owned)
        .collect()
}

fn check_page(page: &str, at_least: usize) {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(page)).unwrap();
    let paths = named_paths(&text);
    assert!(
        paths.len() >= at_least,
        "{page} names too few paths to be checked: {paths:?}"
    );
    let missing: Vec<_> = paths
        .iter()
        .filter(|p| !root.join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "{page} names paths that do not exist: {missing:?}"
    );
}

#[test]
fn every_path_architecture_md_names_exists() {
    check_page("docs/ARCHITECTURE.md", 20);
}

#[test]
fn every_path_chains_md_names_exists() {
    check_page("docs/CHAINS.md", 10);
}

#[test]
fn the_path_filter_finds_paths_and_skips_prose() {
    let found = named_paths(
        "see `relayer/src/log.rs`, `schemas/` and `record`, not `a / b` or `GET /api/v1/records/{id}/bundle`",
    );
    assert_eq!(
        found,
        vec!["relayer/src/log.rs".to_owned(), "schemas/".to_owned()]
    );
}

/// Every `.rs` file under `dir` (recursively), as paths relative to the workspace.
fn rust_files(dir: &str) -> Vec<std::path::PathBuf> {
    let root = workspace_root();
    let mut out = Vec::new();
    let mut todo = vec![root.join(dir)];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(&root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The product crates' sources stay under 800 lines a file (STYLE.md). Test code under
/// `tests/` (the harness in `tests/src`, the suites in `tests/tests`), the crates'
/// own `tests/` directories and `fuzz/` are exempt; `relayer/src/testing/` and
/// `relayer/src/test_db.rs` ship in the relayer crate (behind `test-utils`) and count.
#[test]
fn product_files_stay_under_800_lines() {
    const MAX_LINES: usize = 800;
    let root = workspace_root();
    let mut over = Vec::new();
    let mut seen = 0;
    for dir in ["schemas/src", "adapters/src", "relayer/src", "bridge/src"] {
        for file in rust_files(dir) {
            seen += 1;
            let lines = std::fs::read_to_string(root.join(&file))
                .unwrap()
                .lines()
                .count();
            if lines > MAX_LINES {
                over.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(seen > 50, "found only {seen} product files: wrong root?");
    assert!(
        over.is_empty(),
        "product files over {MAX_LINES} lines (split them into submodules): {over:?}"
    );
}

/// The relayer's modules a file refers to through `crate::…` (in `use` items and
/// in paths), by their first segment; root re-exports count as their module
/// (`crate::Engine` is the engine's).
fn crate_modules_used(text: &str) -> std::collections::BTreeSet<String> {
    // Comments name modules in prose and doc links; only code counts.
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let flat: String = code.split_whitespace().collect();
    let mut used = std::collections::BTreeSet::new();
    let mut rest = flat.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let segments: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of `crate::{a, b::{c, d}, e::f}`.
            let mut depth = 0usize;
            let mut items = Vec::new();
            let mut start = 0;
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.push(&group[start..i]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items
        } else {
            vec![rest]
        };
        for item in segments {
            let name: String = item
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = match name.as_str() {
                "Engine" | "EngineSettings" => "engine".to_owned(),
                "ChainRuntime" | "RouteRuntime" => "runtime".to_owned(),
                _ => name,
            };
            if !module.is_empty() {
                used.insert(module);
            }
        }
    }
    used
}

#[test]
fn the_module_scanner_reads_use_groups_and_paths() {
    let used = crate_modules_used(
        "use crate::{\n    Result,\n    alarms::{raise_alarm, MirrorCheck},\n    runtime::RouteRuntime,\n};\n\
         // crate::engine in a comment does not count\nfn f() { crate::store::now_ms(); let _ = crate::Engine::new; }",
    );
    let used: Vec<_> = used.into_iter().collect();
    assert_eq!(used, ["Result", "alarms", "engine", "runtime", "store"]);
}

/// The relayer's module graph has no circle: the engine schedules the stages and
/// depends on them; the stages, the runtime types and the alarms never depend on the
/// engine; the attestors (service and client) never depend on the stages or the
/// engine; the runtime types and alarms depend on no stage.
#[test]
fn the_relayer_has_no_import_cycle() {
    let root = workspace_root();
    let mut edges = Vec::new();
    for file in rust_files("relayer/src") {
        let rel = file.strip_prefix("relayer/src").unwrap();
        let first = rel.iter().next().unwrap().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        let text = std::fs::read_to_string(root.join(&file)).unwrap();
        for used in crate_modules_used(&text) {
            if used != module {
                edges.push((module.clone(), used, file.display().to_string()));
            }
        }
    }
    let forbidden = [
        ("stages", "engine"),
        ("runtime", "engine"),
        ("runtime", "stages"),
        ("runtime", "attestors"),
        ("alarms", "engine"),
        ("alarms", "stages"),
        ("alarms", "attestors"),
        ("attestors", "stages"),
        ("attestors", "engine"),
    ];
    let bad: Vec<_> = edges
        .iter()
        .filter(|(from, to, _)| forbidden.contains(&(from.as_str(), to.as_str())))
        .collect();
    assert!(
        bad.is_empty(),
        "forbidden imports (from, to, file): {bad:?}"
    );
    // The edges the design relies on are really seen (the scanner works on this tree).
    for (from, to) in [
        ("engine", "stages"),
        ("stages", "runtime"),
        ("stages", "alarms"),
    ] {
        assert!(
            edges.iter().any(|(f, t, _)| f == from && t == to),
            "expected {from} to use {to}; edges: {edges:?}"
        );
    }
    // And no cycle at all among the pipeline's modules.
    let pipeline = ["engine", "stages", "attestors", "runtime", "alarms"];
    let uses = |a: &str, b: &str| edges.iter().any(|(f, t, _)| f == a && t == b);
    for a in pipeline {
        // Depth-first from `a`; reaching `a` again is a cycle.
        let mut stack = vec![a];
        let mut seen = vec![];
        while let Some(m) = stack.pop() {
            for b in pipeline {
                if uses(m, b) {
                    assert_ne!(b, a, "import cycle through {a} (via {m})");
                    if !seen.contains(&b) {
                        seen.push(b);
                        stack.push(b);
                    }
                }
            }
        }
    }
}

/// What a command or API file must not name: the EVM client types and the EVM
/// writing functions. Commands reach chains through the traits `bridge/src/context.rs`
/// builds (`MirrorReader`, `RegistryWriter`, `MirrorAdmin`, an opaque `Connection`),
/// so a new chain family needs no change here. `bridge deploy` and `bridge devnet*`
/// are EVM tools by nature and exempt.
fn chain_boundary_violations(text: &str) -> Vec<String> {
    const NAMES: [&str; 4] = ["EvmMirror", "ChainRpc", "connect_rpc", "AnchorMirror::new"];
    const FROM_ADAPTERS: [&str; 12] = [
        "deploy",
        "contracts",
        "rpc",
        "evm_mirror",
        "evm_writer",
        "anchor",
        "revoke",
        "set_attestors",
        "rotate_attestors",
        "propose_owner_rotation",
        "execute_owner_rotation",
        "cancel_owner_rotation",
    ];
    let mut found: Vec<String> = NAMES
        .iter()
        .filter(|n| text.contains(*n))
        .map(|n| (*n).to_owned())
        .collect();
    // Paths and use groups through the adapters crate: `evidence_adapters::deploy::x`,
    // `evidence_adapters::{AdapterError, deploy, …}`.
    for (at, _) in text.match_indices("evidence_adapters::") {
        let rest = &text[at + "evidence_adapters::".len()..];
        let named: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find(';').unwrap_or(group.len());
            group[..end]
                .split(|c: char| c == ',' || c == '{' || c == '}' || c.is_whitespace())
                .map(|item| item.split("::").next().unwrap_or(item))
                .collect()
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            vec![&rest[..end]]
        };
        for n in named {
            if FROM_ADAPTERS.contains(&n) {
                found.push(format!("evidence_adapters::{n}"));
            }
        }
    }
    found
}

#[test]
fn the_boundary_scanner_finds_evm_names() {
    assert!(
        chain_boundary_violations("use evidence_adapters::{MirrorReader, mirror::X};").is_empty()
    );
    assert_eq!(
        chain_boundary_violations(
            "use evidence_adapters::{\n    AdapterError, contracts::AnchorMirror, deploy,\n};"
        ),
        vec!["evidence_adapters::contracts", "evidence_adapters::deploy"]
    );
    assert_eq!(
        chain_boundary_violations("let r = evidence_adapters::deploy::anchor(&rpc);"),
        vec!["evidence_adapters::deploy"]
    );
    assert_eq!(
        chain_boundary_violations("evidence_adapters::rotate_attestors(&x)"),
        vec!["evidence_adapters::rotate_attestors"]
    );
    assert_eq!(
        chain_boundary_violations("fn f(c: &EvmMirrorReader, r: evidence_adapters::ChainRpc)"),
        vec!["EvmMirror", "ChainRpc"]
    );
}

/// Commands and the API speak to chains only through what `bridge/src/context.rs`
/// builds; only the EVM-by-nature commands (deploy, devnet*) name the EVM client.
#[test]
fn commands_and_api_stay_behind_the_chain_boundary() {
    let root = workspace_root();
    let mut bad = Vec::new();
    let mut seen = 0;
    for dir in ["bridge/src/commands", "bridge/src/api"] {
        for file in rust_files(dir) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name == "deploy.rs" || name.starts_with("devnet") {
                continue;
            }
            seen += 1;
            let text = std::fs::read_to_string(root.join(&file)).unwrap();
            let found = chain_boundary_violations(&text);
            if !found.is_empty() {
                bad.push(format!("{}: {found:?}", file.display()));
            }
        }
    }
    assert!(
        seen > 20,
        "found only {seen} command and API files: wrong root?"
    );
    assert!(
        bad.is_empty(),
        "commands and API handlers must reach chains through bridge/src/context.rs's traits, not the EVM client: {bad:?}"
    );
}
