#!/usr/bin/env bash
# Runs every Python interop test in tests/interop/ (test_*.py, plain unittest) against
# the Rust code in this workspace. The venv lives under the cargo target dir so it is
# ignored by git and shared between runs; requirements.txt is (re)applied every time,
# which is a no-op when nothing changed. test_npm_publish.py also installs the npm CLI
# pinned in tests/interop/npm/package.json into target/interop-npm (needs node and npm
# on PATH; skipped without them).
#
#   tests/interop/run.sh                      # all interop tests
#   tests/interop/run.sh -k macaroon          # extra args go to unittest
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

python="${PYTHON:-python3}"
venv="${CARGO_TARGET_DIR:-$repo_root/target}/interop-venv"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/interop/requirements.txt

exec "$venv/bin/python" -m unittest discover -s tests/interop -v "$@"
