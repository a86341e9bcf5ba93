#!/usr/bin/env bash
# Step 1 of action.yml: put a driftgate binary on PATH.
#
# A release asset first: driftgate-<target>.tar.gz and its .sha256 from the
# GitHub release of the action's own repository (.github/workflows/release.yml
# makes them), checked against the checksum. Without one (no release yet, a
# platform that has none, `version: source`, no gh CLI), cargo builds it:
# this action's own checkout for `latest` and `source`, the tag from git for
# an explicit version.
#
# Inputs (environment): VERSION (latest | source | vX.Y.Z | X.Y.Z),
# ACTION_REPOSITORY and ACTION_REF (the action's owner/name and ref; empty
# when GitHub does not say, e.g. in a nested composite action), GH_TOKEN,
# and the runner's GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP,
# GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

version="${VERSION:-latest}"
repo="${ACTION_REPOSITORY:-}"
action_ref="${ACTION_REF:-}"
action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this from action.yml}"
root="${RUNNER_TEMP:-/tmp}/driftgate-action"
bin_dir="$root/bin"

case "$version" in
  latest | source) tag="" ;;
  v[0-9]*) tag="$version" ;;
  [0-9]*) tag="v$version" ;;
  *)
    echo "::error title=driftgate::version must be latest, source or a release tag such as v0.2.0, not '$version'"
    exit 2
    ;;
esac

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target="x86_64-unknown-linux-gnu" ;;
  Linux/ARM64) target="aarch64-unknown-linux-gnu" ;;
  macOS/X64) target="x86_64-apple-darwin" ;;
  macOS/ARM64) target="aarch64-apple-darwin" ;;
  *) target="" ;;
esac

sha256_check() {
  # $1: a "<hash>  <file>" line's file, checked in its own directory.
  if command -v sha256sum >/dev/null; then
    sha256sum --check --status "$1"
  else
    shasum -a 256 --check --status "$1"
  fi
}

# Succeeds when the release asset for $target is installed in $bin_dir.
from_release() {
  if [[ "$version" == source ]]; then
    return 1
  fi
  if [[ -z "$target" ]]; then
    echo "no release build for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"
    return 1
  fi
  if [[ -z "$repo" ]]; then
    echo "the action's repository is unknown here: no release to download from"
    return 1
  fi
  if ! command -v gh >/dev/null; then
    echo "no gh CLI on this runner: cannot download a release asset"
    return 1
  fi
  local asset="driftgate-$target.tar.gz" dl
  mkdir -p "$root"
  dl="$(mktemp -d "$root/download.XXXXXX")"
  # No tag: gh takes the latest release (drafts and prereleases excluded).
  if ! gh release download ${tag:+"$tag"} --repo "$repo" --dir "$dl" \
      --pattern "$asset" --pattern "$asset.sha256"; then
    echo "no $asset in the ${tag:-latest} release of $repo"
    return 1
  fi
  if [[ ! -f "$dl/$asset.sha256" ]]; then
    echo "::error title=driftgate::$asset has no $asset.sha256 beside it in the ${tag:-latest} release of $repo"
    exit 1
  fi
  if ! (cd "$dl" && sha256_check "$asset.sha256"); then
    echo "::error title=driftgate::$asset does not match $asset.sha256 (release ${tag:-latest} of $repo)"
    exit 1
  fi
  # The archive holds one directory, driftgate-<target>/, with the binary.
  # (set -e does not apply inside `from_release || ...`: check each step.)
  if ! { tar -xzf "$dl/$asset" -C "$dl" &&
    mkdir -p "$bin_dir" &&
    install -m 0755 "$dl/driftgate-$target/driftgate" "$bin_dir/driftgate"; }; then
    echo "::error title=driftgate::$asset does not hold driftgate-$target/driftgate"
    exit 1
  fi
  # Linux builds need glibc 2.36 or newer (release.yml): an older runner
  # (ubuntu-22.04) gets a build from source rather than a broken binary.
  if ! "$bin_dir/driftgate" --version >/dev/null 2>&1; then
    echo "::warning title=driftgate::$asset from the ${tag:-latest} release does not run on this runner (glibc older than 2.36?): building from source instead"
    rm -f "$bin_dir/driftgate"
    return 1
  fi
  echo "installed $asset from the ${tag:-latest} release of $repo"
}

from_source() {
  if ! command -v cargo >/dev/null; then
    echo "::error title=driftgate::no release asset to install and no cargo to build driftgate with: set up Rust first (rustup) or use a version that has release assets"
    exit 1
  fi
  # Build outside the action's checkout, in the runner's temp directory.
  export CARGO_TARGET_DIR="$root/target"
  if [[ -n "$tag" && -n "$repo" && "$tag" != "$action_ref" ]]; then
    echo "building driftgate $tag from https://github.com/$repo with cargo"
    cargo install --locked --root "$root" --git "https://github.com/$repo" --tag "$tag" driftgate
  else
    if [[ -n "$tag" && "$tag" != "$action_ref" ]]; then
      echo "::warning title=driftgate::cannot fetch $tag (the action's repository is unknown here): building the action's own checkout (${action_ref:-unknown ref}) instead"
    fi
    echo "building driftgate from the action's checkout (${action_ref:-local}) with cargo"
    cargo install --locked --root "$root" --path "$action_path"
  fi
}

from_release || from_source

echo "$bin_dir" >>"$GITHUB_PATH"
echo "path=$bin_dir/driftgate" >>"$GITHUB_OUTPUT"
"$bin_dir/driftgate" --version
