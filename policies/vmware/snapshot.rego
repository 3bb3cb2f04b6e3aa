package io.konveyor.forklift.vmware

import rego.v1

# `snapshot` is the reference to the VM's current snapshot, if any.
concerns contains flag if {
	input.snapshot.kind == "VirtualMachineSnapshot"
	flag := {
		"id": "vmware.snapshot.detected",
		"category": "Information",
		"label": "VM snapshot detected",
		"assessment": "The VM has snapshots. Only its current state is migrated; the snapshots stay behind.",
	}
}
