package io.konveyor.forklift.vmware

import rego.v1

# vSphere flags a VM whose snapshot delta disks were not merged back.
concerns contains flag if {
	input.consolidationNeeded == true
	flag := {
		"id": "vmware.consolidation_needed",
		"category": "Warning",
		"label": "Snapshot consolidation required",
		"assessment": "vSphere reports that this VM's disks need consolidation: leftover snapshot delta files are still in its disk chain. Consolidate the disks in vSphere before migrating, or the copy can be slow or fail.",
	}
}
