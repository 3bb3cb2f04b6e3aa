#!/usr/bin/env python3
"""Write the test fixtures in crates/ferry-testutil/fixtures/upstream/ from
the upstream schemas in SCHEMAS_DIR (the project's shared reference folder,
reference/schemas/, which is not part of this repository: name it).

Only facts are kept: property paths, types, formats, enums, defaults,
patterns, bounds, required lists, Kubernetes extensions, CRD names, scope,
versions, subresources and print columns. Every `description`, `example`
and other prose is dropped, and of the KubeVirt/CDI Swagger documents only
the definitions that v1.VirtualMachine and v1beta1.DataVolume reach are
kept. Output is compact, key-sorted JSON so that a rerun gives the same
bytes.

Usage: tools/upstream-schema-facts.py SCHEMAS_DIR
Tests never run this script; they read only the fixtures it wrote.
"""

import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "crates", "ferry-testutil", "fixtures", "upstream")

# Schema keywords that are prose, not facts.
PROSE = {"description", "example", "title", "x-kubernetes-patch-merge-key"}
# Keys whose values map names to schemas (so a key there is a field name,
# never a keyword, even when it is called "description").
NAME_MAPS = {"properties", "definitions"}


def strip(node, parent_key=None):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if parent_key not in NAME_MAPS and k in PROSE:
                continue
            out[k] = strip(v, k)
        return out
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def crd_facts(crd):
    spec = crd["spec"]
    versions = []
    for v in spec["versions"]:
        keep = {k: v[k] for k in ("name", "served", "storage", "subresources",
                                  "additionalPrinterColumns") if k in v}
        keep["schema"] = {"openAPIV3Schema": strip(v["schema"]["openAPIV3Schema"])}
        versions.append(strip(keep))
    return {
        "apiVersion": crd["apiVersion"],
        "kind": crd["kind"],
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": {
            "group": spec["group"],
            "names": spec["names"],
            "scope": spec["scope"],
            "versions": versions,
        },
    }


def refs(node, found):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                found.add(v.rsplit("/", 1)[-1])
            else:
                refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def swagger_facts(doc, roots):
    defs = doc["definitions"]
    keep, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in defs:
            sys.exit(f"definition {name} is referenced but missing")
        keep.add(name)
        found = set()
        refs(defs[name], found)
        todo.extend(found - keep)
    return {
        "swagger": doc["swagger"],
        "definitions": {n: strip(defs[n]) for n in sorted(keep)},
    }


def write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tools/upstream-schema-facts.py SCHEMAS_DIR "
                 "(the folder holding forklift/ and kubevirt/)")
    src = sys.argv[1]
    forklift = os.path.join(src, "forklift")
    if not os.path.isdir(forklift):
        sys.exit(f"error: {forklift} is not a folder: name the schemas folder "
                 "that holds forklift/*.yaml and kubevirt/*-swagger.json")
    for name in sorted(os.listdir(forklift)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(forklift, name), encoding="utf-8") as f:
            crd = yaml.safe_load(f)
        write(os.path.join(OUT, "forklift", name[:-len(".yaml")] + ".json"),
              crd_facts(crd))
    for name, roots in (("kubevirt-swagger.json", ["v1.VirtualMachine"]),
                        ("cdi-swagger.json", ["v1beta1.DataVolume"])):
        with open(os.path.join(src, "kubevirt", name), encoding="utf-8") as f:
            doc = json.load(f)
        write(os.path.join(OUT, "kubevirt", name), swagger_facts(doc, roots))


if __name__ == "__main__":
    main()
