package io.konveyor.forklift.ova

import rego.v1

# A disk needs a positive capacity: the target volume is sized from it.
# `capacity` is in the disk's `capacityAllocationUnits`; its sign does not
# depend on the unit, so it is compared as written. Rego orders null and
# booleans below every number, so a null or boolean capacity is "<= 0" too.
# The label names the disk's file (`filePath`, the OVA or OVF it is read
# from); a disk without one is not judged.
capacity_not_positive(c) if {
	is_number(c)
	c <= 0
}

capacity_not_positive(c) if is_null(c)

capacity_not_positive(c) if is_boolean(c)

concerns contains flag if {
	is_array(input.disks)
	some disk in input.disks
	is_object(disk)
	capacity_not_positive(disk.capacity)
	is_string(disk.filePath)
	flag := {
		"id": "ova.disk.capacity.invalid",
		"category": "Critical",
		"label": sprintf("Disk '%v' has an invalid capacity of %v bytes", [disk.filePath, disk.capacity]),
		"assessment": sprintf("The OVF gives disk '%v' of '%v' a capacity of %v, so no target volume can be sized for it. Fix the DiskSection capacity in the descriptor or re-export the appliance.", [disk_display_name(disk), disk.filePath, disk.capacity]),
	}
}

# The file name of a disk when known.
disk_display_name(disk) := disk.name if {
	is_string(disk.name)
	disk.name != ""
} else := "unknown"
