package io.konveyor.forklift.vmware

import rego.v1

# A disk shared with other VMs (multi-writer sharing or a shared SCSI bus).
has_shared_disk if {
	some disk in vm_disks
	disk.shared == true
}

concerns contains flag if {
	has_shared_disk
	flag := {
		"id": "vmware.disk.shared.detected",
		"category": "Warning",
		"label": "Shared disk detected",
		"assessment": "The VM has a disk shared with other VMs. Migrate the sharing VMs together, with the shared disk copied once, and keep them powered off during the copy.",
	}
}
