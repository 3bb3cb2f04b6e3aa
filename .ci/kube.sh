#!/usr/bin/env bash
# Builds a real Kubernetes control plane for cluster-mode tests:
# kube-apiserver and kube-controller-manager (k8s.io/kubernetes) and etcd
# (go.etcd.io/etcd), all from the Go module proxy, into a per-machine cache
# outside the checkout:
#   $FERRY_PEER_CACHE/kube-$K8S_VERSION/bin/{kube-apiserver,kube-controller-manager,etcd}
# and links them into /usr/local/bin as ferry-kube-apiserver,
# ferry-kube-controller-manager and ferry-etcd.
# Idempotent: a second run on the same machine only checks the cache.
#
# k8s.io/kubernetes and etcd's server module cannot be built with a plain
# `go install pkg@version`: their go.mod files replace sibling modules with
# local paths. A throwaway module of ours requires them and pins every
# replaced module to the matching published version instead.
set -euo pipefail
k8s=${K8S_VERSION:-v1.34.4}
etcd=${ETCD_VERSION:-v3.6.16}
cache=${FERRY_PEER_CACHE:-/var/cache/ferry-peers}/kube-$k8s
bin=${FERRY_PEER_BIN:-/usr/local/bin}

if [ -x "$cache/bin/kube-apiserver" ] && [ -x "$cache/bin/kube-controller-manager" ] && [ -x "$cache/bin/etcd" ]; then
  echo "kube-apiserver, kube-controller-manager $k8s and etcd $etcd already in $cache"
else
  command -v go >/dev/null || { echo "error: go is needed to build kube-apiserver" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local
  # staging modules are published as v0.<minor>.<patch>
  staging=v0.${k8s#v1.}

  mkdir -p "$work/k8s" "$work/etcd" "$cache/bin"
  (
    cd "$work/k8s"
    printf 'module ferry.local/kubepeer\n\ngo 1.24\n' >go.mod
    gomod=$(go mod download -json "k8s.io/kubernetes@$k8s" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
    # every "k8s.io/X => ./staging/src/k8s.io/X" becomes "k8s.io/X => k8s.io/X v0.Y.Z"
    sed -n 's#^\t\(k8s.io/[a-z0-9./-]*\) => ./staging/src/.*#\1#p' "$gomod" | while read -r m; do
      echo "replace $m => $m $staging" >>go.mod
    done
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$k8s" "k8s.io/kubernetes/cmd/kube-controller-manager@$k8s"
    minor=${k8s#v1.}; minor=${minor%%.*}
    v=k8s.io/component-base/version
    for cmd in kube-apiserver kube-controller-manager; do
      # A cache from before kube-controller-manager was added keeps its
      # kube-apiserver.
      [ -x "$cache/bin/$cmd" ] && continue
      go build -trimpath -ldflags "-X $v.gitVersion=$k8s -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
        -o "$cache/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
  [ -x "$cache/bin/etcd" ] || (
    cd "$work/etcd"
    printf 'module ferry.local/etcdpeer\n\ngo 1.24\n' >go.mod
    gomod=$(go mod download -json "go.etcd.io/etcd/server/v3@$etcd" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
    sed -n 's#^\t*\(go.etcd.io/etcd/[a-z0-9/]*\) => \.\./.*#\1#p;s#^replace \(go.etcd.io/etcd/[a-z0-9/]*\) => \.\./.*#\1#p' "$gomod" |
      while read -r m; do echo "replace $m => $m $etcd" >>go.mod; done
    go get "go.etcd.io/etcd/server/v3@$etcd"
    go build -trimpath -o "$cache/bin/etcd" go.etcd.io/etcd/server/v3
  )
fi
ln -sf "$cache/bin/kube-apiserver" "$bin/ferry-kube-apiserver"
ln -sf "$cache/bin/kube-controller-manager" "$bin/ferry-kube-controller-manager"
ln -sf "$cache/bin/etcd" "$bin/ferry-etcd"
"$bin/ferry-kube-apiserver" --version
"$bin/ferry-kube-controller-manager" --version
"$bin/ferry-etcd" --version | sed -n 1p
