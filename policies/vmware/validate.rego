# The document the inventory evaluates for every vSphere VM:
#   data.io.konveyor.forklift.vmware.validate
# The input is the VM at full detail with `host` expanded to the host object
# and `host.cluster` to the cluster object (see README.md in this folder).
# Every other file in this package (and every user rule) adds to `concerns`.
#
# Writing rules that agree with OPA (ferry evaluates them with regorus):
# - guard `some x in input.list` with `is_array(input.list)`: regorus fails
#   on a non-collection where OPA is just undefined;
# - negations behave as in OPA: ferry rewrites `not f(input.x)` before
#   loading so that an undefined argument makes the body undefined.
package io.konveyor.forklift.vmware

import rego.v1

validate := {
	"rules_version": RULES_VERSION,
	"errors": errors,
	"concerns": concerns,
}

# The input is a VM when it carries a name; without one nothing can be judged.
input_is_vm if is_string(input.name)

errors contains "The input is not a VM: it has no string 'name' field" if not input_is_vm

# Helpers shared by the rules below.

# Every disk entry that is an object.
vm_disks contains disk if {
	is_array(input.disks)
	some disk in input.disks
	is_object(disk)
}

# The `kind` of every virtual device (`devices[].kind`).
device_kinds contains kind if {
	is_array(input.devices)
	some device in input.devices
	is_object(device)
	kind := device.kind
	is_string(kind)
}

# The cluster the VM's host belongs to, when the input carries it.
# Values `count` accepts (regorus fails on others, where OPA is undefined).
countable(x) if is_string(x)

countable(x) if is_array(x)

countable(x) if is_object(x)

countable(x) if is_set(x)

vm_cluster := input.host.cluster if is_object(input.host.cluster)

# A whole, non-negative number (device keys, unit numbers).
whole_number(x) if {
	is_number(x)
	x >= 0
	x == floor(x)
}

# How a disk is named in labels: `<bus><controller>:<unit>` (as `scsi0:1`,
# the controller counted from its device key: SCSI 1000-1003, IDE 200-201,
# SATA 15000-15003, NVMe 31000-31003), else its file, else its key.
disk_device_name(disk) := sprintf("%v%v:%v", [disk.bus, controller_index(disk.controllerKey), disk.unitNumber]) if {
	is_string(disk.bus)
	disk.bus != ""
	whole_number(disk.controllerKey)
	whole_number(disk.unitNumber)
} else := disk.file if {
	is_string(disk.file)
	disk.file != ""
} else := sprintf("key %v", [disk.key]) if {
	whole_number(disk.key)
} else := "unknown"

controller_index(key) := key - (floor(key / 100) * 100)

# How a disk is named in the disk size rule: its file, else its device name.
disk_file_name(disk) := disk.file if {
	is_string(disk.file)
	disk.file != ""
} else := disk_device_name(disk)
