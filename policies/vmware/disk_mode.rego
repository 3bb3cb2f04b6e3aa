package io.konveyor.forklift.vmware

import rego.v1

# Independent disks are left out of snapshots, so they cannot be copied from
# a snapshot (warm migration) and change under a running VM.
independent_modes := {"independent_persistent", "independent_nonpersistent"}

has_independent_disk if {
	some disk in vm_disks
	independent_modes[disk.mode]
}

concerns contains flag if {
	has_independent_disk
	flag := {
		"id": "vmware.disk_mode.independent",
		"category": "Warning",
		"label": "Independent disk detected",
		"assessment": "The VM has a disk in independent mode, which snapshots do not cover. Migrate it cold with the VM powered off, or change the disk to dependent mode in vSphere.",
	}
}
