package io.konveyor.forklift.vmware

import rego.v1

# Either the VM's `tpmEnabled` flag or a virtual TPM device.
has_tpm if input.tpmEnabled == true

has_tpm if device_kinds.VirtualTPM

concerns contains flag if {
	has_tpm
	flag := {
		"id": "vmware.tpm.detected",
		"category": "Warning",
		"label": "TPM detected",
		"assessment": "The VM has a virtual TPM. Its contents (keys, BitLocker or LUKS secrets sealed to it) are not migrated; make sure recovery keys are at hand before migrating.",
	}
}
