package io.konveyor.forklift.ova

import rego.v1

# Only appliances exported from VMware are supported; others often import,
# but their hardware description may not convert cleanly.
concerns contains flag if {
	input.ovaSource != "VMware"
	flag := {
		"id": "ova.source.unsupported",
		"category": "Warning",
		"label": "Unsupported OVA source",
		"assessment": sprintf("The appliance looks like a %v export, not a VMware one. It may import, but its devices and guest configuration can need manual fixes after migration.", [input.ovaSource]),
	}
}
