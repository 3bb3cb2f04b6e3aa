package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	input.osType in {"rhel_6", "rhel_6x64"}
	flag := {
		"id": "ovirt.os.unsupported",
		"category": "Warning",
		"label": "Unsupported operating system",
		"assessment": "The VM runs Red Hat Enterprise Linux 6, which OpenShift Virtualization does not support as a guest.",
	}
}
