package io.konveyor.forklift.vmware

import rego.v1

# A disk needs a positive capacity (bytes): the target volume is sized from it.
concerns contains flag if {
	some disk in vm_disks
	is_number(disk.capacity)
	disk.capacity <= 0
	name := disk_file_name(disk)
	flag := {
		"id": "vmware.disk.capacity.invalid",
		"category": "Critical",
		"label": sprintf("Disk '%v' has an invalid capacity of %v bytes", [name, disk.capacity]),
		"assessment": sprintf("vSphere reports a capacity of %v bytes for disk '%v', so no target volume can be sized for it. Fix or remove the disk in vSphere.", [disk.capacity, name]),
	}
}
