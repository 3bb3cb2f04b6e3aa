"""Write COUNT Forklift Plans over PARALLEL files WORK/plans-J.yaml, and all
of them as JSON lines in WORK/plans.jsonl.

Every Plan names the sample OVA provider, the `host` destination and the
sample maps (examples/ova), and one of the sample's three VMs.
usage: make_plans.py COUNT PARALLEL WORK
"""
import sys

count, parallel, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
vms = ["two-disk-bios", "efi-vm", "extracted-vm"]
outs = [open(f"{work}/plans-{j}.yaml", "w") for j in range(parallel)]
for i in range(count):
    print(file=outs[i % parallel], end=f"""---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata:
  name: plan-{i:05d}
  namespace: openshift-mtv
spec:
  targetNamespace: bench-vms
  provider:
    source: {{name: ova-appliances, namespace: openshift-mtv}}
    destination: {{name: host, namespace: openshift-mtv}}
  map:
    network: {{name: ova-network-map, namespace: openshift-mtv}}
    storage: {{name: ova-storage-map, namespace: openshift-mtv}}
  vms:
  - name: {vms[i % len(vms)]}
""")
for f in outs:
    f.close()

# The same Plans as JSON lines, for bench/apiserver/create.rs.
import json

with open(f"{work}/plans.jsonl", "w") as out:
    for i in range(count):
        out.write(json.dumps({
            "apiVersion": "forklift.konveyor.io/v1beta1",
            "kind": "Plan",
            "metadata": {"name": f"plan-{i:05d}", "namespace": "openshift-mtv"},
            "spec": {
                "targetNamespace": "bench-vms",
                "provider": {
                    "source": {"name": "ova-appliances", "namespace": "openshift-mtv"},
                    "destination": {"name": "host", "namespace": "openshift-mtv"},
                },
                "map": {
                    "network": {"name": "ova-network-map", "namespace": "openshift-mtv"},
                    "storage": {"name": "ova-storage-map", "namespace": "openshift-mtv"},
                },
                "vms": [{"name": vms[i % len(vms)]}],
            },
        }) + "\n")
