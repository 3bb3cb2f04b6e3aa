package io.konveyor.forklift.vmware

import rego.v1

# Static IP preservation needs the guest's addresses, which VMware Tools
# reports only while the VM runs (`guestNetworks[].ip`).
has_guest_ip if {
	is_array(input.guestNetworks)
	some net in input.guestNetworks
	is_string(net.ip)
	net.ip != ""
}

concerns contains flag if {
	is_array(input.guestNetworks)
	not has_guest_ip
	flag := {
		"id": "vmware.vm_missing_ip.detected",
		"category": "Warning",
		"label": "VM is missing IP addresses",
		"assessment": "VMware Tools reports no IP address for this VM. Preserving static IPs needs the VM powered on with VMware Tools running while the inventory is collected.",
	}
}
