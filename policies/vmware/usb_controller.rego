package io.konveyor.forklift.vmware

import rego.v1

# USB 2 (`VirtualUSBController`) and USB 3 (`VirtualUSBXHCIController`).
usb_controller_kinds := {"VirtualUSBController", "VirtualUSBXHCIController"}

has_usb_controller if {
	some kind in device_kinds
	usb_controller_kinds[kind]
}

concerns contains flag if {
	has_usb_controller
	flag := {
		"id": "vmware.usb_controller.detected",
		"category": "Warning",
		"label": "USB controller detected",
		"assessment": "The VM has a USB controller. Devices attached to it are not migrated; attach them on the target afterwards if they are still needed.",
	}
}
