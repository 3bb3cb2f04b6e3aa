package io.konveyor.forklift.vmware

import rego.v1

# Comes from the cluster of the VM's host: `host.cluster.hostAffinityVms`
# lists the VMs named by the cluster's VM-Host affinity rules.
has_host_affinity if {
	is_string(input.id)
	is_array(vm_cluster.hostAffinityVms)
	some ref in vm_cluster.hostAffinityVms
	is_object(ref)
	ref.id == input.id
}

concerns contains flag if {
	has_host_affinity
	flag := {
		"id": "vmware.host_affinity.detected",
		"category": "Warning",
		"label": "VM-Host affinity detected",
		"assessment": "A VM-Host affinity rule of the cluster ties this VM to certain hosts. It is migrated without it; add node affinity on the target afterwards if it is still needed.",
	}
}
