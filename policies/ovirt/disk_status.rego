package io.konveyor.forklift.ovirt

import rego.v1

bad_status contains d.id if {
	some d in vm_disks
	d.status in {"illegal", "locked"}
}

concerns contains flag if {
	count(bad_status) > 0
	flag := {
		"id": "ovirt.disk.illegal_or_locked_status",
		"category": "Critical",
		"label": "VM has an illegal or locked disk status condition",
		"assessment": "One or more of the VM's disks is illegal or locked. Its image transfer is likely to fail: wait for the operation that locked it to end, or fix the disk.",
	}
}
