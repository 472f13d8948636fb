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
