#!/usr/bin/env bash
# Benchmark of the offline core (issues 2 and 9): a benchmark, not a test.
#   1. `driftgate check --offline` on the shipped example: wall time, peak RSS
#   A. config loading grows linearly (issue 9): `check --offline` on configs
#      of 5,000 / 10,000 / 20,000 `dotenv` sources (3 keys each, environments
#      spread over 4 names so the default rule applies); wall time, the
#      report's own `duration_ms`, peak RSS, and the ratio 20k / 5k
#      (goal: at most about 4)
#   B. comparing two env files of 10,000 keys each (check and diff); mean
#      wall time of `check --format json` (goal: at most 50 ms)
#
#   scripts/bench-core.sh                        # builds target/release
#   BIN=/path/to/driftgate scripts/bench-core.sh # measures that binary
#   SIZES="5000 10000" RUNS_A=3 scripts/bench-core.sh
#   CASES="B" scripts/bench-core.sh              # only some of 1, A, B
#
# Needs hyperfine (apt-get install hyperfine) for the timings; falls back to
# a loop with `date` when it is missing. Peak memory from /usr/bin/time.
# Prints `uptime` before each case: on a busy machine, rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/driftgate"
fi
SIZES="${SIZES:-5000 10000 20000}"
RUNS_A="${RUNS_A:-3}"
CASES="${CASES:-1 A B}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "binary: $BIN ($("$BIN" --version 2>/dev/null || echo '?'))"
echo "machine: $(nproc) cores"

want() { [[ " $CASES " == *" $1 "* ]]; }
load() { echo "load: $(uptime | sed 's/.*load average: //')"; }
peak() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }

# timeit NAME RUNS WARMUP COMMAND: wall time (mean ± sd, min, max) in ms,
# one line, "NAME mean ..."; the hyperfine JSON is kept in $WORK/NAME.json.
timeit() {
  local name=$1 runs=$2 warmup=$3 cmd=$4
  if command -v hyperfine >/dev/null; then
    hyperfine -N -i --style none --warmup "$warmup" --runs "$runs" \
      --export-json "$WORK/$name.json" "$cmd" >/dev/null 2>&1
  else
    python3 - "$WORK/$name.json" "$runs" "$cmd" <<'PY'
import json, shlex, subprocess, sys, time
out, runs, cmd = sys.argv[1], int(sys.argv[2]), shlex.split(sys.argv[3])
ts = []
for _ in range(runs):
    t = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ts.append(time.monotonic() - t)
json.dump({"results": [{"times": ts, "mean": sum(ts) / len(ts)}]}, open(out, "w"))
PY
  fi
  python3 - "$name" "$WORK/$name.json" <<'PY'
import json, statistics, sys
name, path = sys.argv[1], sys.argv[2]
t = json.load(open(path))["results"][0]["times"]
sd = statistics.stdev(t) if len(t) > 1 else 0.0
print(f"{name:<28} mean {1000*statistics.mean(t):9.1f} ms ± {1000*sd:7.1f}"
      f"  min {1000*min(t):9.1f}  max {1000*max(t):9.1f}  ({len(t)} runs)")
PY
}

mean_ms() {
  python3 -c 'import json,sys; print(1000*json.load(open(sys.argv[1]))["results"][0]["mean"])' "$WORK/$1.json"
}

if want 1; then
  echo
  echo "== 1. check --offline on the shipped example (config/driftgate.toml)"
  load
  timeit example 50 5 "$BIN check --offline --config config/driftgate.toml --format json"
  echo "peak RSS: $(peak "$BIN" check --offline --config config/driftgate.toml) KB"
fi

if want A; then
  echo
  echo "== A. config loading: N dotenv sources of 3 keys, check --offline --format json"
  for n in $SIZES; do
    python3 - "$WORK/a$n" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, "env"), exist_ok=True)
envs = ["staging", "production", "dev", "qa"]
with open(os.path.join(d, "driftgate.toml"), "w") as cfg:
    for i in range(n):
        e = envs[i % len(envs)]
        cfg.write(f'[sources.s{i}]\nkind = "dotenv"\npath = "env/s{i}.env"\nenvironment = "{e}"\n\n')
        with open(os.path.join(d, "env", f"s{i}.env"), "w") as f:
            f.write(f"API_URL=https://api.{e}.example.com\nLOG_LEVEL=info\nREGION=europe-west1\n")
PY
    cfg="$WORK/a$n/driftgate.toml"
    load
    runs=$RUNS_A
    timeit "A-$n" "$runs" 1 "$BIN check --offline --config $cfg --format json"
    # One more run under /usr/bin/time: peak RSS, exit status and the time
    # the report itself counts (gather + probes + checks).
    (cd "$WORK/a$n" && /usr/bin/time -f "%M %e %x" -o "$WORK/a$n/time.txt" \
      "$BIN" check --offline --config "$cfg" --format json >"$WORK/a$n/report.json" 2>/dev/null) || true
    read -r rss wall code <"$WORK/a$n/time.txt"
    read -r inrun nfind < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("duration_ms","?"), len(r.get("findings",[])))' "$WORK/a$n/report.json" 2>/dev/null || echo "? ?")
    echo "  $n sources: peak RSS $((rss / 1024)) MB, exit $code, report duration_ms $inrun (of ${wall} s wall), $nfind findings"
  done
  first=${SIZES%% *}
  last=${SIZES##* }
  if [[ "$first" != "$last" ]]; then
    python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f"ratio {sys.argv[4]}/{sys.argv[3]} sources: {b/a:.2f} (linear: {int(sys.argv[4])/int(sys.argv[3]):.0f})")' \
      "$(mean_ms "A-$first")" "$(mean_ms "A-$last")" "$first" "$last"
  fi
fi

if want B; then
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
  echo
  echo "== B. two env files of 10,000 keys each (1% differ)"
  load
  timeit "B-check" 20 3 "$BIN check --config $WORK/driftgate.toml --format json"
  timeit "B-diff" 20 3 "$BIN diff a b --config $WORK/driftgate.toml"
  echo "peak RSS (check): $(peak "$BIN" check --config "$WORK/driftgate.toml" --format json) KB"
fi
