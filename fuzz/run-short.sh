#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60): bash fuzz/run-short.sh [SECONDS] [TARGET...]
# With FUZZ_RUNS=N (and FUZZ_SEED=S) each target runs exactly N inputs from seed S instead.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly compiler: `cargo +nightly` when
# one is installed, else stable with RUSTC_BOOTSTRAP=1. New inputs the fuzzer finds go to
# fuzz/target/corpus/<target> (scratch), never into the seeds in fuzz/corpus/<target>; a crash
# lands in fuzz/artifacts/<target>/. Exits non-zero if any target failed.
set -u
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(copybook_parse decode roundtrip frame routes_toml)
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
# Build once, then run the binaries: `cargo fuzz run` would rebuild whenever the tree changed.
"${fuzz[@]}" build || exit 2
bin="target/$(rustc -vV | sed -n 's/^host: //p')/release"
failed=0
for t in "${targets[@]}"; do
    mkdir -p "target/corpus/$t" "artifacts/$t"
    log="target/fuzz-$t.log"
    # FUZZ_RUNS and FUZZ_SEED make a run repeatable (CI): a fixed number of inputs from a fixed
    # seed, instead of as many as fit in SECONDS from a random one.
    budget=(-max_total_time="$secs")
    [ -n "${FUZZ_RUNS:-}" ] && budget=(-runs="$FUZZ_RUNS")
    [ -n "${FUZZ_SEED:-}" ] && budget+=(-seed="$FUZZ_SEED")
    "$bin/$t" -artifact_prefix="artifacts/$t/" "${budget[@]}" -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "target/corpus/$t" "corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    if [ $rc -eq 0 ]; then
        echo "$t: ok, ${runs:-?} executions, ${cov:-cov ?} (log: fuzz/$log)"
    else
        failed=1
        echo "$t: FAILED (exit $rc), ${runs:-?} executions; see fuzz/$log and fuzz/artifacts/$t/"
        grep -m3 -E 'panicked|ERROR|SUMMARY' "$log" | sed 's/^/    /'
    fi
done
exit $failed
