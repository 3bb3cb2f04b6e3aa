#!/usr/bin/env bash
# Idle cost of `ferry serve`: builds the sample OVAs, starts `ferry serve`,
# applies examples/ova's plan and Migration, waits for the migration to
# finish, lets it settle for 5 s, then measures one idle minute:
#   - CPU seconds of the server process (utime + stime from /proc/PID/stat)
#   - every Forklift object's resourceVersion before and after
#   - the size of the API store (api.sqlite and its WAL)
#   - connections to the API server
# Run it for two binaries to compare (e.g. an older build and the current):
#   usage: bench/apiserver/idle.sh FERRY_BIN [WORKDIR] [PORT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ferry=${1:?usage: idle.sh FERRY_BIN [WORKDIR] [PORT]}
work=${2:-$(mktemp -d)}
port=${3:-18443}
rm -rf "$work"
mkdir -p "$work"
bash "$repo/examples/ova/build.sh" "$work/sample" >/dev/null
sed "s|@APPLIANCES@|$work/sample/appliances|" "$repo/examples/ova/migration.yaml.in" >"$work/migration.yaml"

"$ferry" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
  --inventory-listen "127.0.0.1:$((port + 1))" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
export KUBECONFIG=$work/data/api/kubeconfig
k() { kubectl --cache-dir "$work/kube-cache" "$@"; }
for _ in $(seq 120); do
  [ -f "$KUBECONFIG" ] && k get ns >/dev/null 2>&1 && break
  sleep 1
done
k apply -f "$work/migration.yaml" >/dev/null
for i in $(seq 600); do
  s=$(k -n openshift-mtv get migration ova-demo-1 -o jsonpath='{.status.conditions[?(@.type=="Succeeded")].status}{.status.conditions[?(@.type=="Failed")].status}' 2>/dev/null || true)
  [ -n "$s" ] && break
  sleep 1
done
echo "migration finished after ~${i}s: $(k -n openshift-mtv get migration ova-demo-1 -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}')"
sleep 5

tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rvs() { k get plans,migrations,providers,networkmaps,storagemaps -A -o jsonpath='{range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}'; }
bytes() { cat "$work"/data/api/api.sqlite* | wc -c; }
c0=$(cpu); r0=$(rvs); b0=$(bytes); t0=$(date +%s.%N)
sleep 60
c1=$(cpu); r1=$(rvs); b1=$(bytes); t1=$(date +%s.%N)
python3 - "$c0" "$c1" "$tick" "$t0" "$t1" <<'PY'
import sys
c0, c1, tick, t0, t1 = (float(x) for x in sys.argv[1:])
cpu = (c1 - c0) / tick
print(f"idle cpu: {cpu:.2f} s over {t1 - t0:.1f} s wall ({100 * cpu / (t1 - t0):.2f}% of one core)")
PY
echo "resourceVersions before: $r0"
echo "resourceVersions after:  $r1"
[ "$r0" = "$r1" ] && echo "resourceVersions: unchanged" || echo "resourceVersions: CHANGED"
echo "api store bytes: $b0 -> $b1"
echo "established connections to the API server: $(ss -tan state established "( sport = :$port )" | tail -n +2 | wc -l)"
