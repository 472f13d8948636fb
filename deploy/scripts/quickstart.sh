#!/usr/bin/env bash
# The whole story on a fresh machine: install the pinned tools, build `bridge`, start a
# three-chain devnet (alpha: our registry + the real EAS contracts; beta: a third-party
# HashStore read by a mapped source; gamma), run three partner attestors (threshold 2)
# and the relaying bridge, anchor a sample IOU on chain
# alpha, wait until it is provable on chain beta, print the lookup and the verification,
# then attest the same IOU with EAS on alpha and prove that attestation on beta too, write
# the IOU's evidence certificate to devnet/sample-iou-certificate.pdf (and verify it), and
# keep running until interrupted (Ctrl-C). Everything lives in ./devnet (delete it to
# start afresh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

bash deploy/scripts/install-tools.sh
echo "==> building bridge (release)"
cargo build --release --locked -p evidence-bridge
bridge="$root/target/release/bridge"
export ANVIL_BIN="$root/deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

dir="$root/devnet"
rm -rf "$dir"
mkdir -p "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting the devnet (logs: devnet/devnet.log)"
"$bridge" devnet up --dir "$dir" >"$dir/devnet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  [ -f "$dir/bridge.toml" ] && [ -f "$dir/devnet.env" ] && grep -q "running until interrupted" "$dir/devnet.log" && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then cat "$dir/devnet.log"; echo "devnet failed to start" >&2; exit 1; fi
  sleep 0.5
done
cat "$dir/devnet.log"
set -a; . "$dir/devnet.env"; set +a
config="$dir/relayer.toml"

# Three partners, each its own attest-only `bridge run` with ONE attestor key and its
# own store, and a relaying instance that holds no attestor key and needs two of their
# signatures for every checkpoint (the mirrors' threshold).
for n in 1 2 3; do
  echo "==> starting partner $n's attestor (logs: devnet/partner-$n.log)"
  env -u BRIDGE_ATTESTOR_KEYS -u BRIDGE_RELAYER_KEY "$bridge" run --config "$dir/partner-$n.toml" >"$dir/partner-$n.log" 2>&1 &
  pids+=($!)
done
echo "==> starting the relaying bridge (logs: devnet/bridge.log)"
env -u BRIDGE_ATTESTOR_KEYS "$bridge" run --config "$config" >"$dir/bridge.log" 2>&1 &
pids+=($!)
page=$(sed -n 's/^listen = "\(.*\)"$/http:\/\/\1\//p' "$config" | head -1)

iou="$dir/sample-iou.txt"
cat >"$iou" <<'TXT'
IOU — sample document for the Evidence Bridge quick start.
The borrower owes the lender 1,000.00, to be repaid by 2027-06-30.
(Only this file's SHA-256 digest leaves this machine.)
TXT
echo "==> anchoring $iou on chain alpha"
"$bridge" anchor --config "$config" --chain alpha --file "$iou" --kind iou --json | tee "$dir/anchor.json"
record_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["record_id"])' "$dir/anchor.json")

echo "==> waiting until record $record_id is provable on beta"
start=$(date +%s)
until "$bridge" proof --config "$config" "$record_id" --to beta -o "$dir/iou.bundle.json" >/dev/null 2>&1; do
  if [ $(( $(date +%s) - start )) -gt 180 ]; then
    echo "not provable after 180 s; bridge log:" >&2; tail -50 "$dir/bridge.log" >&2; exit 1
  fi
  sleep 1
done
echo "provable on beta after $(( $(date +%s) - start )) s"
echo "==> waiting for the devnet TSA's RFC 3161 timestamp of that checkpoint (bundle v3 \`timestamps\`)"
has_ts() { python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("timestamps") else 1)' "$1"; }
start=$(date +%s)
until has_ts "$dir/iou.bundle.json"; do
  if [ $(( $(date +%s) - start )) -gt 60 ]; then
    echo "no timestamp after 60 s; bridge log:" >&2; grep -i timestamp "$dir/bridge.log" | tail -20 >&2; exit 1
  fi
  sleep 1
  "$bridge" proof --config "$config" "$record_id" --to beta -o "$dir/iou.bundle.json" >/dev/null
done

echo "==> lookup"
"$bridge" lookup --config "$config" --file "$iou"
echo "==> verify the proof bundle (offline checks + the mirror contract on beta)"
"$bridge" verify "$dir/iou.bundle.json" --config "$config"
echo "==> export the trust root (every mirror's attestor sets, first sets pinned, and the TSA roots) and verify offline against it"
"$bridge" trust export --config "$config" -o "$dir/trust.json"
"$bridge" verify "$dir/iou.bundle.json" --offline --trust "$dir/trust.json" | tee "$dir/verify.txt"
echo "RFC 3161 time of the checkpoint (devnet TSA): $(sed -n 's/.*RFC 3161 time \([^,]*\),.*/\1/p' "$dir/verify.txt" | head -1)"

echo "==> attesting $iou with EAS on chain alpha (bridge devnet attest-eas)"
"$bridge" devnet attest-eas --config "$config" --chain alpha --file "$iou" --note "quick start" --json | tee "$dir/eas.json"
eas_record=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["record_id"])' "$dir/eas.json")
echo "==> waiting until the EAS attestation (record $eas_record) is provable on beta"
start=$(date +%s)
until "$bridge" proof --config "$config" "$eas_record" --to beta -o "$dir/eas.bundle.json" >/dev/null 2>&1; do
  if [ $(( $(date +%s) - start )) -gt 180 ]; then
    echo "not provable after 180 s; bridge log:" >&2; tail -50 "$dir/bridge.log" >&2; exit 1
  fi
  sleep 1
done
echo "EAS attestation provable on beta after $(( $(date +%s) - start )) s"
"$bridge" verify "$dir/eas.bundle.json" --config "$config"

certificate="$dir/sample-iou-certificate.pdf"
echo "==> writing the evidence certificate (存证证书) of the IOU, with its proof bundle on beta attached"
"$bridge" certificate --config "$config" "$record_id" --to beta -o "$certificate"
echo "==> verify the certificate offline (the bundle attached to the PDF, against the trust root)"
"$bridge" verify "$certificate" --offline --trust "$dir/trust.json"
echo
echo "The evidence certificate of the sample IOU is at $certificate"
echo "  (one A4 page, English and Chinese; its QR code opens the lookup page on the IOU's digest)."
echo "The devnet, the three partners and the bridge keep running; try:"
echo "  the lookup page: $page (drop devnet/sample-iou.txt on it)"
echo "  set -a; . devnet/devnet.env; set +a"
echo "  target/release/bridge status --config devnet/relayer.toml"
echo "  target/release/bridge status --config devnet/partner-1.toml   # partner 1's own view"
echo "  target/release/bridge verify devnet/iou.bundle.json --offline --trust devnet/trust.json"
echo "  target/release/bridge verify devnet/sample-iou-certificate.pdf --offline --trust devnet/trust.json"
echo "Press Ctrl-C to stop."
wait
