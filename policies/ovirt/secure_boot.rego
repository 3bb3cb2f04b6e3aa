package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	input.bios == "q35_secure_boot"
	flag := {
		"id": "ovirt.secure_boot.detected",
		"category": "Warning",
		"label": "UEFI secure boot detected",
		"assessment": "The VM boots with UEFI secure boot (BIOS type q35_secure_boot), which OpenShift Virtualization supports only partially.",
	}
}
