#!/usr/bin/env bash
# Embedded API server with the controllers running: `ferry serve` (release)
# with the sample OVA provider, its maps, then COUNT Plans applied with
# kubectl from one file. Prints Plans/s applied, the time until the Plan
# controller reconciled every Plan (Ready), the server's peak RSS and CPU
# seconds, and whether a watcher lost, duplicated or reordered an event.
#
# usage: bench/apiserver/plans.sh [COUNT] [WORKDIR]   (default 10000, bench/work/plans)
# env:   FERRY=path (default: cargo build --release), PORT (default 17443),
#        APPLY="--server-side" for server-side apply, TIMEOUT (s, default 1800),
#        CLIENT=rust: create with the apiserver-create example (PARALLEL concurrent creates)
#        PARALLEL=N kubectl processes applying a share of the Plans each (default 1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
count=${1:-10000}
work=${2:-$repo/bench/work/plans}
port=${PORT:-17443}
timeout=${TIMEOUT:-1800}
parallel=${PARALLEL:-1}
ferry=${FERRY:-}
if [ -z "$ferry" ]; then
  cargo build -q --release -p ferry --manifest-path "$repo/Cargo.toml"
  ferry="${CARGO_TARGET_DIR:-$repo/target}/release/ferry"
fi
command -v kubectl >/dev/null || { echo "error: kubectl is required" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
bash "$repo/examples/ova/build.sh" "$work/sample" >/dev/null
# The sample's namespace, providers and maps (no Plan, no Migration).
sed "s|@APPLIANCES@|$work/sample/appliances|" "$repo/examples/ova/migration.yaml.in" |
  awk 'BEGIN{RS="---\n"; ORS="---\n"} !/kind: (Plan|Migration)\n/' >"$work/base.yaml"
# shellcheck source=bench/apiserver/apply.sh
. "$here/apply.sh"
create_binary "$repo"
python3 "$here/make_plans.py" "$count" "$parallel" "$work"

"$ferry" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
  --inventory-listen "127.0.0.1:$((port + 1))" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
export KUBECONFIG=$work/data/api/kubeconfig
k() { kubectl --cache-dir "$work/kube-cache" "$@"; }
for _ in $(seq 1 120); do
  [ -f "$KUBECONFIG" ] && k get ns >/dev/null 2>&1 && break
  sleep 0.5
done
k apply -f "$work/base.yaml" >/dev/null
k -n openshift-mtv wait --for=condition=Ready provider/ova-appliances provider/host --timeout=120s >/dev/null

python3 "$here/watch_plans.py" "$KUBECONFIG" openshift-mtv "$count" "$timeout" "$work/watch.json" &
watcher=$!
sleep 1
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)
c0=$(cpu)
t0=$(date +%s.%N)
apply_plans "$work" "$parallel"
t1=$(date +%s.%N)
watch_rc=0
wait $watcher || watch_rc=$?
t2=$(date +%s.%N)
c1=$(cpu)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
db=$(du -sk "$work/data/api" | cut -f1)
python3 - "$count" "$t0" "$t1" "$t2" "$c0" "$c1" "$tick" "$rss" "$hwm" "$db" "$work/watch.json" <<'PY'
import json, os, sys
count, t0, t1, t2, c0, c1, tick, rss, hwm, db, out = sys.argv[1:]
count, t0, t1, t2 = int(count), float(t0), float(t1), float(t2)
w = json.load(open(out)) if open(out).read().strip() else {}
print(f"plans: {count}")
print(f"applied ({os.environ.get('CLIENT', 'kubectl')}): {t1 - t0:.1f} s = {count / (t1 - t0):.0f} Plans/s")
print(f"until every Plan was Ready: {t2 - t0:.1f} s = {count / (t2 - t0):.0f} Plans/s")
print(f"server CPU: {(float(c1) - float(c0)) / float(tick):.1f} s")
print(f"server RSS now: {int(rss) / 1024:.0f} MiB, peak: {int(hwm) / 1024:.0f} MiB; api data dir: {int(db) / 1024:.0f} MiB")
print("watcher: " + json.dumps(w))
PY
if [ "$watch_rc" != 0 ]; then
  echo "FAILED: the watcher lost, duplicated or reordered events, or timed out" >&2
  exit 1
fi
