#!/usr/bin/env bash
# Benchmark (not a timed test): `driftgate check` against the sandbox with
# N secrets in Secret Manager, each answered after 100 ms.
#
# Prints, per run, wall time and peak RSS of the check process (the sandbox
# runs in its own process and is not counted):
#   - 300 secrets at --concurrency 64 (goal: < 0.7 s, < 50 MB) and at 1;
#   - 30, 300 and 3000 secrets at --concurrency 64 (how wall time grows);
#   - the google-staging fixture through `check --sandbox` (embedded sandbox);
#   - the fleet (issue 12): 50 Cloud Run services, 2 serving revisions each
#     (50/50), 10 `secretKeyRef`s per revision over 30 distinct secret
#     versions (15 secrets x versions 1 and 2, all pinned), every answer
#     (services, revisions, versions) after 100 ms, at --concurrency 64 and
#     1; with the requests by kind the sandbox counted (`/_sandbox/stats`)
#     and the counts an ideal reader (one read per service, revision and
#     distinct version) and a per-reference reader would make.
#
#   scripts/bench-google.sh            # release build (minutes on 2 cores)
#   PROFILE=debug scripts/bench-google.sh
#   BIN=/path/to/driftgate scripts/bench-google.sh   # no build
#   CASES="fleet" scripts/bench-google.sh            # some of: secrets staging fleet
#   FLEET_RUNS=3 FLEET_SLOW_RUNS=1 ...               # runs at 64 and at 1
#   FLEET_LATEST=1 CASES=fleet ...                   # revision 2's last 5 refs on `latest`
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

profile="${PROFILE:-release}"
if [[ -n "${BIN:-}" ]]; then
  bin="$BIN"
  profile="given"
elif [[ "$profile" == release ]]; then
  cargo build --quiet --release --bin driftgate
  bin="${CARGO_TARGET_DIR:-$root/target}/release/driftgate"
else
  cargo build --quiet --bin driftgate
  bin="${CARGO_TARGET_DIR:-$root/target}/$profile/driftgate"
fi
cases="${CASES:-secrets staging fleet}"
want() { [[ " $cases " == *" $1 "* ]]; }
load() { echo "load: $(uptime | sed 's/.*load average: //')"; }
latency="${LATENCY_MS:-100}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# seed N: a sandbox seed and a config with N secrets.
seed() {
  local n=$1 dir="$work/n$1"
  mkdir -p "$dir"
  {
    for ((i = 0; i < n; i++)); do
      printf '[[secret]]\nproject = "bench"\nid = "secret-%d"\nlatency_ms = %d\n' "$i" "$latency"
      printf 'versions = [{ value = "bench-value-%d-2f4e6a8c0b1d3f5a7c9e1b3d", create_time = "2026-01-01T00:00:00Z" }]\n' "$i"
    done
  } >"$dir/sandbox.toml"
  {
    printf '[sources.bench]\nkind = "secret_manager"\nproject = "bench"\n[sources.bench.secrets]\n'
    for ((i = 0; i < n; i++)); do
      printf 'KEY_%d = "secret-%d"\n' "$i" "$i"
    done
  } >"$dir/driftgate.toml"
}

# serve N: starts `driftgate sandbox` for N secrets, sets $url.
serve() {
  serve_dir "$work/n$1"
}

# serve_dir DIR: starts `driftgate sandbox` on DIR/sandbox.toml, sets $url.
serve_dir() {
  local dir="$1"
  "$bin" sandbox --seed "$dir/sandbox.toml" >"$dir/sandbox.out" 2>&1 &
  pids+=($!)
  url=""
  for _ in $(seq 1 200); do
    url="$(sed -n 's/^export DRIFTGATE_SECRET_MANAGER_ENDPOINT=//p' "$dir/sandbox.out")"
    [[ -n "$url" ]] && return 0
    sleep 0.05
  done
  echo "sandbox did not start" >&2
  cat "$dir/sandbox.out" >&2
  exit 1
}

# measure LABEL DIR ARGS...: one run under /usr/bin/time -v.
measure() {
  local label=$1 dir=$2
  shift 2
  local t="$work/time.txt"
  (cd "$dir" && DRIFTGATE_SECRET_MANAGER_ENDPOINT="$url" DRIFTGATE_CLOUD_RUN_ENDPOINT="$url" \
    /usr/bin/time -v "$bin" "$@" >"$work/report.json" 2>"$t") || true
  local wall rss code
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$t")"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$t")"
  code="$(sed -n 's/.*Exit status: //p' "$t")"
  printf '%-44s wall %-9s peak RSS %6.1f MB  exit %s\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)" "$code"
}

echo "driftgate $profile build ($bin), ${latency} ms per Google answer, $(nproc) cores"
if want secrets; then
for n in 30 300 3000; do
  seed "$n"
  serve "$n"
  # one warm-up run so the sandbox's first connections are not counted
  (cd "$work/n$n" && DRIFTGATE_SECRET_MANAGER_ENDPOINT="$url" "$bin" check --format json >/dev/null 2>&1) || true
  for run in 1 2 3; do
    measure "$n secrets, --concurrency 64 (run $run)" "$work/n$n" check --format json --concurrency 64
  done
  if [[ "$n" == 300 ]]; then
    measure "$n secrets, --concurrency 1" "$work/n$n" check --format json --concurrency 1
  fi
done

fi

if want staging; then
url=""
for run in 1 2 3; do
  measure "google-staging fixture, check --sandbox ($run)" "$root/tests/fixtures/google-staging" check --sandbox --format json
done
fi

# --- the fleet (issue 12) ------------------------------------------------------
fleet_services=50
fleet_secrets=15
fleet_refs=10

# fleet_seed DIR: the seed and config of the fleet.
#   service s, revision 1 (older, 50%): SECRET_<j> = fleet-secret-<j>:1 for
#     the 10 secrets j = (s + k) % 15, k = 0..9;
#   revision 2 (latest, 50%): the same 10, the first 5 at version 2.
# 15 secrets x 2 versions = 30 distinct versions; 1000 references; 15
# distinct (secret, version) per service.
# FLEET_LATEST=1: revision 2's last 5 references read `latest` (version 2)
# instead of version 1, so every secret is also read through `latest`
# (one version list per secret in the goal).
fleet_seed() {
  local dir=$1
  mkdir -p "$dir"
  python3 - "$dir" "$latency" "$fleet_services" "$fleet_secrets" "$fleet_refs" "${FLEET_LATEST:-0}" <<'PY'
import os, sys
d, lat, n_svc, n_sec, n_ref = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
late = "latest" if sys.argv[6] == "1" else "1"
seed, cfg = [], []
for j in range(n_sec):
    seed.append(f'[[secret]]\nproject = "fleet"\nid = "fleet-secret-{j}"\nlatency_ms = {lat}\n'
                f'versions = [\n  {{ value = "fleet-{j}-v1-6f1d0c9a4b7e2d5f8a3c", create_time = "2026-01-01T00:00:00Z" }},\n'
                f'  {{ value = "fleet-{j}-v2-0b3e6d9c2f5a8e1d4c7b", create_time = "2026-03-01T00:00:00Z" }},\n]\n')
for s in range(n_svc):
    name = f"svc-{s:02d}"
    r1, r2 = f"{name}-00001-aaa", f"{name}-00002-bbb"
    js = [(s + k) % n_sec for k in range(n_ref)]
    env1 = ", ".join(f'SECRET_{j} = "fleet-secret-{j}:1"' for j in js)
    env2 = ", ".join(f'SECRET_{j} = "fleet-secret-{j}:{2 if k < n_ref // 2 else late}"' for k, j in enumerate(js))
    seed.append(f'[[service]]\nproject = "fleet"\nregion = "europe-west1"\nname = "{name}"\nlatency_ms = {lat}\n'
                f'traffic = [{{ revision = "{r2}", percent = 50 }}, {{ revision = "{r1}", percent = 50 }}]\n'
                f'[[service.revision]]\nname = "{r1}"\ncreate_time = "2026-02-01T00:00:00Z"\n'
                f'containers = [{{ name = "app", env = {{ REGION = "europe-west1" }}, secret_env = {{ {env1} }} }}]\n'
                f'[[service.revision]]\nname = "{r2}"\ncreate_time = "2026-03-02T00:00:00Z"\n'
                f'containers = [{{ name = "app", env = {{ REGION = "europe-west1" }}, secret_env = {{ {env2} }} }}]\n')
    cfg.append(f'[sources.{name.replace("-", "_")}]\nkind = "cloud_run"\nproject = "fleet"\n'
               f'region = "europe-west1"\nservice = "{name}"\nenvironment = "production"\n')
open(os.path.join(d, "sandbox.toml"), "w").write("\n".join(seed))
open(os.path.join(d, "driftgate.toml"), "w").write("\n".join(cfg))
PY
}

# stats FILE: the sandbox's request counters.
stats() { curl -fsS "$url/_sandbox/stats" >"$1"; }

# requests BEFORE AFTER: requests by kind between two stats snapshots.
requests() {
  python3 - "$1" "$2" "$fleet_services" "$fleet_refs" "${FLEET_LATEST:-0}" <<'PY'
import json, re, sys
before = json.load(open(sys.argv[1]))["requests"]
after = json.load(open(sys.argv[2]))
n_svc, n_ref = int(sys.argv[3]), int(sys.argv[4])
lists = 15 if sys.argv[5] == "1" else 0
kinds = {k: 0 for k in ["services.get", "revisions.get", "versions.access", "versions.list", "versions.get", "other"]}
distinct = set()
for path, n in after["requests"].items():
    n -= before.get(path, 0)
    if n <= 0:
        continue
    if re.search(r"/revisions/[^/]+$", path): k = "revisions.get"
    elif re.search(r"/services/[^/]+$", path): k = "services.get"
    elif path.endswith(":access"): k = "versions.access"; distinct.add(path)
    elif path.endswith("/versions"): k = "versions.list"
    elif re.search(r"/versions/[^/]+$", path): k = "versions.get"
    else: k = "other"
    kinds[k] += n
total = sum(kinds.values())
print("  requests: " + ", ".join(f"{k} {v}" for k, v in kinds.items()) + f"; total {total}")
revs = kinds["revisions.get"]
print(f"  distinct versions accessed {len(distinct)}; sandbox peak in flight {after['peak_in_flight']}")
print(f"  ideal (services + revisions + distinct versions + lists for `latest`): {n_svc} + {2*n_svc} + 30 + {lists} = {n_svc + 2*n_svc + 30 + lists}; "
      f"per-reference reader: {n_svc} + {2*n_svc} + {2*n_svc*n_ref} = {n_svc + 2*n_svc + 2*n_svc*n_ref}")
PY
}

if want fleet; then
  dir="$work/fleet"
  fleet_seed "$dir"
  # A one-service config for the warm-up run.
  mkdir -p "$dir/warm"
  cp "$dir/sandbox.toml" "$dir/warm/"
  sed -n '1,/^$/p' "$dir/driftgate.toml" >"$dir/warm/driftgate.toml"
  echo "fleet: $fleet_services services x 2 serving revisions x $fleet_refs secretKeyRefs, 30 distinct versions, ${latency} ms per answer"
  for c in 64 1; do
    # A fresh sandbox per level, so its peak in flight is this level's; one
    # warm-up run on one service so the first connections are not counted.
    serve_dir "$dir"
    (cd "$dir/warm" && DRIFTGATE_SECRET_MANAGER_ENDPOINT="$url" DRIFTGATE_CLOUD_RUN_ENDPOINT="$url" \
      "$bin" check --format json --concurrency "$c" >/dev/null 2>&1) || true
    runs="${FLEET_RUNS:-3}"
    [[ "$c" == 1 ]] && runs="${FLEET_SLOW_RUNS:-1}"
    for ((run = 1; run <= runs; run++)); do
      load
      stats "$work/before.json"
      measure "fleet, --concurrency $c (run $run)" "$dir" check --format json --concurrency "$c"
      stats "$work/after.json"
      requests "$work/before.json" "$work/after.json"
      python3 -c 'import json,sys,collections; r=json.load(open(sys.argv[1])); f=r.get("findings",[]); print("  report duration_ms", r.get("duration_ms"), "; findings", len(f), dict(collections.Counter(x.get("check")+":"+x.get("status") for x in f)))' "$work/report.json" 2>/dev/null || true
    done
    kill "${pids[-1]}" 2>/dev/null || true
    wait "${pids[-1]}" 2>/dev/null || true
  done
fi
