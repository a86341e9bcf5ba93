#!/usr/bin/env bash
# Step 2 of action.yml: run driftgate, record its exit code, never fail
# (step 4, verdict.sh, decides), so that the SARIF upload still happens on
# drift.
#
# Inputs (environment): ARGS (the command and its flags, split on
# whitespace: no shell quoting, no globbing), FORMAT, CONFIG, SARIF, and the
# runner's GITHUB_OUTPUT. The current directory is the action's
# working-directory.
set -euo pipefail

args=()
if [[ -n "${ARGS:-}" ]]; then
  # Splits on spaces, tabs and newlines, so `args: |` may span lines.
  read -r -d '' -a args <<<"$ARGS" || true
fi
if [[ ${#args[@]} -eq 0 ]]; then
  args=(check)
fi

cmd=(driftgate "${args[@]}")
if [[ -n "${FORMAT:-}" ]]; then
  cmd+=(--format "$FORMAT")
fi
if [[ -n "${CONFIG:-}" ]]; then
  cmd+=(--config "$CONFIG")
fi
sarif=""
if [[ -n "${SARIF:-}" ]]; then
  # Absolute, so that upload-sarif (which runs in the workspace) finds it
  # whatever the working directory.
  case "$SARIF" in
    /*) sarif="$SARIF" ;;
    *) sarif="$PWD/$SARIF" ;;
  esac
  mkdir -p -- "$(dirname -- "$sarif")"
  # A file left by an earlier run must not be uploaded as this run's.
  rm -f -- "$sarif"
  cmd+=(--output "sarif=$sarif")
fi

printf 'running:'
printf ' %q' "${cmd[@]}"
printf '\n'

code=0
"${cmd[@]}" || code=$?

echo "exit-code=$code" >>"$GITHUB_OUTPUT"
if [[ -n "$sarif" && -f "$sarif" ]]; then
  echo "sarif=$sarif" >>"$GITHUB_OUTPUT"
elif [[ -n "$sarif" ]]; then
  echo "no SARIF report was written (exit $code): nothing to upload"
fi
