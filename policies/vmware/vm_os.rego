package io.konveyor.forklift.vmware

import rego.v1

# Only the guests the conversion supports get no warning (the virt-v2v list
# Forklift follows: RHEL 7 to 10, Windows 10 and 11, Windows Server 2016 to
# 2025). A guest is known by its vSphere guest id, else by the OS name
# VMware Tools reports, else by the configured OS name.

# vSphere guest ids (lower-case) of supported guests, as regular expressions
# searched anywhere in the id.
supported_guest_id_patterns := [
	`rhel(7|8|9|10)(_64)?guest`,
	`windows(10|11|2016|2019|2022|2025).*guest`,
]

# OS names (lower-case) of supported guests, searched anywhere in the name.
supported_guest_names := [
	"red hat enterprise linux 7",
	"red hat enterprise linux 8",
	"red hat enterprise linux 9",
	"red hat enterprise linux 10",
	"windows 10",
	"windows 11",
	"windows server 2016",
	"windows server 2019",
	"windows server 2022",
	"windows server 2025",
]

supported_name(name) if {
	some wanted in supported_guest_names
	contains(lower(name), wanted)
}

# The configured OS name counts when the VMware Tools name is present but
# empty or not a string. (When `guestNameFromVmwareTools` is absent, OPA
# evaluates Forklift's `not is_string(...)` test as undefined, so the
# configured name is not used then either.)
configured_name_counts if {
	is_string(input.guestName)
	tools_name_unusable
}

tools_name_unusable if input.guestNameFromVmwareTools == ""

tools_name_unusable if {
	"guestNameFromVmwareTools" in object.keys(input)
	not is_string(input.guestNameFromVmwareTools)
}

guest_supported if {
	is_string(input.guestId)
	some pattern in supported_guest_id_patterns
	regex.match(pattern, lower(input.guestId))
}

guest_supported if {
	is_string(input.guestNameFromVmwareTools)
	supported_name(input.guestNameFromVmwareTools)
}

guest_supported if {
	configured_name_counts
	supported_name(input.guestName)
}

guest_known if is_string(input.guestId)

guest_known if {
	is_string(input.guestNameFromVmwareTools)
	input.guestNameFromVmwareTools != ""
}

guest_known if configured_name_counts

concerns contains flag if {
	guest_known
	not guest_supported
	flag := {
		"id": "vmware.os.unsupported",
		"category": "Warning",
		"label": "Unsupported operating system detected",
		"assessment": "The guest operating system is not on the list the conversion supports (RHEL 7 to 10, Windows 10 and 11, Windows Server 2016 to 2025). The VM may migrate but fail to boot or lack drivers on the target.",
	}
}
