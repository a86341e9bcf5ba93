#!/usr/bin/env bash
# Benchmark (not a timed test): `driftgate check` against the sandbox with
# N secrets in Secret Manager, each answered after 100 ms.
#
# Prints, per run, wall time and peak RSS of the check process (the sandbox
# runs in its own process and is not counted):
#   - 300 secrets at --concurrency 64 (goal: < 0.7 s, < 50 MB) and at 1;
#   - 30, 300 and 3000 secrets at --concurrency 64 (how wall time grows);
#   - the google-staging fixture through `check --sandbox` (embedded sandbox).
#
#   scripts/bench-google.sh            # release build (minutes on 2 cores)
#   PROFILE=debug scripts/bench-google.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

profile="${PROFILE:-release}"
if [[ "$profile" == release ]]; then
  cargo build --quiet --release --bin driftgate
else
  cargo build --quiet --bin driftgate
fi
bin="$root/target/$profile/driftgate"
latency="${LATENCY_MS:-100}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
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
  local dir="$work/n$1"
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

echo "driftgate $profile build, ${latency} ms per Secret Manager answer"
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

url=""
for run in 1 2 3; do
  measure "google-staging fixture, check --sandbox ($run)" "$root/tests/fixtures/google-staging" check --sandbox --format json
done
