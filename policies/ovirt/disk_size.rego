package io.konveyor.forklift.ovirt

import rego.v1

bad_capacity contains d.id if {
	some d in vm_disks
	d.storageType == "image"
	not positive(d.provisionedSize)
}

positive(x) if {
	is_number(x)
	x > 0
}

concerns contains flag if {
	count(bad_capacity) > 0
	flag := {
		"id": "ovirt.disk.capacity.invalid",
		"category": "Critical",
		"label": "Disk has an invalid capacity",
		"assessment": "One or more of the VM's image disks has a provisioned size of zero or less, or none: a volume cannot be sized for it and the migration will fail.",
	}
}
