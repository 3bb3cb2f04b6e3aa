#!/usr/bin/env bash
# A vSphere cold migration on the embedded default, against the govmomi
# vSphere simulator (`ferry-vcsim`, built by `bash .ci/vcsim.sh`):
#   1. start the simulator (TLS, its own certificate, random password);
#   2. make two disks with qemu-img (a sparse VMDK and a descriptor + flat
#      extent, with data and holes), upload them to the datastore over
#      `PUT /folder`, attach them to VM DC0_H0_VM0 and give it a second NIC;
#   3. `ferry migrate` a Provider/Secret/maps/Plan for that VM;
#   4. `qemu-img compare` each migrated disk with its source.
#
# usage: examples/vsphere/demo.sh [WORKDIR]   (default: target/vsphere-demo)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-$repo/target/vsphere-demo}
for tool in ferry-vcsim qemu-img qemu-io curl python3; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is required (ferry-vcsim: run 'bash .ci/vcsim.sh'; qemu-img/qemu-io: qemu-utils)" >&2
    exit 1
  }
done
ferry=${FERRY:-}
if [ -z "$ferry" ]; then
  echo "building ferry (a first build compiles the dependencies and takes a few minutes)..." >&2
  cargo build -p ferry --manifest-path "$repo/Cargo.toml"
  ferry="${CARGO_TARGET_DIR:-$repo/target}/debug/ferry"
fi
rm -rf "$work"
mkdir -p "$work/reference" "$work/upload"

# 1. The simulator; it stops when its stdin closes (fd 3 here).
mkfifo "$work/vcsim.in"
ferry-vcsim <"$work/vcsim.in" >"$work/vcsim.json" 2>"$work/vcsim.log" &
exec 3>"$work/vcsim.in"
trap 'exec 3>&-; wait' EXIT
for _ in $(seq 100); do [ -s "$work/vcsim.json" ] && break; sleep 0.1; done
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/vcsim.json" "$1"; }
url=$(field url) host=$(field host) user=$(field username) password=$(field password)
cert=$(field cert_path) dc=$(field datacenter) ds=$(field datastore)
echo "simulator at $url (datacenter $dc, datastore $ds)"

# 2. Disks with data and holes, uploaded and attached; a second NIC.
MiB=$((1024 * 1024))
make_disk() { # NAME SIZE_MIB SUBFORMAT "off:len:pattern ..."
  local raw="$work/reference/$1.raw" w off len pat args=()
  qemu-img create -q -f raw "$raw" "$2M"
  for w in $4; do IFS=: read -r off len pat <<<"$w"; args+=(-c "write -P $pat $((off * MiB)) $((len * MiB))"); done
  qemu-io -f raw "${args[@]}" "$raw" >/dev/null
  qemu-img convert -q -f raw -O vmdk -o "subformat=$3" "$raw" "$work/upload/$1.vmdk"
}
make_disk web-os 64 monolithicSparse "0:2:0x11 30:1:0x22 63:1:0x33"
make_disk web-data 32 monolithicFlat "1:3:0x44 20:1:0x55"
api() { curl -sS --fail-with-body --cacert "$cert" "$@"; }
folder() { echo "https://$host/folder/demo/$1?dcPath=$dc&dsName=$ds"; }
for f in web-os.vmdk web-data.vmdk web-data-flat.vmdk; do api -T "$work/upload/$f" "$(folder "$f")"; done
vm=$(api "https://$host/ferry/vms" | python3 -c "import json,sys; print([v['moref'] for v in json.load(sys.stdin) if v['name']=='DC0_H0_VM0'][0])")
api -X POST --get --data-urlencode "vm=$vm" --data-urlencode "file=[$ds] demo/web-os.vmdk" --data-urlencode "capacity=$((64 * MiB))" "https://$host/ferry/attach" >/dev/null
api -X POST --get --data-urlencode "vm=$vm" --data-urlencode "file=[$ds] demo/web-data.vmdk" --data-urlencode "capacity=$((32 * MiB))" "https://$host/ferry/attach" >/dev/null
api -X POST --get --data-urlencode "vm=$vm" --data-urlencode "network=VM Network" --data-urlencode "mac=00:50:56:aa:bb:01" "https://$host/ferry/add-nic" >/dev/null
echo "attached 2 disks and a second NIC to DC0_H0_VM0 ($vm)"

# 3. The migration.
sed -e "s|@URL@|$url|" -e "s|@USER@|$user|" -e "s|@PASSWORD@|$password|" -e "s|@DATASTORE@|$ds|" \
  "$here/migration.yaml.in" >"$work/migration.yaml"
python3 - "$work/migration.yaml" "$cert" <<'PY'
import sys
path, cert = sys.argv[1], sys.argv[2]
text = open(path).read()
pem = "".join("    " + line + "\n" for line in open(cert).read().splitlines())
open(path, "w").write(text.replace("    @CACERT@\n", pem))
PY
status=0
"$ferry" migrate -f "$work/migration.yaml" --data-dir "$work/data" -o json >"$work/summary.json" || status=$?

# 4. Check the disks, named (absolute image file, source disk) by the
# summary: read with a JSON parser, never by scraping YAML lines.
echo
echo "checking migrated disks against their sources:"
fail=0
while IFS=$'\t' read -r name image source; do
  disk=$(basename "$source" .vmdk)
  ref="$work/reference/$disk.raw"
  if [ ! -f "$ref" ]; then
    echo "  $name: $source is the simulator's own empty disk (no reference)"
  elif qemu-img compare -q -f raw -F raw "$ref" "$image"; then
    echo "  $name: identical to ${ref##*/}"
  else
    echo "  $name: MISMATCH ($image vs $ref)"
    fail=1
  fi
done < <(python3 - "$work/summary.json" <<'PY'
import json, sys
for vm in json.load(open(sys.argv[1])):
    print(f"  {vm['vm']}: {vm['result']}" + (f" ({vm['error']})" if vm.get("error") else ""), file=sys.stderr)
    for v in vm.get("volumes", []):
        print("\t".join([v["name"], v["image"], v["source"]]))
PY
)
[ "$status" -eq 0 ] || fail=1
exit $fail
