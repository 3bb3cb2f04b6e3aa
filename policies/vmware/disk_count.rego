package io.konveyor.forklift.vmware

import rego.v1

# KubeVirt accepts at most this many disks on one VM.
max_disk_count := 165

concerns contains flag if {
	is_array(input.disks)
	n := count(input.disks)
	n > max_disk_count
	flag := {
		"id": "vmware.disk.count.exceeds.limit",
		"category": "Warning",
		"label": sprintf("VM has %d disks, which exceeds the limit of %d", [n, max_disk_count]),
		"assessment": sprintf("The target supports %d disks per VM and this one has %d. Detach or merge disks before migrating, or expect the VM to fail to start.", [max_disk_count, n]),
	}
}
