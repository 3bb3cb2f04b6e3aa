#!/usr/bin/env bash
# Disk transfer from a vSphere datastore: ferry's DatastoreStorage copy
# against curl downloading the same file from the same simulator in the
# same run. See bench/README.md ("vSphere datastore transfer").
#
#   bench/vsphere/run.sh [WORKDIR]      SIZE=1G N=4 REPEAT=1
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/bench/work/vsphere}"
size="${SIZE:-1G}"
n="${N:-4}"
repeat="${REPEAT:-1}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

command -v ferry-vcsim >/dev/null || bash "$root/.ci/vcsim.sh"
for t in curl qemu-img jq /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench needs $t" >&2; exit 1; }
done

echo "building the bench binary (release, ferry-vsphere example only)..." >&2
(cd "$root" && cargo build --release -q -p ferry-vsphere --example datastore_copy)
copy="${CARGO_TARGET_DIR:-$root/target}/release/examples/datastore_copy"
[ -x "$copy" ] || { echo "bench: $copy was not built" >&2; exit 1; }

# The simulator runs until its stdin closes.
rm -f "$work/vcsim.in"
mkfifo "$work/vcsim.in"
ferry-vcsim -vm 1 <"$work/vcsim.in" >"$work/vcsim.json" 2>"$work/vcsim.log" &
vcsim_pid=$!
exec 9>"$work/vcsim.in"
cleanup() {
  exec 9>&- || true
  wait "$vcsim_pid" 2>/dev/null || true
  rm -f "$work/vcsim.in" "$work"/out.* "$work"/fetched.* "$work/stdout.out" "$work/time.out"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$work/vcsim.json" ] && break; sleep 0.1; done
info="$(head -1 "$work/vcsim.json")"
url="$(jq -r .url <<<"$info")"
host="$(jq -r .host <<<"$info")"
user="$(jq -r .username <<<"$info")"
cacert="$(jq -r .cert_path <<<"$info")"
dc="$(jq -r .datacenter <<<"$info")"
ds="$(jq -r .datastore <<<"$info")"
FERRY_VSPHERE_PASSWORD="$(jq -r .password <<<"$info")"
export FERRY_VSPHERE_PASSWORD

# Input: a descriptor + flat extent full of incompressible data.
if [ ! -s "$work/disk-flat.vmdk" ] || [ "$(stat -c %s "$work/disk-flat.vmdk")" != "$(numfmt --from=iec "$size")" ]; then
  echo "making a $size flat VMDK with data..." >&2
  rm -f "$work/disk.vmdk" "$work/disk-flat.vmdk"
  qemu-img create -q -f vmdk -o subformat=monolithicFlat "$work/disk.vmdk" "$size"
  head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$work/disk-flat.vmdk"
fi
bytes="$(stat -c %s "$work/disk-flat.vmdk")"
folder() { echo "https://$host/folder/bench/$1?dcPath=$dc&dsName=$ds"; }
curl -sS --fail --cacert "$cacert" -T "$work/disk.vmdk" "$(folder disk.vmdk)"
curl -sS --fail --cacert "$cacert" -T "$work/disk-flat.vmdk" "$(folder disk-flat.vmdk)"

# time CMD... -> "seconds maxrss_kib"
timed() {
  /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >"$work/stdout.out"
  cat "$work/time.out"
}
best() { # best of REPEAT runs of "timed ..."
  local b="" r
  for _ in $(seq "$repeat"); do
    r="$("$@")"
    if [ -z "$b" ] || awk -v a="${r% *}" -v b="${b% *}" 'BEGIN{exit !(a<b)}'; then b="$r"; fi
  done
  echo "$b"
}
curl1() { timed curl -sS --fail --cacert "$cacert" -o "$work/out.curl1" "$(folder disk-flat.vmdk)"; }
curln() {
  local per=$(((bytes + n - 1) / n))
  local script="set -e"$'\n'
  for i in $(seq 0 $((n - 1))); do
    local a=$((i * per)) b=$(((i + 1) * per - 1))
    [ "$b" -ge "$bytes" ] && b=$((bytes - 1))
    script+="curl -sS --fail --cacert '$cacert' -r $a-$b -o '$work/out.curln.$i' '$(folder disk-flat.vmdk)' &"$'\n'
  done
  script+="wait"
  timed bash -c "$script"
}
ferry() {
  timed "$copy" "$url" "$user" "$cacert" "$dc" "[$ds] bench/disk.vmdk" "$work/out.ferry$1" "$1"
  jq -r .bytes_fetched "$work/stdout.out" >"$work/fetched.$1"
}

# Warm the simulator's page cache once.
curl -sS --fail --cacert "$cacert" -o /dev/null "$(folder disk-flat.vmdk)"

c1="$(best curl1)"
cn="$(best curln)"
f1="$(best ferry 1)"
fn="$(best ferry "$n")"

verdict() { cmp -s "$work/disk-flat.vmdk" "$1" && echo identical || echo DIFFERENT; }
cat "$work"/out.curln.* >"$work/out.curln"
mib() { awk -v b="$bytes" -v s="$1" 'BEGIN{ if (s > 0) printf "%.0f", b / 1048576 / s; else print "inf" }'; }
printf "vSphere datastore transfer: %s bytes (%s), simulator %s, N=%s, best of %s\n" "$bytes" "$size" "$host" "$n" "$repeat"
printf "%-22s %9s %9s %12s %13s %s\n" case seconds "MiB/s" "peak RSS" "bytes moved" output
row() { printf "%-22s %9s %9s %8s KiB %13s %s\n" "$1" "${2% *}" "$(mib "${2% *}")" "${2#* }" "$3" "$4"; }
row "curl, 1 connection" "$c1" "$(stat -c %s "$work/out.curl1")" "$(verdict "$work/out.curl1")"
row "curl, $n ranges" "$cn" "$(stat -c %s "$work/out.curln")" "$(verdict "$work/out.curln")"
row "ferry, 1 connection" "$f1" "$(cat "$work/fetched.1")" "$(verdict "$work/out.ferry1")"
row "ferry, $n connections" "$fn" "$(cat "$work/fetched.$n")" "$(verdict "$work/out.ferry$n")"
ratio() { awk -v a="${1% *}" -v b="${2% *}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "ratio ferry/curl (time, lower is better): 1 connection $(ratio "$f1" "$c1"), $n connections $(ratio "$fn" "$cn")"
