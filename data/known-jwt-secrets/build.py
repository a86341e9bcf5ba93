#!/usr/bin/env python3
"""Rebuild LIST.txt from curated.txt and the upstream wallarm list.

    python3 data/known-jwt-secrets/build.py PATH/TO/jwt.secrets.list

PATH is wallarm/jwt-secrets' `jwt.secrets.list` at the commit named in
SOURCES.md (its SHA-256 is checked). Output, deterministic:

  * curated.txt first (comments dropped), then the upstream lines in their
    upstream order;
  * each line: CR of a CRLF ending removed, then leading and trailing
    spaces/tabs removed (upstream has a few " secret" / "secret " typing
    artifacts); empty lines dropped; lines over 256 bytes dropped;
  * exact-byte duplicates dropped (first kept);
  * UTF-8 checked; no control characters; LF endings, final newline.

It prints the counts that SOURCES.md records.
"""

import hashlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_BYTES = 256
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def curated():
    for raw in (HERE / "curated.txt").read_bytes().split(b"\n"):
        if raw.startswith(b"#") or not raw.strip():
            continue
        yield raw


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = Path(argv[1]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    expected = (HERE / "UPSTREAM.sha256").read_text().split()[0]
    if digest != expected:
        print(f"upstream SHA-256 {digest} is not the recorded {expected}: update SOURCES.md "
              f"and UPSTREAM.sha256 if the upstream list changed on purpose", file=sys.stderr)
        return 1
    out, seen = [], set()
    stats = {"curated": 0, "curated_new": 0, "upstream_lines": 0, "trimmed": 0, "empty": 0,
             "too_long": 0, "duplicates": 0, "upstream_new": 0}

    def add(secret, origin):
        if CONTROL.search(secret):
            raise SystemExit(f"control character in a {origin} line: {secret[:40]!r}")
        secret.decode("utf-8")  # raises on invalid UTF-8
        if secret in seen:
            stats["duplicates"] += 1
            return
        seen.add(secret)
        out.append(secret)
        stats[f"{origin}_new"] += 1

    for s in curated():
        stats["curated"] += 1
        if s != s.strip(b" \t") or len(s) > MAX_BYTES:
            raise SystemExit(f"curated.txt line has surrounding blanks or is too long: {s[:40]!r}")
        add(s, "curated")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for raw in lines:
        stats["upstream_lines"] += 1
        line = raw[:-1] if raw.endswith(b"\r") else raw
        s = line.strip(b" \t")
        if s != line:
            stats["trimmed"] += 1
        if not s:
            stats["empty"] += 1
            continue
        if len(s) > MAX_BYTES:
            stats["too_long"] += 1
            continue
        add(s, "upstream")
    body = b"\n".join(out) + b"\n"
    (HERE / "LIST.txt").write_bytes(body)
    stats["total"] = len(out)
    stats["bytes"] = len(body)
    stats["sha256"] = hashlib.sha256(body).hexdigest()
    for k, v in stats.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
