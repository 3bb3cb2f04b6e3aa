# The document the inventory evaluates for every VM:
#   data.io.konveyor.forklift.ova.validate
# Every other file in this package (and every user rule) adds to `concerns`.
#
# Writing rules that agree with OPA (ferry evaluates them with regorus):
# - guard `some x in input.list` with `is_array(input.list)`: regorus fails
#   on a non-collection where OPA is just undefined;
# - negations behave as in OPA: ferry rewrites `not f(input.x)` before
#   loading so that an undefined argument makes the body undefined.
package io.konveyor.forklift.ova

import rego.v1

validate := {
	"rules_version": RULES_VERSION,
	"errors": errors,
	"concerns": concerns,
}

# The input is a VM when it carries a name; without one nothing can be judged.
input_is_vm if is_string(input.name)

errors contains "The input is not a VM: it has no string 'name' field" if not input_is_vm
