#!/usr/bin/env python3
"""Write the KubeVirt/CDI CustomResourceDefinitions that cluster-mode tests
install into a real kube-apiserver (crates/ferry-testutil/fixtures/crds/)
from SCHEMAS_DIR/crds/ (the project's shared reference folder, which is not
part of this repository: name it).

The structural openAPIV3Schema is kept whole (the server validates every
VirtualMachine and DataVolume ferry creates against it); every
`description` (prose) is dropped. A field that is itself named
`description` (a key under `properties`) is kept. Output is compact,
key-sorted JSON (kubectl applies JSON as well as YAML) so that a rerun gives
the same bytes.

Usage: tools/crd-fixtures.py SCHEMAS_DIR
Tests never run this script; they read only the fixtures it wrote.
"""

import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "crates", "ferry-testutil", "fixtures", "crds")
CRDS = [
    "kubevirt.io_virtualmachines.yaml",
    "cdi.kubevirt.io_datavolumes.yaml",
    "cdi.kubevirt.io_storageprofiles.yaml",
]


def strip(node, under_properties=False):
    if isinstance(node, dict):
        return {
            k: strip(v, k in ("properties", "patternProperties") and not under_properties)
            for k, v in node.items()
            if under_properties or k != "description"
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    if len(sys.argv) != 2 or not os.path.isdir(os.path.join(sys.argv[1], "crds")):
        sys.exit("usage: tools/crd-fixtures.py SCHEMAS_DIR (the folder holding crds/*.yaml)")
    os.makedirs(OUT, exist_ok=True)
    for name in CRDS:
        with open(os.path.join(sys.argv[1], "crds", name)) as f:
            crd = yaml.safe_load(f)
        out = os.path.join(OUT, name.replace(".yaml", ".json"))
        with open(out, "w") as f:
            json.dump(strip(crd), f, sort_keys=True, separators=(",", ":"))
            f.write("\n")
        print("wrote", out)


if __name__ == "__main__":
    main()
