package io.konveyor.forklift.vmware

import rego.v1

concerns contains flag if {
	input.faultToleranceEnabled == true
	flag := {
		"id": "vmware.fault_tolerance.enabled",
		"category": "Information",
		"label": "Fault tolerance",
		"assessment": "The VM is protected by vSphere Fault Tolerance (a secondary VM in lockstep). The target has no equivalent; the VM migrates without it.",
	}
}
