#!/usr/bin/env python3
"""Follow the Plans of one namespace on ferry's embedded API server while a
bench applies them, and check that no event is lost.

usage: watch_plans.py KUBECONFIG NAMESPACE COUNT TIMEOUT_S OUT_JSON

Lists the Plans, then watches from the list's resourceVersion. Every Plan
must arrive as exactly one ADDED event, resourceVersions must strictly
increase, and the run ends when COUNT Plans carry a Ready condition (the
Plan controller reconciled each of them) or at TIMEOUT_S. Writes a summary
to OUT_JSON and exits non-zero on a lost, duplicated or reordered event or
on timeout."""
import base64
import json
import ssl
import sys
import tempfile
import time
import urllib.request


def kubeconfig(path):
    server = ca = token = None
    for line in open(path):
        s = line.strip()
        if s.startswith("server:"):
            server = s.split(":", 1)[1].strip()
        elif s.startswith("certificate-authority-data:"):
            ca = base64.b64decode(s.split(":", 1)[1].strip()).decode()
        elif s.startswith("token:"):
            token = s.split(":", 1)[1].strip()
    if not (server and ca and token):
        sys.exit(f"{path}: server, certificate-authority-data or token missing")
    return server, ca, token


def main():
    kc, ns, count, timeout, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    server, ca, token = kubeconfig(kc)
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(ca)
    ctx = ssl.create_default_context(cafile=f.name)
    ctx.check_hostname = False
    base = f"{server}/apis/forklift.konveyor.io/v1beta1/namespaces/{ns}/plans"
    hdr = {"Authorization": f"Bearer {token}"}
    listed = json.load(urllib.request.urlopen(urllib.request.Request(base, headers=hdr), context=ctx))
    rv = listed["metadata"]["resourceVersion"]
    preexisting = len(listed["items"])
    url = f"{base}?watch=1&allowWatchBookmarks=true&timeoutSeconds={int(timeout) + 60}&resourceVersion={rv}"
    resp = urllib.request.urlopen(urllib.request.Request(url, headers=hdr), context=ctx, timeout=timeout + 60)
    added, ready, dup, reorder, events = {}, set(), 0, 0, 0
    last = int(rv)
    start = time.time()
    first_added = last_added = all_ready = None
    while time.time() - start < timeout:
        line = resp.readline()
        if not line:
            break
        ev = json.loads(line)
        t, obj = ev["type"], ev["object"]
        if t == "ERROR":
            sys.exit(f"watch error: {obj}")
        erv = int(obj["metadata"]["resourceVersion"])
        if t == "BOOKMARK":
            last = max(last, erv)
            continue
        events += 1
        if erv <= last:
            reorder += 1
        last = erv
        name = obj["metadata"]["name"]
        now = time.time() - start
        if t == "ADDED":
            if name in added:
                dup += 1
            added[name] = now
            first_added = first_added if first_added is not None else now
            last_added = now
        conds = (obj.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            ready.add(name)
        if len(ready) >= count and len(added) >= count:
            all_ready = now
            break
    summary = {
        "plans_added": len(added), "plans_ready": len(ready), "preexisting": preexisting,
        "events": events, "duplicated": dup, "reordered": reorder,
        "seconds_to_all_ready": all_ready,
    }
    json.dump(summary, open(out, "w"))
    bad = dup or reorder or len(added) < count or all_ready is None
    sys.exit(1 if bad else 0)


main()
