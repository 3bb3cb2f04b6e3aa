#!/usr/bin/env bash
# Builds the govmomi vSphere simulator harness (crates/ferry-testutil/vcsim)
# into /usr/local/bin/ferry-vcsim. Idempotent: rebuilds only when main.go is
# newer than the binary.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)/crates/ferry-testutil/vcsim/main.go"
out=/usr/local/bin/ferry-vcsim
command -v curl >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq curl; }
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq golang-go golang-github-vmware-govmomi-dev
fi
if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
  gopath="$(mktemp -d)"
  trap 'rm -rf "$gopath"' EXIT
  GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$gopath/cache" go build -o "$out" "$src"
fi
echo "ferry-vcsim: $out"
