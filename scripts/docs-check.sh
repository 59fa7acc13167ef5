#!/usr/bin/env bash
# Checks the documentation against the code, so the two cannot drift apart:
#   1. docs/configuration.md is what the config structs render to (a cargo test);
#   2. every metric crates/telemetry/src/metrics.rs registers is described in
#      docs/operations.md, and so is every alert of the PrometheusRule;
#   3. every RPC of the proto is described in docs/api.md;
#   4. every relative link in README.md and docs/*.md points to a file that exists.
# Run from anywhere: `just docs-check`, or .ci/run (which runs it last).
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() {
  printf 'docs-check: %s\n' "$*" >&2
  failures=$((failures + 1))
}

echo "== docs/configuration.md against the config structs"
if ! RUST_LIB_BACKTRACE=0 cargo test -q --locked -p trustmint --test end_to_end docs_configuration::; then
  fail "docs/configuration.md is out of date or a key is undocumented; regenerate with: TRUSTMINT_BLESS_DOCS=1 cargo test -p trustmint --test end_to_end docs_configuration"
fi

echo "== metrics and alerts in docs/operations.md"
# Metric names are the string literals of metrics.rs outside its test module.
metrics=$(sed '/^#\[cfg(test)\]/,$d' crates/telemetry/src/metrics.rs |
  grep -oE '"trustmint_[a-z0-9_]+"' | tr -d '"' | sort -u)
[ -n "$metrics" ] || fail "no metric names found in crates/telemetry/src/metrics.rs"
for metric in $metrics; do
  grep -qF "\`$metric\`" docs/operations.md || fail "metric $metric is not described in docs/operations.md"
done
rules=deploy/kubernetes/prometheusrule.yaml
if [ -f "$rules" ]; then
  for alert in $(grep -oE 'alert: *[A-Za-z0-9]+' "$rules" | awk '{print $2}'); do
    grep -qF "\`$alert\`" docs/operations.md || fail "alert $alert ($rules) is not described in docs/operations.md"
  done
fi
echo "   $(echo "$metrics" | wc -l) metrics checked"
# The `op` label values: every store call the use cases time.
ops=$(grep -rhoEz '(store_call|observe_registry_call)\(\s*"[a-z_]+"' crates/exchange/src |
  tr '\0' '\n' | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
for op in $ops; do
  grep -qF "\`$op\`" docs/operations.md || fail "store operation $op (crates/exchange) is not listed in docs/operations.md"
done
echo "   $(echo "$ops" | wc -w) store operations checked"

echo "== RPCs in docs/api.md"
if [ -f docs/api.md ]; then
  rpcs=0
  for rpc in $(grep -ohE '^\s*rpc +[A-Za-z0-9]+' proto/trustmint/v1/*.proto | awk '{print $2}' | sort -u); do
    grep -qF "$rpc" docs/api.md || fail "RPC $rpc (proto/trustmint/v1) is not described in docs/api.md"
    rpcs=$((rpcs + 1))
  done
  echo "   $rpcs RPCs checked"
else
  echo "   notice: docs/api.md does not exist yet; RPC check skipped"
fi

echo "== relative links in README.md and docs/*.md"
links=0
for doc in README.md docs/*.md; do
  dir=$(dirname "$doc")
  # ](target) links; drop external ones, pure anchors and the anchor part.
  while IFS= read -r target; do
    case "$target" in
      http://* | https://* | mailto:* | '#'*) continue ;;
    esac
    path=${target%%#*}
    [ -e "$dir/$path" ] || fail "$doc links to $target, which does not exist"
    links=$((links + 1))
  done < <(grep -oE '\]\([^) ]+\)' "$doc" | sed -E 's/^\]\((.*)\)$/\1/')
done
echo "   $links relative links checked"

if [ "$failures" -gt 0 ]; then
  echo "docs-check: $failures problem(s)" >&2
  exit 1
fi
echo "docs-check: OK"
