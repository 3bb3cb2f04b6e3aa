package io.konveyor.forklift.vmware

import rego.v1

# Disk bytes are read from a datastore; a disk without a datastore reference
# (no `datastore`, or an empty `datastore.id`) has nothing ferry can copy.
disk_on_datastore(disk) if {
	is_string(disk.datastore.id)
	disk.datastore.id != ""
}

disk_without_datastore if {
	some disk in vm_disks
	not disk_on_datastore(disk)
}

concerns contains flag if {
	disk_without_datastore
	flag := {
		"id": "vmware.datastore.missing",
		"category": "Critical",
		"label": "Disk is not located on a datastore",
		"assessment": "At least one disk of this VM is not on a datastore, so its contents cannot be read. Move the disk to a datastore (or remove it) before migrating.",
	}
}
