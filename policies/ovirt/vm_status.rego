package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	is_string(input.status)
	not input.status in {"up", "down"}
	flag := {
		"id": "ovirt.vm.status_invalid",
		"category": "Critical",
		"label": "VM has a status condition that may prevent successful migration",
		"assessment": "The VM's status is not 'up' or 'down'. Attempting to migrate this VM may fail.",
	}
}
