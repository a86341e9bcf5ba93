#!/usr/bin/env python3
"""Cross-check driftgate's JWTs against PyJWT, an independent implementation.

Both directions, with the fixed test keys in tests/fixtures/keys/:

  * PyJWT mints, `driftgate jwt verify` judges: good tokens must verify
    (exit 0, `"verifies": true`), bad ones must not (exit 1): wrong key,
    rotated JWKS, wrong audience, expired, `alg: none`, and algorithm
    confusion both ways.
  * `driftgate jwt mint` mints, PyJWT verifies: header `alg`, the claims
    given, and `exp` from `--ttl`.

Usage:

    DRIFTGATE_BIN=target/debug/driftgate python3 tests/python/jwt_crosscheck.py
    python3 tests/python/jwt_crosscheck.py                 # PyJWT-only part; driftgate parts skipped
    python3 tests/python/jwt_crosscheck.py --require-bin   # CI: fail when DRIFTGATE_BIN is unset
    python3 tests/python/jwt_crosscheck.py mint OUTDIR     # write PyJWT tokens to OUTDIR/*.jwt, print them
    python3 tests/python/jwt_crosscheck.py verify ALG FILE # PyJWT-verify the token in FILE (or - for stdin)

It is a plain script, not collected by pytest (scripts/sandbox-fidelity.sh
runs `pytest tests/python`); it ends with `N passed, N failed` and exits 1
on any failure. Needs: pip install pyjwt cryptography.

The driftgate command lines are all in the "driftgate CLI" block just
below: adjust them there if the interface changes.
"""

import hashlib
import hmac
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent.parent
KEYS = ROOT / "tests" / "fixtures" / "keys"
BIN = os.environ.get("DRIFTGATE_BIN")
# Absolute: some runs change the working directory (`without_config`).
BIN = str(Path(BIN).resolve()) if BIN else None
TIMEOUT = 60  # seconds per driftgate run

# ---------------------------------------------------------------- driftgate CLI
# Every driftgate command line this script runs is built here.

# `jwt mint --key` / `jwt verify --key|--jwks` need no config, but use one
# when they find it (./driftgate.toml, ./config/driftgate.toml: this
# repository's example, whose Google sources would be tried); a minimal one
# with a source that reads nothing pins what they see. `without_config`
# checks the no-config case from an empty folder.
MINIMAL_CONFIG = """\
[sources.none]
kind = "env"
prefix = "DRIFTGATE_CROSSCHECK_NOTHING_"
environment = "test"
"""

# Pass the token on stdin (`-`) rather than in argv (keeps it out of `ps`).
TOKEN_ON_STDIN = True


def mint_cmd(config, key, algorithm, claims, ttl):
    """`driftgate jwt mint --key PATH --algorithm ALG --claims JSON --ttl 5m`:
    the token on stdout. A key file without a PEM header is an HMAC secret."""
    return [BIN, *config_args(config), "jwt", "mint", "--key", str(key),
            "--algorithm", algorithm, "--claims", json.dumps(claims), "--ttl", ttl]


def verify_cmd(config, token_arg, key=None, jwks=None, audience=None):
    """`driftgate jwt verify TOKEN --key PATH | --jwks URL-or-file [--audience AUD]
    --format json`: exit 0 when it verifies, 1 when not; stdout a JSON object."""
    cmd = [BIN, *config_args(config), "--format", "json", "jwt", "verify", token_arg]
    if key is not None:
        cmd += ["--key", str(key)]
    if jwks is not None:
        cmd += ["--jwks", str(jwks)]
    if audience is not None:
        cmd += ["--audience", audience]
    return cmd


def config_args(config):
    return ["--config", str(config)] if config else []


# What PyJWT-minted tokens driftgate must accept: (name, alg, private key,
# verifying key for driftgate: ("key", file) or ("jwks", file), kid header).
ACCEPT = [
    ("hs256-secret-file", "HS256", "hmac.secret", ("key", "hmac.secret"), None),
    ("hs384-secret-file", "HS384", "hmac.secret", ("key", "hmac.secret"), None),
    ("hs512-secret-file", "HS512", "hmac.secret", ("key", "hmac.secret"), None),
    ("rs256-pem", "RS256", "rsa-a.key", ("key", "rsa-a.pub"), None),
    ("rs256-pkcs1-signer", "RS256", "rsa-pkcs1.key", ("key", "rsa-a.pub"), None),
    ("rs512-pem", "RS512", "rsa-a.key", ("key", "rsa-a.pub"), None),
    ("ps256-pem", "PS256", "rsa-a.key", ("key", "rsa-a.pub"), None),
    ("es256-pem", "ES256", "ec-p256.key", ("key", "ec-p256.pub"), None),
    ("es384-pem", "ES384", "ec-p384.key", ("key", "ec-p384.pub"), None),
    ("eddsa-pem", "EdDSA", "ed25519.key", ("key", "ed25519.pub"), None),
    ("rs256-jwks-k1", "RS256", "rsa-a.key", ("jwks", "jwks-a.json"), "k1"),
    ("es256-jwks-ec1", "ES256", "ec-p256.key", ("jwks", "jwks-a.json"), "ec1"),
    ("eddsa-jwks-ed1", "EdDSA", "ed25519.key", ("jwks", "jwks-a.json"), "ed1"),
    ("rs256-jwks-rotated-k2", "RS256", "rsa-b.key", ("jwks", "jwks-rotated.json"), "k2"),
]

# What driftgate mints and PyJWT must verify: (alg, driftgate's --key, PyJWT's key).
MINT = [
    ("HS256", "hmac.secret", "hmac.secret"),
    ("RS256", "rsa-a.key", "rsa-a.pub"),
    ("RS256", "rsa-pkcs1.key", "rsa-a.pub"),
    ("PS256", "rsa-a.key", "rsa-a.pub"),
    ("ES256", "ec-p256.key", "ec-p256.pub"),
    ("ES384", "ec-p384.key", "ec-p384.pub"),
    ("EdDSA", "ed25519.key", "ed25519.pub"),
]

AUDIENCE = "driftgate-crosscheck"
ISSUER = "pyjwt-crosscheck"
# ------------------------------------------------------------------------------

PASSED = []
FAILED = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f"\n       {detail}" if detail and not ok else ""))
    (PASSED if ok else FAILED).append(what)


def key_bytes(name):
    return (KEYS / name).read_bytes()


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**over):
    now = int(time.time())
    c = {"sub": "crosscheck-user", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def pyjwt_mint(alg, priv, kid=None, **over):
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims(**over), key_bytes(priv), algorithm=alg, headers=headers)


def hand_made(header, payload, sign):
    """A token PyJWT refuses to make: `sign` gets the signing input, returns bytes."""
    signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
    return signing_input + "." + b64u(sign(signing_input.encode()))


def bad_tokens():
    """(name, token, driftgate verifying key) that must NOT verify."""
    confusion = hand_made(  # HS256 keyed with the RSA public key's PEM: the classic confusion attack
        {"alg": "HS256", "typ": "JWT"}, claims(),
        lambda m: hmac.new(key_bytes("rsa-a.pub"), m, hashlib.sha256).digest())
    none = hand_made({"alg": "none", "typ": "JWT"}, claims(), lambda m: b"")
    return [
        ("rs256-wrong-key", pyjwt_mint("RS256", "rsa-b.key"), ("key", "rsa-a.pub")),
        ("hs256-wrong-secret", jwt.encode(claims(), key_bytes("hmac.secret") + b"x", algorithm="HS256"),
         ("key", "hmac.secret")),
        ("rs256-k1-against-rotated-jwks", pyjwt_mint("RS256", "rsa-a.key", kid="k1"), ("jwks", "jwks-rotated.json")),
        ("rs256-kid-missing-from-jwks", pyjwt_mint("RS256", "rsa-a.key", kid="nope"), ("jwks", "jwks-a.json")),
        ("rs256-expired", pyjwt_mint("RS256", "rsa-a.key", iat=int(time.time()) - 7200,
                                     exp=int(time.time()) - 3600), ("key", "rsa-a.pub")),
        ("confusion-hs256-signed-with-public-pem", confusion, ("key", "rsa-a.pub")),
        ("confusion-rs256-offered-hmac-secret", pyjwt_mint("RS256", "rsa-a.key"), ("key", "hmac.secret")),
        ("alg-none", none, ("key", "hmac.secret")),
        ("alg-none-pem", none, ("key", "rsa-a.pub")),
    ]


# ------------------------------------------------------------------ PyJWT only

def pyjwt_self_check():
    """PyJWT's own round trips of the tokens this script feeds driftgate: if
    these fail, a driftgate failure below says nothing about driftgate."""
    for name, alg, priv, (kind, verifier), kid in ACCEPT:
        token = pyjwt_mint(alg, priv, kid)
        if kind == "key":
            key = key_bytes(verifier)
        else:
            key = jwt.PyJWKSet.from_dict(json.loads(key_bytes(verifier)))[kid].key
        try:
            jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
            check(True, f"pyjwt: {name} verifies with PyJWT itself")
        except jwt.PyJWTError as e:
            check(False, f"pyjwt: {name} verifies with PyJWT itself", str(e))
    for name, token, (kind, verifier) in bad_tokens():
        try:
            if kind == "key":
                key = key_bytes(verifier)
                alg = jwt.get_unverified_header(token)["alg"]
            else:
                kid = jwt.get_unverified_header(token).get("kid")
                key = jwt.PyJWKSet.from_dict(json.loads(key_bytes(verifier)))[kid].key
                alg = "RS256"
            jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
            check(False, f"pyjwt: {name} is refused by PyJWT itself", "it verified")
        except Exception:  # PyJWTError, or KeyError for a kid the set lacks
            check(True, f"pyjwt: {name} is refused by PyJWT itself")


# ------------------------------------------------------------------- driftgate

def run(cmd, stdin=None, cwd=None):
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {TIMEOUT}s"
    return p.returncode, p.stdout, p.stderr


def driftgate_verify(config, token, kind, verifier, audience=AUDIENCE):
    path = KEYS / verifier
    arg = "-" if TOKEN_ON_STDIN else token
    cmd = verify_cmd(config, arg, key=path if kind == "key" else None,
                     jwks=path if kind == "jwks" else None, audience=audience)
    rc, out, err = run(cmd, stdin=token if TOKEN_ON_STDIN else None)
    try:
        verdict = json.loads(out).get("verifies")
    except (json.JSONDecodeError, AttributeError):
        verdict = None
    return rc, verdict, out, err


def pyjwt_to_driftgate(config):
    for name, alg, priv, (kind, verifier), kid in ACCEPT:
        rc, verdict, out, err = driftgate_verify(config, pyjwt_mint(alg, priv, kid), kind, verifier)
        check(rc == 0 and verdict is True, f"driftgate verify: PyJWT {name} verifies ({kind} {verifier})",
              f"exit {rc}, verifies={verdict}; stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")
    for name, token, (kind, verifier) in bad_tokens():
        rc, verdict, out, err = driftgate_verify(config, token, kind, verifier)
        check(rc == 1 and verdict is False, f"driftgate verify: PyJWT {name} is refused ({kind} {verifier})",
              f"exit {rc}, verifies={verdict}; stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")
    # Audience: the right one passes, a wrong one fails.
    token = pyjwt_mint("RS256", "rsa-a.key")
    rc, verdict, out, err = driftgate_verify(config, token, "key", "rsa-a.pub", audience="someone-else")
    check(rc == 1 and verdict is False, "driftgate verify: --audience someone-else refuses a token for driftgate-crosscheck",
          f"exit {rc}, verifies={verdict}; stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")


def driftgate_to_pyjwt(config):
    for alg, dg_key, py_key in MINT:
        want = {"sub": "x", "iss": "i", "aud": AUDIENCE, "permissions": ["read", "write"]}
        before = int(time.time())
        rc, out, err = run(mint_cmd(config, KEYS / dg_key, alg, want, "5m"))
        token = out.strip()
        what = f"driftgate mint {alg} --key {dg_key}: PyJWT verifies with {py_key}"
        if rc != 0 or token.count(".") != 2:
            check(False, what, f"mint exit {rc}; stdout: {out.strip()[:200]} stderr: {err.strip()[:400]}")
            continue
        try:
            header = jwt.get_unverified_header(token)
            got = jwt.decode(token, key_bytes(py_key), algorithms=[alg], audience=AUDIENCE, issuer="i")
        except jwt.PyJWTError as e:
            check(False, what, str(e))
            continue
        check(header.get("alg") == alg, what + f" (header alg {header.get('alg')})")
        check(all(got.get(k) == v for k, v in want.items()), f"driftgate mint {alg}: claims as given",
              json.dumps(got))
        exp = got.get("exp")
        check(isinstance(exp, int) and before + 300 - 5 <= exp <= int(time.time()) + 300 + 5,
              f"driftgate mint {alg}: exp is now + 5m", f"exp={exp}, now={int(time.time())}")
        if alg == "RS256" and dg_key == "rsa-a.key":
            k1 = jwt.PyJWKSet.from_dict(json.loads(key_bytes("jwks-a.json")))["k1"].key
            try:
                jwt.decode(token, k1, algorithms=[alg], audience=AUDIENCE)
                check(True, "driftgate mint RS256: verifies with jwks-a.json k1 (PyJWK)")
            except jwt.PyJWTError as e:
                check(False, "driftgate mint RS256: verifies with jwks-a.json k1 (PyJWK)", str(e))
        # And driftgate's own verify accepts what it minted (round trip).
        rc, verdict, out, err = driftgate_verify(config, token, "key", py_key)
        check(rc == 0 and verdict is True, f"driftgate mint {alg} -> driftgate verify --key {py_key}",
              f"exit {rc}, verifies={verdict}; stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")


# ------------------------------------------------------------------- commands

def without_config():
    """`--key` needs no config: in a folder with none, mint and verify work."""
    with tempfile.TemporaryDirectory(prefix="driftgate-noconfig-") as empty:
        env_config = os.environ.pop("DRIFTGATE_CONFIG", None)
        try:
            rc, out, err = run(mint_cmd(None, KEYS / "ec-p256.key", "ES256", {"sub": "x"}, "5m"), cwd=empty)
            token = out.strip()
            check(rc == 0 and token.count(".") == 2, "driftgate mint --key with no config",
                  f"exit {rc}; stderr: {err.strip()[:400]}")
            rc, out, err = run(verify_cmd(None, "-", key=KEYS / "ec-p256.pub"), stdin=token, cwd=empty)
            try:
                verdict = json.loads(out).get("verifies")
            except (json.JSONDecodeError, AttributeError):
                verdict = None
            check(rc == 0 and verdict is True, "driftgate verify --key with no config",
                  f"exit {rc}, verifies={verdict}; stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")
        finally:
            if env_config is not None:
                os.environ["DRIFTGATE_CONFIG"] = env_config


def cmd_mint(outdir):
    """Write PyJWT tokens to OUTDIR/NAME.jwt (and print NAME TOKEN), for a
    caller that feeds them to `driftgate jwt verify` itself."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, alg, priv, (kind, verifier), kid in ACCEPT:
        token = pyjwt_mint(alg, priv, kid)
        (outdir / f"{name}.jwt").write_text(token)
        print(f"{name}\t{alg}\t--{kind} {KEYS / verifier}\t{token}")
    for name, token, (kind, verifier) in bad_tokens():
        (outdir / f"bad-{name}.jwt").write_text(token)
        print(f"bad-{name}\t-\t--{kind} {KEYS / verifier}\t{token}")
    return 0


def cmd_verify(alg, source):
    """PyJWT-verify a token (e.g. one driftgate minted): exit 0 if it verifies."""
    token = (sys.stdin.read() if source == "-" else Path(source).read_text()).strip()
    key = {"HS": "hmac.secret", "RS": "rsa-a.pub", "PS": "rsa-a.pub", "Ed": "ed25519.pub"}.get(alg[:2])
    key = key or {"ES256": "ec-p256.pub", "ES384": "ec-p384.pub"}[alg]
    try:
        got = jwt.decode(token, key_bytes(key), algorithms=[alg], options={"verify_aud": False})
    except jwt.PyJWTError as e:
        print(f"does NOT verify with {key}: {e}")
        return 1
    print(f"verifies with {key}: {json.dumps(got)}")
    return 0


def cmd_all(require_bin):
    pyjwt_self_check()
    if not BIN:
        if require_bin:
            check(False, "DRIFTGATE_BIN is set", "set DRIFTGATE_BIN to the driftgate binary")
        else:
            print("skip DRIFTGATE_BIN is not set: the driftgate parts did not run")
    else:
        with tempfile.TemporaryDirectory(prefix="driftgate-crosscheck-") as tmp:
            config = None
            if MINIMAL_CONFIG is not None:
                config = Path(tmp) / "driftgate.toml"
                config.write_text(MINIMAL_CONFIG)
            pyjwt_to_driftgate(config)
            driftgate_to_pyjwt(config)
            without_config()
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


def main(argv):
    if argv[:1] == ["mint"] and len(argv) == 2:
        return cmd_mint(argv[1])
    if argv[:1] == ["verify"] and len(argv) == 3:
        return cmd_verify(argv[1], argv[2])
    if argv in ([], ["--require-bin"]):
        return cmd_all(require_bin=bool(argv))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
