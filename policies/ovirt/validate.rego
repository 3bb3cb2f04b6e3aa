# The document the inventory evaluates for every oVirt VM:
#   data.io.konveyor.forklift.ovirt.validate
# The input is ferry's oVirt VM document (ferry_inventory::ovirt): the VM's
# fields, its `nics` and its `diskAttachments`, each with the attached
# `disk` embedded. Every other file in this package (and every user rule)
# adds to `concerns`.
#
# Writing rules that agree with OPA (ferry evaluates them with regorus):
# guard `some x in input.list` with `is_array(input.list)`, and compare
# typed values (`x == true`) rather than relying on truthiness.
package io.konveyor.forklift.ovirt

import rego.v1

validate := {
	"rules_version": RULES_VERSION,
	"errors": errors,
	"concerns": concerns,
}

input_is_vm if is_string(input.name)

errors contains "The input is not a VM: it has no string 'name' field" if not input_is_vm

# Every disk attachment that is an object.
vm_attachments contains a if {
	is_array(input.diskAttachments)
	some a in input.diskAttachments
	is_object(a)
}

# Every attached disk that is an object.
vm_disks contains d if {
	some a in vm_attachments
	d := a.disk
	is_object(d)
}

# Every NIC that is an object.
vm_nics contains n if {
	is_array(input.nics)
	some n in input.nics
	is_object(n)
}
