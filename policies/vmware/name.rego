package io.konveyor.forklift.vmware

import rego.v1

# A DNS-1123 subdomain of at most 63 characters: lower-case letters, digits,
# '-' and '.', starting and ending with a letter or digit.
vm_name_valid if {
	regex.match(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`, input.name)
	count(input.name) <= 63
}

concerns contains flag if {
	input_is_vm
	not vm_name_valid
	flag := {
		"id": "vmware.vm.name.invalid",
		"category": "Warning",
		"label": "Invalid VM Name",
		"assessment": "The VM name is not a valid Kubernetes name (at most 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit). The target VM gets a sanitised name unless you set one in the plan.",
	}
}
