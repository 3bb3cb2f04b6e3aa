package io.konveyor.forklift.vmware

import rego.v1

# Scheduling affinity to host CPUs has no meaning on the target.
concerns contains flag if {
	is_array(input.cpuAffinity)
	count(input.cpuAffinity) > 0
	flag := {
		"id": "vmware.cpu_affinity.detected",
		"category": "Warning",
		"label": "CPU affinity detected",
		"assessment": "The VM is pinned to specific host CPUs. It is migrated without the pinning; set a dedicated CPU placement on the target afterwards if it is still needed.",
	}
}
