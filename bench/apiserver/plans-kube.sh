#!/usr/bin/env bash
# The reference for plans.sh: the same COUNT Plans applied with kubectl to a
# real kube-apiserver + etcd (built by .ci/kube.sh) with ferry's CRDs
# installed. There is no Forklift controller here, so this measures the
# apply alone; compare it with the "kubectl apply" line of plans.sh.
# Prints Plans/s, CPU seconds and peak RSS of kube-apiserver and of etcd.
#
# usage: bench/apiserver/plans-kube.sh [COUNT] [WORKDIR]   (default 10000, bench/work/plans-kube)
# env:   PORT (default 17543), PARALLEL=N kubectl processes (default 1),
#        APPLY="--server-side", CLIENT=rust (see apply.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
count=${1:-10000}
work=${2:-$repo/bench/work/plans-kube}
port=${PORT:-17543}
parallel=${PARALLEL:-1}
for t in ferry-kube-apiserver ferry-etcd kubectl openssl; do
  command -v "$t" >/dev/null || { echo "error: $t is required (bash .ci/kube.sh builds the first two)" >&2; exit 1; }
done
rm -rf "$work"
mkdir -p "$work/etcd" "$work/pki"
# shellcheck source=bench/apiserver/apply.sh
. "$here/apply.sh"
create_binary "$repo"
python3 "$here/make_plans.py" "$count" "$parallel" "$work"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE -keyout "$work/pki/tls.key" -out "$work/pki/tls.crt" 2>/dev/null
openssl genrsa -out "$work/pki/sa.key" 2048 2>/dev/null
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,bench,bench,system:masters" >"$work/pki/tokens.csv"

ferry-etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$((port + 1))" \
  --advertise-client-urls "http://127.0.0.1:$((port + 1))" \
  --listen-peer-urls "http://127.0.0.1:$((port + 2))" >"$work/etcd.log" 2>&1 &
etcd=$!
ferry-kube-apiserver --etcd-servers "http://127.0.0.1:$((port + 1))" \
  --bind-address 127.0.0.1 --secure-port "$port" \
  --tls-cert-file "$work/pki/tls.crt" --tls-private-key-file "$work/pki/tls.key" \
  --token-auth-file "$work/pki/tokens.csv" --authorization-mode AlwaysAllow \
  --service-account-issuer https://ferry.bench --service-account-key-file "$work/pki/sa.key" \
  --service-account-signing-key-file "$work/pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
  >"$work/apiserver.log" 2>&1 &
api=$!
trap 'kill $api $etcd 2>/dev/null || true' EXIT

cat >"$work/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$work/pki/tls.crt"}}]
users: [{name: bench, user: {token: "$token"}}]
contexts: [{name: bench, context: {cluster: bench, user: bench}}]
current-context: bench
KC
export KUBECONFIG=$work/kubeconfig
k() { kubectl --cache-dir "$work/kube-cache" "$@"; }
for _ in $(seq 1 240); do
  k get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.5
done
k apply -f "$repo/deploy/crds" >/dev/null
k wait --for=condition=Established crd --all --timeout=60s >/dev/null
k create namespace openshift-mtv >/dev/null

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)
a0=$(cpu $api) e0=$(cpu $etcd)
t0=$(date +%s.%N)
apply_plans "$work" "$parallel"
t1=$(date +%s.%N)
a1=$(cpu $api) e1=$(cpu $etcd)
got=$(k -n openshift-mtv get plans --no-headers | wc -l)
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
python3 - "$count" "$got" "$t0" "$t1" "$a0" "$a1" "$e0" "$e1" "$tick" "$(hwm $api)" "$(hwm $etcd)" <<'PY'
import os, sys
count, got, t0, t1, a0, a1, e0, e1, tick, ha, he = sys.argv[1:]
count, t0, t1, tick = int(count), float(t0), float(t1), float(tick)
print(f"plans: {count} (stored: {got})")
print(f"applied ({os.environ.get('CLIENT', 'kubectl')}): {t1 - t0:.1f} s = {count / (t1 - t0):.0f} Plans/s")
print(f"kube-apiserver CPU: {(float(a1) - float(a0)) / tick:.1f} s, peak RSS {int(ha) / 1024:.0f} MiB")
print(f"etcd CPU: {(float(e1) - float(e0)) / tick:.1f} s, peak RSS {int(he) / 1024:.0f} MiB")
PY
[ "$got" = "$count" ] || { echo "FAILED: $got of $count Plans stored" >&2; exit 1; }
