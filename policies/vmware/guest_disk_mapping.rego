package io.konveyor.forklift.vmware

import rego.v1

# For Windows guests VMware Tools maps each guest volume to a virtual disk
# (`guestDisks[].key`); without the key the volume's drive letter cannot be
# tied to a disk (PVC name templates use `winDriveLetter`).
windows_guest if {
	is_string(input.guestId)
	contains(lower(input.guestId), "windows")
}

disk_key_known(disk) if {
	is_number(disk.key)
	disk.key != 0
}

concerns contains flag if {
	windows_guest
	is_array(input.guestDisks)
	some disk in input.guestDisks
	is_object(disk)
	not disk_key_known(disk)
	path := object.get(disk, "diskPath", "unknown")
	flag := {
		"id": "vmware.guestDisks.key.not_found",
		"category": "Information",
		"label": sprintf("Missing disk key mapping for '%v'", [path]),
		"assessment": sprintf("VMware Tools does not say which virtual disk holds the guest volume '%v', so its drive letter cannot be used in PVC name templates.", [path]),
	}
}
