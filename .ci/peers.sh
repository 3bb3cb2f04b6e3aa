#!/usr/bin/env bash
# Installs the real programs the tests talk to (see shared/reference/test-peers.md).
# Idempotent: skips what is already there.
set -euo pipefail
need=()
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v kubectl >/dev/null || need+=(kubectl)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v tar >/dev/null || need+=(tar)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
qemu-img --version | head -1
command -v qemu-io >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq qemu-utils; }
# Real OPA for the validation differential tests.
bash "$(dirname "$0")/opa.sh"
# vSphere API simulator (govmomi) built into /usr/local/bin/ferry-vcsim.
bash "$(dirname "$0")/vcsim.sh"
