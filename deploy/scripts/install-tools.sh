#!/usr/bin/env bash
# Installs the project's pinned tools into deploy/node_modules: the anvil dev node
# (npm package @foundry-rs/anvil-linux-amd64) and the Solidity compiler (npm solc).
# Nothing is installed globally. Safe to run repeatedly.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is not installed; $2" >&2; exit 2; }
}
need node "install Node.js 20+ (Debian: apt-get install nodejs npm)"
need npm "install npm (Debian: apt-get install npm)"
need cargo "install the Rust toolchain (https://rustup.rs)"

stamp="$here/node_modules/.installed-from-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$here/package-lock.json" "$stamp"; then
  echo "==> installing pinned tools into deploy/node_modules (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi

anvil="$here/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
if ! "$anvil" --version >/dev/null 2>&1; then
  echo "error: anvil at $anvil does not run; delete deploy/node_modules and retry" >&2
  exit 2
fi
echo "==> tools ready: $("$anvil" --version | head -1), solc $(node -e "console.log(require('$here/node_modules/solc/package.json').version)")"
