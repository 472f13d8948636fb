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
# apt-get install PACKAGE quietly, refreshing the package lists once if needed (root).
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "$1" >/dev/null; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "$1" >/dev/null
  fi
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
  apt_install chromium
  [ -x "$chromium" ] || { echo "error: apt-get ran but $chromium is still missing; install Chromium by hand" >&2; exit 2; }
fi

# A CJK font, so the Chinese page renders in the browser test's screenshots.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && [ "$(id -u)" -eq 0 ]; then
  echo "==> installing a Chinese font for the page screenshots (apt-get fonts-wqy-microhei)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei >/dev/null \
    || echo "warning: no Chinese font installed; the browser test still checks the Chinese text, but screenshots show boxes" >&2
fi

# The evidence certificate (issue 15): `bridge certificate` sets its text in Debian's
# fonts-wqy-microhei (the binary reads /usr/share/fonts/truetype/wqy/wqy-microhei.ttc, or
# BRIDGE_CERT_FONT), and its tests read the PDF back with poppler-utils (pdftotext,
# pdftoppm, pdfinfo, pdffonts, pdfdetach) and decode its QR code with zbar-tools (zbarimg).
cert_pkgs=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || cert_pkgs+=(fonts-wqy-microhei)
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && command -v pdfdetach >/dev/null 2>&1 || cert_pkgs+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || cert_pkgs+=(zbar-tools)
if [ "${#cert_pkgs[@]}" -gt 0 ]; then
  echo "==> installing ${cert_pkgs[*]} for the evidence certificate and its tests (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: ${cert_pkgs[*]} missing and this is not root; run 'sudo apt-get install ${cert_pkgs[*]}'" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${cert_pkgs[@]}" >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "${cert_pkgs[@]}" >/dev/null
  fi
fi

# RFC 3161 timestamps (issue 15): the devnet's TSA and the tests run OpenSSL's `ts`
# (`openssl ts -reply` / `-verify`), from Debian's openssl package.
if ! command -v openssl >/dev/null 2>&1; then
  echo "==> openssl is missing: installing Debian's openssl (apt-get)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: openssl is missing and this is not root; run 'sudo apt-get install openssl'" >&2
    exit 2
  fi
  need apt-get "install OpenSSL by hand (the \`openssl\` command with its \`ts\` subcommand)"
  apt_install openssl
fi
openssl ts -help >/dev/null 2>&1 || { echo "error: this openssl has no 'ts' command (RFC 3161); install Debian's openssl" >&2; exit 2; }

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
echo "==> tools ready: $("$anvil" --version | head -1), solc $(node -e "console.log(require('$here/node_modules/solc/package.json').version)"), playwright-core $(node -e "console.log(require('$here/node_modules/playwright-core/package.json').version)"), noble bundle $(head -1 "$here/../bridge/assets/vendor/noble.mjs" | sed 's|^// ||; s| (MIT.*||'), $("$chromium" --version 2>/dev/null | head -1), $(openssl version | cut -d' ' -f1-2), $("$venv/bin/schemathesis" --version 2>/dev/null | head -1)"
