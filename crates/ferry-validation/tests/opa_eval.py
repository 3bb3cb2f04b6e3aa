#!/usr/bin/env python3
"""Evaluate Rego policies with real OPA (the opa-golib-python-bindings wheel,
installed by .ci/opa.sh) and print the results as JSON.

usage: opa_eval.py --path io.konveyor.forklift.ova.validate DIR [DIR...] < inputs.json

stdin is a JSON array of input documents; stdout is a JSON array with, per
input, {"result": value}, {"undefined": true} or {"error": "message"}.
Every *.rego file under each DIR is loaded, except *_test.rego files.
"""
import argparse
import json
import os
import sys

from opa_bindings import OpaEngine, OpaError, OpaUndefinedError


def policy_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".rego") and not name.endswith("_test.rego"):
                yield os.path.join(dirpath, name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", required=True, help="document path without 'data.'")
    parser.add_argument("dirs", nargs="+")
    args = parser.parse_args()
    engine = OpaEngine()
    for root in args.dirs:
        for path in policy_files(root):
            with open(path, encoding="utf-8") as f:
                engine.add_policy(path, f.read())
    inputs = json.load(sys.stdin)
    out = []
    for doc in inputs:
        try:
            out.append({"result": engine.eval_document(args.path, doc)})
        except OpaUndefinedError:
            out.append({"undefined": True})
        except OpaError as e:
            out.append({"error": str(e)})
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
