#!/usr/bin/env bash
# oVirt disk transfer: ferry's ImageioStorage copy (extents first, ranged
# GETs over N connections) against curl (1 connection, the whole disk) and
# the ovirt-imageio Python client (`ovirt_imageio.client.download`, raw)
# reading the same disk from the same real imageio daemon (behind the engine
# simulator) in the same run. Each run gets its own image transfer. Prints
# the median of REPEAT runs of each, peak RSS, bytes moved and whether the
# output equals the source. See bench/README.md ("oVirt imageio transfer").
#
#   bench/ovirt/run.sh [WORKDIR]      SIZE=1G DATA=50 N=4 REPEAT=3
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/bench/work/ovirt}"
size="${SIZE:-1G}"
data="${DATA:-50}"   # percent of the disk written with random data
n="${N:-4}"
repeat="${REPEAT:-3}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

command -v ferry-ovirt-python >/dev/null || bash "$root/.ci/ovirt.sh"
for t in curl qemu-img qemu-io jq /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench needs $t" >&2; exit 1; }
done

echo "building the bench binary (release, ferry-ovirt example only)..." >&2
(cd "$root" && cargo build --release -q -p ferry-ovirt --example imageio_copy)
copy="${CARGO_TARGET_DIR:-$root/target}/release/examples/imageio_copy"
[ -x "$copy" ] || { echo "bench: $copy was not built" >&2; exit 1; }

# Input: a qcow2 disk, DATA% of it random data in 64 MiB runs, the rest
# unallocated.
disk="$work/disk.qcow2"
stamp="$work/disk.$size.$data"
if [ ! -f "$stamp" ]; then
  echo "making a $size qcow2 disk, $data% data..." >&2
  rm -f "$work"/disk.* "$work/random.bin"
  qemu-img create -q -f qcow2 "$disk" "$size"
  total=$(numfmt --from=iec "$size")
  run=$((64 << 20))
  head -c "$run" /dev/urandom >"$work/random.bin"
  off=0; i=0
  while [ "$off" -lt "$total" ]; do
    # Run i holds data when floor((i+1)*DATA/100) moved past floor(i*DATA/100).
    if [ $(( i * data / 100 )) -ne $(( (i + 1) * data / 100 )) ]; then
      qemu-io -f qcow2 -c "write -s $work/random.bin $off $run" "$disk" >/dev/null
    fi
    off=$((off + run)); i=$((i + 1))
  done
  rm -f "$work/random.bin"
  touch "$stamp"
fi
virtual=$(qemu-img info --output=json "$disk" | jq '."virtual-size"')
allocated=$(qemu-img map --output=json "$disk" | jq '[.[] | select(.data) | .length] | add // 0')

cat >"$work/scenario.json" <<JSON
{"password": "bench-password", "vms": [{"name": "bench", "status": "down",
  "disks": [{"path": "$disk", "storage_domain": "data1", "backend": "nbd"}]}]}
JSON
rm -rf "$work/sim" "$work/sim.in"
mkdir -p "$work/sim"
mkfifo "$work/sim.in"
ferry-ovirt-python "$root/crates/ferry-testutil/ovirt/engine_sim.py" "$work/scenario.json" "$work/sim" \
  <"$work/sim.in" >"$work/sim.json" 2>"$work/sim.log" &
sim_pid=$!
exec 9>"$work/sim.in"
cleanup() {
  exec 9>&- || true
  wait "$sim_pid" 2>/dev/null || true
  rm -f "$work/sim.in" "$work"/out.* "$work/stdout.out" "$work/time.out"
}
trap cleanup EXIT
for _ in $(seq 300); do [ -s "$work/sim.json" ] && break; sleep 0.1; done
info="$work/sim/info.json"
[ -s "$info" ] || { echo "the engine simulator did not start:" >&2; cat "$work/sim.log" >&2; exit 1; }
ca="$(jq -r .ca_file "$info")"
disk_id="$(jq -r '.disks | to_entries[0].value' "$info")"
py=ferry-ovirt-python

# time CMD... -> "seconds maxrss_kib"
timed() {
  /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >"$work/stdout.out"
  cat "$work/time.out"
}
# One run of a case in its own transfer: CASE URL -> "seconds rss"
with_transfer() {
  local t url r
  read -r t url < <($py "$root/bench/ovirt/transfer.py" "$info" start "$disk_id")
  r="$("$@" "$url")"
  $py "$root/bench/ovirt/transfer.py" "$info" end "$t"
  echo "$r"
}
curl1() { timed curl -sS --fail --cacert "$ca" -o "$work/out.curl" "$1"; }
imageio() {
  timed $py -c "import sys; from ovirt_imageio import client; client.download(sys.argv[1], sys.argv[2], sys.argv[3], fmt='raw')" \
    "$1" "$work/out.imageio" "$ca"
}
ferry1() { timed "$copy" "$1" "$ca" "$work/out.ferry1" 1; cp "$work/stdout.out" "$work/ferry1.json"; }
ferryn() { timed "$copy" "$1" "$ca" "$work/out.ferryn" "$n"; cp "$work/stdout.out" "$work/ferryn.json"; }
median() { # median of REPEAT runs of "with_transfer CASE"
  local rs=() r
  for _ in $(seq "$repeat"); do rs+=("$(with_transfer "$@")"); done
  printf '%s\n' "${rs[@]}" | sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}'
}

c1="$(median curl1)"
ci="$(median imageio)"
f1="$(median ferry1)"
fn="$(median ferryn)"

verdict() { qemu-img compare -q -f qcow2 -F raw "$disk" "$1" && echo identical || echo DIFFERENT; }
mib() { awk -v b="$virtual" -v s="$1" 'BEGIN{ if (s > 0) printf "%.0f", b / 1048576 / s; else print "inf" }'; }
printf "oVirt imageio transfer: %s virtual bytes, %s allocated (%s%%), imageio %s, N=%s, median of %s\n" \
  "$virtual" "$allocated" "$data" "$(jq -r .imageio_url "$info")" "$n" "$repeat"
printf "%-26s %9s %11s %12s %13s %s\n" case seconds "guest MiB/s" "peak RSS" "bytes read" output
row() { printf "%-26s %9s %11s %8s KiB %13s %s\n" "$1" "${2% *}" "$(mib "${2% *}")" "${2#* }" "$3" "$4"; }
row "curl, 1 connection" "$c1" "$(stat -c %s "$work/out.curl")" "$(verdict "$work/out.curl")"
row "imageio client (python)" "$ci" "-" "$(verdict "$work/out.imageio")"
row "ferry, 1 connection" "$f1" "$(jq .bytes_read "$work/ferry1.json")" "$(verdict "$work/out.ferry1")"
row "ferry, $n connections" "$fn" "$(jq .bytes_read "$work/ferryn.json")" "$(verdict "$work/out.ferryn")"
ratio() { awk -v a="${1% *}" -v b="${2% *}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "ratio ferry/curl (time, lower is better): 1 connection $(ratio "$f1" "$c1"), $n connections $(ratio "$fn" "$c1")"
echo "ratio ferry/imageio client (time): 1 connection $(ratio "$f1" "$ci"), $n connections $(ratio "$fn" "$ci")"
