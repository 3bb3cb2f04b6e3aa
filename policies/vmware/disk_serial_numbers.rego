package io.konveyor.forklift.vmware

import rego.v1

# With disk.EnableUUID the guest sees a stable SCSI serial per disk; the
# target exposes serials of limited length, so long ones are cut.
has_scsi_disk if {
	some disk in vm_disks
	disk.bus == "scsi"
}

concerns contains flag if {
	input.diskEnableUuid == true
	has_scsi_disk
	flag := {
		"id": "vmware.disk_serial.truncated",
		"category": "Information",
		"label": "Disk serial numbers may be truncated",
		"assessment": "The VM has SCSI disks and disk.EnableUUID is TRUE, so the guest may rely on disk serial numbers. They are truncated on the target; check mounts or software that identify disks by serial.",
	}
}
