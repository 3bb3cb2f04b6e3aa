package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	is_string(input.customCpuModel)
	input.customCpuModel != ""
	flag := {
		"id": "ovirt.cpu.custom_model.detected",
		"category": "Warning",
		"label": "Custom CPU Model detected",
		"assessment": "The VM is configured with a custom CPU model. The model is carried over when the plan preserves the cluster CPU model, and may not be supported by OpenShift Virtualization.",
	}
}
