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

# The store tests run on SQLite and on PostgreSQL (a fresh database per test on
# EB_TEST_POSTGRES_URL). Make sure the server answers; start the local cluster if not.
export EB_TEST_POSTGRES_URL="${EB_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_answers() { pg_isready -q -d "$EB_TEST_POSTGRES_URL" 2>/dev/null; }
echo "==> PostgreSQL at $EB_TEST_POSTGRES_URL"
if ! pg_answers; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  fi
fi
if ! pg_answers; then
  echo "!!! PostgreSQL is not answering at $EB_TEST_POSTGRES_URL and could not be started." >&2
  echo "!!! Start it (e.g. pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)" >&2
  echo "!!! or set EB_TEST_POSTGRES_URL to a server where the user may CREATE DATABASE." >&2
  exit 1
fi

echo "==> contract artifacts match a fresh compile"
node deploy/scripts/compile.js --check
echo "==> EAS artifacts match the pinned npm package"
node deploy/scripts/eas-artifacts.js --check

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (workspace, all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

# cargo-nextest runs each test in its own process, the test binaries side by side
# (.ci/nextest.toml): the integration tests mostly wait on anvil, PostgreSQL and the
# bridge binary, so this takes a fraction of `cargo test`'s one-binary-after-another
# time. nextest runs no doc tests; `cargo test --doc` does. Without nextest the same
# tests run under `cargo test`.
if cargo nextest --version >/dev/null 2>&1; then
  echo "==> cargo nextest run (workspace)"
  cargo nextest run --workspace --locked --no-fail-fast --config-file .ci/nextest.toml 2>&1
  echo "==> cargo test --doc (workspace)"
  cargo test --workspace --locked --doc 2>&1
else
  echo "==> cargo test (workspace; cargo-nextest is not installed)"
  cargo test --workspace --locked --no-fail-fast 2>&1
fi
