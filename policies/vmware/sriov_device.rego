package io.konveyor.forklift.vmware

import rego.v1

concerns contains flag if {
	device_kinds.VirtualSriovEthernetCard
	flag := {
		"id": "vmware.device.sriov.detected",
		"category": "Warning",
		"label": "SR-IOV passthrough adapter configuration detected",
		"assessment": "The VM has an SR-IOV passthrough network adapter, whose configuration is not carried over. Attach an SR-IOV network on the target after migration if it is still needed.",
	}
}
