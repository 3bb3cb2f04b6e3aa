#!/usr/bin/env bash
# The README's main job: build the sample OVAs, migrate them with
# `ferry migrate` on the embedded default (local destination), then check
# every migrated disk against its source with `qemu-img compare`.
#
# usage: examples/ova/demo.sh [WORKDIR]   (default: target/ova-demo)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-$repo/target/ova-demo}
ferry=${FERRY:-}
if [ -z "$ferry" ]; then
  echo "building ferry (a first build compiles the dependencies and takes a few minutes)..." >&2
  cargo build -p ferry --manifest-path "$repo/Cargo.toml"
  ferry="${CARGO_TARGET_DIR:-$repo/target}/debug/ferry"
fi
rm -rf "$work"
mkdir -p "$work"
echo "building the sample OVAs in $work/sample..." >&2
bash "$here/build.sh" "$work/sample" >/dev/null
sed "s|@APPLIANCES@|$work/sample/appliances|" "$here/migration.yaml.in" >"$work/migration.yaml"
echo "migrating (progress on stderr; the summary is $work/summary.json)..." >&2
status=0
"$ferry" migrate -f "$work/migration.yaml" --data-dir "$work/data" -o json >"$work/summary.json" || status=$?

# The summary names every VM's volumes (absolute image file and source
# disk): read it with a JSON parser, never by scraping YAML lines.
rows() { # one "vm<TAB>result<TAB>error" line per VM, or "volume<TAB>image<TAB>source" per disk
  python3 - "$work/summary.json" "$1" <<'PY'
import json, sys
summary, what = json.load(open(sys.argv[1])), sys.argv[2]
for vm in summary:
    if what == "vms":
        print("\t".join([vm["vm"], vm["result"], vm.get("error") or ""]))
    else:
        for v in vm.get("volumes", []):
            print("\t".join([v["name"], v["image"], v["source"]]))
PY
}
echo
echo "migration results:"
while IFS=$'\t' read -r vm result error; do
  echo "  $vm: $result${error:+ ($error)}"
done < <(rows vms)

echo
echo "checking migrated disks against their sources:"
fail=0
while IFS=$'\t' read -r name image source; do
  # The reference raw file of a disk is named after its VMDK.
  disk=$(basename "$source")
  ref="$work/sample/reference/${disk%.vmdk}.raw"
  if [ -f "$ref" ] && qemu-img compare -q -f raw -F raw "$ref" "$image"; then
    echo "  $name: identical to ${ref##*/}"
  else
    echo "  $name: MISMATCH ($image vs $ref)"
    fail=1
  fi
done < <(rows volumes)
[ "$status" -eq 0 ] || fail=1
exit $fail
