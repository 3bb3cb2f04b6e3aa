#!/usr/bin/env bash
# Builds the govmomi vSphere simulator harness (crates/ferry-testutil/vcsim)
# into /usr/local/bin/ferry-vcsim. Idempotent: rebuilds only when a Go file
# is newer than the binary.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)/crates/ferry-testutil/vcsim"
out=/usr/local/bin/ferry-vcsim
command -v curl >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq curl; }
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq golang-go golang-github-vmware-govmomi-dev
fi
stale=0
[ -x "$out" ] || stale=1
for f in "$src"/*.go; do [ "$f" -nt "$out" ] && stale=1; done
if [ "$stale" = 1 ]; then
  gopath="$(mktemp -d)"
  trap 'rm -rf "$gopath"' EXIT
  (cd "$src" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$gopath/cache" go build -o "$out" .)
fi
echo "ferry-vcsim: $out"
