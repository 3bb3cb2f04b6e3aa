package io.konveyor.forklift.ovirt

import rego.v1

bad_nic_interface contains n.id if {
	some n in vm_nics
	not n.interface in {"e1000", "rtl8139", "virtio"}
}

concerns contains flag if {
	count(bad_nic_interface) > 0
	flag := {
		"id": "ovirt.nic.interface_type.unsupported",
		"category": "Warning",
		"label": "Unsupported NIC interface type",
		"assessment": "One or more of the VM's NICs uses an interface other than e1000, rtl8139 or virtio. Such NICs are attached as virtio on the target.",
	}
}
