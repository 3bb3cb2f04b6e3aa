package io.konveyor.forklift.vmware

import rego.v1

# A raw device mapping points at a LUN, not a datastore file.
has_rdm_disk if {
	some disk in vm_disks
	disk.rdm == true
}

concerns contains flag if {
	has_rdm_disk
	flag := {
		"id": "vmware.disk.rdm.detected",
		"category": "Warning",
		"label": "Raw Device Mapped disk detected",
		"assessment": "The VM has a raw device mapped (RDM) disk. Its LUN is not copied like a datastore file: present the LUN to the target cluster and attach it there, or convert the disk to a virtual disk first.",
	}
}
