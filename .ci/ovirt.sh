#!/usr/bin/env bash
# Installs the oVirt test peers: a Python venv with the real ovirt-imageio
# daemon and the official oVirt engine Python SDK (whose types and XML
# writer/reader the engine simulator crates/ferry-testutil/ovirt/engine_sim.py
# is built on). The venv lives in a per-machine cache outside the checkout
# ($FERRY_OVIRT_VENV, default /var/cache/ferry-peers/ovirt-venv); the wrapper
# `ferry-ovirt-python` on PATH runs that venv's python, and is the peer the
# tests look for.
# Idempotent: does nothing when the venv holds the pinned versions.
set -euo pipefail
imageio=2.5.1
sdk=4.6.3
venv=${FERRY_OVIRT_VENV:-/var/cache/ferry-peers/ovirt-venv}
bin=${FERRY_OVIRT_BIN:-/usr/local/bin}
wrapper="$bin/ferry-ovirt-python"
stamp="$venv/.ferry-imageio-$imageio-sdk-$sdk"

# The wrapper names this venv, also when another run pointed it elsewhere.
write_wrapper() {
  mkdir -p "$bin"
  cat >"$wrapper" <<WRAP
#!/bin/sh
# Python of the oVirt test peers' venv $venv (installed by ferry's .ci/ovirt.sh).
exec "$venv/bin/python" "\$@"
WRAP
  chmod +x "$wrapper"
}

if [ -f "$stamp" ]; then
  write_wrapper
  echo "oVirt peers (ovirt-imageio $imageio, SDK $sdk) already in $venv"
  exit 0
fi
need=()
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v openssl >/dev/null || need+=(openssl)
command -v qemu-nbd >/dev/null || need+=(qemu-utils)
# The SDK's C extension builds against libxml2; pycurl comes as a wheel.
[ -f /usr/include/libxml2/libxml/xmlreader.h ] || need+=(libxml2-dev)
command -v gcc >/dev/null || need+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")" "$bin"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
  "ovirt-imageio==$imageio" "ovirt-engine-sdk-python==$sdk"
write_wrapper
"$wrapper" -c 'import ovirtsdk4.types, ovirtsdk4.writer, ovirt_imageio.client' 
test -x "$venv/bin/ovirt-imageio"
touch "$stamp"
echo "oVirt peers (ovirt-imageio $imageio, SDK $sdk) installed in $venv"
