# Developer entry points. `just --list` shows them all.

export RUST_LIB_BACKTRACE := "0"

# Run the service on the built-in defaults (in-memory store, public issuers).
run *ARGS:
    cargo run -p trustmint -- serve {{ARGS}}

# The service and the local dev issuer together (Ctrl-C stops both).
dev:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -p trustmint
    target/debug/trustmint dev-issuer --addr 127.0.0.1:9000 & issuer=$!
    trap 'kill $issuer' EXIT
    target/debug/trustmint serve --config examples/dev.toml

# The upload gateway in front of a real pypiserver, with the dev issuer; prints the
# `uv publish` command to try (docs/gateway.md). Ctrl-C stops everything.
demo-gateway:
    scripts/demo-gateway.sh

# The README's test command.
test:
    cargo test --workspace --locked

# Python interop tests (pymacaroons, grpcio, the id client, the upload gateway with
# pypiserver, uv and twine).
interop:
    tests/interop/run.sh

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Benchmark against the local Redis (release build, under 2 minutes): throughput and
# latency at increasing concurrency, fixed-rate runs, rotation storm, floor, RSS; judges
# the targets. Report: target/bench/report.json. Extra flags pass through (`--memory`).
bench *FLAGS:
    RUST_LIB_BACKTRACE=0 cargo run --release -p trustmint-bench -- {{FLAGS}}

# trustmint side by side with the yardstick peer (PyPI's mint path on PyPI's libraries)
# under the reference load (wrk -t2 -c32 -d8s, 400,000 JWTs, fresh Redis): both rates,
# p99s and the ratio; report in target/bench/vs-peer.json. Installs wrk (apt) and the
# peer's Python deps (venv under target/bench) when missing. `RUNS=3 just bench-vs-peer`.
bench-vs-peer:
    scripts/bench-vs-peer.sh

# The RSS target: service RSS after 1,000,000 exchanges (~5 minutes).
bench-rss:
    RUST_LIB_BACKTRACE=0 cargo run --release -p trustmint-bench -- --scenarios floor,rss --rss-exchanges 1000000

# Soak for MINUTES (default 10): release builds of trustmint and the bench, then the real
# `trustmint serve` on its own redis-server at half of the probed capacity, a key rotation
# (SIGHUP) and a publisher change every minute; judges failed requests, flat RSS/fds and
# p99. Report: target/soak/report.json and plot.png (docs/operations.md#soak).
soak MINUTES="10":
    cargo build --release --locked -p trustmint -p trustmint-bench
    RUST_LIB_BACKTRACE=0 target/release/trustmint-bench --soak --soak-minutes {{MINUTES}} --service-bin target/release/trustmint

# The benchmark harness in a few seconds (what CI runs to keep it working).
bench-smoke:
    cargo run -p trustmint-bench -- --smoke

# Check the docs against the code (config keys, metric names, manifests).
docs-check:
    scripts/docs-check.sh

# Everything CI runs.
ci:
    .ci/run

# Fuzz one target for SECS seconds (stable toolchain: --sanitizer none; docs/security.md).
# Targets: `cargo fuzz list` in fuzz/. New inputs go to fuzz/corpus/TARGET.
fuzz TARGET SECS="60":
    cd fuzz && mkdir -p corpus/{{TARGET}} artifacts/{{TARGET}} && cargo fuzz run --sanitizer none -O {{TARGET}} corpus/{{TARGET}} seeds/{{TARGET}} -- -max_total_time={{SECS}} -artifact_prefix=artifacts/{{TARGET}}/

# Build the fuzz targets and run each for SECS seconds (what every CI run does, with 10).
fuzz-smoke SECS="10":
    scripts/fuzz-smoke.sh {{SECS}}

# Regenerate fuzz/seeds/ from the test fixtures (keeps regression-* inputs).
fuzz-seeds:
    cd fuzz && cargo fuzz run --sanitizer none -O seed_corpora
