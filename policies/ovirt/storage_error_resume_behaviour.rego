package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	is_string(input.storageErrorResumeBehaviour)
	input.storageErrorResumeBehaviour != "auto_resume"
	flag := {
		"id": "ovirt.storage.resume_behavior.unsupported",
		"category": "Information",
		"label": "VM storage error resume behavior",
		"assessment": "The VM's storage error resume behaviour is not 'auto_resume'; OpenShift Virtualization does not support other settings.",
	}
}
