package io.konveyor.forklift.ovirt

import rego.v1

concerns contains flag if {
	input.usbEnabled == true
	flag := {
		"id": "ovirt.usb.enabled",
		"category": "Warning",
		"label": "USB support enabled",
		"assessment": "The VM has USB support enabled. USB devices are not attached on the target.",
	}
}
