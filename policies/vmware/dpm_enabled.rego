package io.konveyor.forklift.vmware

import rego.v1

# Comes from the cluster of the VM's host (`host.cluster.dpmEnabled`).
concerns contains flag if {
	vm_cluster.dpmEnabled == true
	flag := {
		"id": "vmware.dpm.enabled",
		"category": "Information",
		"label": "vSphere DPM detected",
		"assessment": "The VM's cluster uses Distributed Power Management, which can power hosts down. The target has no equivalent; the VM migrates without it.",
	}
}
