#!/usr/bin/env bash
# Builds a Debian package of Evidence Bridge (evidence-bridge_<version>_<arch>.deb) with
# Debian's own dpkg-deb from a staged tree — no cargo-deb needed:
#
#   /usr/bin/bridge                                   the binary
#   /lib/systemd/system/evidence-bridge.service       the hardened unit (deploy/systemd)
#   /etc/evidence-bridge/bridge.toml                  the example config (a conffile)
#   /usr/share/doc/evidence-bridge/                   OPERATIONS.md, VERIFYING.md, the example, copyright
#
# The postinst creates the `bridge` system user and reloads systemd; when dpkg installs
# into another root (DPKG_ROOT set, e.g. `dpkg --root DIR --force-script-chrootless`) it
# touches nothing outside that root.
#
# Usage: deploy/scripts/package-deb.sh [--release | --bin PATH] [--out DIR] [--fast]
#   --release   build and package target/release/bridge (cargo build --release --locked)
#   --bin PATH  package this already built binary (default: target/debug/bridge)
#   --out DIR   where to write the .deb (default: target/deb)
#   --fast      no compression (for tests: a debug binary is large)
# Prints the path of the .deb on its last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/target/debug/bridge"
out="$root/target/deb"
compress=(-Zxz)
while [ $# -gt 0 ]; do
  case "$1" in
    --release) (cd "$root" && cargo build --release --locked --workspace >&2); bin="$root/target/release/bridge"; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fast) compress=(-Znone); shift ;;
    *) echo "error: unknown argument $1 (use --release, --bin PATH, --out DIR, --fast)" >&2; exit 2 ;;
  esac
done
command -v dpkg-deb >/dev/null || { echo "error: dpkg-deb is missing (Debian: apt-get install dpkg)" >&2; exit 2; }
[ -x "$bin" ] || { echo "error: no bridge binary at $bin (cargo build --workspace, or pass --release / --bin PATH)" >&2; exit 2; }

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
arch="$(dpkg --print-architecture)"
[ -n "$version" ] || { echo "error: no version in $root/Cargo.toml" >&2; exit 2; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/evidence-bridge"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/evidence-bridge" "$pkg/usr/share/doc/evidence-bridge"
install -m 0755 "$bin" "$pkg/usr/bin/bridge"
# The unit as shipped, with the packaged binary's path.
sed 's|/usr/local/bin/bridge|/usr/bin/bridge|g' "$root/deploy/systemd/bridge.service" >"$pkg/lib/systemd/system/evidence-bridge.service"
chmod 0644 "$pkg/lib/systemd/system/evidence-bridge.service"
install -m 0640 "$root/deploy/config/production.example.toml" "$pkg/etc/evidence-bridge/bridge.toml"
install -m 0644 "$root/deploy/config/production.example.toml" "$root/docs/OPERATIONS.md" "$root/docs/VERIFYING.md" "$pkg/usr/share/doc/evidence-bridge/"
cat >"$pkg/usr/share/doc/evidence-bridge/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: evidence-bridge
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
COPYRIGHT

size_kib="$(du -sk "$pkg" --exclude=DEBIAN | cut -f1)"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: evidence-bridge
Version: $version
Architecture: $arch
Maintainer: Evidence Bridge maintainers <maintainers@example.invalid>
Installed-Size: $size_kib
Section: net
Priority: optional
Homepage: https://example.invalid/evidence-bridge
Description: Evidence Bridge: prove evidence anchored on one EVM chain from another
 Indexes evidence registries on several EVM chains, builds an RFC 6962 log per chain,
 has independent attestors sign checkpoints and relays them to mirror contracts on the
 other chains; verifies proof bundles offline or against the chains. Includes the
 hardened systemd unit (evidence-bridge.service) and an example configuration in
 /etc/evidence-bridge/bridge.toml.
CONTROL
echo "/etc/evidence-bridge/bridge.toml" >"$pkg/DEBIAN/conffiles"
cat >"$pkg/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
# Installed into another root (dpkg --root): touch nothing outside it.
if [ -n "${DPKG_ROOT:-}" ]; then exit 0; fi
if [ "$1" = "configure" ]; then
  if ! getent passwd bridge >/dev/null; then
    adduser --system --group --home /var/lib/evidence-bridge --no-create-home --shell /usr/sbin/nologin bridge >/dev/null 2>&1 \
      || useradd --system --user-group --home-dir /var/lib/evidence-bridge --shell /usr/sbin/nologin bridge
  fi
  chgrp bridge /etc/evidence-bridge /etc/evidence-bridge/bridge.toml 2>/dev/null || true
  chmod 0750 /etc/evidence-bridge
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
  echo "evidence-bridge: edit /etc/evidence-bridge/bridge.toml and /etc/evidence-bridge/bridge.env, check with 'bridge config check --config /etc/evidence-bridge/bridge.toml', then 'systemctl enable --now evidence-bridge'"
fi
POSTINST
cat >"$pkg/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -n "${DPKG_ROOT:-}" ]; then exit 0; fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
POSTRM
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/evidence-bridge_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${compress[@]}" --build "$pkg" "$deb" >&2
echo "$deb"
