#!/usr/bin/env bash
# Validates every driftgate config under config/ and tests/fixtures/
# against schemas/driftgate.schema.json with an independent JSON Schema
# validator (PyPI check-jsonschema), and checks that a config with a typo'd
# field is rejected by it, as the loader rejects it. Part of .ci/run.
#
#   scripts/validate-schema.sh
#
# TOML is turned into JSON by Python's own tomllib, so neither the parser
# nor the validator is driftgate's. The cargo tests check that the
# committed schema is the one `driftgate schema` prints. Sandbox seeds
# (sandbox.toml) are another format and are not configs.
#
# When pip cannot install check-jsonschema (no registry), the check is
# skipped with a note, like the sandbox fidelity check.
set -euo pipefail
cd "$(dirname "$0")/.."

pin="check-jsonschema==0.39.0"
schema="schemas/driftgate.schema.json"
venv="target/validate-schema-venv"

if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --root-user-action=ignore "$pin"; then
  echo "validate-schema: pip could not install $pin: schema validation skipped" >&2
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# TOML -> JSON, one file each, named after the config's path.
to_json() { # OUT_DIR CONFIG...
  "$venv/bin/python" - "$@" <<'EOF'
import json, pathlib, sys, tomllib
out = pathlib.Path(sys.argv[1])
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    target = out / (path.replace("/", "__") + ".json")
    target.write_text(json.dumps(data, default=str))
    print(target)
EOF
}

mapfile -t configs < <(find config tests/fixtures -name '*.toml' ! -name 'sandbox.toml' | sort)
if [[ ${#configs[@]} -lt 10 ]]; then
  echo "validate-schema: found only ${#configs[@]} configs under config/ and tests/fixtures/" >&2
  exit 1
fi
mkdir -p "$work/good" "$work/bad"
mapfile -t good < <(to_json "$work/good" "${configs[@]}")

echo "-- check-jsonschema: ${#configs[@]} configs against $schema"
"$venv/bin/check-jsonschema" --schemafile "$schema" "${good[@]}"

# Typos the loader refuses: the schema must refuse them too.
cat >"$work/bad/typo-field.toml" <<'EOF'
[sources.staging_file]
kind = "dotenv"
pth = "staging.env"
EOF
cat >"$work/bad/typo-top-level.toml" <<'EOF'
[sources.staging_file]
kind = "dotenv"
path = "staging.env"

[[rules]]
kind = "same"
keys = ["JWT_SECRET"]
EOF
cat >"$work/bad/typo-kind.toml" <<'EOF'
[sources.staging_file]
kind = "dot_env"
path = "staging.env"
EOF
cat >"$work/bad/typo-probe-field.toml" <<'EOF'
[sources.staging_file]
kind = "dotenv"
path = "staging.env"

[[probe]]
name = "p"
kind = "http"
url = "https://auth.example/health"
expect = { statuss = 200 }
EOF
failed=0
for bad in "$work"/bad/*.toml; do
  json="$(to_json "$work/bad" "$bad")"
  if "$venv/bin/check-jsonschema" --schemafile "$schema" "$json" >/dev/null 2>&1; then
    echo "   FAILED: the schema accepts $(basename "$bad"), which the loader rejects" >&2
    failed=1
  else
    echo "   rejected, as it should be: $(basename "$bad")"
  fi
done
if [[ $failed -ne 0 ]]; then
  exit 1
fi
echo "validate-schema: all passed"
