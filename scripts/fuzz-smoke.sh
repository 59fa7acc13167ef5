#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a few seconds from its corpus (fuzz/corpus/,
# grown locally) and its committed seeds (fuzz/seeds/). Fails on the first crash and
# prints its input file. Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] (default 10).
#
# Stable toolchain: `--sanitizer none` keeps cargo-fuzz off `-Zsanitizer` (nightly-only);
# the coverage instrumentation it uses (`-Cpasses=sancov-module`, `-Cllvm-args=…`) is
# stable, and debug assertions + overflow checks (fuzz/Cargo.toml) catch what
# AddressSanitizer would not anyway in `forbid(unsafe_code)` crates.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-10}
export RUST_LIB_BACKTRACE=0

command -v cargo-fuzz >/dev/null || {
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 1
}
cargo fuzz build --sanitizer none -O
bin=target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list | grep -vx seed_corpora); do
  mkdir -p "corpus/$target" "artifacts/$target"
  if ! output=$("$bin/$target" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" "corpus/$target" "seeds/$target" 2>&1); then
    echo "$output" | tail -40
    echo "fuzz-smoke: $target crashed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  execs=$(echo "$output" | awk '/stat::number_of_executed_units/ {print $2}')
  printf '%-22s %12s executions in %ss\n' "$target" "$execs" "$secs"
done
