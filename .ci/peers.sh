#!/usr/bin/env bash
# Installs the real programs the tests talk to (see shared/reference/test-peers.md).
# Idempotent: skips what is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# qemu-utils 10.x from bookworm-backports, as users run it (bookworm's own is
# 7.2). The backports source reuses the mirror the machine's Debian source
# already names, so no host is written here.
qemu_major() { qemu-img --version 2>/dev/null | awk 'NR==1{split($3,v,"."); print v[1]+0}'; }
if [ "$(qemu_major || echo 0)" -lt 10 ] 2>/dev/null || ! command -v qemu-img >/dev/null; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" >/etc/apt/sources.list.d/ferry-backports.sources
  fi
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports qemu-utils
fi
need=()
command -v kubectl >/dev/null || need+=(kubectl)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v tar >/dev/null || need+=(tar)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v strace >/dev/null || need+=(strace)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
qemu-img --version | head -1
# Real OPA for the validation differential tests.
bash "$(dirname "$0")/opa.sh"
# vSphere API simulator (govmomi) built into /usr/local/bin/ferry-vcsim.
bash "$(dirname "$0")/vcsim.sh"
# oVirt: real ovirt-imageio and the engine SDK (for the engine simulator).
bash "$(dirname "$0")/ovirt.sh"
