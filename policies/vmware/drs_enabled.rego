package io.konveyor.forklift.vmware

import rego.v1

# Comes from the cluster of the VM's host (`host.cluster.drsEnabled`).
concerns contains flag if {
	vm_cluster.drsEnabled == true
	flag := {
		"id": "vmware.drs.enabled",
		"category": "Information",
		"label": "VM running in a DRS-enabled cluster",
		"assessment": "The VM's cluster balances load with DRS. The target schedules and live-migrates VMs its own way; DRS settings are not carried over.",
	}
}
