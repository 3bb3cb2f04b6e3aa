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
  cargo build -q -p ferry --manifest-path "$repo/Cargo.toml"
  ferry="$repo/target/debug/ferry"
fi
rm -rf "$work"
mkdir -p "$work"
bash "$here/build.sh" "$work/sample" >/dev/null
sed "s|@APPLIANCES@|$work/sample/appliances|" "$here/migration.yaml.in" >"$work/migration.yaml"
"$ferry" migrate -f "$work/migration.yaml" --data-dir "$work/data"

echo
echo "checking migrated disks against their sources:"
fail=0
for vmdir in "$work/data/local/manifests/demo-vms"/*/; do
  for dv in "$vmdir"datavolume-*.yaml; do
    image=$(sed -n 's/^ *ferry.konveyor.io\/image-file: *//p' "$dv" | tr -d "'\"")
    source=$(sed -n 's/^ *forklift.konveyor.io\/disk-source: *//p' "$dv" | tr -d "'\"")
    name=$(basename "$dv" .yaml)
    # The reference raw file of a disk is named after its VMDK.
    disk=$(basename "$source")
    ref="$work/sample/reference/${disk%.vmdk}.raw"
    if [ -n "$ref" ] && [ -f "$ref" ] && qemu-img compare -q -f raw -F raw "$ref" "$image"; then
      echo "  $name: identical to ${ref##*/}"
    else
      echo "  $name: MISMATCH ($image vs ${ref:-no reference})"
      fail=1
    fi
  done
done
exit $fail
