#!/usr/bin/env bash
# `just demo-gateway`: Trusted Publishing for a pypiserver that has none.
#
# Starts, on loopback only:
#   * the dev OIDC issuer (standing in for GitHub Actions) on 127.0.0.1:9000;
#   * a real pypiserver (pip-installed into target/demo-gateway/venv) on 127.0.0.1:8081,
#     taking uploads only with an htpasswd account whose password only trustmint has;
#   * trustmint on https://127.0.0.1:8443 (a throwaway CA and leaf made with openssl)
#     with the upload gateway forwarding to pypiserver;
# then prints the `uv publish` command to try. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${CARGO_TARGET_DIR:-target}/demo-gateway"
mkdir -p "$work/packages"
work="$(cd "$work" && pwd)"

echo "== building trustmint"
cargo build -q -p trustmint
trustmint="${CARGO_TARGET_DIR:-target}/debug/trustmint"

echo "== pypiserver, uv and twine into $work/venv"
[ -x "$work/venv/bin/python" ] || python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  pypiserver==2.4.2 passlib==1.7.4 waitress==3.0.2 uv==0.13.8 twine==7.0.0

echo "== a CA and a certificate for 127.0.0.1 (uv speaks only HTTPS to trustmint)"
if [ ! -f "$work/tls.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
    -subj "/CN=trustmint demo CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/leaf.ext"
  openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -days 7 -extfile "$work/leaf.ext" -out "$work/tls.crt" 2>/dev/null
fi

echo "== the index account only trustmint knows"
password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$password" >"$work/index-password"
chmod 600 "$work/index-password"
"$work/venv/bin/python" - "$work/htpasswd" "$password" <<'PY'
import sys
from passlib.apache import HtpasswdFile
htpasswd = HtpasswdFile(sys.argv[1], new=True)
htpasswd.set_password("trustmint", sys.argv[2])
htpasswd.save()
PY

cat >"$work/trustmint.toml" <<TOML
[server]
http_addr = "127.0.0.1:8443"
grpc_addr = "127.0.0.1:50052"
location = "https://127.0.0.1:8443/legacy/"
tls_cert_file = "$work/tls.crt"
tls_key_file = "$work/tls.key"

[gateway]
enabled = true
upstream = "http://127.0.0.1:8081/"
upstream_username = "trustmint"
upstream_password_file = "$work/index-password"

[[issuers]]
name = "dev"
url = "http://127.0.0.1:9000"
kind = "github"

[[publishers]]
kind = "github"
issuer = "http://127.0.0.1:9000"
projects = ["sampleproject"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
TOML

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

"$trustmint" dev-issuer --addr 127.0.0.1:9000 >"$work/dev-issuer.log" 2>&1 & pids+=($!)
"$work/venv/bin/pypi-server" run -i 127.0.0.1 -p 8081 -P "$work/htpasswd" -a update \
  --disable-fallback --server auto "$work/packages" >"$work/pypiserver.log" 2>&1 & pids+=($!)
"$trustmint" serve --config "$work/trustmint.toml" >"$work/trustmint.log" 2>&1 & pids+=($!)

for _ in $(seq 1 100); do
  curl -sf --cacert "$work/ca.crt" https://127.0.0.1:8443/readyz >/dev/null 2>&1 &&
    curl -sf http://127.0.0.1:8081/simple/ >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf --cacert "$work/ca.crt" https://127.0.0.1:8443/readyz >/dev/null ||
  { echo "trustmint did not start; see $work/trustmint.log" >&2; exit 1; }

cat <<EOF

trustmint (gateway on):  https://127.0.0.1:8443/legacy/   log: $work/trustmint.log
pypiserver (the index):  http://127.0.0.1:8081/           packages: $work/packages
dev issuer (GitHub):     http://127.0.0.1:9000

Publish a package of project 'sampleproject' as GitHub Actions would (build one with
'uv build' or 'python -m build' first):

  GITHUB_ACTIONS=true \\
  ACTIONS_ID_TOKEN_REQUEST_URL='http://127.0.0.1:9000/_apis/idtoken?api-version=2.0&repository=octo-org/sampleproject&repository_owner_id=92345678&workflow=release.yml' \\
  ACTIONS_ID_TOKEN_REQUEST_TOKEN=demo \\
  SSL_CERT_FILE=$work/ca.crt \\
  $work/venv/bin/uv publish --trusted-publishing always --publish-url https://127.0.0.1:8443/legacy/ dist/*

Then: pip download --index-url http://127.0.0.1:8081/simple/ sampleproject
A direct upload to http://127.0.0.1:8081/ without the index password is refused.

Ctrl-C stops all three.
EOF
wait
