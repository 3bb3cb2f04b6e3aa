package io.konveyor.forklift.vmware

import rego.v1

# A disk whose datastore reference has an empty id is not on a datastore:
# the inventory writes `{"kind": "", "id": ""}` for such a disk, and ferry
# can neither read its bytes through a datastore nor map it to a storage
# class. A disk with no `datastore` key at all is not judged (as Forklift).
disk_without_datastore if {
	is_array(input.disks)
	some disk in input.disks
	is_object(disk)
	is_object(disk.datastore)
	countable(disk.datastore.id)
	count(disk.datastore.id) == 0
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
