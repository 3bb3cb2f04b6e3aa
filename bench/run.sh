#!/usr/bin/env bash
# Compare `ferry convert` with `qemu-img convert` on the same inputs, in the
# same run. Prints, per case: seconds, ratio (ferry / qemu-img), bytes the
# output allocates, and peak RSS. Not part of the test suite.
#
# Usage: bench/run.sh [WORKDIR]      (default: bench/work, kept between runs)
# Env:   SIZE (virtual bytes, default 4 GiB), DATA (data bytes, default 1 GiB),
#        FERRY (binary, default target/release/ferry; built if missing),
#        REPEAT (runs per tool and case, best time kept; default 1),
#        XFS=0 to skip the reflink case (it needs root and a loop device),
#        CASES (extended regex; only cases whose name matches run),
#        MODES ("durable unsynced" by default; either one alone).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${1:-$ROOT/bench/work}
SIZE=${SIZE:-$((4 << 30))}
DATA=${DATA:-$((1 << 30))}
REPEAT=${REPEAT:-1}
FERRY=${FERRY:-$ROOT/target/release/ferry}
XFS=${XFS:-1}
CASES=${CASES:-.}
MODES=${MODES:-durable unsynced}
mkdir -p "$WORK"

for tool in qemu-img /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
if [ ! -x "$FERRY" ]; then
  echo "building ferry (release)..." >&2
  cargo build --release -p ferry >&2
fi

log() { printf '%s\n' "$*" >&2; }

# ---- inputs (cached in WORK by size) ----
BASE=$WORK/base-$SIZE-$DATA.raw
if [ ! -f "$BASE" ]; then
  log "generating $BASE ($SIZE bytes virtual, ~$DATA bytes of data)"
  python3 "$ROOT/bench/gen.py" "$BASE.tmp" "$SIZE" "$DATA"
  mv "$BASE.tmp" "$BASE"
fi
derive() { # name, qemu-img convert args...
  local out=$WORK/$1; shift
  if [ ! -f "$out" ]; then
    log "creating $(basename "$out")"
    qemu-img convert "$@" "$BASE" "$out.tmp"
    mv "$out.tmp" "$out"
  fi
}
derive so.vmdk -O vmdk -o subformat=streamOptimized
derive sparse.vmdk -O vmdk -o subformat=monolithicSparse
derive plain.qcow2 -O qcow2
derive comp.qcow2 -c -O qcow2

MNT=
cleanup() {
  if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT" || umount -l "$MNT"; fi
}
trap cleanup EXIT
if [ "$XFS" = 1 ]; then
  if command -v mkfs.xfs >/dev/null && [ "$(id -u)" = 0 ]; then
    MNT=$WORK/xfs
    mkdir -p "$MNT"
    truncate -s $((SIZE * 3 + (1 << 30))) "$WORK/xfs.img"
    mkfs.xfs -q -f -m reflink=1 "$WORK/xfs.img"
    if mount -o loop "$WORK/xfs.img" "$MNT"; then
      log "creating flat.vmdk on the XFS reflink mount"
      qemu-img convert -O vmdk -o subformat=monolithicFlat "$BASE" "$MNT/flat.vmdk"
    else
      log "cannot loop-mount XFS here; skipping the reflink case"; MNT=
    fi
  else
    log "no mkfs.xfs or not root; skipping the reflink case"
  fi
fi

# ---- measurement ----
# measure command...: best wall seconds, peak RSS (KiB) and CPU seconds
# (user + system) of that run, over REPEAT runs; the command's stdout is
# kept in $WORK/stdout.txt.
measure() {
  local best= rss= cpu= t m u s
  for _ in $(seq "$REPEAT"); do
    rm -f "$OUT" "$OUT.part"
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" "$@" >"$WORK/stdout.txt" 2>"$WORK/err.txt" || {
      sed 's/^/    /' "$WORK/err.txt" >&2; return 1; }
    read -r t m u s <"$WORK/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then
      best=$t; rss=$m; cpu=$(awk "BEGIN{printf \"%.2f\", $u + $s}")
    fi
  done
  echo "$best $rss $cpu"
}
alloc() { echo $(( $(stat -c %b "$1") * $(stat -c %B "$1") )); }
warm() { for f in "$@"; do cat "$f" >/dev/null; done; }

QEMU_EXTRA=""
FERRY_EXTRA=""
printf '%-28s %7s %7s %6s %7s %7s %12s %12s %9s %9s %s\n' case qemu_s ferry_s ratio q_cpu f_cpu qemu_alloc ferry_alloc qemu_rss ferry_rss check
bench_case() { # name src out_fmt dir
  local name=$1 src=$2 ofmt=$3 dir=$4 q f ok=ok
  [[ $name =~ $CASES ]] || return 0
  local files=("$src"); [ -f "${src%.vmdk}-flat.vmdk" ] && files+=("${src%.vmdk}-flat.vmdk")
  warm "${files[@]}"
  OUT=$dir/out-qemu.$ofmt
  # shellcheck disable=SC2086
  q=$(measure qemu-img convert $QEMU_EXTRA -O "$ofmt" "$src" "$OUT")
  local qalloc; qalloc=$(alloc "$OUT")
  qemu-img compare -q "$src" "$OUT" || ok=QEMU-DIFFERS
  rm -f "$OUT"
  OUT=$dir/out-ferry.$ofmt
  # shellcheck disable=SC2086
  if ! f=$(measure "$FERRY" convert $FERRY_EXTRA --progress json -O "$ofmt" "$src" "$OUT"); then
    printf '%-28s %9s %9s   ferry failed (see above)\n' "$name" "${q%% *}" -
    return 0
  fi
  local falloc; falloc=$(alloc "$OUT")
  qemu-img compare -q "$src" "$OUT" || ok=FERRY-DIFFERS
  if [ "$ofmt" = qcow2 ]; then qemu-img check -q "$OUT" >/dev/null || ok=FERRY-CHECK-FAILED; fi
  local tier; tier=$(tail -1 "$WORK/stdout.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tier"])')
  rm -f "$OUT"
  set -- $q; local qs=$1 qr=$2 qc=$3
  set -- $f; local fs=$1 fr=$2 fc=$3
  local ratio; ratio=$(awk "BEGIN{ if ($qs > 0) printf \"%.2f\", $fs/$qs; else print \"inf\" }")
  printf '%-28s %7s %7s %6s %7s %7s %12s %12s %8sK %8sK %s (%s)\n' "$name" "$qs" "$fs" "$ratio" "$qc" "$fc" "$qalloc" "$falloc" "$qr" "$fr" "$ok" "$tier"
}

run_cases() {
  bench_case "streamOptimized-vmdk->raw" "$WORK/so.vmdk" raw "$WORK"
  bench_case "monolithicSparse-vmdk->raw" "$WORK/sparse.vmdk" raw "$WORK"
  bench_case "qcow2->raw" "$WORK/plain.qcow2" raw "$WORK"
  bench_case "qcow2-compressed->raw" "$WORK/comp.qcow2" raw "$WORK"
  bench_case "raw-sparse->qcow2" "$BASE" qcow2 "$WORK"
  if [ -n "$MNT" ]; then
    bench_case "flat-vmdk->raw (xfs reflink)" "$MNT/flat.vmdk" raw "$MNT"
  fi
}

# Durable: both tools sync the target before exiting (qemu-img -t writeback
# flushes at close; ferry fdatasyncs before renaming DST.part).
if [[ " $MODES " == *" durable "* ]]; then
  echo "== durable: qemu-img -t writeback vs ferry (default)"
  QEMU_EXTRA="-t writeback" FERRY_EXTRA="" run_cases
fi
# Unsynced: qemu-img's default cache=unsafe vs ferry --no-sync.
if [[ " $MODES " == *" unsynced "* ]]; then
  echo "== unsynced: qemu-img (default cache=unsafe) vs ferry --no-sync"
  QEMU_EXTRA="" FERRY_EXTRA="--no-sync" run_cases
fi
