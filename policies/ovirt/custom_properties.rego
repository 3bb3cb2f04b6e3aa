package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	is_array(input.customProperties)
	count(input.customProperties) > 0
	flag := {
		"id": "ovirt.vm.custom_properties.detected",
		"category": "Warning",
		"label": "VM custom properties detected",
		"assessment": "The VM has custom properties. They have no equivalent in OpenShift Virtualization and are not carried over.",
	}
}
