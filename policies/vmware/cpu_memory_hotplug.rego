package io.konveyor.forklift.vmware

import rego.v1

hotplug_settings := ["cpuHotAddEnabled", "cpuHotRemoveEnabled", "memoryHotAddEnabled"]

hotplug_enabled if {
	some setting in hotplug_settings
	input[setting] == true
}

concerns contains flag if {
	hotplug_enabled
	flag := {
		"id": "vmware.cpu_memory.hotplug.enabled",
		"category": "Warning",
		"label": "CPU/Memory hotplug detected",
		"assessment": "CPU or memory hot plug is enabled on the source VM. The migrated VM starts with the configured CPU and memory; review hot plug settings on the target after migration.",
	}
}
