"""Interop: the Python `id` package (what pypa/gh-action-pypi-publish uses to get its
OIDC token) against trustmint's dev issuer.

The issuer is the `dev_issuer` example of crates/testkit (the same code as
`trustmint dev-issuer`), started through `cargo run` on a free loopback port. The `id`
package is pointed at it exactly as on a GitHub runner: GITHUB_ACTIONS=true,
ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. It sends
`GET <URL>&audience=<aud>` with `Authorization: bearer <token>` and expects
`{"value": "<jwt>"}`; extra query parameters in the URL (here `repository`) are kept,
which is how the dev issuer takes claim values.

Needs `id==1.6.1` in tests/interop/requirements.txt; skipped when it is not installed.
The signature check additionally needs PyJWT + cryptography and is skipped without them.
Run with tests/interop/run.sh.
"""

import base64
import importlib.util
import json
import os
import subprocess
import threading
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_ISSUER = [
    "cargo", "run", "-q", "-p", "trustmint-testkit", "--example", "dev_issuer", "--",
    "--addr", "127.0.0.1:0",
]
READY_PREFIX = "trustmint dev issuer listening on "
HAVE_ID = importlib.util.find_spec("id") is not None
HAVE_PYJWT = (
    importlib.util.find_spec("jwt") is not None
    and importlib.util.find_spec("cryptography") is not None
)


def decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@unittest.skipUnless(HAVE_ID, "the `id` package is not installed (add id==1.6.1 to requirements.txt)")
class IdPackageAgainstDevIssuer(unittest.TestCase):
    process: subprocess.Popen
    issuer_url: str

    @classmethod
    def setUpClass(cls) -> None:
        # stdin is a pipe: the example stops when it is closed, even if we crash.
        cls.process = subprocess.Popen(
            DEV_ISSUER,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        first_line = cls.process.stdout.readline()
        if not first_line.startswith(READY_PREFIX):
            cls.process.kill()
            raise RuntimeError(f"dev issuer did not start: {first_line!r}")
        cls.issuer_url = first_line[len(READY_PREFIX):].strip()
        # Drain the rest of the banner so the pipe never fills.
        threading.Thread(target=cls.process.stdout.read, daemon=True).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.process.stdin.close()
        try:
            cls.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait()

    def github_env(self, **extra_query: str) -> dict:
        query = "".join(f"&{name}={value}" for name, value in extra_query.items())
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.issuer_url}/_apis/idtoken?api-version=2.0{query}",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "dev-request-token",
        }

    def test_detect_credential_returns_a_github_shaped_token(self) -> None:
        import id as oidc_id

        with mock.patch.dict(os.environ, self.github_env(repository="pypa/sampleproject"), clear=False):
            token = oidc_id.detect_credential("pypi")

        header, payload, signature = token.split(".")
        self.assertEqual(decode_segment(header)["alg"], "RS256")
        self.assertTrue(decode_segment(header)["kid"].startswith("dev-"))
        claims = decode_segment(payload)
        self.assertEqual(claims["iss"], self.issuer_url)
        self.assertEqual(claims["aud"], "pypi")
        self.assertEqual(claims["repository"], "pypa/sampleproject")
        self.assertEqual(claims["repository_owner"], "pypa")
        self.assertEqual(
            claims["job_workflow_ref"],
            "pypa/sampleproject/.github/workflows/release.yml@refs/heads/main",
        )
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertNotEqual(signature, "")

    def test_audience_is_passed_through(self) -> None:
        import id as oidc_id

        with mock.patch.dict(os.environ, self.github_env(), clear=False):
            token = oidc_id.detect_credential("testpypi")
        self.assertEqual(decode_segment(token.split(".")[1])["aud"], "testpypi")

    def test_missing_request_token_is_reported_by_id(self) -> None:
        import id as oidc_id

        env = self.github_env()
        del env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
        with mock.patch.dict(os.environ, env, clear=False):
            os.environ.pop("ACTIONS_ID_TOKEN_REQUEST_TOKEN", None)
            with self.assertRaises(oidc_id.GitHubOidcPermissionCredentialError):
                oidc_id.detect_credential("pypi")

    def test_request_without_authorization_is_refused(self) -> None:
        url = f"{self.issuer_url}/_apis/idtoken?api-version=2.0&audience=pypi"
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(url, timeout=10)
        self.assertEqual(raised.exception.code, 401)

    @unittest.skipUnless(HAVE_PYJWT, "PyJWT and cryptography are not installed")
    def test_token_verifies_against_the_discovered_jwks_with_pyjwt(self) -> None:
        import id as oidc_id
        import jwt

        with mock.patch.dict(os.environ, self.github_env(), clear=False):
            token = oidc_id.detect_credential("pypi")
        discovery_url = f"{self.issuer_url}/.well-known/openid-configuration"
        with urllib.request.urlopen(discovery_url, timeout=10) as response:
            discovery = json.load(response)
        self.assertEqual(discovery["issuer"], self.issuer_url)
        signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience="pypi",
            issuer=self.issuer_url,
            options={"require": ["iss", "iat", "exp", "aud"], "strict_aud": True},
            leeway=30,
        )
        self.assertEqual(claims["repository"], "octo-org/sampleproject")


if __name__ == "__main__":
    unittest.main()
