package io.konveyor.forklift.vmware

import rego.v1

# Host PCI or SCSI devices handed to the guest cannot move with it.
passthrough_kinds := {"VirtualPCIPassthrough", "VirtualSCSIPassthrough"}

has_passthrough_device if {
	some kind in device_kinds
	passthrough_kinds[kind]
}

concerns contains flag if {
	has_passthrough_device
	flag := {
		"id": "vmware.passthrough_device.detected",
		"category": "Critical",
		"label": "Passthrough device detected",
		"assessment": "The VM uses a PCI or SCSI passthrough device of its host, which cannot be migrated. Remove the passthrough device from the VM before migrating.",
	}
}
