"""Interop: trustmint-tokens macaroons against pymacaroons 0.13 (what Warehouse uses).

The Rust side is the `macaroon_fixture` example of crates/tokens, run through
`cargo run`. Checks, in both directions:
  * pymacaroons reads a trustmint token (location, identifier, the exact three caveat
    predicates) and writes it back byte for byte;
  * the root key is HKDF-SHA256(master secret, info = identifier), recomputed here with
    hmac/hashlib, and pymacaroons.Verifier accepts the token with it;
  * a token minted by pymacaroons with that key verifies in Rust;
  * attenuation with pymacaroons narrows what Rust allows, and removing or reordering
    caveats breaks the signature.
Run with tests/interop/run.sh.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import unittest
import uuid
from pathlib import Path

from pymacaroons import MACAROON_V2, Macaroon, Verifier
from pymacaroons.exceptions import MacaroonInvalidSignatureException

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = [
    "cargo", "run", "-q", "-p", "trustmint-tokens", "--example", "macaroon_fixture", "--",
]

MASTER_SECRET = hashlib.sha256(b"trustmint interop master secret").digest()
SECRET_B64 = base64.urlsafe_b64encode(MASTER_SECRET).decode().rstrip("=")
KEY_ID = "interop-1"
LOCATION = "https://upload.example.org"
PUBLISHER_ID = "8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1"
PROJECTS = ["sampleproject", "other"]
NOW = 1_700_000_000
PREFIX = "pypi-"

SIGNATURE_MISMATCH = "signatures do not match"
ALLOWED = {"allowed": True, "reason": "signature and caveats OK"}


def run_fixture(*args, stdin=None):
    """Runs the Rust fixture and returns its JSON output."""
    env = dict(os.environ, MACAROON_FIXTURE_NOW=str(NOW))
    done = subprocess.run(
        FIXTURE + [str(a) for a in args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise AssertionError(f"fixture failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def rust_verify(token, project, now, publisher_id=PUBLISHER_ID):
    return run_fixture("verify", SECRET_B64, KEY_ID, publisher_id, project, now, stdin=token)


def hkdf_sha256(ikm, info, length=32):
    """RFC 5869 with no salt (a zero-filled salt of hash length), by hand."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def warehouse_predicate(value):
    """Warehouse's caveat serialisation."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def from_token(token):
    assert token.startswith(PREFIX), token
    return Macaroon.deserialize(token[len(PREFIX):])


def to_token(macaroon):
    return PREFIX + macaroon.serialize()


def warehouse_checker(project, now, publisher_id):
    """A satisfy_general callback with the semantics of Warehouse's caveats 0, 1 and 4."""

    def check(predicate):
        tag, *fields = json.loads(predicate)
        if tag == 0:
            expires_at, not_before = fields
            return not_before <= now < expires_at
        if tag == 1:
            return project in fields[0]
        if tag == 4:
            return fields[0] == publisher_id
        return False

    return check


class MacaroonInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.minted = run_fixture(
            "mint", SECRET_B64, KEY_ID, LOCATION, PUBLISHER_ID, *PROJECTS
        )
        cls.token = cls.minted["token"]
        cls.identifier = cls.minted["identifier"]
        cls.expires_at = cls.minted["expires_at"]

    def expected_predicates(self):
        return [
            warehouse_predicate([0, NOW + 900, NOW]),
            warehouse_predicate([1, PROJECTS]),
            warehouse_predicate([4, PUBLISHER_ID, None]),
        ]

    # --- reading the Rust token with pymacaroons ---

    def test_fixture_reports_the_window(self):
        self.assertEqual(self.minted["not_before"], NOW)
        self.assertEqual(self.minted["expires_at"], NOW + 900)

    def test_token_is_prefixed_unpadded_base64url_of_v2(self):
        self.assertTrue(self.token.startswith("pypi-AgE"), self.token)
        self.assertRegex(self.token[len(PREFIX):], r"^[A-Za-z0-9_-]+$")

    def test_pymacaroons_reads_location_identifier_and_caveats(self):
        macaroon = from_token(self.token)
        self.assertEqual(macaroon.version, MACAROON_V2)
        self.assertEqual(macaroon.location, LOCATION)
        self.assertEqual(macaroon.identifier_bytes, self.identifier.encode())
        key_id, token_id = self.identifier.split(":")
        self.assertEqual(key_id, KEY_ID)
        self.assertEqual(uuid.UUID(token_id).version, 4)
        self.assertEqual(str(uuid.UUID(token_id)), token_id)
        self.assertEqual(
            [c.caveat_id_bytes for c in macaroon.caveats],
            [
                b"[0,1700000900,1700000000]",
                b'[1,["sampleproject","other"]]',
                b'[4,"8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1",null]',
            ],
        )
        self.assertEqual(
            [c.caveat_id_bytes for c in macaroon.caveats], self.expected_predicates()
        )
        self.assertTrue(all(c.first_party() for c in macaroon.caveats))

    def test_pymacaroons_writes_the_same_bytes_back(self):
        self.assertEqual(to_token(from_token(self.token)), self.token)

    def test_root_key_is_hkdf_of_the_master_secret(self):
        root_key = hkdf_sha256(MASTER_SECRET, self.identifier.encode())
        self.assertEqual(root_key.hex(), self.minted["root_key_hex"])

    def test_pymacaroons_verifier_accepts_with_the_python_derived_key(self):
        root_key = hkdf_sha256(MASTER_SECRET, self.identifier.encode())
        verifier = Verifier()
        verifier.satisfy_general(warehouse_checker("sampleproject", NOW + 1, PUBLISHER_ID))
        self.assertTrue(verifier.verify(from_token(self.token), root_key))

    def test_pymacaroons_verifier_rejects_another_key(self):
        verifier = Verifier()
        verifier.satisfy_general(warehouse_checker("sampleproject", NOW + 1, PUBLISHER_ID))
        with self.assertRaises(MacaroonInvalidSignatureException):
            verifier.verify(from_token(self.token), b"\x00" * 32)

    # --- Rust verifying pymacaroons output ---

    def test_rust_allows_the_token_in_scope(self):
        self.assertEqual(rust_verify(self.token, "sampleproject", NOW + 1), ALLOWED)
        self.assertEqual(rust_verify(self.token, "other", NOW + 1), ALLOWED)

    def test_token_minted_by_pymacaroons_verifies_in_rust(self):
        identifier = f"{KEY_ID}:{uuid.uuid4()}"
        macaroon = Macaroon(
            location=LOCATION,
            identifier=identifier,
            key=hkdf_sha256(MASTER_SECRET, identifier.encode()),
            version=MACAROON_V2,
        )
        for predicate in [
            warehouse_predicate([0, NOW + 900, NOW]),
            warehouse_predicate([1, ["sampleproject"]]),
            warehouse_predicate([4, PUBLISHER_ID, None]),
        ]:
            macaroon.add_first_party_caveat(predicate)
        token = to_token(macaroon)
        self.assertEqual(rust_verify(token, "sampleproject", NOW), ALLOWED)
        self.assertEqual(
            rust_verify(token, "sampleproject", NOW, publisher_id="someone-else"),
            {
                "allowed": False,
                "reason": "current OIDC publisher does not match publisher restriction in token",
            },
        )

    # --- attenuation with pymacaroons ---

    def attenuated(self, *predicates):
        macaroon = from_token(self.token)
        for predicate in predicates:
            macaroon.add_first_party_caveat(predicate)
        return to_token(macaroon)

    def test_narrower_scope_and_earlier_expiry(self):
        earlier = NOW + 60
        token = self.attenuated(
            warehouse_predicate([1, ["other"]]),
            warehouse_predicate([0, earlier, NOW]),
        )
        self.assertEqual(
            rust_verify(token, "sampleproject", NOW + 1),
            {
                "allowed": False,
                "reason": "project-scoped token is not valid for project: 'sampleproject'",
            },
        )
        self.assertEqual(rust_verify(token, "other", NOW + 1), ALLOWED)
        self.assertEqual(rust_verify(token, "other", earlier - 1), ALLOWED)
        self.assertEqual(
            rust_verify(token, "other", earlier),
            {"allowed": False, "reason": "token is expired"},
        )
        # the unattenuated token is still valid then
        self.assertEqual(rust_verify(self.token, "other", earlier), ALLOWED)

    def test_attenuation_cannot_widen(self):
        token = self.attenuated(
            warehouse_predicate([1, ["unrelated"]]),
            warehouse_predicate([0, NOW + 3600, NOW]),
        )
        self.assertEqual(
            rust_verify(token, "unrelated", NOW + 1),
            {
                "allowed": False,
                "reason": "project-scoped token is not valid for project: 'unrelated'",
            },
        )
        # every failing caveat is reported, in caveat order
        self.assertEqual(
            rust_verify(token, "other", NOW + 900),
            {
                "allowed": False,
                "reason": "token is expired, "
                "project-scoped token is not valid for project: 'other'",
            },
        )

    def test_unknown_caveat_from_pymacaroons_is_denied(self):
        token = self.attenuated(b"account = 3735928559")
        self.assertEqual(
            rust_verify(token, "other", NOW + 1),
            {"allowed": False, "reason": "caveat is not valid JSON"},
        )
        token = self.attenuated(b"[]")
        self.assertEqual(
            rust_verify(token, "other", NOW + 1),
            {"allowed": False, "reason": "caveat array cannot be empty"},
        )

    def test_third_party_caveat_from_pymacaroons_is_denied_after_signature_check(self):
        macaroon = from_token(self.token)
        macaroon.add_third_party_caveat("https://auth.example", b"k" * 32, "caveat-id")
        self.assertEqual(
            rust_verify(to_token(macaroon), "other", NOW + 1),
            {"allowed": False, "reason": "third-party caveats are not supported"},
        )

    # --- tampering ---

    def test_removing_any_caveat_fails_the_signature(self):
        for index in range(3):
            with self.subTest(removed=index):
                macaroon = from_token(self.token)
                del macaroon.caveats[index]
                self.assertEqual(
                    rust_verify(to_token(macaroon), "sampleproject", NOW + 1),
                    {"allowed": False, "reason": SIGNATURE_MISMATCH},
                )

    def test_removing_an_attenuation_fails_the_signature(self):
        macaroon = from_token(self.attenuated(warehouse_predicate([1, ["other"]])))
        del macaroon.caveats[-1]
        self.assertEqual(
            rust_verify(to_token(macaroon), "sampleproject", NOW + 1),
            {"allowed": False, "reason": SIGNATURE_MISMATCH},
        )

    def test_reordering_caveats_fails_the_signature(self):
        macaroon = from_token(self.token)
        macaroon.caveats.reverse()
        self.assertEqual(
            rust_verify(to_token(macaroon), "sampleproject", NOW + 1),
            {"allowed": False, "reason": SIGNATURE_MISMATCH},
        )

    def test_token_id_is_bound_to_the_signature(self):
        macaroon = from_token(self.token)
        macaroon.identifier = f"{KEY_ID}:{uuid.uuid4()}"
        self.assertEqual(
            rust_verify(to_token(macaroon), "sampleproject", NOW + 1),
            {"allowed": False, "reason": SIGNATURE_MISMATCH},
        )


if __name__ == "__main__":
    unittest.main()
