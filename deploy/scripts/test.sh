#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs the pinned tools, checks the
# committed contract artifacts against a fresh compile, then runs every Rust test
# (unit, property, conformance vectors, and integration tests against real anvil nodes).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

bash deploy/scripts/install-tools.sh

vectors="${RFC6962_VECTORS_DIR:-$root/../shared/testdata/rfc6962}"
if [ ! -d "$vectors/inclusion" ]; then
  echo "!!! RFC 6962 conformance vectors NOT FOUND at $vectors" >&2
  echo "!!! set RFC6962_VECTORS_DIR to the folder holding inclusion/ and consistency/; the conformance tests will fail without them" >&2
fi
export RFC6962_VECTORS_DIR="$vectors"
export ANVIL_BIN="${ANVIL_BIN:-$root/deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}"

echo "==> contract artifacts match a fresh compile"
node deploy/scripts/compile.js --check
echo "==> EAS artifacts match the pinned npm package"
node deploy/scripts/eas-artifacts.js --check

echo "==> cargo test (workspace)"
cargo test --workspace --locked --no-fail-fast 2>&1
