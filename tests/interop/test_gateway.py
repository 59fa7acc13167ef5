"""Interop: the upload gateway in front of a real pypiserver, with real upload clients.

Real processes only:

  * `trustmint dev-issuer` stands in for GitHub Actions' OIDC (its `/_apis/idtoken`
    endpoint is what `ACTIONS_ID_TOKEN_REQUEST_URL` points at on a runner);
  * pypiserver (from PyPI, waitress) holds the packages, listens on loopback only and
    takes uploads only with an htpasswd account that only trustmint knows — the setup
    docs/gateway.md recommends, which closes the bypass;
  * `trustmint serve` serves HTTPS (a CA and a leaf for 127.0.0.1 made here with
    `cryptography`) with `[gateway]` on, forwarding to pypiserver;
  * `uv publish --trusted-publishing always` and `twine upload` push packages that
    `python -m build` made; `pip download` reads them back from the index.

Needs pypiserver, passlib, waitress, uv, twine, build, pymacaroons and cryptography
(tests/interop/requirements.txt) and cargo. Run with tests/interop/run.sh.
"""

import datetime
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pymacaroons import Macaroon

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
TRUSTMINT = TARGET_DIR / "debug" / "trustmint"
BIN = Path(sys.executable).parent

OWNER, OWNER_ID, REPO, WORKFLOW = "octo-org", "92345678", "sampleproject", "release.yml"
PROJECT, OTHER_PROJECT = "sampleproject", "otherproject"
INDEX_USER, INDEX_PASSWORD = "trustmint", "only-trustmint-knows-this"
READY_PREFIX = "trustmint dev issuer listening on "
PREFIX = "pypi-"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, process: subprocess.Popen, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {log.read_text()}")
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready: {log.read_text()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_certificates(directory: Path):
    """A CA and a leaf for 127.0.0.1/localhost signed by it (uv refuses a CA as leaf)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trustmint interop CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def build_package(directory: Path, name: str, version: str) -> list:
    """A real sdist and wheel of a one-module project, made by `python -m build`."""
    source = directory / f"src-{name}-{version}"
    (source / name).mkdir(parents=True)
    (source / name / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (source / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "trustmint gateway interop package"
"""
    )
    out = directory / f"dist-{name}-{version}"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return sorted(out.iterdir())


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class GatewayInFrontOfPypiserver(unittest.TestCase):
    """One dev issuer, one pypiserver, one trustmint for the class."""

    @classmethod
    def setUpClass(cls) -> None:
        subprocess.run(["cargo", "build", "-q", "-p", "trustmint"], cwd=REPO_ROOT, check=True)
        cls.tmp = tempfile.TemporaryDirectory(prefix="trustmint-gateway-interop-")
        cls.dir = Path(cls.tmp.name)
        cls.processes = []
        cls.logs = []
        try:
            cls.certs = make_certificates(cls.dir)
            cls.issuer_url = cls.start_dev_issuer()
            cls.index_url, cls.packages = cls.start_pypiserver()
            cls.gateway, cls.trustmint_log = cls.start_trustmint(cls.index_url)
        except BaseException:
            cls.tearDownClass()
            raise
        cls.tls = ssl.create_default_context(cafile=str(cls.certs["ca"]))

    @classmethod
    def tearDownClass(cls) -> None:
        for process in reversed(cls.processes):
            stop(process)
        for log in cls.logs:
            log.close()
        cls.tmp.cleanup()

    # --- processes ---

    @classmethod
    def spawn(cls, name: str, command: list, **kwargs) -> tuple:
        log_path = cls.dir / f"{name}.log"
        log = open(log_path, "w")
        cls.logs.append(log)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        cls.processes.append(process)
        return process, log_path

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
    def start_pypiserver(cls):
        from passlib.apache import HtpasswdFile

        htpasswd = HtpasswdFile(str(cls.dir / "htpasswd"), new=True)
        htpasswd.set_password(INDEX_USER, INDEX_PASSWORD)
        htpasswd.save()
        packages = cls.dir / "packages"
        packages.mkdir()
        port = free_port()
        # Loopback only, uploads only with the htpasswd account: nobody but trustmint
        # can upload (docs/gateway.md, "Closing the bypass").
        process, log = cls.spawn(
            "pypiserver",
            [
                str(BIN / "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port),
                "-P", str(cls.dir / "htpasswd"), "-a", "update", "--disable-fallback",
                # auto = waitress when installed: it takes chunked request bodies.
                "--server", "auto", str(packages),
            ],
        )
        url = f"http://127.0.0.1:{port}/"
        wait_until(lambda: urllib.request.urlopen(f"{url}simple/", timeout=5).status == 200, "pypiserver", process, log)
        return url, packages

    @classmethod
    def start_trustmint(cls, upstream: str, name: str = "trustmint"):
        http_port, grpc_port = free_port(), free_port()
        password_file = cls.dir / "index-password"
        password_file.write_text(INDEX_PASSWORD + "\n")
        config = cls.dir / f"{name}.toml"
        config.write_text(
            f"""
[server]
http_addr = "127.0.0.1:{http_port}"
grpc_addr = "127.0.0.1:{grpc_port}"
location = "https://127.0.0.1:{http_port}/legacy/"
tls_cert_file = "{cls.certs['cert']}"
tls_key_file = "{cls.certs['key']}"

[rate_limit]
enabled = false

[telemetry]
log_format = "json"
log_level = "info"

[gateway]
enabled = true
upstream = "{upstream}"
upstream_username = "{INDEX_USER}"
upstream_password_file = "{password_file}"
timeout_secs = 30

[[issuers]]
url = "{cls.issuer_url}"
kind = "github"

[[publishers]]
kind = "github"
issuer = "{cls.issuer_url}"
projects = ["{PROJECT}"]
repository_owner = "{OWNER}"
repository_owner_id = "{OWNER_ID}"
repository_name = "{REPO}"
workflow_filename = "{WORKFLOW}"
"""
        )
        # mimalloc commits arenas eagerly and keeps freed pages a while (about 10 MiB of
        # slack under a stream of 64 KiB chunks, the same for 50 MiB and 95 MiB uploads);
        # purging at once makes RSS show what is live, which is what the streaming test
        # is about.
        env = {**os.environ, "MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}
        process, log = cls.spawn(name, [str(TRUSTMINT), "serve", "--config", str(config)], env=env)
        url = f"https://127.0.0.1:{http_port}"
        context = ssl.create_default_context(cafile=str(cls.certs["ca"]))
        wait_until(
            lambda: urllib.request.urlopen(f"{url}/readyz", timeout=5, context=context).status == 200,
            name, process, log,
        )
        cls.pids = getattr(cls, "pids", {})
        cls.pids[name] = process.pid
        return url, log

    # --- helpers ---

    def github_env(self) -> dict:
        """GitHub Actions' ambient OIDC credentials, served by the dev issuer."""
        query = urllib.parse.urlencode(
            {"repository": f"{OWNER}/{REPO}", "repository_owner_id": OWNER_ID, "workflow": WORKFLOW}
        )
        env = dict(os.environ)
        env.update(
            {
                "GITHUB_ACTIONS": "true",
                "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.issuer_url}/_apis/idtoken?api-version=2.0&{query}",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "dev-request-token",
                "SSL_CERT_FILE": str(self.certs["ca"]),
                "UV_CACHE_DIR": str(self.dir / "uv-cache"),
                "NO_COLOR": "1",
            }
        )
        return env

    def post_json(self, path: str, body: dict, gateway: str = None):
        request = urllib.request.Request(
            f"{gateway or self.gateway}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.tls) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def mint(self, gateway: str = None) -> str:
        """What a twine user does: an OIDC token (the `id` package in CI), then mint-token."""
        query = urllib.parse.urlencode(
            {"audience": "pypi", "repository": f"{OWNER}/{REPO}", "repository_owner_id": OWNER_ID, "workflow": WORKFLOW}
        )
        with urllib.request.urlopen(f"{self.issuer_url}/token?{query}", timeout=10) as response:
            jwt = json.load(response)["token"]
        status, body = self.post_json("/_/oidc/mint-token", {"token": jwt}, gateway)
        self.assertEqual(status, 200, body)
        return body["token"]

    def twine(self, files, token: str, url: str = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar",
                "--repository-url", url or f"{self.gateway}/legacy/",
                "--cert", str(self.certs["ca"]), "-u", "__token__", "-p", token,
                *[str(f) for f in files],
            ],
            capture_output=True, text=True, env=self.client_env(),
        )

    def client_env(self) -> dict:
        """The environment of a Python client that trusts the test CA."""
        return {**os.environ, "NO_COLOR": "1", "REQUESTS_CA_BUNDLE": str(self.certs["ca"]), "SSL_CERT_FILE": str(self.certs["ca"])}

    def landed(self) -> set:
        return {path.name for path in self.packages.iterdir()}

    def landed_version(self, version: str) -> list:
        """Files of `version` in the index (1.0.4 is not 1.0.49)."""
        return [
            name for name in self.landed()
            if name.endswith(f"-{version}.tar.gz") or f"-{version}-py" in name
        ]

    def audit_events(self, action: str) -> list:
        events = []
        for line in self.trustmint_log.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("target") == "trustmint::audit" and record.get("action") == action:
                events.append(json.loads(record["event"]))
        return events

    def raw_upload(self, body, boundary: str, token: str, length: int = None):
        """POSTs a form (bytes, or an iterable of chunks with `length`) over HTTPS."""
        import http.client

        connection = http.client.HTTPSConnection(
            "127.0.0.1", int(self.gateway.rsplit(":", 1)[1]), context=self.tls, timeout=120
        )
        import base64

        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode(),
        }
        if length is not None:
            headers["Content-Length"] = str(length)
        connection.request("POST", "/legacy/", body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        connection.close()
        return response.status, text

    # --- the tests ---

    def test_uv_publish_with_trusted_publishing_lands_the_files_and_burns_the_token(self):
        files = build_package(self.dir, PROJECT, "1.0.1")
        burns_before = len(self.audit_events("burn"))
        done = subprocess.run(
            [
                str(BIN / "uv"), "publish", "--trusted-publishing", "always",
                "--publish-url", f"{self.gateway}/legacy/", *[str(f) for f in files],
            ],
            capture_output=True, text=True, env=self.github_env(), timeout=300,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("Failed to invalidate", done.stderr)
        self.assertNotIn("warning", done.stderr.lower())
        self.assertTrue({f.name for f in files} <= self.landed(), (files, self.landed()))

        # pip reads the files back from the index's simple API, byte for byte.
        download = self.dir / "download-uv"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                "--disable-pip-version-check", "--index-url", f"{self.index_url}simple/",
                "--dest", str(download), f"{PROJECT}==1.0.1",
            ],
            check=True, capture_output=True,
        )
        wheel = next(f for f in files if f.suffix == ".whl")
        self.assertEqual(sha256_file(download / wheel.name), sha256_file(wheel))
        sdist = next(f for f in files if f.name.endswith(".tar.gz"))
        with urllib.request.urlopen(f"{self.index_url}packages/{sdist.name}", timeout=10) as response:
            self.assertEqual(hashlib.sha256(response.read()).hexdigest(), sha256_file(sdist))

        # uv burned the token it used for the uploads: the same token id, gone.
        uploads = [e for e in self.audit_events("upload") if e.get("version") == "1.0.1"]
        self.assertEqual(len(uploads), 2, uploads)
        self.assertTrue(all(e["outcome"] == "success" and e["upstream_status"] == "200" for e in uploads), uploads)
        burns = self.audit_events("burn")[burns_before:]
        self.assertEqual([b["token_id"] for b in burns], [uploads[0]["token_id"]])

    def test_twine_upload_with_a_minted_token_lands_the_files(self):
        files = build_package(self.dir, PROJECT, "1.0.2")
        token = self.mint()
        done = self.twine(files, token)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertTrue({f.name for f in files} <= self.landed())
        for f in files:
            self.assertEqual(sha256_file(self.packages / f.name), sha256_file(f))

    def test_another_project_is_refused_with_403_and_nothing_lands(self):
        files = build_package(self.dir, OTHER_PROJECT, "1.0.0")
        done = self.twine(files, self.mint())
        self.assertNotEqual(done.returncode, 0)
        output = done.stdout + done.stderr
        self.assertIn("403", output)
        self.assertFalse(any(name.startswith(OTHER_PROJECT) for name in self.landed()), self.landed())

    def test_revoked_expired_and_narrowed_tokens_are_refused(self):
        files = build_package(self.dir, PROJECT, "1.0.3")
        revoked = self.mint()
        self.assertEqual(self.post_json("/_/oidc/revoke-token", {"token": revoked})[0], 204)
        macaroon = Macaroon.deserialize(self.mint()[len(PREFIX):])
        now = int(time.time())
        expired = Macaroon.deserialize(self.mint()[len(PREFIX):])
        expired.add_first_party_caveat(json.dumps([0, now - 10, now - 100], separators=(",", ":")))
        macaroon.add_first_party_caveat(json.dumps([1, [OTHER_PROJECT]], separators=(",", ":")))
        for token, reason in [
            (revoked, "token is expired or has been revoked"),
            (PREFIX + expired.serialize(), "expired"),
            (PREFIX + macaroon.serialize(), PROJECT),
        ]:
            status, text = self.raw_upload(
                self.form(files[0].name, files[0].read_bytes()), "b0undary", token
            )
            self.assertEqual(status, 403, text)
            self.assertTrue(text.startswith("Invalid API Token: "), text)
            self.assertIn(reason, text)
        self.assertEqual(self.landed_version("1.0.3"), [])

    def test_direct_uploads_to_the_index_without_its_credentials_fail(self):
        files = build_package(self.dir, PROJECT, "1.0.4")
        for token in [self.mint(), "wrong"]:
            done = self.twine(files, token, url=self.index_url)
            self.assertNotEqual(done.returncode, 0)
            self.assertRegex(done.stdout + done.stderr, r"40[13]")
        self.assertEqual(self.landed_version("1.0.4"), [])

    @staticmethod
    def form(file_name: str, content: bytes, boundary: str = "b0undary") -> bytes:
        head = b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
            for k, v in [(":action", "file_upload"), ("protocol_version", "1"), ("name", PROJECT), ("version", "1.0.3"), ("filetype", "sdist"), ("metadata_version", "2.1")]
        )
        head += (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file_name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        return head + content + f"\r\n--{boundary}--\r\n".encode()

    def stream_upload(self, token: str, version: str, size: int):
        """Streams a generated `size`-byte sdist through the gateway (never held whole in
        memory here either); returns (status, text, file name, SHA-256 of the file)."""
        boundary = "bigupload"
        file_name = f"{PROJECT}-{version}.tar.gz"
        head = (
            "".join(
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                for k, v in [(":action", "file_upload"), ("protocol_version", "1"), ("name", PROJECT), ("version", version), ("filetype", "sdist")]
            )
            + f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file_name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB, not the boundary
        digest = hashlib.sha256()

        def body():
            yield head
            for _ in range(size // len(block)):
                digest.update(block)
                yield block
            yield tail

        status, text = self.raw_upload(body(), boundary, token, length=len(head) + size + len(tail))
        return status, text, file_name, digest.hexdigest()

    def test_a_50_mib_upload_streams_without_growing_rss(self):
        status_file = Path(f"/proc/{self.pids['trustmint']}/status")

        def rss_kib() -> int:
            for line in status_file.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
            raise RuntimeError("no VmRSS")

        token = self.mint()
        # Warm up every path a big upload takes (TLS, the form reader, the connection to
        # the index, the allocator's first arenas) with a small one.
        self.assertEqual(self.stream_upload(token, "1.0.49", 2 * 1024 * 1024)[0], 200)
        baseline = rss_kib()
        peak = [baseline]
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.is_set():
                peak[0] = max(peak[0], rss_kib())
                stop_sampling.wait(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            status, text, file_name, sha256 = self.stream_upload(token, "1.0.50", 50 * 1024 * 1024)
        finally:
            stop_sampling.set()
            sampler.join()
        self.assertEqual(status, 200, text)
        self.assertEqual(sha256_file(self.packages / file_name), sha256)
        growth_mib = (peak[0] - baseline) / 1024
        print(f"\n  50 MiB upload: trustmint RSS {baseline / 1024:.1f} MiB before, peak +{growth_mib:.1f} MiB", file=sys.stderr)
        self.assertLess(growth_mib, 6, f"RSS grew by {growth_mib:.1f} MiB during a 50 MiB upload")

    def test_the_log_holds_neither_the_token_nor_the_index_password(self):
        import base64

        token = self.mint()
        self.assertEqual(self.twine(build_package(self.dir, PROJECT, "1.0.6"), token).returncode, 0)
        self.assertNotEqual(self.twine(build_package(self.dir, OTHER_PROJECT, "1.0.6"), token).returncode, 0)
        log = self.trustmint_log.read_text()
        self.assertTrue(any(e.get("version") == "1.0.6" for e in self.audit_events("upload")))
        for secret in [
            token,
            token[len(PREFIX):][-40:],
            INDEX_PASSWORD,
            base64.b64encode(f"{INDEX_USER}:{INDEX_PASSWORD}".encode()).decode(),
            base64.b64encode(f"__token__:{token}".encode()).decode()[-40:],
        ]:
            self.assertNotIn(secret, log)

    def test_upstream_down_is_502(self):
        closed = free_port()
        gateway, _ = self.start_trustmint(f"http://127.0.0.1:{closed}/", name="trustmint-dead-upstream")
        files = build_package(self.dir, PROJECT, "1.0.5")
        token = self.mint(gateway)
        done = subprocess.run(
            [
                str(BIN / "twine"), "upload", "--non-interactive", "--disable-progress-bar",
                "--repository-url", f"{gateway}/legacy/", "--cert", str(self.certs["ca"]),
                "-u", "__token__", "-p", token, str(files[0]),
            ],
            capture_output=True, text=True, env=self.client_env(),
        )
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("502", done.stdout + done.stderr)


if __name__ == "__main__":
    unittest.main()
