//! The Chinese documents cannot drift from the English ones where it matters: the quick
//! start of `README.zh-CN.md` runs exactly the commands of `README.md`'s, the Chinese
//! verification guide carries the same worked vectors as `docs/VERIFYING.md` (which
//! `schemas/tests/verifying_doc.rs` recomputes from the code), and each document links
//! to its translation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use evidence_tests::workspace_root;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The command lines of the first ```sh block after the heading `heading`.
fn quick_start(text: &str, heading: &str, file: &str) -> Vec<String> {
    let section = text
        .split_once(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("{file} has no '## {heading}' section"))
        .1;
    let block = section
        .split_once("```sh\n")
        .unwrap_or_else(|| panic!("{file}: no ```sh block under '{heading}'"))
        .1;
    let block = block
        .split_once("```")
        .unwrap_or_else(|| panic!("{file}: unterminated block"))
        .0;
    let lines: Vec<String> = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(!lines.is_empty(), "{file}: the quick start has no command");
    lines
}

/// Every `<!-- vectors:NAME -->` block, by name.
fn vectors(text: &str) -> Vec<(String, String)> {
    text.split("<!-- vectors:")
        .skip(1)
        .map(|part| {
            let (name, rest) = part.split_once(" -->").unwrap();
            let block = rest
                .split_once("```text\n")
                .unwrap()
                .1
                .split_once("```")
                .unwrap()
                .0;
            (name.to_owned(), block.to_owned())
        })
        .collect()
}

#[test]
fn the_chinese_quick_start_runs_the_english_commands() {
    let en = quick_start(&read("README.md"), "Quick start", "README.md");
    let zh = quick_start(&read("README.zh-CN.md"), "快速开始", "README.zh-CN.md");
    assert_eq!(
        zh, en,
        "README.zh-CN.md's quick start differs from README.md's: update the Chinese one"
    );
}

#[test]
fn the_chinese_verification_guide_has_the_same_vectors_and_the_documents_link_each_other() {
    let en = read("docs/VERIFYING.md");
    let zh = read("docs/VERIFYING.zh-CN.md");
    let (ve, vz) = (vectors(&en), vectors(&zh));
    assert!(ve.len() >= 4, "docs/VERIFYING.md lost its vectors");
    assert_eq!(
        vz, ve,
        "docs/VERIFYING.zh-CN.md's worked vectors differ from docs/VERIFYING.md's: copy them over"
    );
    // The check names and exit codes a verifier reads are the same words in both.
    for name in [
        "`version`",
        "`destination`",
        "`attestors`",
        "`record_id`",
        "`inclusion`",
        "`signatures`",
        "`revocation`",
        "`trust_chain`",
        "`mirror_tx`",
    ] {
        assert!(
            en.contains(name) && zh.contains(name),
            "check {name} missing from one guide"
        );
    }
    for (file, text, other) in [
        ("README.md", read("README.md"), "README.zh-CN.md"),
        ("README.zh-CN.md", read("README.zh-CN.md"), "README.md"),
        ("docs/VERIFYING.md", en.clone(), "VERIFYING.zh-CN.md"),
        ("docs/VERIFYING.zh-CN.md", zh.clone(), "VERIFYING.md"),
    ] {
        assert!(
            text.contains(&format!("({other})")),
            "{file} does not link to {other}"
        );
    }
    assert!(
        read("README.zh-CN.md").contains("docs/VERIFYING.zh-CN.md"),
        "README.zh-CN.md does not link the Chinese guide"
    );
}
