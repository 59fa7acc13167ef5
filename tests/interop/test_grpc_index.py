"""Interop: a package index in Python (grpcio) driving trustmint's gRPC API.

This test plays the index of docs/integrating-an-index.md against real processes:

  * `trustmint dev-issuer` on a free loopback port signs GitHub-shaped OIDC tokens
    (GET /token), standing in for GitHub Actions;
  * `trustmint serve` trusts that issuer, requires `[grpc] auth_token`, and has no
    declared publishers: the index registers them;
  * the stubs are generated from proto/ at test time with grpc_tools.protoc (so the
    proto file, not a checked-in copy, is what is tested), and pymacaroons attenuates
    a token the way a token holder would.

The flow, as the gRPC issue lists it: create a publisher, exchange a dev-issuer JWT over
HTTP, verify for the right project (allowed, claims present), for another project
(denied with the exact reason), attenuate with pymacaroons and verify again, revoke and
verify (denied), a bad bearer token (UNAUTHENTICATED); plus MintToken's error details
and pending publishers.

Needs grpcio, grpcio-tools, grpcio-status and pymacaroons (tests/interop/requirements.txt)
and cargo. Run with tests/interop/run.sh.
"""

import json
import os
import socket
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

import grpc
from grpc_status import rpc_status
from google.rpc import error_details_pb2
from pymacaroons import Macaroon

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
TRUSTMINT = TARGET_DIR / "debug" / "trustmint"

INDEX_TOKEN = "interop-index-bearer-token"
OWNER, OWNER_ID, REPO, WORKFLOW = "octo-org", "92345678", "sampleproject", "release.yml"
SHA = "0123456789abcdef0123456789abcdef01234567"
GIT_REF = "refs/tags/v1.0.0"
PROJECT, DOCS_PROJECT, OTHER_PROJECT = "sampleproject", "sampleproject-docs", "otherproject"
PREFIX = "pypi-"
READY_PREFIX = "trustmint dev issuer listening on "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def generate_stubs(out_dir: str):
    """Compiles proto/ with grpc_tools.protoc and imports the result."""
    subprocess.run(
        [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{REPO_ROOT / 'proto'}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            "trustmint/v1/trustmint.proto",
        ],
        check=True,
    )
    sys.path.insert(0, out_dir)
    from trustmint.v1 import trustmint_pb2, trustmint_pb2_grpc  # noqa: E402

    return trustmint_pb2, trustmint_pb2_grpc


def http_json(method: str, url: str, body=None):
    """Returns (status, parsed JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, (json.loads(text) if text else None)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


class IndexOverGrpc(unittest.TestCase):
    """One dev issuer and one trustmint for the whole class; each test mints its own."""

    @classmethod
    def setUpClass(cls) -> None:
        subprocess.run(["cargo", "build", "-q", "-p", "trustmint"], cwd=REPO_ROOT, check=True)
        cls.tmp = tempfile.TemporaryDirectory(prefix="trustmint-grpc-interop-")
        cls.pb, cls.pb_grpc = generate_stubs(cls.tmp.name)
        cls.processes = []
        try:
            cls.issuer_url = cls.start_dev_issuer()
            cls.http_url, cls.grpc_target = cls.start_trustmint()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.channel = grpc.insecure_channel(cls.grpc_target)
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.tokens = cls.pb_grpc.TokenServiceStub(cls.channel)
        cls.publishers = cls.pb_grpc.PublisherServiceStub(cls.channel)
        cls.publisher = cls.publishers.CreatePublisher(
            cls.pb.CreatePublisherRequest(publisher=cls.github_publisher([PROJECT, DOCS_PROJECT])),
            metadata=cls.auth(),
        )

    @classmethod
    def tearDownClass(cls) -> None:
        if getattr(cls, "channel", None) is not None:
            cls.channel.close()
        for process in reversed(cls.processes):
            stop(process)
        if getattr(cls, "log", None) is not None:
            cls.log.close()
        cls.tmp.cleanup()

    # --- processes ---

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
        # Drain the banner so the pipe never fills.
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
location = "https://upload.example.org"

[grpc]
auth_token = "{INDEX_TOKEN}"

[rate_limit]
enabled = false

[[issuers]]
url = "{cls.issuer_url}"
kind = "github"
"""
        )
        cls.log = open(Path(cls.tmp.name) / "trustmint.log", "w")
        process = subprocess.Popen(
            [str(TRUSTMINT), "serve", "--config", str(config)],
            stdout=cls.log,
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

    # --- what the index does ---

    @staticmethod
    def auth(token: str = INDEX_TOKEN):
        return (("authorization", f"Bearer {token}"),)

    @classmethod
    def github_publisher(cls, projects, repository=REPO, pending=False):
        return cls.pb.Publisher(
            projects=projects,
            pending=pending,
            github=cls.pb.GitHubPublisher(
                repository_owner=OWNER,
                repository_owner_id=OWNER_ID,
                repository_name=repository,
                workflow_filename=WORKFLOW,
                issuer=cls.issuer_url,
            ),
        )

    def ci_jwt(self, repository: str = f"{OWNER}/{REPO}") -> str:
        """What GitHub Actions hands the job: an OIDC token with audience pypi."""
        query = urllib.parse.urlencode(
            {
                "audience": "pypi",
                "repository": repository,
                "repository_owner_id": OWNER_ID,
                "workflow": WORKFLOW,
                "ref": GIT_REF,
                "sha": SHA,
            }
        )
        status, body = http_json("GET", f"{self.issuer_url}/token?{query}")
        self.assertEqual(status, 200, body)
        return body["token"]

    def exchange_over_http(self, jwt: str) -> dict:
        """What the CI job does (gh-action-pypi-publish): POST /_/oidc/mint-token."""
        status, body = http_json("POST", f"{self.http_url}/_/oidc/mint-token", {"token": jwt})
        self.assertEqual(status, 200, body)
        self.assertEqual(set(body), {"success", "token", "expires"})
        self.assertTrue(body["token"].startswith(PREFIX))
        return body

    def verify(self, token: str, project: str):
        return self.tokens.VerifyToken(
            self.pb.VerifyTokenRequest(token=token, project=project), metadata=self.auth()
        )

    # --- the flow ---

    def test_create_publisher_is_idempotent_and_listed(self):
        self.assertEqual(self.publisher.origin, "api")
        self.assertFalse(self.publisher.pending)
        self.assertEqual(list(self.publisher.projects), [PROJECT, DOCS_PROJECT])
        again = self.publishers.CreatePublisher(
            self.pb.CreatePublisherRequest(publisher=self.github_publisher([PROJECT])),
            metadata=self.auth(),
        )
        self.assertEqual(again.id, self.publisher.id)
        listed = self.publishers.ListPublishers(
            self.pb.ListPublishersRequest(project="SampleProject"), metadata=self.auth()
        )
        self.assertEqual([p.id for p in listed.publishers], [self.publisher.id])

    def test_invalid_publisher_names_the_field(self):
        bad = self.github_publisher([PROJECT])
        bad.github.workflow_filename = "release"
        with self.assertRaises(grpc.RpcError) as caught:
            self.publishers.CreatePublisher(
                self.pb.CreatePublisherRequest(publisher=bad), metadata=self.auth()
            )
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(
            caught.exception.details(),
            "invalid-argument: workflow_filename: must end in '.yml' or '.yaml', e.g. 'release.yml'",
        )
        status = rpc_status.from_call(caught.exception)
        bad_request = error_details_pb2.BadRequest()
        self.assertTrue(any(d.Unpack(bad_request) for d in status.details))
        self.assertEqual(bad_request.field_violations[0].field, "workflow_filename")

    def test_verify_for_the_right_project_returns_publisher_and_claims(self):
        minted = self.exchange_over_http(self.ci_jwt())
        verified = self.verify(minted["token"], PROJECT)
        self.assertTrue(verified.allowed, verified)
        self.assertEqual(verified.reason, "")
        self.assertEqual(verified.publisher.id, self.publisher.id)
        self.assertEqual(verified.publisher.github.repository_name, REPO)
        self.assertEqual(verified.expires_at, minted["expires"])
        self.assertEqual(sorted(verified.projects), [PROJECT, DOCS_PROJECT])
        self.assertFalse(verified.attenuated)
        claims = dict(verified.claims)
        self.assertEqual(claims["repository"], f"{OWNER}/{REPO}")
        self.assertEqual(claims["workflow"], WORKFLOW)
        self.assertEqual(claims["ref"], GIT_REF)
        self.assertEqual(claims["sha"], SHA)
        self.assertEqual(claims["issuer"], self.issuer_url)
        self.assertEqual(claims["publisher_url"], f"{self.issuer_url}/{OWNER}/{REPO}/commit/{SHA}")
        self.assertEqual(claims["token_id"], verified.token_id)

    def test_verify_for_another_project_is_denied_with_the_reason(self):
        minted = self.exchange_over_http(self.ci_jwt())
        verified = self.verify(minted["token"], OTHER_PROJECT)
        self.assertFalse(verified.allowed)
        self.assertEqual(
            verified.reason, f"project-scoped token is not valid for project: '{OTHER_PROJECT}'"
        )
        self.assertFalse(verified.HasField("publisher"))
        self.assertEqual(dict(verified.claims), {})

    def test_pymacaroons_attenuation_narrows_the_token(self):
        minted = self.exchange_over_http(self.ci_jwt())
        macaroon = Macaroon.deserialize(minted["token"][len(PREFIX):])
        earlier = int(time.time()) + 120
        macaroon.add_first_party_caveat(json.dumps([1, [DOCS_PROJECT]], separators=(",", ":")))
        macaroon.add_first_party_caveat(
            json.dumps([0, earlier, int(time.time())], separators=(",", ":"))
        )
        narrowed = PREFIX + macaroon.serialize()

        verified = self.verify(narrowed, DOCS_PROJECT)
        self.assertTrue(verified.allowed, verified)
        self.assertTrue(verified.attenuated)
        self.assertEqual(list(verified.projects), [DOCS_PROJECT])
        self.assertEqual(verified.expires_at, earlier)
        denied = self.verify(narrowed, PROJECT)
        self.assertFalse(denied.allowed)
        self.assertEqual(
            denied.reason, f"project-scoped token is not valid for project: '{PROJECT}'"
        )
        # Dropping the appended caveats (keeping the signature) breaks the chain.
        stripped = Macaroon.deserialize(narrowed[len(PREFIX):])
        del stripped.caveats[3:]
        self.assertEqual(
            self.verify(PREFIX + stripped.serialize(), PROJECT).reason, "signatures do not match"
        )
        # The original token still verifies for both projects.
        self.assertTrue(self.verify(minted["token"], PROJECT).allowed)

    def test_revoke_then_verify_is_denied(self):
        minted = self.exchange_over_http(self.ci_jwt())
        token = minted["token"]
        revoke = self.pb.RevokeTokenRequest(token=token)
        self.assertTrue(self.tokens.RevokeToken(revoke, metadata=self.auth()).revoked)
        verified = self.verify(token, PROJECT)
        self.assertFalse(verified.allowed)
        self.assertEqual(verified.reason, "token is expired or has been revoked")
        self.assertFalse(self.tokens.RevokeToken(revoke, metadata=self.auth()).revoked)

    def test_bad_bearer_token_is_unauthenticated(self):
        request = self.pb.VerifyTokenRequest(token="pypi-x", project=PROJECT)
        for metadata, details in [
            (self.auth("not-the-index-token"), "invalid bearer token"),
            ((), "missing authorization metadata: send 'authorization: Bearer <token>'"),
        ]:
            with self.subTest(details=details):
                with self.assertRaises(grpc.RpcError) as caught:
                    self.tokens.VerifyToken(request, metadata=metadata)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
                self.assertEqual(caught.exception.details(), details)

    def test_mint_token_errors_carry_the_code_in_metadata_and_error_info(self):
        jwt = self.ci_jwt(repository="someone/else")
        with self.assertRaises(grpc.RpcError) as caught:
            self.tokens.MintToken(
                self.pb.MintTokenRequest(oidc_token=jwt, client_ip="203.0.113.9"),
                metadata=self.auth(),
            )
        error = caught.exception
        self.assertEqual(error.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertTrue(error.details().startswith("invalid-publisher: valid token, but no"))
        self.assertIn(("trustmint-error-code", "invalid-publisher"), error.trailing_metadata())
        info = error_details_pb2.ErrorInfo()
        status = rpc_status.from_call(error)
        self.assertTrue(any(d.Unpack(info) for d in status.details))
        self.assertEqual((info.reason, info.domain), ("invalid-publisher", "trustmint"))

    def test_pending_publisher_mints_then_is_confirmed_once(self):
        new_project = "brand-new-interop-project"
        pending = self.publishers.CreatePublisher(
            self.pb.CreatePublisherRequest(
                publisher=self.github_publisher([new_project], repository="new-repo", pending=True)
            ),
            metadata=self.auth(),
        )
        self.assertTrue(pending.pending)
        minted = self.tokens.MintToken(
            self.pb.MintTokenRequest(oidc_token=self.ci_jwt(repository=f"{OWNER}/new-repo")),
            metadata=self.auth(),
        )
        self.assertEqual(list(minted.projects), [new_project])
        self.assertTrue(minted.publisher.pending)
        verified = self.verify(minted.token, new_project)
        self.assertTrue(verified.allowed and verified.publisher.pending, verified)

        confirm = self.pb.ConfirmPublisherRequest(id=pending.id)
        first = self.publishers.ConfirmPublisher(confirm, metadata=self.auth())
        second = self.publishers.ConfirmPublisher(confirm, metadata=self.auth())
        self.assertEqual((first.already_confirmed, second.already_confirmed), (False, True))
        self.assertFalse(self.verify(minted.token, new_project).publisher.pending)


if __name__ == "__main__":
    unittest.main()
