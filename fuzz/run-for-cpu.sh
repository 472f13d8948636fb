#!/usr/bin/env bash
# Runs one fuzz target until its fuzzing process has used CPU_SECS seconds of CPU
# (user + sys, from /proc/PID/stat; default 630 = 10.5 CPU-minutes), then stops it with
# SIGINT so libFuzzer prints its final stats. Wall-clock limits (-max_total_time) say
# little on a loaded machine; this measures what the fuzzer actually got.
#   usage: fuzz/run-for-cpu.sh TARGET      (after `cargo +nightly fuzz build -s none`)
#   output: fuzz/work/TARGET.log; the corpus grows in fuzz/work/TARGET/
set -euo pipefail
t=${1:?usage: run-for-cpu.sh TARGET}
cpu_target=${CPU_SECS:-630}
cd "$(dirname "$0")"
bin=target/x86_64-unknown-linux-gnu/release/$t
[ -x "$bin" ] || { echo "no $bin: run 'cargo +nightly fuzz build -s none $t' first" >&2; exit 2; }
mkdir -p "work/$t" "artifacts/$t"
log=work/$t.log
"$bin" -artifact_prefix="$PWD/artifacts/$t/" -max_total_time=86400 -print_final_stats=1 \
  "work/$t" "corpus/$t" > "$log" 2>&1 &
pid=$!
tck=$(getconf CLK_TCK)
cpu=0
while kill -0 "$pid" 2>/dev/null; do
  read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat")
  cpu=$(( (ut + st) / tck ))
  if [ "$cpu" -ge "$cpu_target" ]; then kill -INT "$pid"; break; fi
  sleep 5
done
wait "$pid" || true
echo "$t: ${cpu} CPU-seconds; $(grep -E '^stat::number_of_executed_units' "$log" || echo 'no final stats: see the log')"
if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then echo "$t: CRASH inputs in fuzz/artifacts/$t/" >&2; exit 1; fi
