package io.konveyor.forklift.vmware

import rego.v1

concerns contains flag if {
	is_array(input.numaNodeAffinity)
	count(input.numaNodeAffinity) > 0
	flag := {
		"id": "vmware.numa_affinity.detected",
		"category": "Warning",
		"label": "NUMA node affinity detected",
		"assessment": "The VM is bound to specific host NUMA nodes. It is migrated without that binding; configure NUMA placement on the target afterwards if it is still needed.",
	}
}
