package io.konveyor.forklift.vmware

import rego.v1

# Warm migration copies only the blocks that changed between snapshots, which
# vSphere reports only when CBT (`ctkEnabled`) is on for the VM.
concerns contains flag if {
	input.changeTrackingEnabled == false
	flag := {
		"id": "vmware.changed_block_tracking.disabled",
		"category": "Warning",
		"label": "Changed Block Tracking (CBT) not enabled",
		"assessment": "Changed Block Tracking is off for this VM, so it can only be migrated cold. Enable CBT in vSphere (ctkEnabled) before a warm migration.",
	}
}
