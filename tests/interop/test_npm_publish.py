"""Interop: the real npm CLI (pinned in tests/interop/npm/package.json) publishing
through trustmint's npm door.

Real processes:

  * `trustmint dev-issuer` stands in for GitHub Actions' ID-token endpoint
    (`ACTIONS_ID_TOKEN_REQUEST_URL`), signing GitHub-shaped OIDC tokens;
  * `trustmint serve` with `[npm] enabled`, audience `npm:127.0.0.1`, and one npm
    publisher (`ecosystem = "npm"`) of `@octo-org/sampleproject` and
    `sampleproject-npm`;
  * a small test registry (this file) whose `/-/npm/v1/oidc/token/exchange/...` goes to
    trustmint and whose `PUT /<name>` checks the Bearer token with gRPC
    `VerifyToken(token, name, ecosystem = "npm")`;
  * `npm publish` of a scoped and an unscoped package with GitHub Actions' environment:
    both succeed; a package without a publisher fails (ENEEDAUTH / 403) and reaches no
    accepted PUT.

Needs node and npm on PATH (to install the pinned npm), grpcio, grpcio-tools and cargo.
"""

import json
import os
import time
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_grpc_index import (  # noqa: E402
    OWNER,
    OWNER_ID,
    REPO,
    TARGET_DIR,
    TRUSTMINT,
    WORKFLOW,
    REPO_ROOT,
    READY_PREFIX,
    free_port,
    generate_stubs,
    http_json,
    stop,
)

NPM_DIR = Path(__file__).resolve().parent / "npm"
SCOPED, UNSCOPED, UNPUBLISHED = "@octo-org/sampleproject", "sampleproject-npm", "left-pad-npm"


def install_pinned_npm() -> Path:
    """`npm install` of tests/interop/npm/package.json into the target dir (kept out of
    git, reused between runs); returns the pinned npm's CLI script."""
    home = TARGET_DIR / "interop-npm"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(NPM_DIR / "package.json", home / "package.json")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=home,
        check=True,
    )
    cli = home / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not cli.exists():
        raise RuntimeError(f"pinned npm not installed at {cli}")
    return cli


class TestRegistry:
    """The registry origin npm talks to."""

    def __init__(self, trustmint_http: str, verify):
        self.trustmint_http = trustmint_http
        self.verify = verify
        self.accepted = []  # names whose PUT was allowed
        self.refused = []  # (name, status, reason)
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_POST(self):
                if not self.path.startswith("/-/npm/v1/oidc/token/exchange/package/"):
                    return self.answer(404, {"error": "not found"})
                # Forwarded as is: trustmint is this registry's OIDC exchange.
                request = urllib.request.Request(
                    registry.trustmint_http + self.path,
                    data=self.body(),
                    method="POST",
                    headers={"Authorization": self.headers.get("Authorization", "")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        return self.answer(response.status, json.loads(response.read()))
                except urllib.error.HTTPError as error:
                    return self.answer(error.code, json.loads(error.read()))

            def do_PUT(self):
                name = urllib.parse.unquote(self.path.lstrip("/"))
                self.body()
                auth = self.headers.get("Authorization", "")
                if not auth.lower().startswith("bearer "):
                    registry.refused.append((name, 401, "no token"))
                    return self.answer(401, {"error": "authentication required"})
                allowed, reason = registry.verify(auth[len("bearer "):], name)
                if not allowed:
                    registry.refused.append((name, 403, reason))
                    return self.answer(403, {"error": reason})
                registry.accepted.append(name)
                return self.answer(200, {"ok": True, "id": name})

            def do_GET(self):
                return self.answer(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class NpmPublish(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        if shutil.which("npm") is None or shutil.which("node") is None:
            raise unittest.SkipTest("node and npm are needed to install the pinned npm")
        subprocess.run(["cargo", "build", "-q", "-p", "trustmint"], cwd=REPO_ROOT, check=True)
        cls.npm_cli = install_pinned_npm()
        cls.tmp = tempfile.TemporaryDirectory(prefix="trustmint-npm-interop-")
        cls.pb, cls.pb_grpc = generate_stubs(cls.tmp.name)
        cls.processes = []
        cls.registry = None
        try:
            cls.issuer_url = cls.start_dev_issuer()
            cls.http_url, grpc_target = cls.start_trustmint()
            cls.channel = grpc.insecure_channel(grpc_target)
            grpc.channel_ready_future(cls.channel).result(timeout=30)
            tokens = cls.pb_grpc.TokenServiceStub(cls.channel)

            def verify(token, name):
                response = tokens.VerifyToken(
                    cls.pb.VerifyTokenRequest(token=token, project=name, ecosystem="npm")
                )
                return response.allowed, response.reason

            cls.registry = TestRegistry(cls.http_url, verify)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.registry is not None:
            cls.registry.close()
        if getattr(cls, "channel", None) is not None:
            cls.channel.close()
        for process in reversed(cls.processes):
            stop(process)
        cls.tmp.cleanup()

    @classmethod
    def start_dev_issuer(cls) -> str:
        process = subprocess.Popen(
            [str(TRUSTMINT), "dev-issuer", "--addr", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        cls.processes.append(process)
        first_line = process.stdout.readline()
        if not first_line.startswith(READY_PREFIX):
            raise RuntimeError(f"dev issuer did not start: {first_line!r}")
        threading.Thread(target=process.stdout.read, daemon=True).start()
        return first_line[len(READY_PREFIX):].strip()

    @classmethod
    def start_trustmint(cls):
        http_port, grpc_port = free_port(), free_port()
        config = Path(cls.tmp.name) / "trustmint.toml"
        config.write_text(
            f"""
[server]
http_addr = "127.0.0.1:{http_port}"
grpc_addr = "127.0.0.1:{grpc_port}"
location = "http://127.0.0.1"

[rate_limit]
enabled = false

[npm]
enabled = true
audience = "npm:127.0.0.1"

[[issuers]]
url = "{cls.issuer_url}"
kind = "github"

[[publishers]]
kind = "github"
ecosystem = "npm"
projects = ["{SCOPED}", "{UNSCOPED}"]
issuer = "{cls.issuer_url}"
repository_owner = "{OWNER}"
repository_owner_id = "{OWNER_ID}"
repository_name = "{REPO}"
workflow_filename = "{WORKFLOW}"
"""
        )
        with open(Path(cls.tmp.name) / "trustmint.log", "w") as log:
            process = subprocess.Popen(
                [str(TRUSTMINT), "serve", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        cls.processes.append(process)
        http_url = f"http://127.0.0.1:{http_port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"trustmint exited with {process.returncode}: "
                    + (Path(cls.tmp.name) / "trustmint.log").read_text()
                )
            try:
                if http_json("GET", f"{http_url}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("trustmint did not become ready")
            time.sleep(0.1)
        return http_url, f"127.0.0.1:{grpc_port}"

    def npm_publish(self, name: str) -> subprocess.CompletedProcess:  # noqa: D401
        """`npm publish` of a fresh package `name` as a GitHub Actions job would run it."""
        package = Path(self.tmp.name) / ("pkg-" + name.replace("/", "-").lstrip("@"))
        package.mkdir()
        (package / "package.json").write_text(
            json.dumps({"name": name, "version": "1.0.0", "description": "interop"})
        )
        (package / "index.js").write_text("module.exports = 1;\n")
        userconfig = Path(self.tmp.name) / "npmrc"
        userconfig.write_text("")
        query = urllib.parse.urlencode(
            {
                "repository": f"{OWNER}/{REPO}",
                "repository_owner_id": OWNER_ID,
                "workflow": WORKFLOW,
                "ref": "refs/tags/v1.0.0",
            }
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": self.tmp.name,
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.issuer_url}/_apis/idtoken?api-version=2.0&{query}",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "interop-request-token",
        }
        return subprocess.run(
            [
                "node", str(self.npm_cli), "publish",
                "--registry", self.registry.url,
                "--userconfig", str(userconfig),
                "--cache", str(Path(self.tmp.name) / "npm-cache"),
                "--access", "public",
                "--provenance=false",
                "--loglevel=verbose",
            ],
            cwd=package,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_scoped_and_unscoped_packages_publish_through_trusted_publishing(self):
        for name in (SCOPED, UNSCOPED):
            with self.subTest(name=name):
                result = self.npm_publish(name)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn(name, self.registry.accepted)

    def test_a_package_without_a_publisher_fails(self):
        result = self.npm_publish(UNPUBLISHED)
        output = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, output)
        # The exchange was refused with trustmint's diagnostics, so npm had no token.
        self.assertIn(
            "Failed token exchange request with body message: valid token, but no "
            "corresponding publisher (the trusted publisher matching this token is not a "
            f"publisher of '{UNPUBLISHED}')",
            output,
        )
        self.assertIn("npm error code ENEEDAUTH", output)
        self.assertNotIn(UNPUBLISHED, self.registry.accepted)


if __name__ == "__main__":
    unittest.main()
