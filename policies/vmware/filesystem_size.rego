package io.konveyor.forklift.vmware

import rego.v1

# Guest conversion writes into the guest's filesystems; it needs some free
# space on each (virt-v2v's documented minimums).
mib := 1048576

# Free bytes a guest filesystem needs, by mount point or drive.
required_free_bytes(path) := 100 * mib if {
	path == "/"
} else := 50 * mib if {
	path == "/boot"
} else := 100 * mib if {
	windows_system_drive(path)
} else := 10 * mib

windows_system_drive(path) if lower(path) in {"c:", "c:\\", "c:/"}

concerns contains flag if {
	is_array(input.guestDisks)
	some disk in input.guestDisks
	is_object(disk)
	is_string(disk.diskPath)
	is_number(disk.freeSpace)
	need := required_free_bytes(disk.diskPath)
	disk.freeSpace < need
	flag := {
		"id": "vmware.guestDisks.freespace",
		"category": "Critical",
		"label": sprintf("Insufficient free space for conversion on '%s'", [disk.diskPath]),
		"assessment": sprintf("The guest filesystem '%s' has %v MiB free but conversion needs at least %v MiB. Free up space on it before migrating.", [disk.diskPath, round(disk.freeSpace / mib), need / mib]),
	}
}
