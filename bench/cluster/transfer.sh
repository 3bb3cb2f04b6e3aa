#!/usr/bin/env bash
# Throughput of a transfer pod's copy (`ferry transfer`, as the operator
# runs it in a pod, without the pod) against `qemu-img convert` of the same
# source into the same kind of target (a raw file on the same filesystem),
# in the same run. Prints seconds, the ratio ferry / qemu-img, MB/s and
# peak RSS of each, and a qemu-img compare verdict. Not a test.
#
# Usage: bench/cluster/transfer.sh [WORKDIR]   (default: bench/work/cluster)
# Env:   SIZE (virtual bytes, default 2 GiB), DATA (data bytes, default
#        512 MiB), FERRY (binary, default target/release/ferry; built if
#        missing), VERIFY (true/false, default false: qemu-img does not
#        verify either).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-$ROOT/bench/work/cluster}
SIZE=${SIZE:-$((2 << 30))}
DATA=${DATA:-$((512 << 20))}
FERRY=${FERRY:-$ROOT/target/release/ferry}
VERIFY=${VERIFY:-false}
for tool in qemu-img /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
if [ ! -x "$FERRY" ]; then
  echo "building ferry (release)..." >&2
  cargo build --release -p ferry >&2
fi
mkdir -p "$WORK/pkg" "$WORK/vols/disk0"
BASE=$WORK/base-$SIZE-$DATA.raw
SRC=$WORK/pkg/disk-$SIZE-$DATA.vmdk
if [ ! -f "$SRC" ]; then
  python3 "$ROOT/bench/gen.py" "$BASE" "$SIZE" "$DATA"
  qemu-img convert -O vmdk -o subformat=streamOptimized "$BASE" "$SRC"
  rm -f "$BASE"
fi
cat "$SRC" >/dev/null # warm the page cache for both tools

spec=$(printf '{"namespace":"bench","disks":[{"pvc":"disk0","capacity":%s,"source":"%s","location":{"type":"ova","package":"%s/","href":"%s"}}],"verify":%s,"workers":0}' \
  "$SIZE" "$(basename "$SRC")" "$WORK/pkg" "$(basename "$SRC")" "$VERIFY")
rm -f "$WORK"/vols/disk0/disk.img*
/usr/bin/time -f '%e %M' -o "$WORK/ferry.time" \
  env FERRY_TRANSFER_SPEC="$spec" "$FERRY" transfer --volumes "$WORK/vols" 2>"$WORK/ferry.log" >/dev/null
rm -f "$WORK/qemu.raw"
/usr/bin/time -f '%e %M' -o "$WORK/qemu.time" \
  qemu-img convert -t writeback -O raw "$SRC" "$WORK/qemu.raw"
read -r fs frss <"$WORK/ferry.time"
read -r qs qrss <"$WORK/qemu.time"
verdict=identical
qemu-img compare -q "$WORK/vols/disk0/disk.img" "$WORK/qemu.raw" || verdict=DIFFERENT
python3 - "$fs" "$qs" "$frss" "$qrss" "$SIZE" "$verdict" <<'PY'
import sys
fs, qs, frss, qrss, size, verdict = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
mb = size / 1e6
print(f"streamOptimized VMDK ({size >> 20} MiB virtual) -> raw on the PVC folder")
print(f"  ferry transfer  {fs:7.2f} s  {mb / fs:8.1f} MB/s  peak RSS {frss} KiB")
print(f"  qemu-img        {qs:7.2f} s  {mb / qs:8.1f} MB/s  peak RSS {qrss} KiB")
print(f"  ratio ferry/qemu-img {fs / qs:.2f}   outputs {verdict}")
PY
