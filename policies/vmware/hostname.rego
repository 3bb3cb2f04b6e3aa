package io.konveyor.forklift.vmware

import rego.v1

# The guest host name (from VMware Tools) names the target VM's guest; an
# empty or default one may be replaced during migration.
default_host_names := {"localhost.localdomain"}

concerns contains flag if {
	input.hostName == ""
	flag := {
		"id": "vmware.hostname.empty",
		"category": "Warning",
		"label": "Empty Host Name",
		"assessment": "VMware Tools reports no host name for the guest (the VM is off or Tools is not running). The guest may get a different host name after migration.",
	}
}

concerns contains flag if {
	is_string(input.hostName)
	default_host_names[input.hostName]
	flag := {
		"id": "vmware.hostname.default",
		"category": "Warning",
		"label": "Default Host Name",
		"assessment": sprintf("The guest host name is the default '%s'. The guest may get a different host name after migration; set a real one first if it matters.", [input.hostName]),
	}
}
