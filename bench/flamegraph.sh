#!/usr/bin/env bash
# One flame graph per route of the proxy benchmark: `ficus serve` profiled with perf while the
# benchmark holds it at saturation, folded and drawn with inferno (a maintained crate:
# `cargo install inferno`). Needs perf (Debian: linux-perf) and permission to profile
# (perf_event_paranoid ≤ 1, or root).
#
#   bash bench/flamegraph.sh            # both routes: docs/flamegraph-legacy.svg, docs/flamegraph-http-json.svg
#   bash bench/flamegraph.sh d          # only (d), the http-json route
#
# The proxy benchmark's targets: c = legacy route (framed TCP to the host), d = http-json route
# (the `accounts` JSON service). Each run: 1 s warm-up, 12 s fixed rate, then saturation; perf
# samples ficus for 5 s of the saturation phase at 2,000 Hz with DWARF call graphs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v perf >/dev/null || { echo "flamegraph: perf is not installed (apt install linux-perf)" >&2; exit 2; }
command -v inferno-flamegraph >/dev/null || { echo "flamegraph: inferno is not installed (cargo install inferno)" >&2; exit 2; }
targets=("${@:-c d}")
cargo bench --bench proxy --no-run -q 2>/dev/null
for t in ${targets[@]}; do
  case "$t" in
    c) name=legacy ;;
    d) name=http-json ;;
    *) echo "flamegraph: target $t: use c (legacy) or d (http-json)" >&2; exit 2 ;;
  esac
  log=$(mktemp)
  cargo bench --bench proxy -- --targets "$t" --seconds 12 --warmup 1 --retries 0 >"$log" 2>&1 &
  bench=$!
  # The fixed-rate phase takes 13 s after ficus starts; sample inside the saturation phase.
  pid=
  for _ in $(seq 1 100); do
    pid=$(pgrep -n -f 'target/release/ficus serve' || true)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || { echo "flamegraph: ficus did not start; see $log" >&2; exit 1; }
  sleep 16
  data=$(mktemp)
  perf record -F 2000 -g --call-graph dwarf,16384 -p "$pid" -o "$data" -- sleep 5 2>/dev/null
  wait "$bench" || true
  # Frames narrower than 2 px of the 1200 px picture (about 0.17% of samples) are left out:
  # the picture stays readable and the file small.
  perf script -i "$data" 2>/dev/null | inferno-collapse-perf | inferno-flamegraph --minwidth 2 \
    --title "ficus serve, proxy bench ($t) $name route at saturation" > "docs/flamegraph-$name.svg"
  rm -f "$data"
  echo "docs/flamegraph-$name.svg ($(grep -E "^\| \($t\)" "$log" | grep saturation | cut -d'|' -f5 | tr -d ' ') req/s while sampled)"
  rm -f "$log"
done
