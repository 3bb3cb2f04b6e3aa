#!/usr/bin/env bash
# Installs real OPA for ferry's differential validation tests: the PyPI wheel
# opa-golib-python-bindings bundles OPA (v1.20) as a shared library with a
# ctypes module. The wheel is tagged for Python >= 3.14 but loads under the
# machine's Python 3.11, so it is downloaded for 3.14 and unpacked (not
# pip-installed) into $FERRY_OPA_DIR (default /opt/ferry-opa).
# It also installs `ferry-opa-python` on PATH: python3 with that directory on
# PYTHONPATH, which the tests look for as their peer.
# Idempotent: does nothing when the library and the wrapper are present.
set -euo pipefail
version=0.4.4
dir=${FERRY_OPA_DIR:-/opt/ferry-opa}
bin=${FERRY_OPA_BIN:-/usr/local/bin}
wrapper="$bin/ferry-opa-python"

if [ -f "$dir/opa_bindings/libopabridge.so" ] && [ -f "$dir/.version-$version" ] && [ -x "$wrapper" ]; then
  echo "opa bindings $version already in $dir"
  exit 0
fi
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3 python3-pip
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --python-version 3.14 --only-binary=:all: \
  "opa-golib-python-bindings==$version" -d "$tmp"
rm -rf "$dir"
mkdir -p "$dir" "$bin"
python3 -m zipfile -e "$tmp"/opa_golib_python_bindings-"$version"-*.whl "$dir"
touch "$dir/.version-$version"
cat >"$wrapper" <<WRAP
#!/bin/sh
# Python with the OPA bindings of $dir (installed by ferry's .ci/opa.sh).
PYTHONPATH="$dir\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "\$@"
WRAP
chmod +x "$wrapper"
"$wrapper" -c 'from opa_bindings import OpaEngine; e = OpaEngine(); e.add_policy("t.rego", "package t\nx := 1"); assert e.eval_document("t.x") == 1'
echo "opa bindings $version installed in $dir"
