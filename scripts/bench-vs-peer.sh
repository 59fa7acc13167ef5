#!/usr/bin/env bash
# trustmint side by side with the yardstick peer (PyPI's mint path on PyPI's libraries,
# /work/shared/yardstick or $YARDSTICK_DIR), one after the other, on the same machine,
# the same fresh Redis, the same JWKS, the same JWTs and the same `wrk` load.
#
# trustmint runs as a user would deploy it: release build, Redis store, audit stream,
# metrics, rate limiting on (limit far above the load) and JSON logs. Prints both rates,
# both p99s and the ratio; writes target/bench/vs-peer.json.
#
# Environment: YARDSTICK_DIR, TOKENS_N (400000), THREADS (2), CONNECTIONS (32),
# DURATION (8s), PEER_WORKERS (4), RUNS (1: each side runs this many times, alternating;
# the best run of each side is reported, all runs are in the JSON), TRUSTMINT_BIN (a
# trustmint binary to run instead of building target/release/trustmint), OUTPUT (the
# JSON report, default target/bench/vs-peer.json), PERF_RECORD (a path: `perf record -g`
# the whole machine during trustmint's first run, for profiling; report with --pid).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
YARDSTICK_DIR=${YARDSTICK_DIR:-/work/shared/yardstick}
TOKENS_N=${TOKENS_N:-400000}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-8s}
PEER_WORKERS=${PEER_WORKERS:-4}
RUNS=${RUNS:-1}
OUT=$ROOT/target/bench
WORK=$OUT/vs-peer
VENV=$OUT/peer-venv
export PERF_DIR=${PERF_DIR:-/tmp/trustmint-perf}
ISS=https://token.actions.githubusercontent.com
mkdir -p "$WORK"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url, what
    for _ in $(seq 1 300); do
        if curl -s -o /dev/null "$1"; then return 0; fi
        sleep 0.1
    done
    echo "bench-vs-peer: $2 did not come up at $1" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    echo "bench-vs-peer: installing wrk (apt-get install -y wrk)"
    apt-get install -y wrk >/dev/null
fi
if [ ! -x "$VENV/bin/gunicorn" ]; then
    echo "bench-vs-peer: installing the yardstick's Python dependencies into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q flask gunicorn redis pyjwt cryptography pymacaroons requests
fi
if [ -z "${TRUSTMINT_BIN:-}" ]; then
    echo "bench-vs-peer: building trustmint (release)"
    (cd "$ROOT" && cargo build --release --locked -p trustmint)
    TRUSTMINT_BIN=$ROOT/target/release/trustmint
fi
OUTPUT=${OUTPUT:-$OUT/vs-peer.json}

# --- JWTs and their JWKS (cached by tokens.py for 4 h) -------------------------------------
echo "bench-vs-peer: $TOKENS_N JWTs (made once, cached under $PERF_DIR)"
TOKENS=$(cd "$YARDSTICK_DIR" && "$VENV/bin/python" tokens.py "$TOKENS_N")
(cd "$YARDSTICK_DIR" && "$VENV/bin/python" -c 'import json, tokens; print(json.dumps(tokens.jwks()))') \
    >"$WORK/jwks.json"

# --- the shared parts: Redis and the JWKS server ------------------------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile "$WORK/redis.log" &
pids+=($!)
JWKS_PORT=$(free_port)
"$VENV/bin/python" -m http.server "$JWKS_PORT" --bind 127.0.0.1 --directory "$WORK" \
    >"$WORK/jwks-server.log" 2>&1 &
pids+=($!)
JWKS_URL=http://127.0.0.1:$JWKS_PORT/jwks.json
wait_http "$JWKS_URL" "the JWKS server"
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

# --- one side under load -----------------------------------------------------------------
# Prints "ok secs p50_us p99_us" of one wrk run against `$1`.
load() {
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    local result
    result=$(cd "$YARDSTICK_DIR" && TOKENS=$TOKENS THREADS=$THREADS \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s post.lua "$1" | grep '^RESULT')
    # RESULT ok=… bad=… secs=… p50_us=… p99_us=…
    echo "$result" | sed -E 's/.*ok=([0-9]+) bad=([0-9]+) secs=([0-9.]+) p50_us=([0-9]+) p99_us=([0-9]+).*/\1 \2 \3 \4 \5/'
}

start_peer() {
    PEER_PORT=$(free_port)
    PEER_ISS=$ISS PEER_JWKS=$JWKS_URL PEER_REDIS=redis://127.0.0.1:$REDIS_PORT/0 \
        "$VENV/bin/gunicorn" -w "$PEER_WORKERS" -b 127.0.0.1:"$PEER_PORT" --chdir "$YARDSTICK_DIR" \
        app:app >"$WORK/peer.log" 2>&1 &
    PEER_PID=$!
    pids+=("$PEER_PID")
    wait_http "http://127.0.0.1:$PEER_PORT/" "the peer"
}

start_trustmint() {
    HTTP_PORT=$(free_port)
    GRPC_PORT=$(free_port)
    cat >"$WORK/trustmint.toml" <<EOF
[server]
http_addr = "127.0.0.1:$HTTP_PORT"
grpc_addr = "127.0.0.1:$GRPC_PORT"
location = "https://upload.example.org"

[store]
backend = "redis"
redis_url = "redis://127.0.0.1:$REDIS_PORT"

[rate_limit]
enabled = true
requests_per_second = 1000000.0
burst = 1000000

[keys]
current = "bench"

[telemetry]
log_format = "json"

[[issuers]]
url = "$ISS"
kind = "github"
jwks_uri = "$JWKS_URL"

[[publishers]]
kind = "github"
projects = ["sampleproject"]
repository_owner = "pypa"
repository_owner_id = "647025"
repository_name = "sampleproject"
workflow_filename = "release.yml"
EOF
    TRUSTMINT__KEYS__SECRETS__BENCH=$(head -c 32 /dev/urandom | base64) \
        "$TRUSTMINT_BIN" serve --config "$WORK/trustmint.toml" \
        >"$WORK/trustmint.log" 2>&1 &
    TRUSTMINT_PID=$!
    pids+=("$TRUSTMINT_PID")
    wait_http "http://127.0.0.1:$HTTP_PORT/healthz" "trustmint"
}

# One JWT through each side before loading it: both must mint, or the comparison is void.
smoke() { # url, what
    local status
    status=$(head -n 1 "$TOKENS" | sed 's/.*/{"token":"&"}/' |
        curl -s -o "$WORK/smoke.json" -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary @- "$1/_/oidc/mint-token")
    if [ "$status" != 200 ]; then
        echo "bench-vs-peer: $2 refused a valid JWT ($status): $(cat "$WORK/smoke.json")" >&2
        exit 1
    fi
}

start_peer
start_trustmint
smoke "http://127.0.0.1:$PEER_PORT" "the peer"
smoke "http://127.0.0.1:$HTTP_PORT" "trustmint"

peer_runs=()
trustmint_runs=()
for run in $(seq 1 "$RUNS"); do
    echo "bench-vs-peer: run $run/$RUNS: peer (gunicorn -w $PEER_WORKERS), wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
    peer_runs+=("$(load "http://127.0.0.1:$PEER_PORT") $(cut -d' ' -f1 /proc/loadavg)")
    echo "bench-vs-peer: run $run/$RUNS: trustmint"
    if [ -n "${PERF_RECORD:-}" ] && [ "$run" = 1 ]; then
        perf record -F 499 -g -a -o "$PERF_RECORD" -- sleep 6 >/dev/null 2>&1 &
    fi
    trustmint_runs+=("$(load "http://127.0.0.1:$HTTP_PORT") $(cut -d' ' -f1 /proc/loadavg)")
done
TRUSTMINT_RSS_KIB=$(awk '/VmRSS/ {print $2}' "/proc/$TRUSTMINT_PID/status")

python3 - "$OUTPUT" "$TOKENS_N" "$THREADS" "$CONNECTIONS" "$DURATION" \
    "$TRUSTMINT_RSS_KIB" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" \
    "${#peer_runs[@]}" "${peer_runs[@]}" "${trustmint_runs[@]}" <<'EOF'
import json, sys, datetime
out, tokens_n, threads, conns, duration, rss_kib, cpus, cpu, n = sys.argv[1:10]
n = int(n)
rest = sys.argv[10:]
def parse(line):
    ok, bad, secs, p50, p99, load1 = line.split()
    return {"ok": int(ok), "bad": int(bad), "secs": float(secs), "rate": int(ok) / float(secs),
            "p50_ms": int(p50) / 1000, "p99_ms": int(p99) / 1000, "load_avg_1m": float(load1)}
peer = [parse(l) for l in rest[:n]]
tm = [parse(l) for l in rest[n:]]
best = lambda runs: max(runs, key=lambda r: r["rate"])
bp, bt = best(peer), best(tm)
report = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "cpu": cpu.strip(), "cpus": int(cpus),
    "load": {"tool": "wrk", "threads": int(threads), "connections": int(conns),
             "duration": duration, "distinct_jwts": int(tokens_n)},
    "peer": {"best": bp, "runs": peer},
    "trustmint": {"best": bt, "runs": tm, "rss_mib_after": int(rss_kib) / 1024},
    "ratio": bt["rate"] / bp["rate"] if bp["rate"] else None,
    "target_ratio": 9.0,
}
json.dump(report, open(out, "w"), indent=2)
print()
print(f"{'side':<10} {'rate/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'load1':>6}")
for name, r in (("peer", bp), ("trustmint", bt)):
    print(f"{name:<10} {r['rate']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['bad']:>7} {r['load_avg_1m']:>6.2f}")
ratio = report["ratio"]
verdict = "met" if ratio and ratio >= 9.0 else "MISSED"
print(f"ratio trustmint/peer: {ratio:.2f}x (target >= 9x: {verdict}); "
      f"trustmint RSS after: {report['trustmint']['rss_mib_after']:.1f} MiB")
print(f"report: {out}")
EOF
