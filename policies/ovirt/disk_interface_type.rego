package io.konveyor.forklift.ovirt

import rego.v1

bad_disk_interface contains a.id if {
	some a in vm_attachments
	not a.interface in {"sata", "virtio_scsi", "virtio"}
}

concerns contains flag if {
	count(bad_disk_interface) > 0
	flag := {
		"id": "ovirt.disk.interface_type.unsupported",
		"category": "Warning",
		"label": "Unsupported disk interface type",
		"assessment": "One or more of the VM's disks uses an interface other than sata, virtio_scsi or virtio. Such disks are attached as virtio on the target.",
	}
}
