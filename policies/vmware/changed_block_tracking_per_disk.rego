package io.konveyor.forklift.vmware

import rego.v1

# CBT is also switched per disk (`scsi0:1.ctkEnabled`); a disk without it
# cannot be copied incrementally even when the VM has CBT on.
concerns contains flag if {
	some disk in vm_disks
	disk.changeTrackingEnabled == false
	name := disk_device_name(disk)
	flag := {
		"id": "vmware.changed_block_tracking.disk.disabled",
		"category": "Warning",
		"label": sprintf("Disk - %s does not have CBT enabled", [name]),
		"assessment": sprintf("Changed Block Tracking is off for disk %s, so a warm migration cannot copy it incrementally. Enable CBT for the disk in vSphere or migrate the VM cold.", [name]),
	}
}
