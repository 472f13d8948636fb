//! Checks that the lookup page's noble bundle (`assets/vendor/noble.mjs`: keccak-256,
//! SHA-256 and secp256k1 from the npm packages `@noble/hashes` and `@noble/curves`,
//! bundled by `deploy/scripts/bundle-noble.js`) is there before the crate embeds it
//! with `include_bytes!`. The file is generated, never committed:
//! `bash deploy/scripts/install-tools.sh` writes it.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=assets/vendor/noble.mjs");
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let bundle = Path::new(&manifest).join("assets/vendor/noble.mjs");
    if !bundle.is_file() {
        eprintln!(
            "error: {} is missing: the lookup page's signature checks use @noble/curves and @noble/hashes \
             from npm, bundled into that file at build time. Run bash deploy/scripts/install-tools.sh \
             (from the repository root), then build again.",
            bundle.display()
        );
        std::process::exit(1);
    }
}
