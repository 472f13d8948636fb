//! The published RFC 6962 conformance vectors (transparency-dev/merkle test data).
//!
//! Resolved from `$RFC6962_VECTORS_DIR`, else `../shared/testdata/rfc6962` next to the
//! workspace. A missing folder is an error naming where it looked: conformance tests
//! fail rather than pass without their data.
//!
//! Every case is loaded: `inclusion/`, `consistency/`, and the subtree sets
//! `subtreeinclusion/` and `subtreeconsistency/` (proofs about a subtree
//! `[start, end)`, Merkle Tree Certificates draft §4.3/§4.4), whose cases carry their
//! `start` so that a test runs them against the subtree verifiers.
//!
//! This is the same selection as the Rust conformance test
//! (`schemas/tests/rfc6962_vectors.rs`), so both verifiers see the same cases.

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::Value;

/// Where the vectors are: `$RFC6962_VECTORS_DIR` or the shared test data folder.
///
/// # Errors
/// When the folder (or its `inclusion/` subfolder) does not exist, naming the path.
pub fn vectors_dir() -> anyhow::Result<PathBuf> {
    let (dir, origin) = match std::env::var_os("RFC6962_VECTORS_DIR") {
        Some(d) if !d.is_empty() => (PathBuf::from(d), "RFC6962_VECTORS_DIR"),
        _ => (
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/testdata/rfc6962"
            )),
            "the default location (RFC6962_VECTORS_DIR is unset)",
        ),
    };
    if !dir.join("inclusion").is_dir() || !dir.join("consistency").is_dir() {
        bail!(
            "RFC 6962 conformance vectors NOT FOUND: looked in {} (from {origin}) for \
             inclusion/ and consistency/; set RFC6962_VECTORS_DIR to the folder holding them",
            dir.display()
        );
    }
    Ok(dir)
}

/// One inclusion case.
#[derive(Debug, Clone)]
pub struct InclusionCase {
    /// `<set>/<case>/<file>` relative to the vectors folder.
    pub name: String,
    /// `leafIdx`.
    pub leaf_index: u64,
    /// For a `subtreeinclusion/` case, the subtree's `start`; `None` for a plain case.
    pub start: Option<u64>,
    /// `treeSize` (for a subtree case: its `end`).
    pub tree_size: u64,
    /// `root`, decoded (any length).
    pub root: Vec<u8>,
    /// `leafHash`, decoded (any length).
    pub leaf_hash: Vec<u8>,
    /// `proof`, decoded (`null` is empty).
    pub proof: Vec<Vec<u8>>,
    /// Whether the verifier must reject the case.
    pub want_err: bool,
}

/// One consistency case.
#[derive(Debug, Clone)]
pub struct ConsistencyCase {
    /// `<set>/<case>/<file>` relative to the vectors folder.
    pub name: String,
    /// For a `subtreeconsistency/` case, the subtree's `start`; `None` for a plain case.
    pub start: Option<u64>,
    /// `size1` (for a subtree case: its `end`).
    pub size1: u64,
    /// `size2` (for a subtree case: its `size`).
    pub size2: u64,
    /// `root1`, decoded (any length).
    pub root1: Vec<u8>,
    /// `root2`, decoded (any length).
    pub root2: Vec<u8>,
    /// `proof`, decoded (`null` is empty).
    pub proof: Vec<Vec<u8>>,
    /// Whether the verifier must reject the case.
    pub want_err: bool,
}

/// Hashes that are all 32 bytes long, as `bytes32` / [`B256`] values; `None` when any
/// is not. A `bytes32` ABI argument cannot carry another length, so such a case is
/// rejected at the ABI (or type) boundary before any verifier runs.
pub fn as_b256s(hashes: &[&[u8]]) -> Option<Vec<B256>> {
    hashes
        .iter()
        .map(|h| (h.len() == 32).then(|| B256::from_slice(h)))
        .collect()
}

impl InclusionCase {
    /// `(leaf_hash, proof, root)` when every hash is 32 bytes.
    pub fn typed(&self) -> Option<(B256, Vec<B256>, B256)> {
        let leaf = as_b256s(&[&self.leaf_hash])?.pop()?;
        let root = as_b256s(&[&self.root])?.pop()?;
        let proof = as_b256s(&self.proof.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
        Some((leaf, proof, root))
    }
}

impl ConsistencyCase {
    /// `(root1, root2, proof)` when every hash is 32 bytes.
    pub fn typed(&self) -> Option<(B256, B256, Vec<B256>)> {
        let root1 = as_b256s(&[&self.root1])?.pop()?;
        let root2 = as_b256s(&[&self.root2])?.pop()?;
        let proof = as_b256s(&self.proof.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
        Some((root1, root2, proof))
    }
}

/// Every inclusion case: `inclusion/`, then `subtreeinclusion/`.
///
/// # Errors
/// When the folder is missing or a file does not parse.
pub fn load_inclusion_cases(dir: &Path) -> anyhow::Result<Vec<InclusionCase>> {
    let mut cases = Vec::new();
    for (name, v) in read_set(dir, "inclusion")? {
        cases.push(InclusionCase {
            leaf_index: u64_field(&v, "leafIdx", &name)?,
            start: None,
            tree_size: u64_field(&v, "treeSize", &name)?,
            root: hash_field(&v, "root", &name)?,
            leaf_hash: hash_field(&v, "leafHash", &name)?,
            proof: proof_field(&v, &name)?,
            want_err: bool_field(&v, "wantErr", &name)?,
            name,
        });
    }
    for (name, v) in read_set(dir, "subtreeinclusion")? {
        cases.push(InclusionCase {
            leaf_index: u64_field(&v, "leafIdx", &name)?,
            start: Some(u64_field(&v, "start", &name)?),
            tree_size: u64_field(&v, "end", &name)?,
            root: hash_field(&v, "root", &name)?,
            leaf_hash: hash_field(&v, "leafHash", &name)?,
            proof: proof_field(&v, &name)?,
            want_err: bool_field(&v, "wantErr", &name)?,
            name,
        });
    }
    Ok(cases)
}

/// Every consistency case: `consistency/`, then `subtreeconsistency/`.
///
/// # Errors
/// When the folder is missing or a file does not parse.
pub fn load_consistency_cases(dir: &Path) -> anyhow::Result<Vec<ConsistencyCase>> {
    let mut cases = Vec::new();
    for (name, v) in read_set(dir, "consistency")? {
        cases.push(ConsistencyCase {
            start: None,
            size1: u64_field(&v, "size1", &name)?,
            size2: u64_field(&v, "size2", &name)?,
            root1: hash_field(&v, "root1", &name)?,
            root2: hash_field(&v, "root2", &name)?,
            proof: proof_field(&v, &name)?,
            want_err: bool_field(&v, "wantErr", &name)?,
            name,
        });
    }
    for (name, v) in read_set(dir, "subtreeconsistency")? {
        cases.push(ConsistencyCase {
            start: Some(u64_field(&v, "start", &name)?),
            size1: u64_field(&v, "end", &name)?,
            size2: u64_field(&v, "size", &name)?,
            root1: hash_field(&v, "root1", &name)?,
            root2: hash_field(&v, "root2", &name)?,
            proof: proof_field(&v, &name)?,
            want_err: bool_field(&v, "wantErr", &name)?,
            name,
        });
    }
    Ok(cases)
}

/// `(name, json)` of every `*.json` file anywhere under `<dir>/<set>/` (cases sit one
/// or two folders deep), sorted by name. A missing set is an error: every case runs.
fn read_set(dir: &Path, set: &str) -> anyhow::Result<Vec<(String, Value)>> {
    let root = dir.join(set);
    if !root.is_dir() {
        bail!("vector set {} not found", root.display());
    }
    let mut out = Vec::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push((name, value));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn u64_field(v: &Value, key: &str, name: &str) -> anyhow::Result<u64> {
    v.get(key)
        .and_then(Value::as_u64)
        .with_context(|| format!("{name}: `{key}` is not a u64"))
}

fn bool_field(v: &Value, key: &str, name: &str) -> anyhow::Result<bool> {
    v.get(key)
        .and_then(Value::as_bool)
        .with_context(|| format!("{name}: `{key}` is not a bool"))
}

fn decode(s: &str, key: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    STANDARD
        .decode(s)
        .with_context(|| format!("{name}: `{key}` is not base64"))
}

fn hash_field(v: &Value, key: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    match v.get(key) {
        Some(Value::String(s)) => decode(s, key, name),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => bail!("{name}: `{key}` is {other}, not a base64 string"),
    }
}

fn proof_field(v: &Value, name: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    match v.get("proof") {
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => decode(s, "proof", name),
                Value::Null => Ok(Vec::new()),
                other => bail!("{name}: proof element {other} is not a base64 string"),
            })
            .collect(),
        Some(other) => bail!("{name}: `proof` is {other}, not an array"),
    }
}
