#!/usr/bin/env python3
"""Check the committed test keys in tests/fixtures/keys/ are what they claim.

For each private key: a token it signs (PyJWT) verifies with its public key
file and with its JWKS entry (PyJWK), and fails with another key. The JWK
fields (n, e, x, y) are recomputed independently from `openssl -text`
output. The PKCS#1 and SEC1 files are the same keys as rsa-a and ec-p256.

    python3 tests/python/check_fixture_keys.py     # exits 1 on any failure

Needs: pip install pyjwt cryptography; openssl on PATH (the openssl
cross-check is skipped, with a note, when it is missing).
"""

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

KEYS = Path(__file__).resolve().parent.parent / "fixtures" / "keys"
FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILURES.append(what)


def read(name):
    return (KEYS / name).read_bytes()


def first_line(name):
    return read(name).split(b"\n", 1)[0].decode()


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims():
    now = int(time.time())
    return {"sub": "fixture-check", "iss": "driftgate-tests", "iat": now, "exp": now + 300}


def verifies(token, key, alg):
    try:
        jwt.decode(token, key, algorithms=[alg])
        return True
    except jwt.InvalidTokenError:
        return False


# (private key file, public key file, algorithms, expected private PEM header)
PAIRS = [
    ("rsa-a.key", "rsa-a.pub", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"], "PRIVATE KEY"),
    ("rsa-b.key", "rsa-b.pub", ["RS256"], "PRIVATE KEY"),
    ("rsa-pkcs1.key", "rsa-a.pub", ["RS256", "PS256"], "RSA PRIVATE KEY"),
    ("ec-p256.key", "ec-p256.pub", ["ES256"], "PRIVATE KEY"),
    ("ec-p256-sec1.key", "ec-p256.pub", ["ES256"], "EC PRIVATE KEY"),
    ("ec-p384.key", "ec-p384.pub", ["ES384"], "PRIVATE KEY"),
    ("ed25519.key", "ed25519.pub", ["EdDSA"], "PRIVATE KEY"),
]
# A public key of another kind or another key: must never verify.
OTHER = {"rsa-a.pub": "rsa-b.pub", "rsa-b.pub": "rsa-a.pub", "ec-p256.pub": "ec-p384.pub",
         "ec-p384.pub": "ec-p256.pub", "ed25519.pub": "rsa-a.pub"}


def check_pairs():
    for priv, pub, algs, header in PAIRS:
        check(first_line(priv) == f"-----BEGIN {header}-----", f"{priv} is PEM '{header}'")
        check(first_line(pub) == "-----BEGIN PUBLIC KEY-----", f"{pub} is PEM 'PUBLIC KEY' (SPKI)")
        for alg in algs:
            token = jwt.encode(claims(), read(priv), algorithm=alg)
            check(verifies(token, read(pub), alg), f"{alg} token signed with {priv} verifies with {pub}")
            other = OTHER[pub]
            try:
                wrong = verifies(token, read(other), alg)
            except Exception:  # a key of the wrong type for alg: PyJWT refuses it
                wrong = False
            check(not wrong, f"{alg} token signed with {priv} does not verify with {other}")


def check_same_key(a, b):
    pa = load_pem_private_key(read(a), None).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    pb = load_pem_private_key(read(b), None).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    check(pa == pb, f"{a} and {b} hold the same key")


def check_pub_matches_priv():
    for priv, pub, _, _ in PAIRS:
        derived = load_pem_private_key(read(priv), None).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        given = load_pem_public_key(read(pub)).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        check(derived == given, f"{pub} is the public half of {priv}")


def openssl_text(pub):
    out = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(KEYS / pub), "-noout", "-text"],
                         check=True, capture_output=True, text=True).stdout
    return out


def hex_block(text, label):
    """The colon-separated hex after `label:` in openssl -text output, as bytes."""
    m = re.search(re.escape(label) + r":?\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))


def openssl_jwk_fields(pub):
    """n/e or x/y from openssl's own dump: an independent computation of the JWK."""
    text = openssl_text(pub)
    if "Modulus" in text:
        n = hex_block(text, "Modulus").lstrip(b"\x00")
        e = int(re.search(r"Exponent: (\d+)", text).group(1))
        return {"n": b64u(n), "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big"))}
    raw = hex_block(text, "pub")
    if "ED25519" in text:
        return {"x": b64u(raw)}
    assert raw[0] == 4, "uncompressed EC point"
    half = (len(raw) - 1) // 2
    return {"x": b64u(raw[1:1 + half]), "y": b64u(raw[1 + half:])}


# kid -> (public key file, private key file, alg, kty, crv)
JWKS_A = {"k1": ("rsa-a.pub", "rsa-a.key", "RS256", "RSA", None),
          "ec1": ("ec-p256.pub", "ec-p256.key", "ES256", "EC", "P-256"),
          "ed1": ("ed25519.pub", "ed25519.key", "EdDSA", "OKP", "Ed25519")}
JWKS_ROTATED = {"k2": ("rsa-b.pub", "rsa-b.key", "RS256", "RSA", None)}


def check_jwks(name, expected):
    doc = json.loads(read(name))
    keys = doc.get("keys", [])
    check(sorted(k.get("kid") for k in keys) == sorted(expected), f"{name} holds exactly kids {sorted(expected)}")
    have_openssl = shutil.which("openssl") is not None
    if not have_openssl:
        print(f"note {name}: openssl not on PATH, JWK fields not cross-checked against openssl")
    for entry in keys:
        kid = entry.get("kid")
        if kid not in expected:
            continue
        pub, priv, alg, kty, crv = expected[kid]
        check(entry.get("kty") == kty and entry.get("alg") == alg and entry.get("use") == "sig"
              and entry.get("crv") == crv, f"{name} kid {kid}: kty {kty}, alg {alg}, use sig" + (f", crv {crv}" if crv else ""))
        fields = {f: entry[f] for f in ("n", "e", "x", "y") if f in entry}
        check(all("=" not in v and "+" not in v and "/" not in v for v in fields.values()),
              f"{name} kid {kid}: base64url without padding")
        if have_openssl:
            check(fields == openssl_jwk_fields(pub), f"{name} kid {kid}: JWK fields equal openssl's dump of {pub}")
        try:
            jwk = jwt.PyJWK(entry)
            # The same JWK, as a PyJWKSet (what a JWKS client chooses from by kid).
            chosen = jwt.PyJWKSet.from_dict(doc)[kid]
        except (jwt.PyJWTError, KeyError) as e:
            check(False, f"{name} kid {kid}: PyJWK accepts the entry ({e})")
            continue
        token = jwt.encode(claims(), read(priv), algorithm=alg, headers={"kid": kid})
        check(jwt.get_unverified_header(token)["kid"] == kid and verifies(token, jwk.key, alg),
              f"{name} kid {kid}: {alg} token signed with {priv} verifies with PyJWK")
        check(verifies(token, chosen.key, alg), f"{name} kid {kid}: chosen by kid from PyJWKSet, verifies")


def check_rotation():
    """A token from the current key (k1) must not verify with the rotated JWKS (k2)."""
    token = jwt.encode(claims(), read("rsa-a.key"), algorithm="RS256", headers={"kid": "k1"})
    rotated = jwt.PyJWKSet.from_dict(json.loads(read("jwks-rotated.json")))
    check("k1" not in [k.key_id for k in rotated.keys], "jwks-rotated.json lacks k1 (the rotation case)")
    check(not verifies(token, rotated["k2"].key, "RS256"), "rsa-a token does not verify with jwks-rotated k2")


def check_hmac():
    secret = read("hmac.secret")
    check(not secret.startswith(b"-----") and not secret.endswith(b"\n") and len(secret) >= 64,
          "hmac.secret is raw bytes, >= 64 (HS512), no PEM header, no trailing newline")
    token = jwt.encode(claims(), secret, algorithm="HS256")
    check(verifies(token, secret, "HS256"), "HS256 token verifies with hmac.secret")
    check(not verifies(token, secret + b"x", "HS256"), "HS256 token fails with another secret")


def main():
    check_pairs()
    check_pub_matches_priv()
    check_same_key("rsa-a.key", "rsa-pkcs1.key")
    check_same_key("ec-p256.key", "ec-p256-sec1.key")
    check_jwks("jwks-a.json", JWKS_A)
    check_jwks("jwks-rotated.json", JWKS_ROTATED)
    check_rotation()
    check_hmac()
    print(f"{len(FAILURES)} failed" if FAILURES else "all fixture key checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
