package io.konveyor.forklift.ovirt

import rego.v1

shared_disks contains d.id if {
	some d in vm_disks
	d.shared == true
}

concerns contains flag if {
	count(shared_disks) > 0
	flag := {
		"id": "ovirt.disk.shared.detected",
		"category": "Warning",
		"label": "Shared disk detected",
		"assessment": "One or more of the VM's disks is shareable. Shared disks are not supported by OpenShift Virtualization.",
	}
}
