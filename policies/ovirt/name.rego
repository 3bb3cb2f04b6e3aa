package io.konveyor.forklift.ovirt

import rego.v1

# A DNS-1123 label: what a VirtualMachine may be named.
valid_name(n) if {
	count(n) <= 63
	regex.match(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, n)
}

concerns contains flag if {
	is_string(input.name)
	not valid_name(input.name)
	flag := {
		"id": "ovirt.name.invalid",
		"category": "Warning",
		"label": "Invalid VM Name",
		"assessment": "The VM name is not a valid DNS-1123 label (at most 63 lower-case letters, digits and dashes, starting and ending with a letter or digit). The target VM is renamed.",
	}
}
