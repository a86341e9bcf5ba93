#!/usr/bin/env bash
# Points Google's official Python clients at `driftgate sandbox` and runs
# tests/python/test_sandbox_fidelity.py: the sandbox must serve what Google
# serves, to a client that is not driftgate's.
#
#   scripts/sandbox-fidelity.sh            # installs the clients with pip first
#   NO_INSTALL=1 scripts/sandbox-fidelity.sh
#
# The binary is built into $CARGO_TARGET_DIR when it is set (else target/).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${NO_INSTALL:-}" ]]; then
  python3 -m pip install --quiet --root-user-action=ignore google-cloud-secret-manager google-cloud-run pytest
fi
cargo build --quiet --locked --bin driftgate
bin="${CARGO_TARGET_DIR:-target}/debug/driftgate"

out="$(mktemp)"
"$bin" sandbox --seed tests/python/sandbox.toml >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^export DRIFTGATE_SECRET_MANAGER_ENDPOINT=//p' "$out")"
  [[ -n "$url" ]] && break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "the sandbox did not start:" >&2
  cat "$out" >&2
  exit 1
fi

DRIFTGATE_SANDBOX_URL="$url" python3 -m pytest -q tests/python
