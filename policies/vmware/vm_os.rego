package io.konveyor.forklift.vmware

import rego.v1

# Guest operating systems the conversion does not support (vSphere guest
# ids, compared lower-case; a guest id containing one of them matches).
unsupported_guest_ids := {"rhel6guest", "rhel6_64guest", "photonguest", "photon64guest"}

has_unsupported_os if {
	is_string(input.guestId)
	guest := lower(input.guestId)
	some id in unsupported_guest_ids
	contains(guest, id)
}

concerns contains flag if {
	has_unsupported_os
	flag := {
		"id": "vmware.os.unsupported",
		"category": "Warning",
		"label": "Unsupported operating system detected",
		"assessment": sprintf("The guest operating system (%s) is not supported by the conversion. The VM may migrate but fail to boot or lack drivers on the target.", [input.guestId]),
	}
}
