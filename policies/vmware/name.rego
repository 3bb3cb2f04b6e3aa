package io.konveyor.forklift.vmware

import rego.v1

# At most 63 letters (either case), digits, '-' and '.', starting and ending
# with a letter or digit, or empty. Upper-case letters are accepted: the
# target name is the lower-cased, sanitised VM name.
vm_name_valid if {
	regex.match(`^(([A-Za-z0-9][-A-Za-z0-9.]*)?[A-Za-z0-9])?$`, input.name)
	count(input.name) < 64
}

concerns contains flag if {
	input_is_vm
	not vm_name_valid
	flag := {
		"id": "vmware.vm.name.invalid",
		"category": "Warning",
		"label": "Invalid VM Name",
		"assessment": "The VM name has characters other than letters, digits, '-' and '.', does not start and end with a letter or digit, or is longer than 63 characters. The target VM gets a sanitised name unless you set one in the plan.",
	}
}
