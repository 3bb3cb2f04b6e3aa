#!/usr/bin/env bash
# Fails when the generated files committed in the repository differ from
# what the code generates now. Today: the CRDs in deploy/crds/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet -p ferry -- crds --out-dir "$tmp/crds"
if ! diff -ru deploy/crds "$tmp/crds"; then
  echo >&2
  echo "error: deploy/crds/ is out of date with the API types in crates/ferry-core." >&2
  echo "Regenerate with:  rm -f deploy/crds/*.yaml && cargo run -p ferry -- crds --out-dir deploy/crds" >&2
  exit 1
fi
echo "deploy/crds/ matches the code."
