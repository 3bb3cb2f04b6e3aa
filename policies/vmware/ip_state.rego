package io.konveyor.forklift.vmware

import rego.v1

# Static IP preservation needs the guest's addresses, which VMware Tools
# reports only while the VM runs. The inventory lists the guest's networks
# in `guestNetworks`; an empty list means Tools reported none.
concerns contains flag if {
	countable(input.guestNetworks)
	count(input.guestNetworks) == 0
	flag := {
		"id": "vmware.vm_missing_ip.detected",
		"category": "Warning",
		"label": "VM is missing IP addresses",
		"assessment": "VMware Tools reports no guest network for this VM. Preserving static IPs needs the VM powered on with VMware Tools running while the inventory is collected.",
	}
}
