package io.konveyor.forklift.ovirt

import rego.v1

bad_storage_type contains d.id if {
	some d in vm_disks
	is_string(d.storageType)
	not d.storageType in {"image", "lun"}
}

concerns contains flag if {
	count(bad_storage_type) > 0
	flag := {
		"id": "ovirt.disk.storage_type.unsupported",
		"category": "Critical",
		"label": "Unsupported disk storage type detected",
		"assessment": "One or more of the VM's disks is neither an image nor a LUN disk (for example a Cinder or managed block storage disk). It cannot be transferred.",
	}
}
