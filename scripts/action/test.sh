#!/usr/bin/env bash
# Tests of the action's scripts (install.sh, run.sh, verdict.sh) with
# stand-ins for gh, cargo and driftgate: no network, no build, a second.
# The release asset they install is packed by release.yml's own "Package"
# step, so a change of asset layout on one side fails here.
#
#   scripts/action/test.sh        # PYTHON (default python3) needs PyYAML
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() { # NAME EXPECTED_RC ACTUAL_RC [GREP_PATTERN FILE]
  local name="$1" want="$2" got="$3"
  if [[ "$got" != "$want" ]]; then
    echo "FAIL $name: exit $got, expected $want"
    sed 's/^/    /' "$work/log"
    failed=$((failed + 1))
    return
  fi
  if [[ $# -ge 5 ]] && ! grep -qE -- "$4" "$5"; then
    echo "FAIL $name: no line matching '$4' in:"
    sed 's/^/    /' "$5"
    failed=$((failed + 1))
    return
  fi
  echo "ok   $name"
  passed=$((passed + 1))
}

# Stand-ins. gh serves the files of $REL (or fails with GH_FAIL set);
# cargo "builds" a driftgate that names how it was built.
mkdir -p "$work/bin"
cat >"$work/bin/gh" <<'SH'
#!/usr/bin/env bash
echo "gh $*" >>"$CALLS"
[[ -n "${GH_FAIL:-}" ]] && { echo "release not found" >&2; exit 1; }
dir="" pats=()
while [[ $# -gt 0 ]]; do
  case "$1" in --dir) dir="$2"; shift ;; --pattern) pats+=("$2"); shift ;; esac
  shift
done
for p in "${pats[@]}"; do [[ -f "$REL/$p" ]] && cp "$REL/$p" "$dir/"; done
exit 0
SH
cat >"$work/bin/cargo" <<'SH'
#!/usr/bin/env bash
echo "cargo $*" >>"$CALLS"
root=""
while [[ $# -gt 0 ]]; do [[ "$1" == --root ]] && root="$2"; shift; done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "driftgate (built)"\n' >"$root/bin/driftgate"
chmod +x "$root/bin/driftgate"
SH
cat >"$work/bin/driftgate" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$ARGV"
out=""
while [[ $# -gt 0 ]]; do [[ "$1" == --output ]] && out="${2#sarif=}"; shift; done
[[ -n "$out" && "${CODE:-0}" != 2 ]] && echo '{}' >"$out"
exit "${CODE:-0}"
SH
chmod +x "$work/bin/"*

# A release asset for x86_64 Linux, packed by release.yml's Package step.
pack() { # DIR BINARY_SCRIPT
  local dir="$1" t=x86_64-unknown-linux-gnu
  mkdir -p "$dir/target/$t/release"
  cp "$repo_root/README.md" "$dir/"
  mkdir -p "$dir/data/known-jwt-secrets"
  cp "$repo_root/data/known-jwt-secrets/LICENSE-wallarm-jwt-secrets" "$dir/data/known-jwt-secrets/"
  printf '%s\n' "$2" >"$dir/target/$t/release/driftgate"
  chmod +x "$dir/target/$t/release/driftgate"
  "$python" - "$repo_root/.github/workflows/release.yml" >"$dir/package.sh" <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = [s for s in wf["jobs"]["linux"]["steps"] if s.get("name") == "Package"]
assert len(steps) == 1, "release.yml: no single Package step in job linux"
print(steps[0]["run"])
PY
  (cd "$dir" && TARGET="$t" bash -eo pipefail package.sh >/dev/null)
}
pack "$work/good" '#!/bin/sh
echo "driftgate 0.0.0 (release)"'
pack "$work/broken" '#!/bin/sh
echo "GLIBC_2.36 not found" >&2; exit 1'
mkdir -p "$work/badsum" "$work/nosum"
cp "$work/good/dist/"*.tar.gz "$work/badsum/"
cp "$work/good/dist/"*.tar.gz "$work/nosum/"
sed 's/^[0-9a-f]*/0000000000000000000000000000000000000000000000000000000000000000/' \
  "$work/good/dist/"*.sha256 >"$work/badsum/driftgate-x86_64-unknown-linux-gnu.tar.gz.sha256"

install_sh() { # VAR=VALUE... ; runs install.sh in a fresh runner temp
  rm -rf "$work/rt" && mkdir -p "$work/rt"
  : >"$work/calls" && : >"$work/rt/path" && : >"$work/rt/out"
  local rc=0
  env PATH="$work/bin:/usr/bin:/bin" CALLS="$work/calls" REL="$work/good/dist" \
    GITHUB_ACTION_PATH="$repo_root" RUNNER_OS=Linux RUNNER_ARCH=X64 \
    RUNNER_TEMP="$work/rt" GITHUB_PATH="$work/rt/path" GITHUB_OUTPUT="$work/rt/out" \
    ACTION_REPOSITORY=org/driftgate ACTION_REF=v0.2.0 VERSION=latest "$@" \
    bash "$here/install.sh" >"$work/log" 2>&1 || rc=$?
  cat "$work/calls" >>"$work/log"
  return "$rc"
}

rc=0; install_sh || rc=$?
check "install latest: the release asset" 0 "$rc" '^driftgate 0.0.0 \(release\)$' "$work/log"
check "install: bin dir on GITHUB_PATH" 0 "$rc" "^$work/rt/driftgate-action/bin\$" "$work/rt/path"
check "install: path output" 0 "$rc" "^path=$work/rt/driftgate-action/bin/driftgate\$" "$work/rt/out"
rc=0; install_sh VERSION=0.3.0 || rc=$?
check "install 0.3.0: asks gh for tag v0.3.0" 0 "$rc" '^gh release download v0.3.0 --repo org/driftgate ' "$work/log"
rc=0; install_sh REL="$work/badsum" || rc=$?
check "install: checksum mismatch fails" 1 "$rc" 'does not match' "$work/log"
rc=0; install_sh REL="$work/nosum" || rc=$?
check "install: missing checksum fails" 1 "$rc" 'has no .*\.sha256' "$work/log"
rc=0; install_sh REL="$work/broken/dist" || rc=$?
check "install: a binary that does not run is built instead" 0 "$rc" '^cargo install --locked --root .* --path ' "$work/log"
rc=0; install_sh GH_FAIL=1 || rc=$?
check "install latest, no release: builds the action's checkout" 0 "$rc" "^cargo install --locked --root .* --path $repo_root\$" "$work/log"
rc=0; install_sh GH_FAIL=1 VERSION=v0.3.0 || rc=$?
check "install v0.3.0, no release: cargo builds the tag from git" 0 "$rc" '^cargo install .* --git https://github.com/org/driftgate --tag v0.3.0 driftgate$' "$work/log"
rc=0; install_sh VERSION=source || rc=$?
check "install source: no download" 0 "$rc" '^cargo install .* --path ' "$work/log"
if grep -q '^gh ' "$work/calls"; then echo "FAIL install source: called gh"; failed=$((failed + 1)); fi
rc=0; install_sh RUNNER_OS=Windows || rc=$?
check "install on a platform without assets: builds" 0 "$rc" 'no release build for Windows/X64' "$work/log"
rc=0; install_sh ACTION_REPOSITORY= || rc=$?
check "install, repository unknown: builds" 0 "$rc" '^cargo install .* --path ' "$work/log"
rc=0; install_sh VERSION=main || rc=$?
check "install: a version that is no tag is a usage error" 2 "$rc" 'version must be' "$work/log"

run_sh() { # VAR=VALUE... ; runs run.sh in $work/wd
  mkdir -p "$work/wd" && : >"$work/out" && rm -f "$work/argv"
  local rc=0
  (cd "$work/wd" && env PATH="$work/bin:/usr/bin:/bin" ARGV="$work/argv" \
    GITHUB_OUTPUT="$work/out" ARGS=check FORMAT=github CONFIG= SARIF= "$@" \
    bash "$here/run.sh") >"$work/log" 2>&1 || rc=$?
  return "$rc"
}

rc=0; run_sh || rc=$?
check "run: check --format github" 0 "$rc" '^exit-code=0$' "$work/out"
check "run: argv" 0 "$(tr '\n' ' ' <"$work/argv" | grep -qx 'check --format github ' && echo 0 || echo 1)"
rc=0; run_sh ARGS=$'check --env staging\n --strict' CONFIG='deploy/my config.toml' SARIF='out/d.sarif' CODE=1 || rc=$?
check "run: exit 1 recorded, the step itself passes" 0 "$rc" '^exit-code=1$' "$work/out"
check "run: sarif output is absolute" 0 "$rc" "^sarif=$work/wd/out/d.sarif\$" "$work/out"
check "run: multi-line args, a config path with a space" 0 "$(tr '\n' '|' <"$work/argv" | grep -qx "check|--env|staging|--strict|--format|github|--config|deploy/my config.toml|--output|sarif=$work/wd/out/d.sarif|" && echo 0 || echo 1)"
rc=0; run_sh SARIF=d.sarif CODE=2 || rc=$?
check "run: exit 2 writes no sarif output" 0 "$rc" '^exit-code=2$' "$work/out"
if grep -q '^sarif=' "$work/out"; then echo "FAIL run: sarif output without a file"; failed=$((failed + 1)); fi
rc=0; run_sh ARGS='check *' || rc=$?
check "run: no globbing of args" 0 "$(sed -n 2p "$work/argv" | grep -qx '\*' && echo 0 || echo 1)"

verdict() { # CODE FAIL_ON EXPECTED [PATTERN]
  local rc=0
  if [[ "$2" == unset ]]; then
    env -u FAIL_ON EXIT_CODE="$1" bash "$here/verdict.sh" >"$work/log" 2>&1 || rc=$?
  else
    env EXIT_CODE="$1" FAIL_ON="$2" bash "$here/verdict.sh" >"$work/log" 2>&1 || rc=$?
  fi
  check "verdict: exit $1, fail-on '$2'" "$3" "$rc" "${4:-.}" "$work/log"
}
verdict 0 unset 0
verdict 1 unset 1 '::error'
verdict 3 unset 3 '::error'
verdict 1 "1,3" 1
verdict 3 "1" 0 '::warning'
verdict 1 "3" 0 '::warning'
verdict 3 " 1 , 3 " 3
verdict 1 none 0
verdict 1 "" 0
verdict 2 none 2 'nothing was checked'
verdict 101 none 1 'crashed'
verdict 0 "1,2" 2 'fail-on takes'
verdict 0 "*" 2 'fail-on takes'

echo "selftest: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
