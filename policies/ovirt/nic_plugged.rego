package io.konveyor.forklift.ovirt

import rego.v1

unplugged_nics contains n.id if {
	some n in vm_nics
	n.plugged == false
}

concerns contains flag if {
	count(unplugged_nics) > 0
	flag := {
		"id": "ovirt.nic.unplugged.detected",
		"category": "Warning",
		"label": "Unplugged NIC detected",
		"assessment": "One or more of the VM's NICs is unplugged. Unplugged NICs are not supported by OpenShift Virtualization.",
	}
}
