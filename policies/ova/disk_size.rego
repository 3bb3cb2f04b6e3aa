package io.konveyor.forklift.ova

import rego.v1

# A disk needs a positive capacity: the target volume is sized from it.
# `capacity` is in the disk's `capacityAllocationUnits`; its sign does not
# depend on the unit, so it is compared as written.
concerns contains flag if {
	is_array(input.disks)
	some disk in input.disks
	is_object(disk)
	is_number(disk.capacity)
	disk.capacity <= 0
	flag := {
		"id": "ova.disk.capacity.invalid",
		"category": "Critical",
		"label": sprintf("Disk '%v' has an invalid capacity of %v bytes", [disk_display_name(disk), disk.capacity]),
		"assessment": sprintf("The OVF gives disk '%v' a capacity of %v, so no target volume can be sized for it. Fix the DiskSection capacity in the descriptor or re-export the appliance.", [disk_display_name(disk), disk.capacity]),
	}
}

# The file name of a disk when known, else the package path.
disk_display_name(disk) := disk.name if {
	is_string(disk.name)
	disk.name != ""
} else := disk.filePath if {
	is_string(disk.filePath)
} else := "unknown"
