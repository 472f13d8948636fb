#!/usr/bin/env bash
# Installs the project's pinned tools into deploy/node_modules: the anvil dev node
# (npm package @foundry-rs/anvil-linux-amd64), the Solidity compiler (npm solc) and
# playwright-core (drives the browser test of the lookup page), and @noble/curves +
# @noble/hashes, bundled with the pinned esbuild into bridge/assets/vendor/noble.mjs
# (git-ignored; the bridge binary embeds it at build time, so run this script before
# `cargo build`: the build stops and says so when the file is missing). The browser itself is
# Debian's `chromium` package, installed with apt-get when /usr/bin/chromium is missing
# (CI runs as root; elsewhere run the script with sudo or install chromium yourself).
# Safe to run repeatedly.
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

# The lookup page's signature checks: noble from npm, one ES module the binary embeds.
node "$here/scripts/bundle-noble.js"

chromium="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "==> $chromium is missing: installing Debian's chromium (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $chromium is missing and this is not root; run 'sudo apt-get install chromium' (or set CHROMIUM_BIN to a Chromium binary)" >&2
    exit 2
  fi
  need apt-get "install Chromium by hand and set CHROMIUM_BIN to it"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends chromium >/dev/null; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends chromium >/dev/null
  fi
  [ -x "$chromium" ] || { echo "error: apt-get ran but $chromium is still missing; install Chromium by hand" >&2; exit 2; }
fi

# A CJK font, so the Chinese page renders in the browser test's screenshots.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && [ "$(id -u)" -eq 0 ]; then
  echo "==> installing a Chinese font for the page screenshots (apt-get fonts-wqy-microhei)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei >/dev/null \
    || echo "warning: no Chinese font installed; the browser test still checks the Chinese text, but screenshots show boxes" >&2
fi

# schemathesis (PyPI, pinned) in a project-local venv, deploy/.venv: the API test runs
# it against a devnet `bridge run` (tests/tests/api_schemathesis.rs). Needs python3 with
# venv (Debian: python3-venv, installed here when missing and root).
schemathesis_version="4.32.5"
venv="$here/.venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version"; then
  echo "==> installing schemathesis $schemathesis_version into deploy/.venv (pip)"
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null
    else
      echo "error: python3 venv is missing; run 'sudo apt-get install python3-venv'" >&2
      exit 2
    fi
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

anvil="$here/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
if ! "$anvil" --version >/dev/null 2>&1; then
  echo "error: anvil at $anvil does not run; delete deploy/node_modules and retry" >&2
  exit 2
fi
echo "==> tools ready: $("$anvil" --version | head -1), solc $(node -e "console.log(require('$here/node_modules/solc/package.json').version)"), playwright-core $(node -e "console.log(require('$here/node_modules/playwright-core/package.json').version)"), noble bundle $(head -1 "$here/../bridge/assets/vendor/noble.mjs" | sed 's|^// ||; s| (MIT.*||'), $("$chromium" --version 2>/dev/null | head -1), $("$venv/bin/schemathesis" --version 2>/dev/null | head -1)"
