package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	input.haEnabled == true
	flag := {
		"id": "ovirt.ha.enabled",
		"category": "Warning",
		"label": "VM configured as HA",
		"assessment": "The VM is configured to be highly available. High availability is not currently supported by OpenShift Virtualization.",
	}
}
